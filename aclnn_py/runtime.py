"""ACL runtime resources: the runtime itself, devices, contexts, streams and events."""
from __future__ import annotations

import sys
from typing import Any, Callable

from . import _teardown
from ._ffi import ffi
from ._loader import library
from ._resource import Resource, handle_of
from .errors import AclError


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
        lib = library()
        status = lib.aclInit(ffi.NULL if config_path is None else config_path.encode())
        self.owned = status != lib.ACL_ERROR_REPEAT_INITIALIZE
        if self.owned:
            check_acl(status, "aclInit")
            _teardown.reopen()
            self._own(ffi.NULL)

    def close(self) -> None:
        if self._disown():
            unwinding = _teardown.unwinding()
            _teardown.begin(unwinding)
            if unwinding:
                _close_communicators()
                _teardown.wait_for_users()
            check_acl(library().aclFinalize(), "aclFinalize")

    @property
    def soc_name(self) -> str | None:
        return _string(library().aclrtGetSocName())

    @property
    def device_count(self) -> int:
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

    def use(self) -> None:
        """Make this device's default context current on the calling thread."""
        check_acl(library().aclrtSetCurrentContext(self.context), "aclrtSetCurrentContext")

    def synchronize(self) -> None:
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

    def make_current(self) -> None:
        """``aclrtSetCurrentContext``: use this context on the calling thread."""
        check_acl(library().aclrtSetCurrentContext(self.handle), "aclrtSetCurrentContext")


class Stream(Resource):
    """A stream of the current context.

    Host objects used by queued work are kept alive until the next successful
    :meth:`synchronize` (:meth:`keep`); resources a wrapper made for queued work
    (device copies of NumPy inputs, tensor lists) are closed then (:meth:`release`),
    so nothing they hold waits for the garbage collector. :meth:`close` does both.
    """

    _destroy = "aclrtDestroyStream"
    _check = staticmethod(check_acl)

    def __init__(self) -> None:
        out = ffi.new("aclrtStream *")
        check_acl(library().aclrtCreateStream(out), "aclrtCreateStream")
        self._own(out[0])
        _teardown.note_user()
        self._keepalive: list[object] = []
        self._owned: list[Resource] = []
        self._workspace = None
        #: Repeatable plans executed here since the last synchronisation -> their phase-2 call with
        #: this stream's workspace (:meth:`aclnn_py.ops._two_phase.Plan.execute`); each entry is
        #: also that plan's queued work here, passed (``plan._passed()``) when the stream has
        #: passed the work, which is also when the workspace may change.
        self._launches: dict[Any, Callable[[], int]] = {}

    def workspace(self, nbytes: int) -> Any:
        """A device pointer to at least ``nbytes`` of operator workspace owned by this stream
        (NULL for 0); grown when an operator needs more, freed with the stream."""
        if nbytes == 0:
            return ffi.NULL
        if self._workspace is None or self._workspace.nbytes < nbytes:
            from .memory import DeviceBuffer

            if self._workspace is not None:
                self.synchronize()  # queued work may still use the old buffer
                self._workspace.close()
            self._workspace = DeviceBuffer(nbytes)
        return self._workspace.ptr

    def keep(self, *objects: object) -> None:
        """Hold references until the next successful :meth:`synchronize`."""
        self._keepalive.extend(objects)

    def release(self, *resources: Resource | None) -> None:
        """Take ownership of ``resources`` (None is skipped) and close them once the stream has
        passed the work queued so far: at the next successful :meth:`synchronize` or :meth:`close`."""
        owned = self._owned
        for resource in resources:
            if resource is not None:
                owned.append(resource)

    def _let_go(self) -> None:
        """After the stream passed its work: drop the references, tell the plans recorded here,
        close what it owns."""
        launches, self._launches = self._launches, {}
        self._keepalive.clear()
        owned, self._owned = self._owned, []
        failures = []
        for plan in launches:
            try:
                plan._passed()
            except Exception as exc:  # release the others first
                failures.append(exc)
        for resource in owned:
            try:
                resource.close()
            except Exception as exc:  # close the others first
                failures.append(exc)
        if failures:
            raise failures[0]

    def synchronize(self, timeout_ms: int | None = None) -> None:
        """Wait for queued work; ``timeout_ms`` raises AclError (ACL_ERROR_RT_STREAM_SYNC_TIMEOUT) when exceeded."""
        lib = library()
        if timeout_ms is None:
            check_acl(lib.aclrtSynchronizeStream(self.handle), "aclrtSynchronizeStream")
        else:
            status = lib.aclrtSynchronizeStreamWithTimeout(self.handle, int(timeout_ms))
            check_acl(status, "aclrtSynchronizeStreamWithTimeout")
        self._let_go()

    def wait_event(self, event: "Event") -> None:
        """Queue a wait: later work on this stream starts after ``event`` completes."""
        check_acl(library().aclrtStreamWaitEvent(self.handle, event.handle), "aclrtStreamWaitEvent")

    def close(self) -> None:
        if not self.closed:
            try:
                self.synchronize()
            except AclError:
                pass  # the stream is going away; its failure was the caller's to collect
        super().close()
        self._let_go()
        if self._workspace is not None:
            self._workspace.close()
            self._workspace = None


class Event(Resource):
    """``aclrtEvent``: record on a stream, wait for it, time between two events."""

    _destroy = "aclrtDestroyEvent"
    _check = staticmethod(check_acl)

    def __init__(self) -> None:
        out = ffi.new("aclrtEvent *")
        check_acl(library().aclrtCreateEvent(out), "aclrtCreateEvent")
        self._own(out[0])

    def record(self, stream: Stream | None = None) -> None:
        check_acl(library().aclrtRecordEvent(self.handle, handle_of(stream)), "aclrtRecordEvent")

    def synchronize(self) -> None:
        check_acl(library().aclrtSynchronizeEvent(self.handle), "aclrtSynchronizeEvent")

    def elapsed_ms(self, end: "Event") -> float:
        """Milliseconds from this event to ``end`` (both recorded and complete)."""
        ms = ffi.new("float *")
        check_acl(library().aclrtEventElapsedTime(ms, self.handle, end.handle), "aclrtEventElapsedTime")
        return float(ms[0])

