/*
 * aclnnop/aclnn_npu_format_cast.h -- convert a tensor between ND and FRACTAL_NZ.
 *
 * Part of aclnn-py: CANN's prototypes (public source: ops-math
 * conversion/npu_format_cast/op_host/op_api/aclnn_npu_format_cast.h). Exported by libopapi.so
 * (libopapi_math.so in split installs). Include chain as CANN's: aclnn/aclnn_base.h and
 * aclnnop/aclnn_util.h. The mock converts ND <-> FRACTAL_NZ (docs/operators.md).
 */
#ifndef ACLNNOP_ACLNN_NPU_FORMAT_CAST_H
#define ACLNNOP_ACLNN_NPU_FORMAT_CAST_H

#include "aclnn/aclnn_base.h"
#include "aclnn_util.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Phase 1. srcTensor and dstTensor contiguous; dstTensor made with the shape and format
 * aclnnNpuFormatCastCalculateSizeAndFormat gives (ND -> FRACTAL_NZ: view shape = src's view
 * shape, storage shape = the NZ shape; FRACTAL_NZ -> ND: the ND shape). *workspaceSize in bytes.
 */
ACLNN_API aclnnStatus aclnnNpuFormatCastGetWorkspaceSize(const aclTensor *srcTensor, aclTensor *dstTensor,
                                                         uint64_t *workspaceSize, aclOpExecutor **executor);

/* Phase 2: workspace = device buffer of >= workspaceSize bytes (NULL if 0). */
ACLNN_API aclnnStatus aclnnNpuFormatCast(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
                                         aclrtStream stream);

/*
 * Host-only, single phase: the storage shape and the actual format of the dstTensor that
 * converts srcTensor to dstFormat (ACL_FORMAT_FRACTAL_NZ 29 or ACL_FORMAT_ND 2).
 * additionalDtype: the aclDataType whose size gives C0 (32 bytes / size), -1 = srcTensor's.
 * *dstShape is allocated by the function (*dstShapeSize elements); the caller frees it.
 */
ACLNN_API aclnnStatus aclnnNpuFormatCastCalculateSizeAndFormat(const aclTensor *srcTensor, const int dstFormat,
                                                               int additionalDtype, int64_t **dstShape,
                                                               uint64_t *dstShapeSize, int *actualFormat);

#ifdef __cplusplus
}
#endif

#endif
