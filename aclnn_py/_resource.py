"""Base class of objects that own a CANN handle and free it exactly once.

Bookkeeping: each owned handle is one entry of a module registry (the
resource's id -> the C function that frees the handle, and the handle), what
a :class:`weakref.finalize` per resource did, without an object per handle: a
resource collected while it still owns its handle frees it (``__del__``), and
at interpreter exit the handles still owned are freed newest first, before
the interpreter starts finalising (as ``weakref.finalize``'s ``atexit`` hook
does).

Threads: the registry's changes are single dict operations (atomic in CPython), so a handle is
freed exactly once whichever threads close or drop the resource at the same time: ``close()``
takes the entry out of the registry before it calls the C function (and puts it back when the
runtime refuses). No Python lock is held around a C call here: a finalizer may run on any thread,
also inside the runtime.

A closed resource (like a closed Python file) refuses every use with
:class:`~aclnn_py.errors.ClosedResourceError` naming it, before any C call: :attr:`Resource.handle`
checks, and :func:`require_open` checks the resources an operator or another resource is given.

Every resource is numbered when it takes its handle (:attr:`Resource.serial`,
increasing). While a leak check observes (:data:`observers` non-empty,
:mod:`aclnn_py.testing`), the resources created are also listed weakly, so
:func:`live` can tell which of them are still open and where they came from.
"""
from __future__ import annotations

import atexit
import itertools
import sys
import threading
import weakref
from typing import Any, Callable

from ._loader import library
from .errors import ClosedResourceError
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
#: The ids of the resources that own their handle now (a live view of :data:`_owned`).
owned_ids = _owned.keys()

_closings = itertools.count(1)
#: Changes (to a new, unique value) whenever a resource gives up its handle: a check that all of
#: some resources are open, made when this had a value, still holds while it has that value.
closed_since = 0


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
    """Owns a handle; ``close()`` (idempotent, thread-safe), ``with`` and a finalizer release it.

    Subclasses set ``_destroy`` (the name of the C function freeing the handle) and
    ``_check`` (the status check raising the right exception).
    """

    _destroy: str = ""
    _check: Callable[[int, str], None]
    _handle: Any = None
    serial: int = 0

    def _own(self, handle: Any) -> None:
        self._handle = handle
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
        entry = _owned.pop(id(self), None)
        _count_closing()
        return entry is not None

    @property
    def handle(self) -> Any:
        """The C handle; :class:`~aclnn_py.errors.ClosedResourceError` once closed."""
        if id(self) in _owned:
            return self._handle
        raise self._closed_error()

    @property
    def closed(self) -> bool:
        return id(self) not in _owned

    def _label(self) -> str:
        """What the resource is, for messages (never a C call: it may be closed)."""
        return type(self).__name__

    def _closed_error(self) -> ClosedResourceError:
        return ClosedResourceError(self._label())

    def _parts(self) -> tuple["Resource", ...]:
        """The resources this one uses while it is used (a tensor's buffer)."""
        return ()

    def _require_open(self) -> None:
        """Raise :class:`~aclnn_py.errors.ClosedResourceError` when this resource, or one of its
        :meth:`_parts`, is closed."""
        if self.closed:
            raise self._closed_error()

    def close(self) -> None:
        """Release the handle now (again: no effect). When the runtime refuses (the error is
        raised), the resource keeps its handle: it is still open, and closing again later (or
        its finalizer) frees it. Threads closing one resource at once free it once: the first
        takes the registry's entry, the others find none."""
        entry = _owned.pop(id(self), None)
        if entry is not None:
            _count_closing()
            status = entry[0](entry[1])
            if status:
                _owned[id(self)] = entry  # refused: still open
                type(self)._check(status, self._destroy)

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


def _count_closing() -> None:
    """After a handle left :data:`_owned`: :data:`closed_since` takes a value never seen before
    (``next`` is atomic; a value written late by another thread is still one nobody checked at)."""
    global closed_since
    closed_since = next(_closings)


def require_open(*values: Any) -> None:
    """Refuse closed resources among ``values`` (lists and tuples looked into; anything else, a
    NumPy array or None say, is skipped) with :class:`~aclnn_py.errors.ClosedResourceError`."""
    for value in values:
        if isinstance(value, Resource):
            value._require_open()
        elif isinstance(value, (list, tuple)):
            require_open(*value)


def registered_ids(values: Any) -> frozenset[int]:
    """The ids of the registered resources among ``values`` and the resources they use: while
    they are all in :data:`owned_ids`, none of them was closed."""
    found = set()
    stack = [v for v in values if isinstance(v, Resource)]
    while stack:
        resource = stack.pop()
        if id(resource) in _owned:
            found.add(id(resource))
        stack.extend(resource._parts())
    return frozenset(found)


def last_serial() -> int:
    """The serial of the newest resource so far (0 before the first)."""
    return _last_serial


def live() -> list[Resource]:
    """The resources created while observed that still hold their handle, oldest first."""
    refs = [_watched.get(s) for s in sorted(list(_watched))]  # another thread may drop one meanwhile
    return [r for r in (ref() for ref in refs if ref is not None) if r is not None and not r.closed]


def handle_of(resource: "Resource | None") -> Any:
    """The C handle of ``resource``, or NULL for None (an optional stream, say)."""
    from ._ffi import ffi

    return ffi.NULL if resource is None else resource.handle
