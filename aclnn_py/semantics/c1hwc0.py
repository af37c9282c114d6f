"""The channel-blocked formats NC1HWC0 (5HD) and NDC1HWC0 (6HD) of NCHW / NCDHW data.

The channels C are split into C1 = ceil(C / C0) blocks of C0 and the block moves last:
NCHW (N, C, H, W) -> NC1HWC0 (N, C1, H, W, C0) and NCDHW (N, C, D, H, W) -> NDC1HWC0
(N, D, C1, H, W, C0), element [n, (d,) c1, h, w, c0] = source [n, c1 * C0 + c0, (d,) h, w], the
channels past C zero (the shapes of ops-math conversion/npu_format_cast/op_host/op_api/
aclnn_npu_format_cast.cpp ``CalcNCHWToNC1HWC0`` / ``CalcNCDHWToNDC1HWC0``; C0 = 32 bytes of the
dtype, ``GetC0ByAdditionalDtype``).
"""
from __future__ import annotations

import numpy as np

__all__ = ["blocked_shape", "from_blocked", "to_blocked"]


def _axes(ndim: int) -> tuple[int, ...]:
    """Axes that turn (N, C1, C0, (D,) H, W) into the blocked order (N, (D,) C1, H, W, C0)."""
    return (0, 1, 3, 4, 2) if ndim == 4 else (0, 3, 1, 4, 5, 2)


def blocked_shape(shape: tuple[int, ...], c0: int) -> tuple[int, ...]:
    """The NC1HWC0 shape of an NCHW shape, or the NDC1HWC0 shape of an NCDHW one."""
    n, c, *spatial = shape
    c1 = -(-c // c0)
    if len(shape) == 4:
        return (n, c1, *spatial, c0)
    d, h, w = spatial
    return (n, d, c1, h, w, c0)


def to_blocked(values: np.ndarray, c0: int) -> np.ndarray:
    """NCHW / NCDHW values in their blocked layout, the padding channels zero."""
    n, c, *spatial = values.shape
    c1 = -(-c // c0)
    padded = np.zeros((n, c1 * c0, *spatial), values.dtype)
    padded[:, :c] = values
    return np.ascontiguousarray(padded.reshape(n, c1, c0, *spatial).transpose(_axes(values.ndim)))


def from_blocked(blocked: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The NCHW / NCDHW values (``shape``) of a blocked array."""
    inverse = np.argsort(_axes(len(shape)))
    n, c, *spatial = shape
    grouped = blocked.transpose(inverse)  # (N, C1, C0, (D,) H, W)
    return np.ascontiguousarray(grouped.reshape(n, -1, *spatial)[:, :c])
