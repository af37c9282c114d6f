"""Argument rules of aclnnCalculateMatmulWeightSize(V2) and aclnnTransMatmulWeight.

* aclnnCalculateMatmulWeightSize / V2: 161001 NULL (the C entry point checks
  pointers), 161002 for a rank outside 2..6 (V1: 2-D, 3-D on Atlas A2/A3) or a
  zero/negative dim; 361001 on an unsupported SoC (our three profiles are all
  supported). The size is in ELEMENTS.
* aclnnTransMatmulWeight: the tensor must be ND, contiguous, FLOAT16/BFLOAT16/
  INT8; INT8 2..6 dims, FLOAT16/BFLOAT16 2..3 dims on Atlas A2/A3 and 2 dims on
  Ascend 950. An empty tensor is a successful no-op (the code's behaviour; the doc
  lists it as 161002). A transposed (non-contiguous) view is rejected with 161002:
  our choice, CANN makes it contiguous first.
"""
from __future__ import annotations

from . import dtypes, nz
from .catalogue import OperatorRules
from .descriptors import FRACTAL_NZ, TensorDesc, refuse_negative_extents, shape_text
from .status import INVALID, NULLPTR, RUNTIME, Violation

__all__ = ["OPERATORS", "calculate_matmul_weight_size", "check_trans_matmul_weight"]

D = dtypes.DataType
SUPPORTED_PROFILES = ("A2", "A3", "950")


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
            raise Violation(INVALID, function, f"tensorShape {shape_text(dims)} must have 2"
                                  + (f" or {max_rank}" if max_rank == 3 else "") + " dims")
    elif not 2 <= len(dims) <= 6:
        raise Violation(INVALID, function, f"tensorShape {shape_text(dims)} must have 2 to 6 dims")
    if any(d <= 0 for d in dims):
        raise Violation(INVALID, function, f"tensorShape {shape_text(dims)} must not contain a "
                                                 f"zero or negative dim")
    size = nz.matmul_weight_size(dims, "float16" if dtype is None else dtypes.NAMES.get(int(dtype)))
    if size > 2**63 - 1:
        raise Violation(INVALID, function, f"tensorShape {shape_text(dims)} is too large: its FRACTAL_NZ "
                                                 f"buffer would hold {size} elements (more than 2**63 - 1)")
    return size


def check_trans_matmul_weight(weight: TensorDesc | None, profile: str = "A2") -> bool:
    """Validate aclnnTransMatmulWeight's mmWeightRef; False when the tensor is empty (no-op)."""
    function = "aclnnTransMatmulWeightGetWorkspaceSize"
    if weight is None:
        raise Violation(NULLPTR, function, "mmWeightRef is a null pointer")
    refuse_negative_extents(function, {"mmWeightRef": weight})
    allowed = (D.ACL_FLOAT16, D.ACL_BF16, D.ACL_INT8)
    if weight.dtype not in allowed:
        raise Violation(INVALID, function, f"mmWeightRef dtype {dtypes.label(weight.dtype)} is "
                                                 f"not supported: expected FLOAT16, BF16 or INT8")
    if weight.format == FRACTAL_NZ:
        raise Violation(INVALID, function, "mmWeightRef format FRACTAL_NZ is not supported: "
                                                 "expected an ND tensor (already converted?)")
    max_rank = 6 if weight.dtype == D.ACL_INT8 else (3 if profile in ("A2", "A3") else 2)
    if not 2 <= weight.ndim <= max_rank:
        raise Violation(INVALID, function, f"mmWeightRef shape {shape_text(weight.shape)} is not "
                                                 f"supported: {dtypes.label(weight.dtype)} needs 2 to {max_rank} dims")
    if weight.numel == 0:
        return False
    if not weight.is_contiguous():
        raise Violation(INVALID, function, "mmWeightRef must be contiguous (a transposed view "
                                                 "is not supported by this implementation)")
    return True


#: The catalogue's entries (ops-math conversion/trans_data: libopapi_math).
OPERATORS = (
    OperatorRules("aclnnCalculateMatmulWeightSize", "opapi_math"),
    OperatorRules("aclnnCalculateMatmulWeightSizeV2", "opapi_math"),
    OperatorRules("aclnnTransMatmulWeight", "opapi_math",
                  check=lambda *, mm_weight_ref, profile: check_trans_matmul_weight(mm_weight_ref, profile)),
)
