"""One rank of an HCCL communicator (:class:`Communicator`, a resource) and its collectives,
queued on a stream."""
from __future__ import annotations

import weakref
from typing import Any, Iterable

import numpy as np

from .. import arguments
from ..semantics import dtypes as _acl_dtypes
from ..semantics.headers import load
from .._ffi import ffi
from .._loader import library
from .._resource import Resource
from ..check import check_hccl
from ..errors import ArgumentError, HcclError
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
    if stream is None:
        return ffi.NULL
    handle = getattr(stream, "handle", stream)
    return ffi.cast("void *", handle) if isinstance(handle, int) else handle


def _keep(stream: Any, *objects: Any) -> None:
    keep = getattr(stream, "keep", None)
    if keep is not None:
        keep(*objects)


class Communicator(Resource):
    """One rank of an HCCL communicator (an ``HcclComm``); ``close()`` is ``HcclCommDestroy``."""

    _destroy = "HcclCommDestroy"
    _check = staticmethod(check_hccl)

    def __init__(self, handle: Any, device: int | None = None) -> None:
        self._own(handle)
        _open.add(self)
        self.device = device
        self._name: str | None = None
        self._rank: int | None = None
        self._size: int | None = None

    def __repr__(self) -> str:
        if self.closed:
            return "<hccl.Communicator (destroyed)>"
        return f"<hccl.Communicator {self.name!r} rank {self.rank}/{self.size} device {self.device}>"

    def _live(self) -> Any:
        if self.closed:
            raise HcclError(_K["HCCL_E_PARA"], "Communicator", "the communicator was destroyed (close())")
        return self.handle

    @property
    def name(self) -> str:
        """``HcclGetCommName``: the same on every rank; the ``group`` of the MC2 operators."""
        if self._name is None:
            buf = ffi.new("char[]", COMM_NAME_MAX_LENGTH)
            check_hccl(library().HcclGetCommName(self._live(), buf), "HcclGetCommName")
            self._name = ffi.string(buf).decode("utf-8", "replace")
        return self._name

    @property
    def rank(self) -> int:
        """``HcclGetRankId``."""
        if self._rank is None:
            out = ffi.new("uint32_t *")
            check_hccl(library().HcclGetRankId(self._live(), out), "HcclGetRankId")
            self._rank = int(out[0])
        return self._rank

    @property
    def size(self) -> int:
        """``HcclGetRankSize``."""
        if self._size is None:
            out = ffi.new("uint32_t *")
            check_hccl(library().HcclGetRankSize(self._live(), out), "HcclGetRankSize")
            self._size = int(out[0])
        return self._size

    def all_reduce(self, send: Any, recv: Any, count: int, dtype: Any, op: Any = "sum", stream: Any = None) -> None:
        """``HcclAllReduce`` of ``count`` elements (queued on ``stream``; None = default stream)."""
        dt, rop, count = hccl_dtype(dtype), reduce_op(op), _count(count)
        nbytes = count * _acl_dtypes.hccl_bytes(dt)
        status = library().HcclAllReduce(_pointer(send, nbytes, "send"), _pointer(recv, nbytes, "recv"), count,
                                         dt, rop, self._live(), _stream_handle(stream))
        check_hccl(status, "HcclAllReduce")
        _keep(stream, send, recv, self)

    def all_gather(self, send: Any, recv: Any, count: int, dtype: Any, stream: Any = None) -> None:
        """``HcclAllGather``: ``count`` elements from every rank into ``recv`` (``count * size`` elements)."""
        dt, count = hccl_dtype(dtype), _count(count)
        nbytes = count * _acl_dtypes.hccl_bytes(dt)
        status = library().HcclAllGather(_pointer(send, nbytes, "send"), _pointer(recv, nbytes * self.size, "recv"),
                                         count, dt, self._live(), _stream_handle(stream))
        check_hccl(status, "HcclAllGather")
        _keep(stream, send, recv, self)

    def broadcast(self, buf: Any, count: int, dtype: Any, root: int = 0, stream: Any = None) -> None:
        """``HcclBroadcast`` of ``count`` elements from rank ``root``."""
        dt, count = hccl_dtype(dtype), _count(count)
        nbytes = count * _acl_dtypes.hccl_bytes(dt)
        root = arguments.integer(root, "root", lo=0, hi=2**32 - 1)
        status = library().HcclBroadcast(_pointer(buf, nbytes, "buf"), count, dt, root, self._live(),
                                         _stream_handle(stream))
        check_hccl(status, "HcclBroadcast")
        _keep(stream, buf, self)

    def barrier(self, stream: Any = None) -> None:
        """``HcclBarrier`` (queued on ``stream``)."""
        check_hccl(library().HcclBarrier(self._live(), _stream_handle(stream)), "HcclBarrier")
        _keep(stream, self)

    def async_error(self) -> Result:
        """``HcclGetCommAsyncError``: HCCL_SUCCESS, or the error of a failed collective."""
        out = ffi.new("HcclResult *")
        check_hccl(library().HcclGetCommAsyncError(self._live(), out), "HcclGetCommAsyncError")
        try:
            return Result(int(out[0]))
        except ValueError:
            return int(out[0])  # type: ignore[return-value]


#: The communicators made so far (weakly): :func:`close_all` destroys those still open.
_open: "weakref.WeakSet[Communicator]" = weakref.WeakSet()


def close_quietly(comms: Iterable[Communicator]) -> None:
    """``HcclCommDestroy`` of ``comms``, ignoring failures (a teardown: any collective still waiting
    on one of them ends at once, hcomm docs/zh/api_ref/comm_mgr_c/HcclCommDestroy.md)."""
    for comm in list(comms):
        try:
            comm.close()
        except Exception:  # the teardown goes on; the runtime reports what stayed open
            pass


def close_all() -> None:
    """:func:`close_quietly` of every communicator still open."""
    close_quietly(_open)
