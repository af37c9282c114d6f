"""A soak of aclnnQuantMatmulAllReduceV4: many calls per rank, every output checked, memory sampled.

Each rank runs ``calls`` one-shot calls of the Python API (``quant_matmul_all_reduce_v4``: both
phases, the stream's workspace, the release of what the call made) of INT8 per-token quantization
(formula 3, FLOAT16 output, m = 16, k = 256, n = 32: x1 is 4 KiB, so a device copy left behind
per call would show at once). The inputs rotate through ``SETS`` sets made
from (set, rank), so every rank knows the golden of every call; every other call passes x1 as a
NumPy array (the wrapper makes and releases a device copy). Before each call the output is filled
with NaN on the stream, after it the stream is synchronised and the output compared with the
golden under CANN's precision standard: a lost, stale or mixed-up call fails the comparison.

Memory: every ``sample_every`` calls rank 0 records the process's resident set (RSS) and, when
tracemalloc is on, the traced Python heap (the mock's device memory and bookkeeping are NumPy and
Python objects of the same interpreter). :func:`slope` fits a least-squares line to the samples
after the warm-up: bytes per call. Before the calls, :func:`fill_quarantine` frees more small
allocations than the mock's quarantine of freed address ranges holds
(``mock_runtime.core.memory.QUARANTINE_COUNT``): its bookkeeping grows until the quarantine is
full and is flat afterwards, so a slope measured earlier would show that bounded growth. Each
sample follows a ``gc.collect()``: Python keeps up to 2,000 freed tuples of each size (and dicts,
floats...) on free lists that a full collection empties; they would otherwise show as a slope
until the lists are full.

    python tests/mock/soak.py --threads 2 --calls 200 [--tracemalloc] [--json]     # thread ranks
    python -m aclnn_py.launch -n 4 tests/mock/soak.py --worker --calls 1000 --out DIR  # process ranks

benchmarks/soak.py runs both at full size; tests/mock/test_soak.py a short one.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import threading
import tracemalloc
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

os.environ.setdefault("ACLNN_PY_BACKEND", "mock")

M, K, N = 16, 256, 32
SETS = 8


@dataclass
class RankResult:
    """What one rank did: calls made, calls whose output failed the comparison, memory samples."""

    rank: int
    calls: int = 0
    wrong: int = 0
    first_wrong: str = ""
    samples: list[tuple[int, int, int]] = field(default_factory=list)  # (calls, rss bytes, traced bytes)


def rank_inputs(world: int, rank: int, sets: int = SETS) -> list[dict[str, np.ndarray]]:
    """The inputs of ``rank`` for every set (the same on every process: seeded by set and rank)."""
    out = []
    for s in range(sets):
        rng = np.random.default_rng([s, rank, world])
        out.append({"x1": rng.integers(-128, 128, (M, K)).astype(np.int8),
                    "x2": rng.integers(-128, 128, (K, N)).astype(np.int8),
                    "x1_scale": rng.uniform(0.5, 1.5, M).astype(np.float32),
                    "x2_scale": rng.uniform(1e-4, 2e-4, N).astype(np.float32)})
    return out


def goldens(world: int, sets: int = SETS) -> list[np.ndarray]:
    """The expected output of each set: the golden over every rank's inputs."""
    from aclnn_py.semantics.quant_matmul_all_reduce.golden import quant_matmul_all_reduce

    per_rank = [rank_inputs(world, r, sets) for r in range(world)]
    return [quant_matmul_all_reduce([p[s]["x1"] for p in per_rank], [p[s]["x2"] for p in per_rank],
                                    [p[s]["x2_scale"] for p in per_rank],
                                    x1_scale=[p[s]["x1_scale"] for p in per_rank], out_dtype="float16")
            for s in range(sets)]


def rss() -> int:
    """Resident set size of this process, in bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def fill_quarantine(count: int = 1100) -> None:
    """Allocate and free ``count`` small device buffers (more than the mock's quarantine holds)."""
    from aclnn_py import DeviceBuffer

    for _ in range(count):
        DeviceBuffer(1).close()


def run_rank(rank: int, world: int, group, stream, calls: int, expected: list[np.ndarray],
             sample_every: int = 0, leak: int = 0, sampler: bool = True,
             barrier: threading.Barrier | None = None) -> RankResult:
    """``calls`` calls on this rank (its device current, ``group`` its communicator). Every
    ``sample_every`` calls (0: never) the ranks of this process meet at ``barrier`` and the
    ``sampler`` records the memory while the others wait, so no call is in flight. ``leak`` bytes
    are kept per call on purpose (to check that the measurement sees a leak)."""
    from aclnn_py import Tensor
    from aclnn_py.ops._quant_matmul_all_reduce import quant_matmul_all_reduce_v4
    from aclnn_py.semantics.precision import compare

    result = RankResult(rank)
    inputs = rank_inputs(world, rank, len(expected))
    tensors = [{k: Tensor.from_numpy(v) for k, v in s.items()} for s in inputs]
    out = Tensor.empty((M, N), "float16")
    kept = []
    try:
        for i in range(calls):
            s = i % len(expected)
            t = tensors[s]
            x1 = t["x1"] if i % 2 == 0 else inputs[s]["x1"]  # odd calls: the wrapper copies the array
            out.buffer.memset(0xFF, stream=stream)  # NaN: a call that does not write fails the check
            quant_matmul_all_reduce_v4(x1, t["x2"], t["x2_scale"], x1_scale=t["x1_scale"], group=group,
                                       stream=stream, out=out)
            stream.synchronize()
            check = compare(out.to_numpy(), expected[s], "float16")
            result.calls += 1
            if leak:
                kept.append(bytearray(leak))
            if not check.passed:
                result.wrong += 1
                result.first_wrong = result.first_wrong or f"call {i} (set {s}): {check}"
            if sample_every and (i + 1) % sample_every == 0:
                if barrier is not None:
                    barrier.wait()
                if sampler:
                    gc.collect()  # Python's free lists and pending cycles are not what is measured
                    traced = tracemalloc.get_traced_memory()[0] if tracemalloc.is_tracing() else 0
                    result.samples.append((i + 1, rss(), traced))
                if barrier is not None:
                    barrier.wait()
    finally:
        out.close()
        for t in tensors:
            for tensor in t.values():
                tensor.close()
    return result


def slope(samples: list[tuple[int, int, int]], column: int, warmup: float = 0.25) -> float:
    """Bytes per call: the least-squares slope of ``column`` (1 RSS, 2 traced) against the call count,
    over the samples after the first ``warmup`` fraction of the calls."""
    if not samples:
        return float("nan")
    last = samples[-1][0]
    kept = [s for s in samples if s[0] > warmup * last]
    if len(kept) < 3:
        return float("nan")
    x = np.array([s[0] for s in kept], np.float64)
    y = np.array([s[column] for s in kept], np.float64)
    return float(np.polyfit(x, y, 1)[0])


def run_threads(world: int, calls: int, sample_every: int, leak: int = 0) -> list[RankResult]:
    """``world`` thread ranks in this process (HcclCommInitAll), ``calls`` calls each."""
    import aclnn_py
    from aclnn_py import hccl

    expected = goldens(world)
    results: list[RankResult | None] = [None] * world
    errors: list[BaseException] = []
    with aclnn_py.Runtime():
        devices = [aclnn_py.Device(r) for r in range(world)]
        comms = hccl.init_all(list(range(world)))
        devices[0].use()
        fill_quarantine()
        barrier = threading.Barrier(world)

        def rank_main(rank: int) -> None:
            try:
                devices[rank].use()
                with aclnn_py.Stream() as stream:
                    results[rank] = run_rank(rank, world, comms[rank], stream, calls, expected, sample_every, leak,
                                             sampler=rank == 0, barrier=barrier)  # one process: rank 0 samples
            except BaseException as exc:  # noqa: BLE001 -- reported by the caller
                errors.append(exc)
                barrier.abort()  # the other ranks stop waiting for this one

        threads = [threading.Thread(target=rank_main, args=(r,), name=f"soak-rank-{r}") for r in range(world)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for c in comms:
            c.close()
        for d in devices:
            d.close()
    if errors:
        raise errors[0]
    return results  # type: ignore[return-value]


def run_worker(calls: int, sample_every: int, out_dir: Path) -> RankResult:
    """One process rank under aclnn_py.launch (init_from_env), sampling its own memory; writes
    rank<R>.json into ``out_dir``."""
    import aclnn_py
    from aclnn_py import hccl

    with aclnn_py.Runtime():
        with hccl.init_from_env() as comm, aclnn_py.Stream() as stream:
            fill_quarantine()
            result = run_rank(comm.rank, comm.size, comm, stream, calls, goldens(comm.size), sample_every)
    (out_dir / f"rank{result.rank}.json").write_text(json.dumps(asdict(result)))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="thread ranks in this process")
    parser.add_argument("--calls", type=int, default=200, help="calls per rank")
    parser.add_argument("--sample-every", type=int, default=10)
    parser.add_argument("--tracemalloc", action="store_true", help="also sample the traced Python heap")
    parser.add_argument("--worker", action="store_true", help="one process rank under aclnn_py.launch")
    parser.add_argument("--out", type=Path, help="--worker: the directory for rank<R>.json")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON line")
    parser.add_argument("--leak", type=int, default=0, help="bytes to keep per call on purpose (checks the measure)")
    args = parser.parse_args(argv)
    if args.tracemalloc:
        tracemalloc.start()
    if args.worker:
        result = run_worker(args.calls, args.sample_every, args.out)
        return 1 if result.wrong or result.calls != args.calls else 0
    results = run_threads(args.threads, args.calls, args.sample_every, args.leak)
    if args.json:
        print(json.dumps([asdict(r) for r in results]))
    else:
        for r in results:
            print(f"rank {r.rank}: {r.calls} calls, {r.wrong} wrong {r.first_wrong}")
        samples = results[0].samples
        w = args.threads  # rank 0's samples count steps of every rank: per call = per step / ranks
        print(f"RSS slope {slope(samples, 1) / w:.1f} B/call, traced slope {slope(samples, 2) / w:.1f} B/call")
    return 1 if any(r.wrong or r.calls != args.calls for r in results) else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    sys.exit(main())
