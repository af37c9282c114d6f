"""How the mock's aclnnQuantMatmulAllReduceV4 time grows with m = n = k and with the number of
thread ranks, next to the float32 BLAS time of the same local products (see quant_matmul_all_reduce.py for
what is timed; each time is the best of ``--repeat``). Prints one table: a row per size, a
column per rank count, each cell "mock seconds (mock / BLAS)".

    ACLNN_PY_BACKEND=mock python benchmarks/scaling.py [--sizes 1024 2048 4096] [--ranks 1 2 4 8] [--repeat 3]
"""
from __future__ import annotations

import argparse
import sys

import aclnn_py
from machine import describe
from quant_matmul_all_reduce import blas_time, mock_time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 2048, 4096])
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {describe()}")
    cells: dict[tuple[int, int], str] = {}
    with aclnn_py.Runtime():
        devices = [aclnn_py.Device(r) for r in range(max(args.ranks))]
        for size in args.sizes:
            for ranks in args.ranks:
                times = [(mock_time(size, size, size, ranks, devices), blas_time(size, size, size, ranks))
                         for _ in range(args.repeat)]  # interleaved: both see the same load
                mock_s, blas_s = min(t[0] for t in times), min(t[1] for t in times)
                cells[size, ranks] = f"{mock_s:7.3f} s ({mock_s / blas_s:4.2f}x)"
        for d in devices:
            d.close()
    print("int8 per-token V4 on the mock: wall seconds (mock / float32 BLAS of the same products)")
    print("| m = n = k | " + " | ".join(f"{r} rank{'s' if r > 1 else ''}" for r in args.ranks) + " |")
    print("|---|" + "---|" * len(args.ranks))
    for size in args.sizes:
        print(f"| {size} | " + " | ".join(cells[size, r] for r in args.ranks) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
