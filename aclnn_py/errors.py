"""Exceptions for failed CANN calls.

A failed call raises a :class:`StatusError` subclass carrying the status code,
its C name, the C function and the runtime's recent error text
(``aclGetRecentErrMsg``, read right after the failing call on the same
thread; for HCCL also ``HcclGetErrorString``). A bad Python argument raises
:class:`ArgumentError` (a ``ValueError``) naming the parameter, before C is
called. Errors pickle, so they cross process boundaries in multi-rank runs.
"""
from __future__ import annotations

from ._cdef import load

_CONSTANTS = load().constants


def _names(prefixes: tuple[str, ...], skip: tuple[str, ...] = ()) -> dict[int, str]:
    table: dict[int, str] = {}
    for name, value in _CONSTANTS.items():
        if name.startswith(prefixes) and not name.endswith(skip):
            table.setdefault(value, name)
    return table


ACL_NAMES = {0: "ACL_SUCCESS", **_names(("ACL_ERROR_",), skip=("_NONE",))}
ACLNN_NAMES = _names(("ACLNN_",), skip=("CONFILICT",))
HCCL_NAMES = _names(("HCCL_SUCCESS", "HCCL_E_"))


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


class ArgumentError(ValueError):
    """A Python argument of an acceptable type has a value the binding cannot use.

    Raised by the Pythonic layer (dtypes, Tensor, DeviceBuffer, ops, hccl) before
    any C call, instead of whatever a deeper layer would throw (KeyError,
    IndexError, OverflowError, UnicodeError...). ``parameter`` names the argument;
    the message says the rule. A wrong *type* stays a ``TypeError``.
    """

    def __init__(self, parameter: str, message: str) -> None:
        self.parameter = parameter
        self.detail = message
        super().__init__(f"{parameter}: {message}")

    def __reduce__(self):
        return (type(self), (self.parameter, self.detail))


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


def recent_message() -> str:
    from ._loader import library

    text = library().aclGetRecentErrMsg()
    from ._ffi import ffi

    return "" if text == ffi.NULL else ffi.string(text).decode("utf-8", "replace")


def check_acl(status: int, function: str) -> None:
    """Raise :class:`AclError` unless ``status`` is ACL_SUCCESS."""
    if status:
        raise AclError(status, function, recent_message())


def check_aclnn(status: int, function: str) -> None:
    """Raise the :class:`AclnnError` subclass for ``status`` unless it is 0."""
    if status:
        raise aclnn_error_class(status)(status, function, recent_message())


def check_hccl(status: int, function: str) -> None:
    """Raise :class:`HcclError` (with HcclGetErrorString's text) unless ``status`` is HCCL_SUCCESS."""
    if status:
        from ._ffi import ffi
        from ._loader import library

        described = library().HcclGetErrorString(status)
        text = "" if described == ffi.NULL else ffi.string(described).decode("utf-8", "replace")
        recent = recent_message()
        raise HcclError(status, function, "; ".join(t for t in (text, recent) if t))
