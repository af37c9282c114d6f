/*
 * aclnn/aclnn_base.h -- aclnn library init/finalize.
 *
 * Part of aclnn-py, written from the declarations of CANN's opbase header
 * hicann/opbase include/nnopbase/aclnn/aclnn_base.h. Exported by libnnopbase.so.
 * Include chain as CANN's (<cstdint>, <cstdlib>, aclnn/acl_meta.h), in C form.
 */
#ifndef ACLNN_ACLNN_BASE_H
#define ACLNN_ACLNN_BASE_H

#include <stdint.h>
#include <stdlib.h>
#include "aclnn/acl_meta.h"

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
