"""aclnnGroupedMatmulV5 on the mock: A8W8 MoE dispatch vs float32 BLAS on the same FLOPs.

Case "doc": M = 789, K = 4096, N = 7168, 8 experts, the doc's groupList
(experts 0, 2, 5 get 123, 333, 333 rows). Case "all busy": the same M split
over all 8 experts (98-99 rows each). Each prints the operator's wall time
(launch + stream synchronize, median of repeats), the time of a float32
np.matmul doing the same FLOPs (one (789, 4096) @ (4096, 7168) product: every
row meets one expert), their ratio, and the peak memory (process max RSS from
getrusage, and the tracemalloc peak of Python/NumPy allocations during one run).

Run: ACLNN_PY_BACKEND=mock python benchmarks/gmm.py [repeats]
"""
from __future__ import annotations

import os
import resource
import sys
import time
import tracemalloc

os.environ.setdefault("ACLNN_PY_BACKEND", "mock")

import ml_dtypes  # noqa: E402
import numpy as np  # noqa: E402

from aclnn_py import Device, Runtime, Stream, Tensor  # noqa: E402
from aclnn_py.ops.grouped_matmul import grouped_matmul_v5  # noqa: E402

M, K, N, E = 789, 4096, 7168, 8
CASES = {
    "doc (experts 0,2,5)": np.array([123, 0, 333, 0, 0, 333, 0, 0], np.int64),
    "all experts busy": np.array([99, 99, 99, 99, 99, 98, 98, 98], np.int64),
}


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    rng = np.random.default_rng(0)
    x = rng.integers(-128, 128, (M, K), dtype=np.int8)
    w = rng.integers(-128, 128, (E, K, N), dtype=np.int8)
    scale = rng.uniform(1e-4, 1e-3, (E, N)).astype(ml_dtypes.bfloat16)
    pts = rng.uniform(0.5, 1.5, M).astype(np.float32)
    a32 = rng.standard_normal((M, K)).astype(np.float32)
    b32 = rng.standard_normal((K, N)).astype(np.float32)
    blas = median_time(lambda: np.matmul(a32, b32), repeats)
    print(f"fp32 BLAS reference: ({M}x{K}) @ ({K}x{N}) = {2 * M * K * N / 1e9:.1f} GFLOP in {blas * 1e3:.1f} ms")
    with Runtime(), Device(0), Stream() as stream:
        xt, wt, st, pt = (Tensor.from_numpy(a) for a in (x, w, scale, pts))
        out = Tensor.empty((M, N), "bfloat16")
        for name, counts in CASES.items():
            gl = Tensor.from_numpy(counts)

            def run() -> None:
                grouped_matmul_v5([xt], [wt], stream=stream, scale=[st], per_token_scale=[pt], group_list=gl,
                                  group_list_type=1, split_item=3, group_type=0, out=[out])
                stream.synchronize()

            run()  # warm-up
            t = median_time(run, repeats)
            tracemalloc.start()
            run()
            _, traced = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"A8W8 {name:22s}: {t * 1e3:8.1f} ms  = {t / blas:5.2f} x fp32 BLAS | "
                  f"tracemalloc peak {traced / 2**20:7.1f} MiB, process max RSS {rss:7.1f} MiB")
            gl.close()
        for t in (xt, wt, st, pt, out):
            t.close()


if __name__ == "__main__":
    main()
