"""Mixture-of-experts layers with aclnnGroupedMatmulV5, checked against the golden.

1. The operator doc's MoE dispatch in A8W8 per-token mode: M = 789 tokens,
   K = 4096, N = 7168, 8 experts; experts 0, 2 and 5 receive 123, 333 and 333
   tokens (all 789). INT8 x and weight, a BF16 per-channel scale per expert, a
   FLOAT per-token scale, BF16 out. The group list is given in the doc's three
   encodings: type 0 (cumulative), 1 (counts) and 2 ([expert, count] pairs).
   All three run at full size (about 1 s each on the mock with 2 cores; set
   GMM_QUICK=1 to run types 1 and 2 with K = 512).
2. A weight-only A16W4 layer: FLOAT16 x, INT4 weight with a per-group
   (group size 128) FLOAT16 antiquant scale, 8 experts, groupList type 1.

Run: ACLNN_PY_BACKEND=mock python examples/grouped_matmul_v5.py
(on Ascend hardware, leave ACLNN_PY_BACKEND unset). Exits non-zero when an
output fails CANN's precision standard (MERE < T, MARE < 10 T).
"""
from __future__ import annotations

import os
import sys
import time

import ml_dtypes
import numpy as np

from aclnn_py import Device, Runtime, Stream, Tensor
from aclnn_py.semantics.grouped_matmul.golden import grouped_matmul
from aclnn_py.semantics.precision import compare
from aclnn_py.ops import grouped_matmul_v5

M, K, N, E = 789, 4096, 7168, 8
GROUP_LISTS = {
    0: np.array([123, 123, 456, 456, 456, 789, 789, 789], np.int64),
    1: np.array([123, 0, 333, 0, 0, 333, 0, 0], np.int64),
    2: np.array([[0, 123], [2, 333], [5, 333], [1, 0], [0, 0], [0, 0], [0, 0], [0, 0]], np.int64),
}


def a8w8_layer(stream: Stream, rng: np.random.Generator, glt: int, k: int) -> bool:
    x = rng.integers(-128, 128, (M, k), dtype=np.int8)
    w = rng.integers(-128, 128, (E, k, N), dtype=np.int8)
    scale = rng.uniform(1e-4, 1e-3, (E, N)).astype(ml_dtypes.bfloat16)
    pts = rng.uniform(0.5, 1.5, M).astype(np.float32)
    gl = GROUP_LISTS[glt]
    # device copies made once, outside the timing
    tensors = dict(x=Tensor.from_numpy(x), w=Tensor.from_numpy(w), scale=Tensor.from_numpy(scale),
                   pts=Tensor.from_numpy(pts), gl=Tensor.from_numpy(gl))
    start = time.perf_counter()
    y = grouped_matmul_v5([tensors["x"]], [tensors["w"]], stream=stream, scale=[tensors["scale"]],
                          per_token_scale=[tensors["pts"]], group_list=tensors["gl"], group_list_type=glt,
                          split_item=3, group_type=0, out_dtype="bfloat16")
    stream.synchronize()
    elapsed = time.perf_counter() - start
    start = time.perf_counter()
    golden = grouped_matmul([x], [w], scale=[scale], per_token_scale=[pts], group_list=gl,
                            group_list_type=glt, split_item=3, group_type=0, out_dtype="bfloat16")[0]
    golden_s = time.perf_counter() - start
    result = compare(y[0].to_numpy(), golden, "bfloat16")
    print(f"A8W8 MoE  M={M} K={k} N={N} E={E} groupListType={glt}: operator {elapsed * 1e3:7.1f} ms, "
          f"golden {golden_s * 1e3:7.1f} ms | {result}")
    return result.passed


def a16w4_layer(stream: Stream, rng: np.random.Generator) -> bool:
    m, k, n, e, group = 256, 1024, 2048, 8, 128
    x = rng.standard_normal((m, k)).astype(np.float16)
    w = rng.integers(-8, 8, (e, k, n)).astype(ml_dtypes.int4)
    scale = rng.uniform(0.005, 0.02, (e, k // group, n)).astype(np.float16)
    counts = np.array([40, 0, 64, 16, 0, 100, 36, 0], np.int64)  # 256 rows
    start = time.perf_counter()
    y = grouped_matmul_v5([x], [w], stream=stream, antiquant_scale=[scale], group_list=counts, group_list_type=1,
                          split_item=3, group_type=0)
    stream.synchronize()
    elapsed = time.perf_counter() - start
    golden = grouped_matmul([x], [w], antiquant_scale=[scale], group_list=counts, group_list_type=1,
                            split_item=3, group_type=0)[0]
    result = compare(y[0].to_numpy(), golden, "float16")
    print(f"A16W4     M={m} K={k} N={n} E={e} per-group {group}: operator (incl. host->device copies) "
          f"{elapsed * 1e3:7.1f} ms | {result}")
    return result.passed


def main() -> int:
    rng = np.random.default_rng(7)
    full = os.environ.get("GMM_QUICK", "") in ("", "0")
    with Runtime(), Device(0), Stream() as stream:
        ok = a8w8_layer(stream, rng, 0, K)
        for glt in (1, 2):
            ok &= a8w8_layer(stream, rng, glt, K if full else 512)
        ok &= a16w4_layer(stream, rng)
    print("all outputs within CANN's precision standard" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
