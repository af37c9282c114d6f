"""aclnnPermute (hicann/ops-math ``conversion/transpose``, exported by libopapi_math): its rules
and its golden.

Public source: ``conversion/transpose/op_api/aclnn_permute.cpp`` (``CheckParam``, then
``BuildPermuteGraph`` and ``CheckShapeAndScalarSame`` of ``common/inc/op_api/aclnn_check.h``),
``MAX_SUPPORT_DIMS_NUMS`` (8) of ``common/inc/op_api/op_api_def.h``. In CANN's order:

1. 161001 for a NULL ``self``, ``dims`` or ``out``; a negative extent is 161002.
2. ``self`` and ``out`` of :data:`TYPES`, the same type. BF16 needs a SoC from Ascend910B to
   Ascend910E in CANN's ``SocVersion`` order, which holds Atlas A2, A3 and Ascend 950 (opdev
   ``platform.h``: ASCEND910B, ASCEND910_93, ASCEND950, ..., ASCEND910E): every profile here.
   The document leaves HIFLOAT8 and the FLOAT8 types out on Atlas A2/A3; the code accepts
   them on every SoC, and the code decides.
3. ``out`` has ``self``'s rank, ``dims`` as many values, no value twice (as given), ``self`` at
   most 8 dims; then every value in [-ndim, ndim - 1] and no dim twice once negative values are
   counted from the end.
4. An empty ``self`` is a successful no-op when ``out`` is empty too; a non-empty ``out`` then
   makes CANN's graph fail (ACLNN_ERR_INNER_NULLPTR, 561103): here 161002 naming ``out``.
5. ``out``'s shape is ``self.shape[dims[i]]`` (or both hold one element).

The golden: ``out[i_0, ..., i_n] = self[...]`` with axis ``j`` of ``out`` running over axis
``dims[j]`` of ``self`` (``numpy.transpose``); exact for every type.
"""
from __future__ import annotations

import numpy as np

from . import dtypes
from .catalogue import OperatorRules
from .descriptors import TensorDesc, refuse_negative_extents, shape_text
from .status import INVALID, NULLPTR, Violation

__all__ = ["OPERATORS", "TYPES", "check_permute", "compute", "output_desc", "permuted_shape"]

D = dtypes.DataType
FUNCTION = "aclnnPermuteGetWorkspaceSize"
MAX_DIMS = 8
#: aclnn_permute.cpp ``DTYPE_SUPPORT_LIST``.
TYPES = frozenset({D.ACL_FLOAT, D.ACL_FLOAT16, D.ACL_INT8, D.ACL_INT16, D.ACL_INT32, D.ACL_INT64, D.ACL_UINT8,
                   D.ACL_UINT16, D.ACL_UINT32, D.ACL_UINT64, D.ACL_BOOL, D.ACL_DOUBLE, D.ACL_COMPLEX64,
                   D.ACL_COMPLEX128, D.ACL_BF16, D.ACL_HIFLOAT8, D.ACL_FLOAT8_E5M2, D.ACL_FLOAT8_E4M3FN})


def _axes(self: TensorDesc, dims: tuple[int, ...]) -> tuple[int, ...]:
    """``dims`` checked (steps 3 of the module docstring) and made non-negative."""
    ndim = self.ndim
    if len(dims) != ndim:
        raise Violation(INVALID, FUNCTION, f"dims {list(dims)} has {len(dims)} values; self "
                                           f"{shape_text(self.shape)} has {ndim} dims")
    if len(set(dims)) != len(dims):
        raise Violation(INVALID, FUNCTION, f"dims {list(dims)} names a dim twice")
    if ndim > MAX_DIMS:
        raise Violation(INVALID, FUNCTION, f"self shape {shape_text(self.shape)} has {ndim} dims: at most "
                                           f"{MAX_DIMS} are supported")
    low, high = min(-ndim, ndim - 1), max(-ndim, ndim - 1)
    for d in dims:
        if not low <= d <= high:
            raise Violation(INVALID, FUNCTION, f"dims {list(dims)}: {d} is outside [{low}, {high}]")
    axes = tuple(d + ndim if d < 0 else d for d in dims)
    if len(set(axes)) != ndim:
        raise Violation(INVALID, FUNCTION, f"dims {list(dims)} names a dim twice (counting negative values from "
                                           f"the end)")
    return axes


def permuted_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(shape[a] for a in axes)


def check_permute(self: TensorDesc | None, dims: tuple[int, ...] | None, out: TensorDesc | None) -> tuple[int, ...]:
    """aclnnPermuteGetWorkspaceSize's rules; the permutation with non-negative dims."""
    for name, value in (("self", self), ("dims", dims), ("out", out)):
        if value is None:
            raise Violation(NULLPTR, FUNCTION, f"{name} is a null pointer")
    assert self is not None and dims is not None and out is not None
    refuse_negative_extents(FUNCTION, {"self": self, "out": out})
    for name, desc in (("self", self), ("out", out)):
        if desc.dtype not in TYPES:
            raise Violation(INVALID, FUNCTION, f"{name} dtype {dtypes.label(desc.dtype)} is not supported: expected "
                                               f"one of {', '.join(sorted(dtypes.label(t) for t in TYPES))}")
    if out.dtype != self.dtype:
        raise Violation(INVALID, FUNCTION, f"out dtype {dtypes.label(out.dtype)} must be self's "
                                           f"{dtypes.label(self.dtype)}")
    if out.ndim != self.ndim:
        raise Violation(INVALID, FUNCTION, f"out shape {shape_text(out.shape)} must have self's {self.ndim} dims")
    axes = _axes(self, tuple(dims))
    expected = permuted_shape(self.shape, axes)
    if self.numel == 0:
        if out.numel:
            raise Violation(INVALID, FUNCTION, f"out shape {shape_text(out.shape)} must be empty when self "
                                               f"{shape_text(self.shape)} is")
    elif out.shape != expected and not (out.numel == 1 and self.numel == 1):
        raise Violation(INVALID, FUNCTION, f"out shape {shape_text(out.shape)} must be {shape_text(expected)} "
                                           f"(self's dims in the order of dims)")
    return axes


def output_desc(self: TensorDesc | None, dims: tuple[int, ...] | None) -> dict[str, TensorDesc]:
    """The ``out`` a call implies (``self``'s dims reordered); the rules on ``dims`` fail first."""
    if self is None or dims is None:
        return {}
    return {"out": TensorDesc.contiguous(permuted_shape(self.shape, _axes(self, tuple(dims))), self.dtype)}


def compute(values: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """The golden: ``values`` with its axes in the order ``axes`` (a contiguous copy)."""
    return np.ascontiguousarray(np.transpose(values, axes))


#: The catalogue's entry: the rules, ``out`` inferred.
OPERATORS = (OperatorRules(
    "aclnnPermute", "opapi_math",
    check=lambda *, self, dims, out, profile: check_permute(self, dims, out),
    outputs=lambda *, self, dims, profile, **_: output_desc(self, dims)),)
