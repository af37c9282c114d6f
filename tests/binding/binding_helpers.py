"""Helpers of the QuantMatmulAllReduce tests: thread ranks, mock HCCL communicators, SoC switching."""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager

os.environ.setdefault("ACLNN_PY_BACKEND", "mock")
os.environ.setdefault("HCCL_EXEC_TIMEOUT", "20")
os.environ.setdefault("HCCL_CONNECT_TIMEOUT", "20")

import aclnn_py  # noqa: E402
from aclnn_py import hccl  # noqa: E402
from conftest import reinit_mock  # noqa: E402
from aclnn_py._ffi import ffi  # noqa: E402


@contextmanager
def communicators(size: int):
    """The ``size`` ranks of one mock HCCL communicator (HcclCommInitAll over devices
    0..size-1, through :func:`aclnn_py.hccl.init_all`), destroyed on exit."""
    comms = hccl.init_all(list(range(size)))
    try:
        yield comms
    finally:
        for comm in comms:
            comm.close()


class Groups:
    """Communicators reused across tests: ``groups(size)`` gives the ranks of one communicator
    of that size (made on first use); :meth:`close` destroys them all."""

    def __init__(self) -> None:
        self._comms: dict[int, list] = {}

    def __call__(self, size: int) -> list:
        if size not in self._comms:
            self._comms[size] = hccl.init_all(list(range(size)))
        return self._comms[size]

    def close(self) -> None:
        comms, self._comms = self._comms, {}
        for ranks in comms.values():
            for comm in ranks:
                comm.close()


def ensure_init() -> None:
    lib = aclnn_py.lib
    status = lib.aclInit(ffi.NULL)
    if status not in (0, lib.ACL_ERROR_REPEAT_INITIALIZE):
        raise aclnn_py.AclError(status, "aclInit")


@contextmanager
def mock_soc(soc: str, devices: int | None = None):
    """Re-initialise the mock runtime with ACLNN_MOCK_SOC=soc (aclFinalize + aclInit) and, when
    given, ACLNN_MOCK_DEVICE_COUNT=devices; then restore both."""
    old, old_count = os.environ.get("ACLNN_MOCK_SOC"), os.environ.get("ACLNN_MOCK_DEVICE_COUNT")
    if devices is not None:
        os.environ["ACLNN_MOCK_DEVICE_COUNT"] = str(devices)
    reinit_mock(soc)
    try:
        yield
    finally:
        if old_count is None:
            os.environ.pop("ACLNN_MOCK_DEVICE_COUNT", None)
        else:
            os.environ["ACLNN_MOCK_DEVICE_COUNT"] = old_count
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
