"""Thread ranks in one process, as CANN's C samples run them.

:class:`Ranks` sets devices ``0..n-1`` (``aclrtSetDevice``), creates one HCCL
communicator over them (``HcclCommInitAll``) and starts one thread per rank that
makes its own context (``aclrtCreateContext``) and stream and keeps them for
its whole life. :meth:`Ranks.run` runs a function on every rank at once and
returns the results in rank order; a rank's exception is re-raised as
:class:`RankError` naming the rank. :meth:`Ranks.close` tears down in CANN's
order: streams and contexts on their threads, communicators, devices. Closed
while an exception unwinds (a Ctrl-C), it destroys the communicators first, so a
rank waiting in a collective stops at once, and waits for the ranks only
briefly; its own failures then never replace that exception.

Uses only the public API (runtime, memory, ``aclnn_py.hccl``): it runs the same
on an Ascend host as on the mock.
"""
from __future__ import annotations

import concurrent.futures
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from .. import _teardown, hccl
from ..errors import ArgumentError
from ..hccl.communicator import close_quietly
from ..runtime import Context, Device, Stream

__all__ = ["Rank", "RankError", "Ranks"]


@dataclass
class Rank:
    """What a rank's function gets: its rank id, the group size, device, communicator
    (``comm.name`` is the operators' ``group``), context and stream."""

    rank: int
    size: int
    device: int
    comm: hccl.Communicator
    context: Context
    stream: Stream


class RankError(RuntimeError):
    """A rank's function raised; ``rank`` says which, ``__cause__`` holds the exception."""

    def __init__(self, rank: int, error: BaseException) -> None:
        super().__init__(f"rank {rank}: {type(error).__name__}: {error}")
        self.rank = rank


def _let_frames_go(future: concurrent.futures.Future) -> None:
    """A rank's failure nobody will read: free the locals of its frames (the device memory in
    them) now, not when the interrupted traceback that holds the future goes."""
    error = future.exception()
    if error is not None:
        traceback.clear_frames(error.__traceback__)


class Ranks:
    """``n`` thread ranks on devices ``devices`` (default ``0..n-1``), each with a context,
    a stream and its rank of one communicator; a context manager.

    ``timeout`` (seconds) bounds every :meth:`run`: a rank still busy then is reported
    (:class:`TimeoutError`) instead of waiting for ever.
    """

    def __init__(self, n: int, devices: Sequence[int] | None = None, *, timeout: float = 300.0) -> None:
        self.devices = list(range(n)) if devices is None else [int(d) for d in devices]
        if len(self.devices) != n or n < 1:
            raise ArgumentError("devices", f"{n} ranks need {n} devices (n >= 1), got {self.devices}")
        self.size = n
        self.timeout = timeout
        self._slots: list[Rank | None] = [None] * n
        self._device_handles: list[Device] = []
        self._comms: list[hccl.Communicator] = []
        self._threads = [concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=f"aclnn-rank{r}")
                         for r in range(n)]
        try:
            for d in self.devices:
                self._device_handles.append(Device(d))
            self._comms = hccl.init_all(self.devices)
            self._on_each(self._start)
        except BaseException:
            self.close()
            raise

    @property
    def ranks(self) -> list[Rank]:
        """The ranks in rank order (empty once closed)."""
        return [rank for rank in self._slots if rank is not None]

    def _start(self, r: int) -> None:
        context = Context(self.devices[r])
        try:
            stream = Stream()
        except BaseException:
            context.close()
            raise
        self._slots[r] = Rank(r, self.size, self.devices[r], self._comms[r], context, stream)

    def _on_each(self, fn: Callable[[int], Any], ranks: Sequence[int] | None = None,
                 timeout: float | None = None) -> list:
        """``fn(r)`` on the thread of every rank r, concurrently; the results in rank order.
        Waits ``timeout`` seconds at most (default: :attr:`timeout`)."""
        ranks = range(self.size) if ranks is None else ranks
        timeout = self.timeout if timeout is None else timeout
        futures = [self._threads[r].submit(fn, r) for r in ranks]
        try:
            done, pending = concurrent.futures.wait(futures, timeout)
        except BaseException:  # interrupted: nobody reads the results
            for future in futures:
                future.add_done_callback(_let_frames_go)
            raise
        if pending:
            late = [r for r, f in zip(ranks, futures) if f in pending]
            raise TimeoutError(f"rank(s) {late} of {self.size} still busy after {timeout:g} s")
        results = []
        for r, future in zip(ranks, futures):
            error = future.exception()
            if error is not None:
                raise RankError(r, error) from error
            results.append(future.result())
        return results

    def run(self, fn: Callable[[Rank], Any]) -> list:
        """``fn(rank)`` on every rank's thread at once (collectives need all of them);
        returns the results in rank order. Work ``fn`` queues on ``rank.stream`` is
        its own to synchronise."""
        ranks = self.ranks
        if len(ranks) != self.size:
            raise RuntimeError("Ranks: closed")
        return self._on_each(lambda r: fn(ranks[r]))

    def close(self) -> None:
        """Streams and contexts (each on its thread), then communicators, then devices. While an
        exception unwinds: the communicators first, and the ranks get :data:`_teardown.GRACE`
        seconds to finish (a rank still busy keeps its stream and context for aclFinalize)."""
        errors: list[BaseException] = []
        unwinding = _teardown.unwinding()
        if unwinding:
            close_quietly(self._comms)

        def stop(r: int) -> None:
            rank, self._slots[r] = self._slots[r], None
            for resource in (rank.stream, rank.context):
                try:
                    resource.close()
                except Exception as exc:  # close the rest first
                    errors.append(exc)

        started = [r for r, rank in enumerate(self._slots) if rank is not None]
        if started:
            try:
                self._on_each(stop, started, _teardown.GRACE if unwinding else None)
            except Exception as exc:
                errors.append(exc)
        for thread in self._threads:
            thread.shutdown(wait=False)
        for resource in (*self._comms, *self._device_handles):
            try:
                resource.close()
            except Exception as exc:
                errors.append(exc)
        self._comms, self._device_handles = [], []
        if errors:
            raise errors[0]

    def __enter__(self) -> "Ranks":
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: object) -> None:
        _teardown.close_on_exit(self.close, exc)
