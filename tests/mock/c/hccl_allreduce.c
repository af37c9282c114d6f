/*
 * HCCL through the C ABI, the way CANN's C samples do it: aclInit, one
 * HcclCommInitAll over N devices, then one thread per rank with its own
 * context and stream; all-reduce (sum, max), all-gather and broadcast are
 * checked here in C.
 *
 *   hccl_allreduce run N      run the collectives over N thread-ranks
 *   hccl_allreduce config     print HcclCommConfigInit's bytes as hex
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl/acl.h"
#include "hccl/hccl.h"

#define MAX_RANKS 8
#define COUNT 1000

#define CHECK(call)                                                                         \
    do {                                                                                    \
        long rc_ = (long)(call);                                                            \
        if (rc_ != 0) {                                                                     \
            const char *m_ = aclGetRecentErrMsg();                                          \
            fprintf(stderr, "%s:%d: %s failed: %ld (%s)\n", __FILE__, __LINE__, #call, rc_, \
                    m_ ? m_ : "");                                                          \
            exit(1);                                                                        \
        }                                                                                   \
    } while (0)

typedef struct {
    int rank;
    int ndev;
    int32_t device;
    HcclComm comm;
    char name[COMM_NAME_MAX_LENGTH];
    int failures;
} RankArgs;

static float value(int rank, int i) { return (float)(rank + 1) * 0.5f + (float)(i % 17); }

static void *run_rank(void *arg)
{
    RankArgs *a = (RankArgs *)arg;
    aclrtContext ctx;
    aclrtStream stream;
    void *send, *recv, *gather;
    size_t bytes = COUNT * sizeof(float);
    float host[COUNT], out[COUNT];
    float *all = (float *)malloc(bytes * a->ndev);
    uint32_t rank = 99, size = 99;
    int i, r;

    CHECK(aclrtCreateContext(&ctx, a->device));
    CHECK(aclrtCreateStream(&stream));
    CHECK(HcclGetRankId(a->comm, &rank));
    CHECK(HcclGetRankSize(a->comm, &size));
    if ((int)rank != a->rank || (int)size != a->ndev) {
        fprintf(stderr, "rank %d: HcclGetRankId/Size gave %u/%u\n", a->rank, rank, size);
        a->failures++;
    }
    CHECK(HcclGetCommName(a->comm, a->name));

    CHECK(aclrtMalloc(&send, bytes, ACL_MEM_MALLOC_HUGE_FIRST));
    CHECK(aclrtMalloc(&recv, bytes, ACL_MEM_MALLOC_HUGE_FIRST));
    CHECK(aclrtMalloc(&gather, bytes * a->ndev, ACL_MEM_MALLOC_HUGE_FIRST));
    for (i = 0; i < COUNT; i++) host[i] = value(a->rank, i);
    CHECK(aclrtMemcpy(send, bytes, host, bytes, ACL_MEMCPY_HOST_TO_DEVICE));

    /* sum */
    CHECK(HcclAllReduce(send, recv, COUNT, HCCL_DATA_TYPE_FP32, HCCL_REDUCE_SUM, a->comm, stream));
    CHECK(aclrtSynchronizeStreamWithTimeout(stream, 10000));
    CHECK(aclrtMemcpy(out, bytes, recv, bytes, ACL_MEMCPY_DEVICE_TO_HOST));
    for (i = 0; i < COUNT; i++) {
        float expect = 0.0f;
        for (r = 0; r < a->ndev; r++) expect += value(r, i);
        if (out[i] != expect) {
            fprintf(stderr, "rank %d: sum[%d] = %g, expected %g\n", a->rank, i, out[i], expect);
            a->failures++;
            break;
        }
    }
    /* max, in place */
    CHECK(HcclAllReduce(send, send, COUNT, HCCL_DATA_TYPE_FP32, HCCL_REDUCE_MAX, a->comm, stream));
    /* all-gather of the original values (send now holds the max: gather recv instead) */
    CHECK(aclrtMemcpyAsync(recv, bytes, host, bytes, ACL_MEMCPY_HOST_TO_DEVICE, stream));
    CHECK(HcclAllGather(recv, gather, COUNT, HCCL_DATA_TYPE_FP32, a->comm, stream));
    CHECK(HcclBarrier(a->comm, stream));
    CHECK(aclrtSynchronizeStreamWithTimeout(stream, 10000));
    CHECK(aclrtMemcpy(out, bytes, send, bytes, ACL_MEMCPY_DEVICE_TO_HOST));
    for (i = 0; i < COUNT; i++) {
        if (out[i] != value(a->ndev - 1, i)) {
            fprintf(stderr, "rank %d: max[%d] = %g\n", a->rank, i, out[i]);
            a->failures++;
            break;
        }
    }
    CHECK(aclrtMemcpy(all, bytes * a->ndev, gather, bytes * a->ndev, ACL_MEMCPY_DEVICE_TO_HOST));
    for (r = 0; r < a->ndev; r++)
        for (i = 0; i < COUNT; i++)
            if (all[r * COUNT + i] != value(r, i)) {
                fprintf(stderr, "rank %d: gather[%d][%d] = %g\n", a->rank, r, i, all[r * COUNT + i]);
                a->failures++;
                r = a->ndev;
                break;
            }
    /* broadcast from the last rank */
    CHECK(HcclBroadcast(recv, COUNT, HCCL_DATA_TYPE_FP32, (uint32_t)(a->ndev - 1), a->comm, stream));
    CHECK(aclrtSynchronizeStreamWithTimeout(stream, 10000));
    CHECK(aclrtMemcpy(out, bytes, recv, bytes, ACL_MEMCPY_DEVICE_TO_HOST));
    for (i = 0; i < COUNT; i++)
        if (out[i] != value(a->ndev - 1, i)) {
            fprintf(stderr, "rank %d: broadcast[%d] = %g\n", a->rank, i, out[i]);
            a->failures++;
            break;
        }

    CHECK(aclrtFree(send));
    CHECK(aclrtFree(recv));
    CHECK(aclrtFree(gather));
    CHECK(aclrtDestroyStream(stream));
    CHECK(HcclCommDestroy(a->comm));
    CHECK(aclrtDestroyContext(ctx));
    free(all);
    return NULL;
}

static int run(int ndev)
{
    int32_t devices[MAX_RANKS];
    HcclComm comms[MAX_RANKS];
    pthread_t threads[MAX_RANKS];
    RankArgs args[MAX_RANKS];
    int i, failures = 0;

    CHECK(aclInit(NULL));
    for (i = 0; i < ndev; i++) {
        devices[i] = i;
        CHECK(aclrtSetDevice(devices[i]));
    }
    CHECK(HcclCommInitAll((uint32_t)ndev, devices, comms));
    for (i = 0; i < ndev; i++) {
        memset(&args[i], 0, sizeof(args[i]));
        args[i].rank = i;
        args[i].ndev = ndev;
        args[i].device = devices[i];
        args[i].comm = comms[i];
        pthread_create(&threads[i], NULL, run_rank, &args[i]);
    }
    for (i = 0; i < ndev; i++) pthread_join(threads[i], NULL);
    for (i = 0; i < ndev; i++) {
        failures += args[i].failures;
        if (strcmp(args[i].name, args[0].name) != 0) {
            fprintf(stderr, "rank %d has name '%s', rank 0 '%s'\n", i, args[i].name, args[0].name);
            failures++;
        }
    }
    /* A destroyed communicator is refused. */
    if (HcclGetRankSize(comms[0], (uint32_t *)&i) != HCCL_E_PARA) {
        fprintf(stderr, "HcclGetRankSize on a destroyed comm did not return HCCL_E_PARA\n");
        failures++;
    }
    for (i = 0; i < ndev; i++) CHECK(aclrtResetDevice(devices[i]));
    CHECK(aclFinalize());
    printf("name=%s ranks=%d failures=%d capability=%u timeout_text=%s\n", args[0].name, ndev, failures,
           HcclGetCommConfigCapability(), HcclGetErrorString(HCCL_E_TIMEOUT));
    return failures ? 1 : 0;
}

static int dump_config(void)
{
    HcclCommConfig config;
    const unsigned char *p = (const unsigned char *)&config;
    size_t i;

    memset(&config, 0xAB, sizeof(config)); /* HcclCommConfigInit must overwrite every byte */
    HcclCommConfigInit(&config);
    for (i = 0; i < sizeof(config); i++) printf("%02x", p[i]);
    printf("\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "config") == 0) return dump_config();
    if (argc >= 3 && strcmp(argv[1], "run") == 0) {
        int n = atoi(argv[2]);
        if (n < 1 || n > MAX_RANKS) return 2;
        return run(n);
    }
    fprintf(stderr, "usage: %s run N | config\n", argv[0]);
    return 2;
}
