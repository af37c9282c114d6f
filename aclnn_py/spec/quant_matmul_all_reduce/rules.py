"""Argument rules of aclnnQuantMatmulAllReduce (V1), V2, V3 and V4 GetWorkspaceSize.

One classification for the four entry points. V4's arguments are the canonical
ones (``x1, x2, bias, x3, x1_scale, x2_scale, comm_quant_scale_1/2, group,
reduce_op, comm_turn, stream_mode, group_size, comm_quant_mode, output``); a
:class:`Signature` maps each header parameter of an entry point onto them
(V1-V3: ``dequantScale`` -> x2_scale, ``pertokenScaleOptional`` -> x1_scale),
so V1, V2 and V3 are V4 calls restricted to INT8: formula 2 (V1), 2 or 3 (V2),
2, 3 or 1 (V3) of the V4 document. :func:`check` validates in CANN's order and
returns a :class:`QmmarPlan` (formula and sizes) that the binding and the mock
share; messages name the entry point and its own parameters (the header name
without the ``Optional`` suffix, as V4 has always done: ``x1Scale``,
``pertokenScale``, ``dequantScale``, ``bias``).

V4 (semantics.md §6.1):

0. SoC: the operator exists on Atlas A2 and Ascend 950 only. Atlas A3 is
   rejected with 361001 ACLNN_ERR_RUNTIME_ERROR (our choice: the doc only says
   "not supported"; 361001 is what CANN returns for an unsupported SoC elsewhere,
   e.g. aclnnCalculateMatmulWeightSizeV2).
1. 161001 null pointers: x1, x2, x2Scale, output, reduceOp.
2. 161002 dtypes (aclnn level), including the Atlas A2 profile rejecting the
   Ascend 950 input types (FP8/HiF8/FP4 x1/x2, FLOAT8_E8M0 scales).
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
  INT64/UINT64/BFLOAT16 (V1) or INT64/UINT64/FLOAT32/BFLOAT16 (V2, V3), all at
  161002 (the code shares V2's list with V1; V1's document is followed, so a
  FLOAT32 dequantScale is a 161002 dtype error for V1);
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
  with 161002). CANN's V1-V3 aclnn layer skips every shape check after x1's
  rank for an NZ x2; here an NZ call is checked as V4 checks it (NZ storage
  shape, k, output, bias, x3 and scale shapes), never less safely;
- V3's "x3Optional only with BFLOAT16 output" wording is not enforced (as for
  V4); the tiling-stage rules (limits, commTurn, empty optional tensors, the
  UINT64/INT64 dequantScale of FLOAT16 output without pertokenScale, rank count)
  are V4's, with 561002.

Every rank and shape is checked before it is indexed: FLOAT32 scales are either
pertoken (1-D x1Scale) or perblock (x1Scale and x2Scale >= 2-D); any other pair
(a 0-d x1Scale, say) is 561002.

Choices for V4: formula 5 (FP8/HiF8 with a packed UINT64 scale) accepts FLOAT32
output (formula text) although the dtype table lists FLOAT16/BFLOAT16 only;
groupSize must be 0 unless both scales are >= 2-D (the doc's "其他场景需传入0");
the "x3 only with BFLOAT16 output" wording of the low-bit int8 path is not
enforced.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Mapping

from .. import dtypes
from ..headers import load
from ..descriptors import TensorDesc
from ..status import Violation
from .. import nz as _nz
from ..quant_params import decode_group_size

__all__ = ["QmmarPlan", "Signature", "V1", "V2", "V3", "V4", "SIGNATURES", "TENSORS", "check",
           "check_rank_count", "allowed_rank_counts"]

_K = load().constants
NULLPTR = _K["ACLNN_ERR_PARAM_NULLPTR"]
INVALID = _K["ACLNN_ERR_PARAM_INVALID"]
TILING = _K["ACLNN_ERR_INNER_TILING_ERROR"]
RUNTIME = _K["ACLNN_ERR_RUNTIME_ERROR"]

D = dtypes.DataType
INT8, INT32, INT64, UINT64 = D.ACL_INT8, D.ACL_INT32, D.ACL_INT64, D.ACL_UINT64
FP16, BF16, FP32 = D.ACL_FLOAT16, D.ACL_BF16, D.ACL_FLOAT
E4M3, E5M2, HIF8, FP4, E8M0 = (D.ACL_FLOAT8_E4M3FN, D.ACL_FLOAT8_E5M2, D.ACL_HIFLOAT8,
                               D.ACL_FLOAT4_E2M1, D.ACL_FLOAT8_E8M0)

X_DTYPES = (INT8, E4M3, E5M2, HIF8, FP4)
INT8_OUT = (FP16, BF16)
FLOAT_OUT = (FP16, BF16, FP32)
COMM_SCALE_DTYPES = (FP16, BF16)
A2_ONLY = {"x1": (INT8,), "x2": (INT8,), "x2_scale": (UINT64, INT64, BF16, FP32), "x1_scale": (FP32,)}
PERBLOCK_GROUPS = (128, 128, 128)
MX_GROUPS = (1, 1, 32)
MAX_K = 65535
MAX_M = 2**31 - 1

#: The canonical tensor arguments (V4's), inputs first, then the output.
TENSORS = ("x1", "x2", "bias", "x3", "x1_scale", "x2_scale", "comm_quant_scale_1",
           "comm_quant_scale_2", "output")


@dataclass(frozen=True)
class Signature:
    """One entry point: its name, its header parameters as canonical arguments, its own checks."""

    op: str  # the phase-2 function, e.g. "aclnnQuantMatmulAllReduceV2"
    params: Mapping[str, str]  # header parameter name -> canonical argument
    required: tuple[str, ...]  # 161001 null checks, canonical names in the entry point's order
    x_dtypes: tuple[int, ...]
    x2_scale_dtypes: tuple[int, ...]
    x1_scale_dtypes: tuple[int, ...]
    bias_dtypes: tuple[int, ...]
    legacy_checks: bool  # V1-V3: exact reduceOp, scale checks at aclnn level, ND x2 on 950

    @property
    def function(self) -> str:
        return f"{self.op}GetWorkspaceSize"

    @cached_property
    def parameters(self) -> tuple[str, ...]:
        """Phase-1 parameter names in header order, without workspaceSize and executor."""
        return load().functions[self.function].parameters[:-2]

    @cached_property
    def _labels(self) -> dict[str, str]:
        return {key: name.removesuffix("Optional") for name, key in self.params.items()}

    def label(self, key: str) -> str:
        """The name a message uses for a canonical argument (``x2_scale`` -> ``dequantScale``)."""
        return self._labels.get(key, key)

    def has(self, key: str) -> bool:
        return key in self._labels


_COMMON = {"x1": "x1", "x2": "x2", "group": "group", "reduceOp": "reduce_op", "commTurn": "comm_turn",
           "streamMode": "stream_mode", "output": "output"}
_V2_TENSORS = {"biasOptional": "bias", "x3Optional": "x3", "dequantScale": "x2_scale",
               "pertokenScaleOptional": "x1_scale"}
_COMM = {"commQuantScale1Optional": "comm_quant_scale_1", "commQuantScale2Optional": "comm_quant_scale_2"}

V1 = Signature(
    op="aclnnQuantMatmulAllReduce",
    params={**_COMMON, "bias": "bias", "x3": "x3", "dequantScale": "x2_scale"},
    required=("x1", "x2", "output", "x2_scale"), x_dtypes=(INT8,),
    x2_scale_dtypes=(INT64, UINT64, BF16), x1_scale_dtypes=(), bias_dtypes=(INT32,), legacy_checks=True)
V2 = Signature(
    op="aclnnQuantMatmulAllReduceV2", params={**_COMMON, **_V2_TENSORS},
    required=("x1", "x2", "output", "x2_scale"), x_dtypes=(INT8,),
    x2_scale_dtypes=(INT64, UINT64, FP32, BF16), x1_scale_dtypes=(FP32,), bias_dtypes=(INT32,),
    legacy_checks=True)
V3 = Signature(
    op="aclnnQuantMatmulAllReduceV3", params={**_COMMON, **_V2_TENSORS, **_COMM},
    required=("x1", "x2", "x2_scale", "output"), x_dtypes=(INT8,),
    x2_scale_dtypes=(INT64, UINT64, FP32, BF16), x1_scale_dtypes=(FP32,), bias_dtypes=(INT32,),
    legacy_checks=True)
V4 = Signature(
    op="aclnnQuantMatmulAllReduceV4",
    params={**_COMMON, **_COMM, "biasOptional": "bias", "x3Optional": "x3",
            "x1ScaleOptional": "x1_scale", "x2Scale": "x2_scale", "groupSize": "group_size",
            "commQuantMode": "comm_quant_mode"},
    required=("x1", "x2", "x2_scale", "output"), x_dtypes=X_DTYPES,
    x2_scale_dtypes=(UINT64, INT64, BF16, FP32, E8M0), x1_scale_dtypes=(FP32, E8M0),
    bias_dtypes=(INT32, FP32), legacy_checks=False)

SIGNATURES = {s.op: s for s in (V1, V2, V3, V4)}


def allowed_rank_counts(profile: str) -> tuple[int, ...]:
    """Rank counts the operator supports on a profile (A2: 1/2/4/8; 950: powers of two to 64)."""
    return (1, 2, 4, 8) if profile == "A2" else (1, 2, 4, 8, 16, 32, 64)


@dataclass(frozen=True)
class QmmarPlan:
    """What a valid call computes: the doc formula and the operand sizes."""

    formula: int  # 1..8 as numbered in the V4 doc
    x_dtype: str  # canonical names (aclnn_py.spec.codecs)
    out_dtype: str
    x1_scale_dtype: str | None
    x2_scale_dtype: str
    m: int  # rows of x1 (b*s for 3-D x1)
    k: int
    n: int
    x2_transposed: bool
    x2_nz: bool
    has_comm_quant_scales: bool


def _label_list(values) -> str:
    labels = [dtypes.label(v) for v in values]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " or " + labels[-1]


def _shape(desc: TensorDesc) -> str:
    return "[" + ", ".join(str(d) for d in desc.shape) + "]"


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


def _error(sig: Signature, code: int, message: str) -> Violation:
    return Violation(code, sig.function, message)


def _dtype_in(sig: Signature, desc: TensorDesc, key: str, allowed, suffix: str = "") -> None:
    if desc.dtype not in allowed:
        raise _error(sig, INVALID, f"{sig.label(key)} dtype {dtypes.label(desc.dtype)} is not supported"
                                   f"{suffix}: expected {_label_list(allowed)}")


def check_profile(profile: str, signature: Signature = V4) -> None:
    if profile == "A3":
        raise Violation(RUNTIME, signature.function,
                                f"{signature.op} is not supported on Atlas A3 (SoC profile A3): "
                                f"supported are Atlas A2 and Ascend 950")
    if profile not in ("A2", "950"):
        raise Violation(RUNTIME, signature.function, f"unknown SoC profile {profile!r}")


def check_rank_count(profile: str, rank_size: int, signature: Signature = V4) -> None:
    """561002 unless the communicator size is supported on ``profile``."""
    allowed = allowed_rank_counts(profile)
    if rank_size not in allowed:
        name = "Atlas A2" if profile == "A2" else "Ascend 950"
        raise _error(signature, TILING,
                     f"group rank count {rank_size} is not supported on {name}: expected "
                     f"{', '.join(str(r) for r in allowed[:-1])} or {allowed[-1]} ranks")


def check(*, x1: TensorDesc | None, x2: TensorDesc | None, x2_scale: TensorDesc | None,
          output: TensorDesc | None, reduce_op: str | None, bias: TensorDesc | None = None,
          x3: TensorDesc | None = None, x1_scale: TensorDesc | None = None,
          comm_quant_scale_1: TensorDesc | None = None,
          comm_quant_scale_2: TensorDesc | None = None, comm_turn: int = 0,
          stream_mode: int = 1, group_size: int = 0, comm_quant_mode: int = 0,
          profile: str = "A2", rank_size: int | None = None,
          signature: Signature = V4) -> QmmarPlan:
    """Validate one GetWorkspaceSize call of ``signature`` (V4 unless told), in canonical arguments.

    Raises :class:`~aclnn_py.spec.status.Violation` (361001 Atlas A3, 161001/161002,
    561002); returns the :class:`QmmarPlan` otherwise.
    ``rank_size`` (the communicator size) is checked when given.
    """
    sig = signature
    check_profile(profile, sig)
    # -- 161001 null pointers
    given = {"x1": x1, "x2": x2, "x2_scale": x2_scale, "output": output}
    for key in sig.required:
        if given[key] is None:
            what = sig.label(key)
            raise _error(sig, NULLPTR, f"{what} is a null pointer: {what} is required")
    if reduce_op is None:
        raise _error(sig, NULLPTR, 'reduceOp is a null pointer: expected "sum"')
    assert x1 is not None and x2 is not None and x2_scale is not None and output is not None

    # -- 161002 dtypes
    a2 = profile == "A2"
    suffix = " on Atlas A2"
    _dtype_in(sig, x1, "x1", sig.x_dtypes)
    _dtype_in(sig, x2, "x2", sig.x_dtypes)
    if a2:
        _dtype_in(sig, x1, "x1", A2_ONLY["x1"], suffix)
        _dtype_in(sig, x2, "x2", A2_ONLY["x2"], suffix)
    _dtype_in(sig, x2_scale, "x2_scale", sig.x2_scale_dtypes)
    if a2:
        _dtype_in(sig, x2_scale, "x2_scale", A2_ONLY["x2_scale"], suffix)
    int8 = x1.dtype == INT8
    out_allowed = INT8_OUT if int8 else FLOAT_OUT
    if output.dtype not in out_allowed:
        raise _error(sig, INVALID, f"output dtype {dtypes.label(output.dtype)} is not supported for "
                                   f"{dtypes.label(x1.dtype)} x1: expected {_label_list(out_allowed)}")
    if bias is not None:
        _dtype_in(sig, bias, "bias", sig.bias_dtypes)
    if x3 is not None and x3.dtype != output.dtype:
        raise _error(sig, INVALID, f"{sig.label('x3')} dtype {dtypes.label(x3.dtype)} is not supported: "
                                   f"{sig.label('x3')} must have the output dtype {dtypes.label(output.dtype)}")
    s2 = sig.label("x2_scale")
    if int8 and (output.dtype == BF16 or x2_scale.dtype == BF16) and x2_scale.dtype != output.dtype:
        raise _error(sig, INVALID,
                     f"{s2} dtype {dtypes.label(x2_scale.dtype)} does not match output dtype "
                     f"{dtypes.label(output.dtype)}: for INT8 x1 a BFLOAT16 output needs a "
                     f"BFLOAT16 {s2} and a BFLOAT16 {s2} needs a BFLOAT16 output")
    if x1_scale is not None:
        _dtype_in(sig, x1_scale, "x1_scale", sig.x1_scale_dtypes)
        if a2:
            _dtype_in(sig, x1_scale, "x1_scale", A2_ONLY["x1_scale"], suffix)
        if sig.legacy_checks and output.dtype == FP16 and x2_scale.dtype != x1_scale.dtype:
            s1 = sig.label("x1_scale")
            raise _error(sig, INVALID,
                         f"{s2} dtype {dtypes.label(x2_scale.dtype)} does not match {s1} dtype "
                         f"{dtypes.label(x1_scale.dtype)}: with FLOAT16 output and a {s1}, {s2} "
                         f"must be FLOAT")
    both_comm = comm_quant_scale_1 is not None and comm_quant_scale_2 is not None
    if both_comm:
        for key, desc in (("comm_quant_scale_1", comm_quant_scale_1),
                          ("comm_quant_scale_2", comm_quant_scale_2)):
            assert desc is not None
            if desc.dtype not in COMM_SCALE_DTYPES or desc.dtype != output.dtype:
                raise _error(sig, INVALID,
                             f"{sig.label(key)} dtype {dtypes.label(desc.dtype)} is not supported: "
                             f"expected FLOAT16 or BFLOAT16 equal to the output dtype "
                             f"{dtypes.label(output.dtype)}")

    # -- 161002 attributes
    if (reduce_op != "sum") if sig.legacy_checks else (reduce_op[:3] != "sum"):
        raise _error(sig, INVALID, f'reduceOp "{reduce_op}" is not supported: only "sum"')
    if stream_mode != 1:
        raise _error(sig, INVALID, f"streamMode {stream_mode} is not supported: only 1 (ACL_STOP_ON_FAILURE)")

    # -- 161002 shapes
    if x1.ndim not in (2, 3):
        raise _error(sig, INVALID, f"x1 must be 2-D (m, k) or 3-D (b, s, k), got shape {_shape(x1)}")
    if not x1.is_contiguous() or x1.is_nz:
        raise _error(sig, INVALID, "x1 must be a contiguous ND tensor (x1 cannot be transposed)")
    if x2.ndim != 2:
        raise _error(sig, INVALID, f"x2 must be 2-D (k, n), got shape {_shape(x2)}")
    x2_nz = x2.is_nz
    x2_transposed = x2.is_transposed()
    if x2_nz:
        if sig.legacy_checks and profile == "950":
            raise _error(sig, INVALID, f"x2 in FRACTAL_NZ format is not supported on Ascend 950: "
                                       f"{sig.op} takes an ND x2 there")
        if x2.dtype != INT8:
            raise _error(sig, INVALID, f"x2 in FRACTAL_NZ format must be INT8 (made by "
                                       f"aclnnTransMatmulWeight), got {dtypes.label(x2.dtype)}")
        expected = _nz.nz_storage_shape(x2.shape, "int8")
        if tuple(x2.storage_shape) != expected:
            raise _error(sig, INVALID, f"x2 FRACTAL_NZ storage shape {list(x2.storage_shape)} does not "
                                       f"match its view shape {_shape(x2)}: expected {list(expected)}")
    elif not (x2.is_contiguous() or x2_transposed):
        raise _error(sig, INVALID, "x2 must be contiguous or a transposed view of the last two dims "
                                   "(no other non-contiguous x2 is supported)")
    k, n = x2.shape
    if x1.shape[-1] != k:
        raise _error(sig, INVALID, f"x1 last dim {x1.shape[-1]} must equal x2 k dim {k} "
                                   f"(x1 {_shape(x1)}, x2 {_shape(x2)})")
    for what, desc in (("x1", x1), ("x2", x2)):
        if desc.numel == 0:
            raise _error(sig, INVALID, f"{what} is empty (shape {_shape(desc)}): empty tensors are not supported")
    expected_out = x1.shape[:-1] + (n,)
    if output.shape != expected_out:
        raise _error(sig, INVALID, f"output shape {_shape(output)} must be x1 shape with last dim n: "
                                   f"expected [{', '.join(str(d) for d in expected_out)}]")
    if bias is not None and bias.shape != (n,):
        raise _error(sig, INVALID, f"{sig.label('bias')} must be 1-D of length n = {n}, got shape {_shape(bias)}")
    if x3 is not None and x3.shape != output.shape:
        raise _error(sig, INVALID, f"{sig.label('x3')} shape {_shape(x3)} must equal the output shape "
                                   f"{_shape(output)}")
    m = x1.numel // k
    if sig.legacy_checks:  # V1-V3 check the scale shapes in the aclnn layer
        _per_channel(sig, x2_scale, n, INVALID)
        if x1_scale is not None:
            _per_token(sig, x1_scale, m, INVALID)
        _comm_scales(sig, comm_quant_scale_1, comm_quant_scale_2, n, INVALID)

    # -- 561002 tiling-level rules
    if m > MAX_M:
        raise _error(sig, TILING, f"x1 m = {m} exceeds the limit 2147483647")
    if k > MAX_K:
        raise _error(sig, TILING, f"x1 last dim k = {k} exceeds the limit 65535")
    if x2.shape[0 if x2_transposed else 1] > MAX_K:
        raise _error(sig, TILING, f"x2 last dim {x2.shape[0 if x2_transposed else 1]} exceeds the limit 65535")
    for key, desc in (("bias", bias), ("x3", x3), ("x1_scale", x1_scale), ("x2_scale", x2_scale),
                      ("comm_quant_scale_1", comm_quant_scale_1),
                      ("comm_quant_scale_2", comm_quant_scale_2)):
        if desc is not None and desc.numel == 0:
            raise _error(sig, TILING, f"{sig.label(key)} is empty (shape {_shape(desc)}): empty tensors "
                                      f"are not supported")
    if x2.dtype != x1.dtype:
        raise _error(sig, TILING, f"x2 dtype {dtypes.label(x2.dtype)} must equal x1 dtype {dtypes.label(x1.dtype)}")
    if comm_turn != 0:
        raise _error(sig, TILING, f"commTurn {comm_turn} is not supported: only 0")
    if comm_quant_mode not in (0, 1):
        raise _error(sig, TILING, f"commQuantMode {comm_quant_mode} is not supported: expected 0 or 1")
    if comm_quant_mode == 1:
        if a2:
            raise _error(sig, TILING, "commQuantMode 1 (per-tile FP8 communication) is not supported on Atlas A2")
        if x1.dtype not in (E4M3, E5M2):
            raise _error(sig, TILING, f"commQuantMode 1 needs FLOAT8_E4M3FN or FLOAT8_E5M2 x1, got "
                                      f"{dtypes.label(x1.dtype)}")
    if both_comm:
        if not int8:
            raise _error(sig, TILING, f"{sig.label('comm_quant_scale_1')}/{sig.label('comm_quant_scale_2')} "
                                      f"(low-bit communication) are only supported for INT8 x1")
        if comm_quant_mode != 0:
            raise _error(sig, TILING, f"{sig.label('comm_quant_scale_1')}/{sig.label('comm_quant_scale_2')} "
                                      f"need commQuantMode 0")
    _comm_scales(sig, comm_quant_scale_1, comm_quant_scale_2, n, TILING)

    local = (_int8_mode if int8 else _float_mode)(
        sig, x1, x2, x2_scale, x1_scale, bias, output, m, k, n, x2_transposed, group_size)
    formula = 1 if both_comm else (8 if comm_quant_mode == 1 else local)
    if formula == 8 and local not in (6, 7):
        raise _error(sig, TILING, "commQuantMode 1 needs FLOAT32 x1Scale and x2Scale (pertoken or perblock)")
    if rank_size is not None:
        check_rank_count(profile, rank_size, sig)
    return QmmarPlan(
        formula=formula, x_dtype=dtypes.name(x1.dtype), out_dtype=dtypes.name(output.dtype),
        x1_scale_dtype=None if x1_scale is None else dtypes.name(x1_scale.dtype),
        x2_scale_dtype=dtypes.name(x2_scale.dtype), m=m, k=k, n=n,
        x2_transposed=x2_transposed, x2_nz=x2_nz, has_comm_quant_scales=both_comm)


def _comm_scales(sig: Signature, c1: TensorDesc | None, c2: TensorDesc | None, n: int, code: int) -> None:
    """Both or neither commQuantScale, each [n] or [1, n], equal shapes."""
    l1, l2 = sig.label("comm_quant_scale_1"), sig.label("comm_quant_scale_2")
    if (c1 is None) != (c2 is None):
        raise _error(sig, code, f"{l1} and {l2} must both be null or both be given")
    if c1 is None or c2 is None:
        return
    for label, desc in ((l1, c1), (l2, c2)):
        if desc.shape not in ((n,), (1, n)):
            raise _error(sig, code, f"{label} shape {_shape(desc)} is not supported: expected [{n}] or [1, {n}]")
    if c1.shape != c2.shape:
        raise _error(sig, code, f"{l1} shape {_shape(c1)} must equal {l2} shape {_shape(c2)}")


def _per_channel(sig: Signature, x2_scale: TensorDesc, n: int, code: int = TILING) -> None:
    if x2_scale.shape not in ((1,), (n,), (1, n)):
        raise _error(sig, code, f"{sig.label('x2_scale')} shape {_shape(x2_scale)} is not supported: "
                                f"expected [1] (pertensor), [{n}] or [1, {n}] (perchannel)")


def _per_token(sig: Signature, x1_scale: TensorDesc, m: int, code: int = TILING) -> None:
    if x1_scale.shape != (m,):
        label = sig.label("x1_scale")
        raise _error(sig, code, f"{label} shape {_shape(x1_scale)} is not supported: pertoken {label} "
                                f"must be [{m}] (m, or b*s for 3-D x1)")


def _no_group_size(sig: Signature, group_size: int) -> None:
    if group_size != 0:
        raise _error(sig, TILING, f"groupSize {group_size} must be 0 unless x1Scale and x2Scale are both "
                                  f">= 2-D (perblock, MX)")


def _int8_mode(sig, x1, x2, x2_scale, x1_scale, bias, output, m, k, n, x2_transposed, group_size) -> int:
    if bias is not None and bias.dtype != INT32:
        raise _error(sig, TILING, f"{sig.label('bias')} dtype {dtypes.label(bias.dtype)} is not supported "
                                  f"for INT8 x1: expected INT32")
    _no_group_size(sig, group_size)
    s1 = sig.label("x1_scale") if sig.has("x1_scale") else "a per-token scale"
    if output.dtype == FP16:
        wanted = (FP32,) if x1_scale is not None else (UINT64, INT64)
        if x2_scale.dtype not in wanted:
            how = "with" if x1_scale is not None else "without"
            raise _error(sig, TILING, f"{sig.label('x2_scale')} dtype {dtypes.label(x2_scale.dtype)} is not "
                                      f"supported for INT8 x1 and FLOAT16 output {how} {s1}: expected "
                                      f"{_label_list(wanted)}")
    if x1_scale is not None:
        if x1_scale.dtype != FP32:
            raise _error(sig, TILING, f"{s1} dtype {dtypes.label(x1_scale.dtype)} is not supported for "
                                      f"INT8 x1: expected FLOAT32 (pertoken)")
        _per_token(sig, x1_scale, m)
    _per_channel(sig, x2_scale, n)
    return 3 if x1_scale is not None else 2


def _resolve_groups(sig, group_size: int, dims, scale_dims, required, mode: str) -> None:
    try:
        fields = decode_group_size(group_size)
    except ValueError:
        raise _error(sig, TILING, f"groupSize {group_size} is invalid: expected k | n << 16 | m << 32") from None
    resolved = []
    for axis, g, d, s in zip("MNK", fields, dims, scale_dims):
        if g == 0:
            if s == 0 or d % s:
                raise _error(sig, TILING, f"groupSize{axis} cannot be inferred: {d} is not divisible by "
                                          f"the scale's {axis} extent {s}; pass groupSize explicitly")
            g = d // s
        resolved.append(g)
    if tuple(resolved) != required:
        raise _error(sig, TILING, f"groupSize resolves to (M, N, K) = {tuple(resolved)}; {mode} needs {required}")


def _float_mode(sig, x1, x2, x2_scale, x1_scale, bias, output, m, k, n, x2_transposed, group_size) -> int:
    """Formulas 4-7 (FP8/HiF8/FP4 x1; V4 only, so the messages use V4's names)."""
    x = x1.dtype
    if bias is not None and bias.dtype != FP32:
        raise _error(sig, TILING, f"bias dtype {dtypes.label(bias.dtype)} is not supported for "
                                  f"{dtypes.label(x)} x1: expected FLOAT32")
    s1 = None if x1_scale is None else x1_scale.dtype
    s2 = x2_scale.dtype
    if s1 == E8M0 or s2 == E8M0 or x == FP4:  # MX
        if x == HIF8:
            raise _error(sig, TILING, "MX quantization (FLOAT8_E8M0 scales) does not support HIFLOAT8 x1")
        if s1 != E8M0 or s2 != E8M0:
            raise _error(sig, TILING, f"MX quantization needs FLOAT8_E8M0 x1Scale and x2Scale, got "
                                      f"{'null' if s1 is None else dtypes.label(s1)} and {dtypes.label(s2)}"
                                      + (" (FLOAT4_E2M1 x1 supports MX only)" if x == FP4 else ""))
        if not x2_transposed:
            raise _error(sig, TILING, "MX quantization needs a transposed x2 (x2Scale [n, ceil(k/64), 2])")
        if x1_scale.ndim != 3 or x2_scale.ndim != 3:
            raise _error(sig, TILING, f"MX x1Scale/x2Scale must be 3-D [rows, ceil(k/64), 2], got "
                                      f"{_shape(x1_scale)} and {_shape(x2_scale)}")
        _resolve_groups(sig, group_size, (m, n, k),
                        (x1_scale.shape[0], x2_scale.shape[0], 2 * x1_scale.shape[1]),
                        MX_GROUPS, "MX quantization")
        pairs = _cdiv(k, 64)
        if x1_scale.shape != (m, pairs, 2):
            raise _error(sig, TILING, f"x1Scale shape {_shape(x1_scale)} is not supported: MX needs [{m}, {pairs}, 2]")
        if x2_scale.shape != (n, pairs, 2):
            raise _error(sig, TILING, f"x2Scale shape {_shape(x2_scale)} is not supported: MX needs [{n}, {pairs}, 2]")
        if x == FP4 and (k % 2 or _cdiv(k, 32) % 2):
            raise _error(sig, TILING, f"FLOAT4_E2M1 x1 needs k even and ceil(k/32) even, got k = {k}")
        return 4
    if s2 == FP32:
        if s1 != FP32:
            raise _error(sig, TILING, f"FLOAT32 x2Scale needs a FLOAT32 x1Scale for {dtypes.label(x)} x1")
        if x1_scale.ndim == 1:
            _no_group_size(sig, group_size)
            _per_token(sig, x1_scale, m)
            _per_channel(sig, x2_scale, n)
            return 6
        if x1_scale.ndim < 2 or x2_scale.ndim < 2:
            raise _error(sig, TILING, f"x1Scale {_shape(x1_scale)} with x2Scale {_shape(x2_scale)} is not supported: "
                          f"FLOAT32 scales are pertoken (1-D x1Scale [m]) or perblock (x1Scale "
                          f"[.., ceil(rows/128), ceil(k/128)] and 2-D x2Scale)")
        if bias is not None:
            raise _error(sig, TILING, "bias must be null in perblock quantization")
        rows = x1.shape[-2]
        _resolve_groups(sig, group_size, (rows, n, k),
                        (x1_scale.shape[-2], x2_scale.shape[0 if x2_transposed else 1],
                         x1_scale.shape[-1]), PERBLOCK_GROUPS, "perblock quantization")
        kb, nb = _cdiv(k, 128), _cdiv(n, 128)
        want1 = x1.shape[:-2] + (_cdiv(rows, 128), kb)
        want2 = (nb, kb) if x2_transposed else (kb, nb)
        if x1_scale.shape != want1:
            raise _error(sig, TILING, f"x1Scale shape {_shape(x1_scale)} is not supported: perblock "
                                      f"needs {list(want1)}")
        if x2_scale.shape != want2:
            raise _error(sig, TILING, f"x2Scale shape {_shape(x2_scale)} is not supported: perblock "
                                      f"needs {list(want2)}")
        return 7
    if s2 not in (UINT64, INT64):
        raise _error(sig, TILING, f"x2Scale dtype {dtypes.label(s2)} is not supported for {dtypes.label(x)} "
                                  f"x1: expected UINT64/INT64, FLOAT32 or FLOAT8_E8M0")
    if x1_scale is not None:
        raise _error(sig, TILING, "a UINT64/INT64 x2Scale (pertensor/perchannel) needs a null x1Scale")
    _no_group_size(sig, group_size)
    _per_channel(sig, x2_scale, n)
    return 5
