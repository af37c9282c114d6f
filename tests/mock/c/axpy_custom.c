/*
 * The mock's extension operator (tests/mock/extension_example: aclnnAxpyCustom, out = alpha * x + y)
 * from C, as a program calls a CANN custom operator package's operator: its header from the
 * package's include directory, its library with -lcust_opapi. Prints "out <values>" of a valid
 * call, "case shape <status> <message>" of one with mismatched shapes, and "done".
 */
#include <stdio.h>

#include "acl/acl.h"
#include "aclnn_axpy_custom.h"

#define N 6

static int failures = 0;

#define EXPECT(cond)                                                  \
    do {                                                              \
        if (!(cond)) {                                                \
            printf("FAILED line %d: %s\n", __LINE__, #cond);          \
            ++failures;                                               \
        }                                                             \
    } while (0)

static aclTensor *vector(void *device, int64_t length)
{
    int64_t shape[1] = {length};
    int64_t strides[1] = {1};
    return aclCreateTensor(shape, 1, ACL_FLOAT, strides, 0, ACL_FORMAT_ND, shape, 1, device);
}

int main(void)
{
    float x[N] = {0, 1, 2, 3, 4, 5}, y[N] = {1, 1, 1, 1, 1, 1}, out[N] = {0};
    double alpha = 2.0;
    void *dx = NULL, *dy = NULL, *dout = NULL;
    aclrtStream stream = NULL;
    aclOpExecutor *executor = NULL;
    uint64_t workspace = 0;
    int i;

    EXPECT(aclInit(NULL) == ACL_SUCCESS);
    EXPECT(aclrtSetDevice(0) == ACL_SUCCESS);
    EXPECT(aclrtCreateStream(&stream) == ACL_SUCCESS);
    EXPECT(aclrtMalloc(&dx, sizeof x, ACL_MEM_MALLOC_HUGE_FIRST) == ACL_SUCCESS);
    EXPECT(aclrtMalloc(&dy, sizeof y, ACL_MEM_MALLOC_HUGE_FIRST) == ACL_SUCCESS);
    EXPECT(aclrtMalloc(&dout, sizeof out, ACL_MEM_MALLOC_HUGE_FIRST) == ACL_SUCCESS);
    EXPECT(aclrtMemcpy(dx, sizeof x, x, sizeof x, ACL_MEMCPY_HOST_TO_DEVICE) == ACL_SUCCESS);
    EXPECT(aclrtMemcpy(dy, sizeof y, y, sizeof y, ACL_MEMCPY_HOST_TO_DEVICE) == ACL_SUCCESS);

    aclTensor *tx = vector(dx, N), *ty = vector(dy, N), *tout = vector(dout, N), *short_y = vector(dy, N - 1);
    aclScalar *scalar = aclCreateScalar(&alpha, ACL_DOUBLE);
    EXPECT(tx != NULL && ty != NULL && tout != NULL && short_y != NULL && scalar != NULL);

    EXPECT(aclnnAxpyCustomGetWorkspaceSize(tx, ty, scalar, tout, &workspace, &executor) == 0);
    EXPECT(aclnnAxpyCustom(NULL, workspace, executor, stream) == 0);
    EXPECT(aclrtSynchronizeStream(stream) == ACL_SUCCESS);
    EXPECT(aclrtMemcpy(out, sizeof out, dout, sizeof out, ACL_MEMCPY_DEVICE_TO_HOST) == ACL_SUCCESS);
    printf("out");
    for (i = 0; i < N; ++i) {
        printf(" %g", out[i]);
    }
    printf("\n");

    executor = NULL;
    aclnnStatus status = aclnnAxpyCustomGetWorkspaceSize(tx, short_y, scalar, tout, &workspace, &executor);
    printf("case shape status %d message %s\n", (int)status, aclGetRecentErrMsg());

    EXPECT(aclDestroyTensor(tx) == 0 && aclDestroyTensor(ty) == 0 && aclDestroyTensor(tout) == 0);
    EXPECT(aclDestroyTensor(short_y) == 0 && aclDestroyScalar(scalar) == 0);
    EXPECT(aclrtFree(dx) == ACL_SUCCESS && aclrtFree(dy) == ACL_SUCCESS && aclrtFree(dout) == ACL_SUCCESS);
    EXPECT(aclrtDestroyStream(stream) == ACL_SUCCESS);
    EXPECT(aclrtResetDevice(0) == ACL_SUCCESS);
    EXPECT(aclFinalize() == ACL_SUCCESS);
    printf(failures ? "failures %d\n" : "done\n", failures);
    return failures != 0;
}
