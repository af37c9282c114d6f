"""The rule for places code is loaded from (aclnn_py.semantics.code_places): the user's own,
writable by nobody else, no symbolic link, no directory above that another user may change."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from aclnn_py.semantics.code_places import ancestors_problem, directory_problem, entry_problem, import_roots, \
    tree_problem

OTHER_UID = 4242  # a user that is not this one (chown needs root)
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")


def _private_dir(path: Path, mode: int = 0o700) -> Path:
    path.mkdir()
    os.chmod(path, mode)
    return path


def test_a_private_directory_and_its_files_pass(tmp_path):
    build = _private_dir(tmp_path / "build")
    library = build / "libx.so"
    library.write_bytes(b"")
    os.chmod(library, 0o755)
    assert directory_problem(build) is None
    assert tree_problem(build, [library]) is None


@pytest.mark.parametrize("mode", [0o1777, 0o777, 0o770, 0o720, 0o702])
def test_a_directory_writable_by_group_or_others_fails(tmp_path, mode):
    build = _private_dir(tmp_path / "build", mode)
    assert directory_problem(build) == f"{build} is writable by group or others (mode {mode:o})"


def test_a_library_writable_by_others_fails_the_tree(tmp_path):
    build = _private_dir(tmp_path / "build")
    library = build / "libx.so"
    library.write_bytes(b"")
    os.chmod(library, 0o757)
    assert tree_problem(build, [library]) == f"{library} is writable by group or others (mode 757)"


def test_a_subdirectory_and_its_files_are_held_to_the_rules(tmp_path):
    build = _private_dir(tmp_path / "build")
    include = _private_dir(build / "include")
    header = include / "op.h"
    header.write_bytes(b"")
    os.chmod(header, 0o644)
    assert tree_problem(build, [include]) is None
    os.chmod(header, 0o666)
    assert tree_problem(build, [include]) == f"{header} is writable by group or others (mode 666)"
    os.chmod(header, 0o644)
    os.chmod(include, 0o775)
    assert tree_problem(build, [include]) == f"{include} is writable by group or others (mode 775)"


def test_symbolic_links_and_wrong_kinds_fail(tmp_path):
    real = _private_dir(tmp_path / "real")
    (tmp_path / "link").symlink_to(real)
    assert entry_problem(tmp_path / "link", directory=True) == f"{tmp_path / 'link'} is a symbolic link"
    assert entry_problem(real, directory=False) == f"{real} is not a regular file"
    assert entry_problem(tmp_path / "absent", directory=True) == f"{tmp_path / 'absent'}: No such file or directory"


@as_root
def test_a_directory_or_library_of_another_user_fails(tmp_path):
    build = _private_dir(tmp_path / "build")
    library = build / "libx.so"
    library.write_bytes(b"")
    os.chown(library, OTHER_UID, OTHER_UID)
    assert entry_problem(library, directory=False) == f"{library} is owned by uid {OTHER_UID}, not by you (uid 0)"
    os.chown(build, OTHER_UID, OTHER_UID)
    assert directory_problem(build) == f"{build} is owned by uid {OTHER_UID}, not by you (uid 0)"


def test_a_parent_writable_by_others_without_the_sticky_bit_fails(tmp_path):
    shared = _private_dir(tmp_path / "shared", 0o777)
    build = _private_dir(shared / "build")
    assert ancestors_problem(build) == (f"{shared} (above {build}) is writable by group or others without the "
                                        "sticky bit (mode 777)")
    os.chmod(shared, 0o1777)  # like /tmp: others cannot rename or remove what is ours
    assert directory_problem(build) is None


@as_root
def test_a_parent_owned_by_another_user_fails(tmp_path):
    theirs = _private_dir(tmp_path / "theirs", 0o755)
    build = _private_dir(theirs / "build")
    os.chown(theirs, OTHER_UID, OTHER_UID)
    assert ancestors_problem(build) == f"{theirs} (above {build}) is owned by uid {OTHER_UID}, neither you (uid 0) nor root"


def test_parents_are_checked_after_resolving_links(tmp_path):
    shared = _private_dir(tmp_path / "shared", 0o777)
    _private_dir(shared / "build")
    (tmp_path / "alias").symlink_to(shared)
    assert "without the sticky bit" in ancestors_problem(tmp_path / "alias" / "build")


def test_import_roots_are_where_modules_come_from(tmp_path, monkeypatch):
    package = tmp_path / "somepkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (tmp_path / "single.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    import numpy

    numpy_root = str(Path(numpy.__file__).resolve().parents[1])
    assert import_roots(["numpy", "somepkg", "single", "no_such_module_anywhere", "numpy"]) == \
        [numpy_root, str(tmp_path.resolve())]
    assert "somepkg" not in sys.modules  # found, not imported
