"""Bytes <-> NumPy arrays for a tensor descriptor.

Pure functions used on both sides of the ABI: the binding applies them to
bytes copied from the device, the mock to its device memory. Host arrays use
the representation of :mod:`aclnn_py.formats`; 4-bit types are packed two per
byte (even index in the low nibble); a FRACTAL_NZ tensor is converted between
its storage and its logical (view) shape.
"""
from __future__ import annotations

import math

import numpy as np

from . import dtypes, formats
from .descriptors import ND, TensorDesc
from .golden import nz


def element_span(desc: TensorDesc) -> tuple[int, int]:
    """First and one-past-last element index touched, counted from the storage base."""
    if desc.is_nz:
        return desc.offset, desc.offset + math.prod(desc.storage_shape)  # exact: np.prod wraps at 2**63
    if desc.numel == 0:
        return desc.offset, desc.offset
    last = desc.offset + sum((d - 1) * s for d, s in zip(desc.shape, desc.strides))
    return desc.offset, last + 1


def byte_span(desc: TensorDesc) -> tuple[int, int]:
    """``(start, nbytes)``: the bytes after ``desc.address`` that hold the tensor."""
    first, stop = element_span(desc)
    bits = dtypes.bits(desc.dtype)
    start = first * bits // 8
    return start, -(-stop * bits // 8) - start


def _elements(desc: TensorDesc, raw: np.ndarray) -> np.ndarray:
    """The span's bytes as a flat array whose element 0 is the first touched element."""
    name = dtypes.name(desc.dtype)
    if dtypes.bits(desc.dtype) == 4:
        return formats.unpack_nibbles(raw, formats.host_dtype(name))[desc.offset % 2 :]
    return raw.view(formats.host_dtype(name))


def byte_strides(desc: TensorDesc, itemsize: int) -> tuple[int, ...]:
    """The view's strides in bytes, with 0 for every dim that is never stepped along
    (size 1, or any dim of an empty tensor): such a stride may be any int64 and must
    not reach NumPy, where ``stride * itemsize`` could overflow."""
    if desc.numel == 0:
        return (0,) * desc.ndim
    return tuple(0 if d == 1 else s * itemsize for d, s in zip(desc.shape, desc.strides))


def _strided(flat: np.ndarray, desc: TensorDesc) -> np.ndarray:
    """A strided view of ``flat``; done on plain unsigned integers because ``as_strided``
    loses the custom dtypes of ml_dtypes."""
    plain = flat.view(f"u{flat.itemsize}")
    strides = byte_strides(desc, flat.itemsize)
    return np.lib.stride_tricks.as_strided(plain, desc.shape, strides).view(flat.dtype)


def from_bytes(desc: TensorDesc, raw: np.ndarray) -> np.ndarray:
    """The tensor's logical contents (a copy) from the bytes of :func:`byte_span`."""
    flat = _elements(desc, np.ascontiguousarray(raw, np.uint8))
    name = dtypes.name(desc.dtype)
    if desc.is_nz:
        storage = flat[: math.prod(desc.storage_shape)].reshape(desc.storage_shape)
        return nz.nz_to_nd(storage, desc.shape, name)
    return _strided(flat, desc).copy()


def into_bytes(desc: TensorDesc, values: np.ndarray, raw: np.ndarray) -> None:
    """Store ``values`` (the logical shape) into the bytes of :func:`byte_span`."""
    name = dtypes.name(desc.dtype)
    values = np.asarray(values)
    if values.shape != desc.shape:
        raise ValueError(f"values of shape {values.shape} do not fit a tensor of shape {desc.shape}")
    values = values.astype(formats.host_dtype(name), copy=False)
    if desc.is_nz:  # the whole NZ storage, padding included
        values = nz.nd_to_nz(values, name).reshape(-1)
        desc = TensorDesc(values.shape, desc.dtype, (1,), desc.offset, ND, values.shape)
    if dtypes.bits(desc.dtype) == 4:
        if not desc.is_contiguous() or desc.offset % 2:
            raise ValueError("4-bit tensors are written only when contiguous and starting on a byte")
        raw[...] = formats.pack_nibbles(values.reshape(-1))
        return
    _strided(raw.view(formats.host_dtype(name)), desc)[...] = values
