/*
 * aclnnop/aclnn_matmul_all_reduce_v3.h -- matmul + all-reduce (MC2), V3, no quantization.
 *
 * Part of aclnn-py: CANN's prototypes (public source: ops-transformer
 * mc2/matmul_all_reduce/op_api/aclnn_matmul_all_reduce_v3.h). Exported by libopapi.so
 * (libopapi_transformer.so in split installs). V2 plus commMode, the communication engine:
 * "ai_cpu" (or NULL) on Atlas A2, "ai_cpu" or "ccu" on Ascend 950. CANN's header includes
 * <string> (C++), aclnn/aclnn_base.h, aclnn_util.h and hccl/hccl_types.h; hccl/hccl.h is
 * added here as in the V1 and V2 headers (a superset).
 */
#ifndef ACLNNOP_ACLNN_MATMUL_ALL_REDUCE_V3_H
#define ACLNNOP_ACLNN_MATMUL_ALL_REDUCE_V3_H

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
 * Phase 1 (10 parameters): V2's with commMode after reduceOp. *workspaceSize in bytes.
 */
ACLNN_API aclnnStatus aclnnMatmulAllReduceV3GetWorkspaceSize(const aclTensor *x1, const aclTensor *x2,
                                                             const aclTensor *bias, const aclTensor *x3,
                                                             const char *group, const char *reduceOp,
                                                             const char *commMode, int64_t commTurn, int64_t streamMode,
                                                             const aclTensor *output, uint64_t *workspaceSize,
                                                             aclOpExecutor **executor);

/* Phase 2: workspace = device buffer of >= workspaceSize bytes (NULL if 0). */
ACLNN_API aclnnStatus aclnnMatmulAllReduceV3(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
                                             const aclrtStream stream);

#ifdef __cplusplus
}
#endif

#endif
