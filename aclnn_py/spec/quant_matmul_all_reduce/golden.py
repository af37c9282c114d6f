"""Golden reference of aclnnQuantMatmulAllReduceV4 (quantized matmul + AllReduce-sum).

Also of V1, V2 and V3, which are V4's INT8 formulas 2 (V1), 2-3 (V2) and 1-3 (V3):
pass their dequantScale as ``x2_scale`` and pertokenScaleOptional as ``x1_scale``
(the mapping of :mod:`aclnn_py.spec.quant_matmul_all_reduce.rules`).

Every rank r computes a local dequantized product L_r, adds its own x3_r and the
ranks' results are summed; all ranks receive the same output::

    out = AllReduce_sum_r (L_r + x3_r)

Notation: acc = x1 @ x2 (exact int32 for INT8, float32 accumulation for the 8/4-bit
floats), s2 = x2Scale, s1 = x1Scale, cast = round half to even to the output dtype,
3-D x1 (b, s, k) is used as (b*s, k). The local products (formulas of the doc):

2. INT8, packed UINT64/INT64 (fp19) or BF16 s2:  L = cast(f32(acc + bias) * s2[n])
3. INT8 pertoken:                    L = cast((f32(acc + bias) * s2[n]) * s1[m])
4. MX (FP4/FP8, E8M0 scales, 32-blocks along k):
       L = cast((x1 * 2^e1[m, k//32]) @ (x2 * 2^e2[n, k//32]) + bias)
5. FP8/HIF8, packed s2:              L = cast((acc + bias) * fp19(s2)[n])
6. FP8/HIF8 pertoken:                L = cast(((acc + bias) * s2[n]) * s1[m])
7. FP8/HIF8 perblock (128x128x128, no bias), in float32, blocks j in order:
       L[p, q] = cast(sum_j (x1[p, Bj] @ x2[Bj, q]) * (s1[p//128, j] * s2[j, q//128]))

x3 is added to the rounded L: round(f32(L) + f32(x3)) (equal to a float16 add for
float16 output, the documented fp32 add + RINT for bfloat16).

1. INT8 with low-bit communication (commQuantScale1/2 = c1, c2, per column):
       Y_r = L_r + x3_r as in 2/3,  q_r = int8(rint(f16(f32(Y_r) / c1)))
       z = int8(rint(f16(f32(sum_r q_r) * (c1 / c2)))),  out = cast(f32(z) * c2)
8. FP8 pertile communication (commQuantMode 1): Y_r = f32(pre-cast L_r of 6/7) + x3_r;
   each row is cut into 1x128 tiles (last one partial); quant(Y) per tile:
   s = max|Y| / FP8_MAX (448 e4m3, 57344 e5m2; s = 1 when 0), q = fp8(Y / s);
       D = sum_r f32(q_r) * s_r  (rank order),  (q', s') = quant(D),  out = cast(f32(q') * s')

Choices where the sources leave it open (UNCONFIRMED in the semantics notes):

- AllReduce of float16/bfloat16 tiles: each rank's result is rounded to the output
  dtype, summed in float32 in rank order 0..R-1 and rounded once.
- INT8 casts of the low-bit paths saturate to [-128, 127].
- FP8/HIF8 pertoken: the float bias enters before the scales (doc and MC2 kernel).
- Formula 5 also accepts FLOAT32 output (formula text) although the table lists
  FLOAT16/BFLOAT16 only; INT8 + packed scale with BFLOAT16 output is computed, not
  rejected (the code would reject it; validation is the operator's job).
- Formula 8 uses the fp8 maximum in both quantization steps (the doc's first
  FP32_MAX is taken as a typo); x3 is added in float32 to the float32 dequantized
  product before the tile quantization; D is accumulated with separate fp32
  multiply and add (no fused multiply-add).
- Formula 1: x3 enters as in formulas 2/3, before the int8 quantization; the fp16
  divide of the float16 path is taken as correctly rounded (hence identical to the
  fp32 divide + fp16 cast of the bfloat16 path); arch35 assumed equal to arch22.
- Bit 46 of packed scales is ignored.
- groupSize is only read when both scales are >= 2-D (perblock, MX); elsewhere the
  doc requires 0 and it is ignored.
- MX pre-scales the operands in float32: exact for E8M0 scales unless a scaled value
  leaves the float32 range (extreme exponents).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import codecs
from ..matmul import float_matmul, int_matmul
from ..precision import round_to
from ..quant_params import decode_group_size, decode_scale

__all__ = ["combine", "quant_matmul_all_reduce", "rank_partial", "select_formula"]

_FP8_MAX = {"float8_e4m3fn": 448.0, "float8_e5m2": 57344.0}
_FLOAT_INPUTS = ("float8_e4m3fn", "float8_e5m2", "hifloat8", "float4_e2m1")
_PACKED = ("uint64", "int64")
_BLOCK = 128  # perblock block edge and pertile tile width
_MX_BLOCK = 32
_PERBLOCK_GROUPS = (128, 128, 128)
_MX_GROUPS = (1, 1, 32)


# --------------------------------------------------------------------------- dispatch

def _local_formula(x_dtype: str, x1_scale_dtype: str | None, x2_scale_dtype: str,
                   x1_scale_ndim: int, x2_scale_ndim: int) -> int | None:
    """Formula 2..7 of the local product, or None when the dtypes match none."""
    s1, s2 = x1_scale_dtype, x2_scale_dtype
    if x_dtype == "int8":
        if s1 is None and s2 in (*_PACKED, "bfloat16"):
            return 2
        if s1 == "float32" and x1_scale_ndim == 1 and s2 in ("float32", "bfloat16"):
            return 3
        return None
    if x_dtype not in _FLOAT_INPUTS:
        return None
    if s1 == s2 == "float8_e8m0" and x_dtype != "hifloat8":
        return 4 if x1_scale_ndim >= 2 and x2_scale_ndim >= 2 else None
    if x_dtype == "float4_e2m1":
        return None
    if s1 is None and s2 in _PACKED:
        return 5
    if s1 == s2 == "float32":
        if x1_scale_ndim == 1:
            return 6
        if x1_scale_ndim >= 2 and x2_scale_ndim >= 2:
            return 7
    return None


def select_formula(x_dtype: str, x1_scale_dtype: str | None, x2_scale_dtype: str,
                   x1_scale_ndim: int, x2_scale_ndim: int, has_comm_quant_scales: bool,
                   comm_quant_mode: int) -> int:
    """Number (1..8) of the doc formula for these inputs; ValueError when none applies.

    Dtypes are canonical names (x1_scale_dtype None when x1Scale is absent, its
    ndim then ignored). INT8: both commQuantScales -> 1, no x1Scale -> 2, FLOAT32
    pertoken x1Scale -> 3. FP4/FP8 with E8M0 scales -> 4. FP8/HIF8: no x1Scale and a
    packed x2Scale -> 5, FLOAT32 1-D x1Scale -> 6, FLOAT32 >= 2-D scales -> 7, and
    FP8 E4M3FN/E5M2 with FLOAT32 scales and commQuantMode 1 -> 8.
    """
    local = _local_formula(x_dtype, x1_scale_dtype, x2_scale_dtype, x1_scale_ndim,
                           x2_scale_ndim)
    formula = local
    if comm_quant_mode not in (0, 1):
        formula = None
    elif has_comm_quant_scales:
        formula = 1 if local in (2, 3) and comm_quant_mode == 0 else None
    elif comm_quant_mode == 1:
        formula = 8 if local in (6, 7) and x_dtype in _FP8_MAX else None
    if formula is None:
        raise ValueError(
            "no aclnnQuantMatmulAllReduceV4 formula matches x1/x2 dtype "
            f"{x_dtype!r}, x1Scale dtype {x1_scale_dtype!r} (ndim {x1_scale_ndim}), "
            f"x2Scale dtype {x2_scale_dtype!r} (ndim {x2_scale_ndim}), "
            f"commQuantScale1/2 given={has_comm_quant_scales}, "
            f"commQuantMode={comm_quant_mode}")
    return formula


# --------------------------------------------------------------------------- helpers

def _name(dtype: object) -> str:
    return dtype if isinstance(dtype, str) else codecs.name_of(dtype)


def _f32(array: np.ndarray) -> np.ndarray:
    """Exact float32 widening of a float16/bfloat16/float32 array."""
    return np.asarray(array).astype(np.float32)


def _scale_f32(scale: np.ndarray, name: str) -> np.ndarray:
    """Scale values as float32: fp19 decode of packed scales, exact otherwise."""
    if name in _PACKED:
        return decode_scale(scale)
    return codecs.to_float32(scale, name)


def _per_column(scale: np.ndarray, n: int, what: str) -> np.ndarray:
    """A (1,), (n,) or (1, n) scale as a length-1 or length-n vector."""
    s = np.asarray(scale)
    if s.ndim not in (1, 2) or (s.ndim == 2 and s.shape[0] != 1) or s.size not in (1, n):
        raise ValueError(f"{what} must have shape (1,), ({n},) or (1, {n}), got {s.shape}")
    return s.reshape(-1)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _resolve_group_size(group_size: int, dims: tuple[int, int, int],
                        scale_dims: tuple[int, int, int],
                        required: tuple[int, int, int]) -> None:
    """Infer zero groupSize fields as dim / scale_dim and require ``required``."""
    resolved = []
    for axis, g, d, s in zip("MNK", decode_group_size(group_size), dims, scale_dims):
        if g == 0:
            if s == 0 or d % s:
                raise ValueError(f"groupSize: cannot infer groupSize{axis}, {d} is not "
                                 f"divisible by the scale's {axis} extent {s}")
            g = d // s
        resolved.append(g)
    if tuple(resolved) != required:
        raise ValueError(f"groupSize resolves to (M, N, K) = {tuple(resolved)}; this "
                         f"quantization mode needs {required}")


def _check_shape(array: np.ndarray, expected: tuple[int, ...], what: str) -> None:
    if array.shape != expected:
        raise ValueError(f"{what} must have shape {expected}, got {array.shape}")


# --------------------------------------------------------------------------- local products

def _pertensor_perchannel(x1: np.ndarray, x2: np.ndarray, x_dtype: str,
                          s2: np.ndarray, s1: np.ndarray | None,
                          bias: np.ndarray | None) -> np.ndarray:
    """Formulas 2, 3, 5, 6 before the cast: ((acc + bias) * s2) [* s1], float32."""
    n = x2.shape[1]
    if x_dtype == "int8":
        acc = int_matmul(x1, x2)
        if bias is not None:
            acc += np.asarray(bias).astype(np.int64)
        y = acc.astype(np.float32)
    else:
        y = float_matmul(codecs.to_float32(x1, x_dtype), codecs.to_float32(x2, x_dtype))
        if bias is not None:
            y += _f32(bias)
    y *= _per_column(s2, n, "x2Scale")
    if s1 is not None:
        if s1.ndim != 1 or s1.size != x1.shape[0]:
            raise ValueError(f"pertoken x1Scale must have shape ({x1.shape[0]},), "
                             f"got {s1.shape}")
        y *= s1[:, None]
    return y


def _mx(x1: np.ndarray, x2: np.ndarray, x_dtype: str, s1: np.ndarray, s2: np.ndarray,
        x2_transposed: bool, group_size: int) -> np.ndarray:
    """Formula 4 without bias: E8M0 scales applied to the operands, float32 product."""
    (m, k), n = x1.shape, x2.shape[1]
    if not x2_transposed:
        raise ValueError("MX (FLOAT8_E8M0) x2Scale needs a transposed x2 (x2_transposed=True)")
    if s1.ndim != 3 or s2.ndim != 3:
        raise ValueError(f"MX x1Scale/x2Scale must be 3-D [rows, ceil(k/64), 2], got "
                         f"{s1.shape} and {s2.shape}")
    _resolve_group_size(group_size, (m, n, k), (s1.shape[0], s2.shape[0], 2 * s1.shape[1]),
                        _MX_GROUPS)
    pairs = _ceil_div(k, 2 * _MX_BLOCK)
    _check_shape(s1, (m, pairs, 2), "x1Scale")
    _check_shape(s2, (n, pairs, 2), "x2Scale")
    if x_dtype == "float4_e2m1" and (k % 2 or _ceil_div(k, _MX_BLOCK) % 2):
        raise ValueError(f"FLOAT4_E2M1 MX needs k even and ceil(k/32) even, got k={k}")
    block = np.arange(k) // _MX_BLOCK
    a = codecs.to_float32(x1, x_dtype) * s1.reshape(m, -1)[:, block]
    b = codecs.to_float32(x2, x_dtype) * s2.reshape(n, -1)[:, block].T
    return float_matmul(a, b)


def _perblock(x1: np.ndarray, x2: np.ndarray, x_dtype: str, s1: np.ndarray,
              s2: np.ndarray, x2_transposed: bool, group_size: int) -> np.ndarray:
    """Formula 7 before the cast; x1 keeps its batch dim (per-batch row blocks)."""
    rows, k = x1.shape[-2:]
    n = x2.shape[1]
    _resolve_group_size(group_size, (rows, n, k),
                        (s1.shape[-2], s2.shape[0 if x2_transposed else 1], s1.shape[-1]),
                        _PERBLOCK_GROUPS)
    kb, nb = _ceil_div(k, _BLOCK), _ceil_div(n, _BLOCK)
    _check_shape(s1, x1.shape[:-2] + (_ceil_div(rows, _BLOCK), kb), "x1Scale")
    _check_shape(s2, (nb, kb) if x2_transposed else (kb, nb), "x2Scale")
    row_scale = s1[..., np.arange(rows) // _BLOCK, :].reshape(-1, kb)
    col_scale = (s2.T if x2_transposed else s2)[:, np.arange(n) // _BLOCK]
    a = codecs.to_float32(x1, x_dtype).reshape(-1, k)
    b = codecs.to_float32(x2, x_dtype)
    y = np.zeros((a.shape[0], n), np.float32)
    for j in range(kb):
        part = float_matmul(a[:, j * _BLOCK:(j + 1) * _BLOCK], b[j * _BLOCK:(j + 1) * _BLOCK])
        part *= np.outer(row_scale[:, j], col_scale[j])
        y += part
    return y


def _local_product(local: int, x1: np.ndarray, x2: np.ndarray, x_dtype: str,
                   s1: np.ndarray | None, s2: np.ndarray, bias: np.ndarray | None,
                   group_size: int, x2_transposed: bool) -> np.ndarray:
    """Float32 local result L_r before the output cast, shape (rows, n)."""
    k, n = x2.shape
    if bias is not None and np.shape(bias) != (n,):
        raise ValueError(f"bias must have shape ({n},), got {np.shape(bias)}")
    if local == 7:
        if bias is not None:
            raise ValueError("perblock quantization does not take a bias")
        return _perblock(x1, x2, x_dtype, s1, s2, x2_transposed, group_size)
    rows = x1.reshape(-1, k)
    if local != 4:
        return _pertensor_perchannel(rows, x2, x_dtype, s2, s1, bias)
    y = _mx(rows, x2, x_dtype, s1, s2, x2_transposed, group_size)
    return y if bias is None else y + _f32(bias)


# --------------------------------------------------------------------------- public API

def rank_partial(x1: np.ndarray, x2: np.ndarray, x2_scale: np.ndarray, *,
                 x1_scale: np.ndarray | None = None, bias: np.ndarray | None = None,
                 x3: np.ndarray | None = None, out_dtype: object,
                 x_dtype: str | None = None, x2_scale_dtype: str | None = None,
                 x1_scale_dtype: str | None = None, group_size: int = 0,
                 x2_transposed: bool = False, comm_quant_mode: int = 0,
                 has_comm_quant_scales: bool = False) -> np.ndarray:
    """What one rank contributes to the reduction: Y_r = L_r + x3_r.

    Formulas 1..7: L_r rounded to ``out_dtype``, then x3 added as
    round(f32(L_r) + f32(x3)); returned in the host dtype of ``out_dtype``.
    Formula 8: float32 L_r + x3 (the tile quantization happens in :func:`combine`).
    x2 is the logical (k, n) operand; ``x2_transposed`` only selects the perblock /
    MX x2Scale layout. Dtype names default to :func:`codecs.name_of` of the arrays
    (HiFloat8 uint8 codes need ``x_dtype='hifloat8'``).
    """
    x1, x2 = np.asarray(x1), np.asarray(x2)
    if x1.ndim not in (2, 3) or x2.ndim != 2 or x1.shape[-1] != x2.shape[0]:
        raise ValueError(f"x1 must be (m, k) or (b, s, k) and x2 (k, n) with equal k, got "
                         f"{x1.shape} and {x2.shape}")
    out = _name(out_dtype)
    x_name = x_dtype or codecs.name_of(x1)
    s2_name = x2_scale_dtype or codecs.name_of(x2_scale)
    s1_name = None if x1_scale is None else x1_scale_dtype or codecs.name_of(x1_scale)
    s1_ndim = 0 if x1_scale is None else np.ndim(x1_scale)
    formula = select_formula(x_name, s1_name, s2_name, s1_ndim, np.ndim(x2_scale),
                             has_comm_quant_scales, comm_quant_mode)
    local = _local_formula(x_name, s1_name, s2_name, s1_ndim, np.ndim(x2_scale))
    s1 = None if x1_scale is None else _scale_f32(x1_scale, s1_name)
    y = _local_product(local, x1, x2, x_name, s1, _scale_f32(x2_scale, s2_name), bias,
                       group_size, x2_transposed)
    y = y.reshape(x1.shape[:-1] + (x2.shape[1],))
    if x3 is not None and np.shape(x3) != y.shape:
        raise ValueError(f"x3 must have the output shape {y.shape}, got {np.shape(x3)}")
    if formula == 8:
        return y if x3 is None else y + _f32(x3)
    rounded = round_to(y, out)
    return rounded if x3 is None else round_to(_f32(rounded) + _f32(x3), out)


def _rank_sum(terms) -> np.ndarray:
    """Float32 sum of the terms in order (the fixed rank order 0..R-1)."""
    total = None
    for term in terms:
        total = term if total is None else total + term
    return total


def _saturate_int8(values: np.ndarray) -> np.ndarray:
    """RINT to int8 with saturation, kept as float32 values."""
    return np.clip(np.rint(_f32(values)), -128, 127)


def _combine_int8_comm(partials: np.ndarray, out: str, c1: np.ndarray,
                       c2: np.ndarray) -> np.ndarray:
    """Formula 1, steps 1-3: int8 quantize, exact sum, requantize, dequantize."""
    n = partials.shape[-1]
    c1 = _f32(_per_column(c1, n, "commQuantScale1"))
    c2 = _f32(_per_column(c2, n, "commQuantScale2"))
    with np.errstate(over="ignore"):  # float16 overflow gives inf, then saturates
        total = _rank_sum(_saturate_int8((_f32(p) / c1).astype(np.float16)) for p in partials)
        z = _saturate_int8((total * (c1 / c2)).astype(np.float16))
    return round_to(z * c2, out)


def _tile_quant(tiles: np.ndarray, fp8: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-tile fp8 quantization of (..., tiles, 128) float32: (fp8 values, scales)."""
    s = np.abs(tiles).max(axis=-1, keepdims=True) / np.float32(_FP8_MAX[fp8])
    s[s == 0] = 1
    return (tiles / s).astype(codecs.host_dtype(fp8)), s


def _dequant(q: np.ndarray, s: np.ndarray) -> np.ndarray:
    return q.astype(np.float32) * s


def _tiled(y: np.ndarray) -> np.ndarray:
    """Float32 (..., n) -> (..., ceil(n/128), 128), zero padded."""
    n = y.shape[-1]
    tiles = _ceil_div(n, _BLOCK)
    pad = [(0, 0)] * (y.ndim - 1) + [(0, tiles * _BLOCK - n)]
    return np.pad(_f32(y), pad).reshape(y.shape[:-1] + (tiles, _BLOCK))


def _combine_pertile(partials: np.ndarray, out: str, fp8: str | None) -> np.ndarray:
    """Formula 8: per-tile fp8 quantization, rank-order dequant sum, requant, cast."""
    if fp8 not in _FP8_MAX:
        raise ValueError(f"commQuantMode 1 needs x_dtype float8_e4m3fn or float8_e5m2, "
                         f"got {fp8!r}")
    total = _rank_sum(_dequant(*_tile_quant(_tiled(p), fp8)) for p in partials)
    y = _dequant(*_tile_quant(total, fp8)).reshape(total.shape[:-2] + (-1,))
    return round_to(y[..., :partials.shape[-1]], out)


def combine(partials: np.ndarray, *, out_dtype: object, x_dtype: str | None = None,
            comm_quant_scale_1: np.ndarray | None = None,
            comm_quant_scale_2: np.ndarray | None = None,
            comm_quant_mode: int = 0) -> np.ndarray:
    """The AllReduce: rank results stacked on axis 0 (rank order) -> common output.

    commQuantMode 1 -> formula 8 (``x_dtype`` gives the fp8 format); both
    commQuantScales -> formula 1 (per-column scales of the output dtype); otherwise a
    float32 sum in rank order rounded once to ``out_dtype``.
    """
    out, partials = _name(out_dtype), np.asarray(partials)
    if comm_quant_mode == 1:
        return _combine_pertile(partials, out, x_dtype)
    if (comm_quant_scale_1 is None) != (comm_quant_scale_2 is None):
        raise ValueError("commQuantScale1 and commQuantScale2 must be given together")
    if comm_quant_scale_1 is not None:
        return _combine_int8_comm(partials, out, comm_quant_scale_1, comm_quant_scale_2)
    return round_to(_rank_sum(_f32(p) for p in partials), out)


def _per_rank(values: Sequence[np.ndarray] | None, ranks: int, what: str) -> list:
    if values is None:
        return [None] * ranks
    if len(values) != ranks:
        raise ValueError(f"{what} has {len(values)} entries for {ranks} ranks")
    return list(values)


def quant_matmul_all_reduce(x1: Sequence[np.ndarray], x2: Sequence[np.ndarray],
                            x2_scale: Sequence[np.ndarray], *,
                            x1_scale: Sequence[np.ndarray] | None = None,
                            bias: Sequence[np.ndarray] | None = None,
                            x3: Sequence[np.ndarray] | None = None,
                            comm_quant_scale_1: np.ndarray | None = None,
                            comm_quant_scale_2: np.ndarray | None = None,
                            out_dtype: object, x_dtype: str | None = None,
                            x2_scale_dtype: str | None = None,
                            x1_scale_dtype: str | None = None, group_size: int = 0,
                            x2_transposed: bool = False,
                            comm_quant_mode: int = 0) -> np.ndarray:
    """The operator's output from per-rank inputs (lists in rank order).

    The commQuantScales are one array each: the doc requires them identical on every
    rank. Equals combine(stack(rank_partial(rank inputs) for each rank)).
    """
    ranks = len(x1)
    x_dtype = x_dtype or codecs.name_of(x1[0])
    has_comm = comm_quant_scale_1 is not None or comm_quant_scale_2 is not None
    columns = zip(_per_rank(x2, ranks, "x2"), _per_rank(x2_scale, ranks, "x2_scale"),
                  _per_rank(x1_scale, ranks, "x1_scale"), _per_rank(bias, ranks, "bias"),
                  _per_rank(x3, ranks, "x3"))
    partials = np.stack([
        rank_partial(a, b, s2, x1_scale=s1, bias=c, x3=d, out_dtype=out_dtype,
                     x_dtype=x_dtype, x2_scale_dtype=x2_scale_dtype,
                     x1_scale_dtype=x1_scale_dtype, group_size=group_size,
                     x2_transposed=x2_transposed, comm_quant_mode=comm_quant_mode,
                     has_comm_quant_scales=has_comm)
        for a, (b, s2, s1, c, d) in zip(x1, columns)])
    return combine(partials, out_dtype=out_dtype, x_dtype=x_dtype,
                   comm_quant_scale_1=comm_quant_scale_1,
                   comm_quant_scale_2=comm_quant_scale_2, comm_quant_mode=comm_quant_mode)
