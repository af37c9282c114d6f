"""Deadlines of the mock's HCCL: one daemon thread runs callbacks when they expire
(rendezvous and collective timeouts); an entry can be cancelled."""
from __future__ import annotations

import heapq
import itertools
import threading
import time
from typing import Callable

from mock_runtime.core import reentry


class Watchdog:
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


#: The watchdog of this process (its thread starts with the first deadline).
watchdog = Watchdog()
