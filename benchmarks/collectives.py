"""HCCL all-reduce on the mock, compared with a plain NumPy sum of the same buffers.

    python benchmarks/collectives.py [--ranks 8] [--mib 64] [--repeat 3]

Eight thread-ranks (HcclCommInitAll, one context and stream per rank), each
all-reducing (sum) a 64 MiB float32 buffer through the Python binding. The
time of one all-reduce is measured from a barrier that releases every rank to
the moment the last rank's stream is synchronised; the baseline is NumPy
adding the same eight host arrays (``a0 + a1``, then ``+=`` the rest). The
machine, the best of ``--repeat`` interleaved runs of each, and their ratio are
printed.
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("ACLNN_PY_BACKEND", "mock")

from aclnn_py import Context, Device, DeviceBuffer, Runtime, Stream, backend, hccl  # noqa: E402
from machine import describe  # noqa: E402


def numpy_sum(arrays: list[np.ndarray]) -> np.ndarray:
    total = arrays[0] + arrays[1] if len(arrays) > 1 else arrays[0].copy()
    for a in arrays[2:]:
        total += a
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", type=int, default=8)
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n, count = args.ranks, args.mib * (1 << 20) // 4
    machine = describe()

    rng = np.random.default_rng(0)
    host = [rng.standard_normal(count, dtype=np.float32) for _ in range(n)]
    expected = numpy_sum(host)
    baseline = []

    with Runtime():
        devices = [Device(i) for i in range(n)]
        comms = hccl.init_all(range(n))
        gate = threading.Barrier(n + 1)
        done = threading.Barrier(n + 1)
        ok: dict[int, bool] = {}

        def rank_main(comm: hccl.Communicator) -> None:
            with Context(comm.device), Stream() as stream:
                send = DeviceBuffer.from_numpy(host[comm.rank])
                recv = DeviceBuffer(count * 4)
                for _ in range(args.repeat):
                    gate.wait()
                    comm.all_reduce(send, recv, count, np.float32, "sum", stream)
                    stream.synchronize()
                    done.wait()
                ok[comm.rank] = bool(np.array_equal(recv.to_numpy(np.float32), expected))
                send.close()
                recv.close()

        threads = [threading.Thread(target=rank_main, args=(c,)) for c in comms]
        for t in threads:
            t.start()
        timings = []
        for _ in range(args.repeat):  # interleaved with the baseline: both see the same load
            start = time.perf_counter()
            numpy_sum(host)
            baseline.append(time.perf_counter() - start)
            gate.wait()
            start = time.perf_counter()
            done.wait()
            timings.append(time.perf_counter() - start)
        for t in threads:
            t.join()
        for c in comms:
            c.close()
        for d in devices:
            d.close()

    best, base = min(timings), min(baseline)
    print(f"machine: {machine}")
    print(f"backend: {backend()}; {n} ranks x {args.mib} MiB float32, all-reduce sum; results correct: {all(ok.values()) and len(ok) == n}")
    print(f"HcclAllReduce (mock, through the binding): {best * 1000:.1f} ms")
    print(f"NumPy sum of the same {n} buffers:          {base * 1000:.1f} ms")
    print(f"ratio: {best / base:.2f}x")


if __name__ == "__main__":
    main()
