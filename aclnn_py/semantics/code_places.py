"""Places code is loaded from: whether one belongs to the current user alone, and where this
process imports a module from.

The ownership rule is shared by the mock's build (:mod:`mock_runtime._build`) and the binding's
loader (:mod:`aclnn_py._loader`), after OpenSSH's ``StrictModes`` (sshd_config(5): the
files and directories on the path must be owned by the user or root and writable by
nobody else) and pip's cache (which refuses a cache directory the user does not own):

* the directory or file itself is what it claims to be (a directory, a regular file),
  not a symbolic link, owned by the current (effective) user and writable by neither its
  group nor others;
* every directory above it, after symbolic links are resolved, is owned by root or the
  current user and writable by neither group nor others, unless it has the sticky bit
  (``/tmp``, mode 1777: others may not rename or delete entries they do not own).

Each check returns why a path fails (one sentence naming it) or None when it passes.

:data:`MOCK_IMPORTS` and :func:`import_roots` say where the modules the mock's Python code
imports come from, so that a process running the mock (the binding's isolated child, the
interpreter embedded in a C program) imports them from exactly there.
"""
from __future__ import annotations

import importlib.util
import os
import stat
import sys
from pathlib import Path
from typing import Iterable

#: Third-party modules the mock's Python code imports (en_dtypes is optional).
MOCK_IMPORTS = ("numpy", "ml_dtypes", "en_dtypes", "cffi", "_cffi_backend", "pycparser")

#: Write permission for the group or for others.
SHARED_WRITE = stat.S_IWGRP | stat.S_IWOTH


def _describe(mode: int) -> str:
    return f"mode {stat.S_IMODE(mode):o}"


def _private(path: Path, info: os.stat_result) -> str | None:
    uid = os.geteuid()
    if info.st_uid != uid:
        return f"{path} is owned by uid {info.st_uid}, not by you (uid {uid})"
    if info.st_mode & SHARED_WRITE:
        return f"{path} is writable by group or others ({_describe(info.st_mode)})"
    return None


def entry_problem(path: Path, directory: bool) -> str | None:
    """Why ``path`` (a directory when ``directory``, else a regular file) is not the user's alone."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        return f"{path}: {exc.strerror}"
    if stat.S_ISLNK(info.st_mode):
        return f"{path} is a symbolic link"
    wanted, kind = (stat.S_ISDIR, "a directory") if directory else (stat.S_ISREG, "a regular file")
    if not wanted(info.st_mode):
        return f"{path} is not {kind}"
    return _private(path, info)


def ancestors_problem(path: Path) -> str | None:
    """Why a directory above ``path`` (symbolic links resolved) lets another user replace it."""
    uid = os.geteuid()
    for parent in Path(os.path.realpath(path)).parents:
        try:
            info = os.lstat(parent)
        except OSError as exc:
            return f"{parent}: {exc.strerror}"
        if info.st_uid not in (0, uid):
            return f"{parent} (above {path}) is owned by uid {info.st_uid}, neither you (uid {uid}) nor root"
        if info.st_mode & SHARED_WRITE and not info.st_mode & stat.S_ISVTX:
            return f"{parent} (above {path}) is writable by group or others without the sticky bit " \
                   f"({_describe(info.st_mode)})"
    return None


def directory_problem(path: Path) -> str | None:
    """Why ``path`` is not a directory that only the current user (or root, above it) can change."""
    return entry_problem(path, directory=True) or ancestors_problem(path)


def code_problem(path: Path) -> str | None:
    """Why code at ``path`` (a file or a directory a user named, e.g. an extension package) may be
    changed by someone else: it or a directory above it is owned by neither the current user nor
    root, or writable by group or others (a directory above may be, with the sticky bit)."""
    try:
        info = os.stat(path)
    except OSError as exc:
        return f"{path}: {exc.strerror}"
    uid = os.geteuid()
    if info.st_uid not in (0, uid):
        return f"{path} is owned by uid {info.st_uid}, neither you (uid {uid}) nor root"
    if info.st_mode & SHARED_WRITE:
        return f"{path} is writable by group or others ({_describe(info.st_mode)})"
    return ancestors_problem(path)


def tree_problem(directory: Path, files: Iterable[Path]) -> str | None:
    """Why libraries in ``directory`` (``files``, inside it) cannot be trusted: the directory's
    rules, then each file's; an entry that is a directory (headers beside the libraries) is held
    to the directory rules, and so is everything below it."""
    problem = directory_problem(directory)
    pending = list(files)
    while pending and problem is None:
        entry = pending.pop()
        is_dir = not os.path.islink(entry) and os.path.isdir(entry)
        problem = entry_problem(entry, directory=is_dir)
        if is_dir and problem is None:
            try:
                pending.extend(Path(entry).iterdir())
            except OSError as exc:
                problem = f"{entry}: {exc.strerror}"
    return problem


def import_roots(names: Iterable[str]) -> list[str]:
    """The sys.path entries this process imports the top-level modules ``names`` from (as
    imported already, else as it would find them; absent modules skipped), without repeats."""
    roots: list[str] = []
    for name in names:
        module = sys.modules.get(name)
        origin = getattr(module, "__file__", None) if module is not None else None
        if origin is None and module is None:
            spec = importlib.util.find_spec(name)
            origin = spec.origin if spec is not None else None
        if not origin or not os.path.isabs(origin):
            continue
        path = Path(origin).resolve()
        root = str(path.parent.parent if path.name == "__init__.py" else path.parent)
        if root not in roots:
            roots.append(root)
    return roots
