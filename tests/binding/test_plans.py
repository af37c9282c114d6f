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
    from aclnn_py import ops
    from aclnn_py.ops._two_phase import Plan

    plans = ("GroupedMatmulPlan", "GroupedMatmulV2Plan", "GroupedMatmulV3Plan", "GroupedMatmulV4Plan",
             "GroupedMatmulV5Plan", "GroupedMatmulWeightNzPlan", "QuantMatmulAllReducePlan", "QuantMatmulAllReduceV2Plan",
             "QuantMatmulAllReduceV3Plan", "QuantMatmulAllReduceV4Plan", "QuantMatmulAllReduceV5Plan",
             "MatmulAllReducePlan", "MatmulAllReduceV2Plan", "MatmulAllReduceV3Plan",
             "WeightQuantMatmulAllReducePlan", "WeightQuantMatmulAllReduceV2Plan")
    functions = ("calculate_matmul_weight_size", "grouped_matmul", "grouped_matmul_v2", "grouped_matmul_v3",
                 "grouped_matmul_v4", "grouped_matmul_v5", "grouped_matmul_weight_nz", "npu_format_cast_calculate_size_and_format",
                 "nz_weight_tensor", "quant_matmul_all_reduce",
                 "quant_matmul_all_reduce_v2", "quant_matmul_all_reduce_v3", "quant_matmul_all_reduce_v4",
                 "quant_matmul_all_reduce_v5", "matmul_all_reduce", "matmul_all_reduce_v2", "matmul_all_reduce_v3",
                 "weight_quant_matmul_all_reduce", "weight_quant_matmul_all_reduce_v2", "trans_matmul_weight",
                 "trans_quant_param_v2")
    assert all(issubclass(getattr(ops, name), Plan) for name in plans)
    assert all(callable(f := getattr(ops, name)) and not isinstance(f, type) and f.__name__ == name
               for name in functions)
    assert ops.quant_matmul_all_reduce.__module__ == "aclnn_py.ops._quant_matmul_all_reduce"  # the V1 function
    assert ops.grouped_matmul.__name__ == "grouped_matmul"  # the function, not the module
    assert set(ops.__all__) == set(functions) | set(plans) | {"OperatorPlan", "call", "current_profile", "plan"}


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


def test_one_shot_functions_refuse_a_non_stream_and_release_their_copies(stream, comms_factory):
    """A one-shot function given something else than a Stream raises the TypeError naming it, and
    the device copies it made of NumPy arguments are released (no executor runs): the hand-written
    families (GroupedMatmul V1 and V5, MatmulAllReduce, QuantMatmulAllReduce), TransQuantParamV2 and
    the header-driven layer."""
    from aclnn_py.ops import (grouped_matmul, grouped_matmul_v5, matmul_all_reduce, quant_matmul_all_reduce_v4,
                              trans_quant_param_v2)
    from aclnn_py.testing import LeakCheck
    from ml_dtypes import bfloat16

    x, w, group_list = grouped_matmul_inputs(np.random.default_rng(3))
    scale = np.ones(8, np.float32)
    comm, = comms_factory(1)
    x1, x2 = np.ones((4, 16), np.float16), np.ones((16, 8), np.float16)
    q1, q2 = np.ones((4, 16), np.int8), np.ones((16, 8), np.int8)
    calls = [lambda s: grouped_matmul_v5([x], [w], group_list=group_list, split_item=3, group_type=0, stream=s),
             lambda s: grouped_matmul([x], list(w), group_list=[int(v) for v in group_list], split_item=3, stream=s),
             lambda s: matmul_all_reduce(x1, x2, group=comm, stream=s),
             lambda s: quant_matmul_all_reduce_v4(q1, q2, scale.astype(bfloat16), group=comm, stream=s),
             lambda s: trans_quant_param_v2(scale, stream=s),
             lambda s: aclnn_py.ops.call("aclnnTransQuantParamV2", scale, None, stream=s)]
    for run in calls:
        with LeakCheck() as check:
            with pytest.raises(TypeError, match="stream: expected an aclnn_py.Stream, got str"):
                run("stream")
            leaks = check.leaks()
        assert leaks == []
        out = run(stream)  # the same call on a stream runs
        stream.synchronize()
        for tensor in out if isinstance(out, list) else [out]:
            tensor.close()
