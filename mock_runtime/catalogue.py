"""The mock's operator catalogue: the operators its libraries export, and through which library.

An operator is in the catalogue when it has an execution (:func:`mock_runtime.ops.implements`),
a header declaring it and the pure layer's :class:`~aclnn_py.semantics.catalogue.OperatorRules`
(an extension's own). Nothing else is exported: an operator the catalogue lacks is absent from
the libraries, as on a CANN without its package (the binding raises ``SymbolNotFoundError``
naming it, a C program linking it gets an undefined reference).

* the project's operators (headers in ``include/aclnnop``): ``libopapi.so`` exports all of
  them, as classic CANN's does, and each split library (``libopapi_math.so``...) those its
  rules name, as CANN 8.5/9.x's split packages do;
* the extension operators (:mod:`mock_runtime.extensions`): ``libcust_opapi.so``.

A catalogue entry missing one of its three parts (an execution whose header is not found, a
project operator without rules) is a :class:`ValueError` naming it, at build time.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from aclnn_py.semantics import catalogue as pure
from aclnn_py.semantics.catalogue import HeaderIndex
from aclnn_py.semantics.headers import SPLIT_OPERATOR_LIBRARIES
from aclnn_py.semantics.operator_headers import Prototype
from aclnn_py.semantics.signatures import Signature
from mock_runtime import extensions
from mock_runtime.ops import Implementation, implementations

__all__ = ["CLASSIC", "MockOperator", "operators", "split_libraries"]

CLASSIC = "opapi"


@dataclass(frozen=True)
class MockOperator:
    """One operator of the mock's libraries."""

    signature: Signature  # canonical names
    prototypes: tuple[Prototype, ...]  # the exported functions: phase 1 and phase 2, or the one function
    library: str  # the split library (opapi_math...), or cust_opapi
    implementation: Implementation
    header: Path

    @property
    def op(self) -> str:
        return self.signature.op


def _entry(impl: Implementation, rules: pure.OperatorRules | None, index: HeaderIndex) -> MockOperator:
    if rules is None:
        raise ValueError(f"{impl.op}: the mock implements it ({impl.module}) but the pure layer has no "
                         f"OperatorRules for it (OPERATORS of its rules module: the library CANN exports it from)")
    declared = index.signature(impl.op)
    if declared is None:
        places = ", ".join(str(d) for d, _ in index.directories)
        raise ValueError(f"{impl.op}: the mock implements it ({impl.module}) but no header in {places} declares it")
    names = (f"{impl.op}GetWorkspaceSize", impl.op) if declared.two_phase else (impl.op,)
    found = [index.find(name) for name in names]
    return MockOperator(rules.signature(declared), tuple(f.prototype for f in found), rules.library, impl,
                        found[0].header)


def operators(library: str, loaded: Iterable[extensions.Extension] = ()) -> list[MockOperator]:
    """The operators of ``library``: :data:`CLASSIC` the project's, ``cust_opapi`` those of the
    extension packages ``loaded`` (imported here)."""
    if library == CLASSIC:
        index = HeaderIndex([(pure.project_operator_dir(), "aclnn-py")])
        return [_entry(impl, pure.rules(op), index) for op, impl in sorted(implementations().items())
                if impl.rules is None]
    if library != extensions.LIBRARY:
        raise ValueError(f"no operator library {library!r}")
    loaded = list(loaded)
    modules = {ext.name for ext in loaded}
    for ext in loaded:
        extensions.load(ext)
    index = HeaderIndex([(ext.headers, ext.name) for ext in loaded])
    return [_entry(impl, impl.rules, index) for op, impl in sorted(implementations().items())
            if impl.rules is not None and impl.module.split(".")[0] in modules]


def split_libraries(entries: Iterable[MockOperator]) -> dict[str, list[MockOperator]]:
    """The project's operators by split library (each of CANN's split operator libraries, even empty)."""
    found: dict[str, list[MockOperator]] = {name: [] for name in SPLIT_OPERATOR_LIBRARIES}
    for entry in entries:
        if entry.library not in found:
            raise ValueError(f"{entry.op}: its rules name the library {entry.library!r}; CANN's split operator "
                             f"libraries are {', '.join(SPLIT_OPERATOR_LIBRARIES)}")
        found[entry.library].append(entry)
    return found
