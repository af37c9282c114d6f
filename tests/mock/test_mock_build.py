"""Where the mock is built and what a build directory must satisfy (mock_runtime._build_dirs,
docs/mock-build.md): ACLNN_MOCK_BUILD_DIR, private modes, builds and libraries that are not the
user's alone refused (or skipped), a lock file never followed, pruning and cleaning under the lock,
and one line saying how to get a C compiler when there is none."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mock_helpers import fake_compiler, run_python
from mock_runtime import _build, _build_dirs
from mock_runtime._build_dirs import KEEP_BUILDS, KEEP_SECONDS, LOCK_NAME, MockBuildError, Place

OTHER_UID = 4242
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")

def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _private(path: Path) -> Path:
    path.mkdir(mode=0o700)
    return path


def _fake_build(root: Path, name: str, age: float = 0) -> Path:
    """A complete build (every library, as empty files) named ``name``, last used ``age`` seconds ago."""
    build = _private(root / name)
    for library in _build._library_names():
        (build / library).write_bytes(b"")
    used = time.time() - age
    os.utime(build, (used, used))
    return build


@pytest.fixture
def chosen(tmp_path, monkeypatch):
    """ACLNN_MOCK_BUILD_DIR set to a fresh private directory."""
    root = _private(tmp_path / "builds")
    monkeypatch.setenv("ACLNN_MOCK_BUILD_DIR", str(root))
    return root


@pytest.fixture
def fake_cc(tmp_path, monkeypatch):
    """CC = the fake compiler (with an extra argument: CC is split as a shell would), no gcc on PATH."""
    script, log = fake_compiler(tmp_path)
    monkeypatch.setenv("CC", f"'{script}' -DFAKE")
    monkeypatch.setenv("PATH", str(_private(tmp_path / "empty-path")))
    return log


# -- where -----------------------------------------------------------------------------
@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A source checkout's layout (pyproject.toml, include/, mock_runtime/), taken as this package's."""
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "mock_runtime").mkdir()
    monkeypatch.setattr(_build_dirs, "include_dir", lambda: tmp_path / "include")
    monkeypatch.setattr(_build_dirs, "PACKAGE", tmp_path / "mock_runtime")
    return tmp_path


def test_default_places_in_a_checkout_then_the_user_cache(checkout, monkeypatch, tmp_path):
    monkeypatch.delenv("ACLNN_MOCK_BUILD_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert _build_dirs.build_dirs() == [Place(checkout / "mock_runtime" / "_lib", "the source checkout"),
                                        Place(tmp_path / "cache" / "aclnn-py" / "mock",
                                              "$XDG_CACHE_HOME, default ~/.cache", owned_levels=2)]
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # ignored, as the XDG specification says
    assert _build_dirs.user_cache() == Path.home() / ".cache" / "aclnn-py" / "mock"
    monkeypatch.setenv("ACLNN_MOCK_BUILD_DIR", str(tmp_path / "x"))
    assert _build_dirs.build_dirs() == [Place(tmp_path / "x", "ACLNN_MOCK_BUILD_DIR", True, 0)]


def test_an_installed_package_is_never_a_build_place(checkout, monkeypatch):
    monkeypatch.delenv("ACLNN_MOCK_BUILD_DIR", raising=False)
    site_packages = checkout / "site-packages"  # as a wheel installs it: headers inside aclnn_py
    (site_packages / "mock_runtime").mkdir(parents=True)
    monkeypatch.setattr(_build_dirs, "include_dir", lambda: site_packages / "aclnn_py" / "include")
    monkeypatch.setattr(_build_dirs, "PACKAGE", site_packages / "mock_runtime")
    assert [p.origin for p in _build_dirs.build_dirs()] == ["$XDG_CACHE_HOME, default ~/.cache"]
    monkeypatch.setattr(_build_dirs, "PACKAGE", checkout / "mock_runtime")  # a pyproject.toml alone is not enough
    assert [p.origin for p in _build_dirs.build_dirs()] == ["$XDG_CACHE_HOME, default ~/.cache"]


def test_build_dir_variable_chooses_the_place_and_everything_is_private(tmp_path):
    target = tmp_path / "mock-build"
    result = subprocess.run([sys.executable, "-m", "mock_runtime", "libdir"], capture_output=True, text=True,
                            env={**os.environ, "ACLNN_MOCK_BUILD_DIR": str(target)}, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    libdir = Path(result.stdout.strip())
    assert libdir.parent == target
    names = {p.name for p in libdir.iterdir()}
    assert {"libascendcl.so", "libacl_rt.so", "libopapi_transformer.so", "libhccl_fwk.so"} <= names
    assert _mode(target) == _mode(libdir) == 0o700 and _mode(target / LOCK_NAME) == 0o600
    assert all(not _mode(p) & 0o022 for p in libdir.iterdir())
    assert [p.name for p in target.iterdir() if p.name.startswith(".build-")] == []


def test_missing_parents_are_created_private(chosen, fake_cc, monkeypatch):
    root = chosen / "a" / "b"
    monkeypatch.setenv("ACLNN_MOCK_BUILD_DIR", str(root))
    old = os.umask(0o002)  # a umask that would make them group-writable
    try:
        build = _build.build()
    finally:
        os.umask(old)
    assert build.parent == root
    assert [_mode(p) for p in (chosen / "a", root, build)] == [0o700] * 3
    assert all(not _mode(p) & 0o022 for p in build.iterdir())


def test_an_existing_build_is_reused_and_marked_used(chosen, fake_cc):
    build = _fake_build(chosen, _build._fingerprint(), age=10 * KEEP_SECONDS)
    assert _build.build() == build
    assert time.time() - build.stat().st_mtime < 60
    assert not fake_cc.exists()  # nothing compiled


# -- the rules -------------------------------------------------------------------------
def test_a_world_writable_build_dir_is_refused_with_what_to_do(tmp_path, monkeypatch, fake_cc):
    shared = tmp_path / "x"
    shared.mkdir()
    shared.chmod(0o1777)
    monkeypatch.setenv("ACLNN_MOCK_BUILD_DIR", str(shared))
    with pytest.raises(MockBuildError) as info:
        _build.build()
    text = str(info.value)
    assert f"cannot build the aclnn-py mock runtime in {shared} (ACLNN_MOCK_BUILD_DIR): " in text
    assert f"{shared} is writable by group or others (mode 1777)" in text
    assert "set ACLNN_MOCK_BUILD_DIR to a directory you own that others cannot write to" in text
    assert "mkdir -m 700" in text and "docs/mock-build.md" in text
    assert list(shared.iterdir()) == [] and not fake_cc.exists()  # no lock, nothing built


def test_the_refusal_reaches_the_binding_in_one_message(tmp_path):
    shared = tmp_path / "x"
    shared.mkdir()
    shared.chmod(0o777)
    result = run_python("import aclnn_py; aclnn_py.lib.aclInit(aclnn_py.ffi.NULL)",
                        {"ACLNN_MOCK_BUILD_DIR": str(shared), "ACLNN_PY_BACKEND": "mock"})
    assert result.returncode == 1
    assert result.stderr.count("Traceback") == 1 and "During handling" not in result.stderr
    assert "LibraryNotFoundError: the mock runtime is not available" in result.stderr
    assert f"{shared} is writable by group or others (mode 777)" in result.stderr


def _planted(root: Path, how: str) -> Path:
    """A build with the next build's (predictable) name, planted in ``root`` in one of several ways."""
    if how == "symlink":
        elsewhere = _fake_build(root.parent, "elsewhere")
        planted = root / _build._fingerprint()
        planted.symlink_to(elsewhere)
        return planted
    planted = _fake_build(root, _build._fingerprint())
    if how == "group-writable":
        planted.chmod(0o770)
    elif how == "writable library":
        (planted / "libascendcl.so").chmod(0o777)
    elif how == "another user's":
        os.chown(planted, OTHER_UID, OTHER_UID)
    return planted


HOW = ["group-writable", "writable library", "symlink",
       pytest.param("another user's", marks=as_root)]
WHY = {"group-writable": "is writable by group or others (mode 770)",
       "writable library": "libascendcl.so is writable by group or others (mode 777)",
       "symlink": "is a symbolic link", "another user's": f"is owned by uid {OTHER_UID}, not by you"}


@pytest.mark.parametrize("how", HOW)
def test_a_planted_build_is_refused_never_loaded(chosen, fake_cc, how):
    planted = _planted(chosen, how)
    with pytest.raises(MockBuildError) as info:
        _build.build()
    text = str(info.value)
    assert WHY[how] in text and "python -m mock_runtime clean" in text and str(planted) in text
    with pytest.raises(MockBuildError):  # a forced rebuild does not touch it either
        _build.build(force=True)
    assert os.path.lexists(planted) and not fake_cc.exists()


@pytest.mark.parametrize("how", HOW)
def test_a_planted_build_in_a_default_place_is_skipped(tmp_path, monkeypatch, fake_cc, how):
    first = _private(tmp_path / "first")
    _planted(first, how)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setattr(_build, "build_dirs", lambda: [Place(first, "first"), Place(blocker / "cache", "second")])
    with pytest.raises(MockBuildError) as info:
        _build.build()
    lines = str(info.value).splitlines()
    assert lines[0] == "cannot build the aclnn-py mock runtime: no usable directory for its libraries. Tried:"
    assert lines[1].startswith(f"  {first} (first): ") and WHY[how] in lines[1]
    assert lines[2] == f"  {blocker / 'cache'} (second): {blocker / 'cache'}: Not a directory"
    assert lines[3].startswith("Set ACLNN_MOCK_BUILD_DIR to a directory you own")


def test_a_planted_lock_symlink_is_not_followed(chosen, fake_cc, tmp_path):
    precious = tmp_path / "precious"
    precious.write_text("someone else's data")
    precious.chmod(0o644)
    (chosen / LOCK_NAME).symlink_to(precious)
    with pytest.raises(MockBuildError, match=r"\.lock is a symbolic link \(not followed\)"):
        _build.build()
    assert precious.read_text() == "someone else's data" and _mode(precious) == 0o644
    assert (chosen / LOCK_NAME).is_symlink() and not fake_cc.exists()


def test_a_lock_symlink_to_a_missing_file_creates_nothing(chosen, fake_cc, tmp_path):
    (chosen / LOCK_NAME).symlink_to(tmp_path / "would-be-created")
    with pytest.raises(MockBuildError, match="not followed"):
        _build.build()
    assert not (tmp_path / "would-be-created").exists()


# -- the compiler ----------------------------------------------------------------------
def test_every_compiler_invocation_honours_cc(chosen, fake_cc):
    build = _build.build()
    calls = fake_cc.read_text().splitlines()
    assert len(calls) == len(_build._library_names())  # one per library, the forwarders included
    assert set(calls) == {"called with -DFAKE"}
    assert {p.name for p in build.iterdir()} == _build._library_names()


def test_no_gcc_is_one_line_saying_how_to_get_one(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("CC", "ACLNN_PY_LIB_DIR", "ASCEND_HOME_PATH",
                                                            "ASCEND_TOOLKIT_HOME")}
    env.update(PATH=str(_private(tmp_path / "empty-path")), ACLNN_MOCK_BUILD_DIR=str(tmp_path / "builds"),
               ACLNN_PY_BACKEND="mock")
    result = subprocess.run([sys.executable, "-m", "aclnn_py", "info"], capture_output=True, text=True, env=env,
                            timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "building the mock runtime needs a C compiler, and gcc is not on PATH" in lines[0]
    assert "install one (e.g. 'apt install gcc') or set CC to a C compiler's command" in lines[0]


def test_a_missing_cc_is_named(chosen, monkeypatch):
    monkeypatch.setenv("CC", "/nonexistent/cc -O1")
    with pytest.raises(MockBuildError) as info:
        _build.build()
    assert "needs a C compiler, and CC=/nonexistent/cc -O1 is not found" in str(info.value)
    assert "\n" not in str(info.value)


# -- pruning and cleaning --------------------------------------------------------------
def test_pruning_keeps_the_recent_builds(chosen):
    hour = KEEP_SECONDS
    ages = {"0" * 16: 0, "1" * 16: 3 * hour, "2" * 16: 4 * hour, "5" * 16: hour / 2, "6" * 16: hour * 0.7,
            "7" * 16: hour * 0.9}
    builds = {name: _fake_build(chosen, name, age) for name, age in ages.items()}
    partial = _private(chosen / ".build-leftover")
    mine = chosen / "my-notes.txt"
    mine.write_text("not a build")
    with _build_dirs.locked(chosen) as root:
        removed = _build_dirs.prune(root)
    # kept: the KEEP_BUILDS most recently used ("0", "5", "6") and "7", used within the hour
    assert KEEP_BUILDS == 3
    assert sorted(p.name for p in removed) == [".build-leftover", "1" * 16, "2" * 16]
    assert sorted(p.name for p in chosen.iterdir()) == [LOCK_NAME, "0" * 16, "5" * 16, "6" * 16, "7" * 16,
                                                        "my-notes.txt"]
    assert not partial.exists() and not builds["1" * 16].exists()


def test_cleaning_waits_for_a_lookup_holding_the_lock(chosen):
    build = _fake_build(chosen, "a" * 16)
    done = threading.Event()
    with _build_dirs.locked(chosen):
        cleaner = threading.Thread(target=lambda: (_build_dirs.clean(), done.set()))
        cleaner.start()
        assert not done.wait(0.3)
        assert build.is_dir()  # still there while the lookup holds the lock
    cleaner.join(10)
    assert done.is_set() and not build.exists()


def test_clean_removes_the_cache_and_what_it_created(tmp_path, monkeypatch):
    cache = tmp_path / "cache" / "aclnn-py" / "mock"
    cache.mkdir(parents=True, mode=0o700)
    _fake_build(cache, "b" * 16)
    _private(cache / ".build-leftover")
    monkeypatch.setattr(_build_dirs, "build_dirs", lambda: [Place(cache, "cache", owned_levels=2)])
    assert _build_dirs.clean() == [f"removed 1 build(s) from {cache} (cache)"]
    assert list((tmp_path / "cache").iterdir()) == []  # aclnn-py/mock gone, the cache itself kept
    assert _build_dirs.clean() == []  # nothing left to clean


def test_clean_command_keeps_a_chosen_directory(chosen):
    _fake_build(chosen, "c" * 16)
    _fake_build(chosen, "d" * 16)
    result = subprocess.run([sys.executable, "-m", "mock_runtime", "clean"], capture_output=True, text=True,
                            timeout=120, env={**os.environ, "ACLNN_MOCK_BUILD_DIR": str(chosen)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"removed 2 build(s) from {chosen} (ACLNN_MOCK_BUILD_DIR)"
    assert [p.name for p in chosen.iterdir()] == [LOCK_NAME]


def test_clean_skips_a_place_that_breaks_the_rules(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    _fake_build(shared, "e" * 16)
    monkeypatch.setattr(_build_dirs, "build_dirs", lambda: [Place(shared, "shared")])
    assert _build_dirs.clean() == [f"skipped {shared} (shared): {shared} is writable by group or others (mode 777)"]
    assert (shared / ("e" * 16)).is_dir()
