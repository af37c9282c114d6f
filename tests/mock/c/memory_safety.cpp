// Memory safety of the mock through the C ABI only (tests/test_memory_safety.py runs each mode).
//
//   cycles N     N aclrtMalloc/aclrtFree cycles of 16 MiB with nothing live; then use after free
//                and double free on a fresh buffer are still reported
//   huge         aclrtMalloc beyond what the host or the device can give
//   layouts      bad tensor layouts and addresses for every operator, rejected at GetWorkspaceSize;
//                a neighbouring allocation stays untouched and a valid call still computes
//   opcalls N    N GroupedMatmulV5 calls that create their tensors and workspace per call, as
//                CANN's samples do
//
// Each mode prints "key value" lines the test reads, and "done" at the end.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <unistd.h>

#include "acl/acl.h"
#include "aclnn/aclnn_base.h"
#include "aclnn/opdev/op_errno.h"
#include "aclnnop/aclnn_grouped_matmul_v5.h"
#include "aclnnop/aclnn_quant_matmul_all_reduce_v4.h"
#include "aclnnop/aclnn_trans_matmul_weight.h"
#include "aclnnop/aclnn_trans_quant_param_v2.h"
#include "hccl/hccl.h"

#define EXPECT(cond, ...)                             \
    do {                                              \
        if (!(cond)) {                                \
            std::printf("FAIL line %d: ", __LINE__);  \
            std::printf(__VA_ARGS__);                 \
            std::printf("\n");                        \
            std::exit(1);                             \
        }                                             \
    } while (0)

namespace {

long RssKb() {
    long pages = 0, resident = 0;
    FILE *f = std::fopen("/proc/self/statm", "r");
    if (f == nullptr) return -1;
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = -1;
    std::fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

std::string Recent() {
    const char *m = aclGetRecentErrMsg();
    return m ? m : "";
}

void Report(const char *name, int status) {
    std::string message = Recent();
    for (auto &c : message)
        if (c == '\n') c = ' ';
    std::printf("case %s status %d msg %s\n", name, status, message.c_str());
}

void *Malloc(size_t bytes) {
    void *p = nullptr;
    EXPECT(aclrtMalloc(&p, bytes, ACL_MEM_MALLOC_HUGE_FIRST) == ACL_SUCCESS, "aclrtMalloc %zu: %s", bytes,
           Recent().c_str());
    return p;
}

aclTensor *Tensor(std::vector<int64_t> shape, aclDataType dtype, void *data, std::vector<int64_t> strides = {},
                  int64_t offset = 0, aclFormat format = ACL_FORMAT_ND, std::vector<int64_t> storage = {}) {
    if (strides.empty()) {
        strides.assign(shape.size(), 1);
        for (int i = (int)shape.size() - 2; i >= 0; --i) strides[i] = strides[i + 1] * shape[i + 1];
    }
    if (storage.empty()) storage = shape;
    return aclCreateTensor(shape.data(), shape.size(), dtype, strides.data(), offset, format, storage.data(),
                           storage.size(), data);
}

int Cycles(long n) {
    aclrtSetDevice(0);
    const size_t size = 16u << 20;
    void *first = Malloc(size);
    EXPECT(aclrtFree(first) == ACL_SUCCESS, "free");
    long reused = 0, rss_start = 0;
    for (long i = 0; i < n; ++i) {
        void *p = nullptr;
        aclError status = aclrtMalloc(&p, size, ACL_MEM_MALLOC_HUGE_FIRST);
        EXPECT(status == ACL_SUCCESS, "cycle %ld: aclrtMalloc returned %d: %s", i, status, Recent().c_str());
        reused += p == first;
        EXPECT(aclrtFree(p) == ACL_SUCCESS, "cycle %ld: aclrtFree: %s", i, Recent().c_str());
        if (i == n / 10) rss_start = RssKb();
    }
    std::printf("rss_kb_start %ld\nrss_kb_end %ld\nreused %ld\n", rss_start, RssKb(), reused);

    // Misuse is still caught once addresses are reused.
    void *p = Malloc(64);
    char host[64];
    EXPECT(aclrtFree(p) == ACL_SUCCESS, "free");
    Report("use_after_free", aclrtMemcpy(host, 64, p, 64, ACL_MEMCPY_DEVICE_TO_HOST));
    Report("double_free", aclrtFree(p));
    return 0;
}

int Huge() {
    aclrtSetDevice(0);
    void *p = nullptr;
    Report("beyond_memory", aclrtMalloc(&p, (size_t)600 << 30, ACL_MEM_MALLOC_HUGE_FIRST));
    Report("beyond_device", aclrtMalloc(&p, (size_t)2 << 40, ACL_MEM_MALLOC_HUGE_FIRST));
    Report("size_max", aclrtMalloc(&p, SIZE_MAX, ACL_MEM_MALLOC_HUGE_FIRST));
    Report("host_pinned", aclrtMallocHost(&p, SIZE_MAX));
    p = Malloc(1024);  // the runtime still works
    EXPECT(aclrtFree(p) == ACL_SUCCESS, "free");
    return 0;
}

// --------------------------------------------------------------------------------------------- layouts
constexpr int64_t kM = 16, kK = 64, kN = 32;
const char *gGroup = nullptr;
aclrtStream gStream = nullptr;

// QuantMatmulAllReduceV4 phase 1 with x1 (M, K) int8, x2 (K, N) int8, x2Scale (N) uint64, out (M, N) fp16.
int Qmmar(aclTensor *x1, aclTensor *x2, aclTensor *scale, aclTensor *out, aclOpExecutor **executor = nullptr) {
    uint64_t size = 0;
    aclOpExecutor *ex = nullptr;
    int status = aclnnQuantMatmulAllReduceV4GetWorkspaceSize(x1, x2, nullptr, nullptr, nullptr, scale, nullptr,
                                                             nullptr, gGroup, "sum", 0, 1, 0, 0, out, &size, &ex);
    if (status == 0 && executor == nullptr) aclDestroyAclOpExecutor(ex);
    if (executor) *executor = ex;
    return status;
}

int Gmm(aclTensor *x, aclTensor *w, aclTensor *out) {
    const aclTensor *xs[1] = {x}, *ws[1] = {w};
    aclTensor *os[1] = {out};
    aclTensorList *lx = aclCreateTensorList(xs, 1), *lw = aclCreateTensorList(ws, 1);
    aclTensorList *lo = aclCreateTensorList(os, 1);
    uint64_t size = 0;
    aclOpExecutor *ex = nullptr;
    int status = aclnnGroupedMatmulV5GetWorkspaceSize(lx, lw, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                                                      nullptr, nullptr, nullptr, nullptr, 0, -1, 0, 0, nullptr, lo,
                                                      nullptr, nullptr, &size, &ex);
    if (status == 0) aclDestroyAclOpExecutor(ex);
    aclDestroyTensorList(lx);  // destroys the members too
    aclDestroyTensorList(lw);
    aclDestroyTensorList(lo);
    return status;
}

int Layouts() {
    int32_t devices[1] = {0};
    HcclComm comm = nullptr;
    EXPECT(HcclCommInitAll(1, devices, &comm) == HCCL_SUCCESS, "HcclCommInitAll");
    static char group[128] = {0};
    EXPECT(HcclGetCommName(comm, group) == HCCL_SUCCESS, "HcclGetCommName");
    gGroup = group;
    EXPECT(aclrtSetDevice(0) == ACL_SUCCESS, "aclrtSetDevice");
    EXPECT(aclrtCreateStream(&gStream) == ACL_SUCCESS, "aclrtCreateStream");

    std::vector<int8_t> x1h(kM * kK, 2), x2h(kK * kN, 1);
    float half = 0.5f;
    uint32_t bits;
    std::memcpy(&bits, &half, sizeof bits);
    std::vector<uint64_t> scaleh(kN, (uint64_t)(bits & 0xFFFFE000u) | (1ull << 46));
    void *dx1 = Malloc(x1h.size()), *dx2 = Malloc(x2h.size()), *dscale = Malloc(scaleh.size() * 8);
    const size_t outBytes = kM * kN * 2;
    void *dout = Malloc(outBytes);
    void *neighbour = Malloc(4096);  // allocated right after the output
    EXPECT(aclrtMemcpy(dx1, x1h.size(), x1h.data(), x1h.size(), ACL_MEMCPY_HOST_TO_DEVICE) == 0, "h2d");
    EXPECT(aclrtMemcpy(dx2, x2h.size(), x2h.data(), x2h.size(), ACL_MEMCPY_HOST_TO_DEVICE) == 0, "h2d");
    EXPECT(aclrtMemcpy(dscale, scaleh.size() * 8, scaleh.data(), scaleh.size() * 8, ACL_MEMCPY_HOST_TO_DEVICE) == 0, "h2d");
    EXPECT(aclrtMemset(neighbour, 4096, 0xA5, 4096) == 0, "memset");
    EXPECT(aclrtMemset(dout, outBytes, 0, outBytes) == 0, "memset");
    void *freed = Malloc(outBytes);
    EXPECT(aclrtFree(freed) == 0, "free");

    aclTensor *x1 = Tensor({kM, kK}, ACL_INT8, dx1), *x2 = Tensor({kK, kN}, ACL_INT8, dx2);
    aclTensor *scale = Tensor({kN}, ACL_UINT64, dscale);
    auto out = [&](std::vector<int64_t> strides, int64_t offset = 0, void *data = nullptr) {
        return Tensor({kM, kN}, ACL_FLOAT16, data ? data : dout, strides, offset);
    };
    // aclCreateTensor stores a negative offset, as CANN's does; the operator refuses it at GetWorkspaceSize.
    Report("create_negative_offset", Qmmar(x1, x2, scale, out({}, -512)));

    Report("quant_matmul_all_reduce_out_negative_stride", Qmmar(x1, x2, scale, out({-kN, 1})));
    Report("quant_matmul_all_reduce_out_negative_inner_stride", Qmmar(x1, x2, scale, out({kN, -1}, kN - 2)));
    Report("quant_matmul_all_reduce_out_nz_too_small", Qmmar(x1, x2, scale, Tensor({kM, kN}, ACL_FLOAT16, dout, {}, 0,
                                                                  ACL_FORMAT_FRACTAL_NZ, {1, 1, 16, 16})));
    Report("quant_matmul_all_reduce_out_past_end", Qmmar(x1, x2, scale, out({}, 1)));
    Report("quant_matmul_all_reduce_out_huge_stride", Qmmar(x1, x2, scale, out({INT64_MAX / 2, 1})));
    Report("quant_matmul_all_reduce_out_overflowing_stride", Qmmar(x1, x2, scale, out({INT64_MAX, INT64_MAX})));
    Report("quant_matmul_all_reduce_out_null", Qmmar(x1, x2, scale, Tensor({kM, kN}, ACL_FLOAT16, nullptr)));
    Report("quant_matmul_all_reduce_out_freed", Qmmar(x1, x2, scale, out({}, 0, freed)));
    Report("quant_matmul_all_reduce_out_host", Qmmar(x1, x2, scale, Tensor({kM, kN}, ACL_FLOAT16, x1h.data())));
    Report("quant_matmul_all_reduce_x1_negative_stride", Qmmar(Tensor({kM, kK}, ACL_INT8, dx1, {-kK, 1}), x2, scale, out({})));
    Report("quant_matmul_all_reduce_x2_freed", Qmmar(x1, Tensor({kK, kN}, ACL_INT8, freed), scale, out({})));
    Report("quant_matmul_all_reduce_x2_nz_too_small", Qmmar(x1, Tensor({kK, kN}, ACL_INT8, dx2, {}, 0, ACL_FORMAT_FRACTAL_NZ,
                                                     {1, 1, 16, 32}), scale, out({})));

    // GroupedMatmulV5, FLOAT16 x (M, K), weight (K, N), out (M, N); addresses at GetWorkspaceSize.
    void *dxf = Malloc(kM * kK * 2), *dwf = Malloc(kK * kN * 2);
    Report("grouped_matmul_x_null", Gmm(Tensor({kM, kK}, ACL_FLOAT16, nullptr), Tensor({kK, kN}, ACL_FLOAT16, dwf),
                             out({})));
    Report("grouped_matmul_weight_freed", Gmm(Tensor({kM, kK}, ACL_FLOAT16, dxf), Tensor({kK, kN}, ACL_FLOAT16, freed),
                                   out({})));
    Report("grouped_matmul_out_negative_stride", Gmm(Tensor({kM, kK}, ACL_FLOAT16, dxf), Tensor({kK, kN}, ACL_FLOAT16, dwf),
                                          out({-kN, 1})));
    Report("grouped_matmul_out_too_small", Gmm(Tensor({kM, kK}, ACL_FLOAT16, dxf), Tensor({kK, kN}, ACL_FLOAT16, dwf),
                                    Tensor({kM, kN}, ACL_FLOAT16, dscale)));
    // Memory of another device: not addressable by device 0's kernels.
    EXPECT(aclrtSetDevice(1) == ACL_SUCCESS, "aclrtSetDevice(1)");
    void *dx1dev = Malloc(kM * kK * 2);
    EXPECT(aclrtSetDevice(0) == ACL_SUCCESS, "aclrtSetDevice(0)");
    Report("grouped_matmul_x_other_device", Gmm(Tensor({kM, kK}, ACL_FLOAT16, dx1dev), Tensor({kK, kN}, ACL_FLOAT16, dwf),
                                     out({})));

    // TransMatmulWeight in place: the NZ weight must fit the buffer, the ND one must be inside it.
    uint64_t tmwSize = 0;
    aclOpExecutor *ex = nullptr;
    aclTensor *w = Tensor({kK, kN}, ACL_INT8, dx2, {-kN, 1});
    Report("tmw_negative_stride", aclnnTransMatmulWeightGetWorkspaceSize(w, &tmwSize, &ex));
    aclDestroyTensor(w);
    void *small = Malloc(kK * kN - 1);
    w = Tensor({kK, kN - 1}, ACL_INT8, small);
    Report("tmw_buffer_too_small", aclnnTransMatmulWeightGetWorkspaceSize(w, &tmwSize, &ex));
    aclDestroyTensor(w);
    // TransQuantParamV2: the packed output past its buffer.
    float scales[kN];
    for (auto &s : scales) s = 0.5f;
    void *dfs = Malloc(sizeof scales);
    EXPECT(aclrtMemcpy(dfs, sizeof scales, scales, sizeof scales, ACL_MEMCPY_HOST_TO_DEVICE) == 0, "h2d");
    aclTensor *fs = Tensor({kN}, ACL_FLOAT, dfs), *packed = Tensor({kN}, ACL_UINT64, dscale, {}, 4);
    Report("tqp_out_past_end", aclnnTransQuantParamV2GetWorkspaceSize(fs, nullptr, packed, &tmwSize, &ex));
    aclDestroyTensor(packed);
    packed = Tensor({kN}, ACL_UINT64, dscale, {-1});
    Report("tqp_out_negative_stride", aclnnTransQuantParamV2GetWorkspaceSize(fs, nullptr, packed, &tmwSize, &ex));

    // Nothing was written anywhere: the neighbour keeps its pattern, the output its zeros.
    std::vector<uint8_t> back(4096);
    EXPECT(aclrtMemcpy(back.data(), 4096, neighbour, 4096, ACL_MEMCPY_DEVICE_TO_HOST) == 0, "d2h");
    int intact = 1;
    for (auto b : back) intact &= b == 0xA5;
    std::printf("neighbour_intact %d\n", intact);

    // Execute calls: a workspace of another device (161002), a destroyed stream (361001).
    {
        EXPECT(aclrtSetDevice(1) == ACL_SUCCESS, "aclrtSetDevice(1)");
        void *farWorkspace = Malloc(16u << 20);
        EXPECT(aclrtSetDevice(0) == ACL_SUCCESS, "aclrtSetDevice(0)");
        aclrtStream dead = nullptr;
        EXPECT(aclrtCreateStream(&dead) == ACL_SUCCESS, "aclrtCreateStream");
        EXPECT(aclrtDestroyStream(dead) == ACL_SUCCESS, "aclrtDestroyStream");
        void *workspace = Malloc(16u << 20);
        aclOpExecutor *ex = nullptr;
        EXPECT(Qmmar(x1, x2, scale, out({}), &ex) == 0, "quant_matmul_all_reduce: %s", Recent().c_str());
        Report("exec_workspace_other_device", aclnnQuantMatmulAllReduceV4(farWorkspace, 16u << 20, ex, gStream));
        EXPECT(aclDestroyAclOpExecutor(ex) == 0, "destroy");
        EXPECT(Qmmar(x1, x2, scale, out({}), &ex) == 0, "quant_matmul_all_reduce: %s", Recent().c_str());
        Report("exec_destroyed_stream", aclnnQuantMatmulAllReduceV4(workspace, 16u << 20, ex, dead));
        EXPECT(aclDestroyAclOpExecutor(ex) == 0, "destroy");
    }

    // A valid call with a reversed (negative-stride) output view starting at the last row computes.
    aclOpExecutor *good = nullptr;
    int status = Qmmar(x1, x2, scale, out({-kN, 1}, (kM - 1) * kN), &good);
    EXPECT(status == 0, "valid reversed output: %d %s", status, Recent().c_str());
    uint64_t wsSize = 0;
    void *ws = Malloc(16u << 20);
    wsSize = 16u << 20;
    EXPECT(aclnnQuantMatmulAllReduceV4(ws, wsSize, good, gStream) == 0, "execute: %s", Recent().c_str());
    EXPECT(aclrtSynchronizeStream(gStream) == 0, "sync: %s", Recent().c_str());
    std::vector<uint16_t> result(kM * kN);
    EXPECT(aclrtMemcpy(result.data(), outBytes, dout, outBytes, ACL_MEMCPY_DEVICE_TO_HOST) == 0, "d2h");
    int correct = 1;  // 0.5 * K * 2 * 1 = 64 = 0x5400 in float16
    for (auto h : result) correct &= h == 0x5400;
    std::printf("reversed_output_correct %d\n", correct);
    std::printf("done\n");
    return 0;
}

// ----------------------------------------------------------------------------------------- opcalls
int OpCalls(long n) {
    EXPECT(aclrtSetDevice(0) == ACL_SUCCESS, "aclrtSetDevice");
    aclrtStream stream = nullptr;
    EXPECT(aclrtCreateStream(&stream) == ACL_SUCCESS, "aclrtCreateStream");
    const int64_t m = 4, k = 16, nn = 8;
    long rss_start = 0;
    for (long i = 0; i < n; ++i) {
        void *dx = Malloc(m * k * 2), *dw = Malloc(k * nn * 2), *dout = Malloc(m * nn * 2);
        EXPECT(aclrtMemset(dx, m * k * 2, 0, m * k * 2) == 0 && aclrtMemset(dw, k * nn * 2, 0, k * nn * 2) == 0, "memset");
        const aclTensor *xs[1] = {Tensor({m, k}, ACL_FLOAT16, dx)}, *ws[1] = {Tensor({k, nn}, ACL_FLOAT16, dw)};
        aclTensor *os[1] = {Tensor({m, nn}, ACL_FLOAT16, dout)};
        aclTensorList *lx = aclCreateTensorList(xs, 1), *lw = aclCreateTensorList(ws, 1), *lo = aclCreateTensorList(os, 1);
        uint64_t size = 0;
        aclOpExecutor *ex = nullptr;
        int status = aclnnGroupedMatmulV5GetWorkspaceSize(lx, lw, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                                                          nullptr, nullptr, nullptr, nullptr, 0, -1, 0, 0, nullptr, lo,
                                                          nullptr, nullptr, &size, &ex);
        EXPECT(status == 0, "call %ld: GetWorkspaceSize %d %s", i, status, Recent().c_str());
        void *workspace = Malloc(size);
        EXPECT(aclnnGroupedMatmulV5(workspace, size, ex, stream) == 0, "call %ld: %s", i, Recent().c_str());
        EXPECT(aclrtSynchronizeStream(stream) == 0, "call %ld: sync %s", i, Recent().c_str());
        aclrtFree(workspace);
        aclDestroyTensorList(lx);
        aclDestroyTensorList(lw);
        aclDestroyTensorList(lo);
        aclrtFree(dx);
        aclrtFree(dw);
        aclrtFree(dout);
        if (i == n / 2) rss_start = RssKb();
    }
    std::printf("rss_kb_start %ld\nrss_kb_end %ld\n", rss_start, RssKb());
    aclrtDestroyStream(stream);
    return 0;
}

}  // namespace

int main(int argc, char **argv) {
    EXPECT(argc >= 2, "usage: memory_safety cycles N | huge | layouts | opcalls N");
    EXPECT(aclInit(nullptr) == ACL_SUCCESS, "aclInit");
    std::string mode = argv[1];
    long n = argc > 2 ? std::atol(argv[2]) : 0;
    int rc = mode == "cycles" ? Cycles(n) : mode == "huge" ? Huge() : mode == "layouts" ? Layouts()
           : mode == "opcalls" ? OpCalls(n) : 2;
    if (mode != "layouts") std::printf("done\n");
    return rc;
}
