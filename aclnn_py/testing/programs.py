"""Compiling and running C/C++ programs against the aclnn-py headers and the mock.

:func:`build_program` compiles sources with the headers of :mod:`aclnn_py`
(``include/``, at CANN's include paths) and links the mock's libraries with
CANN's classic link line (``-lascendcl -lnnopbase -lopapi -lhccl -lpthread``);
:func:`run_program` runs the result with only ``LD_LIBRARY_PATH`` pointing at
the mock (and the variables given), as a CI job would; :func:`compile_and_run`
does both for source text. ``libdir`` may name another directory holding
libraries of those names (a CANN ``lib64``).
"""
from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from .._loader import mock_libdir as _locate_mock
from ..semantics.headers import include_dir

__all__ = ["BuildError", "CompilerNotFound", "LIBRARIES", "build_program", "compile_and_run", "mock_libdir",
           "run_program"]

#: CANN's classic link line.
LIBRARIES = ("ascendcl", "nnopbase", "opapi", "hccl", "pthread")


class CompilerNotFound(RuntimeError):
    """No gcc/g++ on PATH (the pytest fixture turns this into a skip)."""


class BuildError(RuntimeError):
    """The compiler failed; the message carries its command line and output."""


@functools.lru_cache(maxsize=None)
def mock_libdir() -> Path:
    """The mock's library directory (built on first use, by ``python -m mock_runtime libdir``)."""
    return _locate_mock()


def _compiler(sources: Sequence[Path]) -> tuple[str, str]:
    cxx = any(s.suffix in (".cpp", ".cc", ".cxx") for s in sources)
    name = "g++" if cxx else "gcc"
    path = shutil.which(name)
    if path is None:
        raise CompilerNotFound(f"{name} is not on PATH")
    return path, "-std=c++17" if cxx else "-std=c99"


def build_program(sources: Iterable[str | Path], output: str | Path, *, flags: Sequence[str] = (),
                  libdir: str | Path | None = None, libraries: Sequence[str] = LIBRARIES,
                  strict_warnings: bool = True) -> Path:
    """Compile and link ``sources`` (C, or C++ when one is ``.cpp``/``.cc``/``.cxx``) into ``output``.

    ``-I include/`` and ``-L libdir`` (the mock's by default); ``strict_warnings``
    adds ``-Wall -Wextra -Werror``; ``flags`` go before the libraries.
    """
    sources = [Path(s) for s in sources]
    compiler, std = _compiler(sources)
    directory = Path(libdir) if libdir is not None else mock_libdir()
    warnings = ["-Wall", "-Wextra", "-Werror"] if strict_warnings else []
    command = [compiler, std, *warnings, "-I", str(include_dir()), *map(str, sources), "-o", str(output),
               f"-L{directory}", *flags, *(f"-l{name}" for name in libraries)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode:
        raise BuildError(f"{' '.join(command)}\nexit status {result.returncode}\n{result.stdout}{result.stderr}")
    return Path(output)


def run_program(program: str | Path, *args: str, env: Mapping[str, str] | None = None,
                libdir: str | Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``program args...`` with PATH=/usr/bin:/bin, the variables of ``env`` and
    LD_LIBRARY_PATH = ``libdir`` (the mock's by default); output captured as text."""
    environment = {"PATH": "/usr/bin:/bin", **(env or {})}
    environment["LD_LIBRARY_PATH"] = str(Path(libdir) if libdir is not None else mock_libdir())
    return subprocess.run([str(program), *args], capture_output=True, text=True, timeout=timeout, env=environment)


def compile_and_run(source: str, *args: str, language: str = "c++", workdir: str | Path | None = None,
                    env: Mapping[str, str] | None = None, flags: Sequence[str] = (),
                    timeout: float = 120) -> subprocess.CompletedProcess:
    """Write ``source`` (text) to a file, build it (``language`` "c" or "c++") and run it;
    returns the CompletedProcess (``.returncode``, ``.stdout``, ``.stderr``)."""
    if language not in ("c", "c++"):
        raise ValueError(f"language must be 'c' or 'c++', got {language!r}")
    with tempfile.TemporaryDirectory(dir=workdir) as directory:
        path = Path(directory) / ("program.cpp" if language == "c++" else "program.c")
        path.write_text(source)
        program = build_program([path], Path(directory) / "program", flags=flags)
        return run_program(program, *args, env=env, timeout=timeout)
