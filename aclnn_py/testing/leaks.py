"""A leak check over the binding's own resources, the same on every backend.

Every :class:`aclnn_py._resource.Resource` (device buffers, tensors, tensor lists,
int arrays, streams, events, contexts, devices, HCCL communicators, operator plans
holding an executor) is numbered when it takes its handle. :class:`LeakCheck`
notes the number when it starts and, when it stops (after a garbage collection),
lists the resources created since that still hold their handle:

* a resource held by an older open one (a long-lived stream's workspace, the work a
  long-lived stream still keeps) belongs to that one and is not a leak;
* a leaked resource that holds others (a tensor and the buffer it allocated) is
  reported once, with the number of resources it holds;
* resources created while the check is :meth:`~LeakCheck.paused` (the pytest plugin
  pauses it while a session- or module-scoped fixture is set up), and those the
  ``owners`` given to :meth:`~LeakCheck.leaks` hold (the plugin passes the values of
  the test's broader-scoped fixtures), are not counted.

:meth:`~LeakCheck.release` closes what was reported (the plugin does after a test's
report, so a leak is reported once, in the test that made it).

Handles made through the raw C API (``aclnn_py.lib``) are not seen: on the mock,
``aclFinalize`` reports those (an error under ``ACLNN_MOCK_STRICT=1``).
"""
from __future__ import annotations

import gc
import os
import sys
import sysconfig
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from .. import _resource
from .._resource import Resource

__all__ = ["Leak", "LeakCheck", "describe"]

_PACKAGE = str(Path(__file__).resolve().parent.parent) + os.sep
_STDLIB = sysconfig.get_paths()["stdlib"] + os.sep


@dataclass(frozen=True)
class Leak:
    """A resource left open: what it is, where it was created, the kinds of the open
    resources it holds (a tensor's own buffer, a plan's device copies...)."""

    description: str
    created_at: str
    holds: tuple[str, ...] = ()

    def __str__(self) -> str:
        held = f" (and the {', '.join(self.holds)} it holds)" if self.holds else ""
        return f"{self.description}{held}, created at {self.created_at}"


def describe(resource: Resource) -> str:
    """A one-line description naming the kind of resource and what identifies it."""
    kind = type(resource).__name__
    if hasattr(resource, "desc") and hasattr(resource, "buffer"):  # Tensor
        return repr(resource)
    if hasattr(resource, "nbytes") and hasattr(resource, "address"):  # DeviceBuffer
        return f"{kind} of {resource.nbytes} bytes at {resource.address:#x}"
    if hasattr(resource, "tensors"):  # TensorList
        return f"{kind} of {len(resource.tensors)} tensors"
    if hasattr(resource, "op"):  # an operator plan: its executor
        return f"{kind} (aclOpExecutor of {resource.op})"
    if type(resource).__repr__ is not object.__repr__:
        return repr(resource)
    for attribute in ("id", "device_id", "values"):
        if hasattr(resource, attribute):
            return f"{kind} {attribute}={getattr(resource, attribute)!r}"
    return kind


def _site() -> str:
    """file:line of the innermost caller outside aclnn_py and the standard library."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith((_PACKAGE, _STDLIB)) and not filename.startswith("<"):
            return f"{filename}:{frame.f_lineno} in {frame.f_code.co_name}"
        frame = frame.f_back
    return "an unknown place (inside aclnn_py or a library thread)"


def _held(resource: Resource) -> list[Resource]:
    """The resources ``resource`` refers to by attribute, directly or in a list/tuple/dict."""
    found = []
    for value in vars(resource).values():
        items = value.values() if isinstance(value, dict) else value \
            if isinstance(value, (list, tuple, set, frozenset)) else (value,)
        found.extend(item for item in items if isinstance(item, Resource) and item is not resource)
    return found


def _reachable(owners: Iterable[object], within: dict[int, Resource], depth: int = 4) -> set[int]:
    """ids of the resources of ``within`` that ``owners`` hold through attributes and
    containers, at most ``depth`` steps away (a fixture's object keeping a stream, say)."""
    found: set[int] = set()
    seen: set[int] = set()
    level = list(owners)
    for _ in range(depth + 1):
        following = []
        for value in level:
            if id(value) in seen or isinstance(value, (str, bytes, int, float, type, type(sys))):
                continue
            seen.add(id(value))
            if id(value) in within:
                found.add(id(value))
            if isinstance(value, dict):
                following.extend(value.values())
            elif isinstance(value, (list, tuple, set, frozenset)):
                following.extend(value)
            elif hasattr(value, "__dict__") and not callable(value):
                following.extend(vars(value).values())
        level = following
    return found


def _closure(roots: list[Resource], within: dict[int, Resource]) -> set[int]:
    """ids of the resources of ``within`` reachable from ``roots`` through :func:`_held`."""
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        for item in _held(stack.pop()):
            if id(item) in within and id(item) not in seen:
                seen.add(id(item))
                stack.append(item)
    return seen


class LeakCheck:
    """Resources created between :meth:`start` and :meth:`leaks` and still open.

    A context manager too: ``with LeakCheck() as check: ...`` then ``check.leaks()``.
    """

    def __init__(self) -> None:
        self._first = 0
        self._sites: dict[int, str] = {}
        self._excused: list[tuple[int, int]] = []
        self._lock = threading.Lock()
        self._active = False

    def start(self) -> "LeakCheck":
        self._first = _resource.last_serial() + 1
        self._sites.clear()
        self._excused.clear()
        if not self._active:
            _resource.observers.append(self._record)
            self._active = True
        return self

    def stop(self) -> None:
        if self._active:
            _resource.observers.remove(self._record)
            self._active = False

    def __enter__(self) -> "LeakCheck":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _record(self, resource: Resource) -> None:
        self._sites[resource.serial] = _site()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Resources created inside are not this check's business (a broader fixture's)."""
        low = _resource.last_serial() + 1
        try:
            yield
        finally:
            with self._lock:
                self._excused.append((low, _resource.last_serial()))

    def _counted(self, serial: int) -> bool:
        return serial >= self._first and not any(lo <= serial <= hi for lo, hi in self._excused)

    def _left_open(self, owners: Iterable[object]) -> dict[int, Resource]:
        """id -> resource of what was created since :meth:`start`, is still open and is not
        held by an older open resource or by ``owners`` (after a garbage collection)."""
        if not any(self._counted(r.serial) for r in _resource.live()):
            return {}  # nothing new is open: a collection could only close more (a full one costs ~20 ms)
        gc.collect()
        live = _resource.live()
        new = {id(r): r for r in live if self._counted(r.serial)}
        others = [r for r in live if id(r) not in new]  # older, or a broader fixture's
        owned = _closure(others, new) | _reachable(owners, new)
        owned |= _closure([new[key] for key in owned], new)
        return {key: r for key, r in new.items() if key not in owned}

    def leaks(self, owners: Iterable[object] = ()) -> list[Leak]:
        """What was created since :meth:`start` and is still open, after a garbage collection.

        Resources that ``owners`` hold (the values of broader-scoped fixtures, say: a
        module's stream made on first use inside a test) are theirs, not leaks."""
        candidates = self._left_open(owners)
        held_by_candidates = _closure(list(candidates.values()), candidates)
        roots = [r for key, r in candidates.items() if key not in held_by_candidates]
        reported = set(map(id, roots)) | _closure(roots, candidates)
        roots += [r for key, r in candidates.items() if key not in reported]  # cycles among new ones
        def holds(root: Resource) -> tuple[str, ...]:
            held = sorted((candidates[key] for key in _closure([root], candidates)), key=lambda r: r.serial)
            return tuple(type(r).__name__ for r in held)

        return [Leak(describe(r), self._sites.get(r.serial, "an unknown place"), holds(r))
                for r in sorted(roots, key=lambda r: r.serial)]

    def release(self, owners: Iterable[object] = ()) -> int:
        """Close what :meth:`leaks` would report and everything it holds, newest first, so that
        nothing of it is reported again later (by the mock's ``aclFinalize``, say); returns how
        many were closed. A resource the runtime refuses to close (already gone with its device,
        say) is left as it is: it has been reported."""
        left = sorted(self._left_open(owners).values(), key=lambda r: r.serial, reverse=True)
        closed = 0
        for resource in left:
            try:
                resource.close()
            except Exception:  # reported already; the runtime's refusal adds nothing to act on
                continue
            closed += 1
        return closed
