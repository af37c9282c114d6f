"""aclnnMm, aclnnMatmul, aclnnCast and aclnnPermute on the mock: a C++ program written as CANN's doc
samples are (tests/mock/c/neighbour_ops_doc_style.cpp, linked with the split library names of the
ops repositories' examples) on Atlas A2 and Ascend 950; every access proven inside live memory at
GetWorkspaceSize and again at execute; what the mock cannot compute said so."""
from __future__ import annotations

import numpy as np
import pytest

import aclnn_py
from aclnn_py import DeviceBuffer, Tensor, ffi
from aclnn_py.check import recent_message
from mock_helpers import C_DIR, build_cpp, run_program

#: The link line of the ops repositories' examples: split operator libraries before the runtime's.
SPLIT_LINK = ["-lopapi_nn", "-lopapi_math", "-lascendcl", "-lnnopbase"]


@pytest.fixture(scope="module")
def doc_style(tmp_path_factory, mock_libdir):
    out = tmp_path_factory.mktemp("neighbour_ops") / "neighbour_ops_doc_style"
    return build_cpp([C_DIR / "neighbour_ops_doc_style.cpp"], out, mock_libdir, "-std=c++11", "-pedantic",
                     *SPLIT_LINK)


@pytest.mark.parametrize("soc", ["Ascend910B4", "Ascend950PR"])
def test_the_doc_style_program(doc_style, mock_libdir, soc):
    result = run_program(doc_style, mock_libdir, {"ACLNN_MOCK_SOC": soc, "ACLNN_MOCK_STRICT": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines == ["aclnnMm: result[0] is 32.000000, 0 of 256 wrong",
                     "aclnnMatmul: out is 0 -5 -5 0 10 0",
                     "aclnnCast: 7.900000 -> 7.900000 and 7, -7.900000 -> -7",
                     "aclnnPermute: out[1][0][2] is 9",
                     "aclnnTransMatmulWeight + aclnnMm: result[0] is 32.000000, 0 of 256 wrong",
                     "documented codes: 161002 and 161001", "ALL OK"], result.stdout
    assert "leaked" not in result.stderr, result.stderr


def _phase1(function, *args):
    size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
    return getattr(aclnn_py.lib, function)(*args, size, executor), size[0], executor[0]


def test_memory_is_proven_at_both_phases(device, stream):
    """Phase 1 refuses an out in freed memory (naming it); memory freed between the phases fails the
    execute call (161002 naming the tensor) and nothing runs."""
    lib = aclnn_py.lib
    with Tensor.from_numpy(np.ones((4, 8), np.float32)) as self, Tensor.from_numpy(np.ones((8, 2), np.float32)) as mat2:
        gone = DeviceBuffer(64)
        dangling = gone.ptr
        gone.close()
        dims = ffi.new("int64_t[]", [4, 2])
        out = lib.aclCreateTensor(dims, 2, lib.ACL_FLOAT, ffi.NULL, 0, lib.ACL_FORMAT_ND, dims, 2, dangling)
        try:
            status, _, _ = _phase1("aclnnMmGetWorkspaceSize", self.handle, mat2.handle, out, 0)
            assert status == 161002 and "out" in recent_message()
        finally:
            lib.aclDestroyTensor(out)
        victim = Tensor.from_numpy(np.ones((4, 8), np.float32))
        with Tensor.empty((4, 8), "float16") as cast_out:
            status, size, executor = _phase1("aclnnCastGetWorkspaceSize", victim.handle, lib.ACL_FLOAT16,
                                             cast_out.handle)
            assert status == 0 and size == 0
            victim.buffer.close()  # the input's memory goes before the launch
            assert lib.aclnnCast(ffi.NULL, 0, executor, stream.handle) == 161002
            assert "self" in recent_message()
            victim.close()


@pytest.mark.aclnn_soc("Ascend950PR")
def test_what_the_mock_cannot_compute_is_said(stream):
    """Ascend 950 converts COMPLEX32 and FLOAT4_E1M2 (CANN's rules accept both calls); aclnn-py has no
    host values of them: 161002 naming the type."""
    lib = aclnn_py.lib
    dims = ffi.new("int64_t[]", [4])
    with DeviceBuffer(64) as buf, Tensor.empty((4,), "float16") as f16:
        c32 = lib.aclCreateTensor(dims, 1, lib.ACL_COMPLEX32, ffi.NULL, 0, lib.ACL_FORMAT_ND, dims, 1, buf.ptr)
        e1m2 = lib.aclCreateTensor(dims, 1, lib.ACL_FLOAT4_E1M2, ffi.NULL, 0, lib.ACL_FORMAT_ND, dims, 1, buf.ptr)
        try:
            for source, target, out, named in ((c32, lib.ACL_FLOAT16, f16.handle, "self COMPLEX32"),
                                               (f16.handle, lib.ACL_FLOAT4_E1M2, e1m2, "dtype FLOAT4_E1M2")):
                status, _, _ = _phase1("aclnnCastGetWorkspaceSize", source, target, out)
                assert status == 161002
                assert f"{named}: the mock cannot compute this type" in recent_message()
        finally:
            lib.aclDestroyTensor(c32)
            lib.aclDestroyTensor(e1m2)
