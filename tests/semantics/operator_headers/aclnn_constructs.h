/*
 * aclnn_constructs.h -- a synthetic operator header in CANN's style, written for aclnn-py's tests.
 *
 * Each construct CANN's public operator headers use (ops-math, ops-nn, ops-transformer,
 * ops-cv) appears once; tests/semantics/test_operator_headers.py checks what the binding's
 * tolerant reader makes of each. Functions named ...Refused must be refused with a reason.
 */
#ifndef OP_API_INC_CONSTRUCTS_H_
#define OP_API_INC_CONSTRUCTS_H_

#include <string>
#include <array>
#include <cstring>
#include "aclnn/aclnn_base.h"
#include "aclnn_util.h"

#ifndef ACLNN_API
#define ACLNN_API __attribute__((visibility("default")))
#endif

#define CONSTRUCTS_MAX_RANK 8
#define CONSTRUCTS_EXPORT \
    __attribute__((visibility("default")))

#warning "aclnn_constructs.h is scheduled to be deprecated, " \
    "a warning over two lines"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CONSTRUCTS_MODE_A = 0L,
    CONSTRUCTS_MODE_B = 1L,
} ConstructsMode;

/* The marker, const and non-const tensors, an optional one, attributes of every C kind. */
ACLNN_API aclnnStatus aclnnConstructsGetWorkspaceSize(const aclTensor* self, const aclTensor *biasOptional,
    const aclTensorList *xs, const aclScalar *alpha, const aclIntArray *dims, const aclFloatArray *weights,
    const aclBoolArray *mask, const aclScalarList *levels, int64_t axis, bool keepDim, double eps,
    float beta, int8_t level, aclDataType dtype, const char *mode, char *group, void *raw,
    aclTensor *out, const aclTensor *softmaxOut, uint64_t *workspaceSize, aclOpExecutor **executor);

ACLNN_API aclnnStatus aclnnConstructs(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
                                      const aclrtStream stream);

/* The visibility attribute written out, before the return type. */
__attribute__((visibility("default"))) aclnnStatus aclnnVisibleGetWorkspaceSize(aclTensor *selfRef,
    uint64_t *workspaceSize, aclOpExecutor **opExecutor);
__attribute__((visibility("default"))) aclnnStatus aclnnVisible(void* workspace, uint64_t workspaceSize,
    aclOpExecutor* executor, aclrtStream stream);

/* Deprecation: CANN's macro, and the attribute combined with visibility. */
ACL_DEPRECATED_MESSAGE("aclnnOldGetWorkspaceSize is deprecated")
ACLNN_API aclnnStatus aclnnOldGetWorkspaceSize(const aclTensor *x, aclTensor *out, uint64_t *workspaceSize,
                                               aclOpExecutor **executor);
__attribute__((visibility("default"), deprecated("aclnnOld is scheduled to be deprecated, "
                                                 "use aclnnVisible instead")))
aclnnStatus aclnnOld(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor, aclrtStream stream);

/* A macro of the header itself, with a line continuation; unnamed and array parameters; (void). */
CONSTRUCTS_EXPORT aclnnStatus aclnnHelperSize(const aclIntArray *, int64_t shape[],
                                                uint64_t *size);
ACLNN_API aclnnStatus aclnnHelperVersion(void);
ACLNN_API aclnnStatus aclnnHelperMode(ConstructsMode mode, uint64_t *size);

#if defined(CONSTRUCTS_MAX_RANK) && CONSTRUCTS_MAX_RANK > 4
ACLNN_API aclnnStatus aclnnHelperRank(int64_t rank);
#else
ACLNN_API aclnnStatus aclnnHelperRankRefused(int64_t rank);
#endif

/* What a C caller cannot declare. */
ACLNN_API aclnnStatus aclnnReferenceRefused(const aclTensor *x, uint64_t &size);
ACLNN_API aclnnStatus aclnnDefaultRefused(const aclTensor *x, int64_t axis = 0);
ACLNN_API aclnnStatus aclnnUnknownTypeRefused(const aclTensor *x, std_like_type handle);

static inline aclnnStatus aclnnInlineRefused(int64_t value)
{
    return value == 0 ? 0 : 161002;
}

#ifdef __cplusplus
}
#endif

#ifdef __cplusplus
ACLNN_API aclnnStatus aclnnCxxOnlyRefused(const aclTensor *x);
#endif

#endif
