"""Packed UINT64 quantization parameters (aclnnTransQuantParamV2/V3) and groupSize.

Bit layout of one packed value: bits 0..31 hold a float32 scale whose low 13
mantissa bits are zero ("fp19"), bits 37..45 a 9-bit two's-complement offset,
bit 46 is set by the converter. INT64 and UINT64 tensors carry the same bits.
"""

from __future__ import annotations

import operator

import numpy as np

__all__ = [
    "decode_group_size",
    "decode_offset",
    "decode_scale",
    "encode_group_size",
    "trans_quant_param",
]

_FP19_MASK = 0xFFFFE000
_BIT46 = np.uint64(1 << 46)
_KEEP_SCALE_AND_BIT46 = np.uint64(0x4000FFFFFFFF)


def _round_to_fp19(bits: np.ndarray) -> np.ndarray:
    """Round float32 bit patterns to 10 mantissa bits, half to even (V3 round_mode=1).

    A mantissa carry moves into the exponent (up to inf); exponent 0 gives a signed zero.
    """
    u = bits.astype(np.uint64)
    sign = u & np.uint64(0x80000000)
    mag = u & np.uint64(0x7FFFFFFF)
    lsb = (mag >> np.uint64(13)) & np.uint64(1)
    rounded = (mag + np.uint64(0xFFF) + lsb) & np.uint64(_FP19_MASK)
    rounded = np.where((mag >> np.uint64(23)) == 0, np.uint64(0), rounded)
    return (sign | rounded).astype(np.uint32)


def trans_quant_param(scale: np.ndarray, offset: np.ndarray | None = None, *,
                      round_mode: int = 0) -> np.ndarray:
    """Pack float32 scales (and optional offsets) into UINT64 like aclnnTransQuantParamV2/V3.

    round_mode 0 truncates the scale to fp19 (``bits & 0xFFFFE000``); 1 rounds it
    half to even first. Offsets are rounded half to even and clamped to [-256, 255].
    Shapes: scale is 1-D or 2-D. With an offset, a 1-D scale needs a 1-D offset and
    the result has length max(len(scale), len(offset)), each of them 1 or that
    length; a 2-D scale needs an offset of the same shape. Scales and offsets are
    converted to float32 and must be finite.
    """
    s = np.asarray(scale, dtype=np.float32)
    if s.ndim not in (1, 2):
        raise ValueError(f"scale must be 1-D (t,) or 2-D, got shape {s.shape}")
    if not np.all(np.isfinite(s)):
        raise ValueError("scale must not contain NaN or Inf")
    if round_mode not in (0, 1):
        raise ValueError(f"round_mode must be 0 (truncate) or 1 (round half to even), "
                         f"got {round_mode}")
    bits = s.view(np.uint32)
    if round_mode == 1:
        bits = _round_to_fp19(bits)
    out = (bits & np.uint32(_FP19_MASK)).astype(np.uint64) | _BIT46
    if offset is None:
        return out
    o = np.asarray(offset, dtype=np.float32)
    if not np.all(np.isfinite(o)):
        raise ValueError("offset must not contain NaN or Inf")
    if s.ndim == 1 and o.ndim == 1:
        length = max(s.shape[0], o.shape[0])
        if {s.shape[0], o.shape[0]} - {1, length}:
            raise ValueError(f"1-D scale and offset must each have length 1 or the same "
                             f"length, got {s.shape[0]} and {o.shape[0]}")
        out = np.broadcast_to(out, (length,))
        o = np.broadcast_to(o, (length,))
    elif s.ndim != 2 or o.shape != s.shape:
        raise ValueError(f"offset must be 1-D when scale is 1-D, or have the shape of a "
                         f"2-D scale; got scale {s.shape} and offset {o.shape}")
    o9 = np.clip(np.rint(o), -256, 255).astype(np.int64).view(np.uint64) & np.uint64(0x1FF)
    return (out & _KEEP_SCALE_AND_BIT46) | (o9 << np.uint64(37))


def _as_uint64(packed: np.ndarray) -> np.ndarray:
    p = np.asarray(packed)
    if p.dtype == np.int64:
        return p.view(np.uint64)
    if p.dtype == np.uint64:
        return p
    raise TypeError(f"packed quantization parameters must be uint64 or int64, got {p.dtype}")


def decode_scale(packed: np.ndarray) -> np.ndarray:
    """The fp19 scale of packed values as float32 (low 32 bits masked with 0xFFFFE000)."""
    low = _as_uint64(packed) & np.uint64(_FP19_MASK)
    return low.astype(np.uint32).view(np.float32)


def decode_offset(packed: np.ndarray) -> np.ndarray:
    """The 9-bit signed offset (bits 37..45) of packed values as int32."""
    field = ((_as_uint64(packed) >> np.uint64(37)) & np.uint64(0x1FF)).astype(np.int32)
    return (field ^ 0x100) - 0x100


def encode_group_size(m: int, n: int, k: int) -> int:
    """Pack per-axis quantization group sizes as ``k | n << 16 | m << 32``."""
    sizes = [operator.index(v) for v in (m, n, k)]
    if any(not 0 <= v <= 0xFFFF for v in sizes):
        raise ValueError(f"group sizes must lie in 0..65535, got (m, n, k) = {tuple(sizes)}")
    gm, gn, gk = sizes
    return gk | gn << 16 | gm << 32


def decode_group_size(gs: int) -> tuple[int, int, int]:
    """Unpack a groupSize value into (m, n, k)."""
    value = operator.index(gs)
    if not 0 <= value < 1 << 48:
        raise ValueError(f"groupSize must lie in [0, 2**48), got {value}")
    return (value >> 32) & 0xFFFF, (value >> 16) & 0xFFFF, value & 0xFFFF
