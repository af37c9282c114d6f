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
#include <vector>

#include "acl/acl.h"
#include "aclnnop/aclnn_quant_matmul_all_reduce.h"
#include "aclnnop/aclnn_quant_matmul_all_reduce_v2.h"
#include "aclnnop/aclnn_quant_matmul_all_reduce_v3.h"
#include "matmul_all_reduce_helpers.h"

namespace {
constexpr int kRanks = 2;
constexpr int64_t kM = 8, kK = 16, kN = 16;

int X1(int r, int64_t m, int64_t k) { return (int)((m * 7 + k * 3 + r) % 3) - 1; }
int X2(int r, int64_t k, int64_t n) { return (int)((k * 5 + n + 2 * r) % 3) - 1; }
int Bias(int r, int64_t n) { return (int)(n % 4) - 1 + r; }
double Acc(int r, int64_t m, int64_t n) {  // x1_r @ x2_r + bias_r
  double acc = Bias(r, n);
  for (int64_t k = 0; k < kK; ++k) acc += X1(r, m, k) * X2(r, k, n);
  return acc;
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
      aclnnQuantMatmulAllReduce, tout, host, kM * kN));
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
      aclnnQuantMatmulAllReduceV2, tout, host, kM * kN));
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
      aclnnQuantMatmulAllReduceV3, tout, host, kM * kN));
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

}  // namespace

int main() {
  int differs[kRanks] = {0};
  int failures = RunThreadRanks(kRanks, [&differs](Rank& rank) {
    return RunV1(rank) + RunV2(rank) + RunV3(rank, &differs[rank.rank]) + RunErrors(rank);
  });
  std::printf("v3 low-bit differs from a plain all-reduce at %d elements\n", differs[0]);
  std::printf("failures=%d\n", failures);
  return failures != 0;
}
