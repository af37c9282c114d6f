"""A bounded memo for the binding's hot paths: results of deterministic checks, keyed by every
value the check reads (descriptor layouts, validated call signatures)."""
from __future__ import annotations

import threading
from typing import Any, Hashable


class BoundedMemo:
    """A dict of at most ``capacity`` entries; the oldest entry goes first when it is full.

    Lookups (:attr:`get`) take no lock (a dict read is atomic); insertions do. Only what a
    deterministic function of the key returned belongs here, so a hit is the same result
    the function would compute again.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: dict[Hashable, Any] = {}
        self._lock = threading.Lock()
        self.get = self._items.get

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            items = self._items
            if key not in items and len(items) >= self.capacity:
                del items[next(iter(items))]
            items[key] = value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
