"""``aclnn-py ops [--json]``: every operator function of the headers the binding reads.

One row per function a header names (:mod:`aclnn_py._op_headers`: the project's, then
``ACLNN_PY_INCLUDE``'s, then the backend's): its Python name (operators: the two-phase pairs),
its header, whether it is declared (else the reason), the library of the loaded backend
exporting it (found by ``dlsym``: every operator library, nothing declared to cffi), and
whether the mock implements it (``python -m mock_runtime operators`` in the loader's isolated
child process: the binding never imports the mock, nor runs code from the current directory). Reading every header costs about a millisecond each (a CANN
toolkit's thousand: about a second).
"""
from __future__ import annotations

import ctypes
import json
import os
import subprocess
from typing import Any

from ._loader import _mock_child, library
from .semantics.signatures import is_phase1, op_name

__all__ = ["add_arguments", "main", "rows"]

_PHASE1 = "GetWorkspaceSize"


def _mock_operators() -> dict[str, str] | None:
    """The mock's catalogue (function -> library), or None when the mock cannot say."""
    try:
        command, cwd = _mock_child("operators")  # isolated as the loader's: nothing from the current directory
        result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=cwd)
        return json.loads(result.stdout) if result.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None


def _exporters() -> list[tuple[str, ctypes.CDLL]]:
    """The operator libraries of the loaded backend (already loaded: no new mapping), by file name."""
    lib = library()
    mode = getattr(os, "RTLD_NOLOAD", 0) | ctypes.RTLD_GLOBAL
    return [(path.name, ctypes.CDLL(str(path), mode=mode)) for path in lib.paths["opapi"]]


def rows() -> list[dict[str, Any]]:
    """One dict per function: name, python (operators only), kind, header, origin, declared, reason,
    library (None: not exported by the backend), mock (the library of the mock exporting it, False
    when the mock does not implement it, None when the mock cannot say), shadowed."""
    lib = library()
    exporters = _exporters()
    mock = _mock_operators()
    found = []
    for path, origin, reading in lib.operators.readings():
        names = list(reading.functions) + [n for n in reading.refused if n not in reading.functions]
        for name in names:
            declaration = lib.operators.find(name)
            if declaration is None or declaration.header != path:
                continue  # shadowed by another directory: listed there
            proto = declaration.prototype
            pair = name.endswith(_PHASE1) and proto is not None and is_phase1(proto)
            kind = "phase 1" if pair else "function"
            if proto is not None and f"{name}{_PHASE1}" in reading.functions:
                kind = "phase 2"
            exported = next((file for file, handle in exporters if hasattr(handle, name)), None)
            found.append({
                "name": name, "python": op_name(name[: -len(_PHASE1)]) if pair else None, "kind": kind,
                "header": str(path), "origin": origin, "declared": proto is not None, "reason": declaration.reason,
                "library": exported, "mock": None if mock is None else mock.get(name, False),
                "shadowed": list(declaration.shadowed)})
    return sorted(found, key=lambda row: row["name"])


def add_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")


def main(args) -> int:
    table = rows()
    if args.json:
        print(json.dumps({"backend": library().backend, "functions": table}, indent=1))
        return 0
    width = max((len(r["name"]) for r in table), default=10)
    print(f"{'function':<{width}}  {'python name':<28}  {'backend library':<26}  {'mock':<18}  header")
    for r in table:
        library_name = r["library"] or "-"
        mock = "?" if r["mock"] is None else (r["mock"] or "-")
        python = r["python"] or ("(" + r["kind"] + ")" if r["declared"] else "not declared")
        print(f"{r['name']:<{width}}  {python:<28}  {library_name:<26}  {mock:<18}  {r['header']}")
        if not r["declared"]:
            print(f"{'':<{width}}  reason: {r['reason']}")
        for other in r["shadowed"]:
            print(f"{'':<{width}}  shadows: {other}")
    declared = sum(r["declared"] for r in table)
    pairs = sum(r["kind"] == "phase 1" for r in table)
    headers = len({r["header"] for r in table})
    print(f"{len(table)} functions in {headers} headers: {declared} declared ({pairs} operators), "
          f"{len(table) - declared} not declared; {sum(r['library'] is not None for r in table)} exported by the "
          f"{library().backend} backend")
    return 0
