"""The one table of CANN's data types: aclDataType, HcclDataType, canonical names,
NumPy host representations and device sizes.

Every other module asks this table: the binding (dtype arguments, tensor
sizes), the codecs (host representations), the precision standard (exact
types), the operators' rules and goldens (canonical names), HCCL (element
sizes, dtype arguments) and the mock. Values come from the headers
(``acl/acl_base.h``, ``hccl/hccl_types.h``).

Host representation: the standard types map to NumPy or ``ml_dtypes`` dtypes;
4-bit types are kept one value per element (``ml_dtypes.int4`` /
``float4_e2m1fn``, packed two per byte on the device); HiFloat8 is held as raw
``uint8`` codes (or ``en_dtypes.hifloat8`` when that optional package is
installed); INT128 exists only for HCCL and has no host type.

``ml_dtypes`` (and ``en_dtypes``) are imported on the first use of one of their
types -- a host dtype asked for, a dtype named by a string NumPy does not know
yet -- not with this module: importing ml_dtypes 0.7 takes about 0.4 s, and a
program that touches none of its types never pays it. An array of one of their
types can exist only once its package is imported, so a lookup by dtype imports
nothing new.
"""
from __future__ import annotations

import enum
import functools
import sys
from dataclasses import dataclass, field

import numpy as np

from .headers import load
from .status import ArgumentError

_DECL = load()

#: ``aclDataType`` as an IntEnum generated from the header (``DataType.ACL_FLOAT16`` ...).
DataType = enum.IntEnum("DataType", _DECL.enums["aclDataType"])
#: ``aclFormat`` as an IntEnum generated from the header.
Format = enum.IntEnum("Format", _DECL.enums["aclFormat"])
#: ``HcclDataType`` as an IntEnum generated from the header (``HcclDataType.HCCL_DATA_TYPE_FP16`` ...).
HcclDataType = enum.IntEnum("HcclDataType", _DECL.enums["HcclDataType"])

_ML_DTYPES = "ml_dtypes"
_HIFLOAT8 = "hifloat8"  # the host spec of HiFloat8: en_dtypes.hifloat8 where installed, else uint8


@functools.cache
def hifloat8_host() -> np.dtype:
    """The NumPy dtype HiFloat8 values are held in (their codes): ``en_dtypes.hifloat8`` where
    that optional package is installed, else uint8."""
    try:
        import en_dtypes
    except ImportError:
        return np.dtype(np.uint8)
    return np.dtype(en_dtypes.hifloat8)


@functools.cache
def _resolve(spec: object) -> np.dtype | None:
    """The NumPy dtype of a host spec: a NumPy type, ``"ml_dtypes.<name>"``, ``"hifloat8"`` or None."""
    if spec is None:
        return None
    if spec == _HIFLOAT8:
        return hifloat8_host()
    if isinstance(spec, str):
        import ml_dtypes

        return np.dtype(getattr(ml_dtypes, spec.removeprefix("ml_dtypes.")))
    return np.dtype(spec)


@dataclass(frozen=True)
class Type:
    """One data type: its canonical name, enum values, host dtype and device width."""

    name: str  # canonical, lowercase: "bfloat16", "float8_e4m3fn", "hifloat8" ...
    acl: int | None  # aclDataType value (None: HCCL only)
    hccl: int | None  # HcclDataType value (None: HCCL has no such type)
    spec: object = field(repr=False)  # the host type: a NumPy type, "ml_dtypes.<name>", "hifloat8" or None
    bits: int  # bits per element on the device
    exact: bool  # integers and bool: results compare exactly

    @property
    def host(self) -> np.dtype | None:
        """NumPy host representation (None: no host type); the first use of one of ml_dtypes'
        (or en_dtypes') types imports that package."""
        return _resolve(self.spec)

    @property
    def lazy(self) -> bool:
        """Its host type comes from a package imported on first use (ml_dtypes, en_dtypes)."""
        return isinstance(self.spec, str)


def _t(name: str, acl: str | None, hccl: str | None, host, bits: int, exact: bool = False) -> Type:
    return Type(name, None if acl is None else DataType[acl], None if hccl is None else HcclDataType[hccl],
                host, bits, exact)


#: Every type the project handles, in one place.
TABLE: tuple[Type, ...] = (
    _t("float32", "ACL_FLOAT", "HCCL_DATA_TYPE_FP32", np.float32, 32),
    _t("float16", "ACL_FLOAT16", "HCCL_DATA_TYPE_FP16", np.float16, 16),
    _t("bfloat16", "ACL_BF16", "HCCL_DATA_TYPE_BFP16", "ml_dtypes.bfloat16", 16),
    _t("float64", "ACL_DOUBLE", "HCCL_DATA_TYPE_FP64", np.float64, 64),
    _t("int8", "ACL_INT8", "HCCL_DATA_TYPE_INT8", np.int8, 8, True),
    _t("int16", "ACL_INT16", "HCCL_DATA_TYPE_INT16", np.int16, 16, True),
    _t("int32", "ACL_INT32", "HCCL_DATA_TYPE_INT32", np.int32, 32, True),
    _t("int64", "ACL_INT64", "HCCL_DATA_TYPE_INT64", np.int64, 64, True),
    _t("uint8", "ACL_UINT8", "HCCL_DATA_TYPE_UINT8", np.uint8, 8, True),
    _t("uint16", "ACL_UINT16", "HCCL_DATA_TYPE_UINT16", np.uint16, 16, True),
    _t("uint32", "ACL_UINT32", "HCCL_DATA_TYPE_UINT32", np.uint32, 32, True),
    _t("uint64", "ACL_UINT64", "HCCL_DATA_TYPE_UINT64", np.uint64, 64, True),
    _t("bool", "ACL_BOOL", None, np.bool_, 8, True),
    _t("complex64", "ACL_COMPLEX64", None, np.complex64, 64),
    _t("complex128", "ACL_COMPLEX128", None, np.complex128, 128),
    _t("float8_e4m3fn", "ACL_FLOAT8_E4M3FN", "HCCL_DATA_TYPE_FP8E4M3", "ml_dtypes.float8_e4m3fn", 8),
    _t("float8_e5m2", "ACL_FLOAT8_E5M2", "HCCL_DATA_TYPE_FP8E5M2", "ml_dtypes.float8_e5m2", 8),
    _t("float8_e8m0", "ACL_FLOAT8_E8M0", "HCCL_DATA_TYPE_FP8E8M0", "ml_dtypes.float8_e8m0fnu", 8),
    _t("float4_e2m1", "ACL_FLOAT4_E2M1", None, "ml_dtypes.float4_e2m1fn", 4),
    _t("int4", "ACL_INT4", None, "ml_dtypes.int4", 4, True),
    _t("hifloat8", "ACL_HIFLOAT8", "HCCL_DATA_TYPE_HIF8", _HIFLOAT8, 8),
    _t("int128", None, "HCCL_DATA_TYPE_INT128", None, 128, True),
)

_BY_NAME = {t.name: t for t in TABLE}
_BY_ACL = {t.acl: t for t in TABLE if t.acl is not None}
_BY_HCCL = {t.hccl: t for t in TABLE if t.hccl is not None}
# Host dtype -> row: the NumPy types now, ml_dtypes' (and en_dtypes') once a dtype is not
# among them (:func:`_by_host`). uint8 arrays are UINT8 (HiFloat8 codes are named
# explicitly), unless en_dtypes gives HiFloat8 a dtype.
_BY_HOST = {t.host: t for t in TABLE if t.spec is not None and not t.lazy}


_LAZY_HOSTS_ADDED = False


def _by_host(dt: np.dtype) -> Type | None:
    """The row whose host dtype is ``dt`` (None: none is)."""
    global _LAZY_HOSTS_ADDED
    row = _BY_HOST.get(dt)
    if row is None and not _LAZY_HOSTS_ADDED:
        for t in TABLE:
            if t.lazy and not (t.name == "hifloat8" and t.host == np.uint8):
                _BY_HOST[t.host] = t
        _LAZY_HOSTS_ADDED = True
        row = _BY_HOST.get(dt)
    return row


def _as_dtype(dtype_like: object) -> np.dtype:
    """``np.dtype(dtype_like)``; a name NumPy does not know yet ("bfloat16") imports ml_dtypes,
    which registers its types' names, and is tried again."""
    try:
        return np.dtype(dtype_like)
    except TypeError:
        if _ML_DTYPES in sys.modules or not isinstance(dtype_like, str):
            raise
        import ml_dtypes  # noqa: F401 -- registers the names of its types with NumPy

        return np.dtype(dtype_like)


def is_host(dtype: np.dtype, name: str) -> bool:
    """``dtype`` is the host dtype of the type ``name``, found without importing ml_dtypes (no
    array of its types exists before it is imported)."""
    row = _BY_NAME[name]
    if row.lazy and row.spec != _HIFLOAT8 and _ML_DTYPES not in sys.modules:
        return False
    return dtype == row.host


def __getattr__(name: str) -> object:
    if name == "HIFLOAT8_HOST":  # the constant this module had: resolved on use (en_dtypes)
        return hifloat8_host()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: aclDataType value -> canonical name.
NAMES: dict[int, str] = {acl: t.name for acl, t in _BY_ACL.items()}
#: Canonical names of the exactly compared types (integers and bool).
EXACT: frozenset[str] = frozenset(t.name for t in TABLE if t.exact)
#: Canonical names of the integer types (bool excluded).
INTEGERS: frozenset[str] = EXACT - {"bool"}


def lookup(dtype: object, parameter: str = "dtype") -> Type:
    """The row of a canonical name or an aclDataType value (ArgumentError otherwise)."""
    if isinstance(dtype, str):
        row = _BY_NAME.get(dtype)
    elif isinstance(dtype, (int, np.integer)) and not isinstance(dtype, bool):
        row = _BY_ACL.get(int(dtype))
    else:
        row = None
    if row is None:
        shown = label(dtype) if isinstance(dtype, (int, np.integer)) else repr(dtype)
        raise ArgumentError(parameter, f"{shown} is not a data type the project handles; known: "
                                       f"{', '.join(sorted(_BY_NAME))}")
    return row


def host_dtype(dtype: object) -> np.dtype:
    """NumPy host dtype of a canonical name or an aclDataType value."""
    row = lookup(dtype)
    if row.host is None:
        raise ArgumentError("dtype", f"{row.name} has no NumPy host representation")
    return row.host


def name_of(dtype_or_array: object) -> str:
    """Canonical name of a host dtype, dtype-like or array (uint8 -> ``'uint8'``)."""
    dt = dtype_or_array.dtype if isinstance(dtype_or_array, (np.ndarray, np.generic)) else _as_dtype(dtype_or_array)
    row = _by_host(dt)
    if row is None:
        raise ValueError(f"no CANN dtype for NumPy dtype {dt}")
    return row.name


def hccl_of(dtype: object, parameter: str = "dtype") -> HcclDataType:
    """The HcclDataType of an aclDataType (a :class:`DataType`), a canonical name or a NumPy dtype."""
    if isinstance(dtype, DataType) or dtype in _BY_NAME:
        row = lookup(dtype, parameter)
    else:
        try:
            row = _by_host(_as_dtype(dtype))
        except TypeError:
            row = None
        if row is None:
            raise ArgumentError(parameter, f"{dtype!r} has no HcclDataType (pass the HcclDataType value)")
    if row.hccl is None:
        raise ArgumentError(parameter, f"{row.name} has no HcclDataType")
    return HcclDataType(row.hccl)


def from_hccl(hccl_dtype: int) -> Type:
    """The row of an HcclDataType value (ArgumentError for an unknown one)."""
    try:
        return _BY_HCCL[int(hccl_dtype)]
    except KeyError:
        raise ArgumentError("dataType", f"{hccl_dtype} is not an HcclDataType value") from None


def hccl_bytes(hccl_dtype: int) -> int:
    """Element size in bytes of an HcclDataType value (ArgumentError for an unknown one)."""
    return from_hccl(hccl_dtype).bits // 8


def hccl_label(hccl_dtype: int) -> str:
    """The HcclDataType enum name without its prefix, for messages: ``FP16``, ``BFP16``..."""
    try:
        return HcclDataType(int(hccl_dtype)).name.removeprefix("HCCL_DATA_TYPE_")
    except ValueError:
        return f"<unknown HcclDataType {hccl_dtype}>"


def name(dtype: int) -> str:
    """Canonical name of an aclDataType value (ArgumentError for a type the project does not handle)."""
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
    row = _BY_NAME.get(type_name)
    if row is not None and row.acl is not None:
        return DataType(row.acl)
    raise ArgumentError(parameter, f"unknown dtype name {type_name!r}; known: "
                                   f"{', '.join(sorted(NAMES.values()))}")


def of_array(array: np.ndarray | np.dtype) -> DataType:
    """aclDataType of a NumPy / ml_dtypes array (uint8 stays UINT8: pass HiFloat8 explicitly)."""
    return from_name(name_of(array))


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
        if dtype in _BY_NAME and _BY_NAME[dtype].acl is not None:
            return DataType(_BY_NAME[dtype].acl)
        enum_name = dtype if dtype.startswith("ACL_") else f"ACL_{dtype.upper()}"
        if enum_name in DataType.__members__:
            return DataType[enum_name]
        raise ArgumentError(parameter, f"unknown dtype {dtype!r}: expected one of {', '.join(sorted(_BY_NAME))} "
                                       f"or an aclDataType name such as 'ACL_BF16'")
    try:
        return from_name(name_of(_as_dtype(dtype)), parameter)
    except (TypeError, ValueError):
        raise ArgumentError(parameter, f"{dtype!r} is not a dtype CANN knows (a DataType, a name such as "
                                       f"'bfloat16', or a NumPy dtype)") from None


def bits(dtype: object) -> int:
    """Bits per element in device memory of a canonical name or an aclDataType (4 for 4-bit types)."""
    return lookup(dtype).bits


def nbytes(numel: int, dtype: object) -> int:
    """Device bytes of ``numel`` contiguous elements (4-bit types packed two per byte)."""
    return (numel * bits(dtype) + 7) // 8
