"""Runtime basics (device memory, copies, events, tensors of every dtype) and the HCCL
collectives on 1, 2, 4 and 8 ranks; results must be exact (floating sums: CANN's standard)."""
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


def collective_modes() -> list[Mode]:
    checks = [("hccl/all-reduce/sum-float32", partial(_all_reduce, "float32", "sum")),
              ("hccl/all-reduce/sum-float16", partial(_all_reduce, "float16", "sum")),
              ("hccl/all-reduce/sum-bfloat16", partial(_all_reduce, "bfloat16", "sum")),
              ("hccl/all-reduce/max-int32", partial(_all_reduce, "int32", "max")),
              ("hccl/all-reduce/min-int8", partial(_all_reduce, "int8", "min")),
              ("hccl/all-gather/int8", _all_gather), ("hccl/broadcast/float32", _broadcast),
              ("hccl/barrier", _barrier)]
    return [Mode(name, run, ranks) for name, run in checks for ranks in RANK_COUNTS]
