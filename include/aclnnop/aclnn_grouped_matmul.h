/*
 * aclnnop/aclnn_grouped_matmul.h -- grouped matmul, V1.
 *
 * Part of aclnn-py: CANN's prototypes (public source: ops-transformer
 * gmm/grouped_matmul/op_api/aclnn_grouped_matmul.h, 2026-08). Exported by libopapi.so
 * (libopapi_transformer.so in split installs). CANN marks both functions deprecated
 * (GCC's deprecated attribute: aclnnGroupedMatmulV5 replaces them), as here.
 * Include chain: CANN's aclnn/aclnn_base.h, and aclnn_util.h as the other operator headers
 * (a superset).
 */
#ifndef ACLNNOP_ACLNN_GROUPED_MATMUL_H
#define ACLNNOP_ACLNN_GROUPED_MATMUL_H

#include <stdint.h>
#include "aclnn/aclnn_base.h"
#include "aclnn_util.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Phase 1 (10 parameters). groupListOptional is a host array of cumulative sizes of the
 * grouped axis (no groupType: the lists' lengths choose no grouping or grouping along M).
 * y is written although declared const (CANN's declaration). *workspaceSize in bytes.
 */
__attribute__((visibility("default"), deprecated("aclnnGroupedMatmulGetWorkspaceSize is deprecated (CANN: after December 2026); use aclnnGroupedMatmulV5GetWorkspaceSize")))
aclnnStatus aclnnGroupedMatmulGetWorkspaceSize(
    const aclTensorList *x, const aclTensorList *weight, const aclTensorList *biasOptional,
    const aclTensorList *scaleOptional, const aclTensorList *offsetOptional,
    const aclTensorList *antiquantScaleOptional, const aclTensorList *antiquantOffsetOptional,
    const aclIntArray *groupListOptional, int64_t splitItem, const aclTensorList *y, uint64_t *workspaceSize,
    aclOpExecutor **executor);

/* Phase 2: workspace = device buffer of >= workspaceSize bytes (NULL if 0). */
__attribute__((visibility("default"), deprecated("aclnnGroupedMatmul is deprecated (CANN: after December 2026); use aclnnGroupedMatmulV5")))
aclnnStatus aclnnGroupedMatmul(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor, aclrtStream stream);

#ifdef __cplusplus
}
#endif

#endif
