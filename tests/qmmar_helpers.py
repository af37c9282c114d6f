"""Helpers of the QuantMatmulAllReduceV4 tests: thread ranks, an in-process group, SoC switching."""
from __future__ import annotations

import gc
import os
import threading
from contextlib import contextmanager

import numpy as np

os.environ.setdefault("ACLNN_PY_BACKEND", "mock")
os.environ.setdefault("HCCL_EXEC_TIMEOUT", "20")
os.environ.setdefault("HCCL_CONNECT_TIMEOUT", "20")

import aclnn_py  # noqa: E402
from conftest import reinit_mock  # noqa: E402
from aclnn_py._ffi import ffi  # noqa: E402


class FakeGroup:
    """An in-process stand-in for a mock HCCL communicator (combine = reduce of the stacked
    all-gather, on every rank)."""

    registry: dict[tuple[str, int], "FakeRank"] = {}
    _ids = iter(range(1, 1 << 30))

    def __init__(self, size: int, devices=None) -> None:
        self.size = size
        self.name = f"fake_group_{next(self._ids)}"
        self.slots: list = [None] * size
        self.barrier = threading.Barrier(size, timeout=30)
        self.ranks = [FakeRank(self, r, (devices or range(size))[r]) for r in range(size)]
        for rank in self.ranks:
            FakeGroup.registry[(self.name, rank.device)] = rank

    def close(self) -> None:
        for rank in self.ranks:
            FakeGroup.registry.pop((self.name, rank.device), None)


class FakeRank:
    def __init__(self, group: FakeGroup, rank: int, device: int) -> None:
        self.group, self.rank, self.size, self.name, self.device = group, rank, group.size, group.name, device

    def combine(self, array, what, reduce, key):
        g = self.group
        g.slots[self.rank] = np.ascontiguousarray(array)
        g.barrier.wait()
        stacked = np.stack(g.slots)
        g.barrier.wait()
        return reduce(stacked)


def fake_find(group: str, device: int):
    from mock_runtime.core.errors import C, MockError

    comm = FakeGroup.registry.get((group, device))
    if comm is None:
        raise MockError(C["ACLNN_ERR_PARAM_INVALID"], f"group {group!r} is not a live communicator")
    return comm


def install_fake_hccl() -> None:
    """Route the mock operator's group lookup to :class:`FakeGroup` (same interpreter as the mock)."""
    aclnn_py.lib  # load the mock first
    import mock_runtime.ops.quant_matmul_all_reduce as op

    op.find_communicator = fake_find


def ensure_init() -> None:
    lib = aclnn_py.lib
    status = lib.aclInit(ffi.NULL)
    if status not in (0, lib.ACL_ERROR_REPEAT_INITIALIZE):
        raise aclnn_py.AclError(status, "aclInit")


@contextmanager
def mock_soc(soc: str):
    """Re-initialise the mock runtime with ACLNN_MOCK_SOC=soc (aclFinalize + aclInit), then restore."""
    old = os.environ.get("ACLNN_MOCK_SOC")
    reinit_mock(soc)
    try:
        yield
    finally:
        reinit_mock(old)


def run_ranks(size: int, fn, timeout: float = 60.0):
    """Run ``fn(rank, stream)`` on one thread per rank (device = rank); return the results in rank order.

    ``fn`` returns a callable or value; callables are called after the stream synchronised.
    """
    results: list = [None] * size
    errors: list = [None] * size

    def worker(rank: int) -> None:
        try:
            device = aclnn_py.Device(rank)  # keep: it resets the device when collected
            stream = aclnn_py.Stream()
            try:
                value = fn(rank, stream)
                stream.synchronize()
                results[rank] = value() if callable(value) else value
            finally:
                stream.close()
                device.close()
        except BaseException as exc:  # noqa: BLE001
            errors[rank] = exc

    threads = [threading.Thread(target=worker, args=(r,)) for r in range(size)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    for exc in errors:
        if exc is not None:
            raise exc
    return results
