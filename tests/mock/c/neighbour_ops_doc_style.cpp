// aclnnMm, aclnnMatmul, aclnnCast and aclnnPermute called as CANN's doc samples call them (the two
// phases, a workspace when asked for, host <-> device copies), with the headers those samples
// include, plus aclnnTransMatmulWeight before aclnnMm as in its own sample. Each result is checked
// here; the program prints one line per operator and "ALL OK".
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "acl/acl.h"
#include "aclnn/opdev/fp16_t.h"
#include "aclnnop/aclnn_cast.h"
#include "aclnnop/aclnn_matmul.h"
#include "aclnnop/aclnn_mm.h"
#include "aclnnop/aclnn_permute.h"
#include "aclnnop/aclnn_trans_matmul_weight.h"

#define CHECK(cond, ...)                              \
    do {                                              \
        if (!(cond)) {                                \
            std::printf("FAIL line %d: ", __LINE__);  \
            std::printf(__VA_ARGS__);                 \
            std::printf("\n");                        \
            return 1;                                 \
        }                                             \
    } while (0)

namespace {

aclrtStream g_stream = nullptr;

struct Device {
    void *addr = nullptr;
    aclTensor *tensor = nullptr;
    ~Device() {
        if (tensor != nullptr) aclDestroyTensor(tensor);
        if (addr != nullptr) aclrtFree(addr);
    }
};

// A contiguous ND tensor holding `host` (its byte size: `bytes`, at least the elements' size).
template <typename T>
int MakeTensor(const std::vector<T> &host, const std::vector<int64_t> &shape, aclDataType dtype, Device &dev,
               size_t bytes = 0) {
    size_t size = bytes != 0 ? bytes : host.size() * sizeof(T);
    if (aclrtMalloc(&dev.addr, size, ACL_MEM_MALLOC_HUGE_FIRST) != ACL_SUCCESS) return 1;
    if (!host.empty() &&
        aclrtMemcpy(dev.addr, size, host.data(), host.size() * sizeof(T), ACL_MEMCPY_HOST_TO_DEVICE) != ACL_SUCCESS) {
        return 1;
    }
    std::vector<int64_t> strides(shape.size(), 1);
    for (int i = static_cast<int>(shape.size()) - 2; i >= 0; --i) strides[i] = strides[i + 1] * shape[i + 1];
    dev.tensor = aclCreateTensor(shape.data(), shape.size(), dtype, strides.data(), 0, ACL_FORMAT_ND, shape.data(),
                                 shape.size(), dev.addr);
    return dev.tensor == nullptr ? 1 : 0;
}

// A FLOAT16 bit pattern as float (the doc samples convert by hand: C has no half type).
float HalfToFloat(uint16_t bits) {
    int exponent = (bits >> 10) & 0x1F;
    float mantissa = static_cast<float>(bits & 0x3FF);
    float magnitude = exponent == 0    ? std::ldexp(mantissa, -24)
                      : exponent == 31 ? (mantissa != 0.0f ? NAN : INFINITY)
                                       : std::ldexp(mantissa + 1024.0f, exponent - 25);
    return (bits & 0x8000) ? -magnitude : magnitude;
}

template <typename T>
std::vector<T> ToHost(const Device &dev, int64_t count) {
    std::vector<T> out(static_cast<size_t>(count));
    aclrtMemcpy(out.data(), out.size() * sizeof(T), dev.addr, out.size() * sizeof(T), ACL_MEMCPY_DEVICE_TO_HOST);
    return out;
}

// Phase 2 of one call: a workspace of the size phase 1 asked for, the launch, the stream's end.
template <typename Launch>
int Run(uint64_t workspaceSize, aclOpExecutor *executor, Launch launch) {
    void *workspace = nullptr;
    if (workspaceSize > 0 && aclrtMalloc(&workspace, workspaceSize, ACL_MEM_MALLOC_HUGE_FIRST) != ACL_SUCCESS) return 1;
    int ret = launch(workspace, workspaceSize, executor, g_stream);
    if (ret == 0) ret = aclrtSynchronizeStream(g_stream);
    if (workspace != nullptr) aclrtFree(workspace);
    return ret;
}

int MmOfOnes() {
    Device self, mat2, out;
    CHECK(MakeTensor(std::vector<float>(16 * 32, 1.0f), {16, 32}, ACL_FLOAT, self) == 0, "self");
    CHECK(MakeTensor(std::vector<float>(32 * 16, 1.0f), {32, 16}, ACL_FLOAT, mat2) == 0, "mat2");
    CHECK(MakeTensor(std::vector<float>(16 * 16, 0.0f), {16, 16}, ACL_FLOAT, out) == 0, "out");
    uint64_t workspaceSize = 0;
    aclOpExecutor *executor = nullptr;
    CHECK(aclnnMmGetWorkspaceSize(self.tensor, mat2.tensor, out.tensor, 1, &workspaceSize, &executor) == 0,
          "aclnnMmGetWorkspaceSize: %s", aclGetRecentErrMsg());
    CHECK(Run(workspaceSize, executor, aclnnMm) == 0, "aclnnMm");
    std::vector<float> result = ToHost<float>(out, 256);
    int wrong = 0;
    for (float v : result) wrong += v != 32.0f;
    std::printf("aclnnMm: result[0] is %f, %d of 256 wrong\n", result[0], wrong);
    CHECK(wrong == 0, "aclnnMm values");
    return 0;
}

int MatmulBatchedByVector() {
    // self (2, 3, 4) FLOAT16 holding (i % 5) - 2, mat2 (4,) holding 1, 2, 3, 4: out (2, 3)
    std::vector<uint16_t> a(24);
    for (int i = 0; i < 24; ++i) a[i] = op::fp16_t(static_cast<float>(i % 5 - 2)).val;
    std::vector<uint16_t> b(4);
    for (int i = 0; i < 4; ++i) b[i] = op::fp16_t(static_cast<float>(i + 1)).val;
    Device self, mat2, out;
    CHECK(MakeTensor(a, {2, 3, 4}, ACL_FLOAT16, self) == 0, "self");
    CHECK(MakeTensor(b, {4}, ACL_FLOAT16, mat2) == 0, "mat2");
    CHECK(MakeTensor(std::vector<float>(6, 0.0f), {2, 3}, ACL_FLOAT, out) == 0, "out");
    uint64_t workspaceSize = 0;
    aclOpExecutor *executor = nullptr;
    CHECK(aclnnMatmulGetWorkspaceSize(self.tensor, mat2.tensor, out.tensor, 0, &workspaceSize, &executor) == 0,
          "aclnnMatmulGetWorkspaceSize: %s", aclGetRecentErrMsg());
    CHECK(Run(workspaceSize, executor, aclnnMatmul) == 0, "aclnnMatmul");
    std::vector<float> result = ToHost<float>(out, 6);
    for (int row = 0; row < 6; ++row) {
        float expected = 0.0f;
        for (int k = 0; k < 4; ++k) expected += static_cast<float>((row * 4 + k) % 5 - 2) * static_cast<float>(k + 1);
        CHECK(result[row] == expected, "aclnnMatmul out[%d] = %f, expected %f", row, result[row], expected);
    }
    std::printf("aclnnMatmul: out is %g %g %g %g %g %g\n", result[0], result[1], result[2], result[3], result[4],
                result[5]);
    return 0;
}

int CastFloatToDoubleAndInt() {
    std::vector<float> values = {0.5f, 1.5f, -2.5f, 3.75f, -0.25f, 100.0f, 7.9f, -7.9f};
    Device self, asDouble, asInt;
    CHECK(MakeTensor(values, {4, 2}, ACL_FLOAT, self) == 0, "self");
    CHECK(MakeTensor(std::vector<double>(8, 0.0), {4, 2}, ACL_DOUBLE, asDouble) == 0, "out");
    CHECK(MakeTensor(std::vector<int32_t>(8, 0), {4, 2}, ACL_INT32, asInt) == 0, "out");
    const aclDataType targets[2] = {ACL_DOUBLE, ACL_INT32};
    Device *outs[2] = {&asDouble, &asInt};
    for (int i = 0; i < 2; ++i) {
        uint64_t workspaceSize = 0;
        aclOpExecutor *executor = nullptr;
        CHECK(aclnnCastGetWorkspaceSize(self.tensor, targets[i], outs[i]->tensor, &workspaceSize, &executor) == 0,
              "aclnnCastGetWorkspaceSize: %s", aclGetRecentErrMsg());
        CHECK(Run(workspaceSize, executor, aclnnCast) == 0, "aclnnCast");
    }
    std::vector<double> d = ToHost<double>(asDouble, 8);
    std::vector<int32_t> n = ToHost<int32_t>(asInt, 8);
    for (int i = 0; i < 8; ++i) {
        CHECK(d[i] == static_cast<double>(values[i]), "double[%d] = %f", i, d[i]);
        CHECK(n[i] == static_cast<int32_t>(values[i]), "int32[%d] = %d (truncated %f)", i, n[i], values[i]);
    }
    std::printf("aclnnCast: %f -> %f and %d, %f -> %d\n", values[6], d[6], n[6], values[7], n[7]);
    return 0;
}

int PermuteThreeDims() {
    std::vector<int32_t> values(24);
    for (int i = 0; i < 24; ++i) values[i] = i;
    Device self, out;
    CHECK(MakeTensor(values, {2, 3, 4}, ACL_INT32, self) == 0, "self");
    CHECK(MakeTensor(std::vector<int32_t>(24, -1), {4, 2, 3}, ACL_INT32, out) == 0, "out");
    std::vector<int64_t> order = {2, 0, 1};
    aclIntArray *dims = aclCreateIntArray(order.data(), order.size());
    uint64_t workspaceSize = 0;
    aclOpExecutor *executor = nullptr;
    int ret = aclnnPermuteGetWorkspaceSize(self.tensor, dims, out.tensor, &workspaceSize, &executor);
    aclDestroyIntArray(dims);
    CHECK(ret == 0, "aclnnPermuteGetWorkspaceSize: %s", aclGetRecentErrMsg());
    CHECK(Run(workspaceSize, executor, aclnnPermute) == 0, "aclnnPermute");
    std::vector<int32_t> result = ToHost<int32_t>(out, 24);
    for (int c = 0; c < 4; ++c)
        for (int a = 0; a < 2; ++a)
            for (int b = 0; b < 3; ++b)
                CHECK(result[(c * 2 + a) * 3 + b] == values[(a * 3 + b) * 4 + c], "out[%d][%d][%d]", c, a, b);
    std::printf("aclnnPermute: out[1][0][2] is %d\n", result[(1 * 2 + 0) * 3 + 2]);
    return 0;
}

int MmOfAnNzWeight() {
    std::vector<uint16_t> ones(16 * 32, op::fp16_t(1.0f).val);
    uint64_t weightElements = 0;
    std::vector<int64_t> weightShape = {32, 16};
    aclIntArray *shape = aclCreateIntArray(weightShape.data(), weightShape.size());
    CHECK(aclnnCalculateMatmulWeightSizeV2(shape, ACL_FLOAT16, &weightElements) == 0, "weight size");
    aclDestroyIntArray(shape);
    Device self, mat2, out;
    CHECK(MakeTensor(ones, {16, 32}, ACL_FLOAT16, self) == 0, "self");
    CHECK(MakeTensor(ones, weightShape, ACL_FLOAT16, mat2, weightElements * sizeof(uint16_t)) == 0, "mat2");
    CHECK(MakeTensor(std::vector<uint16_t>(256, 0), {16, 16}, ACL_FLOAT16, out) == 0, "out");
    uint64_t workspaceSize = 0;
    aclOpExecutor *executor = nullptr;
    CHECK(aclnnTransMatmulWeightGetWorkspaceSize(mat2.tensor, &workspaceSize, &executor) == 0, "trans: %s",
          aclGetRecentErrMsg());
    CHECK(Run(workspaceSize, executor, aclnnTransMatmulWeight) == 0, "aclnnTransMatmulWeight");
    aclFormat format = ACL_FORMAT_ND;
    CHECK(aclGetFormat(mat2.tensor, &format) == 0 && format == ACL_FORMAT_FRACTAL_NZ, "mat2 is FRACTAL_NZ");
    CHECK(aclnnMmGetWorkspaceSize(self.tensor, mat2.tensor, out.tensor, 1, &workspaceSize, &executor) == 0,
          "aclnnMmGetWorkspaceSize (NZ mat2): %s", aclGetRecentErrMsg());
    CHECK(Run(workspaceSize, executor, aclnnMm) == 0, "aclnnMm");
    std::vector<uint16_t> result = ToHost<uint16_t>(out, 256);
    int wrong = 0;
    for (uint16_t v : result) wrong += HalfToFloat(v) != 32.0f;
    std::printf("aclnnTransMatmulWeight + aclnnMm: result[0] is %f, %d of 256 wrong\n",
                HalfToFloat(result[0]), wrong);
    CHECK(wrong == 0, "NZ values");
    return 0;
}

// The documented codes (aclnn_return_code.md): ACLNN_ERR_PARAM_NULLPTR, ACLNN_ERR_PARAM_INVALID.
const int kParamNullptr = 161001;
const int kParamInvalid = 161002;

int DocumentedCodes() {
    Device self, mat2, out;
    CHECK(MakeTensor(std::vector<float>(8, 1.0f), {2, 4}, ACL_FLOAT, self) == 0, "self");
    CHECK(MakeTensor(std::vector<float>(6, 1.0f), {3, 2}, ACL_FLOAT, mat2) == 0, "mat2");
    CHECK(MakeTensor(std::vector<float>(4, 0.0f), {2, 2}, ACL_FLOAT, out) == 0, "out");
    uint64_t workspaceSize = 0;
    aclOpExecutor *executor = nullptr;
    int ret = aclnnMmGetWorkspaceSize(self.tensor, mat2.tensor, out.tensor, 0, &workspaceSize, &executor);
    CHECK(ret == kParamInvalid && std::strstr(aclGetRecentErrMsg(), "k-axis") != nullptr,
          "k mismatch: %d %s", ret, aclGetRecentErrMsg());
    ret = aclnnCastGetWorkspaceSize(nullptr, ACL_FLOAT16, out.tensor, &workspaceSize, &executor);
    CHECK(ret == kParamNullptr && std::strstr(aclGetRecentErrMsg(), "self") != nullptr, "NULL self");
    std::printf("documented codes: %d and %d\n", kParamInvalid, kParamNullptr);
    return 0;
}

}  // namespace

int main() {
    CHECK(aclInit(nullptr) == ACL_SUCCESS, "aclInit");
    CHECK(aclrtSetDevice(0) == ACL_SUCCESS, "aclrtSetDevice");
    CHECK(aclrtCreateStream(&g_stream) == ACL_SUCCESS, "aclrtCreateStream");
    int failed = MmOfOnes() || MatmulBatchedByVector() || CastFloatToDoubleAndInt() || PermuteThreeDims() ||
                 MmOfAnNzWeight() || DocumentedCodes();
    aclrtDestroyStream(g_stream);
    aclrtResetDevice(0);
    aclFinalize();
    if (failed) return 1;
    std::printf("ALL OK\n");
    return 0;
}
