"""Matrix products the golden references share.

Integer products must be exact yet run on BLAS: NumPy's integer matmul does not
use BLAS and is two orders of magnitude slower than float32 on ordinary CPUs.
Products of two int8 values are at most 2**14 in magnitude, so a float32
accumulation of 1024 of them stays below 2**24 and is exact; the k axis is cut
into chunks of that length and the exact chunk results are summed in int64.
"""
from __future__ import annotations

import numpy as np

# 1024 * (-128 * -128) = 2**24: the largest partial sum float32 holds exactly.
EXACT_CHUNK = 1024


def int_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact ``a @ b`` of integer arrays with |values| <= 128, as int64.

    Works on 2-D operands and on stacks (``...,m,k`` @ ``...,k,n``) with NumPy
    broadcasting. Inputs may be int8, int4 (ml_dtypes) or any integer dtype
    whose values fit in [-128, 128].
    """
    a32 = np.asarray(a).astype(np.float32)
    b32 = np.asarray(b).astype(np.float32)
    k = a32.shape[-1]
    if k <= EXACT_CHUNK:
        return np.matmul(a32, b32).astype(np.int64)
    acc = None
    for start in range(0, k, EXACT_CHUNK):
        stop = min(start + EXACT_CHUNK, k)
        part = np.matmul(a32[..., start:stop], b32[..., start:stop, :]).astype(np.int64)
        acc = part if acc is None else acc + part
    return acc


def float_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` with float32 accumulation (the cube's precision for 16/8/4-bit floats)."""
    return np.matmul(np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32))
