"""FRACTAL_NZ weight layout and aclnnCalculateMatmulWeightSizeV2.

A logical matrix (H, W) (H = second-last dim, W = last dim) is stored as
(batch..., ceil(W/C0), ceil(H/16), 16, C0) with element (h, w) at
[w // C0, h // 16, h % 16, w % C0]; padding bytes are zero. Arrays here are host
representations (4-bit types unpacked, one value per byte).

C0 defaults to 32 bytes of the dtype (:func:`nz_c0`). The conversions also take
an explicit ``c0``: Ascend 950 INT4 weights come in a C0 = 32 layout (16 bytes
per row, the tile aclnnConvertWeightToINT4Pack writes) as well as the 64 of the
32-byte rule; a tensor's C0 is the last dim of its NZ storage shape.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable

import numpy as np

from .dtypes import bits as bits_of, host_dtype, lookup, name_of

__all__ = ["matmul_weight_size", "nd_to_nz", "nz_c0", "nz_storage_shape", "nz_to_nd"]

H0 = 16


def nz_c0(name: str) -> int:
    """C0 (values per 32-byte row) of a dtype: 16 for float16/bfloat16, 32 for 1-byte
    types, 64 for int4/float4_e2m1.

    float32 (and other 4-byte types) gives 8 by the same 32-byte rule: UNCONFIRMED
    (CANN's GetCubeSizeByDataType may use 16; our operators never take FP32 NZ weights).
    """
    bits = bits_of(name)
    if bits > 32:
        raise ValueError(f"no FRACTAL_NZ layout for 64-bit dtype {name!r}")
    return 256 // bits


def _dims(shape: Iterable[int]) -> tuple[int, ...]:
    dims = tuple(operator.index(d) for d in shape)
    if len(dims) < 2 or any(d < 0 for d in dims):
        raise ValueError(f"FRACTAL_NZ needs a shape of at least 2 non-negative dims, got {dims}")
    return dims


def nz_storage_shape(shape: Iterable[int], name: str, c0: int | None = None) -> tuple[int, ...]:
    """NZ storage shape (batch..., ceil(W/C0), ceil(H/16), 16, C0) of an ND shape."""
    dims = _dims(shape)
    c0 = nz_c0(name) if c0 is None else operator.index(c0)
    if c0 <= 0:
        raise ValueError(f"C0 must be positive, got {c0}")
    height, width = dims[-2:]
    return dims[:-2] + (-(-width // c0), -(-height // H0), H0, c0)


def _checked_name(array: np.ndarray, name: str | None) -> str:
    if name is None:
        return name_of(array)
    if host_dtype(name).itemsize != array.dtype.itemsize:
        raise ValueError(f"array of dtype {array.dtype} cannot hold {name!r} values")
    return name


def nd_to_nz(array: np.ndarray, name: str | None = None, c0: int | None = None) -> np.ndarray:
    """Convert an ND array (..., H, W) to FRACTAL_NZ storage, zero padded.

    ``name`` defaults to :func:`~aclnn_py.semantics.dtypes.name_of` the array (pass
    ``'hifloat8'`` for uint8 codes if you like; the layout is the same);
    ``c0`` to :func:`nz_c0` of it.
    """
    arr = np.asarray(array)
    name = _checked_name(arr, name)
    dims = _dims(arr.shape)
    *batch, w1, h1, _, c0 = nz_storage_shape(dims, name, c0)
    padded = np.zeros((*batch, h1 * H0, w1 * c0), arr.dtype)
    padded[..., : dims[-2], : dims[-1]] = arr
    nb = len(batch)
    tiles = padded.reshape(*batch, h1, H0, w1, c0)
    return np.ascontiguousarray(tiles.transpose(*range(nb), nb + 2, nb, nb + 1, nb + 3))


def nz_to_nd(nz: np.ndarray, shape: Iterable[int], name: str | None = None,
             c0: int | None = None) -> np.ndarray:
    """Convert FRACTAL_NZ storage back to the ND array of ``shape`` (padding cropped)."""
    arr = np.asarray(nz)
    name = _checked_name(arr, name)
    dims = _dims(shape)
    expected = nz_storage_shape(dims, name, c0)
    if arr.shape != expected:
        raise ValueError(f"NZ array has shape {arr.shape}; ND shape {dims} of {name!r} "
                         f"needs {expected}")
    *batch, w1, h1, _, c0 = expected
    nb = len(batch)
    rows = arr.transpose(*range(nb), nb + 1, nb + 2, nb, nb + 3).reshape(*batch, h1 * H0, w1 * c0)
    return np.ascontiguousarray(rows[..., : dims[-2], : dims[-1]])


def matmul_weight_size(shape: Iterable[int], name: str | None) -> int:
    """Element count of an NZ weight buffer, as aclnnCalculateMatmulWeightSizeV2 returns.

    prod(batch) * align(d[-2], 16) * align(d[-1], A) with A = 16 for float16/bfloat16
    and 32 for every other dtype (``name`` None: a dtype without a canonical name).
    The shape needs 2..6 dims, none of them zero.
    """
    if name is not None:
        lookup(name)  # rejects unknown dtype names
    dims = tuple(operator.index(d) for d in shape)
    if not 2 <= len(dims) <= 6 or any(d <= 0 for d in dims):
        raise ValueError(f"weight shape must have 2..6 positive dims, got {dims}")
    inner = 16 if name in ("float16", "bfloat16") else 32
    return (math.prod(dims[:-2]) * (-(-dims[-2] // H0) * H0)
            * (-(-dims[-1] // inner) * inner))
