"""Exceptions for failed CANN calls.

A failed call raises a :class:`StatusError` subclass carrying the status code,
its C name, the C function and the runtime's recent error text
(``aclGetRecentErrMsg``, read right after the failing call on the same
thread; for HCCL also ``HcclGetErrorString``). A bad Python argument raises
:class:`ArgumentError` (a ``ValueError``) naming the parameter, before C is
called. Using a resource after ``close()`` raises :class:`ClosedResourceError` (a
``ValueError``, as I/O on a closed Python file does) naming the resource, before C is
called. Errors pickle, so they cross process boundaries in multi-rank runs.

The text speaks to a Python program: a status whose remedy is a step of the
Python layer (:data:`PYTHON_STEPS`: no ``Runtime()`` open, no ``Device(n)`` on
the thread) leads with that step, the C function in brackets, and the runtime's
own words follow as ``[runtime: ...]``; C functions a runtime message tells to
call are named in Python after it (:data:`PYTHON_NAMES`). Both are read from the
status code and the function names only, so they hold on any runtime; ``code``,
``name``, ``function`` and ``message`` (the runtime's text) stay as they were.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Iterator

from .semantics.status import ACL_NAMES, ACLNN_NAMES, HCCL_NAMES, RANK_COUNT, CODES as _CONSTANTS, Violation
from .semantics.status import ArgumentError  # noqa: F401 -- one of the errors this module gives the binding


#: ACL status -> the step a Python program takes (the C functions in brackets).
PYTHON_STEPS = {
    _CONSTANTS["ACL_ERROR_UNINITIALIZE"]: "the runtime is not initialised: open aclnn_py.Runtime() first (aclInit)",
    _CONSTANTS["ACL_ERROR_RT_CONTEXT_NULL"]: (
        "no device is set on this thread: open aclnn_py.Device(n) on it first, or make a context current with "
        "Device.use() or Context.make_current() (aclrtSetDevice, aclrtSetCurrentContext)"),
}

#: C functions a runtime's message may tell a program to call -> what a Python program calls.
PYTHON_NAMES = {
    "aclInit": "aclnn_py.Runtime()", "aclFinalize": "Runtime.close()",
    "aclrtSetDevice": "aclnn_py.Device(n)", "aclrtResetDevice": "Device.close()",
    "aclrtSetCurrentContext": "Device.use() or Context.make_current()",
    "aclrtSynchronizeStream": "Stream.synchronize()", "aclrtSynchronizeEvent": "Event.synchronize()",
    "aclrtSynchronizeDevice": "Device.synchronize()", "aclrtFree": "DeviceBuffer.close()",
    "aclDestroyTensor": "Tensor.close()", "aclSetAclOpExecutorRepeatable": "a plan of aclnn_py.ops",
    "HcclCommInitAll": "hccl.init_all()", "HcclGetRootInfo": "hccl.get_root_info()",
    "HcclCommConfigInit": "hccl.comm_config_init()", "HcclGetCommName": "Communicator.name",
    "HcclCommDestroy": "Communicator.close()",
}
_C_NAME = re.compile(r"\b(" + "|".join(PYTHON_NAMES) + r")\b")


def python_text(function: str, name: str, code: int, step: str, message: str) -> str:
    """The exception's text: the status, then the Python step or the runtime's message."""
    text = f"{function} failed: {name} ({code})"
    if step:
        return f"{text}: {step}" + (f" [runtime: {message}]" if message else "")
    if not message:
        return text
    mentioned = dict.fromkeys(c_name for c_name in _C_NAME.findall(message) if c_name != function)
    glossary = ", ".join(f"{c_name} is {PYTHON_NAMES[c_name]}" for c_name in mentioned)
    return f"{text}: {message}" + (f" [in Python: {glossary}]" if glossary else "")


class StatusError(RuntimeError):
    """A CANN function returned a failure status: ``code``, ``name`` (its C name), ``function``,
    ``message`` (the runtime's own text) and ``step`` (what a Python program does about it, or "")."""

    names: dict[int, str] = {}
    steps: dict[int, str] = {}

    def __init__(self, code: int, function: str, message: str = "") -> None:
        self.code = int(code)
        self.function = function
        self.message = message
        self.name = self.names.get(self.code, "UNKNOWN_STATUS")
        self.step = self.steps.get(self.code, "")
        super().__init__(python_text(function, self.name, self.code, self.step, message))

    def __reduce__(self):
        return (type(self), (self.code, self.function, self.message))


class AclError(StatusError):
    """An ACL runtime call (``acl*``, ``aclrt*``) failed."""

    names = ACL_NAMES
    steps = PYTHON_STEPS


class AclnnError(StatusError):
    """An aclnn call (``aclnn*``, ``aclCreate*``...) failed."""

    names = ACLNN_NAMES


class AclnnParamError(AclnnError, ValueError):
    """161001 ACLNN_ERR_PARAM_NULLPTR / 161002 ACLNN_ERR_PARAM_INVALID: bad arguments."""


class AclnnRuntimeError(AclnnError):
    """361001 ACLNN_ERR_RUNTIME_ERROR (for example an unsupported SoC)."""


class AclnnInternalError(AclnnError):
    """561xxx: the operator failed inside CANN (561003: kernel not found, ops package missing?)."""


class RankCountError(AclnnInternalError, ValueError):
    """The communicator's size is not one the operator supports on this SoC: a rule of the
    operator, not a failure inside CANN. The binding raises it from its own rule check, before any
    C call, with CANN's code: 561002 ACLNN_ERR_INNER_TILING_ERROR (CANN checks the rule at its
    tiling stage), so code that catches :class:`AclnnInternalError` still does."""


class HcclError(StatusError):
    """An HCCL call failed."""

    names = HCCL_NAMES


class ClosedResourceError(ValueError):
    """A resource (tensor, buffer, stream, plan, communicator...) was used after ``close()``; raised
    before any C call, so a freed handle never reaches the runtime. ``resource`` describes it."""

    def __init__(self, resource: str) -> None:
        self.resource = resource
        super().__init__(f"{resource} is closed: it cannot be used after close()")

    def __reduce__(self):
        return (type(self), (self.resource,))


class LibraryNotFoundError(OSError):
    """A CANN (or mock) shared library could not be loaded."""


class SymbolNotFoundError(AttributeError):
    """The loaded libraries do not export a function (an older CANN?)."""


def aclnn_error_class(code: int) -> type[AclnnError]:
    if code in (_CONSTANTS["ACLNN_ERR_PARAM_NULLPTR"], _CONSTANTS["ACLNN_ERR_PARAM_INVALID"]):
        return AclnnParamError
    if code == _CONSTANTS["ACLNN_ERR_RUNTIME_ERROR"]:
        return AclnnRuntimeError
    if 561000 <= code < 562000:
        return AclnnInternalError
    return AclnnError


#: Violation.rule -> the exception of a rule whose status code alone misleads.
_RULE_ERRORS: dict[str, type[AclnnError]] = {RANK_COUNT: RankCountError}


def from_violation(violation: Violation) -> AclnnError:
    """The binding's exception for a rule violation of the pure layer (same code and message)."""
    kind = _RULE_ERRORS.get(violation.rule) or aclnn_error_class(violation.code)
    return kind(violation.code, violation.function, violation.message)


@contextmanager
def raising() -> Iterator[None]:
    """Run operator rules: a :class:`~aclnn_py.semantics.status.Violation` becomes :func:`from_violation`."""
    try:
        yield
    except Violation as violation:
        raise from_violation(violation) from None
