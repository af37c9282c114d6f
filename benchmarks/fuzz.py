"""A long run of the suite's fuzzer (tests/mock/fuzzing, the same generator, child runner and verdict as
tests/mock/test_fuzz.py): batches of cases of the three SoC profiles (Atlas A2, Ascend 950, Atlas A3) in
child processes, ``--workers`` at a time, until ``--minutes`` have passed (or ``--cases`` per
profile ran). Prints the figures (cases, operator calls, accepted, executed, refusals per code or
exception, crashes, hangs, internal errors, duration, cores) and every failing case with the
command that reproduces it; exits 1 when anything failed.

    python benchmarks/fuzz.py [--minutes 15] [--seed S] [--workers 2] [--batch 1000] [--cases N]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "mock"))
os.environ.setdefault("ACLNN_PY_BACKEND", "mock")

from fuzzing import cases, runner  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=15.0, help="stop starting batches after this long")
    parser.add_argument("--cases", type=int, default=0, help="stop after this many cases per profile (0: no limit)")
    parser.add_argument("--seed", type=int, default=runner.seed_from_env())
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="child processes at a time")
    parser.add_argument("--batch", type=int, default=1000, help="cases per child process")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds without progress = a hang")
    args = parser.parse_args()
    deadline = time.monotonic() + args.minutes * 60
    began = time.monotonic()
    print(f"fuzz seed {args.seed}, {args.workers} workers on {os.cpu_count()} cores, batches of {args.batch}, "
          f"{args.minutes:g} min" + (f", at most {args.cases} cases per profile" if args.cases else ""), flush=True)
    next_start = {profile: 0 for profile in cases.PROFILES}
    total, failures = runner.Stats(), []

    def next_batch() -> tuple[str, int, int] | None:
        """The next (profile, start, count), the profile with the fewest cases first; None when done."""
        open_profiles = [p for p in cases.PROFILES if not args.cases or next_start[p] < args.cases]
        if not open_profiles or time.monotonic() >= deadline:
            return None
        profile = min(open_profiles, key=lambda p: next_start[p])
        count = args.batch if not args.cases else min(args.batch, args.cases - next_start[profile])
        start = next_start[profile]
        next_start[profile] += count
        return profile, start, count

    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        running = set()
        while True:
            while len(running) < args.workers:
                batch = next_batch()
                if batch is None:
                    break
                running.add(pool.submit(runner.run_batch, args.seed, *batch, timeout=args.timeout,
                                        keep_going=True))
            if not running:
                break
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                stats, found = future.result()
                total.add(stats)
                failures += found
            print(f"  {time.monotonic() - began:7.0f} s: {total.cases} cases, {len(failures)} failing", flush=True)
    total.seconds = time.monotonic() - began
    print(f"\nfigures: {total.summary()}")
    print(f"by operator and path: {dict(sorted(total.by_op.items()))}")
    print(f"throughput: {total.cases / total.seconds:.0f} cases/s on {args.workers} child processes")
    for failure in failures[:20]:
        print("\n" + failure.report())
    if len(failures) > 20:
        print(f"\n... and {len(failures) - 20} more failing cases")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
