"""A communicator's work on a stream of another device is refused at the call (issue 15, item 10):
before the fix, ``quant_matmul_all_reduce_v4(..., group=comms[0], stream=<a stream of device 1>)``
ran silently as rank 1 and timed out waiting for rank 0. Every binding function and plan taking a
communicator raises :class:`aclnn_py.ArgumentError` naming both devices, before any C call."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from aclnn_py import ArgumentError, Context, DeviceBuffer, Stream
from aclnn_py.ops import (QuantMatmulAllReducePlan, QuantMatmulAllReduceV4Plan, quant_matmul_all_reduce,
                          quant_matmul_all_reduce_v2, quant_matmul_all_reduce_v3, quant_matmul_all_reduce_v4)

from binding_helpers import communicators, skip_unless_profile

MISMATCH = (r"stream: a stream of device 1 cannot carry the work of hccl\.Communicator .*of device 0, which "
            r"belongs to device 0: queue it on a stream created on device 0")


def on_device_1(fn):
    """``fn(stream)`` on a thread whose current context is on device 1, with a stream made there;
    returns what it returned (or raises what it raised)."""
    outcome: dict = {}

    def body():
        try:
            with Context(1), Stream() as stream:
                assert stream.device == 1
                outcome["value"] = fn(stream)
        except BaseException as exc:  # re-raised on the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=body)
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "the call hung: it was not refused before C"
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def test_stream_records_its_device(stream):
    assert stream.device == 0


def test_operators_and_plans_refuse_a_stream_of_another_device(device):
    skip_unless_profile({"A2", "950"}, "QuantMatmulAllReduce")
    rng = np.random.default_rng(0)
    x1 = rng.integers(-8, 8, (8, 32)).astype(np.int8)
    x2 = rng.integers(-8, 8, (32, 16)).astype(np.int8)
    scale, token_scale = np.ones(16, np.float32), np.ones(8, np.float32)
    with communicators(2) as comms:
        group = comms[0]  # rank 0, on device 0
        calls = [
            lambda s: quant_matmul_all_reduce_v4(x1, x2, scale, x1_scale=token_scale, group=group, stream=s,
                                                 out_dtype="float16"),
            lambda s: quant_matmul_all_reduce_v3(x1, x2, scale, pertoken_scale=token_scale, group=group, stream=s),
            lambda s: quant_matmul_all_reduce_v2(x1, x2, scale, pertoken_scale=token_scale, group=group, stream=s),
            lambda s: quant_matmul_all_reduce(x1, x2, scale.astype("uint64"), group=group, stream=s),
            lambda s: QuantMatmulAllReduceV4Plan(x1, x2, scale, x1_scale=token_scale, group=group, stream=s,
                                                 out_dtype="float16"),
        ]
        for call in calls:
            with pytest.raises(ArgumentError, match=MISMATCH):
                on_device_1(call)
        plan = QuantMatmulAllReducePlan(x1, x2, scale.astype("uint64"), group=group)  # no stream yet: accepted
        try:
            with pytest.raises(ArgumentError, match=MISMATCH):
                on_device_1(plan.execute)
        finally:
            plan.close()
            plan.out.close()


def test_collectives_refuse_a_stream_of_another_device(device):
    with communicators(2) as comms:
        buffer = DeviceBuffer.from_numpy(np.ones(4, np.float32))
        try:
            for collective in (lambda s: comms[0].all_reduce(buffer, buffer, 4, np.float32, "sum", s),
                               lambda s: comms[0].all_gather(buffer, buffer, 2, np.float32, s),
                               lambda s: comms[0].broadcast(buffer, 4, np.float32, 0, s),
                               lambda s: comms[0].barrier(s)):
                with pytest.raises(ArgumentError, match=MISMATCH):
                    on_device_1(collective)
            with pytest.raises(ArgumentError, match=r"None is the default stream of the calling thread's device 1, "
                                                    r"which cannot carry the work of hccl\.Communicator .*of "
                                                    r"device 0"):
                on_device_1(lambda s: comms[0].barrier(None))
        finally:
            buffer.close()
