"""HCCL collectives with one process per rank.

    python -m aclnn_py.launch -n 4 examples/hccl_processes.py

(torchrun --nproc-per-node 4 or mpirun -n 4 work too: the script reads
RANK/WORLD_SIZE/LOCAL_RANK or Open MPI's variables, and MASTER_ADDR/PORT.)
Rank 0 creates the HCCL root info and hands it to the others; every rank
then joins the communicator on device LOCAL_RANK, all-reduces, all-gathers
and broadcasts, and checks the results.
"""
from __future__ import annotations

import sys

import numpy as np

from aclnn_py import DeviceBuffer, Runtime, Stream, hccl

COUNT = 256


def main() -> int:
    with Runtime():
        with hccl.init_from_env() as comm, Stream() as stream:
            rank, size = comm.rank, comm.size
            mine = np.arange(COUNT, dtype=np.float32) + 1000 * rank
            send = DeviceBuffer.from_numpy(mine)
            summed = DeviceBuffer(COUNT * 4)
            gathered = DeviceBuffer(COUNT * 4 * size)
            comm.all_reduce(send, summed, COUNT, np.float32, "sum", stream)
            comm.all_gather(send, gathered, COUNT, np.float32, stream)
            comm.broadcast(send, COUNT, np.float32, root=size - 1, stream=stream)
            stream.synchronize()
            everyone = [np.arange(COUNT, dtype=np.float32) + 1000 * r for r in range(size)]
            checks = {
                "all_reduce": np.array_equal(summed.to_numpy(np.float32), np.sum(everyone, axis=0)),
                "all_gather": np.array_equal(gathered.to_numpy(np.float32), np.concatenate(everyone)),
                "broadcast": np.array_equal(send.to_numpy(np.float32), everyone[-1]),
            }
            print(f"rank {rank}/{size} of {comm.name!r}: " + ", ".join(f"{k} {'ok' if v else 'WRONG'}" for k, v in checks.items()),
                  flush=True)
            for b in (send, summed, gathered):
                b.close()
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
