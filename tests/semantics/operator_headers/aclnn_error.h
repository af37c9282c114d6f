/*
 * aclnn_error.h -- a synthetic header the reader cannot read at all (#error in the C part).
 */
#ifndef OP_API_INC_ERROR_H_
#define OP_API_INC_ERROR_H_

#ifndef __cplusplus
#error "this header is C++ only"
#endif

aclnnStatus aclnnErrorRefused(const aclTensor *x);

#endif
