"""Soak of aclnnQuantMatmulAllReduceV4 on the mock: 8 thread ranks x 1,000 calls in one process and 4
processes x 1,000 calls (one 4-rank communicator across processes, aclnn_py.launch +
hccl.init_from_env), every call's output checked against the golden, memory sampled.

The loop is tests/mock/soak.py (the suite runs a short one: tests/mock/test_soak.py). Prints, per run: calls,
wrong outputs, the RSS (and with --tracemalloc the traced heap) at the first and last sample, and
the least-squares slope after the warm-up in bytes per call.

    python benchmarks/soak.py [--threads 8] [--processes 4] [--calls 1000] [--sample-every 20] [--tracemalloc]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "mock"))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ACLNN_PY_BACKEND", "mock")

import soak  # noqa: E402
from aclnn_py import launch  # noqa: E402

SOAK = ROOT / "tests" / "mock" / "soak.py"


def report(title: str, results: list[dict], calls_per_rank: int, per_call_divisor: int, seconds: float) -> bool:
    """Print one run's figures; True when every rank made all its calls and every one was right."""
    calls = sum(r["calls"] for r in results)
    wrong = sum(r["wrong"] for r in results)
    print(f"\n{title}: {calls} calls in {seconds:.1f} s, {wrong} wrong outputs")
    for r in results:
        if r["first_wrong"]:
            print(f"  rank {r['rank']}: {r['first_wrong']}")
        samples = r["samples"]
        if not samples:
            continue
        rss_slope = soak.slope(samples, 1) / per_call_divisor
        line = (f"  rank {r['rank']}: RSS {samples[0][1] / 2**20:.1f} -> {samples[-1][1] / 2**20:.1f} MiB, "
                f"slope after warm-up {rss_slope:+.1f} B/call")
        if samples[-1][2]:
            line += (f"; traced heap {samples[0][2] / 2**20:.2f} -> {samples[-1][2] / 2**20:.2f} MiB, "
                     f"slope {soak.slope(samples, 2) / per_call_divisor:+.1f} B/call")
        print(line)
    return wrong == 0 and all(r["calls"] == calls_per_rank for r in results)


def run_threads(threads: int, calls: int, every: int, trace: bool) -> bool:
    began = time.monotonic()
    command = [sys.executable, str(SOAK), "--threads", str(threads), "--calls", str(calls),
               "--sample-every", str(every), "--json"] + (["--tracemalloc"] if trace else [])
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    if done.returncode not in (0, 1) or not done.stdout.strip():
        print(done.stdout + done.stderr)
        return False
    results = json.loads(done.stdout.strip().splitlines()[-1])
    # rank 0 samples the whole process: one sample step = one call of each of the `threads` ranks
    return report(f"{threads} thread ranks x {calls} calls (one process)", results, calls, threads,
                  time.monotonic() - began)


def run_processes(processes: int, calls: int, every: int, trace: bool) -> bool:
    began = time.monotonic()
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, str(SOAK), "--worker", "--calls", str(calls), "--sample-every", str(every),
                   "--out", out] + (["--tracemalloc"] if trace else [])
        code = launch.run(command, processes, timeout=3600)
        results = [json.loads(p.read_text()) for p in sorted(Path(out).glob("rank*.json"))]
    if code != 0 or len(results) != processes:
        print(f"launcher exit code {code}, {len(results)} of {processes} ranks reported")
        return False
    return report(f"{processes} processes x {calls} calls (a {processes}-rank communicator across processes)",
                  results, calls, 1, time.monotonic() - began)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--calls", type=int, default=1000, help="calls per rank")
    parser.add_argument("--sample-every", type=int, default=20)
    parser.add_argument("--tracemalloc", action="store_true", help="also sample the traced Python heap (slower)")
    args = parser.parse_args()
    ok = True
    if args.threads:
        ok &= run_threads(args.threads, args.calls, args.sample_every, args.tracemalloc)
    if args.processes:
        ok &= run_processes(args.processes, args.calls, args.sample_every, args.tracemalloc)
    print("\nOK" if ok else "\nFAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
