"""Argument rules of the unquantized entry points of the MatmulAllReduce family.

:func:`check` validates one GetWorkspaceSize call of aclnnMatmulAllReduce (V1, V2, V3: kind
``float``) or aclnnWeightQuantMatmulAllReduce (V1, V2: kind ``weight``) in CANN's order and returns
its :class:`~.call.QuantMatmulAllReduceCall` (:func:`~.call.classify_unquantized`); failures raise
:class:`~aclnn_py.semantics.status.Violation`. The stages the family shares are :mod:`.checks`'.

Sources (ops-transformer 5778144076de, 2026-08; the code decides where the documents differ):
``mc2/matmul_all_reduce/op_api/matmul_all_reduce_util.cpp`` (``MatmulAllReduceCheckParams``),
``aclnn_matmul_all_reduce_v3.cpp``, ``aclnn_weight_quant_matmul_all_reduce.cpp`` and ``_v2.cpp``
(``CheckParams``), the op definition ``op_host/matmul_all_reduce_def.cpp`` (what nnopbase accepts
per SoC) and the tiling ``op_host/op_tiling/`` (561002).

MatmulAllReduce V1-V3 (``float``):

0. SoC: Atlas A2 and Ascend 950; Atlas A3 361001 (:func:`~.checks.check_profile`).
1. 161001: x1, x2, output; a null reduceOp (:func:`~.checks.check_required`).
2. 161002 dtypes: x1, x2, output (and bias, x3 when given) FLOAT16 or BFLOAT16, all of x1's
   dtype (``MatmulAllReduceCheckDtypeValid``).
3. 161002 attributes: reduceOp "sum" (strcmp), streamMode 1.
4. 161002 formats: x2 FRACTAL_NZ is refused (``MatmulAllReduceCheckFormat`` for a 4-D NZ
   storage; any other NZ x2 the op definition refuses: ND only), the others ND.
5. 161002 shapes (:func:`~.checks.check_shapes`); empty tensors are taken: k = 0 gives
   AllReduce(bias + x3), an empty output computes and communicates nothing.
6. V3: commMode (:func:`~.checks.check_comm_mode`).
7. 561002 (tiling, ``MatmulAllReduceTiling910`` / ``MatmulAllReduceTilingA5``): commTurn 0, m,
   k, n at most INT32_MAX, the communicator's rank count.

WeightQuantMatmulAllReduce V1, V2 (``weight``):

1. 161001: x1, x2, antiquantScale, output; a null reduceOp.
2. 161002 dtypes: x1, antiquantScale, output FLOAT16 or BFLOAT16 of one dtype; x2 INT8 or
   INT4 (Ascend 950 also FLOAT8_E4M3FN, HIFLOAT8); bias, antiquantOffset, x3 of x1's dtype.
3. 161002 attributes: reduceOp "sum" (strcmp), streamMode 1, antiquantGroupSize 0 or a
   multiple of 32 in [32, k - 1] (not checked when k = 0).
4. 161002 formats: an INT8 FRACTAL_NZ x2 (the op definition has no other NZ weight), the
   others ND.
5. 161002 shapes: :func:`~.checks.check_shapes` (no empty output), then unless k = 0:
   antiquantScale [1] (per tensor), [n] or [1, n] (per channel) with antiquantGroupSize 0,
   [ceil(k / antiquantGroupSize), n] (per group) otherwise; antiquantOffset antiquantScale's
   shape (``CheckShape``, ``IsAntiquantScaleShapeValid``). Upstream skips these for an NZ x2
   with a 4-D storage; they are checked here as for ND (never less safely).
6. 161002 layouts: on Atlas A2 a non-empty call's antiquantScale and antiquantOffset are
   contiguous or transposed views (``MatmulAllReduceCheckValidContiguous``); on Atlas A2 and
   Ascend 950 a 2-D antiquantScale/antiquantOffset with both dims above 1 is transposed exactly
   when x2 is (``ContiguousCheckImpl::CheckContiguous``).
7. V2: commMode.
8. 561002 (tiling, ``WeightQuantMatmulAllReduceTiling`` / ``...TilingA5``, ``CheckA16W8``):
   commTurn 0, m at most INT32_MAX, k and n at most 65535, no empty bias, x3, antiquantScale or
   antiquantOffset, the rank count; on
   Ascend 950: no FRACTAL_NZ x2 (both of its tiling paths refuse it), FLOAT8_E4M3FN/HIFLOAT8
   weights per channel only and without antiquantOffset, per-group INT8 weights with k and n
   multiples of 32, INT4 of 64.
"""
from __future__ import annotations

from .. import dtypes
from ..descriptors import TensorDesc, refuse_negative_extents, shape_text
from ..status import INVALID, TILING
from .call import QuantMatmulAllReduceCall, Signature, classify_unquantized
from .checks import (check_attributes, check_comm_mode, check_comm_turn, check_formats, check_profile,
                     check_rank_count, check_required, check_shapes, dtype_in, error)

__all__ = ["check", "output_dtype"]

FLOATS = ("float16", "bfloat16")
#: The weight dtypes per profile (CheckDtypeValid: DTYPE_SUPPORT_LIST_QUANT, dtypeSupportListQuantA5).
WEIGHTS = {"A2": ("int8", "int4"), "950": ("int8", "int4", "float8_e4m3fn", "hifloat8")}
FP8_WEIGHTS = ("float8_e4m3fn", "hifloat8")
GROUP_ALIGN = {"int8": 32, "int4": 64}  # Ascend 950 per-group k and n (CheckAxisSize)
MAX_DIM = 2**31 - 1
MAX_WEIGHT_DIM = 65535


def output_dtype(x1: TensorDesc, out_dtype: int | None = None) -> int:
    """The output dtype a call implies: ``out_dtype`` when given, else x1's (both kinds' rule)."""
    return x1.dtype if out_dtype is None else int(out_dtype)


def check(*, x1: TensorDesc | None, x2: TensorDesc | None, output: TensorDesc | None, reduce_op: str | None,
          signature: Signature, bias: TensorDesc | None = None, x3: TensorDesc | None = None,
          antiquant_scale: TensorDesc | None = None, antiquant_offset: TensorDesc | None = None,
          comm_mode: str | None = None, comm_turn: int = 0, stream_mode: int = 1, antiquant_group_size: int = 0,
          profile: str = "A2", rank_size: int | None = None) -> QuantMatmulAllReduceCall:
    """Validate one call of ``signature`` (a float or weight entry point), in canonical arguments.

    ``comm_mode`` is checked for an entry point whose header has it; ``rank_size`` (the
    communicator size) when given.
    """
    sig = signature
    weight = sig.kind == "weight"
    check_profile(profile, sig)
    check_required(sig, {"x1": x1, "x2": x2, "output": output, "antiquant_scale": antiquant_scale}, reduce_op)
    assert x1 is not None and x2 is not None and output is not None
    refuse_negative_extents(sig.function, {sig.label(key): desc for key, desc in (
        ("x1", x1), ("x2", x2), ("bias", bias), ("x3", x3), ("antiquant_scale", antiquant_scale),
        ("antiquant_offset", antiquant_offset), ("output", output)) if sig.has(key)})
    if weight:
        assert antiquant_scale is not None
        _weight_dtypes(sig, profile, x1, x2, output, bias, x3, antiquant_scale, antiquant_offset)
        check_attributes(sig, reduce_op, stream_mode)
        _group_size(sig, x1, antiquant_group_size)
    else:
        _float_dtypes(sig, x1, x2, output, bias, x3)
        check_attributes(sig, reduce_op, stream_mode)
        if x2.is_private_format:
            raise error(sig, INVALID, f"x2 format {dtypes.format_label(x2.format)} is not supported: {sig.op} takes "
                                      f"an ND x2")
    check_formats(sig, {"output": output, "bias": bias, "x3": x3, "antiquant_scale": antiquant_scale,
                        "antiquant_offset": antiquant_offset})
    check_shapes(sig, profile, x1, x2, output, bias, x3)
    call = classify_unquantized(sig.kind, x1=x1, x2=x2, output=output, antiquant_group_size=antiquant_group_size)
    if weight:
        assert antiquant_scale is not None
        _antiquant_shapes(sig, call, antiquant_scale, antiquant_offset)
        _antiquant_layouts(sig, profile, x1, x2, antiquant_scale, antiquant_offset)
    if sig.has("comm_mode"):
        check_comm_mode(sig, comm_mode, profile)
    # -- 561002 tiling-level rules
    check_comm_turn(sig, comm_turn)
    limit = MAX_WEIGHT_DIM if weight else MAX_DIM
    for axis, value, bound in (("m", call.m, MAX_DIM), ("k", call.k, limit), ("n", call.n, limit)):
        if value > bound:
            raise error(sig, TILING, f"{axis} = {value} exceeds the limit {bound}")
    if weight:
        _weight_tiling(sig, profile, call, x2, {"bias": bias, "x3": x3, "antiquant_scale": antiquant_scale,
                                                "antiquant_offset": antiquant_offset})
    if rank_size is not None:
        check_rank_count(profile, rank_size, sig)
    return call


# --------------------------------------------------------------------------- 161002 (aclnn level)

def _same_dtype(sig: Signature, desc: TensorDesc, key: str, like: TensorDesc, like_key: str) -> None:
    if desc.dtype != like.dtype:
        raise error(sig, INVALID, f"{sig.label(key)} dtype {dtypes.label(desc.dtype)} must equal {sig.label(like_key)} "
                                  f"dtype {dtypes.label(like.dtype)}")


def _float_dtypes(sig: Signature, x1: TensorDesc, x2: TensorDesc, output: TensorDesc, bias: TensorDesc | None,
                  x3: TensorDesc | None) -> None:
    """MatmulAllReduceCheckDtypeValid: each in FLOAT16/BFLOAT16, then x3, x2, output, bias equal to x1."""
    for key, desc in (("x1", x1), ("x2", x2), ("output", output), ("bias", bias), ("x3", x3)):
        if desc is not None:
            dtype_in(sig, desc, key, FLOATS)
    for key, desc in (("x3", x3), ("x2", x2), ("output", output), ("bias", bias)):
        if desc is not None:
            _same_dtype(sig, desc, key, x1, "x1")


def _weight_dtypes(sig: Signature, profile: str, x1: TensorDesc, x2: TensorDesc, output: TensorDesc,
                   bias: TensorDesc | None, x3: TensorDesc | None, scale: TensorDesc,
                   offset: TensorDesc | None) -> None:
    """CheckDtypeValid of WeightQuantMatmulAllReduce (V1 and V2), in its order."""
    suffix = "" if profile == "950" else " on Atlas A2"
    dtype_in(sig, x1, "x1", FLOATS)
    dtype_in(sig, x2, "x2", WEIGHTS[profile], suffix)
    dtype_in(sig, scale, "antiquant_scale", FLOATS)
    dtype_in(sig, output, "output", FLOATS)
    _same_dtype(sig, scale, "antiquant_scale", x1, "x1")
    _same_dtype(sig, output, "output", x1, "x1")
    for key, desc, like, like_key in (("bias", bias, x1, "x1"), ("antiquant_offset", offset, scale, "antiquant_scale"),
                                      ("x3", x3, x1, "x1")):
        if desc is not None:
            dtype_in(sig, desc, key, FLOATS)
            _same_dtype(sig, desc, key, like, like_key)


def _group_size(sig: Signature, x1: TensorDesc, group_size: int) -> None:
    """antiquantGroupSize 0, or a multiple of 32 in [32, min(k - 1, INT32_MAX)]; not checked for
    k = 0 (CheckAttr; an x1 of no dim is the shape stage's to refuse)."""
    k = x1.shape[-1] if x1.ndim else 0
    if k == 0 or group_size == 0:
        return
    if group_size % 32 or not 32 <= group_size <= min(k - 1, MAX_DIM):
        raise error(sig, INVALID, f"antiquantGroupSize {group_size} is not supported: expected 0 or a multiple of "
                                  f"32 in [32, {min(k - 1, MAX_DIM)}] (k - 1 = {k - 1})")


def _antiquant_shapes(sig: Signature, call: QuantMatmulAllReduceCall, scale: TensorDesc,
                      offset: TensorDesc | None) -> None:
    """antiquantScale per tensor, per channel or per group (IsAntiquantScaleShapeValid), antiquantOffset
    its shape; nothing for k = 0."""
    if call.k == 0:
        return
    n, g = call.n, call.antiquant_group_size
    label = sig.label("antiquant_scale")
    if scale.ndim not in (1, 2):
        raise error(sig, INVALID, f"{label} must be 1-D or 2-D, got shape {shape_text(scale.shape)}")
    if g == 0:
        allowed: tuple[tuple[int, ...], ...] = ((1,), (n,), (1, n))
        rule = f"[1] (per tensor), [{n}] or [1, {n}] (per channel)"
    else:
        allowed = ((-(-call.k // g), n),)
        rule = f"[{allowed[0][0]}, {n}] (per group of {g} rows of k = {call.k})"
    if scale.shape not in allowed:
        raise error(sig, INVALID, f"{label} shape {shape_text(scale.shape)} is not supported: expected {rule}")
    if offset is not None and offset.shape != scale.shape:
        raise error(sig, INVALID, f"{sig.label('antiquant_offset')} shape {shape_text(offset.shape)} must equal "
                                  f"{label} shape {shape_text(scale.shape)}")


def _antiquant_layouts(sig: Signature, profile: str, x1: TensorDesc, x2: TensorDesc, scale: TensorDesc,
                       offset: TensorDesc | None) -> None:
    """Atlas A2: contiguous or transposed antiquant tensors (a non-empty call); both profiles: a
    2-D one with both dims above 1 transposed exactly when x2 is."""
    transposed = x2.is_transposed()
    for key, desc in (("antiquant_scale", scale), ("antiquant_offset", offset)):
        if desc is None:
            continue
        if profile == "A2" and x1.numel and x2.numel and not (desc.is_contiguous() or desc.is_transposed()):
            raise error(sig, INVALID, f"{sig.label(key)} must be contiguous or a transposed view of the last two dims")
        if desc.ndim == 2 and 1 not in desc.shape and desc.is_contiguous() == transposed:
            how = "transposed (x2 is a transposed view)" if transposed else "contiguous (x2 is not transposed)"
            raise error(sig, INVALID, f"{sig.label(key)} must be {how}: a per-group scale follows x2's layout")


# --------------------------------------------------------------------------- 561002 (tiling)

def _weight_tiling(sig: Signature, profile: str, call: QuantMatmulAllReduceCall, x2: TensorDesc,
                   optional: dict[str, TensorDesc | None]) -> None:
    for key, desc in optional.items():
        if desc is not None and desc.numel == 0:
            raise error(sig, TILING, f"{sig.label(key)} is empty (shape {shape_text(desc.shape)}): empty tensors "
                                     f"are not supported")
    scale = optional["antiquant_scale"]
    assert scale is not None
    per_tensor = scale.numel == 1  # with antiquantGroupSize 0: the shape stage allows [1] only then
    g = call.antiquant_group_size
    if profile != "950" or call.k == 0:
        return
    w = call.x2_dtype
    if x2.is_nz:
        raise error(sig, TILING, "x2 in FRACTAL_NZ format is not supported on Ascend 950: "
                                 f"{sig.op} takes an ND x2 there")
    if w in FP8_WEIGHTS:
        if optional["antiquant_offset"] is not None:
            raise error(sig, TILING, f"{sig.label('antiquant_offset')} must be null for a {dtypes.label(x2.dtype)} x2")
        if per_tensor or g:
            raise error(sig, TILING, f"a {dtypes.label(x2.dtype)} x2 takes a per-channel "
                                     f"{sig.label('antiquant_scale')} only ([n] or [1, n], antiquantGroupSize 0)")
    elif g:
        align = GROUP_ALIGN[w]
        if call.k % align or call.n % align:
            raise error(sig, TILING, f"per-group {dtypes.label(x2.dtype)} x2 needs k and n multiples of {align} on "
                                     f"Ascend 950, got k = {call.k}, n = {call.n}")
