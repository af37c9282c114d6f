"""The collectives of ``hccl.h`` that move segments: HcclBroadcast, HcclAllGather[V], HcclScatter,
HcclReduceScatter[V], HcclReduce and HcclAlltoAll[V|VC], checked at the call and performed as one
transfer (:mod:`mock_runtime.hccl.exchange`) when the caller's stream reaches them.

Each call's checks follow CANN's (hicann/hccl ``src/ops/<op>/<op>_op.cc`` for the order, the
codes and the early returns): a call that moves nothing returns HCCL_SUCCESS at once without
meeting the other ranks, as CANN's does (zero counts); a NULL pointer that must not be NULL is
HCCL_E_PTR; a type or reduce operation the product does not support is HCCL_E_NOT_SUPPORT
(:mod:`aclnn_py.semantics.hccl`); a root, count or layout that cannot be is HCCL_E_PARA. Every
segment a call reads or writes is proven inside one live allocation before anything is queued,
and declared to the race checker. What must agree between ranks (counts, types, ops, roots) is
compared when the ranks meet: a difference fails the call on every rank with HCCL_E_PARA naming
the ranks and the values.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from aclnn_py.semantics.hccl import matrix_layout, segments_problem

from mock_runtime.core.errors import C, MockError
from mock_runtime.core.memory import table as memory
from mock_runtime.hccl.exchange import Transfer
from mock_runtime.hccl.names import dtype_name, fail, op_name
from mock_runtime.hccl.registry import Communicator, get
from mock_runtime.ops.collectives import _launch, _region, _stream, _task_name, supported

#: hicann/hccl src/common/hccl_common.h SYS_MAX_COUNT: the largest count a call accepts.
MAX_COUNT = 0x7FFFFFFFF
_EMPTY = np.empty(0, np.uint8)


@dataclass(frozen=True)
class Segment:
    """Device bytes a rank sends to (or receives from) ``peer``."""

    peer: int
    address: int
    nbytes: int
    what: str


def check_count(what: str, name: str, count: int) -> None:
    if count > MAX_COUNT:
        raise fail("HCCL_E_PARA", f"{what}: {name} {count} exceeds the largest count, {MAX_COUNT}")


def check_rank(what: str, name: str, value: int, comm: Communicator) -> None:
    if not 0 <= value < comm.size:
        raise fail("HCCL_E_PARA", f"{what}: {name} {value} is not a rank of the communicator (size {comm.size})")


def require(address: int, what: str) -> None:
    if address == 0:
        raise fail("HCCL_E_PTR", f"{what} is NULL")


def capacity(address: int, itemsize: int, what: str) -> int:
    """Elements of ``itemsize`` bytes from ``address`` to the end of its allocation."""
    require(address, what)
    try:
        alloc, start = memory.locate(address, 0, what)
    except MockError as exc:
        raise MockError(C["HCCL_E_PARA"], exc.message) from None
    return (alloc.size - start) // itemsize


def segments(address: int, itemsize: int, counts: Sequence[int], displs: Sequence[int], what: str,
             names: tuple[str, str], write: bool) -> list[Segment]:
    """The segments ``[displs[i], displs[i] + counts[i])`` of the buffer at ``address``, each proven
    inside its allocation (written segments must not overlap); HCCL_E_PARA names the rule."""
    if not any(counts):
        return [Segment(i, 0, 0, f"{what} segment {i}") for i in range(len(counts))]
    room = capacity(address, itemsize, what)
    problem = segments_problem(counts, displs, room, names[0], names[1], what, disjoint=write)
    if problem is not None:
        raise fail("HCCL_E_PARA", problem)
    return [Segment(i, address + d * itemsize, c * itemsize, f"{what} segment {i}") for i, (c, d) in
            enumerate(zip(counts, displs))]


def contiguous(address: int, itemsize: int, count: int, peers: Sequence[int], what: str) -> list[Segment]:
    """``count`` elements per peer, packed in the order of ``peers``, proven inside one allocation."""
    nbytes = count * itemsize
    if nbytes:
        _region(address, nbytes * len(peers), f"{what} ({count} x {len(peers)} elements)")
    return [Segment(p, address + i * nbytes, nbytes, f"{what} block {p}") for i, p in enumerate(peers)]


def whole(address: int, nbytes: int, peers: Sequence[int], what: str) -> list[Segment]:
    """The same ``nbytes`` at ``address`` for every peer, proven inside one allocation."""
    if nbytes:
        _region(address, nbytes, what)
    return [Segment(p, address, nbytes, what) for p in peers]


def _view(segment: Segment) -> np.ndarray:
    return memory.region(segment.address, segment.nbytes, segment.what) if segment.nbytes else _EMPTY


def part(comm: Communicator, spec: dict, sends: list[Segment], recvs: list[Segment]) -> tuple[dict, object]:
    """This rank's spec and part of a transfer, read from device memory now (in the stream task)."""
    rank_spec = dict(spec, kind="transfer", rank=comm.rank, sends=[[s.peer, s.nbytes] for s in sends],
                     recvs=[[s.peer, s.nbytes] for s in recvs])
    send_views = {s.peer: _view(s) for s in sends}
    if not comm.link.remote:
        return rank_spec, Transfer(send_views, {s.peer: _view(s) for s in recvs})
    data = [v for v in send_views.values() if v.size]
    return rank_spec, (np.concatenate(data) if len(data) > 1 else data[0] if data else None)


def deliver(result: object, recvs: list[Segment], reduced: bool) -> None:
    """Write what the hub returned for a rank in another process into its receive segments (a
    reduction's one result into the one segment every source's entry names)."""
    if result is None:
        return
    data = np.asarray(result).reshape(-1).view(np.uint8)
    offset = 0
    for s in recvs[:1] if reduced else recvs:
        if s.nbytes:
            _view(s)[...] = data[offset:offset + s.nbytes]
        offset += s.nbytes


def launch(comm: Communicator, stream: int, what: str, signature: str, spec: dict, sends: list[Segment],
           recvs: list[Segment], key: tuple[int, int] | None = None, null_stream: bool = False) -> None:
    """Queue the transfer on the caller's stream, declaring every segment it reads and writes.
    ``key``: the (source, destination) of a point-to-point transfer. CANN refuses a NULL stream
    for the calls it added after AllReduce, AllGather and Broadcast (``null_stream``: the
    default stream of the caller's context is taken, as the mock always did for those)."""
    if not null_stream:
        require(stream, f"{what}: stream")
    s = _stream(comm, stream, what)

    def task() -> None:
        rank_spec, payload = part(comm, spec, sends, recvs)
        pair = None if key is None else comm.pair_key(*key)
        deliver(comm.run(signature, rank_spec, payload, pair), recvs, "reduce" in spec)

    accesses = {(x.address, x.nbytes, False, x.what) for x in sends} | {(x.address, x.nbytes, True, x.what) for x in recvs}
    _launch(s, _task_name(what, comm), task, sorted(accesses))


def _spec(what: str, itemsize: int, send_param: str, recv_param: str, reduce: tuple[int, int] | None = None) -> dict:
    spec = {"what": what, "itemsize": itemsize, "send_param": send_param, "recv_param": recv_param}
    if reduce is not None:
        spec["reduce"] = {"dtype": reduce[0], "op": reduce[1]}
    return spec


def _others(comm: Communicator) -> list[int]:
    return list(range(comm.size))


# -- the collectives ----------------------------------------------------------------------
def broadcast(buf: int, count: int, dtype: int, root: int, handle: int, stream: int) -> None:
    """HcclBroadcast of rank ``root``'s ``count`` elements."""
    what = "HcclBroadcast"
    comm = get(handle, f"{what}: comm")
    itemsize = supported(what, dtype)
    check_rank(what, "root", root, comm)
    nbytes = count * itemsize
    others = [r for r in _others(comm) if r != root]
    sends = whole(buf, nbytes, others, f"{what}: buf") if comm.rank == root else []
    recvs = [] if comm.rank == root else whole(buf, nbytes, [root], f"{what}: buf")
    signature = f"{what}(count={count}, dtype={dtype_name(dtype)}, root={root})"
    launch(comm, stream, what, signature, _spec(what, itemsize, "count", "count"), sends, recvs, null_stream=True)


def all_gather(send: int, recv: int, count: int, dtype: int, handle: int, stream: int) -> None:
    """HcclAllGather: ``count`` elements of every rank, in rank order."""
    what = "HcclAllGather"
    comm = get(handle, f"{what}: comm")
    itemsize = supported(what, dtype)
    sends = whole(send, count * itemsize, _others(comm), f"{what}: sendBuf")
    recvs = contiguous(recv, itemsize, count, _others(comm), f"{what}: recvBuf")
    signature = f"{what}(sendCount={count}, dtype={dtype_name(dtype)})"
    launch(comm, stream, what, signature, _spec(what, itemsize, "sendCount", "sendCount"), sends, recvs,
           null_stream=True)


def reduce_scatter(send: int, recv: int, count: int, dtype: int, op: int, handle: int, stream: int) -> None:
    """HcclReduceScatter: rank r receives the reduction of every rank's block r (``count`` elements)."""
    what = "HcclReduceScatter"
    if count == 0:
        return
    comm = get(handle, f"{what}: comm")
    require(send, f"{what}: sendBuf")
    require(recv, f"{what}: recvBuf")
    check_count(what, "recvCount", count)
    itemsize = supported(what, dtype, op)
    sends = contiguous(send, itemsize, count, _others(comm), f"{what}: sendBuf")
    recvs = whole(recv, count * itemsize, _others(comm), f"{what}: recvBuf")
    signature = f"{what}(recvCount={count}, dtype={dtype_name(dtype)}, op={op_name(op)})"
    launch(comm, stream, what, signature, _spec(what, itemsize, "recvCount", "recvCount", (dtype, op)), sends, recvs)


def reduce(send: int, recv: int, count: int, dtype: int, op: int, root: int, handle: int, stream: int) -> None:
    """HcclReduce: the reduction of every rank's ``count`` elements lands in the root's recvBuf
    (the other ranks' recvBuf is not touched)."""
    what = "HcclReduce"
    if count == 0:
        return
    comm = get(handle, f"{what}: comm")
    require(send, f"{what}: sendBuf")
    require(recv, f"{what}: recvBuf")
    check_count(what, "count", count)
    itemsize = supported(what, dtype, op)
    check_rank(what, "root", root, comm)
    sends = whole(send, count * itemsize, [root], f"{what}: sendBuf")
    recvs = whole(recv, count * itemsize, _others(comm), f"{what}: recvBuf") if comm.rank == root else []
    signature = f"{what}(count={count}, dtype={dtype_name(dtype)}, op={op_name(op)}, root={root})"
    launch(comm, stream, what, signature, _spec(what, itemsize, "count", "count", (dtype, op)), sends, recvs)


def scatter(send: int, recv: int, count: int, dtype: int, root: int, handle: int, stream: int) -> None:
    """HcclScatter: rank r receives block r of the root's sendBuf (read on the root only)."""
    what = "HcclScatter"
    if count == 0:
        return
    comm = get(handle, f"{what}: comm")
    require(recv, f"{what}: recvBuf")
    check_rank(what, "root", root, comm)
    check_count(what, "recvCount", count)
    itemsize = supported(what, dtype)
    sends: list[Segment] = []
    if comm.rank == root:
        require(send, f"{what}: sendBuf (of the root)")
        sends = contiguous(send, itemsize, count, _others(comm), f"{what}: sendBuf")
    recvs = whole(recv, count * itemsize, [root], f"{what}: recvBuf")
    signature = f"{what}(recvCount={count}, dtype={dtype_name(dtype)}, root={root})"
    launch(comm, stream, what, signature, _spec(what, itemsize, "recvCount", "recvCount"), sends, recvs)


def all_gather_v(send: int, count: int, recv: int, recv_counts: list[int], recv_displs: list[int], dtype: int,
                 handle: int, stream: int) -> None:
    """HcclAllGatherV: rank i's ``sendCount`` elements land at ``recvDispls[i]`` of every rank."""
    what = "HcclAllGatherV"
    comm = get(handle, f"{what}: comm")
    if not any(recv_counts):
        return
    if count:
        require(send, f"{what}: sendBuf")
    require(recv, f"{what}: recvBuf")
    check_count(what, "sendCount", count)
    itemsize = supported(what, dtype)
    if recv_counts[comm.rank] != count:
        raise fail("HCCL_E_PARA", f"{what}: recvCounts[{comm.rank}] = {recv_counts[comm.rank]} on rank {comm.rank} "
                                  f"must equal its sendCount {count}")
    sends = whole(send, count * itemsize, _others(comm), f"{what}: sendBuf")
    recvs = segments(recv, itemsize, recv_counts, recv_displs, f"{what}: recvBuf", ("recvCounts", "recvDispls"), True)
    signature = f"{what}(dtype={dtype_name(dtype)})"
    launch(comm, stream, what, signature, _spec(what, itemsize, "sendCount", "recvCounts[{peer}]"), sends, recvs)


def reduce_scatter_v(send: int, send_counts: list[int], send_displs: list[int], recv: int, count: int, dtype: int,
                     op: int, handle: int, stream: int) -> None:
    """HcclReduceScatterV: rank r receives the reduction of every rank's segment r."""
    what = "HcclReduceScatterV"
    comm = get(handle, f"{what}: comm")
    if count:
        require(recv, f"{what}: recvBuf")
    if not any(send_counts):
        return
    check_count(what, "recvCount", count)
    itemsize = supported(what, dtype, op)
    if send_counts[comm.rank] != count:
        raise fail("HCCL_E_PARA", f"{what}: recvCount {count} on rank {comm.rank} must equal its "
                                  f"sendCounts[{comm.rank}] = {send_counts[comm.rank]}")
    require(send, f"{what}: sendBuf")
    sends = segments(send, itemsize, send_counts, send_displs, f"{what}: sendBuf", ("sendCounts", "sendDispls"), False)
    recvs = whole(recv, count * itemsize, _others(comm), f"{what}: recvBuf")
    signature = f"{what}(dtype={dtype_name(dtype)}, op={op_name(op)})"
    launch(comm, stream, what, signature, _spec(what, itemsize, "sendCounts[{peer}]", "recvCount", (dtype, op)),
           sends, recvs)


def _same_types(what: str, send_type: int, recv_type: int) -> None:
    if send_type != recv_type:
        raise fail("HCCL_E_PARA", f"{what}: sendType {dtype_name(send_type)} differs from recvType "
                                  f"{dtype_name(recv_type)} (they must be the same type)")


def _distinct(what: str, send: int, recv: int) -> None:
    if send and send == recv:
        raise fail("HCCL_E_PARA", f"{what}: sendBuf and recvBuf are the same buffer ({send:#x}): it cannot work in place")


def all_to_all(send: int, send_count: int, send_type: int, recv: int, recv_count: int, recv_type: int,
               handle: int, stream: int) -> None:
    """HcclAlltoAll: block j of rank i's sendBuf lands in block i of rank j's recvBuf."""
    what = "HcclAlltoAll"
    if send_count == 0 and recv_count == 0:
        return
    comm = get(handle, f"{what}: comm")
    require(send, f"{what}: sendBuf")
    require(recv, f"{what}: recvBuf")
    if send_count != recv_count:
        raise fail("HCCL_E_PARA", f"{what}: sendCount {send_count} differs from recvCount {recv_count} (they must be equal)")
    _same_types(what, send_type, recv_type)
    _distinct(what, send, recv)
    check_count(what, "sendCount", send_count)
    itemsize = supported(what, recv_type)
    sends = contiguous(send, itemsize, send_count, _others(comm), f"{what}: sendBuf")
    recvs = contiguous(recv, itemsize, recv_count, _others(comm), f"{what}: recvBuf")
    signature = f"{what}(sendCount={send_count}, dtype={dtype_name(recv_type)})"
    launch(comm, stream, what, signature, _spec(what, itemsize, "sendCount", "recvCount"), sends, recvs)


def all_to_all_v(send: int, send_counts: list[int], sdispls: list[int], send_type: int, recv: int,
                 recv_counts: list[int], rdispls: list[int], recv_type: int, handle: int, stream: int,
                 what: str = "HcclAlltoAllV", params: tuple[str, str] = ("sendCounts[{peer}]", "recvCounts[{peer}]"),
                 names: tuple[tuple[str, str], tuple[str, str]] = (("sendCounts", "sdispls"), ("recvCounts", "rdispls"))
                 ) -> None:
    """HcclAlltoAllV: ``sendCounts[j]`` elements at ``sdispls[j]`` of rank i land at ``rdispls[i]`` of
    rank j (``recvCounts[i]`` there)."""
    comm = get(handle, f"{what}: comm")
    _distinct(what, send, recv)
    _same_types(what, send_type, recv_type)
    check_count(what, "the largest count", max([*send_counts, *recv_counts]))
    itemsize = supported(what, recv_type)
    sends = segments(send, itemsize, send_counts, sdispls, f"{what}: sendBuf", names[0], False)
    recvs = segments(recv, itemsize, recv_counts, rdispls, f"{what}: recvBuf", names[1], True)
    signature = f"{what}(dtype={dtype_name(recv_type)})"
    launch(comm, stream, what, signature, _spec(what, itemsize, *params), sends, recvs)


def all_to_all_vc(send: int, matrix: list[list[int]], send_type: int, recv: int, recv_type: int, handle: int,
                  stream: int) -> None:
    """HcclAlltoAllVC: HcclAlltoAllV with every rank's segments packed in rank order, from the count
    matrix every rank passes (entry [i][j] is compared between ranks i and j)."""
    comm = get(handle, "HcclAlltoAllVC: comm")
    send_counts, sdispls, recv_counts, rdispls = matrix_layout(matrix, comm.rank)
    me = comm.rank
    all_to_all_v(send, send_counts, sdispls, send_type, recv, recv_counts, rdispls, recv_type, handle, stream,
                 what="HcclAlltoAllVC", params=("sendCountMatrix[{me}][{peer}]", "sendCountMatrix[{peer}][{me}]"),
                 names=((f"sendCountMatrix[{me}]", "packed offsets"), (f"sendCountMatrix[:][{me}]", "packed offsets")))
