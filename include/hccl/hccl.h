/*
 * hccl/hccl.h -- HCCL collectives and point-to-point operations.
 *
 * Part of aclnn-py. Exported by libhccl.so (hicann/hccl docs/zh/api_ref/
 * hccl_header_and_lib.md: hccl/hccl.h -> libhccl.so). Prototypes, parameter
 * names and declaration order as hicann/hccl include/hccl.h (2026-08).
 * Include chain as CANN's: hccl/hccl_types.h, hccl/hccl_comm.h (communicator
 * management) and acl/acl.h, so a program that includes only this header has
 * HCCL and the whole ACL runtime API.
 * Counts are ELEMENT counts of the data type, not bytes; count and
 * displacement arrays (sendCounts, sdispls, recvCounts, rdispls, sendDispls,
 * recvDispls) are host arrays of rankSize uint64_t; sendCountMatrix is a host
 * array of rankSize * rankSize uint64_t, row-major: [i][j] = what rank i sends
 * to rank j. The data types and reduce operations each call accepts per product
 * are listed in docs/hccl.md.
 */
#ifndef HCCL_HCCL_H
#define HCCL_HCCL_H

#include <stdint.h>
#include "hccl/hccl_types.h"
#include "hccl/hccl_comm.h"
#include "acl/acl.h"

#ifdef __cplusplus
extern "C" {
#endif

/* count = number of ELEMENTS of dataType in sendBuf and recvBuf (device memory). */
HcclResult HcclAllReduce(void *sendBuf, void *recvBuf, uint64_t count, HcclDataType dataType,
                         HcclReduceOp op, HcclComm comm, aclrtStream stream);
/* count = number of ELEMENTS of dataType; root = rank id of the source. */
HcclResult HcclBroadcast(void *buf, uint64_t count, HcclDataType dataType, uint32_t root,
                         HcclComm comm, aclrtStream stream);
/* sendBuf holds recvCount * rankSize elements; rank r receives the reduction of block r. */
HcclResult HcclReduceScatter(void *sendBuf, void *recvBuf, uint64_t recvCount, HcclDataType dataType,
                             HcclReduceOp op, HcclComm comm, aclrtStream stream);
/* sendCounts[i] elements at sendDispls[i] go to rank i; recvCount = sendCounts[own rank]. */
HcclResult HcclReduceScatterV(void *sendBuf, const void *sendCounts, const void *sendDispls, void *recvBuf,
                              uint64_t recvCount, HcclDataType dataType, HcclReduceOp op, HcclComm comm,
                              aclrtStream stream);
/* The root's sendBuf (recvCount * rankSize elements) is split in rank order; sendBuf is read on the root only. */
HcclResult HcclScatter(void *sendBuf, void *recvBuf, uint64_t recvCount, HcclDataType dataType, uint32_t root,
                       HcclComm comm, aclrtStream stream);
/* sendCount = ELEMENTS per rank; recvBuf holds sendCount * rankSize elements. */
HcclResult HcclAllGather(void *sendBuf, void *recvBuf, uint64_t sendCount, HcclDataType dataType,
                         HcclComm comm, aclrtStream stream);
/* recvCounts[i] (= rank i's sendCount) elements of rank i land at recvDispls[i]. */
HcclResult HcclAllGatherV(void *sendBuf, uint64_t sendCount, void *recvBuf, const void *recvCounts,
                          const void *recvDispls, HcclDataType dataType, HcclComm comm, aclrtStream stream);
/* Pairs with the destRank's HcclRecv (or a receive item of its HcclBatchSendRecv). */
HcclResult HcclSend(void *sendBuf, uint64_t count, HcclDataType dataType, uint32_t destRank, HcclComm comm,
                    aclrtStream stream);
/* Pairs with the srcRank's HcclSend (or a send item of its HcclBatchSendRecv). */
HcclResult HcclRecv(void *recvBuf, uint64_t count, HcclDataType dataType, uint32_t srcRank, HcclComm comm,
                    aclrtStream stream);
/* The same sendCountMatrix on every rank; segments packed in rank order in sendBuf and recvBuf. */
HcclResult HcclAlltoAllVC(const void *sendBuf, const void *sendCountMatrix, HcclDataType sendType,
                          const void *recvBuf, HcclDataType recvType, HcclComm comm, aclrtStream stream);
/* sendCounts[j] elements at sdispls[j] go to rank j; recvCounts[i] elements from rank i land at rdispls[i]. */
HcclResult HcclAlltoAllV(const void *sendBuf, const void *sendCounts, const void *sdispls, HcclDataType sendType,
                         const void *recvBuf, const void *recvCounts, const void *rdispls, HcclDataType recvType,
                         HcclComm comm, aclrtStream stream);
/* sendCount (= recvCount) elements to and from every rank, blocks in rank order. */
HcclResult HcclAlltoAll(const void *sendBuf, uint64_t sendCount, HcclDataType sendType, const void *recvBuf,
                        uint64_t recvCount, HcclDataType recvType, HcclComm comm, aclrtStream stream);
/* The reduction of every rank's count elements lands in the root's recvBuf. */
HcclResult HcclReduce(void *sendBuf, void *recvBuf, uint64_t count, HcclDataType dataType, HcclReduceOp op,
                      uint32_t root, HcclComm comm, aclrtStream stream);
/* itemNum sends and receives (HcclSendRecvItem, hccl/hccl_types.h), all in flight at once. */
HcclResult HcclBatchSendRecv(HcclSendRecvItem *sendRecvInfo, uint32_t itemNum, HcclComm comm, aclrtStream stream);

#ifdef __cplusplus
}
#endif

#endif
