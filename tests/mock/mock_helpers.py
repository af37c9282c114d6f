"""Helpers of the mock tier: C/C++ programs against include/ and the mock's libraries, fresh
interpreters for process-wide state, and re-initialising the mock under another SoC."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from aclnn_py.testing import build_program, switch_soc
from aclnn_py.testing import run_program as _run_program

ROOT = Path(__file__).resolve().parents[2]
C_DIR = Path(__file__).resolve().parent / "c"


@contextmanager
def mock_soc(soc: str, devices: int | None = None):
    """Re-initialise the mock runtime with ACLNN_MOCK_SOC=soc (aclFinalize + aclInit) and, when
    given, ACLNN_MOCK_DEVICE_COUNT=devices; then restore both (the kit's switch_soc: objects of
    the previous runtime must be released first)."""
    old, old_count = os.environ.get("ACLNN_MOCK_SOC"), os.environ.get("ACLNN_MOCK_DEVICE_COUNT")
    if devices is not None:
        os.environ["ACLNN_MOCK_DEVICE_COUNT"] = str(devices)
    switch_soc(soc)
    try:
        yield
    finally:
        if old_count is None:
            os.environ.pop("ACLNN_MOCK_DEVICE_COUNT", None)
        else:
            os.environ["ACLNN_MOCK_DEVICE_COUNT"] = old_count
        switch_soc(old)


def require_tool(name: str) -> str:
    """The path of ``name`` (gcc, g++, nm): the mock tier fails without them, as the mock does
    (README, requirements: its libraries are compiled on first use), rather than skip."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not on PATH: the mock tier needs gcc, g++ and binutils (README: requirements)")
    return path


#: Stands in for the C compiler where only where the mock is built and the commands matter: logs
#: its first argument, writes an empty file where -o points.
FAKE_CC = """#!/bin/sh
printf 'called with %s\\n' "$1" >> "{log}"
while [ $# -gt 0 ]; do
  if [ "$1" = -o ]; then : > "$2"; fi
  shift
done
"""


def fake_compiler(directory: Path) -> tuple[Path, Path]:
    """Write the fake compiler into ``directory`` (a name with a space, as CC may have); return it
    and the log it appends to (one line per call)."""
    log, script = directory / "cc.log", directory / "fake cc"
    script.write_text(FAKE_CC.format(log=log))
    script.chmod(0o755)
    return script, log


def build_cpp(sources: list[Path], out: Path, libdir: Path, *extra: str) -> Path:
    """Compile a C/C++ program against include/ and the mock's libraries (``extra``: more flags)."""
    require_tool("g++" if any(Path(s).suffix == ".cpp" for s in sources) else "gcc")
    return build_program(sources, out, libdir=libdir, flags=extra)


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


def run_c(program, libdir, *args, env=None):
    """Run a mode of a C test program; return its "case" lines {name: (status, message)}, its
    other "key value" lines ("value <name> <hex>" lines as "value <name>") and its stderr."""
    result = run_program(program, libdir, env=env, args=args)
    assert result.returncode == 0 and "done" in result.stdout, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    cases, values = {}, {}
    for line in result.stdout.splitlines():
        if line.startswith("case "):
            _, name, _, status, _, *message = line.split(" ")
            cases[name] = (int(status), " ".join(message))
        elif line.startswith("value "):  # "value <name> <hex>"
            _, name, value, *_ = line.split(" ")
            values["value " + name] = value
        elif " " in line:
            key, value = line.split(" ", 1)
            values[key] = value
    return cases, values, result.stderr
