"""Streams and events: work runs asynchronously, in order, on a worker thread per stream.

Each task declares the memory it touches (:class:`~mock_runtime.core.races.Access`);
:mod:`mock_runtime.core.races` checks it against the other streams when it is
queued and the host retires it when it synchronises.

A stream is stopped in one of two ways. :meth:`Stream.close` (aclrtDestroyStream,
aclrtDestroyContext, aclrtResetDevice) finishes the queued work first, as CANN
documents for those calls. :meth:`Stream.abandon` (aclFinalize) does not: the
queued tasks are cancelled (they never run, so nothing runs against memory after
the runtime is gone), a task waiting for an event stops waiting, and a host thread
synchronising the stream gets ACL_ERROR_RT_STREAM_ABORT; the running task ends on
its own (a collective is failed by its communicator leaving, see
:func:`mock_runtime.core.runtime.finalize`).
"""
from __future__ import annotations

import sys
import threading
import time
import traceback
from collections import deque
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator

from mock_runtime.core import races
from mock_runtime.core import reentry
from mock_runtime.core.errors import C, MockError


class Stream:
    """A FIFO of tasks executed by a worker thread."""

    def __init__(self, device: int, name: str) -> None:
        self.device = device
        self.name = name
        self.label = name  # for messages; the runtime names it after its handle
        self.track = races.Track()
        self._cv = threading.Condition()
        self._tasks: deque[tuple[str, Callable[[], None]]] = deque()
        self._pending = 0
        self._submitted = 0
        self._completed = 0
        self._error: MockError | None = None
        self._closed = False
        self._running: str | None = None  # the task the worker runs now
        self._abandoned: str | None = None  # why the work was abandoned (abandon)
        self._blocked: threading.Condition | None = None  # what the running task waits on (blocking)
        self._thread = threading.Thread(target=self._run, name=f"mock-{name}", daemon=True)
        self._thread.start()

    def submit(self, what: str, task: Callable[[], None], accesses: Iterable[races.Access] = (),
               race_code: int = races.RACE) -> int:
        """Queue ``task`` (named ``what`` in errors), which touches ``accesses``; return its
        sequence number. A race with another stream raises ``race_code`` (ACLNN_MOCK_RACECHECK=error)."""
        accesses = list(accesses)
        with races.lock:
            with self._cv:
                if self._closed:
                    raise MockError(C["ACL_ERROR_RT_PARAM_INVALID"], f"{what}: {self.label} was destroyed")
            waits = races.check_launch(self, what, accesses, race_code)
            if waits:
                task = _after(waits, task)
            with self._cv:
                self._tasks.append((what, task))
                self._pending += 1
                self._submitted += 1
                seq = self._submitted
                self._cv.notify_all()
            races.record(self, seq, what, accesses)
            return seq

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._tasks and not self._closed:
                    self._cv.wait()
                if not self._tasks:
                    return
                what, task = self._tasks.popleft()
                self._running = what
            try:
                with reentry.inside():
                    task()
            except MockError as exc:
                self._fail(MockError(exc.code, f"{what}: {exc.message}"))
            except Exception as exc:  # a bug in the mock must not kill the stream, nor go unnoticed
                frames = traceback.extract_tb(exc.__traceback__)
                where = f" at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno} in {frames[-1].name}" \
                    if frames else ""
                print(f"[aclnn-py mock] stream {self.name}: {what} failed with an internal error (a bug in "
                      f"the mock, please report it):", file=sys.stderr)
                traceback.print_exc(file=sys.stderr)
                self._fail(MockError(C["ACL_ERROR_RT_INTERNAL_ERROR"],
                                     f"{what}: internal error in the mock runtime (a bug, please report it): "
                                     f"{exc!r}{where}"))
            with self._cv:
                self._running = None
                self._pending -= 1
                self._completed += 1
                self._cv.notify_all()

    def _fail(self, error: MockError) -> None:
        with self._cv:
            if self._error is None:
                self._error = error

    def wait_done(self, seq: int) -> None:
        """Block until task ``seq`` has run (or the stream stopped)."""
        with self._cv:
            while self._completed < seq and (self._tasks or not self._closed or self._pending):
                self._cv.wait()

    def synchronize(self, timeout_ms: int = -1) -> None:
        """Wait until every submitted task ran; raise the first task failure."""
        deadline = None if timeout_ms < 0 else time.monotonic() + timeout_ms / 1000
        with self._cv:
            target = self._submitted
            while self._pending:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise MockError(
                        C["ACL_ERROR_RT_STREAM_SYNC_TIMEOUT"],
                        f"{self.label}: {self._pending} task(s) still running after {timeout_ms} ms",
                    )
                self._cv.wait(remaining)
            error, self._error = self._error, None
        races.retire(self, target)
        if error is not None:
            try:
                raise error
            finally:  # no cycle through this frame: it would keep the caller's frames (and the
                del error  # resources in them) alive until a garbage collection

    def close(self) -> None:
        """Finish queued work, then stop the worker."""
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join()
            races.forget_stream(self)

    @property
    def abandoned(self) -> bool:
        return self._abandoned is not None

    def abandon(self, reason: str) -> str | None:
        """Stop without finishing the work: cancel the queued tasks, stop a task waiting for an
        event, fail a host synchronisation with ACL_ERROR_RT_STREAM_ABORT. Returns what was
        abandoned, in words for a report (None when the stream had no work left)."""
        with self._cv:
            cancelled = [what for what, _ in self._tasks]
            self._tasks.clear()
            self._pending -= len(cancelled)
            running = self._running
            self._closed = True
            self._abandoned = reason
            if running or cancelled:
                self._error = MockError(C["ACL_ERROR_RT_STREAM_ABORT"], f"{self.label}: {reason}")
            self._cv.notify_all()
            blocked = self._blocked
        if blocked is not None:
            with blocked:
                blocked.notify_all()
        if not (running or cancelled):
            return None
        parts = [f"{running} was running"] if running else []
        if cancelled:
            parts.append(f"{len(cancelled)} queued task(s) cancelled ({_summary(cancelled)})")
        return f"work abandoned on {self.label}: " + "; ".join(parts)

    @contextmanager
    def blocking(self, cv: threading.Condition) -> Iterator[None]:
        """Inside a task of this stream: the task waits on ``cv`` (:meth:`abandon` notifies it; the
        waiting code checks :attr:`abandoned`)."""
        with self._cv:
            self._blocked = cv
        try:
            yield
        finally:
            with self._cv:
                self._blocked = None

    def join(self, timeout: float) -> str | None:
        """Wait up to ``timeout`` seconds for the worker to stop (after :meth:`close` or
        :meth:`abandon`); None when it stopped, else the task it still runs."""
        if threading.current_thread() is not self._thread:
            self._thread.join(max(0.0, timeout))
        if not self._thread.is_alive():
            races.forget_stream(self)
            return None
        with self._cv:
            return self._running or "a task"


def _summary(names: list[str], shown: int = 3) -> str:
    """The first few task names, and how many more."""
    text = ", ".join(names[:shown])
    return text + (f" and {len(names) - shown} more" if len(names) > shown else "")


def _after(waits: list[tuple[Stream, int]], task: Callable[[], None]) -> Callable[[], None]:
    """``task``, first waiting for the given tasks of other streams (a race made safe)."""
    def ordered() -> None:
        for stream, seq in waits:
            stream.wait_done(seq)
        task()

    return ordered


class Event:
    """A marker in a stream: complete once the stream reaches it."""

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._generation = 0
        self._completed = 0
        self.timestamp: float | None = None
        self.clock: dict[int, int] = {}  # what the latest record orders (see races)
        self._abandoned = False  # aclFinalize: a record still awaited never comes

    def record(self, stream: Stream) -> None:
        with races.lock:
            with self._cv:
                self._generation += 1
                generation = self._generation
            seq = stream.submit("aclrtRecordEvent", lambda: self._complete(generation))
            self.clock = races.snapshot(stream, seq)

    def _complete(self, generation: int) -> None:
        with self._cv:
            self._completed = max(self._completed, generation)
            self.timestamp = time.perf_counter()
            self._cv.notify_all()

    def wait(self, generation: int | None = None, stream: Stream | None = None) -> None:
        """Until the record ``generation`` (default: the latest) completed; raises
        ACL_ERROR_RT_STREAM_ABORT once the work is abandoned (:meth:`abandon`, or that of
        ``stream``, the stream of a waiting task), as the record may never come."""
        with self._cv:
            target = self._generation if generation is None else generation
            while self._completed < target:
                if self._abandoned or (stream is not None and stream.abandoned):
                    raise MockError(C["ACL_ERROR_RT_STREAM_ABORT"],
                                    "the work was abandoned (aclFinalize) while it waited for the event")
                self._cv.wait()

    def abandon(self) -> None:
        """aclFinalize: stop every wait for a record (it may never come)."""
        with self._cv:
            self._abandoned = True
            self._cv.notify_all()

    def _wait_on(self, stream: Stream, generation: int) -> None:
        """The task of aclrtStreamWaitEvent: waits for the record unless ``stream``'s work is abandoned."""
        with stream.blocking(self._cv):
            self.wait(generation, stream)

    def synchronize(self) -> None:
        """aclrtSynchronizeEvent: the host waits, and retires the work the event covers."""
        with races.lock:
            clock = dict(self.clock)
        self.wait()
        races.retire_clock(clock)

    def make_wait(self, stream: Stream) -> None:
        """aclrtStreamWaitEvent: ``stream``'s later tasks wait for the event's latest record."""
        with races.lock:
            with self._cv:
                generation = self._generation
            stream.submit("aclrtStreamWaitEvent", lambda: self._wait_on(stream, generation))
            races.merge(stream, self.clock)
