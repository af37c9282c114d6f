"""The rendezvous: a Hub is where the ranks of one communicator meet (join, match and
combine collectives, fail everyone on a fault); the hubs this process hosts, by id."""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from mock_runtime.core.errors import C
from mock_runtime.hccl import exchange
from mock_runtime.hccl.exchange import Mismatch, PerRank
from mock_runtime.hccl.names import Error, rank_list
from mock_runtime.hccl.reduce import combine
from mock_runtime.hccl.watchdog import watchdog


@dataclass
class _Slot:
    signature: str
    first_rank: int
    spec: dict
    ranks: list  # the participants, in the order their parts are combined
    deadline: list | None = None
    parts: dict = field(default_factory=dict)  # rank -> payload
    specs: dict = field(default_factory=dict)  # rank -> its spec
    waiters: dict = field(default_factory=dict)  # rank -> callback(result, error)

    def matches(self, signature: str, spec: dict) -> bool:
        """Whether another rank's call is the same collective (a point-to-point pair compares
        ``spec["match"]``: the sender's and the receiver's calls differ in name)."""
        return spec.get("match", signature) == self.spec.get("match", self.signature)


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
        self._slots: dict[int | str, _Slot] = {}
        self._left: set[int] = set()
        self._watchers: set[Callable[[Any, Error], None]] = set()
        self._destroyed: dict[int, str] = {}  # rank -> why it is gone (HcclCommDestroy)

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
                self._join_deadlines.append(watchdog.schedule(timeout, lambda: self._join_expired(timeout)))
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
            watchdog.cancel(entry)
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
                f"(HCCL_CONNECT_TIMEOUT): rank(s) {rank_list(missing)} of {self.n_ranks} never joined "
                f"(joined: {rank_list(joined)})",
            )
        _deliver(calls)

    # collectives ------------------------------------------------------------------
    def submit(self, rank: int, seq: int | str, signature: str, spec: dict, payload: Any, timeout: float,
               done: Callable[[Any, Error | None], None]) -> None:
        """Rank ``rank``'s part of collective ``seq`` (its number among the ranks' collectives, or
        the key of a point-to-point transfer, whose participants are ``spec["ranks"]``)."""
        calls: list = []
        complete: _Slot | None = None
        with self._lock:
            if self.error is not None:
                calls.append((done, self._sticky()))
            else:
                slot = self._slots.get(seq)
                if slot is None:
                    ranks = list(spec.get("ranks", range(self.n_ranks or 0)))
                    slot = self._slots[seq] = _Slot(signature, rank, spec, ranks)
                gone = next((r for r in slot.ranks if r in self._destroyed), None)
                if gone is not None:
                    del self._slots[seq]
                    error = (C["HCCL_E_REMOTE"], f"{signature}: {self._destroyed[gone]}")
                    calls += [(cb, error) for cb in [*slot.waiters.values(), done]]
                elif not slot.matches(signature, spec):
                    slot.waiters[rank] = done
                    calls += self._fail_locked(
                        C["HCCL_E_PARA"],
                        f"rank {rank} called {signature} where rank {slot.first_rank} called {slot.signature} "
                        f"(collective #{seq} of communicator {self._label()})",
                    )
                else:
                    slot.parts[rank] = payload
                    slot.specs[rank] = spec
                    slot.waiters[rank] = done
                    if len(slot.parts) == len(slot.ranks):
                        complete = self._slots.pop(seq)
                    elif slot.deadline is None:
                        slot.deadline = watchdog.schedule(timeout, lambda: self._slot_expired(seq, slot, timeout))
        _deliver(calls)
        if complete is not None:
            watchdog.cancel(complete.deadline)
            parts = [complete.parts[r] for r in complete.ranks]
            specs = [complete.specs[r] for r in complete.ranks]
            complete.parts.clear()  # the watchdog may hold the slot until its deadline
            try:
                if complete.spec["kind"] == "transfer":
                    result = exchange.combine(complete.spec, parts, specs)
                else:
                    result = combine(complete.spec, parts)
            except Mismatch as exc:  # the ranks' calls do not fit together: everyone fails, for good
                with self._lock:
                    calls = self._fail_locked(exc.code, exc.message)
                _deliver(calls + [(cb, self.error) for cb in complete.waiters.values()])
                return
            except Exception as exc:  # a bug in the mock: report it, never hang the ranks
                _deliver([(cb, (C["HCCL_E_INTERNAL"], f"mock HCCL failed to combine {complete.signature}: {exc!r}"))
                          for cb in complete.waiters.values()])
                return
            # Remote ranks first: a local rank released early could end the process.
            order = sorted(complete.waiters.items(), key=lambda kv: self.pids.get(kv[0]) == os.getpid())
            _deliver([(cb, None, result[r] if isinstance(result, PerRank) else result) for r, cb in order])

    def _slot_expired(self, seq: int, slot: _Slot, timeout: float) -> None:
        with self._lock:
            if self._slots.get(seq) is not slot or self.error is not None:
                return
            arrived = set(slot.parts)
            missing = set(slot.ranks) - arrived
            if "peer_call" in slot.spec:  # a point-to-point transfer: name the peer
                text = (f"{slot.signature} (communicator {self._label()}) timed out after {timeout:g} s "
                        f"(HCCL_EXEC_TIMEOUT): its peer, rank {rank_list(missing)[1:-1]}, never called the "
                        f"matching {slot.spec['peer_call']}")
            else:
                text = (f"{slot.signature} (collective #{seq} of communicator {self._label()}) timed out after "
                        f"{timeout:g} s (HCCL_EXEC_TIMEOUT): rank(s) {rank_list(missing)} of {self.n_ranks} "
                        f"never arrived (arrived: {rank_list(arrived)})")
            calls = self._fail_locked(C["HCCL_E_TIMEOUT"], text)
        _deliver(calls)

    # failures and departures --------------------------------------------------------
    def watch(self, notify: Callable[[Any, Error], None]) -> None:
        """Have ``notify(None, error)`` called once when the communicator fails (before its
        waiting ranks are answered), also when no collective of that rank is waiting: how a rank
        in another process learns the real cause while this process is still there to tell it."""
        with self._lock:
            error = self.error
            if error is None:
                self._watchers.add(notify)
        if error is not None:
            notify(None, error)

    def unwatch(self, notify: Callable[[Any, Error], None]) -> None:
        with self._lock:
            self._watchers.discard(notify)

    def fail(self, code: int, message: str) -> None:
        with self._lock:
            calls = self._fail_locked(code, message)
        _deliver(calls)

    def _fail_locked(self, code: int, message: str) -> list:
        calls: list = []
        if self.error is None:
            self.error = (code, message)
            # The other processes first: a rank of this one, once answered, may end the process.
            calls += [(notify, self.error) for notify in self._watchers]
            self._watchers = set()
        error = self.error
        calls += [(j.done, error) for j in self._joiners.values()]
        self._joiners = {}
        for slot in self._slots.values():
            calls += [(cb, error) for cb in slot.waiters.values()]
        self._slots = {}
        return calls

    def _fail_involving_locked(self, rank: int) -> list:
        """Fail the pending calls that need ``rank``, which destroyed its communicator."""
        error = (C["HCCL_E_REMOTE"], self._destroyed[rank])
        calls = []
        for seq, slot in list(self._slots.items()):
            if rank in slot.ranks:
                calls += [(cb, error) for cb in slot.waiters.values()]
                del self._slots[seq]
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
                # Fails the calls this rank takes part in, now and later (a point-to-point pair of two
                # other ranks still completes: they may destroy theirs in any order).
                self._destroyed[rank] = f"rank {rank} destroyed its communicator (HcclCommDestroy)"
                calls = self._fail_involving_locked(rank)
            everyone_left = self.n_ranks is not None and len(self._left) >= self.n_ranks
        _deliver(calls)
        if everyone_left:
            forget_hub(self)

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


def register_hub(hub: Hub) -> None:
    with _hubs_lock:
        _hubs[hub.comm_id] = hub


def find_hub(comm_id: bytes) -> Hub | None:
    with _hubs_lock:
        return _hubs.get(comm_id)


def forget_hub(hub: Hub) -> None:
    with _hubs_lock:
        if _hubs.get(hub.comm_id) is hub:
            del _hubs[hub.comm_id]
