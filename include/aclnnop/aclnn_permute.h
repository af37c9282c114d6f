/*
 * aclnnop/aclnn_permute.h -- reorder the dimensions of a tensor.
 *
 * Part of aclnn-py: CANN's prototypes (public source: ops-math
 * conversion/transpose/op_api/aclnn_permute.h). Exported by libopapi.so (libopapi_math.so in
 * split installs). Include chain as CANN's: aclnn/aclnn_base.h and aclnnop/aclnn_util.h.
 */
#ifndef ACLNNOP_ACLNN_PERMUTE_H
#define ACLNNOP_ACLNN_PERMUTE_H

#include <stdint.h>
#include "aclnn/aclnn_base.h"
#include "aclnn_util.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Phase 1. self: up to 8 dims, any strides. dims: a permutation of self's dims (each in
 * [-ndim, ndim - 1]). out: self's dtype, shape self.shape[dims[i]]. *workspaceSize in bytes.
 */
ACLNN_API aclnnStatus aclnnPermuteGetWorkspaceSize(const aclTensor *self, const aclIntArray *dims, aclTensor *out,
                                                   uint64_t *workspaceSize, aclOpExecutor **executor);

/* Phase 2: workspace = device buffer of >= workspaceSize bytes (NULL if 0). */
ACLNN_API aclnnStatus aclnnPermute(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
                                   const aclrtStream stream);

#ifdef __cplusplus
}
#endif

#endif
