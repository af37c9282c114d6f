"""Exceptions for failed CANN calls.

A failed call raises a :class:`StatusError` subclass carrying the status code,
its C name, the C function and the runtime's recent error text
(``aclGetRecentErrMsg``, read right after the failing call on the same
thread; for HCCL also ``HcclGetErrorString``). A bad Python argument raises
:class:`ArgumentError` (a ``ValueError``) naming the parameter, before C is
called. Using a resource after ``close()`` raises :class:`ClosedResourceError` (a
``ValueError``, as I/O on a closed Python file does) naming the resource, before C is
called. Errors pickle, so they cross process boundaries in multi-rank runs.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from .semantics.status import ACL_NAMES, ACLNN_NAMES, HCCL_NAMES, CODES as _CONSTANTS, Violation
from .semantics.status import ArgumentError  # noqa: F401 -- one of the errors this module gives the binding


class StatusError(RuntimeError):
    """A CANN function returned a failure status."""

    names: dict[int, str] = {}

    def __init__(self, code: int, function: str, message: str = "") -> None:
        self.code = int(code)
        self.function = function
        self.message = message
        self.name = self.names.get(self.code, "UNKNOWN_STATUS")
        text = f"{function} failed: {self.name} ({self.code})"
        super().__init__(f"{text}: {message}" if message else text)

    def __reduce__(self):
        return (type(self), (self.code, self.function, self.message))


class AclError(StatusError):
    """An ACL runtime call (``acl*``, ``aclrt*``) failed."""

    names = ACL_NAMES


class AclnnError(StatusError):
    """An aclnn call (``aclnn*``, ``aclCreate*``...) failed."""

    names = ACLNN_NAMES


class AclnnParamError(AclnnError, ValueError):
    """161001 ACLNN_ERR_PARAM_NULLPTR / 161002 ACLNN_ERR_PARAM_INVALID: bad arguments."""


class AclnnRuntimeError(AclnnError):
    """361001 ACLNN_ERR_RUNTIME_ERROR (for example an unsupported SoC)."""


class AclnnInternalError(AclnnError):
    """561xxx: the operator failed inside CANN (561003: kernel not found, ops package missing?)."""


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


def from_violation(violation: Violation) -> AclnnError:
    """The binding's exception for a rule violation of the pure layer (same code and message)."""
    return aclnn_error_class(violation.code)(violation.code, violation.function, violation.message)


@contextmanager
def raising() -> Iterator[None]:
    """Run operator rules: a :class:`~aclnn_py.semantics.status.Violation` becomes :func:`from_violation`."""
    try:
        yield
    except Violation as violation:
        raise from_violation(violation) from None
