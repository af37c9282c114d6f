"""Names and texts of the mock's HCCL: HcclResult and HcclReduceOp names, HcclGetErrorString's
texts, the ACL runtime error a failed collective reports on its stream, and the error helper."""
from __future__ import annotations

from aclnn_py.semantics import dtypes
from aclnn_py.semantics.headers import load

from mock_runtime.core.errors import C, MockError

#: A failure as the hub reports it: (HcclResult, message).
Error = tuple

_ENUMS = load().enums
RESULT_NAMES = {v: k for k, v in _ENUMS["HcclResult"].items()}
OP_NAMES = {v: k.removeprefix("HCCL_REDUCE_") for k, v in _ENUMS["HcclReduceOp"].items() if v != 255}

#: HcclResult of a failure -> the ACL runtime error its stream task reports.
STREAM_CODE = {
    C["HCCL_E_TIMEOUT"]: C["ACL_ERROR_RT_TASK_TIMEOUT"],
    C["HCCL_E_PARA"]: C["ACL_ERROR_RT_PARAM_INVALID"],
}

ERROR_TEXT = {
    C["HCCL_SUCCESS"]: "success",
    C["HCCL_E_PARA"]: "parameter error",
    C["HCCL_E_PTR"]: "empty (NULL) pointer",
    C["HCCL_E_MEMORY"]: "memory error",
    C["HCCL_E_INTERNAL"]: "internal error",
    C["HCCL_E_NOT_SUPPORT"]: "feature not supported",
    C["HCCL_E_NOT_FOUND"]: "resource not found",
    C["HCCL_E_UNAVAIL"]: "resource unavailable",
    C["HCCL_E_SYSCALL"]: "system call error",
    C["HCCL_E_TIMEOUT"]: "timeout",
    C["HCCL_E_OPEN_FILE_FAILURE"]: "failed to open file",
    C["HCCL_E_TCP_CONNECT"]: "TCP connection failed",
    C["HCCL_E_ROCE_CONNECT"]: "RoCE connection failed",
    C["HCCL_E_TCP_TRANSFER"]: "TCP transfer failed",
    C["HCCL_E_ROCE_TRANSFER"]: "RoCE transfer failed",
    C["HCCL_E_RUNTIME"]: "runtime (ACL) call failed",
    C["HCCL_E_DRV"]: "driver call failed",
    C["HCCL_E_PROFILING"]: "profiling error",
    C["HCCL_E_CCE"]: "CCE error",
    C["HCCL_E_NETWORK"]: "network error",
    C["HCCL_E_AGAIN"]: "try again",
    C["HCCL_E_REMOTE"]: "error on a remote rank",
    C["HCCL_E_SUSPENDING"]: "communicator is suspending",
    C["HCCL_E_OPRETRY_FAIL"]: "operation retry failed",
    C["HCCL_E_OOM"]: "out of memory",
    C["HCCL_E_IN_STATUS"]: "operation not allowed in the current status",
}


def error_text(code: int) -> str:
    """Short English text of an HcclResult (also for values no header names)."""
    text = ERROR_TEXT.get(code)
    if text is None:
        return f"unknown HcclResult {code}"
    return text


def result_name(code: int) -> str:
    return RESULT_NAMES.get(code, f"HcclResult {code}")


def dtype_name(value: int) -> str:
    return dtypes.hccl_label(value)


def op_name(value: int) -> str:
    return OP_NAMES.get(value, f"<unknown HcclReduceOp {value}>")


def fail(code: str, message: str) -> MockError:
    """The error of HcclResult ``code`` (its header name) with ``message``."""
    return MockError(C[code], message)


def rank_list(ranks) -> str:
    """``[0, 2, 3]``: rank ids sorted, for messages."""
    return "[" + ", ".join(str(r) for r in sorted(ranks)) + "]"
