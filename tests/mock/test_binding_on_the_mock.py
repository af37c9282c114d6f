"""The binding driving what only the mock defines: codes and messages the mock chose where CANN
documents none, and behaviour that depends on the mock's timing. (These were binding-tier tests;
tests/binding runs unchanged on an Ascend host, where none of this is promised.)"""
from __future__ import annotations

import numpy as np
import pytest

from binding_helpers import communicators

import aclnn_py
from aclnn_py import AclError, DeviceBuffer, Tensor, ffi
from aclnn_py.check import recent_message
from aclnn_py.ops._grouped_matmul import grouped_matmul_v5


def test_synchronize_with_timeout_reports_busy_stream(stream):
    """Eight 64 MiB copies take the mock far longer than 0 ms (on hardware they may be done)."""
    big = 64 << 20
    with DeviceBuffer(big) as a, DeviceBuffer(big) as b:
        for _ in range(8):
            b.copy_from(a, stream=stream)
        with pytest.raises(AclError) as info:
            stream.synchronize(timeout_ms=0)
        assert info.value.code == aclnn_py.lib.ACL_ERROR_RT_STREAM_SYNC_TIMEOUT == 507046
        assert "still running after 0 ms" in info.value.message
        stream.synchronize(timeout_ms=-1)


def test_a_group_list_the_kernel_cannot_use_fails_the_stream(stream):
    """A device groupList only the kernel reads: decreasing, or with a total beyond M, fails the
    stream with 507015 (ACL_ERROR_RT_AICORE_EXCEPTION) naming it, instead of computing garbage.
    CANN documents no outcome for such a list."""
    rng = np.random.default_rng(20240607)
    x = rng.standard_normal((11, 16)).astype(np.float16)
    w = rng.standard_normal((4, 16, 8)).astype(np.float16)
    with Tensor.empty((11, 8), "float16") as out:
        for values, fragment in (([4, 3, 20, 20], "groupList"), ([2, 5, 9, 12], "exceed")):  # 12 > M = 11
            with Tensor.from_numpy(np.array(values, np.int64)) as group_list:
                grouped_matmul_v5([x], [w], stream=stream, group_list=group_list, split_item=3, group_type=0,
                                  out=[out])
                with pytest.raises(AclError) as info:
                    stream.synchronize()
            assert info.value.code == 507015 and fragment in info.value.message, info.value


def test_an_executor_belongs_to_its_version(stream):
    """A V2 executor run by the V3 execute function is the mock's 161002 naming its maker."""
    lib = aclnn_py.lib
    with communicators(1) as (comm,):
        tensors = [Tensor.empty((16, 64), "int8"), Tensor.empty((64, 32), "int8"), Tensor.empty((32,), "uint64"),
                   Tensor.empty((16, 32), "float16")]
        x1, x2, dequant, out = (t.handle for t in tensors)
        size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
        try:
            assert lib.aclnnQuantMatmulAllReduceV2GetWorkspaceSize(
                x1, x2, ffi.NULL, ffi.NULL, dequant, ffi.NULL, comm.name.encode(), b"sum", 0, 1, out, size,
                executor) == 0
            status = lib.aclnnQuantMatmulAllReduceV3(stream.workspace(size[0]), size[0], executor[0], stream.handle)
            assert status == 161002
            assert "made by aclnnQuantMatmulAllReduceV2GetWorkspaceSize" in recent_message()
            assert lib.aclDestroyAclOpExecutor(executor[0]) == 0
        finally:
            for t in tensors:
                t.close()
