"""The aclSet*TensorAddr family through raw cffi calls: a repeatable executor re-pointed at
new input and output buffers computes from and into them (plain calls on
aclnnTransQuantParamV2, Dynamic calls on aclnnGroupedMatmulV5's tensor lists); a NULL executor,
tensor or list is 561103, an index out of range, a member index beyond the list or an aclTensor
the executor does not use is 161002 (the message's text checked on the mock's libraries:
binding_helpers), and a refused call changes nothing."""
from __future__ import annotations

import numpy as np
import pytest

import aclnn_py
from aclnn_py import Tensor, TensorList
from aclnn_py._ffi import ffi
from aclnn_py.check import recent_message

from binding_helpers import expect_status, grouped_matmul_reference

OK, INVALID, INNER_NULLPTR = 0, 161002, 561103


def packed(scale: np.ndarray) -> np.ndarray:
    """aclnnTransQuantParamV2's documented packing without offset: float bits & 0xFFFFE000, bit 46 set."""
    bits = np.asarray(scale, np.float32).view(np.uint32).astype(np.uint64)
    return (bits & np.uint64(0xFFFFE000)) | np.uint64(1 << 46)


def raw_address(tensor: Tensor) -> int:
    out = ffi.new("void **")
    assert aclnn_py.lib.aclGetRawTensorAddr(tensor.handle, out) == OK
    return int(ffi.cast("uintptr_t", out[0]))


def repeatable(op: str, *args) -> tuple[int, object]:
    lib = aclnn_py.lib
    size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
    assert getattr(lib, f"{op}GetWorkspaceSize")(*args, size, executor) == OK, recent_message()
    assert lib.aclSetAclOpExecutorRepeatable(executor[0]) == OK
    return int(size[0]), executor[0]


def run(op: str, size: int, executor, stream) -> None:
    assert getattr(aclnn_py.lib, op)(stream.workspace(size), size, executor, stream.handle) == OK, recent_message()
    stream.synchronize()


def test_plain_calls_repoint_an_input_and_an_output(stream):
    lib = aclnn_py.lib
    first, second = np.linspace(0.5, 4, 8, dtype=np.float32), np.linspace(-3, -0.25, 8, dtype=np.float32)
    scale, out = Tensor.from_numpy(first), Tensor.empty((8,), "uint64")
    new_scale, new_out = Tensor.from_numpy(second), Tensor.empty((8,), "uint64")
    first_out = out.buffer
    op = "aclnnTransQuantParamV2"
    size, executor = repeatable(op, scale.handle, ffi.NULL, out.handle)
    try:
        run(op, size, executor, stream)
        np.testing.assert_array_equal(out.to_numpy(), packed(first))

        assert lib.aclSetInputTensorAddr(executor, 0, scale.handle, new_scale.buffer.ptr) == OK
        assert lib.aclSetOutputTensorAddr(executor, 0, out.handle, new_out.buffer.ptr) == OK
        assert raw_address(scale) == new_scale.buffer.address  # the aclTensor itself moved too
        assert raw_address(out) == new_out.buffer.address
        run(op, size, executor, stream)
        np.testing.assert_array_equal(new_out.to_numpy(), packed(second))
        np.testing.assert_array_equal(first_out.to_numpy(np.uint64, (8,)), packed(first))  # untouched

        # aclSetTensorAddr counts inputs then outputs: scale 0, offset (absent) 1, out 2
        assert lib.aclSetTensorAddr(executor, 2, out.handle, first_out.ptr) == OK
        run(op, size, executor, stream)
        np.testing.assert_array_equal(first_out.to_numpy(np.uint64, (8,)), packed(second))
    finally:
        assert lib.aclDestroyAclOpExecutor(executor) == OK
        for t in (scale, out, new_scale, new_out):
            t.close()
        first_out.close()


def test_plain_calls_refuse_bad_arguments(stream):
    lib = aclnn_py.lib
    scale, out = Tensor.from_numpy(np.ones(4, np.float32)), Tensor.empty((4,), "uint64")
    stray = Tensor.from_numpy(np.ones(4, np.float32))
    size, executor = repeatable("aclnnTransQuantParamV2", scale.handle, ffi.NULL, out.handle)
    before = raw_address(scale), raw_address(stray)
    target = stray.buffer.ptr
    try:
        cases = [
            (lambda: lib.aclSetInputTensorAddr(executor, 2, scale.handle, target), INVALID,
             "input index 2 is out of range [0, 2)"),
            (lambda: lib.aclSetOutputTensorAddr(executor, 1, out.handle, target), INVALID,
             "output index 1 is out of range [0, 1)"),
            (lambda: lib.aclSetTensorAddr(executor, 3, out.handle, target), INVALID, "tensor index 3 is out of range [0, 3)"),
            (lambda: lib.aclSetInputTensorAddr(executor, 0, stray.handle, target), INVALID,
             "is not one of the executor's inputs"),
            (lambda: lib.aclSetOutputTensorAddr(executor, 0, scale.handle, target), INVALID,
             "is not one of the executor's outputs"),
            (lambda: lib.aclSetInputTensorAddr(executor, 0, ffi.NULL, target), INNER_NULLPTR, "tensor is NULL"),
            (lambda: lib.aclSetInputTensorAddr(ffi.NULL, 0, scale.handle, target), INNER_NULLPTR,
             "executor is NULL"),
        ]
        for call, code, fragment in cases:
            expect_status(call(), code, fragment)
        assert (raw_address(scale), raw_address(stray)) == before  # a refused call changes nothing
        run("aclnnTransQuantParamV2", size, executor, stream)
        np.testing.assert_array_equal(out.to_numpy(), packed(np.ones(4, np.float32)))
    finally:
        assert lib.aclDestroyAclOpExecutor(executor) == OK
        for t in (scale, out, stray):
            t.close()


@pytest.fixture
def grouped_matmul(stream):
    """A repeatable aclnnGroupedMatmulV5 (x (6, 16) by two experts' (16, 8), one output), its
    tensors and lists; destroyed afterwards."""
    rng = np.random.default_rng(0)
    x, w = rng.integers(-4, 4, (6, 16)).astype(np.float16), rng.integers(-4, 4, (2, 16, 8)).astype(np.float16)
    t = {"x": Tensor.from_numpy(x), "w": Tensor.from_numpy(w), "gl": Tensor.from_numpy(np.array([2, 6], np.int64)),
         "out": Tensor.empty((6, 8), "float16")}
    lists = {"x": TensorList([t["x"]]), "w": TensorList([t["w"]]), "out": TensorList([t["out"]])}
    null = ffi.NULL
    size, executor = repeatable("aclnnGroupedMatmulV5", lists["x"].handle, lists["w"].handle, null, null, null,
                                null, null, null, t["gl"].handle, null, null, null, 3, 0, 0, 0, null,
                                lists["out"].handle, null, null)
    yield dict(x=x, w=w, t=t, lists=lists, size=size, executor=executor)
    assert aclnn_py.lib.aclDestroyAclOpExecutor(executor) == OK
    for resource in (*lists.values(), *t.values()):
        resource.close()


def test_dynamic_calls_repoint_list_members(stream, grouped_matmul):
    lib, lists, executor = aclnn_py.lib, grouped_matmul["lists"], grouped_matmul["executor"]
    op = "aclnnGroupedMatmulV5"
    run(op, grouped_matmul["size"], executor, stream)
    np.testing.assert_array_equal(grouped_matmul["t"]["out"].to_numpy(), grouped_matmul_reference(grouped_matmul["x"], grouped_matmul["w"], [2, 6]))

    x2 = np.arange(96, dtype=np.float16).reshape(6, 16) % 5 - 2
    new_x, new_out = Tensor.from_numpy(x2), Tensor.empty((6, 8), "float16")
    new_groups = Tensor.from_numpy(np.array([5, 6], np.int64))
    try:
        assert lib.aclSetDynamicInputTensorAddr(executor, 0, 0, lists["x"].handle, new_x.buffer.ptr) == OK
        assert lib.aclSetDynamicOutputTensorAddr(executor, 0, 0, lists["out"].handle, new_out.buffer.ptr) == OK
        # the plain call on the group list: index 8 (x, weight, six absent optionals, groupList)
        assert lib.aclSetInputTensorAddr(executor, 8, grouped_matmul["t"]["gl"].handle, new_groups.buffer.ptr) == OK
        run(op, grouped_matmul["size"], executor, stream)
        np.testing.assert_array_equal(new_out.to_numpy(), grouped_matmul_reference(x2, grouped_matmul["w"], [5, 6]))
        np.testing.assert_array_equal(grouped_matmul["t"]["out"].buffer.to_numpy(np.float16, (6, 8)),
                                      grouped_matmul_reference(grouped_matmul["x"], grouped_matmul["w"], [2, 6]))  # the old output untouched
    finally:
        for t in (new_x, new_out, new_groups):
            t.close()


def test_dynamic_calls_refuse_bad_arguments(stream, grouped_matmul):
    lib, lists, executor = aclnn_py.lib, grouped_matmul["lists"], grouped_matmul["executor"]
    target = grouped_matmul["t"]["out"].buffer.ptr
    cases = [
        (lambda: lib.aclSetDynamicInputTensorAddr(executor, 9, 0, lists["x"].handle, target), INVALID,
         "input irIndex 9 is out of range [0, 9)"),
        (lambda: lib.aclSetDynamicInputTensorAddr(executor, 0, 1, lists["x"].handle, target), INVALID,
         "relativeIndex 1 is out of the tensor list's 1 members"),
        (lambda: lib.aclSetDynamicOutputTensorAddr(executor, 0, 0, lists["x"].handle, target), INVALID,
         "is not one of the executor's outputs"),
        (lambda: lib.aclSetDynamicTensorAddr(executor, 0, 0, ffi.NULL, target), INNER_NULLPTR, "tensors is NULL"),
        (lambda: lib.aclSetDynamicInputTensorAddr(ffi.NULL, 0, 0, lists["x"].handle, target), INNER_NULLPTR,
         "executor is NULL"),
    ]
    for call, code, fragment in cases:
        expect_status(call(), code, fragment)
    run("aclnnGroupedMatmulV5", grouped_matmul["size"], executor, stream)  # still pointing where it was
    np.testing.assert_array_equal(grouped_matmul["t"]["out"].to_numpy(), grouped_matmul_reference(grouped_matmul["x"], grouped_matmul["w"], [2, 6]))
