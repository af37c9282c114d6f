"""Python port of the aclnnQuantMatmulAllReduceV4 doc sample: 2 ranks on threads.

Same steps as the C sample: aclInit, set the devices, HcclCommInitAll over 2
devices, one thread per rank with its own context and stream, HcclGetCommName,
create the tensors (int8 x1 (32, 64), int8 x2 (64, 128) ND or NZ via
aclnnTransMatmulWeight, int32 bias, FLOAT x2Scale (128,), FLOAT x1Scale (32,),
fp16 commQuantScale1/2, fp16 x3, fp16 out), the two-phase call through the raw
C API, a synchronisation with timeout, and teardown. Each rank prints a summary
and its max error against the golden; runs ND then NZ. Exit status 1 when an
output misses CANN's precision standard.

    ACLNN_PY_BACKEND=mock python examples/quant_matmul_all_reduce_v4.py
"""
from __future__ import annotations

import contextlib
import sys
import threading

import numpy as np

import aclnn_py
from aclnn_py import Tensor, ffi, hccl
from aclnn_py.check import check_acl, check_aclnn
from aclnn_py.semantics.quant_matmul_all_reduce import golden
from aclnn_py.semantics.precision import compare
from aclnn_py.memory import DeviceBuffer
from aclnn_py.ops import nz_weight_tensor, trans_matmul_weight

RANKS, M, K, N = 2, 32, 64, 128
TIMEOUT_MS = 10000


def rank_inputs(rank: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(100 + rank)
    return {
        "x1": rng.integers(-16, 16, (M, K)).astype(np.int8),
        "x2": rng.integers(-16, 16, (K, N)).astype(np.int8),
        "bias": rng.integers(-50, 50, N).astype(np.int32),
        "x2_scale": np.full(N, 0.01, np.float32),
        "x1_scale": np.full(M, 0.5, np.float32),
        "x3": rng.uniform(-1, 1, (M, N)).astype(np.float16),
    }


COMM_SCALE_1 = np.full(N, 0.25, np.float16)
COMM_SCALE_2 = np.full(N, 0.5, np.float16)


def rank_main(rank: int, comm: hccl.Communicator, data: dict, nz: bool, results: list) -> None:
    lib = aclnn_py.lib
    with contextlib.ExitStack() as teardown:  # releases in reverse order, also when a call fails
        own = teardown.enter_context
        own(aclnn_py.Context(rank))  # aclrtCreateContext + current on this thread
        stream = own(aclnn_py.Stream())
        try:
            name = comm.name  # HcclGetCommName
            x1 = own(Tensor.from_numpy(data["x1"]))
            if nz:
                x2 = own(trans_matmul_weight(nz_weight_tensor(data["x2"]), stream))
            else:
                x2 = own(Tensor.from_numpy(data["x2"]))
            bias = own(Tensor.from_numpy(data["bias"]))
            x2_scale = own(Tensor.from_numpy(data["x2_scale"]))
            x1_scale = own(Tensor.from_numpy(data["x1_scale"]))
            cqs1, cqs2 = own(Tensor.from_numpy(COMM_SCALE_1)), own(Tensor.from_numpy(COMM_SCALE_2))
            x3 = own(Tensor.from_numpy(data["x3"]))
            out = own(Tensor.empty((M, N), "float16"))

            size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
            check_aclnn(lib.aclnnQuantMatmulAllReduceV4GetWorkspaceSize(
                x1.handle, x2.handle, bias.handle, x3.handle, x1_scale.handle, x2_scale.handle, cqs1.handle,
                cqs2.handle, name.encode(), b"sum", 0, 1, 0, 0, out.handle, size, executor),
                "aclnnQuantMatmulAllReduceV4GetWorkspaceSize")
            workspace = own(DeviceBuffer(size[0])) if size[0] else None
            check_aclnn(lib.aclnnQuantMatmulAllReduceV4(ffi.NULL if workspace is None else workspace.ptr, size[0],
                                                        executor[0], stream.handle), "aclnnQuantMatmulAllReduceV4")
            check_acl(lib.aclrtSynchronizeStreamWithTimeout(stream.handle, TIMEOUT_MS),
                      "aclrtSynchronizeStreamWithTimeout")
            results[rank] = out.to_numpy()
        finally:  # after a failure too, the queued work passes before its memory is freed
            lib.aclrtSynchronizeStream(stream.handle)


def run(nz: bool) -> bool:
    data = [rank_inputs(r) for r in range(RANKS)]
    comms = hccl.init_all(list(range(RANKS)))  # HcclCommInitAll
    results: list = [None] * RANKS
    errors: list = []

    def target(rank: int) -> None:
        try:
            rank_main(rank, comms[rank], data[rank], nz, results)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(r,)) for r in range(RANKS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for comm in comms:
        comm.close()  # HcclCommDestroy
    if errors:
        raise errors[0]
    gold = golden.quant_matmul_all_reduce(
        [d["x1"] for d in data], [d["x2"] for d in data], [d["x2_scale"] for d in data],
        x1_scale=[d["x1_scale"] for d in data], bias=[d["bias"] for d in data], x3=[d["x3"] for d in data],
        comm_quant_scale_1=COMM_SCALE_1, comm_quant_scale_2=COMM_SCALE_2, out_dtype="float16")
    ok = True
    for rank, out in enumerate(results):
        result = compare(out, gold, "float16")
        err = float(np.max(np.abs(out.astype(np.float32) - gold.astype(np.float32))))
        print(f"[{'NZ' if nz else 'ND'}] rank {rank}: out shape {out.shape}, first values "
              f"{out.reshape(-1)[:4].tolist()}, mean {float(out.astype(np.float32).mean()):.4f}, "
              f"max error {err:.6g} -> {result}")
        ok &= result.passed
    return ok


def main() -> int:
    runtime = aclnn_py.Runtime()  # aclInit
    devices = [aclnn_py.Device(r) for r in range(RANKS)]  # aclrtSetDevice
    try:
        ok = run(nz=False) and run(nz=True)
    finally:
        for d in devices:
            d.close()
        runtime.close()  # aclFinalize
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
