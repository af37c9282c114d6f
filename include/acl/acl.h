/*
 * acl/acl.h -- ACL entry header: init/finalize and version queries.
 *
 * Part of aclnn-py, written from the declarations of CANN's runtime headers
 * (hicann/runtime include/external/acl/acl.h and acl_rt.h).
 * Includes the base types, the runtime API and the runtime error codes, so a
 * program that includes only acl/acl.h (or hccl/hccl.h, which includes it)
 * has the whole runtime API, as with CANN's acl/acl.h.
 */
#ifndef ACL_ACL_H
#define ACL_ACL_H

#include <stdint.h>
#include "acl_base.h"
#include "acl_rt.h"
#include "error_codes/rt_error_codes.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Compile-time ACL API version: 1.17.0. */
#define ACL_MAJOR_VERSION 1
#define ACL_MINOR_VERSION 17
#define ACL_PATCH_VERSION 0

/* Installed package whose version aclsysGetCANNVersion reports. */
typedef enum {
    ACL_PKG_NAME_CANN = 0,
    ACL_PKG_NAME_RUNTIME = 1,
    ACL_PKG_NAME_COMPILER = 2,
    ACL_PKG_NAME_HCCL = 3,
    ACL_PKG_NAME_TOOLKIT = 4,
    ACL_PKG_NAME_OPP = 5,
    ACL_PKG_NAME_OPP_KERNEL = 6,
    ACL_PKG_NAME_DRIVER = 7
} aclCANNPackageName;

/* Version strings of one package (NUL-terminated); sizeof = 512 bytes. */
typedef struct aclCANNPackageVersion {
    char version[128];
    char majorVersion[64];
    char minorVersion[64];
    char releaseVersion[64];
    char patchVersion[64];
    char reserved[128];
} aclCANNPackageVersion;

/* Initialises ACL (and aclnn); configPath may be NULL for no config file. */
aclError aclInit(const char *configPath);
/* Releases everything aclInit set up; call once at process end. */
aclError aclFinalize(void);

/* Deprecated: fills *version (caller-owned, 512 bytes) for package name. */
aclError aclsysGetCANNVersion(aclCANNPackageName name, aclCANNPackageVersion *version);
/*
 * Writes the version string of package pkgName into versionStr. The size
 * the caller must provide is not documented; 128 bytes is assumed.
 */
aclError aclsysGetVersionStr(char *pkgName, char *versionStr);
/* Writes the numeric version of package pkgName into *versionNum. */
aclError aclsysGetVersionNum(char *pkgName, int32_t *versionNum);

#ifdef __cplusplus
}
#endif

#endif
