"""One Python function and one plan per aclnn operator, over the raw two-phase C API.

Every operator a header declares is a function of this module, made on first use from its
header (:mod:`aclnn_py.ops._generic`): ``ops.add_rms_norm(...)`` for ``aclnnAddRmsNorm``,
``ops.call("aclnnAddRmsNorm", ...)``, ``ops.plan("aclnnAddRmsNorm", ...)``; see
docs/operators.md for the headers read and how values convert.

Hand-written on the same signatures, with their own argument handling, output inference and
documentation: a function (``grouped_matmul_v5``, ``quant_matmul_all_reduce_v4``,
``matmul_all_reduce_v2``, ``weight_quant_matmul_all_reduce``, ...) queues
one call on a stream and returns its output; a plan (``GroupedMatmulV5Plan``,
``QuantMatmulAllReduceV4Plan``, ...) checks the arguments and runs phase 1 once, then
executes on any stream as often as needed (see :mod:`aclnn_py.ops._two_phase` for their
lifetimes). The weight and scale helpers (``trans_matmul_weight``, ``trans_quant_param_v2``,
...) are functions only, and so is ``npu_format_cast_calculate_size_and_format`` (a single host
function whose shape array it frees).
"""
from typing import Any

from ._generic import OperatorPlan, call, plan
from ._grouped_matmul import (GroupedMatmulPlan, GroupedMatmulV2Plan, GroupedMatmulV3Plan, GroupedMatmulV4Plan,
                              GroupedMatmulV5Plan, GroupedMatmulWeightNzPlan, grouped_matmul, grouped_matmul_v2,
                              grouped_matmul_v3, grouped_matmul_v4, grouped_matmul_v5, grouped_matmul_weight_nz)
from ._npu_format_cast import npu_format_cast_calculate_size_and_format
from ._profile import current_profile
from ._matmul_all_reduce import (MatmulAllReducePlan, MatmulAllReduceV2Plan, MatmulAllReduceV3Plan,
                                 WeightQuantMatmulAllReducePlan, WeightQuantMatmulAllReduceV2Plan, matmul_all_reduce,
                                 matmul_all_reduce_v2, matmul_all_reduce_v3, weight_quant_matmul_all_reduce,
                                 weight_quant_matmul_all_reduce_v2)
from ._quant_matmul_all_reduce import (QuantMatmulAllReducePlan, QuantMatmulAllReduceV2Plan,
                                      QuantMatmulAllReduceV3Plan, QuantMatmulAllReduceV4Plan,
                                      QuantMatmulAllReduceV5Plan, quant_matmul_all_reduce, quant_matmul_all_reduce_v2,
                                      quant_matmul_all_reduce_v3, quant_matmul_all_reduce_v4,
                                      quant_matmul_all_reduce_v5)
from ._trans_matmul_weight import calculate_matmul_weight_size, nz_weight_tensor, trans_matmul_weight
from ._trans_quant_param import trans_quant_param_v2

__all__ = [
    "GroupedMatmulPlan", "GroupedMatmulV2Plan", "GroupedMatmulV3Plan", "GroupedMatmulV4Plan",
    "GroupedMatmulV5Plan", "GroupedMatmulWeightNzPlan", "grouped_matmul", "grouped_matmul_v2",
    "grouped_matmul_v3", "grouped_matmul_v4", "grouped_matmul_v5", "grouped_matmul_weight_nz",
    "QuantMatmulAllReducePlan", "QuantMatmulAllReduceV2Plan", "QuantMatmulAllReduceV3Plan",
    "QuantMatmulAllReduceV4Plan", "QuantMatmulAllReduceV5Plan", "quant_matmul_all_reduce", "quant_matmul_all_reduce_v2",
    "quant_matmul_all_reduce_v3", "quant_matmul_all_reduce_v4", "quant_matmul_all_reduce_v5",
    "MatmulAllReducePlan", "MatmulAllReduceV2Plan", "MatmulAllReduceV3Plan", "matmul_all_reduce",
    "matmul_all_reduce_v2", "matmul_all_reduce_v3",
    "WeightQuantMatmulAllReducePlan", "WeightQuantMatmulAllReduceV2Plan", "weight_quant_matmul_all_reduce",
    "weight_quant_matmul_all_reduce_v2",
    "calculate_matmul_weight_size", "nz_weight_tensor", "trans_matmul_weight", "trans_quant_param_v2",
    "npu_format_cast_calculate_size_and_format",
    "OperatorPlan", "call", "current_profile", "plan",
]


def __getattr__(name: str) -> Any:
    """``ops.<name>``: the function of the operator whose snake-case name is ``name`` (made once)."""
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from ._generic import by_python_name, function

    op = by_python_name(name)
    if op is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}: no operator header read by "
                             f"aclnn-py declares an operator of that name (aclnn-py ops lists them)")
    fn = function(op)
    globals()[name] = fn
    return fn
