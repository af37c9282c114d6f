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
from ..semantics import catalogue, dtypes
from ..semantics import trans_matmul_weight as rules
from ..tensor import IntArray, Tensor
from ._profile import current_profile
from ._two_phase import dispose, launch

__all__ = ["calculate_matmul_weight_size", "nz_weight_tensor", "trans_matmul_weight"]


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
    profile = current_profile()
    if profile is not None:
        with raising():
            rules.calculate_matmul_weight_size(shape, acl, profile)
    op = "aclnnCalculateMatmulWeightSize" + ("" if acl is None else "V2")
    size = ffi.new("uint64_t *")
    with IntArray(shape) as array:
        values = {"tensor_shape": array.handle, "data_type": acl, "weight_tensor_size": size}
        args = [values[name] for name in catalogue.project_signature(op).names]
        check_aclnn(getattr(library(), op)(*args), op)
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
    profile = current_profile()
    if profile is not None:
        with raising():
            rules.check_trans_matmul_weight(tensor.desc, profile)
    op = "aclnnTransMatmulWeight"
    values = {"mm_weight_ref": tensor.handle}
    launch(op, tuple(values[name] for name in catalogue.project_signature(op).names), stream, keep=(tensor,))
    tensor.refresh()
    if synchronize:
        stream.synchronize()
    return tensor
