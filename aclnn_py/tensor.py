"""aclTensor, aclTensorList and aclIntArray over device memory."""
from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np

from . import dtypes, layout
from ._ffi import ffi
from ._loader import library
from ._resource import Resource
from .descriptors import ND, TensorDesc, contiguous_strides
from .errors import AclnnParamError, check_aclnn, recent_message
from .memory import DeviceBuffer
from .runtime import Stream


_CODED_8BIT = ("hifloat8", "float8_e8m0", "float8_e4m3fn", "float8_e5m2")


def _int64s(values: Sequence[int]) -> Any:
    return ffi.new("int64_t[]", [int(v) for v in values] or [0])


def create_handle(desc: TensorDesc) -> Any:
    """``aclCreateTensor`` for a descriptor (raises AclnnParamError on NULL)."""
    lib = library()
    handle = lib.aclCreateTensor(
        _int64s(desc.shape), len(desc.shape), desc.dtype, _int64s(desc.strides), desc.offset,
        desc.format, _int64s(desc.storage_shape), len(desc.storage_shape), ffi.cast("void *", desc.address),
    )
    if handle == ffi.NULL:
        raise AclnnParamError(lib.ACLNN_ERR_PARAM_INVALID, "aclCreateTensor", recent_message() or f"cannot describe {desc}")
    return handle


class Tensor(Resource):
    """An aclTensor: a typed, shaped view of a :class:`DeviceBuffer`.

    ``shape``/``strides``/``offset`` are in elements; ``storage_shape``
    defaults to the whole buffer as a 1-D array of elements, as torch_npu
    passes it. The tensor keeps its buffer alive. Every element must lie in
    the buffer (:func:`aclnn_py.layout.check`: a non-negative offset, no
    element before the buffer's start, a FRACTAL_NZ storage that holds the
    view): :class:`AclnnParamError` (161002, a ``ValueError``) otherwise.
    """

    _destroy = "aclDestroyTensor"
    _check = staticmethod(check_aclnn)

    def __init__(self, buffer: DeviceBuffer, shape: Sequence[int], dtype: Any, *,
                 strides: Sequence[int] | None = None, offset: int = 0, format: int = ND,
                 storage_shape: Sequence[int] | None = None) -> None:
        dtype = dtypes.to_acl(dtype)
        shape = tuple(int(d) for d in shape)
        if storage_shape is None:
            storage_shape = (buffer.nbytes * 8 // dtypes.bits(dtype),)
        self.buffer = buffer
        self.owns_buffer = False
        self.desc = TensorDesc(shape, int(dtype),
                               tuple(int(s) for s in strides) if strides is not None else contiguous_strides(shape),
                               int(offset), int(format), tuple(int(d) for d in storage_shape), buffer.address)
        try:
            layout.check(self.desc)
        except layout.LayoutError as exc:
            raise AclnnParamError(library().ACLNN_ERR_PARAM_INVALID, "Tensor", str(exc)) from None
        start, nbytes = layout.byte_span(self.desc)
        if start + nbytes > buffer.nbytes:
            raise AclnnParamError(library().ACLNN_ERR_PARAM_INVALID, "Tensor",
                                  f"a {dtypes.label(dtype)} tensor of shape {list(shape)} needs bytes "
                                  f"[{start}, {start + nbytes}) but the buffer has {buffer.nbytes}")
        self._own(create_handle(self.desc))

    def close(self) -> None:
        """Destroy the aclTensor (and free the buffer when this tensor allocated it)."""
        super().close()
        if self.owns_buffer:
            self.buffer.close()

    # -- construction from host data -----------------------------------------
    @classmethod
    def empty(cls, shape: Sequence[int], dtype: Any, *, format: int = ND) -> "Tensor":
        """A contiguous tensor on a new buffer (contents undefined)."""
        dtype = dtypes.to_acl(dtype)
        numel = int(np.prod(shape, dtype=np.int64)) if len(shape) else 1
        tensor = cls(DeviceBuffer(max(dtypes.nbytes(numel, dtype), 1)), shape, dtype, format=format)
        tensor.owns_buffer = True
        return tensor

    @classmethod
    def from_numpy(cls, array: np.ndarray, dtype: Any = None, stream: Stream | None = None) -> "Tensor":
        """Copy a host array to a new contiguous tensor.

        ``dtype`` defaults to the array's. A uint8 array given with an 8-bit float
        dtype (``"hifloat8"``, ``"float8_e8m0"``, ``"float8_e4m3fn"``,
        ``"float8_e5m2"``) holds the codes and is stored as is. 4-bit types are
        packed on the way.
        """
        array = np.asarray(array)
        dtype = dtypes.of_array(array) if dtype is None else dtypes.to_acl(dtype)
        if array.dtype == np.uint8 and dtypes.name(dtype) in _CODED_8BIT:
            array = array.view(dtypes.host_dtype(dtype))
        tensor = cls.empty(array.shape, dtype)
        tensor.copy_from_numpy(array, stream)
        return tensor

    def copy_from_numpy(self, array: np.ndarray, stream: Stream | None = None) -> None:
        """Write host values (logical shape) into the tensor's memory."""
        start, nbytes = layout.byte_span(self.desc)
        if not nbytes:
            return
        if layout.covers_span(self.desc):
            raw = np.empty(nbytes, np.uint8)
        else:  # bytes shared with other elements keep their contents
            raw = self.buffer.to_numpy(np.uint8, (nbytes,), start)
        try:
            layout.into_bytes(self.desc, array, raw)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"cannot store array into {self}: {exc}") from None
        self.buffer.copy_from_host(raw, start, stream)

    def to_numpy(self) -> np.ndarray:
        """The logical contents as a host array (synchronous)."""
        start, nbytes = layout.byte_span(self.desc)
        raw = self.buffer.to_numpy(np.uint8, (nbytes,), start) if nbytes else np.empty(0, np.uint8)
        return layout.from_bytes(self.desc, raw)

    # -- views ---------------------------------------------------------------
    def view(self, shape: Sequence[int], strides: Sequence[int], offset: int = 0, *,
             format: int | None = None, storage_shape: Sequence[int] | None = None) -> "Tensor":
        """Another aclTensor over the same buffer."""
        return Tensor(self.buffer, shape, self.desc.dtype, strides=strides, offset=offset,
                      format=self.desc.format if format is None else format,
                      storage_shape=self.desc.storage_shape if storage_shape is None else storage_shape)

    def transpose(self) -> "Tensor":
        """The last two dims swapped, as a strided view (how CANN marks a transposed x2/weight)."""
        if self.desc.ndim < 2:
            raise ValueError("transpose needs at least 2 dims")
        d = self.desc
        shape = d.shape[:-2] + (d.shape[-1], d.shape[-2])
        strides = d.strides[:-2] + (d.strides[-1], d.strides[-2])
        return self.view(shape, strides, d.offset)

    @property
    def T(self) -> "Tensor":
        return self.transpose()

    def refresh(self) -> None:
        """Re-read format and storage shape from C (after an in-place op such as aclnnTransMatmulWeight)."""
        lib = library()
        fmt = ffi.new("aclFormat *")
        check_aclnn(lib.aclGetFormat(self.handle, fmt), "aclGetFormat")
        dims, count = ffi.new("int64_t **"), ffi.new("uint64_t *")
        check_aclnn(lib.aclGetStorageShape(self.handle, dims, count), "aclGetStorageShape")
        storage = tuple(int(dims[0][i]) for i in range(count[0]))
        # CANN allocates the array with new[]; a C caller frees it, Python leaks these few bytes.
        self.desc = TensorDesc(self.desc.shape, self.desc.dtype, self.desc.strides, self.desc.offset,
                               int(fmt[0]), storage, self.desc.address)

    # -- properties ----------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.desc.shape

    @property
    def dtype(self) -> dtypes.DataType:
        return dtypes.DataType(self.desc.dtype)

    @property
    def format(self) -> dtypes.Format:
        return dtypes.Format(self.desc.format)

    @property
    def is_nz(self) -> bool:
        return self.desc.is_nz

    def __repr__(self) -> str:
        return (f"Tensor(shape={list(self.shape)}, dtype={dtypes.label(self.desc.dtype)}, "
                f"format={dtypes.format_label(self.desc.format)}, strides={list(self.desc.strides)})")


class TensorList(Resource):
    """An aclTensorList. It creates its own aclTensor handles for the members (CANN destroys
    them with the list), so the :class:`Tensor` objects given stay usable and owned by the caller."""

    _destroy = "aclDestroyTensorList"
    _check = staticmethod(check_aclnn)

    def __init__(self, tensors: Iterable[Tensor]) -> None:
        self.tensors = list(tensors)
        handles = [create_handle(t.desc) for t in self.tensors]
        array = ffi.new("aclTensor *[]", handles or [ffi.NULL])
        handle = library().aclCreateTensorList(array, len(handles))
        if handle == ffi.NULL:
            for h in handles:
                library().aclDestroyTensor(h)
            raise AclnnParamError(library().ACLNN_ERR_PARAM_INVALID, "aclCreateTensorList", recent_message())
        self._own(handle)

    def __len__(self) -> int:
        return len(self.tensors)


class IntArray(Resource):
    """An aclIntArray (the values are copied by CANN)."""

    _destroy = "aclDestroyIntArray"
    _check = staticmethod(check_aclnn)

    def __init__(self, values: Sequence[int]) -> None:
        self.values = tuple(int(v) for v in values)
        handle = library().aclCreateIntArray(_int64s(self.values), len(self.values))
        if handle == ffi.NULL:
            raise AclnnParamError(library().ACLNN_ERR_PARAM_INVALID, "aclCreateIntArray", recent_message())
        self._own(handle)
