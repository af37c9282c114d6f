"""Running the modes: one set of thread ranks per rank count, a verdict per mode."""
from __future__ import annotations

import time
import traceback
from itertools import groupby
from typing import Callable

from ..runtime import Runtime
from ..semantics import soc as socs
from ..testing.leaks import LeakCheck
from ..testing.ranks import Ranks
from .framework import ERROR, FAIL, SKIP, CheckFailed, Comparison, Host, Mode, Outcome, judge

__all__ = ["run"]


def _host(runtime: Runtime) -> Host:
    soc = runtime.soc_name
    return Host(soc, socs.profile_of(soc), runtime.device_count)


def _error(mode: Mode, exc: BaseException, seconds: float) -> Outcome:
    if isinstance(exc, CheckFailed):
        return Outcome(mode, FAIL, seconds, detail=str(exc))
    cause = exc.__cause__ if exc.__cause__ is not None else exc
    where = traceback.extract_tb(cause.__traceback__)[-1] if cause.__traceback__ else None
    place = f" (at {where.filename.rsplit('/', 1)[-1]}:{where.lineno})" if where else ""
    return Outcome(mode, ERROR, seconds, detail=f"{type(exc).__name__}: {exc}{place}")


def _attempt(mode: Mode, host: Host) -> Outcome:
    start = time.perf_counter()
    try:
        comparisons: list[Comparison] = mode.run(host)
    except Exception as exc:  # a failure of the mode, reported in its row
        return _error(mode, exc, time.perf_counter() - start)
    return judge(mode, comparisons, time.perf_counter() - start)


def run(modes: list[Mode], *, started: Callable[[Mode], None], finished: Callable[[Outcome], None],
        runtime: Runtime) -> list[Outcome]:
    """Every mode, grouped by rank count (one :class:`Ranks` per count, rebuilt after a
    failure in case it left a stream in a bad state); outcomes in the order of ``modes``,
    and a last one for resources the check itself left open."""
    host = _host(runtime)
    order = {id(mode): i for i, mode in enumerate(modes)}
    outcomes: list[Outcome] = []
    with LeakCheck() as leaks:
        for count, group in groupby(sorted(modes, key=lambda m: m.ranks), key=lambda m: m.ranks):
            ranks: Ranks | None = None
            for mode in group:
                reason = mode.unavailable(host)
                if reason is not None:
                    outcomes.append(Outcome(mode, SKIP, detail=reason))
                    finished(outcomes[-1])
                    continue
                started(mode)
                if ranks is None:
                    try:
                        ranks = Ranks(count)
                    except Exception as exc:
                        outcomes.append(_error(mode, exc, 0.0))
                        finished(outcomes[-1])
                        continue
                host.ranks = ranks
                outcome = _attempt(mode, host)
                outcomes.append(outcome)
                finished(outcome)
                if outcome.failed:
                    ranks = _discard(ranks)
            _discard(ranks)
        outcomes.sort(key=lambda o: order[id(o.mode)])
        leftover = leaks.leaks()
    if leftover:
        mode = Mode("selfcheck/resources-released", lambda host: [])
        outcomes.append(Outcome(mode, FAIL, detail="; ".join(map(str, leftover))))
        finished(outcomes[-1])
    return outcomes


def _discard(ranks: Ranks | None) -> None:
    if ranks is not None:
        try:
            ranks.close()
        except Exception:  # the next set of ranks starts clean; the failure is already reported
            pass
    return None
