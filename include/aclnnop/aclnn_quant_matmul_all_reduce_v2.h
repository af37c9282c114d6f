/*
 * aclnnop/aclnn_quant_matmul_all_reduce_v2.h -- quantised matmul + all-reduce (MC2), V2.
 *
 * Part of aclnn-py: CANN's prototypes (public source: ops-transformer
 * mc2/matmul_all_reduce/op_api/aclnn_quant_matmul_all_reduce_v2.h). Exported by
 * libopapi.so (libopapi_transformer.so in split installs). V1 plus a per-token scale:
 * pertokenScaleOptional (FLOAT32, length m = b*s) after dequantScale, which may then be
 * FLOAT32 (FLOAT16 output) or BFLOAT16 (BFLOAT16 output). Include chain as in CANN:
 * <string> (C++), aclnn/aclnn_base.h, hccl/hccl.h, hccl/hccl_types.h.
 */
#ifndef ACLNNOP_ACLNN_QUANT_MATMUL_ALL_REDUCE_V2_H
#define ACLNNOP_ACLNN_QUANT_MATMUL_ALL_REDUCE_V2_H

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
 * Phase 1 (13 parameters). group: communicator name from HcclGetCommName.
 * reduceOp: only "sum". commTurn: only 0. streamMode: only 1. biasOptional,
 * x3Optional and pertokenScaleOptional may be NULL. *workspaceSize in bytes.
 */
ACLNN_API aclnnStatus aclnnQuantMatmulAllReduceV2GetWorkspaceSize(
    const aclTensor *x1, const aclTensor *x2, const aclTensor *biasOptional, const aclTensor *x3Optional,
    const aclTensor *dequantScale, const aclTensor *pertokenScaleOptional, const char *group,
    const char *reduceOp, int64_t commTurn, int64_t streamMode, const aclTensor *output,
    uint64_t *workspaceSize, aclOpExecutor **executor);

/* Phase 2: workspace = device buffer of >= workspaceSize bytes (NULL if 0). */
ACLNN_API aclnnStatus aclnnQuantMatmulAllReduceV2(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
                                                  const aclrtStream stream);

#ifdef __cplusplus
}
#endif

#endif
