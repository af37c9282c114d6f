"""The mock runtime's own answers, through the binding and C: it is the backend under test,
its SoC and device count come from ACLNN_MOCK_*, misuse (copies outside an allocation, use after
free, double free, stale handles, a re-run single-use executor) is reported instead of crashing,
leaks are reported at aclFinalize (an error under ACLNN_MOCK_STRICT=1), the garbage collector
frees device buffers, and a C++ program runs on it."""
from __future__ import annotations

import gc
import re
import threading
import weakref

import numpy as np
import pytest

from mock_helpers import C_DIR, build_cpp, run_program, run_python

import aclnn_py
from aclnn_py import AclError, AclnnError, AclnnParamError, DeviceBuffer, Tensor, ffi
from aclnn_py.check import check_acl, check_aclnn
from aclnn_py.errors import ArgumentError


def _trans_quant_param_phase1_raw(scale_handle, out: Tensor):
    lib = aclnn_py.lib
    size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
    check_aclnn(lib.aclnnTransQuantParamV2GetWorkspaceSize(scale_handle, ffi.NULL, out.handle, size, executor),
                "aclnnTransQuantParamV2GetWorkspaceSize")
    return int(size[0]), executor[0]


def _trans_quant_param_phase1(scale: Tensor, out: Tensor):
    return _trans_quant_param_phase1_raw(scale.handle, out)


def live_allocations() -> int:
    from mock_runtime.core.memory import table

    return len(table.live())


def test_backend_is_the_mock(runtime):
    assert aclnn_py.backend() == "mock"
    assert runtime.soc_name.startswith("Ascend910B")
    assert runtime.device_count == 8


def test_info_command_reports_backend_soc_and_devices():
    result = run_python("import sys; from aclnn_py.__main__ import main; sys.exit(main(['info']))",
                        env={"ACLNN_MOCK_DEVICE_COUNT": "4", "ACLNN_MOCK_SOC": "Ascend950PR"})
    assert result.returncode == 0, result.stderr
    rows = dict(re.split(r" {2,}", line, maxsplit=1) for line in result.stdout.splitlines())
    assert (rows["backend"], rows["SoC"], rows["devices"]) == ("mock", "Ascend950PR", "4")


def test_python_programs_are_told_the_python_step(runtime):
    """The mock's messages are C's ("call aclInit first"); what the binding raises names the
    Python step first and the runtime's words after it."""
    program = """
import aclnn_py
from aclnn_py import hccl
for attempt in (lambda: aclnn_py.Device(0), lambda: hccl.init_all([0, 1])):
    try:
        attempt()
    except (aclnn_py.AclError, aclnn_py.HcclError) as error:
        print(error)
"""
    result = run_python(program)
    assert result.returncode == 0, result.stderr
    device, communicator = result.stdout.splitlines()
    assert device == ("aclrtSetDevice failed: ACL_ERROR_UNINITIALIZE (100001): the runtime is not initialised: open "
                      "aclnn_py.Runtime() first (aclInit) [runtime: ACL is not initialised: call aclInit first]")
    assert communicator.startswith("HcclCommInitAll failed: HCCL_E_RUNTIME (15): ")
    assert communicator.endswith("call aclInit first [in Python: aclInit is aclnn_py.Runtime()]")
    errors = []

    def without_a_device():
        try:
            aclnn_py.Stream()
        except AclError as error:
            errors.append(error)

    thread = threading.Thread(target=without_a_device)
    thread.start()
    thread.join()
    assert str(errors[0]).startswith("aclrtCreateStream failed: ACL_ERROR_RT_CONTEXT_NULL (107002): no device is set "
                                     "on this thread: open aclnn_py.Device(n) on it first")
    assert errors[0].message == "no current context on this thread: call aclrtSetDevice or aclrtSetCurrentContext first"


def test_cann_backend_without_cann_lists_paths_tried():
    result = run_python("import aclnn_py; aclnn_py.backend()",
                        env={"ACLNN_PY_BACKEND": "cann", "ASCEND_HOME_PATH": "/nonexistent/ascend", "ACLNN_PY_LIB_DIR": ""})
    assert result.returncode != 0
    assert "/nonexistent/ascend/lib64/libascendcl.so (from ASCEND_HOME_PATH)" in result.stderr
    assert "set_env.sh" in result.stderr


@pytest.mark.parametrize("size", [4096, 4 << 20])  # a heap array, and a mapping of its own
def test_fresh_device_memory_reads_as_zeros_even_where_freed_memory_was(device, size):
    """The mock's documented choice: never garbage, even when the host recycles freed memory."""
    for _ in range(3):
        buf = DeviceBuffer(size)
        assert not buf.to_numpy(np.uint8).any()
        buf.copy_from_host(np.full(size, 0xA5, np.uint8))
        assert (buf.to_numpy(np.uint8) == 0xA5).all()
        buf.close()


def test_copy_outside_an_allocation_is_reported(device):
    with DeviceBuffer(64) as buf:
        lib = aclnn_py.lib
        host = np.zeros(32, np.uint8)
        status = lib.aclrtMemcpy(ffi.cast("void *", host.ctypes.data), 32, ffi.cast("char *", buf.ptr) + 48, 32,
                                 lib.ACL_MEMCPY_DEVICE_TO_HOST)
        with pytest.raises(AclError) as info:
            check_acl(status, "aclrtMemcpy")
        assert info.value.code == 107000
        assert "bytes [48, 80) are outside the allocation of 64 bytes" in info.value.message


def test_use_after_free_and_double_free_are_reported(device):
    lib = aclnn_py.lib
    buf = DeviceBuffer(64)
    ptr = buf.ptr
    buf.close()
    host = np.zeros(8, np.uint8)
    with pytest.raises(AclError, match="use after free"):
        check_acl(lib.aclrtMemcpy(ffi.cast("void *", host.ctypes.data), 8, ptr, 8, lib.ACL_MEMCPY_DEVICE_TO_HOST), "aclrtMemcpy")
    with pytest.raises(AclError, match="double free") as info:
        check_acl(lib.aclrtFree(ptr), "aclrtFree")
    assert info.value.code == 207002
    buf.close()  # closing twice through the object is a no-op


def test_wrong_copy_kind_is_reported(device):
    lib = aclnn_py.lib
    with DeviceBuffer(16) as buf:
        host = np.zeros(16, np.uint8)
        status = lib.aclrtMemcpy(buf.ptr, 16, ffi.cast("void *", host.ctypes.data), 16, lib.ACL_MEMCPY_DEVICE_TO_HOST)
        with pytest.raises(AclError, match="needs a device src"):
            check_acl(status, "aclrtMemcpy")


def test_recent_error_message_is_per_thread(device):
    lib = aclnn_py.lib
    assert lib.aclrtFree(ffi.cast("void *", 0x1234)) == 207002
    other: list = []
    t = threading.Thread(target=lambda: other.append(lib.aclGetRecentErrMsg() == ffi.NULL))
    t.start()
    t.join()
    assert other == [True]
    assert b"0x1234" in ffi.string(lib.aclGetRecentErrMsg())


def test_buffers_are_freed_by_the_garbage_collector(device):
    before = live_allocations()
    buf = DeviceBuffer(128)
    ref = weakref.ref(buf)
    assert live_allocations() == before + 1
    del buf
    gc.collect()
    assert ref() is None
    assert live_allocations() == before


def test_tensor_list_owns_its_members(device):
    lib = aclnn_py.lib
    with DeviceBuffer(64) as buf:
        shape = ffi.new("int64_t[]", [4])
        handles = [lib.aclCreateTensor(shape, 1, lib.ACL_FLOAT, ffi.NULL, 0, lib.ACL_FORMAT_ND, shape, 1, buf.ptr)
                   for _ in range(2)]
        tensor_list = lib.aclCreateTensorList(ffi.new("aclTensor *[]", handles), 2)
        assert lib.aclDestroyTensorList(tensor_list) == 0
        with pytest.raises(AclnnParamError, match="already destroyed"):
            check_aclnn(lib.aclDestroyTensor(handles[0]), "aclDestroyTensor")


def test_leaks_are_reported_and_strict_mode_fails():
    code = (
        "import aclnn_py, numpy as np\n"
        "rt = aclnn_py.Runtime(); dev = aclnn_py.Device(0)\n"
        "buf = aclnn_py.DeviceBuffer(100)\n"
        "try:\n    rt.close()\nexcept aclnn_py.AclError as e:\n    print('FAILED', e.code)\n"
    )
    relaxed = run_python(code)
    assert "leaked device buffer of 100 bytes" in relaxed.stderr
    assert "FAILED" not in relaxed.stdout
    strict = run_python(code, env={"ACLNN_MOCK_STRICT": "1"})
    assert "FAILED 148051" in strict.stdout


def test_device_count_and_soc_come_from_the_environment():
    result = run_python("import aclnn_py; rt = aclnn_py.Runtime(); print(rt.device_count, rt.soc_name)",
                        env={"ACLNN_MOCK_DEVICE_COUNT": "16", "ACLNN_MOCK_SOC": "Ascend910_9391"})
    assert result.stdout.split() == ["16", "Ascend910_9391"]
    bad = run_python("import aclnn_py; aclnn_py.Runtime()", env={"ACLNN_MOCK_SOC": "Ascend310P"})
    assert "ACLNN_MOCK_SOC" in bad.stderr and "Ascend310P" in bad.stderr


def test_cpp_program_runs_against_the_mock(tmp_path, mock_libdir):
    program = build_cpp([C_DIR / "runtime_basics.cpp"], tmp_path / "runtime_basics", mock_libdir)
    result = run_program(program, mock_libdir, env={"ACLNN_MOCK_DEVICE_COUNT": "3"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "runtime basics ok" in result.stdout


def test_a_single_use_executor_is_freed_by_its_run(stream):
    lib = aclnn_py.lib
    with Tensor.from_numpy(np.array([1.0, 2.0], np.float32)) as scale, Tensor.empty((2,), np.uint64) as out:
        size, executor = _trans_quant_param_phase1(scale, out)
        check_aclnn(lib.aclnnTransQuantParamV2(ffi.NULL, size, executor, stream.handle), "aclnnTransQuantParamV2")
        stream.synchronize()
        with pytest.raises(AclnnError) as info:  # the executor was freed by its run
            check_aclnn(lib.aclnnTransQuantParamV2(ffi.NULL, size, executor, stream.handle), "aclnnTransQuantParamV2")
        assert "already destroyed" in info.value.message
        assert out.to_numpy().tolist() == [0x3F800000 | 1 << 46, 0x40000000 | 1 << 46]


def test_tensor_outside_its_allocation_fails_the_operator(stream):
    lib = aclnn_py.lib
    with DeviceBuffer(8) as small:  # (the Python layer refuses such a Tensor up front)
        shape = ffi.new("int64_t[]", [4])
        raw = lib.aclCreateTensor(shape, 1, lib.ACL_FLOAT, ffi.NULL, 0, lib.ACL_FORMAT_ND, shape, 1, small.ptr)
        with Tensor.empty((4,), np.uint64) as out:  # refused at GetWorkspaceSize, before any byte is touched
            with pytest.raises(AclnnParamError, match=r"scale \(FLOAT ND tensor .*bytes \[0, 16\) are outside "
                                                      r"the allocation of 8 bytes") as info:
                _trans_quant_param_phase1_raw(raw, out)
            assert info.value.code == 161002
        lib.aclDestroyTensor(raw)


def test_freed_input_fails_the_operator(stream):
    lib = aclnn_py.lib
    buf = DeviceBuffer(16)
    scale = Tensor(buf, (4,), np.float32)
    with Tensor.empty((4,), np.uint64) as out:
        size, executor = _trans_quant_param_phase1(scale, out)
        buf.close()  # freed before the operator runs
        with pytest.raises((AclError, AclnnError), match="use after free"):
            check_aclnn(lib.aclnnTransQuantParamV2(ffi.NULL, size, executor, stream.handle), "aclnnTransQuantParamV2")
            stream.synchronize()
    scale.close()


def test_a_rejected_conversion_allocates_nothing(device):
    from mock_runtime.core.memory import table

    before = len(table.live())
    with pytest.raises(ArgumentError):
        Tensor.from_numpy(np.array([1000]), "int8")
    assert len(table.live()) == before
