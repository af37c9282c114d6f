"""aclnnDynamicQuant: per-token symmetric dynamic quantization -- rules and golden.

Rules in the order of CANN's op_api (ops-nn quant/dynamic_quant/op_host/op_api/aclnn_dynamic_quant.cpp,
``GetDynamicQuantResultByL0Api``: ``CheckNotNull``, ``CheckDtype``, ``CheckShape``), per profile:

* ``x``, ``yOut``, ``scaleOut`` NULL: 161001; ``smoothScalesOptional`` may be NULL.
* ``x`` FLOAT16/BFLOAT16 (every profile here: DAV_2201 and the Ascend 950's regbase list);
  ``smoothScalesOptional`` the same dtype as ``x``; ``yOut`` INT4, INT8 or INT32 (eight int4
  per int32) on Atlas A2/A3, and FLOAT8_E4M3FN, FLOAT8_E5M2, HIFLOAT8 too on the Ascend 950;
  ``scaleOut`` FLOAT32. 161002 otherwise.
* ``x`` 2 to 8 dims; a smooth scale 1-D with x's last dim; ``yOut`` x's shape (INT32: the last
  dim divided by 8, 161002 unless x's last dim is 8 times it); INT4: x's last dim even;
  ``scaleOut`` x's shape without its last dim. 161002 otherwise.
* An empty x, yOut or scaleOut is a successful no-op (workspace 0).

Golden (the A2/A3 kernel, ops-nn quant/dynamic_quant/op_kernel/dynamic_quant.h ``Compute``, and
the Ascend 950's regbase kernels with the same steps), per row of x (all dims but the last):
``v = f32(x) * f32(smooth)`` (no smooth: ``f32(x)``), ``m = max|v|``,
``q = f32(dtypeMax / m)``, ``y = cast(v * q)`` and ``scaleOut = f32(m * f32(1 / dtypeMax))``.
dtypeMax is 127 (INT8), 7 (INT4 and INT32-packed int4), 448 (FLOAT8_E4M3FN), 57344
(FLOAT8_E5M2), 32768 (HIFLOAT8) (the constants of dynamic_quant_base.h and
arch35/dynamic_quant_regbase_full_load.h). The integer cast rounds half to even (CAST_RINT to
int32, then exact); FLOAT8 casts round half to even, HIFLOAT8 half away from zero (CAST_ROUND).

Choices where the sources leave it open (UNCONFIRMED):

- scaleOut: the multi-row kernel (dynamic_quant_multi_row.h) multiplies the row maximum by
  f32(1/dtypeMax), as here; the single-row kernels store 1 / f32(dtypeMax / m), which can differ
  in the last bit. The quantized values use f32(dtypeMax / m) in every kernel.
- An all-zero row (m = 0) gives y = 0 and scaleOut = 0 (the kernel divides by zero: its
  q is +inf and 0 * inf is NaN, which the hardware's float-to-int conversion makes 0); likewise a
  NaN product (a row holding an infinity or a NaN) becomes 0 in an integer output.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import codecs, dtypes
from .catalogue import OperatorRules
from .descriptors import TensorDesc, refuse_negative_extents, shape_text
from .status import INVALID, NULLPTR, Violation

__all__ = ["OPERATORS", "DynamicQuantCall", "check", "dynamic_quant", "output_descs", "quantize_rows"]

D = dtypes.DataType
FUNCTION = "aclnnDynamicQuantGetWorkspaceSize"
_X_DTYPES = (D.ACL_FLOAT16, D.ACL_BF16)
_INT_OUTPUTS = (D.ACL_INT4, D.ACL_INT8, D.ACL_INT32)
_FLOAT8_OUTPUTS = (D.ACL_HIFLOAT8, D.ACL_FLOAT8_E5M2, D.ACL_FLOAT8_E4M3FN)
#: dtypeMax of each output dtype (INT32 holds int4 values).
DTYPE_MAX = {"int8": 127.0, "int4": 7.0, "int32": 7.0, "float8_e4m3fn": 448.0, "float8_e5m2": 57344.0,
             "hifloat8": 32768.0}
_PACKED_INT4 = 8  # int4 values per INT32 element of yOut


@dataclass(frozen=True)
class DynamicQuantCall:
    """A checked call: what the golden needs besides the arrays."""

    x_name: str
    y_name: str  # yOut's dtype ("int32": int4 values packed eight per element)
    empty: bool


def _output_dtypes(profile: str) -> tuple[int, ...]:
    return _INT_OUTPUTS + (_FLOAT8_OUTPUTS if profile == "950" else ())


def _label_list(values) -> str:
    return ", ".join(dtypes.label(v) for v in values)


def check(x: TensorDesc | None, smooth_scales: TensorDesc | None, y_out: TensorDesc | None,
          scale_out: TensorDesc | None, profile: str = "A2") -> DynamicQuantCall:
    """Validate one aclnnDynamicQuant call (Violation: its status and message)."""
    y, scale = y_out, scale_out
    for what, desc in (("x", x), ("yOut", y), ("scaleOut", scale)):
        if desc is None:
            raise Violation(NULLPTR, FUNCTION, f"{what} must not be a null pointer")
    assert x is not None and y is not None and scale is not None
    refuse_negative_extents(FUNCTION, {"x": x, "smoothScalesOptional": smooth_scales, "yOut": y,
                                       "scaleOut": scale})
    if x.dtype not in _X_DTYPES:
        raise Violation(INVALID, FUNCTION, f"x dtype {dtypes.label(x.dtype)} is not supported: expected "
                                           f"{_label_list(_X_DTYPES)}")
    if smooth_scales is not None and smooth_scales.dtype != x.dtype:
        raise Violation(INVALID, FUNCTION, f"smoothScalesOptional dtype {dtypes.label(smooth_scales.dtype)} must "
                                           f"be x's dtype {dtypes.label(x.dtype)}")
    allowed = _output_dtypes(profile)
    if y.dtype not in allowed:
        raise Violation(INVALID, FUNCTION, f"yOut dtype {dtypes.label(y.dtype)} is not supported on this SoC "
                                           f"(profile {profile}): expected {_label_list(allowed)}")
    if scale.dtype != D.ACL_FLOAT:
        raise Violation(INVALID, FUNCTION, f"scaleOut dtype {dtypes.label(scale.dtype)} must be FLOAT")
    _check_shapes(x, smooth_scales, y, scale)
    empty = x.numel == 0 or y.numel == 0 or scale.numel == 0
    return DynamicQuantCall(dtypes.name(x.dtype), dtypes.name(y.dtype), empty)


def _check_shapes(x: TensorDesc, smooth: TensorDesc | None, y: TensorDesc, scale: TensorDesc) -> None:
    if not 2 <= x.ndim <= 8:
        raise Violation(INVALID, FUNCTION, f"x shape {shape_text(x.shape)} must have 2 to 8 dims")
    last = x.shape[-1]
    if smooth is not None and (smooth.ndim != 1 or smooth.shape[0] != last):
        raise Violation(INVALID, FUNCTION, f"smoothScalesOptional shape {shape_text(smooth.shape)} must be "
                                           f"[{last}] (the last dim of x {shape_text(x.shape)})")
    if y.dtype == D.ACL_INT32:
        if y.ndim != x.ndim or y.shape[:-1] != x.shape[:-1] or last != y.shape[-1] * _PACKED_INT4:
            raise Violation(INVALID, FUNCTION, f"yOut shape {shape_text(y.shape)} must be x's shape "
                                               f"{shape_text(x.shape)} with the last dim divided by 8 when yOut "
                                               f"is INT32 (eight int4 values per element)")
    elif y.shape != x.shape:
        raise Violation(INVALID, FUNCTION, f"yOut shape {shape_text(y.shape)} must be x's shape "
                                           f"{shape_text(x.shape)}")
    if y.dtype == D.ACL_INT4 and last % 2:
        raise Violation(INVALID, FUNCTION, f"x's last dim {last} must be even when yOut is INT4")
    if scale.shape != x.shape[:-1]:
        raise Violation(INVALID, FUNCTION, f"scaleOut shape {shape_text(scale.shape)} must be x's shape without "
                                           f"its last dim: {shape_text(x.shape[:-1])}")


def output_descs(x: TensorDesc, y_dtype: int = D.ACL_INT8) -> dict[str, TensorDesc]:
    """The outputs a call implies: ``y_out`` of x's shape (INT32: last dim / 8), ``scale_out`` x's shape
    without its last dim."""
    y_shape = x.shape if y_dtype != D.ACL_INT32 or not x.shape else x.shape[:-1] + (x.shape[-1] // _PACKED_INT4,)
    return {"y_out": TensorDesc.contiguous(y_shape, int(y_dtype)),
            "scale_out": TensorDesc.contiguous(x.shape[:-1], D.ACL_FLOAT)}


def quantize_rows(v: np.ndarray, y_name: str) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric quantization of float32 rows (last axis): (values of ``y_name``'s host type, scale)."""
    limit = np.float32(DTYPE_MAX[y_name])
    peak = np.max(np.abs(v), axis=-1, initial=np.float32(0)).astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(peak > 0, limit / peak, np.float32(0)).astype(np.float32)
    scale = (peak * (np.float32(1) / limit)).astype(np.float32)
    scaled = (v * factor[..., None]).astype(np.float32)
    if y_name in ("int8", "int4", "int32"):  # NaN (an infinite or NaN row) as 0, within range otherwise
        values = np.clip(np.rint(np.nan_to_num(scaled, nan=0.0)), -limit, limit)
        return codecs.from_float32(values, "int4" if y_name == "int32" else y_name), scale
    return codecs.from_float32(scaled, y_name), scale


def dynamic_quant(x: np.ndarray, smooth_scales: np.ndarray | None = None, *, y_dtype: str = "int8",
                  x_dtype: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Golden aclnnDynamicQuant on host arrays: ``(y, scale)``; ``y_dtype`` "int32" packs the int4 results
    eight per int32 along the last axis (CANN's convention for callers without an INT4 type)."""
    x_name = x_dtype or dtypes.name_of(x)
    v = codecs.to_float32(np.asarray(x), x_name)
    if smooth_scales is not None:
        v = v * codecs.to_float32(np.asarray(smooth_scales), x_name)
    y, scale = quantize_rows(v.astype(np.float32), y_dtype)
    if y_dtype == "int32":
        y = codecs.pack_int4_to_int32(y)
    return y, scale


#: The catalogue's entry (ops-nn quant/dynamic_quant: libopapi_nn); outputs default to INT8 y.
OPERATORS = (OperatorRules(
    "aclnnDynamicQuant", "opapi_nn",
    check=lambda *, x, smooth_scales, y_out, scale_out, profile: check(x, smooth_scales, y_out, scale_out, profile),
    outputs=lambda *, x, profile, **_: {} if x is None else output_descs(x)),)
