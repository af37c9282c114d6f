"""Base class of objects that own a CANN handle and free it exactly once.

Every resource is numbered when it takes its handle (:attr:`Resource.serial`, increasing)
and listed by :func:`live` until it is released, so a leak check
(:mod:`aclnn_py.testing`) can tell which resources a piece of code created and left open.
"""
from __future__ import annotations

import sys
import threading
import weakref
from typing import Any, Callable

from ._loader import library

_last_serial = 0
_registry_lock = threading.Lock()
_registry: dict[int, weakref.ref] = {}  # serial -> resource that took a handle
#: Called with each resource right after it takes its handle (the leak check records where).
observers: list[Callable[["Resource"], None]] = []


def _release(destroy: Callable[[Any], int], handle: Any) -> None:
    """Finalizer: free quietly; skip at interpreter shutdown (the runtime may be gone).

    ``destroy`` is the C function itself, looked up when the handle was taken: a finalizer
    may run inside cffi (during a garbage collection cffi triggers while it holds its own
    lock), where looking a symbol up for the first time would wait for that lock forever."""
    if sys.is_finalizing():
        return
    try:
        destroy(handle)
    except Exception:  # a finalizer has nobody to report to
        pass


class Resource:
    """Owns ``handle``; ``close()`` (idempotent), ``with`` and a finalizer release it.

    Subclasses set ``_destroy`` (the C function freeing the handle) and
    ``_check`` (the status check raising the right exception).
    """

    _destroy: str = ""
    _check: Callable[[int, str], None]
    handle: Any = None
    serial: int = 0
    _finalizer: weakref.finalize | None = None

    def _own(self, handle: Any) -> None:
        self.handle = handle
        self._finalizer = weakref.finalize(self, _release, getattr(library(), self._destroy), handle)
        global _last_serial
        with _registry_lock:
            _last_serial = self.serial = serial = _last_serial + 1
            _registry[serial] = weakref.ref(self, lambda _, s=serial: _registry.pop(s, None))
        for observe in observers:
            observe(self)

    def _disown(self) -> bool:
        """Forget the handle without freeing it (ownership moved elsewhere)."""
        return self._finalizer is not None and self._finalizer.detach() is not None

    @property
    def closed(self) -> bool:
        return self._finalizer is None or not self._finalizer.alive

    def close(self) -> None:
        """Release the handle now (again: no effect)."""
        if self._disown():
            type(self)._check(getattr(library(), self._destroy)(self.handle), self._destroy)

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def last_serial() -> int:
    """The serial of the newest resource so far (0 before the first)."""
    return _last_serial


def live() -> list[Resource]:
    """Every resource that took a handle and has not released it, oldest first."""
    with _registry_lock:
        refs = list(_registry.values())
    return [r for r in (ref() for ref in refs) if r is not None and not r.closed]


def handle_of(resource: "Resource | None") -> Any:
    """The C handle of ``resource``, or NULL for None (an optional stream, say)."""
    from ._ffi import ffi

    return ffi.NULL if resource is None else resource.handle
