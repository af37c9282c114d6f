"""Every operator an operator header declares, callable from Python.

``aclnn_py.ops.<name>`` (the snake case of the operator: ``aclnnAddRmsNorm`` ->
``ops.add_rms_norm``, made on first use) and ``aclnn_py.ops.call("aclnnAddRmsNorm", ...)`` run
one call on a stream and return its outputs; ``ops.<name>.plan(...)`` and ``ops.plan(...)``
give an :class:`OperatorPlan` (phase 1 once, :meth:`~OperatorPlan.execute` on any stream), as
the hand-written operators' plans do (:mod:`aclnn_py.ops._two_phase`: workspace per stream,
the executor and the call's device copies released after the streams passed the work).

The function's parameters are the header's (:mod:`aclnn_py.semantics.signatures`: snake case,
``...Optional`` without the suffix and defaulting to None; a required parameter may have a
default the pure layer gives, ``OperatorRules.defaults``), then ``stream`` (keyword-only);
``help()`` and ``inspect.signature`` show them with their C types. Values convert by C type
(:mod:`aclnn_py.ops._arguments`). When the pure layer has rules for the operator
(:mod:`aclnn_py.semantics.catalogue`), the call is checked with them before C is called (once
per distinct call signature, as the hand-written operators do) and its outputs, when not
given, are allocated from their output inference; otherwise outputs are passed in and the
runtime checks the call.

The value returned: the output parameters' tensors (one: itself; several: a tuple in header
order; an in-place ``...Ref`` parameter counts as an output).
"""
from __future__ import annotations

import functools
import inspect
import threading
from typing import Any, Callable, Hashable

from .. import _resource
from .._ffi import ffi
from .._loader import library
from ..errors import ArgumentError, raising
from ..runtime import Stream
from ..semantics import catalogue
from ..semantics.catalogue import HeaderIndex, OperatorRules
from ..semantics.signatures import Kind, Signature, op_name
from ..tensor import Tensor
from ._arguments import NULL_FOR_NONE, Conversion, converter, device_tensors, rule_value
from ._profile import current_profile
from ._signatures import ACCEPTED, desc_key
from ._two_phase import Plan, dispose, launch

__all__ = ["OperatorPlan", "call", "operator", "plan"]

_ANNOTATIONS = {Kind.TENSOR: "Tensor | ArrayLike", Kind.TENSOR_LIST: "Sequence[Tensor | ArrayLike]",
                Kind.SCALAR: "Scalar | number", Kind.SCALAR_LIST: "Sequence[number]",
                Kind.INT_ARRAY: "Sequence[int]", Kind.FLOAT_ARRAY: "Sequence[float]",
                Kind.BOOL_ARRAY: "Sequence[bool]", Kind.INTEGER: "int", Kind.FLOAT: "float", Kind.BOOL: "bool",
                Kind.DTYPE: "DataType | str", Kind.STRING: "str", Kind.POINTER: "Any"}


class OperatorPlan(Plan):
    """A prepared call of an operator: phase 1 done (a repeatable executor unless
    ``repeatable=False``), :meth:`execute` queues it on a stream as often as needed.

    ``arguments`` holds the call's values by parameter name (Tensors, lists of Tensors, the
    host objects made); ``out`` the outputs as the operator function returns them. Refill the
    inputs (``.copy_from_numpy``) between executions for new data.
    """

    def __init__(self, operator: "Operator", args: tuple, kwargs: dict, stream: Stream | None,
                 repeatable: bool) -> None:
        self.signature = operator.signature
        c_args, conversion, self.arguments = operator.prepare(args, kwargs, stream)
        self.out = operator.result(self.arguments)
        super().__init__(self.signature.op, c_args, keep=tuple(conversion.keep), owned=conversion.created,
                         stream=stream, repeatable=repeatable)


class Operator:
    """One operator: its signature (canonical names), its rules (or None), its converters."""

    def __init__(self, signature: Signature, rules: OperatorRules | None) -> None:
        self.signature = signature
        self.rules = rules if rules is not None and (rules.check or rules.outputs) else None
        self._defaults = dict(rules.defaults) if rules is not None else {}
        #: (name, parameter, its converter, whether None passes NULL without converting)
        self._converters = [(p.name, p, converter(p), p.kind in NULL_FOR_NONE) for p in signature.parameters]
        self._outputs = [p for p in signature.parameters if p.output]
        self._inferred = self.rules is not None and self.rules.outputs is not None
        self._tensor_inputs = [p for p in signature.parameters if not p.output and p.kind in _TENSOR_KINDS]
        self._host_inputs = [(p, convert) for _, p, convert, _ in self._converters
                             if not p.output and p.kind not in _TENSOR_KINDS]
        self._inferable = [p for p in self._outputs if not p.optional] if self._inferred else []
        # what the memo key holds of each parameter: the kinds of _KEYS by their function, the
        # others as they are (_plain_key: an int or a str is its own key)
        self._keys = [(p.name, _KEYS[p.kind]) for p in signature.parameters if p.kind in _KEYS]
        self._plain_keys = [p.name for p in signature.parameters if p.kind not in _KEYS]
        self.python_signature = self._python_signature()
        params = list(self.python_signature.parameters.values())[:-1]  # without stream
        self._positional = [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
        self._required = {p.name for p in params if p.default is p.empty}
        self._names = {p.name for p in params}

    def _python_signature(self) -> inspect.Signature:
        parameters, keyword_only = [], False
        for p in self.signature.parameters:
            default = None if p.optional or (p.output and self._inferred) else \
                self._defaults.get(p.name, inspect.Parameter.empty)
            keyword_only = keyword_only or default is not inspect.Parameter.empty
            kind = inspect.Parameter.KEYWORD_ONLY if keyword_only else inspect.Parameter.POSITIONAL_OR_KEYWORD
            annotation = "Tensor" if p.output and p.kind is Kind.TENSOR else \
                "Sequence[Tensor]" if p.output and p.kind is Kind.TENSOR_LIST else _ANNOTATIONS[p.kind]
            parameters.append(inspect.Parameter(p.name, kind, default=default, annotation=annotation))
        parameters.append(inspect.Parameter("stream", inspect.Parameter.KEYWORD_ONLY, annotation="Stream"))
        return inspect.Signature(parameters)

    def bind(self, args: tuple, kwargs: dict) -> dict[str, Any]:
        """The values by parameter name (a TypeError as Python gives for a bad call)."""
        if len(args) > len(self._positional):
            raise TypeError(f"{self.signature.python_name}() takes {len(self._positional)} positional "
                            f"arguments but {len(args)} were given")
        values = dict(zip(self._positional, args))
        if not self._names.issuperset(kwargs) or not values.keys().isdisjoint(kwargs):
            for name in kwargs:  # the first wrong one, as Python names it
                if name not in self._names:
                    raise TypeError(f"{self.signature.python_name}() got an unexpected keyword argument {name!r}")
                if name in values:
                    raise TypeError(f"{self.signature.python_name}() got multiple values for argument {name!r}")
        values.update(kwargs)
        if not self._required.issubset(values):
            missing = sorted(self._required - set(values))
            raise TypeError(f"{self.signature.python_name}() missing required argument(s): {', '.join(missing)}")
        for name, default in self._defaults.items():
            values.setdefault(name, default)
        return values

    def prepare(self, args: tuple, kwargs: dict, stream: Stream | None) -> tuple[tuple, Conversion, dict[str, Any]]:
        """The C arguments of one call, what converting made, and the call's values by name."""
        values = self.bind(args, kwargs)
        conversion = Conversion(stream)
        try:
            if self.rules is not None:
                self._check(values, conversion)
            c_args, objects, get, null = [], {}, values.get, ffi.NULL
            for name, p, convert, nullable in self._converters:
                value = get(name)
                if value is None and nullable:
                    c_value, objects[name] = null, None
                else:
                    c_value, objects[name] = convert(value, p, conversion)
                c_args.append(c_value)
        except BaseException:
            dispose(conversion.created, stream)
            raise
        return tuple(c_args), conversion, objects

    def _check(self, values: dict[str, Any], conversion: Conversion) -> None:
        """Run the pure layer's rules on the call (once per call signature) and allocate the outputs
        the rules infer; ``values`` gets the converted inputs and the allocated outputs."""
        get = values.get
        for p in self._tensor_inputs:  # device copies first: the rules read their descriptors
            value = get(p.name)
            if value is not None and type(value) is not Tensor:
                values[p.name] = device_tensors(value, p, conversion)
        for p, convert in self._host_inputs:  # the other inputs as C takes them (a dtype's value, an
            value = get(p.name)               # IntArray...): what the rules read, checked as C's
            if value is not None:
                values[p.name] = convert(value, p, conversion)[1]
        profile = current_profile()
        missing = [p for p in self._inferable if get(p.name) is None] if self._inferable else ()
        key = (self.signature.op, profile,
               *[None if (v := get(name)) is None else key_of(v) for name, key_of in self._keys],
               *[v if v is None or type(v) is int or type(v) is str else _plain_key(v)
                 for v in map(get, self._plain_keys)])
        accepted = ACCEPTED.get(key)
        if accepted is None:
            rule_values = {p.name: rule_value(p, values.get(p.name)) for p in self.signature.parameters}
            made: dict[str, Any] = {}
            with raising():
                if missing:
                    inferred = self.rules.outputs(profile=profile, **rule_values)
                    made = {p.name: inferred[p.name] for p in missing if p.name in inferred}
                    rule_values.update(made)
                checked = None
                if self.rules.check is not None and profile is not None:
                    checked = self.rules.check(profile=profile, **rule_values)
            accepted = (checked, made)
            ACCEPTED.put(key, accepted)
        for name, desc in accepted[1].items():  # allocated once the rules accepted the call
            values[name] = [Tensor.empty(d.shape, d.dtype) for d in desc] if isinstance(desc, list) \
                else Tensor.empty(desc.shape, desc.dtype)
        for p in missing:
            if values.get(p.name) is None:
                raise ArgumentError(p.name, "the operator's rules infer no shape for it here: pass it")

    def result(self, objects: dict[str, Any]) -> Any:
        """What the function returns: the outputs (one: itself; several: a tuple)."""
        if len(self._outputs) == 1:
            return objects[self._outputs[0].name]
        return tuple(objects[p.name] for p in self._outputs) or None

    def plan(self, *args: Any, stream: Stream | None = None, repeatable: bool = True, **kwargs: Any) -> OperatorPlan:
        """A plan of this operator (``stream``: where host arrays are copied, synchronously when None)."""
        return OperatorPlan(self, args, kwargs, stream, repeatable)


def _tensor_key(value: Any) -> Hashable:
    if value is None:
        return None
    return value._layout or desc_key(value.desc) if isinstance(value, Tensor) else id(value)


def _list_key(value: Any) -> Hashable:
    if value is None:
        return None
    return tuple(map(_tensor_key, value.tensors if hasattr(value, "tensors") else value))


def _values_key(value: Any) -> Hashable:
    if value is None:
        return None
    return tuple(value.values) if hasattr(value, "values") else tuple(value)


def _scalar_key(value: Any) -> Hashable:
    return None if value is None else (type(value).__name__, getattr(value, "value", value),
                                       str(getattr(value, "dtype", "")))


def _plain_key(value: Any) -> Hashable:
    try:
        hash(value)
    except TypeError:
        return id(value)
    return value


#: What the rules read of one value, as a memo key part, by kind.
_KEYS: dict[Kind, Callable[[Any], Hashable]] = {
    Kind.TENSOR: _tensor_key, Kind.TENSOR_LIST: _list_key, Kind.INT_ARRAY: _values_key,
    Kind.FLOAT_ARRAY: _values_key, Kind.BOOL_ARRAY: _values_key, Kind.SCALAR_LIST: _values_key,
    Kind.SCALAR: _scalar_key}
_TENSOR_KINDS = (Kind.TENSOR, Kind.TENSOR_LIST)


# --------------------------------------------------------------------------- lookup

_lock = threading.Lock()
_operators: dict[str, Operator] = {}
_functions: dict[str, Callable[..., Any]] = {}


def operator(name: str) -> Operator:
    """The :class:`Operator` of ``aclnnXxx`` (its header's signature, the pure layer's rules)."""
    op = _operators.get(name)
    if op is None:
        headers = library().operators
        declared = headers.signature(name)
        if declared is None:
            found = headers.find(f"{name}GetWorkspaceSize") or headers.find(name)
            from .._op_headers import not_declared

            raise AttributeError(not_declared(name, found, headers))
        if not declared.two_phase:
            raise TypeError(f"{name} is a single function, not a two-phase operator: call aclnn_py.lib.{name}")
        rules = catalogue.rules(name)
        op = Operator(rules.signature(declared) if rules is not None else declared, rules)
        with _lock:
            op = _operators.setdefault(name, op)
    return op


def function(name: str) -> Callable[..., Any]:
    """The Python function of ``aclnnXxx`` (made once): ``help()`` shows its C signature."""
    fn = _functions.get(name)
    if fn is not None:
        return fn
    op = operator(name)

    def run(*args: Any, stream: Stream, **kwargs: Any) -> Any:
        checked_at = _resource.closed_since  # before the conversion checked what it keeps open
        c_args, conversion, objects = op.prepare(args, kwargs, stream)
        launch(sig.op, c_args, stream, keep=tuple(conversion.keep), owned=conversion.created,
               checked_at=checked_at)
        return op.result(objects)

    sig = op.signature
    run.__name__ = run.__qualname__ = sig.python_name
    run.__module__ = "aclnn_py.ops"
    run.__signature__ = op.python_signature  # type: ignore[attr-defined]
    run.__doc__ = _doc(op)
    run.plan = op.plan  # type: ignore[attr-defined]
    run.signature = sig  # type: ignore[attr-defined]
    with _lock:
        return _functions.setdefault(name, run)


def _doc(op: Operator) -> str:
    sig = op.signature
    lines = [f"{sig.op} ({sig.header}): queue it on ``stream`` and return its outputs.", "",
             f"C: {sig.prototype_text()}", "", "Parameters (Python name: C type, kind):"]
    for p in sig.parameters:
        role = "output" if p.output and not p.input else "input and output" if p.output else "input"
        lines.append(f"    {p.name}: {p.declarator} -- {p.kind.value}, {role}"
                     + (", optional (None: NULL)" if p.optional else ""))
    lines += ["", "Checked with the pure layer's rules before C is called." if op.rules else
              "The runtime checks the call (the pure layer has no rules for this operator).",
              f"``{sig.python_name}.plan(...)`` prepares it once for many executions."]
    return "\n".join(lines)


@functools.lru_cache(maxsize=None)
def _python_names(headers: HeaderIndex) -> dict[str, str]:
    """Python operator name -> ``aclnnXxx`` of every phase 1 the headers name (the first of a name wins)."""
    suffix = "GetWorkspaceSize"
    found: dict[str, str] = {}
    for candidate in headers.names():
        if candidate.endswith(suffix):
            found.setdefault(op_name(candidate[: -len(suffix)]), candidate[: -len(suffix)])
    return found


def by_python_name(name: str) -> str | None:
    """``aclnnXxx`` of a Python operator name (``add_rms_norm``), from the headers read; None when none."""
    return _python_names(library().operators).get(name)


def call(name: str, *args: Any, stream: Stream, **kwargs: Any) -> Any:
    """Run ``aclnnXxx`` once on ``stream`` with the arguments of its header (see :func:`function`)."""
    return (_functions.get(name) or function(name))(*args, stream=stream, **kwargs)


def plan(name: str, *args: Any, stream: Stream | None = None, repeatable: bool = True, **kwargs: Any) -> OperatorPlan:
    """An :class:`OperatorPlan` of ``aclnnXxx``."""
    return operator(name).plan(*args, stream=stream, repeatable=repeatable, **kwargs)
