"""Base class of objects that own a CANN handle and free it exactly once.

Bookkeeping: each owned handle is one entry of a module registry (the
resource's id -> the C function that frees the handle, and the handle), what
a :class:`weakref.finalize` per resource did, without an object per handle: a
resource collected while it still owns its handle frees it (``__del__``), and
at interpreter exit the handles still owned are freed newest first, before
the interpreter starts finalising (as ``weakref.finalize``'s ``atexit`` hook
does).

Every resource is numbered when it takes its handle (:attr:`Resource.serial`,
increasing). While a leak check observes (:data:`observers` non-empty,
:mod:`aclnn_py.testing`), the resources created are also listed weakly, so
:func:`live` can tell which of them are still open and where they came from.
"""
from __future__ import annotations

import atexit
import sys
import threading
import weakref
from typing import Any, Callable

from ._loader import library
from ._teardown import close_on_exit


def _release(destroy: Callable[[Any], int], handle: Any) -> None:
    """Free quietly; skip at interpreter shutdown (the runtime may be gone).

    ``destroy`` is the C function itself, looked up when the handle was taken: a finalizer
    may run inside cffi (during a garbage collection cffi triggers while it holds its own
    lock), where looking a symbol up for the first time would wait for that lock forever."""
    if sys.is_finalizing():
        return
    try:
        destroy(handle)
    except Exception:  # a finalizer has nobody to report to
        pass


#: id(resource) -> (destroy, handle) of every handle owned now, oldest first.
_owned: dict[int, tuple[Callable[[Any], int], Any]] = {}


_serial_lock = threading.Lock()
_last_serial = 0
#: serial -> resource, for the resources created while someone observes.
_watched: dict[int, weakref.ref] = {}
#: Called with each resource right after it takes its handle (the leak check records where).
observers: list[Callable[["Resource"], None]] = []

#: Resource class -> the C function named by its ``_destroy``.
_destroyers: dict[type, Callable[[Any], int]] = {}


def _destroyer(cls: type) -> Callable[[Any], int]:
    """The C function freeing the handles of ``cls`` (looked up once per class)."""
    function = _destroyers[cls] = getattr(library(), cls._destroy)
    return function


@atexit.register
def _free_at_exit() -> None:
    """Free what is still owned at exit, newest first."""
    while _owned:
        _, entry = _owned.popitem()
        _release(*entry)


class Resource:
    """Owns ``handle``; ``close()`` (idempotent), ``with`` and a finalizer release it.

    Subclasses set ``_destroy`` (the name of the C function freeing the handle) and
    ``_check`` (the status check raising the right exception).
    """

    _destroy: str = ""
    _check: Callable[[int, str], None]
    handle: Any = None
    serial: int = 0

    def _own(self, handle: Any) -> None:
        self.handle = handle
        cls = type(self)
        _owned[id(self)] = (_destroyers.get(cls) or _destroyer(cls), handle)
        global _last_serial
        with _serial_lock:
            _last_serial = self.serial = serial = _last_serial + 1
        if observers:
            _watched[serial] = weakref.ref(self, lambda _, s=serial: _watched.pop(s, None))
            for observe in observers:
                observe(self)

    def _disown(self) -> bool:
        """Forget the handle without freeing it (ownership moved elsewhere)."""
        return _owned.pop(id(self), None) is not None

    @property
    def closed(self) -> bool:
        return id(self) not in _owned

    def close(self) -> None:
        """Release the handle now (again: no effect). When the runtime refuses (the error is
        raised), the resource keeps its handle: it is still open, and closing again later (or
        its finalizer) frees it."""
        entry = _owned.get(id(self))
        if entry is not None:
            status = entry[0](self.handle)
            if status:
                type(self)._check(status, self._destroy)
            _owned.pop(id(self), None)

    def __del__(self, owned: dict = _owned, release: Callable = _release) -> None:
        # collected while owning its handle (the registry and _release bound early: this may
        # run while the interpreter tears the module down)
        entry = owned.pop(id(self), None)
        if entry is not None:
            release(*entry)

    def __enter__(self):
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: object) -> None:
        close_on_exit(self.close, exc)  # a failure to close never replaces the exception unwinding


def last_serial() -> int:
    """The serial of the newest resource so far (0 before the first)."""
    return _last_serial


def live() -> list[Resource]:
    """The resources created while observed that still hold their handle, oldest first."""
    refs = [_watched[s] for s in sorted(list(_watched))]
    return [r for r in (ref() for ref in refs) if r is not None and not r.closed]


def handle_of(resource: "Resource | None") -> Any:
    """The C handle of ``resource``, or NULL for None (an optional stream, say)."""
    from ._ffi import ffi

    return ffi.NULL if resource is None else resource.handle
