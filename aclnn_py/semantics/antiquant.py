"""Weight-only (antiquant) dequantization, shared by the goldens of GroupedMatmul's A16W8/A16W4/
weight-FP8 scenarios, of WeightQuantMatmulAllReduce and of aclnnWeightQuantBatchMatmulV2.

W~ = (w + antiquant_offset) * antiquant_scale, per tensor ([1]), per channel ([N], [1, N]) or per
group ([G, N]: group g covers K rows [g * size, (g + 1) * size), the last group possibly shorter).
A FLOAT16 x computes every step in fp16 arithmetic, each rounded to fp16; a BFLOAT16 x (any other
x) computes in float32 and rounds once to x's dtype (the arithmetic of the A16 kernels:
ops-nn matmul/weight_quant_batch_matmul_v2, ops-transformer gmm/grouped_matmul).
"""
from __future__ import annotations

import numpy as np

from . import codecs, dtypes
from .precision import round_to

__all__ = ["along_k", "antiquant_weight", "logical_weight"]


def along_k(params: np.ndarray, k: int, group_size: int | None = None) -> np.ndarray:
    """Per-tensor / per-channel params as [1, N] (or [1, 1]); per-group [G, N] repeated to [K, N].

    ``group_size`` None: the G groups split K evenly (G must divide K); otherwise each group covers
    ``group_size`` rows and G = ceil(K / group_size)."""
    table = params.reshape(-1, params.shape[-1]) if params.ndim else params.reshape(1, 1)
    groups = table.shape[0]
    if groups == 1:
        return table
    if group_size is None:
        if k % groups:
            raise ValueError(f"the per-group count {groups} must divide K={k}")
        group_size = k // groups
    if groups != -(-k // group_size):
        raise ValueError(f"{groups} groups of {group_size} rows do not cover K={k}")
    return np.repeat(table, group_size, axis=0)[:k]


def antiquant_weight(w32: np.ndarray, scale: np.ndarray, offset: np.ndarray | None, x_name: str,
                     group_size: int | None = None, scale_name: str | None = None) -> np.ndarray:
    """W~ of a logical weight (float32 values, [K, N]) in the arithmetic of the x dtype (module doc);
    ``scale_name`` names a scale dtype its host array does not say (float8_e8m0 codes)."""
    k = w32.shape[0]
    s = along_k(np.asarray(scale), k, group_size)
    if x_name == "float16":
        w = w32.astype(np.float16)
        if offset is not None:
            w = w + along_k(np.asarray(offset), k, group_size).astype(np.float16)
        return w * codecs.to_float32(s, scale_name).astype(np.float16)
    v = w32 if offset is None else w32 + codecs.to_float32(along_k(np.asarray(offset), k, group_size))
    return round_to(v * codecs.to_float32(s, scale_name), x_name)


def logical_weight(w: np.ndarray, name: str, transposed: bool, nibble: str = "int4") -> np.ndarray:
    """The logical weight of a packed one: an INT32 (or, ``nibble`` "float4_e2m1", a FLOAT) weight holds
    eight 4-bit values per element along its storage last axis (N, or K when ``transposed``); any other
    dtype is returned as it is."""
    w = np.asarray(w)
    if name not in ("int32", "float32") or (name == "float32" and nibble == "int4"):
        return w
    packed = w.view(np.uint32) if name == "float32" else w
    dtype = dtypes.host_dtype(nibble)
    if transposed:
        return np.swapaxes(codecs.unpack_int32_to_int4(np.swapaxes(packed, -1, -2), dtype), -1, -2)
    return codecs.unpack_int32_to_int4(packed, dtype)
