"""Races become deterministic reports (issue 9 item 8; mock_runtime.core.races).

Each kind of race -- the host reading what queued work writes, the host
writing or freeing what queued work reads, two streams touching one buffer
without an event -- through the binding and through tests/c/races.cpp, under
ACLNN_MOCK_RACECHECK=error (a status code and a message), warn (a warning and
correct data) and off (correct data, nothing said); correct programs, with
events across two streams, are never reported.
"""
from __future__ import annotations

import numpy as np
import pytest

import aclnn_py
from aclnn_py import DeviceBuffer, Tensor
from aclnn_py.errors import AclError, AclnnRuntimeError, HcclError
from aclnn_py.ops._grouped_matmul import grouped_matmul_v5
from mock_helpers import C_DIR, build_cpp, run_c, run_python

RACE = 507004  # ACL_ERROR_RT_STREAM_NOT_COMPLETE


def _grouped_matmul_inputs():
    x = Tensor.from_numpy(np.ones((8, 16), np.float16))
    w = Tensor.from_numpy(np.ones((16, 8), np.float16))
    out = Tensor.from_numpy(np.full((8, 8), 7, np.float16))
    return x, w, out


def _close(*tensors):
    for t in tensors:
        t.close()


def test_reading_an_output_before_synchronize_is_reported(stream):
    x, w, out = _grouped_matmul_inputs()
    grouped_matmul_v5([x], [w], stream=stream, out=[out])
    with pytest.raises(AclError) as info:
        out.to_numpy()
    message = info.value.message
    assert info.value.code == RACE and info.value.function == "aclrtMemcpy"
    assert "aclrtMemcpy: race: the host reads bytes [0, 128) of the allocation of 128 bytes" in message
    assert "which aclnnGroupedMatmulV5 (out[0]) queued on stream 0x" in message and "writes" in message
    stream.synchronize()  # retires the work: the same read is now fine
    np.testing.assert_array_equal(out.to_numpy(), np.full((8, 8), 16, np.float16))
    _close(x, w, out)


def test_host_writes_and_frees_under_queued_reads_are_reported(stream):
    x, w, out = _grouped_matmul_inputs()
    grouped_matmul_v5([x], [w], stream=stream, out=[out])
    with pytest.raises(AclError, match=r"the host writes .* \(dst\), which aclnnGroupedMatmulV5 \(x\[0\]\) .* reads"):
        x.copy_from_numpy(np.zeros((8, 16), np.float16))
    with pytest.raises(AclError, match=r"aclrtMemset: race: .*weight\[0\]") as info:
        w.buffer.memset(0)
    assert info.value.code == RACE
    with pytest.raises(AclError, match=r"aclrtFree: race: the host frees .* which aclnnGroupedMatmulV5 \(x\[0\]\)"):
        x.buffer.close()
    stream.synchronize()
    np.testing.assert_array_equal(out.to_numpy(), np.full((8, 8), 16, np.float16))  # nothing was disturbed
    assert not x.buffer.closed  # the refused free left the buffer allocated and owned
    x.buffer.close()  # now retired: the same free succeeds
    assert x.buffer.closed
    _close(x, w, out)


def test_stream_ordered_copies_of_the_binding_are_not_reported(stream):
    x = Tensor.from_numpy(np.ones((8, 16), np.float16), stream=stream)  # queued host -> device copies
    w = Tensor.from_numpy(np.ones((16, 8), np.float16), stream=stream)
    out = Tensor.empty((8, 8), "float16")
    grouped_matmul_v5([x], [w], stream=stream, out=[out])
    host = np.zeros((8, 8), np.float16)
    out.buffer.copy_to_host(host, stream=stream)  # device -> host, ordered on the same stream
    stream.synchronize()
    np.testing.assert_array_equal(host, np.full((8, 8), 16, np.float16))
    _close(x, w, out)


def test_two_streams_need_an_event(device):
    with aclnn_py.Stream() as s1, aclnn_py.Stream() as s2, aclnn_py.Event() as event:
        with DeviceBuffer(256) as a, DeviceBuffer(256) as b:
            a.memset(3, stream=s1)
            with pytest.raises(AclError) as info:
                b.copy_from(a, stream=s2)
            message = info.value.message
            assert info.value.code == RACE and info.value.function == "aclrtMemcpyAsync"
            assert "aclrtMemcpyAsync on stream 0x" in message and "it reads bytes [0, 256)" in message
            assert "which aclrtMemsetAsync (devPtr) queued on stream 0x" in message
            assert "no event orders the two" in message
            event.record(s1)
            s2.wait_event(event)
            b.copy_from(a, stream=s2)  # ordered now
            s2.synchronize()
            assert (b.to_numpy() == 3).all()
            s1.synchronize()


def test_an_operator_on_another_stream_fails_its_launch(device):
    x, w, out = _grouped_matmul_inputs()
    with aclnn_py.Stream() as s1, aclnn_py.Stream() as s2:
        x.buffer.memset(0, stream=s1)
        with pytest.raises(AclnnRuntimeError, match=r"aclnnGroupedMatmulV5 on stream .* race: it reads .* \(x\[0\]\)") as info:
            grouped_matmul_v5([x], [w], stream=s2, out=[out])
        assert info.value.code == 361001 and info.value.function == "aclnnGroupedMatmulV5"
        s1.synchronize()
        grouped_matmul_v5([x], [w], stream=s2, out=[out])  # s1's work is retired: no race
        s2.synchronize()
    np.testing.assert_array_equal(out.to_numpy(), np.zeros((8, 8), np.float16))
    _close(x, w, out)


def test_event_synchronize_retires_what_the_event_covers(device):
    with aclnn_py.Stream() as s1, aclnn_py.Stream() as s2, aclnn_py.Event() as e1, aclnn_py.Event() as e2:
        with DeviceBuffer(64) as a, DeviceBuffer(64) as b:
            a.memset(9, stream=s1)
            e1.record(s1)
            s2.wait_event(e1)
            b.copy_from(a, stream=s2)
            e2.record(s2)
            e2.synchronize()  # covers s2 up to e2, and s1 up to e1 through the wait
            assert (a.to_numpy() == 9).all() and (b.to_numpy() == 9).all()


def test_an_hccl_collective_racing_another_stream_fails_with_hccl_e_runtime(device):
    from aclnn_py import hccl

    comm, = hccl.init_all([0])
    try:
        with aclnn_py.Stream() as s1, aclnn_py.Stream() as s2, aclnn_py.Event() as event:
            with DeviceBuffer(64) as send, DeviceBuffer(64) as recv:
                send.memset(1, stream=s1)
                with pytest.raises(HcclError, match=r"HcclAllReduce .* race: it reads .* \(sendBuf\)") as info:
                    comm.all_reduce(send, recv, 16, "float32", stream=s2)
                assert info.value.code == aclnn_py.lib.HCCL_E_RUNTIME
                event.record(s1)
                s2.wait_event(event)
                comm.all_reduce(send, recv, 16, "float32", stream=s2)
                s2.synchronize()
                s1.synchronize()
                np.testing.assert_array_equal(recv.to_numpy(), send.to_numpy())
    finally:
        comm.close()


RACY_PROGRAM = """
import numpy as np, aclnn_py
from aclnn_py import Tensor
from aclnn_py.ops._grouped_matmul import grouped_matmul_v5
with aclnn_py.Runtime(), aclnn_py.Device(0), aclnn_py.Stream() as stream:
    x = Tensor.from_numpy(np.ones((8, 16), np.float16))
    w = Tensor.from_numpy(np.ones((16, 8), np.float16))
    out = Tensor.from_numpy(np.full((8, 8), 7, np.float16))
    for _ in range(3):
        grouped_matmul_v5([x], [w], stream=stream, out=[out])
        print("early", sorted(set(out.to_numpy().ravel().tolist())))  # no synchronize: a race
    stream.synchronize()
    for t in (x, w, out):
        t.close()
"""


@pytest.mark.parametrize("mode", ["warn", "off"])
def test_warn_and_off_make_the_access_wait_for_the_work(mode):
    result = run_python(RACY_PROGRAM, env={"ACLNN_MOCK_RACECHECK": mode})
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("early [16.0]") == 3  # never garbage: the read waited for the operator
    warnings = result.stderr.count("[aclnn-py mock] warning (ACLNN_MOCK_RACECHECK=warn; the access waits")
    assert warnings == (3 if mode == "warn" else 0)
    if mode == "warn":
        assert "aclrtMemcpy: race: the host reads" in result.stderr and "aclnnGroupedMatmulV5 (out[0])" in result.stderr


def test_a_bad_racecheck_value_fails_acl_init():
    result = run_python("import aclnn_py\ntry:\n    aclnn_py.Runtime()\nexcept aclnn_py.AclError as e:\n"
                        "    print(e.code, e.message)", env={"ACLNN_MOCK_RACECHECK": "loud"})
    assert "100000 aclInit: ACLNN_MOCK_RACECHECK='loud' must be one of error, warn, off" in result.stdout


# --------------------------------------------------------------------------- through C

@pytest.fixture(scope="module")
def program(tmp_path_factory, mock_libdir):
    return build_cpp([C_DIR / "races.cpp"], tmp_path_factory.mktemp("races") / "races", mock_libdir)


C_REPORTS = {  # mode: {case: (error-mode status, fragment)}
    "host_read": {"memcpy_d2h_before_sync": (RACE, "aclrtMemcpy: race: the host reads bytes [0, 128)")},
    "host_write": {"memcpy_h2d_before_sync": (RACE, "which aclnnGroupedMatmulV5 (x[0]) queued on stream"),
                   "memset_before_sync": (RACE, "aclrtMemset: race: the host writes")},
    "free": {"free_before_sync": (RACE, "aclrtFree: race: the host frees")},
    "streams": {"copy_on_other_stream": (RACE, "which aclrtMemsetAsync (devPtr) queued on stream"),
                "operator_on_other_stream": (361001, "aclnnGroupedMatmulV5 on stream")},
}
C_VALUES = {  # mode: {value: (error mode, warn/off mode)}
    "host_read": {"early": ("0000", "4c00"), "late": ("4c00", "4c00")},
    "host_write": {"out": ("4c00", "4c00")},
    "free": {"out": ("4c00", "4c00")},
    "streams": {"out": ("7777", "0000")},  # error: the operator never ran; warn/off: it ran after the memset
}


@pytest.mark.parametrize("check", ["error", "warn", "off"])
@pytest.mark.parametrize("mode", sorted(C_REPORTS))
def test_c_races(program, mock_libdir, mode, check):
    cases, values, stderr = run_c(program, mock_libdir, mode, env={"ACLNN_MOCK_RACECHECK": check})
    for name, (status, fragment) in C_REPORTS[mode].items():
        if check == "error":
            assert cases[name][0] == status and fragment in cases[name][1], (name, cases[name])
        else:
            assert cases[name][0] == 0, (name, cases[name])
    for name, (error_value, safe_value) in C_VALUES[mode].items():
        assert values["value " + name] == (error_value if check == "error" else safe_value), (name, values)
    warned = stderr.count("[aclnn-py mock] warning (ACLNN_MOCK_RACECHECK=warn")
    assert (warned > 0) == (check == "warn"), stderr


@pytest.mark.parametrize("check", ["error", "warn"])
def test_c_correct_program_with_events_is_not_reported(program, mock_libdir, check):
    cases, _, stderr = run_c(program, mock_libdir, "events", env={"ACLNN_MOCK_RACECHECK": check})
    assert all(status == 0 for status, _ in cases.values()), cases
    assert "warning" not in stderr
