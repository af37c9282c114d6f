/*
 * aclnnop/aclnn_trans_matmul_weight.h -- matmul weight to FRACTAL_NZ helpers.
 *
 * Part of aclnn-py: CANN's prototypes (public source: ops-math
 * conversion/trans_data/op_api/aclnn_trans_matmul_weight.h). Exported by libopapi.so
 * (libopapi_math.so in split installs). Include chain as CANN's: aclnn/aclnn_base.h and
 * aclnnop/aclnn_util.h.
 */
#ifndef ACLNNOP_ACLNN_TRANS_MATMUL_WEIGHT_H
#define ACLNNOP_ACLNN_TRANS_MATMUL_WEIGHT_H

#include <stdint.h>
#include "aclnn/aclnn_base.h"
#include "aclnn_util.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Host-only, single phase. *weightTensorSize = size of the NZ weight in
 * ELEMENTS, always with the FLOAT16 rule: align(d-2, 16) * align(d-1, 16)
 * times the batch dims. tensorShape: 2-D (3-D on some SoCs).
 */
ACLNN_API aclnnStatus aclnnCalculateMatmulWeightSize(const aclIntArray *tensorShape, uint64_t *weightTensorSize);

/*
 * Host-only, single phase. *weightTensorSize in ELEMENTS, not bytes (multiply
 * by the element size before aclrtMalloc): FLOAT16/BF16 align the last two
 * dims to 16/16, other types (INT8) to 16/32. tensorShape: 2-6 dims, none 0.
 */
ACLNN_API aclnnStatus aclnnCalculateMatmulWeightSizeV2(const aclIntArray *tensorShape, aclDataType dataType,
                                                       uint64_t *weightTensorSize);

/*
 * Phase 1. mmWeightRef is modified in place (non-const): its storage shape
 * becomes the 4-D NZ shape and its storage format FRACTAL_NZ; the view shape
 * is kept. The buffer must already hold aclnnCalculateMatmulWeightSizeV2
 * elements. Input must be ND, FLOAT16/BF16/INT8. *workspaceSize in bytes.
 */
ACLNN_API aclnnStatus aclnnTransMatmulWeightGetWorkspaceSize(aclTensor *mmWeightRef, uint64_t *workspaceSize,
                                                             aclOpExecutor **executor);

/* Phase 2: workspace = device buffer of >= workspaceSize bytes (NULL if 0). */
ACLNN_API aclnnStatus aclnnTransMatmulWeight(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
                                             aclrtStream stream);

#ifdef __cplusplus
}
#endif

#endif
