/*
 * aclnnop/aclnn_util.h -- the ACLNN_API marker of the operator headers.
 *
 * Part of aclnn-py. CANN's operator headers include this header, which
 * defines ACLNN_API (symbol visibility, for building CANN's own libraries).
 * For a program that calls the operators it marks nothing: here it is empty,
 * and the headers of include/ do not use it.
 */
#ifndef ACLNNOP_ACLNN_UTIL_H
#define ACLNNOP_ACLNN_UTIL_H

#define ACLNN_API

#endif
