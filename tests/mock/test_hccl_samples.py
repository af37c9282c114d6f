"""CANN's HCCL and hcomm sample programs, as API sequences: our own programs in their style
(tests/mock/c/hccl_samples.cc: thread ranks; tests/mock/c/hccl_mpi.cc: one process per rank under
mpirun), compiled with the samples' own flags (-Werror, PIE, relro, ...) against include/ and the
mock's libraries, print the results CANN's README files give for them (here on 4 ranks).

mpirun, mpi.h and libmpi come from the ``mpich`` wheel of the test extra (docs/hccl.md says why);
the real samples' results: docs/hccl.md, "CANN's sample programs".
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mock_helpers import C_DIR, ROOT, require_tool

from aclnn_py.semantics.headers import include_dir

#: The samples' Makefile flags (hicann/hccl examples/*/Makefile; hcomm's use -std=c++17).
SAMPLE_FLAGS = ["-Werror", "-fstack-protector-strong", "-fPIE", "-pie", "-O2", "-s", "-Wl,-z,relro", "-Wl,-z,now",
                "-Wl,-z,noexecstack", "-Wl,--copy-dt-needed-entries"]
RANKS = 4


def build(source: Path, out: Path, libdir: Path, std: str, *extra: str) -> Path:
    command = [require_tool("g++"), std, *SAMPLE_FLAGS, str(source), "-I", str(include_dir()), *extra,
               f"-L{libdir}", "-lhccl", "-lascendcl", "-o", str(out)]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, " ".join(command) + "\n" + done.stdout + done.stderr
    return out


def environment(libdir: Path, *more: str, **extra: str) -> dict[str, str]:
    env = {"PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"]),
           "LD_LIBRARY_PATH": os.pathsep.join([str(libdir), *more]), "ACLNN_MOCK_DEVICE_COUNT": str(RANKS),
           "HCCL_EXEC_TIMEOUT": "30", "HCCL_CONNECT_TIMEOUT": "30"}
    if "HOME" in os.environ:
        env["HOME"] = os.environ["HOME"]
    env.update(extra)
    return env


def outputs(text: str, prefix: str = "") -> dict[int, list[float]]:
    found = {}
    for m in re.finditer(rf"^{prefix}rankId: (\d+), output: \[([^\]]*)\]$", text, re.M):
        found[int(m.group(1))] = [float(v) for v in m.group(2).split()]
    return found


@pytest.fixture(scope="module")
def threads_program(tmp_path_factory, mock_libdir) -> Path:
    return build(C_DIR / "hccl_samples.cc", tmp_path_factory.mktemp("samples") / "hccl_samples", mock_libdir,
                 "-std=c++14")


N = RANKS
EXPECTED = {  # the pattern of each README's output, for N ranks
    "send_recv": {r: [r - 1.0] * N for r in range(1, N, 2)},
    "batch_send_recv_ring": {r: [float((r - 1) % N)] * N for r in range(N)},
    "allreduce": {r: [float(N * i) for i in range(N)] for r in range(N)},
    "pthread_config": {r: [float(N * i) for i in range(N)] for r in range(N)},
    "broadcast": {r: [float(i) for i in range(N)] for r in range(N)},
    "allgather": {r: [float(i) for i in range(N)] for r in range(N)},
    "reduce_scatter": {r: [float(N * r)] for r in range(N)},
    "reduce": {r: [float(N * i) for i in range(N)] if r == 0 else [0.0] * N for r in range(N)},
    "alltoall": {r: [float(i) for i in range(N)] for r in range(N)},
    "alltoallv": {r: [float(i) for i in range(N)] for r in range(N)},
    "alltoallvc": {r: [float(i) for i in range(N)] for r in range(N)},
    "scatter": {r: [float(r)] for r in range(N)},
}


def test_sample_sequences_with_thread_ranks(threads_program, mock_libdir):
    """Every sample's sequence, one round each in one process (a process per sample costs seconds)."""
    done = subprocess.run([str(threads_program), *EXPECTED], capture_output=True, text=True, timeout=120,
                          env=environment(mock_libdir), cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Found {N} NPU device(s) available" in done.stdout
    assert "failed ranks: 0" in done.stdout
    rounds = dict(re.findall(r"^== (\w+)\n(.*?)(?=^== |^failed ranks)", done.stdout, re.M | re.S))
    assert list(rounds) == list(EXPECTED), done.stdout
    for operation, text in rounds.items():
        assert outputs(text) == EXPECTED[operation], (operation, text)
    assert "leaked" not in done.stderr, done.stderr


# -- one process per rank, under mpirun ---------------------------------------------------------
def _mpich() -> tuple[Path, Path, Path]:
    """mpirun, the directory of mpi.h and the directory of libmpi.so of the ``mpich`` wheel."""
    try:
        files = importlib.metadata.files("mpich") or []
    except importlib.metadata.PackageNotFoundError:
        pytest.fail("the mpich wheel is not installed: pip install '.[test]' brings it (mpirun, mpi.h, libmpi)")
    paths = {f.name: Path(f.locate()).resolve() for f in files}
    return paths["mpirun"], paths["mpi.h"].parent, paths["libmpi.so"].parent


@pytest.fixture(scope="module")
def mpi_program(tmp_path_factory, mock_libdir):
    mpirun, include, lib = _mpich()
    out = build(C_DIR / "hccl_mpi.cc", tmp_path_factory.mktemp("samples_mpi") / "hccl_mpi", mock_libdir,
                "-std=c++17", "-I", str(include), f"-L{lib}", "-lmpi")
    return out, mpirun, lib


def _rank_tables(directory: Path, n: int) -> tuple[Path, Path]:
    v1 = {"status": "completed", "version": "1.0", "server_count": "1", "server_list": [
        {"server_id": "SERVER_ID_SV1", "device": [
            {"device_id": str(d), "device_ip": f"192.0.2.{d + 8}", "rank_id": str(d)} for d in range(n)]}]}
    v2 = {"version": "2.0", "rank_count": n, "status": "completed", "rank_list": [
        {"rank_id": d, "device_id": d, "local_id": d, "level_list": [
            {"net_layer": 0, "net_instance_id": "az0-rack0", "net_type": "TOPO_FILE_DESC", "net_attr": "",
             "rank_addr_list": [{"addr_type": "IPV4", "addr": f"198.51.100.{d}", "ports": [f"0/{d}"]}]}]}
        for d in range(n)]}
    (directory / "rank_table.json").write_text(json.dumps(v1))
    (directory / "rank_table_v2.json").write_text(json.dumps(v2))
    return directory / "rank_table.json", directory / "rank_table_v2.json"


def test_one_process_per_rank_under_mpirun(mpi_program, mock_libdir, tmp_path):
    """hcomm's two MPI samples in one launch (on Ascend 950: the rank table is version 2.0)."""
    program, mpirun, lib = mpi_program
    tables = [str(p) for p in _rank_tables(tmp_path, N)]
    done = subprocess.run([str(mpirun), "-n", str(N), str(program), *tables], capture_output=True, text=True,
                          timeout=180, cwd=tmp_path, env=environment(mock_libdir, str(lib), ACLNN_MOCK_SOC="Ascend950PR"))
    assert done.returncode == 0, done.stdout + done.stderr
    for name in ("comm_1", "comm_2"):
        assert outputs(done.stdout, f"{name} allreduce ") == {r: [float(N * i) for i in range(N)] for r in range(N)}
        assert outputs(done.stdout, f"{name} alltoallv ") == {r: [float(i) for i in range(N)] for r in range(N)}
