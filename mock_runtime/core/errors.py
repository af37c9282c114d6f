"""Mock-side errors and the thread-local "recent error message"."""
from __future__ import annotations

import threading

from aclnn_py.semantics.headers import load

#: Every integer constant of the headers (status codes among them).
C = load().constants


class MockError(Exception):
    """A failure reported to the caller as a status code plus a message."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


_recent: dict[int, str] = {}
_lock = threading.Lock()


def set_recent(message: str) -> None:
    """Record the calling thread's most recent error text."""
    with _lock:
        _recent[threading.get_ident()] = message


def take_recent() -> str | None:
    """The calling thread's most recent error text, cleared once read (as CANN does)."""
    with _lock:
        return _recent.pop(threading.get_ident(), None)
