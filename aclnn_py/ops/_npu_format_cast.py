"""aclnnNpuFormatCastCalculateSizeAndFormat: the shape and format of the tensor aclnnNpuFormatCast writes.

A single host function (not an operator pair: ``aclnn_py.lib`` declares it from its header); this
wrapper checks the arguments with :mod:`aclnn_py.semantics.npu_format_cast` (the codes and messages of
the C function), calls it and frees the shape array it allocates -- CANN allocates it with ``new[]`` of
a trivial type and its samples release it with ``delete[]``, which is ``free`` of the C library that
glibc's operator new[] allocates from (the mock allocates it with ``malloc``). The conversion itself is
the generic ``aclnn_py.ops.npu_format_cast(src_tensor, dst_tensor, stream=...)``.
"""
from __future__ import annotations

import cffi

from .._ffi import ffi
from .._loader import library
from ..check import check_aclnn
from ..errors import raising
from ..semantics import dtypes
from ..semantics import npu_format_cast as rules
from ..tensor import Tensor
from ._profile import current_profile

__all__ = ["npu_format_cast_calculate_size_and_format"]

OP = "aclnnNpuFormatCastCalculateSizeAndFormat"
_libc_ffi = cffi.FFI()
_libc_ffi.cdef("void free(void *);")
_libc = _libc_ffi.dlopen(None)


def npu_format_cast_calculate_size_and_format(src_tensor: Tensor, dst_format: int,
                                              additional_dtype: object = -1) -> tuple[tuple[int, ...], int]:
    """``(dst_shape, actual_format)`` of the ``dst_tensor`` that converts ``src_tensor`` to ``dst_format``
    (``aclnn_py.DataType``/int: ``ACL_FORMAT_FRACTAL_NZ`` 29 or ``ACL_FORMAT_ND`` 2).

    ``additional_dtype`` (a dtype, or -1 for the source's) sets C0 = 32 bytes / its size. Make the
    target with ``Tensor(buffer, src_tensor.shape, src_tensor.dtype, format=actual_format,
    storage_shape=dst_shape)``.
    """
    if not isinstance(src_tensor, Tensor):
        raise TypeError(f"src_tensor: expected a Tensor, got {type(src_tensor).__name__}")
    fmt = int(dst_format)
    additional = -1 if additional_dtype in (-1, None) else int(dtypes.to_acl(additional_dtype, "additional_dtype"))
    profile = current_profile()
    if profile is not None:
        with raising():
            rules.calculate_size_and_format(src_tensor.desc, fmt, additional, profile)
    shape = ffi.new("int64_t **")
    size = ffi.new("uint64_t *")
    actual = ffi.new("int *")
    check_aclnn(getattr(library(), OP)(src_tensor.handle, fmt, additional, shape, size, actual), OP)
    try:
        dims = tuple(int(shape[0][i]) for i in range(int(size[0])))
    finally:
        _libc.free(_libc_ffi.cast("void *", int(ffi.cast("uintptr_t", shape[0]))))
    return dims, int(actual[0])
