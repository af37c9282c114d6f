"""Argument rules of aclnnGroupedMatmulV5GetWorkspaceSize (semantics.md §4, §6.2).

:func:`check` validates the tensor descriptors, the attributes and the product
profile (``"A2"``, ``"A3"``, ``"950"``) and returns the call's
:class:`~.call.GmmCall` (its classification, from :mod:`.call`). Failures raise
:class:`~aclnn_py.spec.status.Violation`: 161001 for missing lists/tensors,
161002 for everything else, with a message naming the parameter and the rule.

Check order: null pointers -> K = 0 / all-empty -> dtypes and formats (profile
feature sets) -> attributes -> tensor counts and shapes.

:func:`output_shapes` gives the output shapes from descriptors (never from the
groupList values, except the per-group outputs of a single x split along M,
which need the host values of the groupList).

Choices where the sources leave it open (UNCONFIRMED):

- BF16 bias is accepted on the 950 profile only (§6.2 "A2: no BF16 bias"), although
  the Dec-2025 A2 A8W8 table lists a BF16-bias row.
- A8W4 ("S8S4") and A4W4 ("S4S4") on the 950 profile follow the 2026 doc and the
  arch35 checker/tiling: S8S4 needs groupListType 1, scale [E, K/256, N] (no
  offset) or [E, 1, N] with offset [E, 1, N], perTokenScale [M]; S4S4 takes scale
  [E, N] or [E, G, N] and perTokenScale [M] or null. Both accept an NZ INT4 weight
  with C0 = 32 (S4S4 also 64); a per-group S4S4 scale needs an ND weight (doc; the
  arch35 checker does not say so). The ENK-NZ weight that tuningConfig[1] = 1
  selects is not modelled (weights are read as (E, K, N), as on Atlas A2/A3).
- groupListType 2 is accepted (on every profile) only for full quantization with
  groupType 0, a single x and a single 3-D weight (splitItem 2/3).
- A null x element is rejected (161001) even when the matching out element is
  null as well.
- The "last dim < 65536" rule is applied to every x, weight (storage last dim) and
  out tensor of every scenario.
- An NZ weight is taken as not transposed (its view is the logical (K, N)); the
  alignment rule is K % 16 and N % C0-rule (INT8/FP8/HiF8 32, FP16/BF16 16,
  INT4 64; the INT4 weights of 950 A8W4/A4W4: the C0 of the storage, 32 or 64);
  the storage shape must be the NZ shape of the view.
- tuningConfig is range-checked on every profile (the 950 doc calls it unsupported).
- A non-null optional list of length 0 is 161002 (its length cannot match the
  weights; §6.2 "bias non-null with length != weight length"), checked first,
  for every optional list.
- Every tensor is checked for a rank and shape the scenario can use, so nothing
  accepted here can fail on its shape when the stream runs. Per group (with a
  leading group axis of E for a stacked (E, K, N) weight, or one per groupList
  entry for a single K-grouped weight; else one tensor per weight): bias [N];
  A8W8/FP8 scale [N] (per channel), plus [1] / [] (per tensor, i.e. [E, 1] / [E])
  on the 950 profile except with INT8 out; A4W4 scale [N] or [G, N]; A8W4 scale
  [K/256, N] ([1, N] with offsetOptional) and offset [1, N]; MX scale
  [ceil(K/64), N, 2] ([N, ceil(K/64), 2] transposed); per-block scale
  [ceil(K/128), ceil(N/128)] (transposed [ceil(N/128), ceil(K/128)]);
  antiquantScale [N] ([G, N] per group for A16W4 only) and antiquantOffset of
  the antiquantScale's shape. perTokenScale: [M] per token (950 also [E] / [E, 1]
  per tensor; K grouping [E, M] / [E, 1] / [E]), MX [M, ceil(K/64), 2], per-group
  [M, ceil(K/128)]. out has at least 2 dims.
- Full quantization with groupType 2 needs splitItem 2/3 (the (E, M, N) output).
"""
from __future__ import annotations

import math
from typing import Sequence

from .. import dtypes
from ..headers import load
from ..descriptors import TensorDesc
from ..status import Violation
from . import call
from .call import FULL_QUANT as _FULL_QUANT, WEIGHT_ONLY as _WEIGHT_ONLY, GmmCall
from .. import nz

__all__ = ["FUNCTION", "NULLPTR", "INVALID", "GmmCall", "check", "output_shapes", "MAX_LAST_DIM"]

FUNCTION = "aclnnGroupedMatmulV5GetWorkspaceSize"
_K = load().constants
NULLPTR = _K["ACLNN_ERR_PARAM_NULLPTR"]
INVALID = _K["ACLNN_ERR_PARAM_INVALID"]

MAX_LAST_DIM = 65536
_FLOATS = ("float16", "bfloat16", "float32")
_LOW = ("float8_e4m3fn", "float8_e5m2", "hifloat8", "float4_e2m1", "float8_e8m0")

TensorList = Sequence[TensorDesc | None] | None


def _invalid(message: str) -> Violation:
    return Violation(INVALID, FUNCTION, message)


def _null(message: str) -> Violation:
    return Violation(NULLPTR, FUNCTION, message)


def _name(desc: TensorDesc) -> str:
    try:
        return dtypes.name(desc.dtype)
    except ValueError:
        return f"unsupported({dtypes.label(desc.dtype)})"


def _label(desc: TensorDesc) -> str:
    return dtypes.label(desc.dtype)


def _labels(names: Sequence[str | None]) -> str:
    return ", ".join("null" if n is None else dtypes.label(dtypes.from_name(n)) for n in names)


# --------------------------------------------------------------------------- helpers

def _present(values: TensorList, what: str, n_weights: int) -> list[TensorDesc] | None:
    """An optional list: None when absent, else its elements, all non-null (161001).

    A non-null list of length 0 is not "absent": 161002, since its length cannot
    match the weights (one tensor per weight, or one for perTokenScaleOptional).
    """
    if values is None:
        return None
    if len(values) == 0:
        need = "a single tensor" if what == "perTokenScaleOptional" else f"one tensor per weight ({n_weights})"
        raise _invalid(f"{what} is an empty tensor list: a non-null {what} must hold {need}; "
                       f"pass nullptr to omit it")
    for i, d in enumerate(values):
        if d is None:
            raise _null(f"{what}[{i}] is nullptr")
    return list(values)


def _one_dtype(values: list[TensorDesc] | None, what: str) -> str | None:
    if not values:
        return None
    names = {_name(d) for d in values}
    if len(names) > 1:
        raise _invalid(f"{what}: all tensors must have the same dtype, got "
                       f"{sorted(dtypes.label(d.dtype) for d in values)}")
    return names.pop()


def _allow(name: str | None, allowed: Sequence[str | None], what: str, context: str) -> None:
    if name not in allowed:
        shown = "null" if name is None else dtypes.label(dtypes.from_name(name)) \
            if not name.startswith("unsupported") else name
        raise _invalid(f"{what} dtype {shown} is not supported {context}; supported: "
                       f"{_labels(allowed)}")


def _require(values: list[TensorDesc] | None, what: str, context: str) -> None:
    if values is None:
        raise _null(f"{what} is nullptr but {context} requires it")


def _forbid(values: list[TensorDesc] | None, what: str, context: str) -> None:
    if values is not None:
        raise _invalid(f"{what} must be null {context}")


# --------------------------------------------------------------------------- main check

def check(*, x: TensorList, weight: TensorList, bias: TensorList = None, scale: TensorList = None,
          offset: TensorList = None, antiquant_scale: TensorList = None,
          antiquant_offset: TensorList = None, per_token_scale: TensorList = None,
          group_list: TensorDesc | None = None, activation_input: TensorList = None,
          activation_quant_scale: TensorList = None, activation_quant_offset: TensorList = None,
          split_item: int = 0, group_type: int = -1, group_list_type: int = 0, act_type: int = 0,
          tuning_config: Sequence[int] | None = None, out: TensorList = None,
          activation_feature_out: TensorList = None, dyn_quant_scale_out: TensorList = None,
          profile: str = "A2") -> GmmCall:
    """Validate one call (raises Violation); see the module docstring."""
    # ---- 161001: null lists and elements
    for what, values in (("x", x), ("weight", weight), ("out", out)):
        if values is None:
            raise _null(f"{what} is nullptr")
    assert x is not None and weight is not None and out is not None
    if len(x) == 0 or len(weight) == 0:
        raise _invalid(f"{'x' if len(x) == 0 else 'weight'} tensor list is empty")
    for i, w in enumerate(weight):
        if w is None:
            raise _null(f"weight[{i}] is nullptr")
    if len(x) == len(out):
        for i, (a, b) in enumerate(zip(x, out)):
            if (a is None) != (b is None):
                raise _null(f"x[{i}] is {'nullptr' if a is None else 'not nullptr'} but out[{i}] is "
                            f"{'nullptr' if b is None else 'not nullptr'}: they must be null together")
    for what, values in (("x", x), ("out", out)):
        for i, d in enumerate(values):
            if d is None:
                raise _null(f"{what}[{i}] is nullptr")
    xs: list[TensorDesc] = list(x)  # type: ignore[arg-type]
    ws: list[TensorDesc] = list(weight)  # type: ignore[arg-type]
    ys: list[TensorDesc] = list(out)  # type: ignore[arg-type]
    bias_l = _present(bias, "biasOptional", len(ws))
    scale_l = _present(scale, "scaleOptional", len(ws))
    offset_l = _present(offset, "offsetOptional", len(ws))
    aq_scale = _present(antiquant_scale, "antiquantScaleOptional", len(ws))
    aq_offset = _present(antiquant_offset, "antiquantOffsetOptional", len(ws))
    pts_l = _present(per_token_scale, "perTokenScaleOptional", len(ws))

    # ---- must-be-null parameters
    for what, values in (("activationInputOptional", activation_input),
                         ("activationQuantScaleOptional", activation_quant_scale),
                         ("activationQuantOffsetOptional", activation_quant_offset),
                         ("activationFeatureOutOptional", activation_feature_out),
                         ("dynQuantScaleOutOptional", dyn_quant_scale_out)):
        if values is not None:
            raise _invalid(f"{what} must be nullptr (not supported)")

    # ---- transposition of the weights (decides how K and N are read)
    nz_weight = any(w.is_nz for w in ws)
    flags = {w.is_transposed() for w in ws}
    if len(flags) > 1:
        raise _invalid("weight: all tensors must be transposed or none (mixed transposition)")
    transposed = flags.pop()
    for i, w in enumerate(ws):
        if not (w.is_nz or w.is_contiguous() or w.is_transposed()):
            raise _invalid(f"weight[{i}] must be contiguous or a transposed view of the last two dims")
        if w.ndim not in (2, 3):
            raise _invalid(f"weight[{i}] must have 2 or 3 dims, got {w.ndim}")
    w_shapes = [call.logical_weight_shape(w.shape, _name(w), transposed) for w in ws]

    # ---- K = 0 and empty inputs
    for what, values in (("x", xs), ("out", ys)):
        for i, d in enumerate(values):
            if d.ndim < 2:
                raise _invalid(f"{what}[{i}] must have at least 2 dims, got {d.ndim}")
    ks = [s[-2] for s in w_shapes]
    m_total = sum(math.prod(xd.shape[:-1]) for xd in xs)
    n_any = any(s[-1] for s in w_shapes)
    if (any(xd.shape[-1] == 0 for xd in xs) or any(k == 0 for k in ks)) and m_total and n_any:
        raise _invalid("does not support input K being 0 while M and N are not empty")
    if all(xd.numel == 0 for xd in xs) or all(w.numel == 0 for w in ws):
        return GmmCall(empty=True)

    # ---- dtypes, formats, profile
    x_name = _one_dtype(xs, "x")
    w_name = _one_dtype(ws, "weight")
    out_name = _one_dtype(ys, "out")
    bias_name = _one_dtype(bias_l, "biasOptional")
    scale_name = _one_dtype(scale_l, "scaleOptional")
    offset_name = _one_dtype(offset_l, "offsetOptional")
    aqs_name = _one_dtype(aq_scale, "antiquantScaleOptional")
    aqo_name = _one_dtype(aq_offset, "antiquantOffsetOptional")
    pts_name = _one_dtype(pts_l, "perTokenScaleOptional")
    a2 = profile in ("A2", "A3")
    where = f"on the {profile} profile"
    if a2:
        for what, name in (("x", x_name), ("weight", w_name), ("scaleOptional", scale_name),
                           ("perTokenScaleOptional", pts_name)):
            if name in _LOW:
                raise _invalid(f"{what} dtype {dtypes.label(dtypes.from_name(name))} is not supported "
                               f"on Atlas A2/A3 (FP8/HiF8/FP4/E8M0 are Ascend 950 features)")
        if scale_name == "int64":
            raise _invalid("scaleOptional dtype INT64 is not supported on Atlas A2/A3 (use UINT64)")
        if bias_name == "bfloat16":
            raise _invalid("biasOptional dtype BF16 is not supported on Atlas A2/A3")
    for what, values in (("x", xs), ("out", ys), ("biasOptional", bias_l), ("scaleOptional", scale_l),
                         ("offsetOptional", offset_l), ("antiquantScaleOptional", aq_scale),
                         ("antiquantOffsetOptional", aq_offset), ("perTokenScaleOptional", pts_l)):
        for i, d in enumerate(values or ()):
            if d.is_nz:
                raise _invalid(f"{what}[{i}] format FRACTAL_NZ is not supported (ND only)")
    if group_list is not None:
        if group_list.dtype != dtypes.DataType.ACL_INT64:
            raise _invalid(f"groupListOptional dtype {_label(group_list)} is not supported; supported: INT64")
        if group_list.is_nz:
            raise _invalid("groupListOptional format FRACTAL_NZ is not supported (ND only)")
    assert x_name is not None and w_name is not None
    w_logical = "int4" if w_name == "int32" else w_name
    scale_group_ndim = 0
    if scale_l is not None:
        scale_group_ndim = call.scale_group_ndim(scale_l[0].ndim, len(ws), ws[0].ndim, group_type)
    try:
        kind = call.scenario(x_name, w_name, scale_dtype=scale_name, scale_group_ndim=scale_group_ndim,
                               has_antiquant_scale=aq_scale is not None)
    except ValueError as exc:
        raise _invalid(f"x dtype {_label(xs[0])} with weight dtype {_label(ws[0])}: {exc}") from None
    if a2 and kind in ("weight_fp8", "quant_fp8", "mx", "pergroup_perblock"):
        raise _invalid(f"scenario {kind} is not supported on Atlas A2/A3")
    _check_dtypes(kind, profile, x_name=x_name, out_name=out_name, bias_name=bias_name,
                  scale_name=scale_name, offset_name=offset_name, aqs_name=aqs_name, aqo_name=aqo_name,
                  pts_name=pts_name, bias_l=bias_l, scale_l=scale_l, pts_l=pts_l, where=where)

    # ---- attributes
    try:
        call.check_split_item(split_item)
        call.check_group_type(group_type)
        call.check_group_list_type(group_list_type)
        call.check_activation(act_type, kind, out_name, scale_name)
    except ValueError as exc:
        raise _invalid(str(exc)) from None
    if profile == "950" and kind == "a8w4" and group_list_type != 1:
        raise _invalid(f"A8W4 on the 950 profile needs groupListType 1 (the groupList holds counts), "
                       f"got {group_list_type}")

    # ---- tensor counts
    n_w = len(ws)
    limit = 128
    if not a2 and kind == "nonquant":
        limit = 1024
    for what, values in (("x", xs), ("weight", ws), ("out", ys)):
        if len(values) > limit:
            raise _invalid(f"{what} has {len(values)} tensors; at most {limit} are supported here")
    if kind in _FULL_QUANT:
        if len(xs) != 1 or n_w != 1 or len(ys) != 1:
            raise _invalid(f"{kind.upper()} quantization needs single-tensor x, weight and out lists, got "
                           f"{len(xs)}/{n_w}/{len(ys)}")
        allowed_gt = (0, 2) if (not a2 and kind in ("a8w8", "quant_fp8")) else (0,)
        if group_type not in allowed_gt:
            raise _invalid(f"{kind.upper()} quantization needs groupType "
                           f"{' or '.join(map(str, allowed_gt))}, got {group_type}")
        if xs[0].ndim != 2:
            raise _invalid(f"{kind.upper()} quantization needs a 2-D x, got {xs[0].ndim} dims")
        if group_type == 0 and ws[0].ndim != 3:
            raise _invalid(f"{kind.upper()} quantization needs a 3-D weight (E, K, N), got {ws[0].ndim} dims")
        if kind in ("a8w4", "a4w4") and transposed:
            raise _invalid(f"{kind.upper()} does not support a transposed weight")
        if group_type == 2 and split_item < 2:
            raise _invalid(f"{kind.upper()} quantization with groupType 2 needs splitItem 2 or 3 (a single "
                           f"(E, M, N) output), got {split_item}")
    if kind in _WEIGHT_ONLY or kind == "nonquant":
        if group_type == 2 and kind != "nonquant":
            raise _invalid(f"weight-only quantization ({kind.upper()}) supports groupType -1 and 0, not 2")
    if kind == "weight_fp8":
        if group_type != 0:
            raise _invalid("weight-only FP8/HiF8 needs groupType 0")
        if not transposed:
            raise _invalid("weight-only FP8/HiF8 needs a transposed weight")
    for name, values in (("biasOptional", bias_l), ("scaleOptional", scale_l), ("offsetOptional", offset_l),
                         ("antiquantScaleOptional", aq_scale), ("antiquantOffsetOptional", aq_offset)):
        if values is not None and len(values) != n_w:
            raise _invalid(f"{name} has {len(values)} tensors but weight has {n_w}: the lengths must be equal")
    if pts_l is not None and len(pts_l) != 1:
        raise _invalid(f"perTokenScaleOptional must hold a single tensor, got {len(pts_l)}")

    try:
        pattern = call.pattern(len(xs), [w.ndim for w in ws], split_item, group_type)
    except ValueError as exc:
        raise _invalid(str(exc)) from None

    # ---- x layout and dims
    for i, xd in enumerate(xs):
        if group_type == 2:
            if not xd.is_transposed():
                raise _invalid("x must be transposed (a (K, M) storage viewed as (M, K)) for groupType 2")
        elif not xd.is_contiguous():
            raise _invalid(f"x[{i}] must be contiguous (a transposed x is only allowed for groupType 2)")
        max_dims = 6 if (kind in _WEIGHT_ONLY and pattern == "per_tensor") else 2
        if xd.ndim > max_dims:
            raise _invalid(f"x[{i}] has {xd.ndim} dims; at most {max_dims} are supported here")
    for what, values in (("x", xs), ("out", ys)):
        for i, d in enumerate(values):
            if d.shape[-1] >= MAX_LAST_DIM:
                raise _invalid(f"{what}[{i}] last dim {d.shape[-1]} must be less than {MAX_LAST_DIM}")
    for i, w in enumerate(ws):
        last = w.shape[-2] if transposed else w.shape[-1]
        if last >= MAX_LAST_DIM:
            raise _invalid(f"weight[{i}] last (storage) dim {last} must be less than {MAX_LAST_DIM}")
    if nz_weight:
        _check_nz(ws, w_shapes, w_logical, _nz_c0s(w_logical, kind, profile))

    # ---- groupList presence, dims, length; groupListType per scenario
    n_groups = _check_group_list(group_list, pattern, group_type, group_list_type, kind, ws, w_shapes,
                                 profile)

    # ---- splitItem vs out
    if split_item >= 2 and len(ys) != 1:
        raise _invalid(f"splitItem {split_item} needs a single out tensor, got {len(ys)}")
    if split_item < 2:
        if pattern in ("m_split", "k_split") and len(ys) != n_w:
            raise _invalid(f"splitItem {split_item}: out has {len(ys)} tensors but weight has {n_w}")
        if pattern == "per_tensor" and len(ys) != len(xs):
            raise _invalid(f"splitItem {split_item}: out has {len(ys)} tensors but x has {len(xs)}")

    # ---- K agreement
    xk = [xd.shape[-1] for xd in xs]
    if pattern in ("per_tensor", "concat"):
        for i, (a, b) in enumerate(zip(xk, ks)):
            if a != b:
                raise _invalid(f"x[{i}] K={a} differs from weight[{i}] K={b}")
    elif pattern in ("m_single", "m_split", "k_stack"):
        for i, b in enumerate(ks):
            if xk[0] != b:
                raise _invalid(f"x K={xk[0]} differs from weight[{i}] K={b}")
    else:  # k_split
        if sum(ks) > xk[0]:
            raise _invalid(f"the weights' K sizes {ks} add up to more than the K={xk[0]} of x")
    ns = [s[-1] for s in w_shapes]
    if pattern in ("m_single", "concat", "k_stack") and len(set(ns)) != 1:
        raise _invalid(f"a single out tensor needs weights with equal N, got {ns}")

    # ---- tuningConfig
    if tuning_config is not None:
        m = xs[0].shape[0] if len(xs) == 1 else m_total
        for j, v in enumerate(tuning_config):
            if v < 0 or v > m:
                raise _invalid(f"tuningConfigOptional[{j}]={v} must be >= 0 and <= M={m}")

    # ---- out shapes
    if pattern == "m_split":
        for i, (y, n) in enumerate(zip(ys, ns)):
            if y.ndim != 2 or y.shape[1] != n:
                raise _invalid(f"out[{i}] must be (rows of group {i}, {n}), got {list(y.shape)}")
    else:
        expect = call.output_shapes([xd.shape for xd in xs], w_shapes, split_item=split_item,
                                      group_type=group_type, group_list_len=n_groups)
        got = [tuple(y.shape) for y in ys]
        if got != expect:
            raise _invalid(f"out shapes {[list(s) for s in got]} differ from the expected "
                           f"{[list(s) for s in expect]}")
    for i, y in enumerate(ys):
        if not y.is_contiguous():
            raise _invalid(f"out[{i}] must be contiguous")

    _check_params(kind, pattern, profile, xs, ws, w_shapes, transposed, n_groups, bias_l, scale_l,
                  offset_l, aq_scale, aq_offset, pts_l, out_name)
    return call.classify(
        x_shapes=[d.shape for d in xs], weight_shapes=[w.shape for w in ws], x_name=x_name, weight_name=w_name,
        out_name=out_name, scale_name=scale_name, scale_ndim=None if scale_l is None else scale_l[0].ndim,
        pts_name=pts_name, has_antiquant_scale=aq_scale is not None, has_offset=offset_l is not None,
        split_item=split_item, group_type=group_type, group_list_type=group_list_type, group_list_len=n_groups,
        act_type=act_type, weight_transposed=transposed, profile=profile)


# --------------------------------------------------------------------------- dtype tables

def _check_dtypes(kind: str, profile: str, *, x_name: str, out_name: str | None, bias_name, scale_name,
                  offset_name, aqs_name, aqo_name, pts_name, bias_l, scale_l, pts_l, where: str) -> None:
    a2 = profile in ("A2", "A3")
    ctx = f"for {kind.upper()} {where}"
    if kind == "nonquant":
        for what, name in (("scaleOptional", scale_name), ("offsetOptional", offset_name),
                           ("antiquantOffsetOptional", aqo_name), ("perTokenScaleOptional", pts_name)):
            if name is not None:
                raise _invalid(f"{what} must be null for non-quantized inputs")
        biases = {"float16": ("float16",), "bfloat16": ("float32",) if a2 else ("float32", "bfloat16"),
                  "float32": ("float32",)}[x_name]
        _allow(bias_name, (None,) + biases, "biasOptional", f"with x {x_name.upper()} {where}")
        _allow(out_name, (x_name,), "out", f"with x {dtypes.label(dtypes.from_name(x_name))}")
        return
    if kind in _WEIGHT_ONLY:
        for what, name in (("scaleOptional", scale_name), ("offsetOptional", offset_name),
                           ("perTokenScaleOptional", pts_name)):
            if name is not None:
                raise _invalid(f"{what} must be null for weight-only quantization")
        _allow(aqs_name, (x_name,), "antiquantScaleOptional", f"{ctx} (must equal the x dtype)")
        _allow(aqo_name, (None,) if kind == "weight_fp8" else (None, x_name), "antiquantOffsetOptional",
               f"{ctx} (must equal the x dtype)")
        biases = ("float16",) if x_name == "float16" else ("float32",) if a2 else ("float32", "bfloat16")
        _allow(bias_name, (None,) + biases, "biasOptional", ctx)
        _allow(out_name, (x_name,), "out", f"{ctx} (must equal the x dtype)")
        return
    for what, name in (("antiquantScaleOptional", aqs_name), ("antiquantOffsetOptional", aqo_name)):
        if name is not None:
            raise _invalid(f"{what} must be null for {kind.upper()}")
    if kind != "a8w4" and offset_name is not None:
        raise _invalid(f"offsetOptional must be null for {kind.upper()}")
    if kind == "a8w8":
        _a8w8_dtypes(a2, out_name, bias_name, scale_name, pts_name, ctx)
    elif kind == "a8w4":
        _require(bias_l, "biasOptional", "A8W4")
        _require(scale_l, "scaleOptional", "A8W4")
        _require(pts_l, "perTokenScaleOptional", "A8W4")
        _allow(bias_name, ("float32",), "biasOptional", ctx)
        _allow(scale_name, ("uint64",), "scaleOptional", ctx)
        _allow(pts_name, ("float32",), "perTokenScaleOptional", ctx)
        _allow(out_name, ("bfloat16", "float16"), "out", ctx)
        _allow(offset_name, (None, "float32"), "offsetOptional", ctx)
        if offset_name is not None and out_name != "float16":
            raise _invalid("offsetOptional (asymmetric A8W4) needs FLOAT16 out")
    elif kind == "a4w4":
        _require(scale_l, "scaleOptional", "A4W4")
        _allow(scale_name, ("uint64",), "scaleOptional", ctx)
        _allow(pts_name, (None, "float32"), "perTokenScaleOptional", ctx)
        _allow(bias_name, (None,), "biasOptional", ctx)
        _allow(out_name, ("float16", "bfloat16"), "out", ctx)
    elif kind == "quant_fp8":
        _require(scale_l, "scaleOptional", "FP8/HiF8 quantization")
        _allow(scale_name, ("uint64", "int64", "float32"), "scaleOptional", ctx)
        _allow(pts_name, (None, "float32"), "perTokenScaleOptional", ctx)
        _allow(bias_name, (None,), "biasOptional", ctx)
        _allow(out_name, ("bfloat16", "float16", "float32"), "out", ctx)
    elif kind == "mx":
        _require(pts_l, "perTokenScaleOptional", "MX quantization")
        _allow(pts_name, ("float8_e8m0",), "perTokenScaleOptional", ctx)
        fp4 = x_name == "float4_e2m1"
        _allow(bias_name, (None, "float32") if fp4 else (None,), "biasOptional", ctx)
        _allow(out_name, ("bfloat16", "float16", "float32"), "out", ctx)
    elif kind == "pergroup_perblock":
        _require(pts_l, "perTokenScaleOptional", "per-group/per-block quantization")
        _allow(scale_name, ("float32",), "scaleOptional", ctx)
        _allow(pts_name, ("float32",), "perTokenScaleOptional", ctx)
        _allow(bias_name, (None,), "biasOptional", ctx)
        _allow(out_name, ("bfloat16", "float16", "float32"), "out", ctx)


def _a8w8_dtypes(a2: bool, out_name, bias_name, scale_name, pts_name, ctx: str) -> None:
    """A8W8 (INT8 x and weight) combination tables: §4.4 (A2/A3) and §4.5 (950)."""
    _allow(out_name, ("int8", "bfloat16", "float16", "int32"), "out", ctx)
    _allow(pts_name, (None, "float32"), "perTokenScaleOptional", ctx)
    if out_name == "int32":
        _allow(scale_name, (None,) if a2 else (None, "uint64"), "scaleOptional", f"{ctx} with INT32 out")
        _allow(pts_name, (None,), "perTokenScaleOptional", f"{ctx} with INT32 out")
        _allow(bias_name, (None, "int32"), "biasOptional", f"{ctx} with INT32 out")
        return
    if scale_name is None:
        raise _null(f"scaleOptional is nullptr but A8W8 with {out_name.upper()} out requires it")
    if out_name == "int8":
        _allow(scale_name, ("uint64",) if a2 else ("uint64", "int64"), "scaleOptional", f"{ctx} with INT8 out")
        _allow(pts_name, (None,), "perTokenScaleOptional", f"{ctx} with INT8 out")
        _allow(bias_name, (None, "int32"), "biasOptional", f"{ctx} with INT8 out")
        return
    if a2:
        if out_name == "bfloat16":
            _allow(scale_name, ("bfloat16", "float32"), "scaleOptional", f"{ctx} with BFLOAT16 out")
            _allow(bias_name, (None, "int32") if scale_name == "bfloat16" else (None,), "biasOptional",
                   f"{ctx} with BFLOAT16 out and {scale_name.upper()} scale")
        else:  # float16
            _allow(scale_name, ("float32",), "scaleOptional", f"{ctx} with FLOAT16 out")
            _allow(bias_name, (None, "int32"), "biasOptional", f"{ctx} with FLOAT16 out")
        return
    packed = scale_name in ("uint64", "int64")
    if packed:
        _allow(pts_name, (None,), "perTokenScaleOptional", f"{ctx} with a {scale_name.upper()} scale")
        _allow(bias_name, (None, "int32"), "biasOptional", f"{ctx} with a {scale_name.upper()} scale")
    elif out_name == "bfloat16":
        _allow(scale_name, ("bfloat16", "float32"), "scaleOptional", f"{ctx} with BFLOAT16 out")
        _allow(bias_name, (None, "int32", "bfloat16", "float32"), "biasOptional", f"{ctx} with BFLOAT16 out")
    else:
        _allow(scale_name, ("float32",), "scaleOptional", f"{ctx} with FLOAT16 out")
        _allow(bias_name, (None, "int32", "float16", "float32"), "biasOptional", f"{ctx} with FLOAT16 out")


# --------------------------------------------------------------------------- shapes

_NZ_DTYPES = ("int8", "float8_e4m3fn", "float8_e5m2", "hifloat8", "float16", "bfloat16", "int4")


def _nz_c0s(w_name: str, kind: str, profile: str) -> tuple[int, ...]:
    """C0 values an NZ weight may use: the 32-byte rule, except the INT4 weights of the 950's
    A8W4 (C0 32 only: the S8S4 kernel reads that tile) and A4W4 (32 or the 32-byte rule's 64)."""
    if profile == "950" and w_name == "int4" and kind in ("a8w4", "a4w4"):
        return (32,) if kind == "a8w4" else (32, 64)
    return (nz.nz_c0(w_name),) if w_name in _NZ_DTYPES else ()


def _check_nz(ws: list[TensorDesc], w_shapes: list[tuple[int, ...]], w_name: str,
              c0s: tuple[int, ...]) -> None:
    for i, (w, shape) in enumerate(zip(ws, w_shapes)):
        if not w.is_nz:
            raise _invalid("weight: all tensors must be FRACTAL_NZ or none")
        if not c0s:
            raise _invalid(f"weight[{i}] dtype {_label(w)} is not supported in FRACTAL_NZ format")
        packed = w.dtype == dtypes.DataType.ACL_INT32
        c0 = w.storage_shape[-1] * (8 if packed else 1)
        c0 = c0 if c0 in c0s else c0s[0]
        k, n = shape[-2], shape[-1]
        if k % 16 or n % c0:
            raise _invalid(f"weight[{i}] in FRACTAL_NZ format needs K % 16 == 0 and N % {c0} == 0, "
                           f"got K={k}, N={n}")
        expect = None if packed else nz.nz_storage_shape(w.shape, w_name, c0)
        if expect is not None and tuple(w.storage_shape) != expect:
            choice = f" (C0 {' or '.join(map(str, c0s))})" if len(c0s) > 1 else ""
            raise _invalid(f"weight[{i}] FRACTAL_NZ storage shape {list(w.storage_shape)} is not the NZ shape "
                           f"{list(expect)}{choice} of its view {list(w.shape)}")


def _check_group_list(group_list: TensorDesc | None, pattern: str, group_type: int, group_list_type: int,
                      kind: str, ws: list[TensorDesc], w_shapes, profile: str) -> int | None:
    """Presence, rank and length of the groupList; groupListType per scenario. Returns its length."""
    if group_type == -1:
        if group_list is not None:
            raise _invalid("groupListOptional must be null when groupType is -1")
        return None
    if pattern == "k_split" and group_list is not None and profile in ("A2", "A3"):
        raise _invalid("groupListOptional must be null for groupType 2 with a weight list")
    if pattern in ("m_single", "m_split", "k_stack") and group_list is None:
        raise _invalid(f"groupListOptional is required for groupType {group_type} with a single x")
    if group_list_type == 2:
        if not (kind in _FULL_QUANT and group_type == 0 and pattern == "m_single" and ws[0].ndim == 3):
            raise _invalid("groupListType 2 is only supported for full quantization with groupType 0, "
                           "a single x and a single 3-D weight")
    if group_list is None:
        return None
    if group_list_type == 2:
        if group_list.ndim != 2 or group_list.shape[1] != 2:
            raise _invalid(f"groupListOptional must have shape [E, 2] for groupListType 2, got "
                           f"{list(group_list.shape)}")
    elif group_list.ndim != 1:
        raise _invalid(f"groupListOptional must be 1-D for groupListType {group_list_type}, got "
                       f"{group_list.ndim} dims")
    length = group_list.shape[0]
    stacked = len(ws) == 1 and ws[0].ndim == 3
    limit = 1024 if stacked or pattern == "k_stack" else 128
    if length > limit:
        raise _invalid(f"groupListOptional has {length} groups; at most {limit} are supported here")
    if length == 0:
        raise _invalid("groupListOptional must not be empty")
    if stacked and group_list_type != 2 and length > w_shapes[0][0]:
        raise _invalid(f"groupListOptional has {length} groups but the weight stacks only {w_shapes[0][0]}")
    if not stacked and pattern in ("m_single", "m_split", "k_split") and length != len(ws):
        raise _invalid(f"groupListOptional has {length} groups but weight has {len(ws)} tensors")
    if pattern in ("per_tensor", "concat") and length != len(ws):
        raise _invalid(f"groupListOptional has {length} groups but x/weight have {len(ws)} tensors")
    return length


def _shape_text(shape: Sequence[int]) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _check_params(kind: str, pattern: str, profile: str, xs, ws, w_shapes, transposed: bool,
                  n_groups: int | None, bias_l, scale_l, offset_l, aq_scale, aq_offset, pts_l,
                  out_name) -> None:
    """Shapes of the optional tensors (semantics.md §4.4, §4.5) and the scenario size rules.

    A per-group parameter is one tensor with a leading group axis when the weight is one
    stacked (E, K, N) tensor (E groups) or a single K-grouped weight (one group per
    groupList entry); otherwise it is a list with one tensor per weight.
    """
    ns = [s[-1] for s in w_shapes]
    k, n = w_shapes[0][-2], ns[0]
    if len(ws) == 1 and ws[0].ndim == 3:
        groups: int | None = w_shapes[0][0]
    elif pattern == "k_stack":
        groups = n_groups
    else:
        groups = None

    def per_group(values, what: str, options, rule: str) -> None:
        """Every tensor of ``values`` has one of the per-group shapes ``options(i)``."""
        for i, d in enumerate(values or ()):
            allowed = [tuple(o) if groups is None else (groups,) + tuple(o) for o in options(i)]
            if tuple(d.shape) not in allowed:
                name = what if groups is not None else f"{what}[{i}]"
                raise _invalid(f"{name} shape {_shape_text(d.shape)} is not supported: {rule} needs "
                               + " or ".join(_shape_text(o) for o in allowed))

    if kind == "a8w4" and offset_l is None:
        if k % 256 or k > 18432:
            raise _invalid(f"A8W4 needs K to be a multiple of 256 and at most 18432, got K={k}")
        if n % 8:
            raise _invalid(f"A8W4 needs N to be a multiple of 8, got N={n}")
    if bias_l is not None and pattern == "k_stack":
        raise _invalid("biasOptional must be null for groupType 2 with a single weight")
    per_group(bias_l, "biasOptional", lambda i: [(ns[i],)], "a bias (one value per output column)")

    kb, kp = -(-k // 128), -(-k // 64)
    if kind in ("a8w8", "quant_fp8"):
        per_tensor = profile == "950" and out_name != "int8"
        per_group(scale_l, "scaleOptional",
                  lambda i: [(ns[i],)] + ([(1,)] + ([()] if groups is not None else []) if per_tensor else []),
                  f"{kind.upper()} with {str(out_name).upper()} out on the {profile} profile (per channel"
                  + (" or per tensor)" if per_tensor else ")"))
    elif kind == "a4w4":
        per_group(scale_l, "scaleOptional",
                  lambda i: [(n,)] + ([(scale_l[0].shape[-2], n)] if scale_l[0].ndim >= 2 else []),
                  "A4W4 (per channel [N] or per group [G, N])")
    elif kind == "a8w4":
        g = 1 if offset_l is not None else k // 256
        per_group(scale_l, "scaleOptional", lambda i: [(g, n)],
                  "A8W4 " + ("with offsetOptional (one group)" if offset_l is not None
                             else "(one group per 256 values of K)"))
        per_group(offset_l, "offsetOptional", lambda i: [(1, n)], "A8W4")
    elif kind == "mx":
        per_group(scale_l, "scaleOptional", lambda i: [(n, kp, 2) if transposed else (kp, n, 2)],
                  f"MX with a{' transposed' if transposed else ' non-transposed'} weight")
    elif kind == "pergroup_perblock":
        nb = -(-n // 128)
        per_group(scale_l, "scaleOptional", lambda i: [(nb, kb) if transposed else (kb, nb)],
                  "per-block quantization (128 x 128 blocks)")

    if kind in _WEIGHT_ONLY:
        def antiquant(i: int) -> list[tuple[int, ...]]:
            if kind != "a16w4":
                return [(ns[i],)]
            d = aq_scale[i]
            g = d.shape[-2] if d.ndim >= 2 else 1
            return [(ns[i],), (g, ns[i])]

        per_group(aq_scale, "antiquantScaleOptional", antiquant,
                  f"{kind.upper()} (per channel [N]" + (" or per group [G, N])" if kind == "a16w4" else ")"))
        for i, (a, o) in enumerate(zip(aq_scale, aq_offset or ())):
            if a.shape != o.shape:
                raise _invalid(f"antiquantOffsetOptional[{i}] shape {_shape_text(o.shape)} must equal the "
                               f"antiquantScaleOptional[{i}] shape {_shape_text(a.shape)}")

    if pts_l is not None and kind in _FULL_QUANT:
        m = xs[0].shape[0]
        e = groups if groups is not None else 1
        if kind == "mx":
            options, rule = [(m, kp, 2)], "MX (per token, per 64 values of K)"
        elif kind == "pergroup_perblock":
            options, rule = [(m, kb)], "per-group quantization (per token, per 128 values of K)"
        elif pattern == "k_stack":
            options, rule = [(e, m), (e, 1), (e,)], "groupType 2 (per group: per token or per tensor)"
        else:
            per_tensor = profile == "950" and kind not in ("a8w4", "a4w4")  # 950 INT4: per token only
            options = [(m,)] + ([(e,), (e, 1)] if per_tensor else [])
            rule = "per-token quantization" + (" (or per tensor per group)" if per_tensor else "")
        if tuple(pts_l[0].shape) not in options:
            raise _invalid(f"perTokenScaleOptional shape {_shape_text(pts_l[0].shape)} is not supported: "
                           f"{rule} needs " + " or ".join(_shape_text(o) for o in options))
    if kind == "a16w4":
        stacked = groups is not None
        if aq_offset is not None and profile in ("A2", "A3"):
            per_group_mode = any(d.ndim - (1 if stacked else 0) == 2 for d in aq_scale)
            if per_group_mode:
                raise _invalid("antiquantOffsetOptional must be null for A16W4 per-group quantization on "
                               "Atlas A2/A3 (symmetric only)")
        for i, (w, d) in enumerate(zip(ws, aq_scale)):
            shape = w_shapes[i]
            last = shape[-2] if transposed else shape[-1]
            if last % 2:
                raise _invalid(f"weight[{i}]: an INT4 weight needs an even last dim, got {last}")
            group_dims = d.shape[1:] if stacked else d.shape
            if len(group_dims) == 2:
                g = group_dims[0]
                if g == 0 or shape[-2] % g:
                    raise _invalid(f"antiquantScaleOptional[{i}]: the group count {g} must divide K={shape[-2]}")
                if transposed and (shape[-2] // g) % 2:
                    raise _invalid(f"antiquantScaleOptional[{i}]: a transposed INT4 weight needs an even "
                                   f"group length, got {shape[-2] // g}")
    if kind == "a4w4":
        if not ws[0].is_nz and ns[0] % 8:
            raise _invalid(f"A4W4 with an ND weight needs N to be a multiple of 8, got N={ns[0]}")
        if scale_l is not None and scale_l[0].ndim == 3:
            g = scale_l[0].shape[1]
            if g == 0 or k % g or (k // g) % 2:
                raise _invalid(f"A4W4 per-group scale: K/G must be an even integer, got K={k}, G={g}")
    if profile == "950" and kind in ("a8w4", "a4w4"):
        _check_int4_quant_950(kind, ws, w_shapes, scale_l, offset_l)
    if kind == "mx" and xs[0].dtype == dtypes.DataType.ACL_FLOAT4_E2M1:
        if k % 2 or k == 2:
            raise _invalid(f"FLOAT4_E2M1 needs an even K other than 2, got K={k}")
        if not transposed and ns[0] % 2:
            raise _invalid(f"FLOAT4_E2M1 with a non-transposed weight needs an even N, got N={ns[0]}")


def _check_int4_quant_950(kind: str, ws: list[TensorDesc], w_shapes, scale_l, offset_l) -> None:
    """Scale and offset shapes of A8W4 (S8S4) and A4W4 (S4S4) on the 950 (2026 doc, arch35 checker)."""
    e, k, n = w_shapes[0]
    scale = list(scale_l[0].shape)
    if kind == "a8w4":
        if offset_l is None:
            want, form = [e, k // 256, n], "[E, K/256, N]"
            mode = "without offsetOptional (the per-group and per-channel scales fused, 256 per group)"
        else:
            want, form, mode = [e, 1, n], "[E, 1, N]", "with offsetOptional (per channel)"
        if scale != want:
            raise _invalid(f"scaleOptional must have shape {form} = {want} for A8W4 {mode}, got {scale}")
        if offset_l is not None and list(offset_l[0].shape) != [e, 1, n]:
            raise _invalid(f"offsetOptional must have shape [E, 1, N] = {[e, 1, n]}, got "
                           f"{list(offset_l[0].shape)}")
        return
    if not (scale == [e, n] or (len(scale) == 3 and scale[0] == e and scale[2] == n)):
        raise _invalid(f"scaleOptional must have shape [E, N] = {[e, n]} (per channel) or [E, G, N] = "
                       f"[{e}, G, {n}] (per group) for A4W4, got {scale}")
    if len(scale) == 3 and ws[0].is_nz:
        raise _invalid("A4W4 with a per-group scale [E, G, N] needs an ND weight on the 950 profile "
                       "(FRACTAL_NZ weights are per-channel only)")


# --------------------------------------------------------------------------- output shapes

def output_shapes(x: Sequence[TensorDesc], weight: Sequence[TensorDesc], *, split_item: int,
                  group_type: int, group_list_len: int | None = None, group_list_values=None,
                  group_list_type: int = 0) -> list[tuple[int, ...]]:
    """Output shapes from the descriptors (:func:`.call.output_shapes` on the logical weight shapes).

    The per-group outputs of a single x split along M (splitItem 0/1) depend on
    the groupList values: pass them as ``group_list_values`` (a host array).
    Lists or ranks no output can be derived from raise Violation (161002),
    as :func:`check` would; a call :mod:`.call` cannot classify, ValueError.
    """
    for what, values in (("x", x), ("weight", weight)):
        if not values:
            raise _invalid(f"{what} tensor list is empty")
    for i, w in enumerate(weight):
        if w.ndim not in (2, 3):
            raise _invalid(f"weight[{i}] must have 2 or 3 dims, got {w.ndim}")
    for i, d in enumerate(x):
        if d.ndim < 2:
            raise _invalid(f"x[{i}] must have at least 2 dims, got {d.ndim}")
    transposed = any(w.is_transposed() for w in weight)
    w_shapes = [call.logical_weight_shape(w.shape, _name(w), transposed) for w in weight]
    x_shapes = [tuple(d.shape) for d in x]
    if call.per_group_outputs(len(x), split_item, group_type):
        if group_list_values is None:
            raise ValueError("the per-group outputs of a single x split along M (splitItem 0/1) have as "
                             "many rows as the groupList assigns: give the groupList as a host array "
                             "or pass out")
        call.pattern(len(x), [len(s) for s in w_shapes], split_item, group_type)  # a list of 2-D weights
        ranges = call.decode_group_list(group_list_values, group_list_type, x_shapes[0][0])
        return call.split_output_shapes(ranges, w_shapes)
    return call.output_shapes(x_shapes, w_shapes, split_item=split_item, group_type=group_type,
                                group_list_len=group_list_len)
