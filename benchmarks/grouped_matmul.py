"""aclnnGroupedMatmulV5 on the mock: A8W8 MoE dispatch vs float32 BLAS on the same FLOPs.

M = 789 tokens, K = 4096, N = 7168, 8 experts, int8 x and weights, bfloat16
per-channel scale, per-token scale, bfloat16 output. Case "doc": the doc's
groupList (experts 0, 2, 5 get 123, 333, 333 rows; the other five experts'
weights are never touched). Case "all experts busy": the same M split over all
8 experts (98-99 rows each).

Each case prints the operator's wall time (launch + stream synchronize), the time
of a float32 np.matmul doing the same FLOPs (one (789, 4096) @ (4096, 7168)
product: every row meets one expert), each the best of ``--repeat`` interleaved
runs, their ratio, and the peak memory of a run: the operator's tensors
(x, int8 weights, scales, groupList, output) plus the peak of the mock's
temporary allocations during one run (tracemalloc), against the int8 weights
plus the output: 1.0x would be those two alone. (onnxruntime's packing buffers, a few
hundred KiB per thread, are not Python allocations and not counted.)

It prints how the mock computes the exact integer products (onnxruntime's integer GEMM, the
``fast`` extra, or float32 BLAS; ``--int-products blas`` forces BLAS for a comparison).

    ACLNN_PY_BACKEND=mock python benchmarks/grouped_matmul.py [--repeat 5] [--int-products fast|blas]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("ACLNN_PY_BACKEND", "mock")

import ml_dtypes  # noqa: E402
import numpy as np  # noqa: E402

from aclnn_py import Device, Runtime, Stream, Tensor  # noqa: E402
from aclnn_py.ops import grouped_matmul_v5  # noqa: E402
from int_path import describe_int_products, use_int_products  # noqa: E402
from machine import describe  # noqa: E402

M, K, N, E = 789, 4096, 7168, 8
CASES = {
    "doc (experts 0,2,5)": np.array([123, 0, 333, 0, 0, 333, 0, 0], np.int64),
    "all experts busy": np.array([99, 99, 99, 99, 99, 98, 98, 98], np.int64),
}


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--int-products", choices=("fast", "blas"), default="fast",
                        help="blas: exact integer products on float32 BLAS even with the fast extra")
    args = parser.parse_args()
    use_int_products(args.int_products)
    rng = np.random.default_rng(0)
    x = rng.integers(-128, 128, (M, K), dtype=np.int8)
    w = rng.integers(-128, 128, (E, K, N), dtype=np.int8)
    scale = rng.uniform(1e-4, 1e-3, (E, N)).astype(ml_dtypes.bfloat16)
    pts = rng.uniform(0.5, 1.5, M).astype(np.float32)
    a32 = rng.standard_normal((M, K)).astype(np.float32)
    b32 = rng.standard_normal((K, N)).astype(np.float32)
    data = w.nbytes + M * N * 2  # int8 weights + bfloat16 output
    print(f"machine: {describe()}")
    print(f"integer products: {describe_int_products()}")
    with Runtime(), Device(0), Stream() as stream:
        tensors = [Tensor.from_numpy(a) for a in (x, w, scale, pts)]
        xt, wt, st, pt = tensors
        out = Tensor.empty((M, N), "bfloat16")
        group_lists = {name: Tensor.from_numpy(counts) for name, counts in CASES.items()}

        def run(group_list: Tensor) -> None:
            grouped_matmul_v5([xt], [wt], stream=stream, scale=[st], per_token_scale=[pt], group_list=group_list,
                              group_list_type=1, split_item=3, group_type=0, out=[out])
            stream.synchronize()

        peaks = {}
        for name, counts in CASES.items():
            resident = sum(a.nbytes for a in (x, w, scale, pts, counts)) + M * N * 2
            tracemalloc.start()
            run(group_lists[name])  # the first run, traced
            peaks[name] = resident + tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        times: dict[str, list[float]] = {name: [] for name in CASES}
        blas = []
        for _ in range(args.repeat):  # interleaved: every measurement sees the same load
            blas.append(timed(lambda: np.matmul(a32, b32)))
            for name, group_list in group_lists.items():
                times[name].append(timed(lambda: run(group_list)))
        for t in tensors + [out] + list(group_lists.values()):
            t.close()
    best = min(blas)
    print(f"fp32 BLAS reference: ({M}x{K}) @ ({K}x{N}) = {2 * M * K * N / 1e9:.1f} GFLOP in {best * 1e3:.1f} ms")
    for name in CASES:
        t, peak = min(times[name]), peaks[name]
        print(f"A8W8 {name:22s}: {t * 1e3:8.1f} ms = {t / best:5.2f}x fp32 BLAS | peak memory "
              f"{peak / 2**20:6.1f} MiB = {peak / data:4.2f}x (int8 weights + output, {data / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()
