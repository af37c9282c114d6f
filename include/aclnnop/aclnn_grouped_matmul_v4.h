/*
 * aclnnop/aclnn_grouped_matmul_v4.h -- grouped matmul, V4.
 *
 * Part of aclnn-py: CANN's prototypes (public source: ops-transformer
 * gmm/grouped_matmul/op_api/aclnn_grouped_matmul_v4.h, 2026-08). Exported by libopapi.so
 * (libopapi_transformer.so in split installs). CANN marks both functions deprecated
 * (GCC's deprecated attribute: aclnnGroupedMatmulV5 replaces them), as here.
 * Include chain: CANN's aclnn/aclnn_base.h, and aclnn_util.h as the other operator headers
 * (a superset).
 */
#ifndef ACLNNOP_ACLNN_GROUPED_MATMUL_V4_H
#define ACLNNOP_ACLNN_GROUPED_MATMUL_V4_H

#include <stdint.h>
#include "aclnn/aclnn_base.h"
#include "aclnn_util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* actType values (CANN declares them in this header). */
typedef enum {
    GMM_ACT_TYPE_NONE = 0L,
    GMM_ACT_TYPE_RELU = 1L,
    GMM_ACT_TYPE_GELU_TANH = 2L,
    GMM_ACT_TYPE_GELU_ERR_FUNC = 3L,
    GMM_ACT_TYPE_FAST_GELU = 4L,
    GMM_ACT_TYPE_SILU = 5L,
} GMMActType;

/*
 * Phase 1 (19 parameters): V5's without tuningConfigOptional. groupListOptional is an INT64
 * device tensor. activationInputOptional, activationQuantScaleOptional,
 * activationQuantOffsetOptional, activationFeatureOutOptional and dynQuantScaleOutOptional
 * must be NULL. groupListType: 0 cumulative, 1 counts, 2 (index, count) pairs. actType: a
 * GMMActType. *workspaceSize in bytes.
 */
__attribute__((visibility("default"), deprecated("aclnnGroupedMatmulV4GetWorkspaceSize is deprecated (CANN: after December 2026); use aclnnGroupedMatmulV5GetWorkspaceSize")))
aclnnStatus aclnnGroupedMatmulV4GetWorkspaceSize(
    const aclTensorList *x, const aclTensorList *weight, const aclTensorList *biasOptional,
    const aclTensorList *scaleOptional, const aclTensorList *offsetOptional,
    const aclTensorList *antiquantScaleOptional, const aclTensorList *antiquantOffsetOptional,
    const aclTensorList *perTokenScaleOptional, const aclTensor *groupListOptional,
    const aclTensorList *activationInputOptional, const aclTensorList *activationQuantScaleOptional,
    const aclTensorList *activationQuantOffsetOptional, int64_t splitItem, int64_t groupType,
    int64_t groupListType, int64_t actType, aclTensorList *out, aclTensorList *activationFeatureOutOptional,
    aclTensorList *dynQuantScaleOutOptional, uint64_t *workspaceSize, aclOpExecutor **executor);

/* Phase 2: workspace = device buffer of >= workspaceSize bytes (NULL if 0). */
__attribute__((visibility("default"), deprecated("aclnnGroupedMatmulV4 is deprecated (CANN: after December 2026); use aclnnGroupedMatmulV5")))
aclnnStatus aclnnGroupedMatmulV4(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor, aclrtStream stream);

#ifdef __cplusplus
}
#endif

#endif
