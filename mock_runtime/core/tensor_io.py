"""Read and write the device memory behind an aclTensor as NumPy arrays.

Arrays use the host representation of :mod:`aclnn_py.formats` (4-bit types
unpacked, HiFloat8 as uint8 codes). A FRACTAL_NZ tensor is read through its
storage and returned in its logical (view) shape.
"""
from __future__ import annotations

import numpy as np

from aclnn_py import dtypes, formats
from aclnn_py.descriptors import ND, TensorDesc
from aclnn_py.golden import nz

from .errors import C, MockError
from .memory import table as memory


def _span(desc: TensorDesc) -> tuple[int, int]:
    """First and one-past-last element index the tensor touches, from its storage base."""
    if desc.is_nz:
        count = 1
        for d in desc.storage_shape:
            count *= d
        return desc.offset, desc.offset + count
    if desc.numel == 0:
        return desc.offset, desc.offset
    last = desc.offset + sum((d - 1) * s for d, s in zip(desc.shape, desc.strides))
    return desc.offset, last + 1


def _region(desc: TensorDesc, what: str) -> tuple[np.ndarray, int]:
    """The device bytes holding the tensor's elements and the element index they start at."""
    first, stop = _span(desc)
    bits = dtypes.bits(desc.dtype)
    start_byte = first * bits // 8
    nbytes = -(-stop * bits // 8) - start_byte
    if nbytes and desc.address == 0:
        raise MockError(C["ACLNN_ERR_PARAM_NULLPTR"], f"{what}: tensor data address is NULL")
    return memory.region(desc.address + start_byte, nbytes, what), first


def check(desc: TensorDesc, what: str) -> None:
    """Raise unless the tensor's elements lie in one live allocation."""
    _region(desc, what)


def _elements(desc: TensorDesc, what: str) -> tuple[np.ndarray, int]:
    """All elements from the first touched one, as a flat host array, and that first index."""
    raw, first = _region(desc, what)
    name = dtypes.name(desc.dtype)
    if dtypes.bits(desc.dtype) == 4:
        flat = formats.unpack_nibbles(raw, formats.host_dtype(name))
        return flat[first % 2 :], first
    return raw.view(formats.host_dtype(name)), first


def read(desc: TensorDesc, what: str) -> np.ndarray:
    """A copy of the tensor's logical contents."""
    flat, first = _elements(desc, what)
    name = dtypes.name(desc.dtype)
    if desc.is_nz:
        storage = flat[: int(np.prod(desc.storage_shape))].reshape(desc.storage_shape)
        return nz.nz_to_nd(storage, desc.shape, name)
    strides = tuple(s * flat.itemsize for s in desc.strides)
    return np.lib.stride_tricks.as_strided(flat, desc.shape, strides).copy()


def write(desc: TensorDesc, values: np.ndarray, what: str) -> None:
    """Store ``values`` (logical shape) into the tensor's memory."""
    name = dtypes.name(desc.dtype)
    values = np.asarray(values)
    if values.shape != desc.shape:
        raise MockError(C["ACLNN_ERR_INNER"], f"{what}: result shape {values.shape} != tensor shape {desc.shape}")
    values = values.astype(formats.host_dtype(name), copy=False)
    if desc.is_nz:  # write the whole NZ storage, padding included
        values = nz.nd_to_nz(values, name).reshape(-1)
        desc = TensorDesc(values.shape, desc.dtype, (1,), desc.offset, ND, values.shape, desc.address)
    raw, first = _region(desc, what)
    if dtypes.bits(desc.dtype) == 4:
        if not desc.is_contiguous() or first % 2:
            raise MockError(C["ACLNN_ERR_INNER"], f"{what}: 4-bit tensors must be contiguous and start on a byte")
        raw[...] = formats.pack_nibbles(values.reshape(-1))
        return
    flat = raw.view(formats.host_dtype(name))
    strides = tuple(s * flat.itemsize for s in desc.strides)
    np.lib.stride_tricks.as_strided(flat, desc.shape, strides)[...] = values
