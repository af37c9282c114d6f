/*
 * aclnnop/aclnn_grouped_matmul_v2.h -- grouped matmul, V2.
 *
 * Part of aclnn-py: CANN's prototypes (public source: ops-transformer
 * gmm/grouped_matmul/op_api/aclnn_grouped_matmul_v2.h, 2026-08). Exported by libopapi.so
 * (libopapi_transformer.so in split installs). CANN marks both functions deprecated
 * (GCC's deprecated attribute: aclnnGroupedMatmulV5 replaces them), as here.
 * Include chain: CANN's aclnn/aclnn_base.h, and aclnn_util.h as the other operator headers
 * (a superset).
 */
#ifndef ACLNNOP_ACLNN_GROUPED_MATMUL_V2_H
#define ACLNNOP_ACLNN_GROUPED_MATMUL_V2_H

#include <stdint.h>
#include "aclnn/aclnn_base.h"
#include "aclnn_util.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Phase 1 (11 parameters). groupListOptional is a host array of cumulative sizes of the
 * grouped axis. groupType: -1 none, 0 M axis, 2 K axis. y is written although declared const
 * (CANN's declaration). *workspaceSize in bytes.
 */
__attribute__((visibility("default"), deprecated("aclnnGroupedMatmulV2GetWorkspaceSize is deprecated (CANN: after December 2026); use aclnnGroupedMatmulV5GetWorkspaceSize")))
aclnnStatus aclnnGroupedMatmulV2GetWorkspaceSize(
    const aclTensorList *x, const aclTensorList *weight, const aclTensorList *biasOptional,
    const aclTensorList *scaleOptional, const aclTensorList *offsetOptional,
    const aclTensorList *antiquantScaleOptional, const aclTensorList *antiquantOffsetOptional,
    const aclIntArray *groupListOptional, int64_t splitItem, int64_t groupType, const aclTensorList *y,
    uint64_t *workspaceSize, aclOpExecutor **executor);

/* Phase 2: workspace = device buffer of >= workspaceSize bytes (NULL if 0). */
__attribute__((visibility("default"), deprecated("aclnnGroupedMatmulV2 is deprecated (CANN: after December 2026); use aclnnGroupedMatmulV5")))
aclnnStatus aclnnGroupedMatmulV2(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor, aclrtStream stream);

#ifdef __cplusplus
}
#endif

#endif
