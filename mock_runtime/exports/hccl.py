"""libhccl.so: HCCL communicators and collectives (thin C adapters over mock_runtime.hccl and
mock_runtime.ops.collectives)."""
from __future__ import annotations

from typing import Any

from mock_runtime.core.errors import C, MockError
from mock_runtime.hccl import bootstrap, names, registry
from aclnn_py.semantics.soc import profile_of

from mock_runtime.core import config as core_config
from mock_runtime.core import runtime as rt
from mock_runtime.hccl.config import COMM_NAME_MAX, Config, capability, config_header, parse_config
from mock_runtime.ops import collectives, point_to_point, transfers

ffi: Any = None
lib: Any = None
_strings: dict[int, Any] = {}


def _addr(p: Any) -> int:
    return int(ffi.cast("uintptr_t", p))


def _out(p: Any, name: str) -> Any:
    if p == ffi.NULL:
        raise MockError(C["HCCL_E_PTR"], f"{name} is NULL")
    return p


def _root_info(p: Any, what: str) -> bytes:
    return bytes(ffi.buffer(_out(p, f"{what}: rootInfo"), bootstrap.ROOT_INFO_BYTES))


def _config(p: Any, what: str) -> Config:
    _out(p, f"{what}: config")
    header = bytes(ffi.buffer(p, 24))
    size, version = config_header(header, what)
    tail = None
    if size >= ffi.sizeof("HcclCommConfig") and version >= 10:
        tail = {field: getattr(p, field) for field in _CONFIG_NUMBERS}
        tail["strings"] = {field: bytes(ffi.buffer(getattr(p, field))) for field in _CONFIG_STRINGS}
    # hcclCommName is at offset 32 in every layout version (size >= 160 is checked above).
    name = bytes(ffi.buffer(p.hcclCommName, COMM_NAME_MAX))
    return parse_config(header, name, tail, what, _profile())


_CONFIG_NUMBERS = ("hcclBufferSize", "hcclDeterministic", "hcclRdmaTrafficClass", "hcclRdmaServiceLevel",
                   "aclGraphZeroCopyEnable", "hcclExecTimeOut", "hcclQos")
_CONFIG_STRINGS = ("hcclUdi", "hcclAlgo", "hcclRetryEnable", "hcclRetryParams", "hcclBufferName")


def _profile() -> str:
    """The runtime's product (from ACLNN_MOCK_SOC before aclInit)."""
    if rt.settings is not None:
        return rt.settings.profile
    return profile_of(core_config.soc_from_environment() or core_config.DEFAULT_SOC)  # a known SoC: never None


def _set_comm(comm: Any, handle: int) -> None:
    comm[0] = ffi.cast("HcclComm", handle)


# -- communicators ---------------------------------------------------------------
def HcclGetRootInfo(rootInfo):
    blob = bootstrap.get_root_info()
    ffi.memmove(_out(rootInfo, "HcclGetRootInfo: rootInfo"), blob, len(blob))


def HcclCommInitRootInfo(nRanks, rootInfo, rank, comm):
    what = "HcclCommInitRootInfo"
    _out(comm, f"{what}: comm")
    _set_comm(comm, bootstrap.init_root_info(nRanks, _root_info(rootInfo, what), rank, None, what))


def HcclCommInitRootInfoConfig(nRanks, rootInfo, rank, config, comm):
    what = "HcclCommInitRootInfoConfig"
    _out(comm, f"{what}: comm")
    cfg = _config(config, what)
    _set_comm(comm, bootstrap.init_root_info(nRanks, _root_info(rootInfo, what), rank, cfg, what))


def _cluster_path(clusterInfo: Any, what: str) -> str:
    raw = ffi.string(_out(clusterInfo, f"{what}: clusterInfo"))
    return raw.decode("utf-8", "surrogateescape")


def HcclCommInitClusterInfo(clusterInfo, rank, comm):
    what = "HcclCommInitClusterInfo"
    _out(comm, f"{what}: comm")
    _set_comm(comm, bootstrap.init_cluster_info(_cluster_path(clusterInfo, what), rank, None, what))


def HcclCommInitClusterInfoConfig(clusterInfo, rank, config, comm):
    what = "HcclCommInitClusterInfoConfig"
    _out(comm, f"{what}: comm")
    cfg = _config(config, what)
    _set_comm(comm, bootstrap.init_cluster_info(_cluster_path(clusterInfo, what), rank, cfg, what))


def HcclCommInitAll(ndev, devices, comms):
    what = "HcclCommInitAll"
    _out(devices, f"{what}: devices")
    _out(comms, f"{what}: comms")
    if ndev == 0:
        raise MockError(C["HCCL_E_PARA"], f"{what}: ndev must be >= 1")
    for i, handle in enumerate(bootstrap.init_all([devices[i] for i in range(ndev)])):
        comms[i] = ffi.cast("HcclComm", handle)


def HcclGetCommName(comm, commName):
    c = registry.get(_addr(comm), "HcclGetCommName: comm")
    _out(commName, "HcclGetCommName: commName")
    data = c.name.encode()[: COMM_NAME_MAX - 1] + b"\0"
    ffi.memmove(commName, data, len(data))


def HcclGetRankSize(comm, rankSize):
    c = registry.get(_addr(comm), "HcclGetRankSize: comm")
    _out(rankSize, "HcclGetRankSize: rankSize")[0] = c.size


def HcclGetRankId(comm, rank):
    c = registry.get(_addr(comm), "HcclGetRankId: comm")
    _out(rank, "HcclGetRankId: rank")[0] = c.rank


def HcclCommDestroy(comm):
    registry.destroy(_addr(comm))


# -- collectives ------------------------------------------------------------------
def HcclAllReduce(sendBuf, recvBuf, count, dataType, op, comm, stream):
    collectives.all_reduce(_addr(sendBuf), _addr(recvBuf), count, dataType, op, _addr(comm), _addr(stream))


def HcclBroadcast(buf, count, dataType, root, comm, stream):
    transfers.broadcast(_addr(buf), count, dataType, root, _addr(comm), _addr(stream))


def HcclAllGather(sendBuf, recvBuf, sendCount, dataType, comm, stream):
    transfers.all_gather(_addr(sendBuf), _addr(recvBuf), sendCount, dataType, _addr(comm), _addr(stream))


def _counts(p: Any, n: int, what: str) -> list[int]:
    """A host array of ``n`` uint64 counts or displacements (HCCL_E_PTR when NULL)."""
    return ffi.unpack(ffi.cast("uint64_t *", _out(p, what)), n)


def HcclReduceScatter(sendBuf, recvBuf, recvCount, dataType, op, comm, stream):
    transfers.reduce_scatter(_addr(sendBuf), _addr(recvBuf), recvCount, dataType, op, _addr(comm), _addr(stream))


def HcclReduceScatterV(sendBuf, sendCounts, sendDispls, recvBuf, recvCount, dataType, op, comm, stream):
    what = "HcclReduceScatterV"
    n = registry.get(_addr(comm), f"{what}: comm").size
    transfers.reduce_scatter_v(_addr(sendBuf), _counts(sendCounts, n, f"{what}: sendCounts"),
                               _counts(sendDispls, n, f"{what}: sendDispls"), _addr(recvBuf), recvCount, dataType,
                               op, _addr(comm), _addr(stream))


def HcclScatter(sendBuf, recvBuf, recvCount, dataType, root, comm, stream):
    transfers.scatter(_addr(sendBuf), _addr(recvBuf), recvCount, dataType, root, _addr(comm), _addr(stream))


def HcclAllGatherV(sendBuf, sendCount, recvBuf, recvCounts, recvDispls, dataType, comm, stream):
    what = "HcclAllGatherV"
    n = registry.get(_addr(comm), f"{what}: comm").size
    transfers.all_gather_v(_addr(sendBuf), sendCount, _addr(recvBuf), _counts(recvCounts, n, f"{what}: recvCounts"),
                           _counts(recvDispls, n, f"{what}: recvDispls"), dataType, _addr(comm), _addr(stream))


def HcclSend(sendBuf, count, dataType, destRank, comm, stream):
    point_to_point.send(_addr(sendBuf), count, dataType, destRank, _addr(comm), _addr(stream))


def HcclRecv(recvBuf, count, dataType, srcRank, comm, stream):
    point_to_point.recv(_addr(recvBuf), count, dataType, srcRank, _addr(comm), _addr(stream))


def HcclAlltoAllVC(sendBuf, sendCountMatrix, sendType, recvBuf, recvType, comm, stream):
    what = "HcclAlltoAllVC"
    n = registry.get(_addr(comm), f"{what}: comm").size
    flat = _counts(sendCountMatrix, n * n, f"{what}: sendCountMatrix")
    transfers.all_to_all_vc(_addr(sendBuf), [flat[i * n:(i + 1) * n] for i in range(n)], sendType, _addr(recvBuf),
                            recvType, _addr(comm), _addr(stream))


def HcclAlltoAllV(sendBuf, sendCounts, sdispls, sendType, recvBuf, recvCounts, rdispls, recvType, comm, stream):
    what = "HcclAlltoAllV"
    n = registry.get(_addr(comm), f"{what}: comm").size
    transfers.all_to_all_v(_addr(sendBuf), _counts(sendCounts, n, f"{what}: sendCounts"),
                           _counts(sdispls, n, f"{what}: sdispls"), sendType, _addr(recvBuf),
                           _counts(recvCounts, n, f"{what}: recvCounts"), _counts(rdispls, n, f"{what}: rdispls"),
                           recvType, _addr(comm), _addr(stream))


def HcclAlltoAll(sendBuf, sendCount, sendType, recvBuf, recvCount, recvType, comm, stream):
    transfers.all_to_all(_addr(sendBuf), sendCount, sendType, _addr(recvBuf), recvCount, recvType, _addr(comm),
                         _addr(stream))


def HcclReduce(sendBuf, recvBuf, count, dataType, op, root, comm, stream):
    transfers.reduce(_addr(sendBuf), _addr(recvBuf), count, dataType, op, root, _addr(comm), _addr(stream))


def HcclBatchSendRecv(sendRecvInfo, itemNum, comm, stream):
    items = []
    if itemNum:
        info = _out(sendRecvInfo, "HcclBatchSendRecv: sendRecvInfo")
        items = [point_to_point.Item(int(info[i].sendRecvType), _addr(info[i].buf), info[i].count, int(info[i].dataType),
                                     info[i].remoteRank) for i in range(itemNum)]
    point_to_point.batch_send_recv(items, _addr(comm), _addr(stream))


def HcclBarrier(comm, stream):
    collectives.barrier(_addr(comm), _addr(stream))


def HcclGetCommAsyncError(comm, asyncError):
    c = registry.get(_addr(comm), "HcclGetCommAsyncError: comm")
    _out(asyncError, "HcclGetCommAsyncError: asyncError")[0] = c.async_error


def HcclGetErrorString(code):
    text = _strings.get(code)
    if text is None:
        text = _strings[code] = ffi.new("char[]", names.error_text(code).encode())
    return text


def HcclGetCommConfigCapability():
    return capability(_profile())
