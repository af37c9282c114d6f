"""aclnn_py.check: failure statuses become the project's exceptions, also when the runtime has no
recent message (aclGetRecentErrMsg returns NULL); their text names the Python step (a Runtime, a
Device on the thread) before the C function, and C functions a runtime message names in Python."""
from __future__ import annotations

import pickle

import pytest

import aclnn_py
from aclnn_py.check import check_acl, check_aclnn, check_hccl, recent_message
from aclnn_py.errors import AclError, AclnnParamError, HcclError

from binding_helpers import mock_library


def test_a_null_recent_message_is_empty(runtime):
    lib = aclnn_py.lib
    lib.aclGetRecentErrMsg()  # consume whatever is pending: CANN hands each message out once
    assert lib.aclGetRecentErrMsg() == aclnn_py.ffi.NULL
    assert recent_message() == ""


def test_failures_without_a_message_still_name_the_code_and_function(runtime):
    aclnn_py.lib.aclGetRecentErrMsg()
    with pytest.raises(AclError) as info:
        check_acl(aclnn_py.lib.ACL_ERROR_INVALID_PARAM, "aclrtSomething")
    assert str(info.value) == "aclrtSomething failed: ACL_ERROR_INVALID_PARAM (100000)"
    with pytest.raises(AclnnParamError, match=r"^aclnnX failed: ACLNN_ERR_PARAM_INVALID \(161002\)$"):
        check_aclnn(161002, "aclnnX")
    with pytest.raises(HcclError) as info:
        check_hccl(aclnn_py.lib.HCCL_E_PARA, "HcclSomething")
    assert info.value.name == "HCCL_E_PARA" and info.value.message  # HcclGetErrorString's text


def test_the_message_of_the_failing_call_is_attached(runtime):
    lib = aclnn_py.lib
    status = lib.aclrtSetDevice(10_000)
    with pytest.raises(AclError) as info:
        check_acl(status, "aclrtSetDevice")
    assert info.value.code == lib.ACL_ERROR_RT_INVALID_DEVICEID
    if info.value.message:  # read from the runtime right after the call, so nothing is left to read
        assert recent_message() == ""
    if mock_library():  # the runtime's own words: the mock's here
        assert "device id 10000" in info.value.message


@pytest.mark.parametrize("status, step", [
    ("ACL_ERROR_UNINITIALIZE", "the runtime is not initialised: open aclnn_py.Runtime() first (aclInit)"),
    ("ACL_ERROR_RT_CONTEXT_NULL", "no device is set on this thread: open aclnn_py.Device(n) on it first, or make a "
     "context current with Device.use() or Context.make_current() (aclrtSetDevice, aclrtSetCurrentContext)"),
])
def test_a_status_with_a_python_remedy_names_the_python_step_first(runtime, status, step):
    code = getattr(aclnn_py.lib, status)
    aclnn_py.lib.aclGetRecentErrMsg()
    with pytest.raises(AclError) as info:
        check_acl(code, "aclrtCreateStream")
    assert str(info.value) == f"aclrtCreateStream failed: {status} ({code}): {step}"
    assert (info.value.code, info.value.step) == (code, step)
    # the runtime's own message stays available, after the step
    error = AclError(code, "aclrtMalloc", "the runtime's words")
    assert str(error) == f"aclrtMalloc failed: {status} ({code}): {step} [runtime: the runtime's words]"
    assert error.message == "the runtime's words"
    assert str(pickle.loads(pickle.dumps(error))) == str(error)


def test_c_functions_a_runtime_message_names_are_named_in_python():
    error = HcclError(15, "HcclCommInitAll", "HcclCommInitAll: ACL is not initialised: call aclInit first")
    assert str(error) == ("HcclCommInitAll failed: HCCL_E_RUNTIME (15): HcclCommInitAll: ACL is not initialised: "
                          "call aclInit first [in Python: aclInit is aclnn_py.Runtime()]")
    error = AclError(507004, "aclrtMemcpy", "race: call aclrtSynchronizeStream on stream 1, or "
                                            "aclrtSynchronizeEvent (not aclrtSynchronizeStreamWithTimeout) first")
    assert str(error).endswith("[in Python: aclrtSynchronizeStream is Stream.synchronize(), "
                               "aclrtSynchronizeEvent is Event.synchronize()]")
    assert error.step == "" and error.message.startswith("race: call aclrtSynchronizeStream")
    assert str(AclError(507004, "aclrtMemcpy", "no C name here")) == \
        "aclrtMemcpy failed: ACL_ERROR_RT_STREAM_NOT_COMPLETE (507004): no C name here"
