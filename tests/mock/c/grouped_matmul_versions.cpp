/*
 * A C++ program written like the GroupedMatmul documents' samples, for the entry points besides
 * V5: aclnnGroupedMatmul (V1), V2, V3, V4 and aclnnGroupedMatmulWeightNz, each from its own header,
 * with acl/acl.h as the samples include it, on one stream. CANN declares V1-V4 deprecated (GCC's
 * attribute), so this builds with -Wno-deprecated-declarations, as a program still calling them must.
 *
 * Each computes the same M-grouped FLOAT16 product -- x (6, 16) over three experts' (16, 32)
 * weights, two rows each -- in the form its prototype takes: V1 and V2 a host aclIntArray of
 * cumulative rows with a list of 2-D weights (V1's lists choose groupType 0), V3 an INT64
 * groupList tensor of cumulative rows and one (3, 16, 32) weight, V4 counts (groupListType 1),
 * WeightNz a FRACTAL_NZ weight laid out here ((E, N/16, K/16, 16, 16) storage). Every output is
 * compared exactly with a product computed here (small integers: exact in float16), and V1-V3
 * write their `const aclTensorList *y`. Two documented codes: a null y is 161001 (V1), a 2-D
 * groupList tensor 161002 (V3). Last, it prints the code of a WeightNz MxA8W4 call (the test judges it per SoC).
 * Prints "ALL OK" and returns 0 on success.
 */
#include <cstdio>
#include <vector>

#include "acl/acl.h"
#include "aclnn/opdev/fp16_t.h"
#include "aclnn/opdev/op_errno.h"
#include "aclnnop/aclnn_grouped_matmul.h"
#include "aclnnop/aclnn_grouped_matmul_v2.h"
#include "aclnnop/aclnn_grouped_matmul_v3.h"
#include "aclnnop/aclnn_grouped_matmul_v4.h"
#include "aclnnop/aclnn_grouped_matmul_weight_nz.h"

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

const int64_t kM = 6, kK = 16, kN = 32, kE = 3, kRowsPerExpert = 2;
typedef aclnnStatus (*Phase2)(void *, uint64_t, aclOpExecutor *, aclrtStream);

// What one call made: its device memory and tensor lists (a list destroys its tensors), released by Release().
struct Made {
    std::vector<void *> memory;
    std::vector<aclTensorList *> lists;
    std::vector<aclTensor *> tensors;  // not in a list
    std::vector<aclIntArray *> arrays;
};

void Release(Made *made)
{
    for (aclTensorList *list : made->lists) aclDestroyTensorList(list);
    for (aclTensor *tensor : made->tensors) aclDestroyTensor(tensor);
    for (aclIntArray *array : made->arrays) aclDestroyIntArray(array);
    for (void *addr : made->memory) aclrtFree(addr);
    *made = Made();
}

// A device tensor holding `bytes` of `host`: the view `shape` (contiguous strides), its storage `storage`.
aclTensor *Tensor(Made *made, const void *host, size_t bytes, const std::vector<int64_t> &shape, aclDataType type,
                  aclFormat format, const std::vector<int64_t> &storage)
{
    void *addr = nullptr;
    if (aclrtMalloc(&addr, bytes, ACL_MEM_MALLOC_HUGE_FIRST) != 0) return nullptr;
    made->memory.push_back(addr);
    if (host != nullptr && aclrtMemcpy(addr, bytes, host, bytes, ACL_MEMCPY_HOST_TO_DEVICE) != 0) return nullptr;
    std::vector<int64_t> strides(shape.size(), 1);
    for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; i--) strides[i] = shape[i + 1] * strides[i + 1];
    return aclCreateTensor(shape.data(), shape.size(), type, strides.data(), 0, format, storage.data(), storage.size(),
                           addr);
}

aclTensorList *List(Made *made, const std::vector<aclTensor *> &tensors)
{
    aclTensorList *list = aclCreateTensorList(tensors.data(), tensors.size());
    made->lists.push_back(list);
    return list;
}

aclIntArray *IntArray(Made *made, const std::vector<int64_t> &values)
{
    aclIntArray *array = aclCreateIntArray(values.data(), values.size());
    made->arrays.push_back(array);
    return array;
}

struct Data {
    std::vector<op::fp16_t> x, w, wNz;  // x (M, K); w (E, K, N); its FRACTAL_NZ storage
    std::vector<double> expected;       // (M, N)
};

Data MakeData()
{
    Data d;
    d.x.resize(kM * kK);
    d.w.resize(kE * kK * kN);
    d.wNz.resize(kE * kK * kN);
    d.expected.assign(kM * kN, 0.0);
    for (int64_t m = 0; m < kM; m++)
        for (int64_t k = 0; k < kK; k++) d.x[m * kK + k] = static_cast<float>((m * 7 + k * 3) % 7 - 3);
    for (int64_t e = 0; e < kE; e++)
        for (int64_t k = 0; k < kK; k++)
            for (int64_t n = 0; n < kN; n++) {
                op::fp16_t value = static_cast<float>((e * 5 + k + 2 * n) % 5 - 2);
                d.w[(e * kK + k) * kN + n] = value;
                // NZ: [e][n / 16][k / 16][k % 16][n % 16]
                int64_t nz = (((e * (kN / 16) + n / 16) * (kK / 16) + k / 16) * 16 + k % 16) * 16 + n % 16;
                d.wNz[nz] = value;
            }
    for (int64_t m = 0; m < kM; m++)
        for (int64_t n = 0; n < kN; n++)
            for (int64_t k = 0; k < kK; k++)
                d.expected[m * kN + n] += static_cast<float>(d.x[m * kK + k]) *
                                          static_cast<float>(d.w[((m / kRowsPerExpert) * kK + k) * kN + n]);
    return d;
}

// Phase 2 on the stream, then y (M, N) compared with the expected product.
int RunAndCheck(const char *name, Phase2 phase2, uint64_t workspaceSize, aclOpExecutor *executor, void *yAddr,
                const Data &d, aclrtStream stream)
{
    void *workspace = nullptr;
    if (workspaceSize > 0) CALL(aclrtMalloc(&workspace, workspaceSize, ACL_MEM_MALLOC_HUGE_FIRST));
    CALL(phase2(workspace, workspaceSize, executor, stream));
    CALL(aclrtSynchronizeStream(stream));
    if (workspace != nullptr) CALL(aclrtFree(workspace));
    std::vector<op::fp16_t> y(kM * kN);
    CALL(aclrtMemcpy(y.data(), y.size() * sizeof(op::fp16_t), yAddr, y.size() * sizeof(op::fp16_t),
                     ACL_MEMCPY_DEVICE_TO_HOST));
    int wrong = 0;
    for (int64_t i = 0; i < kM * kN; i++) wrong += static_cast<double>(static_cast<float>(y[i])) != d.expected[i];
    printf("%s: %lld values, %d wrong\n", name, static_cast<long long>(kM * kN), wrong);
    return wrong == 0 ? 0 : 1;
}

// x, y and the lists every call takes; y's memory is the last allocation of `made` when it returns.
struct Common {
    aclTensorList *x = nullptr, *y = nullptr;
    void *yAddr = nullptr;
};

Common MakeCommon(Made *made, const Data &d)
{
    Common c;
    c.x = List(made, {Tensor(made, d.x.data(), d.x.size() * 2, {kM, kK}, ACL_FLOAT16, ACL_FORMAT_ND, {kM, kK})});
    c.y = List(made, {Tensor(made, nullptr, kM * kN * 2, {kM, kN}, ACL_FLOAT16, ACL_FORMAT_ND, {kM, kN})});
    c.yAddr = made->memory.back();
    return c;
}

aclTensorList *ExpertWeights(Made *made, const Data &d)
{
    std::vector<aclTensor *> weights;
    for (int64_t e = 0; e < kE; e++)
        weights.push_back(Tensor(made, d.w.data() + e * kK * kN, kK * kN * 2, {kK, kN}, ACL_FLOAT16, ACL_FORMAT_ND,
                                 {kK, kN}));
    return List(made, weights);
}

aclTensorList *StackedWeight(Made *made, const Data &d, bool nz)
{
    if (nz)
        return List(made, {Tensor(made, d.wNz.data(), d.wNz.size() * 2, {kE, kK, kN}, ACL_FLOAT16,
                                  ACL_FORMAT_FRACTAL_NZ, {kE, kN / 16, kK / 16, 16, 16})});
    return List(made, {Tensor(made, d.w.data(), d.w.size() * 2, {kE, kK, kN}, ACL_FLOAT16, ACL_FORMAT_ND,
                              {kE, kK, kN})});
}

aclTensor *GroupList(Made *made, const std::vector<int64_t> &values, const std::vector<int64_t> &shape)
{
    aclTensor *t = Tensor(made, values.data(), values.size() * 8, shape, ACL_INT64, ACL_FORMAT_ND, shape);
    made->tensors.push_back(t);
    return t;
}

}  // namespace

int main()
{
    const Data d = MakeData();
    const std::vector<int64_t> cumulative = {2, 4, 6}, counts = {2, 2, 2};
    CALL(aclInit(nullptr));
    CALL(aclrtSetDevice(0));
    aclrtStream stream = nullptr;
    CALL(aclrtCreateStream(&stream));
    Made made;
    uint64_t ws = 0;
    aclOpExecutor *exec = nullptr;
    int failed = 0;

    {  // V1: the lists (one x, three weights, one y) choose groupType 0
        Common c = MakeCommon(&made, d);
        aclTensorList *w = ExpertWeights(&made, d);
        CALL(aclnnGroupedMatmulGetWorkspaceSize(c.x, w, nullptr, nullptr, nullptr, nullptr, nullptr,
                                                IntArray(&made, cumulative), 3, c.y, &ws, &exec));
        failed |= RunAndCheck("aclnnGroupedMatmul", aclnnGroupedMatmul, ws, exec, c.yAddr, d, stream);
        aclnnStatus nullY = aclnnGroupedMatmulGetWorkspaceSize(c.x, w, nullptr, nullptr, nullptr, nullptr, nullptr,
                                                               IntArray(&made, cumulative), 3, nullptr, &ws, &exec);
        printf("aclnnGroupedMatmul with a null y: %d\n", static_cast<int>(nullY));
        failed |= nullY != ACLNN_ERR_PARAM_NULLPTR;
        Release(&made);
    }
    {  // V2: the same with groupType given
        Common c = MakeCommon(&made, d);
        CALL(aclnnGroupedMatmulV2GetWorkspaceSize(c.x, ExpertWeights(&made, d), nullptr, nullptr, nullptr, nullptr,
                                                  nullptr, IntArray(&made, cumulative), 3, 0, c.y, &ws, &exec));
        failed |= RunAndCheck("aclnnGroupedMatmulV2", aclnnGroupedMatmulV2, ws, exec, c.yAddr, d, stream);
        Release(&made);
    }
    {  // V3: a groupList tensor of cumulative rows, one stacked weight
        Common c = MakeCommon(&made, d);
        aclTensorList *w = StackedWeight(&made, d, false);
        CALL(aclnnGroupedMatmulV3GetWorkspaceSize(c.x, w, nullptr, nullptr, nullptr, nullptr, nullptr,
                                                  GroupList(&made, cumulative, {kE}), 3, 0, c.y, &ws, &exec));
        failed |= RunAndCheck("aclnnGroupedMatmulV3", aclnnGroupedMatmulV3, ws, exec, c.yAddr, d, stream);
        aclnnStatus twoDims = aclnnGroupedMatmulV3GetWorkspaceSize(
            c.x, w, nullptr, nullptr, nullptr, nullptr, nullptr, GroupList(&made, cumulative, {1, kE}), 3, 0, c.y,
            &ws, &exec);
        printf("aclnnGroupedMatmulV3 with a 2-D groupList: %d\n", static_cast<int>(twoDims));
        failed |= twoDims != ACLNN_ERR_PARAM_INVALID;
        Release(&made);
    }
    {  // V4: counts (groupListType 1)
        Common c = MakeCommon(&made, d);
        CALL(aclnnGroupedMatmulV4GetWorkspaceSize(c.x, StackedWeight(&made, d, false), nullptr, nullptr, nullptr,
                                                  nullptr, nullptr, nullptr, GroupList(&made, counts, {kE}), nullptr,
                                                  nullptr, nullptr, 3, 0, 1, 0, c.y, nullptr, nullptr, &ws, &exec));
        failed |= RunAndCheck("aclnnGroupedMatmulV4", aclnnGroupedMatmulV4, ws, exec, c.yAddr, d, stream);
        Release(&made);
    }
    {  // WeightNz: the weight's FRACTAL_NZ storage
        Common c = MakeCommon(&made, d);
        CALL(aclnnGroupedMatmulWeightNzGetWorkspaceSize(
            c.x, StackedWeight(&made, d, true), nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
            GroupList(&made, counts, {kE}), nullptr, nullptr, nullptr, 3, 0, 1, 0, nullptr, 0, c.y, nullptr, nullptr,
            &ws, &exec));
        failed |= RunAndCheck("aclnnGroupedMatmulWeightNz", aclnnGroupedMatmulWeightNz, ws, exec, c.yAddr, d, stream);
        Release(&made);
    }
    {  // MxA8W4 as CANN's arch35 example test_aclnn_grouped_matmul_weight_nz_mxa8w4_multi.cpp calls it: FP8 x, a
       // list of FP4 FRACTAL_NZ weights viewed (K, N) over an (N, K) storage, bias (N) BF16, E8M0 antiquantScale
       // (K/64, N, 2) per weight and perTokenScale (M, K/64, 2). The Ascend 950's parameter checks pass it and the
       // mock does not model it (361001); Atlas A2/A3 have no FP8 (161002). Only the code is printed: nothing runs.
        const int64_t m = 16, k = 64, n = 64;
        std::vector<uint8_t> bytes(k * n, 0);
        aclTensorList *x = List(&made, {Tensor(&made, bytes.data(), m * k, {m, k}, ACL_FLOAT8_E4M3FN, ACL_FORMAT_ND,
                                               {m, k})});
        std::vector<aclTensor *> weights, biases, scales;
        for (int i = 0; i < 2; i++) {
            void *addr = nullptr;
            if (aclrtMalloc(&addr, k * n / 2, ACL_MEM_MALLOC_HUGE_FIRST) != 0) return 1;
            made.memory.push_back(addr);
            const std::vector<int64_t> shape = {k, n}, strides = {1, k}, storage = {k / 32, n / 16, 16, 32};
            weights.push_back(aclCreateTensor(shape.data(), 2, ACL_FLOAT4_E2M1, strides.data(), 0,
                                              ACL_FORMAT_FRACTAL_NZ, storage.data(), storage.size(), addr));
            biases.push_back(Tensor(&made, bytes.data(), n * 2, {n}, ACL_BF16, ACL_FORMAT_ND, {n}));
            scales.push_back(Tensor(&made, bytes.data(), k / 64 * n * 2, {k / 64, n, 2}, ACL_FLOAT8_E8M0,
                                    ACL_FORMAT_ND, {k / 64, n, 2}));
        }
        aclTensorList *w = List(&made, weights);
        aclTensorList *bias = List(&made, biases);
        aclTensorList *scale = List(&made, scales);
        aclTensorList *perToken = List(&made, {Tensor(&made, bytes.data(), m * k / 64 * 2, {m, k / 64, 2},
                                                      ACL_FLOAT8_E8M0, ACL_FORMAT_ND, {m, k / 64, 2})});
        aclTensorList *y = List(&made, {Tensor(&made, nullptr, m * n * 2, {m, n}, ACL_BF16, ACL_FORMAT_ND, {m, n})});
        aclnnStatus mx = aclnnGroupedMatmulWeightNzGetWorkspaceSize(
            x, w, bias, nullptr, nullptr, scale, nullptr, perToken, GroupList(&made, {m / 2, m}, {2}), nullptr,
            nullptr, nullptr, 3, 0, 0, 0, nullptr, 0, y, nullptr, nullptr, &ws, &exec);
        const char *msg = aclGetRecentErrMsg();
        printf("aclnnGroupedMatmulWeightNz MxA8W4: %d (%s)\n", static_cast<int>(mx), msg != nullptr ? msg : "");
        Release(&made);
    }

    CALL(aclrtDestroyStream(stream));
    CALL(aclrtResetDevice(0));
    CALL(aclFinalize());
    if (failed) return 1;
    printf("ALL OK\n");
    return 0;
}
