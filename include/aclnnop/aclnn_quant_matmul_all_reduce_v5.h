/*
 * aclnnop/aclnn_quant_matmul_all_reduce_v5.h -- quantised matmul + all-reduce (MC2), V5.
 *
 * Part of aclnn-py: CANN's prototypes (public source: ops-transformer
 * mc2/matmul_all_reduce/op_api/aclnn_quant_matmul_all_reduce_v5.h). Exported by
 * libopapi.so (libopapi_transformer.so in split installs). V4 plus commMode, the
 * communication engine ("ai_cpu" or NULL on Atlas A2, "ai_cpu" or "ccu" on Ascend 950),
 * after reduceOp. CANN's header includes <string> (C++), aclnn/aclnn_base.h,
 * hccl/hccl_types.h and aclnn_util.h; hccl/hccl.h is added here as in the V4 header
 * (a superset).
 */
#ifndef ACLNNOP_ACLNN_QUANT_MATMUL_ALL_REDUCE_V5_H
#define ACLNNOP_ACLNN_QUANT_MATMUL_ALL_REDUCE_V5_H

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
 * Phase 1 (18 parameters): V4's with commMode after reduceOp. *workspaceSize in bytes.
 */
ACLNN_API aclnnStatus aclnnQuantMatmulAllReduceV5GetWorkspaceSize(
    const aclTensor *x1, const aclTensor *x2, const aclTensor *biasOptional, const aclTensor *x3Optional,
    const aclTensor *x1ScaleOptional, const aclTensor *x2Scale, const aclTensor *commQuantScale1Optional,
    const aclTensor *commQuantScale2Optional, const char *group, const char *reduceOp, const char *commMode,
    int64_t commTurn, int64_t streamMode, int64_t groupSize, int64_t commQuantMode, const aclTensor *output,
    uint64_t *workspaceSize, aclOpExecutor **executor);

/* Phase 2: workspace = device buffer of >= workspaceSize bytes (NULL if 0). */
ACLNN_API aclnnStatus aclnnQuantMatmulAllReduceV5(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
                                                  const aclrtStream stream);

#ifdef __cplusplus
}
#endif

#endif
