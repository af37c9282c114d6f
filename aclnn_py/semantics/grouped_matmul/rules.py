"""Argument rules of aclnnGroupedMatmulV5GetWorkspaceSize. Source: CANN's document
aclnnGroupedMatmulV5.md (ops-transformer, gmm/grouped_matmul/docs/): its parameter table, its
list of errors (返回值) and its constraints (约束说明).

:func:`check` validates the tensor descriptors, the attributes and the product
profile (``"A2"``, ``"A3"``, ``"950"``) and returns the call's
:class:`~.call.GroupedMatmulCall` (its classification, from :mod:`.call`). Failures raise
:class:`~aclnn_py.semantics.status.Violation`: 161001 for missing lists/tensors,
161002 for everything else, with a message naming the parameter and the rule. Two
scenarios CANN takes are not modelled: on the Ascend 950 an FP4 weight with an
antiquantScale (A16 MXFP4; MxA8W4 once it passes upstream's parameter checks,
:mod:`.mx_a8w4_rules`) is 361001 with the rule
:data:`~aclnn_py.semantics.status.NOT_MODELLED` (the binding leaves such a call to the runtime).

Check order (one function per step): null and empty lists, placeholders
(:func:`absent`) -> weight layout -> K = 0 -> dtypes and formats (profile
feature sets, the combination tables of :mod:`.dtype_rules`) -> attributes ->
tensor counts -> pattern -> layouts (NZ weights: :mod:`.shape_rules`) ->
groupList -> outputs -> the shape of each parameter (:mod:`.shape_rules`) ->
the empty shortcut (all x or all weights empty: nothing to compute). As in
upstream's op_api (hicann/ops-transformer gmm/grouped_matmul/op_api/
aclnn_grouped_matmul.cpp: ``aclnnGroupedMatmulGetWorkspaceSizeCommon`` runs
``CheckEmptyTensor`` (K = 0), ``ResetEmptyTensor`` and ``CheckParam`` before
``GetGMMResultByL0Api`` takes the ``CheckZeroShape`` shortcut), an empty call
passes every parameter check before it succeeds.

:func:`output_shapes` gives the output shapes from descriptors (never from the
groupList values, except the per-group outputs of a single x split along M,
which need the host values of the groupList).

Choices where the sources leave it open (UNCONFIRMED; the pattern and groupList
choices are documented in :mod:`.call`, the dtype ones in :mod:`.dtype_rules`, the
NZ and parameter shape ones in :mod:`.shape_rules`):

- A8W4 ("S8S4") on the 950 profile needs groupListType 1 (2026 doc, arch35
  checker; the other S8S4/S4S4 choices are in :mod:`.shape_rules`).
- groupListType 2 is accepted (on every profile) only for full quantization with
  groupType 0, a single x and a single 3-D weight (splitItem 2/3).
- A null x element is rejected (161001) even when the matching out element is
  null as well.
- The "last dim < 65536" rule is applied to every x, weight (storage last dim) and
  out tensor of every scenario.
- tuningConfig is range-checked on every profile (the 950 doc calls it unsupported).
- Full quantization with groupType 2 needs splitItem 2/3 (the (E, M, N) output).
"""
from __future__ import annotations

import math
import re
from contextlib import contextmanager
from functools import partial
from typing import Iterator, Sequence

from .. import dtypes, nz
from ..catalogue import OperatorRules
from ..descriptors import FRACTAL_NZ, TensorDesc, refuse_negative_extents
from ..status import NOT_MODELLED, RUNTIME, ArgumentError, Violation
from . import call, mx_a8w4_rules
from .call import FULL_QUANT, WEIGHT_ONLY, GroupedMatmulCall
from .dtype_rules import (AQS, FUNCTION, INVALID, NULLPTR, OFFSET, OPTIONAL, PTS, SCALE, check_combinations,
                          check_profile_features, invalid, null)
from . import version_rules as versions
from .entry_points import ENTRY_POINTS, V5, WEIGHT_NZ, EntryPoint
from .shape_rules import Operands, check_nz, check_parameters

__all__ = ["FUNCTION", "NULLPTR", "INVALID", "GroupedMatmulCall", "OPERATORS", "absent", "check", "default_out_dtype",
           "output_shapes", "outputs", "MAX_LAST_DIM"]

MAX_LAST_DIM = 65536
_UNSUPPORTED = ("activationInputOptional", "activationQuantScaleOptional", "activationQuantOffsetOptional",
                "activationFeatureOutOptional", "dynQuantScaleOutOptional")

TensorList = Sequence[TensorDesc | None] | None


@contextmanager
def _as_invalid(prefix: str = "") -> Iterator[None]:
    """A ValueError of :mod:`.call` (a call it cannot classify) becomes 161002 with its message."""
    try:
        yield
    except ValueError as exc:
        raise invalid(f"{prefix}{exc}") from None


def _name(desc: TensorDesc) -> str:
    try:
        return dtypes.name(desc.dtype)
    except ValueError:
        return f"unsupported({dtypes.label(desc.dtype)})"


def _label(desc: TensorDesc) -> str:
    return dtypes.label(desc.dtype)


# --------------------------------------------------------------------------- the check

def check(*, signature: EntryPoint = V5, profile: str = "A2", **arguments) -> GroupedMatmulCall:
    """Validate one call of the entry point ``signature`` (its header's parameters by canonical
    name; raises Violation naming its C function); see the module docstring."""
    try:
        return _check(signature, profile, **arguments)
    except Violation as exc:
        message = re.sub(r"\bout\b", signature.label("out"), exc.message)
        raise Violation(exc.code, signature.function, message, exc.rule) from None


def _check(entry: EntryPoint, profile: str, *, x: TensorList, weight: TensorList, bias: TensorList = None,
           scale: TensorList = None, offset: TensorList = None, antiquant_scale: TensorList = None,
           antiquant_offset: TensorList = None, per_token_scale: TensorList = None,
           group_list: TensorDesc | Sequence[int] | None = None, activation_input: TensorList = None,
           activation_quant_scale: TensorList = None, activation_quant_offset: TensorList = None,
           split_item: int = 0, group_type: int | None = None, group_list_type: int = 0, act_type: int = 0,
           tuning_config: Sequence[int] | None = None, quant_group_size: int = 0, out: TensorList = None,
           activation_feature_out: TensorList = None, dyn_quant_scale_out: TensorList = None) -> GroupedMatmulCall:
    xs, ws, ys = _required_lists(x, weight, out)
    tensor_list = group_list if isinstance(group_list, TensorDesc) or group_list is None else None
    refuse_negative_extents(FUNCTION, {"x": xs, "weight": ws, "out": ys, **dict(zip(OPTIONAL, (
        bias, scale, offset, antiquant_scale, antiquant_offset, per_token_scale))), "groupListOptional": tensor_list})
    ws = weights_as_read(entry, ws, x=xs, profile=profile)
    group_type = versions.entry_checks(
        entry, xs=xs, ws=ws, ys=ys, group_list=tensor_list, split_item=split_item, group_type=group_type,
        group_list_type=group_list_type, act_type=act_type, quant_group_size=quant_group_size, scale=scale,
        offset=offset, profile=profile)
    optional = _optional_lists(dict(zip(OPTIONAL, (bias, scale, offset, antiquant_scale, antiquant_offset,
                                                    per_token_scale))))
    _unsupported_lists(activation_input, activation_quant_scale, activation_quant_offset,
                       activation_feature_out, dyn_quant_scale_out)
    transposed, w_shapes = _weight_layout(ws)
    ops = Operands(xs, ws, ys, optional, tensor_list, transposed, w_shapes)
    _zero_k(ops)
    names = _dtype_names(ops)
    check_profile_features(names, profile)
    _formats(ops)
    if mx_a8w4_rules.applies(ops, profile):
        mx_a8w4_rules.check(entry, ops, group_type=group_type, split_item=split_item, tuning_config=tuning_config)
    kind = _scenario(ops, names, group_type, profile)
    check_combinations(kind, profile, names)
    _attributes(kind, names, split_item, group_type, group_list_type, act_type, profile)
    _tensor_counts(kind, ops, split_item, group_type, profile)
    with _as_invalid():
        layout = call.pattern(len(xs), [w.ndim for w in ws], split_item, group_type)
    versions.split_m_layout(entry, layout)
    _layouts(kind, layout, ops, group_type, profile)
    if entry.host_group_list:
        host = None if group_list is None else tuple(group_list)  # type: ignore[arg-type]
        n_groups = versions.host_group_list(entry, ops, host, layout, group_type)
    else:
        n_groups = _group_list(ops, layout, group_type, group_list_type, kind, profile)
    _outputs(ops, layout, split_item, group_type, n_groups, tuning_config)
    check_parameters(kind, layout, profile, ops, n_groups, names["out"])
    versions.api_limits(entry, kind, ops, names, profile, group_type)
    if all(xd.numel == 0 for xd in xs) or all(w.numel == 0 for w in ws):
        return GroupedMatmulCall(empty=True)
    if entry is WEIGHT_NZ or ws[0].is_nz:
        versions.weight_nz_dtypes(names, profile)
    scale_l = optional[SCALE]
    return call.classify(
        x_shapes=[d.shape for d in xs], weight_shapes=[w.shape for w in ws], x_name=names["x"],
        weight_name=names["weight"], out_name=names["out"], scale_name=names[SCALE],
        scale_ndim=None if scale_l is None else scale_l[0].ndim, pts_name=names[PTS],
        has_antiquant_scale=optional[AQS] is not None, has_offset=optional[OFFSET] is not None,
        split_item=split_item, group_type=group_type, group_list_type=group_list_type, group_list_len=n_groups,
        act_type=act_type, weight_transposed=transposed, profile=profile)


def weights_as_read(entry: EntryPoint, weight: list[TensorDesc], *, x: Sequence[TensorDesc], profile: str
                    ) -> list[TensorDesc]:
    """The weights as the entry point reads them (hicann/ops-transformer
    gmm/grouped_matmul/op_api/aclnn_grouped_matmul.cpp):

    - aclnnGroupedMatmulWeightNz takes every weight as FRACTAL_NZ data (``GetGMMResultByL0Api``:
      ``SetTensorToNZFormat``): a non-transposed weight in another format is the NZ layout of
      its view;
    - a FRACTAL_NZ weight whose storage shape holds no NZ tiling (fewer than 4 dims) is the NZ
      layout of its view with its dtype's C0 wherever upstream reads no storage shape: Atlas
      A2/A3 (``TransWeightToNz`` checks K and N alignment only) and weight-only quantization on
      the Ascend 950; the 950's full quantization checks the storage (``CheckWeightStorageShape``)
      and keeps it, to be refused.
    """
    read = []
    for w in weight:
        if w is None:  # the rules refuse it
            read.append(w)
            continue
        nz_data = w.format == FRACTAL_NZ or (entry is WEIGHT_NZ and not w.is_transposed())
        if not nz_data or w.is_nz or w.ndim < 2 or (w.format == FRACTAL_NZ and not _storage_unread(w, x, profile)):
            read.append(w)
            continue
        try:
            storage = nz.nz_storage_shape(w.shape, dtypes.name(w.dtype), _unread_c0(w, x, profile))
        except ValueError:  # a dtype without an NZ layout: the rules refuse it
            read.append(w)
            continue
        read.append(TensorDesc(w.shape, w.dtype, w.strides, w.offset, format=FRACTAL_NZ, storage_shape=storage,
                               address=w.address))
    return read


def _unread_c0(weight: TensorDesc, x: Sequence[TensorDesc], profile: str) -> int | None:
    """The C0 a kernel reads an NZ weight with when the storage shape gives none: the dtype's
    32-byte rule, but 32 for the INT4 weight of the Ascend 950's INT8 x INT4 (S8S4) kernel
    (:func:`.shape_rules.check_nz`)."""
    if profile == "950" and dtypes.name(weight.dtype) in ("int4", "int32") and bool(x) and x[0] is not None \
            and x[0].dtype == dtypes.DataType.ACL_INT8:
        return 32
    return None


def _storage_unread(weight: TensorDesc, x: Sequence[TensorDesc], profile: str) -> bool:
    """Upstream reads no storage shape of this NZ weight (see :func:`weights_as_read`)."""
    if profile in ("A2", "A3"):
        return True
    try:
        return bool(x) and x[0] is not None and dtypes.bits(x[0].dtype) != dtypes.bits(weight.dtype)
    except ValueError:
        return False


# --------------------------------------------------------------------------- lists

def _required_lists(x: TensorList, weight: TensorList, out: TensorList
                    ) -> tuple[list[TensorDesc], list[TensorDesc], list[TensorDesc]]:
    """x, weight and out: non-null, non-empty lists of non-null tensors, else 161001 (upstream's
    ``CheckNotNull``, whose every failure the entry points return as ACLNN_ERR_PARAM_NULLPTR)."""
    for what, values in (("x", x), ("weight", weight), ("out", out)):
        if values is None:
            raise null(f"{what} is nullptr")
        if len(values) == 0:
            raise null(f"{what} must not be an empty tensor list")
        for i, d in enumerate(values):
            if d is None:
                raise null(f"{what}[{i}] is nullptr")
    return list(x), list(weight), list(out)  # type: ignore[arg-type]


def absent(values: TensorList) -> bool:
    """Whether an optional tensor list counts as not given: null, no tensor, a null first tensor,
    or one tensor of shape [0] -- the placeholder torch_npu passes for an unused list.

    Upstream's op_api treats all four as nullptr before any check (hicann/ops-transformer
    gmm/grouped_matmul/op_api/aclnn_grouped_matmul.cpp, ``ResetEmptyTensor`` /
    ``CheckOptionalTensorListEmpty``, for every optional list of every GroupedMatmul version).
    The groupList tensor of V3-V5 is not reset (``ResetEmptyTensor`` clears only V1/V2's empty
    groupList array): a groupList without elements stays a groupList.
    """
    if values is None or len(values) == 0 or values[0] is None:
        return True
    return len(values) == 1 and tuple(values[0].shape) == (0,)


def _optional_lists(lists: dict[str, TensorList]) -> dict[str, list[TensorDesc] | None]:
    """Each optional list: None when :func:`absent`, else its elements, all non-null (161001)."""
    present: dict[str, list[TensorDesc] | None] = {}
    for what, values in lists.items():
        if absent(values):
            present[what] = None
            continue
        assert values is not None
        for i, d in enumerate(values):
            if d is None:
                raise null(f"{what}[{i}] is nullptr")
        present[what] = list(values)  # type: ignore[arg-type]
    return present


def _unsupported_lists(*values: TensorList) -> None:
    for what, value in zip(_UNSUPPORTED, values):
        if not absent(value):
            raise invalid(f"{what} must be nullptr (not supported)")


def _weight_layout(ws: list[TensorDesc]) -> tuple[bool, list[tuple[int, ...]]]:
    """All weights transposed or none, each contiguous / transposed / NZ with 2 or 3 dims; logical shapes."""
    flags = {w.is_transposed() for w in ws}
    if len(flags) > 1:
        raise invalid("weight: all tensors must be transposed or none (mixed transposition)")
    transposed = flags.pop()
    for i, w in enumerate(ws):
        if not (w.is_nz or w.is_contiguous() or w.is_transposed()):
            raise invalid(f"weight[{i}] must be contiguous or a transposed view of the last two dims")
        if w.ndim not in (2, 3):
            raise invalid(f"weight[{i}] must have 2 or 3 dims, got {w.ndim}")
    return transposed, [call.logical_weight_shape(w.shape, _name(w), transposed) for w in ws]


def _zero_k(ops: Operands) -> None:
    """x and out have 2+ dims; K = 0 only when M or N is empty (upstream's ``CheckEmptyTensor``)."""
    for what, values in (("x", ops.xs), ("out", ops.ys)):
        for i, d in enumerate(values):
            if d.ndim < 2:
                raise invalid(f"{what}[{i}] must have at least 2 dims, got {d.ndim}")
    m_total = sum(math.prod(xd.shape[:-1]) for xd in ops.xs)
    zero_k = [f"x[{i}]" for i, xd in enumerate(ops.xs) if xd.shape[-1] == 0]
    zero_k += [f"weight[{i}]" for i, k in enumerate(ops.ks) if k == 0]
    if zero_k and m_total and any(ops.ns):
        raise invalid(f"{zero_k[0]} has K = 0: does not support input K being 0 while M and N are not empty")


# --------------------------------------------------------------------------- dtypes and formats

def _one_dtype(values: list[TensorDesc] | None, what: str) -> str | None:
    if not values:
        return None
    names = {_name(d) for d in values}
    if len(names) > 1:
        raise invalid(f"{what}: all tensors must have the same dtype, got "
                      f"{sorted(dtypes.label(d.dtype) for d in values)}")
    return names.pop()


def _dtype_names(ops: Operands) -> dict[str, str | None]:
    """The one dtype of each list, by C parameter name ('x', 'weight', 'out', then the optional lists)."""
    names = {"x": _one_dtype(ops.xs, "x"), "weight": _one_dtype(ops.ws, "weight"),
             "out": _one_dtype(ops.ys, "out")}
    names.update((what, _one_dtype(values, what)) for what, values in ops.optional.items())
    if names[SCALE] == "int64":  # upstream re-types an INT64 scale as UINT64 before any check (the same bits)
        names[SCALE] = "uint64"
    return names


def _formats(ops: Operands) -> None:
    """Only the weight may be FRACTAL_NZ; the groupList is an ND INT64 tensor.

    x and out in a private format (FRACTAL_NZ among them) are refused whatever their storage
    shape: upstream checks the format itself (hicann/ops-transformer
    gmm/grouped_matmul/op_api/aclnn_grouped_matmul.cpp ``CheckFormat``, and the Ascend 950
    checkers' ``CheckDimNumAndFormat``); the optional lists are refused as FRACTAL_NZ storage.
    """
    for what, values in (("x", ops.xs), ("out", ops.ys)):
        for i, d in enumerate(values):
            if d.is_private_format:
                raise invalid(f"{what}[{i}] format {dtypes.format_label(d.format)} is not supported (ND only)")
    for what, values in ops.optional.items():
        for i, d in enumerate(values or ()):
            if d.is_nz:
                raise invalid(f"{what}[{i}] format FRACTAL_NZ is not supported (ND only)")
    gl = ops.group_list
    if gl is not None:
        if gl.dtype != dtypes.DataType.ACL_INT64:
            raise invalid(f"groupListOptional dtype {_label(gl)} is not supported; supported: INT64")
        if gl.is_nz:
            raise invalid("groupListOptional format FRACTAL_NZ is not supported (ND only)")


#: The Ascend 950's A16 MXFP4 weight quantization (ops-transformer gmm/grouped_matmul/op_api/
#: grouped_matmul_weight_quant_950_checker.cpp: ``IsA16MxFp4NZ``), reached through
#: ``CheckGroupedMatmulWeightQuantDAV3510`` (aclnn_grouped_matmul.cpp: x and weight of different sizes).
#: Not modelled here: with an antiquantScale it is refused as :data:`~aclnn_py.semantics.status.NOT_MODELLED`.
#: (MxA8W4, ``IsMxA8W4NZ``, has its parameter checks in :mod:`.mx_a8w4_rules`.)
_FP4_WEIGHT_QUANT = {("float16", "float4_e2m1"): "A16 MXFP4", ("bfloat16", "float4_e2m1"): "A16 MXFP4"}


def _scenario(ops: Operands, names: dict[str, str | None], group_type: int, profile: str) -> str:
    scale_l = ops.optional[SCALE]
    group_ndim = 0 if scale_l is None else call.scale_group_ndim(scale_l[0].ndim, len(ops.ws), ops.ws[0].ndim,
                                                                  group_type)
    assert names["x"] is not None and names["weight"] is not None
    if profile == "950" and ops.optional[AQS] is not None and (names["x"], names["weight"]) in _FP4_WEIGHT_QUANT:
        raise Violation(RUNTIME, FUNCTION, f"x {_label(ops.xs[0])} with a {_label(ops.ws[0])} weight and "
                        f"antiquantScaleOptional ({_FP4_WEIGHT_QUANT[(names['x'], names['weight'])]} on the Ascend "
                        f"950): CANN takes this weight-quantization scenario, the mock does not model it",
                        rule=NOT_MODELLED)
    with _as_invalid(f"x dtype {_label(ops.xs[0])} with weight dtype {_label(ops.ws[0])}: "):
        kind = call.scenario(names["x"], names["weight"], scale_dtype=names[SCALE], scale_group_ndim=group_ndim,
                             has_antiquant_scale=ops.optional[AQS] is not None)
    if profile in ("A2", "A3") and kind in ("weight_fp8", "quant_fp8", "mx", "pergroup_perblock"):
        raise invalid(f"scenario {kind} is not supported on Atlas A2/A3")
    return kind


# --------------------------------------------------------------------------- attributes and counts

def _attributes(kind: str, names: dict[str, str | None], split_item: int, group_type: int,
                group_list_type: int, act_type: int, profile: str) -> None:
    with _as_invalid():
        call.check_split_item(split_item)
        call.check_group_type(group_type)
        call.check_group_list_type(group_list_type)
        call.check_activation(act_type, kind, names["out"], names[SCALE])
    if profile == "950" and kind == "a8w4" and group_list_type != 1:
        raise invalid(f"A8W4 on the 950 profile needs groupListType 1 (the groupList holds counts), "
                      f"got {group_list_type}")


def _tensor_counts(kind: str, ops: Operands, split_item: int, group_type: int, profile: str) -> None:
    """List lengths, and what full and weight-only quantization need of the lists, ranks and grouping."""
    a2 = profile in ("A2", "A3")
    xs, ws, ys = ops.xs, ops.ws, ops.ys
    limit = 1024 if not a2 and kind == "nonquant" else 128
    for what, values in (("x", xs), ("weight", ws), ("out", ys)):
        if len(values) > limit:
            raise invalid(f"{what} has {len(values)} tensors; at most {limit} are supported here")
    if kind in FULL_QUANT:
        if len(xs) != 1 or len(ws) != 1 or len(ys) != 1:
            raise invalid(f"{kind.upper()} quantization needs single-tensor x, weight and out lists, got "
                          f"{len(xs)}/{len(ws)}/{len(ys)}")
        allowed_gt = (0, 2) if (not a2 and kind in ("a8w8", "quant_fp8")) else (0,)
        if group_type not in allowed_gt:
            raise invalid(f"{kind.upper()} quantization needs groupType "
                          f"{' or '.join(map(str, allowed_gt))}, got {group_type}")
        if xs[0].ndim != 2:
            raise invalid(f"{kind.upper()} quantization needs a 2-D x, got {xs[0].ndim} dims")
        if group_type == 0 and ws[0].ndim != 3:
            raise invalid(f"{kind.upper()} quantization needs a 3-D weight (E, K, N), got {ws[0].ndim} dims")
        if kind in ("a8w4", "a4w4") and ops.transposed:
            raise invalid(f"{kind.upper()} does not support a transposed weight")
        if group_type == 2 and split_item < 2:
            raise invalid(f"{kind.upper()} quantization with groupType 2 needs splitItem 2 or 3 (a single "
                          f"(E, M, N) output), got {split_item}")
    if kind in WEIGHT_ONLY and group_type == 2:
        raise invalid(f"weight-only quantization ({kind.upper()}) supports groupType -1 and 0, not 2")
    if kind == "weight_fp8":
        if group_type != 0:
            raise invalid("weight-only FP8/HiF8 needs groupType 0")
        if not ops.transposed:
            raise invalid("weight-only FP8/HiF8 needs a transposed weight")
    for what, values in ops.optional.items():
        if what != PTS and values is not None and len(values) != len(ws):
            raise invalid(f"{what} has {len(values)} tensors but weight has {len(ws)}: the lengths must be equal")
    pts_l = ops.optional[PTS]
    if pts_l is not None and len(pts_l) != 1:
        raise invalid(f"perTokenScaleOptional must hold a single tensor, got {len(pts_l)}")


# --------------------------------------------------------------------------- layouts

def _layouts(kind: str, layout: str, ops: Operands, group_type: int, profile: str) -> None:
    """x contiguous (transposed for K grouping) with few enough dims; last dims; NZ weights."""
    for i, xd in enumerate(ops.xs):
        if group_type == 2:
            if not xd.is_transposed():
                raise invalid("x must be transposed (a (K, M) storage viewed as (M, K)) for groupType 2")
        elif not xd.is_contiguous():
            raise invalid(f"x[{i}] must be contiguous (a transposed x is only allowed for groupType 2)")
        max_dims = 6 if (kind in WEIGHT_ONLY and layout == "per_tensor") else 2
        if xd.ndim > max_dims:
            raise invalid(f"x[{i}] has {xd.ndim} dims; at most {max_dims} are supported here")
    for what, values in (("x", ops.xs), ("out", ops.ys)):
        for i, d in enumerate(values):
            if d.shape[-1] >= MAX_LAST_DIM:
                raise invalid(f"{what}[{i}] last dim {d.shape[-1]} must be less than {MAX_LAST_DIM}")
    for i, w in enumerate(ops.ws):
        last = w.shape[-2] if ops.transposed else w.shape[-1]
        if last >= MAX_LAST_DIM:
            raise invalid(f"weight[{i}] last (storage) dim {last} must be less than {MAX_LAST_DIM}")
    if any(w.format == FRACTAL_NZ for w in ops.ws):
        check_nz(ops, _name(ops.ws[0]), kind, profile)


# --------------------------------------------------------------------------- groupList and outputs

def _group_list(ops: Operands, layout: str, group_type: int, group_list_type: int, kind: str,
                profile: str) -> int | None:
    """Presence, rank and length of the groupList; groupListType per scenario. Returns its length."""
    group_list, ws = ops.group_list, ops.ws
    if group_type == -1:
        if group_list is not None:
            raise invalid("groupListOptional must be null when groupType is -1")
        return None
    if layout == "k_split" and group_list is not None and profile in ("A2", "A3"):
        raise invalid("groupListOptional must be null for groupType 2 with a weight list")
    if layout in ("m_single", "m_split", "k_stack") and group_list is None:
        raise invalid(f"groupListOptional is required for groupType {group_type} with a single x")
    if group_list_type == 2:
        if not (kind in FULL_QUANT and group_type == 0 and layout == "m_single" and ws[0].ndim == 3):
            raise invalid("groupListType 2 is only supported for full quantization with groupType 0, "
                          "a single x and a single 3-D weight")
    if group_list is None:
        return None
    if group_list_type == 2:
        if group_list.ndim != 2 or group_list.shape[1] != 2:
            raise invalid(f"groupListOptional must have shape [E, 2] for groupListType 2, got "
                          f"{list(group_list.shape)}")
    elif group_list.ndim != 1:
        raise invalid(f"groupListOptional must be 1-D for groupListType {group_list_type}, got "
                      f"{group_list.ndim} dims")
    length = group_list.shape[0]
    stacked = len(ws) == 1 and ws[0].ndim == 3
    limit = 1024 if stacked or layout == "k_stack" else 128
    if length > limit:
        raise invalid(f"groupListOptional has {length} groups; at most {limit} are supported here")
    if length == 0:
        raise invalid("groupListOptional must not be empty")
    if stacked and group_list_type != 2 and length > ops.w_shapes[0][0]:
        raise invalid(f"groupListOptional has {length} groups but the weight stacks only {ops.w_shapes[0][0]}")
    if not stacked and layout in ("m_single", "m_split", "k_split") and length != len(ws):
        raise invalid(f"groupListOptional has {length} groups but weight has {len(ws)} tensors")
    if layout in ("per_tensor", "concat") and length != len(ws):
        raise invalid(f"groupListOptional has {length} groups but x/weight have {len(ws)} tensors")
    return length


def _outputs(ops: Operands, layout: str, split_item: int, group_type: int, n_groups: int | None,
             tuning_config: Sequence[int] | None) -> None:
    """out count per splitItem, K and N agreement, tuningConfig, out shapes and contiguity."""
    xs, ys, ks, ns, n_w = ops.xs, ops.ys, ops.ks, ops.ns, len(ops.ws)
    if split_item >= 2 and len(ys) != 1:
        raise invalid(f"splitItem {split_item} needs a single out tensor, got {len(ys)}")
    if split_item < 2:
        if layout in ("m_split", "k_split") and len(ys) != n_w:
            raise invalid(f"splitItem {split_item}: out has {len(ys)} tensors but weight has {n_w}")
        if layout == "per_tensor" and len(ys) != len(xs):
            raise invalid(f"splitItem {split_item}: out has {len(ys)} tensors but x has {len(xs)}")
    xk = [xd.shape[-1] for xd in xs]
    if layout in ("per_tensor", "concat"):
        for i, (a, b) in enumerate(zip(xk, ks)):
            if a != b:
                raise invalid(f"x[{i}] K={a} differs from weight[{i}] K={b}")
    elif layout in ("m_single", "m_split", "k_stack"):
        for i, b in enumerate(ks):
            if xk[0] != b:
                raise invalid(f"x K={xk[0]} differs from weight[{i}] K={b}")
    elif sum(ks) > xk[0]:  # k_split
        raise invalid(f"the weights' K sizes {ks} add up to more than the K={xk[0]} of x")
    if layout in ("m_single", "concat", "k_stack") and len(set(ns)) != 1:
        raise invalid(f"a single out tensor needs weights with equal N, got {ns}")
    if tuning_config is not None:
        m = xs[0].shape[0] if len(xs) == 1 else sum(math.prod(xd.shape[:-1]) for xd in xs)
        for j, v in enumerate(tuning_config):
            if v < 0 or v > m:
                raise invalid(f"tuningConfigOptional[{j}]={v} must be >= 0 and <= M={m}")
    if layout == "m_split":
        for i, (y, n) in enumerate(zip(ys, ns)):
            if y.ndim != 2 or y.shape[1] != n:
                raise invalid(f"out[{i}] must be (rows of group {i}, {n}), got {list(y.shape)}")
    else:
        expect = call.output_shapes([xd.shape for xd in xs], ops.w_shapes, split_item=split_item,
                                    group_type=group_type, group_list_len=n_groups)
        got = [tuple(y.shape) for y in ys]
        if got != expect:
            raise invalid(f"out shapes {[list(s) for s in got]} differ from the expected "
                          f"{[list(s) for s in expect]}")
    for i, y in enumerate(ys):
        if not y.is_contiguous():
            raise invalid(f"out[{i}] must be contiguous")


# --------------------------------------------------------------------------- parameter shapes

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
            raise invalid(f"{what} tensor list is empty")
    for i, w in enumerate(weight):
        if w.ndim not in (2, 3):
            raise invalid(f"weight[{i}] must have 2 or 3 dims, got {w.ndim}")
    for i, d in enumerate(x):
        if d.ndim < 2:
            raise invalid(f"x[{i}] must have at least 2 dims, got {d.ndim}")
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


def default_out_dtype(x: Sequence[TensorDesc], weight: Sequence[TensorDesc], scale: TensorList = None,
                      antiquant_scale: TensorList = None) -> int:
    """The output dtype of a call that names none: x's for non-quantized and weight-only calls (and for a
    call no scenario fits: the rules report it); full quantization needs it given
    (:class:`~aclnn_py.semantics.status.ArgumentError` naming ``out_dtype``)."""
    x_name, w_name = _name(x[0]), _name(weight[0])
    try:  # a placeholder list (one empty tensor) is absent, as the rules take it
        kind = call.scenario(x_name, w_name, scale_dtype=None if absent(scale) else _name(scale[0]),
                             has_antiquant_scale=not absent(antiquant_scale))
    except ValueError:
        return x[0].dtype
    name = call.default_out_name(kind, x_name)
    if name is None:
        raise ArgumentError("out_dtype", f"required for the quantized scenario {kind} (e.g. 'bfloat16')")
    return int(dtypes.from_name(name))


def outputs(*, x: TensorList, weight: TensorList, split_item: int, group_type: int | None = None,
            group_list_type: int = 0, group_list=None, scale: TensorList = None, antiquant_scale: TensorList = None,
            signature: EntryPoint = V5, **_) -> dict[str, list[TensorDesc]]:
    """``out`` as the inputs imply it (empty when they do not: per-group outputs need host groupList
    values -- V1/V2 have them --, full quantization an output dtype)."""
    if not x or not weight or any(d is None for d in (*x, *weight)):
        return {}
    host = signature.host_group_list and group_list is not None
    try:
        if group_type is None:  # V1: the lists choose (out counted as splitItem implies it)
            separate = split_item < 2 and (len(x) > 1 or len(weight) > 1)
            group_type = versions.v1_group_type(len(x), len(weight), max(len(x), len(weight)) if separate else 1)
        shapes = output_shapes(
            x, weight, split_item=split_item, group_type=group_type,
            group_list_len=len(group_list) if host else (
                None if group_list is None or group_list.ndim == 0 else group_list.shape[0]),
            group_list_values=_cumulative_counts(group_list) if host else None, group_list_type=1 if host else 0)
        dtype = default_out_dtype(x, weight, scale, antiquant_scale)
    except (Violation, ValueError):  # ArgumentError too
        return {}
    return {"out": [TensorDesc.contiguous(shape, dtype) for shape in shapes]}


def _cumulative_counts(values: Sequence[int]) -> list[int]:
    """The group sizes of a cumulative groupList (V1/V2's host array)."""
    return [b - a for a, b in zip([0, *values[:-1]], values)]


def _check_call(*, profile: str, signature: EntryPoint, **arguments) -> GroupedMatmulCall:
    return check(**arguments, profile=profile, signature=signature)


def _outputs_call(*, profile: str, signature: EntryPoint, **arguments) -> dict[str, list[TensorDesc]]:
    return outputs(**arguments, signature=signature)


#: The catalogue's entries (ops-transformer gmm/grouped_matmul: libopapi_transformer), one per entry
#: point; the header's parameter names in snake case are the canonical arguments but V1-V3's ``y``
#: (V5's ``out``, written although declared const).
OPERATORS = tuple(OperatorRules(e.op, "opapi_transformer", names=e.renamed, written=e.written,
                                check=partial(_check_call, signature=e), outputs=partial(_outputs_call, signature=e))
                  for e in ENTRY_POINTS.values())
