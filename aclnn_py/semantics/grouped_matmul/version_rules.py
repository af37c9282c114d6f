"""What each GroupedMatmul entry point checks beyond V5's rules (:mod:`.rules`).

Source: hicann/ops-transformer gmm/grouped_matmul/op_api/ at the 2026-08 commit of
docs/op-api-replay.md -- ``aclnn_grouped_matmul.cpp`` (each ``aclnnGroupedMatmul*GetWorkspaceSize``
and the checks of ``aclnnGroupedMatmulGetWorkspaceSizeCommon`` that read ``GMMApiVersion``),
``grouped_matmul_950_checker.cpp`` and ``grouped_matmul_weight_quant_950_checker.cpp`` (Ascend
950). Where a version's document and this code disagree, the code decides (each function names
its upstream function). Every refusal is 161002 (:func:`~.dtype_rules.invalid`).
"""
from __future__ import annotations

from typing import Sequence

from .. import dtypes
from ..descriptors import TensorDesc
from . import call
from .call import FULL_QUANT
from .dtype_rules import BIAS, SCALE, invalid
from .entry_points import WEIGHT_NZ, EntryPoint
from .shape_rules import Operands

__all__ = ["api_limits", "entry_checks", "host_group_list", "split_m_layout", "v1_group_type",
           "weight_nz_dtypes"]

#: WeightNz's S8S4 per-group quantGroupSize (``QUANT_GROUP_SIZE_S8S4``).
S8S4_GROUP_SIZE = 256
#: aclIntArray groupList length limit (``MAX_GROUP_LIST_SIZE_ARRAY``).
MAX_HOST_GROUPS = 128


# --------------------------------------------------------------------------- entry checks

def v1_group_type(n_x: int, n_w: int, n_y: int) -> int:
    """V1's groupType from its lists (``aclnnGroupedMatmulGetWorkspaceSize``): a weight list of
    one needs x and y of one; -1 when x and y both hold several tensors or x, weight and y one
    each, else 0 (grouping along M)."""
    if n_w == 1 and (n_x != 1 or n_y != 1):
        raise invalid(f"a single weight tensor needs x and y of one tensor each, got x {n_x}, y {n_y}")
    return -1 if (n_x > 1 and n_y > 1) or (n_x == 1 and n_y == 1 and n_w == 1) else 0


def _group_type(split_item: int, group_type: int) -> None:
    """``PreCheckGroupType``: -1, 0 or 2 (N grouping refused); splitItem 2/3 needs grouping."""
    try:
        call.check_group_type(group_type)
        call.check_single_output_grouping(split_item, group_type)
    except ValueError as exc:
        raise invalid(str(exc)) from None


def _common(group_list: TensorDesc | None, split_item: int, group_type: int, group_list_type: int,
            act_type: int) -> None:
    """``CheckCommonParam`` of V4, V5 and WeightNz (the Ascend 310P rule aside)."""
    _group_type(split_item, group_type)
    if group_list is not None:
        if group_list_type == 2 and group_list.ndim != 2:
            raise invalid(f"groupListOptional must have shape [E, 2] for groupListType 2, got {list(group_list.shape)}")
        if group_list_type != 2 and group_list.ndim != 1:
            raise invalid(f"groupListOptional must be 1-D for groupListType {group_list_type}, got "
                          f"{group_list.ndim} dims")
    try:
        call.check_act_type(act_type)
    except ValueError as exc:
        raise invalid(str(exc)) from None
    if group_list_type == 2:
        if group_type != 0:
            raise invalid(f"groupListType 2 (sparse pairs) needs groupType 0, got {group_type}")
    elif group_list_type not in (0, 1):
        raise invalid(f"groupListType must be 0, 1 or 2, got {group_list_type}")


def _dtype(desc: TensorDesc | None) -> str | None:
    try:
        return None if desc is None else dtypes.name(desc.dtype)
    except ValueError:
        return None


def _s8s4_group_size(xs: Sequence[TensorDesc], ws: Sequence[TensorDesc], scale, offset,
                     quant_group_size: int) -> None:
    """WeightNz's S8S4 (``IsS8S4PseudoQuantWeightNz``, Ascend 950: one INT8 x, one INT4 weight,
    one UINT64/INT64 scale): quantGroupSize 0 with a per-channel offset, 256 without one."""
    if not (len(xs) == 1 and len(ws) == 1 and _dtype(xs[0]) == "int8" and _dtype(ws[0]) in ("int4", "int32")
            and scale is not None and len(scale) == 1 and _dtype(scale[0]) in ("uint64", "int64")):
        return
    has_offset = offset is not None and len(offset) == 1 and offset[0] is not None \
        and tuple(offset[0].shape) != (0,)
    want = 0 if has_offset else S8S4_GROUP_SIZE
    if quant_group_size != want:
        raise invalid(f"quantGroupSize must be {want} for S8S4 through aclnnGroupedMatmulWeightNz "
                      f"{'with a per-channel offset' if has_offset else 'without offset (per-group)'}, "
                      f"got {quant_group_size}")


def entry_checks(entry: EntryPoint, *, xs: Sequence[TensorDesc], ws: Sequence[TensorDesc],
                 ys: Sequence[TensorDesc], group_list, split_item: int, group_type: int | None,
                 group_list_type: int, act_type: int, quant_group_size: int, scale, offset,
                 profile: str) -> int:
    """The checks of the entry point itself, before the shared ones; returns the groupType.

    V1: :func:`v1_group_type`. V2: ``PreCheckGroupType``. V3: the same and a 1-D groupList.
    V4, V5: ``CheckCommonParam``. WeightNz: the S8S4 quantGroupSize on the Ascend 950, no K
    grouping, then ``CheckCommonParam``.
    """
    if entry.version == "V1":
        return v1_group_type(len(xs), len(ws), len(ys))
    assert group_type is not None
    if entry.version in ("V2", "V3"):
        _group_type(split_item, group_type)
        if entry.version == "V3" and group_list is not None and group_list.ndim != 1:
            raise invalid(f"groupListOptional must be 1-D, got {group_list.ndim} dims")
        return group_type
    if entry is WEIGHT_NZ:
        if profile == "950":
            _s8s4_group_size(xs, ws, scale, offset, quant_group_size)
        if group_type == 2:
            raise invalid("groupType 2 (K grouping) is not supported by aclnnGroupedMatmulWeightNz")
    _common(group_list, split_item, group_type, group_list_type, act_type)
    return group_type


# --------------------------------------------------------------------------- V1 and V2 host groupList

def _increments(values: Sequence[int], sizes: Sequence[int], what: str, axis: str) -> None:
    previous = 0
    for i, (value, size) in enumerate(zip(values, sizes)):
        if value - previous != size:
            raise invalid(f"groupListOptional[{i}] - groupListOptional[{i - 1}] = {value - previous} must equal "
                          f"{what}[{i}] {axis} = {size}" if i else
                          f"groupListOptional[0] = {value} must equal {what}[0] {axis} = {size}")
        previous = value


def host_group_list(entry: EntryPoint, ops: Operands, values: tuple[int, ...] | None, layout: str,
                    group_type: int) -> int | None:
    """V1/V2's aclIntArray groupList, value by value; returns its length (None without one).

    An empty array is no groupList (``ResetEmptyTensor``). groupType -1: V2 takes none, V1 one
    of x's length whose increments are the rows of each 2-D x (none for x above 2-D)
    (``CheckDimNumAndGroupListNoSplitAndFormat``). Grouping: at most 128 non-decreasing
    non-negative values, one per group when there are several (``CheckGroupListCommonIntArray``);
    the increments are the rows of each x or y tensor of a list, else the last value is the
    grouped axis (``CheckGroupListSplitM``, ``CheckGroupListSplitK``: the K of x for a single
    weight and y).
    """
    if values is not None and len(values) == 0:
        values = None
    xs, ys, ws = ops.xs, ops.ys, ops.ws
    if group_type == -1:
        if values is None:
            return None
        if entry.version != "V1":
            raise invalid("groupListOptional must be null when groupType is -1")
        if len(values) != len(xs):
            raise invalid(f"groupListOptional has {len(values)} values but x has {len(xs)} tensors")
        if any(x.ndim > 2 for x in xs):
            raise invalid("groupListOptional must be null when x and y both hold several tensors of more than 2 dims")
        _increments(values, [x.shape[0] for x in xs], "x", "M")
        return len(values)
    required = layout in ("m_single", "m_split", "k_stack")
    if values is None:
        if required:
            raise invalid(f"groupListOptional is required for a single x grouped along "
                          f"{'K' if group_type == 2 else 'M'}")
        return None
    if layout == "k_split":
        return len(values)  # CheckCaseSplitK checks no groupList of a weight or y list
    if len(values) > MAX_HOST_GROUPS:
        raise invalid(f"groupListOptional has {len(values)} values; at most {MAX_HOST_GROUPS} are supported")
    previous = 0
    for value in values:
        if value < previous:
            raise invalid(f"groupListOptional must be non-negative and non-decreasing, got {list(values)}")
        previous = value
    if layout == "k_stack":
        groups = ys[0].shape[0]
    elif layout == "m_single":
        groups = len(ws) if len(ws) > 1 else ws[0].shape[0]
    else:
        groups = len(ys) if layout == "m_split" else len(xs)
    if groups > 1 and len(values) != groups:
        raise invalid(f"groupListOptional has {len(values)} values but there are {groups} groups")
    if layout == "m_split":
        _increments(values, [y.shape[0] for y in ys], "y", "M")
    elif layout in ("per_tensor", "concat"):
        _increments(values, [x.shape[0] for x in xs], "x", "M")
    else:
        axis = xs[0].shape[1] if layout == "k_stack" else xs[0].shape[0]
        if values[-1] != axis:
            raise invalid(f"the last groupListOptional value {values[-1]} must equal the grouped axis of x "
                          f"({'K' if layout == 'k_stack' else 'M'} = {axis})")
    return len(values)


def split_m_layout(entry: EntryPoint, layout: str) -> None:
    """A single x split along M into one output per weight takes the host groupList of V1/V2
    (``CheckCaseSplitM`` refuses it to the tensor-groupList versions)."""
    if layout == "m_split" and entry.tensor_group_list:
        raise invalid(f"a single x grouped along M with one output per weight (splitItem 0/1) is not supported "
                      f"by {entry.function}: it takes the host groupList of aclnnGroupedMatmul/V2; pass "
                      f"splitItem 2/3 for a single output")


# --------------------------------------------------------------------------- per-version limits

def api_limits(entry: EntryPoint, kind: str, ops: Operands, names: dict[str, str | None], profile: str,
               group_type: int) -> None:
    """The scenarios a version does not take.

    - V1, groupType -1, a transposed weight (``CheckParamsByGroupType``; the 950 weight-quant
      checker's ``CheckTransposeStatus``); Atlas A2/A3: no FLOAT32 non-quantized V1
      (``CheckFunctionParams``).
    - Ascend 950 full quantization (x and weight of one byte or x 4-bit: upstream's ``IsQuant``)
      needs a groupList tensor (V3 and later: ``CheckGroupedMatmulDAV3510``), V3 only INT8 in and
      out with a UINT64/INT64 scale and an INT32 bias (``CheckInputAndOutputDtypeForV3Version``), a
      FRACTAL_NZ weight only through WeightNz (``CheckWeightNzSpecialParams``).
    - Ascend 950 weight-only quantization, which upstream's INT8 x INT4 (A8W4, "S8S4") is too
      (``IsWeightQuant``; ``CheckUnsupportedApi``): A16W8 not through WeightNz, nor through V1
      when grouped; weight FP8/HiF8 and A16W4 through V4 and V5 only; A8W4 through V5 and WeightNz
      only.
    """
    version, a2 = entry.version, profile in ("A2", "A3")
    if version == "V1" and group_type == -1 and ops.transposed and (a2 or kind in ("a16w8", "a16w4", "weight_fp8")):
        raise invalid("aclnnGroupedMatmul takes no transposed weight when x, weight and y all hold several tensors")
    if version == "V1" and a2 and kind == "nonquant" and names["x"] == "float32":
        raise invalid("x dtype FLOAT is not supported by aclnnGroupedMatmul on Atlas A2/A3 (non-quantized FLOAT32 "
                      "needs V2 or later)")
    if a2:
        return
    if kind == "a8w4":
        if version not in ("V5", "WeightNz"):
            raise invalid(f"A8W4 (INT8 x INT4) on the Ascend 950 needs aclnnGroupedMatmulV5 or "
                          f"aclnnGroupedMatmulWeightNz, not {entry.op}")
    elif kind in FULL_QUANT:
        if entry.host_group_list:
            raise invalid(f"quantization on the Ascend 950 needs a groupList tensor: {entry.function} takes a "
                          f"host array (use aclnnGroupedMatmulV3 or later)")
        if version == "V3" and not (kind == "a8w8" and names["out"] == "int8" and names[SCALE] == "uint64"
                                    and names[BIAS] in (None, "int32")):
            raise invalid("aclnnGroupedMatmulV3 on the Ascend 950 quantizes INT8 x and weight to INT8 out with a "
                          "UINT64/INT64 scale and an INT32 bias only")
        if ops.ws[0].is_nz and entry is not WEIGHT_NZ:
            raise invalid(f"a FRACTAL_NZ weight in quantization on the Ascend 950 needs aclnnGroupedMatmulWeightNz, "
                          f"not {entry.op}")
    elif kind == "a16w8":
        if entry is WEIGHT_NZ or (version == "V1" and group_type != -1):
            raise invalid(f"A16W8 on the Ascend 950 is not supported by {entry.function}"
                          + ("" if entry is WEIGHT_NZ else " with grouping (use V2 or later)"))
    elif kind in ("a16w4", "weight_fp8") and version not in ("V4", "V5"):
        raise invalid(f"{kind.upper()} on the Ascend 950 needs aclnnGroupedMatmulV4 or V5, not {entry.op}")


# --------------------------------------------------------------------------- NZ weights

def weight_nz_dtypes(names: dict[str, str | None], profile: str) -> None:
    """The x / weight / out dtypes a FRACTAL_NZ weight takes (``ParamsWeightNzDtype``: every
    WeightNz call and every call with an NZ weight, after the empty shortcut): A8W4 to
    FLOAT16/BFLOAT16, A8W8 to FLOAT16/BFLOAT16/INT32, A4W4 to FLOAT16/BFLOAT16, FP8 E4M3 and FP4
    on the Ascend 950, non-quantized FLOAT16 and BFLOAT16. (Its weight-only FP4 rows, FLOAT16/
    BFLOAT16 or FP8 E4M3 x with an FP4 weight, are scenarios this package does not model: the
    classification refuses them first, as not modelled.)"""
    x, w, out = names["x"], "int4" if names["weight"] == "int32" else names["weight"], names["out"]
    allowed = {("int8", "int4"): ("float16", "bfloat16"), ("int8", "int8"): ("float16", "bfloat16", "int32"),
               ("int4", "int4"): ("float16", "bfloat16"), ("bfloat16", "bfloat16"): ("bfloat16",),
               ("float16", "float16"): ("float16",)}
    if profile == "950":
        allowed[("float8_e4m3fn", "float8_e4m3fn")] = (out,)
        allowed[("float4_e2m1", "float4_e2m1")] = (out,)
    if out not in allowed.get((x, w), ()):
        raise invalid(f"x {str(x).upper()} / weight {str(w).upper()} / out {str(out).upper()} is not a FRACTAL_NZ "
                      f"weight combination: A8W8 (FLOAT16, BFLOAT16, INT32 out), A8W4 and A4W4 (FLOAT16, BFLOAT16 "
                      f"out), non-quantized FLOAT16 or BFLOAT16" + (", FP8 E4M3 or FP4 E2M1" if profile == "950" else ""))
