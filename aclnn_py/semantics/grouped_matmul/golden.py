"""Golden reference of aclnnGroupedMatmulV5 (grouped matrix multiplication).

Compute only: a call is classified by :mod:`.call` (:func:`compute` takes its
:class:`~.call.GroupedMatmulCall` and the decoded groupList, as the mock does;
:func:`grouped_matmul` classifies host arrays with the same code first).

Weights are LOGICAL: (K, N) per tensor or (E, K, N) as one tensor, whatever
their storage (the caller un-transposes views). ``weight_transposed`` only says
how MX / per-block scale tensors are laid out and along which axis an INT32
weight packs its eight int4 values (the storage last axis: N, or K when
transposed).

Grouping (groupList decoded by :func:`~.call.decode_group_list`)
    groupType -1: y_t = f(x_t, w_t) for every tensor pair.
    groupType 0:  rows [a_i, b_i) of x use weight e_i; rows past the groupList
                  total are not written (they keep ``out``'s contents).
    groupType 2:  y[i] = f(x[:, a_i:b_i], w[a_i:b_i, :]) (K grouping); an empty
                  K range gives an all-zero y[i].
    splitItem 0/1 give one output per group/tensor, 2/3 a single output.

Notation: acc = x_i @ w_i (exact int64 for integer inputs, float32 accumulation
for float inputs), s = scale, pts = perTokenScale, b = bias, every parameter
picked for group i (a stacked (E, ...) tensor is indexed by the weight index,
a tensor list by position), cast = round half to even to the output dtype.

Scenarios (:func:`~.call.scenario`) and formulas:

nonquant
    y = cast(acc + f32(b)).
a8w8 (INT8 x and w) and quant_fp8 (FP8/HiF8 x and w, Ascend 950)
    INT32 out: y = acc + b_int32 (a scale, if any, is not applied).
    INT8 out (UINT64/INT64 scale): t = clamp(rint(f32(acc + b_int32) * fp19(s)),
    -256, 255) + packed_offset(s); y = clamp(t, -128, 127).
    Float out: v = f32(acc + b_int32) * s[n] (fp19 for packed scales) * pts,
    + f32(b_float) after pts, then the activation in float32; y = cast(v).
    s may be per channel [N] or per tensor [1]; pts per token [M] (K grouping:
    [E, M] rows), or per tensor [E, 1] / [E].
a16w8, a16w4 (INT8/INT4 w, FP16/BF16 x) and weight_fp8 (FP8/HiF8 w, Ascend 950)
    W~ = (w + antiquant_offset) * antiquant_scale, per channel [N] or per group
    [G, N] (group g covers K rows [g*K/G, (g+1)*K/G)), in the arithmetic of
    :mod:`aclnn_py.semantics.antiquant` (shared with WeightQuantMatmulAllReduce):
    FP16 x: every step in fp16 arithmetic, rounded to fp16; BF16 x: in float32,
    rounded once to bf16.
    y = cast(f32(x @ W~) + f32(b)).
a4w4 (INT4 x and w, UINT64 scale [N] or [G, N]), every profile
    y = cast(f32(sum_g fp16(f32(x[:, K_g] @ w[K_g]) * fp19(s[g]))) * pts),
    the k-group terms rounded to fp16 and summed in fp16 in group order; no
    pts = 1. (Ascend 950 "S4S4": x and w are widened to INT8, the cube's int32
    result goes through the FixPipe dequantization with the UINT64 scale to
    fp16, per-group partials are atomically added in fp16: the same formula.)
a8w4 on Atlas A2/A3 (INT8 x, INT4 w, UINT64 scale [G, N] holding float32 bits
    in its low 32 bits)
    x = 16 * hi + lo + 8 with hi = x >> 4 and lo = (x & 15) - 8 (both in [-8, 7]);
    H, L = the a4w4 fp16 group sums of hi @ w and lo @ w with that scale;
    y = cast((16 * H + L + b + rowsum(x) * offset) * pts). With the offline
    bias b = 8 * sum_k w * s this equals x @ (w * s) * pts. The offset term is
    only present when offsetOptional is given (scale then has G = 1). When the
    offset is null the groupList is read as counts whatever groupListType says.
a8w4 on the Ascend 950 ("S8S4"; ``profile='950'``)
    y = cast((f32(sum_g fp16(f32(x[:, K_g] @ w[K_g]) * fp19(s[g]))) + rowsum(x)
    * offset) * pts): the int4 weight is widened to INT8, x @ w is exact, each
    k-group (G = K/256 without offset, G = 1 with it) is dequantized by the
    FixPipe to fp16 and the groups are added in fp16; the vector epilogue adds
    rowsum(x)[m] * offset[n] in float32 (offset present) and multiplies by pts.
    The bias (required by the operator, [E, N]) does not enter the result; with
    the documented bias b = 8 * sum_k w * s the doc's formula
    ((x - 8) @ w * s + b) * pts is the same value. groupListType is honoured.
mx (FP8/FP4 x and w, FLOAT8_E8M0 scales, 32-element k blocks, Ascend 950)
    y = cast((x * 2^ex[m, k//32]) @ (w * 2^ew[k//32, n]) + f32(b)); pts is
    [M, ceil(K/64), 2], scale [ceil(K/64), N, 2] ([N, ceil(K/64), 2] when the
    weight is transposed); block j sits at [.., j // 2, .., j % 2].
pergroup_perblock (FP8/HiF8 x and w, float32 scales, 128 blocks, Ascend 950)
    y = cast(sum_j (x[:, B_j] @ w[B_j]) * pts[m, j] * s[j, n // 128]) with
    pts [M, ceil(K/128)] and s [ceil(K/128), ceil(N/128)] ([ceil(N/128),
    ceil(K/128)] when transposed), summed in float32 over the k blocks j in order.

Activations (actType, float16/bfloat16 output of a8w8 only): 1 relu max(v, 0);
2 gelu_tanh v / (1 + exp(-1.59576912 * (v + 0.044715 v^3))); 4 fast_gelu
v / (1 + exp(-1.702 v)); 5 silu v / (1 + exp(-v)); 3 (gelu_erf) is rejected.

Choices where the documentation leaves it open (UNCONFIRMED in the notes):

- FP32 non-quant matmuls use full float32 (not HF32).
- A4W4 / A8W4: the fp16 accumulation order is sequential over k-groups, each
  group's dequantized term rounded to fp16 before an fp16 add; A8W4 keeps the hi
  and lo sums apart and combines 16 * H + L in float32, then adds the bias, the
  rowsum * offset term and multiplies by pts (in that order).
- A4W4 scales decode as fp19 (bit 46 ignored); A2/A3 A8W4 scales use the full
  float32 in the low 32 bits (identical when the scales are fp16-representable, as
  the upstream test makes them). Ascend 950 A8W4 scales decode as fp19 like every
  UINT64 scale the FixPipe applies (the upstream S8S4 example stores full float32
  bits with bit 46 set; its scales are fp19-exact, so both readings agree there).
- Ascend 950 A8W4/A4W4: the FixPipe's int32 x scale -> fp16 conversion is modelled
  as float32 product rounded to fp16; the bias of S8S4 is not applied (the
  arch35 kernel never reads it), so a bias other than the documented offline
  correction gives x @ (w * s) * pts here, not the doc formula's value.
- Bit 46 of packed scales is ignored; the packed offset only enters INT8 output.
- INT32 output is acc + bias; a scale given with it (the 950 table allows
  UINT64) is not applied.
- A 1-D pts of length M is per token, also when M equals the group count.
- Weight-only FP8/HiF8: W~ = cast_x(f32(w) * f32(antiquant_scale)), one rounding.
- An empty K group gives zeros in every scenario (non-quant kernel unconfirmed).
- K grouping is modelled for nonquant, a8w8 and quant_fp8; the "(K/gs + g)"
  scale layouts of K-grouped MX / per-block quantization are not (ValueError).
  groupListType 2 is rejected for K grouping and for a per-group output list.
- MX scales the operands before the float32 matmul: exact for E8M0 scales unless
  a scaled value leaves the float32 range.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from types import EllipsisType

import numpy as np

from .. import codecs, dtypes, soc
from ..antiquant import antiquant_weight, logical_weight
from ..matmul import float_matmul, int_matmul, int_matmul_f32
from ..precision import round_to
from ..quant_params import decode_offset, decode_scale
from . import call as classification
from .call import GroupedMatmulCall

__all__ = ["compute", "grouped_matmul"]

ArrayList = Sequence[np.ndarray] | None

_PACKED = ("uint64", "int64")
_K_GROUPED_KINDS = ("nonquant", "a8w8", "quant_fp8")
_MX_BLOCK = 32
_PERBLOCK = 128


# --------------------------------------------------------------------------- plan

@dataclass(frozen=True)
class _Unit:
    """One matmul: x rows/columns with one weight, and where its result goes."""

    index: int  # weight / per-group parameter index
    x: np.ndarray  # (rows, k) view of x
    w: np.ndarray  # (k, n)
    rows: slice  # rows of the (concatenated) M axis, for per-token scales
    out: int  # output tensor
    dest: int | slice | EllipsisType  # index into that output


Ranges = Sequence[tuple[int, int, int]]


def _check_sizes(ranges: Ranges, sizes: list[int], what: str) -> None:
    """A groupList given for per-tensor inputs must match their sizes."""
    if [b - a for _, a, b in ranges] != sizes:
        raise ValueError(f"groupList sizes {[b - a for _, a, b in ranges]} do not match "
                         f"the {what} sizes {sizes}")


def _plan(call: GroupedMatmulCall, xs: list[np.ndarray], ws: list[np.ndarray], ranges: Ranges | None) -> list[_Unit]:
    """Cut the call into matmul units (views of x, never copies)."""
    pattern = call.pattern
    if pattern in ("per_tensor", "concat"):
        x2d = [x.reshape(-1, x.shape[-1]) for x in xs]
        sizes = [x.shape[0] for x in x2d]
        if ranges is not None:
            _check_sizes(ranges, sizes, "x row")
        offsets = np.cumsum([0] + sizes).tolist()
        return [_Unit(t, x, ws[t], slice(offsets[t], offsets[t + 1]),
                      t if pattern == "per_tensor" else 0,
                      ... if pattern == "per_tensor" else slice(offsets[t], offsets[t + 1]))
                for t, x in enumerate(x2d)]
    x = xs[0]
    if pattern == "k_split":
        sizes = [w.shape[0] for w in ws]
        if ranges is not None:
            _check_sizes(ranges, sizes, "weight K")
        offsets = np.cumsum([0] + sizes).tolist()
        if offsets[-1] > x.shape[1]:
            raise ValueError(f"the weights' K sizes {sizes} exceed the K={x.shape[1]} of x")
        return [_Unit(i, x[:, offsets[i]:offsets[i + 1]], w, slice(None), i, ...)
                for i, w in enumerate(ws)]
    if ranges is None:
        raise ValueError("groupList is required for a single x grouped along M or K")
    if pattern in ("k_stack", "m_split") and call.group_list_type == 2:
        raise ValueError(f"groupListType 2 is not supported for the {pattern} pattern")
    if pattern == "k_stack":
        w = ws[0]
        if w.shape[0] != x.shape[1]:
            raise ValueError(f"weight K {w.shape[0]} differs from x K {x.shape[1]}")
        return [_Unit(i, x[:, a:b], w[a:b], slice(None), 0, i) for i, a, b in ranges]
    experts = list(ws[0]) if ws[0].ndim == 3 else ws
    units = []
    for j, (e, a, b) in enumerate(ranges):
        if e >= len(experts):
            raise ValueError(f"groupList refers to group {e} but there are only "
                             f"{len(experts)} weights")
        single = pattern == "m_single"
        units.append(_Unit(e, x[a:b], experts[e], slice(a, b), 0 if single else j,
                           slice(a, b) if single else ...))
    return units


# --------------------------------------------------------------------------- call state

@dataclass(frozen=True)
class _Inputs:
    """Everything the per-scenario kernels need besides the unit itself."""

    x_name: str
    w_name: str
    out_name: str
    stacked: bool  # per-group parameters are one tensor with a leading group axis
    k_grouped: bool
    total_rows: int
    bias: ArrayList
    scale: ArrayList
    scale_name: str | None
    offset: ArrayList
    antiquant_scale: ArrayList
    antiquant_offset: ArrayList
    per_token_scale: ArrayList
    pts_name: str | None
    weight_transposed: bool
    act_type: int

    def pick(self, params: ArrayList, index: int) -> np.ndarray | None:
        """Parameter of group ``index`` (from a stacked tensor or a tensor list)."""
        if params is None:
            return None
        return np.asarray(params[0][index] if self.stacked else params[index])

    def token_scale(self, unit: _Unit) -> np.ndarray | None:
        """Per-token (rows, 1) or per-tensor scalar pts of a unit, as float32."""
        if self.per_token_scale is None:
            return None
        pts = codecs.to_float32(self.per_token_scale[0], self.pts_name)
        if self.k_grouped:
            row = pts[unit.index].reshape(-1)
            return row[:, None] if row.size > 1 else row
        if pts.ndim == 1 and pts.shape[0] == self.total_rows:
            return pts[unit.rows, None]
        return pts.reshape(-1)[unit.index]


def _f32(array: np.ndarray, name: str | None = None) -> np.ndarray:
    return codecs.to_float32(array, name)


def _float_bias(values: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    return values if bias is None else values + _f32(bias)


# --------------------------------------------------------------------------- kernels

def _nonquant(u: _Unit, c: _Inputs) -> np.ndarray:
    acc = float_matmul(_f32(u.x, c.x_name), _f32(u.w, c.w_name))
    return _float_bias(acc, c.pick(c.bias, u.index))


def _weight_only(u: _Unit, c: _Inputs) -> np.ndarray:
    scale = c.pick(c.antiquant_scale, u.index)
    w = antiquant_weight(_f32(u.w, c.w_name), scale, c.pick(c.antiquant_offset, u.index), c.x_name)
    return _float_bias(float_matmul(u.x, w), c.pick(c.bias, u.index))


def _dequant_scale(packed: np.ndarray, name: str | None) -> np.ndarray:
    return decode_scale(packed) if name in _PACKED else _f32(packed, name)


def _requant(acc: np.ndarray, packed: np.ndarray | None, name: str | None) -> np.ndarray:
    """INT8 output from an int accumulator and a packed (fp19 + 9-bit offset) scale."""
    if packed is None or name not in _PACKED:
        raise ValueError("INT8 output needs a UINT64/INT64 packed scale")
    t = np.rint(acc.astype(np.float32) * decode_scale(packed))
    t = np.clip(t, -256, 255) + decode_offset(packed)
    return np.clip(t, -128, 127).astype(np.int8)


def _quant(u: _Unit, c: _Inputs) -> np.ndarray:
    """a8w8 / quant_fp8: dequantize (or requantize) the accumulator."""
    bias = c.pick(c.bias, u.index)
    int_bias = bias is not None and bias.dtype.kind == "i"
    if c.x_name == "int8" and c.out_name != "int32":  # f32(acc + bias): the exact sum rounded once
        acc = int_matmul_f32(u.x, u.w, bias if int_bias else None)
    else:
        acc = int_matmul(u.x, u.w) if c.x_name == "int8" else float_matmul(_f32(u.x, c.x_name), _f32(u.w, c.w_name))
        if int_bias:
            acc = acc + bias
    if c.out_name == "int32":
        return acc.astype(np.int32)
    packed = c.pick(c.scale, u.index)
    if c.out_name == "int8":
        return _requant(acc, packed, c.scale_name)
    if packed is None:
        raise ValueError(f"{c.out_name} output of a quantized matmul needs a scale")
    v = acc.astype(np.float32, copy=False)  # a fresh float32 array either way: scaled in place
    v *= _dequant_scale(packed, c.scale_name)
    pts = c.token_scale(u)
    if pts is not None:
        v *= pts
    return _ACTIVATIONS[c.act_type](_float_bias(v, None if int_bias else bias))


def _fp16_group_sum(x: np.ndarray, w: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """sum_g fp16(f32(x[:, K_g] @ w[K_g]) * scale[g]), summed in fp16 in group order."""
    groups = scale.shape[0]
    k = x.shape[1]
    if k % groups:
        raise ValueError(f"the scale's {groups} k-groups must divide K={k}")
    size = k // groups
    total = None
    for g in range(groups):
        part = int_matmul(x[:, g * size:(g + 1) * size], w[g * size:(g + 1) * size])
        term = (part.astype(np.float32) * scale[g]).astype(np.float16)
        total = term if total is None else total + term
    return total


def _fixpipe_dequant(u: _Unit, c: _Inputs) -> np.ndarray:
    """f32 of the fp16 k-group sums of x @ w, each group scaled by its fp19 packed scale."""
    scale = decode_scale(c.pick(c.scale, u.index)).reshape(-1, u.w.shape[1])
    return _fp16_group_sum(u.x, u.w, scale).astype(np.float32)


def _per_token(v: np.ndarray, u: _Unit, c: _Inputs) -> np.ndarray:
    pts = c.token_scale(u)
    return v if pts is None else v * pts


def _plus_offset(v: np.ndarray, u: _Unit, c: _Inputs) -> np.ndarray:
    """v + rowsum(x)[m] * offset[n] (A8W4 asymmetric quantization; no offset: v)."""
    offset = c.pick(c.offset, u.index)
    if offset is None:
        return v
    rowsum = u.x.sum(axis=1, dtype=np.int64).astype(np.float32)
    return v + rowsum[:, None] * _f32(offset).reshape(-1)


def _a4w4(u: _Unit, c: _Inputs) -> np.ndarray:
    return _per_token(_fixpipe_dequant(u, c), u, c)


def _low32_float(packed: np.ndarray) -> np.ndarray:
    """The float32 held in the low 32 bits of UINT64 values (no fp19 truncation)."""
    return (packed.view(np.uint64) & np.uint64(0xFFFFFFFF)).astype(np.uint32).view(np.float32)


def _a8w4(u: _Unit, c: _Inputs) -> np.ndarray:
    x = u.x
    rows, n = x.shape[0], u.w.shape[1]
    halves = np.concatenate([x >> 4, (x & 0xF) - 8])  # int8 nibbles in [-8, 7]
    scale = _low32_float(c.pick(c.scale, u.index)).reshape(-1, n)
    sums = _fp16_group_sum(halves, u.w, scale).astype(np.float32)
    v = _float_bias(16 * sums[:rows] + sums[rows:], c.pick(c.bias, u.index))
    return _per_token(_plus_offset(v, u, c), u, c)


def _a8w4_950(u: _Unit, c: _Inputs) -> np.ndarray:
    return _per_token(_plus_offset(_fixpipe_dequant(u, c), u, c), u, c)


def _mx(u: _Unit, c: _Inputs) -> np.ndarray:
    k = u.x.shape[1]
    blocks = -(-k // _MX_BLOCK)
    sx = _f32(c.per_token_scale[0], c.pts_name)
    sx = sx.reshape(sx.shape[0], -1)[u.rows, :blocks]
    sw = _f32(c.pick(c.scale, u.index), c.scale_name)
    if c.weight_transposed:  # [N, ceil(K/64), 2]
        sw = sw.reshape(sw.shape[0], -1).T
    else:  # [ceil(K/64), N, 2]
        sw = sw.transpose(0, 2, 1).reshape(-1, sw.shape[1])
    x = _f32(u.x, c.x_name) * np.repeat(sx, _MX_BLOCK, axis=1)[:, :k]
    w = _f32(u.w, c.w_name) * np.repeat(sw[:blocks], _MX_BLOCK, axis=0)[:k]
    return _float_bias(float_matmul(x, w), c.pick(c.bias, u.index))


def _perblock(u: _Unit, c: _Inputs) -> np.ndarray:
    x, w = _f32(u.x, c.x_name), _f32(u.w, c.w_name)
    k, n = w.shape
    sx = _f32(c.per_token_scale[0], c.pts_name)[u.rows]
    sw = _f32(c.pick(c.scale, u.index), c.scale_name)
    if c.weight_transposed:
        sw = sw.T
    sw = np.repeat(sw, _PERBLOCK, axis=1)[:, :n]
    v = np.zeros((x.shape[0], n), np.float32)
    for j, k0 in enumerate(range(0, k, _PERBLOCK)):
        part = float_matmul(x[:, k0:k0 + _PERBLOCK], w[k0:k0 + _PERBLOCK])
        v += part * sx[:, j:j + 1] * sw[j]
    return v


def _gelu_tanh(v: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return v / (1 + np.exp(-1.59576912 * (v + 0.044715 * v * v * v)))


def _fast_gelu(v: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return v / (1 + np.exp(-1.702 * v))


def _silu(v: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return v / (1 + np.exp(-v))


_ACTIVATIONS: dict[int, Callable[[np.ndarray], np.ndarray]] = {
    0: lambda v: v,
    1: lambda v: np.maximum(v, np.float32(0)),
    2: _gelu_tanh,
    4: _fast_gelu,
    5: _silu,
}

_KERNELS: dict[str, Callable[[_Unit, _Inputs], np.ndarray]] = {
    "nonquant": _nonquant,
    "a16w8": _weight_only,
    "a16w4": _weight_only,
    "weight_fp8": _weight_only,
    "a8w8": _quant,
    "quant_fp8": _quant,
    "a4w4": _a4w4,
    "a8w4": _a8w4,
    "mx": _mx,
    "pergroup_perblock": _perblock,
}
_KERNELS_950 = {**_KERNELS, "a8w4": _a8w4_950}
_PROFILES = tuple(soc.PROFILES.values())


# --------------------------------------------------------------------------- entry points

def _check_modelled(call: GroupedMatmulCall, offset: ArrayList, per_token_scale: ArrayList) -> None:
    """What this golden computes: its output dtypes, K grouping, the inputs each formula reads."""
    name, kind = call.out_name, call.kind
    if name in ("int8", "int32") and kind != "a8w8":
        raise ValueError(f"{name} output is only produced by INT8 x/weight (a8w8), not {kind}")
    if name not in ("int8", "int32") + classification.FLOATS:
        raise ValueError(f"unsupported output dtype {name!r}")
    if call.group_type == 2 and kind not in _K_GROUPED_KINDS:
        raise ValueError(f"groupType 2 (K grouping) is not modelled for {kind}")
    if offset is not None and kind != "a8w4":
        raise ValueError("offsetOptional is only used by A8W4 (INT8 x, INT4 weight)")
    if per_token_scale is None and kind in ("mx", "pergroup_perblock"):
        raise ValueError(f"{kind} needs perTokenScale")


def _allocate(call: GroupedMatmulCall, units: list[_Unit], out: ArrayList) -> list[np.ndarray]:
    """Outputs initialised from ``out`` (copied) or zeros."""
    if call.out_shapes is None:  # m_split: one output per group, sized by the groupList
        shapes = [(u.x.shape[0], u.w.shape[1]) for u in units]
    else:
        shapes = list(call.out_shapes)
    dtype = dtypes.host_dtype(call.out_name)
    if out is None:
        return [np.zeros(s, dtype) for s in shapes]
    if [tuple(o.shape) for o in out] != shapes:
        raise ValueError(f"out shapes {[tuple(o.shape) for o in out]} differ from {shapes}")
    return [np.array(o, dtype=dtype) for o in out]


def compute(call: GroupedMatmulCall, x: Sequence[np.ndarray], weight: Sequence[np.ndarray], *,
            bias: ArrayList = None, scale: ArrayList = None, offset: ArrayList = None,
            antiquant_scale: ArrayList = None, antiquant_offset: ArrayList = None,
            per_token_scale: ArrayList = None, ranges: Ranges | None = None,
            out: ArrayList = None, map: Callable[..., Iterable] = map) -> list[np.ndarray]:
    """The outputs of a classified call (:class:`~.call.GroupedMatmulCall`) on host arrays.

    ``ranges`` is the decoded groupList (:func:`~.call.group_ranges`; None
    without one); ``out`` gives the outputs' initial contents (rows a groupList
    leaves out keep them), else they start at zero. The call's matmuls (one per
    group or tensor) are independent and write disjoint parts of the outputs: ``map``
    runs them (the built-in by default; a caller may run them concurrently).
    """
    _check_modelled(call, offset, per_token_scale)
    xs = [np.asarray(t) for t in x]
    ws = [logical_weight(t, call.weight_name, call.weight_transposed) for t in weight]
    units = _plan(call, xs, ws, ranges)
    outputs = _allocate(call, units, out)
    inputs = _Inputs(x_name=call.x_name, w_name="int4" if call.weight_name == "int32" else call.weight_name,
                     out_name=call.out_name, stacked=call.stacked, k_grouped=call.group_type == 2,
                     total_rows=units[-1].rows.stop if call.pattern in ("per_tensor", "concat")
                     else xs[0].shape[0],
                     bias=bias, scale=scale, scale_name=call.scale_name, offset=offset,
                     antiquant_scale=antiquant_scale, antiquant_offset=antiquant_offset,
                     per_token_scale=per_token_scale, pts_name=call.pts_name,
                     weight_transposed=call.weight_transposed, act_type=call.act_type)
    kernel = (_KERNELS_950 if call.profile == "950" else _KERNELS)[call.kind]

    def product(u: _Unit) -> None:
        target = outputs[u.out]
        if u.x.shape[0] == 0:  # an empty group: no work, nothing written
            return
        if u.x.shape[1] == 0 and call.group_type == 2:
            target[u.dest] = 0
            return
        result = kernel(u, inputs)
        if result.dtype == np.float32:
            result = round_to(result, call.out_name)
        target[u.dest] = result.reshape(target[u.dest].shape)

    for _ in map(product, units):
        pass
    return outputs


def grouped_matmul(x: Sequence[np.ndarray], weight: Sequence[np.ndarray], *,
                   bias: ArrayList = None, scale: ArrayList = None, offset: ArrayList = None,
                   antiquant_scale: ArrayList = None, antiquant_offset: ArrayList = None,
                   per_token_scale: ArrayList = None, group_list: np.ndarray | None = None,
                   split_item: int = 0, group_type: int = -1, group_list_type: int = 0,
                   act_type: int = 0, out_dtype: str | None = None, out: ArrayList = None,
                   weight_transposed: bool = False, x_dtype: str | None = None,
                   weight_dtype: str | None = None, scale_dtype: str | None = None,
                   per_token_scale_dtype: str | None = None,
                   profile: str = "A2") -> list[np.ndarray]:
    """Golden aclnnGroupedMatmulV5 on host arrays; returns the output tensor list.

    Parameters are tensor lists (or None) in the host representation of
    :mod:`aclnn_py.semantics.codecs`; ``*_dtype`` name a CANN dtype when the array alone
    does not (HiFloat8 uint8 codes, E8M0 codes, INT32-packed int4 weights).
    ``out`` gives the outputs' initial contents (rows a groupList leaves out keep
    them); without it they start at zero. ``profile`` ("A2", "A3" or "950")
    selects the hardware whose formula applies where they differ (A8W4). The
    call is classified by :func:`~.call.classify` (the rules' classification)
    and its groupList decoded by :func:`~.call.group_ranges`; see the module
    docstring for formulas.
    """
    if profile not in _PROFILES:
        raise ValueError(f"profile must be one of {_PROFILES}, got {profile!r}")
    xs = [np.asarray(t) for t in x]
    ws = [np.asarray(t) for t in weight]
    scale_name = None if scale is None else scale_dtype or dtypes.name_of(np.asarray(scale[0]))
    pts_name = None if per_token_scale is None else (
        per_token_scale_dtype or dtypes.name_of(np.asarray(per_token_scale[0])))
    call = classification.classify(
        x_shapes=[a.shape for a in xs], weight_shapes=[w.shape for w in ws],
        x_name=x_dtype or dtypes.name_of(xs[0]), weight_name=weight_dtype or dtypes.name_of(ws[0]),
        out_name=out_dtype or (dtypes.name_of(out[0]) if out else None), scale_name=scale_name,
        scale_ndim=None if scale is None else np.ndim(scale[0]), pts_name=pts_name,
        has_antiquant_scale=antiquant_scale is not None, has_offset=offset is not None,
        split_item=split_item, group_type=group_type, group_list_type=group_list_type,
        group_list_len=None if group_list is None else len(group_list), act_type=act_type,
        weight_transposed=weight_transposed, profile=profile)
    return compute(call, xs, ws, bias=bias, scale=scale, offset=offset, antiquant_scale=antiquant_scale,
                   antiquant_offset=antiquant_offset, per_token_scale=per_token_scale,
                   ranges=classification.group_ranges(call, group_list), out=out)
