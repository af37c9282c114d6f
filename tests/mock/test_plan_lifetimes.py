"""What operator plans (aclnn_py.ops) hold, counted in the mock: a plan runs again with refreshed
inputs on one executor; close() right after execute() frees nothing the queued work uses (the
executor and the plan's device copies live until the stream synchronised) and leaves nothing
behind under ACLNN_MOCK_STRICT=1; single-use plans run once."""
from __future__ import annotations

import gc
import textwrap

import numpy as np
import pytest

from binding_helpers import grouped_matmul_inputs, grouped_matmul_plan, grouped_matmul_reference
from mock_helpers import run_python

import aclnn_py  # noqa: E402
from aclnn_py import Stream, hccl  # noqa: E402
from aclnn_py.semantics.precision import assert_close  # noqa: E402
from aclnn_py.semantics.quant_params import trans_quant_param  # noqa: E402


def live() -> tuple[int, int, int]:
    """The mock's live executors, aclTensors and device allocations (same interpreter)."""
    from mock_runtime.core import objects
    from mock_runtime.core.memory import table

    return len(objects.executors.live()), len(objects.tensors.live()), len(table.live())


@pytest.fixture
def fresh(stream):
    """The stream, with the collector off (what is freed must be freed by close/synchronize)."""
    stream.workspace(1 << 24)  # the stream's own workspace is not what these tests count
    gc.collect()
    gc.disable()
    yield stream
    gc.enable()


def test_grouped_matmul_plan_runs_again_with_refreshed_inputs(fresh):
    rng = np.random.default_rng(0)
    x, w, group_list = grouped_matmul_inputs(rng)
    before = live()
    with grouped_matmul_plan(x, w, group_list) as plan:
        plan.execute(fresh)
        fresh.synchronize()
        first = plan.out[0].to_numpy()
        x2 = rng.integers(-4, 4, x.shape).astype(np.float16)
        plan.tensors["x"][0].copy_from_numpy(x2)
        plan.tensors["group_list"].copy_from_numpy(np.array([3, 3, 8], np.int64))
        plan.execute(fresh)
        fresh.synchronize()
        second = plan.out[0].to_numpy()
        assert live()[0] == before[0] + 1  # one executor, repeatable
    assert_close(first, grouped_matmul_reference(x, w, [2, 5, 8]))
    assert_close(second, grouped_matmul_reference(x2, w, [3, 3, 8]))
    assert live()[0] == before[0]
    plan.out[0].close()
    assert live() == before


def test_close_right_after_execute_waits_for_the_stream(fresh):
    x, w, group_list = grouped_matmul_inputs(np.random.default_rng(1))
    before = live()
    plan = grouped_matmul_plan(x, w, group_list)
    made = live()
    assert made[0] == before[0] + 1 and made[1] > before[1]  # executor; x, weight, group list, output
    plan.execute(fresh)
    plan.close()
    assert plan.closed
    assert live() == made  # queued work still uses the executor and the plan's device copies
    with pytest.raises(aclnn_py.ClosedResourceError, match="plan is closed"):
        plan.execute(fresh)
    fresh.synchronize()
    assert live() == (before[0], before[1] + 1, before[2] + 1)  # the caller's output only
    assert_close(plan.out[0].to_numpy(), grouped_matmul_reference(x, w, group_list))
    plan.out[0].close()
    assert live() == before


def test_close_waits_for_every_stream_that_ran_the_plan(fresh):
    x, w, group_list = grouped_matmul_inputs(np.random.default_rng(2))
    before = live()
    other = Stream()
    try:
        plan = grouped_matmul_plan(x, w, group_list)
        plan.execute(fresh)
        fresh.synchronize()
        plan.execute(other)
        plan.close()
        fresh.synchronize()
        assert live()[0] == before[0] + 1  # the other stream may still run it
        other.synchronize()
        assert live()[0] == before[0]
        assert_close(plan.out[0].to_numpy(), grouped_matmul_reference(x, w, group_list))
        plan.out[0].close()
    finally:
        other.close()
    assert live() == before


def test_every_execution_waits_for_the_stream_also_after_a_synchronisation(fresh):
    """Executions after the first on a stream (the call already recorded there) and the first
    after a synchronisation keep the executor alive until the stream has passed them."""
    x, w, group_list = grouped_matmul_inputs(np.random.default_rng(6))
    before = live()
    plan = grouped_matmul_plan(x, w, group_list)
    for _ in range(3):
        plan.execute(fresh)
    fresh.synchronize()
    plan.execute(fresh)
    plan.execute(fresh)
    plan.close()
    assert live()[0] == before[0] + 1
    with pytest.raises(aclnn_py.ClosedResourceError, match="plan is closed"):
        plan.execute(fresh)
    fresh.synchronize()
    assert live()[0] == before[0]
    assert_close(plan.out[0].to_numpy(), grouped_matmul_reference(x, w, group_list))
    plan.out[0].close()
    assert live() == before


def test_an_execution_after_the_workspace_grew_uses_the_new_workspace(fresh):
    """The stream's workspace is replaced (the old one freed) when an operator needs more; the
    next execution of a plan that ran before passes the new one (the mock refuses a workspace
    pointer outside a live allocation)."""
    x, w, group_list = grouped_matmul_inputs(np.random.default_rng(7))
    with grouped_matmul_plan(x, w, group_list) as plan:
        plan.execute(fresh)
        plan.execute(fresh)
        fresh.workspace(2 << 24)  # as an operator needing 32 MiB would
        plan.execute(fresh)
        fresh.synchronize()
        assert_close(plan.out[0].to_numpy(), grouped_matmul_reference(x, w, group_list))
    plan.out[0].close()


def test_a_plan_that_never_ran_is_freed_at_once(fresh):
    x, w, group_list = grouped_matmul_inputs(np.random.default_rng(3))
    before = live()
    for repeatable in (True, False):
        plan = grouped_matmul_plan(x, w, group_list, repeatable=repeatable)  # copies made synchronously
        plan.close()
        assert live() == (before[0], before[1] + 1, before[2] + 1)
        plan.out[0].close()
    copied = grouped_matmul_plan(x, w, group_list, stream=fresh)  # copies queued on the stream: they wait for it
    copied.close()
    assert live()[1] > before[1] + 1
    fresh.synchronize()
    copied.out[0].close()
    assert live() == before


def test_single_use_plan_runs_once(fresh):
    x, w, group_list = grouped_matmul_inputs(np.random.default_rng(4))
    before = live()
    plan = grouped_matmul_plan(x, w, group_list, repeatable=False, stream=fresh)
    plan.execute(fresh)
    assert live()[0] == before[0]  # the execute call consumed the executor, as CANN's does
    with pytest.raises(RuntimeError, match="single-use plan runs once"):
        plan.execute(fresh)
    plan.close()
    fresh.synchronize()
    assert_close(plan.out[0].to_numpy(), grouped_matmul_reference(x, w, group_list))
    plan.out[0].close()
    assert live() == before


def test_quant_matmul_all_reduce_plan_close_after_execute_with_a_real_communicator(fresh):
    rng = np.random.default_rng(5)
    x1 = rng.integers(-8, 8, (4, 32)).astype(np.int8)
    x2 = rng.integers(-8, 8, (32, 8)).astype(np.int8)
    comm, = hccl.init_all([0])
    try:
        before = live()
        plan = aclnn_py.ops.QuantMatmulAllReduceV4Plan(x1, x2, trans_quant_param(np.full(8, 0.5, np.float32)),
                                                       group=comm)
        plan.execute(fresh)
        plan.close()
        assert live()[0] == before[0] + 1
        fresh.synchronize()
        assert live()[0] == before[0]
        expected = (x1.astype(np.int32) @ x2.astype(np.int32) * 0.5).astype(np.float16)
        assert_close(plan.out.to_numpy(), expected)
        plan.out.close()
        assert live() == before
    finally:
        comm.close()


def test_close_after_execute_is_clean_in_strict_mode():
    """Both operators from NumPy inputs, plans closed right after execute, in a fresh process with
    the collector off and strict leak checking: right values, aclFinalize succeeds."""
    code = textwrap.dedent("""
        import gc
        gc.disable()
        import numpy as np
        from aclnn_py import Device, Runtime, Stream, hccl
        from aclnn_py.ops import GroupedMatmulV5Plan, QuantMatmulAllReduceV4Plan
        from aclnn_py.semantics.quant_params import trans_quant_param

        rng = np.random.default_rng(0)
        x1 = rng.integers(-8, 8, (4, 32)).astype(np.int8)
        x2 = rng.integers(-8, 8, (32, 8)).astype(np.int8)
        x = rng.integers(-4, 4, (6, 16)).astype(np.float16)
        w = rng.integers(-4, 4, (2, 16, 8)).astype(np.float16)
        rt = Runtime()
        with Device(0), Stream() as stream:
            comm, = hccl.init_all([0])
            q = QuantMatmulAllReduceV4Plan(x1, x2, trans_quant_param(np.full(8, 0.5, np.float32)), group=comm,
                                           stream=stream)
            g = GroupedMatmulV5Plan([x], [w], group_list=np.array([2, 6]), split_item=3, group_type=0,
                                    stream=stream)
            for plan in (q, g, q):
                plan.execute(stream)
            q.close()
            g.close()
            stream.synchronize()
            y = (x1.astype(np.int32) @ x2.astype(np.int32) * 0.5).astype(np.float16)
            z = np.concatenate([x[:2].astype(np.float32) @ w[0].astype(np.float32),
                                x[2:].astype(np.float32) @ w[1].astype(np.float32)]).astype(np.float16)
            assert np.array_equal(q.out.to_numpy(), y)
            assert np.array_equal(g.out[0].to_numpy(), z)
            q.out.close()
            g.out[0].close()
            comm.close()
        rt.close()
        print("CLEAN")
    """)
    result = run_python(code, env={"ACLNN_MOCK_STRICT": "1"}, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "CLEAN" in result.stdout and "leaked" not in result.stderr
