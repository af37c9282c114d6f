"""The golden of aclnnCast: every conversion between the types the project represents on the host.

``convert(values, source, target)`` takes host values of ``source`` (canonical names) and returns
them as ``target``'s host values, by these rules (hicann/ops-math ``math/cast``: the round modes
of the Ascend 950 kernel's policies in ``op_kernel/arch35/cast_struct.h``, the saturation of its
float-to-integer conversions in ``cast_impl.h``, the document aclnnCast.md):

* equal types: the values themselves;
* to BOOL: true for a value other than zero (a NaN is true; a complex value with either part
  non-zero); from BOOL: 0 and 1;
* float to float: rounded to nearest, ties to even (RINT), from the exact value; a value beyond
  the target's largest finite one becomes an infinity where the target has one (FLOAT16, BF16,
  FLOAT, FLOAT8_E5M2), NaN for FLOAT8_E4M3FN and the largest value for FLOAT4_E2M1 (ml_dtypes'
  conversions; CANN does not document them); HIFLOAT8 rounds to nearest with ties away from zero
  (the ROUND mode of the kernel's policies; :func:`~aclnn_py.semantics.codecs.hifloat8_encode`);
* integer to float: rounded to nearest, ties to even;
* float to integer: truncated toward zero (TRUNC), NaN to 0 (the document), saturated to the
  target's range (the vector unit's SAT mode);
* integer to integer: the low bits of the two's complement (wrapping), as the kernel's byte and
  nibble selection (INT32 to INT4: the low 4 bits) and C's conversions of the AI CPU kernel do.
  The document guarantees INT32 to INT8 on Atlas A2/A3 only for values in (-2048, 1920);
* complex to complex: each part as float to float; complex to anything else: the real part,
  then the rules above (the imaginary part is dropped); real to complex: imaginary part 0.

CANN's kernels may take a conversion in two steps (INT64 to BF16 through FLOAT, say), rounding
twice where this golden rounds once: the results agree within the precision standard of the
target type, and exactly for integer and BOOL targets.
"""
from __future__ import annotations

import numpy as np

from .. import codecs
from ..dtypes import EXACT, INTEGERS, host_dtype

__all__ = ["convert"]


def _bool(values: np.ndarray) -> np.ndarray:
    return np.asarray(values != 0) if values.dtype.kind != "c" else (values.real != 0) | (values.imag != 0)


def _as_numbers(values: np.ndarray, source: str) -> np.ndarray:
    """Values as NumPy numbers: HiFloat8 codes decoded, the ml_dtypes floats widened (exact)."""
    if source == "hifloat8":
        return codecs.hifloat8_decode(values).astype(np.float64)
    if source in INTEGERS or source == "bool":
        return values.astype(np.int64) if source != "uint64" else values
    if values.dtype.kind in "fc":
        return values
    return values.astype(np.float64)  # bfloat16, float8, float4: exact in float64


def _float_to_int(values: np.ndarray, target: str) -> np.ndarray:
    if target == "int4":
        low, high = -8, 7
    else:
        info = np.iinfo(host_dtype(target))
        low, high = int(info.min), int(info.max)
    with np.errstate(invalid="ignore"):
        truncated = np.trunc(np.where(np.isnan(values), 0.0, values.astype(np.float64)))
    above = truncated >= float(high) + 1  # high + 1 is a power of two: exact in float64
    below = truncated < float(low)
    inside = np.where(above | below, 0.0, truncated).astype(np.int64 if target == "int4" else host_dtype(target))
    out = np.where(above, high, np.where(below, low, inside)).astype(np.int64 if target == "int4" else inside.dtype)
    return out.astype(host_dtype(target))


def _int_to_int(values: np.ndarray, target: str) -> np.ndarray:
    if target == "int4":
        low_bits = values.astype(np.int64) & 0xF
        return (low_bits - ((low_bits & 0x8) << 1)).astype(host_dtype(target))
    return values.astype(host_dtype(target))  # NumPy's integer casts wrap (two's complement)


def _to_float(values: np.ndarray, target: str) -> np.ndarray:
    if target == "hifloat8":
        codes = codecs.hifloat8_encode(values.astype(np.float32))
        return codes.view(host_dtype(target)) if host_dtype(target) != np.uint8 else codes
    with np.errstate(over="ignore", invalid="ignore"):
        return values.astype(host_dtype(target))


def convert(values: np.ndarray, source: str, target: str) -> np.ndarray:
    """``values`` (host values of ``source``) converted to ``target``'s host values."""
    values = np.asarray(values)
    if source == target:
        return values.copy()
    numbers = _as_numbers(values, source)
    if target == "bool":
        return _bool(numbers)
    if numbers.dtype.kind == "c" and target not in codecs.COMPLEX:
        numbers = numbers.real
    if target in codecs.COMPLEX:
        with np.errstate(over="ignore", invalid="ignore"):
            return numbers.astype(host_dtype(target))
    if target in EXACT:
        return _float_to_int(numbers, target) if numbers.dtype.kind == "f" else _int_to_int(numbers, target)
    return _to_float(numbers, target)
