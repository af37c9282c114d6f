"""Python values to the C arguments of an operator, by the kind of each parameter of its signature.

| C type | Python value | made for the call (released once the stream has passed the work) |
|---|---|---|
| ``aclTensor *`` | :class:`~aclnn_py.Tensor`, or a NumPy array / array-like (an input) | the device copy |
| ``aclTensorList *`` | a :class:`~aclnn_py.TensorList`, or a sequence of Tensors / arrays (one Tensor or array alone: a list of one) | the list (and copies) |
| ``aclScalar *`` | :class:`~aclnn_py.host_values.Scalar`, or a number: a NumPy scalar keeps its dtype, ``bool`` BOOL, ``int`` INT64, ``float`` DOUBLE | the scalar |
| ``aclScalarList *`` | ``ScalarList``, or a sequence of numbers / Scalars | the list |
| ``aclIntArray *`` / ``aclFloatArray *`` / ``aclBoolArray *`` | ``IntArray`` / ``FloatArray`` / ``BoolArray``, or a sequence | the array |
| integer types | an integer within the C type's range | |
| ``float`` / ``double`` | a real number | |
| ``bool`` | ``bool``, a NumPy bool, 0 or 1 | |
| ``aclDataType`` | a dtype: ``"float16"``, ``"ACL_BF16"``, a :class:`~aclnn_py.DataType`, a NumPy dtype | |
| ``char *`` | ``str`` (UTF-8) or ``bytes`` | a NUL-terminated copy |
| other pointers | ``None``, a cffi pointer, an integer address, or a resource (its handle) | |

``None`` passes NULL for any pointer. An output tensor (list) must be a Tensor (the operator
writes device memory). A resource given is checked open with what it uses (a Tensor's buffer, a
list's tensors): :class:`~aclnn_py.errors.ClosedResourceError` before any C call. A value of the
wrong type is a ``TypeError`` naming the parameter, a value out of range an
:class:`~aclnn_py.errors.ArgumentError`.

Each converter returns ``(C value, Python value)``: what goes to C, and the object it came
from (the Tensor, the list of Tensors, the resource, the number); :func:`rule_value` gives what
the pure layer's rules read of it (:mod:`aclnn_py.semantics.catalogue`: a TensorDesc for a
tensor, a list of them, a tuple of numbers, ``(dtype, value)`` for a scalar, str, a number).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import arguments
from .._ffi import ffi
from .._memo import BoundedMemo
from .._resource import Resource
from ..errors import ArgumentError
from ..host_values import BoolArray, FloatArray, Scalar, ScalarList
from ..runtime import Stream
from ..semantics import dtypes
from ..semantics.signatures import INTEGERS, Kind, Parameter
from ..tensor import IntArray, Tensor, TensorList
from ._inputs import device_tensor

__all__ = ["NULL_FOR_NONE", "Conversion", "c_text", "converter", "device_tensors", "rule_value"]

_CHARS = ffi.typeof("char[]")


class Conversion:
    """What converting one call's values made and holds: ``created`` (resources made for the
    call, released with it) and ``keep`` (the caller's objects and C buffers the work uses)."""

    __slots__ = ("created", "keep", "stream")

    def __init__(self, stream: Stream | None) -> None:
        self.created: list[Any] = []
        self.keep: list[Any] = []
        self.stream = stream


Converter = Callable[[Any, Parameter, Conversion], tuple[Any, Any]]


def _tensor(value: Any, p: Parameter, call: Conversion) -> tuple[Any, Any]:
    if value is None:
        return ffi.NULL, None
    if not isinstance(value, Tensor):
        if p.output:
            raise TypeError(f"{p.name}: the operator writes it: expected a Tensor, got {type(value).__name__}")
        value = device_tensor(value, p.name, call.created, None, call.stream)
    else:
        value._require_open()  # the tensor and its buffer
        call.keep.append(value)
    return value._handle, value


def _members(value: Any, p: Parameter, call: Conversion) -> list[Tensor]:
    if isinstance(value, (Tensor, np.ndarray)):
        value = [value]
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{p.name}: expected a sequence of Tensors or arrays, got {type(value).__name__}")
    members = []
    for i, v in enumerate(value):
        if isinstance(v, Tensor):
            members.append(v)
        elif p.output:
            raise TypeError(f"{p.name}[{i}]: the operator writes it: expected a Tensor, got {type(v).__name__}")
        else:
            members.append(device_tensor(v, f"{p.name}[{i}]", call.created, None, call.stream))
    return members


def device_tensors(value: Any, p: Parameter, call: Conversion) -> Any:
    """An input tensor (list) argument with its host arrays copied to the device (a TensorList as it is)."""
    if p.kind is Kind.TENSOR:
        return value if isinstance(value, Tensor) else device_tensor(value, p.name, call.created, None, call.stream)
    return value if isinstance(value, TensorList) else _members(value, p, call)


def _tensor_list(value: Any, p: Parameter, call: Conversion) -> tuple[Any, Any]:
    if value is None:
        return ffi.NULL, None
    if isinstance(value, TensorList):
        value._require_open()  # the list and its tensors
        call.keep.append(value)
        return value._handle, value.tensors
    members = _members(value, p, call)
    call.keep.extend(members)
    made = TensorList(members)
    call.created.append(made)
    return made.handle, members


def _made(kind: type, make: Callable[[Any], Resource]) -> Converter:
    """A converter passing a ``kind`` resource as it is and making one from any other value."""
    def convert(value: Any, p: Parameter, call: Conversion) -> tuple[Any, Any]:
        if value is None:
            return ffi.NULL, None
        if isinstance(value, kind):
            value._require_open()
            call.keep.append(value)
            return value.handle, value
        try:
            made = make(value)
        except ArgumentError as exc:  # "values[1]" of the made object is the parameter's "[1]"
            raise ArgumentError(_named(exc.parameter, p.name), exc.detail) from None
        except TypeError as exc:
            where, _, detail = str(exc).partition(": ")
            raise TypeError(f"{_named(where, p.name)}: {detail}") from None
        call.created.append(made)
        return made.handle, made
    return convert


def _named(where: str, parameter: str) -> str:
    """A message's subject (``values[1]``, ``value``) as the parameter's (``dims[1]``, ``alpha``)."""
    return parameter + where[len("values"):] if where.startswith("values") else \
        parameter if where == "value" else f"{parameter}: {where}"


def _integer(c_type: str) -> Converter:
    bits, signed = INTEGERS[c_type.replace("const ", "")]
    lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)

    def convert(value: Any, p: Parameter, call: Conversion) -> tuple[Any, Any]:
        if type(value) is not int or not lo <= value <= hi:
            value = arguments.integer(value, p.name, lo=lo, hi=hi)
        return value, value
    return convert


def _real(value: Any, p: Parameter, call: Conversion) -> tuple[Any, Any]:
    number = arguments.real(value, p.name)
    return number, number


def _bool(value: Any, p: Parameter, call: Conversion) -> tuple[Any, Any]:
    flag = arguments.boolean(value, p.name)
    return flag, flag


def _dtype(value: Any, p: Parameter, call: Conversion) -> tuple[Any, Any]:
    acl = int(dtypes.to_acl(value, p.name))
    return acl, acl


#: str -> (its NUL-terminated UTF-8 copy for C, the str); bytes likewise (apart: a str never compares
#: with bytes). Only exact str and bytes: immutable, so the copy is what converting again would make.
_TEXTS = {str: BoundedMemo(256), bytes: BoundedMemo(256)}


def c_text(value: Any, parameter: str) -> tuple[Any, str]:
    """``value`` (str, as UTF-8, or bytes) as a ``const char *`` argument: the C buffer and its text.
    C only reads a ``const char *``, so calls passing equal text share one buffer (each call keeps
    the buffer it passed alive until the stream has passed its work)."""
    memo = _TEXTS.get(type(value))
    found = None if memo is None else memo.get(value)
    if found is None:
        data = arguments.c_string(value, parameter)
        found = (ffi.new(_CHARS, data), data.decode("utf-8", "replace"))
        if memo is not None:
            memo.put(value, found)
    return found


def _const_string(value: Any, p: Parameter, call: Conversion) -> tuple[Any, Any]:
    if value is None:
        return ffi.NULL, None
    buffer, text = c_text(value, p.name)
    call.keep.append(buffer)
    return buffer, text


def _string(value: Any, p: Parameter, call: Conversion) -> tuple[Any, Any]:
    """A ``char *`` C may write: a copy of its own for each call."""
    if value is None:
        return ffi.NULL, None
    data = arguments.c_string(value, p.name)
    buffer = ffi.new(_CHARS, data)
    call.keep.append(buffer)
    return buffer, data.decode("utf-8", "replace")


def _pointer(value: Any, p: Parameter, call: Conversion) -> tuple[Any, Any]:
    if value is None:
        return ffi.NULL, None
    if isinstance(value, Resource):
        value._require_open()  # with what it uses (a tensor's buffer)
        call.keep.append(value)
        value = value.handle
    if isinstance(value, ffi.CData):
        return ffi.cast(p.c_type, value), value
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return ffi.cast(p.c_type, int(value)), int(value)
    raise TypeError(f"{p.name}: expected None, a cffi pointer, an address or a resource for {p.c_type}, "
                    f"got {type(value).__name__}")


_BY_KIND: dict[Kind, Converter] = {
    Kind.TENSOR: _tensor,
    Kind.TENSOR_LIST: _tensor_list,
    Kind.SCALAR: _made(Scalar, Scalar),
    Kind.SCALAR_LIST: _made(ScalarList, ScalarList),
    Kind.INT_ARRAY: _made(IntArray, IntArray),
    Kind.FLOAT_ARRAY: _made(FloatArray, FloatArray),
    Kind.BOOL_ARRAY: _made(BoolArray, BoolArray),
    Kind.FLOAT: _real,
    Kind.BOOL: _bool,
    Kind.DTYPE: _dtype,
    Kind.STRING: _string,
    Kind.POINTER: _pointer,
}


#: The kinds whose converter passes NULL for None (every pointer kind): a caller may skip it then.
NULL_FOR_NONE = frozenset({Kind.TENSOR, Kind.TENSOR_LIST, Kind.SCALAR, Kind.SCALAR_LIST, Kind.INT_ARRAY,
                           Kind.FLOAT_ARRAY, Kind.BOOL_ARRAY, Kind.STRING, Kind.POINTER})


def converter(p: Parameter) -> Converter:
    """The converter of parameter ``p``."""
    if p.kind is Kind.INTEGER:
        return _integer(p.c_type)
    if p.kind is Kind.STRING and "const" in p.c_type.split("*")[0].split():  # const char *: C only reads
        return _const_string
    return _BY_KIND[p.kind]


def rule_value(p: Parameter, value: Any) -> Any:
    """What the pure layer's rules read of a converted value (see the module docstring)."""
    if value is None:
        return None
    if p.kind is Kind.TENSOR:
        return value.desc
    if p.kind is Kind.TENSOR_LIST:
        return [t.desc for t in (value.tensors if isinstance(value, TensorList) else value)]
    if p.kind in (Kind.INT_ARRAY, Kind.FLOAT_ARRAY, Kind.BOOL_ARRAY):
        return value.values
    if p.kind is Kind.SCALAR:
        return int(value.dtype), value.value
    if p.kind is Kind.SCALAR_LIST:
        return tuple(value.items)
    return value
