"""ACL runtime resources: the runtime itself, devices, contexts, streams and events.

Threads (docs/resources.md): CANN lets threads share a context (aclrtCreateContext:
"multiple threads in the process can share the context") and queue work on one stream; every
class here may be shared. A :class:`Stream` serialises its bookkeeping with a lock of its own
and never holds it while it waits for the device.
"""
from __future__ import annotations

import sys
import threading
from typing import Any, Callable

from . import _teardown
from ._ffi import ffi
from ._loader import library
from ._resource import Resource, owned_ids
from .errors import ArgumentError


from .check import check_acl


def _string(p: Any) -> str | None:
    return None if p == ffi.NULL else ffi.string(p).decode()


class Runtime(Resource):
    """``aclInit`` / ``aclFinalize``.

    When another library in the process already initialised ACL (aclInit
    returns ACL_ERROR_REPEAT_INITIALIZE), the runtime is used as it is and
    ``close()`` leaves it initialised.

    ``close()`` while an exception unwinds the calling thread (a Ctrl-C in ``with Runtime():``)
    first stops the other threads using the runtime: their communicators are destroyed and they
    get a moment to release what they hold (docs/teardown.md).
    """

    _destroy = "aclFinalize"
    _check = staticmethod(check_acl)

    def __init__(self, config_path: str | None = None) -> None:
        self._closed = False
        lib = library()
        status = lib.aclInit(ffi.NULL if config_path is None else config_path.encode())
        self.owned = status != lib.ACL_ERROR_REPEAT_INITIALIZE
        if self.owned:
            check_acl(status, "aclInit")
            _teardown.reopen()
            self._own(ffi.NULL)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._closed = True
        if self._disown():
            unwinding = _teardown.unwinding()
            _teardown.begin(unwinding)
            if unwinding:
                _close_communicators()
                _teardown.wait_for_users()
            check_acl(library().aclFinalize(), "aclFinalize")

    @property
    def soc_name(self) -> str | None:
        self._require_open()
        return _string(library().aclrtGetSocName())

    @property
    def device_count(self) -> int:
        self._require_open()
        return device_count()


def _close_communicators() -> None:
    """Destroy the communicators still open, which ends their collectives at once (loaded only
    when the program made communicators)."""
    communicator = sys.modules.get("aclnn_py.hccl.communicator")
    if communicator is not None:
        communicator.close_all()


def device_count() -> int:
    count = ffi.new("uint32_t *")
    check_acl(library().aclrtGetDeviceCount(count), "aclrtGetDeviceCount")
    return int(count[0])


def current_device() -> int:
    device = ffi.new("int32_t *")
    check_acl(library().aclrtGetDevice(device), "aclrtGetDevice")
    return int(device[0])


def current_device_or_none() -> int | None:
    """The calling thread's current device, None when the runtime cannot tell."""
    device = ffi.new("int32_t *")
    return None if library().aclrtGetDevice(device) else int(device[0])


class Device(Resource):
    """``aclrtSetDevice`` on the calling thread; ``close()`` is ``aclrtResetDevice``.

    CANN counts SetDevice/ResetDevice pairs per device: the device's default
    context and its streams go away with the last reset.
    """

    _destroy = "aclrtResetDevice"
    _check = staticmethod(check_acl)

    def __init__(self, device_id: int = 0) -> None:
        self.id = int(device_id)
        lib = library()
        check_acl(lib.aclrtSetDevice(self.id), "aclrtSetDevice")
        self._own(self.id)
        _teardown.note_user()
        context = ffi.new("aclrtContext *")
        check_acl(lib.aclrtGetCurrentContext(context), "aclrtGetCurrentContext")
        self.context = context[0]

    def _label(self) -> str:
        return f"Device {self.id}"

    def use(self) -> None:
        """Make this device's default context current on the calling thread."""
        self._require_open()
        check_acl(library().aclrtSetCurrentContext(self.context), "aclrtSetCurrentContext")

    def synchronize(self) -> None:
        self._require_open()
        check_acl(library().aclrtSynchronizeDevice(), "aclrtSynchronizeDevice")


class Context(Resource):
    """An explicit context on a device (``aclrtCreateContext``), current on creation."""

    _destroy = "aclrtDestroyContext"
    _check = staticmethod(check_acl)

    def __init__(self, device_id: int) -> None:
        self.device_id = int(device_id)
        out = ffi.new("aclrtContext *")
        check_acl(library().aclrtCreateContext(out, self.device_id), "aclrtCreateContext")
        self._own(out[0])
        _teardown.note_user()

    def _label(self) -> str:
        return f"Context of device {self.device_id}"

    def make_current(self) -> None:
        """``aclrtSetCurrentContext``: use this context on the calling thread."""
        check_acl(library().aclrtSetCurrentContext(self.handle), "aclrtSetCurrentContext")


class _Batch:
    """What a stream holds for the work queued on it between two points in time: host objects
    to keep alive, resources to close, repeatable plans recorded there (plan -> its phase-2 call
    with the workspace of the time, or None once that workspace was replaced)."""

    __slots__ = ("kept", "owned", "launches")

    def __init__(self) -> None:
        self.kept: list[object] = []
        self.owned: list[Resource] = []
        self.launches: dict[Any, Callable[[], int] | None] = {}


class Stream(Resource):
    """A stream of the calling thread's current context, on its current device (:attr:`device`).

    Host objects used by queued work are kept alive (:meth:`keep`), and resources a wrapper
    made for it (device copies of NumPy inputs, tensor lists, a replaced workspace) are closed
    (:meth:`release`), once the stream has passed that work: at the first successful
    :meth:`synchronize` that *began* after they were registered (or :meth:`close`), so
    nothing they hold waits for the garbage collector.

    Threads: any number of threads may queue work on one stream and synchronise it, as CANN
    allows. A lock of the stream's own orders its bookkeeping: the binding queues work and
    registers what the work uses in one step under it, and :meth:`synchronize` takes what was
    registered before it calls ``aclrtSynchronizeStream`` -- outside the lock -- and releases
    only that afterwards; work other threads queue meanwhile keeps what it uses until a later
    synchronisation. :meth:`close` refuses new work at once and waits for synchronisations in
    progress before it destroys the stream.
    """

    _destroy = "aclrtDestroyStream"
    _check = staticmethod(check_acl)

    def __init__(self) -> None:
        out = ffi.new("aclrtStream *")
        check_acl(library().aclrtCreateStream(out), "aclrtCreateStream")
        self._lock = threading.RLock()  # a finalizer may run while this thread holds it
        self._idle = threading.Condition(self._lock)  # no synchronisation in progress (close waits)
        self._syncing = 0
        self._closing = False
        self._keepalive: list[object] = []
        self._owned: list[Resource] = []
        self._workspace = None
        #: Repeatable plans executed here since the last synchronisation -> their phase-2 call with
        #: this stream's workspace (:meth:`aclnn_py.ops._two_phase.Plan.execute`), None once the
        #: workspace was replaced; each entry is also that plan's queued work here, passed
        #: (``plan._passed()``) when the stream has passed the work.
        self._launches: dict[Any, Callable[[], int] | None] = {}
        #: The device the stream was created on (the calling thread's current device then).
        self.device = current_device_or_none()
        self._own(out[0])
        _teardown.note_user()

    def _label(self) -> str:
        return "Stream" if self.device is None else f"Stream of device {self.device}"

    @property
    def lock(self) -> threading.RLock:
        """The stream's (reentrant) lock: the binding holds it while it queues work here and
        registers what the work uses; hold it to do the same through the raw API."""
        return self._lock

    @property
    def closed(self) -> bool:
        return self._closing or id(self) not in owned_ids

    @property
    def handle(self) -> Any:
        return self._live()

    def _live(self) -> Any:
        """The handle; ClosedResourceError once :meth:`close` began."""
        if self._closing or id(self) not in owned_ids:
            raise self._closed_error()
        return self._handle

    def _require_device(self, owner: Resource) -> None:
        """Refuse to carry the work of ``owner`` (a communicator: one rank, on its ``device``) on a
        stream of another device, before any C call: CANN would run it as another rank."""
        device = owner.device
        if device is not None and self.device is not None and device != self.device:
            raise ArgumentError("stream", f"a stream of device {self.device} cannot carry the work of "
                                          f"{owner._label()}, which belongs to device {device}: queue it on "
                                          f"a stream created on device {device}")

    def workspace(self, nbytes: int) -> Any:
        """A device pointer to at least ``nbytes`` of operator workspace owned by this stream
        (NULL for 0), grown when an operator needs more, freed with the stream. A replaced buffer
        is released once the stream has passed the work queued so far (:meth:`release`): a
        pointer stays valid for work queued before the next synchronisation. Threads sharing
        the stream through the raw API hold :attr:`lock` from this call to the launch."""
        with self._lock:
            self._live()
            return self._workspace_pointer(nbytes)

    def _workspace_pointer(self, nbytes: int) -> Any:
        """:meth:`workspace`; the caller holds the lock and launches before releasing it."""
        if nbytes == 0:
            return ffi.NULL
        workspace = self._workspace
        if workspace is None or workspace.nbytes < nbytes:
            from .memory import DeviceBuffer

            grown = DeviceBuffer(nbytes)
            if workspace is not None:
                self._owned.append(workspace)  # queued work may still use it
                self._launches = dict.fromkeys(self._launches)  # the recorded calls use it too
            self._workspace = workspace = grown
        return workspace._handle

    def _queue(self, enqueue: Callable[[Any], int], keep: tuple) -> int:
        """``enqueue(stream handle)`` -- a C call queueing work here -- and :meth:`keep` ``keep``, in
        one step under the lock (never on a stream being closed); the C status."""
        with self._lock:
            status = enqueue(self._live())
            self._keepalive.extend(keep)
        return status

    def keep(self, *objects: object) -> None:
        """Hold references until the stream has passed the work queued so far."""
        with self._lock:
            self._live()
            self._keepalive.extend(objects)

    def release(self, *resources: Resource | None) -> None:
        """Take ownership of ``resources`` (None is skipped) and close them once the stream has
        passed the work queued so far: at the next successful :meth:`synchronize` that begins
        after this call, or :meth:`close`. On a stream already destroyed (all its work done)
        they are closed at once."""
        items = [r for r in resources if r is not None]
        with self._lock:
            if id(self) in owned_ids:
                self._owned.extend(items)
                return
        self._let_go(_Batch(), items)

    def _take(self) -> _Batch:
        """What is registered now (the caller holds the lock), handed over; the stream starts anew."""
        batch = _Batch()
        batch.kept, self._keepalive = self._keepalive, batch.kept
        batch.owned, self._owned = self._owned, batch.owned
        batch.launches, self._launches = self._launches, batch.launches
        return batch

    def _restore(self, batch: _Batch) -> None:
        """Give back what a failed synchronisation took (the caller holds the lock): the stream
        has not passed that work."""
        self._keepalive[:0] = batch.kept
        self._owned[:0] = batch.owned
        for plan in batch.launches:
            if plan in self._launches:
                plan._passed()  # recorded again meanwhile: one record here counts for both
            else:
                self._launches[plan] = None  # its call may use a replaced workspace: made anew

    @staticmethod
    def _let_go(batch: _Batch, owned: list[Resource]) -> None:
        """After the stream passed the work of ``batch``: drop its references, tell the plans
        recorded there, close what it owned and ``owned``."""
        batch.kept.clear()
        failures = []
        for plan in batch.launches:
            try:
                plan._passed()
            except Exception as exc:  # release the others first
                failures.append(exc)
        for resource in (*batch.owned, *owned):
            try:
                resource.close()
            except Exception as exc:  # close the others first
                failures.append(exc)
        if failures:
            raise failures[0]

    def synchronize(self, timeout_ms: int | None = None) -> None:
        """Wait for queued work; ``timeout_ms`` raises AclError (ACL_ERROR_RT_STREAM_SYNC_TIMEOUT)
        when exceeded. Then releases what was registered before the call."""
        lib = library()
        if timeout_ms is None:
            function, name, extra = lib.aclrtSynchronizeStream, "aclrtSynchronizeStream", ()
        else:
            function, name = lib.aclrtSynchronizeStreamWithTimeout, "aclrtSynchronizeStreamWithTimeout"
            extra = (int(timeout_ms),)
        with self._lock:
            handle = self._live()
            batch = self._take()
            self._syncing += 1
        status = None
        try:
            status = function(handle, *extra)  # no Python lock held: this may wait long
        finally:
            with self._lock:
                self._syncing -= 1
                if status != 0:  # failed or interrupted: the work was not passed
                    self._restore(batch)
                if not self._syncing:
                    self._idle.notify_all()
        check_acl(status, name)
        self._let_go(batch, [])

    def wait_event(self, event: "Event") -> None:
        """Queue a wait: later work on this stream starts after ``event`` completes."""
        wait = library().aclrtStreamWaitEvent
        event_handle = event.handle
        check_acl(self._queue(lambda stream: wait(stream, event_handle), (event,)), "aclrtStreamWaitEvent")

    def close(self) -> None:
        """Wait for the queued work, destroy the stream, then release everything it holds
        (again: no effect). New work is refused from the start; synchronisations other threads
        have in progress finish first."""
        with self._lock:
            if self._closing or id(self) not in owned_ids:
                return
            self._closing = True
            while self._syncing:
                self._idle.wait()
            handle = self._handle
        try:
            library().aclrtSynchronizeStream(handle)  # a failure was the caller's to collect
            super().close()
        except BaseException:
            with self._lock:
                self._closing = False  # still open, and still holding what it held
            raise
        with self._lock:
            batch = self._take()
            workspace, self._workspace = self._workspace, None
        self._let_go(batch, [workspace] if workspace is not None else [])


class Event(Resource):
    """``aclrtEvent``: record on a stream, wait for it, time between two events."""

    _destroy = "aclrtDestroyEvent"
    _check = staticmethod(check_acl)

    def __init__(self) -> None:
        out = ffi.new("aclrtEvent *")
        check_acl(library().aclrtCreateEvent(out), "aclrtCreateEvent")
        self._own(out[0])

    def record(self, stream: Stream | None = None) -> None:
        handle = self.handle
        record = library().aclrtRecordEvent
        if stream is None:
            status = record(handle, ffi.NULL)
        else:
            status = stream._queue(lambda queue: record(handle, queue), (self,))
        check_acl(status, "aclrtRecordEvent")

    def synchronize(self) -> None:
        check_acl(library().aclrtSynchronizeEvent(self.handle), "aclrtSynchronizeEvent")

    def elapsed_ms(self, end: "Event") -> float:
        """Milliseconds from this event to ``end`` (both recorded and complete)."""
        ms = ffi.new("float *")
        check_acl(library().aclrtEventElapsedTime(ms, self.handle, end.handle), "aclrtEventElapsedTime")
        return float(ms[0])
