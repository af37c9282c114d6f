"""What one call of the MatmulAllReduce family is: its entry point and its classification.

One operator (ops-transformer mc2/matmul_all_reduce: one op definition, one kernel family),
eleven entry points of three kinds:

* ``quant``: aclnnQuantMatmulAllReduce V1-V5. V4's arguments are the canonical ones (``x1,
  x2, bias, x3, x1_scale, x2_scale, comm_quant_scale_1/2, group, reduce_op, comm_turn,
  stream_mode, group_size, comm_quant_mode, output``; V5 adds ``comm_mode``); V1, V2 and V3
  are V4 calls restricted to INT8: formula 2 (V1), 2 or 3 (V2), 2, 3 or 1 (V3) of the V4
  document;
* ``float``: aclnnMatmulAllReduce V1-V3, FLOAT16/BFLOAT16 without quantization (V2 adds
  ``x3``, V3 ``comm_mode``);
* ``weight``: aclnnWeightQuantMatmulAllReduce (V2 adds ``comm_mode``), weight-only
  quantization with ``antiquant_scale``, ``antiquant_offset`` and ``antiquant_group_size``.

A :class:`Signature` names each header parameter of an entry point with the canonical
arguments (its snake case, or ``renamed``: V1-V3's ``dequantScale`` -> x2_scale,
``pertokenScaleOptional`` -> x1_scale) and lists the dtypes its aclnn layer accepts.

:func:`classify` reads a call's descriptors once into a :class:`QuantMatmulAllReduceCall`: the doc
formula (1..8) and the local product it computes, the dtypes (canonical names), m/k/n,
the x2 layout and the groupSize resolved against the perblock/MX group sizes. The
rules (:mod:`.rules`) validate the call against it and return it; the golden
(:mod:`.golden`), the binding and the mock compute from it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Mapping

from .. import catalogue, dtypes, signatures
from ..descriptors import TensorDesc
from ..quant_params import decode_group_size

__all__ = ["MATMUL", "MATMUL_V2", "MATMUL_V3", "MX_GROUPS", "PERBLOCK_GROUPS", "QuantMatmulAllReduceCall",
           "SIGNATURES", "Signature", "TENSORS", "V1", "V2", "V3", "V4", "V5", "WEIGHT_QUANT", "WEIGHT_QUANT_V2",
           "classify", "classify_unquantized", "formula_of"]

#: (M, N, K) group sizes: perblock scales one 128x128 block of x1 rows x k and of k x n each;
#: MX scales 1 x 32 elements along k (E8M0 scales in pairs: [rows, ceil(k/64), 2]).
PERBLOCK_GROUPS = (128, 128, 128)
MX_GROUPS = (1, 1, 32)

#: The canonical tensor arguments of the family, inputs first, then the output.
TENSORS = ("x1", "x2", "bias", "x3", "x1_scale", "x2_scale", "comm_quant_scale_1",
           "comm_quant_scale_2", "antiquant_scale", "antiquant_offset", "output")


@dataclass(frozen=True)
class Signature:
    """One entry point: its name, its own checks, and its header's parameters as canonical arguments.

    The parameters are the header's (:func:`~aclnn_py.semantics.catalogue.project_signature`), named
    by their snake case except where ``renamed`` maps a header name onto V4's canonical argument.
    Dtype allow-lists are canonical names (:mod:`aclnn_py.semantics.codecs`).
    """

    op: str  # the phase-2 function, e.g. "aclnnQuantMatmulAllReduceV2"
    renamed: Mapping[str, str]  # header parameter name -> canonical argument, where not its snake case
    required: tuple[str, ...]  # 161001 null checks, canonical names in the entry point's order
    kind: str = "quant"  # "quant", "float" (MatmulAllReduce) or "weight" (WeightQuantMatmulAllReduce)
    # the quantized entry points' dtypes (canonical names) and V1-V3's own checks
    x_dtypes: tuple[str, ...] = ()
    x2_scale_dtypes: tuple[str, ...] = ()
    x1_scale_dtypes: tuple[str, ...] = ()
    bias_dtypes: tuple[str, ...] = ()
    legacy_checks: bool = False  # V1-V3: exact reduceOp, scale checks at aclnn level, ND x2 on 950

    @property
    def function(self) -> str:
        return f"{self.op}GetWorkspaceSize"

    @cached_property
    def header(self) -> signatures.Signature:
        """The header's parameters in order, with their canonical names."""
        return catalogue.project_signature(self.op)

    @cached_property
    def params(self) -> dict[str, str]:
        """Header parameter name -> canonical argument, in header order."""
        return {p.c_name: p.name for p in self.header.parameters}

    @property
    def parameters(self) -> tuple[str, ...]:
        """Phase-1 parameter names in header order, without workspaceSize and executor."""
        return tuple(self.params)

    @cached_property
    def tensors(self) -> tuple[str, ...]:
        """The canonical names of the tensor arguments, in header order (the output among them)."""
        return tuple(p.name for p in self.header.parameters if p.kind is signatures.Kind.TENSOR)

    def label(self, key: str) -> str:
        """The name a message uses for a canonical argument (``x2_scale`` -> ``dequantScale``)."""
        return self.header.label(key)

    def has(self, key: str) -> bool:
        return key in self.header.by_name

    @property
    def exact_reduce_op(self) -> bool:
        """reduceOp compared whole (strcmp: every entry point but V4 and V5, which compare three
        characters: strncmp)."""
        return self.legacy_checks or self.kind != "quant"


_COMM = {"commQuantScale1Optional": "comm_quant_scale_1", "commQuantScale2Optional": "comm_quant_scale_2"}
_DEQUANT = {"dequantScale": "x2_scale"}
_LEGACY = {**_DEQUANT, "pertokenScaleOptional": "x1_scale"}

#: V1's dequantScale dtypes are V2's: the code shares one list (hicann/ops-transformer
#: mc2/matmul_all_reduce/op_api/matmul_all_reduce_util.cpp, DTYPE_SUPPORT_LIST_DEQUANT in
#: QuantMatmulAllReduceCheckDtypeValid), although V1's document lists INT64/UINT64/BFLOAT16 only;
#: the code decides. The tiling stage then takes a FLOAT dequantScale only with a pertokenScale,
#: which V1 has not: a FLOAT dequantScale reaches V1's tiling and fails there (561002).
V1 = Signature(
    op="aclnnQuantMatmulAllReduce", renamed=_DEQUANT,
    required=("x1", "x2", "output", "x2_scale"), x_dtypes=("int8",),
    x2_scale_dtypes=("int64", "uint64", "float32", "bfloat16"), x1_scale_dtypes=(), bias_dtypes=("int32",),
    legacy_checks=True)
V2 = Signature(
    op="aclnnQuantMatmulAllReduceV2", renamed=_LEGACY,
    required=("x1", "x2", "output", "x2_scale"), x_dtypes=("int8",),
    x2_scale_dtypes=("int64", "uint64", "float32", "bfloat16"), x1_scale_dtypes=("float32",),
    bias_dtypes=("int32",), legacy_checks=True)
V3 = Signature(
    op="aclnnQuantMatmulAllReduceV3", renamed={**_LEGACY, **_COMM},
    required=("x1", "x2", "x2_scale", "output"), x_dtypes=("int8",),
    x2_scale_dtypes=("int64", "uint64", "float32", "bfloat16"), x1_scale_dtypes=("float32",),
    bias_dtypes=("int32",), legacy_checks=True)
V4 = Signature(
    op="aclnnQuantMatmulAllReduceV4", renamed=_COMM,
    required=("x1", "x2", "x2_scale", "output"),
    x_dtypes=("int8", "float8_e4m3fn", "float8_e5m2", "hifloat8", "float4_e2m1"),
    x2_scale_dtypes=("uint64", "int64", "bfloat16", "float32", "float8_e8m0"),
    x1_scale_dtypes=("float32", "float8_e8m0"), bias_dtypes=("int32", "float32"), legacy_checks=False)

#: V4 plus commMode (aclnn_quant_matmul_all_reduce_v5.cpp: V4's checks, then IsCommModeValid).
V5 = replace(V4, op="aclnnQuantMatmulAllReduceV5")
#: aclnnMatmulAllReduce V1-V3: FLOAT16/BFLOAT16 x1, x2, bias, x3 and output of one dtype
#: (matmul_all_reduce_util.cpp, MatmulAllReduceCheckParams); V3 adds commMode.
MATMUL = Signature(op="aclnnMatmulAllReduce", renamed={}, required=("x1", "x2", "output"), kind="float")
MATMUL_V2 = replace(MATMUL, op="aclnnMatmulAllReduceV2")
MATMUL_V3 = replace(MATMUL, op="aclnnMatmulAllReduceV3")
#: aclnnWeightQuantMatmulAllReduce (aclnn_weight_quant_matmul_all_reduce.cpp, CheckNotNull: x1, x2,
#: antiquantScale, output); V2 adds commMode.
WEIGHT_QUANT = Signature(op="aclnnWeightQuantMatmulAllReduce", renamed={},
                         required=("x1", "x2", "antiquant_scale", "output"), kind="weight")
WEIGHT_QUANT_V2 = replace(WEIGHT_QUANT, op="aclnnWeightQuantMatmulAllReduceV2")

SIGNATURES = {s.op: s for s in (V1, V2, V3, V4, V5, MATMUL, MATMUL_V2, MATMUL_V3, WEIGHT_QUANT, WEIGHT_QUANT_V2)}


@dataclass(frozen=True)
class QuantMatmulAllReduceCall:
    """What a call of the family computes. Returned by the rules for a valid call; :func:`classify`
    also describes calls the rules go on to reject (then ``formula`` is what the call asks for).

    The unquantized kinds (``float``, ``weight``) have formula and local product 0: their local
    product is the float matmul (of x2 dequantized by its antiquant scale and offset for
    ``weight``), their AllReduce the plain sum of formulas 2-7."""

    formula: int  # 1..8 as numbered in the V4 doc; 0 for the float and weight-only kinds
    local: int  # the local product, 2..7 (formula 1 computes 2 or 3, formula 8 computes 6 or 7); 0 likewise
    x_dtype: str  # canonical names (aclnn_py.semantics.codecs); x1's
    out_dtype: str
    x1_scale_dtype: str | None
    x2_scale_dtype: str | None  # None for the unquantized kinds
    m: int  # rows of x1 (b*s for 3-D x1)
    k: int
    n: int
    x2_transposed: bool
    x2_nz: bool
    has_comm_quant_scales: bool
    comm_quant_mode: int
    #: (M, N, K) group sizes of a perblock (7) or MX (4) call once groupSize fits the mode;
    #: None for the other modes and while it does not fit.
    group_sizes: tuple[int, int, int] | None
    #: Why groupSize does not fit the perblock/MX mode (a 561002 of the rules), else None.
    group_size_error: str | None = None
    kind: str = "quant"  # the entry point's (Signature.kind)
    x2_dtype: str | None = None  # the weight's dtype (weight kind: INT8, INT4, FP8, HiF8)
    antiquant_group_size: int = 0  # rows of k per antiquant scale row (weight kind, per group)

    @property
    def product(self) -> int | str:
        """What :mod:`.golden` computes locally: the local formula (quant), else the kind."""
        return self.local if self.kind == "quant" else self.kind


def formula_of(local: int, has_comm_quant_scales: bool, comm_quant_mode: int) -> int:
    """The doc formula of a call whose local product is ``local``: 8 with per-tile FP8
    communication (commQuantMode 1), 1 with low-bit INT8 communication (both
    commQuantScales), ``local`` otherwise (0 stands for "no communication quantization")."""
    if comm_quant_mode == 1:
        return 8
    return 1 if has_comm_quant_scales else local


def _local_formula(x: str, s1: str | None, s2: str, s1_ndim: int) -> int:
    """The local product the dtypes ask for (the rules then check that the call fits it).

    INT8: pertoken (3) with an x1Scale, else pertensor/perchannel (2). The 8/4-bit
    floats: MX (4) as soon as a scale is FLOAT8_E8M0 or x1 is FLOAT4_E2M1; FLOAT32
    x2Scale: pertoken (6) with a 1-D x1Scale, else perblock (7); otherwise the packed
    pertensor/perchannel scale (5).
    """
    if x == "int8":
        return 3 if s1 is not None else 2
    if "float8_e8m0" in (s1, s2) or x == "float4_e2m1":
        return 4
    if s2 == "float32":
        return 6 if s1 is not None and s1_ndim == 1 else 7
    return 5


def _group_extents(local: int, x1: TensorDesc, x1_scale: TensorDesc | None, x2_scale: TensorDesc,
                   m: int, k: int, n: int, x2_transposed: bool):
    """((M, N, K) dims, their scale extents, the required group sizes, the mode's name), or None
    when the mode reads no groupSize or the scale ranks do not allow it (the rules reject those)."""
    if x1_scale is None:
        return None
    if local == 4 and x1_scale.ndim == 3 and x2_scale.ndim == 3:
        return ((m, n, k), (x1_scale.shape[0], x2_scale.shape[0], 2 * x1_scale.shape[1]), MX_GROUPS,
                "MX quantization")
    if local == 7 and x1_scale.ndim >= 2 and x2_scale.ndim >= 2:
        return ((x1.shape[-2], n, k),
                (x1_scale.shape[-2], x2_scale.shape[0 if x2_transposed else 1], x1_scale.shape[-1]),
                PERBLOCK_GROUPS, "perblock quantization")
    return None


def _resolve_group_size(group_size: int, dims, scale_dims, required, mode: str) -> tuple[tuple, str | None]:
    """Infer the zero fields of ``group_size`` as dim / scale extent and require ``required``:
    ``(required, None)``, or ``(None, why not)``."""
    try:
        fields = decode_group_size(group_size)
    except ValueError:
        return None, f"groupSize {group_size} is invalid: expected k | n << 16 | m << 32"
    resolved = []
    for axis, g, d, s in zip("MNK", fields, dims, scale_dims):
        if g == 0:
            if s == 0 or d % s:
                return None, (f"groupSize{axis} cannot be inferred: {d} is not divisible by the scale's "
                              f"{axis} extent {s}; pass groupSize explicitly")
            g = d // s
        resolved.append(g)
    if tuple(resolved) != required:
        return None, f"groupSize resolves to (M, N, K) = {tuple(resolved)}; {mode} needs {required}"
    return required, None


def classify(*, x1: TensorDesc, x2: TensorDesc, x2_scale: TensorDesc, output: TensorDesc,
             x1_scale: TensorDesc | None = None, comm_quant_scale_1: TensorDesc | None = None,
             comm_quant_scale_2: TensorDesc | None = None, group_size: int = 0,
             comm_quant_mode: int = 0) -> QuantMatmulAllReduceCall:
    """Classify a call whose dtypes and shapes the rules' 161002 stages accepted (known dtypes,
    x1 2-D/3-D, x2 2-D with x1's k); never raises for such a call."""
    k, n = x2.shape
    x2_transposed = x2.is_transposed()
    s1 = None if x1_scale is None else dtypes.name(x1_scale.dtype)
    x, s2 = dtypes.name(x1.dtype), dtypes.name(x2_scale.dtype)
    local = _local_formula(x, s1, s2, 0 if x1_scale is None else x1_scale.ndim)
    has_comm = comm_quant_scale_1 is not None and comm_quant_scale_2 is not None
    m = x1.numel // k if k else 0
    extents = _group_extents(local, x1, x1_scale, x2_scale, m, k, n, x2_transposed)
    groups, error = (None, None) if extents is None else _resolve_group_size(group_size, *extents)
    return QuantMatmulAllReduceCall(
        formula=formula_of(local, has_comm, comm_quant_mode), local=local, x_dtype=x,
        out_dtype=dtypes.name(output.dtype), x1_scale_dtype=s1, x2_scale_dtype=s2, m=m, k=k, n=n,
        x2_transposed=x2_transposed, x2_nz=x2.is_nz, has_comm_quant_scales=has_comm,
        comm_quant_mode=comm_quant_mode, group_sizes=groups, group_size_error=error)


def classify_unquantized(kind: str, *, x1: TensorDesc, x2: TensorDesc, output: TensorDesc,
                         antiquant_group_size: int = 0) -> QuantMatmulAllReduceCall:
    """Classify a float (MatmulAllReduce) or weight-only (WeightQuantMatmulAllReduce) call whose
    dtypes and shapes the rules accepted (x1 2-D/3-D, x2 2-D with x1's k); never raises for one."""
    k, n = x2.shape
    return QuantMatmulAllReduceCall(
        formula=0, local=0, x_dtype=dtypes.name(x1.dtype), out_dtype=dtypes.name(output.dtype),
        x1_scale_dtype=None, x2_scale_dtype=None, m=math.prod(x1.shape[:-1]), k=k, n=n,
        x2_transposed=x2.is_transposed(), x2_nz=x2.is_nz, has_comm_quant_scales=False, comm_quant_mode=0,
        group_sizes=None, kind=kind, x2_dtype=dtypes.name(x2.dtype),
        antiquant_group_size=antiquant_group_size if kind == "weight" else 0)
