/*
 * aclnnop/aclnn_cast.h -- convert a tensor to another data type.
 *
 * Part of aclnn-py: CANN's prototypes (public source: ops-math math/cast/op_api/aclnn_cast.h).
 * Exported by libopapi.so (libopapi_math.so in split installs). Include chain as CANN's:
 * aclnn/aclnn_base.h and aclnnop/aclnn_util.h.
 */
#ifndef ACLNNOP_ACLNN_CAST_H
#define ACLNNOP_ACLNN_CAST_H

#include <stdint.h>
#include "aclnn/aclnn_base.h"
#include "aclnn_util.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Phase 1. self: up to 8 dims, any strides. dtype: the type to convert to. out: the shape
 * of self, data type dtype. Which pairs a SoC converts, and how values round and
 * saturate: docs/operators.md. *workspaceSize in bytes.
 */
ACLNN_API aclnnStatus aclnnCastGetWorkspaceSize(const aclTensor *self, const aclDataType dtype, aclTensor *out,
                                                uint64_t *workspaceSize, aclOpExecutor **executor);

/* Phase 2: workspace = device buffer of >= workspaceSize bytes (NULL if 0). */
ACLNN_API aclnnStatus aclnnCast(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor, aclrtStream stream);

#ifdef __cplusplus
}
#endif

#endif
