"""Benchmark: exact int8 x int8 products at 4096^3 and MoE shapes, against float32 BLAS of the same
FLOPs in the same process: the pure layer's float32 units, the mock's kernel (the ``fast``
extra), and every candidate library found installed (docs/int-products.md compares them).

Candidates (each measured where installed, and checked first with the kernel's probe: rows
and columns of the extreme bytes against an int64 reference):

- onnxruntime ``MatMulInteger`` in both forms (unsigned x signed, unsigned x unsigned);
- Intel MKL ``cblas_gemm_s8u8s32`` (x unsigned) and ``cblas_gemm_s16s16s32`` (the ``mkl``
  wheel's libmkl_rt);
- oneDNN ``dnnl_gemm_s8s8s32`` and ``dnnl_gemm_u8s8s32`` (the ``onednn-cpu-gomp`` wheel's
  libdnnl; the ``onednn`` wheel needs the SYCL runtime).

Each figure is the best of ``--repeat`` interleaved runs, as a ratio to float32 BLAS.

    python benchmarks/int_products.py [--repeat 3] [--candidates]
"""
from __future__ import annotations

import argparse
import ctypes
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from aclnn_py.semantics import matmul  # noqa: E402
from int_path import describe_int_products  # noqa: E402
from machine import describe  # noqa: E402
from mock_runtime.core import int_kernel  # noqa: E402

SHAPES = [(4096, 4096, 4096), (100, 4096, 7168), (789, 4096, 7168)]
Product = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _library(distribution: str, name: str) -> ctypes.CDLL | None:
    """A shared library shipped by an installed wheel (None: not installed)."""
    try:
        files = metadata.files(distribution) or []
    except metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.name.startswith(name):
            return ctypes.CDLL(str(file.locate()))
    return None


def _mkl(lib: ctypes.CDLL) -> dict[str, Product]:
    """cblas_gemm_s8u8s32 / s16s16s32, row major, no transposes, a fixed C offset of 0
    (CblasRowMajor 101, CblasNoTrans 111, CblasFixOffset 173)."""
    i, f, p = ctypes.c_int, ctypes.c_float, ctypes.c_void_p
    lib.cblas_gemm_s8u8s32.argtypes = [i] * 7 + [f, p, i, ctypes.c_int8, p, i, ctypes.c_int8, f, p, i, p]
    lib.cblas_gemm_s16s16s32.argtypes = [i] * 7 + [f, p, i, ctypes.c_int16, p, i, ctypes.c_int16, f, p, i, p]
    zero = np.zeros(1, np.int32)

    def s8u8(a, b):  # C = (A + oa)(B + ob): A = x + 128 unsigned, oa = -128
        (m, k), n = a.shape, b.shape[1]
        c, au = np.empty((m, n), np.int32), (a.view(np.uint8) ^ np.uint8(0x80))
        lib.cblas_gemm_s8u8s32(101, 111, 111, 173, m, n, k, 1.0, au.ctypes.data, k, -128, b.ctypes.data, n, 0,
                               0.0, c.ctypes.data, n, zero.ctypes.data)
        return c

    def s16(a, b):
        (m, k), n = a.shape, b.shape[1]
        c, a16, b16 = np.empty((m, n), np.int32), a.astype(np.int16), b.astype(np.int16)
        lib.cblas_gemm_s16s16s32(101, 111, 111, 173, m, n, k, 1.0, a16.ctypes.data, k, 0, b16.ctypes.data, n, 0,
                                 0.0, c.ctypes.data, n, zero.ctypes.data)
        return c

    return {"MKL s8u8s32 (x unsigned)": s8u8, "MKL s16s16s32": s16}


def _onednn(lib: ctypes.CDLL) -> dict[str, Product]:
    """dnnl_gemm_s8s8s32 / u8s8s32 (row major): C = (A - ao)(B - bo), a fixed C offset of 0."""
    c8, i64, f, p = ctypes.c_char, ctypes.c_int64, ctypes.c_float, ctypes.c_void_p
    lib.dnnl_gemm_s8s8s32.argtypes = [c8] * 3 + [i64] * 3 + [f, p, i64, ctypes.c_int8, p, i64, ctypes.c_int8, f, p,
                                                              i64, p]
    lib.dnnl_gemm_u8s8s32.argtypes = [c8] * 3 + [i64] * 3 + [f, p, i64, ctypes.c_uint8, p, i64, ctypes.c_int8, f, p,
                                                              i64, p]
    zero = np.zeros(1, np.int32)

    def run(fn, a, b, ao):
        (m, k), n = a.shape, b.shape[1]
        c = np.empty((m, n), np.int32)
        if fn(b"N", b"N", b"F", m, n, k, 1.0, a.ctypes.data, k, ao, b.ctypes.data, n, 0, 0.0, c.ctypes.data, n,
              zero.ctypes.data):
            raise RuntimeError("oneDNN gemm failed")
        return c

    return {"oneDNN s8s8s32": lambda a, b: run(lib.dnnl_gemm_s8s8s32, a, b, 0),
            "oneDNN u8s8s32 (x unsigned)": lambda a, b: run(lib.dnnl_gemm_u8s8s32,
                                                            a.view(np.uint8) ^ np.uint8(0x80), b, 128)}


def _onnxruntime_forms(threads: int) -> dict[str, Product]:
    kernel = int_kernel.Kernel(threads)
    forms = {}
    for name in ("u8s8", "u8u8"):
        form = int_kernel.Form(name, kernel._session(signed_b=name == "u8s8"))

        def product(a, b, form=form):
            out = np.empty((a.shape[0], b.shape[1]), np.int32)
            form.product(a, b, out)
            return out

        forms[f"onnxruntime {name}"] = product
    return forms


def candidates(threads: int) -> dict[str, Product]:
    found: dict[str, Product] = {}
    if int_kernel.unusable() is None:
        found.update(_onnxruntime_forms(threads))
    mkl = _library("mkl", "libmkl_rt.so")
    if mkl is not None:
        found.update(_mkl(mkl))
    dnnl = _library("onednn-cpu-gomp", "libdnnl.so")
    if dnnl is not None:
        found.update(_onednn(dnnl))
    return found


def exact(product: Product) -> bool:
    """The kernel's probe (extreme bytes at the shapes of MLAS's kernels) on ``product``."""
    def into(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
        out[...] = product(a, b)
    return int_kernel.passes_probe(into)


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--candidates", action="store_true", help="also every candidate library installed")
    args = parser.parse_args()
    print(f"machine: {describe()}")
    print(f"integer products: {describe_int_products()}")
    kernel = matmul.installed_int_kernel()
    paths: dict[str, Product] = {}

    def on(path_kernel):
        def product(a, b):
            previous = matmul.set_int_kernel(path_kernel)
            try:
                return matmul.int_matmul_f32(a, b)
            finally:
                matmul.set_int_kernel(previous)
        return product

    paths["pure layer, float32 units"] = on(None)
    if kernel is not None:
        paths["pure layer, the mock's kernel"] = on(kernel)
    if args.candidates:
        for name, product in candidates(kernel.threads if kernel is not None else 1).items():
            print(f"{name:32s} exact at the extremes: {'yes' if exact(product) else 'NO (not a candidate)'}")
            paths[name] = product
    for m, k, n in SHAPES:
        rng = np.random.default_rng(0)
        a, b = rng.integers(-128, 128, (m, k)).astype(np.int8), rng.integers(-128, 128, (k, n)).astype(np.int8)
        fa, fb = a.astype(np.float32), b.astype(np.float32)
        times = {"float32 BLAS": []} | {name: [] for name in paths}
        for _ in range(args.repeat):  # interleaved: every path sees the same load
            times["float32 BLAS"].append(best(lambda: fa @ fb, 1))
            for name, product in paths.items():
                times[name].append(best(lambda: product(a, b), 1))
        base = min(times["float32 BLAS"])
        row = " | ".join(f"{name} {min(t) / base:.2f}x" for name, t in times.items() if name != "float32 BLAS")
        print(f"m={m} k={k} n={n}: float32 BLAS {base * 1e3:.0f} ms | {row}")


if __name__ == "__main__":
    main()
