"""One rank of an HCCL communicator (:class:`Communicator`, a resource) and its collectives,
queued on a stream.

A communicator's rank belongs to one device (:attr:`Communicator.device`, recorded where it is
made: :mod:`.constructors`); its collectives are refused on a stream of another device (before
any C call: HCCL would run them as another rank, or wait for a rank that never comes).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import arguments
from ..semantics import dtypes as _acl_dtypes
from ..semantics.headers import load
from .._ffi import ffi
from .._loader import library
from .._resource import Resource
from ..check import check_hccl
from ..errors import ArgumentError
from ..runtime import Stream, current_device_or_none
from .enums import Result, hccl_dtype, reduce_op

_K = load().constants
COMM_NAME_MAX_LENGTH = _K["COMM_NAME_MAX_LENGTH"]


def _count(count: Any) -> int:
    return arguments.integer(count, "count", lo=0, hi=2**64 - 1)


def _pointer(buffer: Any, nbytes: int, what: str) -> Any:
    """A ``void *`` for a DeviceBuffer / Tensor / address / cffi pointer, size-checked when known."""
    from ..memory import DeviceBuffer
    from ..tensor import Tensor

    if isinstance(buffer, Tensor):
        buffer._require_open()
        desc = buffer.desc
        base = buffer.buffer
        offset = desc.offset * _acl_dtypes.bits(desc.dtype) // 8 if desc.offset else 0
        if offset + nbytes > base.nbytes:
            raise ArgumentError(what, f"{nbytes} bytes from element offset {desc.offset} exceed the tensor's "
                                      f"buffer of {base.nbytes} bytes")
        return ffi.cast("char *", base.ptr) + offset
    if isinstance(buffer, DeviceBuffer):
        if nbytes > buffer.nbytes:
            raise ArgumentError(what, f"{nbytes} bytes needed but the DeviceBuffer holds {buffer.nbytes}")
        return buffer.ptr
    if isinstance(buffer, (int, np.integer)):
        return ffi.cast("void *", arguments.integer(buffer, what, lo=0, hi=2**64 - 1))
    if isinstance(buffer, ffi.CData):
        return ffi.cast("void *", buffer)
    raise TypeError(f"{what}: expected a DeviceBuffer, Tensor, device address or cffi pointer, got {type(buffer).__name__}")


def _stream_handle(stream: Any) -> Any:
    """A raw stream handle (an int, a cffi pointer or an object with ``handle``; None for the default
    stream) as a pointer."""
    if stream is None:
        return ffi.NULL
    handle = getattr(stream, "handle", stream)
    return ffi.cast("void *", handle) if isinstance(handle, int) else handle


class Communicator(Resource):
    """One rank of an HCCL communicator (an ``HcclComm``); ``close()`` is ``HcclCommDestroy``."""

    _destroy = "HcclCommDestroy"
    _check = staticmethod(check_hccl)

    def __init__(self, handle: Any, device: int | None = None) -> None:
        self.device = device  #: the device of this rank (None: unknown, nothing is checked)
        self._name: str | None = None
        self._rank: int | None = None
        self._size: int | None = None
        self._own(handle)

    def _label(self) -> str:
        rank = "" if self._rank is None or self._size is None else f" rank {self._rank}/{self._size}"
        name = "" if self._name is None else f" {self._name!r}"
        return f"hccl.Communicator{name}{rank} of device {self.device}"

    def __repr__(self) -> str:
        if self.closed:
            return "<hccl.Communicator (destroyed)>"
        return f"<hccl.Communicator {self.name!r} rank {self.rank}/{self.size} device {self.device}>"

    def _live(self) -> Any:
        return self.handle

    def _queue(self, function: str, stream: Any, call: Callable[[Any, Any], int], *keep: Any) -> None:
        """``call(communicator handle, stream handle)``, a collective queued on ``stream``: a
        :class:`~aclnn_py.Stream` (of this rank's device; queued under its lock, ``keep`` and the
        communicator kept until the stream has passed the work), None (the default stream of the
        calling thread's device, which must be this rank's) or a raw stream handle."""
        comm = self._live()
        if isinstance(stream, Stream):
            stream._require_device(self)
            status = stream._queue(lambda queue: call(comm, queue), (*keep, self))
        else:
            if stream is None and self.device is not None:
                current = current_device_or_none()
                if current is not None and current != self.device:
                    raise ArgumentError("stream", f"None is the default stream of the calling thread's device "
                                                  f"{current}, which cannot carry the work of {self._label()}, "
                                                  f"which belongs to device {self.device}")
            status = call(comm, _stream_handle(stream))
        check_hccl(status, function)

    @property
    def name(self) -> str:
        """``HcclGetCommName``: the same on every rank; the ``group`` of the MC2 operators."""
        comm = self._live()  # also when known: a closed communicator has no name to use
        if self._name is None:
            buf = ffi.new("char[]", COMM_NAME_MAX_LENGTH)
            check_hccl(library().HcclGetCommName(comm, buf), "HcclGetCommName")
            self._name = ffi.string(buf).decode("utf-8", "replace")
        return self._name

    @property
    def rank(self) -> int:
        """``HcclGetRankId``."""
        comm = self._live()
        if self._rank is None:
            out = ffi.new("uint32_t *")
            check_hccl(library().HcclGetRankId(comm, out), "HcclGetRankId")
            self._rank = int(out[0])
        return self._rank

    @property
    def size(self) -> int:
        """``HcclGetRankSize``."""
        comm = self._live()
        if self._size is None:
            out = ffi.new("uint32_t *")
            check_hccl(library().HcclGetRankSize(comm, out), "HcclGetRankSize")
            self._size = int(out[0])
        return self._size

    def all_reduce(self, send: Any, recv: Any, count: int, dtype: Any, op: Any = "sum", stream: Any = None) -> None:
        """``HcclAllReduce`` of ``count`` elements (queued on ``stream``; None = default stream)."""
        dt, rop, count = hccl_dtype(dtype), reduce_op(op), _count(count)
        nbytes = count * _acl_dtypes.hccl_bytes(dt)
        src, dst, run = _pointer(send, nbytes, "send"), _pointer(recv, nbytes, "recv"), library().HcclAllReduce
        self._queue("HcclAllReduce", stream, lambda comm, queue: run(src, dst, count, dt, rop, comm, queue), send, recv)

    def all_gather(self, send: Any, recv: Any, count: int, dtype: Any, stream: Any = None) -> None:
        """``HcclAllGather``: ``count`` elements from every rank into ``recv`` (``count * size`` elements)."""
        dt, count = hccl_dtype(dtype), _count(count)
        nbytes = count * _acl_dtypes.hccl_bytes(dt)
        src, dst = _pointer(send, nbytes, "send"), _pointer(recv, nbytes * self.size, "recv")
        run = library().HcclAllGather
        self._queue("HcclAllGather", stream, lambda comm, queue: run(src, dst, count, dt, comm, queue), send, recv)

    def broadcast(self, buf: Any, count: int, dtype: Any, root: int = 0, stream: Any = None) -> None:
        """``HcclBroadcast`` of ``count`` elements from rank ``root``."""
        dt, count = hccl_dtype(dtype), _count(count)
        nbytes = count * _acl_dtypes.hccl_bytes(dt)
        root = arguments.integer(root, "root", lo=0, hi=2**32 - 1)
        data, run = _pointer(buf, nbytes, "buf"), library().HcclBroadcast
        self._queue("HcclBroadcast", stream, lambda comm, queue: run(data, count, dt, root, comm, queue), buf)

    def barrier(self, stream: Any = None) -> None:
        """``HcclBarrier`` (queued on ``stream``)."""
        run = library().HcclBarrier
        self._queue("HcclBarrier", stream, lambda comm, queue: run(comm, queue))

    def async_error(self) -> Result:
        """``HcclGetCommAsyncError``: HCCL_SUCCESS, or the error of a failed collective."""
        out = ffi.new("HcclResult *")
        check_hccl(library().HcclGetCommAsyncError(self._live(), out), "HcclGetCommAsyncError")
        try:
            return Result(int(out[0]))
        except ValueError:
            return int(out[0])  # type: ignore[return-value]
