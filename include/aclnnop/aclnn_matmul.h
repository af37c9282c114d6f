/*
 * aclnnop/aclnn_matmul.h -- matrix product of 1-D to 6-D tensors, with broadcast batch dims.
 *
 * Part of aclnn-py: CANN's prototypes (public source: ops-nn
 * matmul/mat_mul_v3/op_host/op_api/aclnn_matmul.h). Exported by libopapi.so (libopapi_nn.so
 * in split installs). Include chain as CANN's: aclnn/aclnn_base.h and aclnnop/aclnn_util.h.
 * CANN's header also declares aclnnMatmulWeightNz, for a FRACTAL_NZ mat2 with its own rules: not here,
 * as no operator the mock lacks is declared (docs/operators.md, "The mock's catalogue").
 */
#ifndef ACLNNOP_ACLNN_MATMUL_H
#define ACLNNOP_ACLNN_MATMUL_H

#include <stdint.h>
#include "aclnn/aclnn_base.h"
#include "aclnn_util.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Phase 1. self and mat2: 1 to 6 dims, FLOAT, FLOAT16 or BF16; the product of
 * torch.matmul (a 1-D operand is a vector, batch dims broadcast). out: FLOAT, FLOAT16
 * or BF16, as many elements as the product. cubeMathType as aclnnMm's.
 */
ACLNN_API aclnnStatus aclnnMatmulGetWorkspaceSize(const aclTensor *self, const aclTensor *mat2, aclTensor *out,
                                                  int8_t cubeMathType, uint64_t *workspaceSize,
                                                  aclOpExecutor **executor);

/* Phase 2: workspace = device buffer of >= workspaceSize bytes (NULL if 0). */
ACLNN_API aclnnStatus aclnnMatmul(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
                                  aclrtStream stream);

#ifdef __cplusplus
}
#endif

#endif
