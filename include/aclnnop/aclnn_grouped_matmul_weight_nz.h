/*
 * aclnnop/aclnn_grouped_matmul_weight_nz.h -- grouped matmul, with a FRACTAL_NZ weight.
 *
 * Part of aclnn-py: CANN's prototypes (public source: ops-transformer
 * gmm/grouped_matmul/op_api/aclnn_grouped_matmul_weight_nz.h, 2026-08). Exported by libopapi.so
 * (libopapi_transformer.so in split installs). Not deprecated.
 * Include chain: CANN's aclnn/aclnn_base.h, and aclnn_util.h as the other operator headers
 * (a superset).
 */
#ifndef ACLNNOP_ACLNN_GROUPED_MATMUL_WEIGHT_NZ_H
#define ACLNNOP_ACLNN_GROUPED_MATMUL_WEIGHT_NZ_H

#include <stdint.h>
#include "aclnn/aclnn_base.h"
#include "aclnn_util.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Phase 1 (21 parameters): V5's with quantGroupSize after tuningConfigOptional. The weight
 * is read as FRACTAL_NZ data. quantGroupSize: 0 without per-group quantization, 256 for the
 * Ascend 950's symmetric INT8 x INT4 (S8S4) per-group mode. *workspaceSize in bytes.
 */
__attribute__((visibility("default"))) aclnnStatus aclnnGroupedMatmulWeightNzGetWorkspaceSize(
    const aclTensorList *x, const aclTensorList *weight, const aclTensorList *biasOptional,
    const aclTensorList *scaleOptional, const aclTensorList *offsetOptional,
    const aclTensorList *antiquantScaleOptional, const aclTensorList *antiquantOffsetOptional,
    const aclTensorList *perTokenScaleOptional, const aclTensor *groupListOptional,
    const aclTensorList *activationInputOptional, const aclTensorList *activationQuantScaleOptional,
    const aclTensorList *activationQuantOffsetOptional, int64_t splitItem, int64_t groupType,
    int64_t groupListType, int64_t actType, aclIntArray *tuningConfigOptional, int64_t quantGroupSize,
    aclTensorList *out, aclTensorList *activationFeatureOutOptional, aclTensorList *dynQuantScaleOutOptional,
    uint64_t *workspaceSize, aclOpExecutor **executor);

/* Phase 2: workspace = device buffer of >= workspaceSize bytes (NULL if 0). */
__attribute__((visibility("default"))) aclnnStatus aclnnGroupedMatmulWeightNz(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor, aclrtStream stream);

#ifdef __cplusplus
}
#endif

#endif
