"""One Python function and one plan per aclnn operator, over the raw two-phase C API.

A function (``grouped_matmul_v5``, ``quant_matmul_all_reduce_v4``, ...) queues
one call on a stream and returns its output; a plan (``GroupedMatmulV5Plan``,
``QuantMatmulAllReduceV4Plan``, ...) checks the arguments and runs phase 1
once, then executes on any stream as often as needed (see
:mod:`aclnn_py.ops._two_phase` for their lifetimes). The weight and scale
helpers (``trans_matmul_weight``, ``trans_quant_param_v2``, ...) are functions
only.
"""
from ._grouped_matmul import GroupedMatmulV5Plan, grouped_matmul_v5
from ._quant_matmul_all_reduce import (QuantMatmulAllReducePlan, QuantMatmulAllReduceV2Plan,
                                      QuantMatmulAllReduceV3Plan, QuantMatmulAllReduceV4Plan,
                                      quant_matmul_all_reduce, quant_matmul_all_reduce_v2,
                                      quant_matmul_all_reduce_v3, quant_matmul_all_reduce_v4)
from ._trans_matmul_weight import calculate_matmul_weight_size, nz_weight_tensor, trans_matmul_weight
from ._trans_quant_param import trans_quant_param_v2

__all__ = [
    "GroupedMatmulV5Plan", "grouped_matmul_v5",
    "QuantMatmulAllReducePlan", "QuantMatmulAllReduceV2Plan", "QuantMatmulAllReduceV3Plan",
    "QuantMatmulAllReduceV4Plan", "quant_matmul_all_reduce", "quant_matmul_all_reduce_v2",
    "quant_matmul_all_reduce_v3", "quant_matmul_all_reduce_v4",
    "calculate_matmul_weight_size", "nz_weight_tensor", "trans_matmul_weight", "trans_quant_param_v2",
]
