/*
 * aclrtGetMemInfo through the C ABI, including only acl/acl.h: values that
 * follow this process's allocations per device, and the error codes (not
 * initialised, no current device, bad attribute, NULL out pointers, an
 * allocation larger than what is free). Prints "total=<bytes>" and
 * "mem_info ok" on success; the test links it with the classic
 * (-lascendcl) and the split (-lacl_rt) library names.
 */
#include <stdio.h>

#include "acl/acl.h"

static int failures = 0;

#define EXPECT(cond)                                                  \
    do {                                                              \
        if (!(cond)) {                                                \
            printf("FAILED line %d: %s\n", __LINE__, #cond);          \
            ++failures;                                               \
        }                                                             \
    } while (0)

static aclError query(aclrtMemAttr attr, size_t *free_bytes, size_t *total_bytes)
{
    *free_bytes = 1;
    *total_bytes = 1;
    return aclrtGetMemInfo(attr, free_bytes, total_bytes);
}

int main(void)
{
    size_t free_bytes = 0, total = 0, f = 0, t = 0;
    void *block = NULL;
    void *huge = NULL;
    const size_t bytes = (size_t)5 << 20;

    EXPECT(query(ACL_HBM_MEM, &f, &t) == ACL_ERROR_UNINITIALIZE);
    EXPECT(aclInit(NULL) == ACL_SUCCESS);
    EXPECT(query(ACL_HBM_MEM, &f, &t) == ACL_ERROR_RT_CONTEXT_NULL);
    EXPECT(aclrtSetDevice(0) == ACL_SUCCESS);

    EXPECT(query(ACL_HBM_MEM, &free_bytes, &total) == ACL_SUCCESS);
    EXPECT(total > 0 && free_bytes == total);
    EXPECT(query(ACL_MEM_HUGE, &f, &t) == ACL_SUCCESS && f == free_bytes && t == total);
    EXPECT(query(ACL_HBM_MEM_P2P_HUGE1G, &f, &t) == ACL_SUCCESS && f == free_bytes && t == total);
    EXPECT(query(ACL_DDR_MEM, &f, &t) == ACL_SUCCESS && f == 0 && t == 0);
    EXPECT(query(ACL_DDR_MEM_P2P_NORMAL, &f, &t) == ACL_SUCCESS && f == 0 && t == 0);

    EXPECT(aclrtMalloc(&block, bytes, ACL_MEM_MALLOC_HUGE_FIRST) == ACL_SUCCESS);
    EXPECT(query(ACL_HBM_MEM, &f, &t) == ACL_SUCCESS && f == total - bytes && t == total);
    /* Another device has its own memory. */
    EXPECT(aclrtSetDevice(1) == ACL_SUCCESS);
    EXPECT(query(ACL_HBM_MEM_HUGE, &f, &t) == ACL_SUCCESS && f == total && t == total);
    EXPECT(aclrtResetDevice(1) == ACL_SUCCESS);
    EXPECT(aclrtSetDevice(0) == ACL_SUCCESS);
    /* More than is free fails with 207001 and changes nothing. */
    EXPECT(aclrtMalloc(&huge, total - bytes + 1, ACL_MEM_MALLOC_HUGE_FIRST) == ACL_ERROR_RT_MEMORY_ALLOCATION);
    EXPECT(query(ACL_HBM_MEM, &f, &t) == ACL_SUCCESS && f == total - bytes);
    EXPECT(aclrtFree(block) == ACL_SUCCESS);
    EXPECT(query(ACL_HBM_MEM, &f, &t) == ACL_SUCCESS && f == total);

    /* Bad arguments: 100000, outputs untouched. */
    EXPECT(query((aclrtMemAttr)18, &f, &t) == ACL_ERROR_INVALID_PARAM && f == 1 && t == 1);
    EXPECT(query((aclrtMemAttr)-1, &f, &t) == ACL_ERROR_INVALID_PARAM);
    EXPECT(aclrtGetMemInfo(ACL_HBM_MEM, NULL, &t) == ACL_ERROR_INVALID_PARAM);
    EXPECT(aclrtGetMemInfo(ACL_HBM_MEM, &f, NULL) == ACL_ERROR_INVALID_PARAM);
    EXPECT(aclGetRecentErrMsg() != NULL);

    EXPECT(aclrtResetDevice(0) == ACL_SUCCESS);
    EXPECT(aclrtResetDevice(0) == ACL_SUCCESS);
    EXPECT(aclFinalize() == ACL_SUCCESS);
    printf("total=%zu\n", total);
    if (failures != 0) {
        printf("%d failure(s)\n", failures);
        return 1;
    }
    printf("mem_info ok\n");
    return 0;
}
