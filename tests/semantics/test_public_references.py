"""Every reference a reader meets can be followed: no file of the project cites a document that
is not in the repository.

Code, headers, tests and docs cite public sources (a CANN document by name with its repository
path, a header path in one of CANN's repositories) or a file of ``docs/``. Developer notes that
were never published, the section signs that pointed into them and the place they lived are
named nowhere.
"""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Unpublished notes (spelled in parts, so this file does not cite them itself).
UNPUBLISHED = tuple(f"{stem}.md" for stem in ("semantics", "abi", "peers", "style-anchors"))
FORBIDDEN = UNPUBLISHED + ("\u00a7", "/work/" + "shared")
#: Directories that hold no source of the project: version control, caches, builds, environments.
SKIPPED_DIRS = {".git", "__pycache__", ".pytest_cache", "build", "dist", "_lib", ".venv", "venv",
                "node_modules", ".mypy_cache", ".ruff_cache"}


def project_files() -> list[Path]:
    """Every file of the checkout outside :data:`SKIPPED_DIRS` and egg-info directories."""
    found = []
    for path in ROOT.rglob("*"):
        parts = path.relative_to(ROOT).parts
        if any(part in SKIPPED_DIRS or part.endswith(".egg-info") for part in parts[:-1]):
            continue
        if path.is_file() and not path.is_symlink():
            found.append(path)
    return found


def citations(text: str) -> list[str]:
    """The forbidden names ``text`` contains, one entry per line that has one."""
    return [f"line {number}: {name}" for number, line in enumerate(text.splitlines(), 1)
            for name in FORBIDDEN if name in line]


def test_the_scan_covers_the_project():
    names = {path.relative_to(ROOT).as_posix() for path in project_files()}
    for expected in ("README.md", "include/acl/acl.h", "aclnn_py/semantics/headers.py",
                     "docs/number-formats.md", "tests/semantics/test_public_references.py"):
        assert expected in names


def test_the_check_sees_a_citation():
    assert citations("see " + UNPUBLISHED[0] + " for the rule") == [f"line 1: {UNPUBLISHED[0]}"]
    assert citations("rule of \u00a76.2\nfine") == ["line 1: \u00a7"]
    assert citations("CANN's aclnnGroupedMatmulV5.md (ops-transformer, gmm/grouped_matmul/docs/)") == []


def test_no_file_cites_an_unpublished_document():
    offenders = {}
    for path in project_files():
        data = path.read_bytes()
        if b"\0" in data:  # binary
            continue
        found = citations(data.decode("utf-8", "replace"))
        if found:
            offenders[path.relative_to(ROOT).as_posix()] = found
    assert offenders == {}
