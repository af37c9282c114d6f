"""Test setup: run on the mock unless told otherwise, one ACL runtime per session."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("ACLNN_PY_BACKEND", "mock")
os.environ.setdefault("HCCL_EXEC_TIMEOUT", "20")
os.environ.setdefault("HCCL_CONNECT_TIMEOUT", "20")

ROOT = Path(__file__).resolve().parent.parent


def reinit_mock(soc: str | None = None) -> None:
    """aclFinalize, then aclInit with ``ACLNN_MOCK_SOC=soc`` (the mock reads it at aclInit).

    Objects of the previous runtime must be released first (they are collected here).
    """
    import gc

    import aclnn_py

    lib = aclnn_py.lib
    gc.collect()
    lib.aclFinalize()  # not initialised yet is fine
    if soc is None:
        os.environ.pop("ACLNN_MOCK_SOC", None)
    else:
        os.environ["ACLNN_MOCK_SOC"] = soc
    status = lib.aclInit(aclnn_py.ffi.NULL)
    if status not in (0, lib.ACL_ERROR_REPEAT_INITIALIZE):
        raise aclnn_py.AclError(status, "aclInit")


@pytest.fixture(scope="session")
def runtime():
    """The session's ACL runtime (aclInit tolerates one made by another test module;
    tests that switch SoC use :func:`reinit_mock`)."""
    import aclnn_py

    return aclnn_py.Runtime()


@pytest.fixture
def device(runtime):
    """Device 0 current on the test's thread."""
    import aclnn_py

    dev = aclnn_py.Device(0)
    yield dev


@pytest.fixture
def stream(device):
    import aclnn_py

    with aclnn_py.Stream() as s:
        yield s


@pytest.fixture(scope="session")
def mock_libdir() -> Path:
    import mock_runtime

    return mock_runtime.libdir()


def build_cpp(sources: list[Path], out: Path, libdir: Path, *extra: str) -> Path:
    """Compile a C/C++ program against include/ and the mock's libraries."""
    compiler = shutil.which("g++") if any(s.suffix == ".cpp" for s in sources) else shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C/C++ compiler on this machine")
    std = "-std=c++17" if compiler.endswith("g++") else "-std=c99"
    command = [compiler, std, "-Wall", "-Wextra", "-Werror", "-I", str(ROOT / "include"), *map(str, sources),
               "-o", str(out), f"-L{libdir}", "-lascendcl", "-lnnopbase", "-lopapi", "-lhccl", "-lpthread", *extra]
    subprocess.run(command, check=True, capture_output=True, text=True)
    return out


def run_program(program: Path, libdir: Path, env: dict[str, str] | None = None, timeout: float = 120,
                args: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """Run a compiled program (with ``args``) in a minimal environment: LD_LIBRARY_PATH pointing
    at the mock, a PATH without any Python first, and the variables the test passes."""
    environment = {"PATH": "/usr/bin:/bin"}
    environment.update(env or {})
    environment["LD_LIBRARY_PATH"] = str(libdir)
    return subprocess.run([str(program), *args], capture_output=True, text=True, timeout=timeout, env=environment)


def run_python(code: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run Python code in a fresh interpreter (for process-wide state such as aclInit/aclFinalize)."""
    environment = dict(os.environ)
    environment.update(env or {})
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=environment)
