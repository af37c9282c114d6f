"""HCCL with one process per rank, on the mock: the launcher, init_from_env,
root-info hand-off, TCP transport, and the faults that only processes have.

Every rank is a fresh interpreter running the WORKER script below (written to
a temporary file) in one of its modes; each prints one ``RESULT {json}`` line.
Fault tests start the ranks directly (the launcher would stop the others as
soon as one fails, which is what its own test checks).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aclnn_py import launch

ROOT = Path(__file__).resolve().parents[2]

WORKER = r'''
import json, os, sys, time
import numpy as np, ml_dtypes
import aclnn_py
from aclnn_py import DeviceBuffer, Runtime, Stream, hccl
from aclnn_py.errors import AclError, HcclError

MODE = sys.argv[1]
RANK, WORLD = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])


def report(**kw):
    sys.stdout.flush()
    os.write(1, ("RESULT " + json.dumps(kw) + "\n").encode())  # one write: lines of ranks never interleave


def expect_failure(comm, stream, submit):
    """Run ``submit``, then sync; return (error message, seconds, async error)."""
    start = time.monotonic()
    try:
        submit()
        stream.synchronize()
    except (AclError, HcclError) as exc:
        return exc.message, time.monotonic() - start, int(comm.async_error())
    return None, time.monotonic() - start, int(comm.async_error())


def rank_values(dtype, rank, count):
    rng = np.random.default_rng(1000 + rank)
    dt = np.dtype(dtype)
    if dt.kind in "iu":
        return rng.integers(0, 50, count).astype(dt)
    return rng.uniform(-2, 2, count).astype(np.float32).astype(dt)


def collectives(comm, stream):
    types = {"FP32": np.float32, "FP16": np.float16, "BFP16": ml_dtypes.bfloat16, "INT8": np.int8,
             "INT16": np.int16, "INT32": np.int32, "INT64": np.int64}  # the Atlas A2 reductions
    failures, bufs, checks = [], [], []
    for name, dt in types.items():
        for op in ("sum", "prod", "max", "min"):
            if op == "prod" and name in ("INT16", "BFP16"):  # CANN refuses these
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
        wide = np.float32 if name in ("FP16", "BFP16") else dt
        acc = parts[0].astype(wide)
        for p in parts[1:]:
            acc = ufunc[op](acc, p.astype(wide))
        if not np.array_equal(recv.to_numpy(dt), acc.astype(dt)):
            failures.append(f"{name} {op}")
    everyone = [rank_values(np.float32, r, 33) for r in range(WORLD)]
    if not np.array_equal(gathered.to_numpy(np.float32), np.concatenate(everyone)):
        failures.append("all_gather")
    if not np.array_equal(mine.to_numpy(np.float32), everyone[-1]):
        failures.append("broadcast")
    for b in bufs + [gathered, mine]:
        b.close()
    return failures + transfers(comm, stream)


def transfers(comm, stream):
    """The segmented calls across processes (every rank's part goes over TCP but the root's)."""
    n, me = WORLD, RANK
    data = lambda r, k, salt: (np.arange(k, dtype=np.int32) * 7 + r * 1000 + salt)
    keep, checks = [], []

    def buf(array):
        keep.append(DeviceBuffer.from_numpy(array))
        return keep[-1]

    send = buf(data(me, 3 * n, 0))
    rs = buf(np.zeros(3, np.int32))
    comm.reduce_scatter(send, rs, 3, np.int32, "sum", stream)
    checks.append(("reduce_scatter", rs, sum(data(r, 3 * n, 0) for r in range(n))[3 * me:3 * me + 3]))
    red = buf(np.zeros(3 * n, np.int32))
    comm.reduce(send, red, 3 * n, np.int32, "max", root=1, stream=stream)
    checks.append(("reduce", red, np.max([data(r, 3 * n, 0) for r in range(n)], axis=0) if me == 1 else np.zeros(3 * n)))
    sc = buf(np.zeros(3, np.int32))
    comm.scatter(send if me == 2 else None, sc, 3, np.int32, root=2, stream=stream)
    checks.append(("scatter", sc, data(2, 3 * n, 0)[3 * me:3 * me + 3]))
    sizes, gaps = [2, 0, 3, 1][:n], [5, 0, 0, 3][:n]
    agv = buf(np.zeros(7, np.int32))
    comm.all_gather_v(buf(data(me, max(sizes[me], 1), 1)), sizes[me], agv, sizes, gaps, np.int32, stream)
    want = np.zeros(7, np.int32)
    for r in range(n):
        want[gaps[r]:gaps[r] + sizes[r]] = data(r, max(sizes[r], 1), 1)[:sizes[r]]
    checks.append(("all_gather_v", agv, want))
    a2a = buf(np.zeros(3 * n, np.int32))
    comm.all_to_all(send, a2a, 3, np.int32, stream)
    checks.append(("all_to_all", a2a, np.concatenate([data(r, 3 * n, 0)[3 * me:3 * me + 3] for r in range(n)])))
    matrix = [[(i + j) % 3 for j in range(n)] for i in range(n)]
    vsend = buf(data(me, sum(matrix[me]) + 1, 2))
    vc = buf(np.zeros(sum(row[me] for row in matrix) + 1, np.int32))
    comm.all_to_all_vc(vsend, matrix, vc, np.int32, stream)
    want = [data(r, sum(matrix[r]) + 1, 2)[sum(matrix[r][:me]):sum(matrix[r][:me + 1])] for r in range(n)]
    checks.append(("all_to_all_vc", vc, np.concatenate(want + [np.zeros(1, np.int32)])))
    ring = buf(np.zeros(4, np.int32))
    comm.batch_send_recv([("send", buf(data(me, 4, 3)), 4, np.int32, (me + 1) % n),
                          ("recv", ring, 4, np.int32, (me - 1) % n)], stream)
    checks.append(("batch_send_recv", ring, data((me - 1) % n, 4, 3)))
    pair = buf(np.zeros(4, np.int32))
    if me % 2 == 0:
        comm.send(buf(data(me, 4, 4)), 4, np.int32, me + 1, stream)
    else:
        comm.recv(pair, 4, np.int32, me - 1, stream)
    checks.append(("send_recv", pair, data(me - 1, 4, 4) if me % 2 else np.zeros(4)))
    stream.synchronize()
    failures = [name for name, b, want in checks if not np.array_equal(b.to_numpy(np.int32), want)]
    # rank 0 sends 2 elements to rank 1, which expects 1: every rank fails with HCCL_E_PARA naming both
    counts = [1] * n
    recv_counts = [1] * n
    if me == 0:
        counts[1] = 2
    big = buf(np.zeros(2 * n, np.int32))
    msg, _, async_error = expect_failure(comm, stream, lambda: comm.all_to_all_v(
        big, counts, [2 * j for j in range(n)], buf(np.zeros(2 * n, np.int32)), recv_counts,
        [2 * j for j in range(n)], np.int32, stream))
    if async_error != 1 or "rank 0 sends 2 elements to rank 1" not in (msg or ""):
        failures.append(f"all_to_all_v mismatch: {async_error} {msg}")
    for b in keep:
        b.close()
    return failures


def soak(comm, stream, iterations=100, count=256):
    """All-reduces with distinct data per iteration: half queued back to back, half synced one by one."""
    def data(it, rank):
        return np.arange(count, dtype=np.int64) * 3 + it * 1_000_003 + rank * 7919

    expected = [sum(data(it, r) for r in range(WORLD)) for it in range(iterations)]
    send = DeviceBuffer.from_numpy(np.concatenate([data(it, RANK) for it in range(iterations)]))
    recv = DeviceBuffer(iterations * count * 8)
    ptr = lambda buf, it: aclnn_py.ffi.cast("char *", buf.ptr) + it * count * 8
    half = iterations // 2
    for it in range(half):
        comm.all_reduce(ptr(send, it), ptr(recv, it), count, np.int64, "sum", stream)
    stream.synchronize()
    for it in range(half, iterations):
        comm.all_reduce(ptr(send, it), ptr(recv, it), count, np.int64, "sum", stream)
        stream.synchronize()
    got = recv.to_numpy(np.int64).reshape(iterations, count)
    bad = [it for it in range(iterations) if not np.array_equal(got[it], expected[it])]
    send.close(); recv.close()
    return bad


with Runtime():
    if MODE == "token":
        path = sys.argv[2]
        aclnn_py.lib.aclrtSetDevice(RANK)
        if RANK == 0:
            info = hccl.get_root_info()
            with open(path + ".tmp", "wb") as f:
                f.write(info)
            os.rename(path + ".tmp", path)
            comm = hccl.init_root_info(2, info, 0)
            rejected = None
        else:
            while not os.path.exists(path):
                time.sleep(0.02)
            info = open(path, "rb").read()
            forged = bytearray(info)
            forged[32:64] = os.urandom(32)
            try:
                hccl.init_root_info(2, bytes(forged), 1)
                rejected = None
            except HcclError as exc:
                rejected = [exc.code, exc.message]
            comm = hccl.init_root_info(2, info, 1)
    elif MODE == "cluster":
        aclnn_py.lib.aclrtSetDevice([1, 0][RANK])  # the devices of the rank table below
        comm = hccl.init_cluster_info(sys.argv[2], RANK)
        assert comm.device == [1, 0][RANK]
    elif MODE == "connect_timeout":
        start = time.monotonic()
        try:
            hccl.init_from_env()
            report(error=None)
        except HcclError as exc:
            report(error=exc.message, code=exc.code, seconds=time.monotonic() - start)
        sys.exit(0)
    else:
        comm = hccl.init_from_env()
    stream = Stream()
    with comm:
        if MODE == "collectives":
            report(rank=comm.rank, size=comm.size, name=comm.name, failures=collectives(comm, stream))
        elif MODE == "soak":
            report(rank=comm.rank, bad=soak(comm, stream))
        elif MODE in ("token", "cluster"):
            buf = DeviceBuffer.from_numpy(np.full(4, RANK + 1, np.int32))
            comm.all_reduce(buf, buf, 4, np.int32, "sum", stream)
            stream.synchronize()
            report(rank=comm.rank, name=comm.name, sum=buf.to_numpy(np.int32).tolist(),
                   rejected=rejected if MODE == "token" else None)
            buf.close()
        elif MODE == "die":
            victim = int(sys.argv[2])
            buf = DeviceBuffer.from_numpy(np.ones(8, np.float32))
            comm.all_reduce(buf, buf, 8, np.float32, "sum", stream)
            stream.synchronize()
            if RANK == victim:
                time.sleep(0.5)  # the others are waiting for it in their next all-reduce
                os._exit(3)  # dies without HcclCommDestroy
            msg, seconds, async_error = expect_failure(
                comm, stream, lambda: comm.all_reduce(buf, buf, 8, np.float32, "sum", stream))
            report(rank=RANK, error=msg, seconds=seconds, async_error=async_error)
        elif MODE == "missing":
            buf = DeviceBuffer.from_numpy(np.ones(8, np.float32))
            if RANK == 1:
                time.sleep(float(os.environ["HCCL_EXEC_TIMEOUT"]) + 1.5)
                report(rank=RANK, error="skipped")
            else:
                msg, seconds, async_error = expect_failure(
                    comm, stream, lambda: comm.all_reduce(buf, buf, 8, np.float32, "sum", stream))
                report(rank=RANK, error=msg, seconds=seconds, async_error=async_error)
        elif MODE == "mismatch":
            buf = DeviceBuffer.from_numpy(np.ones(32, np.float32))
            out = DeviceBuffer(32 * 4 * WORLD)
            if RANK == 0:
                submit = lambda: comm.all_reduce(buf, buf, 16, np.float32, "sum", stream)
            else:
                submit = lambda: comm.all_gather(buf, out, 8, np.float32, stream)
            msg, seconds, async_error = expect_failure(comm, stream, submit)
            report(rank=RANK, error=msg, seconds=seconds, async_error=async_error)
        elif MODE == "fail":
            if RANK == 1:
                sys.exit(3)
            time.sleep(60)
        stream.close()
'''


@pytest.fixture(scope="module")
def worker(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("hccl_worker") / "worker.py"
    path.write_text(WORKER)
    return path


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.setdefault("ACLNN_PY_BACKEND", "mock")
    env.update({"HCCL_EXEC_TIMEOUT": "20", "HCCL_CONNECT_TIMEOUT": "20"})
    env.update(extra)
    return env


def results(output: str) -> list[dict]:
    return [json.loads(line[len("RESULT "):]) for line in output.splitlines() if line.startswith("RESULT ")]


def launch_cmd(worker: Path, n: int, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "aclnn_py.launch", "-n", str(n), "--timeout", "100", str(worker), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=_env(**env), cwd=ROOT)


def spawn(worker: Path, ranks: list[int], world: int, *args: str, timeout: float = 60, **env: str) -> dict[int, tuple[int, str, str]]:
    """Start the given ranks directly (no launcher); {rank: (returncode, stdout, stderr)}."""
    port = launch.free_port()
    procs = {}
    for rank in ranks:
        rank_env = launch.rank_environment(rank, world, "127.0.0.1", port, "s3cret", _env(**env))
        procs[rank] = subprocess.Popen([sys.executable, str(worker), *args], env=rank_env, cwd=ROOT,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = {}
    deadline = time.monotonic() + timeout
    try:
        for rank, p in procs.items():
            stdout, stderr = p.communicate(timeout=max(1.0, deadline - time.monotonic()))
            out[rank] = (p.returncode, stdout, stderr)
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()
    return out


# -- normal operation ---------------------------------------------------------------------------
@pytest.mark.long
@pytest.mark.parametrize("n", [4])  # two processes: tests/binding/test_launch.py
def test_collectives_in_processes(worker, n):
    done = launch_cmd(worker, n, "collectives")
    assert done.returncode == 0, done.stdout + done.stderr
    found = results(done.stdout)
    assert sorted(r["rank"] for r in found) == list(range(n))
    assert all(r["size"] == n and not r["failures"] for r in found), found
    assert len({r["name"] for r in found}) == 1


@pytest.mark.long
def test_four_processes_hundred_all_reduces(worker):
    done = launch_cmd(worker, 4, "soak")
    assert done.returncode == 0, done.stdout + done.stderr
    found = results(done.stdout)
    assert sorted(r["rank"] for r in found) == [0, 1, 2, 3]
    assert all(r["bad"] == [] for r in found), found


def test_example_runs_under_the_launcher():
    command = [sys.executable, "-m", "aclnn_py.launch", "-n", "4", "--timeout", "100", "examples/hccl_processes.py"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=_env(), cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("all_reduce ok, all_gather ok, broadcast ok") == 4


def test_threads_example():
    done = subprocess.run([sys.executable, "examples/hccl_threads.py", "4"], capture_output=True, text=True,
                          timeout=120, env=_env(), cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK" in done.stdout


def test_cluster_info_two_processes(worker, tmp_path):
    table = {"version": "1.0", "server_count": "1", "status": "completed", "server_list": [
        {"server_id": "127.0.0.1", "device": [{"device_id": "1", "device_ip": "192.0.2.1", "rank_id": "0"},
                                              {"device_id": "0", "device_ip": "192.0.2.2", "rank_id": "1"}]}]}
    path = tmp_path / "rank_table.json"
    path.write_text(json.dumps(table))
    out = spawn(worker, [0, 1], 2, "cluster", str(path))
    found = [results(o)[0] for _, o, _ in out.values()]
    assert all(code == 0 for code, _, _ in out.values()), out
    assert all(r["sum"] == [3, 3, 3, 3] for r in found) and len({r["name"] for r in found}) == 1


def test_process_with_a_wrong_token_cannot_join(worker, tmp_path):
    out = spawn(worker, [0, 1], 2, "token", str(tmp_path / "root_info.bin"))
    assert all(code == 0 for code, _, _ in out.values()), out
    by_rank = {r["rank"]: r for _, o, _ in out.values() for r in results(o)}
    code, message = by_rank[1]["rejected"]
    assert code == 1 and "wrong token" in message  # HCCL_E_PARA
    assert by_rank[0]["sum"] == by_rank[1]["sum"] == [3, 3, 3, 3]


# -- faults ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("victim", [2, 0], ids=["rank2-dies", "root-dies"])
def test_dead_process_fails_the_others_promptly(worker, victim):
    out = spawn(worker, [0, 1, 2], 3, "die", str(victim), HCCL_EXEC_TIMEOUT="30")
    assert out[victim][0] == 3
    for rank in {0, 1, 2} - {victim}:
        code, stdout, stderr = out[rank]
        assert code == 0, stdout + stderr
        (r,) = results(stdout)
        assert r["error"] and (f"rank(s) [{victim}]" in r["error"] or f"rank {victim} " in r["error"]), r
        assert "died" in r["error"]
        assert r["seconds"] < 10
        assert r["async_error"] == 21  # HCCL_E_REMOTE


@pytest.mark.long
def test_missing_rank_in_processes_times_out(worker):
    out = spawn(worker, [0, 1, 2], 3, "missing", HCCL_EXEC_TIMEOUT="2")
    for rank in (0, 2):
        code, stdout, stderr = out[rank]
        assert code == 0, stdout + stderr
        (r,) = results(stdout)
        assert "rank(s) [1] of 3 never arrived" in r["error"] and "HCCL_EXEC_TIMEOUT" in r["error"]
        assert 1.5 < r["seconds"] < 10
        assert r["async_error"] == 9  # HCCL_E_TIMEOUT


def test_mismatched_collectives_in_processes(worker):
    out = spawn(worker, [0, 1], 2, "mismatch")
    for rank in (0, 1):
        code, stdout, stderr = out[rank]
        assert code == 0, stdout + stderr
        (r,) = results(stdout)
        assert "HcclAllReduce(count=16, dtype=FP32, op=SUM)" in r["error"]
        assert "HcclAllGather(sendCount=8, dtype=FP32)" in r["error"]
        assert r["seconds"] < 10 and r["async_error"] == 1  # HCCL_E_PARA


def test_rank_that_never_starts_times_out_the_rendezvous(worker):
    out = spawn(worker, [0], 2, "connect_timeout", HCCL_CONNECT_TIMEOUT="2")
    code, stdout, stderr = out[0]
    assert code == 0, stdout + stderr
    (r,) = results(stdout)
    assert r["code"] == 9 and "rank(s) [1] of 2 never joined" in r["error"] and "HCCL_CONNECT_TIMEOUT" in r["error"]
    assert r["seconds"] < 10


def test_launcher_stops_the_others_when_one_rank_fails(worker):
    start = time.monotonic()
    done = launch_cmd(worker, 3, "fail", timeout=60)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "rank 1" in done.stderr and "exited with code 3" in done.stderr
    assert time.monotonic() - start < 30
