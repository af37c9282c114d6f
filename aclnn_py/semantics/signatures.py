"""One signature per operator, derived from its header: what each parameter is and how it is named.

An aclnn operator is a pair of functions,
``aclnnXxxGetWorkspaceSize(<parameters>, uint64_t *workspaceSize, aclOpExecutor **executor)``
and ``aclnnXxx(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor, aclrtStream stream)``;
a few helpers are single functions (``aclnnCalculateMatmulWeightSizeV2``). :func:`signature` turns
the prototype of the first function into a :class:`Signature`: the parameters in header order,
each with its C name, its Python name, its C type, its :class:`Kind`, whether it is an output and
whether it may be NULL.

Conventions, as CANN's operator headers follow them (checked on the 2026 heads of ops-math,
ops-nn, ops-transformer and ops-cv, 956 headers):

* **kind by C type**: ``aclTensor *`` a tensor, ``aclTensorList *`` a tensor list,
  ``aclScalar *`` / ``aclScalarList *`` scalars, ``aclIntArray *`` / ``aclFloatArray *`` /
  ``aclBoolArray *`` host arrays, ``char *`` a string, the integer types, ``float``/``double``,
  ``bool``, ``aclDataType``; any other pointer (``void *``, ``int64_t **``...) is a plain pointer;
* **outputs**: a tensor (list) passed as a non-``const`` pointer is written by the operator
  (``out``, ``gradInput``; an in-place ``...Ref`` parameter is read and written). CANN also
  declares many outputs ``const`` -- QuantMatmulAllReduce's ``output``, FlashAttentionScore's
  ``softmaxMaxOut``, IncreFlashAttention's ``attentionOut`` -- so a ``const`` tensor whose name
  is ``out``/``output`` or ends with ``Out`` (before an ``Optional`` suffix) is an output too.
  ``gradOutput`` (the incoming gradient of backward operators) stays an input;
* **optional**: the name ends with ``Optional`` (the operator takes NULL);
* **Python names**: the C name without its ``Optional`` suffix, in snake case
  (``perTokenScaleOptional`` -> ``per_token_scale``, ``x1Scale`` -> ``x1_scale``); a Python
  keyword gets a trailing underscore (``lambda`` -> ``lambda_``). An operator's own canonical
  names, where they differ, come from its rules (:mod:`aclnn_py.semantics.catalogue`);
* the last two parameters of phase 1 are the protocol's (``uint64_t *``, ``aclOpExecutor **``;
  named ``workspaceSize``/``executor`` almost everywhere, ``opExecutor``/``workspace_size`` in
  two headers): recognised by type.
"""
from __future__ import annotations

import enum
import keyword
import re
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Mapping

from .operator_headers import Prototype, declarator

__all__ = ["Kind", "Parameter", "Signature", "op_name", "python_name", "signature", "snake_case"]


class Kind(str, enum.Enum):
    """What a parameter is, by its C type."""

    TENSOR = "tensor"
    TENSOR_LIST = "tensor list"
    SCALAR = "scalar"
    SCALAR_LIST = "scalar list"
    INT_ARRAY = "int array"
    FLOAT_ARRAY = "float array"
    BOOL_ARRAY = "bool array"
    INTEGER = "integer"
    FLOAT = "float"
    BOOL = "bool"
    DTYPE = "aclDataType"
    STRING = "string"
    POINTER = "pointer"


_OBJECTS = {"aclTensor": Kind.TENSOR, "aclTensorList": Kind.TENSOR_LIST, "aclScalar": Kind.SCALAR,
            "aclScalarList": Kind.SCALAR_LIST, "aclIntArray": Kind.INT_ARRAY, "aclFloatArray": Kind.FLOAT_ARRAY,
            "aclBoolArray": Kind.BOOL_ARRAY}
#: C integer types by name: (bits, signed).
INTEGERS = {"int8_t": (8, True), "int16_t": (16, True), "int32_t": (32, True), "int64_t": (64, True),
            "uint8_t": (8, False), "uint16_t": (16, False), "uint32_t": (32, False), "uint64_t": (64, False),
            "int": (32, True), "unsigned int": (32, False), "long": (64, True), "unsigned long": (64, False),
            "long long": (64, True), "unsigned long long": (64, False), "short": (16, True),
            "unsigned short": (16, False), "size_t": (64, False), "char": (8, True), "signed char": (8, True),
            "unsigned char": (8, False)}
_OUTPUT_NAME = re.compile(r"^(out|output)$|Out$")


def snake_case(name: str) -> str:
    """``perTokenScale`` -> ``per_token_scale``, ``x1Scale`` -> ``x1_scale``, ``QuantMatmulV4`` -> ``quant_matmul_v4``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def python_name(c_name: str) -> str:
    """A parameter's Python name: snake case without the ``Optional`` suffix, keywords with a trailing ``_``."""
    base = c_name[:-len("Optional")] if c_name.endswith("Optional") and c_name != "Optional" else c_name
    name = snake_case(base)
    return f"{name}_" if keyword.iskeyword(name) or name in ("stream", "repeatable") else name


def op_name(function: str) -> str:
    """An operator's Python name: ``aclnnGroupedMatmulV5`` -> ``grouped_matmul_v5``."""
    return snake_case(function[len("aclnn"):] if function.startswith("aclnn") else function)


def kind_of(c_type: str) -> Kind:
    """The :class:`Kind` of a C parameter type (``const aclTensor *`` -> TENSOR)."""
    words = c_type.replace("*", " * ").split()
    stars = words.count("*")
    base = " ".join(w for w in words if w not in ("const", "*", "volatile"))
    if stars == 1 and base in _OBJECTS:
        return _OBJECTS[base]
    if stars == 1 and base == "char":
        return Kind.STRING
    if stars:
        return Kind.POINTER
    if base == "bool":
        return Kind.BOOL
    if base in ("float", "double"):
        return Kind.FLOAT
    if base == "aclDataType":
        return Kind.DTYPE
    if base in INTEGERS:
        return Kind.INTEGER
    return Kind.POINTER  # an opaque handle type (aclrtStream, HcclComm...)


@dataclass(frozen=True)
class Parameter:
    """One parameter of phase 1 (or of a single-phase function)."""

    c_name: str
    name: str  # the Python / canonical name
    c_type: str
    kind: Kind
    output: bool  # the operator writes it (an output, or an in-place ...Ref tensor)
    optional: bool  # the name ends with "Optional": NULL is accepted

    @property
    def input(self) -> bool:
        """The operator reads it: every parameter but a pure output (an in-place ``...Ref`` is both)."""
        return not self.output or self.c_name.removesuffix("Optional").endswith("Ref")

    @property
    def label(self) -> str:
        """The name messages use: the C name without ``Optional`` (``perTokenScale``)."""
        return self.c_name.removesuffix("Optional") or self.c_name

    @property
    def declarator(self) -> str:
        """As the prototype writes it: ``const aclTensor *x``, ``int64_t axis``."""
        return declarator(self.c_type, self.c_name)


@dataclass(frozen=True)
class Signature:
    """An operator's parameters as its header declares them (phase 1 without ``workspaceSize`` and
    ``executor``; for a single-phase function, every parameter)."""

    op: str  # the phase-2 function (``aclnnAdd``), or the single function's name
    header: str
    parameters: tuple[Parameter, ...]
    two_phase: bool = True

    @property
    def function(self) -> str:
        """The C function taking these parameters (``aclnnAddGetWorkspaceSize``)."""
        return f"{self.op}GetWorkspaceSize" if self.two_phase else self.op

    @property
    def python_name(self) -> str:
        return op_name(self.op)

    @cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    @cached_property
    def by_name(self) -> dict[str, Parameter]:
        return {p.name: p for p in self.parameters}

    @cached_property
    def by_c_name(self) -> dict[str, Parameter]:
        return {p.c_name: p for p in self.parameters}

    @property
    def outputs(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.output)

    def label(self, name: str) -> str:
        """The C label of a parameter by Python name (the name itself when unknown)."""
        parameter = self.by_name.get(name)
        return name if parameter is None else parameter.label

    def renamed(self, names: Mapping[str, str]) -> "Signature":
        """The signature with the Python names of ``names`` (C name -> name) replacing the derived ones."""
        unknown = set(names) - set(self.by_c_name)
        if unknown:
            raise ValueError(f"{self.op}: no parameter {', '.join(sorted(unknown))} in {self.header}")
        parameters = tuple(replace(p, name=names.get(p.c_name, p.name)) for p in self.parameters)
        if len({p.name for p in parameters}) != len(parameters):
            raise ValueError(f"{self.op}: two parameters would share a name: {[p.name for p in parameters]}")
        return replace(self, parameters=parameters)

    def writing(self, c_names: tuple[str, ...]) -> "Signature":
        """The signature with the parameters ``c_names`` marked as outputs: tensors the operator
        writes although its header declares them ``const`` under a name the conventions take for
        an input (GroupedMatmul V1-V3's ``const aclTensorList *y``)."""
        unknown = set(c_names) - set(self.by_c_name)
        if unknown:
            raise ValueError(f"{self.op}: no parameter {', '.join(sorted(unknown))} in {self.header}")
        return replace(self, parameters=tuple(replace(p, output=True) if p.c_name in c_names else p
                                              for p in self.parameters))

    def prototype_text(self) -> str:
        """The C prototype of :attr:`function` (for documentation)."""
        params = ", ".join(p.declarator for p in self.parameters)
        tail = ", uint64_t *workspaceSize, aclOpExecutor **executor" if self.two_phase else ""
        return f"aclnnStatus {self.function}({params}{tail})"


def _is_output(c_type: str, c_name: str, kind: Kind) -> bool:
    if kind not in (Kind.TENSOR, Kind.TENSOR_LIST):
        return False
    if not c_type.startswith("const"):
        return True
    return bool(_OUTPUT_NAME.search(c_name.removesuffix("Optional")))


def is_phase1(prototype: Prototype) -> bool:
    """Phase 1 of a pair: ``...GetWorkspaceSize`` ending in ``uint64_t *`` and ``aclOpExecutor **``."""
    types = [t.replace("const ", "") for t, _ in prototype.parameters[-2:]]
    return prototype.name.endswith("GetWorkspaceSize") and types == ["uint64_t *", "aclOpExecutor **"]


def is_phase2(prototype: Prototype) -> bool:
    """Phase 2 of a pair: ``(void *, uint64_t, aclOpExecutor *, aclrtStream)``."""
    types = [t.replace("const ", "") for t, _ in prototype.parameters]
    return types == ["void *", "uint64_t", "aclOpExecutor *", "aclrtStream"]


def signature(prototype: Prototype, two_phase: bool | None = None) -> Signature:
    """The signature of a phase-1 prototype (``two_phase`` None: decided by :func:`is_phase1`) or of a
    single-phase function."""
    if two_phase is None:
        two_phase = is_phase1(prototype)
    params = prototype.parameters[:-2] if two_phase else prototype.parameters
    op = prototype.name[: -len("GetWorkspaceSize")] if two_phase else prototype.name
    parameters = []
    for c_type, c_name in params:
        kind = kind_of(c_type)
        parameters.append(Parameter(c_name, python_name(c_name), c_type, kind, _is_output(c_type, c_name, kind),
                                    c_name.endswith("Optional")))
    return Signature(op, prototype.header, tuple(parameters), two_phase)
