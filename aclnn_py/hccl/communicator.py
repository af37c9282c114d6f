"""One rank of an HCCL communicator (:class:`Communicator`, a resource) and its collectives,
queued on a stream: every operation of ``hccl.h``.

Buffers are :class:`aclnn_py.DeviceBuffer` / :class:`aclnn_py.Tensor` objects (their sizes are
checked against the counts and displacements before the call), device addresses or cffi
pointers; counts are numbers of ELEMENTS; the counts and displacements of the V-variants are
Python sequences with one entry per rank (``send_count_matrix``: one row per rank). CANN
refuses a NULL stream (``stream=None``) for the calls it added after AllReduce, AllGather and
Broadcast (HCCL_E_PTR). Which data types and reduce operations each call accepts per product:
``docs/hccl.md`` (:data:`aclnn_py.semantics.hccl.OPERATIONS`).

A communicator's rank belongs to one device (:attr:`Communicator.device`, recorded where it is
made: :mod:`.constructors`); its calls are refused on a stream of another device (before any C
call: HCCL would run them as another rank, or wait for a rank that never comes).
"""
from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any, Callable, Iterable

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
_U64 = 2**64 - 1
_KINDS = {"send": _K["HCCL_SEND"], "recv": _K["HCCL_RECV"]}


def _per_rank(values: Sequence[int], size: int, parameter: str) -> tuple[int, ...]:
    """``size`` non-negative counts or displacements."""
    numbers = arguments.integers(values, parameter, lo=0, hi=_U64)
    if len(numbers) != size:
        raise ArgumentError(parameter, f"has {len(numbers)} entries; the communicator has {size} ranks (one entry per rank)")
    return numbers


def _u64_array(values: Sequence[int]) -> Any:
    return ffi.new("uint64_t[]", list(values))


def _extent(counts: Sequence[int], displs: Sequence[int]) -> int:
    """Elements a buffer needs for these segments."""
    return max((d + c for c, d in zip(counts, displs) if c), default=0)


def _count(count: Any) -> int:
    return arguments.integer(count, "count", lo=0, hi=_U64)


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


def _buffer(buffer: Any, nbytes: int, what: str) -> Any:
    """:func:`_pointer`, or NULL for None."""
    return ffi.NULL if buffer is None else _pointer(buffer, nbytes, what)


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
        _open.add(self)

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

    def _call(self, function: str, *args: Any, stream: Any, keep: tuple) -> None:
        """``function(*args, comm, stream)`` queued as :meth:`_queue` queues it; ``keep`` lives as
        long as the stream needs it."""
        run = getattr(library(), function)
        self._queue(function, stream, lambda comm, queue: run(*args, comm, queue), *keep)

    def reduce_scatter(self, send: Any, recv: Any, count: int, dtype: Any, op: Any = "sum", stream: Any = None) -> None:
        """``HcclReduceScatter``: ``send`` holds ``count * size`` elements; this rank's ``recv``
        (``count`` elements) gets the reduction of every rank's block ``rank``."""
        dt, rop, count = hccl_dtype(dtype), reduce_op(op), _count(count)
        nbytes = count * _acl_dtypes.hccl_bytes(dt)
        self._call("HcclReduceScatter", _buffer(send, nbytes * self.size, "send"), _buffer(recv, nbytes, "recv"),
                   count, dt, rop, stream=stream, keep=(send, recv))

    def reduce_scatter_v(self, send: Any, send_counts: Sequence[int], send_displs: Sequence[int], recv: Any,
                         count: int, dtype: Any, op: Any = "sum", stream: Any = None) -> None:
        """``HcclReduceScatterV``: ``send_counts[i]`` elements at ``send_displs[i]`` go to rank ``i``;
        ``count`` = ``send_counts[rank]`` elements of ``recv`` get the reduction."""
        dt, rop, count = hccl_dtype(dtype), reduce_op(op), _count(count)
        counts = _per_rank(send_counts, self.size, "send_counts")
        displs = _per_rank(send_displs, self.size, "send_displs")
        itemsize = _acl_dtypes.hccl_bytes(dt)
        self._call("HcclReduceScatterV", _buffer(send, _extent(counts, displs) * itemsize, "send"),
                   _u64_array(counts), _u64_array(displs), _buffer(recv, count * itemsize, "recv"), count, dt, rop,
                   stream=stream, keep=(send, recv))

    def reduce(self, send: Any, recv: Any, count: int, dtype: Any, op: Any = "sum", root: int = 0,
               stream: Any = None) -> None:
        """``HcclReduce``: the reduction of every rank's ``count`` elements lands in ``recv`` of rank
        ``root`` (CANN wants a ``recv`` on every rank; only the root's is written)."""
        dt, rop, count = hccl_dtype(dtype), reduce_op(op), _count(count)
        nbytes = count * _acl_dtypes.hccl_bytes(dt)
        root = arguments.integer(root, "root", lo=0, hi=2**32 - 1)
        self._call("HcclReduce", _buffer(send, nbytes, "send"), _buffer(recv, nbytes, "recv"), count, dt, rop,
                   root, stream=stream, keep=(send, recv))

    def scatter(self, send: Any, recv: Any, count: int, dtype: Any, root: int = 0, stream: Any = None) -> None:
        """``HcclScatter``: block ``rank`` (``count`` elements) of the root's ``send`` lands in
        ``recv``; ``send`` is read on the root only (None elsewhere)."""
        dt, count = hccl_dtype(dtype), _count(count)
        nbytes = count * _acl_dtypes.hccl_bytes(dt)
        root = arguments.integer(root, "root", lo=0, hi=2**32 - 1)
        send_ptr = _buffer(send, nbytes * self.size, "send") if root == self.rank else _buffer(send, 0, "send")
        self._call("HcclScatter", send_ptr, _buffer(recv, nbytes, "recv"), count, dt, root,
                   stream=stream, keep=(send, recv))

    def all_gather_v(self, send: Any, count: int, recv: Any, recv_counts: Sequence[int], recv_displs: Sequence[int],
                     dtype: Any, stream: Any = None) -> None:
        """``HcclAllGatherV``: rank ``i``'s ``count`` (= ``recv_counts[i]``) elements land at
        ``recv_displs[i]`` of every rank's ``recv``."""
        dt, count = hccl_dtype(dtype), _count(count)
        counts = _per_rank(recv_counts, self.size, "recv_counts")
        displs = _per_rank(recv_displs, self.size, "recv_displs")
        itemsize = _acl_dtypes.hccl_bytes(dt)
        self._call("HcclAllGatherV", _buffer(send, count * itemsize, "send"), count,
                   _buffer(recv, _extent(counts, displs) * itemsize, "recv"), _u64_array(counts),
                   _u64_array(displs), dt, stream=stream, keep=(send, recv))

    def all_to_all(self, send: Any, recv: Any, count: int, dtype: Any, stream: Any = None) -> None:
        """``HcclAlltoAll``: block ``j`` (``count`` elements) of this rank's ``send`` lands in block
        ``rank`` of rank ``j``'s ``recv``."""
        dt, count = hccl_dtype(dtype), _count(count)
        nbytes = count * _acl_dtypes.hccl_bytes(dt) * self.size
        self._call("HcclAlltoAll", _buffer(send, nbytes, "send"), count, dt, _buffer(recv, nbytes, "recv"),
                   count, dt, stream=stream, keep=(send, recv))

    def all_to_all_v(self, send: Any, send_counts: Sequence[int], send_displs: Sequence[int], recv: Any,
                     recv_counts: Sequence[int], recv_displs: Sequence[int], dtype: Any, stream: Any = None) -> None:
        """``HcclAlltoAllV``: ``send_counts[j]`` elements at ``send_displs[j]`` go to rank ``j``;
        ``recv_counts[i]`` elements from rank ``i`` land at ``recv_displs[i]``."""
        dt = hccl_dtype(dtype)
        sc, sd = _per_rank(send_counts, self.size, "send_counts"), _per_rank(send_displs, self.size, "send_displs")
        rc, rd = _per_rank(recv_counts, self.size, "recv_counts"), _per_rank(recv_displs, self.size, "recv_displs")
        itemsize = _acl_dtypes.hccl_bytes(dt)
        self._call("HcclAlltoAllV", _buffer(send, _extent(sc, sd) * itemsize, "send"), _u64_array(sc),
                   _u64_array(sd), dt, _buffer(recv, _extent(rc, rd) * itemsize, "recv"), _u64_array(rc),
                   _u64_array(rd), dt, stream=stream, keep=(send, recv))

    def all_to_all_vc(self, send: Any, send_count_matrix: Sequence[Sequence[int]], recv: Any, dtype: Any,
                      stream: Any = None) -> None:
        """``HcclAlltoAllVC``: ``send_count_matrix[i][j]`` elements go from rank ``i`` to rank ``j``
        (the same matrix on every rank); segments packed in rank order in ``send`` and ``recv``."""
        dt = hccl_dtype(dtype)
        rows = list(send_count_matrix)
        if len(rows) != self.size:
            raise ArgumentError("send_count_matrix", f"has {len(rows)} rows; the communicator has {self.size} ranks")
        flat = [c for i, row in enumerate(rows) for c in _per_rank(row, self.size, f"send_count_matrix[{i}]")]
        n, itemsize = self.size, _acl_dtypes.hccl_bytes(dt)
        sent = sum(flat[self.rank * n:(self.rank + 1) * n])
        received = sum(flat[i * n + self.rank] for i in range(n))
        self._call("HcclAlltoAllVC", _buffer(send, sent * itemsize, "send"), _u64_array(flat), dt,
                   _buffer(recv, received * itemsize, "recv"), dt, stream=stream, keep=(send, recv))

    def send(self, buf: Any, count: int, dtype: Any, dest: int, stream: Any = None) -> None:
        """``HcclSend`` of ``count`` elements to rank ``dest`` (pairs with its :meth:`recv`)."""
        dt, count = hccl_dtype(dtype), _count(count)
        dest = arguments.integer(dest, "dest", lo=0, hi=2**32 - 1)
        self._call("HcclSend", _buffer(buf, count * _acl_dtypes.hccl_bytes(dt), "buf"), count, dt, dest,
                   stream=stream, keep=(buf,))

    def recv(self, buf: Any, count: int, dtype: Any, src: int, stream: Any = None) -> None:
        """``HcclRecv`` of ``count`` elements from rank ``src`` (pairs with its :meth:`send`)."""
        dt, count = hccl_dtype(dtype), _count(count)
        src = arguments.integer(src, "src", lo=0, hi=2**32 - 1)
        self._call("HcclRecv", _buffer(buf, count * _acl_dtypes.hccl_bytes(dt), "buf"), count, dt, src,
                   stream=stream, keep=(buf,))

    def batch_send_recv(self, items: Sequence[tuple[Any, Any, int, Any, int]], stream: Any = None) -> None:
        """``HcclBatchSendRecv``: ``items`` of ``(kind, buf, count, dtype, peer)``, ``kind`` being
        ``"send"`` / ``"recv"`` (or an ``HcclSendRecvType`` value); all in flight at once."""
        items = list(items)
        table = ffi.new("HcclSendRecvItem[]", max(1, len(items)))
        for i, item in enumerate(items):
            try:
                kind, buf, count, dtype, peer = item
            except (TypeError, ValueError):
                raise ArgumentError(f"items[{i}]", "expected (kind, buf, count, dtype, peer)") from None
            entry = table[i]
            if isinstance(kind, str):
                if kind not in _KINDS:
                    raise ArgumentError(f"items[{i}].kind", f"{kind!r} is neither 'send' nor 'recv'")
                entry.sendRecvType = _KINDS[kind]
            else:
                entry.sendRecvType = arguments.integer(kind, f"items[{i}].kind", lo=0, hi=2**31 - 1)
            entry.dataType = hccl_dtype(dtype)
            entry.count = arguments.integer(count, f"items[{i}].count", lo=0, hi=_U64)
            entry.buf = _buffer(buf, entry.count * _acl_dtypes.hccl_bytes(entry.dataType), f"items[{i}].buf")
            entry.remoteRank = arguments.integer(peer, f"items[{i}].peer", lo=0, hi=2**32 - 1)
        self._call("HcclBatchSendRecv", table, len(items), stream=stream,
                   keep=tuple(item[1] for item in items) + (table,))

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
