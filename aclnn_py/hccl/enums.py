"""HCCL's value types: HcclDataType, ReduceOp and Result (generated from the headers), the
conversions the Python API accepts for them, and HcclGetErrorString."""
from __future__ import annotations

import enum
from typing import Any

import numpy as np

from ..semantics import dtypes as _acl_dtypes
from ..semantics.dtypes import HcclDataType
from ..semantics.headers import load
from .._ffi import ffi
from .._loader import library
from ..errors import ArgumentError

#: ``HcclReduceOp`` as an IntEnum generated from the header.
ReduceOp = enum.IntEnum("ReduceOp", load().enums["HcclReduceOp"])
#: ``HcclResult`` as an IntEnum generated from the header.
Result = enum.IntEnum("Result", load().enums["HcclResult"])


_OPS = {"sum": ReduceOp.HCCL_REDUCE_SUM, "prod": ReduceOp.HCCL_REDUCE_PROD,
        "max": ReduceOp.HCCL_REDUCE_MAX, "min": ReduceOp.HCCL_REDUCE_MIN}


def hccl_dtype(dtype: Any) -> HcclDataType:
    """The HcclDataType of ``dtype``: an HcclDataType value, an aclDataType (:class:`aclnn_py.DataType`),
    a canonical dtype name or a NumPy / ml_dtypes dtype."""
    if isinstance(dtype, (int, np.integer)) and not isinstance(dtype, (bool, _acl_dtypes.DataType)):
        try:
            return HcclDataType(int(dtype))
        except ValueError:
            raise ArgumentError("dtype", f"{int(dtype)} is not an HcclDataType value") from None
    return _acl_dtypes.hccl_of(dtype)


def reduce_op(op: Any) -> ReduceOp:
    """The HcclReduceOp of ``'sum'``/``'prod'``/``'max'``/``'min'`` or an int."""
    if isinstance(op, str):
        try:
            return _OPS[op.lower()]
        except KeyError:
            raise ArgumentError("op", f"unknown reduce op {op!r}; expected one of {sorted(_OPS)}") from None
    try:
        return ReduceOp(int(op))
    except (ValueError, TypeError, OverflowError):
        raise ArgumentError("op", f"{op!r} is not an HcclReduceOp") from None


def error_string(code: int) -> str:
    """``HcclGetErrorString``."""
    text = library().HcclGetErrorString(int(code))
    return "" if text == ffi.NULL else ffi.string(text).decode("utf-8", "replace")
