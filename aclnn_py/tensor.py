"""aclTensor, aclTensorList and aclIntArray over device memory."""
from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

import numpy as np

from . import arguments
from .semantics import codecs, dtypes, layout, nz
from ._ffi import ffi
from ._loader import library
from ._resource import Resource, owned_ids, require_open
from .semantics.descriptors import FRACTAL_NZ, ND, TensorDesc, contiguous_strides
from .errors import AclnnParamError, ArgumentError
from ._memo import BoundedMemo
from .check import check_aclnn, recent_message
from .memory import BorrowedBuffer, DeviceBuffer
from .runtime import Stream


_INT64S = ffi.typeof("int64_t[]")
_NO_DIMS = (0,)  # a 0-d tensor still passes a (one-element) array
_INT64_MIN, _INT32_MIN, _INT32_MAX = -(2**63), -(2**31), 2**31 - 1

#: dtype argument, as (type, value) -> (DataType, aclDataType int, bits or None): one lookup
#: for a dtype seen before (only what :func:`dtypes.to_acl` accepted is stored).
_DTYPES: dict[tuple[type, Any], tuple[dtypes.DataType, int, int | None]] = {}
#: (shape, dtype, strides, offset, format, storage_shape) -> :class:`_Layout`.
_LAYOUTS = BoundedMemo(4096)
#: shape -> its row-major strides, checked as int64 values.
_CONTIGUOUS = BoundedMemo(1024)


def _int64s(values: Sequence[int]) -> Any:
    return ffi.new(_INT64S, [int(v) for v in values] or [0])


def _acl_type(dtype: Any) -> tuple[dtypes.DataType, int, int | None]:
    """:func:`dtypes.to_acl` of ``dtype`` (its errors), its int value and its bits (None when
    the project does not size that type)."""
    try:
        key = (type(dtype), dtype)
        row = _DTYPES.get(key)
    except TypeError:  # unhashable: to_acl says what is wrong with it
        key = row = None
    if row is None:
        acl = dtypes.to_acl(dtype)
        try:
            bits = dtypes.bits(acl)
        except ArgumentError:
            bits = None
        row = (acl, int(acl), bits)
        if key is not None and len(_DTYPES) < 256:
            _DTYPES[key] = row
    return row


def _contiguous(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Row-major strides of a checked shape; computed strides are checked too (those of a huge
    shape with a 0 dim exceed int64)."""
    strides = _CONTIGUOUS.get(shape)
    if strides is None:
        strides = arguments.integers(contiguous_strides(shape), "strides")
        _CONTIGUOUS.put(shape, strides)
    return strides


class _Layout:
    """A descriptor layout :func:`layout.check` accepted: its byte span and its dims, strides and
    storage dims as the ``const int64_t *`` arrays aclCreateTensor reads (and copies).

    One object per layout (shape, dtype, strides, offset, format, storage shape) while it is
    memoised: the operators key their validated calls by these objects (:attr:`Tensor._layout`).
    """

    __slots__ = ("fields", "start", "nbytes", "dims", "strides", "storage")

    def __init__(self, desc: TensorDesc, fields: tuple) -> None:
        self.fields = fields  # the memo's key, shared by the tensors of this layout
        self.start, self.nbytes = layout.byte_span(desc)
        self.dims = ffi.new(_INT64S, desc.shape or _NO_DIMS)
        self.strides = ffi.new(_INT64S, desc.strides or _NO_DIMS)
        self.storage = self.dims if desc.storage_shape == desc.shape else \
            ffi.new(_INT64S, desc.storage_shape or _NO_DIMS)


def _check_layout(desc: TensorDesc, key: tuple) -> _Layout:
    """The layout of a descriptor :func:`layout.check` accepts, memoised under ``key`` (its
    shape, dtype, strides, offset, format and storage shape: neither the check nor the span
    reads the data address); AclnnParamError (161002) otherwise."""
    try:
        layout.check(desc)
    except layout.LayoutError as exc:
        raise AclnnParamError(library().ACLNN_ERR_PARAM_INVALID, "Tensor", str(exc)) from None
    checked = _Layout(desc, key)
    _LAYOUTS.put(key, checked)
    return checked


def _host_values(array: np.ndarray, dtype: int, cast: bool) -> np.ndarray:
    """``array`` in the host representation of ``dtype``, refusing lossy conversions unless ``cast``."""
    try:
        return codecs.to_host(array, dtypes.name(dtype), cast=cast)
    except ValueError as exc:
        raise ArgumentError("array", str(exc)) from None


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
    the buffer (:func:`aclnn_py.semantics.layout.check`: a non-negative offset, no
    element before the buffer's start, a FRACTAL_NZ storage that holds the
    view): :class:`AclnnParamError` (161002, a ``ValueError``) otherwise.
    """

    _destroy = "aclDestroyTensor"
    _check = staticmethod(check_aclnn)
    _layout: _Layout | None = None  # the memoised layout of ``desc`` (None once it changes: refresh)
    _desc: TensorDesc | None = None

    def __init__(self, buffer: DeviceBuffer, shape: Sequence[int], dtype: Any, *,
                 strides: Sequence[int] | None = None, offset: int = 0, format: int = ND,
                 storage_shape: Sequence[int] | None = None) -> None:
        dtype, value, bits = _acl_type(dtype)
        shape = arguments.shape(shape, "shape")
        strides = _contiguous(shape) if strides is None else arguments.integers(strides, "strides")
        if len(strides) != len(shape):
            raise ArgumentError("strides", f"{len(strides)} strides for a shape of {len(shape)} dims")
        if storage_shape is None:
            storage_shape = (buffer.nbytes * 8 // (dtypes.bits(dtype) if bits is None else bits),)
        else:
            storage_shape = arguments.shape(storage_shape, "storage_shape")
        if type(offset) is not int or not _INT64_MIN <= offset <= arguments.INT64_MAX:
            offset = arguments.integer(offset, "offset")
        if type(format) is not int or not _INT32_MIN <= format <= _INT32_MAX:
            format = arguments.integer(format, "format", lo=_INT32_MIN, hi=_INT32_MAX)
        self.buffer = buffer
        self.owns_buffer = False
        self._fields = key = (shape, value, strides, offset, format, storage_shape)
        checked = _LAYOUTS.get(key) or _check_layout(self.desc, key)
        self._fields = checked.fields  # equal, and shared: a tensor keeps no tuples of its own
        if checked.start + checked.nbytes > buffer.nbytes:
            start, stop = checked.start, checked.start + checked.nbytes
            raise ArgumentError("shape", f"a {dtypes.label(dtype)} tensor of shape {list(shape)} needs bytes "
                                         f"[{start}, {stop}) but the buffer has {buffer.nbytes}")
        self._layout = checked
        self._own(self._new_handle())

    def _new_handle(self) -> Any:
        """A new aclTensor describing this tensor's memory (AclnnParamError on NULL): from the
        memoised layout's arrays while the descriptor is the one it was checked as."""
        checked = self._layout
        if checked is None:
            return create_handle(self.desc)
        shape, dtype, _, offset, format, storage_shape = checked.fields
        lib = library()
        handle = lib.aclCreateTensor(checked.dims, len(shape), dtype, checked.strides, offset, format,
                                     checked.storage, len(storage_shape), self.buffer.handle)
        if handle == ffi.NULL:
            raise AclnnParamError(lib.ACLNN_ERR_PARAM_INVALID, "aclCreateTensor",
                                  recent_message() or f"cannot describe {self.desc}")
        return handle

    @property
    def desc(self) -> TensorDesc:
        """What this aclTensor says about its memory (made on first use)."""
        desc = self._desc
        if desc is None:
            self._desc = desc = TensorDesc(*self._fields, self.buffer._address)
        return desc

    @desc.setter
    def desc(self, desc: TensorDesc) -> None:
        self._desc = desc
        self._layout = None

    def _label(self) -> str:
        return repr(self)

    def _parts(self) -> tuple[Resource, ...]:
        return (self.buffer,)

    def _require_open(self) -> None:
        if id(self) in owned_ids and id(self.buffer) in owned_ids:
            return  # the common case at a glance (a borrowed buffer is not registered: asked below)
        if id(self) not in owned_ids:
            raise self._closed_error()
        self.buffer._require_open()

    def close(self) -> None:
        """Destroy the aclTensor (and free the buffer when this tensor allocated it)."""
        super().close()
        if self.owns_buffer:
            self.buffer.close()

    @classmethod
    def from_pointer(cls, address: Any, shape: Sequence[int], dtype: Any, strides: Sequence[int] | None = None,
                     offset: int = 0, format: int = ND, *, storage_shape: Sequence[int] | None = None) -> "Tensor":
        """An aclTensor over device memory owned by someone else: zero-copy, never freed by aclnn-py.

        ``address`` is the device address of the storage start (an int or a cffi pointer);
        ``shape``/``strides``/``offset`` are in elements as for :class:`Tensor`. The memory the
        view reaches (from ``address`` to its last element) is all aclnn-py assumes to exist;
        ``storage_shape`` defaults to that extent as a 1-D array of elements (the NZ storage
        shape of the view for ``format=FRACTAL_NZ``). The owner must keep the memory alive
        until the work using the tensor has finished on its stream. With torch_npu::

            t = torch.randn(64, 128, dtype=torch.float16, device="npu")
            x = Tensor.from_pointer(t.untyped_storage().data_ptr(), t.shape, "float16",
                                    strides=t.stride(), offset=t.storage_offset())

        (or ``t.data_ptr()`` with ``offset=0``: the same first element).
        """
        if not isinstance(address, int):
            address = int(ffi.cast("uintptr_t", address))
        dtype = dtypes.to_acl(dtype)
        shape = arguments.shape(shape, "shape")
        strides = arguments.integers(contiguous_strides(shape) if strides is None else strides, "strides")
        if len(strides) != len(shape):
            raise ArgumentError("strides", f"{len(strides)} strides for a shape of {len(shape)} dims")
        offset = arguments.integer(offset, "offset")
        if storage_shape is None:
            if format == FRACTAL_NZ:
                try:
                    storage_shape = nz.nz_storage_shape(shape, dtypes.name(dtype))
                except ValueError as exc:  # fewer than 2 dims, a 64-bit dtype
                    raise ArgumentError("format", f"a FRACTAL_NZ {dtypes.label(dtype)} tensor of shape "
                                                  f"{list(shape)} has no NZ storage shape: {exc}") from None
            else:
                first, stop = layout.element_span(TensorDesc(shape, int(dtype), tuple(strides), offset))
                storage_shape = (max(stop, 1),)
        probe = TensorDesc(shape, int(dtype), tuple(strides), offset, format, tuple(storage_shape), address)
        try:
            layout.check(probe)
        except layout.LayoutError as exc:
            raise AclnnParamError(library().ACLNN_ERR_PARAM_INVALID, "Tensor.from_pointer", str(exc)) from None
        start, nbytes = layout.byte_span(probe)
        buffer = BorrowedBuffer(address, max(start + nbytes, 1))
        return cls(buffer, shape, dtype, strides=strides, offset=offset, format=format, storage_shape=storage_shape)

    # -- construction from host data -----------------------------------------
    @classmethod
    def empty(cls, shape: Sequence[int], dtype: Any, *, format: int = ND) -> "Tensor":
        """A contiguous tensor on a new buffer (contents undefined)."""
        dtype = dtypes.to_acl(dtype)
        shape = arguments.shape(shape, "shape")
        nbytes = dtypes.nbytes(math.prod(shape), dtype)
        if nbytes > arguments.INT64_MAX:
            raise ArgumentError("shape", f"a {dtypes.label(dtype)} tensor of shape {list(shape)} needs {nbytes} "
                                         f"bytes, more than a device buffer can address (2**63 - 1)")
        buffer = DeviceBuffer(max(nbytes, 1))
        try:
            tensor = cls(buffer, shape, dtype, format=format)
        except BaseException:
            buffer.close()
            raise
        tensor.owns_buffer = True
        return tensor

    @classmethod
    def from_numpy(cls, array: np.ndarray, dtype: Any = None, stream: Stream | None = None, *,
                   cast: bool = False) -> "Tensor":
        """Copy a host array to a new contiguous tensor.

        ``dtype`` defaults to the array's. A uint8 array given with an 8-bit float
        dtype (``"hifloat8"``, ``"float8_e8m0"``, ``"float8_e4m3fn"``,
        ``"float8_e5m2"``) holds the codes and is stored as is. 4-bit types are
        packed on the way. Converting to another dtype must not lose values
        (:func:`aclnn_py.semantics.codecs.to_host`: no wrapping, truncation or overflow;
        float rounding is fine): otherwise :class:`~aclnn_py.errors.ArgumentError`
        names the values and the range, unless ``cast=True`` asks for NumPy's
        ``astype`` conversion as it is. A non-native byte order is converted first.
        """
        require_open(stream)
        array = arguments.as_array(array)
        if dtype is None:
            try:
                dtype = dtypes.of_array(array)
            except ValueError:
                raise ArgumentError("array", f"NumPy dtype {array.dtype} has no aclDataType; pass dtype=") from None
        else:
            dtype = dtypes.to_acl(dtype)
        values = _host_values(array, dtype, cast)  # a uint8 array of an 8-bit float type: its codes
        tensor = cls.empty(array.shape, dtype)
        try:
            tensor.copy_from_numpy(values, stream)
        except BaseException:
            tensor.close()
            raise
        return tensor

    def copy_from_numpy(self, array: np.ndarray, stream: Stream | None = None, *, cast: bool = False) -> None:
        """Write host values (logical shape) into the tensor's memory (``cast`` as in :meth:`from_numpy`)."""
        self._require_open()
        values = _host_values(arguments.as_array(array), self.desc.dtype, cast)
        if values.shape != self.desc.shape:
            raise ArgumentError("array", f"values of shape {list(values.shape)} do not fit {self}")
        start, nbytes = layout.byte_span(self.desc)
        if not nbytes:
            return
        if layout.covers_span(self.desc):
            raw = np.empty(nbytes, np.uint8)
        else:  # bytes shared with other elements keep their contents
            raw = self.buffer.to_numpy(np.uint8, (nbytes,), start)
        try:
            layout.into_bytes(self.desc, values, raw)
        except (ValueError, TypeError) as exc:
            raise ArgumentError("array", f"cannot store the values into {self}: {exc}") from None
        self.buffer.copy_from_host(raw, start, stream)

    def to_numpy(self) -> np.ndarray:
        """The logical contents as a host array (synchronous)."""
        self._require_open()
        start, nbytes = layout.byte_span(self.desc)
        raw = self.buffer.to_numpy(np.uint8, (nbytes,), start) if nbytes else np.empty(0, np.uint8)
        return layout.from_bytes(self.desc, raw)

    # -- views ---------------------------------------------------------------
    def view(self, shape: Sequence[int], strides: Sequence[int], offset: int = 0, *,
             format: int | None = None, storage_shape: Sequence[int] | None = None) -> "Tensor":
        """Another aclTensor over the same buffer."""
        self._require_open()
        return Tensor(self.buffer, shape, self.desc.dtype, strides=strides, offset=offset,
                      format=self.desc.format if format is None else format,
                      storage_shape=self.desc.storage_shape if storage_shape is None else storage_shape)

    def transpose(self) -> "Tensor":
        """The last two dims swapped, as a strided view (how CANN marks a transposed x2/weight)."""
        if self.desc.ndim < 2:
            raise ArgumentError("tensor", f"transpose needs at least 2 dims, got shape {list(self.shape)}")
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
        require_open(self.tensors)
        handles = [t._new_handle() for t in self.tensors]
        array = ffi.new("aclTensor *[]", handles or [ffi.NULL])
        handle = library().aclCreateTensorList(array, len(handles))
        if handle == ffi.NULL:
            for h in handles:
                library().aclDestroyTensor(h)
            raise AclnnParamError(library().ACLNN_ERR_PARAM_INVALID, "aclCreateTensorList", recent_message())
        self._own(handle)

    def _label(self) -> str:
        return f"TensorList of {len(self.tensors)} tensors"

    def _parts(self) -> tuple[Resource, ...]:
        return tuple(self.tensors)

    def _require_open(self) -> None:
        super()._require_open()
        require_open(self.tensors)

    def __len__(self) -> int:
        return len(self.tensors)


class IntArray(Resource):
    """An aclIntArray (the values are copied by CANN)."""

    _destroy = "aclDestroyIntArray"
    _check = staticmethod(check_aclnn)

    def __init__(self, values: Sequence[int]) -> None:
        self.values = arguments.integers(values, "values")
        handle = library().aclCreateIntArray(_int64s(self.values), len(self.values))
        if handle == ffi.NULL:
            raise AclnnParamError(library().ACLNN_ERR_PARAM_INVALID, "aclCreateIntArray", recent_message())
        self._own(handle)

    def _label(self) -> str:
        return f"IntArray of {len(self.values)} values"
