"""Threads sharing resources (issue 15, item 1): CANN lets any number of host threads queue work on
one stream; the binding's bookkeeping (what a stream keeps alive and releases once it has passed
the work, its workspace, the plans recorded there) must give every thread right results.

Four threads issue QuantMatmulAllReduceV4 and GroupedMatmulV5 calls from NumPy inputs (device
copies queued on the stream, released with the work) on ONE stream, each synchronising it after
its calls, while four more do the same on streams of their own; every output is compared with the
golden of :mod:`aclnn_py.semantics`. Before the fix a synchronize in one thread released the device
copies and host arrays of work other threads had queued after it began: wrong outputs, and frees
the runtime refused (507004).
"""
from __future__ import annotations

import threading
import time

import numpy as np

from aclnn_py import ClosedResourceError, Device, DeviceBuffer, Event, Stream, Tensor
from aclnn_py.semantics.grouped_matmul import golden
from aclnn_py.semantics.precision import assert_close
from aclnn_py.tensor import IntArray, TensorList

from binding_helpers import (grouped_matmul_inputs, grouped_matmul_plan, skip_unless_profile,
                             threads_sharing_a_stream)

ROUNDS = 10  # per thread: the old bookkeeping failed every run with these


def test_threads_sharing_a_stream_get_right_results(stream):
    skip_unless_profile({"A2", "950"}, "QuantMatmulAllReduceV4")
    errors, wrong = threads_sharing_a_stream(stream, ROUNDS)
    assert not errors, errors[:3]
    assert not wrong, f"{len(wrong)} wrong outputs, first: {wrong[0]}"


def test_threads_closing_one_resource_free_it_once(stream):
    """Eight threads close the same resources at once: each handle is freed exactly once (before,
    two threads could both pass the registry's check and free it twice), nobody sees an error."""
    gate = threading.Barrier(8)
    errors: list[BaseException] = []
    for _ in range(10):
        members = [Tensor.from_numpy(np.ones(4, np.float32)) for _ in range(2)]
        made = [*members, DeviceBuffer(64), Event(), IntArray([1, 2]), TensorList(members), Stream()]

        def close_all() -> None:
            try:
                gate.wait()
                for resource in made:
                    resource.close()
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=close_all) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert not errors, errors[:3]
        assert all(resource.closed for resource in made)


def test_threads_executing_one_plan_on_one_stream(stream):
    """Four threads execute one repeatable plan on a shared stream and synchronise it while a fifth
    closes the plan: executions before the close run, later ones are refused, and the executor
    is freed once the stream has passed the last of them."""
    x, w, group_list = grouped_matmul_inputs(np.random.default_rng(3))
    plan = grouped_matmul_plan(x, w, group_list)
    expected = golden.grouped_matmul([x], [w], group_list=group_list, split_item=3, group_type=0)[0]
    ran, refused, errors = [], [], []
    gate = threading.Barrier(5)

    def execute() -> None:
        with Device(0):
            gate.wait()
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:  # until the plan is closed
                try:
                    plan.execute(stream)
                except ClosedResourceError:
                    refused.append(1)
                    return
                except BaseException as exc:  # reported below
                    errors.append(exc)
                    return
                ran.append(1)
                if len(ran) % 8 == 0:
                    stream.synchronize()

    def close() -> None:
        gate.wait()
        while len(ran) < 20:
            time.sleep(0.001)
        plan.close()

    threads = [threading.Thread(target=execute) for _ in range(4)] + [threading.Thread(target=close)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    stream.synchronize()
    assert not errors, errors[:3]
    assert len(ran) >= 20 and len(refused) == 4
    assert_close(plan.out[0].to_numpy(), expected, "float16")
    assert plan.closed
    plan.out[0].close()
