"""One process per rank (aclnn_py.launch): the launcher's environment, the rank variables of
torchrun, Open MPI and MPICH, ranks that end with a killed launcher, and every collective in two
processes started by the launcher (float sums and products under CANN's precision standard, and
bit for bit as the mock documents them where its libraries are loaded). (The mock's faults
between processes: tests/mock/test_hccl_processes.py; the hand-off's authentication:
test_handoff_security.py.)"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from binding_helpers import mock_library, skip_unless_devices

from aclnn_py import launch

ROOT = Path(__file__).resolve().parents[2]
WORKER = r'''
import json, os, sys
import numpy as np, ml_dtypes
from aclnn_py import DeviceBuffer, Runtime, Stream, hccl
from aclnn_py.semantics.precision import compare

RANK, WORLD = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
BIT_EXACT = os.environ["BIT_EXACT"] == "1"  # the mock's documented float reductions, bit for bit
RULE = {"FP32": "float32", "FP16": "float16", "BFP16": "bfloat16", "FP64": "float32"}


def rank_values(dtype, rank, count):
    rng = np.random.default_rng(1000 + rank)
    dt = np.dtype(dtype)
    if dt.kind in "iu":
        return rng.integers(0, 50, count).astype(dt)
    return rng.uniform(0.5, 2, count).astype(np.float32).astype(dt)  # no cancellation, no underflow


def collectives(comm, stream):
    # the AllReduce types of every product (docs/hccl.md: "reduce"); PROD takes neither INT16 nor BFP16
    types = {"FP32": np.float32, "FP16": np.float16, "BFP16": ml_dtypes.bfloat16, "INT8": np.int8,
             "INT16": np.int16, "INT32": np.int32, "INT64": np.int64}
    failures, bufs, checks = [], [], []
    for name, dt in types.items():
        for op in ("sum", "prod", "max", "min"):
            if op == "prod" and name in ("INT16", "BFP16"):
                continue
            send = DeviceBuffer.from_numpy(rank_values(dt, RANK, 33))
            recv = DeviceBuffer(33 * np.dtype(dt).itemsize)
            comm.all_reduce(send, recv, 33, dt, op, stream)
            bufs += [send, recv]
            checks.append((name, dt, op, recv))
    gathered = DeviceBuffer(33 * 4 * WORLD)
    mine = DeviceBuffer.from_numpy(rank_values(np.float32, RANK, 33))
    comm.all_gather(mine, gathered, 33, np.float32, stream)
    comm.broadcast(mine, 33, np.float32, root=WORLD - 1, stream=stream)
    comm.barrier(stream)
    stream.synchronize()
    ufunc = {"sum": np.add, "prod": np.multiply, "max": np.maximum, "min": np.minimum}
    for name, dt, op, recv in checks:
        parts = [rank_values(dt, r, 33) for r in range(WORLD)]
        got = recv.to_numpy(dt)
        if name in RULE and op in ("sum", "prod"):  # CANN's precision standard against float64
            if not compare(got, ufunc[op].reduce([p.astype(np.float64) for p in parts]), RULE[name]).passed:
                failures.append(f"{name} {op} (precision)")
            if not BIT_EXACT:
                continue
        wide = np.float32 if name in ("FP16", "BFP16") else dt
        acc = parts[0].astype(wide)
        for p in parts[1:]:
            acc = ufunc[op](acc, p.astype(wide))
        if not np.array_equal(got, acc.astype(dt)):
            failures.append(f"{name} {op}")
    everyone = [rank_values(np.float32, r, 33) for r in range(WORLD)]
    if not np.array_equal(gathered.to_numpy(np.float32), np.concatenate(everyone)):
        failures.append("all_gather")
    if not np.array_equal(mine.to_numpy(np.float32), everyone[-1]):
        failures.append("broadcast")
    for b in bufs + [gathered, mine]:
        b.close()
    return failures


with Runtime():
    comm = hccl.init_from_env()
    stream = Stream()
    with comm:
        failures = collectives(comm, stream)
        os.write(1, ("RESULT " + json.dumps(dict(rank=comm.rank, size=comm.size, name=comm.name,
                                                 failures=failures)) + "\n").encode())
    stream.close()
'''


def test_collectives_in_two_processes(runtime, tmp_path):
    skip_unless_devices(2, "2 rank processes")
    worker = tmp_path / "worker.py"
    worker.write_text(WORKER)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env["BIT_EXACT"] = "1" if mock_library() else "0"
    command = [sys.executable, "-m", "aclnn_py.launch", "-n", "2", "--timeout", "100", str(worker)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    found = [json.loads(line[len("RESULT "):]) for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert sorted(r["rank"] for r in found) == [0, 1]
    assert all(r["size"] == 2 and not r["failures"] for r in found), found
    assert len({r["name"] for r in found}) == 1


def test_launcher_environment():
    env = launch.rank_environment(2, 4, "127.0.0.1", 12345, "x", {})
    assert env["RANK"] == "2" and env["WORLD_SIZE"] == "4" and env["LOCAL_RANK"] == "2"
    assert env["MASTER_ADDR"] == "127.0.0.1" and env["MASTER_PORT"] == "12345"


def test_env_ranks_and_handoff_port(monkeypatch):
    from aclnn_py.launch import handoff

    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "TORCHELASTIC_RUN_ID", "ACLNN_PY_HANDOFF_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMPI_COMM_WORLD_RANK", "3")
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "4")
    monkeypatch.setenv("OMPI_COMM_WORLD_LOCAL_RANK", "1")
    assert handoff.env_ranks() == (3, 4, 1)
    monkeypatch.setenv("RANK", "2")
    monkeypatch.setenv("WORLD_SIZE", "8")
    monkeypatch.setenv("LOCAL_RANK", "2")
    assert handoff.env_ranks() == (2, 8, 2)
    monkeypatch.setenv("MASTER_PORT", "40000")
    assert handoff.handoff_port() == 40000
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "x")
    assert handoff.handoff_port() == 40001
    monkeypatch.setenv("ACLNN_PY_HANDOFF_PORT", "40500")
    assert handoff.handoff_port() == 40500


def test_without_mpi4py_mpirun_falls_back_to_the_tcp_hand_off(monkeypatch):
    from aclnn_py.launch import handoff

    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "2")
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # "not installed"
    assert handoff.mpi_world() is None
    monkeypatch.delenv("OMPI_COMM_WORLD_SIZE")
    monkeypatch.delitem(sys.modules, "mpi4py")
    assert handoff.mpi_world() is None  # not started by mpirun


def test_mpich_variables_name_the_rank(monkeypatch):
    from aclnn_py.launch import handoff

    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE",
                "OMPI_COMM_WORLD_LOCAL_RANK"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PMI_RANK", "3")
    monkeypatch.setenv("PMI_SIZE", "4")
    monkeypatch.setenv("MPI_LOCALRANKID", "1")
    assert handoff.env_ranks() == (3, 4, 1)


RANK_LOOP = """
import os, sys, time
with open(os.path.join(sys.argv[1], os.environ["RANK"] + ".tmp"), "w") as f:
    f.write(str(os.getpid()))
os.rename(os.path.join(sys.argv[1], os.environ["RANK"] + ".tmp"), os.path.join(sys.argv[1], os.environ["RANK"]))
while True:
    time.sleep(0.05)
"""


def _running(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie nobody has reaped yet has ended)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's prctl")
def test_ranks_end_when_the_launcher_is_killed(tmp_path):
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    script = tmp_path / "loop.py"
    script.write_text(RANK_LOOP)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    launcher = subprocess.Popen([sys.executable, "-m", "aclnn_py.launch", "-n", "3", str(script), str(pid_dir)],
                                env=env, cwd=ROOT)
    pids: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while len(pids) < 3:
            assert launcher.poll() is None and time.monotonic() < deadline, "the ranks did not start"
            pids = [int((pid_dir / str(r)).read_text()) for r in range(3) if (pid_dir / str(r)).exists()]
            time.sleep(0.02)
        launcher.kill()  # kill -9: the launcher cannot stop its ranks itself
        launcher.wait()
        deadline = time.monotonic() + 5
        while any(map(_running, pids)) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not [p for p in pids if _running(p)], "ranks outlived their killed launcher"
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
        for pid in pids:
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
