/*
 * aclnnop/aclnn_dynamic_quant.h -- per-token symmetric dynamic quantization.
 *
 * Part of aclnn-py: CANN's prototypes (public source: ops-nn
 * quant/dynamic_quant/op_host/op_api/aclnn_dynamic_quant.h). Exported by libopapi.so
 * (libopapi_nn.so in split installs). Include chain as CANN's: aclnn/acl_meta.h only (CANN's
 * header marks its functions with the visibility attribute itself, as here).
 */
#ifndef ACLNNOP_ACLNN_DYNAMIC_QUANT_H
#define ACLNNOP_ACLNN_DYNAMIC_QUANT_H

#include "aclnn/acl_meta.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Phase 1. x FLOAT16/BFLOAT16 (2-8 dims); smoothScalesOptional of x's dtype, shape (last dim of
 * x,); yOut INT8/INT4 of x's shape (or INT32 with the last dim / 8: eight int4 per int32);
 * scaleOut FLOAT32 of x's shape without its last dim. Per row: scale = max|x * smooth| / 127
 * (7 for int4), y = round(x * smooth / scale). *workspaceSize in bytes.
 */
__attribute__((visibility("default"))) aclnnStatus aclnnDynamicQuantGetWorkspaceSize(
    const aclTensor *x, const aclTensor *smoothScalesOptional, const aclTensor *yOut, const aclTensor *scaleOut,
    uint64_t *workspaceSize, aclOpExecutor **executor);

/* Phase 2: workspace = device buffer of >= workspaceSize bytes (NULL if 0). */
__attribute__((visibility("default"))) aclnnStatus aclnnDynamicQuant(void *workspace, uint64_t workspaceSize,
                                                                     aclOpExecutor *executor, aclrtStream stream);

#ifdef __cplusplus
}
#endif

#endif
