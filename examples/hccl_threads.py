"""HCCL all-reduce with one thread per rank, as CANN's C samples do.

    python examples/hccl_threads.py [NUM_DEVICES]

One process: aclInit, aclrtSetDevice for every device, HcclCommInitAll, then
one thread per rank with its own context and stream. Each rank contributes
``rank + 1`` and checks that every element of the result is
``1 + 2 + ... + N``. Runs on real CANN or on the mock
(ACLNN_PY_BACKEND=mock, or auto when no CANN is installed).
"""
from __future__ import annotations

import sys
import threading

import numpy as np

from aclnn_py import Context, Device, DeviceBuffer, Runtime, Stream, hccl

COUNT = 1024


def rank_main(comm: hccl.Communicator, results: dict[int, np.ndarray]) -> None:
    with Context(comm.device), Stream() as stream:
        send = DeviceBuffer.from_numpy(np.full(COUNT, comm.rank + 1, np.float32))
        recv = DeviceBuffer(COUNT * 4)
        comm.all_reduce(send, recv, COUNT, np.float32, "sum", stream)
        stream.synchronize()
        results[comm.rank] = recv.to_numpy(np.float32)
        send.close()
        recv.close()


def main(ndev: int) -> int:
    with Runtime():
        devices = [Device(i) for i in range(ndev)]
        comms = hccl.init_all(range(ndev))
        print(f"communicator {comms[0].name!r}: {comms[0].size} ranks")
        results: dict[int, np.ndarray] = {}
        threads = [threading.Thread(target=rank_main, args=(c, results)) for c in comms]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        expected = ndev * (ndev + 1) / 2
        ok = len(results) == ndev and all(np.all(r == expected) for r in results.values())
        for rank in sorted(results):
            print(f"rank {rank}: {results[rank][:4]} ... (expected {expected:g})")
        for c in comms:
            c.close()
        for d in devices:
            d.close()
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 4))
