"""Tests for aclnn_py.semantics.codecs against independent references."""

from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys
from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest

from aclnn_py.semantics import codecs as F
from aclnn_py.semantics import dtypes

# --------------------------------------------------------------------------- HiFloat8 reference

INF_SLOT = Fraction(49152)  # 1.5 * 2**15, the value the +inf code would otherwise have


def ref_hif8(code: int) -> Fraction | float:
    """Decode one HiF8 code straight from the table in docs/number-formats.md (HiFloat8)."""
    if code == 0x80:
        return math.nan
    negative = code >= 0x80
    bits = format(code & 0x7F, "07b")
    if bits == "1101111":
        return -math.inf if negative else math.inf
    # (dot prefix, exponent-field width); the mantissa takes the remaining bits.
    for prefix, width in (("11", 4), ("10", 3), ("01", 2), ("001", 1), ("0001", 0)):
        if bits.startswith(prefix):
            rest = bits[len(prefix):]
            field, mant = rest[:width], rest[width:]
            if width == 0:
                exponent = 0
            else:
                magnitude = 2 ** (width - 1) + (int(field[1:], 2) if width > 1 else 0)
                exponent = -magnitude if field[0] == "1" else magnitude
            value = (1 + Fraction(int(mant, 2), 2 ** len(mant))) * Fraction(2) ** exponent
            break
    else:  # "0000": denormal 2**(m - 23), m = 0 is zero
        m = int(bits[4:], 2)
        value = Fraction(0) if m == 0 else Fraction(2) ** (m - 23)
    return -value if negative else value


REF = [ref_hif8(c) for c in range(256)]
FINITE_CODES = [c for c in range(256) if isinstance(REF[c], Fraction)]
POSITIVE = sorted((REF[c], c) for c in range(0x80) if isinstance(REF[c], Fraction))


def f32(x) -> np.float32:
    v = np.float32(x)
    assert Fraction(float(v)) == Fraction(x), "test value must be exact in float32"
    return v


def test_hif8_reference_table_shape():
    assert len(POSITIVE) == 127  # +0 and 126 positive finite values
    assert len({v for v, _ in POSITIVE}) == 127


def test_hif8_decode_all_codes_match_reference():
    got = F.hifloat8_decode(np.arange(256, dtype=np.uint8))
    assert got.dtype == np.float32
    for code in range(256):
        ref = REF[code]
        if isinstance(ref, Fraction):
            assert Fraction(float(got[code])) == ref, hex(code)
        elif math.isnan(ref):
            assert np.isnan(got[code])
        else:
            assert got[code] == ref, hex(code)


@pytest.mark.parametrize("code, value", [
    (0x00, 0.0), (0x08, 1.0), (0x0F, 1.875), (0x10, 2.0), (0x18, 0.5), (0x20, 4.0),
    (0x40, 16.0), (0x60, 256.0), (0x61, 384.0), (0x70, 2.0**-8), (0x6E, 32768.0),
    (0x7E, 2.0**-15), (0x7F, 1.5 * 2.0**-15), (0x01, 2.0**-22), (0x07, 2.0**-16),
    (0x6F, math.inf), (0xEF, -math.inf), (0x88, -1.0),
])
def test_hif8_documented_examples(code, value):
    assert F.hifloat8_decode(np.array([code], np.uint8))[0] == value


def test_hif8_nan_code_and_input_types():
    assert np.isnan(F.hifloat8_decode(np.array([0x80], np.uint8))[0])
    assert F.hifloat8_decode([0x08, 0x10]).tolist() == [1.0, 2.0]  # plain ints accepted
    with pytest.raises(ValueError):
        F.hifloat8_decode([256])
    with pytest.raises(TypeError):
        F.hifloat8_decode(np.array([1.0]))


def test_hif8_encode_decode_roundtrip_every_finite_code():
    codes = np.array([c for c in FINITE_CODES if c != 0x80], np.uint8)
    # -0 does not exist: every finite code, including 0x00, must come back unchanged.
    assert np.array_equal(F.hifloat8_encode(F.hifloat8_decode(codes)), codes)


def _neighbours():
    values = POSITIVE + [(INF_SLOT, 0x6F)]
    return list(zip(values[:-1], values[1:]))


def test_hif8_midpoints_round_away_from_zero_and_neighbours_to_nearest():
    for (lo, lo_code), (hi, hi_code) in _neighbours():
        mid = f32((lo + hi) / 2)
        below = np.nextafter(mid, np.float32(0))
        above = np.nextafter(mid, np.float32(np.inf))
        got = F.hifloat8_encode(np.array([mid, below, above, -mid, -below, -above], np.float32))
        neg_lo = 0 if lo_code == 0 else lo_code | 0x80
        expected = [hi_code, lo_code, hi_code, hi_code | 0x80, neg_lo, hi_code | 0x80]
        assert got.tolist() == expected, (float(lo), float(hi))


def test_hif8_specific_rounding_cases():
    def enc(x: float) -> int:
        return int(F.hifloat8_encode(np.float32(x)))

    assert enc(1.0625) == 0x09  # tie between 1.0 and 1.125 -> away
    assert enc(2.0**-23) == 0x01  # tie between 0 and 2**-22 -> away
    assert enc(np.nextafter(np.float32(2.0**-23), np.float32(0))) == 0x00
    assert enc(-(2.0**-24)) == 0x00  # no -0
    assert enc(-0.0) == 0x00
    assert enc(2.0**-100) == 0x00
    assert enc(3.0 * 2.0**-18) == 0x07  # tie between 2**-17 and 2**-16 -> away
    assert enc(3.0 * 2.0**-17) == 0x7E  # tie between 2**-16 and 2**-15 -> away
    assert enc(15.5) == 0x40  # 15 | 16 boundary between dot fields: tie -> 16


def test_hif8_overflow_and_saturation():
    big = np.array([32768.0, 36000.0, np.nextafter(np.float32(40960), np.float32(0)), 40960.0,
                    49152.0, 1e30, np.inf], np.float32)
    assert F.hifloat8_encode(big).tolist() == [0x6E, 0x6E, 0x6E, 0x6F, 0x6F, 0x6F, 0x6F]
    assert F.hifloat8_encode(-big).tolist() == [0xEE, 0xEE, 0xEE, 0xEF, 0xEF, 0xEF, 0xEF]
    assert F.hifloat8_encode(big, saturate=True).tolist() == [0x6E] * 7
    assert F.hifloat8_encode(-big, saturate=True).tolist() == [0xEE] * 7


def test_hif8_nan():
    assert F.hifloat8_encode([np.nan, -np.nan]).tolist() == [0x80, 0x80]
    assert F.hifloat8_encode([np.nan], saturate=True).tolist() == [0x00]


def _ref_round(x: np.ndarray) -> np.ndarray:
    """Hardware-style reference: round the mantissa at the precision of x's binade.

    Mantissa bits by exponent e: |e| >= 8 -> 1, 4..7 -> 2, 0..3 -> 3, denormal binades
    -22..-16 -> 0; [2**-23, 2**-22) -> 2**-22, below -> 0; results > 2**15 overflow.
    """
    a = np.abs(x.astype(np.float64))
    _, ex = np.frexp(a)
    e = ex - 1
    ae = np.abs(e)
    mbits = np.select([ae >= 8, ae >= 4], [1, 2], 3)
    mbits = np.where((e >= -22) & (e <= -16), 0, mbits)
    step = np.ldexp(1.0, e - mbits)
    value = np.floor(a / step + 0.5) * step
    value = np.where(e == -23, 2.0**-22, value)
    value = np.where((e < -23) | (a == 0), 0.0, value)
    value = np.where(value > 32768, np.inf, value)
    return np.where(np.signbit(x), -value, value)


def test_hif8_encode_matches_binade_rounding_reference_on_random_inputs():
    rng = np.random.default_rng(1234)
    raw = rng.integers(0, 2**32, 200_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    logs = np.exp2(rng.uniform(-26, 17, 200_000)).astype(np.float32)
    logs *= np.where(rng.random(logs.size) < 0.5, -1, 1).astype(np.float32)
    x = np.concatenate([raw, logs])
    x = x[~np.isnan(x)]
    ref = _ref_round(x)
    got = F.hifloat8_decode(F.hifloat8_encode(x)).astype(np.float64)
    assert np.array_equal(got, ref)
    assert not np.any(np.signbit(got) & (got == 0))  # never -0


# --------------------------------------------------------------------------- en_dtypes path

def test_en_dtypes_path_with_stand_in_dtype(tmp_path):
    """With en_dtypes installed, HiFloat8 has its own host dtype: the table and the codecs follow it
    (run in a child process with a stand-in en_dtypes module, so this process keeps its tables)."""
    (tmp_path / "en_dtypes.py").write_text("import numpy as np\nhifloat8 = np.dtype([('code', 'u1')])\n")
    code = """
import numpy as np
import en_dtypes
from aclnn_py.semantics import codecs as mod
stand_in = en_dtypes.hifloat8
assert mod.host_dtype("hifloat8") == stand_in
assert mod.name_of(stand_in) == "hifloat8"
assert mod.name_of(np.uint8) == "uint8"
arr = mod.from_float32([1.0, -2.0, 1.0625], "hifloat8")
assert arr.dtype == stand_in
assert arr.view(np.uint8).tolist() == [0x08, 0x90, 0x09]
assert mod.to_float32(arr).tolist() == [1.0, -2.0, 1.125]
assert mod.hifloat8_decode(arr).tolist() == [1.0, -2.0, 1.125]
print("ok")
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert result.stdout.strip() == "ok", result.stderr


@pytest.mark.skipif(importlib.util.find_spec("en_dtypes") is not None, reason="en_dtypes installed")
def test_hifloat8_host_is_uint8_without_en_dtypes():
    assert F.host_dtype("hifloat8") == np.uint8
    assert F.from_float32([1.0], "hifloat8").dtype == np.uint8


# --------------------------------------------------------------------------- 4-bit packing

def test_pack_nibbles_explicit_bytes():
    fp4 = np.array([0.5, -6.0], ml_dtypes.float4_e2m1fn)
    assert F.pack_nibbles(fp4).tolist() == [0xF1]
    assert F.pack_nibbles(np.array([1, -1], ml_dtypes.int4)).tolist() == [0xF1]
    assert F.pack_nibbles(np.array([-8, 7], ml_dtypes.int4)).tolist() == [0x78]
    two_d = np.array([[1, 2, 3, 4], [-1, -2, 0, 5]], ml_dtypes.int4)
    packed = F.pack_nibbles(two_d)
    assert packed.dtype == np.uint8
    assert packed.tolist() == [[0x21, 0x43], [0xEF, 0x50]]


def test_pack_nibbles_roundtrip_all_pairs():
    codes = np.arange(16, dtype=np.uint8)
    pairs = np.stack(np.meshgrid(codes, codes, indexing="ij"), -1).reshape(-1, 2)
    for dt in (ml_dtypes.float4_e2m1fn, ml_dtypes.int4):
        values = pairs.view(dt)
        packed = F.pack_nibbles(values)
        assert packed[:, 0].tolist() == (pairs[:, 0] | pairs[:, 1] << 4).tolist()
        back = F.unpack_nibbles(packed, dt)
        assert back.dtype == np.dtype(dt)
        assert np.array_equal(back.view(np.uint8), pairs)
    int4 = F.unpack_nibbles(np.array([0x78, 0xF1], np.uint8), ml_dtypes.int4)
    assert int4.astype(np.int8).tolist() == [-8, 7, 1, -1]


def test_pack_nibbles_errors():
    with pytest.raises(ValueError, match="even"):
        F.pack_nibbles(np.zeros((2, 3), ml_dtypes.int4))
    with pytest.raises(TypeError):
        F.pack_nibbles(np.zeros(4, np.int8))
    with pytest.raises(TypeError):
        F.unpack_nibbles(np.zeros(2, np.uint8), np.int8)


def test_int32_packing_explicit_value_and_roundtrip():
    values = np.array([1, 2, 3, 4, 5, 6, 7, -1], ml_dtypes.int4)
    packed = F.pack_int4_to_int32(values)
    assert packed.dtype == np.int32
    assert packed.tolist() == np.array([0xF7654321], np.uint32).view(np.int32).tolist()
    rng = np.random.default_rng(0)
    v = rng.integers(-8, 8, (3, 5, 16)).astype(ml_dtypes.int4)
    p = F.pack_int4_to_int32(v)
    assert p.shape == (3, 5, 2)
    assert np.array_equal(F.unpack_int32_to_int4(p).astype(np.int8), v.astype(np.int8))
    assert np.array_equal(F.unpack_int32_to_int4(p.view(np.uint32)).astype(np.int8),
                          v.astype(np.int8))
    fp4 = np.array([0.5, -6, 0, 0, 0, 0, 0, 6], ml_dtypes.float4_e2m1fn)
    assert F.pack_int4_to_int32(fp4).view(np.uint32).tolist() == [0x700000F1]
    back = F.unpack_int32_to_int4(F.pack_int4_to_int32(fp4), ml_dtypes.float4_e2m1fn)
    assert back.astype(np.float32).tolist() == [0.5, -6, 0, 0, 0, 0, 0, 6]
    with pytest.raises(ValueError, match="multiple of 8"):
        F.pack_int4_to_int32(np.zeros(12, ml_dtypes.int4))


# --------------------------------------------------------------------------- E8M0

def test_e8m0_decode_table():
    got = F.e8m0_decode(np.arange(256, dtype=np.uint8))
    assert got.dtype == np.float32
    assert got[0x00] == np.float32(math.ldexp(1.0, -127))
    assert got[0x7F] == 1.0
    assert got[0xFE] == math.ldexp(1.0, 127)
    assert np.isnan(got[0xFF])
    for b in range(255):
        assert Fraction(float(got[b])) == Fraction(2) ** (b - 127)
    ml = np.arange(256, dtype=np.uint8).view(ml_dtypes.float8_e8m0fnu)
    assert np.array_equal(F.e8m0_decode(ml), got, equal_nan=True)
    assert np.array_equal(ml.astype(np.float32), got, equal_nan=True)


def test_e8m0_from_exponent():
    out = F.e8m0_from_exponent(np.array([-127, -1, 0, 1, 127]))
    assert out.dtype == np.dtype(ml_dtypes.float8_e8m0fnu)
    assert out.view(np.uint8).tolist() == [0, 126, 127, 128, 254]
    for bad in (128, -128):
        with pytest.raises(ValueError):
            F.e8m0_from_exponent(np.array([bad]))
    with pytest.raises(TypeError):
        F.e8m0_from_exponent(np.array([1.0]))


def test_from_float32_e8m0_is_strict():
    out = F.from_float32([1.0, 0.5, 2.0**-127, 2.0**127], "float8_e8m0")
    assert out.view(np.uint8).tolist() == [127, 126, 0, 254]
    for bad in (1.5, 0.0, -1.0, np.nan, np.inf, 2.0**-128):
        with pytest.raises(ValueError):
            F.from_float32([bad], "float8_e8m0")


# --------------------------------------------------------------------------- name table & codecs

EXPECTED_HOST = {
    "float32": np.float32, "float16": np.float16, "bfloat16": ml_dtypes.bfloat16,
    "float64": np.float64, "int8": np.int8, "int16": np.int16, "int32": np.int32,
    "int64": np.int64, "uint8": np.uint8, "uint16": np.uint16, "uint32": np.uint32,
    "uint64": np.uint64, "bool": np.bool_, "float8_e4m3fn": ml_dtypes.float8_e4m3fn,
    "float8_e5m2": ml_dtypes.float8_e5m2, "float8_e8m0": ml_dtypes.float8_e8m0fnu,
    "float4_e2m1": ml_dtypes.float4_e2m1fn, "int4": ml_dtypes.int4,
}


@pytest.mark.parametrize("name, dtype", EXPECTED_HOST.items())
def test_name_table_roundtrip(name, dtype):
    assert F.host_dtype(name) == np.dtype(dtype)
    assert F.name_of(dtype) == name
    assert F.name_of(np.zeros(2, dtype)) == name


def test_name_table_errors_and_bits():
    with pytest.raises(ValueError, match="is not a data type the project handles"):
        F.host_dtype("fp16")
    with pytest.raises(ValueError):
        F.name_of(np.dtype("datetime64[s]"))
    assert F.name_of(np.complex64) == "complex64" and F.name_of(np.complex128) == "complex128"
    assert F.name_of(np.uint8) == "uint8"
    bits = {"int4": 4, "float4_e2m1": 4, "hifloat8": 8, "float8_e8m0": 8, "bool": 8,
            "bfloat16": 16, "float16": 16, "float32": 32, "int64": 64, "float64": 64}
    assert {n: dtypes.bits(n) for n in bits} == bits


@pytest.mark.parametrize("name, nbits", [
    ("float8_e4m3fn", 8), ("float8_e5m2", 8), ("float4_e2m1", 4), ("bfloat16", 16),
    ("float16", 16)])
def test_every_code_decodes_and_reencodes(name, nbits):
    storage = np.uint8 if nbits <= 8 else np.uint16
    codes = np.arange(2**nbits, dtype=storage)
    arr = codes.view(F.host_dtype(name))
    values = F.to_float32(arr)
    assert values.dtype == np.float32
    with np.errstate(invalid="ignore"):  # signalling NaNs are quietened
        back = F.from_float32(values, name)
    assert back.dtype == F.host_dtype(name)
    nan = np.isnan(values)
    assert np.array_equal(back.view(storage)[~nan], codes[~nan])
    assert np.all(np.isnan(back[nan].astype(np.float32)))


def test_known_float_values():
    assert F.to_float32(np.array([0x7E], np.uint8).view(ml_dtypes.float8_e4m3fn))[0] == 448
    assert F.to_float32(np.array([0x7B], np.uint8).view(ml_dtypes.float8_e5m2))[0] == 57344
    assert F.to_float32(np.array([0x3F80], np.uint16).view(ml_dtypes.bfloat16))[0] == 1.0
    fp4 = F.to_float32(np.arange(16, dtype=np.uint8).view(ml_dtypes.float4_e2m1fn))
    assert fp4.tolist() == [0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6]


def test_to_float32_names():
    codes = np.array([0x08, 0x88, 0x80], np.uint8)
    hif = F.to_float32(codes, "hifloat8")
    assert hif[:2].tolist() == [1.0, -1.0] and np.isnan(hif[2])
    assert F.to_float32(codes).tolist() == [8.0, 136.0, 128.0]  # plain uint8
    assert F.to_float32(np.array([127, 0], np.uint8), "float8_e8m0").tolist() == [1.0, 2.0**-127]
    assert F.to_float32(np.array([-8, 7], ml_dtypes.int4)).tolist() == [-8.0, 7.0]
    with pytest.raises(ValueError):
        F.to_float32(np.zeros(2, np.float32), "float16")


def test_from_float32_rounding():
    # float16/bfloat16: ties to even.
    assert F.from_float32([1 + 2**-11, 1 + 3 * 2**-11], "float16").tolist() == [1.0, 1 + 2**-9]
    bf = F.from_float32([1 + 2**-8, 1 + 3 * 2**-8], "bfloat16").astype(np.float32)
    assert bf.tolist() == [1.0, 1 + 2**-6]
    assert F.from_float32([1.0625, -1.0625], "hifloat8").tolist() == [0x09, 0x89]
    ints = F.from_float32([0.5, 1.5, 2.5, -0.5, -1.5, 127.4, -128.0], "int8")
    assert ints.dtype == np.int8
    assert ints.tolist() == [0, 2, 2, 0, -2, 127, -128]
    assert F.from_float32([7.4, -8.5], "int4").astype(np.int8).tolist() == [7, -8]
    assert F.from_float32([2.0**63], "uint64").tolist() == [2**63]
    assert F.from_float32([0.0, 0.25], "bool").tolist() == [False, True]
    for name, bad in (("int8", 127.5), ("int8", -129.0), ("int4", 7.5), ("uint8", -1.0),
                      ("int64", 2.0**63), ("uint64", 2.0**64), ("int32", np.nan)):
        with pytest.raises(ValueError):
            F.from_float32([bad], name)


def test_device_nbytes():
    assert dtypes.nbytes(15, "int4") == 8
    assert dtypes.nbytes(4, "float4_e2m1") == 2
    assert dtypes.nbytes(6, "float32") == 24
    assert dtypes.nbytes(6, "hifloat8") == 6
    assert dtypes.nbytes(6, "bfloat16") == 12
    assert dtypes.nbytes(1, "float16") == 2
    assert dtypes.nbytes(0, "int8") == 0

@pytest.mark.parametrize("name", ["hifloat8", "float8_e8m0", "float8_e4m3fn", "float8_e5m2"])
def test_a_uint8_array_holds_the_codes_of_every_8_bit_float(name):
    """Issue 20, item 13: one rule, in one place (codecs.CODED_BY_UINT8): uint8 values of an 8-bit float
    type are its codes, never numbers to convert (0x38 is FLOAT8_E4M3FN 1.0, not 56)."""
    codes = np.array([0x00, 0x38, 0x7F, 0xFE], np.uint8)
    held = F.to_host(codes, name)
    assert held.dtype == dtypes.host_dtype(name)
    assert held.view(np.uint8).tolist() == codes.tolist()
    assert name in F.CODED_BY_UINT8 and F.CODED_BY_UINT8 == {"hifloat8", "float8_e8m0", "float8_e4m3fn",
                                                              "float8_e5m2"}
