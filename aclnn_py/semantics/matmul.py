"""Matrix products the golden references share.

Integer products must be exact yet run on BLAS: NumPy's integer matmul does not
use BLAS and is two orders of magnitude slower than float32 on ordinary CPUs.
A float32 sum of integer terms is exact while every partial sum stays within
2**24, in whatever order BLAS adds (and fuses) the terms. Products of two int8
values are at most 2**14 in magnitude, so the k axis is cut into units of
2**24 / 2**14 = 1024 (longer for int4 operands, whose products are smaller);
each unit is one float32 BLAS product with an exact result.

Two units form one product when the data prove it exact: by Cauchy-Schwarz,
every partial sum of row i and column j is at most ``|a_i| |b_j|`` (the
Euclidean norms over those k), so ``max_i |a_i|^2 * max_j |b_j|^2 <= 2**48``
suffices (the norms are float32 sums of at most 2**12 terms, off by less than
2**-12 relatively; the test keeps a margin of 2**-10). Random full-range int8
data pass it, extreme values fall back to the units. The test reads the span of
both operands and saves a pass of additions over the result, so it is tried only
where the result is at least half as large as the span (a square product, not a
few rows against a wide weight).

Speed, without changing a bit of the result:

- the operands are widened to float32 one span of k at a time (never a whole
  weight at once), into two buffers reused for every span;
- one exact product is the result; two exact products of a float32 result are
  added in float32 (one correctly rounded addition of exact integers is the exact
  sum rounded once); more are added in place into one integer accumulator as they
  come (int32 while k bounds the sum below 2**31, else int64), the last one added
  and rounded in the same pass for a float32 result;
- a product with fewer rows than columns (a few tokens against a wide weight) is
  computed transposed, ``(b.T @ a.T).T``: BLAS threads then split the long
  dimension, which is far faster on small row counts. Exact sums make the
  orientation invisible in the result.

A faster exact kernel may be plugged in from outside this layer
(:func:`set_int_kernel`; the mock installs onnxruntime's integer GEMM where the ``fast``
extra is installed, :mod:`mock_runtime.core.int_kernel`). It computes the 2-D products of
int8 and int4 operands whose exact result fits int32 (``k * 2**14 <= 2**31 - 1`` for int8,
every operator's k); the rest stay on the float32 units above. Exact sums leave no trace of the
path in the result.

Float products (:func:`float_matmul`) are left to BLAS as one call: their
rounding depends on BLAS's summation order, which the golden does not reorder.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from .dtypes import is_host

_EXACT = 2**24  # the largest partial sum float32 holds exactly
_INT32_LIMIT = 2**31 - 1
_MERGED_LIMIT = 2.0**48 * (1 - 2.0**-10)  # max |a_i|^2 * max |b_j|^2 of a proven-exact span
_MERGE_WIDTH = 2**12  # widest span whose float32 norms are within 2**-12 of the truth

#: ``kernel(a, b)``: the exact product of 2-D int8 or int4 arrays (any strides) as an int32
#: array, for products whose exact result fits int32; or None, declining (the float32 units
#: then compute it).
IntKernel = Callable[[np.ndarray, np.ndarray], "np.ndarray | None"]
_int_kernel: IntKernel | None = None


def set_int_kernel(kernel: IntKernel | None) -> IntKernel | None:
    """Compute the integer products the kernel can take with ``kernel`` (None: on float32
    BLAS only); returns the kernel it replaces.

    The kernel must be exact: the goldens' results do not depend on which path ran, and the
    tests hold both paths to the same bits.
    """
    global _int_kernel
    previous, _int_kernel = _int_kernel, kernel
    return previous


def installed_int_kernel() -> IntKernel | None:
    """The kernel :func:`set_int_kernel` installed (None: float32 BLAS only)."""
    return _int_kernel


def _magnitude(dtype: np.dtype) -> int:
    """The largest |value| an integer operand may hold: 8 for int4, else 128 (the contract)."""
    return 8 if is_host(dtype, "int4") else 128


def _kernel_operand(dtype: np.dtype) -> bool:
    """An operand the int kernel takes: int8 or int4."""
    return dtype == np.int8 or is_host(dtype, "int4")


def _proven_exact(lhs: np.ndarray, rhs: np.ndarray) -> bool:
    """Every partial sum of ``lhs @ rhs`` (float32 integers) is within 2**24 (Cauchy-Schwarz)."""
    rows = np.einsum("...ij,...ij->...i", lhs, lhs)
    cols = np.einsum("...ij,...ij->...j", rhs, rhs)
    return float(np.max(rows, initial=0)) * float(np.max(cols, initial=0)) <= _MERGED_LIMIT


def _exact_products(a: np.ndarray, b: np.ndarray, unit: int,
                    fortran: bool) -> Iterator[tuple[np.ndarray, bool]]:
    """Float32 products over consecutive spans of k, each exact, whose sum is ``a @ b``, each
    with whether it is the last: spans of two units where :func:`_worth_merging` and
    :func:`_proven_exact`, else of one."""
    k = a.shape[-1]
    span = 2 * unit if _worth_merging(a, b, 2 * unit) else unit
    width = min(span, k)
    order = "F" if fortran else "C"
    lhs = np.empty(a.shape[:-1] + (width,), np.float32, order=order)  # reused for every span
    rhs = np.empty(b.shape[:-2] + (width, b.shape[-1]), np.float32, order=order)
    for start in range(0, max(k, 1), span):
        w = min(span, k - start)
        np.copyto(lhs[..., :w], a[..., start:start + w], casting="unsafe")
        np.copyto(rhs[..., :w, :], b[..., start:start + w, :], casting="unsafe")
        final = start + span >= k
        if w <= unit or _proven_exact(lhs[..., :w], rhs[..., :w, :]):
            yield np.matmul(lhs[..., :w], rhs[..., :w, :]), final
        else:
            for cut in range(0, w, unit):  # the span's own columns only (the buffers may be wider)
                stop = min(cut + unit, w)
                yield np.matmul(lhs[..., cut:stop], rhs[..., cut:stop, :]), final and stop == w


def _worth_merging(a: np.ndarray, b: np.ndarray, span: int) -> bool:
    """Spans of ``span`` are tried when their float32 norms are accurate enough and the result
    is at least half as large as a span of both operands (the test reads the span once; a
    merge saves one pass of additions over the result)."""
    if span > _MERGE_WIDTH or a.shape[-1] <= span // 2:
        return False
    result = int(np.prod(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))) * a.shape[-2] * b.shape[-1]
    operands = (int(np.prod(a.shape[:-1])) + int(np.prod(b.shape[:-2])) * b.shape[-1]) * span
    return 2 * result >= operands


def _accumulate(a: np.ndarray, b: np.ndarray, rounded: bool = False) -> np.ndarray:
    """Exact ``a @ b`` in an int32 or int64 accumulator (whichever k requires), or with
    ``rounded`` that exact sum rounded once to float32; may be a transposed (Fortran-ordered)
    array. The installed int kernel computes it where it takes the product."""
    k = a.shape[-1]
    term = _magnitude(a.dtype) * _magnitude(b.dtype)
    acc_dtype = np.int32 if k * term <= _INT32_LIMIT else np.int64
    kernel = _int_kernel
    if kernel is not None and acc_dtype == np.int32 and a.ndim == b.ndim == 2 and \
            _kernel_operand(a.dtype) and _kernel_operand(b.dtype):
        exact = kernel(a, b)
        if exact is not None:
            return exact.astype(np.float32) if rounded else exact
    transposed = a.ndim == b.ndim == 2 and a.shape[0] < b.shape[1]
    if transposed:  # (b.T @ a.T).T: the same exact sums, BLAS splits the long side
        a, b = b.T, a.T
    acc = None  # the exact sum so far: the first product (float32), then an integer array
    for part, last in _exact_products(a, b, _EXACT // term, transposed):
        if acc is None:
            acc = part
        elif acc.dtype == np.float32 and last and rounded:  # two exact integers: their float32
            np.add(acc, part, out=acc)                       # sum is the exact sum rounded once
        else:
            if acc.dtype == np.float32:
                acc = acc.astype(acc_dtype)
            if last and rounded:  # the exact integer sum, then one rounding to float32
                acc = np.add(acc, part, out=part, dtype=acc_dtype, casting="unsafe")
            else:
                np.add(acc, part, out=acc, dtype=acc_dtype, casting="unsafe")  # exact: part is integral
        del part  # before the next product is made
    result = acc if rounded or acc.dtype != np.float32 else acc.astype(acc_dtype)
    return result.T if transposed else result


def int_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact ``a @ b`` of integer arrays with |values| <= 128, as int64.

    Works on 2-D operands and on stacks (``...,m,k`` @ ``...,k,n``) with NumPy
    broadcasting. Inputs may be int8, int4 (ml_dtypes) or any integer dtype
    whose values fit in [-128, 128].
    """
    return _accumulate(np.asarray(a), np.asarray(b)).astype(np.int64, order="C", copy=False)


def int_matmul_f32(a: np.ndarray, b: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """``float32(a @ b + bias)``: the exact integer result (bias an integer array broadcast
    over the rows) rounded once to float32 (round half to even), as a C-ordered array.

    The same value as ``(int_matmul(a, b) + bias).astype(np.float32)``, without the int64
    intermediate when no bias is given.
    """
    if bias is None:
        return _accumulate(np.asarray(a), np.asarray(b), rounded=True).astype(np.float32, order="C", copy=False)
    acc = np.add(_accumulate(np.asarray(a), np.asarray(b)), np.asarray(bias), dtype=np.int64)  # exact
    return acc.astype(np.float32, order="C")


def float_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` with float32 accumulation (the cube's precision for 16/8/4-bit floats)."""
    return np.matmul(np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32))
