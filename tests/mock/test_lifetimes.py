"""Deterministic lifetimes in the Python layer (issue 9, item 9): what an operator wrapper makes
from NumPy inputs is released once the stream has passed the work -- never left to the garbage
collector -- also when the call is rejected; views and temporaries are freed at once; the README's
first snippet finalises clean under ACLNN_MOCK_STRICT=1; a collection that runs binding
finalizers while the mock is busy defers them instead of deadlocking."""
from __future__ import annotations

import gc
import re
import textwrap

import numpy as np
import pytest

from binding_helpers import communicators
from mock_helpers import ROOT, run_python

import aclnn_py  # noqa: E402
from aclnn_py import AclnnParamError, Device, Stream, Tensor  # noqa: E402
from aclnn_py.semantics.quant_params import trans_quant_param  # noqa: E402
from aclnn_py.ops._grouped_matmul import grouped_matmul_v5  # noqa: E402
from aclnn_py.ops import QuantMatmulAllReduceV4Plan, quant_matmul_all_reduce_v4



def live() -> tuple[int, int, int]:
    """The mock's live aclTensors, aclTensorLists and device allocations (same interpreter)."""
    from mock_runtime.core import objects
    from mock_runtime.core.memory import table

    return len(objects.tensors.live()), len(objects.tensor_lists.live()), len(table.live())


@pytest.fixture
def stream(runtime):
    dev = Device(0)
    s = Stream()
    s.workspace(1)  # the stream's own workspace is not what these tests count
    yield s
    s.close()
    dev.close()


@pytest.fixture
def no_gc():
    gc.collect()
    gc.disable()
    yield
    gc.enable()


def test_two_hundred_calls_leave_nothing_alive_with_gc_disabled():
    """QuantMatmulAllReduceV4 (a real one-rank communicator), GroupedMatmulV5 and
    TransQuantParamV2 from NumPy inputs, in a fresh process with the collector off and strict
    leak checking: after every synchronize nothing the wrappers made is alive."""
    code = textwrap.dedent("""
        import gc
        gc.disable()
        import numpy as np
        from aclnn_py import Device, Runtime, Stream, hccl
        from aclnn_py.semantics.quant_params import trans_quant_param
        from aclnn_py.ops._grouped_matmul import grouped_matmul_v5
        from aclnn_py.ops import quant_matmul_all_reduce_v4
        from aclnn_py.ops import trans_quant_param_v2
        from mock_runtime.core import objects
        from mock_runtime.core.memory import table

        def live():
            return len(objects.tensors.live()), len(objects.tensor_lists.live()), len(table.live())

        rng = np.random.default_rng(0)
        x1 = rng.integers(-8, 8, (8, 32)).astype(np.int8)
        x2 = rng.integers(-8, 8, (32, 16)).astype(np.int8)
        scale = trans_quant_param(np.full(16, 0.01, np.float32))
        rt = Runtime()
        with Device(0), Stream() as stream:
            comm, = hccl.init_all([0])
            stream.workspace(1)
            base = live()
            for i in range(200):
                out = quant_matmul_all_reduce_v4(x1, x2, scale, bias=np.zeros(16, np.int32), group=comm,
                                                 stream=stream)
                if i % 50 == 0:
                    ys = grouped_matmul_v5([x1.astype(np.float16)], [x2.astype(np.float16)], stream=stream)
                    packed = trans_quant_param_v2(np.ones(16, np.float32), stream=stream)
                    assert live()[1] > 0  # the lists exist while the work is queued
                stream.synchronize()
                out = ys = packed = None
                assert live() == base, (i, live(), base)
            comm.close()
        rt.close()
        print("CLEAN", base)
    """)
    result = run_python(code, env={"ACLNN_MOCK_STRICT": "1"}, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "CLEAN (0, 0, 1)" in result.stdout and "leaked" not in result.stderr


def test_what_is_still_owned_at_exit_is_freed_there():
    """Tensors, buffers and a stream still referenced when the interpreter exits are freed by
    aclnn-py's exit hook (before the interpreter finalises), as the finalizers would have."""
    code = textwrap.dedent("""
        import atexit

        def report():
            from mock_runtime.core import objects
            from mock_runtime.core.memory import table
            print("AT EXIT", len(objects.tensors.live()), len(table.live()))

        atexit.register(report)  # registered before aclnn-py's hook: runs after it
        import numpy as np
        from aclnn_py import Device, Runtime, Stream, Tensor
        from mock_runtime.core import objects
        from mock_runtime.core.memory import table

        rt = Runtime()
        dev = Device(0)
        stream = Stream()
        kept = [Tensor.from_numpy(np.arange(6, dtype=np.float32)) for _ in range(3)]
        view = kept[0].view((2,), (1,), 1)
        print("LIVE", len(objects.tensors.live()), len(table.live()))
    """)
    result = run_python(code, env={"ACLNN_PY_BACKEND": "mock"}, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "LIVE 4 3" in result.stdout and "AT EXIT 0 0" in result.stdout, result.stdout + result.stderr


def test_readme_first_snippet_runs_clean_in_strict_mode():
    readme = (ROOT / "README.md").read_text()
    snippet = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    assert "Tensor.from_numpy" in snippet and ".T" in snippet  # the snippet this test is about
    result = run_python(snippet, env={"ACLNN_MOCK_STRICT": "1", "ACLNN_PY_BACKEND": "mock"}, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "leaked" not in result.stderr and "mock" in result.stdout


def test_views_and_temporaries_are_released_at_once(stream, no_gc):
    with Tensor.from_numpy(np.arange(12, dtype=np.float16).reshape(3, 4)) as x:
        before = live()
        for _ in range(20):
            np.testing.assert_array_equal(x.T.to_numpy(), np.arange(12, dtype=np.float16).reshape(3, 4).T)
            x.view((2, 2), (4, 1), 1).to_numpy()
            Tensor.from_numpy(np.ones(3, np.float32)).to_numpy()
            assert live() == before


def test_rejected_calls_release_what_they_made(stream, no_gc):
    with communicators(1) as (comm,):
        before = live()
        x = np.zeros((4, 32), np.float16)
        with pytest.raises(AclnnParamError, match="x1 dtype FLOAT16 is not supported"):
            quant_matmul_all_reduce_v4(x, x.T.copy(), np.ones(8, np.float32), group=comm, stream=stream,
                                       out_dtype="float16")
        with pytest.raises(AclnnParamError, match="biasOptional"):
            grouped_matmul_v5([x], [np.zeros((3, 32, 8), np.float16)], bias=[np.zeros(3, np.float16)],
                              group_list=np.array([1, 2, 4]), split_item=3, group_type=0, stream=stream)
        with pytest.raises(aclnn_py.errors.ArgumentError, match="out_dtype"):
            quant_matmul_all_reduce_v4(x.astype(np.int8), np.zeros((32, 8), np.int8), np.ones(8, np.float32),
                                       group=comm, stream=stream, out_dtype="float99")
        stream.synchronize()  # copies into the rejected tensors may have been queued: released now
        assert live() == before


def test_a_plan_owns_its_inputs_until_closed(stream, no_gc):
    with communicators(1) as (comm,):
        before = live()
        rng = np.random.default_rng(1)
        x1 = rng.integers(-8, 8, (4, 32)).astype(np.int8)
        x2 = rng.integers(-8, 8, (32, 8)).astype(np.int8)
        plan = QuantMatmulAllReduceV4Plan(x1, x2, trans_quant_param(np.full(8, 0.5, np.float32)),
                                          group=comm)
        plan.execute(stream)
        plan.execute(stream)
        stream.synchronize()
        out = plan.out
        assert live()[0] == before[0] + 4  # x1, x2, x2Scale and the output
        plan.close()
        assert live()[0] == before[0] + 1  # the caller's output only
        out.close()
        assert live() == before


def test_finalizers_run_by_a_collection_inside_the_mock_do_not_deadlock():
    """A collection can start anywhere, also while the mock holds its memory lock inside
    aclrtMalloc (forced here: the allocation record collects when it is made). The garbage holds
    device buffers and tensors whose finalizers call aclrtFree / aclDestroyTensor: those calls are
    deferred until the mock returns, so the program neither deadlocks nor leaks."""
    code = textwrap.dedent("""
        import gc
        import numpy as np
        from aclnn_py import DeviceBuffer, Device, Runtime, Tensor
        from mock_runtime.core import memory

        class CollectingAllocation(memory.Allocation):
            def __init__(self, *args):
                super().__init__(*args)
                gc.collect()  # under MemoryTable._lock, as an automatic collection could be

        rt = Runtime()
        dev = Device(0)
        gc.disable()
        for i in range(50):
            a = DeviceBuffer(64)
            t = Tensor.from_numpy(np.arange(4, dtype=np.float32))
            a.cycle, t.cycle = a, t  # garbage only the collector frees
        del a, t
        memory.Allocation = CollectingAllocation
        survivor = DeviceBuffer(64)  # aclrtMalloc: the collection runs the 100 finalizers inside it
        memory.Allocation = CollectingAllocation.__base__
        print("LIVE", len(memory.table.live()))
        survivor.close()
        dev.close()
        rt.close()
        print("DONE")
    """)
    result = run_python(code, env={"ACLNN_MOCK_STRICT": "1"}, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "LIVE 1" in result.stdout and "DONE" in result.stdout and "leaked" not in result.stderr
