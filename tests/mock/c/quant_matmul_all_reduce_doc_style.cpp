/*
 * A CANN-style C++ program for the mock, written like the operator documents'
 * samples: it includes ONLY the four headers the QuantMatmulAllReduceV4 doc
 * sample includes (plus the same three standard headers) and relies on them
 * for the whole runtime API, HCCL, std::string (<string> of the V4 header),
 * std::max and std::fabs (<algorithm>/<cmath> of fp16_t.h), as CANN's headers
 * provide them. A regression of an include chain breaks its build.
 *
 * What it does: aclInit, aclrtGetMemInfo bookkeeping on device 0, HcclCommInitAll
 * over 2 devices, one thread per rank with its own context and stream; each rank
 * all-reduces an int32 vector, rank 1 turns its int8 weight into FRACTAL_NZ with
 * aclnnTransMatmulWeight (positive workspace, layout checked), then both run
 * aclnnQuantMatmulAllReduceV4 (int8, per-token x1Scale, per-channel x2Scale,
 * int32 bias, fp16 x3 and output) and compare the output with values computed
 * here. Values are chosen so every intermediate is exact in float16.
 * Prints "ALL OK" and returns 0 on success.
 */
#include <iostream>
#include <vector>
#include <thread>

#include "hccl/hccl.h"
#include "aclnn/opdev/fp16_t.h"
#include "aclnnop/aclnn_trans_matmul_weight.h"
#include "aclnnop/aclnn_quant_matmul_all_reduce_v4.h"

#define RET_IF(cond, ...)                 \
    do {                                  \
        if (cond) {                       \
            printf(__VA_ARGS__);          \
            return 1;                     \
        }                                 \
    } while (0)

#define CALL(expr)                                                                               \
    do {                                                                                         \
        long code_ = static_cast<long>(expr);                                                    \
        if (code_ != 0) {                                                                        \
            const char *msg_ = aclGetRecentErrMsg();                                             \
            printf("[ERROR] %s:%d %s returned %ld (%s)\n", __FILE__, __LINE__, #expr, code_,     \
                   msg_ != nullptr ? msg_ : "");                                                 \
            return 1;                                                                            \
        }                                                                                        \
    } while (0)

namespace {

const int kRanks = 2;
const int64_t kM = 16;
const int64_t kK = 64;
const int64_t kN = 64;

struct RankCtx {
    int32_t device;
    HcclComm comm;
    aclrtContext context;
    aclrtStream stream;
    std::string weightFormat;  // "ND" or "NZ"
    int result;
};

/* The data of rank r, all small integers or powers of two. */
int8_t X1(int r, int64_t p, int64_t i) { return static_cast<int8_t>((p * 3 + i * 5 + r) % 7 - 3); }
int8_t X2(int r, int64_t i, int64_t q) { return static_cast<int8_t>((i * 2 + q * 3 + r * 5) % 3 - 1); }
int32_t Bias(int r, int64_t q) { return static_cast<int32_t>((q + r) % 9 - 4); }
float Scale2(int r, int64_t q) { return ((q + r) % 2 == 0) ? 0.25f : 0.5f; }
float Scale1(int r, int64_t p) { return ((p + r) % 2 == 0) ? 1.0f : 2.0f; }
float X3(int r, int64_t p, int64_t q) { return static_cast<float>((p + 2 * q + 3 * r) % 17 - 8); }

std::vector<int64_t> Contiguous(const std::vector<int64_t> &dims)
{
    std::vector<int64_t> strides(dims.size(), 1);
    for (size_t i = dims.size(); i > 1; --i) {
        strides[i - 2] = strides[i - 1] * dims[i - 1];
    }
    return strides;
}

/* A device buffer holding `host` (capacity `bytes`, at least its size) and an ND tensor over it. */
template <typename T>
int MakeTensor(const std::vector<T> &host, const std::vector<int64_t> &dims, aclDataType type, size_t bytes,
               void **dev, aclTensor **tensor)
{
    const size_t used = host.size() * sizeof(T);
    CALL(aclrtMalloc(dev, std::max(bytes, used), ACL_MEM_MALLOC_HUGE_FIRST));
    CALL(aclrtMemcpy(*dev, used, host.data(), used, ACL_MEMCPY_HOST_TO_DEVICE));
    const std::vector<int64_t> strides = Contiguous(dims);
    *tensor = aclCreateTensor(dims.data(), dims.size(), type, strides.data(), 0, ACL_FORMAT_ND, dims.data(),
                              dims.size(), *dev);
    RET_IF(*tensor == nullptr, "[ERROR] aclCreateTensor returned NULL\n");
    return 0;
}

/* Rank 1's weight: ND data in a buffer sized for its NZ form, rearranged in place. */
int ToNz(RankCtx &ctx, aclTensor *weight, void *weightDev, const std::vector<int8_t> &nd)
{
    uint64_t wsSize = 0;
    aclOpExecutor *executor = nullptr;
    CALL(aclnnTransMatmulWeightGetWorkspaceSize(weight, &wsSize, &executor));
    RET_IF(wsSize == 0, "[ERROR] aclnnTransMatmulWeightGetWorkspaceSize gave a 0-byte workspace\n");
    void *ws = nullptr;
    CALL(aclrtMalloc(&ws, wsSize, ACL_MEM_MALLOC_HUGE_FIRST));
    CALL(aclnnTransMatmulWeight(ws, wsSize, executor, ctx.stream));
    CALL(aclrtSynchronizeStream(ctx.stream));
    CALL(aclrtFree(ws));

    aclFormat format = ACL_FORMAT_ND;
    CALL(aclGetFormat(weight, &format));
    RET_IF(format != ACL_FORMAT_FRACTAL_NZ, "[ERROR] weight format %d after TransMatmulWeight\n", format);
    /* INT8 NZ: element (h, w) of the (K, N) weight at (w / 32) * (K1 * 16 * 32) + h * 32 + w % 32. */
    std::vector<int8_t> got(nd.size());
    CALL(aclrtMemcpy(got.data(), got.size(), weightDev, got.size(), ACL_MEMCPY_DEVICE_TO_HOST));
    const int64_t k1 = (kK + 15) / 16;
    for (int64_t h = 0; h < kK; ++h) {
        for (int64_t w = 0; w < kN; ++w) {
            const int64_t at = (w / 32) * (k1 * 16 * 32) + h * 32 + w % 32;
            RET_IF(got[at] != nd[h * kN + w], "[ERROR] NZ element (%ld, %ld) is %d, expected %d\n",
                   static_cast<long>(h), static_cast<long>(w), got[at], nd[h * kN + w]);
        }
    }
    return 0;
}

int RunRank(RankCtx &ctx)
{
    const int r = ctx.device;
    CALL(aclrtSetCurrentContext(ctx.context));
    char group[128] = {0};
    CALL(HcclGetCommName(ctx.comm, group));

    /* HCCL on its own: all-reduce sum of an int32 vector. */
    std::vector<int32_t> mine(8), summed(8, 0);
    for (int i = 0; i < 8; ++i) {
        mine[i] = (r + 1) * 100 + i;
    }
    void *send = nullptr;
    void *recv = nullptr;
    CALL(aclrtMalloc(&send, sizeof(int32_t) * 8, ACL_MEM_MALLOC_HUGE_FIRST));
    CALL(aclrtMalloc(&recv, sizeof(int32_t) * 8, ACL_MEM_MALLOC_HUGE_FIRST));
    CALL(aclrtMemcpy(send, sizeof(int32_t) * 8, mine.data(), sizeof(int32_t) * 8, ACL_MEMCPY_HOST_TO_DEVICE));
    CALL(HcclAllReduce(send, recv, 8, HCCL_DATA_TYPE_INT32, HCCL_REDUCE_SUM, ctx.comm, ctx.stream));
    CALL(aclrtSynchronizeStream(ctx.stream));
    CALL(aclrtMemcpy(summed.data(), sizeof(int32_t) * 8, recv, sizeof(int32_t) * 8, ACL_MEMCPY_DEVICE_TO_HOST));
    for (int i = 0; i < 8; ++i) {
        RET_IF(summed[i] != 300 + 2 * i, "[ERROR] rank %d all-reduce[%d] = %d\n", r, i, summed[i]);
    }
    CALL(aclrtFree(send));
    CALL(aclrtFree(recv));

    /* Host data. */
    std::vector<int8_t> x1(kM * kK), x2(kK * kN);
    std::vector<int32_t> bias(kN);
    std::vector<float> s1(kM), s2(kN);
    std::vector<op::fp16_t> x3(kM * kN), out(kM * kN, 0);
    for (int64_t p = 0; p < kM; ++p) {
        s1[p] = Scale1(r, p);
        for (int64_t i = 0; i < kK; ++i) {
            x1[p * kK + i] = X1(r, p, i);
        }
        for (int64_t q = 0; q < kN; ++q) {
            x3[p * kN + q] = X3(r, p, q);
        }
    }
    for (int64_t q = 0; q < kN; ++q) {
        bias[q] = Bias(r, q);
        s2[q] = Scale2(r, q);
        for (int64_t i = 0; i < kK; ++i) {
            x2[i * kN + q] = X2(r, i, q);
        }
    }

    void *dev[7] = {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
    aclTensor *t[7] = {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
    uint64_t nzElements = 0;
    const std::vector<int64_t> weightDims = {kK, kN};
    aclIntArray *weightShape = aclCreateIntArray(weightDims.data(), weightDims.size());
    CALL(aclnnCalculateMatmulWeightSizeV2(weightShape, ACL_INT8, &nzElements));
    CALL(aclDestroyIntArray(weightShape));
    RET_IF(nzElements != static_cast<uint64_t>(kK * kN), "[ERROR] NZ size %lu\n",
           static_cast<unsigned long>(nzElements));

    if (MakeTensor(x1, {kM, kK}, ACL_INT8, 0, &dev[0], &t[0]) != 0 ||
        MakeTensor(x2, weightDims, ACL_INT8, nzElements, &dev[1], &t[1]) != 0 ||
        MakeTensor(bias, {kN}, ACL_INT32, 0, &dev[2], &t[2]) != 0 ||
        MakeTensor(x3, {kM, kN}, ACL_FLOAT16, 0, &dev[3], &t[3]) != 0 ||
        MakeTensor(s1, {kM}, ACL_FLOAT, 0, &dev[4], &t[4]) != 0 ||
        MakeTensor(s2, {kN}, ACL_FLOAT, 0, &dev[5], &t[5]) != 0 ||
        MakeTensor(out, {kM, kN}, ACL_FLOAT16, 0, &dev[6], &t[6]) != 0) {
        return 1;
    }
    if (ctx.weightFormat == "NZ" && ToNz(ctx, t[1], dev[1], x2) != 0) {
        return 1;
    }

    uint64_t wsSize = 0;
    aclOpExecutor *executor = nullptr;
    CALL(aclnnQuantMatmulAllReduceV4GetWorkspaceSize(t[0], t[1], t[2], t[3], t[4], t[5], nullptr, nullptr, group,
                                                     "sum", 0, ACL_STOP_ON_FAILURE, 0, 0, t[6], &wsSize,
                                                     &executor));
    void *ws = nullptr;
    if (wsSize > 0) {
        CALL(aclrtMalloc(&ws, wsSize, ACL_MEM_MALLOC_HUGE_FIRST));
    }
    CALL(aclnnQuantMatmulAllReduceV4(ws, wsSize, executor, ctx.stream));
    CALL(aclrtSynchronizeStreamWithTimeout(ctx.stream, 60000));
    CALL(aclrtMemcpy(out.data(), out.size() * sizeof(op::fp16_t), dev[6], out.size() * sizeof(op::fp16_t),
                     ACL_MEMCPY_DEVICE_TO_HOST));

    /* Expected: sum over ranks of ((x1 @ x2 + bias) * s2 * s1 + x3), every step exact in float16. */
    int wrong = 0;
    float worst = 0.0f;
    for (int64_t p = 0; p < kM; ++p) {
        for (int64_t q = 0; q < kN; ++q) {
            double want = 0.0;
            for (int rr = 0; rr < kRanks; ++rr) {
                long acc = Bias(rr, q);
                for (int64_t i = 0; i < kK; ++i) {
                    acc += static_cast<long>(X1(rr, p, i)) * X2(rr, i, q);
                }
                want += static_cast<double>(acc) * Scale2(rr, q) * Scale1(rr, p) + X3(rr, p, q);
            }
            const float diff = std::fabs(static_cast<float>(out[p * kN + q]) - static_cast<float>(want));
            worst = std::max(worst, diff);
            if (diff != 0.0f && ++wrong <= 3) {
                printf("[ERROR] rank %d out[%ld][%ld] = %f, expected %f\n", r, static_cast<long>(p),
                       static_cast<long>(q), static_cast<float>(out[p * kN + q]), want);
            }
        }
    }
    printf("rank %d (%s weight, group %s): %ld values, %d wrong, max |diff| %g\n", r, ctx.weightFormat.c_str(),
           group, static_cast<long>(kM * kN), wrong, worst);

    if (ws != nullptr) {
        CALL(aclrtFree(ws));
    }
    for (int i = 0; i < 7; ++i) {
        CALL(aclDestroyTensor(t[i]));
        CALL(aclrtFree(dev[i]));
    }
    CALL(aclrtDestroyStream(ctx.stream));
    CALL(HcclCommDestroy(ctx.comm));
    CALL(aclrtDestroyContext(ctx.context));
    return wrong == 0 ? 0 : 1;
}

/* aclrtGetMemInfo follows this process's allocations on the current device. */
int CheckMemInfo()
{
    size_t freeBefore = 0;
    size_t total = 0;
    CALL(aclrtGetMemInfo(ACL_HBM_MEM, &freeBefore, &total));
    RET_IF(total == 0 || freeBefore > total, "[ERROR] aclrtGetMemInfo: free %zu of %zu\n", freeBefore, total);
    void *block = nullptr;
    const size_t bytes = 3 << 20;
    CALL(aclrtMalloc(&block, bytes, ACL_MEM_MALLOC_HUGE_FIRST));
    size_t freeDuring = 0;
    size_t totalDuring = 0;
    CALL(aclrtGetMemInfo(ACL_HBM_MEM, &freeDuring, &totalDuring));
    CALL(aclrtFree(block));
    size_t freeAfter = 0;
    CALL(aclrtGetMemInfo(ACL_HBM_MEM, &freeAfter, &total));
    RET_IF(freeDuring != freeBefore - bytes || totalDuring != total || freeAfter != freeBefore,
           "[ERROR] aclrtGetMemInfo: free %zu -> %zu -> %zu around a %zu-byte block\n", freeBefore, freeDuring,
           freeAfter, bytes);
    RET_IF(aclrtGetMemInfo(ACL_HBM_MEM, nullptr, &total) != ACL_ERROR_INVALID_PARAM,
           "[ERROR] aclrtGetMemInfo accepted a NULL free pointer\n");
    printf("aclrtGetMemInfo: %zu of %zu bytes free\n", freeBefore, total);
    return 0;
}

}  // namespace

int main()
{
    CALL(aclInit(nullptr));
    uint32_t count = 0;
    CALL(aclrtGetDeviceCount(&count));
    RET_IF(count < static_cast<uint32_t>(kRanks), "[ERROR] %u devices\n", count);
    int32_t devices[kRanks] = {0, 1};
    for (int i = 0; i < kRanks; ++i) {
        CALL(aclrtSetDevice(devices[i]));
    }
    RET_IF(aclrtGetSocName() == nullptr, "[ERROR] aclrtGetSocName returned NULL\n");
    if (CheckMemInfo() != 0) {
        return 1;
    }
    HcclComm comms[kRanks];
    CALL(HcclCommInitAll(kRanks, devices, comms));

    RankCtx ctx[kRanks];
    for (int i = 0; i < kRanks; ++i) {
        ctx[i].device = devices[i];
        ctx[i].comm = comms[i];
        ctx[i].weightFormat = (i == 1) ? "NZ" : "ND";
        ctx[i].result = 1;
        CALL(aclrtCreateContext(&ctx[i].context, devices[i]));
        CALL(aclrtCreateStream(&ctx[i].stream));
    }
    std::vector<std::thread> workers;
    for (int i = 0; i < kRanks; ++i) {
        workers.emplace_back([&ctx, i]() { ctx[i].result = RunRank(ctx[i]); });
    }
    int failed = 0;
    for (int i = 0; i < kRanks; ++i) {
        workers[i].join();
        failed += ctx[i].result != 0;
    }
    for (int i = 0; i < kRanks; ++i) {
        CALL(aclrtResetDevice(devices[i]));
    }
    CALL(aclFinalize());
    printf("%s\n", failed == 0 ? "ALL OK" : "FAILED");
    return failed == 0 ? 0 : 1;
}
