"""aclScalar, aclScalarList, aclFloatArray and aclBoolArray: host values an operator reads.

CANN copies the values when the object is made (``aclCreateScalar`` reads one value of its
dtype, ``aclCreateFloatArray``/``aclCreateBoolArray`` ``size`` values); a scalar list owns the
scalars it is made of (``aclDestroyScalarList`` destroys them), so :class:`ScalarList` makes
its own. The generic operator functions make these from Python values
(:mod:`aclnn_py.ops`); make them yourself to choose a scalar's dtype (``Scalar(2, "float16")``)
or to reuse one across calls.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from . import arguments
from ._ffi import ffi
from ._loader import library
from ._resource import Resource
from .check import check_aclnn, recent_message
from .errors import AclnnParamError, ArgumentError
from .semantics import codecs, dtypes

__all__ = ["BoolArray", "FloatArray", "Scalar", "ScalarList", "scalar_dtype"]


def scalar_dtype(value: Any) -> dtypes.DataType:
    """The dtype a scalar value implies: a NumPy scalar or 0-d array its own, a Python bool BOOL,
    int INT64, float DOUBLE -- as torch_npu makes an aclScalar of a Python number (Ascend op-plugin,
    ``op_api_common.h``, ``ConvertType(const at::Scalar &)``: a Double, Long or Bool scalar of that
    aclDataType)."""
    if isinstance(value, (np.generic, np.ndarray)):
        try:
            return dtypes.of_array(np.asarray(value))
        except ValueError:
            raise ArgumentError("value", f"NumPy dtype {np.asarray(value).dtype} has no aclDataType") from None
    if isinstance(value, bool):
        return dtypes.DataType.ACL_BOOL
    if isinstance(value, int):
        return dtypes.DataType.ACL_INT64
    if isinstance(value, float):
        return dtypes.DataType.ACL_DOUBLE
    raise TypeError(f"value: expected a number (bool, int, float or a NumPy scalar), got {type(value).__name__}")


def _scalar_handle(value: Any, dtype: Any, parameter: str) -> Any:
    """A new aclScalar (owned by the caller) holding ``value`` as ``dtype`` (None: from the value)."""
    acl = scalar_dtype(value) if dtype is None else dtypes.to_acl(dtype, f"{parameter} dtype")
    array = np.asarray(value)
    if array.ndim:
        raise ArgumentError(parameter, f"a scalar takes one value, got shape {list(array.shape)}")
    try:
        host = codecs.to_host(array.reshape(1), dtypes.name(acl))
    except ValueError as exc:
        raise ArgumentError(parameter, str(exc)) from None
    data = np.ascontiguousarray(host).view(np.uint8)
    lib = library()
    handle = lib.aclCreateScalar(ffi.from_buffer(data), int(acl))
    if handle == ffi.NULL:
        raise AclnnParamError(lib.ACLNN_ERR_PARAM_INVALID, "aclCreateScalar",
                              recent_message() or f"{parameter}: cannot make a {dtypes.label(acl)} scalar")
    return handle


class Scalar(Resource):
    """An aclScalar: one host value of a dtype (``dtype`` None: :func:`scalar_dtype` of the value)."""

    _destroy = "aclDestroyScalar"
    _check = staticmethod(check_aclnn)

    def __init__(self, value: Any, dtype: Any = None) -> None:
        self.value = value
        self.dtype = scalar_dtype(value) if dtype is None else dtypes.to_acl(dtype)
        self._own(_scalar_handle(value, self.dtype, "value"))

    def __repr__(self) -> str:
        return f"Scalar({self.value!r}, {dtypes.label(self.dtype)})"


class ScalarList(Resource):
    """An aclScalarList of numbers or :class:`Scalar` objects (each copied: the list owns its scalars)."""

    _destroy = "aclDestroyScalarList"
    _check = staticmethod(check_aclnn)

    def __init__(self, values: Sequence[Any], dtype: Any = None) -> None:
        lib = library()
        self.values = list(values)
        #: (aclDataType, value) of each member.
        self.items: list[tuple[int, Any]] = []
        handles = []
        try:
            for i, v in enumerate(self.values):
                value, kind = (v.value, v.dtype) if isinstance(v, Scalar) else (v, dtype)
                kind = scalar_dtype(value) if kind is None else dtypes.to_acl(kind, f"values[{i}] dtype")
                handles.append(_scalar_handle(value, kind, f"values[{i}]"))
                self.items.append((int(kind), value))
        except BaseException:
            for h in handles:
                lib.aclDestroyScalar(h)
            raise
        handle = lib.aclCreateScalarList(ffi.new("aclScalar *[]", handles or [ffi.NULL]), len(handles))
        if handle == ffi.NULL:
            for h in handles:
                lib.aclDestroyScalar(h)
            raise AclnnParamError(lib.ACLNN_ERR_PARAM_INVALID, "aclCreateScalarList", recent_message())
        self._own(handle)

    def __len__(self) -> int:
        return len(self.values)


class _HostArray(Resource):
    """An array CANN copies at creation: ``_create(values, size)``, each value checked by ``_value``."""

    _check = staticmethod(check_aclnn)
    _create: str
    _c_array: str
    _value: Callable[[Any, str], Any]

    def __init__(self, values: Sequence[Any]) -> None:
        self.values = tuple(self._value(v, f"values[{i}]") for i, v in enumerate(values))
        lib = library()
        handle = getattr(lib, self._create)(ffi.new(self._c_array, list(self.values) or [0]), len(self.values))
        if handle == ffi.NULL:
            raise AclnnParamError(lib.ACLNN_ERR_PARAM_INVALID, self._create, recent_message())
        self._own(handle)


class FloatArray(_HostArray):
    """An aclFloatArray (float32 values, copied by CANN)."""

    _destroy, _create, _c_array = "aclDestroyFloatArray", "aclCreateFloatArray", "float[]"
    _value = staticmethod(arguments.real)


class BoolArray(_HostArray):
    """An aclBoolArray (copied by CANN)."""

    _destroy, _create, _c_array = "aclDestroyBoolArray", "aclCreateBoolArray", "bool[]"
    _value = staticmethod(arguments.boolean)
