// aclnnQuantMatmulAllReduce V1, V2 and V3 from C++ on two thread-ranks (one HcclCommInitAll, one
// context and stream per rank), the way CANN's doc samples call them. Only the three operator
// headers and acl/acl.h are included: the HCCL API comes through the operator headers, as in CANN.
//
// Inputs are small integers and powers of two, so every expected value below is exact in the
// output dtype and computed here in double precision from the documented formulas:
//   V1  FLOAT16  out = sum_r ((x1_r @ x2_r + bias_r) * dequantScale[n] + x3_r)   (UINT64 packed scale)
//   V2  BFLOAT16 out = sum_r (x1_r @ x2_r + bias_r) * dequantScale[n] * pertokenScale_r[m]
//   V3  FLOAT16  low-bit communication: q_r = rint(Y_r / c1), z = rint(sum_r q_r * c1 / c2), out = z * c2
// Then argument errors of each version: status code and the runtime's message.
// Prints one line per rank and "failures=N"; returns non-zero on any failure.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "acl/acl.h"
#include "aclnnop/aclnn_quant_matmul_all_reduce.h"
#include "aclnnop/aclnn_quant_matmul_all_reduce_v2.h"
#include "aclnnop/aclnn_quant_matmul_all_reduce_v3.h"

namespace {
constexpr int kRanks = 2;
constexpr int64_t kM = 8, kK = 16, kN = 16;
// aclnn status codes (ACLNN_ERR_PARAM_NULLPTR, ACLNN_ERR_PARAM_INVALID, ACLNN_ERR_INNER_TILING_ERROR)
constexpr aclnnStatus kNullptr = 161001, kInvalid = 161002, kTiling = 561002;

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

float HalfToFloat(uint16_t h) {
  uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  float value = exp == 0 ? std::ldexp((float)man, -24) : std::ldexp((float)(man | 0x400), (int)exp - 25);
  return sign ? -value : value;
}

uint16_t FloatToHalfExact(float f) {  // for values exactly representable in float16 (all used here)
  if (f == 0.0f) return 0;
  uint16_t sign = f < 0 ? 0x8000 : 0;
  int exp;
  float man = std::frexp(std::fabs(f), &exp);  // f = man * 2^exp, man in [0.5, 1)
  return (uint16_t)(sign | ((exp + 14) << 10) | ((uint16_t)(man * 2048.0f) & 0x3ff));
}

float Bf16ToFloat(uint16_t b) {
  uint32_t bits = (uint32_t)b << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

uint16_t FloatToBf16Exact(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return (uint16_t)(bits >> 16);
}

uint64_t PackedScale(float scale) {  // aclnnTransQuantParamV2: fp19 bits in 0..31, bit 46 set
  uint32_t bits;
  std::memcpy(&bits, &scale, sizeof bits);
  return (uint64_t)(bits & 0xFFFFE000u) | (1ull << 46);
}

// One device tensor: the host data copied to a new buffer, a contiguous ND aclTensor.
struct DeviceTensor {
  void* data = nullptr;
  aclTensor* tensor = nullptr;
  ~DeviceTensor() {
    if (tensor != nullptr) aclDestroyTensor(tensor);
    if (data != nullptr) aclrtFree(data);
  }
  template <typename T>
  int Make(const std::vector<T>& host, const std::vector<int64_t>& shape, aclDataType dtype) {
    size_t bytes = host.size() * sizeof(T);
    CHECK(aclrtMalloc(&data, bytes, ACL_MEM_MALLOC_HUGE_FIRST));
    CHECK(aclrtMemcpy(data, bytes, host.data(), bytes, ACL_MEMCPY_HOST_TO_DEVICE));
    std::vector<int64_t> strides(shape.size(), 1);
    for (int i = (int)shape.size() - 2; i >= 0; --i) strides[i] = shape[i + 1] * strides[i + 1];
    tensor = aclCreateTensor(shape.data(), shape.size(), dtype, strides.data(), 0, ACL_FORMAT_ND, shape.data(),
                             shape.size(), data);
    return tensor == nullptr;
  }
};

int X1(int r, int64_t m, int64_t k) { return (int)((m * 7 + k * 3 + r) % 3) - 1; }
int X2(int r, int64_t k, int64_t n) { return (int)((k * 5 + n + 2 * r) % 3) - 1; }
int Bias(int r, int64_t n) { return (int)(n % 4) - 1 + r; }
double Acc(int r, int64_t m, int64_t n) {  // x1_r @ x2_r + bias_r
  double acc = Bias(r, n);
  for (int64_t k = 0; k < kK; ++k) acc += X1(r, m, k) * X2(r, k, n);
  return acc;
}

struct Rank {
  int rank = 0;
  HcclComm comm = nullptr;
  aclrtStream stream = nullptr;
  char group[128] = {0};
  int failures = 0;
  std::string log;
};

// Phase 1 through `phase1`, workspace, phase 2, synchronise, copy the output back.
template <typename Phase1, typename Phase2>
int Launch(Rank& rank, Phase1 phase1, Phase2 phase2, DeviceTensor& out, std::vector<uint16_t>& host) {
  uint64_t workspaceSize = 0;
  aclOpExecutor* executor = nullptr;
  CHECK(phase1(&workspaceSize, &executor));
  void* workspace = nullptr;
  if (workspaceSize > 0) CHECK(aclrtMalloc(&workspace, workspaceSize, ACL_MEM_MALLOC_HUGE_FIRST));
  CHECK(phase2(workspace, workspaceSize, executor, rank.stream));
  CHECK(aclrtSynchronizeStreamWithTimeout(rank.stream, 60000));
  if (workspace != nullptr) CHECK(aclrtFree(workspace));
  host.assign(kM * kN, 0);
  CHECK(aclrtMemcpy(host.data(), host.size() * 2, out.data, host.size() * 2, ACL_MEMCPY_DEVICE_TO_HOST));
  return 0;
}

void Compare(Rank& rank, const char* what, const std::vector<double>& expected, const std::vector<float>& got) {
  int bad = 0, distinct = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    bad += (double)got[i] != expected[i];
    distinct += i > 0 && expected[i] != expected[i - 1];  // the data is not trivially constant
  }
  rank.failures += bad != 0 || distinct < (int)expected.size() / 2;
  char line[160];
  std::snprintf(line, sizeof line, "rank %d %s mismatches=%d of %d (%d value changes)\n", rank.rank, what, bad,
                (int)expected.size(), distinct);
  rank.log += line;
}

int RunV1(Rank& rank) {  // FLOAT16, packed UINT64 per-channel dequantScale, bias, x3
  int r = rank.rank;
  std::vector<int8_t> x1(kM * kK), x2(kK * kN);
  std::vector<int32_t> bias(kN);
  std::vector<uint64_t> scale(kN);
  std::vector<uint16_t> x3(kM * kN, FloatToHalfExact(1.5f)), out(kM * kN, 0);
  for (int64_t m = 0; m < kM; ++m)
    for (int64_t k = 0; k < kK; ++k) x1[m * kK + k] = (int8_t)X1(r, m, k);
  for (int64_t k = 0; k < kK; ++k)
    for (int64_t n = 0; n < kN; ++n) x2[k * kN + n] = (int8_t)X2(r, k, n);
  for (int64_t n = 0; n < kN; ++n) {
    bias[n] = Bias(r, n);
    scale[n] = PackedScale(n % 2 ? 0.25f : 0.5f);
  }
  DeviceTensor tx1, tx2, tbias, tscale, tx3, tout;
  CHECK(tx1.Make(x1, {kM, kK}, ACL_INT8) || tx2.Make(x2, {kK, kN}, ACL_INT8) ||
        tbias.Make(bias, {kN}, ACL_INT32) || tscale.Make(scale, {kN}, ACL_UINT64) ||
        tx3.Make(x3, {kM, kN}, ACL_FLOAT16) || tout.Make(out, {kM, kN}, ACL_FLOAT16));
  std::vector<uint16_t> host;
  CHECK(Launch(
      rank,
      [&](uint64_t* size, aclOpExecutor** executor) {
        return aclnnQuantMatmulAllReduceGetWorkspaceSize(tx1.tensor, tx2.tensor, tbias.tensor, tx3.tensor,
                                                         tscale.tensor, rank.group, "sum", 0, 1, tout.tensor,
                                                         size, executor);
      },
      aclnnQuantMatmulAllReduce, tout, host));
  std::vector<double> expected(kM * kN, 0.0);
  std::vector<float> got(kM * kN);
  for (int64_t m = 0; m < kM; ++m)
    for (int64_t n = 0; n < kN; ++n) {
      for (int q = 0; q < kRanks; ++q) expected[m * kN + n] += Acc(q, m, n) * (n % 2 ? 0.25 : 0.5) + 1.5;
      got[m * kN + n] = HalfToFloat(host[m * kN + n]);
    }
  Compare(rank, "V1", expected, got);
  return 0;
}

int RunV2(Rank& rank) {  // BFLOAT16, BFLOAT16 dequantScale, FLOAT32 pertokenScale, bias
  int r = rank.rank;
  std::vector<int8_t> x1(kM * kK), x2(kK * kN);
  std::vector<int32_t> bias(kN);
  std::vector<uint16_t> scale(kN), out(kM * kN, 0);
  std::vector<float> pertoken(kM);
  for (int64_t m = 0; m < kM; ++m) {
    pertoken[m] = m % 2 ? 1.0f : 2.0f;
    for (int64_t k = 0; k < kK; ++k) x1[m * kK + k] = (int8_t)X1(r, m, k);
  }
  for (int64_t k = 0; k < kK; ++k)
    for (int64_t n = 0; n < kN; ++n) x2[k * kN + n] = (int8_t)X2(r, k, n);
  for (int64_t n = 0; n < kN; ++n) {
    bias[n] = Bias(r, n);
    scale[n] = FloatToBf16Exact(n % 3 ? 0.5f : 1.0f);
  }
  DeviceTensor tx1, tx2, tbias, tscale, tpertoken, tout;
  CHECK(tx1.Make(x1, {kM, kK}, ACL_INT8) || tx2.Make(x2, {kK, kN}, ACL_INT8) ||
        tbias.Make(bias, {kN}, ACL_INT32) || tscale.Make(scale, {1, kN}, ACL_BF16) ||
        tpertoken.Make(pertoken, {kM}, ACL_FLOAT) || tout.Make(out, {kM, kN}, ACL_BF16));
  std::vector<uint16_t> host;
  CHECK(Launch(
      rank,
      [&](uint64_t* size, aclOpExecutor** executor) {
        return aclnnQuantMatmulAllReduceV2GetWorkspaceSize(tx1.tensor, tx2.tensor, tbias.tensor, nullptr,
                                                           tscale.tensor, tpertoken.tensor, rank.group, "sum", 0,
                                                           1, tout.tensor, size, executor);
      },
      aclnnQuantMatmulAllReduceV2, tout, host));
  std::vector<double> expected(kM * kN, 0.0);
  std::vector<float> got(kM * kN);
  for (int64_t m = 0; m < kM; ++m)
    for (int64_t n = 0; n < kN; ++n) {
      for (int q = 0; q < kRanks; ++q) expected[m * kN + n] += Acc(q, m, n) * (n % 3 ? 0.5 : 1.0) * (m % 2 ? 1.0 : 2.0);
      got[m * kN + n] = Bf16ToFloat(host[m * kN + n]);
    }
  Compare(rank, "V2", expected, got);
  return 0;
}

int RunV3(Rank& rank, int* differsFromPlain) {  // FLOAT16, pertoken, low-bit communication
  int r = rank.rank;
  std::vector<int8_t> x1(kM * kK), x2(kK * kN);
  std::vector<int32_t> bias(kN);
  std::vector<float> scale(kN), pertoken(kM);
  std::vector<uint16_t> c1(kN, FloatToHalfExact(0.5f)), c2(kN, FloatToHalfExact(2.0f)), out(kM * kN, 0);
  for (int64_t m = 0; m < kM; ++m) {
    pertoken[m] = m % 2 ? 1.0f : 0.5f;
    for (int64_t k = 0; k < kK; ++k) x1[m * kK + k] = (int8_t)X1(r, m, k);
  }
  for (int64_t k = 0; k < kK; ++k)
    for (int64_t n = 0; n < kN; ++n) x2[k * kN + n] = (int8_t)X2(r, k, n);
  for (int64_t n = 0; n < kN; ++n) {
    bias[n] = Bias(r, n);
    scale[n] = n % 2 ? 2.0f : 1.0f;
  }
  DeviceTensor tx1, tx2, tbias, tscale, tpertoken, tc1, tc2, tout;
  CHECK(tx1.Make(x1, {kM, kK}, ACL_INT8) || tx2.Make(x2, {kK, kN}, ACL_INT8) ||
        tbias.Make(bias, {kN}, ACL_INT32) || tscale.Make(scale, {kN}, ACL_FLOAT) ||
        tpertoken.Make(pertoken, {kM}, ACL_FLOAT) || tc1.Make(c1, {kN}, ACL_FLOAT16) ||
        tc2.Make(c2, {kN}, ACL_FLOAT16) || tout.Make(out, {kM, kN}, ACL_FLOAT16));
  std::vector<uint16_t> host;
  CHECK(Launch(
      rank,
      [&](uint64_t* size, aclOpExecutor** executor) {
        return aclnnQuantMatmulAllReduceV3GetWorkspaceSize(tx1.tensor, tx2.tensor, tbias.tensor, nullptr,
                                                           tscale.tensor, tpertoken.tensor, tc1.tensor, tc2.tensor,
                                                           rank.group, "sum", 0, 1, tout.tensor, size, executor);
      },
      aclnnQuantMatmulAllReduceV3, tout, host));
  std::vector<double> expected(kM * kN, 0.0);
  std::vector<float> got(kM * kN);
  *differsFromPlain = 0;
  for (int64_t m = 0; m < kM; ++m)
    for (int64_t n = 0; n < kN; ++n) {
      double sum = 0.0, plain = 0.0;
      for (int q = 0; q < kRanks; ++q) {
        double y = Acc(q, m, n) * (n % 2 ? 2.0 : 1.0) * (m % 2 ? 1.0 : 0.5);  // Y_q, exact in float16
        sum += std::nearbyint(y / 0.5);                                        // q_q = int8(rint(Y_q / c1))
        plain += y;
      }
      expected[m * kN + n] = std::nearbyint(sum * (0.5 / 2.0)) * 2.0;  // z = rint(S * c1 / c2); out = z * c2
      got[m * kN + n] = HalfToFloat(host[m * kN + n]);
      *differsFromPlain += expected[m * kN + n] != plain;
    }
  Compare(rank, "V3", expected, got);
  return 0;
}

// Phase 1 must fail with `code` and a message containing `fragment`.
void ExpectError(Rank& rank, const char* what, aclnnStatus status, aclnnStatus code, const char* fragment) {
  const char* message = aclGetRecentErrMsg();
  bool ok = status == code && message != nullptr && std::strstr(message, fragment) != nullptr;
  rank.failures += !ok;
  char line[512];
  std::snprintf(line, sizeof line, "rank %d %s status=%d %s: %s\n", rank.rank, what, (int)status,
                ok ? "ok" : "WRONG", message ? message : "(no message)");
  rank.log += line;
}

int RunErrors(Rank& rank) {
  std::vector<int8_t> x1(kM * kK, 1), x2(kK * kN, 1);
  std::vector<float> scale(kN, 1.0f);
  std::vector<uint16_t> c1(kN, FloatToHalfExact(1.0f)), out(kM * kN, 0);
  DeviceTensor tx1, tx2, tscale, tc1, tout;
  CHECK(tx1.Make(x1, {kM, kK}, ACL_INT8) || tx2.Make(x2, {kK, kN}, ACL_INT8) ||
        tscale.Make(scale, {kN}, ACL_FLOAT) || tc1.Make(c1, {kN}, ACL_FLOAT16) ||
        tout.Make(out, {kM, kN}, ACL_FLOAT16));
  uint64_t size = 0;
  aclOpExecutor* executor = nullptr;
  // V1's aclnn layer takes a FLOAT dequantScale (its code shares V2's list); its tiling refuses it without
  // a pertokenScale, which V1 cannot pass
  ExpectError(rank, "V1 FLOAT dequantScale",
              aclnnQuantMatmulAllReduceGetWorkspaceSize(tx1.tensor, tx2.tensor, nullptr, nullptr, tscale.tensor,
                                                        rank.group, "sum", 0, 1, tout.tensor, &size, &executor),
              kTiling, "dequantScale dtype FLOAT is not supported for INT8 x1 and FLOAT16 output without a "
                       "per-token scale");
  ExpectError(rank, "V2 null dequantScale",
              aclnnQuantMatmulAllReduceV2GetWorkspaceSize(tx1.tensor, tx2.tensor, nullptr, nullptr, nullptr, nullptr,
                                                          rank.group, "sum", 0, 1, tout.tensor, &size, &executor),
              kNullptr, "dequantScale is a null pointer");
  ExpectError(rank, "V2 FLOAT dequantScale without pertokenScale",
              aclnnQuantMatmulAllReduceV2GetWorkspaceSize(tx1.tensor, tx2.tensor, nullptr, nullptr, tscale.tensor,
                                                          nullptr, rank.group, "sum", 0, 1, tout.tensor, &size,
                                                          &executor),
              kTiling, "without pertokenScale: expected UINT64 or INT64");
  ExpectError(rank, "V3 one commQuantScale",
              aclnnQuantMatmulAllReduceV3GetWorkspaceSize(tx1.tensor, tx2.tensor, nullptr, nullptr, tscale.tensor,
                                                          nullptr, tc1.tensor, nullptr, rank.group, "sum", 0, 1,
                                                          tout.tensor, &size, &executor),
              kInvalid, "commQuantScale1 and commQuantScale2 must both be null or both be given");
  ExpectError(rank, "V3 reduceOp",
              aclnnQuantMatmulAllReduceV3GetWorkspaceSize(tx1.tensor, tx2.tensor, nullptr, nullptr, tscale.tensor,
                                                          nullptr, nullptr, nullptr, rank.group, "summ", 0, 1,
                                                          tout.tensor, &size, &executor),
              kInvalid, "reduceOp \"summ\" is not supported");
  return 0;
}

void RunRank(Rank* rank, int* differsFromPlain) {
  aclrtContext context = nullptr;
  if (aclrtSetDevice(rank->rank) != 0 || aclrtCreateContext(&context, rank->rank) != 0 ||
      aclrtCreateStream(&rank->stream) != 0 || HcclGetCommName(rank->comm, rank->group) != 0) {
    rank->failures += 1;
    return;
  }
  rank->failures += RunV1(*rank) + RunV2(*rank) + RunV3(*rank, differsFromPlain) + RunErrors(*rank);
  rank->failures += aclrtDestroyStream(rank->stream) != 0;
  rank->failures += HcclCommDestroy(rank->comm) != 0;
  rank->failures += aclrtDestroyContext(context) != 0;
  rank->failures += aclrtResetDevice(rank->rank) != 0;
}
}  // namespace

int main() {
  if (aclInit(nullptr) != 0) return 1;
  int32_t devices[kRanks];
  HcclComm comms[kRanks];
  for (int i = 0; i < kRanks; ++i) {
    devices[i] = i;
    if (aclrtSetDevice(i) != 0) return 1;
  }
  if (HcclCommInitAll(kRanks, devices, comms) != HCCL_SUCCESS) return 1;
  Rank ranks[kRanks];
  int differs[kRanks] = {0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kRanks; ++i) {
    ranks[i].rank = i;
    ranks[i].comm = comms[i];
    threads.emplace_back(RunRank, &ranks[i], &differs[i]);
  }
  int failures = 0;
  for (int i = 0; i < kRanks; ++i) {
    threads[i].join();
    std::fputs(ranks[i].log.c_str(), stdout);
    failures += ranks[i].failures;
  }
  for (int i = 0; i < kRanks; ++i) failures += aclrtResetDevice(i) != 0;
  std::printf("v3 low-bit differs from a plain all-reduce at %d elements\n", differs[0]);
  failures += aclFinalize() != 0;
  std::printf("failures=%d\n", failures);
  return failures != 0;
}
