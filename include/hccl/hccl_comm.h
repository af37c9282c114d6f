/*
 * hccl/hccl_comm.h -- HCCL communicator management.
 *
 * Part of aclnn-py, written from the declarations of CANN's hicann/hcomm
 * include/hccl/hccl_comm.h (with the inline HcclCommConfigInit and its defaults). CANN 8.5+
 * declares communicator management in this header of the hcomm package
 * (exported by libhcomm.so); older CANN declared the same functions in
 * hccl/hccl.h (exported by libhccl.so), which includes this header, so both
 * kinds of program compile. Include chain as CANN's: hccl/hccl_types.h and
 * acl/acl.h (the whole runtime API).
 */
#ifndef HCCL_HCCL_COMM_H
#define HCCL_HCCL_COMM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "hccl/hccl_types.h"
#include "acl/acl.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Root rank only: fills *rootInfo (4108 bytes) to be sent to every rank. */
HcclResult HcclGetRootInfo(HcclRootInfo *rootInfo);
/* Collective over nRanks processes; rank in [0, nRanks). */
HcclResult HcclCommInitRootInfo(uint32_t nRanks, const HcclRootInfo *rootInfo, uint32_t rank, HcclComm *comm);
/* Same with a config prepared by HcclCommConfigInit. */
HcclResult HcclCommInitRootInfoConfig(uint32_t nRanks, const HcclRootInfo *rootInfo, uint32_t rank,
                                      const HcclCommConfig *config, HcclComm *comm);
/* clusterInfo: path of a rank table file. */
HcclResult HcclCommInitClusterInfo(const char *clusterInfo, uint32_t rank, HcclComm *comm);
HcclResult HcclCommInitClusterInfoConfig(const char *clusterInfo, uint32_t rank,
                                         HcclCommConfig *config, HcclComm *comm);
/*
 * Single server, single process: creates ndev communicators into comms
 * (caller array of ndev). devices: ndev distinct logical device ids;
 * devices[0] is the root.
 */
HcclResult HcclCommInitAll(uint32_t ndev, int32_t *devices, HcclComm *comms);
/* Writes the NUL-terminated name into commName (caller buffer >= 128 bytes). */
HcclResult HcclGetCommName(HcclComm comm, char *commName);
HcclResult HcclGetRankSize(HcclComm comm, uint32_t *rankSize);
HcclResult HcclGetRankId(HcclComm comm, uint32_t *rank);
HcclResult HcclCommDestroy(HcclComm comm);

HcclResult HcclBarrier(HcclComm comm, aclrtStream stream);
HcclResult HcclGetCommAsyncError(HcclComm comm, HcclResult *asyncError);
/* Static description string owned by the library. */
const char *HcclGetErrorString(HcclResult code);
/* Capability k of HcclCommConfigCapability is supported iff the result is > k. */
uint32_t HcclGetCommConfigCapability(void);

/*
 * Fills *config with the version 10 header and every default: size =
 * sizeof(HcclCommConfig) = 2240, magicWord = 0xf0f0f0f0, version = 10,
 * header reserved = 0; uint32 not-set markers (0xffffffff) for buffer size,
 * deterministic, RDMA traffic class / service level and QoS; exec timeout
 * -1; symmetric window 16 GB; everything else zero or empty string. All
 * other bytes, padding included, are zeroed. Header-only: no library
 * exports this function.
 */
static inline void HcclCommConfigInit(HcclCommConfig *config)
{
    typedef struct {
        size_t size;
        uint32_t magicWord;
        uint32_t version;
        uint64_t reserved;
    } HcclCommConfigInfo;
    HcclCommConfigInfo info;

    memset(config, 0, sizeof(HcclCommConfig));
    info.size = sizeof(HcclCommConfig);
    info.magicWord = HCCL_COMM_CONFIG_MAGIC_WORD;
    info.version = HCCL_COMM_CONFIG_VERSION;
    info.reserved = 0;
    memcpy(config->reserved, &info, sizeof(info));

    config->hcclBufferSize = HCCL_COMM_BUFFSIZE_CONFIG_NOT_SET;
    config->hcclDeterministic = HCCL_COMM_DETERMINISTIC_CONFIG_NOT_SET;
    config->hcclCommName[0] = 0;
    config->hcclUdi[0] = 0;
    config->hcclOpExpansionMode = HCCL_COMM_DEFAULT_OP_EXPANSION_MODE;
    config->hcclRdmaTrafficClass = HCCL_COMM_TRAFFIC_CLASS_CONFIG_NOT_SET;
    config->hcclRdmaServiceLevel = HCCL_COMM_SERVICE_LEVEL_CONFIG_NOT_SET;
    config->hcclWorldRankID = 0;
    config->hcclJobID = 0;
    config->aclGraphZeroCopyEnable = 0;
    config->hcclExecTimeOut = HCCL_COMM_EXECTIMEOUT_CONFIG_NOT_SET;
    config->hcclAlgo[0] = 0;
    config->hcclRetryEnable[0] = 0;
    config->hcclRetryParams[0] = 0;
    config->hcclBufferName[0] = 0;
    config->hcclQos = HCCL_COMM_QOS_CONFIG_NOT_SET;
    config->hcclSymWinMaxMemSizePerRank = HCCL_DEFAULT_SYMMETRIC_MEMORY_STRIDE;
}

#ifdef __cplusplus
}
#endif

#endif
