"""Start fuzz children, watch them (crash = a signal, hang = no line within a timeout), sum the figures."""
from __future__ import annotations

import collections
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import cases, verdict

CHILD = Path(__file__).resolve().parent / "child.py"
DEFAULT_SEED = 20240909
STARTUP = 60.0  # seconds a child may take to start (import, aclInit, communicators) before its first line


def seed_from_env(default: int = DEFAULT_SEED) -> int:
    """The seed: ``ACLNN_FUZZ_SEED`` when set, else ``default``."""
    return int(os.environ.get("ACLNN_FUZZ_SEED", default))


@dataclass
class Failure:
    """One case that failed, with what it takes to reproduce it."""

    seed: int
    profile: str
    index: int
    kind: str  # "problem", "crash", "hang", "exit", "finalize"
    details: list[str]
    stderr: str = ""

    def report(self) -> str:
        lines = [f"{self.kind} in fuzz case seed={self.seed} profile={self.profile} index={self.index}:"]
        lines += [f"  - {d}" for d in self.details]
        if self.index >= 0:
            lines.append(cases.generate(self.seed, self.profile, self.index).describe())
            lines.append(f"reproduce: python {CHILD.relative_to(CHILD.parents[3])} --seed {self.seed} --soc "
                         f"{self.profile} --start {self.index} --count 1 --verbose")
        if self.stderr:
            lines.append("child stderr (tail):\n" + self.stderr)
        return "\n".join(lines)


@dataclass
class Stats:
    """Figures of a run."""

    cases: int = 0
    calls: int = 0  # operator entry points called (GetWorkspaceSize / weight size / Python API), all ranks
    accepted: int = 0
    executed: int = 0
    rejected: collections.Counter = field(default_factory=collections.Counter)  # code or exception -> count
    sync: collections.Counter = field(default_factory=collections.Counter)
    by_op: collections.Counter = field(default_factory=collections.Counter)
    golden: collections.Counter = field(default_factory=collections.Counter)  # op -> cases compared with it
    crashes: int = 0
    hangs: int = 0
    internal_errors: int = 0
    problems: int = 0
    children: int = 0
    seconds: float = 0.0

    def add(self, other: "Stats") -> None:
        for name, value in vars(other).items():
            if isinstance(value, collections.Counter):
                getattr(self, name).update(value)
            elif name != "seconds":
                setattr(self, name, getattr(self, name) + value)

    def count(self, event: dict, judged: verdict.Verdict) -> None:
        self.cases += 1
        self.by_op[f"{event['op']}{event['version']} via {event['api']}"] += 1
        for record in event["records"]:
            self.calls += sum(1 for c in record["calls"] if c[3] == "op")
            self.calls += record["python"] is not None
        if judged.phase1 in (0, "returned"):
            self.accepted += 1
        else:
            self.rejected[str(judged.phase1)] += 1
        if any(record.get("golden") for record in event["records"]):
            self.golden[event["op"]] += 1
        if judged.executed:
            self.executed += 1
            self.sync[str(judged.sync if judged.sync is not None else "python")] += 1
        internal = [p for p in judged.problems if "internal-error" in p]
        self.internal_errors += len(internal)
        self.problems += len(judged.problems)

    def summary(self) -> str:
        rejected = ", ".join(f"{k}: {v}" for k, v in sorted(self.rejected.items(), key=lambda kv: -kv[1]))
        sync = ", ".join(f"{k}: {v}" for k, v in sorted(self.sync.items(), key=lambda kv: -kv[1]))
        golden = ", ".join(f"{k}: {v}" for k, v in sorted(self.golden.items()))
        return (f"cases {self.cases}, operator calls {self.calls}, accepted {self.accepted}, executed "
                f"{self.executed} (synchronize: {sync}; outputs compared with the golden: {golden or 'none'}), "
                f"rejected: {rejected}; crashes {self.crashes}, hangs "
                f"{self.hangs}, internal errors {self.internal_errors}, other problems "
                f"{self.problems - self.internal_errors}; {self.children} child processes, {self.seconds:.1f} s")


def run_batch(seed: int, profile: str, start: int, count: int, *, timeout: float = 60.0,
              keep_going: bool = False) -> tuple[Stats, list[Failure]]:
    """Run cases ``start .. start + count - 1`` of ``profile`` in child processes.

    A crash or hang ends the child; with ``keep_going`` a new child continues after
    the failing case, otherwise the batch stops there.
    """
    stats, failures = Stats(), []
    index = start
    end = start + count
    while index < end:
        done, child_failures = _run_child(seed, profile, index, end - index, timeout, stats)
        stats.children += 1
        failures += child_failures
        index = done
        fatal = [f for f in child_failures if f.kind in ("crash", "hang", "exit")]
        if fatal:
            index = fatal[0].index + 1 if fatal[0].index >= 0 else end
            if not keep_going:
                break
        if failures and not keep_going:
            break
    return stats, failures


def _run_child(seed: int, profile: str, start: int, count: int, timeout: float,
               stats: Stats) -> tuple[int, list[Failure]]:
    """One child: returns (the next index to run, failures)."""
    env = dict(os.environ)
    env.setdefault("ACLNN_PY_BACKEND", "mock")
    command = [sys.executable, str(CHILD), "--seed", str(seed), "--soc", profile, "--start", str(start),
               "--count", str(count)]
    failures: list[Failure] = []
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
        lines: queue.Queue = queue.Queue()
        reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout] + [lines.put(None)],
                                  daemon=True)
        reader.start()
        current, next_index, finalized, started = -1, start, False, False
        try:
            while True:
                try:
                    line = lines.get(timeout=timeout if started else max(timeout, STARTUP))
                    started = True
                except queue.Empty:
                    proc.kill()
                    proc.wait()
                    failures.append(Failure(seed, profile, current, "hang",
                                            [f"no progress for {timeout:.0f} s (killed)"], _tail(err)))
                    stats.hangs += 1
                    return max(next_index, current + 1), failures
                if line is None:
                    break
                try:
                    event = json.loads(line)
                except ValueError:  # the mock or the operator printed on stdout: a finding, reading goes on
                    stray = line.strip()[:200]
                    failures.append(Failure(seed, profile, current, "problem",
                                            [f"the child printed a line that is not an event: {stray!r}"]))
                    continue
                if event["event"] == "begin":
                    current = event["index"]
                elif event["event"] == "case":
                    case_function = cases.generate(seed, profile, event["index"]).function
                    judged = verdict.judge(event, case_function, profile)
                    stats.count(event, judged)
                    if judged.problems:
                        failures.append(Failure(seed, profile, event["index"], "problem", judged.problems))
                    next_index = event["index"] + 1
                elif event["event"] == "finalize":
                    finalized = True
                    if event["code"] != 0:
                        failures.append(Failure(seed, profile, -1, "finalize",
                                                [f"aclFinalize (ACLNN_MOCK_STRICT=1) after cases {start}.."
                                                 f"{next_index - 1} returned {event['code']}: {event['message']}"]))
            code = proc.wait()
            if code < 0:
                stats.crashes += 1
                failures.append(Failure(seed, profile, current, "crash", [f"the child died of signal {-code}"],
                                        _tail(err)))
                return max(next_index, current + 1), failures
            if code != 0 or not finalized:
                failures.append(Failure(seed, profile, current, "exit",
                                        [f"the child exited with status {code} before finishing"], _tail(err)))
                return max(next_index, current + 1), failures
        except BaseException:  # the runner's own failure: never leave the child running
            proc.kill()
            proc.wait()
            raise
    return next_index, failures


def _tail(err, limit: int = 4000) -> str:
    err.seek(0)
    return err.read()[-limit:]


def run(seed: int, plan: list[tuple[str, int, int]], *, workers: int = 2, timeout: float = 60.0,
        keep_going: bool = False) -> tuple[Stats, list[Failure]]:
    """Run batches ``(profile, start, count)`` on ``workers`` child processes at a time."""
    began = time.monotonic()
    total, failures = Stats(), []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run_batch, seed, profile, start, count, timeout=timeout, keep_going=keep_going)
                   for profile, start, count in plan]
        for future in futures:
            stats, found = future.result()
            total.add(stats)
            failures += found
    total.seconds = time.monotonic() - began
    return total, failures
