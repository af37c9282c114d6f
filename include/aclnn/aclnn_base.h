/*
 * aclnn/aclnn_base.h -- aclnn library init/finalize.
 *
 * Part of aclnn-py, written from abi.md section 2.2. Exported by libnnopbase.so.
 */
#ifndef ACLNN_ACLNN_BASE_H
#define ACLNN_ACLNN_BASE_H

#include "acl_meta.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Optional: aclInit already initialises aclnn. configPath may be NULL. */
aclnnStatus aclnnInit(const char *configPath);
aclnnStatus aclnnFinalize(void);

#ifdef __cplusplus
}
#endif

#endif
