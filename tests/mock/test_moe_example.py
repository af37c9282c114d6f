"""examples/moe_expert_parallel.py on the mock, run as a user would, from a directory outside the
project (the example imports only the installed package): 4 ranks as threads, and 4 processes
under ``python -m aclnn_py.launch``; every rank's tokens must match the single-process golden of
the layer under CANN's precision standard."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mock_helpers import ROOT

EXAMPLE = ROOT / "examples" / "moe_expert_parallel.py"


def _run(tmp_path, *command: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, ACLNN_PY_BACKEND="mock", HCCL_EXEC_TIMEOUT="60", HCCL_CONNECT_TIMEOUT="60")
    env.pop("PYTHONPATH", None)  # the installed package, not the source tree
    return subprocess.run([sys.executable, *command], capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)


def _passed_ranks(output: str) -> list[int]:
    return sorted(int(line.split()[1].rstrip(":")) for line in output.splitlines()
                  if line.startswith("rank ") and "bfloat16 PASS" in line)


def test_moe_layer_with_thread_ranks(tmp_path):
    done = _run(tmp_path, str(EXAMPLE))
    assert done.returncode == 0, done.stdout + done.stderr
    assert _passed_ranks(done.stdout) == [0, 1, 2, 3], done.stdout


@pytest.mark.long
def test_moe_layer_with_process_ranks(tmp_path):
    done = _run(tmp_path, "-m", "aclnn_py.launch", "-n", "4", str(EXAMPLE))
    assert done.returncode == 0, done.stdout + done.stderr
    assert _passed_ranks(done.stdout) == [0, 1, 2, 3], done.stdout
