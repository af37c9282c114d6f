"""A collection that runs the binding's finalizers while the mock is busy (its locks held) defers
the calls they make instead of deadlocking."""
from __future__ import annotations

import sys
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import run_python  # noqa: E402


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
