"""Weight-only (antiquant) dequantization, written once for every operator that has it.

GroupedMatmul's A16W8/A16W4/weight-FP8 scenarios, WeightQuantMatmulAllReduce and
WeightQuantBatchMatmulV2 all multiply a float x by a weight dequantized on the fly:

    W~ = (w + antiquant_offset) * antiquant_scale

with the parameters per tensor ([1]), per channel ([n] or [1, n]) or per group ([G, n]: group g
covers the rows [g * group_size, (g + 1) * group_size) of k, the last group possibly shorter).

Arithmetic (the choice every caller shares; UNCONFIRMED against a kernel's exact order): for
FLOAT16 x every step in float16 arithmetic, each rounded to float16 (w to float16 exactly for
INT8/INT4 and the 8-bit floats, + offset, * scale); for BFLOAT16 x in float32, rounded once to
bfloat16. An FP8/HiF8 weight has no offset, so its W~ is one rounding of f32(w) * f32(scale).
"""
from __future__ import annotations

import numpy as np

from . import codecs
from .precision import round_to

__all__ = ["along_k", "antiquant_weight"]


def along_k(params: np.ndarray, k: int, group_size: int | None = None) -> np.ndarray:
    """Per-tensor or per-channel parameters as [1, n] (or [1, 1]); per-group [G, n] repeated to [k, n].

    ``group_size`` is the rows of k per group; None: k / G (which must then divide k)."""
    table = params.reshape(-1, params.shape[-1]) if params.ndim else params.reshape(1, 1)
    groups = table.shape[0]
    if groups == 1:
        return table
    if group_size is None:
        if k % groups:
            raise ValueError(f"the per-group count {groups} must divide K={k}")
        group_size = k // groups
    if -(-k // group_size) != groups:
        raise ValueError(f"{groups} groups of {group_size} rows do not cover K={k}")
    return np.repeat(table, group_size, axis=0)[:k]


def antiquant_weight(w32: np.ndarray, scale: np.ndarray, offset: np.ndarray | None, x_name: str,
                     group_size: int | None = None) -> np.ndarray:
    """W~ = (w + offset) * scale of a (k, n) weight given as float32 values, in the arithmetic of
    the x dtype ``x_name`` (module doc); float16 or bfloat16 host values."""
    k = w32.shape[0]
    s = along_k(np.asarray(scale), k, group_size)
    if x_name == "float16":
        w = w32.astype(np.float16)
        if offset is not None:
            w = w + along_k(np.asarray(offset), k, group_size).astype(np.float16)
        return w * s.astype(np.float16)
    v = w32 if offset is None else w32 + codecs.to_float32(along_k(np.asarray(offset), k, group_size))
    return round_to(v * codecs.to_float32(s), x_name)
