"""Base class of objects that own a CANN handle and free it exactly once."""
from __future__ import annotations

import sys
import weakref
from typing import Any, Callable

from ._loader import library


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
    _finalizer: weakref.finalize | None = None

    def _own(self, handle: Any) -> None:
        self.handle = handle
        self._finalizer = weakref.finalize(self, _release, getattr(library(), self._destroy), handle)

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


def handle_of(resource: "Resource | None") -> Any:
    """The C handle of ``resource``, or NULL for None (an optional stream, say)."""
    from ._ffi import ffi

    return ffi.NULL if resource is None else resource.handle
