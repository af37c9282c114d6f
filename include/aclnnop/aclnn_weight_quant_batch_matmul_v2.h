/*
 * aclnnop/aclnn_weight_quant_batch_matmul_v2.h -- matmul with an antiquantized (weight-only
 * quantized) weight.
 *
 * Part of aclnn-py: CANN's prototypes (public source: ops-nn
 * matmul/weight_quant_batch_matmul_v2/op_host/op_api/aclnn_weight_quant_batch_matmul_v2.h).
 * Exported by libopapi.so (libopapi_nn.so in split installs). Include chain as CANN's:
 * aclnn/aclnn_base.h and aclnnop/aclnn_util.h.
 */
#ifndef ACLNNOP_ACLNN_WEIGHT_QUANT_BATCH_MATMUL_V2_H
#define ACLNNOP_ACLNN_WEIGHT_QUANT_BATCH_MATMUL_V2_H

#include "aclnn/aclnn_base.h"
#include "aclnn_util.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Phase 1. y = x @ ((weight + antiquantOffset) * antiquantScale) + bias, optionally quantized
 * to INT8 with quantScale (UINT64/INT64 packed) and quantOffset. x FLOAT16/BFLOAT16 (m, k);
 * weight INT8/INT4 (k, n) or its transposed view, ND or FRACTAL_NZ; antiquantScale per tensor
 * (1), per channel (n)/(1, n) or per group (ceil(k/antiquantGroupSize), n); antiquantGroupSize
 * 0 or a multiple of 32 in [32, k-1]. *workspaceSize in bytes.
 */
ACLNN_API aclnnStatus aclnnWeightQuantBatchMatmulV2GetWorkspaceSize(
    const aclTensor *x, const aclTensor *weight, const aclTensor *antiquantScale,
    const aclTensor *antiquantOffsetOptional, const aclTensor *quantScaleOptional, const aclTensor *quantOffsetOptional,
    const aclTensor *biasOptional, int antiquantGroupSize, const aclTensor *y, uint64_t *workspaceSize,
    aclOpExecutor **executor);

/* Phase 2: workspace = device buffer of >= workspaceSize bytes (NULL if 0). */
ACLNN_API aclnnStatus aclnnWeightQuantBatchMatmulV2(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
                                                    aclrtStream stream);

#ifdef __cplusplus
}
#endif

#endif
