"""Benchmark: aclnnQuantMatmulAllReduceV4 on the mock, 8 thread-ranks, m = n = k = 4096, int8
per-token (formula 3, FLOAT16 output), against the same 8 local matmuls done in fp32 BLAS.

Prints the mock's wall time (phase 1 + execute + stream sync, all ranks in parallel), the
baseline (8 x float32 (4096 x 4096) @ (4096 x 4096), one after another) and their ratio.

    ACLNN_PY_BACKEND=mock python benchmarks/qmmar.py [--size 4096] [--ranks 8]
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--ranks", type=int, default=8)
    args = parser.parse_args()
    s, ranks = args.size, args.ranks
    rng = np.random.default_rng(0)
    x1 = [rng.integers(-128, 128, (s, s)).astype(np.int8) for _ in range(ranks)]
    x2 = [rng.integers(-128, 128, (s, s)).astype(np.int8) for _ in range(ranks)]
    s1 = rng.uniform(0.5, 1.5, s).astype(np.float32)
    s2 = rng.uniform(1e-6, 2e-6, s).astype(np.float32)

    runtime = aclnn_py.Runtime()
    devices = [aclnn_py.Device(r) for r in range(ranks)]
    comms = hccl.init_all(list(range(ranks)))
    barrier = threading.Barrier(ranks + 1)
    errors: list = []

    def rank_main(rank: int) -> None:
        try:
            devices[rank].use()
            stream = aclnn_py.Stream()
            a, b = Tensor.from_numpy(x1[rank]), Tensor.from_numpy(x2[rank])
            t1, t2 = Tensor.from_numpy(s1), Tensor.from_numpy(s2)
            out = Tensor.empty((s, s), "float16")
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
    barrier.wait()
    start = time.perf_counter()
    barrier.wait()
    mock_s = time.perf_counter() - start
    for t in threads:
        t.join()
    for c in comms:
        c.close()
    for d in devices:
        d.close()
    runtime.close()
    if errors:
        raise errors[0]

    f1 = [x.astype(np.float32) for x in x1]
    f2 = [x.astype(np.float32) for x in x2]
    start = time.perf_counter()
    for a, b in zip(f1, f2):
        np.matmul(a, b)
    blas_s = time.perf_counter() - start
    print(f"aclnnQuantMatmulAllReduceV4 mock, {ranks} ranks, m=n=k={s}, int8 per-token: {mock_s:.2f} s")
    print(f"same {ranks} local matmuls in float32 BLAS: {blas_s:.2f} s")
    print(f"ratio mock / fp32 BLAS = {mock_s / blas_s:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
