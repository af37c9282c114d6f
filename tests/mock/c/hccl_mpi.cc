/*
 * The API sequences of hcomm's one-process-per-rank samples (examples/01_communicators/
 * 01_one_device_per_process and 02_one_device_per_process_rank_table), written for this
 * project's tests: MPI_Init, device = MPI rank; a communicator from the root info of rank 0
 * handed over with MPI_Bcast and HcclCommInitRootInfoConfig (buffer size, determinism, name
 * "comm_1"), then one from HcclCommInitClusterInfoConfig with the rank table aclrtGetSocName
 * selects (version 2.0 on Ascend 950); on each an AllReduce and an AlltoAllV across the
 * processes, each rank printing its results; teardown as the samples (HcclCommDestroy,
 * aclrtResetDevice, aclFinalize).
 *
 *   mpirun -n N hccl_mpi <rank_table.json> <rank_table_v2.json>
 */
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <hccl/hccl.h>
#include <hccl/hccl_types.h>
#include <mpi.h>

#define CHECK(call)                                                                            \
    do {                                                                                       \
        int rc_ = static_cast<int>(call);                                                      \
        if (rc_ != 0) {                                                                        \
            const char *m_ = aclGetRecentErrMsg();                                             \
            std::printf("%s:%d: %s returned %d (%s)\n", __FILE__, __LINE__, #call, rc_, m_ ? m_ : ""); \
            return rc_;                                                                        \
        }                                                                                      \
    } while (0)

static int PrintFloats(const char *what, int rank, void *buf, size_t count)
{
    std::vector<float> host(count);
    CHECK(aclrtMemcpy(host.data(), count * sizeof(float), buf, count * sizeof(float), ACL_MEMCPY_DEVICE_TO_HOST));
    std::string line = std::string(what) + " rankId: " + std::to_string(rank) + ", output: [";
    for (float v : host) {
        line += " " + std::to_string(static_cast<int>(v));
    }
    std::printf("%s ]\n", line.c_str());
    return 0;
}

static int Exchange(HcclComm comm, uint32_t n, uint32_t me, int procRank)
{
    char name[COMM_NAME_MAX_LENGTH];
    CHECK(HcclGetCommName(comm, name));
    aclrtStream stream;
    CHECK(aclrtCreateStream(&stream));
    std::vector<float> iota(n), mine(n, static_cast<float>(me));
    for (uint32_t i = 0; i < n; ++i) {
        iota[i] = static_cast<float>(i);
    }
    size_t bytes = n * sizeof(float);
    void *send = nullptr, *recv = nullptr, *mineBuf = nullptr, *exchanged = nullptr;
    CHECK(aclrtMalloc(&send, bytes, ACL_MEM_MALLOC_HUGE_ONLY));
    CHECK(aclrtMalloc(&recv, bytes, ACL_MEM_MALLOC_HUGE_ONLY));
    CHECK(aclrtMalloc(&mineBuf, bytes, ACL_MEM_MALLOC_HUGE_ONLY));
    CHECK(aclrtMalloc(&exchanged, bytes, ACL_MEM_MALLOC_HUGE_ONLY));
    CHECK(aclrtMemcpy(send, bytes, iota.data(), bytes, ACL_MEMCPY_HOST_TO_DEVICE));
    CHECK(aclrtMemcpy(mineBuf, bytes, mine.data(), bytes, ACL_MEMCPY_HOST_TO_DEVICE));
    std::vector<uint64_t> counts(n, 1), displs(n);
    for (uint32_t i = 0; i < n; ++i) {
        displs[i] = i;
    }
    CHECK(HcclAllReduce(send, recv, n, HCCL_DATA_TYPE_FP32, HCCL_REDUCE_SUM, comm, stream));
    CHECK(HcclAlltoAllV(mineBuf, counts.data(), displs.data(), HCCL_DATA_TYPE_FP32, exchanged, counts.data(),
                        displs.data(), HCCL_DATA_TYPE_FP32, comm, stream));
    CHECK(aclrtSynchronizeStream(stream));
    std::string tag = name;
    CHECK(PrintFloats((tag + " allreduce").c_str(), procRank, recv, n));
    CHECK(PrintFloats((tag + " alltoallv").c_str(), procRank, exchanged, n));
    CHECK(aclrtFree(send));
    CHECK(aclrtFree(recv));
    CHECK(aclrtFree(mineBuf));
    CHECK(aclrtFree(exchanged));
    CHECK(aclrtDestroyStream(stream));
    return 0;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int procSize = 0, procRank = 0;
    MPI_Comm_size(MPI_COMM_WORLD, &procSize);
    MPI_Comm_rank(MPI_COMM_WORLD, &procRank);
    uint32_t n = static_cast<uint32_t>(procSize), me = static_cast<uint32_t>(procRank);
    CHECK(aclInit(nullptr));
    CHECK(aclrtSetDevice(static_cast<int32_t>(me)));

    if (argc != 3) {
        std::printf("usage: %s <rank_table.json> <rank_table_v2.json>\n", argv[0]);
        return 2;
    }
    for (int round = 0; round < 2; ++round) {
        HcclCommConfig config;
        HcclCommConfigInit(&config);
        config.hcclBufferSize = round == 0 ? 1024 : 50;
        config.hcclDeterministic = 1;
        std::strcpy(config.hcclCommName, round == 0 ? "comm_1" : "comm_2");
        HcclComm comm;
        if (round == 1) {
            const char *soc = aclrtGetSocName();
            if (soc == nullptr) {
                return HCCL_E_RUNTIME;
            }
            const char *table = std::string(soc).find("Ascend950") == std::string::npos ? argv[1] : argv[2];
            CHECK(HcclCommInitClusterInfoConfig(table, me, &config, &comm));
        } else {
            HcclRootInfo rootInfo;
            if (me == 0) {
                CHECK(HcclGetRootInfo(&rootInfo));
            }
            MPI_Bcast(&rootInfo, HCCL_ROOT_INFO_BYTES, MPI_CHAR, 0, MPI_COMM_WORLD);
            MPI_Barrier(MPI_COMM_WORLD);
            CHECK(HcclCommInitRootInfoConfig(n, &rootInfo, me, &config, &comm));
        }
        CHECK(Exchange(comm, n, me, procRank));
        CHECK(HcclCommDestroy(comm));
    }
    CHECK(aclrtResetDevice(static_cast<int32_t>(me)));
    CHECK(aclFinalize());
    MPI_Finalize();
    return 0;
}
