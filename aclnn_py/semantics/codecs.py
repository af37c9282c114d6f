"""Exact host-side codecs for CANN's number formats.

Every CANN dtype has a NumPy *host representation*, given by the one dtype table
(:mod:`aclnn_py.semantics.dtypes`, whose ``host_dtype`` and ``name_of`` look it
up): the standard types map to NumPy or ``ml_dtypes`` dtypes, 4-bit types
are kept one value per element and packed here (:func:`pack_nibbles`), and
HiFloat8 is held as raw ``uint8`` codes (or ``en_dtypes.hifloat8`` when that
optional package is installed). This module converts between those
representations and float32 exactly.

``ml_dtypes`` is imported where a value needs one of its types (see
:mod:`aclnn_py.semantics.dtypes`), not with this module.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from .dtypes import EXACT, INTEGERS, TABLE, hifloat8_host, host_dtype, is_host, name_of

__all__ = [
    "CODED_BY_UINT8",
    "COMPLEX",
    "acl_float16_to_float",
    "acl_float_to_float16",
    "e8m0_decode",
    "e8m0_from_exponent",
    "from_float32",
    "hifloat8_decode",
    "hifloat8_encode",
    "pack_int4_to_int32",
    "pack_nibbles",
    "to_float32",
    "to_host",
    "unpack_int32_to_int4",
    "unpack_nibbles",
]

_NIBBLE_TYPES = ("float4_e2m1", "int4")
#: The complex types (their host values: NumPy's complex64 and complex128).
COMPLEX: frozenset[str] = frozenset(t.name for t in TABLE if t.spec is not None and not t.lazy
                                    and np.dtype(t.spec).kind == "c")
#: The 8-bit float types a ``uint8`` array gives as codes (the bytes themselves), never as numbers:
#: HiFloat8, FLOAT8_E8M0, FLOAT8_E4M3FN and FLOAT8_E5M2 (the one place this rule is written).
CODED_BY_UINT8: frozenset[str] = frozenset(t.name for t in TABLE if t.bits == 8 and t.name not in EXACT)


def _ml_dtypes():
    """The ml_dtypes module, imported on first use (for its iinfo/finfo)."""
    import ml_dtypes

    return ml_dtypes


def _as_codes(codes: np.ndarray, name: str, what: str) -> np.ndarray:
    """Return ``codes`` as a uint8 array of raw 8-bit codes.

    An array of the host dtype of ``name`` (a 1-byte dtype whose bytes are the codes
    themselves) is viewed as its codes; any integer array is accepted when all its values
    lie in 0..255.
    """
    arr = np.asarray(codes)
    if arr.dtype != np.uint8 and is_host(arr.dtype, name):
        return arr.view(np.uint8)
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype.kind in "iu":
        if arr.size and (arr.min() < 0 or arr.max() > 255):
            raise ValueError(f"{what} codes must lie in 0..255")
        return arr.astype(np.uint8)
    raise TypeError(f"{what} codes must be uint8 (or another integer dtype), got {arr.dtype}")


# --------------------------------------------------------------------------- HiFloat8

_HIF8_NAN = 0x80
_HIF8_POS_INF = 0x6F
_HIF8_POS_MAX = 0x6E  # 2**15
_HIF8_MANTISSA_BITS = {4: 1, 3: 2, 2: 3, 1: 3, 0: 3}  # by dot value D


def _hif8_magnitude(payload: int) -> float:
    """Magnitude encoded by a 7-bit HiF8 payload (0x6F treated as a plain number)."""
    if payload < 0x08:  # denormal: 2**(m - 23), m = 0 is zero
        return 0.0 if payload == 0 else math.ldexp(1.0, payload - 23)
    # The dot field D is a prefix code: 11 -> 4, 10 -> 3, 01 -> 2, 001 -> 1, 0001 -> 0.
    dot = (0, 1, 2, 2, 3, 3, 4, 4)[payload >> 4]
    mbits = _HIF8_MANTISSA_BITS[dot]
    mantissa = payload & ((1 << mbits) - 1)
    exponent = 0
    if dot:
        field = (payload >> mbits) & ((1 << dot) - 1)
        low = dot - 1
        exponent = (1 << low) | (field & ((1 << low) - 1))
        if field >> low:  # top bit of the exponent field is its sign
            exponent = -exponent
    return math.ldexp(1.0 + mantissa / (1 << mbits), exponent)


def _build_hif8_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    decode = np.empty(256, np.float32)
    for code in range(256):
        decode[code] = (-1.0 if code & 0x80 else 1.0) * _hif8_magnitude(code & 0x7F)
    decode[_HIF8_NAN] = np.nan
    decode[_HIF8_POS_INF] = np.inf
    decode[_HIF8_POS_INF | 0x80] = -np.inf
    # Non-negative finite codes sorted by value, with 1.5 * 2**15 (the value 0x6F
    # would have) appended as the overflow slot so that the rounding midpoint
    # 1.25 * 2**15 falls out of the same rule as every other tie.
    pos = np.array([c for c in range(0x80) if c != _HIF8_POS_INF], np.uint8)
    order = np.argsort(decode[pos], kind="stable")
    codes = np.append(pos[order], np.uint8(_HIF8_POS_INF))
    values = np.append(decode[pos[order]].astype(np.float64), 1.5 * 2.0**15)
    midpoints = (values[:-1] + values[1:]) / 2  # exact in float64
    decode.setflags(write=False)
    return decode, values, codes, midpoints


_HIF8_DECODE, _HIF8_VALUES, _HIF8_CODES, _HIF8_MIDPOINTS = _build_hif8_tables()


def hifloat8_decode(codes: np.ndarray) -> np.ndarray:
    """Decode HiFloat8 codes (uint8, or ``en_dtypes.hifloat8``) to float32, exactly.

    0x00 is +0, 0x80 NaN, 0x6F/0xEF are +/-inf; there is no -0.
    """
    return np.asarray(_HIF8_DECODE[_as_codes(codes, "hifloat8", "HiFloat8")])


def hifloat8_encode(values: np.ndarray | Iterable[float] | float, *,
                    saturate: bool = False) -> np.ndarray:
    """Encode values to HiFloat8 codes (uint8), rounding to nearest, ties away from zero.

    Inputs are first converted to float32 (the device converts from fp32).
    Non-saturating (default): |x| >= 1.25 * 2**15 and +/-inf give +/-inf, NaN gives
    0x80. Saturating: those give +/-32768 and NaN gives 0. Magnitudes below 2**-23
    give +0 (0x00) whatever their sign, since HiF8 has no -0.
    """
    x = np.asarray(values, dtype=np.float32)
    nan = np.isnan(x)
    mag = np.where(nan, 0.0, np.abs(x.astype(np.float64)))
    lower = np.searchsorted(_HIF8_VALUES, mag, side="right") - 1
    lower = np.minimum(lower, _HIF8_VALUES.size - 2)
    codes = _HIF8_CODES[lower + (mag >= _HIF8_MIDPOINTS[lower])]
    if saturate:
        codes = np.where(codes == _HIF8_POS_INF, np.uint8(_HIF8_POS_MAX), codes)
    codes = np.where(np.signbit(x) & (codes != 0), codes | np.uint8(0x80), codes)
    return np.where(nan, np.uint8(0 if saturate else _HIF8_NAN), codes).astype(np.uint8)


# --------------------------------------------------------------------------- FLOAT8_E8M0

_E8M0_DECODE = np.append(np.ldexp(np.float32(1.0), np.arange(-127, 128)), np.float32(np.nan))
_E8M0_DECODE.setflags(write=False)


def e8m0_decode(codes: np.ndarray) -> np.ndarray:
    """Decode FLOAT8_E8M0 codes (uint8 or ``ml_dtypes.float8_e8m0fnu``) to float32.

    Code b gives 2**(b - 127); 0xFF is NaN.
    """
    return np.asarray(_E8M0_DECODE[_as_codes(codes, "float8_e8m0", "FLOAT8_E8M0")])


def e8m0_from_exponent(exp: np.ndarray) -> np.ndarray:
    """Build ``ml_dtypes.float8_e8m0fnu`` values 2**exp from integer exponents in [-127, 127]."""
    e = np.asarray(exp)
    if e.dtype.kind not in "iu":
        raise TypeError(f"exponents must be integers, got {e.dtype}")
    e = e.astype(np.int64)
    if e.size and (e.min() < -127 or e.max() > 127):
        raise ValueError("FLOAT8_E8M0 exponents must lie in [-127, 127]")
    return (e + 127).astype(np.uint8).view(host_dtype("float8_e8m0"))


# --------------------------------------------------------------------------- 4-bit packing

_FP16_MAX_CODE = 0x7BFF  # 65504


def acl_float_to_float16(value: float) -> int:
    """aclFloatToFloat16: the fp16 code of a float32 value, rounded to nearest (ties to even) and
    saturated -- beyond the fp16 range, an infinity and a NaN give +-65504 (CANN's runtime,
    src/acl/aclrt_impl/types/fp16_impl.cpp ``FloatToFp16``)."""
    f = np.float32(value)
    sign = int(np.signbit(f)) << 15
    with np.errstate(over="ignore", invalid="ignore"):
        code = int(np.float16(f).view(np.uint16))
    return sign | _FP16_MAX_CODE if code & 0x7C00 == 0x7C00 else code


def acl_float16_to_float(code: int) -> float:
    """aclFloat16ToFloat: the float32 value of an fp16 code, exact for finite codes; a code of
    exponent 31 (an infinity or a NaN) reads as +-(1 + mantissa / 1024) * 65536 (``Fp16ToFloat``)."""
    code = int(code) & 0xFFFF
    if code & 0x7C00 == 0x7C00:
        magnitude = (1 + (code & 0x3FF) / 1024) * 65536.0
        return -magnitude if code & 0x8000 else magnitude
    return float(np.uint16(code).view(np.float16))


def _is_nibble(dtype: np.dtype) -> bool:
    return any(is_host(dtype, name) for name in _NIBBLE_TYPES)


def _nibble_codes(values: np.ndarray) -> np.ndarray:
    arr = np.asarray(values)
    if not _is_nibble(arr.dtype):
        raise TypeError(
            f"expected ml_dtypes.float4_e2m1fn or ml_dtypes.int4 values, got {arr.dtype}")
    return arr.view(np.uint8) & np.uint8(0x0F)


def _check_nibble_dtype(dtype: object) -> np.dtype:
    dt = np.dtype(dtype)
    if not _is_nibble(dt):
        raise TypeError(f"dtype must be ml_dtypes.float4_e2m1fn or ml_dtypes.int4, got {dt}")
    return dt


def pack_nibbles(values: np.ndarray) -> np.ndarray:
    """Pack 4-bit values two per byte along the last axis (uint8 result).

    Element 2j goes to the low nibble (bits 0-3) of byte j, element 2j+1 to the high
    nibble. The last dimension must be even.
    """
    codes = _nibble_codes(values)
    if codes.ndim == 0 or codes.shape[-1] % 2:
        raise ValueError("packing 4-bit values needs an even last dimension "
                         "(two values per byte along the last axis)")
    return (codes[..., 0::2] | (codes[..., 1::2] << 4)).astype(np.uint8)


def unpack_nibbles(packed: np.ndarray, dtype: object) -> np.ndarray:
    """Inverse of :func:`pack_nibbles`: uint8 bytes -> ``dtype`` values, last dim doubled.

    ``dtype`` is ``ml_dtypes.float4_e2m1fn`` or ``ml_dtypes.int4``.
    """
    dt = _check_nibble_dtype(dtype)
    p = np.asarray(packed)
    if p.dtype != np.uint8 or p.ndim == 0:
        raise TypeError("packed must be a uint8 array with at least one dimension")
    out = np.empty(p.shape[:-1] + (2 * p.shape[-1],), np.uint8)
    out[..., 0::2] = p & np.uint8(0x0F)
    out[..., 1::2] = p >> 4
    return out.view(dt)


_INT32_SHIFTS = np.arange(8, dtype=np.uint32) * 4


def pack_int4_to_int32(values: np.ndarray) -> np.ndarray:
    """Pack 4-bit values eight per int32 along the last axis (GroupedMatmul convention).

    Element 8j+i goes to bits 4i..4i+3 of int32 j. Accepts ``ml_dtypes.int4`` (and
    ``ml_dtypes.float4_e2m1fn``); the last dimension must be a multiple of 8.
    """
    codes = _nibble_codes(values)
    if codes.ndim == 0 or codes.shape[-1] % 8:
        raise ValueError("packing 4-bit values into int32 needs a last dimension that is "
                         "a multiple of 8 (eight values per int32 along the last axis)")
    groups = codes.reshape(codes.shape[:-1] + (codes.shape[-1] // 8, 8)).astype(np.uint32)
    return np.bitwise_or.reduce(groups << _INT32_SHIFTS, axis=-1).view(np.int32)


def unpack_int32_to_int4(packed: np.ndarray, dtype: object = None) -> np.ndarray:
    """Inverse of :func:`pack_int4_to_int32`: int32 (or uint32) -> 4-bit values, last dim x8
    (``dtype`` default: ``ml_dtypes.int4``)."""
    dt = _check_nibble_dtype(host_dtype("int4") if dtype is None else dtype)
    p = np.asarray(packed)
    if p.dtype not in (np.dtype(np.int32), np.dtype(np.uint32)) or p.ndim == 0:
        raise TypeError("packed must be an int32 or uint32 array with at least one dimension")
    nibbles = (p.view(np.uint32)[..., None] >> _INT32_SHIFTS) & np.uint32(0x0F)
    return nibbles.astype(np.uint8).reshape(p.shape[:-1] + (8 * p.shape[-1],)).view(dt)


# --------------------------------------------------------------------------- name table

def to_float32(array: np.ndarray, name: str | None = None) -> np.ndarray:
    """Decode a host-representation array to float32.

    ``name`` defaults to :func:`name_of` the array; it is needed for HiFloat8 given
    as uint8 codes (``'hifloat8'``; ``'float8_e8m0'`` also accepts uint8 codes).
    Exact for every type whose values fit float32 (all floats up to 32 bits, 4/8/16
    bit integers, bool); float64 and 32/64-bit integers are rounded to nearest even.
    """
    arr = np.asarray(array)
    if name is None:
        name = name_of(arr)
    if name == "hifloat8":
        return hifloat8_decode(arr)
    if name == "float8_e8m0":
        return e8m0_decode(arr)
    if arr.dtype != host_dtype(name):
        raise ValueError(f"array of dtype {arr.dtype} is not a {name!r} host array")
    return arr.astype(np.float32)


def from_float32(values: np.ndarray | Iterable[float] | float, name: str) -> np.ndarray:
    """Encode values (converted to float32 first) to the host representation of ``name``.

    Floats: round to nearest even via ``ml_dtypes``/NumPy casts (with their overflow
    rules: float8_e4m3fn -> NaN, float4_e2m1 saturates). HiFloat8: ties away from
    zero, non-saturating. float8_e8m0: every value must be an exact power of two in
    [2**-127, 2**127]. Integers: round half to even; every value must be finite and
    in range. bool: nonzero -> True.
    """
    v = np.asarray(values, dtype=np.float32)
    if name == "hifloat8":
        codes = hifloat8_encode(v)
        return codes.view(hifloat8_host())
    if name == "float8_e8m0":
        mantissa, exponent = np.frexp(v)
        if not np.all((mantissa == 0.5) & (exponent >= -126) & (exponent <= 128)):
            raise ValueError("float8_e8m0 values must be exact powers of two in "
                             "[2**-127, 2**127]")
        return e8m0_from_exponent(exponent.astype(np.int64) - 1)
    dt = host_dtype(name)
    if name in INTEGERS:
        info = _iinfo(name)
        r = np.rint(v.astype(np.float64))
        # info.max + 1 is a power of two, so this bound is exact in float64.
        if not np.all((r >= float(info.min)) & (r < float(int(info.max) + 1))):
            raise ValueError(f"values must be finite and round into [{info.min}, {info.max}] "
                             f"for {name}")
        return r.astype(dt)
    return v.astype(dt)


def _iinfo(name: str):
    """The integer limits of an integer type (ml_dtypes' for int4, which NumPy does not know)."""
    return _ml_dtypes().iinfo(host_dtype(name)) if name == "int4" else np.iinfo(host_dtype(name))


def _range_text(name: str) -> str:
    if name == "bool":
        return "{0, 1}"
    if name in INTEGERS:
        info = _iinfo(name)
        return f"[{info.min}, {info.max}]"
    if name == "float8_e8m0":
        return "[2**-127, 2**127] (positive powers of two)"
    if name == "hifloat8":
        return "(-40960, 40960) (larger magnitudes overflow to infinity)"
    top = float(_ml_dtypes().finfo(host_dtype(name)).max)
    special = {"float8_e4m3fn": " (no infinity)", "float4_e2m1": " (no infinity, no NaN)"}.get(name, "")
    return f"[{-top:g}, {top:g}]{special}"


def _lossy(values: np.ndarray, name: str) -> np.ndarray:
    """Mask of the elements of ``values`` that ``name`` cannot hold (see :func:`to_host`)."""
    kind = values.dtype.kind
    if name == "bool":
        return (values != 0) & (values != 1)
    if name in INTEGERS:
        info = _iinfo(name)
        if kind in "iu":  # exact integer comparisons (no float64 rounding of 64-bit values)
            lo = values < info.min if kind == "i" or info.min < 0 else np.zeros(values.shape, bool)
            return lo | (values > info.max)
        v = values.astype(np.float64)
        return ~np.isfinite(v) | (v != np.trunc(v)) | (v < float(info.min)) | (v >= float(int(info.max) + 1))
    if name in COMPLEX:  # each part within the part type's largest finite magnitude
        parts = values.astype(np.complex128)
        top = float(np.finfo(host_dtype(name)).max)
        return np.any([np.isfinite(x) & (np.abs(x) > top) for x in (parts.real, parts.imag)], axis=0)
    v = values.astype(np.float64)
    finite = np.isfinite(v)
    if name == "float8_e8m0":
        return (finite & ((v < 2.0**-127) | (v > 2.0**127))) | np.isinf(v)
    if name == "hifloat8":
        return finite & (np.abs(v) >= 1.25 * 2.0**15)
    out = finite & (np.abs(v) > float(_ml_dtypes().finfo(host_dtype(name)).max))
    if name in ("float8_e4m3fn", "float4_e2m1"):  # no infinity (and float4_e2m1 no NaN)
        out |= np.isinf(v) | (np.isnan(v) if name == "float4_e2m1" else False)
    return out


def to_host(values: np.ndarray, name: str, *, cast: bool = False) -> np.ndarray:
    """``values`` in the host representation of ``name``, refusing lossy conversions.

    An array already in that representation passes unchanged, and a uint8 array given
    for an 8-bit float type holds its codes (:data:`CODED_BY_UINT8`). Otherwise every value must be
    representable: integer types take integral values in their range (no
    wrapping, no truncation of fractions), bool takes 0/1, and floating types
    take values within their largest finite magnitude (rounding to the nearest
    representable value is normal; NaN/inf only where the type has them;
    FLOAT8_E8M0 positive values in [2**-127, 2**127]). A violation raises
    ``ValueError`` naming the first offending values and the range, unless
    ``cast=True``, which converts as NumPy's ``astype`` does (wrapping,
    truncating, saturating or producing inf/NaN as the type's rules say).
    HiFloat8 from other dtypes is encoded with :func:`hifloat8_encode`.
    """
    arr = np.asarray(values)
    target = host_dtype(name)
    if arr.dtype == target or (name in CODED_BY_UINT8 and arr.dtype == np.uint8):
        return arr if arr.dtype == target else arr.view(target)
    if arr.dtype.kind == "c" and name not in COMPLEX:
        raise ValueError(f"cannot convert {arr.dtype} values to {name} (the imaginary parts would be lost)")
    if arr.dtype.kind not in "biufc":
        try:
            name_of(arr)  # the ml_dtypes types (bfloat16, float8, int4...) convert; object, str do not
        except ValueError:
            raise ValueError(f"cannot convert {arr.dtype} values to {name}") from None
    if not cast and arr.size:
        plain = arr.astype(np.float64) if arr.dtype.kind not in "biufc" else arr
        bad = _lossy(plain, name)
        if bad.any():
            shown = ", ".join(str(v) for v in arr[bad][:4].tolist())
            more = f" (and {int(bad.sum()) - 4} more)" if bad.sum() > 4 else ""
            raise ValueError(f"{int(bad.sum())} value(s) cannot be represented as {name} without loss, "
                             f"e.g. {shown}{more}: {name} holds {_range_text(name)}"
                             + ("" if name in ("bool",) or name not in INTEGERS else " integers")
                             + "; pass cast=True to convert anyway")
    if name == "hifloat8":
        codes = hifloat8_encode(arr.astype(np.float32))
        return codes.view(target) if target != np.uint8 else codes
    with np.errstate(over="ignore", invalid="ignore"):
        return arr.astype(target)
