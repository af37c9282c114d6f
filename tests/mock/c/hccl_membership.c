/* HCCL membership faults through the C ABI: two rank threads on one device, a rank id joining
 * twice (both fail at once with HCCL_E_PARA and a message naming the device / rank), and a
 * communicator left alive at aclFinalize (in the leak report; an error under ACLNN_MOCK_STRICT=1). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "acl/acl.h"
#include "hccl/hccl.h"

#define EXPECT(cond, ...)                            \
    do {                                             \
        if (!(cond)) {                               \
            printf("FAIL line %d: ", __LINE__);      \
            printf(__VA_ARGS__);                     \
            printf("\n");                            \
            return 1;                                \
        }                                            \
    } while (0)

typedef struct {
    HcclRootInfo *root;
    uint32_t rank;
    int32_t device;
    HcclResult result;
    char message[512];
} Joiner;

static void *join(void *arg) {
    Joiner *j = (Joiner *)arg;
    HcclComm comm = NULL;
    if (aclrtSetDevice(j->device) != ACL_SUCCESS) {
        j->result = HCCL_E_RUNTIME;
        return NULL;
    }
    j->result = HcclCommInitRootInfo(2, j->root, j->rank, &comm);
    const char *msg = aclGetRecentErrMsg(); /* read on this thread, right after the call */
    snprintf(j->message, sizeof j->message, "%s", msg ? msg : "");
    if (j->result == HCCL_SUCCESS) HcclCommDestroy(comm);
    aclrtResetDevice(j->device);
    return NULL;
}

/* Two threads join one new communicator as (rank, device) pairs; both must fail with ``fragment``. */
static int both_fail(uint32_t rank0, int32_t device0, uint32_t rank1, int32_t device1, const char *fragment) {
    HcclRootInfo root;
    EXPECT(HcclGetRootInfo(&root) == HCCL_SUCCESS, "HcclGetRootInfo");
    Joiner j[2] = {{&root, rank0, device0, HCCL_SUCCESS, ""}, {&root, rank1, device1, HCCL_SUCCESS, ""}};
    pthread_t t[2];
    for (int i = 0; i < 2; ++i) pthread_create(&t[i], NULL, join, &j[i]);
    for (int i = 0; i < 2; ++i) pthread_join(t[i], NULL);
    for (int i = 0; i < 2; ++i) {
        EXPECT(j[i].result == HCCL_E_PARA, "thread %d returned %d (%s)", i, j[i].result, j[i].message);
        EXPECT(strstr(j[i].message, fragment) != NULL, "thread %d message: %s", i, j[i].message);
    }
    return 0;
}

int main(void) {
    EXPECT(aclInit(NULL) == ACL_SUCCESS, "aclInit");
    if (both_fail(0, 0, 1, 0, "device 0 serves two ranks of communicator")) return 1;
    if (both_fail(0, 0, 0, 1, "rank 0 joined communicator")) return 1;

    /* a communicator left alive */
    int32_t devices[2] = {0, 1};
    HcclComm comms[2];
    EXPECT(aclrtSetDevice(0) == ACL_SUCCESS && aclrtSetDevice(1) == ACL_SUCCESS, "aclrtSetDevice");
    EXPECT(HcclCommInitAll(2, devices, comms) == HCCL_SUCCESS, "HcclCommInitAll");
    EXPECT(HcclCommDestroy(comms[0]) == HCCL_SUCCESS, "HcclCommDestroy");
    EXPECT(aclrtResetDevice(0) == ACL_SUCCESS && aclrtResetDevice(1) == ACL_SUCCESS, "aclrtResetDevice");
    aclError ret = aclFinalize();
    const char *msg = aclGetRecentErrMsg();
    EXPECT(ret == ACL_ERROR_RELATIVE_RESOURCE_NOT_CLEARED, "aclFinalize returned %d", ret);
    EXPECT(msg != NULL && strstr(msg, "HcclComm") != NULL && strstr(msg, "rank 1 of 2 on device 1") != NULL,
           "leak report: %s", msg ? msg : "(null)");
    printf("hccl membership ok\n");
    return 0;
}
