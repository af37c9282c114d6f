"""aclnnCalculateMatmulWeightSize(V2), aclnnTransMatmulWeight and aclnnTransQuantParamV2 through
the binding and the raw C calls (their codes everywhere, their text on the mock's libraries:
binding_helpers)."""
from __future__ import annotations

import numpy as np
import pytest

import aclnn_py
from aclnn_py import Tensor
from aclnn_py._ffi import ffi
from aclnn_py.errors import AclnnParamError
from aclnn_py.semantics import nz
from aclnn_py.semantics.quant_params import trans_quant_param
from aclnn_py.ops import calculate_matmul_weight_size, nz_weight_tensor, trans_matmul_weight, trans_quant_param_v2

from binding_helpers import expect_status


def test_calculate_size_doc_examples(stream):
    assert calculate_matmul_weight_size([510, 510], "float16") == 262144
    assert calculate_matmul_weight_size([510, 270], "int8") == 147456
    assert calculate_matmul_weight_size([2, 510, 270], "int8") == 2 * 147456
    assert calculate_matmul_weight_size([510, 270]) == 512 * 272  # V1: FLOAT16 rule


def test_calculate_size_errors(stream):
    lib = aclnn_py.lib
    size = ffi.new("uint64_t *")
    assert lib.aclnnCalculateMatmulWeightSizeV2(ffi.NULL, 2, size) == 161001
    for shape in ([5], [0, 4], [1] * 7):
        with pytest.raises(AclnnParamError) as info:
            calculate_matmul_weight_size(shape, "int8")
        assert info.value.code == 161002
        with aclnn_py.IntArray(shape) as arr:
            expect_status(lib.aclnnCalculateMatmulWeightSizeV2(arr.handle, 2, size), 161002, "tensorShape")


@pytest.mark.parametrize("shape,dtype", [((40, 50), "int8"), ((2, 33, 70), "int8"), ((20, 24), "float16"),
                                         ((64, 32), "bfloat16")])
def test_trans_matmul_weight_in_place(stream, shape, dtype):
    rng = np.random.default_rng(1)
    nd = rng.integers(-100, 100, shape).astype(np.int8 if dtype == "int8" else np.float32)
    if dtype != "int8":
        from aclnn_py.semantics import dtypes
        nd = nd.astype(dtypes.host_dtype(dtype))
    t = nz_weight_tensor(nd, dtype, stream)
    address = t.desc.address
    trans_matmul_weight(t, stream, synchronize=True)
    assert t.is_nz and t.desc.format == 29 and t.shape == shape and t.desc.address == address
    expected = nz.nd_to_nz(nd, dtype)
    assert t.desc.storage_shape == expected.shape
    raw = t.buffer.to_numpy(np.uint8, (expected.nbytes,)).view(expected.dtype).reshape(expected.shape)
    np.testing.assert_array_equal(raw.view(np.uint8), expected.view(np.uint8))
    np.testing.assert_array_equal(t.to_numpy().view(np.uint8), nd.view(np.uint8))  # NZ-aware read back


def test_trans_matmul_weight_rules(stream):
    small = Tensor.from_numpy(np.zeros((40, 50), np.int8))  # buffer too small for the NZ form
    lib = aclnn_py.lib
    size, ex = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
    expect_status(lib.aclnnTransMatmulWeightGetWorkspaceSize(small.handle, size, ex), 161002,
                  "aclnnCalculateMatmulWeightSizeV2")
    assert lib.aclnnTransMatmulWeightGetWorkspaceSize(ffi.NULL, size, ex) == 161001
    for bad, fragment in ((Tensor.from_numpy(np.zeros((4, 4), np.float32)), "mmWeightRef dtype FLOAT"),
                          (Tensor.from_numpy(np.zeros(8, np.int8)), "needs 2 to 6 dims")):
        with pytest.raises(AclnnParamError, match=fragment):  # the binding's rules, before any C call
            trans_matmul_weight(bad, stream)
        expect_status(lib.aclnnTransMatmulWeightGetWorkspaceSize(bad.handle, size, ex), 161002, fragment)
    t = nz_weight_tensor(np.ones((16, 32), np.int8), stream=stream)
    trans_matmul_weight(t, stream, synchronize=True)
    with pytest.raises(AclnnParamError, match="FRACTAL_NZ is not supported"):
        trans_matmul_weight(t, stream)


@pytest.mark.aclnn_soc("Ascend950PR")
def test_trans_matmul_weight_950_fp16_rank(stream):
    t = nz_weight_tensor(np.ones((2, 16, 16), np.float16), stream=stream)
    with pytest.raises(AclnnParamError, match="FLOAT16 needs 2 to 2 dims"):
        trans_matmul_weight(t, stream)
    stream.synchronize()  # the weight's data was copied on the stream
    t.close()


@pytest.mark.parametrize("with_offset", [False, True])
@pytest.mark.parametrize("out_dtype", ["uint64", "int64"])
def test_trans_quant_param_v2(stream, with_offset, out_dtype):
    rng = np.random.default_rng(2)
    scale = rng.uniform(-3, 3, 24).astype(np.float32)
    offset = rng.uniform(-300, 300, 24).astype(np.float32) if with_offset else None
    out = trans_quant_param_v2(scale, offset, stream=stream, out_dtype=out_dtype)
    stream.synchronize()
    got = out.to_numpy()
    assert got.dtype == np.dtype(out_dtype)
    np.testing.assert_array_equal(got.view(np.uint64), trans_quant_param(scale, offset))


def test_trans_quant_param_v2_broadcast_and_rules(stream):
    scale = np.array([0.5], np.float32)
    offset = np.array([1.0, -2.0, 3.0], np.float32)
    out = trans_quant_param_v2(scale, offset, stream=stream)
    stream.synchronize()
    np.testing.assert_array_equal(out.to_numpy(), trans_quant_param(scale, offset))
    lib = aclnn_py.lib
    size, ex = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
    s16 = Tensor.from_numpy(np.ones(4, np.float16))
    o = Tensor.empty((4,), "uint64")
    expect_status(lib.aclnnTransQuantParamV2GetWorkspaceSize(s16.handle, ffi.NULL, o.handle, size, ex), 161002,
                  "scale dtype FLOAT16 is not supported")
    assert lib.aclnnTransQuantParamV2GetWorkspaceSize(ffi.NULL, ffi.NULL, o.handle, size, ex) == 161001
    with pytest.raises(AclnnParamError, match="out shape"):
        trans_quant_param_v2(np.ones(4, np.float32), stream=stream, out=Tensor.empty((5,), "uint64"))
