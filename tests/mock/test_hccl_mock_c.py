"""HCCL through the C ABI: a C program linked against the mock's libraries.

tests/c/hccl_allreduce.c does what CANN's C samples do (aclInit,
aclrtSetDevice for every device, HcclCommInitAll, one thread per rank with
its own context and stream) and checks all-reduce (sum, max in place),
all-gather, broadcast and the communicator name in C. Its ``config`` mode
prints the bytes of the header's inline HcclCommConfigInit, which must equal
aclnn_py.hccl.comm_config_init() byte for byte.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from mock_helpers import C_DIR, ROOT, build_cpp

SOURCE = C_DIR / "hccl_allreduce.c"


@pytest.fixture(scope="module")
def program(tmp_path_factory, mock_libdir) -> Path:
    return build_cpp([SOURCE], tmp_path_factory.mktemp("hccl_c") / "hccl_allreduce", mock_libdir)


def run(program: Path, libdir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "LD_LIBRARY_PATH": str(libdir), "HCCL_EXEC_TIMEOUT": "20"}
    for name in ("HOME", "ACLNN_MOCK_DEVICE_COUNT"):
        if name in os.environ:
            env[name] = os.environ[name]
    return subprocess.run([str(program), *args], capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)


@pytest.mark.parametrize("ranks", [2, 4])
def test_c_allreduce_threads(program, mock_libdir, ranks):
    result = run(program, mock_libdir, "run", str(ranks))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"ranks={ranks} failures=0" in result.stdout
    assert "capability=12" in result.stdout and "timeout_text=timeout" in result.stdout  # Atlas A2: RESERVED


def test_comm_config_init_matches_the_c_inline_function(program, mock_libdir):
    from aclnn_py import ffi, hccl

    result = run(program, mock_libdir, "config")
    assert result.returncode == 0, result.stderr
    c_bytes = bytes.fromhex(result.stdout.strip())
    py_bytes = bytes(ffi.buffer(hccl.comm_config_init()))
    assert len(c_bytes) == len(py_bytes) == 2240
    assert c_bytes == py_bytes
