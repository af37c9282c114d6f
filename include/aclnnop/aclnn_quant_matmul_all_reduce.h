/*
 * aclnnop/aclnn_quant_matmul_all_reduce.h -- quantised matmul + all-reduce (MC2), V1.
 *
 * Part of aclnn-py: CANN's prototypes (public source: ops-transformer
 * mc2/matmul_all_reduce/op_api/aclnn_quant_matmul_all_reduce.h). Exported by libopapi.so
 * (libopapi_transformer.so in split installs). INT8 x1/x2 with a pertensor or perchannel
 * dequantScale (INT64/UINT64 packed by aclnnTransQuantParamV2 for FLOAT16 output, BFLOAT16
 * for BFLOAT16 output). Like CANN's header it brings in <string> (C++), aclnn/aclnn_base.h
 * and the HCCL API (hccl/hccl.h, hccl/hccl_types.h), so a sample including only this
 * header can create communicators and call HcclGetCommName.
 */
#ifndef ACLNNOP_ACLNN_QUANT_MATMUL_ALL_REDUCE_H
#define ACLNNOP_ACLNN_QUANT_MATMUL_ALL_REDUCE_H

#ifdef __cplusplus
#include <string>
#endif
#include <stdint.h>
#include "aclnn/aclnn_base.h"
#include "hccl/hccl.h"
#include "hccl/hccl_types.h"
#include "aclnn_util.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Phase 1 (12 parameters). group: communicator name from HcclGetCommName
 * (128-byte buffer). reduceOp: only "sum". commTurn: only 0. streamMode: only
 * 1 (ACL_STOP_ON_FAILURE). bias (INT32) and x3 may be NULL. *workspaceSize in
 * bytes.
 */
ACLNN_API aclnnStatus aclnnQuantMatmulAllReduceGetWorkspaceSize(
    const aclTensor *x1, const aclTensor *x2, const aclTensor *bias, const aclTensor *x3,
    const aclTensor *dequantScale, const char *group, const char *reduceOp, int64_t commTurn,
    int64_t streamMode, const aclTensor *output, uint64_t *workspaceSize, aclOpExecutor **executor);

/* Phase 2: workspace = device buffer of >= workspaceSize bytes (NULL if 0). */
ACLNN_API aclnnStatus aclnnQuantMatmulAllReduce(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
                                                const aclrtStream stream);

#ifdef __cplusplus
}
#endif

#endif
