"""Weight and scale helpers: aclnnCalculateMatmulWeightSize(V2), aclnnTransMatmulWeight,
aclnnTransQuantParamV2.

Arguments are checked in Python with :mod:`aclnn_py.rules.trans` (same codes and
messages as the C functions) before C is called.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import dtypes
from .._ffi import ffi
from .._loader import library
from ..errors import check_aclnn
from ..memory import DeviceBuffer
from ..rules import trans as rules
from ..runtime import Stream
from ..soc import profile as _profile
from ..tensor import IntArray, Tensor
from ._two_phase import launch

__all__ = ["calculate_matmul_weight_size", "current_profile", "nz_weight_tensor",
           "trans_matmul_weight", "trans_quant_param_v2"]


def current_profile() -> str:
    """``"A2"``, ``"A3"`` or ``"950"`` of the SoC the runtime reports."""
    name = library().aclrtGetSocName()
    return _profile(ffi.string(name).decode()) if name != ffi.NULL else "A2"


def calculate_matmul_weight_size(shape: Sequence[int], dtype: Any = None) -> int:
    """ELEMENTS of the FRACTAL_NZ buffer of a weight (V2; ``dtype`` None = the V1 rule)."""
    acl = None if dtype is None else int(dtypes.to_acl(dtype))
    rules.calculate_matmul_weight_size(shape, acl, current_profile())
    size = ffi.new("uint64_t *")
    with IntArray(shape) as array:
        lib = library()
        if acl is None:
            check_aclnn(lib.aclnnCalculateMatmulWeightSize(array.handle, size), "aclnnCalculateMatmulWeightSize")
        else:
            check_aclnn(lib.aclnnCalculateMatmulWeightSizeV2(array.handle, acl, size),
                        "aclnnCalculateMatmulWeightSizeV2")
    return int(size[0])


def nz_weight_tensor(array: np.ndarray, dtype: Any = None, stream: Stream | None = None) -> Tensor:
    """An ND tensor holding ``array`` in a buffer big enough for its FRACTAL_NZ form
    (CalculateMatmulWeightSizeV2 elements), ready for :func:`trans_matmul_weight`."""
    array = np.asarray(array)
    acl = dtypes.of_array(array) if dtype is None else dtypes.to_acl(dtype)
    elements = max(calculate_matmul_weight_size(array.shape, acl), array.size)
    buffer = DeviceBuffer(dtypes.nbytes(elements, acl))
    tensor = Tensor(buffer, array.shape, acl)
    tensor.owns_buffer = True
    tensor.copy_from_numpy(array, stream)
    return tensor


def trans_matmul_weight(tensor: Tensor, stream: Stream, *, synchronize: bool = False) -> Tensor:
    """aclnnTransMatmulWeight: rearrange ``tensor`` to FRACTAL_NZ in place; returns it.

    The aclTensor is relabelled (format FRACTAL_NZ, NZ storage shape) when phase 1
    runs, and ``tensor.desc`` is refreshed from C; the data is rearranged when the
    stream reaches the task (``synchronize=True`` waits for it).
    """
    rules.check_trans_matmul_weight(tensor.desc, current_profile())
    launch("aclnnTransMatmulWeight", (tensor.handle,), stream, keep=(tensor,))
    tensor.refresh()
    if synchronize:
        stream.synchronize()
    return tensor


def _as_tensor(value: Any, dtype: Any, stream: Stream | None) -> Tensor | None:
    if value is None or isinstance(value, Tensor):
        return value
    return Tensor.from_numpy(np.asarray(value, dtype=np.float32) if dtype == "float32" else value, dtype, stream)


def trans_quant_param_v2(scale: Any, offset: Any = None, *, stream: Stream, out: Tensor | None = None,
                         out_dtype: Any = "uint64") -> Tensor:
    """aclnnTransQuantParamV2: pack float32 scale (+ offset) into a UINT64/INT64 tensor."""
    s = _as_tensor(scale, "float32", stream)
    o = _as_tensor(offset, "float32", stream)
    if out is None:
        shape = s.shape
        if o is not None and s.desc.ndim == 1 and o.desc.ndim == 1:
            shape = (max(s.shape[0], o.shape[0]),)
        out = Tensor.empty(shape, out_dtype)
    rules.check_trans_quant_param_v2(s.desc, None if o is None else o.desc, out.desc)
    launch("aclnnTransQuantParamV2", (s.handle, ffi.NULL if o is None else o.handle, out.handle),
           stream, keep=(s, o, out))
    return out
