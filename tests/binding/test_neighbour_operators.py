"""aclnnDynamicQuant, aclnnWeightQuantBatchMatmulV2 and aclnnNpuFormatCast(+CalculateSizeAndFormat) through
the binding's generic layer: values against the pure layer's goldens (CANN's precision standard for
floats, integers and layouts exactly), the documented codes of the raw C calls, the binding's own
pre-checks. Through aclnn_py only: runs unchanged on an Ascend host."""
from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

import aclnn_py
from aclnn_py import DeviceBuffer, Tensor, ops
from aclnn_py._ffi import ffi
from aclnn_py.errors import AclnnParamError
from aclnn_py.semantics import codecs, nz
from aclnn_py.semantics import dynamic_quant as dq
from aclnn_py.semantics import weight_quant_batch_matmul_v2 as wq
from aclnn_py.semantics.precision import assert_close
from aclnn_py.semantics.quant_params import trans_quant_param

from binding_helpers import expect_status, mock_library, skip_unless_profile


# --------------------------------------------------------------------------- DynamicQuant

@pytest.mark.parametrize("y_dtype", ["int8", "int4", "int32"])
def test_dynamic_quant_matches_the_golden(stream, y_dtype):
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((2, 3, 64)) * 3).astype(ml_dtypes.bfloat16)
    smooth = (rng.random(64) + 0.5).astype(ml_dtypes.bfloat16)
    y_shape = (2, 3, 8) if y_dtype == "int32" else x.shape
    y_out, scale_out = Tensor.empty(y_shape, y_dtype), Tensor.empty((2, 3), "float32")
    result = ops.dynamic_quant(x, smooth_scales=smooth, y_out=y_out, scale_out=scale_out, stream=stream)
    assert result == (y_out, scale_out)
    stream.synchronize()
    golden_y, golden_scale = dq.dynamic_quant(x, smooth, y_dtype=y_dtype)
    np.testing.assert_array_equal(y_out.to_numpy(), golden_y)  # integers: exact
    assert_close(scale_out.to_numpy(), golden_scale, "float32")
    y_out.close(), scale_out.close()


def test_dynamic_quant_infers_its_outputs(stream):
    x = np.linspace(-4, 4, 4 * 32, dtype=np.float16).reshape(4, 32)
    y, scale = ops.dynamic_quant(x, stream=stream)
    stream.synchronize()
    assert y.shape == (4, 32) and y.dtype == aclnn_py.DataType.ACL_INT8 and scale.shape == (4,)
    golden_y, golden_scale = dq.dynamic_quant(x)
    np.testing.assert_array_equal(y.to_numpy(), golden_y)
    assert_close(scale.to_numpy(), golden_scale, "float32")
    y.close(), scale.close()


def test_dynamic_quant_documented_codes(stream):
    x = Tensor.from_numpy(np.ones((4, 32), np.float16))
    y, scale = Tensor.empty((4, 32), "int8"), Tensor.empty((4,), "float32")
    size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
    lib = aclnn_py.lib
    expect_status(lib.aclnnDynamicQuantGetWorkspaceSize(ffi.NULL, ffi.NULL, y.handle, scale.handle, size, executor),
                  161001, "x must not be a null pointer")
    wrong = Tensor.empty((4, 16), "int8")
    expect_status(lib.aclnnDynamicQuantGetWorkspaceSize(x.handle, ffi.NULL, wrong.handle, scale.handle, size,
                                                        executor), 161002, "yOut shape")
    with pytest.raises(AclnnParamError) as info:  # the binding's pre-check: the same rule and words
        ops.dynamic_quant(x, y_out=wrong, scale_out=scale, stream=stream)
    assert info.value.code == 161002 and "yOut shape" in str(info.value)
    for tensor in (x, y, scale, wrong):
        tensor.close()


# --------------------------------------------------------------------------- WeightQuantBatchMatmulV2

@pytest.mark.parametrize("x_dtype,bias_dtype", [("float16", np.float16), ("bfloat16", np.float32)])
def test_weight_quant_per_group_int4_matches_the_golden(stream, x_dtype, bias_dtype):
    rng = np.random.default_rng(12)
    host = aclnn_py.semantics.dtypes.host_dtype(x_dtype)
    m, k, n, group = 8, 128, 32, 64
    x = rng.uniform(-1, 1, (m, k)).astype(host)
    w = rng.integers(-8, 8, (k, n)).astype(ml_dtypes.int4)
    scale = rng.uniform(0.01, 0.1, (k // group, n)).astype(host)
    offset = rng.integers(-2, 2, (k // group, n)).astype(host)
    bias = rng.uniform(-1, 1, n).astype(bias_dtype)
    y = ops.weight_quant_batch_matmul_v2(x, w, scale, antiquant_offset=offset, bias=bias,
                                         antiquant_group_size=group, stream=stream)
    stream.synchronize()
    golden = wq.weight_quant_batch_matmul(x, w, scale, offset, bias=bias, antiquant_group_size=group)
    assert_close(y.to_numpy(), golden, x_dtype)
    y.close()


@pytest.mark.aclnn_soc("Ascend910B4")  # the 950 takes FRACTAL_NZ weights only through aclnnWeightQuantBatchMatmulNz
def test_weight_quant_on_an_nz_weight_and_with_int8_output(stream):
    """The sequence of CANN's aclnnCalculateMatmulWeightSizeV2 sample: an INT8 weight made FRACTAL_NZ by
    aclnnTransMatmulWeight, then the matmul; and an INT8 output with a packed quantScale."""
    rng = np.random.default_rng(13)
    x = rng.uniform(-1, 1, (16, 64)).astype(np.float16)
    w = rng.integers(-100, 100, (64, 48)).astype(np.int8)
    scale = rng.uniform(0.001, 0.01, 48).astype(np.float16)
    weight = ops.nz_weight_tensor(w, "int8", stream)
    ops.trans_matmul_weight(weight, stream)
    assert weight.is_nz
    y = ops.weight_quant_batch_matmul_v2(x, weight, scale, antiquant_group_size=0, stream=stream)
    stream.synchronize()
    golden = wq.weight_quant_batch_matmul(x, w, scale)
    assert_close(y.to_numpy(), golden, "float16")
    quant = trans_quant_param(np.full(48, 4.0, np.float32))
    y8 = ops.weight_quant_batch_matmul_v2(x, weight, scale, quant_scale=quant, antiquant_group_size=0, stream=stream)
    stream.synchronize()
    expected = wq.weight_quant_batch_matmul(x, w, scale, quant_scale=quant)
    assert np.max(np.abs(y8.to_numpy().astype(np.int32) - expected)) <= (0 if mock_library() else 1)
    for tensor in (y, y8, weight):
        tensor.close()


def test_weight_quant_documented_codes(stream):
    x = Tensor.from_numpy(np.ones((4, 64), np.float16))
    w = Tensor.from_numpy(np.ones((64, 16), np.int8))
    s = Tensor.from_numpy(np.ones(16, np.float16))
    y = Tensor.empty((4, 16), "float16")
    size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
    call = aclnn_py.lib.aclnnWeightQuantBatchMatmulV2GetWorkspaceSize
    expect_status(call(x.handle, ffi.NULL, s.handle, ffi.NULL, ffi.NULL, ffi.NULL, ffi.NULL, 0, y.handle, size,
                       executor), 161001, "weight must not be a null pointer")
    expect_status(call(x.handle, w.handle, s.handle, ffi.NULL, ffi.NULL, ffi.NULL, ffi.NULL, 48, y.handle, size,
                       executor), 161002, "antiquantGroupSize 48")
    with pytest.raises(AclnnParamError) as info:
        ops.weight_quant_batch_matmul_v2(x, w, s, antiquant_group_size=48, y=y, stream=stream)
    assert info.value.code == 161002 and "antiquantGroupSize 48" in str(info.value)
    for tensor in (x, w, s, y):
        tensor.close()


# --------------------------------------------------------------------------- NpuFormatCast

@pytest.mark.aclnn_soc("Ascend910B4")  # the 950 answers an int32/float16 pair with FRACTAL_NZ_C0_16 (50)
@pytest.mark.parametrize("dtype,additional", [("int8", -1), ("int32", "float16"), ("bfloat16", -1)])
def test_npu_format_cast_round_trip(stream, dtype, additional):
    rng = np.random.default_rng(14)
    values = codecs.from_float32(rng.integers(-50, 50, (3, 40, 70)), dtype)
    src = Tensor.from_numpy(values)
    shape, fmt = ops.npu_format_cast_calculate_size_and_format(src, aclnn_py.Format.ACL_FORMAT_FRACTAL_NZ, additional)
    c0 = 32 // (2 if additional == "float16" else values.dtype.itemsize)
    assert shape == nz.nz_storage_shape(values.shape, dtype, c0) and fmt == aclnn_py.Format.ACL_FORMAT_FRACTAL_NZ
    buffer = DeviceBuffer(int(np.prod(shape)) * values.dtype.itemsize)
    dst = Tensor(buffer, values.shape, dtype, format=fmt, storage_shape=shape)
    ops.npu_format_cast(src, dst, stream=stream)
    back = Tensor.empty(values.shape, dtype)
    ops.npu_format_cast(dst, back, stream=stream)
    stream.synchronize()
    raw = buffer.to_numpy(values.dtype, shape)
    np.testing.assert_array_equal(raw.view(np.uint8), nz.nd_to_nz(values, dtype, c0).view(np.uint8))  # padding 0
    np.testing.assert_array_equal(back.to_numpy().view(np.uint8), values.view(np.uint8))
    for tensor in (back, dst, buffer, src):
        tensor.close()


@pytest.mark.parametrize("plain,blocked,shape,dtype", [
    ("ACL_FORMAT_NCDHW", "ACL_FORMAT_NDC1HWC0", (1, 17, 1, 2, 2), "int32"),  # the A2/A3 doc sample's conversion
    ("ACL_FORMAT_NCHW", "ACL_FORMAT_NC1HWC0", (2, 33, 3, 5), "float16"),
])
def test_npu_format_cast_channel_blocked_round_trip(stream, plain, blocked, shape, dtype):
    """NCHW/NCDHW -> NC1HWC0/NDC1HWC0 and back on Atlas A2/A3: element [n, (d,) c1, h, w, c0] holds channel
    c1 * C0 + c0 (C0 = 32 bytes of the dtype), the channels past C zero."""
    skip_unless_profile({"A2", "A3"}, "NpuFormatCast to the channel-blocked formats")
    values = codecs.from_float32(np.arange(np.prod(shape)).reshape(shape) % 251, dtype)
    src = Tensor.empty(shape, dtype, format=aclnn_py.Format[plain])
    src.copy_from_numpy(values)
    storage, fmt = ops.npu_format_cast_calculate_size_and_format(src, aclnn_py.Format[blocked])
    c0 = 32 // values.dtype.itemsize
    c1 = -(-shape[1] // c0)
    assert fmt == aclnn_py.Format[blocked]
    assert storage == ((shape[0], shape[2], c1, shape[3], shape[4], c0) if len(shape) == 5
                       else (shape[0], c1, shape[2], shape[3], c0))
    buffer = DeviceBuffer(int(np.prod(storage)) * values.dtype.itemsize)
    dst = Tensor(buffer, shape, dtype, format=fmt, storage_shape=storage)
    ops.npu_format_cast(src, dst, stream=stream)
    back = Tensor.empty(shape, dtype, format=aclnn_py.Format[plain])
    ops.npu_format_cast(dst, back, stream=stream)
    stream.synchronize()
    expected = np.zeros(storage, values.dtype)
    for index in np.ndindex(*shape):  # element by element, from the formula
        n, c, *spatial = index
        c1_of, c0_of = divmod(c, c0)
        target = (n, spatial[0], c1_of, *spatial[1:], c0_of) if len(shape) == 5 else (n, c1_of, *spatial, c0_of)
        expected[target] = values[index]
    raw = buffer.to_numpy(values.dtype, storage)
    np.testing.assert_array_equal(raw.view(np.uint8), expected.view(np.uint8))
    np.testing.assert_array_equal(back.to_numpy().view(np.uint8), values.view(np.uint8))
    for tensor in (back, dst, buffer, src):
        tensor.close()


def test_npu_format_cast_documented_codes(stream):
    lib = aclnn_py.lib
    shape, count, fmt = ffi.new("int64_t **"), ffi.new("uint64_t *"), ffi.new("int *")
    expect_status(lib.aclnnNpuFormatCastCalculateSizeAndFormat(ffi.NULL, 29, -1, shape, count, fmt), 161002,
                  "srcTensor must not be a null pointer")
    src = Tensor.from_numpy(np.ones((40, 50), np.int64))
    with pytest.raises(AclnnParamError) as info:
        ops.npu_format_cast_calculate_size_and_format(src, 29)
    assert info.value.code == 161002 and "srcTensor dtype INT64" in str(info.value)
    size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
    expect_status(lib.aclnnNpuFormatCastGetWorkspaceSize(src.handle, ffi.NULL, size, executor), 561103,
                  "dstTensor must not be a null pointer")
    src.close()
