"""Streams and events: work runs asynchronously, in order, on a worker thread per stream.

Each task declares the memory it touches (:class:`~mock_runtime.core.races.Access`);
:mod:`mock_runtime.core.races` checks it against the other streams when it is
queued and the host retires it when it synchronises.
"""
from __future__ import annotations

import sys
import threading
import time
import traceback
from collections import deque
from typing import Callable, Iterable

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
            raise error

    def close(self) -> None:
        """Finish queued work, then stop the worker."""
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join()
            races.forget_stream(self)


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

    def wait(self, generation: int | None = None) -> None:
        with self._cv:
            target = self._generation if generation is None else generation
            while self._completed < target:
                self._cv.wait()

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
            stream.submit("aclrtStreamWaitEvent", lambda: self.wait(generation))
            races.merge(stream, self.clock)
