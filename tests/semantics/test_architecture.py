"""The layers and their import rule (docs/architecture.md, "Project layout"): read from the source,
not from a running process.

* ``aclnn_py.semantics`` (the pure layer) imports only the standard library, NumPy,
  ml_dtypes and itself;
* the binding (the rest of ``aclnn_py``) never imports ``mock_runtime``;
* ``mock_runtime`` imports ``aclnn_py.semantics`` and nothing else of ``aclnn_py``;
* no module imports itself back through others (function-level imports count;
  ``if TYPE_CHECKING:`` imports, which never run, do not).
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("aclnn_py", "mock_runtime")
THIRD_PARTY_ALLOWED_IN_SPEC = {"numpy", "ml_dtypes", "en_dtypes"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "_lib" not in path.parts and "include" not in path.parts:
                found[_module_name(path)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every module ``name`` imports (absolute names; a project submodule when one is named)."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    tree = ast.parse(path.read_text(), str(path))
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and ast.unparse(block.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
                   for n in ast.walk(block)}
    for node in ast.walk(tree):
        if id(node) in typing_only:  # annotations only: never imported at run time
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                found.add(sub if sub in MODULES else source)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _top(module: str) -> str:
    return module.split(".")[0]


def test_the_pure_layer_imports_only_itself_and_numpy():
    stdlib = set(sys.stdlib_module_names)
    for name, imported in GRAPH.items():
        if not name.startswith("aclnn_py.semantics"):
            continue
        for module in imported:
            if module.startswith("aclnn_py."):
                assert module.startswith("aclnn_py.semantics"), f"{name} imports {module} of the binding"
            else:
                assert _top(module) in stdlib | THIRD_PARTY_ALLOWED_IN_SPEC | {"__future__"}, \
                    f"{name} imports {module}"


def test_the_binding_never_imports_the_mock():
    for name, imported in GRAPH.items():
        if name.startswith("aclnn_py"):
            assert not any(_top(m) == "mock_runtime" for m in imported), f"{name} imports the mock"


def test_the_mock_uses_only_the_pure_layer_of_aclnn_py():
    for name, imported in GRAPH.items():
        if name.startswith("mock_runtime"):
            for module in imported:
                if _top(module) == "aclnn_py":
                    assert module.startswith("aclnn_py.semantics"), f"{name} imports {module}"


def _cycle() -> list[str] | None:
    """One import cycle among the project's modules (a package's __init__ counts as its name)."""
    edges = {name: {m for m in imported if m in MODULES and m != name} for name, imported in GRAPH.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle():
    assert _cycle() is None, " -> ".join(_cycle())


def test_the_cycle_check_finds_a_cycle(monkeypatch):
    monkeypatch.setitem(GRAPH, "aclnn_py.semantics.dtypes", GRAPH["aclnn_py.semantics.dtypes"] | {"aclnn_py.semantics.layout"})
    assert _cycle() is not None


PURE_MODULES = sorted(m for m in MODULES if m.startswith("aclnn_py.semantics"))

#: One interpreter with the pure layer's allowed dependencies imported, forking a child per module
#: that imports it alone and prints what it brought of the binding and the mock (the fork spares each
#: module an interpreter start and NumPy's import; nothing of aclnn_py is imported before the fork).
_FORKING_IMPORTER = """
import importlib, json, os, sys
import numpy, ml_dtypes
BANNED = ('cffi', '_cffi_backend', 'aclnn_py._ffi', 'aclnn_py._loader')
assert not any(m in sys.modules for m in BANNED) and not any(m.startswith('aclnn_py') for m in sys.modules)
found = {}
for module in sys.argv[1:]:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            importlib.import_module(module)
            answer = sorted(m for m in sys.modules if m in BANNED or m.startswith('mock_runtime'))
        except BaseException as exc:
            answer = 'import failed: %r' % (exc,)
        os.write(write, json.dumps(answer).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        found[module] = json.loads(pipe.read() or '"the child died"')
    os.waitpid(pid, 0)
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def imports_of_each_pure_module() -> dict:
    out = subprocess.run([sys.executable, "-c", _FORKING_IMPORTER, *PURE_MODULES], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.parametrize("module", PURE_MODULES)
def test_importing_the_pure_layer_loads_no_library(imports_of_each_pure_module, module):
    assert imports_of_each_pure_module[module] == []


def test_the_import_check_sees_the_binding():
    """The forking importer reports a module that brings the binding's cffi declarations."""
    out = subprocess.run([sys.executable, "-c", _FORKING_IMPORTER, "aclnn_py._ffi", "aclnn_py.semantics.dtypes"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    assert isinstance(found["aclnn_py._ffi"], list) and "aclnn_py._ffi" in found["aclnn_py._ffi"], found
    assert found["aclnn_py.semantics.dtypes"] == []
