/* Inputs the operator rules cannot accept get a documented status code and a message naming the
 * parameter at GetWorkspaceSize (never an internal error at synchronize), through the C ABI only.
 * The cases follow the SoC the runtime reports (ACLNN_MOCK_SOC on the mock): Atlas A2 or Ascend 950. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "acl/acl.h"
#include "aclnn/aclnn_base.h"
#include "aclnn/opdev/op_errno.h"
#include "aclnnop/aclnn_grouped_matmul_v5.h"
#include "aclnnop/aclnn_quant_matmul_all_reduce_v4.h"

#define EXPECT(cond, ...)                            \
    do {                                             \
        if (!(cond)) {                               \
            printf("FAIL line %d: ", __LINE__);      \
            printf(__VA_ARGS__);                     \
            printf("\n");                            \
            return 1;                                \
        }                                            \
    } while (0)

#define MAX_DIMS 4
#define BIG_STRIDE ((int64_t)1 << 62)

static void *g_dev;                   /* one device buffer the metadata-only tensors point into */
static const uint64_t g_dev_bytes = 1 << 16;

/* A tensor over ``data`` (g_dev when NULL); contiguous strides unless ``strides`` is given. */
static aclTensor *tensor(uint64_t ndim, const int64_t *dims, aclDataType dtype, const int64_t *strides, void *data) {
    int64_t st[MAX_DIMS];
    int64_t step = 1;
    for (uint64_t i = ndim; i-- > 0;) {
        st[i] = step;
        step *= dims[i] > 0 ? dims[i] : 1;
    }
    return aclCreateTensor(dims, ndim, dtype, strides ? strides : st, 0, ACL_FORMAT_ND, dims, ndim,
                           data ? data : g_dev);
}

static aclTensorList *list1(aclTensor *t) { return aclCreateTensorList((const aclTensor *const *)&t, 1); }

static aclTensorList *list2(aclTensor *a, aclTensor *b) {
    aclTensor *items[2] = {a, b};
    return aclCreateTensorList((const aclTensor *const *)items, 2);
}

static aclTensorList *empty_list(void) { return aclCreateTensorList(NULL, 0); }

static void destroy_lists(aclTensorList **lists, int n) {
    for (int i = 0; i < n; ++i) {
        if (lists[i]) aclDestroyTensorList(lists[i]);
    }
}

/* Phase 1 of GroupedMatmulV5 with the lists given (NULL = nullptr); returns the status. */
static aclnnStatus grouped_matmul(aclTensorList *x, aclTensorList *w, aclTensorList *bias, aclTensorList *scale,
                       aclTensorList *aq_scale, aclTensor *group_list, int64_t split_item, int64_t group_type,
                       aclTensorList *out, uint64_t *ws, aclOpExecutor **ex) {
    return aclnnGroupedMatmulV5GetWorkspaceSize(x, w, bias, scale, NULL, aq_scale, NULL, NULL, group_list, NULL,
                                                NULL, NULL, split_item, group_type, 0, 0, NULL, out, NULL, NULL,
                                                ws, ex);
}

static int message_has(const char *fragment) {
    const char *msg = aclGetRecentErrMsg();
    if (msg == NULL || strstr(msg, fragment) == NULL) {
        printf("message: %s\n", msg ? msg : "(null)");
        return 0;
    }
    return 1;
}

static int a2_cases(aclrtStream stream) {
    uint64_t ws = 0;
    aclOpExecutor *ex = NULL;
    const int64_t M = 4, K = 8, N = 16;
    int64_t x_dims[2] = {M, K}, w_dims[3] = {1, K, N}, out_dims[2] = {M, N}, bias_dims[2] = {1, N};
    int64_t gl_dims[1] = {1};

    /* 1. an empty bias list counts as no bias: CANN's op_api resets it to nullptr before any check */
    aclTensorList *l[6] = {list1(tensor(2, x_dims, ACL_FLOAT, NULL, NULL)),
                           list1(tensor(3, w_dims, ACL_FLOAT, NULL, NULL)), empty_list(),
                           list1(tensor(2, out_dims, ACL_FLOAT, NULL, NULL)), NULL, NULL};
    aclTensor *gl = tensor(1, gl_dims, ACL_INT64, NULL, NULL);
    aclnnStatus st = grouped_matmul(l[0], l[1], l[2], NULL, NULL, gl, 3, 0, l[3], &ws, &ex);
    EXPECT(st == ACLNN_SUCCESS, "empty bias list returned %d", st);
    EXPECT(aclDestroyAclOpExecutor(ex) == ACLNN_SUCCESS, "destroy the executor of the empty bias list call");
    destroy_lists(l, 4);

    /* 2. an empty antiquantScale list against two weights (A16W8 per tensor): no antiquantScale */
    int64_t wl_dims[2] = {K, N};
    l[0] = list2(tensor(2, x_dims, ACL_FLOAT16, NULL, NULL), tensor(2, x_dims, ACL_FLOAT16, NULL, NULL));
    l[1] = list2(tensor(2, wl_dims, ACL_INT8, NULL, NULL), tensor(2, wl_dims, ACL_INT8, NULL, NULL));
    l[2] = empty_list();
    l[3] = list2(tensor(2, out_dims, ACL_FLOAT16, NULL, NULL), tensor(2, out_dims, ACL_FLOAT16, NULL, NULL));
    st = grouped_matmul(l[0], l[1], NULL, NULL, l[2], NULL, 0, -1, l[3], &ws, &ex);
    EXPECT(st == ACLNN_ERR_PARAM_INVALID, "empty antiquantScale list returned %d", st);
    EXPECT(message_has("a weight-only quantized weight also needs antiquantScale"), "empty antiquantScale message");
    destroy_lists(l, 4);

    /* 3. a 0-d out */
    l[0] = list1(tensor(2, x_dims, ACL_FLOAT, NULL, NULL));
    l[1] = list1(tensor(3, w_dims, ACL_FLOAT, NULL, NULL));
    l[2] = list1(tensor(0, NULL, ACL_FLOAT, NULL, NULL));
    st = grouped_matmul(l[0], l[1], NULL, NULL, NULL, gl, 3, 0, l[2], &ws, &ex);
    EXPECT(st == ACLNN_ERR_PARAM_INVALID, "0-d out returned %d", st);
    EXPECT(message_has("out[0] must have at least 2 dims"), "0-d out message");
    destroy_lists(l, 3);

    /* 4. A16W8 with a 0-d antiquantScale */
    int64_t w8_dims[3] = {1, K, N};
    l[0] = list1(tensor(2, x_dims, ACL_FLOAT16, NULL, NULL));
    l[1] = list1(tensor(3, w8_dims, ACL_INT8, NULL, NULL));
    l[2] = list1(tensor(0, NULL, ACL_FLOAT16, NULL, NULL));
    l[3] = list1(tensor(2, out_dims, ACL_FLOAT16, NULL, NULL));
    st = grouped_matmul(l[0], l[1], NULL, NULL, l[2], gl, 3, 0, l[3], &ws, &ex);
    EXPECT(st == ACLNN_ERR_PARAM_INVALID, "0-d antiquantScale returned %d", st);
    EXPECT(message_has("antiquantScaleOptional shape [] is not supported"), "0-d antiquantScale message");
    destroy_lists(l, 4);
    aclDestroyTensor(gl);

    /* 5. size-1 dims with an extreme stride (never stepped along): accepted, and computed right */
    float x_host[1 * 8], w_host[8 * 16], bias_host[16], out_host[16];
    int64_t one_group[1] = {1};
    for (int i = 0; i < 8; ++i) x_host[i] = 1.0f;
    for (int i = 0; i < 8 * 16; ++i) w_host[i] = 1.0f;
    for (int i = 0; i < 16; ++i) bias_host[i] = (float)i;
    void *xd, *wd, *bd, *od, *gd;
    EXPECT(aclrtMalloc(&xd, sizeof x_host, ACL_MEM_MALLOC_HUGE_FIRST) == 0, "malloc x");
    EXPECT(aclrtMalloc(&wd, sizeof w_host, ACL_MEM_MALLOC_HUGE_FIRST) == 0, "malloc w");
    EXPECT(aclrtMalloc(&bd, sizeof bias_host, ACL_MEM_MALLOC_HUGE_FIRST) == 0, "malloc bias");
    EXPECT(aclrtMalloc(&od, sizeof out_host, ACL_MEM_MALLOC_HUGE_FIRST) == 0, "malloc out");
    EXPECT(aclrtMalloc(&gd, sizeof one_group, ACL_MEM_MALLOC_HUGE_FIRST) == 0, "malloc group list");
    EXPECT(aclrtMemcpy(xd, sizeof x_host, x_host, sizeof x_host, ACL_MEMCPY_HOST_TO_DEVICE) == 0, "h2d x");
    EXPECT(aclrtMemcpy(wd, sizeof w_host, w_host, sizeof w_host, ACL_MEMCPY_HOST_TO_DEVICE) == 0, "h2d w");
    EXPECT(aclrtMemcpy(bd, sizeof bias_host, bias_host, sizeof bias_host, ACL_MEMCPY_HOST_TO_DEVICE) == 0, "h2d b");
    EXPECT(aclrtMemcpy(gd, sizeof one_group, one_group, sizeof one_group, ACL_MEMCPY_HOST_TO_DEVICE) == 0, "h2d gl");
    int64_t x1_dims[2] = {1, K}, x1_strides[2] = {BIG_STRIDE, 1}, b_strides[2] = {BIG_STRIDE, 1};
    int64_t o1_dims[2] = {1, N};
    l[0] = list1(tensor(2, x1_dims, ACL_FLOAT, x1_strides, xd));
    l[1] = list1(tensor(3, w_dims, ACL_FLOAT, NULL, wd));
    l[2] = list1(tensor(2, bias_dims, ACL_FLOAT, b_strides, bd));
    l[3] = list1(tensor(2, o1_dims, ACL_FLOAT, NULL, od));
    gl = tensor(1, gl_dims, ACL_INT64, NULL, gd);
    st = grouped_matmul(l[0], l[1], l[2], NULL, NULL, gl, 3, 0, l[3], &ws, &ex);
    EXPECT(st == ACLNN_SUCCESS, "extreme size-1 strides rejected: %d %s", st, aclGetRecentErrMsg());
    void *workspace = NULL;
    EXPECT(aclrtMalloc(&workspace, ws, ACL_MEM_MALLOC_HUGE_FIRST) == 0, "malloc workspace");
    EXPECT(aclnnGroupedMatmulV5(workspace, ws, ex, stream) == ACLNN_SUCCESS, "execute");
    aclError sync = aclrtSynchronizeStream(stream);
    EXPECT(sync == ACL_SUCCESS, "synchronize returned %d: %s", sync, aclGetRecentErrMsg());
    EXPECT(aclrtMemcpy(out_host, sizeof out_host, od, sizeof out_host, ACL_MEMCPY_DEVICE_TO_HOST) == 0, "d2h");
    for (int n = 0; n < 16; ++n) EXPECT(out_host[n] == 8.0f + (float)n, "out[%d] = %f", n, out_host[n]);
    destroy_lists(l, 4);
    aclDestroyTensor(gl);
    void *bufs[6] = {xd, wd, bd, od, gd, workspace};
    for (int i = 0; i < 6; ++i) EXPECT(aclrtFree(bufs[i]) == 0, "free %d", i);
    return 0;
}

static int a950_cases(void) {
    uint64_t ws = 0;
    aclOpExecutor *ex = NULL;
    /* QuantMatmulAllReduceV4, FP8 with a 0-d FLOAT32 x1Scale and a 2-D FLOAT32 x2Scale */
    int64_t x1_dims[2] = {8, 256}, x2_dims[2] = {256, 16}, s2_dims[2] = {2, 1}, out_dims[2] = {8, 16};
    aclTensor *x1 = tensor(2, x1_dims, ACL_FLOAT8_E4M3FN, NULL, NULL);
    aclTensor *x2 = tensor(2, x2_dims, ACL_FLOAT8_E4M3FN, NULL, NULL);
    aclTensor *s1 = tensor(0, NULL, ACL_FLOAT, NULL, NULL);
    aclTensor *s2 = tensor(2, s2_dims, ACL_FLOAT, NULL, NULL);
    aclTensor *out = tensor(2, out_dims, ACL_BF16, NULL, NULL);
    aclnnStatus st = aclnnQuantMatmulAllReduceV4GetWorkspaceSize(x1, x2, NULL, NULL, s1, s2, NULL, NULL, "group",
                                                                 "sum", 0, 1, 0, 0, out, &ws, &ex);
    EXPECT(st == ACLNN_ERR_INNER_TILING_ERROR, "0-d x1Scale returned %d", st);
    EXPECT(message_has("x1Scale [] with x2Scale [2, 1] is not supported"), "0-d x1Scale message");
    aclTensor *all[5] = {x1, x2, s1, s2, out};
    for (int i = 0; i < 5; ++i) aclDestroyTensor(all[i]);
    return 0;
}

int main(void) {
    EXPECT(aclInit(NULL) == ACL_SUCCESS, "aclInit");
    const char *soc = aclrtGetSocName();
    EXPECT(soc != NULL, "aclrtGetSocName");
    const char *mode = strncmp(soc, "Ascend950", 9) == 0 ? "950" : "a2";
    EXPECT(aclrtSetDevice(0) == ACL_SUCCESS, "aclrtSetDevice");
    aclrtStream stream = NULL;
    EXPECT(aclrtCreateStream(&stream) == ACL_SUCCESS, "aclrtCreateStream");
    EXPECT(aclrtMalloc(&g_dev, g_dev_bytes, ACL_MEM_MALLOC_HUGE_FIRST) == ACL_SUCCESS, "aclrtMalloc");
    int failed = strcmp(mode, "a2") == 0 ? a2_cases(stream) : a950_cases();
    if (failed) return failed;
    EXPECT(aclrtFree(g_dev) == ACL_SUCCESS, "free");
    EXPECT(aclrtDestroyStream(stream) == ACL_SUCCESS, "destroy stream");
    EXPECT(aclrtResetDevice(0) == ACL_SUCCESS, "reset device");
    EXPECT(aclFinalize() == ACL_SUCCESS, "aclFinalize (strict: nothing leaked)");
    printf("documented codes ok (%s)\n", mode);
    return 0;
}
