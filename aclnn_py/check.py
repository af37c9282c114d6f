"""Status checks of the raw calls: a failure status becomes the exception of :mod:`aclnn_py.errors`.

The runtime's recent message (``aclGetRecentErrMsg``) is read right after the
failing call, on the same thread; CANN may return NULL there (then the message
is empty). HCCL failures also carry ``HcclGetErrorString``'s text.
"""
from __future__ import annotations

from ._ffi import ffi
from ._loader import library
from .errors import AclError, HcclError, aclnn_error_class


def _text(pointer) -> str:
    return "" if pointer == ffi.NULL else ffi.string(pointer).decode("utf-8", "replace")


def recent_message() -> str:
    """The calling thread's most recent runtime error message ("" when there is none)."""
    return _text(library().aclGetRecentErrMsg())


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
        text = _text(library().HcclGetErrorString(status))
        recent = recent_message()
        raise HcclError(status, function, "; ".join(t for t in (text, recent) if t))
