"""Device memory: ``aclrtMalloc`` buffers with host<->device and device<->device copies."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import arguments
from ._ffi import ffi
from ._loader import library
from ._resource import Resource, require_open
from .errors import ArgumentError
from .check import check_acl

if TYPE_CHECKING:
    from .runtime import Stream


def _host_pointer(array: np.ndarray) -> Any:
    return ffi.cast("void *", array.ctypes.data)


class DeviceBuffer(Resource):
    """``nbytes`` of device memory on the current device, freed by ``close()``.

    Host arrays are copied in native byte order (a big-endian array's values are converted, as
    NumPy's ``astype`` does); :meth:`copy_to_host` refuses a non-native ``out``.
    """

    _destroy = "aclrtFree"
    _check = staticmethod(check_acl)

    def __init__(self, nbytes: int, policy: int | None = None) -> None:
        lib = library()
        self.nbytes = arguments.integer(nbytes, "nbytes", lo=1, hi=2**64 - 1)
        out = ffi.new("void **")
        policy = lib.ACL_MEM_MALLOC_HUGE_FIRST if policy is None else policy
        check_acl(lib.aclrtMalloc(out, self.nbytes, policy), "aclrtMalloc")
        self._own(out[0])
        self._address = int(ffi.cast("uintptr_t", out[0]))

    def _label(self) -> str:
        return f"{type(self).__name__} of {self.nbytes} bytes at {self._address:#x}"

    @property
    def address(self) -> int:
        """The device address as an int."""
        self._require_open()
        return self._address

    @classmethod
    def from_numpy(cls, array: np.ndarray, stream: Stream | None = None) -> "DeviceBuffer":
        """A new buffer holding the bytes of ``array`` (in native byte order)."""
        require_open(stream)
        array = np.ascontiguousarray(arguments.as_array(array))
        buf = cls(max(array.nbytes, 1))
        try:
            buf.copy_from_host(array, stream=stream)
        except BaseException:
            buf.close()
            raise
        return buf

    ptr = Resource.handle  #: the device address as a ``void *`` (the handle)

    def _at(self, offset: int, nbytes: int) -> Any:
        handle = self.handle
        if offset < 0 or nbytes < 0 or offset + nbytes > self.nbytes:
            raise ArgumentError("offset", f"bytes [{offset}, {offset + nbytes}) are outside the buffer of "
                                          f"{self.nbytes} bytes")
        return ffi.cast("char *", handle) + offset

    def copy_from_host(self, array: np.ndarray, offset: int = 0, stream: Stream | None = None) -> None:
        """Host -> device (synchronous, or queued on ``stream`` keeping ``array`` alive until the
        stream has passed the copy); a non-native byte order is converted first."""
        array = np.ascontiguousarray(arguments.as_array(array))
        self._copy(self._at(offset, array.nbytes), _host_pointer(array), array.nbytes, "HOST_TO_DEVICE", stream, array)

    def copy_to_host(self, out: np.ndarray, offset: int = 0, stream: Stream | None = None) -> np.ndarray:
        """Device -> host into the contiguous array ``out`` (filled after sync when queued)."""
        if not out.flags.c_contiguous or not out.flags.writeable:
            raise ArgumentError("out", "must be a writeable C-contiguous array")
        if not out.dtype.isnative:
            raise ArgumentError("out", f"has non-native byte order (dtype {out.dtype.str}): the device holds "
                                       f"native-order values; pass an array of dtype "
                                       f"{out.dtype.newbyteorder('=').str}")
        self._copy(_host_pointer(out), self._at(offset, out.nbytes), out.nbytes, "DEVICE_TO_HOST", stream, out)
        return out

    def to_numpy(self, dtype=np.uint8, shape=None, offset: int = 0) -> np.ndarray:
        """A new host array read from the buffer (all bytes from ``offset`` when ``shape`` is None);
        a non-native ``dtype`` gets the values in that byte order."""
        dtype = np.dtype(dtype)
        if shape is None:
            shape = ((self.nbytes - offset) // dtype.itemsize,)
        native = dtype.newbyteorder("=")
        values = self.copy_to_host(np.empty(shape, native), offset)
        return values if dtype == native else values.astype(dtype)

    def copy_from(self, source: "DeviceBuffer", nbytes: int | None = None, *, offset: int = 0,
                  source_offset: int = 0, stream: Stream | None = None) -> None:
        """Device -> device."""
        nbytes = source.nbytes - source_offset if nbytes is None else nbytes
        self._copy(self._at(offset, nbytes), source._at(source_offset, nbytes), nbytes, "DEVICE_TO_DEVICE", stream, source)

    def memset(self, value: int, nbytes: int | None = None, offset: int = 0, stream: Stream | None = None) -> None:
        """Fill bytes with ``value`` (``aclrtMemset`` / ``aclrtMemsetAsync``)."""
        lib = library()
        value = arguments.integer(value, "value", lo=-(2**31), hi=2**31 - 1)
        nbytes = self.nbytes - offset if nbytes is None else nbytes
        dst = self._at(offset, nbytes)
        if stream is None:
            check_acl(lib.aclrtMemset(dst, nbytes, value, nbytes), "aclrtMemset")
        else:
            memset = lib.aclrtMemsetAsync
            status = _queue_of(stream)(lambda queue: memset(dst, nbytes, value, nbytes, queue), (self,))
            check_acl(status, "aclrtMemsetAsync")

    def _copy(self, dst: Any, src: Any, nbytes: int, kind: str, stream: Stream | None, keep: object) -> None:
        lib = library()
        kind_value = getattr(lib, f"ACL_MEMCPY_{kind}")
        if stream is None:
            check_acl(lib.aclrtMemcpy(dst, nbytes, src, nbytes, kind_value), "aclrtMemcpy")
        else:
            copy = lib.aclrtMemcpyAsync
            status = _queue_of(stream)(lambda queue: copy(dst, nbytes, src, nbytes, kind_value, queue), (keep, self))
            check_acl(status, "aclrtMemcpyAsync")


def _queue_of(stream: Any) -> Any:
    """How work is queued on ``stream`` (a :class:`Stream`); a TypeError naming what was given otherwise."""
    try:
        return stream._queue
    except AttributeError:
        raise TypeError(f"stream: expected an aclnn_py.Stream, got {type(stream).__name__}") from None


class BorrowedBuffer(DeviceBuffer):
    """``nbytes`` of device memory at ``address`` that someone else allocated and frees (a
    torch_npu tensor's storage, say): the copies of :class:`DeviceBuffer`, and ``close()``
    only forgets the memory -- aclnn-py never frees it."""

    def __init__(self, address: int, nbytes: int) -> None:
        self.nbytes = arguments.integer(nbytes, "nbytes", lo=1, hi=2**64 - 1)
        self._address = arguments.integer(address, "address", lo=1, hi=2**64 - 1)
        self._handle = ffi.cast("void *", self._address)
        self._borrowed = True

    @property
    def closed(self) -> bool:
        return not self._borrowed

    @property
    def handle(self) -> Any:
        self._require_open()
        return self._handle

    ptr = handle

    def close(self) -> None:
        self._borrowed = False
