"""Golden reference of the MatmulAllReduce family: aclnnQuantMatmulAllReduceV4 (quantized matmul
+ AllReduce-sum) and the entry points of the same operator.

V1, V2 and V3 are V4's INT8 formulas 2 (V1), 2-3 (V2) and 1-3 (V3): pass their dequantScale as
``x2_scale`` and pertokenScaleOptional as ``x1_scale`` (the mapping of
:mod:`aclnn_py.semantics.quant_matmul_all_reduce.call`); V5 is V4 (its commMode chooses how the
AllReduce travels). aclnnMatmulAllReduce V1-V3 and aclnnWeightQuantMatmulAllReduce (V1, V2) have
their own local products (``float`` and ``weight`` below) and the AllReduce of formulas 2-7.

Compute only: :func:`partial` and :func:`reduce` take the call's
:class:`~.call.QuantMatmulAllReduceCall` (formula, dtypes, x2 layout, group sizes), as the mock
does with the one the rules returned. The host-array functions
:func:`rank_partial`, :func:`combine` and :func:`quant_matmul_all_reduce` describe
their arrays as the operator's arguments and get that classification from the
operator's own rules (:func:`.rules.check`, V4 on Ascend 950), so they accept what
the operator accepts and raise ``ValueError`` with the rule's message otherwise.

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

The unquantized kinds (FLOAT16/BFLOAT16 x1; the output has x1's dtype):

float.  MatmulAllReduce V1-V3:         L = cast(f32(x1 @ x2) + f32(bias))
weight. WeightQuantMatmulAllReduce:    L = cast(f32(x1 @ W~) + f32(bias)),
        W~ = (x2 + antiquantOffset) * antiquantScale per tensor, channel or group of
        antiquantGroupSize rows of k, in the arithmetic of :mod:`aclnn_py.semantics.antiquant`
        (GroupedMatmul's A16W8/A16W4: one formula);
with k = 0, x1 @ x2 is 0 (the kernel writes zeros, then bias and x3:
matmul_all_reduce_empty_tensor_k_general.h).

x3 is added to the rounded L: round(f32(L) + f32(x3)) (equal to a float16 add for
float16 output, the documented fp32 add + RINT for bfloat16: matmul_all_reduce_add_x3.h).

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
  FLOAT16/BFLOAT16 only (the rules' choice).
- Formula 8 uses the fp8 maximum in both quantization steps (the doc's first
  FP32_MAX is taken as a typo); x3 is added in float32 to the float32 dequantized
  product before the tile quantization; D is accumulated with separate fp32
  multiply and add (no fused multiply-add).
- Formula 1: x3 enters as in formulas 2/3, before the int8 quantization; the fp16
  divide of the float16 path is taken as correctly rounded (hence identical to the
  fp32 divide + fp16 cast of the bfloat16 path); arch35 assumed equal to arch22.
- Bit 46 of packed scales is ignored.
- groupSize is only read when both scales are >= 2-D (perblock, MX); elsewhere the
  rules require 0.
- MX pre-scales the operands in float32: exact for E8M0 scales unless a scaled value
  leaves the float32 range (extreme exponents).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from .. import codecs, dtypes
from ..antiquant import antiquant_weight
from ..descriptors import ND, TensorDesc
from ..matmul import float_matmul, int_matmul_f32
from ..precision import round_to
from ..quant_params import decode_scale
from ..status import Violation
from . import call as call_signatures
from . import rules, unquantized_rules
from .call import QuantMatmulAllReduceCall, formula_of

__all__ = ["classify_host", "combine", "matmul_all_reduce", "partial", "quant_matmul_all_reduce", "rank_partial",
           "reduce", "weight_quant_matmul_all_reduce"]

_FP8_MAX = {"float8_e4m3fn": 448.0, "float8_e5m2": 57344.0}
_PACKED = ("uint64", "int64")
_TILE = 128  # formula 8 quantizes each output row in 1 x 128 tiles
_ROW_BLOCK = 128  # rows finished / reduced at a time (a few MiB of float32: stays in the caches)
_PROFILE = "950"  # host-array calls are checked as V4 calls on Ascend 950 (every dtype)


# --------------------------------------------------------------------------- helpers

def _name(dtype: object) -> str:
    return dtype if isinstance(dtype, str) else dtypes.name_of(dtype)


def _f32(array: np.ndarray) -> np.ndarray:
    """Exact float32 widening of a float16/bfloat16/float32 array."""
    return np.asarray(array).astype(np.float32)


def _scale_f32(scale: np.ndarray, name: str) -> np.ndarray:
    """Scale values as float32: fp19 decode of packed scales, exact otherwise."""
    if name in _PACKED:
        return decode_scale(scale)
    return codecs.to_float32(scale, name)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


# --------------------------------------------------------------------------- local products

def _accumulated(call: QuantMatmulAllReduceCall, rows: np.ndarray, x2: np.ndarray, s1: np.ndarray | None,
                 s2: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """Formulas 2, 3, 5, 6 before the scales (:func:`_scale_rows`): acc + bias, float32."""
    if call.x_dtype == "int8":
        return int_matmul_f32(rows, x2, bias)  # f32(acc + bias), the exact sum rounded once
    y = float_matmul(codecs.to_float32(rows, call.x_dtype), codecs.to_float32(x2, call.x_dtype))
    if bias is not None:
        y += _f32(bias)
    return y


def _scale_rows(y: np.ndarray, s1: np.ndarray | None, s2: np.ndarray) -> None:
    """Formulas 2, 3, 5, 6, in place on rows of (acc + bias): ((acc + bias) * s2) [* s1]."""
    y *= s2.reshape(-1)  # [1] pertensor or [n] / [1, n] perchannel
    if s1 is not None:
        y *= s1[:, None]


def _mx(call: QuantMatmulAllReduceCall, rows: np.ndarray, x2: np.ndarray, s1: np.ndarray, s2: np.ndarray,
        bias: np.ndarray | None) -> np.ndarray:
    """Formula 4: E8M0 scales (one per row/column and k group) applied to the operands."""
    m, n = rows.shape[0], call.n
    block = np.arange(call.k) // call.group_sizes[2]
    a = codecs.to_float32(rows, call.x_dtype) * s1.reshape(m, -1)[:, block]
    b = codecs.to_float32(x2, call.x_dtype) * s2.reshape(n, -1)[:, block].T
    y = float_matmul(a, b)
    return y if bias is None else y + _f32(bias)


def _perblock(call: QuantMatmulAllReduceCall, x1: np.ndarray, x2: np.ndarray, s1: np.ndarray, s2: np.ndarray,
              bias: None) -> np.ndarray:
    """Formula 7 before the cast (the rules admit no bias); x1 keeps its batch dim (per-batch
    row blocks)."""
    gm, gn, gk = call.group_sizes
    rows, k, n = x1.shape[-2], call.k, call.n
    kb = _ceil_div(k, gk)
    row_scale = s1[..., np.arange(rows) // gm, :].reshape(-1, kb)
    col_scale = (s2.T if call.x2_transposed else s2)[:, np.arange(n) // gn]
    a = codecs.to_float32(x1, call.x_dtype).reshape(-1, k)
    b = codecs.to_float32(x2, call.x_dtype)
    y = np.zeros((a.shape[0], n), np.float32)
    for j in range(kb):
        part = float_matmul(a[:, j * gk:(j + 1) * gk], b[j * gk:(j + 1) * gk])
        part *= np.outer(row_scale[:, j], col_scale[j])
        y += part
    return y


def _row_blocks(rows: int) -> list[slice]:
    return [slice(start, start + _ROW_BLOCK) for start in range(0, rows, _ROW_BLOCK)]


def _plus_bias(y: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    return y if bias is None else y + _f32(bias)


def _float_product(call: QuantMatmulAllReduceCall, rows: np.ndarray, x2: np.ndarray, bias: np.ndarray | None,
                   **_) -> np.ndarray:
    """MatmulAllReduce: f32(x1 @ x2) + f32(bias), float32."""
    return _plus_bias(float_matmul(codecs.to_float32(rows, call.x_dtype), codecs.to_float32(x2, call.x2_dtype)), bias)


def _weight_product(call: QuantMatmulAllReduceCall, rows: np.ndarray, x2: np.ndarray, bias: np.ndarray | None, *,
                    antiquant_scale: np.ndarray, antiquant_offset: np.ndarray | None) -> np.ndarray:
    """WeightQuantMatmulAllReduce: f32(x1 @ W~) + f32(bias), float32 (W~ of :mod:`..antiquant`)."""
    w = antiquant_weight(codecs.to_float32(x2, call.x2_dtype), antiquant_scale, antiquant_offset, call.x_dtype,
                         call.antiquant_group_size or None)
    return _plus_bias(float_matmul(codecs.to_float32(rows, call.x_dtype), w), bias)


def partial(call: QuantMatmulAllReduceCall, x1: np.ndarray, x2: np.ndarray, x2_scale: np.ndarray | None = None, *,
            x1_scale: np.ndarray | None = None, bias: np.ndarray | None = None,
            x3: np.ndarray | None = None, antiquant_scale: np.ndarray | None = None,
            antiquant_offset: np.ndarray | None = None,
            map: Callable[[Callable[[slice], None], list[slice]], Iterable[None]] = map) -> np.ndarray:
    """What one rank of a valid ``call`` contributes to the reduction: Y_r = L_r + x3_r.

    Formulas 1..7 and the unquantized kinds: L_r rounded to the output dtype, then x3 added as
    round(f32(L_r) + f32(x3)); returned in the output's host dtype. Formula 8:
    float32 L_r + x3 (the tile quantization happens in :func:`reduce`). x2 is the
    logical (k, n) operand (the call says whether it is a transposed view).

    After the product, every output row (x1's axes but the last) is finished -- scaled,
    rounded, x3 added -- on its own: in blocks of rows, each computed by ``map`` (the
    built-in by default; a caller may run the blocks concurrently), which the result does
    not depend on.
    """
    x1, x2 = np.asarray(x1), np.asarray(x2)
    s1 = s2 = None
    if call.kind == "quant":
        s1 = None if x1_scale is None else _scale_f32(x1_scale, call.x1_scale_dtype)
        s2 = _scale_f32(x2_scale, call.x2_scale_dtype)
        operand = x1 if call.local == 7 else x1.reshape(-1, call.k)
        y = _LOCAL_PRODUCTS[call.local](call, operand, x2, s1, s2, bias).reshape(-1, call.n)
    else:
        y = _LOCAL_PRODUCTS[call.kind](call, x1.reshape(call.m, call.k), x2, bias, antiquant_scale=antiquant_scale,
                                       antiquant_offset=antiquant_offset).reshape(call.m, call.n)
    scaled_here = _LOCAL_PRODUCTS[call.product] is _accumulated
    x3_rows = None if x3 is None else np.asarray(x3).reshape(call.m, call.n)
    out = np.empty(y.shape, np.float32 if call.formula == 8 else dtypes.host_dtype(call.out_dtype))

    def finish(rows: slice) -> None:
        v = y[rows]
        if scaled_here:
            _scale_rows(v, None if s1 is None else s1[rows], s2)
        if call.formula == 8:
            out[rows] = v if x3_rows is None else v + _f32(x3_rows[rows])
            return
        rounded = round_to(v, call.out_dtype)
        out[rows] = rounded if x3_rows is None else round_to(_f32(rounded) + _f32(x3_rows[rows]),
                                                             call.out_dtype)

    for _ in map(finish, _row_blocks(len(y))):
        pass
    return out.reshape(x1.shape[:-1] + (call.n,))


#: The local product of each :attr:`~.call.QuantMatmulAllReduceCall.product`.
_LOCAL_PRODUCTS: dict[int | str, Callable[..., np.ndarray]] = {
    2: _accumulated, 3: _accumulated, 4: _mx, 5: _accumulated, 6: _accumulated, 7: _perblock,
    "float": _float_product, "weight": _weight_product}


# --------------------------------------------------------------------------- the AllReduce

def _rank_sum(terms) -> np.ndarray:
    """Float32 sum of the terms (each widened exactly to float32) in order (the fixed rank
    order 0..R-1)."""
    terms = iter(terms)
    total = np.array(next(terms), np.float32)  # a copy: the terms may be the caller's arrays
    for term in terms:
        total += term
    return total


def _saturate_int8(values: np.ndarray) -> np.ndarray:
    """RINT to int8 with saturation, kept as float32 values."""
    return np.clip(np.rint(_f32(values)), -128, 127)


def _combine_int8_comm(partials: list[np.ndarray], out: str, c1: np.ndarray,
                       c2: np.ndarray) -> np.ndarray:
    """Formula 1, steps 1-3: int8 quantize, exact sum, requantize, dequantize."""
    c1, c2 = _f32(c1).reshape(-1), _f32(c2).reshape(-1)  # [n] or [1, n]
    with np.errstate(over="ignore"):  # float16 overflow gives inf, then saturates
        total = _rank_sum(_saturate_int8((_f32(p) / c1).astype(np.float16)) for p in partials)
        z = _saturate_int8((total * (c1 / c2)).astype(np.float16))
    return round_to(z * c2, out)


def _tile_quant(tiles: np.ndarray, fp8: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-tile fp8 quantization of (..., tiles, 128) float32: (fp8 values, scales)."""
    s = np.abs(tiles).max(axis=-1, keepdims=True) / np.float32(_FP8_MAX[fp8])
    s[s == 0] = 1
    return (tiles / s).astype(dtypes.host_dtype(fp8)), s


def _dequant(q: np.ndarray, s: np.ndarray) -> np.ndarray:
    return q.astype(np.float32) * s


def _tiled(y: np.ndarray) -> np.ndarray:
    """Float32 (..., n) -> (..., ceil(n/128), 128), zero padded."""
    n = y.shape[-1]
    tiles = _ceil_div(n, _TILE)
    pad = [(0, 0)] * (y.ndim - 1) + [(0, tiles * _TILE - n)]
    return np.pad(_f32(y), pad).reshape(y.shape[:-1] + (tiles, _TILE))


def _combine_pertile(partials: list[np.ndarray], out: str, fp8: str) -> np.ndarray:
    """Formula 8: per-tile fp8 quantization, rank-order dequant sum, requant, cast."""
    total = _rank_sum(_dequant(*_tile_quant(_tiled(p), fp8)) for p in partials)
    y = _dequant(*_tile_quant(total, fp8)).reshape(total.shape[:-2] + (-1,))
    return round_to(y[..., :partials[0].shape[-1]], out)


def _allreduce(partials: list[np.ndarray], formula: int, out: str, x_dtype: str | None,
               c1: np.ndarray | None, c2: np.ndarray | None) -> np.ndarray:
    if formula == 8:
        return _combine_pertile(partials, out, x_dtype)
    if formula == 1:
        return _combine_int8_comm(partials, out, c1, c2)
    return round_to(_rank_sum(partials), out)


def reduce(call: QuantMatmulAllReduceCall, partials: Sequence[np.ndarray], *, comm_quant_scale_1: np.ndarray | None = None,
           comm_quant_scale_2: np.ndarray | None = None,
           map: Callable[[Callable[[slice], None], list[slice]], Iterable[None]] = map) -> np.ndarray:
    """The AllReduce of a valid ``call``: its ranks' :func:`partial` results in rank order
    (a sequence of arrays of one shape, or one array stacking them on axis 0) -> the common
    output (formula 1 takes the commQuantScales).

    Every output row (the axes before the last) depends only on the same row of the
    partials, so the rows are reduced in blocks, each block computed by ``map`` (the
    built-in by default; a caller may run the blocks concurrently): the result does not
    depend on the blocks.
    """
    parts = [np.asarray(p) for p in partials]
    shape, n = parts[0].shape, parts[0].shape[-1]
    if any(p.shape != shape or p.dtype != parts[0].dtype for p in parts):
        raise ValueError("the ranks' partial results differ in shape or dtype: "
                         f"{[(p.shape, str(p.dtype)) for p in parts]}")
    rows = [p.reshape(-1, n) for p in parts]
    out = np.empty(rows[0].shape, dtypes.host_dtype(call.out_dtype))

    def block(span: slice) -> None:
        out[span] = _allreduce([r[span] for r in rows], call.formula, call.out_dtype, call.x_dtype,
                               comm_quant_scale_1, comm_quant_scale_2)

    for _ in map(block, _row_blocks(len(out))):
        pass
    return out.reshape(shape)


# --------------------------------------------------------------------------- host arrays

@contextmanager
def _rejected() -> Iterator[None]:
    """A rule violation of a host-array call as ``ValueError`` (its message; the Violation chained)."""
    try:
        yield
    except Violation as violation:
        raise ValueError(violation.message) from violation


def _desc(array: np.ndarray | None, name: str | None = None, transposed: bool = False) -> TensorDesc | None:
    """A contiguous descriptor of a host array (dtype ``name``, default its own); of a 2-D array
    a transposed view (the storage (n, k) of a logical (k, n)) when ``transposed``."""
    if array is None:
        return None
    dtype = dtypes.from_name(name or dtypes.name_of(array))
    shape = np.shape(array)
    if transposed and len(shape) == 2:
        k, n = shape
        return TensorDesc((k, n), dtype, (1, k), 0, ND, (n, k))
    return TensorDesc.contiguous(shape, dtype)


def classify_host(x1: np.ndarray, x2: np.ndarray, x2_scale: np.ndarray, *,
                  x1_scale: np.ndarray | None = None, bias: np.ndarray | None = None,
                  x3: np.ndarray | None = None, comm_quant_scale_1: np.ndarray | None = None,
                  comm_quant_scale_2: np.ndarray | None = None, out_dtype: object,
                  x_dtype: str | None = None, x2_scale_dtype: str | None = None,
                  x1_scale_dtype: str | None = None, group_size: int = 0,
                  x2_transposed: bool = False, comm_quant_mode: int = 0) -> QuantMatmulAllReduceCall:
    """The :class:`~.call.QuantMatmulAllReduceCall` of one rank's host arrays, from the operator's rules.

    The arrays become the descriptors of a V4 call on Ascend 950 (x2 the logical (k, n)
    operand, a transposed view when ``x2_transposed``; output x1[:-1] + (n,) of
    ``out_dtype``); dtype names default to :func:`dtypes.name_of` of the arrays
    (HiFloat8 uint8 codes need ``x_dtype='hifloat8'``). ``ValueError`` when the
    operator would reject the call.
    """
    x_name = x_dtype or dtypes.name_of(x1)
    out = _name(out_dtype)
    shape1, shape2 = np.shape(x1), np.shape(x2)
    with _rejected():
        return rules.check(
            x1=_desc(x1, x_name), x2=_desc(x2, x_name, x2_transposed), x2_scale=_desc(x2_scale, x2_scale_dtype),
            output=TensorDesc.contiguous(shape1[:-1] + shape2[-1:], dtypes.from_name(out)),
            reduce_op="sum", bias=_desc(bias), x3=_desc(x3), x1_scale=_desc(x1_scale, x1_scale_dtype),
            comm_quant_scale_1=_desc(comm_quant_scale_1), comm_quant_scale_2=_desc(comm_quant_scale_2),
            group_size=group_size, comm_quant_mode=comm_quant_mode, profile=_PROFILE)


def rank_partial(x1: np.ndarray, x2: np.ndarray, x2_scale: np.ndarray, *,
                 x1_scale: np.ndarray | None = None, bias: np.ndarray | None = None,
                 x3: np.ndarray | None = None, out_dtype: object,
                 x_dtype: str | None = None, x2_scale_dtype: str | None = None,
                 x1_scale_dtype: str | None = None, group_size: int = 0,
                 x2_transposed: bool = False, comm_quant_mode: int = 0,
                 has_comm_quant_scales: bool = False) -> np.ndarray:
    """:func:`partial` of one rank's host arrays (classified by :func:`classify_host`).

    ``has_comm_quant_scales`` stands for the commQuantScale pair (identical on every
    rank, so not passed here) as two [n] tensors of the output dtype.
    """
    comm = None
    if has_comm_quant_scales:
        comm = np.zeros(np.shape(x2)[-1:], dtypes.host_dtype(_name(out_dtype)))
    call = classify_host(x1, x2, x2_scale, x1_scale=x1_scale, bias=bias, x3=x3,
                         comm_quant_scale_1=comm, comm_quant_scale_2=comm, out_dtype=out_dtype,
                         x_dtype=x_dtype, x2_scale_dtype=x2_scale_dtype,
                         x1_scale_dtype=x1_scale_dtype, group_size=group_size,
                         x2_transposed=x2_transposed, comm_quant_mode=comm_quant_mode)
    return partial(call, x1, x2, x2_scale, x1_scale=x1_scale, bias=bias, x3=x3)


def combine(partials: np.ndarray, *, out_dtype: object, x_dtype: str | None = None,
            comm_quant_scale_1: np.ndarray | None = None,
            comm_quant_scale_2: np.ndarray | None = None,
            comm_quant_mode: int = 0) -> np.ndarray:
    """The AllReduce: rank results stacked on axis 0 (rank order) -> common output.

    commQuantMode 1 -> formula 8 (``x_dtype`` gives the fp8 format); both
    commQuantScales -> formula 1 (per-column scales of the output dtype); otherwise a
    float32 sum in rank order rounded once to ``out_dtype``. The communication
    arguments are checked with the operator's rules.
    """
    out, partials = _name(out_dtype), np.asarray(partials)
    with _rejected():
        rules.check_comm_quant_mode(x_dtype, comm_quant_mode, _PROFILE)
        rules.check_comm_quant_scales(_desc(comm_quant_scale_1), _desc(comm_quant_scale_2),
                                      partials.shape[-1])
    formula = formula_of(0, comm_quant_scale_1 is not None, comm_quant_mode)
    return _allreduce(partials, formula, out, x_dtype, comm_quant_scale_1, comm_quant_scale_2)


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
    rank. Each rank is classified by :func:`classify_host`; the result is
    reduce(stack(partial(rank inputs) for each rank)).
    """
    ranks = len(x1)
    if not ranks:
        raise ValueError("x1 has no entries: expected one array per rank")
    x_dtype = x_dtype or dtypes.name_of(x1[0])
    columns = zip(_per_rank(x2, ranks, "x2"), _per_rank(x2_scale, ranks, "x2_scale"),
                  _per_rank(x1_scale, ranks, "x1_scale"), _per_rank(bias, ranks, "bias"),
                  _per_rank(x3, ranks, "x3"))
    calls, partials = [], []
    for a, (b, s2, s1, c, d) in zip(x1, columns):
        calls.append(classify_host(
            a, b, s2, x1_scale=s1, bias=c, x3=d, comm_quant_scale_1=comm_quant_scale_1,
            comm_quant_scale_2=comm_quant_scale_2, out_dtype=out_dtype, x_dtype=x_dtype,
            x2_scale_dtype=x2_scale_dtype, x1_scale_dtype=x1_scale_dtype, group_size=group_size,
            x2_transposed=x2_transposed, comm_quant_mode=comm_quant_mode))
        partials.append(partial(calls[-1], a, b, s2, x1_scale=s1, bias=c, x3=d))
    return reduce(calls[0], partials, comm_quant_scale_1=comm_quant_scale_1,
                  comm_quant_scale_2=comm_quant_scale_2)


def _unquantized(signature, x1: Sequence[np.ndarray], x2: Sequence[np.ndarray], *, x_dtype: str | None,
                 x2_dtype: str | None, x2_transposed: bool, **per_rank: Sequence[np.ndarray] | None) -> np.ndarray:
    """reduce(partial(rank inputs) for each rank) of an unquantized entry point's host arrays,
    each rank classified by its rules: on Atlas A2, or on Ascend 950 for an FP8/HiF8 weight
    (which only the 950 takes; A2 has no alignment rule for per-group weights)."""
    ranks = len(x1)
    if not ranks:
        raise ValueError("x1 has no entries: expected one array per rank")
    group_size = per_rank.pop("antiquant_group_size", 0)
    columns = {key: _per_rank(values, ranks, key) for key, values in {"x2": x2, **per_rank}.items()}
    calls, partials = [], []
    for r, a in enumerate(x1):
        arrays = {key: column[r] for key, column in columns.items()}
        b = arrays.pop("x2")
        x_name = x_dtype or dtypes.name_of(a)
        w_name = x2_dtype or dtypes.name_of(b)
        descs = {key: _desc(v, transposed=x2_transposed and key.startswith("antiquant")) for key, v in arrays.items()}
        if signature.kind == "weight":
            descs["antiquant_group_size"] = group_size
        with _rejected():
            calls.append(unquantized_rules.check(
                x1=_desc(a, x_name), x2=_desc(b, w_name, x2_transposed), reduce_op="sum", signature=signature,
                output=TensorDesc.contiguous(np.shape(a)[:-1] + np.shape(b)[-1:], dtypes.from_name(x_name)),
                profile="950" if w_name in unquantized_rules.FP8_WEIGHTS else "A2", **descs))
        partials.append(partial(calls[-1], a, b, **arrays))
    return reduce(calls[0], partials)


def matmul_all_reduce(x1: Sequence[np.ndarray], x2: Sequence[np.ndarray], *,
                      bias: Sequence[np.ndarray] | None = None, x3: Sequence[np.ndarray] | None = None,
                      x2_transposed: bool = False) -> np.ndarray:
    """aclnnMatmulAllReduce(V2, V3)'s output from per-rank FLOAT16/BFLOAT16 inputs (lists in rank
    order): AllReduce_r(cast(x1_r @ x2_r + bias_r) + x3_r), x2 the logical (k, n) operand."""
    return _unquantized(call_signatures.MATMUL_V2, x1, x2, x_dtype=None, x2_dtype=None, x2_transposed=x2_transposed,
                        bias=bias, x3=x3)


def weight_quant_matmul_all_reduce(x1: Sequence[np.ndarray], x2: Sequence[np.ndarray],
                                   antiquant_scale: Sequence[np.ndarray], *,
                                   antiquant_offset: Sequence[np.ndarray] | None = None,
                                   bias: Sequence[np.ndarray] | None = None, x3: Sequence[np.ndarray] | None = None,
                                   antiquant_group_size: int = 0, x2_dtype: str | None = None,
                                   x2_transposed: bool = False) -> np.ndarray:
    """aclnnWeightQuantMatmulAllReduce's output from per-rank inputs (lists in rank order):
    AllReduce_r(cast(x1_r @ W~_r + bias_r) + x3_r). ``x2_dtype`` names the weight's dtype where its
    host array does not (HiFloat8 uint8 codes: ``"hifloat8"``)."""
    return _unquantized(call_signatures.WEIGHT_QUANT, x1, x2, x_dtype=None, x2_dtype=x2_dtype,
                        x2_transposed=x2_transposed, bias=bias, x3=x3, antiquant_scale=antiquant_scale,
                        antiquant_offset=antiquant_offset, antiquant_group_size=antiquant_group_size)
