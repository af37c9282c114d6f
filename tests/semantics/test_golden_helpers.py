"""Tests for aclnn_py.semantics.{quant_params,nz,precision,matmul} against hand-computed values."""

from __future__ import annotations

import math

import ml_dtypes
import numpy as np
import pytest

from aclnn_py.semantics.dtypes import host_dtype
from aclnn_py.semantics import matmul, nz, precision
from aclnn_py.semantics import quant_params as qp

BIT46 = 1 << 46


def f32_from_bits(bits: int) -> np.float32:
    return np.array([bits], np.uint32).view(np.float32)[0]


# --------------------------------------------------------------------------- trans_quant_param

def test_scale_only_bit_patterns():
    scales = np.array([1.0, -2.0, f32_from_bits(0x3F801FFF), f32_from_bits(0x3F802001)],
                      np.float32)
    out = qp.trans_quant_param(scales)
    assert out.dtype == np.uint64
    assert [int(v) for v in out] == [0x3F800000 | BIT46, 0xC0000000 | BIT46,
                                     0x3F800000 | BIT46, 0x3F802000 | BIT46]


def test_offset_bits_rounding_and_clamping():
    offsets = np.array([-3.0, 300.0, -300.0, 2.5, 3.5, -2.5, 255.0, -256.0], np.float32)
    out = qp.trans_quant_param(np.ones(8, np.float32), offsets)
    expected_fields = [0x1FD, 0x0FF, 0x100, 2, 4, 0x1FE, 0x0FF, 0x100]
    assert [int(v) for v in out] == [0x3F800000 | BIT46 | f << 37 for f in expected_fields]
    assert int(out[0]) == 0x7FA03F800000
    assert qp.decode_offset(out).tolist() == [-3, 255, -256, 2, 4, -2, 255, -256]


def test_offset_broadcasting_rules():
    out = qp.trans_quant_param(np.array([0.5], np.float32), np.array([1, 2, 3, 4], np.float32))
    assert out.shape == (4,)
    assert qp.decode_scale(out).tolist() == [0.5] * 4
    assert qp.decode_offset(out).tolist() == [1, 2, 3, 4]
    out = qp.trans_quant_param(np.array([1, 2, 4], np.float32), np.array([-1], np.float32))
    assert qp.decode_offset(out).tolist() == [-1, -1, -1]
    assert qp.decode_scale(out).tolist() == [1, 2, 4]
    out = qp.trans_quant_param(np.ones((1, 3), np.float32), np.array([[1, 2, 3]], np.float32))
    assert out.shape == (1, 3)
    assert qp.trans_quant_param(np.ones((2, 3), np.float32)).shape == (2, 3)


@pytest.mark.parametrize("scale, offset", [
    (np.ones(3), np.ones(2)),          # 1-D lengths neither 1 nor equal
    (np.ones((1, 3)), np.ones(3)),     # 2-D scale needs a 2-D offset of the same shape
    (np.ones((1, 3)), np.ones((1, 2))),
    (np.ones(3), np.ones((1, 3))),     # 1-D scale needs a 1-D offset
])
def test_offset_shape_errors(scale, offset):
    with pytest.raises(ValueError):
        qp.trans_quant_param(scale, offset)


def test_trans_quant_param_value_errors():
    for bad_scale in ([np.nan], [np.inf], [-np.inf]):
        with pytest.raises(ValueError, match="NaN or Inf"):
            qp.trans_quant_param(np.array(bad_scale, np.float32))
    with pytest.raises(ValueError, match="NaN or Inf"):
        qp.trans_quant_param(np.ones(1, np.float32), np.array([np.inf], np.float32))
    for bad_shape in (np.float32(1.0), np.ones((1, 1, 2), np.float32)):
        with pytest.raises(ValueError, match="1-D"):
            qp.trans_quant_param(bad_shape)
    with pytest.raises(ValueError, match="round_mode"):
        qp.trans_quant_param(np.ones(1, np.float32), round_mode=2)


@pytest.mark.parametrize("bits_in, mode1, mode0", [
    (0x3F801000, 0x3F800000, 0x3F800000),  # exact tie, even kept
    (0x3F803000, 0x3F804000, 0x3F802000),  # exact tie, odd rounded up
    (0x3F801001, 0x3F802000, 0x3F800000),  # above the tie
    (0x3F800FFF, 0x3F800000, 0x3F800000),  # below the tie
    (0xBF803000, 0xBF804000, 0xBF802000),  # negative: magnitude rounding
    (0x3FFFF000, 0x40000000, 0x3FFFE000),  # mantissa carry into the exponent: 2.0
    (0x7F7FF000, 0x7F800000, 0x7F7FE000),  # carry out of the largest binade: inf
    (0x00000123, 0x00000000, 0x00000000),  # denormal -> +0
    (0x80001000, 0x80000000, 0x80000000),  # denormal -> -0 (mode 1 flushes)
    (0x007FF000, 0x00000000, 0x007FE000),  # largest denormal: mode 1 flushes, mode 0 truncates
])
def test_round_mode_bits(bits_in, mode1, mode0):
    scale = np.array([bits_in], np.uint32).view(np.float32)
    assert int(qp.trans_quant_param(scale, round_mode=1)[0]) == mode1 | BIT46
    assert int(qp.trans_quant_param(scale, round_mode=0)[0]) == mode0 | BIT46


def test_decode_roundtrip_random():
    rng = np.random.default_rng(7)
    scale = rng.standard_normal(1000).astype(np.float32) * 10
    offset = rng.integers(-256, 256, 1000).astype(np.float32)
    packed = qp.trans_quant_param(scale, offset)
    expected_scale = (scale.view(np.uint32) & np.uint32(0xFFFFE000)).view(np.float32)
    assert np.array_equal(qp.decode_scale(packed), expected_scale)
    assert qp.decode_scale(packed).dtype == np.float32
    assert np.array_equal(qp.decode_offset(packed), offset.astype(np.int32))
    assert qp.decode_offset(packed).dtype == np.int32
    as_int64 = packed.view(np.int64)
    assert np.array_equal(qp.decode_scale(as_int64), expected_scale)
    assert np.array_equal(qp.decode_offset(as_int64), offset.astype(np.int32))
    with pytest.raises(TypeError):
        qp.decode_scale(np.ones(2, np.float32))


def test_decode_hand_built_values():
    packed = np.array([0x7FA03F801FFF, 0x3F800000], np.uint64)  # no bit 46 in the second
    assert qp.decode_scale(packed).tolist() == [1.0, 1.0]
    assert qp.decode_offset(packed).tolist() == [-3, 0]


# --------------------------------------------------------------------------- group size

def test_group_size():
    assert qp.encode_group_size(128, 128, 128) == 549764202624
    assert qp.encode_group_size(1, 1, 32) == 4295032864
    assert qp.encode_group_size(0, 0, 0) == 0
    assert qp.decode_group_size(549764202624) == (128, 128, 128)
    assert qp.decode_group_size(4295032864) == (1, 1, 32)
    assert qp.decode_group_size(qp.encode_group_size(65535, 3, 7)) == (65535, 3, 7)
    for bad in ((65536, 1, 1), (1, -1, 1), (1, 1, 70000)):
        with pytest.raises(ValueError):
            qp.encode_group_size(*bad)
    for bad_gs in (-1, 1 << 48):
        with pytest.raises(ValueError):
            qp.decode_group_size(bad_gs)


# --------------------------------------------------------------------------- NZ

def test_matmul_weight_size():
    assert nz.matmul_weight_size([510, 510], "float16") == 262144
    assert nz.matmul_weight_size([510, 270], "int8") == 147456
    assert nz.matmul_weight_size([3, 510, 270], "int8") == 3 * 147456
    assert nz.matmul_weight_size([17, 17], "bfloat16") == 32 * 32
    assert nz.matmul_weight_size([17, 17], "float8_e4m3fn") == 32 * 32
    assert nz.matmul_weight_size([16, 16], "float32") == 16 * 32  # non-16-bit -> 32 branch
    assert nz.matmul_weight_size([2, 1, 1, 1, 1, 1], "int8") == 2 * 16 * 32
    for bad in ([5], [1] * 7, [0, 16], [16, 0, 16]):
        with pytest.raises(ValueError):
            nz.matmul_weight_size(bad, "int8")
    with pytest.raises(ValueError):
        nz.matmul_weight_size([16, 16], "fp16")


def test_c0_and_storage_shape():
    c0 = {n: nz.nz_c0(n) for n in ("float16", "bfloat16", "int8", "float8_e4m3fn",
                                     "float8_e5m2", "hifloat8", "int4", "float4_e2m1", "float32")}
    assert c0 == {"float16": 16, "bfloat16": 16, "int8": 32, "float8_e4m3fn": 32,
                  "float8_e5m2": 32, "hifloat8": 32, "int4": 64, "float4_e2m1": 64,
                  "float32": 8}
    with pytest.raises(ValueError):
        nz.nz_c0("int64")
    assert nz.nz_storage_shape([510, 270], "int8") == (9, 32, 16, 32)
    assert nz.nz_storage_shape([510, 510], "float16") == (32, 32, 16, 16)
    assert nz.nz_storage_shape([4, 3, 100, 130], "int4") == (4, 3, 3, 7, 16, 64)
    assert math.prod(nz.nz_storage_shape([510, 270], "int8")) == 147456
    with pytest.raises(ValueError):
        nz.nz_storage_shape([5], "int8")


@pytest.mark.parametrize("name, height, width, c0", [
    ("int16", 37, 70, 16), ("int8", 20, 33, 32), ("float16", 16, 16, 16)])
def test_nd_to_nz_element_mapping(name, height, width, c0):
    dtype = {"int16": np.int16, "int8": np.int8, "float16": np.float16}[name]
    nd = (np.arange(height * width).reshape(height, width) % 120 + 1).astype(dtype)
    out = nz.nd_to_nz(nd, name)
    h1, w1 = -(-height // 16), -(-width // c0)
    assert out.shape == (w1, h1, 16, c0)
    assert out.dtype == nd.dtype
    for h in range(height):
        for w in range(width):
            assert out[w // c0, h // 16, h % 16, w % c0] == nd[h, w]
    # the flat offset formula of docs/number-formats.md (FRACTAL_NZ)
    hh, ww = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    flat = (ww // c0) * (h1 * 16 * c0) + hh * c0 + ww % c0
    assert np.array_equal(out.ravel()[flat], nd)
    # everything else is zero padding (nd holds no zeros)
    assert np.count_nonzero(out) == nd.size


def test_nz_roundtrip_with_batch_dims_and_padding():
    rng = np.random.default_rng(3)
    nd = rng.standard_normal((2, 3, 17, 40)).astype(np.float16)
    out = nz.nd_to_nz(nd)
    assert out.shape == (2, 3, 3, 2, 16, 16)
    for i in range(2):
        for j in range(3):
            assert np.array_equal(out[i, j], nz.nd_to_nz(nd[i, j]))
    assert np.count_nonzero(out[:, :, 2, :, :, 8:]) == 0  # columns 40..47 are padding
    assert np.count_nonzero(out[:, :, :, 1, 1:, :]) == 0  # rows 17..31 are padding
    back = nz.nz_to_nd(out, nd.shape)
    assert back.shape == nd.shape
    assert np.array_equal(back, nd)


def test_nz_4bit_and_hifloat8():
    rng = np.random.default_rng(5)
    nd = rng.integers(-8, 8, (20, 100)).astype(ml_dtypes.int4)
    out = nz.nd_to_nz(nd)
    assert out.shape == (2, 2, 16, 64)
    assert out.dtype == np.dtype(ml_dtypes.int4)
    assert out[1, 1, 3, 35] == nd[19, 99]
    assert np.array_equal(nz.nz_to_nd(out, nd.shape).astype(np.int8), nd.astype(np.int8))
    out32 = nz.nd_to_nz(nd, c0=32)  # the Ascend 950 INT4 tile: 16 bytes per row
    assert out32.shape == nz.nz_storage_shape(nd.shape, "int4", 32) == (4, 2, 16, 32)
    assert out32[3, 1, 3, 3] == nd[19, 99]
    assert np.array_equal(nz.nz_to_nd(out32, nd.shape, c0=32).astype(np.int8), nd.astype(np.int8))
    with pytest.raises(ValueError):
        nz.nz_to_nd(out32, nd.shape)  # read with the 32-byte rule's C0 = 64
    codes = rng.integers(0, 256, (5, 40)).astype(np.uint8)
    out = nz.nd_to_nz(codes, "hifloat8")
    assert out.shape == (2, 1, 16, 32)
    assert np.array_equal(nz.nz_to_nd(out, codes.shape, "hifloat8"), codes)


def test_nz_errors():
    with pytest.raises(ValueError):
        nz.nd_to_nz(np.zeros((4, 4), np.float32), "float16")
    with pytest.raises(ValueError):
        nz.nd_to_nz(np.zeros(4, np.int8))
    with pytest.raises(ValueError):
        nz.nz_to_nd(np.zeros((1, 1, 16, 32), np.int8), (17, 32))
    with pytest.raises(ValueError):
        nz.nz_storage_shape((16, 16), "int8", 0)


# --------------------------------------------------------------------------- precision

def ref_metrics(actual, golden):
    rel = [abs(float(a) - float(g)) / (abs(float(g)) + 1e-7) for a, g in zip(actual, golden)]
    return math.fsum(rel) / len(rel), max(rel)


def test_thresholds_values():
    assert precision.THRESHOLDS == {"float16": 2**-10, "bfloat16": 2**-7, "float32": 2**-13,
                                    "float8_e4m3fn": 2**-3, "float8_e5m2": 2**-2}


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float8_e4m3fn",
                                  "float8_e5m2"])
@pytest.mark.parametrize("case, factor, everywhere, passes", [
    ("mere inside", 0.99, True, True),
    ("mere outside", 1.01, True, False),
    ("mare inside", 9.9, False, True),
    ("mare outside", 10.1, False, False),
])
def test_precision_boundaries(name, case, factor, everywhere, passes):
    t = precision.THRESHOLDS[name]
    actual = np.ones(100, host_dtype(name))
    golden = np.ones(100)
    off = 1 / (1 + factor * t)  # |1 - g| / g = factor * t
    if everywhere:
        golden[:] = off
    else:
        golden[37] = off
    result = precision.compare(actual, golden)
    mere, mare = ref_metrics(actual.astype(np.float64), golden)
    assert result.name == name
    assert result.mere == pytest.approx(mere, rel=1e-12)
    assert result.mare == pytest.approx(mare, rel=1e-12)
    assert result.threshold == t
    assert result.passed is passes, str(result)
    if case == "mere outside":
        assert result.mare < 10 * t  # fails on MERE only
    if case == "mare outside":
        assert result.mere < t  # fails on MARE only


def test_precision_realistic_fp16_output():
    rng = np.random.default_rng(11)
    golden = rng.standard_normal(1000).astype(np.float32) + 3
    actual = precision.round_to(golden, "float16")
    assert precision.compare(actual, golden).passed
    assert precision.assert_close(actual, golden).passed


def test_precision_special_values():
    g = np.array([1.0, np.nan, np.inf, -np.inf], np.float32)
    assert precision.compare(g.astype(np.float16), g).passed
    for bad in ([1.0, 1.0, np.inf, -np.inf], [1.0, np.nan, -np.inf, -np.inf],
                [1.0, np.nan, np.nan, -np.inf], [np.inf, np.nan, np.inf, -np.inf]):
        result = precision.compare(np.array(bad, np.float16), g)
        assert not result.passed
        assert result.mismatches == 1
        assert result.mere == 0.0


def test_precision_integers_exact():
    g = np.array([1, -2, 127], np.int8)
    result = precision.compare(g.copy(), g)
    assert result.passed and result.threshold == 0.0 and result.mismatches == 0
    result = precision.compare(np.array([1, -2, 126], np.int8), g)
    assert not result.passed and result.mismatches == 1
    assert "int8 FAIL (exact): 1 of 3" in str(result)
    assert precision.compare(np.array([5, 6], np.int32), np.array([5, 6], np.int64)).passed
    assert not precision.compare(np.array([2**31 - 1], np.int32),
                                 np.array([2**31 - 2], np.int32)).passed


def test_assert_close_message_and_errors():
    with pytest.raises(AssertionError, match=r"float16 FAIL: MERE=.*MARE="):
        precision.assert_close(np.full(4, 1.5, np.float16), np.ones(4))
    with pytest.raises(ValueError, match="shape"):
        precision.compare(np.ones(3, np.float16), np.ones(4))
    with pytest.raises(ValueError, match="no precision standard"):
        precision.compare(np.ones(3, np.float64), np.ones(3))
    empty = precision.compare(np.ones(0, np.float16), np.ones(0))
    assert empty.passed and empty.mere == 0.0


def test_round_to_is_round_half_even():
    v = np.array([1 + 2**-11, 1 + 3 * 2**-11, -(1 + 2**-11)], np.float32)
    out = precision.round_to(v, "float16")
    assert out.dtype == np.float16
    assert out.tolist() == [1.0, 1 + 2**-9, -1.0]
    bf = precision.round_to(np.array([1 + 2**-8, 1 + 3 * 2**-8], np.float32), "bfloat16")
    assert bf.dtype == np.dtype(ml_dtypes.bfloat16)
    assert bf.astype(np.float32).tolist() == [1.0, 1 + 2**-6]
    assert precision.round_to([0.1], "float32").tolist() == [np.float32(0.1)]
    with pytest.raises(ValueError):
        precision.round_to([1.0], "int8")


# --------------------------------------------------------------------------- exact integer products

def _int64_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The reference: NumPy's own integer matmul in int64 (no BLAS, no float)."""
    return np.matmul(a.astype(np.int64), b.astype(np.int64))


@pytest.mark.parametrize("m, k, n", [(3, 2049, 5), (40, 1025, 3), (2, 0, 4), (1, 1, 1)])
@pytest.mark.parametrize("a_type, b_type", [(np.int8, np.int8), (ml_dtypes.int4, ml_dtypes.int4),
                                            (np.int8, ml_dtypes.int4)])
def test_int_matmul_is_exact_beyond_float32(m, k, n, a_type, b_type):
    """Sums past 2**24 (every operand at its most negative value) in both orientations (m < n is
    computed transposed), across the k-chunks, int32 and int64 accumulators alike."""
    low = {np.dtype(np.int8): -128, np.dtype(ml_dtypes.int4): -8}
    a = np.full((m, k), low[np.dtype(a_type)]).astype(a_type)
    b = np.full((k, n), low[np.dtype(b_type)]).astype(b_type)
    if m > 1:
        a[1] = 1  # not every row alike
    expected = _int64_product(a, b)
    got = matmul.int_matmul(a, b)
    assert got.dtype == np.int64 and got.flags.c_contiguous
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(matmul.int_matmul(b.T, a.T), expected.T)
    f32 = matmul.int_matmul_f32(a, b)
    assert f32.dtype == np.float32 and f32.flags.c_contiguous
    np.testing.assert_array_equal(f32, expected.astype(np.float32))


def test_int_matmul_random_stacks_and_wide_accumulators():
    rng = np.random.default_rng(5)
    a = rng.integers(-128, 128, (2, 7, 1500)).astype(np.int8)
    b = rng.integers(-128, 128, (2, 1500, 9)).astype(np.int8)
    np.testing.assert_array_equal(matmul.int_matmul(a, b), _int64_product(a, b))
    np.testing.assert_array_equal(matmul.int_matmul(a, b[0]), _int64_product(a, b[0]))
    # k * 2**14 above 2**31: the int64 accumulator (int4 x int4 keeps int32 far longer)
    a = np.full((1, 140_000), -128, np.int16)
    assert matmul.int_matmul(a, a.T)[0, 0] == 140_000 * 2**14


def _products(a: np.ndarray, b: np.ndarray) -> int:
    """How many float32 products the exact int8 x int8 product of ``a @ b`` takes."""
    return sum(1 for _ in matmul._exact_products(a, b, 1024, False))


@pytest.fixture
def merging(monkeypatch):
    """Spans of two units tried whatever the shapes (small test shapes would not be)."""
    monkeypatch.setattr(matmul, "_worth_merging", lambda a, b, span: span <= matmul._MERGE_WIDTH)


@pytest.mark.parametrize("m, k, n, worth", [(4096, 4096, 4096, True), (2048, 2048, 2048, True),
                                            (99, 4096, 7168, False), (4096, 1024, 4096, False),
                                            (8, 4096, 8, False)])
def test_units_are_merged_only_where_it_saves_work(m, k, n, worth):
    """A merge saves a pass over the m x n result and costs a read of the (m + n) x 2048 span."""
    a, b = np.empty((m, k), np.int8), np.empty((k, n), np.int8)
    assert matmul._worth_merging(a, b, 2048) is worth


@pytest.mark.parametrize("k", [2048, 3000, 4096])
def test_int_matmul_merges_units_the_data_prove_exact(k, merging):
    """Random full-range int8 data pass the Cauchy-Schwarz test: two 1024-units per product,
    in both orientations, still equal to the int64 reference."""
    rng = np.random.default_rng(k)
    a = rng.integers(-128, 128, (96, k)).astype(np.int8)
    b = rng.integers(-128, 128, (k, 64)).astype(np.int8)
    assert _products(a, b) == -(-k // 2048)
    expected = _int64_product(a, b)
    np.testing.assert_array_equal(matmul.int_matmul(a, b), expected)
    np.testing.assert_array_equal(matmul.int_matmul(b.T, a.T), expected.T)
    np.testing.assert_array_equal(matmul.int_matmul_f32(a, b), expected.astype(np.float32))


def test_int_matmul_keeps_units_where_the_data_are_extreme(merging):
    """A span whose norms exceed the bound is computed unit by unit, the next span merged."""
    rng = np.random.default_rng(1)
    a = rng.integers(-128, 128, (8, 4096)).astype(np.int8)
    b = rng.integers(-128, 128, (4096, 8)).astype(np.int8)
    a[:, :2048], b[:2048] = -128, -128  # every partial sum of the first span reaches 2**25
    assert _products(a, b) == 3
    expected = _int64_product(a, b)
    np.testing.assert_array_equal(matmul.int_matmul(a, b), expected)
    np.testing.assert_array_equal(matmul.int_matmul_f32(a, b), expected.astype(np.float32))


@pytest.mark.parametrize("m, n", [(3, 7), (7, 3)])
def test_an_extreme_partial_last_span_uses_only_its_own_columns(merging, m, n):
    """k = 4000: the last span (1952 wide) fails the test and falls back to units inside it."""
    a = np.full((m, 4000), -128, np.int8)
    b = np.full((4000, n), -128, np.int8)
    assert _products(a, b) == 4
    expected = _int64_product(a, b)
    np.testing.assert_array_equal(matmul.int_matmul(a, b), expected)
    np.testing.assert_array_equal(matmul.int_matmul_f32(a, b), expected.astype(np.float32))


def test_two_merged_products_are_rounded_once(merging):
    """Two proven-exact spans whose sum passes 2**24: the float32 addition of the two exact
    integers is the exact sum rounded once (here to an even integer)."""
    a = np.full((2, 4096), 90, np.int8)
    b = np.full((4096, 3), 90, np.int8)
    a[0, 0] = b[0, 0] = 89  # 4096 * 8100 - 179: odd, above 2**24, not a float32
    assert _products(a, b) == 2
    expected = _int64_product(a, b)
    assert expected[0, 0] == 33_177_421 and float(np.float32(expected[0, 0])) != expected[0, 0]
    np.testing.assert_array_equal(matmul.int_matmul_f32(a, b), expected.astype(np.float32))
    np.testing.assert_array_equal(matmul.int_matmul(a, b), expected)


class _ReferenceKernel:
    """An exact kernel for the hook (NumPy's int64 matmul), recording what it was handed."""

    def __init__(self) -> None:
        self.calls: list[tuple[np.dtype, np.dtype, tuple[int, ...], tuple[int, ...]]] = []

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.calls.append((a.dtype, b.dtype, a.shape, b.shape))
        return _int64_product(a, b).astype(np.int32)


@pytest.fixture
def reference_kernel():
    kernel = _ReferenceKernel()
    previous = matmul.set_int_kernel(kernel)
    assert matmul.installed_int_kernel() is kernel
    yield kernel
    assert matmul.set_int_kernel(previous) is kernel


@pytest.mark.parametrize("a_type, b_type", [(np.int8, np.int8), (ml_dtypes.int4, np.int8),
                                            (ml_dtypes.int4, ml_dtypes.int4)])
def test_a_registered_kernel_computes_the_2d_products_whose_sum_fits_int32(reference_kernel, a_type, b_type):
    """2-D int8/int4 operands go to the kernel (whatever their strides) with the same results as
    on the float32 units; int_matmul stays int64, int_matmul_f32 float32 (bias added exactly)."""
    rng = np.random.default_rng(3)
    a = rng.integers(-8, 8, (6, 2500)).astype(a_type)
    b = rng.integers(-8, 8, (2500, 9)).astype(b_type)
    a[0], b[:, 0] = -8, -8
    bias = rng.integers(-2**31, 2**31, 9).astype(np.int32)
    expected = _int64_product(a, b)
    got = matmul.int_matmul(a, b)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(matmul.int_matmul(b.T, a.T), expected.T)  # transposed views
    np.testing.assert_array_equal(matmul.int_matmul_f32(a, b), expected.astype(np.float32))
    np.testing.assert_array_equal(matmul.int_matmul_f32(a, b, bias), (expected + bias).astype(np.float32))
    assert reference_kernel.calls == [(np.dtype(a_type), np.dtype(b_type), (6, 2500), (2500, 9)),
                                      (np.dtype(b_type), np.dtype(a_type), (9, 2500), (2500, 6))] \
        + [(np.dtype(a_type), np.dtype(b_type), (6, 2500), (2500, 9))] * 2


def test_a_kernel_may_decline_a_product():
    """A kernel returning None leaves the product to the float32 units."""
    calls = []
    previous = matmul.set_int_kernel(lambda a, b: calls.append(a.shape))
    try:
        a = np.full((2, 3000), -128, np.int8)
        np.testing.assert_array_equal(matmul.int_matmul_f32(a, a.T), _int64_product(a, a.T).astype(np.float32))
    finally:
        matmul.set_int_kernel(previous)
    assert calls == [(2, 3000)]


def test_the_kernel_is_not_handed_what_it_cannot_take(reference_kernel):
    """Stacks, other integer dtypes and int8 products whose sum may leave int32 stay on the
    float32 units; an int4 x int4 product of the same k still fits int32 and goes to the kernel."""
    rng = np.random.default_rng(4)
    stack = rng.integers(-128, 128, (2, 3, 40)).astype(np.int8)
    np.testing.assert_array_equal(matmul.int_matmul(stack, stack.swapaxes(1, 2)),
                                  _int64_product(stack, stack.swapaxes(1, 2)))
    wide = rng.integers(-128, 128, (3, 40)).astype(np.int16)
    np.testing.assert_array_equal(matmul.int_matmul(wide, wide.T), _int64_product(wide, wide.T))
    k = 2**17  # k * 2**14 = 2**31: int64 for int8 operands
    low = np.full((1, k), -128, np.int8)
    assert matmul.int_matmul(low, low.T)[0, 0] == 2**31
    assert reference_kernel.calls == []
    low4 = np.full((1, k), -8).astype(ml_dtypes.int4)
    assert matmul.int_matmul(low4, low4.T)[0, 0] == 64 * k
    assert reference_kernel.calls == [(np.dtype(ml_dtypes.int4),) * 2 + ((1, k), (k, 1))]


def test_int_matmul_f32_adds_the_bias_exactly_before_rounding():
    a = np.full((2, 1024), -128, np.int8)
    b = np.full((1024, 3), -128, np.int8)  # every product sum is 2**24
    bias = np.array([1, 2**31 - 1, -2**31], np.int32)
    exact = 2**24 + bias.astype(np.int64)  # 2**24 + 1 is not a float32: one rounding, to even
    got = matmul.int_matmul_f32(a, b, bias)
    np.testing.assert_array_equal(got, np.broadcast_to(exact.astype(np.float32), (2, 3)))
    assert got[0, 0] == 2**24
