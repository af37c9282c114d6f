"""Operators downstream projects add to the mock: ``ACLNN_MOCK_OPERATORS``.

The variable lists extension packages (``os.pathsep``-separated absolute directory paths;
a relative one is refused, nothing is ever looked up from the current directory). Each is a
Python package laid out as a CANN custom operator package's ``op_api``:

    my_ops/                 the package (its directory name is its import name)
      __init__.py           registers the NumPy execution of each operator with
                            ``mock_runtime.ops.implements(op, rules=OperatorRules(op, "cust_opapi", ...))``
      include/aclnn_*.h     the operator headers, CANN's style (what C programs include)

The mock builds every extension's operators into one more library, ``libcust_opapi.so``
(the name CANN's custom operator packages give theirs: ops-math ``cmake/package.cmake``), in
its library directory, and copies the headers to ``<library directory>/include``: a C program
links ``-lcust_opapi`` and includes them with ``-I``, the binding declares them from there.
The build's fingerprint includes each package's path and headers. The packages are imported
only by the mock's libraries (the build and ``libcust_opapi.so``), by path: under their
directory name, their own imports relative.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from aclnn_py.semantics.code_places import code_problem

__all__ = ["Extension", "VARIABLE", "configured", "load"]

VARIABLE = "ACLNN_MOCK_OPERATORS"
LIBRARY = "cust_opapi"


@dataclass(frozen=True)
class Extension:
    """One extension package."""

    path: Path  # the package's directory (absolute)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def headers(self) -> Path:
        return self.path / "include"


def parse(value: str) -> list[Extension]:
    """The extensions a value of :data:`VARIABLE` names (ValueError saying what is wrong with one)."""
    found: list[Extension] = []
    for entry in value.split(os.pathsep):
        entry = entry.strip()
        if not entry:
            continue
        path = Path(entry)
        if not path.is_absolute():
            raise ValueError(f"{VARIABLE}: {entry!r} is not an absolute path (extension packages are "
                             f"never looked up from the current directory)")
        if not (path / "__init__.py").is_file():
            raise ValueError(f"{VARIABLE}: {entry} is not a Python package (no __init__.py)")
        if not (path / "include").is_dir():
            raise ValueError(f"{VARIABLE}: {entry} has no include/ directory for its operator headers")
        for part in (path, path / "__init__.py", path / "include"):
            problem = code_problem(part)
            if problem is not None:
                raise ValueError(f"{VARIABLE}: refusing the extension {entry}: {problem} (code is loaded only from "
                                 f"places nobody but you or root can change)")
        if any(e.name == path.name for e in found):
            raise ValueError(f"{VARIABLE}: two extension packages are named {path.name!r}")
        found.append(Extension(path.resolve()))
    return found


def configured() -> list[Extension]:
    """The extensions of this process's environment."""
    return parse(os.environ.get(VARIABLE, ""))


def load(extension: Extension) -> ModuleType:
    """Import an extension package by path (once), which registers its operators."""
    module = sys.modules.get(extension.name)
    if module is not None:
        origin = Path(getattr(module, "__file__", "") or "").parent
        if origin != extension.path:
            raise ValueError(f"{VARIABLE}: the extension {extension.path} is named {extension.name!r}, "
                             f"like the module already imported from {origin}")
        return module
    spec = importlib.util.spec_from_file_location(extension.name, extension.path / "__init__.py",
                                                  submodule_search_locations=[str(extension.path)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[extension.name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[extension.name]
        raise
    return module
