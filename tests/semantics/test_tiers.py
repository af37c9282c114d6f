"""The rules of the three test tiers (docs/testing.md, "Tests in three tiers"), read from the test
sources (AST and text):

* ``tests/semantics``: no runtime at all; a test imports only ``aclnn_py.semantics``, the standard
  library, NumPy, ml_dtypes, pytest and the tier's own helper modules;
* ``tests/binding``: reaches the runtime only through aclnn_py, so it runs unchanged on an
  Ascend host: no import of ``mock_runtime``, no mention of it or of the mock's ``ACLNN_MOCK_*``
  variables, no C program built against the mock's libraries;
* ``tests/mock``: anything (the mock's internals, faults, leak reports, C programs, the build).
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent
SEMANTICS, BINDING = TESTS / "semantics", TESTS / "binding"
SEMANTICS_THIRD_PARTY = {"numpy", "ml_dtypes", "pytest"}
#: Text that only code of the mock tier has: the mock's package and variables, and the testing
#: kit's helpers that build C programs against the mock's libraries.
BINDING_FORBIDDEN_TEXT = ("mock_runtime", "ACLNN_MOCK_", "mock_libdir", "aclnn_program", "build_program",
                          "compile_and_run")


def _sources(tier: Path) -> list[Path]:
    return sorted(tier.rglob("*.py"))


def imports(source: str) -> list[str]:
    """Every absolute module name ``source`` imports (``from a import b``: ``a.b``, and ``a`` for
    ``from a import *``); relative imports are the tier's own."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level:
            found.extend(node.module if alias.name == "*" else f"{node.module}.{alias.name}" for alias in node.names)
    return found


def semantics_violations(source: str, helpers: set[str]) -> list[str]:
    """The imports of ``source`` the semantics tier does not allow."""
    allowed_top = set(sys.stdlib_module_names) | {"__future__"} | SEMANTICS_THIRD_PARTY | helpers
    bad = []
    for name in imports(source):
        top = name.split(".")[0]
        if top == "aclnn_py":
            if not (name == "aclnn_py.semantics" or name.startswith("aclnn_py.semantics.")):
                bad.append(name)
        elif top not in allowed_top:
            bad.append(name)
    return bad


def binding_violations(source: str) -> list[str]:
    """What in ``source`` ties a test to the mock: an import of mock_runtime, mock-only text."""
    bad = [name for name in imports(source) if name.split(".")[0] == "mock_runtime"]
    bad += [f"mentions {text!r}" for text in BINDING_FORBIDDEN_TEXT if text in source]
    return bad


def test_the_tiers_exist_and_hold_tests():
    for tier in ("semantics", "binding", "mock"):
        assert list((TESTS / tier).glob("test_*.py")), tier
    assert not list(TESTS.glob("test_*.py")), "every test belongs to a tier"


@pytest.mark.parametrize("path", _sources(SEMANTICS), ids=lambda p: p.name)
def test_the_semantics_tier_imports_no_runtime(path):
    helpers = {p.stem for p in SEMANTICS.glob("*.py")}
    assert semantics_violations(path.read_text(encoding="utf-8"), helpers) == []


@pytest.mark.parametrize("path", _sources(BINDING), ids=lambda p: p.name)
def test_the_binding_tier_uses_nothing_of_the_mock(path):
    assert binding_violations(path.read_text(encoding="utf-8")) == []


def test_the_checks_catch_what_they_forbid():
    helpers = {"doc_tables"}
    assert semantics_violations("import aclnn_py\nfrom aclnn_py import lib\nimport aclnn_py.ops._quant_matmul_all_reduce\n"
                           "from aclnn_py.testing import soc\nimport cffi\nfrom mock_runtime.core import memory\n",
                           helpers) == ["aclnn_py", "aclnn_py.lib", "aclnn_py.ops._quant_matmul_all_reduce", "aclnn_py.testing.soc",
                                        "cffi", "mock_runtime.core.memory"]
    assert semantics_violations("from __future__ import annotations\nimport os, json\nimport numpy as np\n"
                           "from aclnn_py import semantics\nfrom aclnn_py.semantics.nz import nd_to_nz\n"
                           "from doc_tables import tables\nfrom . import sibling\n", helpers) == []
    assert binding_violations("def f():\n    from mock_runtime.core import memory\n") == [
        "mock_runtime.core.memory", "mentions 'mock_runtime'"]
    assert binding_violations('env = {"ACLNN_MOCK_SOC": "Ascend950PR"}') == ["mentions 'ACLNN_MOCK_'"]
    assert binding_violations("def test(aclnn_program):\n    pass\n") == ["mentions 'aclnn_program'"]
    assert binding_violations("import aclnn_py\nfrom aclnn_py.testing import soc_unavailable\n") == []
