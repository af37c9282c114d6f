"""init_from_env under mpirun: the root info goes out as an MPI broadcast (mpi4py), as HCCL's samples do.

mpi4py and an MPI library are not installed here, so a stand-in ``mpi4py`` package (on PYTHONPATH of
the two rank processes only) implements ``COMM_WORLD.bcast`` through files; the ranks get Open MPI's
environment and no MASTER_ADDR/MASTER_PORT, so a TCP hand-off could not find rank 0.
"""
from __future__ import annotations

import os
import subprocess
import sys

FAKE_MPI = '''
import os, pickle, time
from pathlib import Path

class _World:
    def __init__(self):
        self.dir = Path(os.environ["FAKE_MPI_DIR"])
    def Get_rank(self):
        return int(os.environ["OMPI_COMM_WORLD_RANK"])
    def Get_size(self):
        return int(os.environ["OMPI_COMM_WORLD_SIZE"])
    def bcast(self, obj, root=0):
        box = self.dir / "bcast"
        (self.dir / f"called-{self.Get_rank()}").write_text("1")
        if self.Get_rank() == root:
            tmp = self.dir / "bcast.tmp"
            tmp.write_bytes(pickle.dumps(obj))
            tmp.rename(box)
            return obj
        deadline = time.monotonic() + 60
        while not box.exists():
            if time.monotonic() > deadline:
                raise TimeoutError("no broadcast from the root")
            time.sleep(0.01)
        return pickle.loads(box.read_bytes())

COMM_WORLD = _World()
'''

RANK_SCRIPT = '''
import numpy as np
from aclnn_py import DeviceBuffer, Runtime, Stream, hccl
with Runtime():
    with hccl.init_from_env() as comm:
        stream = Stream()
        data = np.full(8, comm.rank + 1, np.float32)
        with DeviceBuffer.from_numpy(data) as send, DeviceBuffer(data.nbytes) as recv:
            comm.all_reduce(send, recv, 8, "float32", stream=stream)
            stream.synchronize()
            print("rank", comm.rank, "of", comm.size, recv.to_numpy(np.float32).tolist())
        stream.close()
'''


def test_mpirun_ranks_share_the_root_info_by_broadcast(tmp_path):
    package = tmp_path / "site" / "mpi4py"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "MPI.py").write_text(FAKE_MPI)
    box = tmp_path / "box"
    box.mkdir()
    procs = []
    for rank in range(2):
        env = {k: v for k, v in os.environ.items()
               if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
        env.update(OMPI_COMM_WORLD_RANK=str(rank), OMPI_COMM_WORLD_SIZE="2", OMPI_COMM_WORLD_LOCAL_RANK=str(rank),
                   FAKE_MPI_DIR=str(box), ACLNN_PY_HANDOFF_PORT="1",  # a TCP hand-off would fail on port 1
                   PYTHONPATH=os.pathsep.join([str(tmp_path / "site"), os.environ.get("PYTHONPATH", "")]))
        procs.append(subprocess.Popen([sys.executable, "-c", RANK_SCRIPT], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    outputs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outputs):
        assert p.returncode == 0, err
    assert sorted(out.strip() for out, _ in outputs) == [f"rank {r} of 2 {[3.0] * 8}" for r in range(2)]
    assert sorted(f.name for f in box.iterdir() if f.name.startswith("called")) == ["called-0", "called-1"]
