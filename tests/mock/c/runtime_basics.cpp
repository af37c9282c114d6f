// Foundation checks of the mock through the C ABI only: memory, copies, tensors, streams, errors.
#include <cstdio>
#include <cstring>
#include <vector>

#include "acl/acl.h"
#include "aclnn/aclnn_base.h"
#include "aclnn/opdev/op_errno.h"

#define EXPECT(cond, ...)                                         \
    do {                                                          \
        if (!(cond)) {                                            \
            std::printf("FAIL line %d: ", __LINE__);              \
            std::printf(__VA_ARGS__);                             \
            std::printf("\n");                                    \
            return 1;                                             \
        }                                                         \
    } while (0)

int main() {
    EXPECT(aclInit(nullptr) == ACL_SUCCESS, "aclInit");
    uint32_t count = 0;
    EXPECT(aclrtGetDeviceCount(&count) == ACL_SUCCESS && count == 3, "device count %u", count);
    EXPECT(aclrtSetDevice(5) == ACL_ERROR_RT_INVALID_DEVICEID, "device 5 of 3 must be rejected");
    EXPECT(aclrtSetDevice(1) == ACL_SUCCESS, "aclrtSetDevice(1)");
    int32_t dev = -1;
    EXPECT(aclrtGetDevice(&dev) == ACL_SUCCESS && dev == 1, "current device %d", dev);

    aclrtStream stream = nullptr;
    EXPECT(aclrtCreateStream(&stream) == ACL_SUCCESS, "aclrtCreateStream");

    const size_t n = 24;
    std::vector<float> host(n), back(n, 0.0f);
    for (size_t i = 0; i < n; ++i) host[i] = 0.5f * static_cast<float>(i);
    void *dptr = nullptr, *dptr2 = nullptr;
    EXPECT(aclrtMalloc(&dptr, n * sizeof(float), ACL_MEM_MALLOC_HUGE_FIRST) == ACL_SUCCESS, "aclrtMalloc");
    EXPECT(aclrtMalloc(&dptr2, n * sizeof(float), ACL_MEM_MALLOC_NORMAL_ONLY) == ACL_SUCCESS, "aclrtMalloc 2");
    EXPECT(aclrtMemcpy(dptr, n * sizeof(float), host.data(), n * sizeof(float), ACL_MEMCPY_HOST_TO_DEVICE) == ACL_SUCCESS, "h2d");
    EXPECT(aclrtMemcpyAsync(dptr2, n * sizeof(float), dptr, n * sizeof(float), ACL_MEMCPY_DEVICE_TO_DEVICE, stream) == ACL_SUCCESS, "d2d");
    EXPECT(aclrtMemsetAsync(dptr2, 4, 0, 4, stream) == ACL_SUCCESS, "memset");
    EXPECT(aclrtMemcpyAsync(back.data(), n * sizeof(float), dptr2, n * sizeof(float), ACL_MEMCPY_DEVICE_TO_HOST, stream) == ACL_SUCCESS, "d2h");
    EXPECT(aclrtSynchronizeStreamWithTimeout(stream, 10000) == ACL_SUCCESS, "sync");
    EXPECT(back[0] == 0.0f && back[1] == 0.5f && back[23] == 11.5f, "copied values %f %f %f", back[0], back[1], back[23]);

    // A tensor over the buffer: create, query, destroy.
    int64_t shape[2] = {4, 6};
    int64_t strides[2] = {6, 1};
    aclTensor *t = aclCreateTensor(shape, 2, ACL_FLOAT, strides, 0, ACL_FORMAT_ND, shape, 2, dptr);
    EXPECT(t != nullptr, "aclCreateTensor");
    int64_t *dims = nullptr;
    uint64_t ndims = 0;
    EXPECT(aclGetViewShape(t, &dims, &ndims) == 0 && ndims == 2 && dims[0] == 4 && dims[1] == 6, "view shape");
    delete[] dims;
    aclDataType dtype = ACL_DT_UNDEFINED;
    EXPECT(aclGetDataType(t, &dtype) == 0 && dtype == ACL_FLOAT, "dtype %d", dtype);
    aclFormat format = ACL_FORMAT_UNDEFINED;
    EXPECT(aclGetFormat(t, &format) == 0 && format == ACL_FORMAT_ND, "format");
    const aclTensor *members[1] = {t};
    aclTensorList *list = aclCreateTensorList(members, 1);
    uint64_t list_size = 0;
    EXPECT(list != nullptr && aclGetTensorListSize(list, &list_size) == 0 && list_size == 1, "tensor list");
    EXPECT(aclDestroyTensorList(list) == 0, "destroy list (destroys its tensor)");
    EXPECT(aclDestroyTensor(t) == ACLNN_ERR_PARAM_INVALID, "a member of a destroyed list is gone");
    const char *msg = aclGetRecentErrMsg();
    EXPECT(msg != nullptr && std::strstr(msg, "already destroyed") != nullptr, "message: %s", msg ? msg : "(null)");

    // An error and its message: a copy reading past the end of an allocation.
    aclError ret = aclrtMemcpy(back.data(), n * sizeof(float), static_cast<char *>(dptr) + 16, n * sizeof(float), ACL_MEMCPY_DEVICE_TO_HOST);
    EXPECT(ret == ACL_ERROR_RT_PARAM_INVALID, "out-of-range copy returned %d", ret);
    msg = aclGetRecentErrMsg();
    EXPECT(msg != nullptr && std::strstr(msg, "outside the allocation") != nullptr, "message: %s", msg ? msg : "(null)");

    EXPECT(aclrtFree(dptr) == ACL_SUCCESS, "free");
    EXPECT(aclrtFree(dptr) == ACL_ERROR_RT_MEMORY_FREE, "double free");
    EXPECT(aclrtFree(dptr2) == ACL_SUCCESS, "free 2");
    EXPECT(aclrtDestroyStream(stream) == ACL_SUCCESS, "destroy stream");
    EXPECT(aclrtResetDevice(1) == ACL_SUCCESS, "reset device");
    EXPECT(aclFinalize() == ACL_SUCCESS, "aclFinalize");
    std::printf("runtime basics ok\n");
    return 0;
}
