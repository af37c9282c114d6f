"""The Python snippets of docs/porting.md (and the runnable ones of docs/python-api.md and README.md) run on the mock.

A snippet is a fenced ``python`` block whose preceding line is ``<!-- runnable -->``;
in docs/porting.md every Python block is runnable unless marked ``<!-- not runnable:
reason -->``. All of them run in one child process (ACLNN_PY_BACKEND=mock,
ACLNN_MOCK_STRICT=1: anything left allocated at aclFinalize fails the snippet that
finalised), each in a fresh namespace, and each must leave ACL finalised. After a
failure the runner stops and a new child runs the rest, so one failure cannot leak
into the next snippet.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "porting.md"
DOCUMENTS = (GUIDE, ROOT / "docs" / "python-api.md", ROOT / "README.md")
RUNNABLE = "<!-- runnable -->"
NOT_RUNNABLE = "<!-- not runnable:"


def python_blocks(path: Path) -> list[tuple[int, str, str]]:
    """(line of the fence, the marker line before it, code) of every ```python block of ``path``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        if lines[i].strip() == "```python":
            start = i
            i += 1
            body = []
            while lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            marker = lines[start - 1].strip() if start else ""
            blocks.append((start + 1, marker, "\n".join(body) + "\n"))
        i += 1
    return blocks


SNIPPETS = [(f"{path.relative_to(ROOT)}:{line}", code)
            for path in DOCUMENTS for line, marker, code in python_blocks(path) if marker == RUNNABLE]

#: The child: runs every snippet in a fresh namespace, then checks ACL was finalised.
RUNNER = r"""
import gc, json, sys, traceback
import aclnn_py

snippets, report = json.load(open(sys.argv[1])), sys.argv[2]
results = []
for where, code in snippets:
    error = None
    try:
        exec(compile(code, where, "exec"), {"__name__": "__snippet__"})
    except BaseException:
        error = traceback.format_exc()
    gc.collect()
    status = aclnn_py.lib.aclFinalize()
    if error is None and status != aclnn_py.lib.ACL_ERROR_UNINITIALIZE:
        error = f"the snippet left ACL initialised (aclFinalize returned {status})"
    results.append(error)
    json.dump(results, open(report, "w"))
    if error is not None:
        break
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, str | None]:
    """Run all snippets once; {where: None or the failure}."""
    directory = tmp_path_factory.mktemp("porting")
    source, report = directory / "snippets.json", directory / "report.json"
    env = dict(os.environ, ACLNN_PY_BACKEND="mock", ACLNN_MOCK_STRICT="1")
    env.pop("ACLNN_MOCK_SOC", None)
    outcome: list[str | None] = []
    while len(outcome) < len(SNIPPETS):
        source.write_text(json.dumps(SNIPPETS[len(outcome):]))
        report.write_text("[]")
        done = subprocess.run([sys.executable, "-c", RUNNER, str(source), str(report)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
        ran = json.loads(report.read_text())
        if len(ran) < len(SNIPPETS) - len(outcome) and (not ran or ran[-1] is None):  # the child died
            ran.append(f"the runner died (status {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        outcome.extend(ran)
    return dict(zip((where for where, _ in SNIPPETS), outcome))


def test_every_python_block_of_the_guide_is_runnable_or_says_why_not():
    blocks = python_blocks(GUIDE)
    assert len(blocks) >= 10
    for line, marker, _ in blocks:
        assert marker == RUNNABLE or marker.startswith(NOT_RUNNABLE), f"docs/porting.md:{line} is not marked"
    assert sum(marker == RUNNABLE for _, marker, _ in blocks) >= len(blocks) - 1


@pytest.mark.parametrize("where", [where for where, _ in SNIPPETS])
def test_snippet_runs_on_the_mock(results, where):
    assert results[where] is None, f"{where} failed:\n{results[where]}"


def test_the_guide_and_the_readme_link_each_other_and_the_examples():
    guide = GUIDE.read_text(encoding="utf-8")
    assert "docs/porting.md" in (ROOT / "README.md").read_text(encoding="utf-8")
    for name in ("examples/quant_matmul_all_reduce_v4.py", "examples/c/quant_matmul_all_reduce_v4.cpp",
                 "examples/hccl_threads.py", "examples/hccl_processes.py", "examples/grouped_matmul_v5.py"):
        assert name in guide
        assert (ROOT / name).exists(), name
