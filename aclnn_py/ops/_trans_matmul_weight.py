"""aclnnCalculateMatmulWeightSize(V2) and aclnnTransMatmulWeight: a weight in FRACTAL_NZ.

Arguments are checked in Python with :mod:`aclnn_py.semantics.trans_matmul_weight` (same
codes and messages as the C functions) before C is called.

``trans_matmul_weight`` is a one-shot function without a plan class (it runs a single-use
:class:`~aclnn_py.ops._two_phase.Plan` once): a repeatable aclnnTransMatmulWeight would make
no sense -- its phase 1 relabels the tensor as FRACTAL_NZ in place, so a second execution
would rearrange data already in NZ order.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import arguments
from .._ffi import ffi
from .._loader import library
from ..check import check_aclnn
from ..errors import raising
from .._resource import require_open
from ..memory import DeviceBuffer
from ..runtime import Stream
from ..semantics import dtypes
from ..semantics import trans_matmul_weight as rules
from ..semantics.soc import profile as _profile
from ..tensor import IntArray, Tensor
from ._two_phase import dispose, launch

__all__ = ["calculate_matmul_weight_size", "current_profile", "nz_weight_tensor", "trans_matmul_weight"]


_PROFILES: dict[bytes, str] = {}  # SoC names seen -> their profile


def current_profile() -> str:
    """``"A2"``, ``"A3"`` or ``"950"`` of the SoC the runtime reports."""
    name = library().aclrtGetSocName()
    if name == ffi.NULL:
        return "A2"
    raw = ffi.string(name)
    profile = _PROFILES.get(raw)
    if profile is None:
        profile = _profile(raw.decode())
        if len(_PROFILES) < 64:
            _PROFILES[raw] = profile
    return profile


def calculate_matmul_weight_size(shape: Sequence[int], dtype: Any = None) -> int:
    """ELEMENTS of the FRACTAL_NZ buffer of a weight (V2; ``dtype`` None = the V1 rule).

    prod(batch dims) * align(shape[-2], 16) * align(shape[-1], 16 for float16 and
    bfloat16, 32 for any other dtype); the V1 rule is float16's. Positive dims,
    as many as (tests/semantics/test_doc_tables_trans.py holds the tables of this
    module to the rules):

    | dtype | SoC | dims |
    |---|---|---|
    | any | A2 A3 950 | 2-6 |
    | None | A2 A3 | 2-3 |
    | None | 950 | 2 |
    """
    acl = None if dtype is None else int(dtypes.to_acl(dtype))
    shape = arguments.integers(shape, "shape")
    with raising():
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
    require_open(stream)
    array = arguments.as_array(array)
    acl = dtypes.of_array(array) if dtype is None else dtypes.to_acl(dtype)
    elements = max(calculate_matmul_weight_size(array.shape, acl), array.size)
    buffer = DeviceBuffer(dtypes.nbytes(elements, acl))
    try:
        tensor = Tensor(buffer, array.shape, acl)
    except BaseException:
        buffer.close()
        raise
    tensor.owns_buffer = True
    try:
        tensor.copy_from_numpy(array, stream)
    except BaseException:
        dispose([tensor], stream)
        raise
    return tensor


def trans_matmul_weight(tensor: Tensor, stream: Stream, *, synchronize: bool = False) -> Tensor:
    """aclnnTransMatmulWeight: rearrange ``tensor`` to FRACTAL_NZ in place; returns it.

    The aclTensor is relabelled (format FRACTAL_NZ, NZ storage shape) when phase 1
    runs, and ``tensor.desc`` is refreshed from C; the data is rearranged when the
    stream reaches the task (``synchronize=True`` waits for it). ``tensor`` is ND
    and contiguous, its buffer big enough for the NZ form
    (:func:`calculate_matmul_weight_size` elements: :func:`nz_weight_tensor` makes
    one); an empty tensor is left as it is.

    | tensor | SoC | dims |
    |---|---|---|
    | int8 | A2 A3 950 | 2-6 |
    | float16/bfloat16 | A2 A3 | 2-3 |
    | float16/bfloat16 | 950 | 2 |
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"tensor: expected a Tensor, got {type(tensor).__name__}")
    require_open(stream, tensor)
    with raising():
        rules.check_trans_matmul_weight(tensor.desc, current_profile())
    launch("aclnnTransMatmulWeight", (tensor.handle,), stream, keep=(tensor,))
    tensor.refresh()
    if synchronize:
        stream.synchronize()
    return tensor
