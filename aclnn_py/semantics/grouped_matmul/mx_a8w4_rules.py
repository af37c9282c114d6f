"""Parameter checks of the Ascend 950's MxA8W4 weight quantization (FLOAT8_E4M3FN x, FLOAT4_E2M1 or
FLOAT4_E1M2 FRACTAL_NZ weight, FLOAT8_E8M0 antiquantScale and perTokenScale), whose execution the mock
does not model.

Source: hicann/ops-transformer gmm/grouped_matmul/op_api/grouped_matmul_weight_quant_950_checker.cpp
(at the commit of tests/mock/op_api_cases/grouped_matmul.json),
``AclnnGroupedMatmulWeightQuantDAV3510Checker::CheckGroupedMatmulWeightQuantDAV3510`` with ``IsMxA8W4NZ``
true, reached from aclnn_grouped_matmul.cpp ``CheckFunctionParams`` (x and weight of different sizes:
``IsWeightQuant``); then that file's ``CheckParamDifferentGroupType`` (``CheckGroupListSplitM``),
``CheckGroupSize`` and ``CheckTuningConfig``, the rest of ``CheckParam``. Every refusal of these is
ACLNN_ERR_PARAM_INVALID (``CheckParam`` turns the checker's null-pointer code into it). :func:`check`
follows the checker's order step by step (the function of each step is named in its docstring); a call
passing every step is 361001 with the rule :data:`~aclnn_py.semantics.status.NOT_MODELLED`: what follows
(``GetGMMResultByL0Api``: the NZ storage, the L0 operator's shape inference, the kernel) is not modelled.

The earlier steps of the entry point that :mod:`.rules` runs before this one (null lists, the K = 0 rule,
the unused parameters, dtypes mixed within a list, x and out formats) keep their place; upstream runs the
last two inside the checker, so a call with several faults may be refused for another of them first.
"""
from __future__ import annotations

import math
from typing import NoReturn, Sequence

from .. import dtypes
from ..descriptors import TensorDesc
from ..status import NOT_MODELLED, RUNTIME, Violation
from .dtype_rules import AQO, AQS, BIAS, FUNCTION, OFFSET, PTS, SCALE, invalid
from .entry_points import WEIGHT_NZ, EntryPoint
from .shape_rules import Operands

__all__ = ["applies", "check"]

D = dtypes.DataType
_FP4 = (D.ACL_FLOAT4_E2M1, D.ACL_FLOAT4_E1M2)
_SPLIT_M = 0
_MX_BLOCK = 64  # perTokenScale (M, K/64, 2) and antiquantScale (.., K/64, N, 2): two E8M0 scales per 64 K values
_GROUP_SIZE = 32
_ALIGN = 64  # N_K_ALIGN_VALUE_WEIGHT_QUANT_4BIT
_MAX_LIST = 128  # MAX_GROUP_LIST_SIZE_ARRAY
_MAX_GROUP_LIST = 1024  # MAX_GROUP_LIST_SIZE_TENSOR


def applies(ops: Operands, profile: str) -> bool:
    """Whether the call is MxA8W4 on the Ascend 950: FLOAT8_E4M3FN x, an FP4 weight and an antiquantScale.
    (``IsMxA8W4NZ`` asks for the dtypes alone; a call without an antiquantScale keeps the classification of
    :func:`.call.scenario`, as before these checks.)"""
    return (profile == "950" and ops.optional[AQS] is not None and ops.xs[0].dtype == D.ACL_FLOAT8_E4M3FN
            and ops.ws[0].dtype in _FP4)


def _label(desc: TensorDesc) -> str:
    return dtypes.label(desc.dtype)


def _transposed(desc: TensorDesc) -> bool:
    """grouped_matmul_util.cpp ``IsTransposeLastTwoDims``: the view strides of the last two dims swapped
    (whatever the storage format)."""
    shape, strides = desc.shape, desc.strides
    if len(shape) < 2 or len(strides) != len(shape):
        return False
    if not (strides[-2] == 1 and strides[-1] == shape[-2]):
        return False
    size = shape[-1] * shape[-2]
    for i in range(len(shape) - 3, -1, -1):
        if strides[i] != size:
            return False
        size *= shape[i]
    return True


def _x_transposed(xs: Sequence[TensorDesc]) -> bool:
    """aclnn_grouped_matmul.cpp ``CheckSpecialTranspose``: a transposed x whose last two dims hold more than one
    element."""
    return any(_transposed(x) and math.prod(x.shape[-2:]) != 1 for x in xs)


def check(entry: EntryPoint, ops: Operands, *, group_type: int, split_item: int,
          tuning_config: Sequence[int] | None) -> NoReturn:
    """Refuse an invalid MxA8W4 call (161002 naming the parameter and the rule) where upstream does; a valid
    one is 361001 (not modelled). See the module docstring."""
    xs, ws, ys, opt = ops.xs, ops.ws, ops.ys, ops.optional
    what = f"x {_label(xs[0])} with a {_label(ws[0])} weight (MxA8W4 on the Ascend 950)"
    multi = ws[0].ndim == 2  # IsMultiTensorWeight
    _group_type_scenario(what, xs, ws, ys, group_type)
    if entry is not WEIGHT_NZ:  # CheckUnsupportedApi
        raise invalid(f"{what} is only supported by aclnnGroupedMatmulWeightNz")
    _group_list_and_split_item(ops.group_list, split_item)
    _quant_params(opt)
    _list_sizes(opt, xs, ws)
    _y_dtype(ys[0])
    pts = opt[PTS][0]  # type: ignore[index]
    if pts.dtype != D.ACL_FLOAT8_E8M0:  # CheckQuantDtype
        raise invalid(f"perTokenScaleOptional dtype {_label(pts)} is not supported for {what}; supported: "
                      f"FLOAT8_E8M0")
    bias = opt[BIAS]
    if bias is not None and bias[0].dtype != ys[0].dtype:  # CheckBiasDtype
        raise invalid(f"biasOptional dtype {_label(bias[0])} must equal the out dtype {_label(ys[0])} for {what}")
    _transpose_status(xs, ws)
    _per_token_scale_shape(pts, xs[0])
    for i, w in enumerate(ws):
        _weight(i, xs[0], w, ys[0])
        if bias is not None:
            _per_weight_shape(BIAS, bias[i], i, w, multi, group_type)
        aqs = opt[AQS][i]  # type: ignore[index]
        if aqs.dtype != D.ACL_FLOAT8_E8M0:  # CheckAntiQuantDtype
            raise invalid(f"antiquantScaleOptional[{i}] dtype {_label(aqs)} is not supported for {what}; "
                          f"supported: FLOAT8_E8M0")
        _per_weight_shape(AQS, aqs, i, w, multi, group_type)
        _group_size(aqs, i, w)
    _after_checker(ops, multi, tuning_config)
    raise Violation(RUNTIME, FUNCTION, f"{what}: the call passes CANN's parameter checks; CANN takes this "
                    f"weight-quantization scenario, the mock does not model it", rule=NOT_MODELLED)


def _group_type_scenario(what: str, xs: list, ws: list, ys: list, group_type: int) -> None:
    """``CheckGroupTypeScenario``: groupType 0 (split M), one x, one out, at least one weight."""
    if group_type != _SPLIT_M:
        raise invalid(f"groupType {group_type} is not supported for {what}: only groupType 0 (split M)")
    if len(xs) != 1 or len(ys) != 1:
        raise invalid(f"x and out must hold one tensor each for {what} with groupType 0, got {len(xs)} x and "
                      f"{len(ys)} out tensors (weight may hold several)")


def _group_list_and_split_item(group_list: TensorDesc | None, split_item: int) -> None:
    """``CheckGroupListAndSplitItem`` (groupType 0)."""
    if group_list is None:
        raise invalid("groupListOptional must not be null when groupType is 0")
    if split_item not in (2, 3):
        raise invalid(f"splitItem {split_item} is not supported when out is not separated (groupType 0): must be "
                      f"2 or 3")


def _quant_params(opt: dict) -> None:
    """``CheckAntiQuantParams`` then ``CheckQuantParams``: which optional lists MxA8W4 takes."""
    if opt[AQO] is not None:
        raise invalid("antiquantOffsetOptional must be null when the weight is FP8/FP4 (MxA8W4)")
    if opt[SCALE] is not None:
        raise invalid("scaleOptional must be null for weight quantization other than INT8 x INT4 (MxA8W4)")
    if opt[OFFSET] is not None:
        raise invalid("offsetOptional must be null for weight quantization (MxA8W4)")
    if opt[PTS] is None:
        raise invalid("perTokenScaleOptional must not be null for FLOAT8_E4M3FN x with an FP4 weight (MxA8W4)")


def _list_sizes(opt: dict, xs: list, ws: list) -> None:
    """``CheckTensorListSize``: antiquantScale and bias hold one tensor per weight, perTokenScale one per x."""
    for name, reference, count in ((AQS, "weight", len(ws)), (BIAS, "weight", len(ws)), (PTS, "x", len(xs))):
        values = opt[name]
        if values is not None and len(values) != count:
            raise invalid(f"{name} has {len(values)} tensors but {reference} has {count}: the sizes must be equal")


def _y_dtype(y: TensorDesc) -> None:
    """``CheckYDtype``."""
    if y.dtype not in (D.ACL_BF16, D.ACL_FLOAT16):
        raise invalid(f"out dtype {_label(y)} is not supported for MxA8W4; supported: BFLOAT16, FLOAT16")


def _transpose_status(xs: list, ws: list) -> None:
    """``CheckTransposeStatus``: x not transposed, the weight transposed (an (N, K) storage viewed as (K, N))."""
    if _x_transposed(xs):
        raise invalid("x must not be transposed for weight quantization")
    if not _transposed(ws[0]):
        raise invalid("weight must be transposed for MxA8W4 (view strides of an (N, K) storage viewed as (K, N))")


def _per_token_scale_shape(pts: TensorDesc, x: TensorDesc) -> None:
    """``CheckScaleAndPerTokenScaleShape``: perTokenScale (M, K/64, 2)."""
    if pts.ndim != 3:
        raise invalid(f"perTokenScaleOptional must have 3 dims (M, K/64, 2) for MxA8W4, got {pts.ndim}")
    if pts.shape[0] != x.shape[0]:
        raise invalid(f"perTokenScaleOptional dim 0 ({pts.shape[0]}) must equal x dim 0 (M = {x.shape[0]})")
    if x.shape[1] != pts.shape[1] * _MX_BLOCK:
        raise invalid(f"x dim 1 (K = {x.shape[1]}) must be {_MX_BLOCK} times perTokenScaleOptional dim 1 "
                      f"({pts.shape[1]})")


def _weight(i: int, x: TensorDesc, w: TensorDesc, y: TensorDesc) -> None:
    """One weight: ``CheckDimNumAndFormat`` (NZ, x 2-D, weight 2-D or 3-D, x and out ranks equal), the transposition
    of every weight alike, ``CheckDimValue`` / ``CheckDimMatching`` (M, K, N, N and K multiples of 64)."""
    if not w.is_private_format:
        raise invalid(f"weight[{i}] format {dtypes.format_label(w.format)} is not supported for MxA8W4: the weight "
                      f"must be FRACTAL_NZ")
    if x.ndim != 2:
        raise invalid(f"x must have 2 dims when groupType is 0, got {x.ndim}")
    if w.ndim not in (2, 3):
        raise invalid(f"weight[{i}] must have 2 or 3 dims for MxA8W4, got {w.ndim}")
    if x.ndim != y.ndim:
        raise invalid(f"x has {x.ndim} dims but out has {y.ndim}: the ranks must be equal")
    if not _transposed(w):  # weight[0] is (CheckTransposeStatus)
        raise invalid(f"weight[{i}] is not transposed: the transpose state must be the same for each tensor in "
                      f"weight")
    if x.shape[0] != y.shape[0]:
        raise invalid(f"x dim 0 ({x.shape[0]}) must equal out dim 0 ({y.shape[0]})")
    k, n = w.shape[-2], w.shape[-1]
    if x.shape[-1] != k:
        raise invalid(f"x K ({x.shape[-1]}) must equal weight[{i}] K ({k})")
    if y.shape[-1] != n:
        raise invalid(f"out N ({y.shape[-1]}) must equal weight[{i}] N ({n})")
    if n % _ALIGN or k % _ALIGN:
        raise invalid(f"weight[{i}] n={n}, k={k}: N and K must be multiples of {_ALIGN} for MxA8W4")


def _per_weight_shape(name: str, desc: TensorDesc, i: int, w: TensorDesc, multi: bool, group_type: int) -> None:
    """``CheckTensorShape`` of bias and antiquantScale: bias (N) per 2-D weight, (E, N) per 3-D one;
    antiquantScale (K/64, N, 2) per 2-D weight, (E, K/64, N, 2) per 3-D one; E and N those of the weight."""
    is_aqs = name == AQS
    rank = (3 if multi else 4) if is_aqs else (1 if multi else 2)
    form = ("(K/64, N, 2)" if multi else "(E, K/64, N, 2)") if is_aqs else ("(N)" if multi else "(E, N)")
    if desc.ndim != rank:
        raise invalid(f"{name}[{i}] must have {rank} dims {form} for MxA8W4 with a {w.ndim}-D weight, got "
                      f"{desc.ndim}")
    if group_type == _SPLIT_M and not multi and desc.shape[0] != w.shape[0]:
        raise invalid(f"{name}[{i}] dim 0 ({desc.shape[0]}) must equal the weight's group count E ({w.shape[0]})")
    n = desc.shape[-2] if is_aqs else desc.shape[-1]
    if n != w.shape[-1]:
        raise invalid(f"{name}[{i}] N ({n}) must equal weight[{i}] N ({w.shape[-1]}); expected {form}")


def _group_size(aqs: TensorDesc, i: int, w: TensorDesc) -> None:
    """``CheckGroupSize``: K / (2 * antiquantScale's K/64 dim) is 32."""
    k, groups = w.shape[-2], aqs.shape[-3] * 2
    if groups <= 0:
        raise invalid(f"antiquantScaleOptional[{i}]: the group count ({groups}, twice its dim -3) must be "
                      f"greater than 0")
    if k % groups:
        raise invalid(f"weight[{i}] K ({k}) must be a multiple of the group count of antiquantScaleOptional[{i}] "
                      f"({groups}, twice its dim -3)")
    if k // groups != _GROUP_SIZE:
        raise invalid(f"antiquantScaleOptional[{i}]: the group size K / groups = {k // groups} must be "
                      f"{_GROUP_SIZE} for MxA8W4")


def _after_checker(ops: Operands, multi: bool, tuning_config: Sequence[int] | None) -> None:
    """aclnn_grouped_matmul.cpp after the checker: ``CheckParamDifferentGroupType`` (the groupList holds one
    value per weight tensor of a weight list, per group of a 3-D weight: ``CheckGroupListSplitM``,
    ``CheckGroupListCommonTensor``), ``CheckGroupSize`` (at most 128 x and weight tensors),
    ``CheckTuningConfig`` (tuningConfig[0] within [0, M])."""
    group_list = ops.group_list
    assert group_list is not None  # _group_list_and_split_item
    length = group_list.shape[0] if group_list.ndim else 0
    if length < 1:
        raise invalid("groupListOptional must hold at least one value")
    if length > _MAX_GROUP_LIST:
        raise invalid(f"groupListOptional has {length} values; at most {_MAX_GROUP_LIST} are supported")
    groups = len(ops.ws) if multi else ops.ws[0].shape[0]
    if groups != 1 and length != groups:
        raise invalid(f"groupListOptional has {length} values but the weight has {groups} groups "
                      f"({'tensors' if multi else 'dim 0'}): they must be equal")
    for name, values in (("x", ops.xs), ("weight", ops.ws)):
        if len(values) > _MAX_LIST:
            raise invalid(f"{name} has {len(values)} tensors; at most {_MAX_LIST} are supported")
    if tuning_config:
        m = max(x.shape[0] for x in ops.xs)
        if not 0 <= tuning_config[0] <= m:
            raise invalid(f"tuningConfigOptional[0]={tuning_config[0]} must be >= 0 and <= M={m}")
