"""Ctrl-C on the host's main thread waits until the mock returns, as it does for C code.

The mock runs in its caller's interpreter. Python runs a signal handler (Ctrl-C's
``KeyboardInterrupt``) on the main thread at its next Python instruction, which may be
mock code: raised there, the exception would stop the mock half-way through an
update and, reaching the C boundary, be printed and lost, the call reporting
success. On an Ascend host the handler runs once the C call has returned.

The mock does the same for SIGINT. While the main thread is inside the mock the
program's handler is held: :class:`Holding` wraps it (installed on the first call
the main thread makes, and again whenever the program installs another handler)
and only notes the signal. When the call leaves the mock, :func:`leave` asks the
library's C wrapper of the entry point (``mock_runtime._build``) to raise it again
with ``PyErr_SetInterrupt`` after the return, so the handler runs in the caller's
code right after the call. A signal handled before the hold began (the first few
Python instructions of a call) ends the call before it did anything: the entry
point then returns its failure status and the signal is raised again in the
same way (:func:`mock_runtime.exports.interrupted`). Other signals' Python
handlers are not held.
"""
from __future__ import annotations

import _signal
import _thread
import signal
import threading
from typing import Any, Callable

_MAIN = threading.main_thread().ident
_SIGINT = int(signal.SIGINT)
_inside = False  # the main thread is inside the mock
_held = False  # a SIGINT arrived meanwhile


class Holding:
    """The SIGINT handler while the mock is loaded: the program's ``handler``, except while
    the main thread is inside the mock, when the signal is only noted."""

    def __init__(self, handler: Callable[[int, Any], Any]) -> None:
        self.handler = handler

    def __call__(self, signum: int, frame: Any) -> Any:
        global _held
        if _inside:
            _held = True
            return None
        return self.handler(signum, frame)

    def __repr__(self) -> str:
        return f"<SIGINT held while inside the aclnn-py mock, then {self.handler!r}>"


def enter() -> bool:
    """At the start of a call from outside the mock; True on the main thread (then call
    :func:`leave` when it ends). Raises what the program's handler raises for a signal
    that arrived before the hold began."""
    global _inside
    if _thread.get_ident() != _MAIN:
        return False
    handler = _signal.getsignal(_SIGINT)  # signal.getsignal's enum conversion costs microseconds per call
    if callable(handler) and type(handler) is not Holding:
        signal.signal(_SIGINT, Holding(handler))
    _inside = True
    return True


def leave(raise_after_return: Callable[[], None]) -> None:
    """At the end of a main-thread call: a signal held meanwhile is raised again once the C
    call has returned (``raise_after_return`` tells the library's C wrapper to)."""
    global _inside, _held
    _inside = False
    if _held:
        _held = False
        raise_after_return()
