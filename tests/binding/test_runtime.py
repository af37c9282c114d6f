"""Runtime, memory, tensor and error semantics of the binding on the mock."""
from __future__ import annotations

import gc
import threading
import weakref
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest
from conftest import build_cpp, run_program, run_python

import aclnn_py
from aclnn_py import AclError, AclnnError, AclnnParamError, DeviceBuffer, Tensor, ffi
from aclnn_py.check import check_acl, check_aclnn

HERE = Path(__file__).parent


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
    assert "backend        mock" in result.stdout
    assert "SoC            Ascend950PR" in result.stdout
    assert "devices        4" in result.stdout


def test_cann_backend_without_cann_lists_paths_tried():
    result = run_python("import aclnn_py; aclnn_py.backend()",
                        env={"ACLNN_PY_BACKEND": "cann", "ASCEND_HOME_PATH": "/nonexistent/ascend", "ACLNN_PY_LIB_DIR": ""})
    assert result.returncode != 0
    assert "/nonexistent/ascend/lib64/libascendcl.so (from ASCEND_HOME_PATH)" in result.stderr
    assert "set_env.sh" in result.stderr


def test_invalid_device_raises_with_code_and_message(runtime):
    with pytest.raises(AclError) as info:
        aclnn_py.Device(99)
    assert info.value.code == aclnn_py.lib.ACL_ERROR_RT_INVALID_DEVICEID == 107001
    assert info.value.function == "aclrtSetDevice"
    assert "device id 99 is not in [0, 8)" in str(info.value)


def test_contexts_are_per_thread(runtime):
    seen = {}

    def worker(device_id: int) -> None:
        with aclnn_py.Context(device_id):
            seen[device_id] = aclnn_py.runtime.current_device()

    threads = [threading.Thread(target=worker, args=(d,)) for d in (2, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {2: 2, 5: 5}


def test_memory_round_trip_sync_and_async(stream):
    data = np.arange(1000, dtype=np.float32)
    with DeviceBuffer.from_numpy(data) as a, DeviceBuffer(data.nbytes) as b:
        b.copy_from(a, stream=stream)
        out = np.zeros_like(data)
        b.copy_to_host(out, stream=stream)
        stream.synchronize()
        np.testing.assert_array_equal(out, data)
        b.memset(0xFF, 8)
        assert b.to_numpy(np.uint8, (12,)).tolist() == [255] * 8 + list(data.view(np.uint8)[8:12])


def test_stream_runs_in_order(stream):
    with DeviceBuffer(4 * 64) as buf:
        host = np.zeros(64, np.int32)
        for value in range(1, 30):
            buf.copy_from_host(np.full(64, value, np.int32), stream=stream)
        buf.copy_to_host(host, stream=stream)
        stream.synchronize()
        assert (host == 29).all()


def test_synchronize_with_timeout_reports_busy_stream(stream):
    big = 64 << 20
    with DeviceBuffer(big) as a, DeviceBuffer(big) as b:
        for _ in range(8):
            b.copy_from(a, stream=stream)
        with pytest.raises(AclError) as info:
            stream.synchronize(timeout_ms=0)
        assert info.value.code == aclnn_py.lib.ACL_ERROR_RT_STREAM_SYNC_TIMEOUT == 507046
        assert "still running after 0 ms" in info.value.message
        stream.synchronize(timeout_ms=-1)


def test_events_order_streams_and_time(device):
    with aclnn_py.Stream() as s1, aclnn_py.Stream() as s2, aclnn_py.Event() as start, aclnn_py.Event() as end:
        with DeviceBuffer(4 << 20) as buf:
            start.record(s1)
            buf.memset(7, stream=s1)
            end.record(s1)
            s2.wait_event(end)
            host = np.zeros(16, np.uint8)
            buf.copy_to_host(host, stream=s2)
            s2.synchronize()
            assert (host == 7).all()
            end.synchronize()
            assert start.elapsed_ms(end) >= 0.0


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


def test_tensor_metadata_reaches_c(device):
    with Tensor.from_numpy(np.zeros((3, 5), np.float16)) as t:
        lib = aclnn_py.lib
        dims, count = ffi.new("int64_t **"), ffi.new("uint64_t *")
        check_aclnn(lib.aclGetViewShape(t.handle, dims, count), "aclGetViewShape")
        assert [dims[0][i] for i in range(count[0])] == [3, 5]
        dtype = ffi.new("aclDataType *")
        check_aclnn(lib.aclGetDataType(t.handle, dtype), "aclGetDataType")
        assert dtype[0] == lib.ACL_FLOAT16 == 1
        view = t.T
        strides, count = ffi.new("int64_t **"), ffi.new("uint64_t *")
        check_aclnn(lib.aclGetViewStrides(view.handle, strides, count), "aclGetViewStrides")
        assert [strides[0][i] for i in range(count[0])] == [1, 5]
        assert view.desc.is_transposed()
        view.close()


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


def test_python_tensor_list_keeps_tensors_usable(device):
    a = Tensor.from_numpy(np.ones(4, np.float32))
    with aclnn_py.TensorList([a, a]) as tl:
        assert len(tl) == 2
    np.testing.assert_array_equal(a.to_numpy(), np.ones(4, np.float32))
    a.close()


@pytest.mark.parametrize(
    "values, dtype",
    [
        (np.array([[1.5, -2.25, 3.0]], np.float32), None),
        (np.array([1, -7, 127, -128], np.int8), None),
        (np.array([65504, -0.5], np.float16), None),
        (np.array([1.5, -3.0, 0.0078125], ml_dtypes.bfloat16), None),
        (np.array([448, -0.5, 1.75], ml_dtypes.float8_e4m3fn), None),
        (np.array([57344, -0.5], ml_dtypes.float8_e5m2), None),
        (np.array([[0.5, -6, 3, 0]], ml_dtypes.float4_e2m1fn), None),
        (np.array([[1, -8, 7, 0, -1, 3]], ml_dtypes.int4), None),
        (np.array([0x08, 0x6E, 0x80, 0x01], np.uint8), "hifloat8"),
        (np.array([0x7F, 0x00, 0xFE], np.uint8).view(ml_dtypes.float8_e8m0fnu), None),
        (np.array([2**63, 1], np.uint64), None),
        (np.array([True, False]), None),
    ],
)
def test_dtypes_round_trip_through_the_device(device, values, dtype):
    with Tensor.from_numpy(values, dtype) as t:
        back = t.to_numpy()
    assert back.dtype == values.dtype
    np.testing.assert_array_equal(back.view(np.uint8), values.view(np.uint8))


def test_four_bit_values_are_packed_two_per_byte(device):
    values = np.array([1, -1, 7, -8], ml_dtypes.int4)
    with Tensor.from_numpy(values) as t:
        assert t.buffer.to_numpy(np.uint8, (2,)).tolist() == [0xF1, 0x87]


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
    program = build_cpp([HERE / "c" / "runtime_basics.cpp"], tmp_path / "runtime_basics", mock_libdir)
    result = run_program(program, mock_libdir, env={"ACLNN_MOCK_DEVICE_COUNT": "3"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "runtime basics ok" in result.stdout


def _trans_quant_param_phase1_raw(scale_handle, out: Tensor):
    lib = aclnn_py.lib
    size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
    check_aclnn(lib.aclnnTransQuantParamV2GetWorkspaceSize(scale_handle, ffi.NULL, out.handle, size, executor),
                "aclnnTransQuantParamV2GetWorkspaceSize")
    return int(size[0]), executor[0]


def _trans_quant_param_phase1(scale: Tensor, out: Tensor):
    return _trans_quant_param_phase1_raw(scale.handle, out)


def test_executors_are_single_use_unless_repeatable(stream):
    lib = aclnn_py.lib
    with Tensor.from_numpy(np.array([1.0, 2.0], np.float32)) as scale, Tensor.empty((2,), np.uint64) as out:
        size, executor = _trans_quant_param_phase1(scale, out)
        check_aclnn(lib.aclnnTransQuantParamV2(ffi.NULL, size, executor, stream.handle), "aclnnTransQuantParamV2")
        stream.synchronize()
        with pytest.raises(AclnnError) as info:  # the executor was freed by its run
            check_aclnn(lib.aclnnTransQuantParamV2(ffi.NULL, size, executor, stream.handle), "aclnnTransQuantParamV2")
        assert "already destroyed" in info.value.message
        size, executor = _trans_quant_param_phase1(scale, out)
        check_aclnn(lib.aclSetAclOpExecutorRepeatable(executor), "aclSetAclOpExecutorRepeatable")
        for _ in range(2):
            check_aclnn(lib.aclnnTransQuantParamV2(ffi.NULL, size, executor, stream.handle), "aclnnTransQuantParamV2")
        stream.synchronize()
        check_aclnn(lib.aclDestroyAclOpExecutor(executor), "aclDestroyAclOpExecutor")
        assert out.to_numpy().tolist() == [0x3F800000 | 1 << 46, 0x40000000 | 1 << 46]


def test_tensor_outside_its_allocation_fails_the_operator(stream):
    lib = aclnn_py.lib
    with DeviceBuffer(8) as small:
        with pytest.raises(ValueError, match=r"needs bytes \[0, 16\) but the buffer has 8"):
            Tensor(small, (4,), np.float32)  # the Python layer refuses it up front
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
