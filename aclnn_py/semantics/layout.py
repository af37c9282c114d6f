"""Bytes <-> NumPy arrays for a tensor descriptor.

Pure functions used on both sides of the ABI: the binding applies them to
bytes copied from the device, the mock to its device memory. Host arrays use
the representation of :mod:`aclnn_py.semantics.codecs`; 4-bit types are packed two per
byte (even index in the low nibble); a FRACTAL_NZ tensor is converted between
its storage and its logical (view) shape, with the C0 of its storage shape.

Where a tensor's bytes are
--------------------------
Element ``i`` of a view (``i`` a multi-index) lives at element
``offset + sum(i[k] * strides[k])`` counted from the tensor's data address
(the storage start). :func:`element_span` gives the smallest and one past the
largest such element -- negative strides lower the first one, positive ones
raise the last -- and :func:`byte_span` the bytes that hold them. A
FRACTAL_NZ tensor stores the NZ layout of its *view* shape
(:func:`aclnn_py.semantics.nz.nz_storage_shape`) contiguously from ``offset``.

:func:`check` states the rules every access obeys (:class:`LayoutError`
otherwise, naming the rule); the strided views are built with
``np.ndarray(buffer=...)`` over exactly the span's bytes, so NumPy itself
refuses any view that would reach outside them.
"""
from __future__ import annotations

import math

import numpy as np

from . import dtypes, codecs
from .descriptors import TensorDesc
from . import nz


class LayoutError(ValueError):
    """A descriptor whose elements cannot be located safely (the message names the rule)."""


def _nz_shape(desc: TensorDesc) -> tuple[int, ...]:
    """The FRACTAL_NZ storage shape of the view, with the C0 (last dim) of its storage shape."""
    try:
        return nz.nz_storage_shape(desc.shape, dtypes.name(desc.dtype), desc.storage_shape[-1])
    except ValueError as exc:
        raise LayoutError(f"FRACTAL_NZ layout: {exc}") from None


def _nz_elements(desc: TensorDesc) -> int:
    """Elements of the FRACTAL_NZ storage the view shape needs."""
    return math.prod(_nz_shape(desc))


def element_span(desc: TensorDesc) -> tuple[int, int]:
    """``(first, stop)``: the smallest and one past the largest element index touched,
    counted from the data address (``first`` is below ``offset`` with negative strides)."""
    if desc.numel == 0:
        return desc.offset, desc.offset
    if desc.is_nz:
        return desc.offset, desc.offset + _nz_elements(desc)
    first = last = desc.offset
    for dim, stride in zip(desc.shape, desc.strides):
        if dim > 1:
            if stride < 0:
                first += (dim - 1) * stride
            else:
                last += (dim - 1) * stride
    return first, last + 1


def byte_span(desc: TensorDesc) -> tuple[int, int]:
    """``(start, nbytes)``: the bytes after the data address that hold the tensor."""
    first, stop = element_span(desc)
    if stop == first:
        return first * dtypes.bits(desc.dtype) // 8, 0
    bits = dtypes.bits(desc.dtype)
    start = first * bits // 8
    return start, -(-stop * bits // 8) - start


def check(desc: TensorDesc) -> None:
    """Raise :class:`LayoutError` unless every element of ``desc`` can be located:
    one stride per dimension, no negative dimension, a non-negative offset, no element
    before the data address, and for FRACTAL_NZ a view of 2+ dims whose NZ layout fits
    the declared storage shape."""
    try:
        dtypes.bits(desc.dtype)
    except ValueError as exc:
        raise LayoutError(str(exc)) from None
    if len(desc.strides) != len(desc.shape):
        raise LayoutError(f"{len(desc.strides)} strides for {len(desc.shape)} view dims")
    if any(d < 0 for d in desc.shape):
        raise LayoutError(f"view shape {list(desc.shape)} has a negative dimension")
    if any(d < 0 for d in desc.storage_shape):
        raise LayoutError(f"storage shape {list(desc.storage_shape)} has a negative dimension")
    if desc.offset < 0:
        raise LayoutError(f"view offset {desc.offset} is negative (it counts elements from the start of the "
                          f"storage, the data address)")
    if desc.numel == 0:
        return
    first, _ = element_span(desc)
    if first < 0:
        raise LayoutError(f"strides {list(desc.strides)} with offset {desc.offset} reach element {first}, "
                          f"before the start of the storage (the data address)")
    if desc.is_nz:
        need, have = _nz_elements(desc), math.prod(desc.storage_shape)
        if have < need:
            raise LayoutError(f"FRACTAL_NZ storage shape {list(desc.storage_shape)} holds {have} elements but "
                              f"the NZ layout of the {dtypes.label(desc.dtype)} view {list(desc.shape)} needs {need}")


# --------------------------------------------------------------------------- views

def _strided(flat: np.ndarray, desc: TensorDesc, base: int) -> np.ndarray:
    """The view of ``desc`` over the 1-D contiguous ``flat`` whose element 0 is element
    ``base`` of the storage. ``np.ndarray`` refuses strides that leave ``flat``; it works
    on plain unsigned integers (raw bytes beyond 8: COMPLEX128) because custom ml_dtypes do
    not survive it."""
    plain = flat.view(f"u{flat.itemsize}" if flat.itemsize <= 8 else f"V{flat.itemsize}")
    strides = tuple(s * flat.itemsize if d > 1 else 0 for d, s in zip(desc.shape, desc.strides))
    view = np.ndarray(desc.shape, plain.dtype, plain, (desc.offset - base) * flat.itemsize, strides)
    return view.view(flat.dtype)


def strided_view(raw: np.ndarray, desc: TensorDesc, first: int) -> np.ndarray:
    """A zero-copy view of ``desc`` (not 4-bit) over ``raw``, the bytes of :func:`byte_span`
    (``first`` from :func:`element_span`)."""
    return _strided(raw.view(dtypes.host_dtype(dtypes.name(desc.dtype))), desc, first)


def _nz_storage(desc: TensorDesc) -> TensorDesc:
    """The NZ storage of ``desc`` as a contiguous 1-D tensor from the same offset."""
    n = _nz_elements(desc)
    return TensorDesc((n,), desc.dtype, (1,), desc.offset, storage_shape=(n,), address=desc.address)


def from_bytes(desc: TensorDesc, raw: np.ndarray) -> np.ndarray:
    """The tensor's logical contents (a copy) from the bytes of :func:`byte_span`."""
    name = dtypes.name(desc.dtype)
    host = np.dtype(dtypes.host_dtype(name))
    if desc.numel == 0:
        return np.empty(desc.shape, host)
    if desc.is_nz:
        storage = from_bytes(_nz_storage(desc), raw)
        return nz.nz_to_nd(storage.reshape(_nz_shape(desc)), desc.shape, name, desc.storage_shape[-1])
    raw = np.ascontiguousarray(raw, np.uint8)
    first, _ = element_span(desc)
    if dtypes.bits(desc.dtype) == 4:
        skip = first % 2  # the span starts on the byte of element `first`
        flat = codecs.unpack_nibbles(raw, host)
        return _strided(flat, desc, first - skip).copy()
    return strided_view(raw, desc, first).copy()


def into_bytes(desc: TensorDesc, values: np.ndarray, raw: np.ndarray) -> None:
    """Store ``values`` (the logical shape) into the bytes of :func:`byte_span` (``raw``,
    contiguous, modified in place; bytes shared with elements outside the view -- the
    other nibble of a 4-bit pair, gaps of a strided view -- keep their contents)."""
    name = dtypes.name(desc.dtype)
    values = np.asarray(values)
    if values.shape != desc.shape:
        raise ValueError(f"values of shape {values.shape} do not fit a tensor of shape {desc.shape}")
    values = values.astype(dtypes.host_dtype(name), copy=False)
    if desc.numel == 0:
        return
    if desc.is_nz:  # the whole NZ storage, padding included
        into_bytes(_nz_storage(desc), nz.nd_to_nz(values, name, desc.storage_shape[-1]).reshape(-1), raw)
        return
    first, _ = element_span(desc)
    if dtypes.bits(desc.dtype) == 4:
        skip = first % 2
        codes = np.empty(2 * raw.size, np.uint8)
        codes[0::2], codes[1::2] = raw & 0x0F, raw >> 4
        _strided(codes, desc, first - skip)[...] = values.view(np.uint8) & 0x0F
        raw[...] = codes[0::2] | (codes[1::2] << 4)
        return
    strided_view(raw, desc, first)[...] = values


def covers_span(desc: TensorDesc) -> bool:
    """Whether :func:`into_bytes` replaces every byte of the span (no read-modify-write needed)."""
    if desc.numel == 0:
        return True
    if dtypes.bits(desc.dtype) == 4:
        first, stop = element_span(desc)
        if first % 2 or stop % 2:
            return False
    return desc.is_nz or desc.is_contiguous()
