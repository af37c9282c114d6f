"""HCCL's point-to-point calls: HcclSend, HcclRecv and HcclBatchSendRecv.

A send and a receive pair up as CANN's do: the n-th transfer rank ``src``'s streams reach
towards ``dst`` (an HcclSend, or an HCCL_SEND item of an HcclBatchSendRecv) meets the n-th
receive ``dst``'s streams reach from ``src`` (:meth:`mock_runtime.hccl.registry.Communicator.pair_key`);
their counts and types must agree (else HCCL_E_PARA on both). Each call waits, on its stream,
for its peer: a send whose receive never comes fails after HCCL_EXEC_TIMEOUT with
HCCL_E_TIMEOUT naming the peer (so two ranks that both send first, each on one stream, time
out, as CANN's synchronous HcclSend/HcclRecv do). The items of one HcclBatchSendRecv are all in
flight at once. Checks as hicann/hccl ``src/ops/send``, ``recv`` and ``batch_send_recv``: count 0
(or itemNum 0) returns at once; a peer equal to the rank itself is HCCL_E_NOT_SUPPORT.
"""
from __future__ import annotations

from dataclasses import dataclass

from mock_runtime.core.errors import C
from mock_runtime.hccl.names import dtype_name, fail
from mock_runtime.hccl.registry import Communicator, get
from mock_runtime.ops.collectives import _launch, _stream, _task_name, supported
from mock_runtime.ops.transfers import Segment, check_count, check_rank, deliver, launch, part, require, whole

SEND, RECV = C["HCCL_SEND"], C["HCCL_RECV"]


@dataclass(frozen=True)
class Item:
    """One send or receive: direction, device buffer, element count, HcclDataType, peer rank."""

    kind: int
    buf: int
    count: int
    dtype: int
    peer: int


def _checked(comm: Communicator, item: Item, what: str, names: tuple[str, str, str]) -> tuple[int, list[Segment]]:
    """The element size and the one segment of ``item`` (its buffer, count and peer parameters
    called ``names``), after CANN's checks."""
    buf_name, count_name, peer_name = names
    require(item.buf, f"{what}: {buf_name}")
    check_count(what, count_name, item.count)
    itemsize = supported(what, item.dtype)
    if item.peer == comm.rank:
        raise fail("HCCL_E_NOT_SUPPORT", f"{what}: {peer_name} {item.peer} is this rank itself (rank {comm.rank})")
    check_rank(what, peer_name, item.peer, comm)
    return itemsize, whole(item.buf, item.count * itemsize, [item.peer], f"{what}: {buf_name}")


def _transfer(comm: Communicator, item: Item, itemsize: int, what: str) -> tuple[dict, tuple[int, int]]:
    """The spec and (source, destination) of the pair ``item`` is one end of."""
    src, dst = (comm.rank, item.peer) if item.kind == SEND else (item.peer, comm.rank)
    spec = {"what": what, "itemsize": itemsize, "send_param": "count", "recv_param": "count", "ranks": [src, dst],
            "match": f"p2p {src}->{dst}: count={item.count}, dtype={dtype_name(item.dtype)}",
            "peer_call": (f"HcclRecv (or HCCL_RECV item of HcclBatchSendRecv) from rank {src}" if item.kind == SEND
                          else f"HcclSend (or HCCL_SEND item of HcclBatchSendRecv) to rank {dst}")}
    return spec, (src, dst)


def _signature(what: str, item: Item) -> str:
    peer = "destRank" if item.kind == SEND else "srcRank"
    return f"{what}(count={item.count}, dtype={dtype_name(item.dtype)}, {peer}={item.peer})"


def send(buf: int, count: int, dtype: int, dest: int, handle: int, stream: int) -> None:
    """HcclSend of ``count`` elements to rank ``dest``."""
    _single("HcclSend", Item(SEND, buf, count, dtype, dest), ("sendBuf", "count", "destRank"), handle, stream)


def recv(buf: int, count: int, dtype: int, src: int, handle: int, stream: int) -> None:
    """HcclRecv of ``count`` elements from rank ``src``."""
    _single("HcclRecv", Item(RECV, buf, count, dtype, src), ("recvBuf", "count", "srcRank"), handle, stream)


def _single(what: str, item: Item, names: tuple[str, str, str], handle: int, stream: int) -> None:
    if item.count == 0:
        return
    comm = get(handle, f"{what}: comm")
    itemsize, segment = _checked(comm, item, what, names)
    spec, key = _transfer(comm, item, itemsize, what)
    sends, recvs = (segment, []) if item.kind == SEND else ([], segment)
    launch(comm, stream, what, _signature(what, item), spec, sends, recvs, key)


def batch_send_recv(items: list[Item], handle: int, stream: int) -> None:
    """HcclBatchSendRecv: every item's transfer in flight at once; returns (on the stream) when all are done."""
    what = "HcclBatchSendRecv"
    if not items:
        return
    comm = get(handle, f"{what}: comm")
    planned = []
    for i, item in enumerate(items):
        where = f"sendRecvInfo[{i}]"
        if item.kind not in (SEND, RECV):
            raise fail("HCCL_E_PARA", f"{what}: {where}.sendRecvType {item.kind} is neither HCCL_SEND (0) nor HCCL_RECV (1)")
        if item.count == 0:
            continue
        itemsize, segment = _checked(comm, item, what, (f"{where}.buf", f"{where}.count", f"{where}.remoteRank"))
        spec, key = _transfer(comm, item, itemsize, what)
        planned.append((item, spec, key, segment))
    _no_overlapping_receives(planned)
    if not planned:
        return
    require(stream, f"{what}: stream")
    s = _stream(comm, stream, what)

    def task() -> None:
        waits = []
        for item, spec, key, segment in planned:
            sends, recvs = (segment, []) if item.kind == SEND else ([], segment)
            rank_spec, payload = part(comm, spec, sends, recvs)
            signature = _signature(what, item)
            waits.append((comm.start(signature, rank_spec, payload, comm.pair_key(*key)), signature, recvs))
        for fut, signature, recvs in waits:
            deliver(comm.wait(fut, signature), recvs, False)

    accesses = {(g.address, g.nbytes, item.kind == RECV, g.what) for item, _, _, (g,) in planned}
    _launch(s, _task_name(what, comm), task, sorted(accesses))


def _no_overlapping_receives(planned: list) -> None:
    spans = sorted((g.address, g.address + g.nbytes, g.what) for item, _, _, (g,) in planned if item.kind == RECV)
    for (_, end, a), (begin, _, b) in zip(spans, spans[1:]):
        if begin < end:
            raise fail("HCCL_E_PARA", f"HcclBatchSendRecv: {a.split(': ')[1]} and {b.split(': ')[1]} receive into "
                                      f"overlapping device memory")
