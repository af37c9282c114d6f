"""Process-wide runtime state: initialisation, devices, contexts, streams, events."""
from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field

from mock_runtime.core import config, objects, races
from mock_runtime.core.errors import C, MockError
from mock_runtime.core.handles import HandleTable
from mock_runtime.core.memory import table as memory
from mock_runtime.core.streams import Event, Stream


@dataclass
class Context:
    device: int
    primary: bool
    streams: set[int] = field(default_factory=set)
    default_stream: Stream | None = None


_lock = threading.RLock()
settings: config.Config | None = None
contexts: HandleTable[Context] = HandleTable("aclrtContext", C["ACL_ERROR_RT_CONTEXT_NULL"])
streams: HandleTable[Stream] = HandleTable("aclrtStream", C["ACL_ERROR_RT_PARAM_INVALID"])
events: HandleTable[Event] = HandleTable("aclrtEvent", C["ACL_ERROR_RT_PARAM_INVALID"])
_primary: dict[int, int] = {}  # device -> primary context handle
_references: dict[int, int] = {}  # device -> aclrtSetDevice calls not yet reset
_kept_by_finalize: dict[int, int] = {}  # the same, for the devices still set when aclFinalize ran
_current: dict[int, int] = {}  # thread ident -> context handle
#: Streams, explicit contexts and events aclFinalize stopped. CANN's aclFinalize releases none of
#: them (hicann/runtime src/acl/aclrt_impl/acl.cpp, aclFinalizeInternal): the program still
#: destroys them afterwards, which succeeds here once; any other use is refused.
_stopped_by_finalize: set[int] = set()


def initialize() -> None:
    global settings
    with _lock:
        if settings is not None:
            raise MockError(C["ACL_ERROR_REPEAT_INITIALIZE"], "aclInit: ACL is already initialised in this process")
        try:
            settings = config.from_environment()
        except ValueError as exc:
            raise MockError(C["ACL_ERROR_INVALID_PARAM"], f"aclInit: {exc}") from None
        races.mode = settings.racecheck
        _kept_by_finalize.clear()  # the devices of the previous initialisation are the mock's to forget


def require() -> config.Config:
    if settings is None:
        raise MockError(C["ACL_ERROR_UNINITIALIZE"], "ACL is not initialised: call aclInit first")
    return settings


def leak_report() -> list[str]:
    """What the program did not release (HCCL communicators included)."""
    lines = [f"device buffer of {a.size} bytes at {a.base:#x} on device {a.device}" for a in memory.live()]
    lines += [f"aclTensor {h:#x} of shape {list(d.shape)}" for h, d in objects.tensors.live().items()]
    lines += [f"aclTensorList {h:#x} of {len(m)} tensors" for h, m in objects.tensor_lists.live().items()]
    lines += [f"aclOpExecutor {h:#x} of {e.op}" for h, e in objects.executors.live().items()]
    hccl = sys.modules.get("mock_runtime.hccl.registry")  # loaded with libhccl
    if hccl is not None:
        lines += [f"HcclComm {h:#x} (communicator {c.name!r} rank {c.rank} of {c.size} on device {c.device}; "
                  f"release it with HcclCommDestroy)" for h, c in hccl.comms.live().items()]
    return lines


#: Seconds aclFinalize waits for the tasks still running on its streams once their work is abandoned.
TEARDOWN_GRACE = 2.0


def finalize() -> None:
    """Tear everything down without waiting for work that can no longer complete; report leaks
    and abandoned work (an error under ACLNN_MOCK_STRICT=1).

    CANN documents what aclrtDestroyStream and aclrtResetDevice do with unfinished tasks (they
    wait for them), not what aclFinalize does. The mock's choice: aclFinalize abandons the work
    still queued on every stream (:meth:`Stream.abandon`: cancelled, never run; a host thread
    waiting for a stream or an event gets ACL_ERROR_RT_STREAM_ABORT) and makes every
    communicator of this process leave its rendezvous, which fails the collectives waiting for
    it at once, here and in the other processes (as a cross-thread HcclCommDestroy terminates a
    running collective, hcomm docs/zh/api_ref/comm_mgr_c/HcclCommDestroy.md). A task still
    running then has :data:`TEARDOWN_GRACE` seconds to end; one that does not (a long
    computation) is reported and left to finish on its own: it only touches allocations it
    holds, which aclFinalize does not free. The streams, contexts and events stopped here
    remain the program's to destroy (:data:`_stopped_by_finalize`)."""
    global settings
    with _lock:
        current = require()
        leaks = leak_report()
        streams_handles = list(streams.live())
        closing = [streams.remove(handle, "stream") for handle in streams_handles]
        closing += [ctx.default_stream for ctx in contexts.live().values() if ctx.default_stream is not None]
        waited = list(events.live().values())
        _stopped_by_finalize.update(streams_handles)
        _stopped_by_finalize.update(h for h, ctx in contexts.live().items() if not ctx.primary)
        _stopped_by_finalize.update(events.live())
        contexts.clear()
        events.clear()
        _primary.clear()
        _current.clear()
        races.reset()
        # CANN's aclFinalize does not reset the devices (runtime src/acl/aclrt_impl/acl.cpp,
        # aclFinalizeInternal): an aclrtResetDevice after it still undoes an aclrtSetDevice
        _kept_by_finalize.update(_references)
        _references.clear()
        settings = None
    for event in waited:
        event.abandon()
    abandoned = _abandon(closing)
    if leaks or abandoned:
        text = "aclFinalize: " + "; ".join((["leaked " + "; ".join(leaks)] if leaks else []) + abandoned)
        print(f"[aclnn-py mock] {text}", file=sys.stderr)
        if current.strict:
            raise MockError(C["ACL_ERROR_RELATIVE_RESOURCE_NOT_CLEARED"], text)


def _abandon(closing: list[Stream]) -> list[str]:
    """Stop ``closing`` without finishing their work; what was abandoned, for the report."""
    report = [line for s in closing if (line := s.abandon("aclFinalize abandoned the stream's work")) is not None]
    hccl = sys.modules.get("mock_runtime.hccl.registry")  # loaded with libhccl
    if hccl is not None:
        hccl.abandon_all("called aclFinalize with the communicator alive (its collectives are abandoned)")
    deadline = time.monotonic() + TEARDOWN_GRACE
    for s in closing:
        running = s.join(deadline - time.monotonic())
        if running is not None:
            report.append(f"{running} on {s.label} still running {TEARDOWN_GRACE:g} s after aclFinalize "
                          f"(left to finish on its own)")
    return report


def check_device(device: int) -> int:
    count = require().device_count
    if not 0 <= device < count:
        raise MockError(C["ACL_ERROR_RT_INVALID_DEVICEID"], f"device id {device} is not in [0, {count})")
    return device


def set_device(device: int) -> None:
    with _lock:
        check_device(device)
        handle = _primary.get(device)
        if handle is None:
            handle = _primary[device] = contexts.add(Context(device, primary=True))
        _references[device] = _references.get(device, 0) + 1
        _current[threading.get_ident()] = handle


def reset_device(device: int) -> None:
    """Undo one aclrtSetDevice; the last one releases the device's default context and streams.

    As CANN's (runtime src/runtime/core/src/runtime.cc, PrimaryContextRelease): it needs no
    aclInit (a device set before aclFinalize is reset after it), and a device with no
    aclrtSetDevice to undo is ACL_ERROR_RT_CONTEXT_RELEASE_ERROR (507007)."""
    with _lock:
        if settings is None:
            if _kept_by_finalize.get(device, 0) < 1:
                raise MockError(C["ACL_ERROR_RT_CONTEXT_RELEASE_ERROR"], f"aclrtResetDevice: device {device} is not set "
                                "(no aclrtSetDevice of it before aclFinalize is left to undo)")
            _kept_by_finalize[device] -= 1
            if not _kept_by_finalize[device]:
                del _kept_by_finalize[device]
            return
        check_device(device)
        if _references.get(device, 0) < 1:
            raise MockError(C["ACL_ERROR_RT_CONTEXT_RELEASE_ERROR"], f"aclrtResetDevice: device {device} is not set "
                            "in this process (no aclrtSetDevice of it is left to undo)")
        if _references.get(device, 0) > 1:
            _references[device] -= 1
            return
        _references.pop(device, None)
        handle = _primary.pop(device, None)
        closing = [] if handle is None else _destroy_context(handle)
    _close(closing)


def create_context(device: int) -> int:
    with _lock:
        check_device(device)
        handle = contexts.add(Context(device, primary=False))
        _current[threading.get_ident()] = handle
        return handle


def _destroyed_after_finalize(handle: int) -> bool:
    """Whether ``handle`` is one aclFinalize stopped, now destroyed by the program (under ``_lock``)."""
    if handle in _stopped_by_finalize:
        _stopped_by_finalize.discard(handle)
        return True
    return False


def destroy_context(handle: int) -> None:
    with _lock:
        if _destroyed_after_finalize(handle):
            return
        ctx = contexts.get(handle, "context")
        if ctx.primary:
            raise MockError(C["ACL_ERROR_RT_PARAM_INVALID"], "aclrtDestroyContext: the default context of a device is released by aclrtResetDevice")
        closing = _destroy_context(handle)
    _close(closing)


def _destroy_context(handle: int) -> list[Stream]:
    """Forget a context (under ``_lock``); returns its streams, for :func:`_close` after the lock."""
    ctx = contexts.remove(handle, "context")
    closing = [streams.remove(s, "stream") for s in list(ctx.streams)]
    if ctx.default_stream is not None:
        closing.append(ctx.default_stream)
    for ident, h in list(_current.items()):
        if h == handle:
            del _current[ident]
    return closing


def _close(closing: list[Stream]) -> None:
    """Finish and stop streams. Never under ``_lock``: a stream's worker may need it to finish."""
    for s in closing:
        s.close()


def set_current_context(handle: int) -> None:
    with _lock:
        require()
        contexts.get(handle, "context")
        _current[threading.get_ident()] = handle


def current_context_handle() -> int:
    require()
    handle = _current.get(threading.get_ident())
    if handle is None:
        raise MockError(C["ACL_ERROR_RT_CONTEXT_NULL"], "no current context on this thread: call aclrtSetDevice or aclrtSetCurrentContext first")
    return handle


def current_context() -> Context:
    return contexts.get(current_context_handle(), "current context")


def current_device() -> int:
    return current_context().device


def create_stream() -> int:
    ctx = current_context()
    stream = Stream(ctx.device, f"dev{ctx.device}")  # starts a thread: never under _lock
    with _lock:
        handle = streams.add(stream)
        stream.label = f"stream {handle:#x} (device {ctx.device})"
        ctx.streams.add(handle)
        return handle


def destroy_stream(handle: int) -> None:
    with _lock:
        if _destroyed_after_finalize(handle):
            return
        stream = streams.remove(handle, "stream")
        for ctx in contexts.live().values():
            ctx.streams.discard(handle)
    stream.close()


def destroy_event(handle: int) -> None:
    with _lock:
        if _destroyed_after_finalize(handle):
            return
        events.remove(handle, "event")


def stream(handle: int, what: str = "stream") -> Stream:
    """The stream behind a handle; NULL means the current context's default stream."""
    if handle:
        return streams.get(handle, what)
    ctx = current_context()
    with _lock:
        if ctx.default_stream is not None:
            return ctx.default_stream
    fresh = Stream(ctx.device, f"dev{ctx.device}-default")  # starts a thread: never under _lock
    fresh.label = f"the default stream of device {ctx.device}"
    with _lock:
        if ctx.default_stream is None:
            ctx.default_stream, fresh = fresh, None
        current = ctx.default_stream
    if fresh is not None:
        fresh.close()
    return current


def synchronize_device() -> None:
    ctx = current_context()
    targets = [streams.get(h, "stream") for h in list(ctx.streams)]
    if ctx.default_stream is not None:
        targets.append(ctx.default_stream)
    for s in targets:
        s.synchronize()
