"""Threads sharing a stream, counted in the mock (issue 15, item 1): the binding-tier workload
(tests/binding/test_threads.py) leaves no device allocation, aclTensor or tensor list behind --
what ``aclFinalize`` reports as leaks under ACLNN_MOCK_STRICT=1 -- and a stream's workspace grows
without waiting for the device, its old buffer freed only once the stream has passed the work
that may use it; a failed synchronisation releases nothing."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import aclnn_py
from aclnn_py import AclError, Device, DeviceBuffer, ffi
from aclnn_py.ops import trans_quant_param_v2
from aclnn_py.semantics.quant_params import trans_quant_param
from mock_runtime.core import objects
from mock_runtime.core import runtime as mock_rt
from mock_runtime.core.memory import table

from binding_helpers import threads_sharing_a_stream


def live() -> tuple[int, int, int]:
    """The mock's live aclTensors, aclTensorLists and device allocations."""
    return len(objects.tensors.live()), len(objects.tensor_lists.live()), len(table.live())


def test_threads_sharing_a_stream_leave_nothing_behind(stream):
    stream.workspace(1)  # the stream's own workspace is not what this test counts
    before = live()
    errors, wrong = threads_sharing_a_stream(stream, 4)
    assert not errors and not wrong, (errors[:3], wrong[:1])
    assert live() == before


def test_the_workspace_grows_without_waiting_and_frees_the_old_buffer_after_the_work(stream):
    small = int(ffi.cast("uintptr_t", stream.workspace(64)))
    gate = threading.Event()
    mock_rt.stream(int(ffi.cast("uintptr_t", stream.handle))).submit("gate", gate.wait)  # queued work
    data = DeviceBuffer.from_numpy(np.arange(16, dtype=np.int32))
    data.copy_from_host(np.zeros(16, np.int32), stream=stream)  # waits behind the gate
    grown: list[int] = []

    def grow() -> None:
        with Device(0):
            grown.append(int(ffi.cast("uintptr_t", stream.workspace(4096))))

    thread = threading.Thread(target=grow, daemon=True)
    thread.start()
    thread.join(10)
    try:
        assert grown, "growing the workspace waited for the queued work"  # it synchronised, before
        assert grown[0] != small
        assert small in {a.base for a in table.live()}  # queued work may still use the old buffer
    finally:
        gate.set()
    stream.synchronize()
    assert small not in {a.base for a in table.live()}  # passed: released
    np.testing.assert_array_equal(data.to_numpy(np.int32), np.zeros(16, np.int32))
    data.close()


def test_a_failed_synchronize_releases_nothing(stream):
    """A synchronisation that fails (here its timeout) does not know the work is done: what was
    registered stays held -- the host array a queued copy reads, the device copy an operator
    function made -- until a later one succeeds."""
    stream.workspace(1)
    before = live()
    gate = threading.Event()
    mock_rt.stream(int(ffi.cast("uintptr_t", stream.handle))).submit("gate", gate.wait)
    target = DeviceBuffer(64)
    target.copy_from_host(np.arange(16, dtype=np.int32), stream=stream)  # the array: only the stream holds it
    packed = trans_quant_param_v2(np.ones(4, np.float32), stream=stream)  # its float32 copy: released later
    with pytest.raises(AclError) as info:
        stream.synchronize(timeout_ms=10)
    assert info.value.code == aclnn_py.lib.ACL_ERROR_RT_STREAM_SYNC_TIMEOUT
    assert live()[2] == before[2] + 3  # target, the copy of the scales, the output
    gate.set()
    stream.synchronize()
    assert live()[2] == before[2] + 2  # the copy is released now
    np.testing.assert_array_equal(target.to_numpy(np.int32), np.arange(16, dtype=np.int32))
    np.testing.assert_array_equal(packed.to_numpy(), trans_quant_param(np.ones(4, np.float32)))
    target.close()
    packed.close()
    assert live() == before
