"""Every relative link of README.md and docs/*.md reaches a file of the checkout, and every
``#anchor`` a heading of the page it names (GitHub's anchors: the heading's text in lower case,
punctuation dropped, spaces as hyphens, ``-1``, ``-2`` ... for repeats; headings inside code
fences do not count).
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^\s*(```|~~~)")


def prose_lines(text: str) -> list[str]:
    """The lines of ``text`` outside code fences."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def anchor(heading: str) -> str:
    """GitHub's anchor of one heading's text."""
    kept = "".join(c for c in heading.strip().lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor the headings of ``path`` define."""
    seen: dict[str, int] = {}
    found = set()
    for line in prose_lines(path.read_text(encoding="utf-8")):
        match = re.match(r"#{1,6}\s+(.*)", line)
        if match:
            base = anchor(match.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def broken_links(path: Path) -> list[str]:
    """The relative links of ``path`` that reach no file, or no heading of the page they name."""
    broken = []
    for line in prose_lines(path.read_text(encoding="utf-8")):
        for target in LINK.findall(line):
            if re.match(r"[a-z]+:", target):  # https:, mailto: ...
                continue
            file_part, _, fragment = target.partition("#")
            resolved = (path.parent / unquote(file_part)).resolve() if file_part else path
            if not resolved.exists():
                where = resolved.relative_to(ROOT) if resolved.is_relative_to(ROOT) else resolved
                broken.append(f"{target}: no {where}")
            elif fragment and resolved.suffix == ".md" and fragment not in anchors(resolved):
                broken.append(f"{target}: no heading with that anchor")
    return broken


def test_the_check_sees_a_broken_file_and_a_broken_anchor(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# The mock's sanitizer\n\n```\n# not a heading\n```\n"
                    "[ok](#the-mocks-sanitizer) [no](#not-a-heading) [gone](missing.md)\n", encoding="utf-8")
    assert anchors(page) == {"the-mocks-sanitizer"}
    assert [entry.split(":")[0] for entry in broken_links(page)] == ["#not-a-heading", "missing.md"]


def test_every_relative_link_of_the_readme_and_the_docs_resolves():
    broken = {str(page.relative_to(ROOT)): found for page in PAGES if (found := broken_links(page))}
    assert not broken, broken


def test_the_readme_links_every_page_of_docs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [page.name for page in PAGES[1:] if f"(docs/{page.name})" not in readme]
    assert not missing, f"README.md does not link {missing}"
