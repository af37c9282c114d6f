/*
 * aclnnop/aclnn_quant_matmul_all_reduce_v4.h -- quantised matmul + all-reduce (MC2), V4.
 *
 * Part of aclnn-py: CANN's prototypes (public source: ops-transformer
 * mc2/matmul_all_reduce/op_api/aclnn_quant_matmul_all_reduce_v4.h). Exported by
 * libopapi.so (libopapi_transformer.so in split installs). Two-phase protocol: phase 1
 * returns the workspace size in BYTES and a new executor; phase 2 runs it on a stream and
 * frees it unless it was made repeatable. Include chain as CANN's (ops-transformer, 2025):
 * <string> (C++ only), aclnn/aclnn_base.h, hccl/hccl.h (hence acl/acl.h),
 * hccl/hccl_types.h and aclnnop/aclnn_util.h. The 2026 header dropped hccl/hccl.h; keeping
 * it is a superset, so programs written against either release compile.
 */
#ifndef ACLNNOP_ACLNN_QUANT_MATMUL_ALL_REDUCE_V4_H
#define ACLNNOP_ACLNN_QUANT_MATMUL_ALL_REDUCE_V4_H

#ifdef __cplusplus
#include <string>
#endif
#include <stdint.h>
#include "aclnn/aclnn_base.h"
#include "hccl/hccl.h"
#include "hccl/hccl_types.h"
#include "aclnn_util.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Phase 1 (17 parameters). group: communicator name from HcclGetCommName
 * (128-byte buffer). reduceOp: only sum. commTurn: only 0. streamMode: only
 * 1 (ACL_STOP_ON_FAILURE). groupSize packs K | N << 16 | M << 32 (0 = infer).
 * commQuantMode: 0 or 1. x2Scale is required (newer docs name it
 * x2ScaleOptional). Optional tensors may be NULL. *workspaceSize in bytes.
 */
ACLNN_API aclnnStatus aclnnQuantMatmulAllReduceV4GetWorkspaceSize(
    const aclTensor *x1, const aclTensor *x2, const aclTensor *biasOptional, const aclTensor *x3Optional,
    const aclTensor *x1ScaleOptional, const aclTensor *x2Scale, const aclTensor *commQuantScale1Optional,
    const aclTensor *commQuantScale2Optional, const char *group, const char *reduceOp, int64_t commTurn,
    int64_t streamMode, int64_t groupSize, int64_t commQuantMode, const aclTensor *output,
    uint64_t *workspaceSize, aclOpExecutor **executor);

/* Phase 2: workspace = device buffer of >= workspaceSize bytes (NULL if 0). */
ACLNN_API aclnnStatus aclnnQuantMatmulAllReduceV4(void *workspace, uint64_t workspaceSize,
                                                  aclOpExecutor *executor, const aclrtStream stream);

#ifdef __cplusplus
}
#endif

#endif
