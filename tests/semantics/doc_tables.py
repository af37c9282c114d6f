"""Reading the mode tables of the operator docstrings, for the tests that keep them honest.

The docstrings are read from the binding's source (:func:`docstring`, the AST): the semantics tier
imports nothing of the binding.

A table is a markdown pipe table in a docstring. A cell holds dtypes, then shapes:
``—/int32 (n)`` is "null, or int32 of shape (n)"; ``/`` separates choices; ``—`` alone
is null. Dtypes are canonical names, an alias (``fp8``) or the name of another argument
(``x1``, ``out``, ``x``: that argument's dtype). A shape is ``(a, b)`` of expressions
over the table's symbols (``ceil(k/64)`` included), with ``ᵀ`` for a transposed view of
the last two dims or `` nz`` for FRACTAL_NZ storage.
"""
from __future__ import annotations

import ast
import functools
import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from aclnn_py.semantics import dtypes
from aclnn_py.semantics.status import Violation
from aclnn_py.semantics.descriptors import FRACTAL_NZ, TensorDesc, contiguous_strides
from aclnn_py.semantics.nz import nz_storage_shape

ROOT = Path(__file__).resolve().parents[2]
NULL = "—"
TRANSPOSED = "ᵀ"
#: Aliases the docstrings define in their legends ("fp8 = float8_e4m3fn or float8_e5m2").
ALIASES = {"fp8": ("float8_e4m3fn", "float8_e5m2")}
#: Every aclDataType the project names: the candidates of a mutated dtype.
ALL_DTYPES = tuple(t.name for t in dtypes.TABLE if t.acl is not None)


def docstring(module: str, function: str) -> str:
    """The docstring of ``function`` in ``module`` (``"aclnn_py.ops._quant_matmul_all_reduce"``), indentation removed
    as :func:`inspect.getdoc` does, read from the module's source file."""
    path = ROOT.joinpath(*module.split(".")).with_suffix(".py")
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function:
            doc = ast.get_docstring(node, clean=True)
            assert doc, f"{module}.{function} has no docstring"
            return doc
    raise AssertionError(f"{path} defines no function {function}")


def tables(doc: str) -> list[list[dict[str, str]]]:
    """The pipe tables of the docstring ``doc``, each as rows of {header: cell text}."""
    found, block = [], []
    for line in doc.splitlines() + [""]:
        if line.strip().startswith("|"):
            block.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif block:
            header, rule, *rows = block
            assert all(set(c) <= set("-:") for c in rule), f"not a table rule: {rule}"
            for row in rows:
                assert len(row) == len(header), f"row {row} has {len(row)} cells, header {len(header)}"
            found.append([dict(zip(header, row)) for row in rows])
            block = []
    return found


def split_top(text: str, separator: str) -> list[str]:
    """``text`` split at ``separator`` outside parentheses."""
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if ch == separator and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    parts.append(current.strip())
    return parts


@dataclass(frozen=True)
class Cell:
    """The choices of one cell: dtypes (None = null; a non-dtype word names another
    argument) and shape texts ("(m, k)", "(k, n)ᵀ", "(k, n) nz"); none for a null-only cell."""

    dtypes: tuple[str | None, ...]
    shapes: tuple[str, ...]

    @property
    def optional(self) -> bool:
        return None in self.dtypes

    @functools.cached_property
    def present_dtypes(self) -> tuple[str, ...]:
        return tuple(d for d in self.dtypes if d is not None)


def cell(text: str) -> Cell:
    text = text.strip()
    if text == NULL:
        return Cell((None,), ())
    cut = text.find("(")
    head, tail = (text, "") if cut < 0 else (text[:cut].strip(), text[cut:].strip())
    names: list[str | None] = []
    for token in head.split("/"):
        token = token.strip()
        if token == NULL:
            names.append(None)
        else:
            names.extend(ALIASES.get(token, (token,)))
    shapes = tuple(split_top(tail, "/")) if tail else ()
    return Cell(tuple(names), shapes)


def choices(text: str) -> list[str]:
    """The ``/``-separated choices of a plain cell ("0/1/2", "A2 950" gives ["A2", "950"])."""
    return [t.strip() for t in (text.split("/") if "/" in text else text.split())]


def evaluate(shape: str, symbols: Mapping[str, int]) -> tuple[tuple[int, ...], str]:
    """("(m, ceil(k/64), 2)", symbols) -> ((m, ceil(k/64), 2), layout): layout "", "T" or "nz"."""
    return _evaluate(shape, tuple(sorted(symbols.items())))


@functools.lru_cache(maxsize=None)
def _evaluate(shape: str, symbols: tuple[tuple[str, int], ...]) -> tuple[tuple[int, ...], str]:
    shape = shape.strip()
    layout = ""
    if shape.endswith(TRANSPOSED):
        shape, layout = shape[: -len(TRANSPOSED)], "T"
    elif not shape.endswith(")"):
        shape, layout = shape.rsplit(" ", 1)
    inner = shape[1:-1].strip()
    namespace = dict(symbols, ceil=math.ceil)
    dims = []
    for expr in split_top(inner, ",") if inner else []:
        value = eval(expr, {"__builtins__": {}}, namespace)  # noqa: S307 -- our own docstrings
        assert value == int(value), f"{expr} = {value} is not an integer for {dict(symbols)}"
        dims.append(int(value))
    return tuple(dims), layout


def desc(shape: tuple[int, ...], name: str, layout: str = "") -> TensorDesc:
    """A descriptor: contiguous, ``"T"`` a transposed view of the last two dims, ``"nz"`` FRACTAL_NZ."""
    acl = int(dtypes.from_name(name))
    if layout == "T":
        storage = shape[:-2] + (shape[-1], shape[-2])
        strides = list(contiguous_strides(storage))
        strides[-2], strides[-1] = strides[-1], strides[-2]
        return TensorDesc(shape, acl, tuple(strides), 0, storage_shape=storage)
    if layout == "nz":
        storage = nz_storage_shape(shape, name if dtypes.bits(name) <= 32 else "int8")
        return TensorDesc(shape, acl, contiguous_strides(shape), 0, FRACTAL_NZ, storage)
    assert layout == "", layout
    return TensorDesc.contiguous(shape, acl)


def product(options: Mapping[str, Iterable]) -> Iterator[dict]:
    """Every combination of the choices in ``options`` (a dict per combination)."""
    keys = list(options)
    for values in itertools.product(*(list(options[k]) for k in keys)):
        yield dict(zip(keys, values))


def accepts(function, *args) -> bool:
    """Whether ``function(*args)`` passes (a rule's :class:`Violation` is a refusal)."""
    try:
        function(*args)
    except Violation:
        return False
    return True
