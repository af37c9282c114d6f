"""libascendcl.so: ACL initialisation, devices, contexts, streams, memory, events.

aclrtGetMemInfo: the mock's devices have only HBM (core/memory.py: 64 GiB
each). The HBM attributes and the generic ACL_MEM_* ones report total = the
device's memory and free = total minus the bytes of its live allocations;
the DDR attributes report 0 free of 0 total (a mock choice: how CANN answers
for DDR on an HBM-only device is not documented). An attribute outside
aclrtMemAttr or a NULL out pointer is ACL_ERROR_INVALID_PARAM (100000); no
current device on the thread is ACL_ERROR_RT_CONTEXT_NULL (107002).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from aclnn_py.semantics import codecs
from aclnn_py.semantics.headers import load
from mock_runtime.core import config, races
from mock_runtime.core import runtime as rt
from mock_runtime.core.errors import C, MockError, take_recent
from mock_runtime.core.memory import DEVICE_MEMORY, host_bytes, table as memory
from mock_runtime.core.streams import Event

ffi: Any = None
lib: Any = None
_strings: dict[str, Any] = {}
_recent_buffers: dict[int, Any] = {}

#: The CANN release the mock reports (aclsysGetVersionStr / Num / aclsysGetCANNVersion).
CANN_VERSION = (8, 5, 0)
_DDR_ATTRS = {C[n] for n in ("ACL_DDR_MEM", "ACL_DDR_MEM_HUGE", "ACL_DDR_MEM_NORMAL",
                                "ACL_DDR_MEM_P2P_HUGE", "ACL_DDR_MEM_P2P_NORMAL")}
_MEM_ATTRS = set(load().enums["aclrtMemAttr"].values())
_POLICY_MASK = C["ACL_MEM_TYPE_LOW_BAND_WIDTH"] | C["ACL_MEM_TYPE_HIGH_BAND_WIDTH"] | C["ACL_MEM_ACCESS_USER_SPACE_READONLY"]



def _addr(p: Any) -> int:
    return int(ffi.cast("uintptr_t", p))


def _out(p: Any, name: str) -> Any:
    if p == ffi.NULL:
        raise MockError(C["ACL_ERROR_INVALID_PARAM"], f"{name} is NULL")
    return p


def _static_string(text: str) -> Any:
    if text not in _strings:
        _strings[text] = ffi.new("char[]", text.encode())
    return _strings[text]


# -- initialisation and versions ---------------------------------------------
def aclInit(configPath):
    rt.initialize()


def aclFinalize():
    rt.finalize()


def aclGetRecentErrMsg():
    import threading

    text = take_recent()
    if text is None:
        return ffi.NULL
    buf = ffi.new("char[]", text.encode("utf-8", "replace"))
    _recent_buffers[threading.get_ident()] = buf  # valid until this thread's next call
    return buf


def aclrtGetVersion(majorVersion, minorVersion, patchVersion):
    _out(majorVersion, "majorVersion")[0] = C["ACL_MAJOR_VERSION"]
    _out(minorVersion, "minorVersion")[0] = C["ACL_MINOR_VERSION"]
    _out(patchVersion, "patchVersion")[0] = C["ACL_PATCH_VERSION"]


def _version_text() -> str:
    return ".".join(map(str, CANN_VERSION))


def aclsysGetCANNVersion(name, version):
    v = _out(version, "version")
    major, minor, patch = (str(x).encode() for x in CANN_VERSION)
    v.version = _version_text().encode()
    v.majorVersion, v.minorVersion, v.releaseVersion, v.patchVersion = major, minor, patch, b"0"


def aclsysGetVersionStr(pkgName, versionStr):
    _out(pkgName, "pkgName")
    ffi.memmove(_out(versionStr, "versionStr"), _version_text().encode() + b"\0", len(_version_text()) + 1)


def aclsysGetVersionNum(pkgName, versionNum):
    _out(pkgName, "pkgName")
    major, minor, patch = CANN_VERSION
    _out(versionNum, "versionNum")[0] = major * 10_000_000 + minor * 100_000 + patch * 1_000


def aclrtGetSocName():
    # CANN answers without aclInit (runtime src/acl/aclrt_impl/acl_rt_impl_base.cpp); NULL when unknown
    settings = rt.settings
    name = settings.soc_name if settings else config.soc_from_environment()
    return _static_string(name) if name else ffi.NULL


def aclFloat16ToFloat(value):
    return codecs.acl_float16_to_float(value)


def aclFloatToFloat16(value):
    return codecs.acl_float_to_float16(value)


# -- devices and contexts ----------------------------------------------------
def aclrtSetDevice(deviceId):
    rt.set_device(deviceId)


def aclrtResetDevice(deviceId):
    rt.reset_device(deviceId)


def aclrtGetDevice(deviceId):
    _out(deviceId, "deviceId")[0] = rt.current_device()


def aclrtGetDeviceCount(count):
    _out(count, "count")[0] = rt.require().device_count


def aclrtSynchronizeDevice():
    rt.synchronize_device()


def aclrtCreateContext(context, deviceId):
    _out(context, "context")[0] = ffi.cast("void *", rt.create_context(deviceId))


def aclrtDestroyContext(context):
    rt.destroy_context(_addr(context))


def aclrtSetCurrentContext(context):
    rt.set_current_context(_addr(context))


def aclrtGetCurrentContext(context):
    _out(context, "context")[0] = ffi.cast("void *", rt.current_context_handle())


# -- streams and events ------------------------------------------------------
def aclrtCreateStream(stream):
    _out(stream, "stream")[0] = ffi.cast("void *", rt.create_stream())


def aclrtDestroyStream(stream):
    if stream == ffi.NULL:
        raise MockError(C["ACL_ERROR_INVALID_PARAM"], "stream is NULL")
    rt.destroy_stream(_addr(stream))


def aclrtSynchronizeStream(stream):
    rt.stream(_addr(stream)).synchronize()


def aclrtSynchronizeStreamWithTimeout(stream, timeout):
    if timeout < -1:
        raise MockError(C["ACL_ERROR_INVALID_PARAM"], f"timeout {timeout} ms must be -1 (wait forever) or >= 0")
    rt.stream(_addr(stream)).synchronize(timeout)


def aclrtCreateEvent(event):
    rt.require()
    _out(event, "event")[0] = ffi.cast("void *", rt.events.add(Event()))


def aclrtDestroyEvent(event):
    rt.destroy_event(_addr(event))


def aclrtRecordEvent(event, stream):
    rt.events.get(_addr(event), "event").record(rt.stream(_addr(stream)))


def aclrtSynchronizeEvent(event):
    rt.events.get(_addr(event), "event").synchronize()


def aclrtStreamWaitEvent(stream, event):
    ev = rt.events.get(_addr(event), "event")
    ev.make_wait(rt.stream(_addr(stream)))


def aclrtEventElapsedTime(ms, startEvent, endEvent):
    start = rt.events.get(_addr(startEvent), "startEvent")
    end = rt.events.get(_addr(endEvent), "endEvent")
    if start.timestamp is None or end.timestamp is None:
        raise MockError(C["ACL_ERROR_RT_PARAM_INVALID"], "aclrtEventElapsedTime: both events must have been recorded and completed")
    _out(ms, "ms")[0] = (end.timestamp - start.timestamp) * 1000.0


# -- memory ------------------------------------------------------------------
def aclrtMalloc(devPtr, size, policy):
    _out(devPtr, "devPtr")
    if size == 0:
        raise MockError(C["ACL_ERROR_INVALID_PARAM"], "aclrtMalloc: size must be > 0")
    if not 0 <= (policy & ~_POLICY_MASK) <= C["ACL_MEM_MALLOC_HUGE1G_ONLY_P2P"]:
        raise MockError(C["ACL_ERROR_INVALID_PARAM"], f"aclrtMalloc: policy {policy} is not an aclrtMemMallocPolicy")
    devPtr[0] = ffi.cast("void *", memory.allocate(rt.current_device(), size).base)


def aclrtFree(devPtr):
    rt.require()
    if devPtr == ffi.NULL:
        raise MockError(C["ACL_ERROR_INVALID_PARAM"], "aclrtFree: devPtr is NULL")
    address = _addr(devPtr)
    alloc = memory.find(address)
    if alloc is not None and alloc.live and alloc.base == address:  # queued work must be done with it
        races.host_access("aclrtFree", [races.Access(alloc.base, alloc.end, True, "devPtr")], action="frees")
    memory.free(address)


def aclrtGetMemInfo(attr, free, total):
    if attr not in _MEM_ATTRS:
        raise MockError(C["ACL_ERROR_INVALID_PARAM"], f"aclrtGetMemInfo: attr {attr} is not an aclrtMemAttr")
    _out(free, "free")
    _out(total, "total")
    device = rt.current_device()
    if attr in _DDR_ATTRS:
        free[0], total[0] = 0, 0
    else:
        free[0], total[0] = DEVICE_MEMORY - memory.used(device), DEVICE_MEMORY


def aclrtMallocHost(hostPtr, size):
    rt.require()
    _out(hostPtr, "hostPtr")
    if size == 0:
        raise MockError(C["ACL_ERROR_INVALID_PARAM"], "aclrtMallocHost: size must be > 0")
    hostPtr[0] = ffi.cast("void *", memory.allocate_host(size))


def aclrtFreeHost(hostPtr):
    rt.require()
    memory.free_host(_addr(hostPtr))


_KINDS = {
    C["ACL_MEMCPY_HOST_TO_HOST"]: ("host", "host"),
    C["ACL_MEMCPY_HOST_TO_DEVICE"]: ("host", "device"),
    C["ACL_MEMCPY_DEVICE_TO_HOST"]: ("device", "host"),
    C["ACL_MEMCPY_DEVICE_TO_DEVICE"]: ("device", "device"),
    C["ACL_MEMCPY_HOST_TO_BUF_TO_DEVICE"]: ("host", "device"),
    C["ACL_MEMCPY_INNER_DEVICE_TO_DEVICE"]: ("device", "device"),
    C["ACL_MEMCPY_INTER_DEVICE_TO_DEVICE"]: ("device", "device"),
}


def _side(address: int) -> str:
    return "device" if memory.is_device_address(address) else "host"


def _plan_copy(dst: int, dest_max: int, src: int, count: int, kind: int, what: str):
    """Check a copy now; return the task that performs it and the memory it touches."""
    rt.require()
    if dst == 0 or src == 0:
        raise MockError(C["ACL_ERROR_INVALID_PARAM"], f"{what}: {'dst' if dst == 0 else 'src'} is NULL")
    if count > dest_max:
        raise MockError(C["ACL_ERROR_INVALID_PARAM"], f"{what}: count {count} exceeds destMax {dest_max}")
    if kind == C["ACL_MEMCPY_DEFAULT"]:
        sides = (_side(src), _side(dst))
    elif kind in _KINDS:
        sides = _KINDS[kind]
        for role, address, side in (("src", src, sides[0]), ("dst", dst, sides[1])):
            if _side(address) != side:
                raise MockError(C["ACL_ERROR_INVALID_PARAM"], f"{what}: kind {kind} needs a {side} {role}, but {address:#x} is a {_side(address)} address")
    else:
        raise MockError(C["ACL_ERROR_INVALID_PARAM"], f"{what}: kind {kind} is not an aclrtMemcpyKind")

    def view(address: int, side: str, role: str) -> np.ndarray:
        return memory.region(address, count, f"{what} {role}") if side == "device" else host_bytes(address, count)

    for address, side, role in ((src, sides[0], "src"), (dst, sides[1], "dst")):
        if side == "device":
            view(address, side, role)  # range and liveness are checked at the call

    def copy() -> None:
        if count:
            view(dst, sides[1], "dst")[...] = view(src, sides[0], "src")

    accesses = [races.Access(src, src + count, False, "src"), races.Access(dst, dst + count, True, "dst")] if count else []
    return copy, accesses


def aclrtMemcpy(dst, destMax, src, count, kind):
    copy, accesses = _plan_copy(_addr(dst), destMax, _addr(src), count, kind, "aclrtMemcpy")
    races.host_access("aclrtMemcpy", accesses)
    copy()


def aclrtMemcpyAsync(dst, destMax, src, count, kind, stream):
    task, accesses = _plan_copy(_addr(dst), destMax, _addr(src), count, kind, "aclrtMemcpyAsync")
    rt.stream(_addr(stream)).submit("aclrtMemcpyAsync", task, accesses)


def _plan_memset(dev: int, max_count: int, value: int, count: int, what: str):
    rt.require()
    if count > max_count:
        raise MockError(C["ACL_ERROR_INVALID_PARAM"], f"{what}: count {count} exceeds maxCount {max_count}")
    memory.region(dev, count, what)

    def fill() -> None:
        memory.region(dev, count, what)[...] = value & 0xFF

    return fill, [races.Access(dev, dev + count, True, "devPtr")] if count else []


def aclrtMemset(devPtr, maxCount, value, count):
    fill, accesses = _plan_memset(_addr(devPtr), maxCount, value, count, "aclrtMemset")
    races.host_access("aclrtMemset", accesses)
    fill()


def aclrtMemsetAsync(devPtr, maxCount, value, count, stream):
    task, accesses = _plan_memset(_addr(devPtr), maxCount, value, count, "aclrtMemsetAsync")
    rt.stream(_addr(stream)).submit("aclrtMemsetAsync", task, accesses)
