"""HCCL in the mock: communicators, rendezvous and stream-ordered collectives.

What this module models
-----------------------
A *communicator* is a set of ``size`` ranks. Each rank of the calling process
is a :class:`Communicator` object (behind an ``HcclComm`` handle) bound to one
device. All ranks of one communicator meet at a :class:`Hub` that lives in one
process (the *root* process: the one that called ``HcclGetRootInfo``, or the
process of rank 0 for a rank table). Ranks in the root process talk to the hub
directly (threads, ``threading`` primitives); ranks in other processes talk to
it over TCP on 127.0.0.1. ``HcclCommInitAll`` builds a hub with every rank in
the calling process.

Every collective is queued on the caller's stream and performed when the
stream reaches it. Each rank numbers its collectives in the order its streams
execute them (``HcclAllReduce``, ``HcclAllGather``, ``HcclBroadcast``,
``HcclBarrier`` and :meth:`Communicator.exchange` share one counter). The hub
matches contributions by that number and checks that every rank called the
same thing (function, counts, dtype, op, root); the result is computed once,
by the hub, from the contributions in rank order 0..size-1, so results are
deterministic and identical on every rank.

Numerics of HcclAllReduce
-------------------------
* Reduction order: rank 0, then 1, 2, ... (a left fold), on every rank.
* FP16 and BFP16: decoded to float32, reduced (SUM, PROD, MAX, MIN) in
  float32, rounded once to the type (round to nearest even).
* FP32 and FP64 reduce in their own type.
* Integer types (INT8/16/32/64, UINT8/16/32/64) reduce in their own type and
  **wrap** on overflow (two's complement / modulo 2**bits), as NumPy does.
* MAX/MIN of floats propagate NaN.
* INT128, HIF8, FP8E4M3, FP8E5M2 and FP8E8M0 are rejected by HcclAllReduce
  with HCCL_E_NOT_SUPPORT (a message says so); HcclAllGather and
  HcclBroadcast move their bytes like any other type (INT128 = 16 bytes,
  the 8-bit float formats = 1 byte).

Environment (read when a communicator is created)
-------------------------------------------------
* ``HCCL_CONNECT_TIMEOUT``: seconds the ranks wait for each other while a
  communicator forms (HcclCommInitRootInfo*, HcclCommInitClusterInfo*).
  Mock default 120 s (CANN's default is 120 s as well).
* ``HCCL_EXEC_TIMEOUT``: seconds a collective waits for the other ranks,
  counted from the first rank's arrival. Mock default 120 s (CANN's is
  1836 s). ``HcclCommConfig.hcclExecTimeOut`` (when not -1) overrides it for
  that communicator. Both accept fractional seconds; values must be > 0.

Faults, and how they surface
----------------------------
Membership mistakes fail at once, never by timeout: a rank id joined twice,
or one device serving two ranks of one communicator in one process (two rank
threads that both set device 0), fails the rendezvous of every rank with
HCCL_E_PARA and a message naming the rank or device and both callers (process
and device). A rank id joined after the communicator formed gets HCCL_E_PARA
naming who holds it. Ranks in different processes may use the same device id
(each process may see its own physical device as device 0, e.g. with
ASCEND_RT_VISIBLE_DEVICES). A communicator still alive at aclFinalize is in
its leak report (an error under ACLNN_MOCK_STRICT=1).

A rank that does not join within HCCL_CONNECT_TIMEOUT fails the whole
rendezvous (every waiting rank gets HCCL_E_TIMEOUT naming the missing ranks).
A rank that does not arrive at a collective within HCCL_EXEC_TIMEOUT, a rank
whose process dies (its socket closes), a rank that destroys its communicator
while others still need it, and a rank that calls a different collective (or
count, dtype, op, root) at the same position all fail every participant, with
a message naming what went wrong. A failure is sticky: every later collective
of that communicator fails at once with the same message (as with CANN, the
communicator must be destroyed and rebuilt). In a stream task the failure is
raised as an ACL runtime error, so ``aclrtSynchronizeStream`` returns it:

==================  ============================  ====================
HcclResult          meaning                       stream error
==================  ============================  ====================
HCCL_E_TIMEOUT      a rank did not arrive          ACL_ERROR_RT_TASK_TIMEOUT
HCCL_E_PARA         mismatched collectives         ACL_ERROR_RT_PARAM_INVALID
HCCL_E_REMOTE       a rank died / left             ACL_ERROR_RT_INTERNAL_ERROR
others              transport failures             ACL_ERROR_RT_INTERNAL_ERROR
==================  ============================  ====================

and ``HcclGetCommAsyncError`` returns the HcclResult (sticky, not cleared
by reading).

HcclRootInfo layout (4108 bytes, little-endian unless noted)
------------------------------------------------------------
===========  ======  ==========================================================
offset       size    field
===========  ======  ==========================================================
0            8       magic ``b"MOCKHCCL"``
8            4       layout version, 1
12           4       kind, 1 (HcclGetRootInfo)
16           16      communicator id (random)
32           32      token (``secrets.token_bytes``); a joiner must present it
64           4       IPv4 address of the rendezvous, network order (127.0.0.1)
68           2       TCP port of the rendezvous, network order
70           2       reserved, 0
72           4       pid of the root process
76           4       reserved, 0
80           48      text ``"mock-hccl 127.0.0.1:<port>"``, NUL padded
128          3980    zero
===========  ======  ==========================================================

Rank tables (HcclCommInitClusterInfo[Config])
---------------------------------------------
CANN's rank table JSON, ``"version": "1.0"`` (``"1.2"`` is read the same way,
extra keys ignored): ``server_list`` with exactly one server (the mock runs
every rank on this host), whose ``device`` list has ``device_id`` and
``rank_id`` per rank (strings or integers); rank ids must be 0..n-1;
``server_count`` and ``status`` are checked when present (``"completed"``).
The communicator id, token and rendezvous port are derived from a SHA-256 of
the file's absolute path and contents (port in 20000..29999); rank 0's
process hosts the rendezvous there. Anyone who can read the file can join.

Config capabilities
-------------------
``HcclGetCommConfigCapability`` returns 9: every field up to
``hcclExecTimeOut`` (capabilities 0..8) is read and checked. The name
(``hcclCommName``) and ``hcclExecTimeOut`` take effect; the mock is always
deterministic; buffer size, op expansion mode, world rank id, job id and
graph zero-copy have nothing to act on in a mock. Fields after
``hcclCommName`` are read only from a version >= 10 config of >= 2240 bytes.

For the operator mocks
----------------------
:func:`find_communicator` (by communicator name = the ``group`` string and
device) and :meth:`Communicator.exchange` (a blocking all-gather of one NumPy
array per rank, returning ``np.stack`` in rank order, called from inside a
stream task) use the same machinery and the same fault rules.
"""
from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import math
import os
import secrets
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import ml_dtypes
import numpy as np

from aclnn_py.spec import dtypes
from aclnn_py.spec.headers import load

from mock_runtime.core import races
from mock_runtime.core import reentry
from mock_runtime.core import runtime as rt
from mock_runtime.core.errors import C, MockError
from mock_runtime.core.handles import HandleTable
from mock_runtime.core.memory import table as memory

ROOT_INFO_BYTES = C["HCCL_ROOT_INFO_BYTES"]
COMM_NAME_MAX = C["COMM_NAME_MAX_LENGTH"]
MAGIC = b"MOCKHCCL"
LAYOUT_VERSION = 1
KIND_ROOT_INFO = 1
DEFAULT_CONNECT_TIMEOUT = 120.0
DEFAULT_EXEC_TIMEOUT = 120.0
CAPABILITY = 9
LOOPBACK = "127.0.0.1"
RANK_TABLE_PORTS = (20000, 10000)  # base, span

_ENUMS = load().enums
RESULT_NAMES = {v: k for k, v in _ENUMS["HcclResult"].items()}
OP_NAMES = {v: k.removeprefix("HCCL_REDUCE_") for k, v in _ENUMS["HcclReduceOp"].items() if v != 255}

#: The HcclDataTypes HcclAllReduce reduces (their host dtypes come from the dtype table).
REDUCIBLE = frozenset(C[f"HCCL_DATA_TYPE_{n}"] for n in (
    "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64", "FP16", "BFP16", "FP32", "FP64"))
_WIDENED = {C["HCCL_DATA_TYPE_FP16"], C["HCCL_DATA_TYPE_BFP16"]}
_UFUNCS = {
    C["HCCL_REDUCE_SUM"]: np.add, C["HCCL_REDUCE_PROD"]: np.multiply,
    C["HCCL_REDUCE_MAX"]: np.maximum, C["HCCL_REDUCE_MIN"]: np.minimum,
}

#: HcclResult of a failure -> the ACL runtime error its stream task reports.
_STREAM_CODE = {
    C["HCCL_E_TIMEOUT"]: C["ACL_ERROR_RT_TASK_TIMEOUT"],
    C["HCCL_E_PARA"]: C["ACL_ERROR_RT_PARAM_INVALID"],
}

ERROR_TEXT = {
    C["HCCL_SUCCESS"]: "success",
    C["HCCL_E_PARA"]: "parameter error",
    C["HCCL_E_PTR"]: "empty (NULL) pointer",
    C["HCCL_E_MEMORY"]: "memory error",
    C["HCCL_E_INTERNAL"]: "internal error",
    C["HCCL_E_NOT_SUPPORT"]: "feature not supported",
    C["HCCL_E_NOT_FOUND"]: "resource not found",
    C["HCCL_E_UNAVAIL"]: "resource unavailable",
    C["HCCL_E_SYSCALL"]: "system call error",
    C["HCCL_E_TIMEOUT"]: "timeout",
    C["HCCL_E_OPEN_FILE_FAILURE"]: "failed to open file",
    C["HCCL_E_TCP_CONNECT"]: "TCP connection failed",
    C["HCCL_E_ROCE_CONNECT"]: "RoCE connection failed",
    C["HCCL_E_TCP_TRANSFER"]: "TCP transfer failed",
    C["HCCL_E_ROCE_TRANSFER"]: "RoCE transfer failed",
    C["HCCL_E_RUNTIME"]: "runtime (ACL) call failed",
    C["HCCL_E_DRV"]: "driver call failed",
    C["HCCL_E_PROFILING"]: "profiling error",
    C["HCCL_E_CCE"]: "CCE error",
    C["HCCL_E_NETWORK"]: "network error",
    C["HCCL_E_AGAIN"]: "try again",
    C["HCCL_E_REMOTE"]: "error on a remote rank",
    C["HCCL_E_SUSPENDING"]: "communicator is suspending",
    C["HCCL_E_OPRETRY_FAIL"]: "operation retry failed",
    C["HCCL_E_OOM"]: "out of memory",
    C["HCCL_E_IN_STATUS"]: "operation not allowed in the current status",
}


def error_text(code: int) -> str:
    """Short English text of an HcclResult (also for values no header names)."""
    text = ERROR_TEXT.get(code)
    if text is None:
        return f"unknown HcclResult {code}"
    return text


def result_name(code: int) -> str:
    return RESULT_NAMES.get(code, f"HcclResult {code}")


def dtype_name(value: int) -> str:
    return dtypes.hccl_label(value)


def op_name(value: int) -> str:
    return OP_NAMES.get(value, f"<unknown HcclReduceOp {value}>")


def _fail(code: str, message: str) -> MockError:
    return MockError(C[code], message)


def _env_seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not (value > 0 and math.isfinite(value)):
        raise _fail("HCCL_E_PARA", f"{name}={raw!r} must be a positive number of seconds")
    return value


def connect_timeout() -> float:
    return _env_seconds("HCCL_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT)


def exec_timeout() -> float:
    return _env_seconds("HCCL_EXEC_TIMEOUT", DEFAULT_EXEC_TIMEOUT)


def _ranks(ranks) -> str:
    return "[" + ", ".join(str(r) for r in sorted(ranks)) + "]"


# -- futures and the watchdog ---------------------------------------------------
Error = tuple  # (HcclResult, message)


class _Future:
    """One rank's wait for a hub answer."""

    __slots__ = ("_event", "result", "error")

    def __init__(self) -> None:
        self._event = threading.Event()
        self.result: Any = None
        self.error: Error | None = None

    def __call__(self, result: Any, error: Error | None) -> None:
        if not self._event.is_set():
            self.result, self.error = result, error
            self._event.set()

    def wait(self, timeout: float) -> bool:
        return self._event.wait(timeout)


class _Watchdog:
    """Runs callbacks at deadlines, on one daemon thread; entries can be cancelled."""

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._heap: list[list] = []  # [deadline, tie-break, fn or None]
        self._count = itertools.count()
        self._cancelled = 0
        self._thread: threading.Thread | None = None

    def schedule(self, delay: float, fn: Callable[[], None]) -> list:
        entry = [time.monotonic() + delay, next(self._count), fn]
        start = False
        with self._cv:
            heapq.heappush(self._heap, entry)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="mock-hccl-watchdog", daemon=True)
                start = True
            self._cv.notify()
        if start:  # not under _cv: a new thread may run a finalizer that reaches the mock
            self._thread.start()
        return entry

    def cancel(self, entry: list | None) -> None:
        if entry is None:
            return
        with self._cv:
            if entry[2] is not None:
                entry[2] = None
                self._cancelled += 1
                if self._cancelled > 256 and self._cancelled * 2 > len(self._heap):
                    self._heap = [e for e in self._heap if e[2] is not None]
                    heapq.heapify(self._heap)
                    self._cancelled = 0

    def _run(self) -> None:
        while True:
            with self._cv:
                while True:
                    now = time.monotonic()
                    if self._heap and self._heap[0][0] <= now:
                        entry = heapq.heappop(self._heap)
                        fn, entry[2] = entry[2], None
                        if fn is None:
                            self._cancelled = max(0, self._cancelled - 1)
                            continue
                        break
                    self._cv.wait(None if not self._heap else self._heap[0][0] - now)
            try:
                with reentry.inside():
                    fn()
            except Exception:  # a watchdog callback must never stop the watchdog
                pass


_watchdog = _Watchdog()


# -- combining contributions -------------------------------------------------------
def _dtype_desc(dtype: np.dtype) -> list:
    """A JSON-able description of a NumPy dtype (ml_dtypes types by name)."""
    extra = getattr(ml_dtypes, dtype.name, None)
    if extra is not None and dtype.kind == "V" and np.dtype(extra) == dtype:
        return ["ml", dtype.name]
    return ["np", dtype.str]


def _dtype_of(desc: list) -> np.dtype:
    kind, text = desc
    if kind == "ml":
        return np.dtype(getattr(ml_dtypes, text))
    return np.dtype(text)


def _host(hccl_dtype: int) -> np.dtype:
    """The NumPy dtype of a reducible HcclDataType (from the dtype table)."""
    return dtypes.from_hccl(hccl_dtype).host


def reduce_arrays(parts: list[np.ndarray], hccl_dtype: int, op: int) -> np.ndarray:
    """Reduce ``parts`` (one per rank, rank order) as HcclAllReduce does: a fresh array."""
    target = _host(hccl_dtype)
    compute = np.dtype(np.float32) if hccl_dtype in _WIDENED else target
    ufunc = _UFUNCS[op]
    acc = parts[0].astype(compute, copy=True)
    for part in parts[1:]:
        ufunc(acc, part if part.dtype == compute else part.astype(compute), out=acc)
    return acc.astype(target) if compute != target else acc


def _combine(spec: dict, parts: list) -> np.ndarray | None:
    """The result every rank receives (never a view of a contribution)."""
    kind = spec["kind"]
    if kind == "barrier":
        return None
    if kind == "broadcast":
        return np.array(parts[spec["root"]], copy=True)
    if kind == "allgather":
        return np.concatenate(parts)
    if kind == "exchange":
        return np.stack(parts)
    if kind == "allreduce":
        return reduce_arrays(parts, spec["dtype"], spec["op"])
    raise ValueError(f"unknown collective kind {kind!r}")


# -- the hub: where the ranks of one communicator meet ------------------------------
@dataclass
class _Slot:
    signature: str
    first_rank: int
    spec: dict
    deadline: list | None = None
    parts: dict = field(default_factory=dict)  # rank -> payload
    waiters: dict = field(default_factory=dict)  # rank -> callback(result, error)


@dataclass
class _Joiner:
    name: str
    pid: int
    device: int  # -1 when unknown
    done: Callable[[Any, Error | None], None]

    def where(self) -> str:
        return f"process {self.pid}" + (f" device {self.device}" if self.device >= 0 else "")


class Hub:
    """Rendezvous and collective matching for one communicator.

    Every entry point takes a callback ``done(result, error)`` that is called
    exactly once (on some thread), so local ranks and TCP sessions share it.
    """

    def __init__(self, comm_id: bytes, token: bytes, default_name: str, origin: str) -> None:
        self.comm_id = comm_id
        self.token = token
        self.default_name = default_name
        self.origin = origin  # "HcclCommInitRootInfo", "HcclCommInitClusterInfo", ...
        self._lock = threading.Lock()
        self.n_ranks: int | None = None
        self._n_ranks_from = -1
        self._joiners: dict[int, _Joiner] = {}
        self._join_deadlines: list = []
        self.formed = False
        self.name: str | None = None
        self.pids: dict[int, int] = {}
        self.members: dict[int, _Joiner] = {}  # who each rank is, once formed
        self.error: Error | None = None
        self._slots: dict[int, _Slot] = {}
        self._left: set[int] = set()

    # rendezvous ------------------------------------------------------------------
    def join(self, rank: int, n_ranks: int, name: str, pid: int, device: int, timeout: float,
             done: Callable[[Any, Error | None], None]) -> None:
        """Rank ``rank`` (of process ``pid``, on ``device``) asks to join. A rank id taken
        twice, or one device of one process serving two ranks, fails the rendezvous of every
        rank at once (HCCL_E_PARA) instead of leaving the ranks to time out."""
        calls: list = []
        joiner = _Joiner(name, pid, device, done)
        with self._lock:
            twin = None if device < 0 else next(
                (r for r, j in self._joiners.items() if j.pid == pid and j.device == device), None)
            if self.error is not None:
                calls.append((done, self.error))
            elif self.formed:
                first = self.members.get(rank)
                taken = f" by {first.where()}" if first is not None else ""
                calls.append((done, (C["HCCL_E_PARA"], f"rank {rank} ({joiner.where()}) joined communicator "
                                    f"{self._label()} after it was formed: rank {rank} was already taken{taken}")))
            elif self.n_ranks is not None and n_ranks != self.n_ranks:
                self._joiners[rank] = joiner
                calls += self._fail_locked(C["HCCL_E_PARA"], f"rank {rank} passed nRanks={n_ranks} but rank {self._n_ranks_from} passed nRanks={self.n_ranks} (communicator {self._label()})")
            elif rank in self._joiners:
                first = self._joiners[rank]
                calls += self._fail_locked(C["HCCL_E_PARA"], (
                    f"rank {rank} joined communicator {self._label()} twice: first from {first.where()}, "
                    f"again from {joiner.where()} (each rank id is used by exactly one caller)"))
                calls.append((done, self.error))
            elif twin is not None:
                calls += self._fail_locked(C["HCCL_E_PARA"], (
                    f"device {device} serves two ranks of communicator {self._label()} in process {pid}: "
                    f"rank {twin} and rank {rank} (each rank needs a device of its own: call aclrtSetDevice "
                    f"with a different device in each rank's thread)"))
                calls.append((done, self.error))
            else:
                if self.n_ranks is None:
                    self.n_ranks, self._n_ranks_from = n_ranks, rank
                self._joiners[rank] = joiner
                self._join_deadlines.append(_watchdog.schedule(timeout, lambda: self._join_expired(timeout)))
                if len(self._joiners) == n_ranks:
                    calls += self._form_locked()
        _deliver(calls)

    def _form_locked(self) -> list:
        names = {j.name for j in self._joiners.values() if j.name}
        if len(names) > 1:
            detail = ", ".join(f"rank {r}: {j.name!r}" for r, j in sorted(self._joiners.items()) if j.name)
            return self._fail_locked(C["HCCL_E_PARA"], f"the ranks asked for different communicator names ({detail})")
        self.name = names.pop() if names else self.default_name
        self.pids = {r: j.pid for r, j in self._joiners.items()}
        self.members = dict(self._joiners)
        self.formed = True
        info = {"name": self.name, "pids": dict(self.pids)}
        calls = [(j.done, None, info) for j in self._joiners.values()]
        self._joiners = {}
        for entry in self._join_deadlines:
            _watchdog.cancel(entry)
        self._join_deadlines = []
        return calls

    def _join_expired(self, timeout: float) -> None:
        with self._lock:
            if self.formed or self.error is not None:
                return
            joined = set(self._joiners)
            missing = set(range(self.n_ranks or 0)) - joined
            calls = self._fail_locked(
                C["HCCL_E_TIMEOUT"],
                f"{self.origin}: rendezvous of communicator {self._label()} timed out after {timeout:g} s "
                f"(HCCL_CONNECT_TIMEOUT): rank(s) {_ranks(missing)} of {self.n_ranks} never joined "
                f"(joined: {_ranks(joined)})",
            )
        _deliver(calls)

    # collectives ------------------------------------------------------------------
    def submit(self, rank: int, seq: int, signature: str, spec: dict, payload: Any, timeout: float,
               done: Callable[[Any, Error | None], None]) -> None:
        calls: list = []
        complete: _Slot | None = None
        with self._lock:
            if self.error is not None:
                calls.append((done, self._sticky()))
            else:
                slot = self._slots.get(seq)
                if slot is None:
                    slot = self._slots[seq] = _Slot(signature, rank, spec)
                if signature != slot.signature:
                    slot.waiters[rank] = done
                    calls += self._fail_locked(
                        C["HCCL_E_PARA"],
                        f"rank {rank} called {signature} where rank {slot.first_rank} called {slot.signature} "
                        f"(collective #{seq} of communicator {self._label()})",
                    )
                else:
                    slot.parts[rank] = payload
                    slot.waiters[rank] = done
                    if len(slot.parts) == self.n_ranks:
                        complete = self._slots.pop(seq)
                    elif slot.deadline is None:
                        slot.deadline = _watchdog.schedule(timeout, lambda: self._slot_expired(seq, slot, timeout))
        _deliver(calls)
        if complete is not None:
            _watchdog.cancel(complete.deadline)
            parts = [complete.parts[r] for r in range(len(complete.parts))]
            complete.parts.clear()  # the watchdog may hold the slot until its deadline
            try:
                result = _combine(complete.spec, parts)
            except Exception as exc:  # a bug in the mock: report it, never hang the ranks
                _deliver([(cb, (C["HCCL_E_INTERNAL"], f"mock HCCL failed to combine {complete.signature}: {exc!r}"))
                          for cb in complete.waiters.values()])
                return
            # Remote ranks first: a local rank released early could end the process.
            order = sorted(complete.waiters.items(), key=lambda kv: self.pids.get(kv[0]) == os.getpid())
            _deliver([(cb, None, result) for _, cb in order])

    def _slot_expired(self, seq: int, slot: _Slot, timeout: float) -> None:
        with self._lock:
            if self._slots.get(seq) is not slot or self.error is not None:
                return
            arrived = set(slot.parts)
            missing = set(range(self.n_ranks or 0)) - arrived
            calls = self._fail_locked(
                C["HCCL_E_TIMEOUT"],
                f"{slot.signature} (collective #{seq} of communicator {self._label()}) timed out after "
                f"{timeout:g} s (HCCL_EXEC_TIMEOUT): rank(s) {_ranks(missing)} of {self.n_ranks} never arrived "
                f"(arrived: {_ranks(arrived)})",
            )
        _deliver(calls)

    # failures and departures --------------------------------------------------------
    def fail(self, code: int, message: str) -> None:
        with self._lock:
            calls = self._fail_locked(code, message)
        _deliver(calls)

    def _fail_locked(self, code: int, message: str) -> list:
        if self.error is None:
            self.error = (code, message)
        error = self.error
        calls = [(j.done, error) for j in self._joiners.values()]
        self._joiners = {}
        for slot in self._slots.values():
            calls += [(cb, error) for cb in slot.waiters.values()]
        self._slots = {}
        return calls

    def _sticky(self) -> Error:
        code, message = self.error
        return code, f"communicator {self._label()} is unusable after an earlier failure: {message}"

    def leave(self, rank: int, reason: str | None = None) -> None:
        """Rank ``rank`` destroyed its communicator (reason None) or its process is gone."""
        with self._lock:
            if rank in self._left:
                return
            self._left.add(rank)
            calls: list = []
            if not self.formed:
                calls = self._fail_locked(C["HCCL_E_REMOTE"], f"rank {rank} {reason or 'gave up'} during the rendezvous of communicator {self._label()}")
            elif reason is not None:
                calls = self._fail_locked(C["HCCL_E_REMOTE"], f"rank {rank} (process {self.pids.get(rank, '?')}) {reason}")
            else:
                # Fails only the collectives still waiting for this rank, and every later one.
                calls = self._fail_locked(C["HCCL_E_REMOTE"], f"rank {rank} destroyed its communicator (HcclCommDestroy)")
            everyone_left = self.n_ranks is not None and len(self._left) >= self.n_ranks
        _deliver(calls)
        if everyone_left:
            _forget_hub(self)

    def _label(self) -> str:
        return repr(self.name) if self.name else f"{self.comm_id.hex()[:16]}"


def _deliver(calls: list) -> None:
    for call in calls:
        if len(call) == 2:
            cb, error = call
            cb(None, error)
        else:
            cb, error, result = call
            cb(result, error)


# hubs of this process, by communicator id (the TCP server looks them up)
_hubs: dict[bytes, Hub] = {}
_hubs_lock = threading.Lock()


def _register_hub(hub: Hub) -> None:
    with _hubs_lock:
        _hubs[hub.comm_id] = hub


def _find_hub(comm_id: bytes) -> Hub | None:
    with _hubs_lock:
        return _hubs.get(comm_id)


def _forget_hub(hub: Hub) -> None:
    with _hubs_lock:
        if _hubs.get(hub.comm_id) is hub:
            del _hubs[hub.comm_id]


# -- the wire: length-prefixed JSON header + raw bytes ------------------------------
_FRAME = struct.Struct("!4sIQ")
_FRAME_MAGIC = b"MHCL"
_MAX_HEADER = 1 << 20


def _send(sock: socket.socket, lock: threading.Lock, header: dict, payload: np.ndarray | None = None) -> None:
    head = json.dumps(header).encode()
    body = b"" if payload is None else np.ascontiguousarray(payload).reshape(-1).view(np.uint8)
    with lock:
        sock.sendall(_FRAME.pack(_FRAME_MAGIC, len(head), len(body)) + head)
        if len(body):
            sock.sendall(memoryview(body))


def _recv_exact(sock: socket.socket, n: int) -> bytearray | None:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:], min(n - got, 1 << 22))
        if k == 0:
            return None
        got += k
    return buf


def _recv(sock: socket.socket, max_body: int = 1 << 40) -> tuple[dict, bytearray] | None:
    """One frame, or None at end of stream; ValueError for garbage."""
    raw = _recv_exact(sock, _FRAME.size)
    if raw is None:
        return None
    magic, head_len, body_len = _FRAME.unpack(raw)
    if magic != _FRAME_MAGIC or head_len > _MAX_HEADER or body_len > max_body:
        raise ValueError("not a mock-HCCL frame")
    head = _recv_exact(sock, head_len)
    body = _recv_exact(sock, body_len) if body_len else bytearray()
    if head is None or body is None:
        return None
    return json.loads(head.decode()), body


def _array(body: bytearray, desc: list, shape: list) -> np.ndarray:
    return np.frombuffer(body, np.uint8).view(_dtype_of(desc)).reshape(shape)


class _Server:
    """A TCP listener on 127.0.0.1 serving the hubs of this process to other processes."""

    def __init__(self, port: int = 0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((LOOPBACK, port))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, name=f"mock-hccl-server-{self.port}", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), name="mock-hccl-session", daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        send_lock = threading.Lock()
        try:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.settimeout(30.0)
            frame = _recv(conn, max_body=0)  # the join request; nothing is trusted before the token
            if frame is None:
                conn.close()
                return
            head, _ = frame
            hub = _find_hub(bytes.fromhex(head.get("comm_id", "")))
            if hub is None or head.get("op") != "join":
                _send(conn, send_lock, {"id": 0, "ok": False, "code": C["HCCL_E_PARA"], "message":
                      f"the rendezvous at {LOOPBACK}:{self.port} (process {os.getpid()}) knows no communicator "
                      f"{head.get('comm_id', '')[:16]} (root info stale, or its communicator already ended)"})
                conn.close()
                return
            if not hmac.compare_digest(bytes.fromhex(head.get("token", "")), hub.token):
                _send(conn, send_lock, {"id": 0, "ok": False, "code": C["HCCL_E_PARA"], "message":
                      f"the rendezvous at {LOOPBACK}:{self.port} rejected rank {head.get('rank')}: its root info "
                      f"carries the wrong token (not the root info HcclGetRootInfo produced, or corrupted)"})
                conn.close()
                return
            rank, n_ranks = int(head["rank"]), int(head["n_ranks"])
            name, pid = str(head.get("name", "")), int(head.get("pid", 0))
            device = int(head.get("device", -1))
            timeout = float(head.get("timeout", DEFAULT_CONNECT_TIMEOUT))
            if not 0 <= rank < n_ranks or not timeout > 0:
                conn.close()
                return
            conn.settimeout(None)
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            conn.close()
            return
        joined = threading.Event()
        rejected = threading.Event()

        def reply(request_id: int, result: Any, error: Error | None, meta: dict | None = None) -> None:
            header: dict = {"id": request_id, "ok": error is None}
            if error is not None:
                header["code"], header["message"] = error
            payload = None
            if error is None and isinstance(result, np.ndarray):
                header["dtype"], header["shape"] = _dtype_desc(result.dtype), list(result.shape)
                payload = result
            elif error is None and meta is not None:
                header.update(meta)
            try:
                _send(conn, send_lock, header, payload)
            except OSError:
                pass  # the reader below sees the closed socket and reports the rank

        def joined_cb(result: Any, error: Error | None) -> None:
            (joined if error is None else rejected).set()
            reply(0, None, error, result)

        with reentry.inside():
            hub.join(rank, n_ranks, name, pid, device, timeout, joined_cb)
        left = False
        try:
            while True:
                frame = _recv(conn)
                if frame is None:
                    break
                head, body = frame
                if head.get("op") == "leave":
                    left = True
                    with reentry.inside():
                        hub.leave(rank)
                    break
                if head.get("op") != "submit":
                    continue
                request_id = int(head["id"])
                payload = _array(body, head["dtype"], head["shape"]) if head.get("dtype") else None
                with reentry.inside():
                    hub.submit(rank, int(head["seq"]), head["signature"], head["spec"], payload,
                               float(head["timeout"]), lambda r, e, i=request_id: reply(i, r, e))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass
        finally:
            if not left and not rejected.is_set():
                what = "closed its connection to the rendezvous without HcclCommDestroy: its process died or exited"
                with reentry.inside():
                    hub.leave(rank, what if joined.is_set() else "lost its connection (its process died?)")
            try:
                conn.close()
            except OSError:
                pass


_server: _Server | None = None
_rank_table_servers: dict[int, _Server] = {}
_server_lock = threading.Lock()


def _process_server() -> _Server:
    global _server
    with _server_lock:
        if _server is None:
            _server = _Server()
        return _server


# -- links: how one rank reaches its hub ----------------------------------------
class _LocalLink:
    """A rank in the hub's own process."""

    remote = False

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def join(self, rank: int, n_ranks: int, name: str, device: int, timeout: float) -> dict:
        fut = _Future()
        self.hub.join(rank, n_ranks, name, os.getpid(), device, timeout, fut)
        if not fut.wait(timeout + 10.0):
            self.hub.fail(C["HCCL_E_TIMEOUT"], f"rendezvous of rank {rank} got no answer in {timeout + 10:g} s")
            fut.wait(1.0)
        if fut.error is not None:
            raise MockError(*fut.error)
        return fut.result

    def submit(self, rank: int, seq: int, signature: str, spec: dict, payload: Any, timeout: float) -> _Future:
        fut = _Future()
        self.hub.submit(rank, seq, signature, spec, payload, timeout, fut)
        return fut

    def fail(self, code: int, message: str) -> None:
        self.hub.fail(code, message)

    def leave(self, rank: int) -> None:
        self.hub.leave(rank)


class _RemoteLink:
    """A rank in another process than its hub: one TCP connection per rank."""

    remote = True

    def __init__(self, sock: socket.socket, where: str, comm_id: bytes, token: bytes, root_pid: int) -> None:
        self.sock = sock
        self.comm_id = comm_id
        self.token = token
        self.where = where
        self.root_pid = root_pid
        self._send_lock = threading.Lock()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pending: dict[int, _Future] = {}
        self._dead: Error | None = None
        self._leaving = False
        self.pids: dict[int, int] = {}

    def join(self, rank: int, n_ranks: int, name: str, device: int, timeout: float) -> dict:
        header = {"op": "join", "comm_id": self.comm_id.hex(), "token": self.token.hex(), "rank": rank,
                  "n_ranks": n_ranks, "name": name, "pid": os.getpid(), "device": device, "timeout": timeout}
        try:
            self.sock.settimeout(timeout + 10.0)
            _send(self.sock, self._send_lock, header)
            frame = _recv(self.sock)
        except socket.timeout:
            self.sock.close()
            raise _fail("HCCL_E_TIMEOUT", f"rank {rank}: the rendezvous at {self.where} did not answer within {timeout + 10:g} s") from None
        except (OSError, ValueError) as exc:
            self.sock.close()
            raise _fail("HCCL_E_TCP_TRANSFER", f"rank {rank}: connection to the rendezvous at {self.where} failed: {exc}") from None
        if frame is None:
            self.sock.close()
            raise _fail("HCCL_E_REMOTE", f"rank {rank}: the rendezvous at {self.where} (process {self.root_pid}) closed the connection: its process died?")
        head, _ = frame
        if not head.get("ok"):
            self.sock.close()
            raise MockError(int(head.get("code", C["HCCL_E_INTERNAL"])), str(head.get("message")))
        self.sock.settimeout(None)
        self.pids = {int(r): p for r, p in head.get("pids", {}).items()}
        threading.Thread(target=self._read, name="mock-hccl-client", daemon=True).start()
        return {"name": head["name"], "pids": self.pids}

    def _read(self) -> None:
        reason = None
        try:
            while True:
                frame = _recv(self.sock)
                if frame is None:
                    break
                head, body = frame
                with self._lock:
                    fut = self._pending.pop(int(head.get("id", -1)), None)
                if fut is None:
                    continue
                if head.get("ok"):
                    fut(_array(body, head["dtype"], head["shape"]) if head.get("dtype") else None, None)
                else:
                    fut(None, (int(head["code"]), str(head["message"])))
        except (OSError, ValueError, KeyError) as exc:
            reason = str(exc)
        root_ranks = sorted(r for r, p in self.pids.items() if p == self.root_pid)
        message = (f"lost the connection to the rendezvous at {self.where}: the root process (pid {self.root_pid}, "
                   f"rank(s) {_ranks(root_ranks)}) died or exited" + (f" ({reason})" if reason else ""))
        with self._lock:
            if self._leaving:
                message = "the communicator was destroyed"
            self._dead = (C["HCCL_E_REMOTE"], message)
            pending, self._pending = self._pending, {}
        for fut in pending.values():
            fut(None, self._dead)

    def submit(self, rank: int, seq: int, signature: str, spec: dict, payload: Any, timeout: float) -> _Future:
        fut = _Future()
        with self._lock:
            if self._dead is not None:
                fut(None, self._dead)
                return fut
            request_id = next(self._ids)
            self._pending[request_id] = fut
        header = {"op": "submit", "id": request_id, "seq": seq, "signature": signature, "spec": spec, "timeout": timeout}
        if isinstance(payload, np.ndarray):
            header["dtype"], header["shape"] = _dtype_desc(payload.dtype), list(payload.shape)
        try:
            _send(self.sock, self._send_lock, header, payload if isinstance(payload, np.ndarray) else None)
        except OSError as exc:
            with self._lock:
                self._pending.pop(request_id, None)
            fut(None, (C["HCCL_E_TCP_TRANSFER"], f"sending to the rendezvous at {self.where} failed: {exc}"))
        return fut

    def fail(self, code: int, message: str) -> None:
        with self._lock:
            if self._dead is None:
                self._dead = (code, message)
            pending, self._pending = self._pending, {}
        for fut in pending.values():
            fut(None, (code, message))

    def leave(self, rank: int) -> None:
        with self._lock:
            self._leaving = True
        try:
            _send(self.sock, self._send_lock, {"op": "leave"})
        except OSError:
            pass
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def _connect(host: str, port: int, comm_id: bytes, token: bytes, rank: int, deadline: float, root_pid: int):
    """A link to the hub: local if this process hosts it, else TCP (retried until ``deadline``)."""
    where = f"{host}:{port}"
    last = None
    while True:
        hub = _find_hub(comm_id)
        if hub is not None:
            if not hmac.compare_digest(hub.token, token):
                raise _fail("HCCL_E_PARA", f"rank {rank}: the root info carries the wrong token for communicator {comm_id.hex()[:16]}")
            return _LocalLink(hub)
        try:
            sock = socket.create_connection((host, port), timeout=max(0.1, min(5.0, deadline - time.monotonic())))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return _RemoteLink(sock, where, comm_id, token, root_pid)
        except OSError as exc:
            last = exc
        if time.monotonic() >= deadline:
            raise _fail("HCCL_E_TCP_CONNECT", f"rank {rank}: cannot reach the rendezvous at {where} before HCCL_CONNECT_TIMEOUT: {last}")
        time.sleep(0.05)


# -- communicators -----------------------------------------------------------------
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
        self.async_error = C["HCCL_SUCCESS"]
        self.async_message = ""
        self.destroyed = False

    def __repr__(self) -> str:
        return f"<mock HCCL communicator {self.name!r} rank {self.rank}/{self.size} on device {self.device}>"

    def run(self, signature: str, spec: dict, payload: Any) -> Any:
        """Perform one collective (blocking; called from a stream task). Raises ACL runtime errors."""
        if self.destroyed:
            raise MockError(C["ACL_ERROR_RT_PARAM_INVALID"], f"communicator {self.name!r} rank {self.rank} was destroyed (HcclCommDestroy) before this task ran")
        with self._seq_lock:
            seq = next(self._seq)
        fut = self.link.submit(self.rank, seq, signature, spec, payload, self.exec_timeout)
        grace = max(5.0, self.exec_timeout)
        if not fut.wait(self.exec_timeout + grace):
            self.link.fail(C["HCCL_E_TIMEOUT"], f"{signature}: no answer from the rendezvous within {self.exec_timeout + grace:g} s")
            fut.wait(1.0)
        if fut.error is None:
            return fut.result
        code, message = fut.error
        if self.async_error == C["HCCL_SUCCESS"]:
            self.async_error, self.async_message = code, message
        raise MockError(_STREAM_CODE.get(code, C["ACL_ERROR_RT_INTERNAL_ERROR"]),
                        f"{result_name(code)} on rank {self.rank}: {message}")

    def exchange(self, array: np.ndarray, what: str) -> np.ndarray:
        """Every rank's ``array`` stacked in rank order: shape ``(size, *array.shape)``.

        Blocking: every rank calls it (from inside its stream task) with an array
        of the same shape and dtype; ``what`` names the operation for mismatch
        messages. Same fault rules as the collectives; failures raise MockError
        with an ACL runtime code. The result is a fresh array owned by the caller.
        """
        arr = np.ascontiguousarray(array)
        signature = f"{what}(shape={tuple(arr.shape)}, dtype={arr.dtype})"
        result = self.run(signature, {"kind": "exchange"}, arr)
        return np.array(result, copy=True)

    def destroy(self) -> None:
        if not self.destroyed:
            self.destroyed = True
            _unregister_name(self)
            self.link.leave(self.rank)


comms: HandleTable[Communicator] = HandleTable("HcclComm", C["HCCL_E_PARA"])
_by_name: dict[tuple[str, int], Communicator] = {}
_names_lock = threading.Lock()


def _register(comm: Communicator) -> int:
    with _names_lock:
        key = (comm.name, comm.device)
        clash = key in _by_name
        if not clash:
            _by_name[key] = comm
    if clash:
        comm.destroy()  # outside the lock: destroy() takes it
        raise _fail("HCCL_E_PARA", f"a communicator named {comm.name!r} already exists on device {comm.device} in this process")
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
    if handle == 0:
        raise _fail("HCCL_E_PTR", f"{what} is NULL")
    return comms.get(handle, what)


def destroy(handle: int) -> None:
    if handle == 0:
        raise _fail("HCCL_E_PTR", "HcclCommDestroy: comm is NULL")
    comms.remove(handle, "HcclCommDestroy: comm").destroy()


# -- config ------------------------------------------------------------------------
@dataclass
class Config:
    name: str = ""
    exec_timeout: float | None = None


def config_header(header: bytes, what: str) -> tuple[int, int]:
    """Check the 24-byte header of an HcclCommConfig; (size, version). Read nothing else before this."""
    size, magic, version, _ = struct.unpack("<QIIQ", header)
    if magic != C["HCCL_COMM_CONFIG_MAGIC_WORD"]:
        raise _fail("HCCL_E_PARA", f"{what}: config magic word is {magic:#x}, expected {C['HCCL_COMM_CONFIG_MAGIC_WORD']:#x}: initialise the config with HcclCommConfigInit")
    if size < 160 or version < 1:
        raise _fail("HCCL_E_PARA", f"{what}: config header says size {size} / version {version}: not an HcclCommConfig (HcclCommConfigInit writes size 2240, version {C['HCCL_COMM_CONFIG_VERSION']})")
    return size, version


def parse_config(header: bytes, name: bytes, tail: dict | None, what: str) -> Config:
    """Check an HcclCommConfig: ``header`` = its first 24 bytes, ``tail`` = v10 fields or None."""
    size, version = config_header(header, what)
    raw = name.split(b"\0", 1)[0]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _fail("HCCL_E_PARA", f"{what}: hcclCommName is not UTF-8 text") from None
    if len(raw) >= COMM_NAME_MAX:
        raise _fail("HCCL_E_PARA", f"{what}: hcclCommName is not NUL-terminated within {COMM_NAME_MAX} bytes")
    config = Config(name=text)
    if tail is not None and version >= 10 and size >= 2240:
        det = tail["hcclDeterministic"]
        if det not in (0, 1, 0xFFFFFFFF):
            raise _fail("HCCL_E_PARA", f"{what}: hcclDeterministic must be 0, 1 or not set, got {det}")
        buf = tail["hcclBufferSize"]
        if buf != 0xFFFFFFFF and buf < 1:
            raise _fail("HCCL_E_PARA", f"{what}: hcclBufferSize must be >= 1 MB, got {buf}")
        timeout = tail["hcclExecTimeOut"]
        if timeout != -1:
            if timeout <= 0:
                raise _fail("HCCL_E_PARA", f"{what}: hcclExecTimeOut must be -1 (not set) or > 0 seconds, got {timeout}")
            config.exec_timeout = float(timeout)
    return config


# -- communicator construction --------------------------------------------------------
def _calling_device(what: str) -> int:
    try:
        return rt.current_device()
    except MockError as exc:
        raise _fail("HCCL_E_RUNTIME", f"{what}: {exc.message} (set the rank's device with aclrtSetDevice before creating its communicator)") from None


def _check_name(name: str, what: str) -> None:
    if len(name.encode()) >= COMM_NAME_MAX:
        raise _fail("HCCL_E_PARA", f"{what}: communicator name {name!r} is longer than {COMM_NAME_MAX - 1} bytes")


def init_all(devices: list[int]) -> list[int]:
    """HcclCommInitAll: one communicator, every rank in this process; returns the handles."""
    what = "HcclCommInitAll"
    try:
        settings = rt.require()
    except MockError as exc:
        raise _fail("HCCL_E_RUNTIME", f"{what}: {exc.message}") from None
    if not devices:
        raise _fail("HCCL_E_PARA", f"{what}: ndev must be >= 1")
    for i, d in enumerate(devices):
        if not 0 <= d < settings.device_count:
            raise _fail("HCCL_E_PARA", f"{what}: devices[{i}] = {d} is not a device id in [0, {settings.device_count})")
    seen: dict[int, int] = {}
    for i, d in enumerate(devices):
        if d in seen:
            raise _fail("HCCL_E_PARA", f"{what}: device {d} appears twice (devices[{seen[d]}] and devices[{i}])")
        seen[d] = i
    comm_id = secrets.token_bytes(16)
    hub = Hub(comm_id, secrets.token_bytes(32), f"mock_hccl_all_{comm_id.hex()[:16]}", what)
    hub.n_ranks = len(devices)
    hub.formed = True
    hub.name = hub.default_name
    hub.pids = {r: os.getpid() for r in range(len(devices))}
    timeout = exec_timeout()
    handles: list[int] = []
    try:
        for rank, device in enumerate(devices):
            comm = Communicator(_LocalLink(hub), rank, len(devices), hub.name, device, timeout)
            handles.append(_register(comm))
    except MockError:
        for h in handles:
            destroy(h)
        raise
    return handles


def get_root_info() -> bytes:
    """HcclGetRootInfo: a new rendezvous served by this process."""
    server = _process_server()
    comm_id, token = secrets.token_bytes(16), secrets.token_bytes(32)
    _register_hub(Hub(comm_id, token, f"mock_hccl_{comm_id.hex()[:16]}", "HcclCommInitRootInfo"))
    blob = bytearray(ROOT_INFO_BYTES)
    struct.pack_into("<8sII", blob, 0, MAGIC, LAYOUT_VERSION, KIND_ROOT_INFO)
    blob[16:32] = comm_id
    blob[32:64] = token
    blob[64:68] = socket.inet_aton(LOOPBACK)
    struct.pack_into("!H", blob, 68, server.port)
    struct.pack_into("<I", blob, 72, os.getpid())
    text = f"mock-hccl {LOOPBACK}:{server.port}".encode()
    blob[80:80 + len(text)] = text
    return bytes(blob)


def parse_root_info(blob: bytes, what: str) -> tuple[bytes, bytes, str, int, int]:
    magic, version, kind = struct.unpack_from("<8sII", blob, 0)
    if magic != MAGIC or kind != KIND_ROOT_INFO:
        raise _fail("HCCL_E_PARA", f"{what}: rootInfo was not produced by HcclGetRootInfo (bad magic; copy all {ROOT_INFO_BYTES} bytes unchanged)")
    if version != LAYOUT_VERSION:
        raise _fail("HCCL_E_PARA", f"{what}: rootInfo layout version {version} is not {LAYOUT_VERSION}")
    host = socket.inet_ntoa(blob[64:68])
    (port,) = struct.unpack_from("!H", blob, 68)
    (pid,) = struct.unpack_from("<I", blob, 72)
    return bytes(blob[16:32]), bytes(blob[32:64]), host, port, pid


def init_root_info(n_ranks: int, blob: bytes, rank: int, config: Config | None, what: str) -> int:
    config = config or Config()
    if n_ranks < 1:
        raise _fail("HCCL_E_PARA", f"{what}: nRanks must be >= 1, got {n_ranks}")
    if not 0 <= rank < n_ranks:
        raise _fail("HCCL_E_PARA", f"{what}: rank {rank} is not in [0, nRanks={n_ranks})")
    if config.name:
        _check_name(config.name, what)
    comm_id, token, host, port, root_pid = parse_root_info(blob, what)
    device = _calling_device(what)
    timeout = connect_timeout()
    ex = config.exec_timeout if config.exec_timeout is not None else exec_timeout()
    link = _connect(host, port, comm_id, token, rank, time.monotonic() + timeout, root_pid)
    info = link.join(rank, n_ranks, config.name, device, timeout)
    return _register(Communicator(link, rank, n_ranks, info["name"], device, ex))


# -- rank tables -------------------------------------------------------------------
def parse_rank_table(path: str, what: str) -> tuple[list[int], bytes]:
    """Device id per rank id (index = rank) and the file's bytes."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise _fail("HCCL_E_OPEN_FILE_FAILURE", f"{what}: cannot read rank table {path!r}: {exc.strerror or exc}") from None
    try:
        table = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _fail("HCCL_E_PARA", f"{what}: rank table {path!r} is not JSON: {exc}") from None

    def bad(message: str) -> MockError:
        return _fail("HCCL_E_PARA", f"{what}: rank table {path!r}: {message}")

    def as_int(value: Any, key: str) -> int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise bad(f"{key} {value!r} is not an integer") from None
        if number < 0:
            raise bad(f"{key} {value!r} is negative")
        return number

    if not isinstance(table, dict):
        raise bad("the top level is not a JSON object")
    version = str(table.get("version", ""))
    if version not in ("1.0", "1.2"):
        raise _fail("HCCL_E_NOT_SUPPORT", f"{what}: rank table {path!r} has version {version!r}; the mock reads version \"1.0\" (and \"1.2\")")
    if "status" in table and table["status"] != "completed":
        raise bad(f"status is {table['status']!r}, not \"completed\"")
    servers = table.get("server_list")
    if not isinstance(servers, list) or not servers:
        raise bad("server_list is missing or empty")
    if "server_count" in table and as_int(table["server_count"], "server_count") != len(servers):
        raise bad(f"server_count {table['server_count']!r} but server_list has {len(servers)} entries")
    if len(servers) != 1:
        raise _fail("HCCL_E_NOT_SUPPORT", f"{what}: rank table {path!r} lists {len(servers)} servers; the mock runs every rank on this host (one server)")
    devices = servers[0].get("device") if isinstance(servers[0], dict) else None
    if not isinstance(devices, list) or not devices:
        raise bad("server_list[0].device is missing or empty")
    by_rank: dict[int, int] = {}
    for i, entry in enumerate(devices):
        if not isinstance(entry, dict) or "rank_id" not in entry or "device_id" not in entry:
            raise bad(f"device[{i}] needs rank_id and device_id")
        r = as_int(entry["rank_id"], f"device[{i}].rank_id")
        d = as_int(entry["device_id"], f"device[{i}].device_id")
        if r in by_rank:
            raise bad(f"rank_id {r} appears twice")
        if d in by_rank.values():
            raise bad(f"device_id {d} appears twice")
        by_rank[r] = d
    if sorted(by_rank) != list(range(len(by_rank))):
        raise bad(f"rank ids {sorted(by_rank)} are not 0..{len(by_rank) - 1}")
    return [by_rank[r] for r in range(len(by_rank))], data


def init_cluster_info(path: str, rank: int, config: Config | None, what: str) -> int:
    config = config or Config()
    devices, data = parse_rank_table(path, what)
    n_ranks = len(devices)
    if not 0 <= rank < n_ranks:
        raise _fail("HCCL_E_PARA", f"{what}: rank {rank} is not in the rank table {path!r} (ranks 0..{n_ranks - 1})")
    if config.name:
        _check_name(config.name, what)
    device = devices[rank]
    try:
        settings = rt.require()
    except MockError as exc:
        raise _fail("HCCL_E_RUNTIME", f"{what}: {exc.message}") from None
    if device >= settings.device_count:
        raise _fail("HCCL_E_PARA", f"{what}: rank table {path!r} gives rank {rank} device {device}, not in [0, {settings.device_count})")
    try:
        current = rt.current_device()
    except MockError:
        current = device
    if current != device:
        raise _fail("HCCL_E_PARA", f"{what}: rank table {path!r} puts rank {rank} on device {device}, but the calling thread's device is {current}")
    digest = hashlib.sha256(b"mock-hccl-rank-table\0" + os.path.abspath(path).encode() + b"\0" + data).digest()
    comm_id, token = digest[:16], hashlib.sha256(digest).digest()
    base, span = RANK_TABLE_PORTS
    port = base + int.from_bytes(digest[16:20], "little") % span
    if rank == 0:
        hub = _find_hub(comm_id)
        if hub is None or hub.formed or hub.error is not None:
            hub = Hub(comm_id, token, f"mock_hccl_rt_{comm_id.hex()[:16]}", what)
            _register_hub(hub)  # before the listener exists, so no joiner finds it without the hub
            with _server_lock:
                if port not in _rank_table_servers:
                    try:
                        _rank_table_servers[port] = _Server(port)
                    except OSError as exc:
                        _forget_hub(hub)
                        raise _fail("HCCL_E_TCP_CONNECT", f"{what}: rank 0 cannot listen on {LOOPBACK}:{port}, the rendezvous port derived from {path!r}: {exc.strerror or exc} (another job using the same rank table?)") from None
    timeout = connect_timeout()
    ex = config.exec_timeout if config.exec_timeout is not None else exec_timeout()
    link = _connect(LOOPBACK, port, comm_id, token, rank, time.monotonic() + timeout, 0)
    info = link.join(rank, n_ranks, config.name, device, timeout)
    if link.remote:
        link.root_pid = info["pids"].get(0, 0)
    return _register(Communicator(link, rank, n_ranks, info["name"], device, ex))


# -- collectives (checked at the call, performed in a stream task) --------------------
def _region(address: int, nbytes: int, what: str) -> np.ndarray:
    try:
        return memory.region(address, nbytes, what)
    except MockError as exc:
        raise MockError(C["HCCL_E_PTR"] if address == 0 else C["HCCL_E_PARA"], exc.message) from None


def _stream(comm: Communicator, handle: int, what: str):
    try:
        s = rt.stream(handle)
    except MockError as exc:
        raise _fail("HCCL_E_PARA" if handle else "HCCL_E_RUNTIME", f"{what}: {exc.message}") from None
    if s.device != comm.device:
        raise _fail("HCCL_E_PARA", f"{what}: the stream is on device {s.device} but rank {comm.rank} of communicator {comm.name!r} is on device {comm.device}")
    return s


def _check_dtype(dtype: int, what: str) -> int:
    """Element size of an HcclDataType (HCCL_E_PARA for an unknown one)."""
    try:
        return dtypes.hccl_bytes(dtype)
    except ValueError:
        raise _fail("HCCL_E_PARA", f"{what}: dataType {dtype} is not an HcclDataType") from None


def _launch(stream, name: str, task: Callable[[], None], buffers: list[tuple[int, int, bool, str]]) -> None:
    """Queue a collective declaring the buffers it reads and writes (a race with another
    stream fails the call with HCCL_E_RUNTIME, see mock_runtime.core.races)."""
    accesses = [races.Access(address, address + nbytes, write, what)
                for address, nbytes, write, what in buffers if nbytes]
    stream.submit(name, task, accesses, race_code=C["HCCL_E_RUNTIME"])


def _task_name(what: str, comm: Communicator) -> str:
    return f"{what} (communicator {comm.name!r}, rank {comm.rank})"


def all_reduce(send: int, recv: int, count: int, dtype: int, op: int, handle: int, stream: int) -> None:
    what = "HcclAllReduce"
    comm = get(handle, f"{what}: comm")
    itemsize = _check_dtype(dtype, what)
    if dtype not in REDUCIBLE:
        raise _fail("HCCL_E_NOT_SUPPORT", f"{what}: the mock does not reduce {dtype_name(dtype)} (it reduces INT8/16/32/64, UINT8/16/32/64, FP16, BFP16, FP32, FP64); all-gather it and reduce in a wider type")
    if op not in _UFUNCS:
        raise _fail("HCCL_E_PARA", f"{what}: op {op} is not an HcclReduceOp (SUM 0, PROD 1, MAX 2, MIN 3)")
    nbytes = count * itemsize
    if count:
        _region(send, nbytes, f"{what}: sendBuf")
        _region(recv, nbytes, f"{what}: recvBuf")
    s = _stream(comm, stream, what)
    np_dtype = _host(dtype)
    signature = f"{what}(count={count}, dtype={dtype_name(dtype)}, op={op_name(op)})"
    spec = {"kind": "allreduce", "dtype": dtype, "op": op}

    def task() -> None:
        data = memory.region(send, nbytes, "sendBuf").view(np_dtype) if count else np.empty(0, np_dtype)
        result = comm.run(signature, spec, data)
        if count:
            memory.region(recv, nbytes, "recvBuf")[...] = result.view(np.uint8)

    _launch(s, _task_name(what, comm), task, [(send, nbytes, False, "sendBuf"), (recv, nbytes, True, "recvBuf")])


def all_gather(send: int, recv: int, count: int, dtype: int, handle: int, stream: int) -> None:
    what = "HcclAllGather"
    comm = get(handle, f"{what}: comm")
    itemsize = _check_dtype(dtype, what)
    nbytes = count * itemsize
    if count:
        _region(send, nbytes, f"{what}: sendBuf")
        _region(recv, nbytes * comm.size, f"{what}: recvBuf (sendCount x rankSize = {count * comm.size} elements)")
    s = _stream(comm, stream, what)
    signature = f"{what}(sendCount={count}, dtype={dtype_name(dtype)})"

    def task() -> None:
        data = memory.region(send, nbytes, "sendBuf") if count else np.empty(0, np.uint8)
        result = comm.run(signature, {"kind": "allgather"}, data)
        if count:
            memory.region(recv, nbytes * comm.size, "recvBuf")[...] = result

    _launch(s, _task_name(what, comm), task,
            [(send, nbytes, False, "sendBuf"), (recv, nbytes * comm.size, True, "recvBuf")])


def broadcast(buf: int, count: int, dtype: int, root: int, handle: int, stream: int) -> None:
    what = "HcclBroadcast"
    comm = get(handle, f"{what}: comm")
    itemsize = _check_dtype(dtype, what)
    if not 0 <= root < comm.size:
        raise _fail("HCCL_E_PARA", f"{what}: root {root} is not a rank of the communicator (size {comm.size})")
    nbytes = count * itemsize
    if count:
        _region(buf, nbytes, f"{what}: buf")
    s = _stream(comm, stream, what)
    signature = f"{what}(count={count}, dtype={dtype_name(dtype)}, root={root})"
    is_root = comm.rank == root

    def task() -> None:
        data = None
        if is_root:
            data = memory.region(buf, nbytes, "buf") if count else np.empty(0, np.uint8)
        result = comm.run(signature, {"kind": "broadcast", "root": root}, data)
        if count and not is_root:
            memory.region(buf, nbytes, "buf")[...] = result

    _launch(s, _task_name(what, comm), task, [(buf, nbytes, not is_root, "buf")])


def barrier(handle: int, stream: int) -> None:
    what = "HcclBarrier"
    comm = get(handle, f"{what}: comm")
    s = _stream(comm, stream, what)
    s.submit(_task_name(what, comm), lambda: comm.run(f"{what}()", {"kind": "barrier"}, None))
