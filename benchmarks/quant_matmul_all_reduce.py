"""Benchmark: aclnnQuantMatmulAllReduceV4 on the mock, thread ranks, per-token quantization
(formula 3 for int8, 6 for fp8/hif8; FLOAT16 output) or MX fp4 (formula 4), against the same
local matmuls done in float32 BLAS.

Prints the machine, how the mock computes exact integer products (onnxruntime's integer GEMM,
the ``fast`` extra, or float32 BLAS; ``--int-products blas`` forces BLAS for a comparison),
the mock's wall time (every rank launches its call and synchronizes its stream; timed from a
barrier that releases all ranks to the moment the last stream is synchronized, inputs
already in device memory), the baseline (``ranks`` float32 (m x k) @ (k x n) products, one
after another) and their ratio, in wall time and in the process's CPU time (steadier where
other jobs load the machine); best of ``--repeat`` runs of each, interleaved. The fp8,
hif8 and fp4 modes run under the Ascend 950 profile (they keep float32 arithmetic).

    ACLNN_PY_BACKEND=mock python benchmarks/quant_matmul_all_reduce.py [--size 4096] [--ranks 8] [--repeat 1]
        [--x int8|float8_e4m3fn|hifloat8|float4_e2m1] [--int-products fast|blas]
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
from aclnn_py.semantics import codecs  # noqa: E402
from aclnn_py.semantics.quant_params import encode_group_size  # noqa: E402
from int_path import describe_int_products, use_int_products  # noqa: E402
from machine import describe  # noqa: E402

MODES = {"int8": "int8 per-token (formula 3)", "float8_e4m3fn": "fp8 e4m3 per-token (formula 6)",
         "hifloat8": "hif8 per-token (formula 6)", "float4_e2m1": "fp4 MX (formula 4)"}
MX_BLOCK = 32


def _values(rng: np.random.Generator, shape: tuple[int, int], x: str) -> np.ndarray:
    if x == "int8":
        return rng.integers(-128, 128, shape).astype(np.int8)
    v = rng.standard_normal(shape).astype(np.float32)
    return codecs.hifloat8_encode(v) if x == "hifloat8" else codecs.from_float32(v, x)


def inputs(m: int, k: int, n: int, ranks: int, x: str) -> tuple[list, list, dict]:
    """Per-rank x1 (m, k) and x2 ((n, k) for MX, given transposed; else (k, n)), and the shared
    keyword arguments (scales, group size, x dtype)."""
    rng = np.random.default_rng(0)
    x1 = [_values(rng, (m, k), x) for _ in range(ranks)]
    x2 = [_values(rng, (n, k) if x == "float4_e2m1" else (k, n), x) for _ in range(ranks)]
    if x == "float4_e2m1":
        blocks = (k // MX_BLOCK + 1) // 2
        kw = {"x1_scale": codecs.e8m0_from_exponent(rng.integers(-3, 3, (m, blocks, 2))),
              "x2_scale": codecs.e8m0_from_exponent(rng.integers(-3, 3, (n, blocks, 2))),
              "group_size": encode_group_size(1, 1, MX_BLOCK)}
    else:
        kw = {"x1_scale": rng.uniform(0.5, 1.5, m).astype(np.float32),
              "x2_scale": rng.uniform(1e-6, 2e-6, n).astype(np.float32)}
    if x == "hifloat8":
        kw["x_dtype"] = "hifloat8"
    return x1, x2, kw


def mock_time(m: int, k: int, n: int, ranks: int, devices: list, x: str) -> tuple[float, float]:
    """Wall and CPU time of one call on ``ranks`` thread ranks (devices 0..ranks-1, one
    communicator)."""
    x1, x2, kw = inputs(m, k, n, ranks, x)
    x_name = kw.pop("x_dtype", None)
    comms = hccl.init_all(list(range(ranks)))
    barrier = threading.Barrier(ranks + 1)
    errors: list = []

    def rank_main(rank: int) -> None:
        try:
            devices[rank].use()
            stream = aclnn_py.Stream()
            a, b = Tensor.from_numpy(x1[rank], x_name), Tensor.from_numpy(x2[rank], x_name)
            t1, t2 = Tensor.from_numpy(kw["x1_scale"]), Tensor.from_numpy(kw["x2_scale"])
            out = Tensor.empty((m, n), "float16")
            barrier.wait()  # inputs on the device: start timing
            quant_matmul_all_reduce_v4(a, b.T if x == "float4_e2m1" else b, t2, x1_scale=t1, group=comms[rank],
                                       stream=stream, out=out, group_size=kw.get("group_size", 0))
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
        start, cpu = time.perf_counter(), time.process_time()
        barrier.wait()
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        for t in threads:
            t.join()
        for c in comms:
            c.close()
    if errors:
        raise errors[0]
    return elapsed, cpu


def blas_time(m: int, k: int, n: int, ranks: int) -> tuple[float, float]:
    """Wall and CPU time of the ranks' products as float32 BLAS matmuls, one after another."""
    rng = np.random.default_rng(0)
    f1 = [rng.integers(-128, 128, (m, k)).astype(np.float32) for _ in range(ranks)]
    f2 = [rng.integers(-128, 128, (k, n)).astype(np.float32) for _ in range(ranks)]
    start, cpu = time.perf_counter(), time.process_time()
    for a, b in zip(f1, f2):
        np.matmul(a, b)
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096, help="m = n = k")
    parser.add_argument("--ranks", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--x", choices=list(MODES), default="int8", help="x1/x2 dtype")
    parser.add_argument("--int-products", choices=("fast", "blas"), default="fast",
                        help="blas: exact integer products on float32 BLAS even with the fast extra")
    args = parser.parse_args()
    s, ranks = args.size, args.ranks
    if args.x != "int8":
        os.environ.setdefault("ACLNN_MOCK_SOC", "Ascend950PR")  # fp8, hif8 and MX are Ascend 950 formulas
    use_int_products(args.int_products)
    print(f"machine: {describe()}")
    print(f"integer products: {describe_int_products()}")
    mock_times, blas_times = [], []
    with aclnn_py.Runtime():
        devices = [aclnn_py.Device(r) for r in range(ranks)]
        for _ in range(args.repeat):  # interleaved: both see the same load from other processes
            mock_times.append(mock_time(s, s, s, ranks, devices, args.x))
            blas_times.append(blas_time(s, s, s, ranks))
        for d in devices:
            d.close()
    (mock_s, mock_cpu), (blas_s, blas_cpu) = min(mock_times), min(blas_times)
    print(f"aclnnQuantMatmulAllReduceV4 mock, {ranks} thread ranks, m=n=k={s}, {MODES[args.x]}: {mock_s:.2f} s "
          f"({mock_cpu:.2f} CPU s)")
    print(f"the same {ranks} local matmuls in float32 BLAS: {blas_s:.2f} s ({blas_cpu:.2f} CPU s)")
    print(f"ratio mock / fp32 BLAS = {mock_s / blas_s:.2f} (CPU time: {mock_cpu / blas_cpu:.2f}, the steadier "
          "figure on a loaded machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
