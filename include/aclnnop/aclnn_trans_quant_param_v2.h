/*
 * aclnnop/aclnn_trans_quant_param_v2.h -- pack float quant scales into UINT64/INT64 (device op).
 *
 * Part of aclnn-py: CANN's prototypes (public source: ops-nn
 * quant/trans_quant_param_v2/op_host/op_api/aclnn_trans_quant_param_v2.h). Exported by
 * libopapi.so (libopapi_nn.so in split installs). Include chain as CANN's:
 * aclnn/aclnn_base.h and aclnnop/aclnn_util.h.
 */
#ifndef ACLNNOP_ACLNN_TRANS_QUANT_PARAM_V2_H
#define ACLNNOP_ACLNN_TRANS_QUANT_PARAM_V2_H

#include <stdint.h>
#include "aclnn/aclnn_base.h"
#include "aclnn_util.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Phase 1. scale: FLOAT32, 1-2 D. offset: FLOAT32 or NULL, shape (t,) or
 * (1, n) with t in {1, n}. out: UINT64 or INT64. Per element:
 * out = (scale bits AND 0xFFFFE000) OR 1 << 46, then the rounded offset
 * (clamped to -256..255) in bits 37-45. *workspaceSize in bytes.
 */
ACLNN_API aclnnStatus aclnnTransQuantParamV2GetWorkspaceSize(const aclTensor *scale, const aclTensor *offset,
                                                             const aclTensor *out, uint64_t *workspaceSize,
                                                             aclOpExecutor **executor);

/* Phase 2: workspace = device buffer of >= workspaceSize bytes (NULL if 0). */
ACLNN_API aclnnStatus aclnnTransQuantParamV2(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
                                             const aclrtStream stream);

#ifdef __cplusplus
}
#endif

#endif
