"""Operator arguments given as host arrays: the device copies an operator call makes of them."""
from __future__ import annotations

from typing import Any

from ..errors import ArgumentError
from ..runtime import Stream
from ..tensor import Tensor


def device_tensor(value: Any, parameter: str, created: list[Tensor], dtype: Any = None,
                  stream: Stream | None = None) -> Tensor | None:
    """``value`` itself when it is a Tensor (or None), else a device copy (``Tensor.from_numpy``,
    queued on ``stream`` when given) recorded in ``created``; a value that cannot be copied is an
    :class:`ArgumentError` naming ``parameter``."""
    if value is None or isinstance(value, Tensor):
        return value
    try:
        tensor = Tensor.from_numpy(value, dtype, stream)
    except ArgumentError as exc:
        raise ArgumentError(parameter, exc.detail) from None
    created.append(tensor)
    return tensor
