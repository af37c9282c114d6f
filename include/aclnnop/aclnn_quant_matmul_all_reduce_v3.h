/*
 * aclnnop/aclnn_quant_matmul_all_reduce_v3.h -- quantised matmul + all-reduce (MC2), V3.
 *
 * Part of aclnn-py: CANN's prototypes (public source: ops-transformer
 * mc2/matmul_all_reduce/op_api/aclnn_quant_matmul_all_reduce_v3.h). Exported by
 * libopapi.so (libopapi_transformer.so in split installs). V2 plus low-bit (INT8)
 * communication: commQuantScale1Optional and commQuantScale2Optional (both or neither;
 * FLOAT16/BFLOAT16 equal to the output dtype, shape (n) or (1, n), the same on every rank)
 * after pertokenScaleOptional. Include chain as in CANN: <string> (C++),
 * aclnn/aclnn_base.h, hccl/hccl.h, hccl/hccl_types.h.
 */
#ifndef ACLNNOP_ACLNN_QUANT_MATMUL_ALL_REDUCE_V3_H
#define ACLNNOP_ACLNN_QUANT_MATMUL_ALL_REDUCE_V3_H

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
 * Phase 1 (15 parameters). group: communicator name from HcclGetCommName.
 * reduceOp: only "sum". commTurn: only 0. streamMode: only 1. The *Optional
 * tensors may be NULL. *workspaceSize in bytes.
 */
ACLNN_API aclnnStatus aclnnQuantMatmulAllReduceV3GetWorkspaceSize(
    const aclTensor *x1, const aclTensor *x2, const aclTensor *biasOptional, const aclTensor *x3Optional,
    const aclTensor *dequantScale, const aclTensor *pertokenScaleOptional,
    const aclTensor *commQuantScale1Optional, const aclTensor *commQuantScale2Optional,
    const char *group, const char *reduceOp, int64_t commTurn, int64_t streamMode,
    const aclTensor *output, uint64_t *workspaceSize, aclOpExecutor **executor);

/* Phase 2: workspace = device buffer of >= workspaceSize bytes (NULL if 0). */
ACLNN_API aclnnStatus aclnnQuantMatmulAllReduceV3(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
                                                  const aclrtStream stream);

#ifdef __cplusplus
}
#endif

#endif
