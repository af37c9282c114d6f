"""Placeholder for libhccl.so exports (being written)."""
from mock_runtime.core.errors import C, MockError
ffi = lib = None

def bind(ffi_, lib_):
    global ffi, lib
    ffi, lib = ffi_, lib_

def HcclGetRootInfo(rootInfo):
    raise MockError(C['HCCL_E_NOT_SUPPORT'], 'not implemented yet')

def HcclCommInitRootInfo(nRanks, rootInfo, rank, comm):
    raise MockError(C['HCCL_E_NOT_SUPPORT'], 'not implemented yet')

def HcclCommInitRootInfoConfig(nRanks, rootInfo, rank, config, comm):
    raise MockError(C['HCCL_E_NOT_SUPPORT'], 'not implemented yet')

def HcclCommInitClusterInfo(clusterInfo, rank, comm):
    raise MockError(C['HCCL_E_NOT_SUPPORT'], 'not implemented yet')

def HcclCommInitClusterInfoConfig(clusterInfo, rank, config, comm):
    raise MockError(C['HCCL_E_NOT_SUPPORT'], 'not implemented yet')

def HcclCommInitAll(ndev, devices, comms):
    raise MockError(C['HCCL_E_NOT_SUPPORT'], 'not implemented yet')

def HcclGetCommName(comm, commName):
    raise MockError(C['HCCL_E_NOT_SUPPORT'], 'not implemented yet')

def HcclGetRankSize(comm, rankSize):
    raise MockError(C['HCCL_E_NOT_SUPPORT'], 'not implemented yet')

def HcclGetRankId(comm, rank):
    raise MockError(C['HCCL_E_NOT_SUPPORT'], 'not implemented yet')

def HcclCommDestroy(comm):
    raise MockError(C['HCCL_E_NOT_SUPPORT'], 'not implemented yet')

def HcclAllReduce(sendBuf, recvBuf, count, dataType, op, comm, stream):
    raise MockError(C['HCCL_E_NOT_SUPPORT'], 'not implemented yet')

def HcclBroadcast(buf, count, dataType, root, comm, stream):
    raise MockError(C['HCCL_E_NOT_SUPPORT'], 'not implemented yet')

def HcclAllGather(sendBuf, recvBuf, sendCount, dataType, comm, stream):
    raise MockError(C['HCCL_E_NOT_SUPPORT'], 'not implemented yet')

def HcclBarrier(comm, stream):
    raise MockError(C['HCCL_E_NOT_SUPPORT'], 'not implemented yet')

def HcclGetCommAsyncError(comm, asyncError):
    raise MockError(C['HCCL_E_NOT_SUPPORT'], 'not implemented yet')

def HcclGetErrorString(code):
    raise MockError(C['HCCL_E_NOT_SUPPORT'], 'not implemented yet')

def HcclGetCommConfigCapability():
    raise MockError(C['HCCL_E_NOT_SUPPORT'], 'not implemented yet')
