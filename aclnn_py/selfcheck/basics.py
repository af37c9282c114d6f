"""Runtime basics (device memory, copies, events, tensors of every dtype) and every operation of
HCCL's hccl.h on 1, 2, 4 and 8 ranks (point to point: 2, 4 and 8); results must be exact
(floating sums: CANN's standard)."""
from __future__ import annotations

from functools import partial

import ml_dtypes
import numpy as np

from ..memory import DeviceBuffer
from ..runtime import Event
from ..semantics import codecs, dtypes
from ..semantics.precision import compare
from ..tensor import Tensor
from .framework import CheckFailed, Comparison, Host, Mode, exact, rng_for

__all__ = ["collective_modes", "modes"]

RANK_COUNTS = (1, 2, 4, 8)


def _copies(host: Host) -> list[Comparison]:
    """aclrtMemcpy both ways and device to device, synchronous and on a stream; aclrtMemset."""
    data = rng_for("runtime/copies").integers(0, 256, 4096).astype(np.uint8)

    def body(rank) -> dict:
        stream = rank.stream
        with DeviceBuffer.from_numpy(data) as a, DeviceBuffer(data.nbytes) as b, DeviceBuffer(data.nbytes) as c:
            b.copy_from(a)
            c.copy_from_host(data[::-1].copy(), stream=stream)
            c.memset(0x5A, 100, offset=10, stream=stream)
            back = np.empty_like(data)
            c.copy_to_host(back, stream=stream)
            stream.synchronize()
            return {"sync": b.to_numpy(), "async": back}

    got = host.ranks.run(body)[0]
    expected_async = data[::-1].copy()
    expected_async[10:110] = 0x5A
    return [exact("device-to-device copy", got["sync"], data), exact("async copies and memset", got["async"],
                                                                      expected_async)]


def _events(host: Host) -> list[Comparison]:
    """Events recorded around queued work complete in order with a non-negative elapsed time."""
    data = np.arange(1 << 16, dtype=np.float32)

    def body(rank) -> tuple[float, np.ndarray]:
        with Event() as begin, Event() as end, DeviceBuffer(data.nbytes) as buffer:
            begin.record(rank.stream)
            buffer.copy_from_host(data, stream=rank.stream)
            end.record(rank.stream)
            end.synchronize()
            return begin.elapsed_ms(end), buffer.to_numpy(np.float32)

    elapsed, back = host.ranks.run(body)[0]
    if not elapsed >= 0:
        raise CheckFailed(f"aclrtEventElapsedTime gave {elapsed} ms")
    return [exact("data copied before the end event", back, data)]


TENSOR_DTYPES = ("float16", "bfloat16", "float32", "int8", "int32", "int64", "uint64", "float8_e4m3fn",
                 "float8_e5m2", "hifloat8", "float8_e8m0", "int4", "float4_e2m1")


def _values(name: str, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    if name == "int4":
        return rng.integers(-8, 8, shape).astype(ml_dtypes.int4)
    if name == "float4_e2m1":
        return rng.uniform(-6, 6, shape).astype(ml_dtypes.float4_e2m1fn)
    if name == "hifloat8":
        return codecs.hifloat8_encode(rng.standard_normal(shape))
    if name == "float8_e8m0":
        return codecs.e8m0_from_exponent(rng.integers(-20, 20, shape))
    host = dtypes.host_dtype(name)
    if np.dtype(host).kind in "iu":
        info = np.iinfo(host)
        return rng.integers(max(info.min, -1000), min(info.max, 1000), shape).astype(host)
    return rng.standard_normal(shape).astype(np.float32).astype(host)


def _tensors(host: Host) -> list[Comparison]:
    """Tensor.from_numpy / to_numpy of every dtype (4-bit ones packed two per byte), odd shapes."""
    rng = rng_for("runtime/tensors")
    arrays = {name: _values(name, rng, (5, 7)) for name in TENSOR_DTYPES}

    def body(rank) -> dict:
        back = {}
        for name, values in arrays.items():
            with Tensor.from_numpy(values, name, rank.stream) as tensor:
                rank.stream.synchronize()
                back[name] = tensor.to_numpy()
        return back

    back = host.ranks.run(body)[0]
    return [exact(f"{name} tensor", np.asarray(back[name]).view(np.uint8),
                  np.ascontiguousarray(arrays[name]).view(np.uint8)) for name in TENSOR_DTYPES]


def modes() -> list[Mode]:
    return [Mode("runtime/memory-copies", _copies), Mode("runtime/events", _events),
            Mode("runtime/tensor-dtypes", _tensors)]


# --------------------------------------------------------------------------- collectives

def _all_reduce(dtype: str, op: str, host: Host) -> list[Comparison]:
    size = host.ranks.size
    name = f"hccl/all-reduce/{op}-{dtype}"
    inputs = [_values(dtype, rng_for(name, r), (1000,)) for r in range(size)]

    def body(rank) -> np.ndarray:
        with DeviceBuffer.from_numpy(inputs[rank.rank]) as send, DeviceBuffer(inputs[0].nbytes) as recv:
            rank.comm.all_reduce(send, recv, inputs[0].size, inputs[0].dtype, op, rank.stream)
            rank.stream.synchronize()
            return recv.to_numpy(inputs[0].dtype, inputs[0].shape)

    stacked = np.stack([x.astype(np.float64) for x in inputs])
    reduced = {"sum": stacked.sum(0), "max": stacked.max(0), "min": stacked.min(0), "prod": stacked.prod(0)}[op]
    expected = reduced.astype(inputs[0].dtype)
    return [Comparison(f"rank {r}", compare(out, expected, dtype)) for r, out in enumerate(host.ranks.run(body))]


def _all_gather(host: Host) -> list[Comparison]:
    size = host.ranks.size
    inputs = [rng_for("hccl/all-gather", r).integers(-128, 128, 333).astype(np.int8) for r in range(size)]

    def body(rank) -> np.ndarray:
        with DeviceBuffer.from_numpy(inputs[rank.rank]) as send, DeviceBuffer(333 * size) as recv:
            rank.comm.all_gather(send, recv, 333, np.int8, rank.stream)
            rank.stream.synchronize()
            return recv.to_numpy(np.int8)

    expected = np.concatenate(inputs)
    return [exact(f"rank {r}", out, expected) for r, out in enumerate(host.ranks.run(body))]


def _broadcast(host: Host) -> list[Comparison]:
    size = host.ranks.size
    root = size - 1
    inputs = [rng_for("hccl/broadcast", r).standard_normal(500).astype(np.float32) for r in range(size)]

    def body(rank) -> np.ndarray:
        with DeviceBuffer.from_numpy(inputs[rank.rank]) as buffer:
            rank.comm.broadcast(buffer, 500, np.float32, root, rank.stream)
            rank.stream.synchronize()
            return buffer.to_numpy(np.float32)

    return [exact(f"rank {r} (root {root})", out, inputs[root]) for r, out in enumerate(host.ranks.run(body))]


def _barrier(host: Host) -> list[Comparison]:
    """HcclBarrier on every rank's stream, then each communicator reports no asynchronous error;
    the communicators agree on name and size and number their ranks 0..n-1."""
    def body(rank) -> tuple:
        rank.comm.barrier(rank.stream)
        rank.stream.synchronize()
        return rank.comm.name, rank.comm.size, rank.comm.rank, int(rank.comm.async_error())

    seen = host.ranks.run(body)
    names = {name for name, *_ in seen}
    if len(names) != 1:
        raise CheckFailed(f"the ranks see different communicator names: {sorted(names)}")
    got = np.array([[size, rank, error] for _, size, rank, error in seen], np.int64)
    expected = np.array([[host.ranks.size, r, 0] for r in range(host.ranks.size)], np.int64)
    return [exact("size, rank id, async error per rank", got, expected)]


def _send(inputs: list[np.ndarray]):
    """The rank's input on the device, for a mode's body."""
    return lambda rank: DeviceBuffer.from_numpy(inputs[rank.rank])


def _reduce_scatter(host: Host) -> list[Comparison]:
    size, count = host.ranks.size, 250
    name = "hccl/reduce-scatter/sum-float32"
    inputs = [_values("float32", rng_for(name, r), (count * size,)) for r in range(size)]

    def body(rank) -> np.ndarray:
        with _send(inputs)(rank) as send, DeviceBuffer(count * 4) as recv:
            rank.comm.reduce_scatter(send, recv, count, np.float32, "sum", rank.stream)
            rank.stream.synchronize()
            return recv.to_numpy(np.float32)

    total = np.stack([x.astype(np.float64) for x in inputs]).sum(0).astype(np.float32)
    return [Comparison(f"rank {r}", compare(out, total[r * count:(r + 1) * count], "float32"))
            for r, out in enumerate(host.ranks.run(body))]


def _reduce_scatter_v(host: Host) -> list[Comparison]:
    size = host.ranks.size
    counts = [7 + 3 * r for r in range(size)]
    displs = [sum(counts[:r]) for r in range(size)]
    inputs = [rng_for("hccl/reduce-scatter-v", r).integers(-1000, 1000, sum(counts)).astype(np.int32)
              for r in range(size)]

    def body(rank) -> np.ndarray:
        with _send(inputs)(rank) as send, DeviceBuffer(counts[rank.rank] * 4) as recv:
            rank.comm.reduce_scatter_v(send, counts, displs, recv, counts[rank.rank], np.int32, "max", rank.stream)
            rank.stream.synchronize()
            return recv.to_numpy(np.int32)

    top = np.max(inputs, axis=0)
    return [exact(f"rank {r}", out, top[displs[r]:displs[r] + counts[r]]) for r, out in enumerate(host.ranks.run(body))]


def _reduce(host: Host) -> list[Comparison]:
    size, root = host.ranks.size, host.ranks.size - 1
    name = "hccl/reduce/sum-float16"
    inputs = [_values("float16", rng_for(name, r), (400,)) for r in range(size)]

    def body(rank) -> np.ndarray:
        with _send(inputs)(rank) as send, DeviceBuffer(800) as recv:
            rank.comm.reduce(send, recv, 400, np.float16, "sum", root, rank.stream)
            rank.stream.synchronize()
            return recv.to_numpy(np.float16)

    total = np.stack([x.astype(np.float64) for x in inputs]).sum(0).astype(np.float16)
    return [Comparison(f"root {root}", compare(host.ranks.run(body)[root], total, "float16"))]


def _scatter(host: Host) -> list[Comparison]:
    size, count = host.ranks.size, 300
    data = rng_for("hccl/scatter").standard_normal(count * size).astype(np.float32)

    def body(rank) -> np.ndarray:
        with DeviceBuffer.from_numpy(data) as send, DeviceBuffer(count * 4) as recv:
            rank.comm.scatter(send if rank.rank == 0 else None, recv, count, np.float32, 0, rank.stream)
            rank.stream.synchronize()
            return recv.to_numpy(np.float32)

    return [exact(f"rank {r}", out, data[r * count:(r + 1) * count]) for r, out in enumerate(host.ranks.run(body))]


def _all_gather_v(host: Host) -> list[Comparison]:
    size = host.ranks.size
    counts = [(5 * r + 3) % 11 for r in range(size)]
    displs = [sum(counts[r + 1:]) for r in range(size)]  # reversed order
    inputs = [rng_for("hccl/all-gather-v", r).integers(-128, 128, max(counts[r], 1)).astype(np.int8)
              for r in range(size)]

    def body(rank) -> np.ndarray:
        with _send(inputs)(rank) as send, DeviceBuffer(max(sum(counts), 1)) as recv:
            rank.comm.all_gather_v(send, counts[rank.rank], recv, counts, displs, np.int8, rank.stream)
            rank.stream.synchronize()
            return recv.to_numpy(np.int8)[:sum(counts)]

    expected = np.concatenate([inputs[r][:counts[r]] for r in reversed(range(size))])
    return [exact(f"rank {r}", out, expected) for r, out in enumerate(host.ranks.run(body))]


def _all_to_all(kind: str, host: Host) -> list[Comparison]:
    """HcclAlltoAll (bfloat16), HcclAlltoAllV (float32, segments in reverse order) or
    HcclAlltoAllVC (int32, counts differing per pair)."""
    size = host.ranks.size
    matrix = [[(i + 2 * j) % 5 + 1 if kind == "vc" else 64 for j in range(size)] for i in range(size)]
    dtype = {"": ml_dtypes.bfloat16, "v": np.float32, "vc": np.int32}[kind]
    inputs = [_values(dtypes.name_of(dtype), rng_for(f"hccl/all-to-all{kind}", r), (sum(matrix[r]),))
              for r in range(size)]

    def body(rank) -> np.ndarray:
        me = rank.rank
        received = sum(row[me] for row in matrix)
        with _send(inputs)(rank) as send, DeviceBuffer(received * np.dtype(dtype).itemsize) as recv:
            if kind == "":
                rank.comm.all_to_all(send, recv, 64, dtype, rank.stream)
            elif kind == "v":
                back = [sum(matrix[me][j + 1:]) for j in range(size)]
                rank.comm.all_to_all_v(send, matrix[me], back, recv, [row[me] for row in matrix],
                                       [64 * j for j in range(size)], dtype, rank.stream)
            else:
                rank.comm.all_to_all_vc(send, matrix, recv, dtype, rank.stream)
            rank.stream.synchronize()
            return recv.to_numpy(dtype)

    def expected(me: int) -> np.ndarray:
        if kind == "v":  # rank i's segment for me sits at its reversed offset
            return np.concatenate([inputs[i][sum(matrix[i][me + 1:]):][:64] for i in range(size)])
        return np.concatenate([inputs[i][sum(matrix[i][:me]):sum(matrix[i][:me + 1])] for i in range(size)])

    return [exact(f"rank {r}", out, expected(r)) for r, out in enumerate(host.ranks.run(body))]


def _send_recv(host: Host) -> list[Comparison]:
    """HcclSend/HcclRecv between rank pairs (even ranks send first), then a ring in one
    HcclBatchSendRecv per rank."""
    size = host.ranks.size
    inputs = [rng_for("hccl/send-recv", r).standard_normal(256).astype(np.float32) for r in range(size)]

    def body(rank) -> tuple[np.ndarray, np.ndarray]:
        me, peer = rank.rank, rank.rank ^ 1
        with _send(inputs)(rank) as send, DeviceBuffer(1024) as got, DeviceBuffer(1024) as ring:
            if peer < size:
                calls = [lambda: rank.comm.send(send, 256, np.float32, peer, rank.stream),
                         lambda: rank.comm.recv(got, 256, np.float32, peer, rank.stream)]
                for call in calls if me % 2 == 0 else calls[::-1]:
                    call()
            rank.comm.batch_send_recv([("send", send, 256, np.float32, (me + 1) % size),
                                       ("recv", ring, 256, np.float32, (me - 1) % size)], rank.stream)
            rank.stream.synchronize()
            return got.to_numpy(np.float32), ring.to_numpy(np.float32)

    out = []
    for r, (got, ring) in enumerate(host.ranks.run(body)):
        if r ^ 1 < size:
            out.append(exact(f"rank {r} HcclRecv", got, inputs[r ^ 1]))
        out.append(exact(f"rank {r} HcclBatchSendRecv", ring, inputs[(r - 1) % size]))
    return out


def collective_modes() -> list[Mode]:
    checks = [("hccl/all-reduce/sum-float32", partial(_all_reduce, "float32", "sum")),
              ("hccl/all-reduce/sum-float16", partial(_all_reduce, "float16", "sum")),
              ("hccl/all-reduce/sum-bfloat16", partial(_all_reduce, "bfloat16", "sum")),
              ("hccl/all-reduce/max-int32", partial(_all_reduce, "int32", "max")),
              ("hccl/all-reduce/min-int8", partial(_all_reduce, "int8", "min")),
              ("hccl/all-gather/int8", _all_gather), ("hccl/broadcast/float32", _broadcast),
              ("hccl/barrier", _barrier), ("hccl/reduce-scatter/sum-float32", _reduce_scatter),
              ("hccl/reduce-scatter-v/max-int32", _reduce_scatter_v), ("hccl/reduce/sum-float16", _reduce),
              ("hccl/scatter/float32", _scatter), ("hccl/all-gather-v/int8", _all_gather_v),
              ("hccl/all-to-all/bfloat16", partial(_all_to_all, "")),
              ("hccl/all-to-all-v/float32", partial(_all_to_all, "v")),
              ("hccl/all-to-all-vc/int32", partial(_all_to_all, "vc"))]
    pairs = [("hccl/send-recv/float32", _send_recv)]  # a peer other than the rank itself
    return ([Mode(name, run, ranks) for name, run in checks for ranks in RANK_COUNTS]
            + [Mode(name, run, ranks) for name, run in pairs for ranks in RANK_COUNTS if ranks > 1])
