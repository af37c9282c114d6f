"""Argument rules of aclnnTransQuantParamV2.

scale FLOAT32 1-D/2-D (required, 161001 when NULL), offset FLOAT32 optional, out
UINT64/INT64 (required); out shape = scale shape without offset, max(len(scale),
len(offset)) for 1-D scale and offset (each 1 or that length), the scale's shape for
a 2-D scale (offset of the same shape).
"""
from __future__ import annotations

from . import dtypes
from .catalogue import OperatorRules
from .descriptors import TensorDesc, refuse_negative_extents, shape_text
from .status import INVALID, NULLPTR, Violation

__all__ = ["OPERATORS", "check_trans_quant_param_v2", "output_desc"]

D = dtypes.DataType


def output_desc(scale: TensorDesc, offset: TensorDesc | None, dtype: int = D.ACL_UINT64) -> TensorDesc:
    """The ``out`` a call implies: the scale's shape, or the longer length of a 1-D scale and offset."""
    shape = scale.shape
    if offset is not None and scale.ndim == 1 and offset.ndim == 1:
        shape = (max(scale.shape[0], offset.shape[0]),)
    return TensorDesc.contiguous(shape, int(dtype))


def check_trans_quant_param_v2(scale: TensorDesc | None, offset: TensorDesc | None,
                               out: TensorDesc | None) -> None:
    function = "aclnnTransQuantParamV2GetWorkspaceSize"
    for what, desc in (("scale", scale), ("out", out)):
        if desc is None:
            raise Violation(NULLPTR, function, f"{what} is a null pointer")
    assert scale is not None and out is not None
    refuse_negative_extents(function, {"scale": scale, "offset": offset, "out": out})
    if scale.dtype != D.ACL_FLOAT:
        raise Violation(INVALID, function, f"scale dtype {dtypes.label(scale.dtype)} is not "
                                                 f"supported: expected FLOAT")
    if offset is not None and offset.dtype != D.ACL_FLOAT:
        raise Violation(INVALID, function, f"offset dtype {dtypes.label(offset.dtype)} is not "
                                                 f"supported: expected FLOAT")
    if out.dtype not in (D.ACL_UINT64, D.ACL_INT64):
        raise Violation(INVALID, function, f"out dtype {dtypes.label(out.dtype)} is not "
                                                 f"supported: expected UINT64 or INT64")
    if scale.ndim not in (1, 2) or scale.numel == 0:
        raise Violation(INVALID, function, f"scale shape {shape_text(scale.shape)} is not supported: "
                                                 f"expected a non-empty 1-D or 2-D tensor")
    expected = scale.shape
    if offset is not None:
        if scale.ndim == 1 and offset.ndim == 1:
            length = max(scale.shape[0], offset.shape[0])
            if {scale.shape[0], offset.shape[0]} - {1, length}:
                raise Violation(INVALID, function, f"offset shape {shape_text(offset.shape)} does "
                                                         f"not broadcast with scale shape {shape_text(scale.shape)}")
            expected = (length,)
        elif scale.ndim != 2 or offset.shape != scale.shape:
            raise Violation(INVALID, function, f"offset shape {shape_text(offset.shape)} is not "
                                                     f"supported for scale shape {shape_text(scale.shape)}")
    if out.shape != expected:
        raise Violation(INVALID, function, f"out shape {shape_text(out.shape)} must be "
                                                 f"{shape_text(expected)}")


#: The catalogue's entry (ops-nn quant/trans_quant_param_v2: libopapi_nn); ``out`` defaults to UINT64.
OPERATORS = (OperatorRules(
    "aclnnTransQuantParamV2", "opapi_nn",
    check=lambda *, scale, offset, out, profile: check_trans_quant_param_v2(scale, offset, out),
    outputs=lambda *, scale, offset, profile, **_: {} if scale is None else {"out": output_desc(scale, offset)}),)
