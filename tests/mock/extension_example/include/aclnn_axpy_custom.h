/*
 * aclnn_axpy_custom.h -- the operator of the mock's extension example: out = alpha * x + y.
 *
 * Written for aclnn-py's tests in the style of a CANN custom operator package's op_api/include
 * (ACLNN_API from aclnn_util.h, the two-phase pair in an extern "C" block).
 */
#ifndef OP_API_INC_AXPY_CUSTOM_H_
#define OP_API_INC_AXPY_CUSTOM_H_

#include "aclnn/aclnn_base.h"
#include "aclnnop/aclnn_util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* x, y: FLOAT16 or FLOAT, the same shape and dtype; alpha: a number; out: x's shape and dtype. */
ACLNN_API aclnnStatus aclnnAxpyCustomGetWorkspaceSize(const aclTensor *x, const aclTensor *y, const aclScalar *alpha,
                                                      aclTensor *out, uint64_t *workspaceSize,
                                                      aclOpExecutor **executor);

ACLNN_API aclnnStatus aclnnAxpyCustom(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
                                      aclrtStream stream);

#ifdef __cplusplus
}
#endif

#endif
