"""Opaque handles handed to C callers.

A handle is a fake address in a range of its own per kind and is never reused,
so a stale or wrong-kind handle is recognised instead of being dereferenced.
Nothing ever dereferences these addresses.
"""
from __future__ import annotations

import itertools
import threading
from typing import Generic, TypeVar

from .errors import MockError

T = TypeVar("T")

_kinds = itertools.count(1)


class HandleTable(Generic[T]):
    """Live objects of one kind, keyed by their handle."""

    def __init__(self, kind: str, error_code: int) -> None:
        self.kind = kind
        self.error_code = error_code
        self._base = 0x7E00_0000_0000 + next(_kinds) * 0x10_0000_0000
        self._next = itertools.count(1)
        self._live: dict[int, T] = {}
        self._dead: set[int] = set()
        self._lock = threading.Lock()

    def add(self, obj: T) -> int:
        with self._lock:
            handle = self._base + 64 * next(self._next)
            self._live[handle] = obj
            return handle

    def get(self, handle: int, what: str) -> T:
        """The object behind ``handle``; ``what`` names the parameter in errors."""
        with self._lock:
            obj = self._live.get(handle)
            if obj is not None:
                return obj
            dead = handle in self._dead
        if handle == 0:
            raise MockError(self.error_code, f"{what} is NULL")
        if dead:
            raise MockError(self.error_code, f"{what} ({handle:#x}) is a {self.kind} that was already destroyed")
        raise MockError(self.error_code, f"{what} ({handle:#x}) is not a {self.kind} handle")

    def remove(self, handle: int, what: str) -> T:
        obj = self.get(handle, what)
        with self._lock:
            del self._live[handle]
            self._dead.add(handle)
        return obj

    def replace(self, handle: int, obj: T, what: str) -> None:
        """Give a live handle a new object (aclInitTensor, aclSetRawTensorAddr)."""
        self.get(handle, what)
        with self._lock:
            self._live[handle] = obj

    def live(self) -> dict[int, T]:
        with self._lock:
            return dict(self._live)

    def clear(self) -> None:
        with self._lock:
            self._dead.update(self._live)
            self._live.clear()
