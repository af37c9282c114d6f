"""Runtime, memory, tensor and error semantics of the binding: devices, contexts per thread,
copies, streams, events, tensor metadata through the C API, every dtype through the device,
executors made repeatable."""
from __future__ import annotations

import subprocess
import sys
import threading

import ml_dtypes
import numpy as np
import pytest

import aclnn_py
from aclnn_py import AclError, DeviceBuffer, Tensor, ffi
from aclnn_py.check import check_aclnn
from aclnn_py.runtime import device_count
from aclnn_py.semantics.headers import load
from aclnn_py.testing.soc import current

from binding_helpers import mock_library, skip_unless_devices


def test_invalid_device_raises_with_code_and_message(runtime):
    with pytest.raises(AclError) as info:
        aclnn_py.Device(99)
    assert info.value.code == aclnn_py.lib.ACL_ERROR_RT_INVALID_DEVICEID == 107001
    assert info.value.function == "aclrtSetDevice"
    if mock_library():  # the runtime's own words: the mock's here
        assert "99" in info.value.message


def test_contexts_are_per_thread(runtime):
    skip_unless_devices(6, "contexts on devices 2 and 5")
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


def _trans_quant_param_phase1(scale: Tensor, out: Tensor):
    lib = aclnn_py.lib
    size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
    check_aclnn(lib.aclnnTransQuantParamV2GetWorkspaceSize(scale.handle, ffi.NULL, out.handle, size, executor),
                "aclnnTransQuantParamV2GetWorkspaceSize")
    return int(size[0]), executor[0]


def test_a_repeatable_executor_runs_until_destroyed(stream):
    lib = aclnn_py.lib
    with Tensor.from_numpy(np.array([1.0, 2.0], np.float32)) as scale, Tensor.empty((2,), np.uint64) as out:
        size, executor = _trans_quant_param_phase1(scale, out)
        check_aclnn(lib.aclSetAclOpExecutorRepeatable(executor), "aclSetAclOpExecutorRepeatable")
        for _ in range(2):
            check_aclnn(lib.aclnnTransQuantParamV2(ffi.NULL, size, executor, stream.handle), "aclnnTransQuantParamV2")
        stream.synchronize()
        check_aclnn(lib.aclDestroyAclOpExecutor(executor), "aclDestroyAclOpExecutor")
        assert out.to_numpy().tolist() == [0x3F800000 | 1 << 46, 0x40000000 | 1 << 46]


def test_a_tensor_beyond_its_buffer_is_refused_up_front(device):
    with DeviceBuffer(8) as small:
        with pytest.raises(ValueError, match=r"needs bytes \[0, 16\) but the buffer has 8"):
            Tensor(small, (4,), np.float32)


def test_the_recent_error_message_is_per_thread(runtime):
    lib = aclnn_py.lib
    assert lib.aclrtSetDevice(10_000) == lib.ACL_ERROR_RT_INVALID_DEVICEID
    other: list = []
    t = threading.Thread(target=lambda: other.append(lib.aclGetRecentErrMsg() == ffi.NULL))
    t.start()
    t.join()
    message = lib.aclGetRecentErrMsg()
    if message == ffi.NULL:  # CANN need not word every failure; the mock does
        assert not mock_library()
        pytest.skip("the runtime left no message for aclrtSetDevice(10000) on Ascend hardware: "
                    "nothing to tell the threads apart")
    assert ffi.string(message)
    assert other == [True]  # the other thread does not see this thread's message


def _fresh_process(code: str) -> list[str]:
    """Run ``code`` in a new interpreter (process-wide state: before aclInit, after aclFinalize); its
    stdout lines."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.split()


def test_the_soc_name_needs_no_acl_init(runtime):
    """CANN's aclrtGetSocName answers before aclInit (the runtime repository's get_soc_version tool
    relies on it); the same name as once initialised."""
    before = _fresh_process("import aclnn_py\nfrom aclnn_py import ffi\nname = aclnn_py.lib.aclrtGetSocName()\n"
                            "print(ffi.string(name).decode() if name != ffi.NULL else 'NULL')")
    assert before == [current()]


def test_reset_device_after_finalize(runtime):
    """CANN's aclFinalize does not reset the devices: an aclrtResetDevice after it undoes the
    aclrtSetDevice before it (hcomm's one_device_per_pthread sample ends so); a second one has no
    aclrtSetDevice left to undo: ACL_ERROR_RT_CONTEXT_RELEASE_ERROR."""
    codes = _fresh_process("import aclnn_py\nfrom aclnn_py import ffi\nlib = aclnn_py.lib\n"
                           "print(lib.aclInit(ffi.NULL), lib.aclrtSetDevice(0), lib.aclFinalize(), "
                           "lib.aclrtResetDevice(0), lib.aclrtResetDevice(0))")
    assert [int(c) for c in codes] == [0, 0, 0, 0, load().constants["ACL_ERROR_RT_CONTEXT_RELEASE_ERROR"]]


def test_reset_of_a_device_never_set_is_refused(runtime):
    code = aclnn_py.lib.aclrtResetDevice(device_count() - 1)
    assert code == load().constants["ACL_ERROR_RT_CONTEXT_RELEASE_ERROR"]


@pytest.mark.parametrize("value, code", [
    (1.0, 0x3C00), (-2.0, 0xC000), (0.1, 0x2E66), (65504.0, 0x7BFF),
    (1 + 2.0 ** -11, 0x3C00), (1 + 3 * 2.0 ** -11, 0x3C02),  # ties to even
    (2.0 ** -24, 0x0001), (1.5 * 2.0 ** -25, 0x0001), (2.0 ** -25, 0x0000), (-0.0, 0x8000),
    (65520.0, 0x7BFF), (1e9, 0x7BFF), (float("inf"), 0x7BFF), (float("-inf"), 0xFBFF),  # saturated
    (float("nan"), 0x7BFF),
])
def test_float_to_float16_rounds_to_even_and_saturates(runtime, value, code):
    """aclFloatToFloat16 as CANN's runtime computes it (src/acl/aclrt_impl/types/fp16_impl.cpp FloatToFp16):
    round to nearest even, and +-65504 for what fp16 cannot hold, an infinity and a NaN."""
    assert aclnn_py.lib.aclFloatToFloat16(value) == code


@pytest.mark.parametrize("code, value", [
    (0x3C00, 1.0), (0xC000, -2.0), (0x0001, 2.0 ** -24), (0x3555, 0.333251953125), (0x7BFF, 65504.0),
    (0x7C00, 65536.0), (0xFC00, -65536.0), (0x7E00, 98304.0),  # exponent 31: no infinity or NaN (Fp16ToFloat)
])
def test_float16_to_float_keeps_no_infinity(runtime, code, value):
    assert aclnn_py.lib.aclFloat16ToFloat(code) == value


def test_float16_codes_round_trip(runtime):
    """Every 7th finite fp16 code reads as the float16 value NumPy gives and converts back to itself."""
    lib = aclnn_py.lib
    for code in range(0, 0x10000, 7):
        if code & 0x7C00 == 0x7C00:
            continue
        value = lib.aclFloat16ToFloat(code)
        assert value == float(np.uint16(code).view(np.float16)), hex(code)
        assert lib.aclFloatToFloat16(value) == code, hex(code)
