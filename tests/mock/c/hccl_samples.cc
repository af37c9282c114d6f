/*
 * The API sequences of CANN's HCCL samples (hicann/hccl examples/01_point_to_point and
 * examples/02_collectives, hcomm examples/01_communicators/03_one_device_per_pthread), written
 * for this project's tests: aclInit, aclrtGetDeviceCount, HcclGetRootInfo on device 0, one
 * std::thread per device that sets its device, joins with HcclCommInitRootInfo[Config], creates
 * a stream, runs one operation, synchronises, prints "rankId: r, output: [ ... ]", destroys
 * its communicator and resets its device; aclFinalize (and, as the pthread sample, an
 * aclrtResetDevice after it). Built with the samples' own flags (C++14, -Werror, PIE...).
 *
 *   hccl_samples <operation>...   any of send_recv, batch_send_recv_ring, allreduce, broadcast,
 *                                 allgather, reduce_scatter, reduce, alltoall, alltoallv,
 *                                 alltoallvc, scatter, pthread_config; each a round of its own
 *                                 (new root info, communicators, streams), under "== <operation>"
 */
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hccl/hccl.h"
#include "hccl/hccl_types.h"

#define CHECK(call)                                                                            \
    do {                                                                                       \
        int rc_ = static_cast<int>(call);                                                      \
        if (rc_ != 0) {                                                                        \
            const char *m_ = aclGetRecentErrMsg();                                             \
            std::printf("%s:%d: %s returned %d (%s)\n", __FILE__, __LINE__, #call, rc_, m_ ? m_ : ""); \
            return rc_;                                                                        \
        }                                                                                      \
    } while (0)

static std::mutex g_print;
static std::string g_op;

struct Rank {
    HcclRootInfo *rootInfo;
    uint32_t device;
    uint32_t size;
    int status;
};

static void *DeviceFloats(const std::vector<float> &values)
{
    void *buf = nullptr;
    size_t bytes = values.size() * sizeof(float);
    if (aclrtMalloc(&buf, bytes == 0 ? 4 : bytes, ACL_MEM_MALLOC_HUGE_ONLY) != ACL_SUCCESS) {
        return nullptr;
    }
    if (bytes != 0 && aclrtMemcpy(buf, bytes, values.data(), bytes, ACL_MEMCPY_HOST_TO_DEVICE) != ACL_SUCCESS) {
        return nullptr;
    }
    return buf;
}

static int Print(uint32_t rank, void *buf, size_t count)
{
    std::vector<float> host(count);
    CHECK(aclrtMemcpy(host.data(), count * sizeof(float), buf, count * sizeof(float), ACL_MEMCPY_DEVICE_TO_HOST));
    std::lock_guard<std::mutex> lock(g_print);
    std::printf("rankId: %u, output: [", rank);
    for (float v : host) {
        std::printf(" %g", v);
    }
    std::printf(" ]\n");
    return 0;
}

static int Run(Rank *r)
{
    uint32_t me = r->device, n = r->size;
    CHECK(aclrtSetDevice(static_cast<int32_t>(me)));
    HcclComm comm;
    if (g_op == "pthread_config") {
        HcclCommConfig config;
        HcclCommConfigInit(&config);
        config.hcclBufferSize = 50;
        CHECK(HcclCommInitRootInfoConfig(n, r->rootInfo, me, &config, &comm));
    } else {
        CHECK(HcclCommInitRootInfo(n, r->rootInfo, me, &comm));
    }
    aclrtStream stream;
    CHECK(aclrtCreateStream(&stream));

    std::vector<float> iota(n), mine(n, static_cast<float>(me));
    for (uint32_t i = 0; i < n; ++i) {
        iota[i] = static_cast<float>(i);
    }
    void *send = DeviceFloats(g_op == "broadcast" || g_op == "scatter" ? (me == 0 ? iota : std::vector<float>(n))
                              : (g_op == "alltoall" || g_op == "alltoallv" || g_op == "alltoallvc" ||
                                 g_op == "send_recv" || g_op == "batch_send_recv_ring") ? mine : iota);
    void *recv = DeviceFloats(std::vector<float>(n));
    void *one = DeviceFloats(std::vector<float>(1, static_cast<float>(me)));
    size_t shown = n;
    if (send == nullptr || recv == nullptr || one == nullptr) {
        return 1;
    }
    if (g_op == "allreduce" || g_op == "pthread_config") {
        CHECK(HcclAllReduce(send, recv, n, HCCL_DATA_TYPE_FP32, HCCL_REDUCE_SUM, comm, stream));
    } else if (g_op == "broadcast") {
        CHECK(HcclBroadcast(send, n, HCCL_DATA_TYPE_FP32, 0, comm, stream));
    } else if (g_op == "allgather") {
        CHECK(HcclAllGather(one, recv, 1, HCCL_DATA_TYPE_FP32, comm, stream));
    } else if (g_op == "reduce_scatter") {
        CHECK(HcclReduceScatter(send, recv, 1, HCCL_DATA_TYPE_FP32, HCCL_REDUCE_SUM, comm, stream));
        shown = 1;
    } else if (g_op == "reduce") {
        CHECK(HcclReduce(send, recv, n, HCCL_DATA_TYPE_FP32, HCCL_REDUCE_SUM, 0, comm, stream));
    } else if (g_op == "alltoall") {
        CHECK(HcclAlltoAll(send, 1, HCCL_DATA_TYPE_FP32, recv, 1, HCCL_DATA_TYPE_FP32, comm, stream));
    } else if (g_op == "alltoallv") {
        std::vector<uint64_t> counts(n, 1), displs(n);
        for (uint32_t i = 0; i < n; ++i) {
            displs[i] = i;
        }
        CHECK(HcclAlltoAllV(send, counts.data(), displs.data(), HCCL_DATA_TYPE_FP32, recv, counts.data(),
                            displs.data(), HCCL_DATA_TYPE_FP32, comm, stream));
    } else if (g_op == "alltoallvc") {
        std::vector<uint64_t> matrix(n * n, 1);
        CHECK(HcclAlltoAllVC(send, matrix.data(), HCCL_DATA_TYPE_FP32, recv, HCCL_DATA_TYPE_FP32, comm, stream));
    } else if (g_op == "scatter") {
        CHECK(HcclScatter(me == 0 ? send : nullptr, recv, 1, HCCL_DATA_TYPE_FP32, 0, comm, stream));
        shown = 1;
    } else if (g_op == "send_recv") {
        if (me % 2 == 0) {
            CHECK(HcclSend(send, n, HCCL_DATA_TYPE_FP32, me + 1, comm, stream));
        } else {
            CHECK(HcclRecv(recv, n, HCCL_DATA_TYPE_FP32, me - 1, comm, stream));
        }
    } else if (g_op == "batch_send_recv_ring") {
        HcclSendRecvItem items[2];
        items[0] = HcclSendRecvItem{HCCL_SEND, send, n, HCCL_DATA_TYPE_FP32, (me + 1) % n};
        items[1] = HcclSendRecvItem{HCCL_RECV, recv, n, HCCL_DATA_TYPE_FP32, (me + n - 1) % n};
        CHECK(HcclBatchSendRecv(items, 2, comm, stream));
    } else {
        std::printf("unknown operation %s\n", g_op.c_str());
        return 1;
    }
    CHECK(aclrtSynchronizeStream(stream));
    if (g_op != "send_recv" || me % 2 == 1) {
        CHECK(Print(me, g_op == "broadcast" ? send : recv, shown));
    }
    CHECK(HcclCommDestroy(comm));
    CHECK(aclrtFree(send));
    CHECK(aclrtFree(recv));
    CHECK(aclrtFree(one));
    CHECK(aclrtDestroyStream(stream));
    CHECK(aclrtResetDevice(static_cast<int32_t>(me)));
    return 0;
}

static int Round(uint32_t count)
{
    void *rootInfoBuf = nullptr;
    CHECK(aclrtMallocHost(&rootInfoBuf, sizeof(HcclRootInfo)));
    HcclRootInfo *rootInfo = static_cast<HcclRootInfo *>(rootInfoBuf);
    CHECK(HcclGetRootInfo(rootInfo));
    std::vector<Rank> ranks(count);
    std::vector<std::thread> threads;
    for (uint32_t i = 0; i < count; ++i) {
        ranks[i] = Rank{rootInfo, i, count, 0};
        threads.emplace_back([&ranks, i]() { ranks[i].status = Run(&ranks[i]); });
    }
    int failed = 0;
    for (uint32_t i = 0; i < count; ++i) {
        threads[i].join();
        failed += ranks[i].status != 0;
    }
    CHECK(aclrtFreeHost(rootInfoBuf));
    return failed;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        std::printf("usage: %s <operation>...\n", argv[0]);
        return 2;
    }
    CHECK(aclInit(nullptr));
    uint32_t count = 0;
    CHECK(aclrtGetDeviceCount(&count));
    std::printf("Found %u NPU device(s) available\n", count);
    CHECK(aclrtSetDevice(0));
    int failed = 0;
    for (int i = 1; i < argc; ++i) {
        g_op = argv[i];
        std::printf("== %s\n", argv[i]);
        failed += Round(count);
    }
    CHECK(aclFinalize());
    CHECK(aclrtResetDevice(0));  // after aclFinalize, as hcomm's one_device_per_pthread sample ends
    std::printf("failed ranks: %d\n", failed);
    return failed;
}
