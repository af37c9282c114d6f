"""Tensor.from_pointer: an aclTensor over device memory someone else owns (zero-copy, never freed)."""
from __future__ import annotations

import numpy as np
import pytest

import aclnn_py
from aclnn_py import DeviceBuffer, Tensor
from aclnn_py.check import check_acl
from aclnn_py.errors import AclnnParamError, ArgumentError
from aclnn_py.semantics.descriptors import FRACTAL_NZ

ffi = aclnn_py.ffi


def _foreign(nbytes: int):
    """Device memory allocated behind aclnn-py's back (as another framework would)."""
    lib = aclnn_py.lib
    out = ffi.new("void **")
    check_acl(lib.aclrtMalloc(out, nbytes, lib.ACL_MEM_MALLOC_HUGE_FIRST), "aclrtMalloc")
    return out[0]


def test_a_foreign_allocation_is_read_and_written_and_never_freed(stream):
    lib = aclnn_py.lib
    pointer = _foreign(4096)
    values = np.arange(48, dtype=np.float16).reshape(6, 8)
    t = Tensor.from_pointer(int(ffi.cast("uintptr_t", pointer)), (6, 8), "float16")
    t.copy_from_numpy(values)
    assert np.array_equal(t.to_numpy(), values)
    view = Tensor.from_pointer(pointer, (8, 6), "float16", strides=(1, 8))  # a cffi pointer, transposed
    assert np.array_equal(view.to_numpy(), values.T)
    assert t.desc.storage_shape == (48,) and view.desc.storage_shape == (48,)
    t.close()
    view.close()
    check_acl(lib.aclrtFree(pointer), "aclrtFree")  # still ours to free: aclnn-py freed nothing


def test_offset_and_strides_like_a_torch_view(stream):
    pointer = _foreign(1024)
    base = Tensor.from_pointer(pointer, (32,), "int32")
    base.copy_from_numpy(np.arange(32, dtype=np.int32))
    # a (3, 4) view starting at element 5 with row stride 8, as t.storage_offset() / t.stride() give it
    view = Tensor.from_pointer(pointer, (3, 4), "int32", strides=(8, 1), offset=5)
    expected = np.arange(32, dtype=np.int32)[5:].copy()
    assert np.array_equal(view.to_numpy(), np.lib.stride_tricks.as_strided(expected, (3, 4), (32, 4)))
    assert view.desc.storage_shape == (5 + 2 * 8 + 3 + 1,)
    base.close()
    view.close()
    check_acl(aclnn_py.lib.aclrtFree(pointer), "aclrtFree")


def test_an_operator_runs_on_borrowed_tensors(stream):
    from aclnn_py.ops import trans_quant_param_v2
    from aclnn_py.semantics.quant_params import trans_quant_param

    scale_memory, out_memory = _foreign(512), _foreign(512)
    scale = Tensor.from_pointer(scale_memory, (16,), "float32")
    scale.copy_from_numpy(np.linspace(0.5, 2.0, 16, dtype=np.float32))
    out = Tensor.from_pointer(out_memory, (16,), "uint64")
    trans_quant_param_v2(scale, stream=stream, out=out)
    stream.synchronize()
    assert np.array_equal(out.to_numpy(), trans_quant_param(np.linspace(0.5, 2.0, 16, dtype=np.float32)))
    for t, memory in ((scale, scale_memory), (out, out_memory)):
        t.close()
        check_acl(aclnn_py.lib.aclrtFree(memory), "aclrtFree")


def test_nz_storage_defaults_to_the_nz_shape_of_the_view(stream):
    pointer = _foreign(64 * 64)
    t = Tensor.from_pointer(pointer, (40, 50), "int8", format=FRACTAL_NZ)
    assert t.desc.storage_shape == (2, 3, 16, 32)
    t.close()
    check_acl(aclnn_py.lib.aclrtFree(pointer), "aclrtFree")


def test_bad_values_are_refused_before_c(stream):
    with pytest.raises(ArgumentError, match="address"):
        Tensor.from_pointer(0, (4,), "float32")
    with pytest.raises(AclnnParamError, match="before the start of the storage"):
        Tensor.from_pointer(1 << 52, (4,), "float32", strides=(-1,))
    with pytest.raises(ArgumentError, match="strides"):
        Tensor.from_pointer(1 << 52, (4, 4), "float32", strides=(1,))


def test_a_device_buffer_can_be_borrowed_by_another_tensor(stream):
    with DeviceBuffer(256) as owner:
        borrowed = Tensor.from_pointer(owner.address, (64,), "float32")
        borrowed.copy_from_numpy(np.ones(64, np.float32))
        assert owner.to_numpy(np.float32).sum() == 64
        borrowed.close()
        assert not owner.closed
