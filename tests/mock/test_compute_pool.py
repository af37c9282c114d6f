"""The mock's compute pool (mock_runtime.core.compute): results in order, errors to the caller,
never more units at once than cores, BLAS units alone (their own work on the cores they
hold), a narrow unit's work inline, usable after fork."""
from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from mock_runtime.core import reentry
from mock_runtime.core.compute import ComputePool, core_count


class Tracker:
    """Counts the units running at once, and what ran beside a BLAS unit."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running: list[str] = []
        self.most = 0
        self.beside_blas: list[list[str]] = []

    def unit(self, name: str, body=lambda: None):
        with self.lock:
            self.running.append(name)
            self.most = max(self.most, len(self.running))
            if any(r.startswith("blas") for r in self.running) and len(self.running) > 1:
                self.beside_blas.append(list(self.running))
        try:
            return body()
        finally:
            with self.lock:
                self.running.remove(name)


def test_results_in_item_order_and_the_first_error_raised():
    pool = ComputePool(2)
    assert pool.map(lambda v: v * v, range(7)) == [0, 1, 4, 9, 16, 25, 36]
    assert pool.map(lambda v: v, []) == []
    assert pool.call(divmod, 7, 2) == (3, 1)

    def fail_on_odd(v: int) -> int:
        if v % 2:
            raise ValueError(f"odd {v}")
        return v

    with pytest.raises(ValueError, match="odd 1"):
        pool.map(fail_on_odd, range(6))
    assert pool.map(fail_on_odd, [0, 2]) == [0, 2]  # the pool survives a failed unit


def test_units_run_one_per_core_and_side_by_side():
    pool = ComputePool(2)
    tracker = Tracker()
    pair = threading.Barrier(2, timeout=30)  # breaks unless two units run at the same time

    results = pool.map(lambda i: tracker.unit(f"u{i}", lambda: pair.wait() >= 0), range(6))
    assert results == [True] * 6
    assert tracker.most == 2


def test_blas_units_run_alone_even_from_several_callers():
    pool = ComputePool(2)
    tracker = Tracker()
    errors: list[BaseException] = []

    def caller(index: int) -> None:
        try:
            pool.map(lambda i: tracker.unit(f"narrow{index}.{i}", lambda: time.sleep(0.01)), range(2))
            pool.map(lambda i: tracker.unit(f"blas{index}.{i}", lambda: time.sleep(0.01)), range(3), blas=True)
            pool.map(lambda i: tracker.unit(f"narrow{index}.{i}", lambda: time.sleep(0.01)), range(2))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert tracker.beside_blas == []
    assert tracker.most == 2  # the narrow units did share the cores


def test_a_blas_unit_spreads_its_own_work_over_the_cores_it_holds():
    pool = ComputePool(2)
    tracker = Tracker()
    pair = threading.Barrier(2, timeout=30)  # breaks unless two items run at the same time

    def unit(i: int) -> set:
        me = threading.get_ident()
        ran = pool.map(lambda j: (pair.wait(), threading.get_ident())[1], range(4))
        assert pool.map(lambda j: j, [7]) == [7]
        return {t == me for t in ran}

    def others() -> None:
        pool.map(lambda i: tracker.unit(f"narrow{i}", lambda: time.sleep(0.01)), range(4))

    side = threading.Thread(target=others)
    side.start()
    results = pool.map(lambda i: tracker.unit(f"blas{i}", lambda: unit(i)), range(2), blas=True)
    side.join()
    assert results == [{True, False}] * 2  # the unit's thread and another pool thread
    assert tracker.beside_blas == []


def test_a_unit_asking_for_more_work_runs_it_inline():
    pool = ComputePool(1)
    outer = threading.get_ident

    def unit(i: int) -> list:
        me = outer()
        return pool.map(lambda j: (i, j, outer() == me), range(3), blas=True)

    assert pool.map(unit, range(2)) == [[(i, j, True) for j in range(3)] for i in range(2)]


def test_calls_deferred_inside_a_unit_run_on_the_thread_that_asked():
    """A finalizer a collection runs inside a unit (deferred there, as the mock's exports do)
    runs on the caller's thread, never on the pool thread: right after the map when the caller
    is outside mock code, when it leaves the mock otherwise (a stream task: the finalizer may
    join that stream's worker). Even a deferred call of a failing unit is handed over."""
    pool = ComputePool(2)
    ran_on: list[str] = []

    def unit(fail: bool) -> int:
        assert reentry.active()
        reentry.defer(lambda: ran_on.append(threading.current_thread().name))
        if fail:
            raise ValueError("unit failed")
        return 1

    assert pool.map(unit, [False, False]) == [1, 1]
    assert ran_on == ["MainThread", "MainThread"]
    ran_on.clear()
    with reentry.inside():
        assert pool.map(unit, [False], blas=True) == [1]
        assert ran_on == []  # still inside the caller's mock code
    assert ran_on == ["MainThread"]
    ran_on.clear()
    with pytest.raises(ValueError, match="unit failed"):
        pool.map(unit, [True])
    assert ran_on == ["MainThread"]


def test_core_count_and_the_process_pool():
    from mock_runtime.core import compute

    assert core_count() >= 1
    assert compute.pool.cores == core_count()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_pool_works_in_a_forked_child():
    from mock_runtime.core import compute

    assert compute.pool.map(lambda v: v + 1, [1, 2]) == [2, 3]  # threads started in the parent
    pid = os.fork()
    if pid == 0:  # the child: the parent's pool threads are gone, new ones start
        signal.alarm(30)  # a hung child dies instead of hanging the test
        code = 0 if compute.pool.map(lambda v: v * 2, [1, 2, 3]) == [2, 4, 6] else 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
