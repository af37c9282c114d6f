"""The rules and golden of aclnnAxpyCustom: what the pure layer would hold for a project operator."""
from __future__ import annotations

import numpy as np

from aclnn_py.semantics import dtypes
from aclnn_py.semantics.descriptors import TensorDesc, shape_text
from aclnn_py.semantics.status import INVALID, NULLPTR, Violation

FUNCTION = "aclnnAxpyCustomGetWorkspaceSize"
DTYPES = (dtypes.DataType.ACL_FLOAT16, dtypes.DataType.ACL_FLOAT)


def check(*, x: TensorDesc | None, y: TensorDesc | None, alpha, out: TensorDesc | None, profile: str | None) -> None:
    """161001 for a NULL argument; 161002 for a dtype other than FLOAT16/FLOAT, or shapes and dtypes that differ."""
    for name, value in (("x", x), ("y", y), ("alpha", alpha), ("out", out)):
        if value is None:
            raise Violation(NULLPTR, FUNCTION, f"{name} is a null pointer")
    if x.dtype not in DTYPES:
        raise Violation(INVALID, FUNCTION, f"x dtype {dtypes.label(x.dtype)} is not supported: expected FLOAT16 or FLOAT")
    for name, other in (("y", y), ("out", out)):
        if other.dtype != x.dtype or other.shape != x.shape:
            raise Violation(INVALID, FUNCTION, f"{name} ({dtypes.label(other.dtype)} {shape_text(other.shape)}) must "
                                               f"have x's dtype and shape ({dtypes.label(x.dtype)} {shape_text(x.shape)})")


def outputs(*, x: TensorDesc | None, profile: str | None, **_) -> dict[str, TensorDesc]:
    """``out`` has x's shape and dtype."""
    return {} if x is None else {"out": TensorDesc.contiguous(x.shape, x.dtype)}


def golden(x: np.ndarray, y: np.ndarray, alpha: float) -> np.ndarray:
    """alpha * x + y, computed in float32 and rounded once to x's dtype."""
    return (np.float32(alpha) * x.astype(np.float32) + y.astype(np.float32)).astype(x.dtype)
