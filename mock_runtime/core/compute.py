"""The compute pool: the one place the mock's operator numerics run, whoever asks for them.

Every stream has a worker thread, and HCCL ranks on threads mean one stream per rank:
eight rank threads computing their matmuls at the same time would each start the BLAS's
own threads, and elementwise NumPy work of seven ranks would take the cores from the
BLAS threads of the eighth (BLAS splits a product evenly among its threads, so the
product waits for the slowest). The operators instead hand their work to this pool, in
independent *units* (a rank's partial product, a group of a grouped matmul, a block of
rows of an AllReduce), and the pool runs at most one unit per core at a time, in the
order they were submitted, for every stream, rank and operator of the process.

The units are golden code (:mod:`aclnn_py.semantics`): pure functions of their arguments.
Where a golden offers a ``map`` parameter (its independent units, computed as by the
built-in ``map``), the mock passes :meth:`ComputePool.map`. The results do not depend on
how many units run at once nor in which order they finish.

A unit runs on a pool thread as mock code (:func:`mock_runtime.core.reentry.collecting`):
a finalizer that a garbage collection runs there is not run on the pool thread but handed,
once the unit is accounted for, to the thread that asked for the work, which runs it when
it leaves the mock (a finalizer may wait for that very thread: a stream's destruction joins
its worker). The unit's exception reaches the caller. A unit that itself asks the pool for
work never waits for a free core: it runs that work on the cores it holds (a BLAS unit
holds them all, so its element-wise work between products runs on every core).

Where the ``fast`` extra (onnxruntime) is installed, the exact integer products of the
goldens run on its integer GEMM (:mod:`mock_runtime.core.int_kernel`, installed here with as
many threads as the pool has cores), else on float32 BLAS: the same result bits either way.
"""
from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from mock_runtime.core import int_kernel, reentry

T = TypeVar("T")
R = TypeVar("R")


def core_count() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class _Batch:
    """One :meth:`ComputePool.map` call: its results, in item order, and its errors."""

    def __init__(self, count: int, cores: int) -> None:
        self.cores = cores  # the cores each of its units keeps busy
        self.results: list[Any] = [None] * count
        self.errors: list[BaseException | None] = [None] * count
        self.remaining = count
        self.done = threading.Event()
        self.deferred: list[Callable[[], object]] = []  # finalizer calls collected by its units


_Entry = tuple[_Batch, int, Callable[[], Any]]


class ComputePool:
    """``cores`` threads (started on first use) running units first come, first served, as
    long as the units running keep at most ``cores`` cores busy."""

    def __init__(self, cores: int) -> None:
        self.cores = cores
        self._cv = threading.Condition()
        self._queue: deque[_Entry] = deque()
        self._inner: deque[_Entry] = deque()  # work of a unit holding every core: runs at once
        self._busy = 0  # cores taken by the running units
        self._threads: list[threading.Thread] = []
        self._local = threading.local()  # on a pool thread: .held, the cores of the unit it runs

    def map(self, fn: Callable[[T], R], items: Iterable[T], *, blas: bool = False) -> list[R]:
        """``[fn(item) for item in items]``, the calls spread over the pool; blocks until all
        are done and raises the exception of the first failed item (in item order).

        ``blas``: the units are dominated by BLAS products, which run their own threads on
        every core: such a unit runs alone. Other units (NumPy's element-wise loops run on
        one core) run one per core. Called from inside a unit, the items run on the cores
        that unit holds: spread over the pool's threads when it holds several (a BLAS unit
        between its products), else one after another on the calling thread.
        """
        items = list(items)
        held = getattr(self._local, "held", None)
        if held is not None:
            if held > 1 and len(items) > 1:
                return self._run(_Batch(len(items), 0), fn, items, self._inner)
            return [fn(item) for item in items]
        return self._run(_Batch(len(items), self.cores if blas else 1), fn, items, self._queue)

    def call(self, fn: Callable[..., R], *args: Any, blas: bool = False, **kwargs: Any) -> R:
        """``fn(*args, **kwargs)`` as one unit of the pool (``blas`` as for :meth:`map`)."""
        return self.map(lambda _: fn(*args, **kwargs), [None], blas=blas)[0]

    def _run(self, batch: _Batch, fn: Callable[[T], R], items: list[T], queue: deque[_Entry]) -> list[R]:
        entries = [(batch, i, lambda item=item: fn(item)) for i, item in enumerate(items)]
        with self._cv:
            self._start_threads()
            queue.extend(entries)
            self._cv.notify_all()
        if queue is self._inner:  # the calling unit's thread takes its share of the items
            while True:
                with self._cv:
                    entry = next((e for e in self._inner if e[0] is batch), None)
                    if entry is None:
                        break
                    self._inner.remove(entry)
                self._execute(entry, 0)
        if items:
            batch.done.wait()
        for call in batch.deferred:  # on this thread, after its own mock code
            if reentry.active():
                reentry.defer(call)
            else:
                call()
        for error in batch.errors:
            if error is not None:
                raise error
        return batch.results

    def _start_threads(self) -> None:
        while len(self._threads) < self.cores:
            thread = threading.Thread(target=self._work, name=f"mock-compute-{len(self._threads)}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _work(self) -> None:
        while True:
            with self._cv:
                # first come, first served: the next unit waits for its cores, the others wait behind it
                while not self._inner and (not self._queue or self._busy + self._queue[0][0].cores > self.cores):
                    self._cv.wait()
                entry = self._inner.popleft() if self._inner else self._queue.popleft()
                cores = entry[0].cores
                self._busy += cores
            self._execute(entry, cores)

    def _execute(self, entry: _Entry, cores: int) -> None:
        """Run one item holding ``cores`` (0: cores its caller holds), then account for it."""
        batch, index, unit = entry
        outer = getattr(self._local, "held", None)
        self._local.held = cores
        deferred: list[Callable[[], object]] = []
        try:
            with reentry.collecting(deferred):
                batch.results[index] = unit()
        except BaseException as exc:  # noqa: BLE001 -- handed to the caller
            batch.errors[index] = exc
        finally:
            self._local.held = outer
        with self._cv:
            batch.deferred += deferred
            self._busy -= cores
            batch.remaining -= 1
            if not batch.remaining:
                batch.done.set()
            self._cv.notify_all()

    def _forget_threads(self) -> None:
        """In a forked child: the parent's pool threads do not exist here."""
        self._cv = threading.Condition()
        self._queue.clear()
        self._inner.clear()
        self._busy = 0
        self._threads = []


#: The pool of this process, as wide as the cores it may use.
pool = ComputePool(core_count())
int_kernel.install(pool.cores)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=pool._forget_threads)
