/*
 * aclnnop/aclnn_matmul_all_reduce_v2.h -- matmul + all-reduce (MC2), V2, no quantization.
 *
 * Part of aclnn-py: CANN's prototypes (public source: ops-transformer
 * mc2/matmul_all_reduce/op_api/aclnn_matmul_all_reduce_v2.h). Exported by libopapi.so
 * (libopapi_transformer.so in split installs). V1 plus the residual x3 (NULL or the output's
 * dtype and shape): output = AllReduce(x1 @ x2 + bias + x3). Include chain as CANN's first
 * release of it (ops-transformer, 2025): <string> (C++), aclnn/aclnn_base.h, aclnn_util.h,
 * hccl/hccl.h, hccl/hccl_types.h.
 */
#ifndef ACLNNOP_ACLNN_MATMUL_ALL_REDUCE_V2_H
#define ACLNNOP_ACLNN_MATMUL_ALL_REDUCE_V2_H

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
 * Phase 1 (9 parameters): V1's with x3 after bias. bias and x3 may be NULL.
 * *workspaceSize in bytes.
 */
ACLNN_API aclnnStatus aclnnMatmulAllReduceV2GetWorkspaceSize(const aclTensor *x1, const aclTensor *x2,
                                                             const aclTensor *bias, const aclTensor *x3,
                                                             const char *group, const char *reduceOp, int64_t commTurn,
                                                             int64_t streamMode, const aclTensor *output,
                                                             uint64_t *workspaceSize, aclOpExecutor **executor);

/* Phase 2: workspace = device buffer of >= workspaceSize bytes (NULL if 0). */
ACLNN_API aclnnStatus aclnnMatmulAllReduceV2(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
                                             const aclrtStream stream);

#ifdef __cplusplus
}
#endif

#endif
