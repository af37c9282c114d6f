/*
 * hccl/hccl_types.h -- HCCL types, enums, constants and config structs.
 *
 * Part of aclnn-py, written from the values of CANN's hicann/hcomm
 * include/hccl/hccl_types.h at commit 2b912e7d (HcclCommConfig version 10 layout,
 * sizeof 2240, align 8); HcclSendRecvType and HcclSendRecvItem as that header
 * declares them.
 */
#ifndef HCCL_HCCL_TYPES_H
#define HCCL_HCCL_TYPES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Size limits and config defaults. In CANN these are C++ const uint32_t
 * values; here they are plain macros so that C and cffi see them too.
 */
#define HCCL_ROOT_INFO_BYTES 4108
#define COMM_NAME_MAX_LENGTH 128
#define UDI_MAX_LENGTH 128
#define BUFFER_NAME_MAX_LENGTH 128
#define HCCL_COMM_ALGO_MAX_LENGTH 1600
#define HCCL_COMM_RETRY_ENABLE_MAX_LENGTH 50
#define HCCL_COMM_RETRY_PARAMS_MAX_LENGTH 128
#define HCCL_COMM_CONFIG_INFO_BYTES 24
#define HCCL_COMM_CONFIG_MAGIC_WORD 0xf0f0f0f0
#define HCCL_COMM_CONFIG_VERSION 10
/* Default communication buffer size, in MB. */
#define HCCL_COMM_DEFAULT_BUFFSIZE 200
/* Marker values meaning: not set, let HCCL decide (uint32 fields). */
#define HCCL_COMM_BUFFSIZE_CONFIG_NOT_SET 0xffffffff
#define HCCL_COMM_DETERMINISTIC_CONFIG_NOT_SET 0xffffffff
#define HCCL_COMM_TRAFFIC_CLASS_CONFIG_NOT_SET 0xffffffff
#define HCCL_COMM_SERVICE_LEVEL_CONFIG_NOT_SET 0xffffffff
#define HCCL_COMM_QOS_CONFIG_NOT_SET 0xffffffff
/* Not-set marker of the int32 hcclExecTimeOut field. */
#define HCCL_COMM_EXECTIMEOUT_CONFIG_NOT_SET -1
#define HCCL_COMM_DEFAULT_DETERMINISTIC 0
#define HCCL_COMM_DEFAULT_OP_EXPANSION_MODE 0
/* Default hcclSymWinMaxMemSizePerRank, in GB. */
#define HCCL_DEFAULT_SYMMETRIC_MEMORY_STRIDE 16

/* Opaque communicator handle. */
typedef void *HcclComm;

/*
 * Result of every HCCL call. HCCL_E_RESERVED is intentionally not defined:
 * its value differs between releases.
 */
typedef enum {
    HCCL_SUCCESS = 0,
    HCCL_E_PARA = 1,
    HCCL_E_PTR = 2,
    HCCL_E_MEMORY = 3,
    HCCL_E_INTERNAL = 4,
    HCCL_E_NOT_SUPPORT = 5,
    HCCL_E_NOT_FOUND = 6,
    HCCL_E_UNAVAIL = 7,
    HCCL_E_SYSCALL = 8,
    HCCL_E_TIMEOUT = 9,
    HCCL_E_OPEN_FILE_FAILURE = 10,
    HCCL_E_TCP_CONNECT = 11,
    HCCL_E_ROCE_CONNECT = 12,
    HCCL_E_TCP_TRANSFER = 13,
    HCCL_E_ROCE_TRANSFER = 14,
    HCCL_E_RUNTIME = 15,
    HCCL_E_DRV = 16,
    HCCL_E_PROFILING = 17,
    HCCL_E_CCE = 18,
    HCCL_E_NETWORK = 19,
    HCCL_E_AGAIN = 20,
    HCCL_E_REMOTE = 21,
    HCCL_E_SUSPENDING = 22,
    HCCL_E_OPRETRY_FAIL = 23,
    HCCL_E_OOM = 24,
    HCCL_E_IN_STATUS = 1041
} HcclResult;

/* Reduction operation of a collective. */
typedef enum {
    HCCL_REDUCE_SUM = 0,
    HCCL_REDUCE_PROD = 1,
    HCCL_REDUCE_MAX = 2,
    HCCL_REDUCE_MIN = 3,
    HCCL_REDUCE_RESERVED = 255
} HcclReduceOp;

/*
 * Element type of a collective. Numbering differs from aclDataType
 * (FP16 is 3 here, ACL_FLOAT16 is 1; BFP16 is 11 here, ACL_BF16 is 27).
 */
typedef enum {
    HCCL_DATA_TYPE_INT8 = 0,
    HCCL_DATA_TYPE_INT16 = 1,
    HCCL_DATA_TYPE_INT32 = 2,
    HCCL_DATA_TYPE_FP16 = 3,
    HCCL_DATA_TYPE_FP32 = 4,
    HCCL_DATA_TYPE_INT64 = 5,
    HCCL_DATA_TYPE_UINT64 = 6,
    HCCL_DATA_TYPE_UINT8 = 7,
    HCCL_DATA_TYPE_UINT16 = 8,
    HCCL_DATA_TYPE_UINT32 = 9,
    HCCL_DATA_TYPE_FP64 = 10,
    HCCL_DATA_TYPE_BFP16 = 11,
    HCCL_DATA_TYPE_INT128 = 12,
    HCCL_DATA_TYPE_HIF8 = 14,
    HCCL_DATA_TYPE_FP8E4M3 = 15,
    HCCL_DATA_TYPE_FP8E5M2 = 16,
    HCCL_DATA_TYPE_FP8E8M0 = 17,
    HCCL_DATA_TYPE_RESERVED = 255
} HcclDataType;

/* Global HCCL configuration keys. */
typedef enum {
    HCCL_DETERMINISTIC = 0
} HcclConfig;

/* Value of a global HCCL configuration key. */
typedef union HcclConfigValue {
    int32_t value;
} HcclConfigValue;

/*
 * Communicator config capabilities: capability k is supported iff
 * HcclGetCommConfigCapability() returns a value greater than k.
 */
typedef enum {
    HCCL_COMM_CONFIG_BUFFER_SIZE = 0,
    HCCL_COMM_CONFIG_DETERMINISTIC = 1,
    HCCL_COMM_CONFIG_COMM_NAME = 2,
    HCCL_COMM_CONFIG_OP_EXPANSION_MODE = 3,
    HCCL_COMM_CONFIG_SUPPORT_INIT_BY_ENV = 4,
    HCCL_COMM_CONFIG_WORLD_RANKID = 5,
    HCCL_COMM_CONFIG_JOBID = 6,
    HCCL_COMM_CONFIG_ACLGRAPH_ZEROCOPY_ENABLE = 7,
    HCCL_COMM_CONFIG_EXEC_TIMEOUT = 8,
    HCCL_COMM_CONFIG_ALGO = 9,
    HCCL_COMM_CONFIG_RETRY = 10,
    HCCL_COMM_CONFIG_BUFFER_NAME = 11,
    HCCL_COMM_CONFIG_RESERVED = 12
} HcclCommConfigCapability;

/* Direction of one item of HcclBatchSendRecv. */
typedef enum {
    HCCL_SEND = 0,
    HCCL_RECV = 1,
    HCCL_SEND_RECV_RESERVED = 2
} HcclSendRecvType;

/*
 * One send or receive of HcclBatchSendRecv (sizeof 32, align 8): sendRecvType
 * at 0, buf at 8 (device memory), count (ELEMENTS) at 16, dataType at 24,
 * remoteRank (the peer) at 28.
 */
typedef struct HcclSendRecvItemDef {
    HcclSendRecvType sendRecvType;
    void *buf;
    uint64_t count;
    HcclDataType dataType;
    uint32_t remoteRank;
} HcclSendRecvItem;

/*
 * Opaque rendezvous blob (4108 bytes, align 1): produced by HcclGetRootInfo
 * on the root rank and copied byte for byte to every other rank.
 */
typedef struct HcclRootInfoDef {
    char internal[HCCL_ROOT_INFO_BYTES];
} HcclRootInfo;

/*
 * Communicator configuration, version 10 layout: sizeof 2240, align 8.
 * Always initialise with HcclCommConfigInit (hccl/hccl.h) before setting
 * fields. Byte offsets are given in the comments; padding is implicit.
 */
typedef struct HcclCommConfigDef {
    /* 0: header = size_t size, uint32 magicWord, uint32 version, uint64 reserved */
    char reserved[HCCL_COMM_CONFIG_INFO_BYTES];
    uint32_t hcclBufferSize;                                   /* 24, MB */
    uint32_t hcclDeterministic;                                /* 28 */
    char hcclCommName[COMM_NAME_MAX_LENGTH];                   /* 32 */
    char hcclUdi[UDI_MAX_LENGTH];                              /* 160 */
    uint32_t hcclOpExpansionMode;                              /* 288 */
    uint32_t hcclRdmaTrafficClass;                             /* 292 */
    uint32_t hcclRdmaServiceLevel;                             /* 296 */
    uint32_t hcclWorldRankID;                                  /* 300 */
    uint64_t hcclJobID;                                        /* 304 */
    uint8_t aclGraphZeroCopyEnable;                            /* 312, then 3 pad bytes */
    int32_t hcclExecTimeOut;                                   /* 316 */
    char hcclAlgo[HCCL_COMM_ALGO_MAX_LENGTH];                  /* 320 */
    char hcclRetryEnable[HCCL_COMM_RETRY_ENABLE_MAX_LENGTH];   /* 1920 */
    char hcclRetryParams[HCCL_COMM_RETRY_PARAMS_MAX_LENGTH];   /* 1970 */
    char hcclBufferName[BUFFER_NAME_MAX_LENGTH];               /* 2098, then 2 pad bytes */
    uint32_t hcclQos;                                          /* 2228 */
    uint64_t hcclSymWinMaxMemSizePerRank;                      /* 2232, GB */
} HcclCommConfig;

#ifdef __cplusplus
}
#endif

#endif
