"""The rules and goldens of aclnnDynamicQuant, aclnnWeightQuantBatchMatmulV2 and aclnnNpuFormatCast(+
CalculateSizeAndFormat) on descriptors and host arrays (no runtime).

Each rule case cites the check of CANN's op_api it follows (ops-nn quant/dynamic_quant, ops-nn
matmul/weight_quant_batch_matmul_v2, ops-math conversion/npu_format_cast); the goldens are compared
with independent float64 references.
"""
from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from aclnn_py.semantics import c1hwc0, dtypes, nz
from aclnn_py.semantics import dynamic_quant as dq
from aclnn_py.semantics import npu_format_cast as nfc
from aclnn_py.semantics import weight_quant_batch_matmul_v2 as wq
from aclnn_py.semantics.descriptors import FRACTAL_NZ, ND, TensorDesc
from aclnn_py.semantics.quant_params import trans_quant_param
from aclnn_py.semantics.status import INVALID, NULLPTR, RUNTIME, Violation

D = dtypes.DataType


def t(shape, dtype, fmt=ND, storage=None) -> TensorDesc:
    desc = TensorDesc.contiguous(shape, int(dtype), format=fmt)
    return desc if storage is None else TensorDesc(desc.shape, desc.dtype, desc.strides, 0, fmt, tuple(storage))


def transposed(shape, dtype) -> TensorDesc:
    """The transposed view (last two dims swapped) of a contiguous [.., shape[-1], shape[-2]] tensor."""
    return TensorDesc(tuple(shape), int(dtype), (1, shape[-2]), 0, ND, (shape[-2] * shape[-1],))


def violation(fn, *args, **kwargs) -> Violation:
    with pytest.raises(Violation) as info:
        fn(*args, **kwargs)
    return info.value


# --------------------------------------------------------------------------- DynamicQuant

def dq_call(shape=(4, 64), y_dtype=D.ACL_INT8, **overrides):
    kwargs = dict(x=t(shape, D.ACL_FLOAT16), smooth_scales=None, y_out=t(shape, y_dtype),
                  scale_out=t(shape[:-1], D.ACL_FLOAT))
    kwargs.update(overrides)
    return kwargs


@pytest.mark.parametrize("profile", ["A2", "A3", "950"])
def test_dynamic_quant_accepts_the_documented_calls(profile):
    assert dq.check(**dq_call(), profile=profile).y_name == "int8"
    assert dq.check(**dq_call((2, 3, 16), D.ACL_INT4, smooth_scales=t((16,), D.ACL_FLOAT16)), profile=profile)
    assert dq.check(**dq_call(y_out=t((4, 8), D.ACL_INT32)), profile=profile).y_name == "int32"
    assert dq.check(**dq_call((0, 64)), profile=profile).empty


@pytest.mark.parametrize("overrides,code,words", [
    (dict(x=None), NULLPTR, "x must not"),  # CheckNotNull
    (dict(scale_out=None), NULLPTR, "scaleOut"),
    (dict(x=t((4, 64), D.ACL_FLOAT)), INVALID, "x dtype FLOAT"),  # CheckDtype: INPUT_DTYPE_SUPPORT_LIST
    (dict(smooth_scales=t((64,), D.ACL_BF16)), INVALID, "smoothScalesOptional dtype"),
    (dict(y_out=t((4, 64), D.ACL_FLOAT8_E4M3FN)), INVALID, "yOut dtype FLOAT8_E4M3FN"),  # A2: OUTPUT_DTYPE_SUPPORT_LIST
    (dict(scale_out=t((4,), D.ACL_FLOAT16)), INVALID, "scaleOut dtype"),
    (dict(x=t((64,), D.ACL_FLOAT16), y_out=t((64,), D.ACL_INT8), scale_out=t((), D.ACL_FLOAT)), INVALID, "2 to 8"),
    (dict(smooth_scales=t((32,), D.ACL_FLOAT16)), INVALID, "smoothScalesOptional shape"),  # CheckShape
    (dict(y_out=t((4, 32), D.ACL_INT8)), INVALID, "yOut shape"),
    (dict(y_out=t((4, 7), D.ACL_INT32)), INVALID, "divided by 8"),  # CheckInt32OutputShape
    (dict(x=t((4, 63), D.ACL_FLOAT16), y_out=t((4, 63), D.ACL_INT4)), INVALID, "even"),
    (dict(scale_out=t((4, 1), D.ACL_FLOAT)), INVALID, "scaleOut shape"),
])
def test_dynamic_quant_rules(overrides, code, words):
    error = violation(dq.check, **dq_call(**overrides), profile="A2")
    assert error.code == code and words in error.message and error.function == dq.FUNCTION


def test_dynamic_quant_950_has_the_float8_outputs():
    for y in (D.ACL_FLOAT8_E4M3FN, D.ACL_FLOAT8_E5M2, D.ACL_HIFLOAT8):
        assert dq.check(**dq_call(y_out=t((4, 64), y)), profile="950").y_name == dtypes.name(y)


def _reference(v: np.ndarray, limit: float):
    """float64 per-row symmetric quantization: scale = max|v| / limit, y = v / scale."""
    peak = np.abs(v).max(axis=-1)
    return v / (peak / limit)[..., None], peak / limit


@pytest.mark.parametrize("y_dtype,limit", [("int8", 127), ("int4", 7), ("int32", 7)])
def test_dynamic_quant_golden_against_float64(y_dtype, limit):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((3, 5, 64)) * 4).astype(ml_dtypes.bfloat16)
    smooth = (rng.random(64) + 0.5).astype(ml_dtypes.bfloat16)
    y, scale = dq.dynamic_quant(x, smooth, y_dtype=y_dtype)
    ideal, ideal_scale = _reference(x.astype(np.float64) * smooth.astype(np.float64), limit)
    values = dq.codecs.unpack_int32_to_int4(y) if y_dtype == "int32" else y
    assert values.shape == x.shape and scale.shape == x.shape[:-1] and scale.dtype == np.float32
    # float32 steps: each y within a rounding of the exact quotient; the scale within 2 ulp of float32
    assert np.max(np.abs(values.astype(np.float64) - ideal)) <= 0.5 + 1e-4
    np.testing.assert_allclose(scale, ideal_scale, rtol=2 ** -22)
    assert np.abs(values.astype(np.int64)).max(axis=-1).tolist() == np.full((3, 5), limit).tolist()


def test_dynamic_quant_rounds_half_to_even_and_zero_rows_give_zero():
    x = np.array([[127, 0.5, 1.5, -2.5, 0], [0, 0, 0, 0, 0]], np.float16)
    y, scale = dq.dynamic_quant(x)
    assert y.tolist() == [[127, 0, 2, -2, 0], [0, 0, 0, 0, 0]]
    assert scale.tolist() == [np.float32(127) * np.float32(1 / 127), 0.0]


def test_dynamic_quant_float8_outputs_use_their_type_max():
    x = np.array([[448, -224, 1]], np.float16)
    y, scale = dq.dynamic_quant(x, y_dtype="float8_e4m3fn")
    assert y.dtype == ml_dtypes.float8_e4m3fn and y.astype(np.float32).tolist() == [[448, -224, 1]]
    assert scale.tolist() == [np.float32(448) * np.float32(1 / np.float32(448))]


# --------------------------------------------------------------------------- WeightQuantBatchMatmulV2

def wq_call(m=16, k=64, n=32, x_dtype=D.ACL_FLOAT16, w_dtype=D.ACL_INT8, **overrides):
    kwargs = dict(x=t((m, k), x_dtype), weight=t((k, n), w_dtype), antiquant_scale=t((n,), x_dtype),
                  antiquant_offset=None, quant_scale=None, quant_offset=None, bias=None, antiquant_group_size=0,
                  y=t((m, n), x_dtype))
    kwargs.update(overrides)
    return kwargs


@pytest.mark.parametrize("profile", ["A2", "A3", "950"])
def test_weight_quant_accepts_the_documented_calls(profile):
    assert wq.check(**wq_call(), profile=profile).group_size == 0
    assert wq.check(**wq_call(x_dtype=D.ACL_BF16, w_dtype=D.ACL_INT4, antiquant_scale=t((2, 32), D.ACL_BF16),
                              antiquant_offset=t((2, 32), D.ACL_BF16), antiquant_group_size=32,
                              bias=t((32,), D.ACL_FLOAT)), profile=profile)
    call = wq.check(**wq_call(weight=transposed((64, 32), D.ACL_INT8), antiquant_scale=t((1, 32), D.ACL_FLOAT16)),
                    profile=profile)
    assert call.weight_transposed
    packed = wq.check(**wq_call(weight=t((64, 4), D.ACL_INT32)), profile=profile)  # PackedWeightPreProcess
    assert packed.logical_name == "int4" and packed.weight_name == "int32"


def test_weight_quant_nz_weight_and_int8_output_on_a2():
    nz_weight = t((64, 32), D.ACL_INT8, FRACTAL_NZ, nz.nz_storage_shape((64, 32), "int8"))
    assert wq.check(**wq_call(weight=nz_weight), profile="A2")
    error = violation(wq.check, **wq_call(weight=nz_weight), profile="950")  # CheckWeightFormat
    assert error.code == INVALID and "weight format FRACTAL_NZ" in error.message
    assert wq.check(**wq_call(quant_scale=t((32,), D.ACL_UINT64), y=t((16, 32), D.ACL_INT8)), profile="A2")


@pytest.mark.parametrize("overrides,code,words", [
    (dict(weight=None), NULLPTR, "weight must not"),  # CheckNotNull
    (dict(x=t((16, 64), D.ACL_FLOAT)), INVALID, "x dtype FLOAT"),  # CheckDtypeValid
    (dict(weight=t((64, 32), D.ACL_FLOAT8_E4M3FN)), INVALID, "weight dtype"),  # A2: INT8/INT4 only
    (dict(y=t((16, 32), D.ACL_BF16)), INVALID, "must be x's dtype"),
    (dict(quant_scale=t((32,), D.ACL_UINT64)), INVALID, "must be INT8 when quantScaleOptional"),
    (dict(x=t((2, 16, 64), D.ACL_FLOAT16)), INVALID, "x shape"),  # CheckDimValid: 2-D
    (dict(antiquant_scale=t((32,), D.ACL_BF16)), INVALID, "antiquantScale dtype BF16"),  # CheckXDtypeValidForNormal
    (dict(antiquant_offset=t((32,), D.ACL_INT32)), INVALID, "UINT64 or INT64"),  # CheckAntiquantForFixpipe
    (dict(bias=t((32,), D.ACL_FLOAT)), INVALID, "biasOptional dtype"),  # CheckBiasDtypeValid: FLOAT16 x
    (dict(quant_offset=t((32,), D.ACL_FLOAT)), INVALID, "needs quantScaleOptional"),  # CheckQuantScale
    (dict(x=t((16, 48), D.ACL_FLOAT16)), INVALID, "must equal the weight's k"),  # CheckXWeight
    (dict(y=t((16, 16), D.ACL_FLOAT16)), INVALID, "y shape"),  # CheckXWeightY
    (dict(weight=t((64, 31), D.ACL_INT4), antiquant_scale=t((31,), D.ACL_FLOAT16), y=t((16, 31), D.ACL_FLOAT16)),
     INVALID, "must be even"),
    (dict(antiquant_group_size=48), INVALID, "multiple of 32"),  # CheckAntiquantGroupSize
    (dict(antiquant_group_size=64), INVALID, "k - 1"),
    (dict(antiquant_group_size=32), INVALID, "antiquantGroupSize 0"),  # a 1-D scale with a group size
    (dict(antiquant_scale=t((3, 32), D.ACL_FLOAT16), antiquant_group_size=32), INVALID, "[2, 32]"),
    (dict(antiquant_offset=t((1, 32), D.ACL_FLOAT16)), INVALID, "antiquantOffsetOptional shape"),
    (dict(bias=t((16,), D.ACL_FLOAT16)), INVALID, "biasOptional shape"),  # CheckBiasShape
    (dict(y=transposed((16, 32), D.ACL_FLOAT16)), INVALID, "y must be contiguous"),  # ContiguousCheck
])
def test_weight_quant_rules(overrides, code, words):
    error = violation(wq.check, **wq_call(**overrides), profile="A2")
    assert error.code == code and words in error.message and error.function == wq.FUNCTION


def test_weight_quant_950_refuses_quant_parameters_with_161001():
    """CheckOptionalNotNull: DAV_3510 has no INT8 output; the code answers ACLNN_ERR_PARAM_NULLPTR."""
    error = violation(wq.check, **wq_call(quant_scale=t((32,), D.ACL_UINT64), y=t((16, 32), D.ACL_INT8)),
                      profile="950")
    assert error.code == NULLPTR and "quantScaleOptional" in error.message


def _wq_reference(x, w, scale, offset=None, bias=None, group=0):
    """float64 x @ ((w + offset) * scale) + bias, the scale/offset repeated along K per group."""
    k = w.shape[0]
    s = scale.astype(np.float64).reshape(-1, w.shape[1])
    o = None if offset is None else offset.astype(np.float64).reshape(-1, w.shape[1])
    if group:
        s = np.repeat(s, group, axis=0)[:k]
        o = None if o is None else np.repeat(o, group, axis=0)[:k]
    w_tilde = (w.astype(np.float64) + (0 if o is None else o)) * s
    y = x.astype(np.float64) @ w_tilde
    return y if bias is None else y + bias.astype(np.float64)


@pytest.mark.parametrize("x_dtype,bias_dtype,unit", [("float16", np.float16, 2.0 ** -11),
                                                     ("bfloat16", np.float32, 2.0 ** -8)])
@pytest.mark.parametrize("group", [0, 32])
def test_weight_quant_golden_against_float64(x_dtype, bias_dtype, unit, group):
    """Within the error the x dtype's arithmetic allows: W~ rounded to it (one unit roundoff per weight, two
    for an FP16 x: the offset add and the scale product), float32 accumulation, the output rounded once."""
    rng = np.random.default_rng(5)
    host = dtypes.host_dtype(x_dtype)
    m, k, n = 8, 96, 24
    x = rng.uniform(-1, 1, (m, k)).astype(host)
    w = rng.integers(-8, 8, (k, n)).astype(ml_dtypes.int4)
    rows = -(-k // group) if group else 1
    scale = rng.uniform(0.01, 0.1, (rows, n)).astype(host)
    offset = rng.integers(-3, 3, (rows, n)).astype(host)
    bias = rng.uniform(-1, 1, n).astype(bias_dtype)
    got = wq.weight_quant_batch_matmul(x, w, scale if group else scale[0], offset if group else offset[0],
                                       bias=bias, antiquant_group_size=group)
    assert got.dtype == host and got.shape == (m, n)
    ideal = _wq_reference(x, w, scale, offset, bias, group)
    magnitude = np.abs(x.astype(np.float64)) @ np.abs(_wq_reference(np.eye(k), w, scale, offset, None, group))
    bound = 2 * unit * magnitude + unit * np.abs(ideal) + 1e-6
    assert np.all(np.abs(got.astype(np.float64) - ideal) <= bound)


def test_weight_quant_golden_int32_packed_transposed_and_int8_output():
    rng = np.random.default_rng(6)
    x = rng.uniform(-1, 1, (4, 64)).astype(np.float16)
    w = rng.integers(-8, 8, (64, 16)).astype(ml_dtypes.int4)
    scale = np.full(16, 0.25, np.float16)
    plain = wq.weight_quant_batch_matmul(x, w, scale)
    packed = dq.codecs.pack_int4_to_int32(w)  # (64, 2): eight int4 per int32 along N
    assert np.array_equal(wq.weight_quant_batch_matmul(x, packed, scale, weight_dtype="int32"), plain)
    stored_nk = np.ascontiguousarray(w.T)  # a transposed weight: stored [n, k]
    assert np.array_equal(wq.weight_quant_batch_matmul(x, stored_nk, scale, weight_transposed=True), plain)
    quant = trans_quant_param(np.full(16, 0.5, np.float32))
    y8 = wq.weight_quant_batch_matmul(x, w, scale, quant_scale=quant, quant_offset=np.full(16, 1, np.float32))
    expected = np.clip(np.rint(plain.astype(np.float32) * np.float32(0.5) + 1), -128, 127)
    assert y8.dtype == np.int8 and np.array_equal(y8, expected.astype(np.int8))


# --------------------------------------------------------------------------- NpuFormatCast

@pytest.mark.parametrize("profile,shape,src,additional,expected", [
    ("A2", (64, 128), D.ACL_INT32, D.ACL_FLOAT16, ((8, 4, 16, 16), FRACTAL_NZ)),  # C0 = 32 B / 2 B
    ("A2", (64, 128), D.ACL_INT8, -1, ((4, 4, 16, 32), FRACTAL_NZ)),
    ("A2", (3, 20, 40), D.ACL_FLOAT16, -1, ((3, 3, 2, 16, 16), FRACTAL_NZ)),
    ("950", (64, 128), D.ACL_INT32, D.ACL_FLOAT16, ((8, 4, 16, 16), 50)),  # FRACTAL_NZ_C0_16
    ("950", (64, 128), D.ACL_FLOAT, D.ACL_FLOAT8_E4M3FN, ((4, 4, 16, 32), 51)),  # FRACTAL_NZ_C0_32
    ("950", (64, 128), D.ACL_FLOAT4_E2M1, -1, ((2, 4, 16, 64), FRACTAL_NZ)),  # 4-bit: C0 64
])
def test_calculate_size_and_format_nd_to_nz(profile, shape, src, additional, expected):
    assert nfc.calculate_size_and_format(t(shape, src), FRACTAL_NZ, additional, profile) == expected


def test_calculate_size_and_format_refusals():
    nz_src = t((64, 128), D.ACL_INT8, FRACTAL_NZ, (4, 4, 16, 32))
    assert nfc.calculate_size_and_format(nz_src, ND, -1, "A2") == ((64, 128), ND)
    error = violation(nfc.calculate_size_and_format, None, FRACTAL_NZ, -1)
    assert error.code == INVALID  # the code turns every input failure into 161002, NULL included
    assert violation(nfc.calculate_size_and_format, t((4, 4), D.ACL_INT64), FRACTAL_NZ, -1).code == INVALID
    assert violation(nfc.calculate_size_and_format, t((0, 4), D.ACL_INT8), FRACTAL_NZ, -1).code == RUNTIME
    assert violation(nfc.calculate_size_and_format, t((0, 4), D.ACL_INT8), FRACTAL_NZ, -1, "950").code == INVALID
    assert violation(nfc.calculate_size_and_format, t((1, 64), D.ACL_FLOAT16), FRACTAL_NZ, -1, "950").code == INVALID
    assert violation(nfc.calculate_size_and_format, t((4, 4), D.ACL_INT32), FRACTAL_NZ, D.ACL_FLOAT, "950").code \
        == INVALID  # ValidateWeightQuantMatmulParams
    assert violation(nfc.calculate_size_and_format, t((4, 4), D.ACL_INT8), 33, -1).code == RUNTIME
    # a conversion CANN makes on A2/A3 that the rules do not model (NCDHW -> FRACTAL_Z_3D): left to the runtime
    assert nfc.calculate_size_and_format(t((1, 17, 1, 2, 2), D.ACL_INT32, 30), 33, -1, "A2") is None


def test_npu_format_cast_check():
    nd, nzd = t((40, 50), D.ACL_INT8), t((40, 50), D.ACL_INT8, FRACTAL_NZ, (2, 3, 16, 32))
    call = nfc.check(nd, nzd, "A2")
    assert call.to_nz and call.nz.storage_shape == (2, 3, 16, 32) and call.nz.format == FRACTAL_NZ
    back = nfc.check(nzd, nd, "A2")
    assert not back.to_nz and back.nd == nd
    c0_16 = t((40, 50), D.ACL_INT32, 50, (4, 3, 16, 16))
    assert nfc.check(t((40, 50), D.ACL_INT32), c0_16, "950").nz.format == FRACTAL_NZ
    cases = [((None, nzd), nfc.INNER_NULLPTR, "srcTensor must not"),
             ((nd, t((40, 50), D.ACL_INT8, FRACTAL_NZ, (2, 3, 16, 16))), INVALID, "storage shape"),
             ((nd, t((40, 50), D.ACL_UINT8, FRACTAL_NZ, (2, 3, 16, 32))), INVALID, "dtype"),
             ((t((40, 50), D.ACL_FLOAT8_E4M3FN), nzd), INVALID, "not supported on this SoC"),
             ((transposed((40, 50), D.ACL_INT8), nzd), INVALID, "contiguous"),
             ((nd, t((40, 50), D.ACL_INT8)), INVALID, "format ND to dstTensor format ND"),
             ((nzd, t((40, 70), D.ACL_INT8)), INVALID, "storage shape")]
    for (src, dst), code, words in cases:
        error = violation(nfc.check, src, dst, "A2")
        assert error.code == code and words in error.message, (error, words)
    assert nfc.check(t((2, 3, 4, 5), D.ACL_INT8, 0), t((2, 3, 4, 5), D.ACL_INT8, 4), "A2") is None


NCHW, NC1HWC0, NCDHW, NDC1HWC0 = 0, 3, 30, 32


def test_channel_blocked_size_and_format():
    """NCDHW -> NDC1HWC0 as aclnnNpuFormatCast.md's Atlas A2/A3 sample: INT32 (1, 17, 1, 2, 2), C0 32 B / 4 B = 8."""
    src = t((1, 17, 1, 2, 2), D.ACL_INT32, NCDHW)
    assert nfc.calculate_size_and_format(src, NDC1HWC0, -1, "A2") == ((1, 1, 3, 2, 2, 8), NDC1HWC0)
    assert nfc.calculate_size_and_format(src, NDC1HWC0, D.ACL_FLOAT16, "A3") == ((1, 1, 2, 2, 2, 16), NDC1HWC0)
    assert nfc.calculate_size_and_format(t((2, 33, 3, 5), D.ACL_INT8, NCHW), NC1HWC0, -1) == ((2, 2, 3, 5, 32), NC1HWC0)
    blocked = t((1, 17, 1, 2, 2), D.ACL_INT32, NDC1HWC0, (1, 1, 3, 2, 2, 8))
    assert nfc.calculate_size_and_format(blocked, NCDHW, -1, "A2") == ((1, 17, 1, 2, 2), NCDHW)
    assert violation(nfc.calculate_size_and_format, t((17, 2, 2), D.ACL_INT32, NCDHW), NDC1HWC0, -1).code == INVALID
    assert violation(nfc.calculate_size_and_format, t((1, 0, 1, 2, 2), D.ACL_INT32, NCDHW), NDC1HWC0, -1).code \
        == RUNTIME  # the aclop fallback of an empty tensor
    # the 950 computes the shape too (CANN's chain has no profile test), its two-phase call is left to the runtime
    assert nfc.calculate_size_and_format(src, NDC1HWC0, -1, "950") == ((1, 1, 3, 2, 2, 8), NDC1HWC0)
    blocked = t((1, 17, 1, 2, 2), D.ACL_INT32, NDC1HWC0, (1, 1, 3, 2, 2, 8))
    assert nfc.check(src, blocked, "950") is None


def test_channel_blocked_check_and_layout():
    values = np.arange(68, dtype=np.int32).reshape(1, 17, 1, 2, 2)
    plain, blocked = t(values.shape, D.ACL_INT32, NCDHW), t(values.shape, D.ACL_INT32, NDC1HWC0, (1, 1, 3, 2, 2, 8))
    call = nfc.check(plain, blocked, "A2")
    assert call.to_blocked and call.c0 == 8 and call.blocked.shape == (1, 1, 3, 2, 2, 8) and call.blocked.format == ND
    assert not nfc.check(blocked, plain, "A2").to_blocked
    out = c1hwc0.to_blocked(values, 8)
    # element [n, d, c1, h, w, c0] = source [n, c1 * 8 + c0, d, h, w]; channels 17..23 are padding
    assert out[0, 0, 1, 1, 0, 3] == values[0, 11, 0, 1, 0] and out[0, 0, 2, 0, 1, 0] == 65
    assert not out[0, 0, 2, :, :, 1:].any()
    assert np.array_equal(c1hwc0.from_blocked(out, values.shape), values)
    nchw = np.arange(2 * 5 * 3 * 2, dtype=np.float16).reshape(2, 5, 3, 2)
    assert np.array_equal(c1hwc0.from_blocked(c1hwc0.to_blocked(nchw, 16), nchw.shape), nchw)
    cases = [((plain, t(values.shape, D.ACL_INT32, NDC1HWC0, (1, 1, 2, 2, 2, 8))), "storage shape"),
             ((plain, t((1, 17, 1, 2, 3), D.ACL_INT32, NDC1HWC0, (1, 1, 3, 2, 3, 8))), "view shape"),
             ((t((17, 2, 2), D.ACL_INT32, NCDHW), blocked), "must have 5 dims")]
    for (src, dst), words in cases:
        error = violation(nfc.check, src, dst, "A2")
        assert error.code == INVALID and words in error.message, (error, words)
