/*
 * hccl/hccl.h -- HCCL collectives.
 *
 * Part of aclnn-py, written from the declarations of CANN's hicann/hccl include/hccl.h.
 * Exported by libhccl.so.
 * Include chain as CANN's: hccl/hccl_types.h, hccl/hccl_comm.h (communicator
 * management) and acl/acl.h, so a program that includes only this header has
 * HCCL and the whole ACL runtime API.
 * Counts in collectives are ELEMENT counts of dataType, not bytes.
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
/* sendCount = ELEMENTS per rank; recvBuf holds sendCount * rankSize elements. */
HcclResult HcclAllGather(void *sendBuf, void *recvBuf, uint64_t sendCount, HcclDataType dataType,
                         HcclComm comm, aclrtStream stream);

#ifdef __cplusplus
}
#endif

#endif
