// aclnnQuantMatmulAllReduceV4 from C++: two ranks on two threads, int8 x int8 with a packed
// UINT64 (fp19) per-channel scale, FLOAT16 output, AllReduce-sum over an HCCL communicator.
// Inputs are chosen so the expected output is exact: rank r uses x1 = r + 1, x2 = 1, scale 0.5,
// so every output element is sum_r 0.5 * K * (r + 1). Returns non-zero on any mismatch.
//
// Build (against the mock of an installed aclnn-py, from any directory; clean under -Wall -Wextra -Werror;
// docs/c-programs.md):
//   g++ -std=c++17 quant_matmul_all_reduce_v4.cpp -o quant_matmul_all_reduce_v4
//       $(python -m mock_runtime cflags) $(python -m mock_runtime libs) -lpthread   (one line)
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "acl/acl.h"
#include "aclnnop/aclnn_quant_matmul_all_reduce_v4.h"
#include "hccl/hccl.h"

#define CHECK(expr, what)                                                          \
  do {                                                                             \
    auto status_ = (expr);                                                         \
    if (status_ != 0) {                                                            \
      std::printf("%s failed: %d %s\n", what, (int)status_, aclGetRecentErrMsg()); \
      return 1;                                                                    \
    }                                                                              \
  } while (0)

namespace {
constexpr int kRanks = 2;
constexpr int64_t kM = 16, kK = 32, kN = 24;

// Copy host data to a new device buffer and describe it as a contiguous ND aclTensor.
template <typename T>
int MakeTensor(const std::vector<T>& host, const std::vector<int64_t>& shape, aclDataType dtype,
               void** device, aclTensor** tensor) {
  size_t bytes = host.size() * sizeof(T);
  CHECK(aclrtMalloc(device, bytes, ACL_MEM_MALLOC_HUGE_FIRST), "aclrtMalloc");
  CHECK(aclrtMemcpy(*device, bytes, host.data(), bytes, ACL_MEMCPY_HOST_TO_DEVICE), "aclrtMemcpy");
  std::vector<int64_t> strides(shape.size(), 1);
  for (int i = (int)shape.size() - 2; i >= 0; --i) strides[i] = shape[i + 1] * strides[i + 1];
  *tensor = aclCreateTensor(shape.data(), shape.size(), dtype, strides.data(), 0, ACL_FORMAT_ND,
                            shape.data(), shape.size(), *device);
  return *tensor == nullptr;
}

float HalfToFloat(uint16_t h) {
  uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  float value = exp == 0 ? man / 1024.0f / 16384.0f
                         : (1.0f + man / 1024.0f) * (float)(1 << exp) / 32768.0f;
  return sign ? -value : value;
}

int RunRank(int rank, HcclComm comm, int* result) {
  *result = 1;
  CHECK(aclrtSetDevice(rank), "aclrtSetDevice");
  aclrtContext context = nullptr;
  CHECK(aclrtCreateContext(&context, rank), "aclrtCreateContext");
  aclrtStream stream = nullptr;
  CHECK(aclrtCreateStream(&stream), "aclrtCreateStream");
  char group[128] = {0};
  CHECK(HcclGetCommName(comm, group), "HcclGetCommName");

  std::vector<int8_t> x1(kM * kK, (int8_t)(rank + 1)), x2(kK * kN, 1);
  float half = 0.5f;
  uint32_t bits;
  std::memcpy(&bits, &half, sizeof bits);
  std::vector<uint64_t> scale(kN, (uint64_t)(bits & 0xFFFFE000u) | (1ull << 46));
  std::vector<uint16_t> out(kM * kN, 0);

  void *dx1 = nullptr, *dx2 = nullptr, *dscale = nullptr, *dout = nullptr;
  aclTensor *tx1 = nullptr, *tx2 = nullptr, *tscale = nullptr, *tout = nullptr;
  if (MakeTensor(x1, {kM, kK}, ACL_INT8, &dx1, &tx1) || MakeTensor(x2, {kK, kN}, ACL_INT8, &dx2, &tx2) ||
      MakeTensor(scale, {kN}, ACL_UINT64, &dscale, &tscale) ||
      MakeTensor(out, {kM, kN}, ACL_FLOAT16, &dout, &tout)) {
    std::printf("rank %d: creating tensors failed\n", rank);
    return 1;
  }
  uint64_t workspaceSize = 0;
  aclOpExecutor* executor = nullptr;
  CHECK(aclnnQuantMatmulAllReduceV4GetWorkspaceSize(tx1, tx2, nullptr, nullptr, nullptr, tscale, nullptr,
                                                    nullptr, group, "sum", 0, 1, 0, 0, tout,
                                                    &workspaceSize, &executor),
        "aclnnQuantMatmulAllReduceV4GetWorkspaceSize");
  void* workspace = nullptr;
  if (workspaceSize > 0) CHECK(aclrtMalloc(&workspace, workspaceSize, ACL_MEM_MALLOC_HUGE_FIRST), "aclrtMalloc");
  CHECK(aclnnQuantMatmulAllReduceV4(workspace, workspaceSize, executor, stream), "aclnnQuantMatmulAllReduceV4");
  CHECK(aclrtSynchronizeStreamWithTimeout(stream, 10000), "aclrtSynchronizeStreamWithTimeout");
  CHECK(aclrtMemcpy(out.data(), out.size() * 2, dout, out.size() * 2, ACL_MEMCPY_DEVICE_TO_HOST), "aclrtMemcpy");

  float expected = 0.0f;
  for (int r = 0; r < kRanks; ++r) expected += 0.5f * kK * (r + 1);
  float maxError = 0.0f;
  for (auto h : out) {
    float e = HalfToFloat(h) - expected;
    if (e < 0) e = -e;
    if (e > maxError) maxError = e;
  }
  std::printf("rank %d: out[0] = %g, expected %g, max error %g\n", rank, HalfToFloat(out[0]), expected, maxError);

  aclDestroyTensor(tx1); aclDestroyTensor(tx2); aclDestroyTensor(tscale); aclDestroyTensor(tout);
  aclrtFree(dx1); aclrtFree(dx2); aclrtFree(dscale); aclrtFree(dout);
  if (workspace) aclrtFree(workspace);
  aclrtDestroyStream(stream);
  aclrtDestroyContext(context);
  aclrtResetDevice(rank);
  *result = maxError == 0.0f ? 0 : 2;
  return 0;
}
}  // namespace

int main() {
  CHECK(aclInit(nullptr), "aclInit");
  int32_t devices[kRanks] = {0, 1};
  HcclComm comms[kRanks] = {};
  CHECK(HcclCommInitAll(kRanks, devices, comms), "HcclCommInitAll");
  int results[kRanks] = {1, 1};
  std::vector<std::thread> threads;
  for (int r = 0; r < kRanks; ++r) threads.emplace_back([&, r] { if (RunRank(r, comms[r], &results[r])) results[r] = 1; });
  for (auto& t : threads) t.join();
  for (int r = 0; r < kRanks; ++r) HcclCommDestroy(comms[r]);
  aclFinalize();
  for (int r = 0; r < kRanks; ++r) {
    if (results[r] != 0) {
      std::printf("FAILED on rank %d\n", r);
      return 1;
    }
  }
  std::printf("PASSED\n");
  return 0;
}
