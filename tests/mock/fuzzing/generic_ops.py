"""Fuzz cases of the operators reached through the generic path: their valid calls per profile,
the calls themselves made from the operator's header signature, through the raw C entry points
(aclnn_py.lib) or ``aclnn_py.ops.call``, and the golden an accepted call's outputs must equal.

Pure where it builds cases and goldens (imports only numpy and :mod:`aclnn_py.semantics`); the two
call helpers import aclnn_py when a child runs them. An operator is an entry of :data:`GENERIC`:
its C name, a template giving ``(tensors, values)`` (the tensors by canonical name, outputs named
in ``outputs``; the other arguments by canonical name, a tuple for an aclIntArray) and its golden
(:func:`expected`): what the outputs hold after the call, from the inputs' values and the
classification the catalogue's ``check`` returns.

How outputs are compared (:func:`golden_problems`): Cast and Permute exactly, byte for byte (the
mock computes the golden element by element, so any difference is a layout read or written
wrong); Mm and Matmul under CANN's precision standard of ``out``'s dtype (their FLOAT32
accumulation is one BLAS product, whose summation order may change with the thread that runs it).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from aclnn_py.semantics import catalogue, dtypes, permute
from aclnn_py.semantics.cast import golden as cast_golden
from aclnn_py.semantics.cast import rules as cast_rules
from aclnn_py.semantics.mat_mul_v3 import golden as mat_mul_golden
from aclnn_py.semantics.mat_mul_v3 import rules as mat_mul_rules
from aclnn_py.semantics.precision import compare
from aclnn_py.semantics.signatures import INTEGERS, Kind, Parameter

_FLOATS = ("float16", "bfloat16", "float32")


@dataclass(frozen=True)
class GenericOp:
    """One operator of the fuzz's generic path."""

    op: str  # the C name: aclnnMm
    template: Callable[[Any, str], tuple[dict, dict]]  # (rng, profile) -> (tensors, values)
    #: (what the catalogue's check returned, the call's arguments as the check took them, the input
    #: tensors' values by name) -> what each output holds, by name
    golden: Callable[[Any, dict, dict[str, np.ndarray]], dict[str, np.ndarray]]
    exact: bool  # outputs equal the golden byte for byte (else: CANN's precision standard)

    @property
    def function(self) -> str:
        return f"{self.op}GetWorkspaceSize"

    @property
    def outputs(self) -> tuple[str, ...]:
        """The parameters the header marks as written."""
        return tuple(p.name for p in catalogue.project_signature(self.op).outputs)


def _spec(shape, name, **kw):
    from fuzzing.cases import T  # the cases module imports this one: its helpers when a template runs

    return T(shape, name, fill="small", **kw)


def _mm_template(rng, profile: str) -> tuple[dict, dict]:
    from fuzzing.cases import _nz_weight, _transposed

    m, k, n = rng.choice([1, 3, 16, 33]), rng.choice([1, 8, 32, 40]), rng.choice([1, 5, 16, 24])
    a = rng.choice(_FLOATS)
    b = a if rng.chance(0.7) else rng.choice(_FLOATS)
    layout = rng.choice(["nd"] * 4 + ["transposed", "nz"])
    if layout == "nz" and a == b and a != "float32":
        mat2 = _nz_weight((k, n), b, fill="small")
    elif layout == "transposed":
        mat2 = _transposed((k, n), b, fill="small")
    else:
        mat2 = _spec((k, n), b)
    cube = rng.choice([0, 1, 2, 3, 4] + ([-1] if profile != "950" else []))
    return ({"self": _spec((m, k), a), "mat2": mat2, "out": _spec((m, n), rng.choice(_FLOATS))},
            {"cube_math_type": cube})


_MATMUL_SHAPES = [((5,), (5,)), ((3, 5), (5,)), ((5,), (5, 4)), ((3, 5), (5, 4)), ((2, 3, 5), (5, 4)),
                  ((2, 1, 3, 5), (4, 5, 2)), ((5,), (2, 5, 4)), ((3, 0), (0, 4)), ((0, 5), (5, 3))]


def _matmul_template(rng, profile: str) -> tuple[dict, dict]:
    a_shape, b_shape = rng.choice(_MATMUL_SHAPES)
    a = rng.choice(_FLOATS)
    shape = mat_mul_rules.result_shape(a_shape, b_shape)
    return ({"self": _spec(a_shape, a), "mat2": _spec(b_shape, a if rng.chance(0.7) else rng.choice(_FLOATS)),
             "out": _spec(shape, rng.choice(_FLOATS))}, {"cube_math_type": rng.choice([0, 1, 2, 3, 4])})


def _representable(types) -> list[str]:
    return sorted(dtypes.NAMES[t] for t in types if t in dtypes.NAMES)


def _cast_template(rng, profile: str) -> tuple[dict, dict]:
    from fuzzing.cases import _transposed

    source = rng.choice(_representable(cast_rules.SELF_TYPES[profile]))
    targets = [t for t in _representable(cast_rules.TARGET_TYPES[profile])
               if cast_rules.converts(dtypes.from_name(source), dtypes.from_name(t), profile)]
    target = rng.choice(targets)
    shape = tuple(rng.choice([0, 1, 2, 4, 6]) for _ in range(rng.integer(0, 3)))
    if target == "int4" and shape:
        shape = shape[:-1] + (2 * max(shape[-1] // 2, 1),)
    elif target == "int4":
        shape = (2,)
    self = _transposed(shape, source, fill="small") if len(shape) == 2 and target != "int4" and rng.chance(0.3) \
        else _spec(shape, source)
    return {"self": self, "out": _spec(shape, target)}, {"dtype": int(dtypes.from_name(target))}


def _permute_template(rng, profile: str) -> tuple[dict, dict]:
    name = rng.choice(_representable(permute.TYPES))
    shape = tuple(rng.choice([1, 2, 3, 5]) for _ in range(rng.integer(0, 4)))
    axes = [int(a) for a in rng.g.permutation(len(shape))]
    dims = tuple(a - len(shape) if rng.chance(0.3) else a for a in axes)
    return ({"self": _spec(shape, name), "out": _spec(tuple(shape[a] for a in axes), name)}, {"dims": dims})


def _mat_mul_golden(call, arguments: dict, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {"out": mat_mul_golden.compute(call, inputs["self"], inputs["mat2"])}


def _cast_golden(_, arguments: dict, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    source, target = dtypes.name(arguments["self"].dtype), dtypes.name(arguments["dtype"])
    return {"out": cast_golden.convert(inputs["self"], source, target)}


def _permute_golden(axes, arguments: dict, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {"out": permute.compute(inputs["self"], axes)}


#: The generic operators of the fuzz, by case name.
GENERIC = {"mm": GenericOp("aclnnMm", _mm_template, _mat_mul_golden, exact=False),
           "matmul": GenericOp("aclnnMatmul", _matmul_template, _mat_mul_golden, exact=False),
           "cast": GenericOp("aclnnCast", _cast_template, _cast_golden, exact=True),
           "permute": GenericOp("aclnnPermute", _permute_template, _permute_golden, exact=True)}


def c_value(parameter: Parameter, value: int) -> int:
    """What a C caller's conversion to an integer parameter's type makes of ``value``."""
    bits, signed = INTEGERS.get(parameter.c_type.replace("const ", ""), (32, True))
    value %= 2**bits
    return value - 2**bits if signed and value >= 2 ** (bits - 1) else value


def c_values(case) -> dict[str, Any]:
    """The non-tensor arguments of a generic case as its C call passes them, by canonical name:
    integers converted to the parameter's type, int arrays as tuples (None: NULL)."""
    values: dict[str, Any] = {}
    for p in catalogue.project_signature(GENERIC[case.op].op).parameters:
        if p.kind is Kind.INT_ARRAY:
            found = case.ints.get(p.name)
            values[p.name] = None if found is None else tuple(found)
        elif p.kind is not Kind.TENSOR:
            values[p.name] = c_value(p, case.ints[p.name])
    return values


def c_call(case, placed: dict, int_array: Callable[[Any], Any], size: Any, executor: Any) -> int:
    """GetWorkspaceSize of a generic case through the raw entry point: the arguments in the
    header's order (``placed``: the aclTensor handles; ``int_array(values)``: an aclIntArray)."""
    import aclnn_py
    from aclnn_py import ffi

    op = GENERIC[case.op]
    values = c_values(case)
    args = []
    for p in catalogue.project_signature(op.op).parameters:
        if p.kind is Kind.TENSOR:
            args.append(placed.get(p.name, ffi.NULL))
        elif p.kind is Kind.INT_ARRAY:
            args.append(ffi.NULL if values[p.name] is None else int_array(values[p.name]))
        else:
            args.append(values[p.name])
    return getattr(aclnn_py.lib, op.function)(*args, size, executor)


def python_call(case, arg: Callable[..., Any], out_given: bool) -> dict[str, Any]:
    """The keyword arguments of ``aclnn_py.ops.call`` for a generic case (``arg(name)``: a tensor
    argument as the Python path gives it); ``__function__`` the call."""
    from functools import partial

    from aclnn_py import ops

    op = GENERIC[case.op]
    kwargs: dict[str, Any] = {"__function__": partial(ops.call, op.op)}
    for p in catalogue.project_signature(op.op).parameters:
        if p.kind is Kind.TENSOR:
            kwargs[p.name] = arg(p.name, False) if p.name in op.outputs and out_given else \
                None if p.name in op.outputs else arg(p.name)
        else:
            value = case.ints.get(p.name)
            kwargs[p.name] = list(value) if isinstance(value, tuple) else value
    return kwargs


def expected(case, profile: str, arguments: dict, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """What the outputs of an accepted generic call hold: the catalogue's ``check`` on ``arguments``
    (canonical names: tensors as descriptors, the other values as the operator got them), then
    the operator's golden of the ``inputs`` (the input tensors' values)."""
    op = GENERIC[case.op]
    classification = catalogue.rules(op.op).check(profile=profile, **arguments)
    return op.golden(classification, arguments, inputs)


def mismatch(op: str, name: str, dtype: int, got: np.ndarray, want: np.ndarray) -> str | None:
    """Why output ``name`` of aclDataType ``dtype`` of generic operator ``op`` (a key of
    :data:`GENERIC`; ``got``: its values read back) is not the golden ``want`` (None: it is)."""
    want = np.asarray(want).reshape(got.shape) if np.size(want) == got.size else np.asarray(want)
    if got.shape != want.shape:
        return f"{name}: {got.shape} values read back, the golden has shape {want.shape}"
    if GENERIC[op].exact:
        a = np.ascontiguousarray(got).view(np.uint8).reshape(-1)
        b = np.ascontiguousarray(want.astype(got.dtype, copy=False)).view(np.uint8).reshape(-1)
        differ = np.flatnonzero(a != b)
        if differ.size:
            first = int(differ[0]) // max(got.dtype.itemsize, 1)
            return (f"{name}: {differ.size} byte(s) differ from the golden, first in element {first} "
                    f"({got.reshape(-1)[first]!r}, golden {want.reshape(-1)[first]!r})")
        return None
    result = compare(got, want, dtypes.name(dtype))
    return None if result.passed else f"{name}: {result}"


def golden_problems(case, memory, values: dict[str, Any], made: dict[str, Any] | None = None) -> list[str]:
    """The outputs of an accepted, executed generic call against their golden (:func:`expected`
    and :func:`mismatch`); ``memory.record.golden`` set when they were compared.

    ``values``: the non-tensor arguments as the operator got them; ``made``: the Tensors the Python
    API allocated for outputs it was not given, by name. Nothing is compared when an input is not
    in memory of ours (its values unknown here) or an output's elements overlap (the result of
    writing one element twice is not defined)."""
    from fuzzing.cases import TensorSpec
    from fuzzing.memory import element_indices

    op = GENERIC[case.op]
    made = made or {}
    placed = {p.label: p for p in memory.placed}
    arguments, inputs = dict(values), {}
    for name, spec in case.tensors.items():
        if name in made:
            arguments[name] = made[name].desc
            continue
        if not isinstance(spec, TensorSpec) or name not in placed:
            return []
        arguments[name] = spec.desc()
        if name in op.outputs:
            index = element_indices(spec)
            if index is None or np.unique(index).size != index.size:
                return []
        else:
            inputs[name] = memory.contents(placed[name], now=False)
            if inputs[name] is None:
                return []
    want = expected(case, case.profile, arguments, inputs)
    problems = []
    for name in op.outputs:
        got = made[name].to_numpy() if name in made else memory.contents(placed[name], now=True)
        if got is None:
            return []
        problem = mismatch(case.op, name, arguments[name].dtype, got, want[name])
        if problem:
            problems.append(f"{op.op}: {problem}")
    memory.record.golden = True
    return problems
