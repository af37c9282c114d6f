/*
 * aclnnop/aclnn_grouped_matmul_v5.h -- grouped matmul, V5.
 *
 * Part of aclnn-py: CANN's prototypes (public source: ops-transformer
 * gmm/grouped_matmul/op_api/aclnn_grouped_matmul_v5.h). Exported by libopapi.so
 * (libopapi_transformer.so in split installs). Two-phase protocol: phase 1 returns the
 * workspace size in BYTES and a new executor; phase 2 runs it on a stream and frees it
 * unless it was made repeatable. Include chain: CANN's aclnn/aclnn_base.h (CANN's header marks
 * its functions with the visibility attribute itself, as here), and aclnn_util.h as the other
 * operator headers (a superset).
 */
#ifndef ACLNNOP_ACLNN_GROUPED_MATMUL_V5_H
#define ACLNNOP_ACLNN_GROUPED_MATMUL_V5_H

#include <stdint.h>
#include "aclnn/aclnn_base.h"
#include "aclnn_util.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Phase 1 (22 parameters). groupListOptional is a single INT64 tensor, not a
 * list. activationInputOptional, activationQuantScaleOptional,
 * activationQuantOffsetOptional, activationFeatureOutOptional and
 * dynQuantScaleOutOptional must be NULL. splitItem: 0/1 multi-tensor output,
 * 2/3 single-tensor output. groupType: -1 none, 0 M axis, 2 K axis.
 * groupListType: 0 cumulative, 1 counts, 2 (index, count) pairs.
 * actType: 0 none, 1 relu, 2 gelu_tanh, 3 gelu_erf, 4 fast_gelu, 5 silu.
 * tuningConfigOptional: host int64 array (up to 3 values) or NULL.
 * *workspaceSize in bytes.
 */
__attribute__((visibility("default"))) aclnnStatus aclnnGroupedMatmulV5GetWorkspaceSize(
    const aclTensorList *x, const aclTensorList *weight, const aclTensorList *biasOptional,
    const aclTensorList *scaleOptional, const aclTensorList *offsetOptional,
    const aclTensorList *antiquantScaleOptional, const aclTensorList *antiquantOffsetOptional,
    const aclTensorList *perTokenScaleOptional, const aclTensor *groupListOptional,
    const aclTensorList *activationInputOptional, const aclTensorList *activationQuantScaleOptional,
    const aclTensorList *activationQuantOffsetOptional, int64_t splitItem, int64_t groupType,
    int64_t groupListType, int64_t actType, aclIntArray *tuningConfigOptional, aclTensorList *out,
    aclTensorList *activationFeatureOutOptional, aclTensorList *dynQuantScaleOutOptional,
    uint64_t *workspaceSize, aclOpExecutor **executor);

/* Phase 2: workspace = device buffer of >= workspaceSize bytes (NULL if 0). */
__attribute__((visibility("default"))) aclnnStatus aclnnGroupedMatmulV5(void *workspace, uint64_t workspaceSize,
                                                                        aclOpExecutor *executor,
                                                                        aclrtStream stream);

#ifdef __cplusplus
}
#endif

#endif
