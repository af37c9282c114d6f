// aclnnMatmulAllReduce V1-V3, aclnnWeightQuantMatmulAllReduce V1-V2 and aclnnQuantMatmulAllReduceV5
// from C++ on two thread-ranks (one HcclCommInitAll, one context and stream per rank), the way
// CANN's doc samples call them. Only the operator headers and acl/acl.h are included: the HCCL API
// comes through the operator headers, as in CANN.
//
// Inputs are small integers and powers of two, so every expected value below is exact in the
// output dtype and computed here in double precision from the documented formulas:
//   MatmulAllReduce     FLOAT16  out = sum_r (x1_r @ x2_r + bias_r)
//   MatmulAllReduceV2   BFLOAT16 out = sum_r (x1_r @ x2_r + bias_r + x3_r)
//   MatmulAllReduceV3   FLOAT16  out = sum_r (x1_r @ x2_r + x3_r), x2 a transposed view, commMode "ai_cpu"
//   WeightQuant...      FLOAT16  out = sum_r (x1_r @ ((w_r + offset[n]) * scale[n]) + bias_r)   (INT8 w)
//   WeightQuant...V2    BFLOAT16 out = sum_r x1_r @ (w_r * scale[k / 32][n])   (INT4 w, per group of 32 rows of k)
//   QuantMatmul...V5    FLOAT16  out = sum_r (x1_r @ x2_r + bias_r) * dequantScale[n]   (INT8, UINT64 scale)
// Then argument errors of the new entry points: status code and the runtime's message.
// Prints one line per rank and check, and "failures=N"; returns non-zero on any failure.
#include <cstdint>
#include <cstdio>
#include <vector>

#include "acl/acl.h"
#include "aclnnop/aclnn_matmul_all_reduce.h"
#include "aclnnop/aclnn_matmul_all_reduce_v2.h"
#include "aclnnop/aclnn_matmul_all_reduce_v3.h"
#include "aclnnop/aclnn_quant_matmul_all_reduce_v5.h"
#include "aclnnop/aclnn_weight_quant_matmul_all_reduce.h"
#include "aclnnop/aclnn_weight_quant_matmul_all_reduce_v2.h"
#include "matmul_all_reduce_helpers.h"

namespace {
constexpr int kRanks = 2;
constexpr int64_t kM = 8, kK = 64, kN = 64, kGroup = 32;  // Ascend 950: per-group INT4 k, n multiples of 64

int X1(int r, int64_t m, int64_t k) { return (int)((m * 7 + k * 3 + r) % 3) - 1; }
int X2(int r, int64_t k, int64_t n) { return (int)((k * 5 + n + 2 * r) % 3) - 1; }
int Bias(int r, int64_t n) { return (int)(n % 4) - 1 + r; }
double Offset(int64_t n) { return n % 2 ? -1.0 : 1.0; }
double ChannelScale(int64_t n) { return n % 3 ? 0.5 : 0.25; }
double GroupScale(int64_t g, int64_t n) { return (g + n) % 2 ? 0.5 : 1.0; }

// sum_k x1_r[m, k] * weight(k), the weight of column n given as a function of k
template <typename Weight>
double Dot(int r, int64_t m, Weight weight) {
  double acc = 0;
  for (int64_t k = 0; k < kK; ++k) acc += X1(r, m, k) * weight(k);
  return acc;
}

std::vector<uint16_t> X1Half(int r, bool bf16) {
  std::vector<uint16_t> x1(kM * kK);
  for (int64_t m = 0; m < kM; ++m)
    for (int64_t k = 0; k < kK; ++k)
      x1[m * kK + k] = bf16 ? FloatToBf16Exact((float)X1(r, m, k)) : FloatToHalfExact((float)X1(r, m, k));
  return x1;
}

// Expected (sum over ranks of value(r, m, n)) and the device output read as float, compared.
template <typename Value>
void Check(Rank& rank, const char* what, const std::vector<uint16_t>& host, bool bf16, Value value) {
  std::vector<double> expected(kM * kN, 0.0);
  std::vector<float> got(kM * kN);
  for (int64_t m = 0; m < kM; ++m)
    for (int64_t n = 0; n < kN; ++n) {
      for (int q = 0; q < kRanks; ++q) expected[m * kN + n] += value(q, m, n);
      got[m * kN + n] = bf16 ? Bf16ToFloat(host[m * kN + n]) : HalfToFloat(host[m * kN + n]);
    }
  Compare(rank, what, expected, got);
}

int RunMatmul(Rank& rank) {  // V1: FLOAT16 x1, x2, bias
  int r = rank.rank;
  std::vector<uint16_t> x2(kK * kN), bias(kN), out(kM * kN, 0);
  for (int64_t k = 0; k < kK; ++k)
    for (int64_t n = 0; n < kN; ++n) x2[k * kN + n] = FloatToHalfExact((float)X2(r, k, n));
  for (int64_t n = 0; n < kN; ++n) bias[n] = FloatToHalfExact((float)Bias(r, n));
  DeviceTensor tx1, tx2, tbias, tout;
  CHECK(tx1.Make(X1Half(r, false), {kM, kK}, ACL_FLOAT16) || tx2.Make(x2, {kK, kN}, ACL_FLOAT16) ||
        tbias.Make(bias, {kN}, ACL_FLOAT16) || tout.Make(out, {kM, kN}, ACL_FLOAT16));
  std::vector<uint16_t> host;
  CHECK(Launch(
      rank,
      [&](uint64_t* size, aclOpExecutor** executor) {
        return aclnnMatmulAllReduceGetWorkspaceSize(tx1.tensor, tx2.tensor, tbias.tensor, rank.group, "sum", 0, 1,
                                                    tout.tensor, size, executor);
      },
      aclnnMatmulAllReduce, tout, host, kM * kN));
  Check(rank, "MatmulAllReduce", host, false, [](int q, int64_t m, int64_t n) {
    return Dot(q, m, [&](int64_t k) { return (double)X2(q, k, n); }) + Bias(q, n);
  });
  return 0;
}

int RunMatmulV2(Rank& rank) {  // BFLOAT16 x1, x2, bias and x3
  int r = rank.rank;
  std::vector<uint16_t> x2(kK * kN), bias(kN), x3(kM * kN, FloatToBf16Exact(0.5f)), out(kM * kN, 0);
  for (int64_t k = 0; k < kK; ++k)
    for (int64_t n = 0; n < kN; ++n) x2[k * kN + n] = FloatToBf16Exact((float)X2(r, k, n));
  for (int64_t n = 0; n < kN; ++n) bias[n] = FloatToBf16Exact((float)Bias(r, n));
  DeviceTensor tx1, tx2, tbias, tx3, tout;
  CHECK(tx1.Make(X1Half(r, true), {kM, kK}, ACL_BF16) || tx2.Make(x2, {kK, kN}, ACL_BF16) ||
        tbias.Make(bias, {kN}, ACL_BF16) || tx3.Make(x3, {kM, kN}, ACL_BF16) || tout.Make(out, {kM, kN}, ACL_BF16));
  std::vector<uint16_t> host;
  CHECK(Launch(
      rank,
      [&](uint64_t* size, aclOpExecutor** executor) {
        return aclnnMatmulAllReduceV2GetWorkspaceSize(tx1.tensor, tx2.tensor, tbias.tensor, tx3.tensor, rank.group,
                                                      "sum", 0, 1, tout.tensor, size, executor);
      },
      aclnnMatmulAllReduceV2, tout, host, kM * kN));
  Check(rank, "MatmulAllReduceV2", host, true, [](int q, int64_t m, int64_t n) {
    return Dot(q, m, [&](int64_t k) { return (double)X2(q, k, n); }) + Bias(q, n) + 0.5;
  });
  return 0;
}

int RunMatmulV3(Rank& rank) {  // FLOAT16, x2 a transposed view of an (n, k) buffer, x3, commMode
  int r = rank.rank;
  std::vector<uint16_t> x2t(kN * kK), x3(kM * kN, FloatToHalfExact(1.0f)), out(kM * kN, 0);
  for (int64_t n = 0; n < kN; ++n)
    for (int64_t k = 0; k < kK; ++k) x2t[n * kK + k] = FloatToHalfExact((float)X2(r, k, n));
  DeviceTensor tx1, tx2, tx3, tout;
  CHECK(tx1.Make(X1Half(r, false), {kM, kK}, ACL_FLOAT16) || tx2.Make(x2t, {kK, kN}, ACL_FLOAT16, {1, kK}) ||
        tx3.Make(x3, {kM, kN}, ACL_FLOAT16) || tout.Make(out, {kM, kN}, ACL_FLOAT16));
  std::vector<uint16_t> host;
  CHECK(Launch(
      rank,
      [&](uint64_t* size, aclOpExecutor** executor) {
        return aclnnMatmulAllReduceV3GetWorkspaceSize(tx1.tensor, tx2.tensor, nullptr, tx3.tensor, rank.group, "sum",
                                                      "ai_cpu", 0, 1, tout.tensor, size, executor);
      },
      aclnnMatmulAllReduceV3, tout, host, kM * kN));
  Check(rank, "MatmulAllReduceV3", host, false, [](int q, int64_t m, int64_t n) {
    return Dot(q, m, [&](int64_t k) { return (double)X2(q, k, n); }) + 1.0;
  });
  return 0;
}

int RunWeightQuant(Rank& rank) {  // FLOAT16 x1, INT8 weight, per-channel scale and offset, bias
  int r = rank.rank;
  std::vector<int8_t> w(kK * kN);
  std::vector<uint16_t> scale(kN), offset(kN), bias(kN), out(kM * kN, 0);
  for (int64_t k = 0; k < kK; ++k)
    for (int64_t n = 0; n < kN; ++n) w[k * kN + n] = (int8_t)(2 * X2(r, k, n));
  for (int64_t n = 0; n < kN; ++n) {
    scale[n] = FloatToHalfExact((float)ChannelScale(n));
    offset[n] = FloatToHalfExact((float)Offset(n));
    bias[n] = FloatToHalfExact((float)Bias(r, n));
  }
  DeviceTensor tx1, tw, tscale, toffset, tbias, tout;
  CHECK(tx1.Make(X1Half(r, false), {kM, kK}, ACL_FLOAT16) || tw.Make(w, {kK, kN}, ACL_INT8) ||
        tscale.Make(scale, {kN}, ACL_FLOAT16) || toffset.Make(offset, {kN}, ACL_FLOAT16) ||
        tbias.Make(bias, {kN}, ACL_FLOAT16) || tout.Make(out, {kM, kN}, ACL_FLOAT16));
  std::vector<uint16_t> host;
  CHECK(Launch(
      rank,
      [&](uint64_t* size, aclOpExecutor** executor) {
        return aclnnWeightQuantMatmulAllReduceGetWorkspaceSize(tx1.tensor, tw.tensor, tbias.tensor, tscale.tensor,
                                                               toffset.tensor, nullptr, rank.group, "sum", 0, 1, 0,
                                                               tout.tensor, size, executor);
      },
      aclnnWeightQuantMatmulAllReduce, tout, host, kM * kN));
  Check(rank, "WeightQuantMatmulAllReduce", host, false, [](int q, int64_t m, int64_t n) {
    return Dot(q, m, [&](int64_t k) { return (2 * X2(q, k, n) + Offset(n)) * ChannelScale(n); }) + Bias(q, n);
  });
  return 0;
}

int RunWeightQuantV2(Rank& rank) {  // BFLOAT16 x1, INT4 weight (two per byte), per-group scale, commMode
  int r = rank.rank;
  std::vector<uint8_t> w(kK * kN / 2, 0);
  std::vector<uint16_t> scale(kK / kGroup * kN), out(kM * kN, 0);
  for (int64_t k = 0; k < kK; ++k)
    for (int64_t n = 0; n < kN; ++n) {
      int value = 2 * X2(r, k, n);
      int64_t i = k * kN + n;  // element i in the low nibble of byte i / 2 when i is even
      w[i / 2] |= (uint8_t)((value & 0xF) << (4 * (i % 2)));
    }
  for (int64_t g = 0; g < kK / kGroup; ++g)
    for (int64_t n = 0; n < kN; ++n) scale[g * kN + n] = FloatToBf16Exact((float)GroupScale(g, n));
  DeviceTensor tx1, tw, tscale, tout;
  CHECK(tx1.Make(X1Half(r, true), {kM, kK}, ACL_BF16) || tw.Make(w, {kK, kN}, ACL_INT4) ||
        tscale.Make(scale, {kK / kGroup, kN}, ACL_BF16) || tout.Make(out, {kM, kN}, ACL_BF16));
  std::vector<uint16_t> host;
  CHECK(Launch(
      rank,
      [&](uint64_t* size, aclOpExecutor** executor) {
        return aclnnWeightQuantMatmulAllReduceV2GetWorkspaceSize(tx1.tensor, tw.tensor, nullptr, tscale.tensor,
                                                                 nullptr, nullptr, rank.group, "sum", "ai_cpu", 0, 1,
                                                                 kGroup, tout.tensor, size, executor);
      },
      aclnnWeightQuantMatmulAllReduceV2, tout, host, kM * kN));
  Check(rank, "WeightQuantMatmulAllReduceV2", host, true, [](int q, int64_t m, int64_t n) {
    return Dot(q, m, [&](int64_t k) { return 2 * X2(q, k, n) * GroupScale(k / kGroup, n); });
  });
  return 0;
}

int RunQuantV5(Rank& rank) {  // INT8, packed UINT64 per-channel dequantScale, bias, commMode
  int r = rank.rank;
  std::vector<int8_t> x1(kM * kK), x2(kK * kN);
  std::vector<int32_t> bias(kN);
  std::vector<uint64_t> scale(kN);
  std::vector<uint16_t> out(kM * kN, 0);
  for (int64_t m = 0; m < kM; ++m)
    for (int64_t k = 0; k < kK; ++k) x1[m * kK + k] = (int8_t)X1(r, m, k);
  for (int64_t k = 0; k < kK; ++k)
    for (int64_t n = 0; n < kN; ++n) x2[k * kN + n] = (int8_t)X2(r, k, n);
  for (int64_t n = 0; n < kN; ++n) {
    bias[n] = Bias(r, n);
    scale[n] = PackedScale((float)ChannelScale(n));
  }
  DeviceTensor tx1, tx2, tbias, tscale, tout;
  CHECK(tx1.Make(x1, {kM, kK}, ACL_INT8) || tx2.Make(x2, {kK, kN}, ACL_INT8) || tbias.Make(bias, {kN}, ACL_INT32) ||
        tscale.Make(scale, {kN}, ACL_UINT64) || tout.Make(out, {kM, kN}, ACL_FLOAT16));
  std::vector<uint16_t> host;
  CHECK(Launch(
      rank,
      [&](uint64_t* size, aclOpExecutor** executor) {
        return aclnnQuantMatmulAllReduceV5GetWorkspaceSize(tx1.tensor, tx2.tensor, tbias.tensor, nullptr, nullptr,
                                                           tscale.tensor, nullptr, nullptr, rank.group, "sum",
                                                           "ai_cpu", 0, 1, 0, 0, tout.tensor, size, executor);
      },
      aclnnQuantMatmulAllReduceV5, tout, host, kM * kN));
  Check(rank, "QuantMatmulAllReduceV5", host, false, [](int q, int64_t m, int64_t n) {
    return (Dot(q, m, [&](int64_t k) { return (double)X2(q, k, n); }) + Bias(q, n)) * ChannelScale(n);
  });
  return 0;
}

int RunErrors(Rank& rank) {
  std::vector<uint16_t> x1(kM * kK, 0), x2(kK * kN, 0), scale3(3, 0), scale(kN, 0), out(kM * kN, 0);
  std::vector<int8_t> w(kK * kN, 1);
  std::vector<uint64_t> packed(kN, PackedScale(1.0f));
  DeviceTensor tx1, tx2, tw, tscale3, tscale, tpacked, tout;
  CHECK(tx1.Make(x1, {kM, kK}, ACL_FLOAT16) || tx2.Make(x2, {kK, kN}, ACL_FLOAT16) || tw.Make(w, {kK, kN}, ACL_INT8) ||
        tscale3.Make(scale3, {3}, ACL_FLOAT16) || tscale.Make(scale, {kN}, ACL_FLOAT16) ||
        tpacked.Make(packed, {kN}, ACL_UINT64) || tout.Make(out, {kM, kN}, ACL_FLOAT16));
  uint64_t size = 0;
  aclOpExecutor* executor = nullptr;
  // the engine of CANN's own V3/V5/WeightQuant V2 samples: "" is no engine (IsCommModeValid)
  ExpectError(rank, "MatmulAllReduceV3 commMode \"\"",
              aclnnMatmulAllReduceV3GetWorkspaceSize(tx1.tensor, tx2.tensor, nullptr, nullptr, rank.group, "sum", "",
                                                     0, 1, tout.tensor, &size, &executor),
              kInvalid, "commMode \"\" is not supported");
  ExpectError(rank, "MatmulAllReduceV3 NULL executor", aclnnMatmulAllReduceV3(nullptr, 0, nullptr, rank.stream),
              kInner, "executor is NULL");
  ExpectError(rank, "MatmulAllReduce INT8 x2",
              aclnnMatmulAllReduceGetWorkspaceSize(tx1.tensor, tw.tensor, nullptr, rank.group, "sum", 0, 1,
                                                   tout.tensor, &size, &executor),
              kInvalid, "x2 dtype INT8 is not supported");
  ExpectError(rank, "WeightQuantMatmulAllReduce antiquantGroupSize 16",
              aclnnWeightQuantMatmulAllReduceGetWorkspaceSize(tx1.tensor, tw.tensor, nullptr, tscale.tensor, nullptr,
                                                              nullptr, rank.group, "sum", 0, 1, 16, tout.tensor, &size,
                                                              &executor),
              kInvalid, "antiquantGroupSize 16 is not supported");
  ExpectError(rank, "WeightQuantMatmulAllReduce antiquantScale [3]",
              aclnnWeightQuantMatmulAllReduceGetWorkspaceSize(tx1.tensor, tw.tensor, nullptr, tscale3.tensor, nullptr,
                                                              nullptr, rank.group, "sum", 0, 1, 0, tout.tensor, &size,
                                                              &executor),
              kInvalid, "antiquantScale shape [3] is not supported");
  ExpectError(rank, "QuantMatmulAllReduceV5 NULL reduceOp",
              aclnnQuantMatmulAllReduceV5GetWorkspaceSize(tw.tensor, tw.tensor, nullptr, nullptr, nullptr,
                                                          tpacked.tensor, nullptr, nullptr, rank.group, nullptr,
                                                          "ai_cpu", 0, 1, 0, 0, tout.tensor, &size, &executor),
              kNullptr, "reduceOp is a null pointer");
  return 0;
}
}  // namespace

int main() {
  int failures = RunThreadRanks(kRanks, [](Rank& rank) {
    return RunMatmul(rank) + RunMatmulV2(rank) + RunMatmulV3(rank) + RunWeightQuant(rank) + RunWeightQuantV2(rank) +
           RunQuantV5(rank) + RunErrors(rank);
  });
  std::printf("failures=%d\n", failures);
  return failures != 0;
}
