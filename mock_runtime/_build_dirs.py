"""Where the mock's builds live, and the rules a build directory must satisfy (docs/mock-build.md).

Places, in the order tried (:func:`build_dirs`):

* ``$ACLNN_MOCK_BUILD_DIR`` when set: the only place tried; when it breaks a rule below
  the build is refused with a message saying why and what to do;
* in a source checkout (a ``pyproject.toml`` next to the package, headers from the
  checkout's ``include/``), the checkout's gitignored ``mock_runtime/_lib``;
* ``$XDG_CACHE_HOME/aclnn-py/mock`` (default ``~/.cache/aclnn-py/mock``; a relative
  ``XDG_CACHE_HOME`` is ignored, as the XDG Base Directory specification says).

An installed package's directory is never written to: its files come and go with it.
A default place that breaks a rule is skipped for the next one.

Rules (:mod:`aclnn_py.semantics.code_places`): the build root, every build in it and
every library are the user's own and writable by nobody else, and no directory above
the root lets another user replace it; what is created is created private (0700). The
root's ``.lock`` is opened without following a symbolic link and never truncated. Each
build is a subdirectory named after its fingerprint, its modification time the last
time it was used; a build is pruned when it is neither among the :data:`KEEP_BUILDS`
most recently used nor used in the last :data:`KEEP_SECONDS`. Looking a build up,
building, pruning and cleaning all happen under the root's lock, so a lookup never sees
a build vanish under it.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
import stat
import time
from pathlib import Path
from typing import Iterator, NamedTuple

from aclnn_py.semantics.code_places import SHARED_WRITE, directory_problem, tree_problem
from aclnn_py.semantics.headers import include_dir

#: The variable that chooses where the libraries are built.
BUILD_DIR_VARIABLE = "ACLNN_MOCK_BUILD_DIR"
#: Pruning keeps the builds most recently used, and every build used within KEEP_SECONDS.
KEEP_BUILDS = 3
KEEP_SECONDS = 3600
LOCK_NAME = ".lock"
#: Where a build is compiled before it is renamed into place (left over only by a killed build).
PARTIAL_PREFIX = ".build-"
_FINGERPRINT = re.compile(r"[0-9a-f]{16}")


class MockBuildError(RuntimeError):
    """The mock's libraries cannot be built (no usable place, no compiler, no libpython)."""


class Refused(MockBuildError):
    """A place (or a build in it) breaks the rules of a build directory."""


class Place(NamedTuple):
    """A build root; ``origin`` says where it comes from; ``explicit``: chosen by the user
    (refused, never skipped); ``owned_levels``: the root and parents aclnn-py creates (and
    ``clean`` removes when empty)."""

    root: Path
    origin: str
    explicit: bool = False
    owned_levels: int = 1


#: This package's directory (``mock_runtime``).
PACKAGE = Path(__file__).resolve().parent


def checkout_lib(package: Path) -> Path | None:
    """``_lib`` of the ``mock_runtime`` package directory ``package`` when it is in a source
    checkout (a ``pyproject.toml`` next to it, the headers taken from the checkout's
    ``include/``); None for an installed package."""
    if (package.parent / "pyproject.toml").is_file() and include_dir() == package.parent / "include":
        return package / "_lib"
    return None


def user_cache() -> Path:
    """``$XDG_CACHE_HOME/aclnn-py/mock`` (default ``~/.cache/aclnn-py/mock``)."""
    cache = os.environ.get("XDG_CACHE_HOME", "").strip()
    if not os.path.isabs(cache):
        cache = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "aclnn-py" / "mock"


def build_dirs() -> list[Place]:
    """The places the libraries may be built, in the order tried."""
    chosen = os.environ.get(BUILD_DIR_VARIABLE, "").strip()
    if chosen:
        return [Place(Path(chosen).expanduser().absolute(), BUILD_DIR_VARIABLE, explicit=True, owned_levels=0)]
    places = [Place(user_cache(), "$XDG_CACHE_HOME, default ~/.cache", owned_levels=2)]
    checkout = checkout_lib(PACKAGE)
    if checkout is not None:
        places.insert(0, Place(checkout, "the source checkout"))
    return places


def _private_root(root: Path) -> Path:
    """Create ``root`` (each missing directory 0700) and return it resolved, when it passes the rules."""
    missing = [p for p in (root, *root.parents) if not os.path.lexists(p)]
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            pass
        except OSError as exc:
            raise Refused(f"{directory}: {exc.strerror}") from None
    real = Path(os.path.realpath(root))
    problem = directory_problem(real)
    if problem is not None:
        raise Refused(problem)
    return real


def _open_lock(path: Path) -> int:
    """Open (creating, 0600) the lock file without following a symbolic link or truncating it."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Refused(f"{path} is a symbolic link (not followed)") from None
        raise Refused(f"{path}: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise Refused(f"{path} is not a regular file")
    return fd


def _is_open_file(fd: int, path: Path) -> bool:
    try:
        here = os.lstat(path)
    except FileNotFoundError:
        return False
    there = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


@contextlib.contextmanager
def locked(root: Path) -> Iterator[Path]:
    """Hold the exclusive lock of the build root ``root`` (created private when missing);
    yields the root resolved. Refused when the root or its lock breaks the rules."""
    for _ in range(10):  # `clean` may remove the lock file while another process waits on it
        real = _private_root(root)
        fd = _open_lock(real / LOCK_NAME)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if _is_open_file(fd, real / LOCK_NAME):
                yield real
                return
        finally:
            os.close(fd)
    raise MockBuildError(f"{root}: its lock file keeps being removed while waiting for it")


def build_problem(build: Path, libraries: set[str]) -> tuple[str | None, bool]:
    """Why the build directory ``build`` cannot be trusted (None: it can), and whether it holds
    every one of ``libraries`` (file names)."""
    try:
        files = sorted(build.iterdir()) if not build.is_symlink() else []
    except OSError:
        files = []
    problem = tree_problem(build, files)
    return problem, libraries <= {f.name for f in files}


def mark_used(build: Path) -> None:
    """Record that ``build`` was just used (its modification time; pruning keeps recent ones)."""
    os.utime(build)


def make_private(path: Path) -> None:
    """Take write permission away from group and others (a compiler follows the umask)."""
    os.chmod(path, stat.S_IMODE(os.lstat(path).st_mode) & ~SHARED_WRITE)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _builds(root: Path) -> tuple[list[Path], list[Path]]:
    """The finished builds of a locked root (most recently used first) and leftover partial ones."""
    finished, partial = [], []
    for entry in root.iterdir():
        if entry.name.startswith(PARTIAL_PREFIX):
            partial.append(entry)
        elif _FINGERPRINT.fullmatch(entry.name) and entry.is_dir() and not entry.is_symlink():
            finished.append(entry)
    finished.sort(key=lambda p: p.lstat().st_mtime, reverse=True)
    return finished, partial


def prune(root: Path) -> list[Path]:
    """Remove, from a locked root, leftover partial builds and the builds neither among the
    KEEP_BUILDS most recently used nor used within KEEP_SECONDS; return what was removed."""
    finished, partial = _builds(root)
    now = time.time()
    stale = [b for b in finished[KEEP_BUILDS:] if now - b.lstat().st_mtime > KEEP_SECONDS]
    for path in partial + stale:
        _remove(path)
    return partial + stale


def clean() -> list[str]:
    """Remove this user's builds from every place that applies now (what ``python -m
    mock_runtime clean`` does): the builds, and the lock and directories aclnn-py created when
    they are left empty. Returns one line per place, saying what was done."""
    report = []
    for place in build_dirs():
        if not os.path.lexists(place.root):
            continue
        try:
            with locked(place.root) as real:
                finished, partial = _builds(real)
                for path in finished + partial:
                    _remove(path)
                if place.owned_levels:
                    (real / LOCK_NAME).unlink()
        except Refused as exc:
            report.append(f"skipped {place.root} ({place.origin}): {exc}")
            continue
        for directory in [real, *real.parents][:place.owned_levels]:
            with contextlib.suppress(OSError):  # not empty: something else lives there
                directory.rmdir()
        report.append(f"removed {len(finished)} build(s) from {place.root} ({place.origin})")
    return report
