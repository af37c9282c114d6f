"""An expert-parallel mixture-of-experts layer: AlltoAllV dispatch, A8W8 GroupedMatmulV5 on the
experts' ranks, AlltoAllV combine, checked against a single-process NumPy golden of the layer.

    python examples/moe_expert_parallel.py                            # 4 ranks as threads
    python -m aclnn_py.launch -n 4 examples/moe_expert_parallel.py    # 4 ranks as processes

Every rank holds ``TOKENS`` tokens of width ``HIDDEN`` and the weights of its ``LOCAL_EXPERTS``
experts (expert e lives on rank e // LOCAL_EXPERTS). A top-``TOP_K`` router picks each token's
experts and their gates. Each rank:

1. sorts its (token, expert) pairs by the expert's rank, then by expert, and tells every rank how
   many rows it will get per local expert (HcclAlltoAll of the counts);
2. dispatches the rows (float16) with HcclAlltoAllV;
3. quantizes every received row to int8 with a per-token scale on the device (aclnnDynamicQuant:
   ``aclnn_py.ops.dynamic_quant``) and runs aclnnGroupedMatmulV5 in A8W8 per-token mode (int8
   weights with a per-channel bfloat16 scale, bfloat16 out) on its outputs, rows grouped by local
   expert;
4. returns each row to its token's rank with HcclAlltoAllV (the dispatch's counts reversed),
   where the gates weight and sum them.

The golden computes the whole layer for every token in one process with NumPy (exact integer
products, the quantization of DynamicQuant's golden); each rank compares its tokens under CANN's precision
standard for bfloat16. Exit status 0 when every rank passes.
"""
from __future__ import annotations

import os
import sys
import threading

import ml_dtypes
import numpy as np

from aclnn_py import Context, DeviceBuffer, Runtime, Stream, Tensor, hccl
from aclnn_py import ops
from aclnn_py.ops import grouped_matmul_v5
from aclnn_py.semantics.dynamic_quant import dynamic_quant
from aclnn_py.semantics.precision import compare

RANKS, LOCAL_EXPERTS, TOKENS, HIDDEN, OUT, TOP_K = 4, 2, 48, 256, 128, 2
EXPERTS = RANKS * LOCAL_EXPERTS


def model(seed: int = 7) -> dict[str, np.ndarray]:
    """The layer's parameters and every rank's tokens (the same on every rank: one seed)."""
    rng = np.random.default_rng(seed)
    return {
        "tokens": rng.standard_normal((RANKS, TOKENS, HIDDEN)).astype(np.float16),
        "router": rng.standard_normal((HIDDEN, EXPERTS)).astype(np.float32) / np.sqrt(HIDDEN),
        "weight": rng.integers(-127, 128, (EXPERTS, HIDDEN, OUT), dtype=np.int8),
        "weight_scale": rng.uniform(1e-3, 4e-3, (EXPERTS, OUT)).astype(ml_dtypes.bfloat16),
    }


def route(x: np.ndarray, router: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Top-k experts of every token and their gates (softmax over the k chosen logits)."""
    logits = x.astype(np.float32) @ router
    experts = np.argsort(-logits, axis=1, kind="stable")[:, :TOP_K]
    chosen = np.take_along_axis(logits, experts, axis=1)
    gates = np.exp(chosen - chosen.max(axis=1, keepdims=True))
    return experts, (gates / gates.sum(axis=1, keepdims=True)).astype(np.float32)


def golden(params: dict[str, np.ndarray]) -> np.ndarray:
    """The layer for every token of every rank, in one process: (RANKS, TOKENS, OUT) float32."""
    out = np.zeros((RANKS, TOKENS, OUT), np.float32)
    for r in range(RANKS):
        experts, gates = route(params["tokens"][r], params["router"])
        q, pts = dynamic_quant(params["tokens"][r])  # what aclnnDynamicQuant computes
        for e in range(EXPERTS):
            rows, slot = np.nonzero(experts == e)
            if not rows.size:
                continue
            acc = q[rows].astype(np.int64) @ params["weight"][e].astype(np.int64)  # exact
            y = (acc.astype(np.float64) * params["weight_scale"][e].astype(np.float64) * pts[rows, None])
            out[r, rows] += gates[rows, slot][:, None] * y.astype(ml_dtypes.bfloat16).astype(np.float32)
    return out


def _exchange_v(comm: hccl.Communicator, stream: Stream, rows: np.ndarray, send_rows: list[int],
                recv_rows: list[int]) -> np.ndarray:
    """HcclAlltoAllV of whole rows: ``send_rows[j]`` rows to rank j, ``recv_rows[i]`` from rank i."""
    width = rows.shape[1]
    send_counts = [n * width for n in send_rows]
    recv_counts = [n * width for n in recv_rows]
    send = DeviceBuffer.from_numpy(np.ascontiguousarray(rows) if rows.size else np.zeros((1, width), rows.dtype))
    recv = DeviceBuffer(max(sum(recv_counts), width) * rows.dtype.itemsize)
    comm.all_to_all_v(send, send_counts, np.cumsum([0] + send_counts[:-1]).tolist(), recv, recv_counts,
                      np.cumsum([0] + recv_counts[:-1]).tolist(), rows.dtype, stream)
    stream.synchronize()
    out = recv.to_numpy(rows.dtype)[:sum(recv_counts)].reshape(-1, width)
    send.close()
    recv.close()
    return out


def moe_layer(comm: hccl.Communicator, stream: Stream, params: dict[str, np.ndarray]) -> np.ndarray:
    """This rank's tokens through the expert-parallel layer: (TOKENS, OUT) float32."""
    me = comm.rank
    x = params["tokens"][me]
    experts, gates = route(x, params["router"])
    pairs = np.argsort(experts.reshape(-1), kind="stable")  # (token, k) pairs sorted by expert: by rank too
    expert_of = experts.reshape(-1)[pairs]
    # 1. how many rows each rank gets per local expert
    counts = np.bincount(expert_of, minlength=EXPERTS).astype(np.int64)
    send_counts = DeviceBuffer.from_numpy(counts)
    recv_counts = DeviceBuffer(EXPERTS * 8)
    comm.all_to_all(send_counts, recv_counts, LOCAL_EXPERTS, np.int64, stream)
    stream.synchronize()
    incoming = recv_counts.to_numpy(np.int64).reshape(RANKS, LOCAL_EXPERTS)  # [source rank, local expert]
    send_counts.close()
    recv_counts.close()
    send_rows = counts.reshape(RANKS, LOCAL_EXPERTS).sum(axis=1).tolist()
    recv_rows = incoming.sum(axis=1).tolist()
    # 2. dispatch
    received = _exchange_v(comm, stream, x[pairs // TOP_K], send_rows, recv_rows)
    # 3. quantize per token on the device (aclnnDynamicQuant), group by local expert, A8W8 GroupedMatmulV5
    local = np.repeat(np.tile(np.arange(LOCAL_EXPERTS), RANKS), incoming.reshape(-1))
    by_expert = np.argsort(local, kind="stable")
    q, pts = ops.dynamic_quant(received[by_expert], stream=stream)
    mine = slice(me * LOCAL_EXPERTS, (me + 1) * LOCAL_EXPERTS)
    y = grouped_matmul_v5([q], [Tensor.from_numpy(params["weight"][mine])], stream=stream,
                          scale=[Tensor.from_numpy(params["weight_scale"][mine])],
                          per_token_scale=[pts],
                          group_list=np.bincount(local, minlength=LOCAL_EXPERTS).astype(np.int64),
                          group_list_type=1, split_item=3, group_type=0, out_dtype="bfloat16")
    stream.synchronize()
    expert_out = np.empty((len(local), OUT), ml_dtypes.bfloat16)
    expert_out[by_expert] = y[0].to_numpy()
    for tensor in (y[0], q, pts):
        tensor.close()
    # 4. combine: every row back to its token's rank, gates applied there
    returned = _exchange_v(comm, stream, expert_out, recv_rows, send_rows).astype(np.float32)
    out = np.zeros((TOKENS, OUT), np.float32)
    tokens, slots = pairs // TOP_K, pairs % TOP_K
    np.add.at(out, tokens, gates[tokens, slots][:, None] * returned)
    return out


def check(rank: int, got: np.ndarray, want: np.ndarray) -> bool:
    result = compare(got, want, "bfloat16")
    line = f"rank {rank}: {TOKENS} tokens through {EXPERTS} experts (top-{TOP_K}) | {result}\n"
    sys.stdout.flush()
    os.write(sys.stdout.fileno(), line.encode())  # one write: the lines of process ranks never interleave
    return result.passed


def run_threads() -> bool:
    """RANKS ranks on threads of this process (HcclCommInitAll)."""
    params = model()
    want = golden(params)
    passed: dict[int, bool] = {}
    with Runtime():
        comms = hccl.init_all(list(range(RANKS)))

        def rank_main(comm: hccl.Communicator) -> None:
            with Context(comm.device), Stream() as stream, comm:
                passed[comm.rank] = check(comm.rank, moe_layer(comm, stream, params), want[comm.rank])

        threads = [threading.Thread(target=rank_main, args=(c,)) for c in comms]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return len(passed) == RANKS and all(passed.values())


def run_process() -> bool:
    """This process's rank of a launcher / torchrun / mpirun job."""
    params = model()
    with Runtime(), hccl.init_from_env() as comm, Stream() as stream:
        if comm.size != RANKS:
            raise SystemExit(f"this example runs on {RANKS} ranks, the job has {comm.size}")
        return check(comm.rank, moe_layer(comm, stream, params), golden(params)[comm.rank])


if __name__ == "__main__":
    launched = "WORLD_SIZE" in os.environ or "OMPI_COMM_WORLD_SIZE" in os.environ or "PMI_SIZE" in os.environ
    sys.exit(0 if (run_process() if launched else run_threads()) else 1)
