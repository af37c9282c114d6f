"""A closed resource refuses every use (issue 15, item 9): like a closed Python file, it raises
:class:`aclnn_py.ClosedResourceError` (a ``ValueError``) naming the object before any C call --
before the fix a closed tensor's ``to_numpy`` reached ``aclrtMemcpy`` with the freed address. One
test per resource class; passing a closed resource to an operator or to another resource is
refused the same way. ``closed`` and the idempotent ``close()`` keep working, and so does what
needs no handle (a tensor's shape, a buffer's size)."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

import aclnn_py
from aclnn_py import ClosedResourceError, Context, Device, DeviceBuffer, Event, Stream, Tensor
from aclnn_py.ops import GroupedMatmulV5Plan, grouped_matmul_v5, quant_matmul_all_reduce_v4, trans_quant_param_v2
from aclnn_py.tensor import IntArray, TensorList

from binding_helpers import communicators, grouped_matmul_inputs, skip_unless_profile


def refused(name: str):
    """``pytest.raises`` of the closed-resource error naming ``name``."""
    return pytest.raises(ClosedResourceError, match=f"^{name}.* is closed: it cannot be used after close")


def test_the_error_is_a_value_error_that_pickles():
    error = ClosedResourceError("Tensor(shape=[2])")
    assert isinstance(error, ValueError) and error.resource == "Tensor(shape=[2])"
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is ClosedResourceError and str(copy) == str(error)


def test_tensor(stream):
    t = Tensor.from_numpy(np.arange(6, dtype=np.float32).reshape(2, 3))
    t.close()
    t.close()  # idempotent
    assert t.closed
    for use in (lambda: t.to_numpy(), lambda: t.copy_from_numpy(np.zeros((2, 3), np.float32)),
                lambda: t.handle, lambda: t.view((3,), (1,)), lambda: t.T, lambda: t.refresh()):
        with refused(r"Tensor\(shape=\[2, 3\], dtype=FLOAT"):
            use()
    assert t.shape == (2, 3) and t.dtype == aclnn_py.DataType.ACL_FLOAT  # metadata needs no handle
    assert t.buffer.closed  # it owned its buffer


def test_tensor_over_a_closed_buffer(device):
    buffer = DeviceBuffer(64)
    t = Tensor(buffer, (4,), "float32")
    buffer.close()
    with refused("DeviceBuffer of 64 bytes"):
        t.to_numpy()  # the tensor is open, the memory it describes is not
    with refused("DeviceBuffer of 64 bytes"):
        Tensor(buffer, (4,), "float32")
    t.close()


def test_device_buffer(stream):
    buffer = DeviceBuffer.from_numpy(np.arange(4, dtype=np.int32))
    other = DeviceBuffer(16)
    buffer.close()
    for use in (lambda: buffer.ptr, lambda: buffer.address, lambda: buffer.handle, lambda: buffer.to_numpy(),
                lambda: buffer.copy_from_host(np.zeros(4, np.int32)),
                lambda: buffer.copy_to_host(np.zeros(4, np.int32)), lambda: buffer.memset(0),
                lambda: buffer.copy_from(other), lambda: other.copy_from(buffer, stream=stream)):
        with refused("DeviceBuffer of 16 bytes at 0x"):
            use()
    assert buffer.nbytes == 16
    other.close()


def test_stream(device):
    stream = Stream()
    event = Event()
    stream.close()
    stream.close()  # idempotent
    assert stream.closed
    buffer = DeviceBuffer(16)
    for use in (lambda: stream.synchronize(), lambda: stream.synchronize(100), lambda: stream.workspace(64),
                lambda: stream.wait_event(event), lambda: stream.keep(buffer), lambda: stream.handle,
                lambda: event.record(stream), lambda: buffer.copy_from_host(np.zeros(4, np.int32), stream=stream),
                lambda: buffer.memset(0, stream=stream), lambda: Tensor.from_numpy(np.ones(2, np.float32), stream=stream),
                lambda: DeviceBuffer.from_numpy(np.ones(2, np.float32), stream=stream)):
        with refused("Stream of device 0"):
            use()
    kept = DeviceBuffer(8)
    stream.release(kept)  # nothing can be queued on a destroyed stream: closed at once
    assert kept.closed
    buffer.close()
    event.close()


def test_event(stream):
    event, end = Event(), Event()
    end.record(stream)
    event.close()
    for use in (lambda: event.record(stream), lambda: event.synchronize(), lambda: event.elapsed_ms(end),
                lambda: end.elapsed_ms(event), lambda: stream.wait_event(event), lambda: event.handle):
        with refused("Event"):
            use()
    stream.synchronize()
    end.close()


def test_context_and_device(runtime):
    device = Device(0)
    context = Context(0)
    context.close()
    with refused("Context of device 0"):
        context.make_current()
    with refused("Context of device 0"):
        context.handle
    device.use()
    device.close()
    for use in (device.use, device.synchronize):
        with refused("Device 0"):
            use()


def test_runtime(runtime):
    extra = aclnn_py.Runtime()  # already initialised: uses the runtime as it is, close() leaves it
    assert not extra.closed and extra.device_count >= 1
    extra.close()
    assert extra.closed
    with refused("Runtime"):
        extra.soc_name
    with refused("Runtime"):
        extra.device_count
    assert runtime.device_count >= 1  # the session's runtime is untouched


def test_tensor_list_and_int_array(device):
    members = [Tensor.from_numpy(np.ones(2, np.float32)) for _ in range(2)]
    tensors = TensorList(members)
    tensors.close()
    with refused("TensorList of 2 tensors"):
        tensors.handle
    members[1].close()
    with refused(r"Tensor\(shape=\[2\]"):
        TensorList(members)
    values = IntArray([1, 2, 3])
    values.close()
    with refused("IntArray of 3 values"):
        values.handle
    members[0].close()


def test_operators_refuse_closed_arguments(stream):
    x, w, group_list = grouped_matmul_inputs(np.random.default_rng(0))
    xt, wt = Tensor.from_numpy(x), Tensor.from_numpy(w)
    out = Tensor.empty((8, 8), "float16")
    wt.close()
    with refused(r"Tensor\(shape=\[3, 16, 8\]"):
        grouped_matmul_v5([xt], [wt], group_list=group_list, split_item=3, group_type=0, stream=stream)
    out.close()
    with refused(r"Tensor\(shape=\[8, 8\]"):  # an output too
        grouped_matmul_v5([xt], [w], group_list=group_list, split_item=3, group_type=0, stream=stream, out=[out])
    with refused(r"Tensor\(shape=\[8, 8\]"):
        trans_quant_param_v2(np.ones(8, np.float32), stream=stream, out=out)  # refused before its own checks
    closed_stream = Stream()
    closed_stream.close()
    with refused("Stream"):
        grouped_matmul_v5([x], [w], group_list=group_list, split_item=3, group_type=0, stream=closed_stream)
    xt.close()
    with refused(r"Tensor\(shape=\[8, 16\]"):
        grouped_matmul_v5([xt], [w], group_list=group_list, split_item=3, group_type=0, stream=stream)


def test_plan(stream):
    x, w, group_list = grouped_matmul_inputs(np.random.default_rng(1))
    memory = DeviceBuffer.from_numpy(x)
    xt = Tensor(memory, x.shape, "float16")  # closing it frees no memory queued work reads
    plan = GroupedMatmulV5Plan([xt], [w], group_list=group_list, split_item=3, group_type=0)
    plan.execute(stream)
    plan.execute(stream)  # recorded on this stream: the fast path
    xt.close()  # the executor reads it at every execution
    with refused(r"Tensor\(shape=\[8, 16\]"):
        plan.execute(stream)  # the fast path refuses it too
    stream.synchronize()
    with refused(r"Tensor\(shape=\[8, 16\]"):
        plan.execute(stream)
    plan.close()
    with refused("aclnnGroupedMatmulV5 plan"):
        plan.execute(stream)
    with refused("aclnnGroupedMatmulV5 plan"):
        plan.handle
    plan.out[0].close()
    memory.close()


def test_communicator(stream):
    skip_unless_profile({"A2", "950"}, "QuantMatmulAllReduceV4")
    with communicators(1) as (comm,):
        buffer = DeviceBuffer(16)
        x1 = np.ones((8, 32), np.int8)
        x2 = np.ones((32, 16), np.int8)
        plan = aclnn_py.ops.QuantMatmulAllReduceV4Plan(x1, x2, np.ones(16, np.float32), x1_scale=np.ones(8, np.float32),
                                                        group=comm, out_dtype="float16")
        comm.close()
        for use in (lambda: comm.name, lambda: comm.rank, lambda: comm.size, lambda: comm.handle,
                    lambda: comm.all_reduce(buffer, buffer, 4, np.float32, "sum", stream),
                    lambda: comm.all_gather(buffer, buffer, 4, np.float32, stream),
                    lambda: comm.broadcast(buffer, 4, np.float32, 0, stream), lambda: comm.barrier(stream),
                    lambda: comm.async_error(), lambda: plan.execute(stream),
                    lambda: quant_matmul_all_reduce_v4(x1, x2, np.ones(16, np.float32), x1_scale=np.ones(8, np.float32),
                                                       group=comm, stream=stream, out_dtype="float16")):
            with refused("hccl.Communicator"):
                use()
        assert repr(comm) == "<hccl.Communicator (destroyed)>"
        plan.close()
        plan.out.close()
        buffer.close()


def test_header_driven_operators_refuse_closed_arguments(stream):
    """``ops.call`` (the header-driven layer) refuses a closed tensor, a tensor over a closed buffer
    and a list holding a closed tensor before any C call, as the hand-written operators do."""
    scale = Tensor.from_numpy(np.ones(8, np.float32))
    buffer = DeviceBuffer(64)
    out = Tensor(buffer, (8,), "uint64")
    assert aclnn_py.ops.call("aclnnTransQuantParamV2", scale, None, out=out, stream=stream) is out
    stream.synchronize()
    buffer.close()
    with refused("DeviceBuffer of 64 bytes"):  # the tensor is open, the memory it describes is not
        aclnn_py.ops.call("aclnnTransQuantParamV2", scale, None, out=out, stream=stream)
    out.close()
    scale.close()
    with refused(r"Tensor\(shape=\[8\], dtype=FLOAT"):
        aclnn_py.ops.call("aclnnTransQuantParamV2", scale, None, stream=stream)
    x, w, group_list = grouped_matmul_inputs(np.random.default_rng(2))
    xt = Tensor.from_numpy(x)
    xs = TensorList([xt])
    xt.close()
    with refused(r"Tensor\(shape=\[8, 16\]"):
        aclnn_py.ops.call("aclnnGroupedMatmulV5", xs, [w], group_list=group_list, split_item=3, group_type=0,
                          group_list_type=0, act_type=0, stream=stream)
    xs.close()
