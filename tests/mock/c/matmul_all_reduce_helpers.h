// Helpers of the MatmulAllReduce-family test programs (quant_matmul_all_reduce_v123.cpp,
// matmul_all_reduce_family.cpp): CANN's doc-sample style -- one HcclCommInitAll, one thread per
// rank with its own context and stream -- with checked calls, exact 16-bit conversions of the
// small values the programs use, device tensors that free themselves and the per-rank report.
// Include after acl/acl.h and the operator headers (HcclComm, aclnnStatus, aclOpExecutor).
#ifndef TESTS_MOCK_C_MATMUL_ALL_REDUCE_HELPERS_H
#define TESTS_MOCK_C_MATMUL_ALL_REDUCE_HELPERS_H

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

// aclnn status codes (ACLNN_ERR_PARAM_NULLPTR, ACLNN_ERR_PARAM_INVALID, ACLNN_ERR_INNER,
// ACLNN_ERR_INNER_TILING_ERROR)
constexpr aclnnStatus kNullptr = 161001, kInvalid = 161002, kInner = 561000, kTiling = 561002;

#define CHECK(expr)                                                                                  \
  do {                                                                                               \
    long status_ = (long)(expr);                                                                     \
    if (status_ != 0) {                                                                              \
      const char* message_ = aclGetRecentErrMsg();                                                   \
      std::printf("%s:%d: %s failed: %ld %s\n", __FILE__, __LINE__, #expr, status_,                 \
                  message_ ? message_ : "");                                                         \
      return 1;                                                                                      \
    }                                                                                                \
  } while (0)

inline float HalfToFloat(uint16_t h) {
  uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  float value = exp == 0 ? std::ldexp((float)man, -24) : std::ldexp((float)(man | 0x400), (int)exp - 25);
  return sign ? -value : value;
}

inline uint16_t FloatToHalfExact(float f) {  // for values exactly representable in float16 (all used here)
  if (f == 0.0f) return 0;
  uint16_t sign = f < 0 ? 0x8000 : 0;
  int exp;
  float man = std::frexp(std::fabs(f), &exp);  // f = man * 2^exp, man in [0.5, 1)
  return (uint16_t)(sign | ((exp + 14) << 10) | ((uint16_t)(man * 2048.0f) & 0x3ff));
}

inline float Bf16ToFloat(uint16_t b) {
  uint32_t bits = (uint32_t)b << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

inline uint16_t FloatToBf16Exact(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return (uint16_t)(bits >> 16);
}

inline uint64_t PackedScale(float scale) {  // aclnnTransQuantParamV2: fp19 bits in 0..31, bit 46 set
  uint32_t bits;
  std::memcpy(&bits, &scale, sizeof bits);
  return (uint64_t)(bits & 0xFFFFE000u) | (1ull << 46);
}

// One device tensor: the host data copied to a new buffer, an ND aclTensor of `shape` (contiguous,
// or with the given strides: a view of the buffer).
struct DeviceTensor {
  void* data = nullptr;
  aclTensor* tensor = nullptr;
  ~DeviceTensor() {
    if (tensor != nullptr) aclDestroyTensor(tensor);
    if (data != nullptr) aclrtFree(data);
  }
  template <typename T>
  int Make(const std::vector<T>& host, const std::vector<int64_t>& shape, aclDataType dtype,
           std::vector<int64_t> strides = {}) {
    return MakeBytes(host.data(), host.size() * sizeof(T), shape, dtype, strides);
  }
  int MakeBytes(const void* host, size_t bytes, const std::vector<int64_t>& shape, aclDataType dtype,
                std::vector<int64_t> strides = {}) {
    CHECK(aclrtMalloc(&data, bytes, ACL_MEM_MALLOC_HUGE_FIRST));
    CHECK(aclrtMemcpy(data, bytes, host, bytes, ACL_MEMCPY_HOST_TO_DEVICE));
    std::vector<int64_t> storage = shape;  // contiguous: the storage is the view
    if (strides.empty()) {
      strides.assign(shape.size(), 1);
      for (int i = (int)shape.size() - 2; i >= 0; --i) strides[i] = shape[i + 1] * strides[i + 1];
    } else {  // a strided view: a 1-D storage holding its elements
      storage = {1};
      for (size_t i = 0; i < shape.size(); ++i) storage[0] += (shape[i] - 1) * strides[i];
    }
    tensor = aclCreateTensor(shape.data(), shape.size(), dtype, strides.data(), 0, ACL_FORMAT_ND, storage.data(),
                             storage.size(), data);
    return tensor == nullptr;
  }
};

struct Rank {
  int rank = 0;
  HcclComm comm = nullptr;
  aclrtStream stream = nullptr;
  char group[128] = {0};
  int failures = 0;
  std::string log;
};

// Phase 1 through `phase1`, workspace, phase 2, synchronise, copy `count` 16-bit output values back.
template <typename Phase1, typename Phase2>
int Launch(Rank& rank, Phase1 phase1, Phase2 phase2, DeviceTensor& out, std::vector<uint16_t>& host, size_t count) {
  uint64_t workspaceSize = 0;
  aclOpExecutor* executor = nullptr;
  CHECK(phase1(&workspaceSize, &executor));
  void* workspace = nullptr;
  if (workspaceSize > 0) CHECK(aclrtMalloc(&workspace, workspaceSize, ACL_MEM_MALLOC_HUGE_FIRST));
  CHECK(phase2(workspace, workspaceSize, executor, rank.stream));
  CHECK(aclrtSynchronizeStreamWithTimeout(rank.stream, 60000));
  if (workspace != nullptr) CHECK(aclrtFree(workspace));
  host.assign(count, 0);
  CHECK(aclrtMemcpy(host.data(), host.size() * 2, out.data, host.size() * 2, ACL_MEMCPY_DEVICE_TO_HOST));
  return 0;
}

// Every value exact, and the data not trivially constant.
inline void Compare(Rank& rank, const char* what, const std::vector<double>& expected, const std::vector<float>& got) {
  int bad = 0, distinct = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    bad += (double)got[i] != expected[i];
    distinct += i > 0 && expected[i] != expected[i - 1];
  }
  rank.failures += bad != 0 || distinct < (int)expected.size() / 2;
  char line[160];
  std::snprintf(line, sizeof line, "rank %d %s mismatches=%d of %d (%d value changes)\n", rank.rank, what, bad,
                (int)expected.size(), distinct);
  rank.log += line;
}

// A call must fail with `code` and a message containing `fragment`.
inline void ExpectError(Rank& rank, const char* what, aclnnStatus status, aclnnStatus code, const char* fragment) {
  const char* message = aclGetRecentErrMsg();
  bool ok = status == code && message != nullptr && std::strstr(message, fragment) != nullptr;
  rank.failures += !ok;
  char line[512];
  std::snprintf(line, sizeof line, "rank %d %s status=%d %s: %s\n", rank.rank, what, (int)status,
                ok ? "ok" : "WRONG", message ? message : "(no message)");
  rank.log += line;
}

// The doc samples' frame: aclInit, HcclCommInitAll over `ranks` devices, one thread per rank
// (its device, context, stream and communicator name set up, `body(rank)` run, everything
// released), each rank's log printed in rank order, aclFinalize. Returns the failures.
template <typename Body>
int RunThreadRanks(int ranks, Body body) {
  if (aclInit(nullptr) != 0) return 1;
  std::vector<int32_t> devices(ranks);
  std::vector<HcclComm> comms(ranks);
  for (int i = 0; i < ranks; ++i) {
    devices[i] = i;
    if (aclrtSetDevice(i) != 0) return 1;
  }
  if (HcclCommInitAll(ranks, devices.data(), comms.data()) != HCCL_SUCCESS) return 1;
  std::vector<Rank> state(ranks);
  std::vector<std::thread> threads;
  for (int i = 0; i < ranks; ++i) {
    state[i].rank = i;
    state[i].comm = comms[i];
    threads.emplace_back([&body](Rank* rank) {
      aclrtContext context = nullptr;
      if (aclrtSetDevice(rank->rank) != 0 || aclrtCreateContext(&context, rank->rank) != 0 ||
          aclrtCreateStream(&rank->stream) != 0 || HcclGetCommName(rank->comm, rank->group) != 0) {
        rank->failures += 1;
        return;
      }
      rank->failures += body(*rank);
      rank->failures += aclrtDestroyStream(rank->stream) != 0;
      rank->failures += HcclCommDestroy(rank->comm) != 0;
      rank->failures += aclrtDestroyContext(context) != 0;
      rank->failures += aclrtResetDevice(rank->rank) != 0;
    }, &state[i]);
  }
  int failures = 0;
  for (int i = 0; i < ranks; ++i) {
    threads[i].join();
    std::fputs(state[i].log.c_str(), stdout);
    failures += state[i].failures;
  }
  for (int i = 0; i < ranks; ++i) failures += aclrtResetDevice(i) != 0;
  failures += aclFinalize() != 0;
  return failures;
}

#endif
