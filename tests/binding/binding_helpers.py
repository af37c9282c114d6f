"""Helpers of the binding tier: SoC profiles, thread ranks and reusable HCCL communicators.

Everything here goes through aclnn_py only, so the tier runs unchanged on an Ascend host. A test
that needs a SoC profile or more devices than the host has is skipped with the reason.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest

import aclnn_py
from aclnn_py import hccl
from aclnn_py.runtime import device_count
from aclnn_py.spec import soc as socs
from aclnn_py.testing import mock_soc, soc_unavailable
from aclnn_py.testing.soc import current


def _profile(name: str | None) -> str | None:
    try:
        return None if name is None else socs.profile(name)
    except ValueError:
        return None


@contextmanager
def soc_profile(soc: str):
    """The enclosed code runs under the product profile of ``soc`` (A2, A3 or 950).

    When the runtime's SoC (``aclrtGetSocName``) has that profile, nothing changes. Otherwise
    the test is skipped with the reason (:func:`aclnn_py.testing.soc_unavailable`), except on
    the mock runtime, which is re-initialised under ``soc`` and restored after
    (:func:`aclnn_py.testing.mock_soc`, as the kit's ``aclnn_soc`` marker does): objects of the
    previous runtime must be released first.
    """
    reason = soc_unavailable(soc)
    if reason is not None:
        pytest.skip(reason)
    if _profile(current()) == _profile(soc):
        yield
        return
    with mock_soc(soc):
        yield


def skip_unless_profile(profiles: set[str], what: str) -> None:
    """Skip the test when the runtime's SoC has none of ``profiles`` ("A2", "A3", "950"), saying
    which SoC it is."""
    present = current()
    if _profile(present) not in profiles:
        wanted = " or ".join(sorted(profiles))
        pytest.skip(f"{what} runs on the {wanted} profile; this SoC ({present}) is {_profile(present)}")


def skip_unless_devices(count: int, what: str = "") -> None:
    """Skip the test when the host has fewer than ``count`` devices, saying so."""
    present = device_count()
    if count > present:
        pytest.skip(f"{what or f'{count} ranks'} need {count} devices; this host has {present}")


@contextmanager
def communicators(size: int):
    """The ``size`` ranks of one HCCL communicator (HcclCommInitAll over devices 0..size-1,
    through :func:`aclnn_py.hccl.init_all`), destroyed on exit; skipped with fewer devices."""
    skip_unless_devices(size)
    comms = hccl.init_all(list(range(size)))
    try:
        yield comms
    finally:
        for comm in comms:
            comm.close()


class Groups:
    """Communicators reused across tests: ``groups(size)`` gives the ranks of one communicator
    of that size (made on first use; the test is skipped with fewer devices); :meth:`close`
    destroys them all."""

    def __init__(self) -> None:
        self._comms: dict[int, list] = {}

    def __call__(self, size: int) -> list:
        if size not in self._comms:
            skip_unless_devices(size)
            self._comms[size] = hccl.init_all(list(range(size)))
        return self._comms[size]

    def close(self) -> None:
        comms, self._comms = self._comms, {}
        for ranks in comms.values():
            for comm in ranks:
                comm.close()


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
