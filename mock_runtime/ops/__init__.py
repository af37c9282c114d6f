"""The mock's operators: argument checks at GetWorkspaceSize, NumPy math on the stream.

An operator of the mock is three things: its header at CANN's path in ``include/aclnnop/``,
its rules and golden in the pure layer (with the :class:`~aclnn_py.semantics.catalogue.OperatorRules`
naming the library CANN exports it from), and its execution here: a function registered with
:func:`implements`, taking the call's arguments by canonical name as
:mod:`mock_runtime.exports.opapi` converts them from C (a TensorDesc per tensor, a list of
them per tensor list, a tuple per host array, ``(dtype, value)`` per scalar, str, numbers)
and returning

* for a two-phase operator, the :class:`~mock_runtime.core.objects.Executor` of the call
  (its ``params`` keyed by the same names; the export fills in which of them are inputs and
  outputs, their C names and aclTensor handles from the signature);
* for a single function (``aclnnCalculateMatmulWeightSizeV2``), the value of its output
  pointer (a tuple for several), which the export writes.

Every module of this package is imported to find the implementations (:func:`implementations`);
extension packages register theirs the same way (:mod:`mock_runtime.extensions`).
"""
from __future__ import annotations

import importlib
import pkgutil
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from aclnn_py.semantics.catalogue import OperatorRules
from aclnn_py.semantics.status import Violation
from mock_runtime.core.errors import MockError

__all__ = ["Implementation", "as_status", "implementations", "implements"]


@contextmanager
def as_status() -> Iterator[None]:
    """Turn a rule violation into the status code the C caller gets."""
    try:
        yield
    except Violation as exc:
        raise MockError(exc.code, exc.message) from None


@dataclass(frozen=True)
class Implementation:
    """The mock's execution of one operator (``rules``: an extension's own; None: the pure layer's;
    ``null_executor``: the status its execute call returns for a NULL executor, where its op_api
    returns its own; None: ACLNN_ERR_INNER_NULLPTR, nnopbase's)."""

    op: str
    run: Callable[..., Any]
    rules: OperatorRules | None = None
    module: str = ""
    null_executor: int | None = None


_REGISTRY: dict[str, Implementation] = {}


def implements(*ops: str, rules: OperatorRules | None = None,
               null_executor: int | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as the mock's implementation of each of ``ops``.

    An extension operator (one the project's pure layer does not know) passes its ``rules``
    (at least the library: ``OperatorRules(op, "cust_opapi")``). ``null_executor``: the status
    its execute call returns for a NULL executor (:class:`Implementation`)."""
    def register(run: Callable[..., Any]) -> Callable[..., Any]:
        for op in ops:
            if op in _REGISTRY and _REGISTRY[op].run is not run:
                raise ValueError(f"{op}: implemented twice ({_REGISTRY[op].module} and {run.__module__})")
            if rules is not None and rules.op != op:
                raise ValueError(f"{op}: its rules are {rules.op}'s")
            _REGISTRY[op] = Implementation(op, run, rules, run.__module__, null_executor)
        return run
    return register


def implementations() -> dict[str, Implementation]:
    """Every implementation registered: this package's modules imported first."""
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
    return dict(_REGISTRY)
