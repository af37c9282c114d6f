"""aclnnWeightQuantBatchMatmulV2: a matmul whose weight is antiquantized -- rules and golden.

Rules in the order of CANN's op_api (ops-nn matmul/weight_quant_batch_matmul_v2/op_host/op_api/
aclnn_weight_quant_batch_matmul_v2.cpp: ``aclnnWeightQuantBatchMatmulV2GetWorkspaceSize``,
``AclnnWeightQuantBatchMatmulGetWorkspaceSizeCommonProcess``, ``CheckParams``); the code decides
where its doc differs. Atlas A2/A3 are DAV_2201, the Ascend 950 DAV_3510:

1. NULL x, weight, antiquantScale or y: 161001. On the Ascend 950 a quantScaleOptional or
   quantOffsetOptional is refused with 161001 too (``CheckOptionalNotNull``); its weight must be
   ND (``CheckWeightFormat``).
2. Layouts (``ContiguousCheck``): x and weight contiguous or transposed (last two dims swapped);
   antiquantScale/Offset contiguous unless the weight is transposed; y, quantScale, quantOffset
   and bias contiguous (the Ascend 950: x contiguous, not transposed).
3. An INT32 weight (any profile) or FLOAT weight (Ascend 950) holds eight INT4 / FLOAT4_E2M1
   values per element along its storage last axis (``PackedWeightPreProcess``): 2-D only; the
   checks below see the unpacked weight.
4. Dtypes (``CheckDtypeValid``): x FLOAT16/BFLOAT16; weight INT8/INT4 (Ascend 950: also
   FLOAT8_E4M3FN, HIFLOAT8, FLOAT4_E2M1); antiquantScale FLOAT16/BFLOAT16 or UINT64/INT64
   (A2/A3) or FLOAT8_E8M0 (Ascend 950); y FLOAT16/BFLOAT16, INT8 on A2/A3; y INT8 exactly when a
   quantScale is given, else x's dtype. x, weight and y 2-D.
5. Antiquant dtypes (``CheckScaleDtypeValid``): an INT32 antiquantOffset needs a UINT64/INT64
   scale (refused on the Ascend 950); a UINT64/INT64 scale needs x FLOAT16, weight INT8, an INT32
   offset and y FLOAT16; otherwise the scale has x's dtype (FLOAT8_E8M0 aside) and the offset the
   scale's (no offset with 950 FP4/FP8/HiF8 weights).
6. Bias (``CheckBiasDtypeValid``): FLOAT16 with a FLOAT16 x; with a BFLOAT16 x: FLOAT (A2/A3),
   BFLOAT16 (950 FP4/FP8/HiF8 weights), FLOAT or BFLOAT16 (950 otherwise). Formats: x ND, weight
   ND or FRACTAL_NZ, antiquantScale ND, the optional tensors ND; bias 1-2 dims; the scale, offset
   and quant tensors 1-2 dims; a quantOffset needs a quantScale; quantScale UINT64 (INT64 is
   reinterpreted).
7. Shapes: x (m, k), weight (k, n) (logical), y (m, n); m, k, n >= 1; on A2/A3 k, n <= 65535
   (and m when x is transposed); INT4: n even (k when the weight is transposed).
8. antiquantGroupSize 0, or a multiple of 32 in [32, k - 1]. antiquantScale per tensor ([1],
   [1, 1]), per channel ([n], [1, n]) with group size 0, or per group ([ceil(k / g), n]) with
   group size g; antiquantOffset of the scale's shape. FP4 with FLOAT8_E8M0 scales (MX) needs
   g = 32 and no offset. quantScale/quantOffset [1], [n] or [1, n]; bias [n] or [1, n] ([0]: none).
9. INT4 FRACTAL_NZ weights: no quantScale; per group: neither x nor the weight transposed, g 64 or
   128 (A2/A3), k a multiple of g and n of 64 (A2/A3); never per tensor; per channel the weight
   transposed (A2/A3). FP4 weights: per group or MX; FP8/HiF8 weights: per channel only.

Every failure is 161002 unless said otherwise.

Golden (``ANTIQUANT(w) = (w + antiquantOffset) * antiquantScale``, the shared
:mod:`~aclnn_py.semantics.antiquant` arithmetic of the x dtype, as GroupedMatmul's A16 scenarios):
``acc = f32(x @ W~)`` with float32 accumulation, ``v = acc + f32(bias)``; y = v rounded half to
even to x's dtype, or with a quantScale ``y = clamp(rint(v * fp19(quantScale) + quantOffset),
-128, 127)`` as INT8.

Choices where the sources leave it open (UNCONFIRMED):

- A UINT64/INT64 antiquantScale (A2/A3 A16W8 through the FixPipe) decodes as fp19 (bits
  0xFFFFE000 of its low word) and W~ = fp16(f32(w + offset) * fp19(scale)).
- The INT8 output adds quantOffset after the scale in float32 and rounds half to even, then
  saturates; a quantScale packed with an offset (TransQuantParamV2's bits 37-45) does not add it.
- An empty quantScaleOptional ([0]) passes CANN's checks but gives no scale: refused here (161002).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import codecs, dtypes
from .antiquant import along_k, antiquant_weight, logical_weight
from .catalogue import OperatorRules
from .descriptors import FRACTAL_NZ, ND, TensorDesc, refuse_negative_extents, shape_text
from .matmul import float_matmul
from .precision import round_to
from .quant_params import decode_scale
from .status import INVALID, NULLPTR, Violation

__all__ = ["OPERATORS", "WeightQuantCall", "check", "compute", "output_desc", "weight_quant_batch_matmul"]

D = dtypes.DataType
FUNCTION = "aclnnWeightQuantBatchMatmulV2GetWorkspaceSize"
_FLOATS = (D.ACL_FLOAT16, D.ACL_BF16)
_PACKED = (D.ACL_UINT64, D.ACL_INT64)
_WEIGHTS = {"A2": (D.ACL_INT8, D.ACL_INT4), "A3": (D.ACL_INT8, D.ACL_INT4),
            "950": (D.ACL_INT8, D.ACL_INT4, D.ACL_FLOAT8_E4M3FN, D.ACL_HIFLOAT8, D.ACL_FLOAT4_E2M1)}
_SCALES = {"A2": _FLOATS + _PACKED, "A3": _FLOATS + _PACKED, "950": _FLOATS + (D.ACL_FLOAT8_E8M0,)}
_OUTPUTS = {"A2": _FLOATS + (D.ACL_INT8,), "A3": _FLOATS + (D.ACL_INT8,), "950": _FLOATS}
_SMALL_FLOAT_WEIGHTS = (D.ACL_FLOAT4_E2M1, D.ACL_FLOAT8_E4M3FN, D.ACL_HIFLOAT8)
_MAX_DIM = 65535
_GROUP_UNIT = 32
_PER_INT32 = 8


@dataclass(frozen=True)
class WeightQuantCall:
    """A checked call: what the golden needs besides the arrays."""

    x_name: str
    weight_name: str  # the stored dtype ("int32": packed int4, "float32": packed float4_e2m1)
    logical_name: str  # the unpacked weight's dtype
    scale_name: str
    y_name: str
    weight_transposed: bool
    group_size: int  # 0: per tensor / per channel


def _fail(message: str, code: int = INVALID) -> Violation:
    return Violation(code, FUNCTION, message)


def _labels(values) -> str:
    return ", ".join(dtypes.label(v) for v in values)


def _unpacked(weight: TensorDesc, profile: str) -> tuple[int, bool]:
    """The dtype the checks see and whether the weight is packed (rule 3)."""
    if weight.dtype == D.ACL_INT32 or (profile == "950" and weight.dtype == D.ACL_FLOAT):
        if weight.ndim != 2:
            raise _fail(f"weight shape {shape_text(weight.shape)} must have 2 dims")
        return (D.ACL_INT4 if weight.dtype == D.ACL_INT32 else D.ACL_FLOAT4_E2M1), True
    return weight.dtype, False


def _layouts(x: TensorDesc, weight: TensorDesc, scale: TensorDesc, offset: TensorDesc | None, y: TensorDesc,
             optional: dict[str, TensorDesc | None], profile: str) -> bool:
    """Rule 2; returns whether the weight is transposed."""
    x_t = x.is_transposed()
    if profile == "950" and (x_t or not x.is_contiguous()):
        raise _fail("x must be contiguous and not transposed on this SoC (profile 950)")
    if not (x_t or x.is_contiguous()):
        raise _fail("x must be contiguous or a transposed view (its last two dims swapped)")
    w_t = weight.is_transposed()
    if not (w_t or weight.is_contiguous()):
        raise _fail("weight must be contiguous or a transposed view (its last two dims swapped)")
    for what, desc in (("antiquantScale", scale), ("antiquantOffsetOptional", offset)):
        if desc is not None and not w_t and not desc.is_contiguous():
            raise _fail(f"{what} must be contiguous unless the weight is transposed")
    if not y.is_contiguous():
        raise _fail("y must be contiguous")
    for what, desc in optional.items():
        if desc is not None and not desc.is_contiguous():
            raise _fail(f"{what} must be contiguous")
    return w_t


def _dtypes(x: TensorDesc, w_dtype: int, scale: TensorDesc, offset: TensorDesc | None, quant_scale, y: TensorDesc,
            weight: TensorDesc, profile: str) -> None:
    """Rules 4 and 5."""
    for what, value, allowed in (("x", x.dtype, _FLOATS), ("weight", w_dtype, _WEIGHTS[profile]),
                                 ("antiquantScale", scale.dtype, _SCALES[profile]),
                                 ("y", y.dtype, _OUTPUTS[profile])):
        if value not in allowed:
            raise _fail(f"{what} dtype {dtypes.label(value)} is not supported on this SoC (profile {profile}): "
                        f"expected {_labels(allowed)}")
    if quant_scale is not None and y.dtype != D.ACL_INT8:
        raise _fail(f"y dtype {dtypes.label(y.dtype)} must be INT8 when quantScaleOptional is given")
    if quant_scale is None and y.dtype != x.dtype:
        raise _fail(f"y dtype {dtypes.label(y.dtype)} must be x's dtype {dtypes.label(x.dtype)} without "
                    f"quantScaleOptional")
    for what, desc in (("x", x), ("weight", weight), ("y", y)):
        if desc.ndim != 2:
            raise _fail(f"{what} shape {shape_text(desc.shape)} must have 2 dims")
    if offset is not None and offset.dtype == D.ACL_INT32:
        if profile == "950":
            raise _fail("antiquantOffsetOptional dtype INT32 is not supported on this SoC (profile 950): "
                        "expected FLOAT16 or BFLOAT16")
        if scale.dtype not in _PACKED:
            raise _fail(f"antiquantScale dtype {dtypes.label(scale.dtype)} must be UINT64 or INT64 with an "
                        f"INT32 antiquantOffsetOptional")
    if scale.dtype in _PACKED:
        for what, value, want in (("x", x.dtype, D.ACL_FLOAT16), ("weight", w_dtype, D.ACL_INT8),
                                  ("antiquantOffsetOptional", None if offset is None else offset.dtype, D.ACL_INT32),
                                  ("y", y.dtype, D.ACL_FLOAT16)):
            if value is not None and value != want:
                raise _fail(f"{what} dtype {dtypes.label(value)} must be {dtypes.label(want)} with a "
                            f"{dtypes.label(scale.dtype)} antiquantScale")
        return
    if scale.dtype != D.ACL_FLOAT8_E8M0 and scale.dtype != x.dtype:
        raise _fail(f"antiquantScale dtype {dtypes.label(scale.dtype)} must be x's dtype {dtypes.label(x.dtype)}")
    if offset is not None:
        if profile == "950" and w_dtype in _SMALL_FLOAT_WEIGHTS:
            raise _fail(f"antiquantOffsetOptional must be NULL with a {dtypes.label(w_dtype)} weight")
        if offset.dtype != scale.dtype:
            raise _fail(f"antiquantOffsetOptional dtype {dtypes.label(offset.dtype)} must be antiquantScale's "
                        f"dtype {dtypes.label(scale.dtype)}")


def _bias_and_formats(x: TensorDesc, w_dtype: int, weight: TensorDesc, scale: TensorDesc, bias: TensorDesc | None,
                      optional: dict[str, TensorDesc | None], quant_scale, quant_offset, profile: str) -> None:
    """Rule 6."""
    if bias is not None:
        if x.dtype == D.ACL_FLOAT16:
            allowed: tuple[int, ...] = (D.ACL_FLOAT16,)
        elif profile != "950":
            allowed = (D.ACL_FLOAT,)
        elif w_dtype in _SMALL_FLOAT_WEIGHTS:
            allowed = (D.ACL_BF16,)
        else:
            allowed = (D.ACL_FLOAT, D.ACL_BF16)
        if bias.dtype not in allowed:
            raise _fail(f"biasOptional dtype {dtypes.label(bias.dtype)} must be {_labels(allowed)} with a "
                        f"{dtypes.label(x.dtype)} x")
    if x.format == FRACTAL_NZ:
        raise _fail("x format FRACTAL_NZ is not supported: expected ND")
    if weight.format != FRACTAL_NZ and weight.is_private_format:
        raise _fail(f"weight format {dtypes.format_label(weight.format)} is not supported: expected ND or "
                    f"FRACTAL_NZ")
    if scale.format != ND:
        raise _fail(f"antiquantScale format {dtypes.format_label(scale.format)} is not supported: expected ND")
    if bias is not None and bias.format == FRACTAL_NZ:
        raise _fail("biasOptional format FRACTAL_NZ is not supported: expected ND")
    if bias is not None and not 1 <= bias.ndim <= 2:
        raise _fail(f"biasOptional shape {shape_text(bias.shape)} must have 1 or 2 dims")
    for what, desc in optional.items():
        if what == "biasOptional" or desc is None:
            continue
        if desc.format != ND:
            raise _fail(f"{what} format {dtypes.format_label(desc.format)} is not supported: expected ND")
    for what, desc in (("antiquantScale", scale), *optional.items()):
        if what != "biasOptional" and desc is not None and not 1 <= desc.ndim <= 2:
            raise _fail(f"{what} shape {shape_text(desc.shape)} must have 1 or 2 dims")
    if quant_scale is None and quant_offset is not None:
        raise _fail("quantOffsetOptional needs quantScaleOptional")
    if quant_scale is not None and quant_scale.dtype not in _PACKED:
        raise _fail(f"quantScaleOptional dtype {dtypes.label(quant_scale.dtype)} must be UINT64 (or INT64): pack "
                    f"the float scale with aclnnTransQuantParamV2")


def _shapes(x: TensorDesc, k: int, n: int, y: TensorDesc, w_dtype: int, w_t: bool, profile: str) -> None:
    """Rule 7."""
    m, kx = x.shape
    if kx != k:
        raise _fail(f"x's k {kx} (x shape {shape_text(x.shape)}) must equal the weight's k {k}")
    if min(m, k, n) < 1:
        raise _fail(f"m, k and n must be at least 1: m {m}, k {k}, n {n}")
    if profile != "950" and (k > _MAX_DIM or n > _MAX_DIM or (x.is_transposed() and m > _MAX_DIM)):
        raise _fail(f"k and n (and m of a transposed x) must not exceed {_MAX_DIM} on this SoC: m {m}, k {k}, n {n}")
    if w_dtype == D.ACL_INT4 and (k if w_t else n) % 2:
        raise _fail(f"with an INT4 weight {'k' if w_t else 'n'} ({k if w_t else n}) must be even")
    if y.shape != (m, n):
        raise _fail(f"y shape {shape_text(y.shape)} must be [m, n] = {shape_text((m, n))}")


def _antiquant(k: int, n: int, scale: TensorDesc, offset: TensorDesc | None, group: int, w_dtype: int) -> None:
    """Rule 8 (antiquant part)."""
    if group:
        if group < 0 or group % _GROUP_UNIT or group > k - 1:
            raise _fail(f"antiquantGroupSize {group} must be 0 or a multiple of 32 in [32, k - 1] (k = {k})")
    shape = scale.shape
    if scale.ndim == 1 and (group > 0 or shape[0] not in (1, n)):
        raise _fail(f"antiquantScale shape {shape_text(shape)} must be [1] or [{n}] with antiquantGroupSize 0")
    if scale.ndim == 2:
        if group == 0 and (shape[0] != 1 or shape[1] not in (1, n)):
            raise _fail(f"antiquantScale shape {shape_text(shape)} must be [1, {n}] or [1, 1] with "
                        f"antiquantGroupSize 0")
        if group > 0 and shape != (-(-k // group), n):
            raise _fail(f"antiquantScale shape {shape_text(shape)} must be [{-(-k // group)}, {n}] with "
                        f"antiquantGroupSize {group}")
    if offset is not None and offset.shape != shape:
        raise _fail(f"antiquantOffsetOptional shape {shape_text(offset.shape)} must be antiquantScale's "
                    f"{shape_text(shape)}")
    if w_dtype == D.ACL_FLOAT4_E2M1 and scale.dtype == D.ACL_FLOAT8_E8M0:
        if group != _GROUP_UNIT:
            raise _fail(f"antiquantGroupSize {group} must be 32 with FLOAT4_E2M1 weights and FLOAT8_E8M0 scales (MX)")
        if offset is not None:
            raise _fail("antiquantOffsetOptional must be NULL with FLOAT4_E2M1 weights and FLOAT8_E8M0 scales (MX)")


def _quant_and_bias(n: int, quant_scale, quant_offset, bias) -> None:
    """Rule 8 (quantScale, quantOffset and bias shapes)."""
    if quant_scale is not None:
        shape = quant_scale.shape
        if (quant_scale.ndim == 1 and shape[0] not in (0, 1, n)) or (quant_scale.ndim == 2 and shape != (1, n)):
            raise _fail(f"quantScaleOptional shape {shape_text(shape)} must be [1], [{n}] or [1, {n}]")
        if quant_scale.numel == 0:
            raise _fail("an empty quantScaleOptional gives no scale to apply: pass [1] or [n] values "
                        "(this implementation's rule)")
        if quant_offset is not None and quant_offset.shape != shape:
            raise _fail(f"quantOffsetOptional shape {shape_text(quant_offset.shape)} must be quantScaleOptional's "
                        f"{shape_text(shape)}")
    if bias is not None and ((bias.ndim == 1 and bias.shape[0] not in (0, n)) or (bias.ndim == 2 and bias.shape != (1, n))):
        raise _fail(f"biasOptional shape {shape_text(bias.shape)} must be [{n}] or [1, {n}]")


def _special_weights(x: TensorDesc, weight: TensorDesc, w_dtype: int, w_t: bool, k: int, n: int,
                     scale: TensorDesc, quant_scale, quant_offset, group: int, profile: str) -> None:
    """Rule 9."""
    per_tensor = scale.numel == 1
    if w_dtype == D.ACL_INT4 and weight.format == FRACTAL_NZ:
        if quant_scale is not None or quant_offset is not None:
            raise _fail("y must not be INT8 (no quantScaleOptional) with an INT4 FRACTAL_NZ weight")
        if group > 0:
            if x.is_transposed() or w_t:
                raise _fail("with an INT4 FRACTAL_NZ weight and antiquantGroupSize > 0 neither x nor the weight may "
                            "be transposed")
            if profile != "950" and group not in (64, 128):
                raise _fail(f"antiquantGroupSize {group} must be 64 or 128 with an INT4 FRACTAL_NZ weight")
            if profile != "950" and (k % group or n % 64):
                raise _fail(f"with an INT4 FRACTAL_NZ weight k ({k}) must be a multiple of antiquantGroupSize "
                            f"{group} and n ({n}) of 64")
        elif per_tensor:
            raise _fail("an INT4 FRACTAL_NZ weight cannot be antiquantized per tensor")
        elif not w_t and profile != "950":
            raise _fail("an INT4 FRACTAL_NZ weight antiquantized per channel must be transposed")
    if w_dtype == D.ACL_FLOAT4_E2M1 and scale.dtype != D.ACL_FLOAT8_E8M0 and group == 0:
        raise _fail("a FLOAT4_E2M1 weight needs antiquantGroupSize > 0 (per group) or FLOAT8_E8M0 scales (MX)")
    if w_dtype in (D.ACL_FLOAT8_E4M3FN, D.ACL_HIFLOAT8):
        if scale.dtype == D.ACL_FLOAT8_E8M0 or group > 0 or (per_tensor and n != 1):
            raise _fail(f"a {dtypes.label(w_dtype)} weight is antiquantized per channel only (antiquantScale [n] "
                        f"of x's dtype, antiquantGroupSize 0)")


def check(x: TensorDesc | None, weight: TensorDesc | None, antiquant_scale: TensorDesc | None,
          antiquant_offset: TensorDesc | None, quant_scale: TensorDesc | None, quant_offset: TensorDesc | None,
          bias: TensorDesc | None, antiquant_group_size: int, y: TensorDesc | None,
          profile: str = "A2") -> WeightQuantCall:
    """Validate one aclnnWeightQuantBatchMatmulV2 call (Violation: its status and message)."""
    for what, desc in (("x", x), ("weight", weight), ("antiquantScale", antiquant_scale), ("y", y)):
        if desc is None:
            raise _fail(f"{what} must not be a null pointer", NULLPTR)
    assert x is not None and weight is not None and antiquant_scale is not None and y is not None
    if profile == "950" and (quant_scale is not None or quant_offset is not None):
        raise _fail("quantScaleOptional and quantOffsetOptional must be NULL on this SoC (profile 950)", NULLPTR)
    optional = {"quantScaleOptional": quant_scale, "quantOffsetOptional": quant_offset, "biasOptional": bias}
    refuse_negative_extents(FUNCTION, {"x": x, "weight": weight, "antiquantScale": antiquant_scale,
                                       "antiquantOffsetOptional": antiquant_offset, **optional, "y": y})
    if profile == "950" and weight.format != ND:
        raise _fail(f"weight format {dtypes.format_label(weight.format)} is not supported on this SoC "
                    f"(profile 950): expected ND (aclnnWeightQuantBatchMatmulNz takes FRACTAL_NZ weights)")
    w_t = _layouts(x, weight, antiquant_scale, antiquant_offset, y, optional, profile)
    w_dtype, packed = _unpacked(weight, profile)
    _dtypes(x, w_dtype, antiquant_scale, antiquant_offset, quant_scale, y, weight, profile)
    _bias_and_formats(x, w_dtype, weight, antiquant_scale, bias, optional, quant_scale, quant_offset, profile)
    k, n = weight.shape
    if packed:
        k, n = (k * _PER_INT32, n) if w_t else (k, n * _PER_INT32)
    _shapes(x, k, n, y, w_dtype, w_t, profile)
    _antiquant(k, n, antiquant_scale, antiquant_offset, antiquant_group_size, w_dtype)
    _quant_and_bias(n, quant_scale, quant_offset, bias)
    _special_weights(x, weight, w_dtype, w_t, k, n, antiquant_scale, quant_scale, quant_offset,
                     antiquant_group_size, profile)
    return WeightQuantCall(x_name=dtypes.name(x.dtype), weight_name=dtypes.name(weight.dtype),
                           logical_name=dtypes.name(w_dtype), scale_name=dtypes.name(antiquant_scale.dtype),
                           y_name=dtypes.name(y.dtype), weight_transposed=w_t, group_size=antiquant_group_size)


def output_desc(x: TensorDesc, weight: TensorDesc, quant_scale: TensorDesc | None) -> TensorDesc:
    """The ``y`` a call implies: [m, n] of x's dtype (INT8 with a quantScale); n from the weight's
    logical shape (a packed INT32 weight holds eight values per element)."""
    n = weight.shape[-1] if weight.ndim else 0
    if weight.dtype == D.ACL_INT32 and not weight.is_transposed():
        n *= _PER_INT32
    m = x.shape[-2] if x.ndim >= 2 else 0
    return TensorDesc.contiguous((m, n), D.ACL_INT8 if quant_scale is not None else x.dtype)


def compute(call: WeightQuantCall, x: np.ndarray, weight: np.ndarray, antiquant_scale: np.ndarray,
            antiquant_offset: np.ndarray | None = None, quant_scale: np.ndarray | None = None,
            quant_offset: np.ndarray | None = None, bias: np.ndarray | None = None) -> np.ndarray:
    """y of a checked call on host arrays (the logical x [m, k] and weight, as stored: packed INT32 /
    FLOAT weights unpacked here)."""
    w = logical_weight(weight, call.weight_name, call.weight_transposed, nibble=call.logical_name)
    w32 = codecs.to_float32(w, call.logical_name)
    group = call.group_size or None
    if call.scale_name in ("uint64", "int64"):  # FixPipe antiquant (UNCONFIRMED, module doc)
        k = w32.shape[0]
        v = w32 if antiquant_offset is None else w32 + along_k(np.asarray(antiquant_offset), k).astype(np.float32)
        w_tilde = (v * along_k(decode_scale(np.asarray(antiquant_scale)), k)).astype(np.float16)
    else:
        w_tilde = antiquant_weight(w32, np.asarray(antiquant_scale), antiquant_offset, call.x_name, group,
                                   call.scale_name)
    v = float_matmul(codecs.to_float32(x, call.x_name), w_tilde)
    if bias is not None and np.size(bias):
        v = v + codecs.to_float32(np.asarray(bias)).reshape(1, -1)
    if call.y_name != "int8":
        return round_to(v, call.y_name)
    q = v * decode_scale(np.asarray(quant_scale)).reshape(1, -1)
    if quant_offset is not None:
        q = q + codecs.to_float32(np.asarray(quant_offset)).reshape(1, -1)
    return np.clip(np.rint(np.nan_to_num(q, nan=0.0)), -128, 127).astype(np.int8)


def weight_quant_batch_matmul(x: np.ndarray, weight: np.ndarray, antiquant_scale: np.ndarray,
                              antiquant_offset: np.ndarray | None = None, *, quant_scale: np.ndarray | None = None,
                              quant_offset: np.ndarray | None = None, bias: np.ndarray | None = None,
                              antiquant_group_size: int = 0, weight_transposed: bool = False,
                              weight_dtype: str | None = None, scale_dtype: str | None = None) -> np.ndarray:
    """Golden aclnnWeightQuantBatchMatmulV2 on host arrays (logical x [m, k], weight [k, n] as stored:
    ``weight_dtype`` "int32" for eight packed int4 per element, ``weight_transposed`` when the stored
    weight is [n, k]; ``scale_dtype`` names a scale dtype its array does not say (float8_e8m0 codes))."""
    x = np.asarray(x)
    weight = np.asarray(weight)
    w_name = weight_dtype or dtypes.name_of(weight)
    logical = {"int32": "int4"}.get(w_name, w_name)
    s_name = scale_dtype or dtypes.name_of(np.asarray(antiquant_scale))
    call = WeightQuantCall(dtypes.name_of(x), w_name, logical, s_name, "int8" if quant_scale is not None
                           else dtypes.name_of(x), weight_transposed, antiquant_group_size)
    if weight_transposed:
        weight = np.swapaxes(weight, -1, -2)
    return compute(call, x, weight, antiquant_scale, antiquant_offset, quant_scale, quant_offset, bias)


#: The catalogue's entry (ops-nn matmul/weight_quant_batch_matmul_v2: libopapi_nn); ``y`` (``const`` in the
#: header) is its output, inferred when not given.
OPERATORS = (OperatorRules(
    "aclnnWeightQuantBatchMatmulV2", "opapi_nn", written=("y",),
    check=lambda *, profile, **arguments: check(**arguments, profile=profile),
    outputs=lambda *, x, weight, quant_scale, profile, **_: {} if x is None or weight is None
    else {"y": output_desc(x, weight, quant_scale)}),)
