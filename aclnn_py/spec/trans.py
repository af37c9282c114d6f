"""Argument rules of the weight/scale helpers (abi.md §5-6, semantics.md §2, §5).

* aclnnCalculateMatmulWeightSize / V2: 161001 NULL (the C entry point checks
  pointers), 161002 for a rank outside 2..6 (V1: 2-D, 3-D on Atlas A2/A3) or a
  zero/negative dim; 361001 on an unsupported SoC (our three profiles are all
  supported). The size is in ELEMENTS.
* aclnnTransMatmulWeight: the tensor must be ND, contiguous, FLOAT16/BFLOAT16/
  INT8; INT8 2..6 dims, FLOAT16/BFLOAT16 2..3 dims on Atlas A2/A3 and 2 dims on
  Ascend 950. An empty tensor is a successful no-op (the code's behaviour; the doc
  lists it as 161002). A transposed (non-contiguous) view is rejected with 161002:
  our choice, CANN makes it contiguous first.
* aclnnTransQuantParamV2: scale FLOAT32 1-D/2-D (required, 161001 when NULL),
  offset FLOAT32 optional, out UINT64/INT64 (required); out shape = scale shape
  without offset, max(len(scale), len(offset)) for 1-D scale and offset (each 1 or
  that length), the scale's shape for a 2-D scale (offset of the same shape).
"""
from __future__ import annotations

from . import dtypes, nz
from .headers import load
from .descriptors import TensorDesc
from .status import Violation

__all__ = ["calculate_matmul_weight_size", "check_trans_matmul_weight", "check_trans_quant_param_v2"]

_K = load().constants
NULLPTR = _K["ACLNN_ERR_PARAM_NULLPTR"]
INVALID = _K["ACLNN_ERR_PARAM_INVALID"]
RUNTIME = _K["ACLNN_ERR_RUNTIME_ERROR"]
D = dtypes.DataType
SUPPORTED_PROFILES = ("A2", "A3", "950")


def _shape(values) -> str:
    return "[" + ", ".join(str(d) for d in values) + "]"


def calculate_matmul_weight_size(shape, dtype: int | None, profile: str = "A2") -> int:
    """Element count of the FRACTAL_NZ buffer of a weight; ``dtype`` None = the V1 rule."""
    function = "aclnnCalculateMatmulWeightSize" + ("" if dtype is None else "V2")
    if profile not in SUPPORTED_PROFILES:
        raise Violation(RUNTIME, function, f"SoC profile {profile!r} is not supported")
    if shape is None:
        raise Violation(NULLPTR, function, "tensorShape is a null pointer")
    dims = tuple(int(d) for d in shape)
    if dtype is None:
        max_rank = 3 if profile in ("A2", "A3") else 2
        if not 2 <= len(dims) <= max_rank:
            raise Violation(INVALID, function, f"tensorShape {_shape(dims)} must have 2"
                                  + (f" or {max_rank}" if max_rank == 3 else "") + " dims")
    elif not 2 <= len(dims) <= 6:
        raise Violation(INVALID, function, f"tensorShape {_shape(dims)} must have 2 to 6 dims")
    if any(d <= 0 for d in dims):
        raise Violation(INVALID, function, f"tensorShape {_shape(dims)} must not contain a "
                                                 f"zero or negative dim")
    size = nz.matmul_weight_size(dims, "float16" if dtype is None else dtypes.NAMES.get(int(dtype)))
    if size > 2**63 - 1:
        raise Violation(INVALID, function, f"tensorShape {_shape(dims)} is too large: its FRACTAL_NZ "
                                                 f"buffer would hold {size} elements (more than 2**63 - 1)")
    return size


def check_trans_matmul_weight(weight: TensorDesc | None, profile: str = "A2") -> bool:
    """Validate aclnnTransMatmulWeight's mmWeightRef; False when the tensor is empty (no-op)."""
    function = "aclnnTransMatmulWeightGetWorkspaceSize"
    if weight is None:
        raise Violation(NULLPTR, function, "mmWeightRef is a null pointer")
    allowed = (D.ACL_FLOAT16, D.ACL_BF16, D.ACL_INT8)
    if weight.dtype not in allowed:
        raise Violation(INVALID, function, f"mmWeightRef dtype {dtypes.label(weight.dtype)} is "
                                                 f"not supported: expected FLOAT16, BF16 or INT8")
    if weight.format == _K["ACL_FORMAT_FRACTAL_NZ"]:
        raise Violation(INVALID, function, "mmWeightRef format FRACTAL_NZ is not supported: "
                                                 "expected an ND tensor (already converted?)")
    max_rank = 6 if weight.dtype == D.ACL_INT8 else (3 if profile in ("A2", "A3") else 2)
    if not 2 <= weight.ndim <= max_rank:
        raise Violation(INVALID, function, f"mmWeightRef shape {_shape(weight.shape)} is not "
                                                 f"supported: {dtypes.label(weight.dtype)} needs 2 to {max_rank} dims")
    if weight.numel == 0:
        return False
    if not weight.is_contiguous():
        raise Violation(INVALID, function, "mmWeightRef must be contiguous (a transposed view "
                                                 "is not supported by this implementation)")
    return True


def check_trans_quant_param_v2(scale: TensorDesc | None, offset: TensorDesc | None,
                               out: TensorDesc | None) -> None:
    function = "aclnnTransQuantParamV2GetWorkspaceSize"
    for what, desc in (("scale", scale), ("out", out)):
        if desc is None:
            raise Violation(NULLPTR, function, f"{what} is a null pointer")
    assert scale is not None and out is not None
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
        raise Violation(INVALID, function, f"scale shape {_shape(scale.shape)} is not supported: "
                                                 f"expected a non-empty 1-D or 2-D tensor")
    expected = scale.shape
    if offset is not None:
        if scale.ndim == 1 and offset.ndim == 1:
            length = max(scale.shape[0], offset.shape[0])
            if {scale.shape[0], offset.shape[0]} - {1, length}:
                raise Violation(INVALID, function, f"offset shape {_shape(offset.shape)} does "
                                                         f"not broadcast with scale shape {_shape(scale.shape)}")
            expected = (length,)
        elif scale.ndim != 2 or offset.shape != scale.shape:
            raise Violation(INVALID, function, f"offset shape {_shape(offset.shape)} is not "
                                                     f"supported for scale shape {_shape(scale.shape)}")
    if out.shape != expected:
        raise Violation(INVALID, function, f"out shape {_shape(out.shape)} must be "
                                                 f"{_shape(expected)}")
