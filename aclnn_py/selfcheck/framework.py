"""What a self-check mode is, what it reports, and how the outputs are judged.

A :class:`Mode` is one call pattern of one API (``quant_matmul_all_reduce/v4/f3/int8->bf16``) on a
number of ranks. Its ``run`` receives a :class:`Host` (the SoC, the device count
and the :class:`~aclnn_py.testing.Ranks` of its rank count), runs the API on the
device, computes the golden on the host and returns :class:`Comparison` s made
with CANN's precision standard (:func:`aclnn_py.semantics.precision.compare`); it raises
:class:`CheckFailed` for an expectation that is not a number (a wrong shape, a
flag). ``profiles`` lists the SoC product profiles that have the mode; on another
SoC it is skipped with ``feature`` in the reason.
"""
from __future__ import annotations

import fnmatch
import zlib
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from ..semantics.precision import CompareResult, compare

__all__ = ["CheckFailed", "Comparison", "Host", "Mode", "Outcome", "PROFILE_NAMES", "close_after", "exact", "judge",
           "matches", "rng_for"]

PROFILE_NAMES = {"A2": "Atlas A2", "A3": "Atlas A3", "950": "Ascend 950"}
PASS, FAIL, ERROR, SKIP = "PASS", "FAIL", "ERROR", "SKIP"


class CheckFailed(AssertionError):
    """An expectation of a mode that is not a precision comparison did not hold."""


@dataclass(frozen=True)
class Comparison:
    """One output (``what``: "rank 2 out", "y[1]"...) against its golden."""

    what: str
    result: CompareResult


@dataclass
class Host:
    """What a mode runs on: the SoC, its profile ("A2", "A3", "950" or None), the devices,
    and the thread ranks of the mode's rank count (one for the single-device modes)."""

    soc: str | None
    profile: str | None
    device_count: int
    ranks: object = None  # aclnn_py.testing.Ranks


@dataclass(frozen=True)
class Mode:
    name: str
    run: Callable[[Host], list[Comparison]]
    ranks: int = 1
    profiles: tuple[str, ...] | None = None  # None: every SoC, also an unknown one
    feature: str = ""  # what needs the profiles, for the skip reason
    allowed_ranks: Callable[[str], Sequence[int]] | None = None  # rank counts of a profile

    @property
    def key(self) -> str:
        return f"{self.name}@{self.ranks}"

    def unavailable(self, host: Host) -> str | None:
        """Why the mode cannot run on ``host`` (None when it can)."""
        if self.profiles is not None and host.profile not in self.profiles:
            where = " or ".join(PROFILE_NAMES[p] for p in self.profiles)
            present = PROFILE_NAMES.get(host.profile or "", "a SoC without a known profile")
            return f"{self.feature or self.name} runs on {where}; this SoC ({host.soc}) is {present}"
        if self.allowed_ranks is not None and host.profile is not None \
                and self.ranks not in self.allowed_ranks(host.profile):
            allowed = ", ".join(map(str, self.allowed_ranks(host.profile)))
            return f"{self.feature or self.name} takes {allowed} ranks on {PROFILE_NAMES[host.profile]}"
        if self.ranks > host.device_count:
            return f"{self.ranks} ranks need {self.ranks} devices; this host has {host.device_count}"
        return None


@dataclass
class Outcome:
    """The verdict on one mode: status, the worst comparison, time, details."""

    mode: Mode
    status: str
    seconds: float = 0.0
    worst: Comparison | None = None
    detail: str = ""
    comparisons: list[Comparison] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.status in (FAIL, ERROR)


def _badness(c: Comparison) -> float:
    r = c.result
    if not r.passed:
        return float("inf")
    if r.threshold == 0:
        return 0.0
    return max(r.mare / (10 * r.threshold), r.mere / r.threshold)


def judge(mode: Mode, comparisons: Sequence[Comparison], seconds: float) -> Outcome:
    """PASS when every comparison passed (at least one is needed), else FAIL naming the first failure."""
    if not comparisons:
        return Outcome(mode, ERROR, seconds, detail="the mode compared nothing")
    worst = max(comparisons, key=_badness)
    failures = [c for c in comparisons if not c.result.passed]
    if failures:
        detail = "; ".join(f"{c.what}: {c.result}" for c in failures[:3])
        if len(failures) > 3:
            detail += f"; and {len(failures) - 3} more"
        return Outcome(mode, FAIL, seconds, failures[0], detail, list(comparisons))
    return Outcome(mode, PASS, seconds, worst, comparisons=list(comparisons))


def exact(what: str, actual: np.ndarray, expected: np.ndarray) -> Comparison:
    """A bit-exact comparison (integers, packed words, bytes)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    if actual.shape != expected.shape:
        raise CheckFailed(f"{what}: shape {actual.shape}, expected {expected.shape}")
    return Comparison(what, compare(actual.view(np.uint8) if actual.dtype.kind not in "iub" else actual,
                                    expected.view(np.uint8) if expected.dtype.kind not in "iub" else expected))


def close_after(stream, resources: Sequence) -> None:
    """Close ``resources`` (newest first) once ``stream`` has passed the work queued on them;
    on a failed call the stream's own error is the call's to report, not this one's."""
    try:
        stream.synchronize()
    except Exception:
        pass
    for resource in reversed(resources):
        resource.close()


def read_output(stream, out) -> np.ndarray:
    """``out`` on the host once ``stream`` has run the work that writes it; ``out`` is closed."""
    stream.synchronize()
    with out:
        return out.to_numpy()


def rank_inputs(mode_name: str, size: int, make: Callable[[np.random.Generator], dict]) -> list[dict]:
    """``make``'s inputs for each of ``size`` ranks, from the generator of the mode, count and rank."""
    return [make(rng_for(f"{mode_name}@{size}", r)) for r in range(size)]


def columns(inputs: Sequence[dict]) -> dict[str, list]:
    """The ranks' inputs by name, each a list in rank order (``.get`` gives None for an omitted one)."""
    return {key: [d[key] for d in inputs] for key in inputs[0]}


def matches(mode: Mode, patterns: Sequence[str]) -> bool:
    """Whether ``mode`` is selected: no patterns, or one that matches its name or ``name@ranks``
    (shell wildcards; a pattern without wildcards matches as a substring), case-insensitively."""
    if not patterns:
        return True
    for pattern in patterns:
        p = pattern.lower()
        if not any(ch in p for ch in "*?["):
            p = f"*{p}*"
        if fnmatch.fnmatchcase(mode.name.lower(), p) or fnmatch.fnmatchcase(mode.key.lower(), p):
            return True
    return False


def rng_for(mode_name: str, rank: int = 0) -> np.random.Generator:
    """A generator seeded by the mode and the rank: the same inputs at every run."""
    return np.random.default_rng([zlib.crc32(mode_name.encode()), rank])
