/*
 * aclnnop/aclnn_util.h -- the ACLNN_API marker of the operator headers.
 *
 * Part of aclnn-py. CANN's operator headers include this header, which marks every
 * operator function for export from the shared library that defines it; defined as
 * CANN's (ops-math common/inc/external/aclnn_util.h, ops-transformer
 * common/include/external/aclnn_util.h). A program calling the operators is not
 * affected by it.
 */
#ifndef ACLNNOP_ACLNN_UTIL_H
#define ACLNNOP_ACLNN_UTIL_H

#define ACLNN_API __attribute__((visibility("default")))

#endif
