"""Tearing the runtime down while an exception (a Ctrl-C's KeyboardInterrupt) unwinds.

The original exception wins: :func:`close_on_exit` keeps a failure of a resource's
``close()`` in ``__exit__`` from replacing the exception that is propagating. When
the binding's :class:`~aclnn_py.runtime.Runtime` closes while an exception unwinds
the closing thread, :func:`unwinding_teardown` first stops the other threads that
use the runtime (their communicators are destroyed, which ends their collectives at
once, and they are given :data:`GRACE` seconds to unwind and release their own
resources), and their binding errors from then on end them quietly. What the user
can rely on is written down in ``docs/teardown.md``.
"""
from __future__ import annotations

import sys
import threading
import time
import weakref
from typing import Callable

#: Seconds an unwinding teardown waits for the other threads that use the runtime.
GRACE = 1.0

#: The binding's runtime is being (or was) finalized; reset when it is initialised again.
closing = False
_quiet = False  # ... and because an exception unwinds the thread that closes it
_users: "weakref.WeakSet[threading.Thread]" = weakref.WeakSet()
_hook_installed = False
_lock = threading.Lock()


def note_user() -> None:
    """The calling thread uses the runtime (it made a device, context or stream)."""
    _users.add(threading.current_thread())


def reopen() -> None:
    """The binding initialised the runtime (again)."""
    global closing, _quiet
    closing = _quiet = False


def begin(unwinding: bool) -> None:
    """The binding's runtime starts closing; ``unwinding``: because an exception unwinds the thread."""
    global closing, _quiet, _hook_installed
    closing = True
    if unwinding:
        _quiet = True
        with _lock:
            if not _hook_installed:
                _hook_installed = True
                threading.excepthook = _quiet_hook(threading.excepthook)


def unwinding() -> bool:
    """Whether an exception is unwinding the calling thread (we are in ``__exit__``, ``finally`` or ``except``)."""
    return sys.exc_info()[1] is not None


def wait_for_users(grace: float = GRACE) -> None:
    """Give the other threads that use the runtime up to ``grace`` seconds (in all) to end.

    A thread counts as running while the interpreter has a frame for it: ``Thread.is_alive()``
    and ``join()`` can say a running thread ended once a KeyboardInterrupt interrupted a
    ``join()`` of it (CPython 3.11, ``Thread._wait_for_tstate_lock``), the very case here."""
    deadline = time.monotonic() + grace
    me = threading.get_ident()
    while time.monotonic() < deadline:
        running = sys._current_frames()
        if not any(thread.ident in running for thread in list(_users) if thread.ident != me):
            return
        time.sleep(0.005)


def close_on_exit(close: Callable[[], None], error: BaseException | None) -> None:
    """``close()`` for an ``__exit__`` with ``error`` propagating (None: none). A failure of
    ``close()`` then does not replace ``error``: while the runtime closes it is one of its
    consequences and dropped; otherwise it is added to ``error`` as a note (Python 3.11+)."""
    if error is None:
        close()
        return
    try:
        close()
    except Exception as failure:
        add_note = getattr(error, "add_note", None)
        if not closing and add_note is not None:
            add_note(f"(then closing failed too: {type(failure).__name__}: {failure})")


def _quiet_hook(previous: Callable[[threading.ExceptHookArgs], object]) -> Callable[[threading.ExceptHookArgs], object]:
    """``threading.excepthook`` that lets a thread end silently when an error of the binding ends
    it after an unwinding teardown began (the runtime, a communicator or a stream went away under
    it); everything else goes to ``previous``."""

    def hook(args: threading.ExceptHookArgs) -> object:
        if _quiet and args.thread is not threading.main_thread() and _from_binding(args.exc_value):
            return None
        return previous(args)

    return hook


def _from_binding(error: BaseException | None) -> bool:
    """Whether ``error``, or an exception it was raised from or while handling, is one of the
    binding's (a failed call, a closed resource: a class of ``aclnn_py``)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if type(error).__module__.startswith("aclnn_py."):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False
