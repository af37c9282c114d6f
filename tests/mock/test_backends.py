"""Backend choice (aclnn_py._loader): ``auto`` never substitutes the mock where CANN is evidently
meant to be used, ``aclnn-py info`` reports a bad setting in one line, and locating the mock runs
no code from the current directory, ``PYTHONPATH`` or anywhere else the user did not choose."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

import aclnn_py
from aclnn_py import _loader
from aclnn_py.errors import LibraryNotFoundError

VARIABLES = ("ACLNN_PY_BACKEND", "ACLNN_PY_LIB_DIR", "ASCEND_HOME_PATH", "ASCEND_TOOLKIT_HOME")


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    env.update(extra)
    return env


def _run(code: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env=_clean_env(**extra))


@pytest.fixture
def no_cann(monkeypatch, tmp_path):
    for var in VARIABLES:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(_loader, "DEFAULT_ASCEND_ROOT", tmp_path / "no-such-Ascend")


@pytest.mark.parametrize("variable", ["ASCEND_HOME_PATH", "ASCEND_TOOLKIT_HOME", "ACLNN_PY_LIB_DIR"])
def test_auto_refuses_the_mock_when_a_cann_variable_is_set(no_cann, monkeypatch, tmp_path, variable):
    monkeypatch.setenv(variable, str(tmp_path / "toolkit"))
    with pytest.raises(LibraryNotFoundError) as info:
        _loader._open("auto")
    text = str(info.value)
    assert f"CANN looks installed ({variable}={tmp_path / 'toolkit'})" in text
    assert "libascendcl.so" in text and "missing" in text and "ACLNN_PY_BACKEND=mock" in text
    assert "\n" not in text  # one line, every path tried in it


def test_auto_refuses_the_mock_when_the_default_toolkit_exists(no_cann, monkeypatch, tmp_path):
    root = tmp_path / "Ascend"
    (root / "ascend-toolkit" / "latest" / "lib64").mkdir(parents=True)
    monkeypatch.setattr(_loader, "DEFAULT_ASCEND_ROOT", root)
    with pytest.raises(LibraryNotFoundError) as info:
        _loader._open("auto")
    assert f"CANN looks installed ({root} exists)" in str(info.value)
    assert f"{root}/ascend-toolkit/latest/lib64/libascendcl.so (from default {root}): missing" in str(info.value)


def test_relative_paths_are_reported_as_ignored(no_cann, monkeypatch):
    monkeypatch.setenv("ASCEND_HOME_PATH", "relative/toolkit")
    with pytest.raises(LibraryNotFoundError, match=r"ASCEND_HOME_PATH=relative/toolkit \(ignored: not an absolute path\)"):
        _loader._open("cann")


def test_auto_uses_the_mock_only_without_any_sign_of_cann_and_says_so_once():
    # the installer's default root made absent in the child (this machine may have one)
    result = _run("import pathlib, aclnn_py._loader as loader; loader.DEFAULT_ASCEND_ROOT = pathlib.Path('/nonexistent/Ascend'); "
                  "import aclnn_py; print(aclnn_py.backend()); aclnn_py.lib.aclrtGetSocName; print(aclnn_py.backend())")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["mock", "mock"]
    assert result.stderr.count("using the mock runtime") == 1 and "no sign of CANN" in result.stderr


def test_auto_in_a_child_with_cann_variables_fails_instead_of_mocking(tmp_path):
    result = _run("import aclnn_py; aclnn_py.backend()", ASCEND_HOME_PATH=str(tmp_path / "missing"))
    assert result.returncode != 0
    assert "LibraryNotFoundError" in result.stderr and "using the mock runtime" not in result.stderr


@pytest.mark.parametrize("extra, fragment", [
    ({"ACLNN_PY_BACKEND": "cann", "ACLNN_PY_LIB_DIR": "/nonexistent/lib64"}, "ACLNN_PY_BACKEND=cann but neither"),
    ({"ACLNN_PY_BACKEND": "gpu"}, "ACLNN_PY_BACKEND='gpu': expected one of auto, cann, mock"),
])
def test_info_reports_a_bad_setting_in_one_line(extra, fragment):
    result = subprocess.run([sys.executable, "-m", "aclnn_py", "info"], capture_output=True, text=True,
                            timeout=120, env=_clean_env(**extra))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("aclnn-py info: ") and fragment in lines[0]


def test_the_mock_is_named_in_the_log(no_cann, caplog):
    with caplog.at_level(logging.WARNING, logger="aclnn_py"):
        lib = _loader._open("auto")
    assert lib.backend == "mock"
    assert [r.getMessage() for r in caplog.records if "using the mock runtime" in r.getMessage()]


# -- nothing runs from a place the user did not choose (the isolated child that locates the mock) --
PLANTED = """import pathlib, sys
pathlib.Path({marker!r}).write_text("planted code ran")
print({directory!r})
"""


def _plant(directory: Path, marker: Path) -> Path:
    """A ``mock_runtime`` package in ``directory`` whose import and ``-m`` run write ``marker``
    (and print a directory of its choosing, as a hostile one would)."""
    package = directory / "mock_runtime"
    package.mkdir(parents=True)
    for name in ("__init__.py", "__main__.py"):
        (package / name).write_text(PLANTED.format(marker=str(marker), directory=str(directory)))
    return package


@pytest.mark.parametrize("backend", ["auto", "mock"])
def test_a_planted_mock_runtime_never_runs(tmp_path, backend):
    marker = tmp_path / "marker"
    _plant(tmp_path / "cwd", marker)
    _plant(tmp_path / "pythonpath", marker)
    code = ("import pathlib, aclnn_py._loader as loader; loader.DEFAULT_ASCEND_ROOT = pathlib.Path('/nonexistent/Ascend'); "
            "import aclnn_py; print(aclnn_py.backend(), aclnn_py.lib.directory); "
            "assert aclnn_py.lib.aclInit(aclnn_py.ffi.NULL) == 0 and aclnn_py.lib.aclFinalize() == 0")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            cwd=tmp_path / "cwd",
                            env=_clean_env(ACLNN_PY_BACKEND=backend, PYTHONPATH=str(tmp_path / "pythonpath")))
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
    backend_name, directory = result.stdout.split()
    assert backend_name == "mock" and not directory.startswith(str(tmp_path))


def test_the_ops_command_asks_the_installed_mock_never_a_planted_one(tmp_path):
    """``aclnn-py ops`` learns the mock's catalogue from a child process: the loader's isolated one."""
    marker = tmp_path / "marker"
    _plant(tmp_path / "cwd", marker)
    code = "from aclnn_py._ops_command import _mock_operators; print(sorted(_mock_operators() or {})[:1])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            cwd=tmp_path / "cwd", env=_clean_env(ACLNN_PY_BACKEND="mock"))
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
    assert result.stdout.strip() == "['aclnnCalculateMatmulWeightSize']"


def test_the_child_refuses_a_mock_runtime_found_elsewhere(tmp_path):
    marker = tmp_path / "marker"
    _plant(tmp_path / "planted", marker)
    command, cwd = _loader._mock_child()
    paths = json.loads(command[4])
    command[4] = json.dumps([str(tmp_path / "planted"), *paths])  # as if it came first on the path
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=cwd)
    assert result.returncode == 1 and not marker.exists()
    assert result.stderr.strip() == (f"refusing to run mock_runtime: it would be imported from "
                                     f"{tmp_path / 'planted' / 'mock_runtime'}, not from {Path(paths[0]) / 'mock_runtime'}")


def test_the_child_is_isolated_in_the_package_directory():
    command, cwd = _loader._mock_child()
    assert command[:3] == [sys.executable, "-I", "-c"]
    assert cwd == Path(aclnn_py.__file__).resolve().parent


@pytest.mark.parametrize("spoil", ["group-writable directory", "writable library", "symlinked library"])
def test_the_loader_refuses_a_library_directory_others_can_change(tmp_path, monkeypatch, spoil):
    libdir = tmp_path / "libs"
    libdir.mkdir(mode=0o700)
    library = libdir / "libascendcl.so"
    if spoil == "symlinked library":
        (tmp_path / "real.so").write_bytes(b"")
        library.symlink_to(tmp_path / "real.so")
    else:
        library.write_bytes(b"")
        (libdir if spoil == "group-writable directory" else library).chmod(0o775)
    monkeypatch.setattr(_loader, "_mock_child", lambda: ([sys.executable, "-c", f"print({str(libdir)!r})"], tmp_path))
    with pytest.raises(LibraryNotFoundError) as info:
        _loader.mock_libdir()
    why = {"group-writable directory": f"{libdir} is writable by group or others (mode 775)",
           "writable library": f"{library} is writable by group or others (mode 775)",
           "symlinked library": f"{library} is a symbolic link"}[spoil]
    assert str(info.value).startswith(f"refusing to load the mock runtime from {libdir}: {why}. ")
    assert "python -m mock_runtime clean" in str(info.value)
