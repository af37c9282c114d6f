"""The golden of aclnnMm and aclnnMatmul: ``self @ mat2`` as the cube computes it.

From a :class:`~.rules.MatmulCall` (the rules' classification of the call):

1. both inputs are rounded (to nearest, ties to even) to the operands' dtype: FLOAT16 pairs and
   BF16 pairs stay, USE_FP16 takes FLOAT16, every other pair FLOAT32 (``Dav2201MatMulRule``,
   hicann/ops-nn matmul/common/op_host/op_api/matmul_util.cpp); the cast CANN inserts before
   the matrix unit (``ContiguousAndCast``);
2. FLOAT32 operands under ALLOW_FP32_DOWN_PRECISION (1) or USE_HF32 (3) are rounded to HF32:
   FLOAT32's range, 11 explicit mantissa bits (CANN's ATC guide, ``--allow_hf32``: "mantissa
   precision (11 bits)"), to nearest with ties to even (the cube's default HF32 round mode:
   Ascend C ``SetHF32``, ``transMode`` 0). :func:`to_hf32`;
3. the products are accumulated in FLOAT32 (the cube's accumulator: the products of FLOAT16,
   BF16 and HF32 operands are exact in it; those of FLOAT32 operands are rounded, within
   FLOAT32's precision standard 2**-13), and the sum is rounded to the product's dtype, then to
   ``out``'s (``MatmulGraphImpl::CommonPostProcess``: a Cast, then the copy into ``out``).

The FLOAT32 accumulation is one BLAS product (NumPy's matmul), whose summation order is not the
hardware's: results agree within CANN's precision standard, not bit for bit. USE_FP32_ADD
(cubeMathType 4) changes the hardware's summation order only (grouped accumulation for long k):
the same golden. Matmul of two vectors is CANN's Dot: the inputs in their plain promotion
(equal types stay, other pairs FLOAT32), accumulated in FLOAT32, rounded to that dtype and to
``out``'s.
"""
from __future__ import annotations

import numpy as np

from ..dtypes import host_dtype
from ..matmul import float_matmul
from .rules import MatmulCall

__all__ = ["compute", "to_hf32"]

_HF32_DROPPED = 23 - 11  # FLOAT32 mantissa bits HF32 does not keep


def to_hf32(values: np.ndarray) -> np.ndarray:
    """FLOAT32 values rounded to HF32 (11 explicit mantissa bits), ties to even; kept as FLOAT32.

    NaN stays NaN, infinities stay, a finite value beyond HF32's largest rounds to infinity."""
    x = np.ascontiguousarray(values, dtype=np.float32)
    bits = x.view(np.uint32)
    half = np.uint32((1 << (_HF32_DROPPED - 1)) - 1)
    lowest_kept = (bits >> np.uint32(_HF32_DROPPED)) & np.uint32(1)
    rounded = (bits + half + lowest_kept) & np.uint32(~((1 << _HF32_DROPPED) - 1) & 0xFFFFFFFF)
    result = rounded.view(np.float32)
    return np.where(np.isnan(x), x, result)


def _operand(values: np.ndarray, dtype: str, hf32: bool) -> np.ndarray:
    """An input in the operands' dtype, as FLOAT32 values."""
    rounded = np.asarray(values).astype(host_dtype(dtype)).astype(np.float32)
    return to_hf32(rounded) if hf32 else rounded


def compute(call: MatmulCall, self: np.ndarray, mat2: np.ndarray) -> np.ndarray:
    """The product, in ``out``'s host dtype and the product's shape (``call.shape``).

    ``self`` and ``mat2`` are the inputs' logical values (host arrays of any float type)."""
    out_type = host_dtype(call.out)
    if call.zeros or call.empty:
        return np.zeros(call.shape, out_type)
    a = _operand(self, call.operands, call.hf32)
    b = _operand(mat2, call.operands, call.hf32)
    with np.errstate(over="ignore", invalid="ignore"):
        acc = np.dot(a, b) if call.dot else float_matmul(a, b)
        return np.asarray(acc).astype(host_dtype(call.product)).astype(out_type).reshape(call.shape)
