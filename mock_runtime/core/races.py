"""Race detection: unsynchronised device-memory accesses become deterministic reports.

Every stream task declares the memory it reads and writes (:class:`Access`:
operators their tensors and workspace, aclrtMemcpyAsync / aclrtMemsetAsync
their bytes, HCCL collectives their buffers). The mock keeps, per stream, the
regions of the tasks the host has not yet *retired*, whether or not the
worker already ran them -- so a report never depends on timing. The host
retires a stream's tasks by synchronising it (aclrtSynchronizeStream[WithTimeout],
aclrtSynchronizeDevice, aclrtDestroyStream) or an event recorded after them
(aclrtSynchronizeEvent).

Ordering between streams follows the events: each stream carries a vector
clock (for every other stream, the last task known to complete before its
next task); aclrtRecordEvent snapshots the recording stream's clock and
aclrtStreamWaitEvent merges that snapshot into the waiting stream's clock.

Reported (API, stream, operator and region named in the message):

1. a synchronous host access -- aclrtMemcpy (either side), aclrtMemset --
   reading bytes that unretired work writes, or writing bytes that
   unretired work reads or writes;
2. aclrtFree of an allocation that unretired work still uses (CANN's
   runtime guide has the stream synchronised before aclrtFree: the free
   does not wait for queued work);
3. a task launched on one stream touching bytes that unretired work of
   another stream touches, one of them writing, with no event ordering them.

``ACLNN_MOCK_RACECHECK`` (read at aclInit) chooses what a report does:

* ``error`` (default): the call fails without doing anything, with
  ACL_ERROR_RT_STREAM_NOT_COMPLETE (507004, "stream not complete": the host
  or a stream used memory that a stream has not finished with -- a code the
  mock returns for nothing else, so CI can tell a race from other failures).
  aclnn launches return ACLNN_ERR_RUNTIME_ERROR (361001) and HCCL
  collectives HCCL_E_RUNTIME, their APIs' codes for a failed launch; the
  message is the same.
* ``warn``: the message goes to stderr, and the access is made safe: the
  host call (or the new task) first waits for the conflicting work.
* ``off``: no report; the access is made safe the same way.

Host memory given to aclrtMemcpyAsync is tracked as well, but plain loads
and stores of a C program (or NumPy) cannot be seen.
"""
from __future__ import annotations

import itertools
import sys
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from mock_runtime.core.errors import C, MockError
from mock_runtime.core.memory import table as memory

if TYPE_CHECKING:
    from mock_runtime.core.streams import Stream

RACE = C["ACL_ERROR_RT_STREAM_NOT_COMPLETE"]

#: Held while a task is checked, queued and recorded, and while events snapshot clocks.
lock = threading.RLock()
mode = "error"
_ids = itertools.count(1)
_active: dict[int, "Stream"] = {}  # streams with unretired accesses


@dataclass(frozen=True)
class Access:
    """Bytes [begin, end) of the process's memory map that a task or host call reads or writes."""

    begin: int
    end: int
    write: bool
    what: str  # the parameter: "x1", "out[0]", "dst", "workspace"...

    def conflicts(self, other_begin: int, other_end: int, other_write: bool) -> bool:
        return (self.write or other_write) and self.begin < other_end and other_begin < self.end


@dataclass
class Track:
    """The race bookkeeping of one stream (guarded by :data:`lock`)."""

    id: int = field(default_factory=lambda: next(_ids))
    clock: dict[int, int] = field(default_factory=dict)
    #: (begin, end, write) -> (seq of the latest task, its name, the parameter)
    entries: dict[tuple[int, int, bool], tuple[int, str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Conflict:
    stream: "Stream"
    seq: int
    op: str
    what: str
    begin: int
    end: int
    write: bool
    access: Access


def _region(begin: int, end: int) -> str:
    alloc = memory.find(begin)
    if alloc is None:
        return f"{'device' if memory.is_device_address(begin) else 'host'} bytes [{begin:#x}, {end:#x})"
    return (f"bytes [{begin - alloc.base}, {end - alloc.base}) of the allocation of {alloc.size} bytes at "
            f"{alloc.base:#x} on device {alloc.device}")


def _conflicts(accesses: list[Access], streams: list["Stream"], ordered: Callable[["Stream", int], bool]) -> list[Conflict]:
    found = []
    for stream in streams:
        for (begin, end, write), (seq, op, what) in stream.track.entries.items():
            if ordered(stream, seq):
                continue
            for access in accesses:
                if access.conflicts(begin, end, write):
                    found.append(Conflict(stream, seq, op, what, begin, end, write, access))
                    break
    return found


def _other(c: Conflict) -> str:
    """The conflicting task's bytes, when they differ from the access's."""
    return "" if (c.begin, c.end) == (c.access.begin, c.access.end) else f" ({_region(c.begin, c.end)})"


def _verb(write: bool) -> str:
    return "writes" if write else "reads"


def _report(message: str, code: int) -> None:
    if mode == "error":
        raise MockError(code, message)
    if mode == "warn":
        print(f"[aclnn-py mock] warning (ACLNN_MOCK_RACECHECK=warn; the access waits for that work): {message}",
              file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- stream tasks

def check_launch(stream: "Stream", what: str, accesses: list[Access], code: int = RACE) -> list[tuple["Stream", int]]:
    """Before queueing ``what`` on ``stream`` (under :data:`lock`): report unordered conflicts with
    other streams; return the (stream, seq) pairs the task must wait for (warn / off)."""
    if not accesses:
        return []
    others = [s for s in _active.values() if s is not stream]
    clock = stream.track.clock
    conflicts = _conflicts(accesses, others, lambda s, seq: clock.get(s.track.id, 0) >= seq)
    if not conflicts:
        return []
    c = conflicts[0]
    _report(f"{what} on {stream.label}: race: it {_verb(c.access.write)} {_region(c.access.begin, c.access.end)} "
            f"({c.access.what}), which {c.op} ({c.what}) queued on {c.stream.label} "
            f"{_verb(c.write)}{_other(c)}, and no event orders the two: record an event on {c.stream.label} after "
            f"that work and make this stream wait for it (aclrtRecordEvent + aclrtStreamWaitEvent), or synchronize "
            f"{c.stream.label} first", code)
    waits: dict[int, tuple["Stream", int]] = {}
    for c in conflicts:
        if c.seq > waits.get(c.stream.track.id, (None, 0))[1]:
            waits[c.stream.track.id] = (c.stream, c.seq)
    for other, seq in waits.values():  # the implicit wait orders them from now on
        clock[other.track.id] = max(clock.get(other.track.id, 0), seq)
    return list(waits.values())


def record(stream: "Stream", seq: int, what: str, accesses: list[Access]) -> None:
    """Remember the accesses of task ``seq`` of ``stream`` (under :data:`lock`)."""
    if not accesses:
        return
    entries = stream.track.entries
    for a in accesses:
        entries[(a.begin, a.end, a.write)] = (seq, what, a.what)
    _active[stream.track.id] = stream


def snapshot(stream: "Stream", seq: int) -> dict[int, int]:
    """The clock an event recorded as task ``seq`` of ``stream`` carries."""
    clock = dict(stream.track.clock)
    clock[stream.track.id] = seq
    return clock


def merge(stream: "Stream", clock: dict[int, int]) -> None:
    """aclrtStreamWaitEvent: ``stream``'s next tasks come after everything ``clock`` covers."""
    own = stream.track.clock
    for sid, seq in clock.items():
        if sid != stream.track.id and seq > own.get(sid, 0):
            own[sid] = seq


# --------------------------------------------------------------------------- the host

def retire(stream: "Stream", upto: int) -> None:
    """The host knows tasks 1..``upto`` of ``stream`` completed."""
    with lock:
        entries = stream.track.entries
        for key in [k for k, v in entries.items() if v[0] <= upto]:
            del entries[key]
        if not entries:
            _active.pop(stream.track.id, None)


def retire_clock(clock: dict[int, int]) -> None:
    """aclrtSynchronizeEvent: everything the event's clock covers completed."""
    with lock:
        streams = [(s, clock[s.track.id]) for s in list(_active.values()) if s.track.id in clock]
    for stream, seq in streams:
        retire(stream, seq)


def host_access(api: str, accesses: list[Access], action: str | None = None) -> None:
    """Before a synchronous host access: report conflicts with unretired work; with warn/off
    wait for that work (and retire it) so the access sees complete data. ``action`` words
    the host's access in the message (default: reads / writes)."""
    if not accesses:
        return
    with lock:
        conflicts = _conflicts(accesses, list(_active.values()), lambda s, seq: False)
    if not conflicts:
        return
    c = conflicts[0]
    action = action or _verb(c.access.write)
    _report(f"{api}: race: the host {action} {_region(c.access.begin, c.access.end)} ({c.access.what}), which "
            f"{c.op} ({c.what}) queued on {c.stream.label} {_verb(c.write)}{_other(c)}, and the host has not "
            f"synchronized with that work: call aclrtSynchronizeStream on {c.stream.label}, or aclrtSynchronizeEvent "
            f"on an event recorded after that work, first", RACE)
    for stream, seq in {(c.stream, c.seq) for c in conflicts}:
        stream.wait_done(seq)
        retire(stream, seq)


def forget_stream(stream: "Stream") -> None:
    """A destroyed stream (its work finished): nothing of it is pending."""
    with lock:
        stream.track.entries.clear()
        _active.pop(stream.track.id, None)


def reset() -> None:
    """aclFinalize."""
    with lock:
        for stream in _active.values():
            stream.track.entries.clear()
        _active.clear()
