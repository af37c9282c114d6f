"""A package's files come and go with it (issue: newcomer, packaging): the wheel, installed into a
fresh virtual environment, builds the mock into the user's cache (never into site-packages),
ships LICENSE and py.typed, has one version, and ``pip uninstall`` leaves nothing behind.

This test takes about 10 s (a wheel build, a virtual environment, six interpreters): the mock
is "compiled" by a fake compiler (tests/mock/mock_helpers.py: FAKE_CC), since where the build
goes is what is tested here; a real build from the same code is tested in test_mock_build.py.
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from mock_helpers import ROOT, fake_compiler

from aclnn_py.semantics.code_places import MOCK_IMPORTS, import_roots

#: What a wheel is built from (the rest of the checkout is not packaged).
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "LICENSE", "README.md", "include", "aclnn_py", "mock_runtime")


def _run(command: list[str], **kwargs) -> str:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _files(directory: Path) -> set[str]:
    return {str(p.relative_to(directory)) for p in directory.rglob("*")}


def test_the_wheel_installs_uses_the_mock_and_uninstalls_leaving_nothing(tmp_path):
    source = tmp_path / "source"
    for name in SOURCES:  # a copy: building a wheel writes build/ and *.egg-info next to the sources
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name,
                            ignore=shutil.ignore_patterns("_lib", "__pycache__", "include" if name == "aclnn_py" else "-"))
        else:
            (source / name).parent.mkdir(exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    build = f"from setuptools import build_meta; print(build_meta.build_wheel({str(tmp_path)!r}))"  # PEP 517
    wheel = tmp_path / _run([sys.executable, "-c", build], cwd=source).strip().splitlines()[-1]

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = str(venv / "bin" / "python")
    site_packages = venv / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
    # the dependencies (NumPy, cffi...) from where this interpreter has them, no package index
    # needed; linked one by one, never the whole directory: aclnn-py may be installed there too, and
    # pip would then find it "already satisfied" and install nothing into the new environment
    dependencies = tmp_path / "dependencies"
    dependencies.mkdir()
    for root in import_roots(MOCK_IMPORTS):
        for entry in Path(root).iterdir():
            if entry.name.split(".")[0].split("-")[0].lower() in MOCK_IMPORTS:
                if not (dependencies / entry.name).exists():
                    (dependencies / entry.name).symlink_to(entry)
    (site_packages / "dependencies.pth").write_text(f"{dependencies}\n")
    before, bin_before = _files(site_packages), _files(venv / "bin")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", "--quiet"]
    _run([*pip, "--python", python, "install", "--no-deps", "--no-index", str(wheel)])

    compiler, log = fake_compiler(tmp_path)
    cache = tmp_path / "cache"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACLNN_", "PYTHON", "ASCEND_"))}
    env.update(XDG_CACHE_HOME=str(cache), CC=shlex.quote(str(compiler)), ACLNN_PY_BACKEND="mock")
    work = tmp_path / "elsewhere"  # not the checkout
    work.mkdir()
    # the binding's loader runs `python -m mock_runtime libdir` (isolated) and checks what it prints
    checks = ("import importlib.metadata, pathlib, aclnn_py, aclnn_py._loader as loader; "
              "package = pathlib.Path(aclnn_py.__file__).parent; "
              "print(loader.mock_libdir()); print(package.parent); "
              "print(aclnn_py.__version__ == importlib.metadata.version('aclnn-py'), (package / 'py.typed').is_file(), "
              "any(f.name == 'LICENSE' for f in importlib.metadata.distribution('aclnn-py').files))")
    libdir, installed_in, facts = _run([python, "-c", checks], cwd=work, env=env).split("\n")[:3]
    assert Path(libdir).parent == cache / "aclnn-py" / "mock" and log.exists()
    assert Path(installed_in) == site_packages
    assert facts == "True True True"  # one version; py.typed and LICENSE shipped
    assert not [p for p in _files(site_packages) - before if "_lib" in p]  # nothing built in site-packages

    assert "removed 1 build(s)" in _run([python, "-m", "mock_runtime", "clean"], cwd=work, env=env)
    assert not (cache / "aclnn-py").exists()
    _run([*pip, "--python", python, "uninstall", "--yes", "aclnn-py"])
    assert _files(site_packages) == before and _files(venv / "bin") == bin_before
