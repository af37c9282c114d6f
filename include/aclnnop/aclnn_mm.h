/*
 * aclnnop/aclnn_mm.h -- two-dimensional matrix product out = self @ mat2.
 *
 * Part of aclnn-py: CANN's prototypes (public source: ops-nn
 * matmul/mat_mul_v3/op_host/op_api/aclnn_mm.h). Exported by libopapi.so (libopapi_nn.so
 * in split installs). Include chain as CANN's: aclnn/aclnn_base.h and aclnnop/aclnn_util.h.
 */
#ifndef ACLNNOP_ACLNN_MM_H
#define ACLNNOP_ACLNN_MM_H

#include <stdint.h>
#include "aclnn/aclnn_base.h"
#include "aclnn_util.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Phase 1. self (m, k) and mat2 (k, n): FLOAT, FLOAT16 or BF16, ND (mat2 may also be
 * the FRACTAL_NZ weight aclnnTransMatmulWeight makes), any strides. out (m, n): FLOAT,
 * FLOAT16 or BF16. cubeMathType: 0 KEEP_DTYPE, 1 ALLOW_FP32_DOWN_PRECISION, 2 USE_FP16,
 * 3 USE_HF32, 4 USE_FP32_ADD. *workspaceSize in bytes.
 */
ACLNN_API aclnnStatus aclnnMmGetWorkspaceSize(const aclTensor *self, const aclTensor *mat2, aclTensor *out,
                                              int8_t cubeMathType, uint64_t *workspaceSize,
                                              aclOpExecutor **executor);

/* Phase 2: workspace = device buffer of >= workspaceSize bytes (NULL if 0). */
ACLNN_API aclnnStatus aclnnMm(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor, aclrtStream stream);

#ifdef __cplusplus
}
#endif

#endif
