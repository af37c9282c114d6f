"""HcclAllReduce's combine in the mock hub (mock_runtime.hccl.reduce): blocks on the compute pool,
results written straight into the receive buffers of ranks in the hub's process, and the
read-everything-first fallback when a receive buffer overlaps another rank's input."""
from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from mock_runtime.core.errors import C
from mock_runtime.hccl.reduce import Contribution, all_reduce

COUNT = 300_001  # several blocks and pool units, and a partial last block
SUM, MAX = C["HCCL_REDUCE_SUM"], C["HCCL_REDUCE_MAX"]


def expected(parts: list[np.ndarray], op: int, wide: bool) -> np.ndarray:
    """Rank-order left fold, in float32 for 16-bit floats (rounded once), else in the type."""
    acc = parts[0].astype(np.float32 if wide else parts[0].dtype)
    for p in parts[1:]:
        acc = np.add(acc, p.astype(acc.dtype)) if op == SUM else np.maximum(acc, p.astype(acc.dtype))
    return acc.astype(parts[0].dtype)


@pytest.mark.parametrize("name, host, op", [("FP32", np.float32, SUM), ("BFP16", ml_dtypes.bfloat16, SUM),
                                            ("INT8", np.int8, SUM), ("FP16", np.float16, MAX)])
def test_written_into_every_receive_buffer(name, host, op):
    rng = np.random.default_rng(3)
    parts = [(rng.standard_normal(COUNT) * 50).astype(host) for _ in range(4)]
    want = expected(parts, op, name in ("FP16", "BFP16"))
    recvs = [np.zeros(COUNT, host) for _ in parts]
    in_place = parts[2].copy()  # rank 2 reduces in place: its input is its receive buffer
    contributions = [Contribution(p, r) for p, r in zip(parts, recvs)]
    contributions[2] = Contribution(in_place, in_place)
    assert all_reduce(contributions, C[f"HCCL_DATA_TYPE_{name}"], op) is None
    for got in recvs[:2] + [in_place] + recvs[3:]:
        np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))


def test_a_receive_buffer_over_another_ranks_input_reads_everything_first():
    rng = np.random.default_rng(4)
    memory = rng.standard_normal(3 * COUNT).astype(np.float32)
    parts = [memory[:COUNT], memory[COUNT:2 * COUNT], rng.standard_normal(COUNT).astype(np.float32)]
    want = expected([p.copy() for p in parts], SUM, False)
    recv_over_rank_1 = memory[COUNT // 2:COUNT // 2 + COUNT]  # rank 0 receives over half of rank 1's input
    contributions = [Contribution(parts[0], recv_over_rank_1), Contribution(parts[1], np.empty(COUNT, np.float32)),
                     Contribution(parts[2], np.empty(COUNT, np.float32))]
    result = all_reduce(contributions, C["HCCL_DATA_TYPE_FP32"], SUM)
    np.testing.assert_array_equal(result, want)  # every rank copies this result itself


def test_ranks_of_another_process_get_the_result_to_copy():
    parts = [np.arange(10, dtype=np.int32), np.full(10, 7, np.int32)]
    local = Contribution(parts[0], np.zeros(10, np.int32))
    result = all_reduce([local, parts[1]], C["HCCL_DATA_TYPE_INT32"], SUM)
    np.testing.assert_array_equal(result, np.arange(10) + 7)
    assert not local.recv.any()  # not written by the hub: the rank copies the result
    empty = all_reduce([np.zeros(0, np.float32)] * 2, C["HCCL_DATA_TYPE_FP32"], SUM)
    assert empty.shape == (0,)
