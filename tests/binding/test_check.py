"""aclnn_py.check: failure statuses become the project's exceptions, also when the runtime has no
recent message (aclGetRecentErrMsg returns NULL)."""
from __future__ import annotations

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
