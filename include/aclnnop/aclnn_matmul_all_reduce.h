/*
 * aclnnop/aclnn_matmul_all_reduce.h -- matmul + all-reduce (MC2), V1, no quantization.
 *
 * Part of aclnn-py: CANN's prototypes (public source: ops-transformer
 * mc2/matmul_all_reduce/op_api/aclnn_matmul_all_reduce.h). Exported by libopapi.so
 * (libopapi_transformer.so in split installs). FLOAT16/BFLOAT16 x1, x2, bias and output
 * (one dtype): output = AllReduce(x1 @ x2 + bias). Include chain as CANN's first release
 * of it (ops-transformer, 2025): <string> (C++), aclnn/aclnn_base.h, aclnn_util.h,
 * hccl/hccl.h, hccl/hccl_types.h (the 2026 header dropped hccl/hccl.h; keeping it is a
 * superset), so a sample including only this header can create communicators.
 */
#ifndef ACLNNOP_ACLNN_MATMUL_ALL_REDUCE_H
#define ACLNNOP_ACLNN_MATMUL_ALL_REDUCE_H

#ifdef __cplusplus
#include <string>
#endif
#include <stdint.h>
#include "aclnn/aclnn_base.h"
#include "aclnn_util.h"
#include "hccl/hccl.h"
#include "hccl/hccl_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Phase 1 (8 parameters). group: communicator name from HcclGetCommName (128-byte
 * buffer). reduceOp: only "sum". commTurn: only 0. streamMode: only 1
 * (ACL_STOP_ON_FAILURE). bias may be NULL. *workspaceSize in bytes.
 */
ACLNN_API aclnnStatus aclnnMatmulAllReduceGetWorkspaceSize(const aclTensor *x1, const aclTensor *x2,
                                                           const aclTensor *bias, const char *group,
                                                           const char *reduceOp, int64_t commTurn, int64_t streamMode,
                                                           const aclTensor *output, uint64_t *workspaceSize,
                                                           aclOpExecutor **executor);

/* Phase 2: workspace = device buffer of >= workspaceSize bytes (NULL if 0). */
ACLNN_API aclnnStatus aclnnMatmulAllReduce(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
                                           const aclrtStream stream);

#ifdef __cplusplus
}
#endif

#endif
