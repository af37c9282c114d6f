"""Argument rules of aclnnQuantMatmulAllReduceV4GetWorkspaceSize (semantics.md §6.1).

:func:`check` validates the descriptors in CANN's order and returns a
:class:`QmmarPlan` (the formula and the sizes the operator needs):

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

Every rank and shape is checked before it is indexed: FLOAT32 scales are either
pertoken (1-D x1Scale) or perblock (x1Scale and x2Scale >= 2-D); any other pair
(a 0-d x1Scale, say) is 561002.

Choices: formula 5 (FP8/HiF8 with a packed UINT64 scale) accepts FLOAT32 output
(formula text) although the dtype table lists FLOAT16/BFLOAT16 only; groupSize
must be 0 unless both scales are >= 2-D (the doc's "其他场景需传入0"); the
"x3 only with BFLOAT16 output" wording of the low-bit int8 path is not enforced.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import dtypes
from .._cdef import load
from ..descriptors import TensorDesc
from ..errors import AclnnInternalError, AclnnParamError, AclnnRuntimeError
from ..golden import nz as _nz
from ..golden.quant_params import decode_group_size

__all__ = ["FUNCTION", "QmmarPlan", "check", "check_rank_count", "allowed_rank_counts"]

FUNCTION = "aclnnQuantMatmulAllReduceV4GetWorkspaceSize"
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
X2_SCALE_DTYPES = (UINT64, INT64, BF16, FP32, E8M0)
X1_SCALE_DTYPES = (FP32, E8M0)
BIAS_DTYPES = (INT32, FP32)
INT8_OUT = (FP16, BF16)
FLOAT_OUT = (FP16, BF16, FP32)
COMM_SCALE_DTYPES = (FP16, BF16)
A2_ONLY = {"x1": (INT8,), "x2": (INT8,), "x2Scale": (UINT64, INT64, BF16, FP32), "x1Scale": (FP32,)}
PERBLOCK_GROUPS = (128, 128, 128)
MX_GROUPS = (1, 1, 32)
MAX_K = 65535
MAX_M = 2**31 - 1


def allowed_rank_counts(profile: str) -> tuple[int, ...]:
    """Rank counts the operator supports on a profile (A2: 1/2/4/8; 950: powers of two to 64)."""
    return (1, 2, 4, 8) if profile == "A2" else (1, 2, 4, 8, 16, 32, 64)


@dataclass(frozen=True)
class QmmarPlan:
    """What a valid call computes: the doc formula and the operand sizes."""

    formula: int  # 1..8 as numbered in the doc
    x_dtype: str  # canonical names (aclnn_py.formats)
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


def _invalid(message: str):
    return AclnnParamError(INVALID, FUNCTION, message)


def _tiling(message: str):
    return AclnnInternalError(TILING, FUNCTION, message)


def _dtype_in(desc: TensorDesc, what: str, allowed, suffix: str = "") -> None:
    if desc.dtype not in allowed:
        raise _invalid(f"{what} dtype {dtypes.label(desc.dtype)} is not supported{suffix}: "
                       f"expected {_label_list(allowed)}")


def check_profile(profile: str) -> None:
    if profile == "A3":
        raise AclnnRuntimeError(RUNTIME, FUNCTION,
                                "aclnnQuantMatmulAllReduceV4 is not supported on Atlas A3 (SoC "
                                "profile A3): supported are Atlas A2 and Ascend 950")
    if profile not in ("A2", "950"):
        raise AclnnRuntimeError(RUNTIME, FUNCTION, f"unknown SoC profile {profile!r}")


def check_rank_count(profile: str, rank_size: int) -> None:
    """561002 unless the communicator size is supported on ``profile``."""
    allowed = allowed_rank_counts(profile)
    if rank_size not in allowed:
        name = "Atlas A2" if profile == "A2" else "Ascend 950"
        raise _tiling(f"group rank count {rank_size} is not supported on {name}: expected "
                      f"{', '.join(str(r) for r in allowed[:-1])} or {allowed[-1]} ranks")


def check(*, x1: TensorDesc | None, x2: TensorDesc | None, x2_scale: TensorDesc | None,
          output: TensorDesc | None, reduce_op: str | None, bias: TensorDesc | None = None,
          x3: TensorDesc | None = None, x1_scale: TensorDesc | None = None,
          comm_quant_scale_1: TensorDesc | None = None,
          comm_quant_scale_2: TensorDesc | None = None, comm_turn: int = 0,
          stream_mode: int = 1, group_size: int = 0, comm_quant_mode: int = 0,
          profile: str = "A2", rank_size: int | None = None) -> QmmarPlan:
    """Validate one aclnnQuantMatmulAllReduceV4GetWorkspaceSize call.

    Raises AclnnRuntimeError (361001, Atlas A3), AclnnParamError (161001/161002)
    or AclnnInternalError (561002); returns the :class:`QmmarPlan` otherwise.
    ``rank_size`` (the communicator size) is checked when given.
    """
    check_profile(profile)
    # -- 161001 null pointers
    for what, desc in (("x1", x1), ("x2", x2), ("x2Scale", x2_scale), ("output", output)):
        if desc is None:
            raise AclnnParamError(NULLPTR, FUNCTION, f"{what} is a null pointer: {what} is required")
    if reduce_op is None:
        raise AclnnParamError(NULLPTR, FUNCTION, 'reduceOp is a null pointer: expected "sum"')
    assert x1 is not None and x2 is not None and x2_scale is not None and output is not None

    # -- 161002 dtypes
    a2 = profile == "A2"
    suffix = " on Atlas A2"
    _dtype_in(x1, "x1", X_DTYPES)
    _dtype_in(x2, "x2", X_DTYPES)
    if a2:
        _dtype_in(x1, "x1", A2_ONLY["x1"], suffix)
        _dtype_in(x2, "x2", A2_ONLY["x2"], suffix)
    _dtype_in(x2_scale, "x2Scale", X2_SCALE_DTYPES)
    if a2:
        _dtype_in(x2_scale, "x2Scale", A2_ONLY["x2Scale"], suffix)
    int8 = x1.dtype == INT8
    out_allowed = INT8_OUT if int8 else FLOAT_OUT
    if output.dtype not in out_allowed:
        raise _invalid(f"output dtype {dtypes.label(output.dtype)} is not supported for "
                       f"{dtypes.label(x1.dtype)} x1: expected {_label_list(out_allowed)}")
    if bias is not None:
        _dtype_in(bias, "bias", BIAS_DTYPES)
    if x3 is not None and x3.dtype != output.dtype:
        raise _invalid(f"x3 dtype {dtypes.label(x3.dtype)} is not supported: x3 must have the "
                       f"output dtype {dtypes.label(output.dtype)}")
    if int8 and (output.dtype == BF16 or x2_scale.dtype == BF16) and x2_scale.dtype != output.dtype:
        raise _invalid(f"x2Scale dtype {dtypes.label(x2_scale.dtype)} does not match output dtype "
                       f"{dtypes.label(output.dtype)}: for INT8 x1 a BFLOAT16 output needs a "
                       f"BFLOAT16 x2Scale and a BFLOAT16 x2Scale needs a BFLOAT16 output")
    if x1_scale is not None:
        _dtype_in(x1_scale, "x1Scale", X1_SCALE_DTYPES)
        if a2:
            _dtype_in(x1_scale, "x1Scale", A2_ONLY["x1Scale"], suffix)
    both_comm = comm_quant_scale_1 is not None and comm_quant_scale_2 is not None
    if both_comm:
        for what, desc in (("commQuantScale1", comm_quant_scale_1),
                           ("commQuantScale2", comm_quant_scale_2)):
            assert desc is not None
            if desc.dtype not in COMM_SCALE_DTYPES or desc.dtype != output.dtype:
                raise _invalid(f"{what} dtype {dtypes.label(desc.dtype)} is not supported: "
                               f"expected FLOAT16 or BFLOAT16 equal to the output dtype "
                               f"{dtypes.label(output.dtype)}")

    # -- 161002 attributes
    if reduce_op[:3] != "sum":
        raise _invalid(f'reduceOp "{reduce_op}" is not supported: only "sum"')
    if stream_mode != 1:
        raise _invalid(f"streamMode {stream_mode} is not supported: only 1 (ACL_STOP_ON_FAILURE)")

    # -- 161002 shapes
    if x1.ndim not in (2, 3):
        raise _invalid(f"x1 must be 2-D (m, k) or 3-D (b, s, k), got shape {_shape(x1)}")
    if not x1.is_contiguous() or x1.is_nz:
        raise _invalid("x1 must be a contiguous ND tensor (x1 cannot be transposed)")
    if x2.ndim != 2:
        raise _invalid(f"x2 must be 2-D (k, n), got shape {_shape(x2)}")
    x2_nz = x2.is_nz
    x2_transposed = x2.is_transposed()
    if x2_nz:
        if x2.dtype != INT8:
            raise _invalid(f"x2 in FRACTAL_NZ format must be INT8 (made by aclnnTransMatmulWeight), "
                           f"got {dtypes.label(x2.dtype)}")
        expected = _nz.nz_storage_shape(x2.shape, "int8")
        if tuple(x2.storage_shape) != expected:
            raise _invalid(f"x2 FRACTAL_NZ storage shape {list(x2.storage_shape)} does not match its "
                           f"view shape {_shape(x2)}: expected {list(expected)}")
    elif not (x2.is_contiguous() or x2_transposed):
        raise _invalid("x2 must be contiguous or a transposed view of the last two dims "
                       "(no other non-contiguous x2 is supported)")
    k, n = x2.shape
    if x1.shape[-1] != k:
        raise _invalid(f"x1 last dim {x1.shape[-1]} must equal x2 k dim {k} "
                       f"(x1 {_shape(x1)}, x2 {_shape(x2)})")
    for what, desc in (("x1", x1), ("x2", x2)):
        if desc.numel == 0:
            raise _invalid(f"{what} is empty (shape {_shape(desc)}): empty tensors are not supported")
    expected_out = x1.shape[:-1] + (n,)
    if output.shape != expected_out:
        raise _invalid(f"output shape {_shape(output)} must be x1 shape with last dim n: expected "
                       f"[{', '.join(str(d) for d in expected_out)}]")
    if bias is not None and bias.shape != (n,):
        raise _invalid(f"bias must be 1-D of length n = {n}, got shape {_shape(bias)}")
    if x3 is not None and x3.shape != output.shape:
        raise _invalid(f"x3 shape {_shape(x3)} must equal the output shape {_shape(output)}")

    # -- 561002 tiling-level rules
    m = x1.numel // k
    if m > MAX_M:
        raise _tiling(f"x1 m = {m} exceeds the limit 2147483647")
    if k > MAX_K:
        raise _tiling(f"x1 last dim k = {k} exceeds the limit 65535")
    if x2.shape[0 if x2_transposed else 1] > MAX_K:
        raise _tiling(f"x2 last dim {x2.shape[0 if x2_transposed else 1]} exceeds the limit 65535")
    for what, desc in (("bias", bias), ("x3", x3), ("x1Scale", x1_scale), ("x2Scale", x2_scale),
                       ("commQuantScale1", comm_quant_scale_1),
                       ("commQuantScale2", comm_quant_scale_2)):
        if desc is not None and desc.numel == 0:
            raise _tiling(f"{what} is empty (shape {_shape(desc)}): empty tensors are not supported")
    if x2.dtype != x1.dtype:
        raise _tiling(f"x2 dtype {dtypes.label(x2.dtype)} must equal x1 dtype {dtypes.label(x1.dtype)}")
    if comm_turn != 0:
        raise _tiling(f"commTurn {comm_turn} is not supported: only 0")
    if comm_quant_mode not in (0, 1):
        raise _tiling(f"commQuantMode {comm_quant_mode} is not supported: expected 0 or 1")
    if comm_quant_mode == 1:
        if a2:
            raise _tiling("commQuantMode 1 (per-tile FP8 communication) is not supported on Atlas A2")
        if x1.dtype not in (E4M3, E5M2):
            raise _tiling(f"commQuantMode 1 needs FLOAT8_E4M3FN or FLOAT8_E5M2 x1, got "
                          f"{dtypes.label(x1.dtype)}")
    if (comm_quant_scale_1 is None) != (comm_quant_scale_2 is None):
        raise _tiling("commQuantScale1 and commQuantScale2 must both be null or both be given")
    if both_comm:
        assert comm_quant_scale_1 is not None and comm_quant_scale_2 is not None
        if not int8:
            raise _tiling("commQuantScale1/commQuantScale2 (low-bit communication) are only "
                          "supported for INT8 x1")
        if comm_quant_mode != 0:
            raise _tiling("commQuantScale1/commQuantScale2 need commQuantMode 0")
        for what, desc in (("commQuantScale1", comm_quant_scale_1),
                           ("commQuantScale2", comm_quant_scale_2)):
            if desc.shape not in ((n,), (1, n)):
                raise _tiling(f"{what} shape {_shape(desc)} is not supported: expected [{n}] or [1, {n}]")
        if comm_quant_scale_1.shape != comm_quant_scale_2.shape:
            raise _tiling(f"commQuantScale1 shape {_shape(comm_quant_scale_1)} must equal "
                          f"commQuantScale2 shape {_shape(comm_quant_scale_2)}")

    local = (_int8_mode if int8 else _float_mode)(
        x1, x2, x2_scale, x1_scale, bias, output, m, k, n, x2_transposed, group_size)
    formula = 1 if both_comm else (8 if comm_quant_mode == 1 else local)
    if formula == 8 and local not in (6, 7):
        raise _tiling("commQuantMode 1 needs FLOAT32 x1Scale and x2Scale (pertoken or perblock)")
    if rank_size is not None:
        check_rank_count(profile, rank_size)
    return QmmarPlan(
        formula=formula, x_dtype=dtypes.name(x1.dtype), out_dtype=dtypes.name(output.dtype),
        x1_scale_dtype=None if x1_scale is None else dtypes.name(x1_scale.dtype),
        x2_scale_dtype=dtypes.name(x2_scale.dtype), m=m, k=k, n=n,
        x2_transposed=x2_transposed, x2_nz=x2_nz, has_comm_quant_scales=both_comm)


def _per_channel(x2_scale: TensorDesc, n: int) -> None:
    if x2_scale.shape not in ((1,), (n,), (1, n)):
        raise _tiling(f"x2Scale shape {_shape(x2_scale)} is not supported: expected [1] "
                      f"(pertensor), [{n}] or [1, {n}] (perchannel)")


def _per_token(x1_scale: TensorDesc, m: int) -> None:
    if x1_scale.shape != (m,):
        raise _tiling(f"x1Scale shape {_shape(x1_scale)} is not supported: pertoken x1Scale "
                      f"must be [{m}] (m, or b*s for 3-D x1)")


def _no_group_size(group_size: int) -> None:
    if group_size != 0:
        raise _tiling(f"groupSize {group_size} must be 0 unless x1Scale and x2Scale are both "
                      f">= 2-D (perblock, MX)")


def _int8_mode(x1, x2, x2_scale, x1_scale, bias, output, m, k, n, x2_transposed, group_size) -> int:
    if bias is not None and bias.dtype != INT32:
        raise _tiling(f"bias dtype {dtypes.label(bias.dtype)} is not supported for INT8 x1: expected INT32")
    _no_group_size(group_size)
    if output.dtype == FP16:
        wanted = (FP32,) if x1_scale is not None else (UINT64, INT64)
        if x2_scale.dtype not in wanted:
            how = "with" if x1_scale is not None else "without"
            raise _tiling(f"x2Scale dtype {dtypes.label(x2_scale.dtype)} is not supported for INT8 "
                          f"x1 and FLOAT16 output {how} x1Scale: expected {_label_list(wanted)}")
    if x1_scale is not None:
        if x1_scale.dtype != FP32:
            raise _tiling(f"x1Scale dtype {dtypes.label(x1_scale.dtype)} is not supported for "
                          f"INT8 x1: expected FLOAT32 (pertoken)")
        _per_token(x1_scale, m)
    _per_channel(x2_scale, n)
    return 3 if x1_scale is not None else 2


def _resolve_groups(group_size: int, dims, scale_dims, required, mode: str) -> None:
    try:
        fields = decode_group_size(group_size)
    except ValueError:
        raise _tiling(f"groupSize {group_size} is invalid: expected k | n << 16 | m << 32") from None
    resolved = []
    for axis, g, d, s in zip("MNK", fields, dims, scale_dims):
        if g == 0:
            if s == 0 or d % s:
                raise _tiling(f"groupSize{axis} cannot be inferred: {d} is not divisible by the "
                              f"scale's {axis} extent {s}; pass groupSize explicitly")
            g = d // s
        resolved.append(g)
    if tuple(resolved) != required:
        raise _tiling(f"groupSize resolves to (M, N, K) = {tuple(resolved)}; {mode} needs {required}")


def _float_mode(x1, x2, x2_scale, x1_scale, bias, output, m, k, n, x2_transposed, group_size) -> int:
    x = x1.dtype
    if bias is not None and bias.dtype != FP32:
        raise _tiling(f"bias dtype {dtypes.label(bias.dtype)} is not supported for "
                      f"{dtypes.label(x)} x1: expected FLOAT32")
    s1 = None if x1_scale is None else x1_scale.dtype
    s2 = x2_scale.dtype
    if s1 == E8M0 or s2 == E8M0 or x == FP4:  # MX
        if x == HIF8:
            raise _tiling("MX quantization (FLOAT8_E8M0 scales) does not support HIFLOAT8 x1")
        if s1 != E8M0 or s2 != E8M0:
            raise _tiling(f"MX quantization needs FLOAT8_E8M0 x1Scale and x2Scale, got "
                          f"{'null' if s1 is None else dtypes.label(s1)} and {dtypes.label(s2)}"
                          + (" (FLOAT4_E2M1 x1 supports MX only)" if x == FP4 else ""))
        if not x2_transposed:
            raise _tiling("MX quantization needs a transposed x2 (x2Scale [n, ceil(k/64), 2])")
        if x1_scale.ndim != 3 or x2_scale.ndim != 3:
            raise _tiling(f"MX x1Scale/x2Scale must be 3-D [rows, ceil(k/64), 2], got "
                          f"{_shape(x1_scale)} and {_shape(x2_scale)}")
        _resolve_groups(group_size, (m, n, k),
                        (x1_scale.shape[0], x2_scale.shape[0], 2 * x1_scale.shape[1]),
                        MX_GROUPS, "MX quantization")
        pairs = _cdiv(k, 64)
        if x1_scale.shape != (m, pairs, 2):
            raise _tiling(f"x1Scale shape {_shape(x1_scale)} is not supported: MX needs [{m}, {pairs}, 2]")
        if x2_scale.shape != (n, pairs, 2):
            raise _tiling(f"x2Scale shape {_shape(x2_scale)} is not supported: MX needs [{n}, {pairs}, 2]")
        if x == FP4 and (k % 2 or _cdiv(k, 32) % 2):
            raise _tiling(f"FLOAT4_E2M1 x1 needs k even and ceil(k/32) even, got k = {k}")
        return 4
    if s2 == FP32:
        if s1 != FP32:
            raise _tiling(f"FLOAT32 x2Scale needs a FLOAT32 x1Scale for {dtypes.label(x)} x1")
        if x1_scale.ndim == 1:
            _no_group_size(group_size)
            _per_token(x1_scale, m)
            _per_channel(x2_scale, n)
            return 6
        if x1_scale.ndim < 2 or x2_scale.ndim < 2:
            raise _tiling(f"x1Scale {_shape(x1_scale)} with x2Scale {_shape(x2_scale)} is not supported: "
                          f"FLOAT32 scales are pertoken (1-D x1Scale [m]) or perblock (x1Scale "
                          f"[.., ceil(rows/128), ceil(k/128)] and 2-D x2Scale)")
        if bias is not None:
            raise _tiling("bias must be null in perblock quantization")
        rows = x1.shape[-2]
        _resolve_groups(group_size, (rows, n, k),
                        (x1_scale.shape[-2], x2_scale.shape[0 if x2_transposed else 1],
                         x1_scale.shape[-1]), PERBLOCK_GROUPS, "perblock quantization")
        kb, nb = _cdiv(k, 128), _cdiv(n, 128)
        want1 = x1.shape[:-2] + (_cdiv(rows, 128), kb)
        want2 = (nb, kb) if x2_transposed else (kb, nb)
        if x1_scale.shape != want1:
            raise _tiling(f"x1Scale shape {_shape(x1_scale)} is not supported: perblock needs {list(want1)}")
        if x2_scale.shape != want2:
            raise _tiling(f"x2Scale shape {_shape(x2_scale)} is not supported: perblock needs {list(want2)}")
        return 7
    if s2 not in (UINT64, INT64):
        raise _tiling(f"x2Scale dtype {dtypes.label(s2)} is not supported for {dtypes.label(x)} "
                      f"x1: expected UINT64/INT64, FLOAT32 or FLOAT8_E8M0")
    if x1_scale is not None:
        raise _tiling("a UINT64/INT64 x2Scale (pertensor/perchannel) needs a null x1Scale")
    _no_group_size(group_size)
    _per_channel(x2_scale, n)
    return 5
