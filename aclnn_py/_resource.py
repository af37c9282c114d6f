"""Base class of objects that own a CANN handle and free it exactly once.

Bookkeeping: each owned handle is one entry of a module registry (a weak
reference to its resource, carrying the C function that frees it and the
handle), which is what :class:`weakref.finalize` does, in a few hundred
nanoseconds instead of microseconds: a resource collected while it still owns
its handle frees it from the weak reference's callback, and at interpreter
exit the handles still owned are freed newest first, before the interpreter
starts finalising (as ``weakref.finalize``'s ``atexit`` hook does).
"""
from __future__ import annotations

import atexit
import sys
import weakref
from typing import Any, Callable

from ._loader import library


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


class _Owner(weakref.ref):
    """A weak reference to a resource that owns ``handle``, freed with ``destroy``.

    Hashed and compared by identity (a resource's own ``__eq__`` never matters)."""

    __slots__ = ("destroy", "handle")
    __hash__ = object.__hash__
    __eq__ = object.__eq__


#: The handles owned now, oldest first (a dict as an ordered set).
_owned: dict[_Owner, None] = {}


def _collected(owner: _Owner, owned: dict = _owned, release: Callable = _release) -> None:
    """Weak-reference callback: the resource was collected without being closed (the registry and
    ``_release`` bound early: this may run while the interpreter tears the module down)."""
    if owned.pop(owner, False) is None:
        release(owner.destroy, owner.handle)


@atexit.register
def _free_at_exit() -> None:
    """Free what is still owned at exit, newest first."""
    while _owned:
        owner, _ = _owned.popitem()
        _release(owner.destroy, owner.handle)


class Resource:
    """Owns ``handle``; ``close()`` (idempotent), ``with`` and a finalizer release it.

    Subclasses set ``_destroy`` (the name of the C function freeing the handle) and
    ``_check`` (the status check raising the right exception).
    """

    _destroy: str = ""
    _check: Callable[[int, str], None]
    handle: Any = None
    _owner: _Owner | None = None

    @classmethod
    def _destroy_function(cls) -> Callable[[Any], int]:
        """The C function named by ``_destroy`` (looked up once per class)."""
        function = cls.__dict__.get("_destroy_c")
        if function is None:
            function = getattr(library(), cls._destroy)
            cls._destroy_c = function
        return function

    def _own(self, handle: Any) -> None:
        self.handle = handle
        owner = _Owner(self, _collected)
        owner.destroy = self._destroy_function()
        owner.handle = handle
        self._owner = owner
        _owned[owner] = None

    def _disown(self) -> bool:
        """Forget the handle without freeing it (ownership moved elsewhere)."""
        owner = self._owner
        return owner is not None and _owned.pop(owner, False) is None

    @property
    def closed(self) -> bool:
        owner = self._owner
        return owner is None or owner not in _owned

    def close(self) -> None:
        """Release the handle now (again: no effect)."""
        owner = self._owner
        if owner is not None and _owned.pop(owner, False) is None:
            type(self)._check(owner.destroy(self.handle), self._destroy)

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def handle_of(resource: "Resource | None") -> Any:
    """The C handle of ``resource``, or NULL for None (an optional stream, say)."""
    from ._ffi import ffi

    return ffi.NULL if resource is None else resource.handle
