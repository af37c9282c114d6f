"""The examples exercise what is installed: none puts a checkout on ``sys.path`` or reaches into
a private module, and the README's main command runs from any directory against the package
that ``import aclnn_py`` finds there (site-packages after ``pip install .``)."""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
MAIN_EXAMPLE = EXAMPLES / "quant_matmul_all_reduce_v4.py"

#: Runs a script as ``python SCRIPT`` does (sys.path[0] = the script's directory, cwd untouched)
#: and writes, at exit, which aclnn_py it imported.
RUN_AS_SCRIPT = """
import atexit, json, os, runpy, sys
script, report = sys.argv[1], sys.argv[2]
def write():
    module = sys.modules.get("aclnn_py")
    with open(report, "w") as f:
        json.dump({"aclnn_py": getattr(module, "__file__", None)}, f)
atexit.register(write)
sys.argv = [script]
sys.path[0] = os.path.dirname(os.path.abspath(script))
runpy.run_path(script, run_name="__main__")
"""


def problems(source: str) -> list[str]:
    """What in an example's source ties it to a checkout or to the package's private modules."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr == "path" and getattr(node.value, "id", None) == "sys":
            found.append(f"line {node.lineno}: uses sys.path")
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            for name in names:
                if name.startswith(("aclnn_py", "mock_runtime")) and any(p.startswith("_") for p in name.split(".")):
                    found.append(f"line {node.lineno}: imports the private module {name}")
                if name == "site":
                    found.append(f"line {node.lineno}: imports site")
    if "PYTHONPATH" in source:
        found.append("line 0: sets PYTHONPATH")
    return sorted(found, key=lambda text: int(text.split(":")[0].split()[1]))


def test_the_check_sees_a_checkout_on_the_path():
    source = "import sys\nsys.path.insert(0, '..')\nfrom aclnn_py.ops._grouped_matmul import grouped_matmul_v5\n"
    assert problems(source) == ["line 2: uses sys.path",
                                "line 3: imports the private module aclnn_py.ops._grouped_matmul"]


def test_no_example_puts_a_checkout_on_the_path_or_uses_private_modules():
    sources = sorted(EXAMPLES.rglob("*.py"))
    assert MAIN_EXAMPLE in sources and len(sources) >= 5
    found = {path.relative_to(ROOT).as_posix(): problems(path.read_text(encoding="utf-8")) for path in sources}
    assert {name: p for name, p in found.items() if p} == {}


#: Where ``import aclnn_py`` finds the package, and whether pip installed it editable (PEP 660:
#: its direct_url.json says so), as seen from a directory outside the checkout.
INSTALLED = """
import json, aclnn_py
from importlib import metadata
url = json.loads(metadata.distribution("aclnn-py").read_text("direct_url.json") or "{}")
print(json.dumps({"file": aclnn_py.__file__, "editable": url.get("dir_info", {}).get("editable", False)}))
"""


def test_the_main_example_runs_from_elsewhere_against_the_installed_package(tmp_path):
    env = {**os.environ, "ACLNN_PY_BACKEND": "mock"}
    where = subprocess.run([sys.executable, "-c", INSTALLED], capture_output=True, text=True, cwd=tmp_path,
                           env=env, timeout=60)
    assert where.returncode == 0, where.stderr
    installed = json.loads(where.stdout)
    report = tmp_path / "imported.json"
    run = subprocess.run([sys.executable, "-c", RUN_AS_SCRIPT, str(MAIN_EXAMPLE), str(report)],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("PASS") == 4  # 2 ranks, ND and NZ weight
    assert json.loads(report.read_text())["aclnn_py"] == installed["file"]
    if not installed["editable"]:  # a wheel or `pip install .`: site-packages, not the checkout
        site = {sysconfig.get_paths()[key] for key in ("purelib", "platlib")}
        assert any(Path(installed["file"]).is_relative_to(directory) for directory in site), (installed, site)
        assert not Path(installed["file"]).is_relative_to(ROOT)
