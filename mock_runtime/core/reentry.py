"""Calls into the mock made while the same thread is already running mock code.

The mock runs in the caller's interpreter, so a garbage collection triggered
inside mock code (with one of its locks held) can run the binding's finalizers
-- ``aclDestroyTensor``, ``aclrtFree``, ``aclrtResetDevice`` -- which call back
into the mock on the same thread. Such a nested call is queued, reported to
its caller as done, and run as soon as the outermost mock frame of the thread
returns: it can never wait for a lock its own thread holds, nor see the mock's
state half-updated. (A finalizer ignores the status anyway.)
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Callable, Iterator

_state = threading.local()


def active() -> bool:
    """Whether the calling thread is inside mock code (a new call must be deferred)."""
    return getattr(_state, "depth", 0) > 0


def defer(call: Callable[[], object]) -> None:
    """Run ``call`` when the calling thread leaves the mock."""
    _state.queue.append(call)


@contextmanager
def inside() -> Iterator[None]:
    """Mark the calling thread as running mock code; on the way out, run what was deferred."""
    depth = getattr(_state, "depth", 0)
    if depth == 0:
        _state.queue = []
    _state.depth = depth + 1
    try:
        yield
    finally:
        if depth:
            _state.depth = depth
        else:
            try:
                while _state.queue:  # calls deferred meanwhile (nested ones included) run in order
                    _state.queue.pop(0)()
            finally:
                _state.depth = 0


@contextmanager
def collecting(calls: list) -> Iterator[None]:
    """As :func:`inside`, but the calls deferred meanwhile are appended to ``calls`` instead of
    run on the way out (for work done on behalf of another thread, which runs them: a
    finalizer may wait for that thread's stream). Nested in :func:`inside`, it is the same."""
    depth = getattr(_state, "depth", 0)
    if depth:
        with inside():
            yield
        return
    _state.queue, _state.depth = [], 1
    try:
        yield
    finally:
        calls.extend(_state.queue)
        _state.queue, _state.depth = [], 0
