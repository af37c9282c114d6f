"""Test setup: run on the mock unless told otherwise, one ACL runtime per session."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("ACLNN_PY_BACKEND", "mock")
os.environ.setdefault("HCCL_EXEC_TIMEOUT", "20")
os.environ.setdefault("HCCL_CONNECT_TIMEOUT", "20")
# Tests of the raw C ABI leave handles (phase 1 without an execution, bare aclTensors): the mock
# reports them at aclFinalize as a warning, not as the kit's strict end-of-session error.
os.environ.setdefault("ACLNN_MOCK_STRICT", "0")

from aclnn_py.testing import CompilerNotFound, build_program, switch_soc  # noqa: E402
from aclnn_py.testing import run_program as _run_program  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def reinit_mock(soc: str | None = None) -> None:
    """aclFinalize, then aclInit with ``ACLNN_MOCK_SOC=soc`` (the mock reads it at aclInit).

    Objects of the previous runtime must be released first (they are collected here).
    """
    switch_soc(soc)


# The runtime, device and stream of a test come from the testing kit (aclnn_py.testing: the
# session's runtime; device 0 and a stream torn down after the test, which fails if it leaves
# aclnn-py resources open).
@pytest.fixture(scope="session")
def runtime(aclnn_runtime):
    return aclnn_runtime


@pytest.fixture
def device(aclnn_device):
    return aclnn_device


@pytest.fixture
def stream(aclnn_stream):
    return aclnn_stream


@pytest.fixture(scope="session")
def mock_libdir(aclnn_mock_libdir) -> Path:
    return aclnn_mock_libdir


def build_cpp(sources: list[Path], out: Path, libdir: Path, *extra: str) -> Path:
    """Compile a C/C++ program against include/ and the mock's libraries (``extra``: more flags)."""
    try:
        return build_program(sources, out, libdir=libdir, flags=extra)
    except CompilerNotFound:
        pytest.skip("no C/C++ compiler on this machine")


def run_program(program: Path, libdir: Path, env: dict[str, str] | None = None, timeout: float = 120,
                args: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """Run a compiled program (with ``args``) in a minimal environment: LD_LIBRARY_PATH pointing
    at the mock, a PATH without any Python first, and the variables the test passes."""
    return _run_program(program, *args, env=env, libdir=libdir, timeout=timeout)


def run_python(code: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run Python code in a fresh interpreter (for process-wide state such as aclInit/aclFinalize)."""
    environment = dict(os.environ)
    environment.update(env or {})
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=environment)
