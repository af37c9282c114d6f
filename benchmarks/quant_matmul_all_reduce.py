"""Benchmark: aclnnQuantMatmulAllReduceV4 on the mock, thread ranks, int8 per-token (formula 3,
FLOAT16 output), against the same local matmuls done in float32 BLAS.

Prints the machine, the mock's wall time (every rank launches its call and synchronizes
its stream; timed from a barrier that releases all ranks to the moment the last stream
is synchronized, inputs already in device memory), the baseline (``ranks`` float32
(m x k) @ (k x n) products, one after another) and their ratio; best of ``--repeat``
runs of each, interleaved.

    ACLNN_PY_BACKEND=mock python benchmarks/quant_matmul_all_reduce.py [--size 4096] [--ranks 8] [--repeat 1]
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("ACLNN_PY_BACKEND", "mock")

import aclnn_py  # noqa: E402
from aclnn_py import Tensor, hccl  # noqa: E402
from aclnn_py.ops import quant_matmul_all_reduce_v4  # noqa: E402
from machine import describe  # noqa: E402


def inputs(m: int, k: int, n: int, ranks: int) -> tuple[list, list, np.ndarray, np.ndarray]:
    """Per-rank int8 x1 (m, k) and x2 (k, n), and the shared x1 (per-token) and x2 scales."""
    rng = np.random.default_rng(0)
    x1 = [rng.integers(-128, 128, (m, k)).astype(np.int8) for _ in range(ranks)]
    x2 = [rng.integers(-128, 128, (k, n)).astype(np.int8) for _ in range(ranks)]
    return x1, x2, rng.uniform(0.5, 1.5, m).astype(np.float32), rng.uniform(1e-6, 2e-6, n).astype(np.float32)


def mock_time(m: int, k: int, n: int, ranks: int, devices: list) -> float:
    """Wall time of one call on ``ranks`` thread ranks (devices 0..ranks-1, one communicator)."""
    x1, x2, s1, s2 = inputs(m, k, n, ranks)
    comms = hccl.init_all(list(range(ranks)))
    barrier = threading.Barrier(ranks + 1)
    errors: list = []

    def rank_main(rank: int) -> None:
        try:
            devices[rank].use()
            stream = aclnn_py.Stream()
            a, b = Tensor.from_numpy(x1[rank]), Tensor.from_numpy(x2[rank])
            t1, t2 = Tensor.from_numpy(s1), Tensor.from_numpy(s2)
            out = Tensor.empty((m, n), "float16")
            barrier.wait()  # inputs on the device: start timing
            quant_matmul_all_reduce_v4(a, b, t2, x1_scale=t1, group=comms[rank], stream=stream, out=out)
            stream.synchronize()
            barrier.wait()  # every rank done
            for t in (a, b, t1, t2, out):
                t.close()
            stream.close()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=rank_main, args=(r,)) for r in range(ranks)]
    for t in threads:
        t.start()
    try:
        barrier.wait()
        start = time.perf_counter()
        barrier.wait()
        elapsed = time.perf_counter() - start
    finally:
        for t in threads:
            t.join()
        for c in comms:
            c.close()
    if errors:
        raise errors[0]
    return elapsed


def blas_time(m: int, k: int, n: int, ranks: int) -> float:
    """Wall time of the ranks' products as float32 BLAS matmuls, one after another."""
    x1, x2, _, _ = inputs(m, k, n, ranks)
    f1 = [x.astype(np.float32) for x in x1]
    f2 = [x.astype(np.float32) for x in x2]
    start = time.perf_counter()
    for a, b in zip(f1, f2):
        np.matmul(a, b)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096, help="m = n = k")
    parser.add_argument("--ranks", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    s, ranks = args.size, args.ranks
    print(f"machine: {describe()}")
    mock_times, blas_times = [], []
    with aclnn_py.Runtime():
        devices = [aclnn_py.Device(r) for r in range(ranks)]
        for _ in range(args.repeat):  # interleaved: both see the same load from other processes
            mock_times.append(mock_time(s, s, s, ranks, devices))
            blas_times.append(blas_time(s, s, s, ranks))
        for d in devices:
            d.close()
    mock_s, blas_s = min(mock_times), min(blas_times)
    print(f"aclnnQuantMatmulAllReduceV4 mock, {ranks} thread ranks, m=n=k={s}, int8 per-token: {mock_s:.2f} s")
    print(f"the same {ranks} local matmuls in float32 BLAS: {blas_s:.2f} s")
    print(f"ratio mock / fp32 BLAS = {mock_s / blas_s:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
