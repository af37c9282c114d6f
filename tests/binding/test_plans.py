"""Operator plans (aclnn_py.ops): one per operator, re-exported with the functions; a plan runs
again with refreshed inputs; a closed plan refuses to run while the work it queued completes;
a single-use plan runs once. (What a plan holds, and when it is freed, is counted in the mock:
tests/mock/test_plan_lifetimes.py.)"""
from __future__ import annotations

import numpy as np
import pytest

import aclnn_py
from aclnn_py.semantics.precision import assert_close
from binding_helpers import grouped_matmul_inputs, grouped_matmul_plan, grouped_matmul_reference


def test_ops_exports_every_function_and_plan():
    from aclnn_py.ops import (GroupedMatmulV5Plan, QuantMatmulAllReducePlan, QuantMatmulAllReduceV2Plan,
                              QuantMatmulAllReduceV3Plan, QuantMatmulAllReduceV4Plan, calculate_matmul_weight_size,
                              grouped_matmul_v5, npu_format_cast_calculate_size_and_format, nz_weight_tensor,
                              quant_matmul_all_reduce, quant_matmul_all_reduce_v2, quant_matmul_all_reduce_v3, quant_matmul_all_reduce_v4,
                              trans_matmul_weight, trans_quant_param_v2)
    from aclnn_py.ops._two_phase import Plan

    for plan in (GroupedMatmulV5Plan, QuantMatmulAllReducePlan, QuantMatmulAllReduceV2Plan,
                 QuantMatmulAllReduceV3Plan, QuantMatmulAllReduceV4Plan):
        assert issubclass(plan, Plan)
    functions = (calculate_matmul_weight_size, grouped_matmul_v5, npu_format_cast_calculate_size_and_format,
                 nz_weight_tensor, quant_matmul_all_reduce,
                 quant_matmul_all_reduce_v2, quant_matmul_all_reduce_v3, quant_matmul_all_reduce_v4,
                 trans_matmul_weight, trans_quant_param_v2)
    assert all(callable(f) and not isinstance(f, type) for f in functions)
    assert aclnn_py.ops.quant_matmul_all_reduce is quant_matmul_all_reduce  # the V1 function, not a module
    assert set(aclnn_py.ops.__all__) == {f.__name__ for f in functions} | {
        "GroupedMatmulV5Plan", "QuantMatmulAllReducePlan", "QuantMatmulAllReduceV2Plan",
        "QuantMatmulAllReduceV3Plan", "QuantMatmulAllReduceV4Plan", "OperatorPlan", "call", "current_profile", "plan"}


def test_a_plan_runs_again_with_refreshed_inputs(stream):
    rng = np.random.default_rng(0)
    x, w, group_list = grouped_matmul_inputs(rng)
    with grouped_matmul_plan(x, w, group_list) as plan:
        plan.execute(stream)
        stream.synchronize()
        first = plan.out[0].to_numpy()
        x2 = rng.integers(-4, 4, x.shape).astype(np.float16)
        plan.tensors["x"][0].copy_from_numpy(x2)
        plan.tensors["group_list"].copy_from_numpy(np.array([3, 3, 8], np.int64))
        plan.execute(stream)
        stream.synchronize()
        second = plan.out[0].to_numpy()
    assert_close(first, grouped_matmul_reference(x, w, [2, 5, 8]))
    assert_close(second, grouped_matmul_reference(x2, w, [3, 3, 8]))
    plan.out[0].close()


def test_a_plan_closed_right_after_execute_completes_its_work(stream):
    x, w, group_list = grouped_matmul_inputs(np.random.default_rng(1))
    plan = grouped_matmul_plan(x, w, group_list)
    plan.execute(stream)
    plan.close()
    assert plan.closed
    with pytest.raises(aclnn_py.ClosedResourceError, match="plan is closed"):
        plan.execute(stream)
    stream.synchronize()
    assert_close(plan.out[0].to_numpy(), grouped_matmul_reference(x, w, group_list))
    plan.out[0].close()


def test_single_use_plan_runs_once(stream):
    x, w, group_list = grouped_matmul_inputs(np.random.default_rng(4))
    plan = grouped_matmul_plan(x, w, group_list, repeatable=False, stream=stream)
    plan.execute(stream)
    with pytest.raises(RuntimeError, match="single-use plan runs once"):
        plan.execute(stream)
    plan.close()
    stream.synchronize()
    assert_close(plan.out[0].to_numpy(), grouped_matmul_reference(x, w, group_list))
    plan.out[0].close()
