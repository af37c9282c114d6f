"""Argument rules of aclnnQuantMatmulAllReduce (V1), V2, V3, V4 and V5 GetWorkspaceSize, and the
catalogue's entries of the whole MatmulAllReduce family (:data:`OPERATORS`; the unquantized entry
points' rules: :mod:`.unquantized_rules`).

:func:`check` validates one call in CANN's order, in the canonical arguments of
:mod:`.call` (the :class:`~.call.Signature` of the entry point names the
parameters in messages: the header name without the ``Optional`` suffix, as V4 has
always done: ``x1Scale``, ``pertokenScale``, ``dequantScale``, ``bias``), and
returns the call's :class:`~.call.QuantMatmulAllReduceCall`, which the binding and the mock
share. Failures raise :class:`~aclnn_py.semantics.status.Violation`.

V4 (CANN's document aclnnQuantMatmulAllReduceV4.md, ops-transformer mc2/matmul_all_reduce/docs/:
its parameter table, its dtype combinations per product and its constraints, 约束说明):

0. SoC: the operator exists on Atlas A2 and Ascend 950 only. Atlas A3 is
   rejected with 361001 ACLNN_ERR_RUNTIME_ERROR (our choice: the doc only says
   "not supported"; 361001 is what CANN returns for an unsupported SoC elsewhere,
   e.g. aclnnCalculateMatmulWeightSizeV2).
1. 161001 null pointers: x1, x2, x2Scale, output, reduceOp.
2. 161002 dtypes (aclnn level), including the Atlas A2 profile rejecting the
   Ascend 950 input types (FP8/HiF8/FP4 x1/x2, FLOAT8_E8M0 scales), and
   formats: every tensor but x2 is ND (a FRACTAL_NZ output, scale, bias or x3
   is 161002; the doc lists ND for all of them).
3. 161002 attributes: reduceOp (first 3 chars must be "sum"), streamMode == 1.
4. 161002 shapes: x1 2-D/3-D contiguous ND, x2 2-D (ND contiguous, transposed
   view, or an INT8 FRACTAL_NZ weight), k equal, output = x1[:-1] + (n,), bias
   (n,), x3 = output shape, no empty x1/x2/output.
5. 561002 ACLNN_ERR_INNER_TILING_ERROR (tiling stage; exact code UNCONFIRMED in
   the sources, 561002 chosen): the per-mode scale dtype/shape combinations,
   groupSize, commTurn, commQuantMode, commQuantScale pairing and shapes, size
   limits, empty optional tensors and the communicator's rank count (Atlas A2:
   1/2/4/8; Ascend 950: 1, 2, 4, ... 64). commQuantMode 1 (per-tile FP8
   communication) is 950-only.

V1, V2, V3 (their own documents and aclnn layer, ops-transformer mc2/matmul_all_reduce):
the same stages with these differences --

- x1/x2 INT8 only; bias INT32 only; pertokenScale FLOAT32 only; dequantScale
  INT64/UINT64/FLOAT32/BFLOAT16, at 161002 (V1's document lists no FLOAT32, the
  code shares V2's list with V1 and decides: :data:`.call.V1`);
- FLOAT16 output with a pertokenScale needs a FLOAT32 dequantScale: 161002
  (aclnn level; V4 leaves it to tiling);
- reduceOp must equal "sum" (strcmp, not V4's 3-character prefix);
- the scale shapes (dequantScale [1], [n] or [1, n]; pertokenScale [m]) and,
  for V3, the commQuantScale pairing and shapes are checked at aclnn level:
  161002 (V4: 561002);
- a null reduceOp is 161001 as for V4 (CANN's V1-V3 would pass it to strcmp;
  our choice: never crash);
- products: Atlas A2 and Ascend 950 (the 2026 documents list 950 for all three;
  rank counts as V4), Atlas A3 rejected with 361001 as V4 (UNCONFIRMED code);
- a FRACTAL_NZ x2 is accepted on Atlas A2 (documented) and rejected with 161002
  on Ascend 950, where the V1-V3 documents allow ND only (UNCONFIRMED stage and
  code: no check of it was found in the aclnn layer, whose format checks fail
  with 161002). CANN's aclnn layer skips every shape check after x1's rank for
  an x2 with a 4-D FRACTAL_NZ storage; here an NZ call is checked as V4 checks
  it (:func:`_check_nz_x2`: the storage shape is not matched against the view,
  as upstream; k, output, bias, x3 and scale shapes are), never less safely;
- V3's "x3Optional only with BFLOAT16 output" wording is not enforced (as for
  V4); the tiling-stage rules (limits, commTurn, empty optional tensors, the
  UINT64/INT64 dequantScale of FLOAT16 output without pertokenScale, rank count)
  are V4's, with 561002.

Every rank and shape is checked before it is indexed: FLOAT32 scales are either
pertoken (1-D x1Scale) or perblock (x1Scale and x2Scale >= 2-D); any other pair
(a 0-d x1Scale, say) is 561002.

V5 (aclnn_quant_matmul_all_reduce_v5.cpp, CheckParams): V4's checks, then commMode
(:func:`~.checks.check_comm_mode`: "ai_cpu" or NULL on Atlas A2, "ai_cpu" or "ccu" on Ascend
950, else 161002) before the tiling-stage rules. The engine changes how the AllReduce travels,
not its result.

Choices for V4: formula 5 (FP8/HiF8 with a packed UINT64 scale) accepts FLOAT32
output (formula text) although the dtype table lists FLOAT16/BFLOAT16 only;
groupSize must be 0 unless both scales are >= 2-D (the doc's "其他场景需传入0");
the "x3 only with BFLOAT16 output" wording of the low-bit int8 path is not
enforced.
"""
from __future__ import annotations

from functools import partial

from .. import dtypes
from ..catalogue import OperatorRules
from ..descriptors import TensorDesc, refuse_negative_extents, shape_text
from ..status import INVALID, TILING, ArgumentError
from . import unquantized_rules
from .call import (MATMUL, MATMUL_V2, MATMUL_V3, MX_GROUPS, PERBLOCK_GROUPS, SIGNATURES, WEIGHT_QUANT,
                   WEIGHT_QUANT_V2, QuantMatmulAllReduceCall, Signature, V1, V2, V3, V4, V5, classify)
from .checks import (allowed_rank_counts, canonical_x2, check_attributes, check_comm_mode, check_comm_turn,
                     check_formats, check_profile, check_rank_count, check_required, check_shapes, dtype_in,
                     dtype_label, dtype_labels, dtype_name, error)

__all__ = ["MATMUL", "MATMUL_V2", "MATMUL_V3", "QuantMatmulAllReduceCall", "Signature", "V1", "V2", "V3", "V4", "V5",
           "WEIGHT_QUANT", "WEIGHT_QUANT_V2", "allowed_rank_counts",
           "canonical_x2", "check", "check_comm_quant_mode", "check_comm_quant_scales", "check_profile",
           "check_entry", "check_rank_count", "output_desc", "output_desc_of", "output_dtype", "OPERATORS"]

#: Atlas A2 takes V4's INT8 subset: the Ascend 950 types are 161002 there.
A2_ONLY = {"x1": ("int8",), "x2": ("int8",), "x2_scale": ("uint64", "int64", "bfloat16", "float32"),
           "x1_scale": ("float32",)}
INT8_OUTPUTS = ("float16", "bfloat16")
FLOAT_OUTPUTS = ("float16", "bfloat16", "float32")
COMM_SCALE_DTYPES = ("float16", "bfloat16")
FP8_COMM_DTYPES = ("float8_e4m3fn", "float8_e5m2")  # commQuantMode 1 (per-tile FP8 communication)
#: Tiling: the bias dtype (and how the message names it) for INT8 x1 (True) and the 8/4-bit floats.
TILING_BIAS = {True: ("int32", "INT32"), False: ("float32", "FLOAT32")}
#: Tiling: the x2Scale dtypes of INT8 x1 with FLOAT16 output, with (True) and without an x1Scale.
INT8_FP16_X2_SCALES = {True: ("float32",), False: ("uint64", "int64")}
PACKED_SCALES = ("uint64", "int64")
MAX_K = 65535
MAX_M = 2**31 - 1


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


def check(*, x1: TensorDesc | None, x2: TensorDesc | None, x2_scale: TensorDesc | None,
          output: TensorDesc | None, reduce_op: str | None, bias: TensorDesc | None = None,
          x3: TensorDesc | None = None, x1_scale: TensorDesc | None = None,
          comm_quant_scale_1: TensorDesc | None = None,
          comm_quant_scale_2: TensorDesc | None = None, comm_turn: int = 0,
          stream_mode: int = 1, group_size: int = 0, comm_quant_mode: int = 0,
          comm_mode: str | None = None, profile: str = "A2", rank_size: int | None = None,
          signature: Signature = V4) -> QuantMatmulAllReduceCall:
    """Validate one GetWorkspaceSize call of ``signature`` (V4 unless told), in canonical arguments.

    Raises :class:`~aclnn_py.semantics.status.Violation` (361001 Atlas A3, 161001/161002,
    561002); returns the call's :class:`~.call.QuantMatmulAllReduceCall` otherwise.
    ``rank_size`` (the communicator size) is checked when given; ``comm_mode`` only for an
    entry point whose header has it (V5).
    """
    sig = signature
    check_profile(profile, sig)
    check_required(sig, {"x1": x1, "x2": x2, "x2_scale": x2_scale, "output": output}, reduce_op)
    assert x1 is not None and x2 is not None and x2_scale is not None and output is not None
    refuse_negative_extents(sig.function, {sig.label(key): desc for key, desc in (
        ("x1", x1), ("x2", x2), ("bias", bias), ("x3", x3), ("x1_scale", x1_scale), ("x2_scale", x2_scale),
        ("comm_quant_scale_1", comm_quant_scale_1), ("comm_quant_scale_2", comm_quant_scale_2),
        ("output", output))})

    _check_dtypes(sig, profile, x1, x2, x2_scale, output, bias, x3, x1_scale,
                  comm_quant_scale_1, comm_quant_scale_2)
    check_formats(sig, {"x2_scale": x2_scale, "output": output, "bias": bias, "x3": x3, "x1_scale": x1_scale,
                         "comm_quant_scale_1": comm_quant_scale_1, "comm_quant_scale_2": comm_quant_scale_2})
    check_attributes(sig, reduce_op, stream_mode)
    check_shapes(sig, profile, x1, x2, output, bias, x3)
    if sig.has("comm_mode"):
        check_comm_mode(sig, comm_mode, profile)
    call = classify(x1=x1, x2=x2, x2_scale=x2_scale, output=output, x1_scale=x1_scale,
                    comm_quant_scale_1=comm_quant_scale_1, comm_quant_scale_2=comm_quant_scale_2,
                    group_size=group_size, comm_quant_mode=comm_quant_mode)
    if sig.legacy_checks:  # V1-V3 check the scale shapes in the aclnn layer
        _per_channel(sig, x2_scale, call.n, INVALID)
        if x1_scale is not None:
            _per_token(sig, x1_scale, call.m, INVALID)
        check_comm_quant_scales(comm_quant_scale_1, comm_quant_scale_2, call.n, sig, INVALID)

    # -- 561002 tiling-level rules
    _check_limits(sig, call, x1, x2, {"bias": bias, "x3": x3, "x1_scale": x1_scale, "x2_scale": x2_scale,
                                      "comm_quant_scale_1": comm_quant_scale_1,
                                      "comm_quant_scale_2": comm_quant_scale_2})
    check_comm_turn(sig, comm_turn)
    check_comm_quant_mode(call.x_dtype, comm_quant_mode, profile, sig)
    if call.has_comm_quant_scales:
        pair = f"{sig.label('comm_quant_scale_1')}/{sig.label('comm_quant_scale_2')}"
        if call.x_dtype != "int8":
            raise error(sig, TILING, f"{pair} (low-bit communication) are only supported for INT8 x1")
        if comm_quant_mode != 0:
            raise error(sig, TILING, f"{pair} need commQuantMode 0")
    check_comm_quant_scales(comm_quant_scale_1, comm_quant_scale_2, call.n, sig, TILING)
    _check_quantization(sig, call, x1=x1, x2_scale=x2_scale, x1_scale=x1_scale, bias=bias, output=output,
                        group_size=group_size)
    if rank_size is not None:
        check_rank_count(profile, rank_size, sig)
    return call


# --------------------------------------------------------------------------- 161002 (aclnn level)

def _check_input_dtypes(sig: Signature, profile: str, x1: TensorDesc, x2: TensorDesc, x2_scale: TensorDesc) -> None:
    """161002: the dtypes of x1, x2 and x2Scale (the first of the dtype stage's checks)."""
    suffix = " on Atlas A2"
    dtype_in(sig, x1, "x1", sig.x_dtypes)
    dtype_in(sig, x2, "x2", sig.x_dtypes)
    if profile == "A2":
        dtype_in(sig, x1, "x1", A2_ONLY["x1"], suffix)
        dtype_in(sig, x2, "x2", A2_ONLY["x2"], suffix)
    dtype_in(sig, x2_scale, "x2_scale", sig.x2_scale_dtypes)
    if profile == "A2":
        dtype_in(sig, x2_scale, "x2_scale", A2_ONLY["x2_scale"], suffix)


def output_dtype(x1: TensorDesc, x2: TensorDesc, x2_scale: TensorDesc, *, x1_scale: TensorDesc | None = None,
                 x3: TensorDesc | None = None, comm_quant_scale_1: TensorDesc | None = None,
                 out_dtype: int | None = None, profile: str | None = "A2", signature: Signature = V4) -> int:
    """The dtype of the output of a call whose output the caller leaves to be made.

    ``out_dtype`` when given; else x3's or commQuantScale1's (the output's dtype by the rules);
    else, for INT8 x1, BFLOAT16 with a BFLOAT16 x2Scale and FLOAT16 with a packed UINT64/INT64
    x2Scale or an x1Scale (the only output each allows). Where the inputs imply no dtype, the
    call's first fault is reported first: the SoC and the dtypes of x1, x2 and x2Scale are
    checked as :func:`check` does (a FLOAT16 x1 is refused as such), and only a call whose
    inputs pass is told to give ``out_dtype`` (:class:`~aclnn_py.semantics.status.ArgumentError`).
    ``profile`` None (a SoC of no known profile) skips those checks.
    """
    if out_dtype is not None:
        return int(out_dtype)
    for given in (x3, comm_quant_scale_1):
        if given is not None:
            return given.dtype
    if dtype_name(x1) == "int8":
        if x2_scale.dtype == dtypes.DataType.ACL_BF16:
            return int(dtypes.DataType.ACL_BF16)
        if dtype_name(x2_scale) in PACKED_SCALES or x1_scale is not None:
            return int(dtypes.DataType.ACL_FLOAT16)
    if profile is not None:
        check_profile(profile, signature)
        _check_input_dtypes(signature, profile, x1, x2, x2_scale)
    raise ArgumentError("out_dtype", f"required for {dtypes.label(x1.dtype)} x1 with {dtypes.label(x2_scale.dtype)} "
                                     f"{signature.label('x2_scale')} (FLOAT16, BFLOAT16 or FLOAT)")


def output_desc(x1: TensorDesc, x2: TensorDesc, x2_scale: TensorDesc, *, x1_scale: TensorDesc | None = None,
                x3: TensorDesc | None = None, comm_quant_scale_1: TensorDesc | None = None,
                out_dtype: int | None = None, profile: str | None = "A2", signature: Signature = V4) -> TensorDesc:
    """The output a call implies: x1's shape with x2's last dim ((.., k) @ (k, n); a wrong rank is the
    rules' to report), of :func:`output_dtype`."""
    dtype = output_dtype(x1, x2, x2_scale, x1_scale=x1_scale, x3=x3, comm_quant_scale_1=comm_quant_scale_1,
                         out_dtype=out_dtype, profile=profile, signature=signature)
    return TensorDesc.contiguous(x1.shape[:-1] + x2.shape[-1:], dtype)


def _check_dtypes(sig: Signature, profile: str, x1: TensorDesc, x2: TensorDesc, x2_scale: TensorDesc,
                  output: TensorDesc, bias: TensorDesc | None, x3: TensorDesc | None,
                  x1_scale: TensorDesc | None, c1: TensorDesc | None, c2: TensorDesc | None) -> None:
    a2 = profile == "A2"
    suffix = " on Atlas A2"
    _check_input_dtypes(sig, profile, x1, x2, x2_scale)
    int8 = dtype_name(x1) == "int8"
    out_allowed = INT8_OUTPUTS if int8 else FLOAT_OUTPUTS
    if dtype_name(output) not in out_allowed:
        raise error(sig, INVALID, f"output dtype {dtypes.label(output.dtype)} is not supported for "
                                   f"{dtypes.label(x1.dtype)} x1: expected {dtype_labels(out_allowed)}")
    if bias is not None:
        dtype_in(sig, bias, "bias", sig.bias_dtypes)
    if x3 is not None and x3.dtype != output.dtype:
        raise error(sig, INVALID, f"{sig.label('x3')} dtype {dtypes.label(x3.dtype)} is not supported: "
                                   f"{sig.label('x3')} must have the output dtype {dtypes.label(output.dtype)}")
    s2 = sig.label("x2_scale")
    if int8 and "bfloat16" in (dtype_name(output), dtype_name(x2_scale)) and x2_scale.dtype != output.dtype:
        raise error(sig, INVALID,
                     f"{s2} dtype {dtypes.label(x2_scale.dtype)} does not match output dtype "
                     f"{dtypes.label(output.dtype)}: for INT8 x1 a BFLOAT16 output needs a "
                     f"BFLOAT16 {s2} and a BFLOAT16 {s2} needs a BFLOAT16 output")
    if x1_scale is not None:
        dtype_in(sig, x1_scale, "x1_scale", sig.x1_scale_dtypes)
        if a2:
            dtype_in(sig, x1_scale, "x1_scale", A2_ONLY["x1_scale"], suffix)
        if sig.legacy_checks and dtype_name(output) == "float16" and x2_scale.dtype != x1_scale.dtype:
            s1 = sig.label("x1_scale")
            raise error(sig, INVALID,
                         f"{s2} dtype {dtypes.label(x2_scale.dtype)} does not match {s1} dtype "
                         f"{dtypes.label(x1_scale.dtype)}: with FLOAT16 output and a {s1}, {s2} "
                         f"must be FLOAT")
    if c1 is not None and c2 is not None:
        for key, desc in (("comm_quant_scale_1", c1), ("comm_quant_scale_2", c2)):
            if dtype_name(desc) not in COMM_SCALE_DTYPES or desc.dtype != output.dtype:
                raise error(sig, INVALID,
                             f"{sig.label(key)} dtype {dtypes.label(desc.dtype)} is not supported: "
                             f"expected FLOAT16 or BFLOAT16 equal to the output dtype "
                             f"{dtypes.label(output.dtype)}")


# --------------------------------------------------------------------------- 561002 (tiling)

def _check_limits(sig: Signature, call: QuantMatmulAllReduceCall, x1: TensorDesc, x2: TensorDesc,
                  others: dict[str, TensorDesc | None]) -> None:
    """Size limits, no empty optional tensor or scale, x2 dtype == x1 dtype."""
    if call.m > MAX_M:
        raise error(sig, TILING, f"x1 m = {call.m} exceeds the limit 2147483647")
    if call.k > MAX_K:
        raise error(sig, TILING, f"x1 last dim k = {call.k} exceeds the limit 65535")
    x2_last = x2.shape[0 if call.x2_transposed else 1]
    if x2_last > MAX_K:
        raise error(sig, TILING, f"x2 last dim {x2_last} exceeds the limit 65535")
    for key, desc in others.items():
        if desc is not None and desc.numel == 0:
            raise error(sig, TILING, f"{sig.label(key)} is empty (shape {shape_text(desc.shape)}): empty tensors "
                                      f"are not supported")
    if x2.dtype != x1.dtype:
        raise error(sig, TILING, f"x2 dtype {dtypes.label(x2.dtype)} must equal x1 dtype {dtypes.label(x1.dtype)}")


def check_comm_quant_mode(x_dtype: str | None, comm_quant_mode: int, profile: str,
                          signature: Signature = V4) -> None:
    """561002 unless commQuantMode is 0, or 1 (per-tile FP8 communication, Ascend 950) with FP8 x1."""
    sig = signature
    if comm_quant_mode not in (0, 1):
        raise error(sig, TILING, f"commQuantMode {comm_quant_mode} is not supported: expected 0 or 1")
    if comm_quant_mode == 1:
        if profile == "A2":
            raise error(sig, TILING, "commQuantMode 1 (per-tile FP8 communication) is not supported on Atlas A2")
        if x_dtype not in FP8_COMM_DTYPES:
            raise error(sig, TILING, f"commQuantMode 1 needs FLOAT8_E4M3FN or FLOAT8_E5M2 x1, got "
                                      f"{dtype_label(x_dtype)}")


def check_comm_quant_scales(c1: TensorDesc | None, c2: TensorDesc | None, n: int,
                            signature: Signature = V4, code: int = TILING) -> None:
    """Both or neither commQuantScale, each [n] or [1, n], equal shapes."""
    sig = signature
    l1, l2 = sig.label("comm_quant_scale_1"), sig.label("comm_quant_scale_2")
    if (c1 is None) != (c2 is None):
        raise error(sig, code, f"{l1} and {l2} must both be null or both be given")
    if c1 is None or c2 is None:
        return
    for label, desc in ((l1, c1), (l2, c2)):
        if desc.shape not in ((n,), (1, n)):
            raise error(sig, code, f"{label} shape {shape_text(desc.shape)} is not supported: expected [{n}] or [1, {n}]")
    if c1.shape != c2.shape:
        raise error(sig, code, f"{l1} shape {shape_text(c1.shape)} must equal {l2} shape {shape_text(c2.shape)}")


def _per_channel(sig: Signature, x2_scale: TensorDesc, n: int, code: int = TILING) -> None:
    if x2_scale.shape not in ((1,), (n,), (1, n)):
        raise error(sig, code, f"{sig.label('x2_scale')} shape {shape_text(x2_scale.shape)} is not supported: "
                                f"expected [1] (pertensor), [{n}] or [1, {n}] (perchannel)")


def _per_token(sig: Signature, x1_scale: TensorDesc, m: int, code: int = TILING) -> None:
    if x1_scale.shape != (m,):
        label = sig.label("x1_scale")
        raise error(sig, code, f"{label} shape {shape_text(x1_scale.shape)} is not supported: pertoken {label} "
                                f"must be [{m}] (m, or b*s for 3-D x1)")


def _no_group_size(sig: Signature, group_size: int) -> None:
    if group_size != 0:
        raise error(sig, TILING, f"groupSize {group_size} must be 0 unless x1Scale and x2Scale are both "
                                  f">= 2-D (perblock, MX)")


def _group_size_fits(sig: Signature, call: QuantMatmulAllReduceCall) -> None:
    if call.group_size_error is not None:
        raise error(sig, TILING, call.group_size_error)


def _check_quantization(sig: Signature, call: QuantMatmulAllReduceCall, **tensors) -> None:
    """The bias, scales and groupSize of the call's local product, then formula 8's base."""
    bias = tensors["bias"]
    dtype, text = TILING_BIAS[call.x_dtype == "int8"]
    if bias is not None and dtype_name(bias) != dtype:
        raise error(sig, TILING, f"{sig.label('bias')} dtype {dtypes.label(bias.dtype)} is not supported "
                                  f"for {dtype_label(call.x_dtype)} x1: expected {text}")
    _MODES[call.local](sig, call, **tensors)
    if call.formula == 8 and call.local not in (6, 7):
        raise error(sig, TILING, "commQuantMode 1 needs FLOAT32 x1Scale and x2Scale (pertoken or perblock)")


def _int8(sig: Signature, call: QuantMatmulAllReduceCall, *, x1_scale, x2_scale, group_size, **_) -> None:
    """Formulas 2 and 3 (and 1's local product)."""
    _no_group_size(sig, group_size)
    s1 = sig.label("x1_scale") if sig.has("x1_scale") else "a per-token scale"
    if call.out_dtype == "float16":
        wanted = INT8_FP16_X2_SCALES[x1_scale is not None]
        if call.x2_scale_dtype not in wanted:
            how = "with" if x1_scale is not None else "without"
            raise error(sig, TILING, f"{sig.label('x2_scale')} dtype {dtypes.label(x2_scale.dtype)} is not "
                                      f"supported for INT8 x1 and FLOAT16 output {how} {s1}: expected "
                                      f"{dtype_labels(wanted)}")
    if x1_scale is not None:
        if call.x1_scale_dtype != "float32":
            raise error(sig, TILING, f"{s1} dtype {dtypes.label(x1_scale.dtype)} is not supported for "
                                      f"INT8 x1: expected FLOAT32 (pertoken)")
        _per_token(sig, x1_scale, call.m)
    _per_channel(sig, x2_scale, call.n)


def _mx(sig: Signature, call: QuantMatmulAllReduceCall, *, x1_scale, x2_scale, **_) -> None:
    """Formula 4 (V4 only, so the messages use V4's names)."""
    x, s1, s2 = call.x_dtype, call.x1_scale_dtype, call.x2_scale_dtype
    if x == "hifloat8":
        raise error(sig, TILING, "MX quantization (FLOAT8_E8M0 scales) does not support HIFLOAT8 x1")
    if s1 != "float8_e8m0" or s2 != "float8_e8m0":
        raise error(sig, TILING, f"MX quantization needs FLOAT8_E8M0 x1Scale and x2Scale, got "
                                  f"{dtype_label(s1)} and {dtype_label(s2)}"
                                  + (" (FLOAT4_E2M1 x1 supports MX only)" if x == "float4_e2m1" else ""))
    if not call.x2_transposed:
        raise error(sig, TILING, "MX quantization needs a transposed x2 (x2Scale [n, ceil(k/64), 2])")
    if x1_scale.ndim != 3 or x2_scale.ndim != 3:
        raise error(sig, TILING, f"MX x1Scale/x2Scale must be 3-D [rows, ceil(k/64), 2], got "
                                  f"{shape_text(x1_scale.shape)} and {shape_text(x2_scale.shape)}")
    _group_size_fits(sig, call)
    m, k, n, block = call.m, call.k, call.n, MX_GROUPS[2]
    pairs = _cdiv(k, 2 * block)
    if x1_scale.shape != (m, pairs, 2):
        raise error(sig, TILING, f"x1Scale shape {shape_text(x1_scale.shape)} is not supported: MX needs [{m}, {pairs}, 2]")
    if x2_scale.shape != (n, pairs, 2):
        raise error(sig, TILING, f"x2Scale shape {shape_text(x2_scale.shape)} is not supported: MX needs [{n}, {pairs}, 2]")
    if x == "float4_e2m1" and (k % 2 or _cdiv(k, block) % 2):
        raise error(sig, TILING, f"FLOAT4_E2M1 x1 needs k even and ceil(k/32) even, got k = {k}")


def _packed(sig: Signature, call: QuantMatmulAllReduceCall, *, x1_scale, x2_scale, group_size, **_) -> None:
    """Formula 5: FP8/HiF8 x1, packed UINT64/INT64 x2Scale, no x1Scale."""
    if call.x2_scale_dtype not in PACKED_SCALES:
        raise error(sig, TILING, f"x2Scale dtype {dtype_label(call.x2_scale_dtype)} is not supported for "
                                  f"{dtype_label(call.x_dtype)} x1: expected UINT64/INT64, FLOAT32 or FLOAT8_E8M0")
    if x1_scale is not None:
        raise error(sig, TILING, "a UINT64/INT64 x2Scale (pertensor/perchannel) needs a null x1Scale")
    _no_group_size(sig, group_size)
    _per_channel(sig, x2_scale, call.n)


def _float32_pair(sig: Signature, call: QuantMatmulAllReduceCall) -> None:
    if call.x1_scale_dtype != "float32":
        raise error(sig, TILING, f"FLOAT32 x2Scale needs a FLOAT32 x1Scale for {dtype_label(call.x_dtype)} x1")


def _pertoken(sig: Signature, call: QuantMatmulAllReduceCall, *, x1_scale, x2_scale, group_size, **_) -> None:
    """Formula 6: FP8/HiF8 x1, FLOAT32 1-D x1Scale."""
    _float32_pair(sig, call)
    _no_group_size(sig, group_size)
    _per_token(sig, x1_scale, call.m)
    _per_channel(sig, x2_scale, call.n)


def _perblock(sig: Signature, call: QuantMatmulAllReduceCall, *, x1, x1_scale, x2_scale, bias, **_) -> None:
    """Formula 7: FP8/HiF8 x1, FLOAT32 x1Scale and x2Scale >= 2-D, no bias."""
    _float32_pair(sig, call)
    if x1_scale.ndim < 2 or x2_scale.ndim < 2:
        raise error(sig, TILING, f"x1Scale {shape_text(x1_scale.shape)} with x2Scale {shape_text(x2_scale.shape)} is not supported: "
                                  f"FLOAT32 scales are pertoken (1-D x1Scale [m]) or perblock (x1Scale "
                                  f"[.., ceil(rows/128), ceil(k/128)] and 2-D x2Scale)")
    if bias is not None:
        raise error(sig, TILING, "bias must be null in perblock quantization")
    _group_size_fits(sig, call)
    gm, gn, gk = PERBLOCK_GROUPS
    kb, nb = _cdiv(call.k, gk), _cdiv(call.n, gn)
    want1 = x1.shape[:-2] + (_cdiv(x1.shape[-2], gm), kb)
    want2 = (nb, kb) if call.x2_transposed else (kb, nb)
    if x1_scale.shape != want1:
        raise error(sig, TILING, f"x1Scale shape {shape_text(x1_scale.shape)} is not supported: perblock "
                                  f"needs {list(want1)}")
    if x2_scale.shape != want2:
        raise error(sig, TILING, f"x2Scale shape {shape_text(x2_scale.shape)} is not supported: perblock "
                                  f"needs {list(want2)}")


#: The checks of each local product (:attr:`QuantMatmulAllReduceCall.local`).
_MODES = {2: _int8, 3: _int8, 4: _mx, 5: _packed, 6: _pertoken, 7: _perblock}


def check_entry(*, signature: Signature, profile: str, rank_size: int | None = None,
                **arguments) -> QuantMatmulAllReduceCall:
    """The rules of any entry point of the family, by its header's arguments in canonical names:
    :func:`check` (quantized) or :func:`.unquantized_rules.check` (MatmulAllReduce,
    WeightQuantMatmulAllReduce)."""
    rules = check if signature.kind == "quant" else unquantized_rules.check
    return rules(**arguments, profile=profile, rank_size=rank_size, signature=signature)


def output_desc_of(signature: Signature, tensors: dict[str, TensorDesc | None], *, out_dtype: int | None = None,
                   profile: str | None = "A2") -> TensorDesc:
    """The output a call of ``signature`` implies from its input descriptors by canonical name
    (x1, x2 and, for the quantized entry points, x2_scale given): x1's shape with x2's last dim, of
    :func:`output_dtype` (quantized) or x1's dtype (:func:`.unquantized_rules.output_dtype`)."""
    x1, x2 = tensors["x1"], tensors["x2"]
    assert x1 is not None and x2 is not None
    if signature.kind == "quant":
        x2_scale = tensors["x2_scale"]
        assert x2_scale is not None
        return output_desc(x1, x2, x2_scale, x1_scale=tensors.get("x1_scale"), x3=tensors.get("x3"),
                           comm_quant_scale_1=tensors.get("comm_quant_scale_1"), out_dtype=out_dtype,
                           profile=profile, signature=signature)
    return TensorDesc.contiguous(x1.shape[:-1] + x2.shape[-1:], unquantized_rules.output_dtype(x1, out_dtype))


def _check_call(*, profile: str, signature: Signature, group: str | None = None,
                **arguments) -> QuantMatmulAllReduceCall:
    """:func:`check_entry` of one call by its header's arguments (``group`` is the communicator's: the runtime's)."""
    return check_entry(**arguments, profile=profile, signature=signature)


def _outputs(*, profile: str | None, signature: Signature, **tensors) -> dict[str, TensorDesc]:
    """``output`` as :func:`output_desc_of` finds it (none when the inputs imply no dtype: the caller
    passes the output)."""
    needed = ("x1", "x2", "x2_scale") if signature.kind == "quant" else ("x1", "x2")
    if any(tensors.get(key) is None for key in needed):
        return {}
    try:
        return {"output": output_desc_of(signature, tensors, profile=profile)}
    except ArgumentError:
        return {}


#: The catalogue's entries of the family (ops-transformer mc2/matmul_all_reduce: libopapi_transformer).
OPERATORS = tuple(OperatorRules(s.op, "opapi_transformer", names=s.renamed, check=partial(_check_call, signature=s),
                                outputs=partial(_outputs, signature=s)) for s in SIGNATURES.values())
