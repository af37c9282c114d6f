"""The communicators of this process: a Communicator is one rank (runs collectives through its
link), behind an HcclComm handle; the operator mocks find one by name and device."""
from __future__ import annotations

import itertools
import threading
import weakref
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

import numpy as np

from mock_runtime.core.errors import C, MockError
from mock_runtime.core.handles import HandleTable
from mock_runtime.hccl.names import STREAM_CODE, fail, result_name

T = TypeVar("T")


class Communicator:
    """One rank of a communicator, in this process."""

    def __init__(self, link: Any, rank: int, size: int, name: str, device: int, timeout: float) -> None:
        self.link = link
        self.rank = rank
        self.size = size
        self.name = name
        self.device = device
        self.exec_timeout = timeout
        self.handle = 0
        self._seq = itertools.count()
        self._seq_lock = threading.Lock()
        self._pairs: dict[tuple[int, int], int] = {}
        self.async_error = C["HCCL_SUCCESS"]
        self.async_message = ""
        self.destroyed = False

    def __repr__(self) -> str:
        return f"<mock HCCL communicator {self.name!r} rank {self.rank}/{self.size} on device {self.device}>"

    def run(self, signature: str, spec: dict, payload: Any, key: int | str | None = None) -> Any:
        """Perform one collective (blocking; called from a stream task). Raises ACL runtime errors.
        ``key``: a point-to-point transfer's key (:meth:`pair_key`); else the next collective number."""
        return self.wait(self.start(signature, spec, payload, key), signature)

    def start(self, signature: str, spec: dict, payload: Any, key: int | str | None = None) -> Any:
        """Hand this rank's part to the hub; :meth:`wait` for the answer (several may be in flight)."""
        if self.destroyed:
            raise MockError(C["ACL_ERROR_RT_PARAM_INVALID"], f"communicator {self.name!r} rank {self.rank} was destroyed (HcclCommDestroy) before this task ran")
        if key is None:
            with self._seq_lock:
                key = next(self._seq)
        return self.link.submit(self.rank, key, signature, spec, payload, self.exec_timeout)

    def wait(self, fut: Any, signature: str) -> Any:
        """The answer of a :meth:`start`ed part (raises ACL runtime errors)."""
        grace = max(5.0, self.exec_timeout)
        if not fut.wait(self.exec_timeout + grace):
            self.link.fail(C["HCCL_E_TIMEOUT"], f"{signature}: no answer from the rendezvous within {self.exec_timeout + grace:g} s")
            fut.wait(1.0)
        if fut.error is None:
            return fut.result
        code, message = fut.error
        if self.async_error == C["HCCL_SUCCESS"]:
            self.async_error, self.async_message = code, message
        raise MockError(STREAM_CODE.get(code, C["ACL_ERROR_RT_INTERNAL_ERROR"]),
                        f"{result_name(code)} on rank {self.rank}: {message}")

    def pair_key(self, src: int, dst: int) -> str:
        """The key of the next transfer from rank ``src`` to rank ``dst``: each ordered pair numbers
        its transfers in the order the two ranks' streams reach them, so the n-th send of ``src``
        to ``dst`` meets the n-th receive of ``dst`` from ``src`` (as CANN pairs them)."""
        with self._seq_lock:
            n = self._pairs.get((src, dst), 0)
            self._pairs[(src, dst)] = n + 1
        return f"p2p {src}->{dst} #{n}"

    def combine(self, array: np.ndarray, what: str, reduce: Callable[[Sequence[np.ndarray]], T],
                key: Hashable) -> T:
        """``reduce(arrays)`` of every rank's ``array``, in rank order (a sequence of arrays:
        the contributions themselves in this process, the rows of a stacked array from
        another process's hub).

        Blocking: every rank calls it (from inside its stream task) with an array of the
        same shape and dtype; ``what`` names the operation for mismatch messages. Same fault
        rules as the collectives; failures raise MockError with an ACL runtime code. The
        ranks of this process that pass an equal ``key`` share one evaluation of ``reduce``
        (the first to get the arrays runs it, the others wait for it) and its result, which
        is read-only. ``reduce`` must not modify the arrays, nor a rank its ``array`` after
        the call.
        """
        arr = np.ascontiguousarray(array)
        signature = f"{what}(shape={tuple(arr.shape)}, dtype={arr.dtype})"
        return _reduce_once(self.run(signature, {"kind": "exchange"}, arr), key, reduce)

    def destroy(self, reason: str | None = None) -> None:
        """Leave the communicator (HcclCommDestroy, or ``reason`` for the other ranks' message);
        queued collectives then fail, and so do those waiting for this rank."""
        if not self.destroyed:
            self.destroyed = True
            _unregister_name(self)
            self.link.leave(self.rank, reason)


class _Once:
    """One reduction of a gathered stack: computed by one rank, awaited by the others."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None


#: id(arrays) -> key -> its reduction, while the gathered arrays live (the hub hands the same
#: object to every rank of its own process).
_reductions: dict[int, dict[Hashable, _Once]] = {}
_reductions_lock = threading.Lock()


def _reduce_once(arrays: Sequence[np.ndarray], key: Hashable, reduce: Callable[[Sequence[np.ndarray]], T]) -> T:
    ident = id(arrays)
    with _reductions_lock:
        table = _reductions.get(ident)
        if table is None:
            table = _reductions[ident] = {}
            weakref.finalize(arrays, _reductions.pop, ident, None)
        once = table.get(key)
        first = once is None
        if first:
            once = table[key] = _Once()
    if first:
        try:
            once.result = reduce(arrays)
            if isinstance(once.result, np.ndarray):
                once.result.flags.writeable = False
        except BaseException as exc:  # noqa: BLE001 -- every rank of the key raises it
            once.error = exc
        finally:
            once.done.set()
    else:
        once.done.wait()
    if once.error is not None:
        if first:
            raise once.error
        # the other ranks raise their own exception (one instance raised on several threads
        # would collect all their frames)
        error = once.error
        if isinstance(error, MockError):
            raise MockError(error.code, error.message) from error
        raise RuntimeError(f"the reduction shared with another rank failed: {error!r}") from error
    return once.result


#: The HcclComm handles of this process (aclFinalize's leak report reads them).
comms: HandleTable[Communicator] = HandleTable("HcclComm", C["HCCL_E_PARA"])
_by_name: dict[tuple[str, int], Communicator] = {}
_names_lock = threading.Lock()


def register(comm: Communicator) -> int:
    """Give ``comm`` its handle; its name must be new on its device in this process."""
    with _names_lock:
        key = (comm.name, comm.device)
        clash = key in _by_name
        if not clash:
            _by_name[key] = comm
    if clash:
        comm.destroy()  # outside the lock: destroy() takes it
        raise fail("HCCL_E_PARA", f"a communicator named {comm.name!r} already exists on device {comm.device} in this process")
    comm.handle = comms.add(comm)
    return comm.handle


def _unregister_name(comm: Communicator) -> None:
    with _names_lock:
        if _by_name.get((comm.name, comm.device)) is comm:
            del _by_name[(comm.name, comm.device)]


def find_communicator(group: str, device: int) -> Communicator:
    """The live communicator named ``group`` whose rank in this process is on ``device``."""
    with _names_lock:
        comm = _by_name.get((group, device))
        if comm is None:
            others = sorted(d for n, d in _by_name if n == group)
    if comm is not None:
        return comm
    if others:
        raise MockError(C["ACLNN_ERR_PARAM_INVALID"], f"group {group!r} has no rank on device {device} in this process (its ranks here are on devices {others})")
    raise MockError(C["ACLNN_ERR_PARAM_INVALID"], f"group {group!r} is not the name of a live HCCL communicator of this process (get it with HcclGetCommName)")


def get(handle: int, what: str = "comm") -> Communicator:
    """The communicator behind a live HcclComm handle (``what`` names it in errors)."""
    if handle == 0:
        raise fail("HCCL_E_PTR", f"{what} is NULL")
    return comms.get(handle, what)


def abandon_all(reason: str) -> None:
    """aclFinalize: every communicator of this process leaves (``reason`` tells the other ranks
    why); its handle stays in the leak report until HcclCommDestroy."""
    for comm in comms.live().values():
        comm.destroy(reason)


def destroy(handle: int) -> None:
    """HcclCommDestroy."""
    if handle == 0:
        raise fail("HCCL_E_PTR", "HcclCommDestroy: comm is NULL")
    comms.remove(handle, "HcclCommDestroy: comm").destroy()
