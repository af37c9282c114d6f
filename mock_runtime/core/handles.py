"""Opaque handles handed to C callers.

A handle is a fake address: ``base + STEP * n`` where ``base`` gives each kind
a range of its own and ``n`` counts the handles of that kind ever issued (a
generation number that is never reused). So a stale or wrong-kind handle is
recognised forever -- any aligned value of the range below the counter that is
not live was destroyed -- while only the live objects are kept. The ranges
(2**44 handles per kind) sit far above the device addresses; nothing ever
dereferences them.
"""
from __future__ import annotations

import itertools
import threading
from typing import Generic, TypeVar

from mock_runtime.core.errors import MockError

T = TypeVar("T")

_BASE = 0x5000_0000_0000_0000
_KIND_SPAN = 1 << 48
STEP = 16

_kinds = itertools.count(1)


class HandleTable(Generic[T]):
    """Live objects of one kind, keyed by their handle."""

    def __init__(self, kind: str, error_code: int) -> None:
        self.kind = kind
        self.error_code = error_code
        self._base = _BASE + next(_kinds) * _KIND_SPAN
        self._issued = 0
        self._live: dict[int, T] = {}
        self._lock = threading.Lock()

    def add(self, obj: T) -> int:
        with self._lock:
            if self._issued + 1 >= _KIND_SPAN // STEP:
                raise MockError(self.error_code, f"the mock issued all {self._issued} {self.kind} handles it can")
            self._issued += 1
            handle = self._base + STEP * self._issued
            self._live[handle] = obj
            return handle

    def _was_issued(self, handle: int) -> bool:
        n, rest = divmod(handle - self._base, STEP)
        return rest == 0 and 1 <= n <= self._issued

    def get(self, handle: int, what: str) -> T:
        """The object behind ``handle``; ``what`` names the parameter in errors."""
        with self._lock:
            obj = self._live.get(handle)
            if obj is not None:
                return obj
            dead = self._was_issued(handle)
        if handle == 0:
            raise MockError(self.error_code, f"{what} is NULL")
        if dead:
            raise MockError(self.error_code, f"{what} ({handle:#x}) is a {self.kind} that was already destroyed")
        raise MockError(self.error_code, f"{what} ({handle:#x}) is not a {self.kind} handle")

    def remove(self, handle: int, what: str) -> T:
        with self._lock:
            obj = self._live.pop(handle, None)
        if obj is None:
            self.get(handle, what)  # raises the right error
        return obj  # type: ignore[return-value]

    def replace(self, handle: int, obj: T, what: str) -> None:
        """Give a live handle a new object (aclInitTensor, aclSetRawTensorAddr)."""
        with self._lock:
            if handle in self._live:
                self._live[handle] = obj
                return
        self.get(handle, what)

    def live(self) -> dict[int, T]:
        with self._lock:
            return dict(self._live)

    def clear(self) -> None:
        with self._lock:
            self._live.clear()
