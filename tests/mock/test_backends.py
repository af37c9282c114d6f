"""Backend choice (aclnn_py._loader): ``auto`` never substitutes the mock where CANN is evidently
meant to be used, and ``aclnn-py info`` reports a bad setting in one line."""
from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

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


def test_the_mock_is_the_installed_one_never_the_current_directorys(monkeypatch, tmp_path):
    """A ``mock_runtime`` package in the current directory is not run (nor its build used): the
    child that locates the mock runs where aclnn_py is installed."""
    import mock_runtime

    fake = tmp_path / "mock_runtime"
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "__main__.py").write_text(f"open({str(tmp_path / 'ran')!r}, 'w').close()\nprint('/not/the/mock')\n")
    monkeypatch.chdir(tmp_path)
    assert _loader.mock_libdir() == mock_runtime.libdir()
    assert not (tmp_path / "ran").exists()
