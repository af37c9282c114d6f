/*
 * aclnnop/aclnn_weight_quant_matmul_all_reduce.h -- weight-only quantised matmul + all-reduce (MC2).
 *
 * Part of aclnn-py: CANN's prototypes (public source: ops-transformer
 * mc2/matmul_all_reduce/op_api/aclnn_weight_quant_matmul_all_reduce.h). Exported by
 * libopapi.so (libopapi_transformer.so in split installs). FLOAT16/BFLOAT16 x1 with an INT8
 * or INT4 x2 (Ascend 950 also FLOAT8_E4M3FN, HIFLOAT8): output = AllReduce(x1 @ ((x2 +
 * antiquantOffset) * antiquantScale) + bias + x3), per tensor, per channel or per group of
 * antiquantGroupSize rows of k. Include chain as CANN's first release of it
 * (ops-transformer, 2025): <string> (C++), aclnn/aclnn_base.h, aclnn_util.h, hccl/hccl.h,
 * hccl/hccl_types.h.
 */
#ifndef ACLNNOP_ACLNN_WEIGHT_QUANT_MATMUL_ALL_REDUCE_H
#define ACLNNOP_ACLNN_WEIGHT_QUANT_MATMUL_ALL_REDUCE_H

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
 * Phase 1 (12 parameters). antiquantScale is required; bias, antiquantOffset and x3 may be
 * NULL. antiquantGroupSize: 0, or a multiple of 32 in [32, k - 1] (per group).
 * *workspaceSize in bytes.
 */
ACLNN_API aclnnStatus aclnnWeightQuantMatmulAllReduceGetWorkspaceSize(
    const aclTensor *x1, const aclTensor *x2, const aclTensor *bias, const aclTensor *antiquantScale,
    const aclTensor *antiquantOffset, const aclTensor *x3, const char *group, const char *reduceOp, int64_t commTurn,
    int64_t streamMode, int64_t antiquantGroupSize, const aclTensor *output, uint64_t *workspaceSize,
    aclOpExecutor **executor);

/* Phase 2: workspace = device buffer of >= workspaceSize bytes (NULL if 0). */
ACLNN_API aclnnStatus aclnnWeightQuantMatmulAllReduce(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
                                                      const aclrtStream stream);

#ifdef __cplusplus
}
#endif

#endif
