// aclnnGroupedMatmulV5 A8W4 ("S8S4") and A4W4 ("S4S4") through the C ABI, called the way CANN's
// arch35 examples call them: single x / weight / out lists, groupType 0, splitItem 3, ACL_INT4 data
// packed two values per byte (even index in the low nibble), UINT64 scales holding float32 bits with
// bit 46 set. Every output is checked against a double-precision reference of the documented
// formulas; rows past the groupList total must keep their contents. On an Ascend950* SoC the program
// also checks that S8S4 rejects groupListType 0 (161002, message naming the rule).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "acl/acl.h"
#include "aclnnop/aclnn_grouped_matmul_v5.h"

#define CHECK(cond, ...)                                  \
    do {                                                  \
        if (!(cond)) {                                    \
            std::printf("FAIL line %d: ", __LINE__);      \
            std::printf(__VA_ARGS__);                     \
            std::printf("\n");                            \
            return 1;                                     \
        }                                                 \
    } while (0)

namespace {

const int64_t kM = 12, kN = 32, kE = 3;
const int64_t kCoveredRows = 10;                      // experts 0, 1, 2 get 4, 0, 6 rows
const int64_t kExpertOfRow[kCoveredRows] = {0, 0, 0, 0, 2, 2, 2, 2, 2, 2};
const uint16_t kSentinelFp16 = 0x4700, kSentinelBf16 = 0x40E0;  // 7.0

struct DeviceTensor {
    void *addr = nullptr;
    aclTensor *tensor = nullptr;
    DeviceTensor() = default;
    DeviceTensor(const DeviceTensor &) = delete;
    DeviceTensor &operator=(const DeviceTensor &) = delete;
    ~DeviceTensor() {
        if (tensor != nullptr) aclDestroyTensor(tensor);
        if (addr != nullptr) aclrtFree(addr);
    }
};

// Copy `bytes` of host data to the device and describe them as a contiguous ND tensor.
bool Upload(const void *host, size_t bytes, const std::vector<int64_t> &shape, aclDataType dtype,
            DeviceTensor &out) {
    if (aclrtMalloc(&out.addr, bytes, ACL_MEM_MALLOC_HUGE_FIRST) != ACL_SUCCESS) return false;
    if (aclrtMemcpy(out.addr, bytes, host, bytes, ACL_MEMCPY_HOST_TO_DEVICE) != ACL_SUCCESS) return false;
    std::vector<int64_t> strides(shape.size(), 1);
    for (size_t i = shape.size() - 1; i > 0; --i) strides[i - 1] = strides[i] * shape[i];
    out.tensor = aclCreateTensor(shape.data(), shape.size(), dtype, strides.data(), 0, ACL_FORMAT_ND,
                                 shape.data(), shape.size(), out.addr);
    return out.tensor != nullptr;
}

std::vector<uint8_t> PackInt4(const std::vector<int8_t> &values) {
    std::vector<uint8_t> bytes((values.size() + 1) / 2, 0);
    for (size_t i = 0; i < values.size(); ++i) {
        uint8_t nibble = static_cast<uint8_t>(values[i]) & 0x0F;
        bytes[i / 2] |= static_cast<uint8_t>(i % 2 == 0 ? nibble : nibble << 4);
    }
    return bytes;
}

uint64_t PackScale(float scale) {
    uint32_t bits = 0;
    std::memcpy(&bits, &scale, sizeof(bits));
    return static_cast<uint64_t>(bits) | (1ULL << 46);
}

float Fp16ToFloat(uint16_t h) {
    int exponent = (h >> 10) & 0x1F;
    int mantissa = h & 0x3FF;
    float magnitude = exponent == 0 ? std::ldexp(static_cast<float>(mantissa), -24)
                                    : std::ldexp(static_cast<float>(mantissa | 0x400), exponent - 25);
    return (h & 0x8000) ? -magnitude : magnitude;
}

float Bf16ToFloat(uint16_t b) {
    uint32_t bits = static_cast<uint32_t>(b) << 16;
    float value = 0.0f;
    std::memcpy(&value, &bits, sizeof(value));
    return value;
}

struct Case {
    const char *name;
    bool s8s4;            // INT8 x (else INT4 x)
    bool withOffset;      // S8S4 per-channel with the fused offset
    int64_t quantGroups;  // k-groups of the scale (1 = per channel)
    bool withPerToken;
    aclDataType outType;  // ACL_FLOAT16 or ACL_BF16
    int64_t groupListType;
};

struct Inputs {
    int64_t k;
    std::vector<int8_t> x, w;  // logical values: x [M, K], w [E, K, N]
    std::vector<float> scale, offset, bias, perToken;  // scale [E, G, N], offset [E, N], bias [E, N]
    std::vector<int64_t> groupList;
    std::vector<int64_t> groupListShape;
};

Inputs MakeInputs(const Case &c) {
    Inputs in;
    in.k = c.s8s4 ? 512 : 256;
    in.x.resize(kM * in.k);
    for (int64_t i = 0; i < kM * in.k; ++i) {
        int64_t v = c.s8s4 ? (i * 37 + 11) % 136 - 8 : (i * 7 + 3) % 11 - 3;  // mostly positive
        in.x[i] = static_cast<int8_t>(i % 29 == 0 ? -8 : v);
    }
    in.w.resize(kE * in.k * kN);
    for (int64_t i = 0; i < kE * in.k * kN; ++i)
        in.w[i] = static_cast<int8_t>(i % 31 == 0 ? -8 : (i * 5 + 1) % 12 - 4);
    in.scale.resize(kE * c.quantGroups * kN);
    for (int64_t e = 0; e < kE; ++e)
        for (int64_t g = 0; g < c.quantGroups; ++g)
            for (int64_t n = 0; n < kN; ++n)
                in.scale[(e * c.quantGroups + g) * kN + n] =
                    static_cast<float>(1 + (e * 7 + g * 3 + n) % 8) / (c.s8s4 ? 1024.0f : 64.0f);
    in.offset.assign(kE * kN, 0.0f);
    if (c.withOffset)
        for (int64_t i = 0; i < kE * kN; ++i) in.offset[i] = static_cast<float>(i % 5) / 64.0f;
    // S8S4 bias: the offline correction 8 * sum_k w * scale.
    in.bias.assign(kE * kN, 0.0f);
    int64_t groupSize = in.k / c.quantGroups;
    for (int64_t e = 0; e < kE; ++e)
        for (int64_t kk = 0; kk < in.k; ++kk)
            for (int64_t n = 0; n < kN; ++n)
                in.bias[e * kN + n] += 8.0f * in.w[(e * in.k + kk) * kN + n] *
                                       in.scale[(e * c.quantGroups + kk / groupSize) * kN + n];
    in.perToken.resize(kM);
    for (int64_t m = 0; m < kM; ++m) in.perToken[m] = c.withPerToken ? 0.5f + 0.25f * (m % 4) : 1.0f;
    if (c.groupListType == 0) {
        in.groupList = {4, 4, 10};
        in.groupListShape = {kE};
    } else if (c.groupListType == 1) {
        in.groupList = {4, 0, 6};
        in.groupListShape = {kE};
    } else {
        in.groupList = {0, 4, 2, 6, 1, 0};
        in.groupListShape = {kE, 2};
    }
    return in;
}

// y[m, n] = sum_k x[m, k] * (w[e, k, n] * scale[e, g(k), n] + offset[e, n]) * perToken[m]
double Reference(const Case &c, const Inputs &in, int64_t m, int64_t n) {
    int64_t e = kExpertOfRow[m];
    int64_t groupSize = in.k / c.quantGroups;
    double sum = 0.0;
    for (int64_t kk = 0; kk < in.k; ++kk) {
        double w = in.w[(e * in.k + kk) * kN + n];
        double dequant = w * in.scale[(e * c.quantGroups + kk / groupSize) * kN + n] + in.offset[e * kN + n];
        sum += in.x[m * in.k + kk] * dequant;
    }
    return sum * in.perToken[m];
}

// Phase 1 and 2 of aclnnGroupedMatmulV5; returns the phase-1 status (0 when both ran) and its
// aclGetRecentErrMsg text when it failed.
int RunOperator(const Case &c, const Inputs &in, aclrtStream stream, std::vector<uint16_t> &result,
                std::string &message) {
    std::vector<uint8_t> x4, w4 = PackInt4(in.w);
    DeviceTensor x, w, bias, scale, offset, perToken, groupList, out;
    bool ok = true;
    if (c.s8s4) {
        ok = ok && Upload(in.x.data(), in.x.size(), {kM, in.k}, ACL_INT8, x);
    } else {
        x4 = PackInt4(in.x);
        ok = ok && Upload(x4.data(), x4.size(), {kM, in.k}, ACL_INT4, x);
    }
    ok = ok && Upload(w4.data(), w4.size(), {kE, in.k, kN}, ACL_INT4, w);
    std::vector<uint64_t> packed(in.scale.size());
    for (size_t i = 0; i < packed.size(); ++i) packed[i] = PackScale(in.scale[i]);
    std::vector<int64_t> scaleShape = {kE, kN};
    if (c.s8s4 || c.quantGroups > 1) scaleShape = {kE, c.quantGroups, kN};
    ok = ok && Upload(packed.data(), packed.size() * sizeof(uint64_t), scaleShape, ACL_UINT64, scale);
    ok = ok && Upload(in.groupList.data(), in.groupList.size() * sizeof(int64_t), in.groupListShape, ACL_INT64,
                      groupList);
    std::vector<uint16_t> init(kM * kN, c.outType == ACL_FLOAT16 ? kSentinelFp16 : kSentinelBf16);
    ok = ok && Upload(init.data(), init.size() * sizeof(uint16_t), {kM, kN}, c.outType, out);
    if (c.s8s4) {
        ok = ok && Upload(in.bias.data(), in.bias.size() * sizeof(float), {kE, kN}, ACL_FLOAT, bias);
        if (c.withOffset)
            ok = ok && Upload(in.offset.data(), in.offset.size() * sizeof(float), {kE, 1, kN}, ACL_FLOAT, offset);
    }
    if (c.withPerToken || c.s8s4)
        ok = ok && Upload(in.perToken.data(), in.perToken.size() * sizeof(float), {kM}, ACL_FLOAT, perToken);
    if (!ok) {
        std::printf("FAIL %s: could not create the tensors\n", c.name);
        return -1;
    }

    // A tensor list owns its tensors: aclDestroyTensorList destroys them.
    auto listOf = [](DeviceTensor &t) -> aclTensorList * {
        if (t.tensor == nullptr) return nullptr;
        const aclTensor *items[1] = {t.tensor};
        t.tensor = nullptr;
        return aclCreateTensorList(items, 1);
    };
    aclTensorList *xList = listOf(x), *wList = listOf(w), *biasList = listOf(bias), *scaleList = listOf(scale),
                  *offsetList = listOf(offset), *ptsList = listOf(perToken), *outList = listOf(out);
    uint64_t workspaceSize = 0;
    aclOpExecutor *executor = nullptr;
    int status = aclnnGroupedMatmulV5GetWorkspaceSize(
        xList, wList, biasList, scaleList, offsetList, nullptr, nullptr, ptsList, groupList.tensor, nullptr,
        nullptr, nullptr, 3, 0, c.groupListType, 0, nullptr, outList, nullptr, nullptr, &workspaceSize,
        &executor);
    if (status != ACL_SUCCESS) message = aclGetRecentErrMsg();
    if (status == ACL_SUCCESS) {
        void *workspace = nullptr;
        if (workspaceSize > 0 && aclrtMalloc(&workspace, workspaceSize, ACL_MEM_MALLOC_HUGE_FIRST) != ACL_SUCCESS) {
            status = -1;
        } else if (aclnnGroupedMatmulV5(workspace, workspaceSize, executor, stream) != ACL_SUCCESS ||
                   aclrtSynchronizeStream(stream) != ACL_SUCCESS) {
            std::printf("FAIL %s: execution: %s\n", c.name, aclGetRecentErrMsg());
            status = -1;
        }
        if (workspace != nullptr) aclrtFree(workspace);
        result.assign(kM * kN, 0);
        if (status == ACL_SUCCESS &&
            aclrtMemcpy(result.data(), result.size() * sizeof(uint16_t), out.addr, result.size() * sizeof(uint16_t),
                        ACL_MEMCPY_DEVICE_TO_HOST) != ACL_SUCCESS)
            status = -1;
    }
    aclTensorList *lists[] = {xList, wList, biasList, scaleList, offsetList, ptsList, outList};
    for (aclTensorList *list : lists)
        if (list != nullptr) aclDestroyTensorList(list);
    return status;
}

int CheckCase(const Case &c, aclrtStream stream) {
    Inputs in = MakeInputs(c);
    std::vector<uint16_t> y;
    std::string message;
    int status = RunOperator(c, in, stream, y, message);
    CHECK(status == ACL_SUCCESS, "%s: status %d: %s", c.name, status, message.c_str());
    double maxRef = 0.0, maxErr = 0.0;
    for (int64_t m = 0; m < kCoveredRows; ++m)
        for (int64_t n = 0; n < kN; ++n) {
            double ref = Reference(c, in, m, n);
            double got = c.outType == ACL_FLOAT16 ? Fp16ToFloat(y[m * kN + n]) : Bf16ToFloat(y[m * kN + n]);
            maxRef = std::fmax(maxRef, std::fabs(ref));
            maxErr = std::fmax(maxErr, std::fabs(got - ref));
        }
    double limit = c.outType == ACL_FLOAT16 ? 2e-3 : 1e-2;  // of the largest output
    CHECK(maxRef > 1.0 && maxErr <= limit * maxRef, "%s: max error %g against max |y| %g", c.name, maxErr, maxRef);
    uint16_t sentinel = c.outType == ACL_FLOAT16 ? kSentinelFp16 : kSentinelBf16;
    for (int64_t i = kCoveredRows * kN; i < kM * kN; ++i)
        CHECK(y[i] == sentinel, "%s: row %lld past the groupList was written", c.name, static_cast<long long>(i / kN));
    std::printf("%s: max error %.3g of max |y| %.3g\n", c.name, maxErr, maxRef);
    return 0;
}

}  // namespace

int main() {
    CHECK(aclInit(nullptr) == ACL_SUCCESS, "aclInit");
    CHECK(aclrtSetDevice(0) == ACL_SUCCESS, "aclrtSetDevice");
    aclrtStream stream = nullptr;
    CHECK(aclrtCreateStream(&stream) == ACL_SUCCESS, "aclrtCreateStream");
    const char *soc = aclrtGetSocName();
    CHECK(soc != nullptr, "aclrtGetSocName");

    const Case cases[] = {
        {"S8S4 per-channel + offset, FLOAT16", true, true, 1, true, ACL_FLOAT16, 1},
        {"S8S4 per-group (K/256), BFLOAT16", true, false, 2, true, ACL_BF16, 1},
        {"S4S4 per-channel, no perTokenScale, BFLOAT16", false, false, 1, false, ACL_BF16, 0},
        {"S4S4 per-group (G=4) + perTokenScale, FLOAT16", false, false, 4, true, ACL_FLOAT16, 2},
    };
    for (const Case &c : cases)
        if (CheckCase(c, stream) != 0) return 1;

    if (std::string(soc).compare(0, 9, "Ascend950") == 0) {
        Case bad = {"S8S4 groupListType 0", true, true, 1, true, ACL_FLOAT16, 0};
        Inputs in = MakeInputs(bad);
        std::vector<uint16_t> y;
        std::string message;
        int status = RunOperator(bad, in, stream, y, message);
        CHECK(status == 161002, "S8S4 with groupListType 0: status %d", status);
        CHECK(message.find("needs groupListType 1") != std::string::npos, "message: %s", message.c_str());
    }

    CHECK(aclrtDestroyStream(stream) == ACL_SUCCESS, "aclrtDestroyStream");
    CHECK(aclrtResetDevice(0) == ACL_SUCCESS, "aclrtResetDevice");
    CHECK(aclFinalize() == ACL_SUCCESS, "aclFinalize");
    std::printf("PASS on %s\n", soc);
    return 0;
}
