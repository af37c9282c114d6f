"""Matrix products the golden references share.

Integer products must be exact yet run on BLAS: NumPy's integer matmul does not
use BLAS and is two orders of magnitude slower than float32 on ordinary CPUs.
A float32 sum of integer terms is exact while every partial sum stays within
2**24, in whatever order BLAS adds (and fuses) the terms. Products of two int8
values are at most 2**14 in magnitude, so the k axis is cut into chunks of
2**24 / 2**14 = 1024 (longer chunks for int4 operands, whose products are
smaller); each chunk is one float32 BLAS product with an exact result.

Speed, without changing a bit of the result:

- the operands are widened to float32 one k-chunk at a time (never a whole
  weight at once), into two chunk buffers reused for every chunk;
- the chunk results are added in place into one integer accumulator as they come
  (int32 while k bounds the sum below 2**31, else int64); for a float32 result the
  last chunk is added and rounded in the same pass;
- a product with fewer rows than columns (a few tokens against a wide weight) is
  computed transposed, ``(b.T @ a.T).T``: BLAS threads then split the long
  dimension, which is far faster on small row counts. Exact sums make the
  orientation invisible in the result.

Float products (:func:`float_matmul`) are left to BLAS as one call: their
rounding depends on BLAS's summation order, which the golden does not reorder.
"""
from __future__ import annotations

import ml_dtypes
import numpy as np

_EXACT = 2**24  # the largest partial sum float32 holds exactly
_INT32_LIMIT = 2**31 - 1


def _magnitude(dtype: np.dtype) -> int:
    """The largest |value| an integer operand may hold: 8 for int4, else 128 (the contract)."""
    return 8 if dtype == ml_dtypes.int4 else 128


def _accumulate(a: np.ndarray, b: np.ndarray, rounded: bool = False) -> np.ndarray:
    """Exact ``a @ b`` in an int32 or int64 accumulator (whichever k requires), or with
    ``rounded`` that exact sum rounded once to float32 (the last chunk is added and
    converted in one pass, into that chunk's own buffer); may be a transposed
    (Fortran-ordered) array."""
    k = a.shape[-1]
    term = _magnitude(a.dtype) * _magnitude(b.dtype)
    chunk = _EXACT // term
    acc_dtype = np.int32 if k * term <= _INT32_LIMIT else np.int64
    transposed = a.ndim == b.ndim == 2 and a.shape[0] < b.shape[1]
    if transposed:  # (b.T @ a.T).T: the same exact sums, BLAS splits the long side
        a, b = b.T, a.T
    # float32 copies of one chunk of each operand, reused for every chunk
    lhs = np.empty(a.shape[:-1] + (min(chunk, k),), np.float32, order="F" if transposed else "C")
    rhs = np.empty(b.shape[:-2] + (min(chunk, k), b.shape[-1]), np.float32, order="F" if transposed else "C")
    starts = range(0, max(k, 1), chunk)
    acc = part = None
    for start in starts:
        width = min(chunk, k - start)
        np.copyto(lhs[..., :width], a[..., start:start + width], casting="unsafe")
        np.copyto(rhs[..., :width, :], b[..., start:start + width, :], casting="unsafe")
        part = np.matmul(lhs[..., :width], rhs[..., :width, :], out=part)  # same shape for every chunk
        if rounded and start == starts[-1]:  # exact integer sum, then one rounding to float32
            if acc is not None:
                np.add(acc, part, out=part, dtype=acc_dtype, casting="unsafe")
            acc = part
        elif acc is None:
            acc = part.astype(acc_dtype)
        else:
            np.add(acc, part, out=acc, dtype=acc_dtype, casting="unsafe")  # exact: part is integral
    return acc.T if transposed else acc


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
