"""aclDataType and aclFormat values and their NumPy host representations.

The numeric values come from ``include/acl/acl_base.h``; the host
representation of each type is defined in :mod:`aclnn_py.spec.codecs` (HiFloat8
is held as uint8 codes; 4-bit types unpacked, one value per element).
"""
from __future__ import annotations

import enum

import numpy as np

from . import codecs
from .headers import load
from .status import ArgumentError

_DECL = load()

#: ``aclDataType`` as an IntEnum generated from the header (``DataType.ACL_FLOAT16`` ...).
DataType = enum.IntEnum("DataType", _DECL.enums["aclDataType"])
#: ``aclFormat`` as an IntEnum generated from the header.
Format = enum.IntEnum("Format", _DECL.enums["aclFormat"])

#: aclDataType value -> canonical format name of :mod:`aclnn_py.spec.codecs`.
NAMES: dict[int, str] = {
    DataType.ACL_FLOAT: "float32",
    DataType.ACL_FLOAT16: "float16",
    DataType.ACL_BF16: "bfloat16",
    DataType.ACL_DOUBLE: "float64",
    DataType.ACL_INT8: "int8",
    DataType.ACL_INT16: "int16",
    DataType.ACL_INT32: "int32",
    DataType.ACL_INT64: "int64",
    DataType.ACL_UINT8: "uint8",
    DataType.ACL_UINT16: "uint16",
    DataType.ACL_UINT32: "uint32",
    DataType.ACL_UINT64: "uint64",
    DataType.ACL_BOOL: "bool",
    DataType.ACL_FLOAT8_E4M3FN: "float8_e4m3fn",
    DataType.ACL_FLOAT8_E5M2: "float8_e5m2",
    DataType.ACL_FLOAT8_E8M0: "float8_e8m0",
    DataType.ACL_FLOAT4_E2M1: "float4_e2m1",
    DataType.ACL_INT4: "int4",
    DataType.ACL_HIFLOAT8: "hifloat8",
}
_BY_NAME = {name: value for value, name in NAMES.items()}


def name(dtype: int) -> str:
    """Canonical name of an aclDataType value (``ValueError`` for types NumPy cannot hold)."""
    try:
        return NAMES[int(dtype)]
    except KeyError:
        raise ArgumentError("dtype", f"aclDataType {dtype} ({label(dtype)}) has no NumPy representation") from None


def label(dtype: int) -> str:
    """The C enum name without its prefix, for messages: ``FLOAT16``, ``INT8``..."""
    try:
        return DataType(int(dtype)).name.removeprefix("ACL_")
    except ValueError:
        return f"<unknown aclDataType {dtype}>"


def format_label(fmt: int) -> str:
    try:
        return Format(int(fmt)).name.removeprefix("ACL_FORMAT_").removeprefix("ACL_")
    except ValueError:
        return f"<unknown aclFormat {fmt}>"


def from_name(type_name: str, parameter: str = "dtype") -> DataType:
    """aclDataType of a canonical name (``'bfloat16'`` -> ``ACL_BF16``)."""
    try:
        return DataType(_BY_NAME[type_name])
    except KeyError:
        raise ArgumentError(parameter, f"unknown dtype name {type_name!r}; known: "
                                       f"{', '.join(sorted(_BY_NAME))}") from None


def of_array(array: np.ndarray | np.dtype) -> DataType:
    """aclDataType of a NumPy / ml_dtypes array (uint8 stays UINT8: pass HiFloat8 explicitly)."""
    return from_name(codecs.name_of(array))


def to_acl(dtype, parameter: str = "dtype") -> DataType:
    """Accept a DataType/int, a canonical name (``"bfloat16"``), a C enum name with or
    without its prefix (``"ACL_BF16"``, ``"BF16"``) or a NumPy dtype; anything else
    raises :class:`~aclnn_py.errors.ArgumentError` naming ``parameter``."""
    if isinstance(dtype, (int, np.integer)) and not isinstance(dtype, bool):
        try:
            return DataType(int(dtype))
        except ValueError:
            raise ArgumentError(parameter, f"{int(dtype)} is not an aclDataType value") from None
    if isinstance(dtype, str):
        if dtype in _BY_NAME:
            return DataType(_BY_NAME[dtype])
        enum_name = dtype if dtype.startswith("ACL_") else f"ACL_{dtype.upper()}"
        if enum_name in DataType.__members__:
            return DataType[enum_name]
        raise ArgumentError(parameter, f"unknown dtype {dtype!r}: expected one of {', '.join(sorted(_BY_NAME))} "
                                       f"or an aclDataType name such as 'ACL_BF16'")
    try:
        return from_name(codecs.name_of(np.dtype(dtype)), parameter)
    except (TypeError, ValueError):
        raise ArgumentError(parameter, f"{dtype!r} is not a dtype CANN knows (a DataType, a name such as "
                                       f"'bfloat16', or a NumPy dtype)") from None


def host_dtype(dtype: int) -> np.dtype:
    return np.dtype(codecs.host_dtype(name(dtype)))


def bits(dtype: int) -> int:
    """Bits per element in device memory (4 for the packed 4-bit types)."""
    return codecs.bits_of(name(dtype))


def nbytes(numel: int, dtype: int) -> int:
    """Device bytes of ``numel`` contiguous elements."""
    return (numel * bits(dtype) + 7) // 8
