"""Checks of Python arguments before they cross into C.

cffi turns an out-of-range integer into ``OverflowError`` and text into bytes
with ``str.encode`` (``UnicodeEncodeError``); these helpers raise
:class:`~aclnn_py.errors.ArgumentError` naming the parameter instead.
"""
from __future__ import annotations

import operator
from typing import Any, Iterable

import numpy as np

from .errors import ArgumentError

INT64_MAX = 2**63 - 1


def integer(value: Any, parameter: str, *, lo: int = -(2**63), hi: int = INT64_MAX) -> int:
    """``value`` as a Python int in [lo, hi] (default: the int64 range)."""
    try:
        number = operator.index(value)
    except TypeError:
        raise TypeError(f"{parameter}: expected an integer, got {type(value).__name__}") from None
    if not lo <= number <= hi:
        raise ArgumentError(parameter, f"{number} is out of range [{lo}, {hi}]")
    return number


def integers(values: Iterable[Any], parameter: str, *, lo: int = -(2**63), hi: int = INT64_MAX) -> tuple[int, ...]:
    """A sequence of ints, each in [lo, hi] (messages name ``parameter[i]``)."""
    if type(values) is tuple:
        items = values
    else:
        try:
            items = tuple(values)
        except TypeError:
            raise TypeError(f"{parameter}: expected a sequence of integers, got {type(values).__name__}") from None
    for v in items:  # the common case, checked at a glance: plain ints in range
        if type(v) is not int or not lo <= v <= hi:
            break
    else:
        return items
    return tuple(integer(v, f"{parameter}[{i}]", lo=lo, hi=hi) for i, v in enumerate(items))


def real(value: Any, parameter: str) -> float:
    """A real number (int, float, NumPy real scalar) as a Python float; TypeError for anything else
    (a string, a complex number, None)."""
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    raise TypeError(f"{parameter}: expected a real number, got {type(value).__name__}")


def boolean(value: Any, parameter: str) -> bool:
    """A bool, a NumPy bool or the integers 0 and 1; TypeError for anything else."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)) and value in (0, 1):
        return bool(value)
    raise TypeError(f"{parameter}: expected a bool, got {value!r}")


def shape(values: Iterable[Any], parameter: str = "shape") -> tuple[int, ...]:
    """Tensor dims: non-negative int64 values."""
    return integers(values, parameter, lo=0)


def as_array(value: Any, parameter: str = "array") -> np.ndarray:
    """``value`` as a NumPy array in the host's native byte order (a big-endian array's values
    converted, as ``astype`` does: the device and CANN read native-order bytes); a value NumPy
    cannot make an array of (ragged nested lists...) raises :class:`ArgumentError` naming
    ``parameter`` instead of NumPy's ValueError."""
    try:
        array = np.asarray(value)
    except ValueError as exc:
        raise ArgumentError(parameter, f"cannot be made a NumPy array: {exc}") from None
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    return array


def c_string(value: Any, parameter: str) -> bytes:
    """Text for a ``const char *``: a str (encoded as UTF-8) or bytes, without NUL characters."""
    if isinstance(value, str):
        try:
            data = value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ArgumentError(parameter, f"{value!r} cannot be encoded as UTF-8 ({exc.reason} at "
                                           f"index {exc.start})") from None
    elif isinstance(value, (bytes, bytearray)):
        data = bytes(value)
    else:
        raise TypeError(f"{parameter}: expected str or bytes, got {type(value).__name__}")
    if b"\0" in data:
        raise ArgumentError(parameter, f"{value!r} contains a NUL character (C strings end at the first NUL)")
    return data
