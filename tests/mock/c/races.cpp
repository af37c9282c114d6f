// Race reports of the mock through the C ABI (tests/test_races.py runs each mode, under each
// ACLNN_MOCK_RACECHECK value). GroupedMatmulV5 computes out = x @ w with x and w all ones
// (FLOAT16, K = 16), so every element of a complete out is 16.0 (0x4C00); out starts as 0x7777.
//
//   host_read    the host reads out before synchronising the stream that writes it
//   host_write   the host overwrites x (aclrtMemcpy, aclrtMemset) while queued work reads it
//   free         aclrtFree of x while queued work reads it
//   streams      two streams touch one buffer, one writing, without an event between them
//   events       a correct program: two streams ordered by events, the host by event and stream sync
//
// Prints "case <name> status <code> msg <text>" and "value <name> <hex>" lines, then "done".
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "acl/acl.h"
#include "aclnn/aclnn_base.h"
#include "aclnnop/aclnn_grouped_matmul_v5.h"

#define EXPECT(cond, ...)                            \
    do {                                             \
        if (!(cond)) {                               \
            std::printf("FAIL line %d: ", __LINE__); \
            std::printf(__VA_ARGS__);                \
            std::printf("\n");                       \
            std::exit(1);                            \
        }                                            \
    } while (0)

namespace {

constexpr int64_t kM = 8, kK = 16, kN = 8;
constexpr size_t kX = kM * kK * 2, kW = kK * kN * 2, kOut = kM * kN * 2;
void *gWorkspace = nullptr;

std::string Recent() {
    const char *m = aclGetRecentErrMsg();
    return m ? m : "";
}

void Report(const char *name, int status) {
    std::printf("case %s status %d msg %s\n", name, status, status ? Recent().c_str() : "");
}

void *Malloc(size_t bytes) {
    void *p = nullptr;
    EXPECT(aclrtMalloc(&p, bytes, ACL_MEM_MALLOC_HUGE_FIRST) == ACL_SUCCESS, "aclrtMalloc: %s", Recent().c_str());
    return p;
}

aclTensorList *List(std::vector<int64_t> shape, void *data) {
    std::vector<int64_t> strides = {shape[1], 1};
    const aclTensor *t[1] = {aclCreateTensor(shape.data(), 2, ACL_FLOAT16, strides.data(), 0, ACL_FORMAT_ND,
                                             shape.data(), 2, data)};
    return aclCreateTensorList(t, 1);
}

// out = x @ w queued on stream; returns the launch status (phase 1 must succeed).
int Gmm(void *x, void *w, void *out, aclrtStream stream) {
    aclTensorList *lx = List({kM, kK}, x), *lw = List({kK, kN}, w), *lo = List({kM, kN}, out);
    uint64_t size = 0;
    aclOpExecutor *ex = nullptr;
    int status = aclnnGroupedMatmulV5GetWorkspaceSize(lx, lw, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                                                      nullptr, nullptr, nullptr, nullptr, 0, -1, 0, 0, nullptr, lo,
                                                      nullptr, nullptr, &size, &ex);
    EXPECT(status == 0, "GetWorkspaceSize: %d %s", status, Recent().c_str());
    if (gWorkspace == nullptr) gWorkspace = Malloc(size);  // one workspace, used on one stream at a time
    status = aclnnGroupedMatmulV5(gWorkspace, size, ex, stream);
    if (status != 0) aclDestroyAclOpExecutor(ex);
    aclDestroyTensorList(lx);
    aclDestroyTensorList(lw);
    aclDestroyTensorList(lo);
    return status;
}

void Fill(void *p, size_t bytes, uint16_t value) {
    std::vector<uint16_t> host(bytes / 2, value);
    EXPECT(aclrtMemcpy(p, bytes, host.data(), bytes, ACL_MEMCPY_HOST_TO_DEVICE) == 0, "fill: %s", Recent().c_str());
}

void Value(const char *name, const std::vector<uint16_t> &host) {
    int uniform = 1;
    for (auto h : host) uniform &= h == host[0];
    std::printf("value %s %04x%s\n", name, host[0], uniform ? "" : " (not uniform)");
}

}  // namespace

int main(int argc, char **argv) {
    EXPECT(argc == 2, "usage: races host_read | host_write | free | streams | events");
    std::string mode = argv[1];
    EXPECT(aclInit(nullptr) == ACL_SUCCESS, "aclInit: %s", Recent().c_str());
    EXPECT(aclrtSetDevice(0) == ACL_SUCCESS, "aclrtSetDevice");
    aclrtStream s1 = nullptr, s2 = nullptr;
    EXPECT(aclrtCreateStream(&s1) == 0 && aclrtCreateStream(&s2) == 0, "aclrtCreateStream");
    void *x = Malloc(kX), *w = Malloc(kW), *out = Malloc(kOut), *copy = Malloc(kOut);
    Fill(x, kX, 0x3C00);
    Fill(w, kW, 0x3C00);
    Fill(out, kOut, 0x7777);  // a marker: the operator did not write here
    std::vector<uint16_t> host(kOut / 2, 0);

    if (mode == "host_read") {
        EXPECT(Gmm(x, w, out, s1) == 0, "launch: %s", Recent().c_str());
        Report("memcpy_d2h_before_sync", aclrtMemcpy(host.data(), kOut, out, kOut, ACL_MEMCPY_DEVICE_TO_HOST));
        Value("early", host);
        EXPECT(aclrtSynchronizeStream(s1) == 0, "sync: %s", Recent().c_str());
        Report("memcpy_d2h_after_sync", aclrtMemcpy(host.data(), kOut, out, kOut, ACL_MEMCPY_DEVICE_TO_HOST));
        Value("late", host);
    } else if (mode == "host_write") {
        EXPECT(Gmm(x, w, out, s1) == 0, "launch: %s", Recent().c_str());
        std::vector<uint16_t> twos(kX / 2, 0x4000);
        Report("memcpy_h2d_before_sync", aclrtMemcpy(x, kX, twos.data(), kX, ACL_MEMCPY_HOST_TO_DEVICE));
        Report("memset_before_sync", aclrtMemset(w, kW, 0, kW));
        EXPECT(aclrtSynchronizeStream(s1) == 0, "sync: %s", Recent().c_str());
        Report("memcpy_d2h_after_sync", aclrtMemcpy(host.data(), kOut, out, kOut, ACL_MEMCPY_DEVICE_TO_HOST));
        Value("out", host);
    } else if (mode == "free") {
        EXPECT(Gmm(x, w, out, s1) == 0, "launch: %s", Recent().c_str());
        int status = aclrtFree(x);
        Report("free_before_sync", status);
        EXPECT(aclrtSynchronizeStream(s1) == 0, "sync: %s", Recent().c_str());
        if (status != 0) Report("free_after_sync", aclrtFree(x));
        Report("memcpy_d2h_after_sync", aclrtMemcpy(host.data(), kOut, out, kOut, ACL_MEMCPY_DEVICE_TO_HOST));
        Value("out", host);
    } else if (mode == "streams") {
        EXPECT(aclrtMemsetAsync(x, kX, 0, kX, s1) == 0, "memset: %s", Recent().c_str());
        Report("copy_on_other_stream", aclrtMemcpyAsync(copy, kOut, x, kOut, ACL_MEMCPY_DEVICE_TO_DEVICE, s2));
        Report("operator_on_other_stream", Gmm(x, w, out, s2));
        EXPECT(aclrtSynchronizeStream(s2) == 0 && aclrtSynchronizeStream(s1) == 0, "sync: %s", Recent().c_str());
        EXPECT(aclrtMemcpy(host.data(), kOut, out, kOut, ACL_MEMCPY_DEVICE_TO_HOST) == 0, "d2h: %s", Recent().c_str());
        Value("out", host);  // the zeroed x when the operator ran (after waiting), untouched out otherwise
    } else if (mode == "events") {
        aclrtEvent e1 = nullptr, e2 = nullptr;
        EXPECT(aclrtCreateEvent(&e1) == 0 && aclrtCreateEvent(&e2) == 0, "aclrtCreateEvent");
        std::vector<uint16_t> ones(kX / 2, 0x3C00);
        Report("h2d_async", aclrtMemcpyAsync(x, kX, ones.data(), kX, ACL_MEMCPY_HOST_TO_DEVICE, s1));
        Report("operator", Gmm(x, w, out, s1));
        Report("record", aclrtRecordEvent(e1, s1));
        Report("wait", aclrtStreamWaitEvent(s2, e1));
        Report("copy_after_event", aclrtMemcpyAsync(copy, kOut, out, kOut, ACL_MEMCPY_DEVICE_TO_DEVICE, s2));
        Report("operator_after_event", Gmm(x, w, out, s2));  // s1's use of the workspace and out is ordered
        Report("record_2", aclrtRecordEvent(e2, s2));
        Report("event_sync", aclrtSynchronizeEvent(e2));
        Report("d2h_after_event_sync", aclrtMemcpy(host.data(), kOut, copy, kOut, ACL_MEMCPY_DEVICE_TO_HOST));
        Value("copy", host);
        Report("d2h_out_after_event_sync", aclrtMemcpy(host.data(), kOut, out, kOut, ACL_MEMCPY_DEVICE_TO_HOST));
        Value("out", host);
        Report("stream_sync", aclrtSynchronizeStream(s1));
        aclrtDestroyEvent(e1);
        aclrtDestroyEvent(e2);
    } else {
        EXPECT(false, "unknown mode %s", mode.c_str());
    }
    aclrtDestroyStream(s1);
    aclrtDestroyStream(s2);
    aclrtFree(copy);
    aclrtFree(out);
    aclrtFree(w);
    if (mode != "free") aclrtFree(x);
    aclrtFree(gWorkspace);
    aclrtResetDevice(0);
    aclFinalize();
    std::printf("done\n");
    return 0;
}
