"""The checks every entry point of the MatmulAllReduce family shares (:mod:`.rules` for the
quantized ones, :mod:`.unquantized_rules` for MatmulAllReduce and WeightQuantMatmulAllReduce).

Each names its upstream source; the code at ops-transformer 5778144076de (2026-08,
``mc2/matmul_all_reduce/op_api/``) decides where the documents and the code disagree. Messages
name the parameter by the entry point's header (:meth:`~.call.Signature.label`).
"""
from __future__ import annotations

import math
from dataclasses import replace

from .. import dtypes
from .. import nz as _nz
from ..descriptors import TensorDesc, shape_text
from ..status import INVALID, NULLPTR, RANK_COUNT, RUNTIME, TILING, Violation
from .call import V4, Signature

__all__ = ["allowed_rank_counts", "canonical_x2", "check_attributes", "check_comm_mode", "check_comm_turn",
           "check_formats", "check_nz_x2", "check_profile", "check_rank_count", "check_required", "check_shapes",
           "dtype_in", "dtype_label", "dtype_labels", "dtype_name", "error"]

#: The communication engines of commMode (matmul_all_reduce_util.h: COMM_MODE_AICPU, COMM_MODE_CCU).
COMM_MODES = {"A2": ("ai_cpu",), "950": ("ai_cpu", "ccu")}


def allowed_rank_counts(profile: str) -> tuple[int, ...]:
    """Rank counts the operator supports on a profile (A2: 1/2/4/8; 950: powers of two to 64)."""
    return (1, 2, 4, 8) if profile == "A2" else (1, 2, 4, 8, 16, 32, 64)


def dtype_name(desc: TensorDesc) -> str | None:
    """Canonical dtype name of a descriptor; None for a type no allow-list holds."""
    try:
        return dtypes.name(desc.dtype)
    except ValueError:
        return None


def dtype_label(name: str | None) -> str:
    return "null" if name is None else dtypes.label(dtypes.from_name(name))


def dtype_labels(names) -> str:
    labels = [dtype_label(n) for n in names]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " or " + labels[-1]


def error(sig: Signature, code: int, message: str) -> Violation:
    return Violation(code, sig.function, message)


def dtype_in(sig: Signature, desc: TensorDesc, key: str, allowed, suffix: str = "") -> None:
    if dtype_name(desc) not in allowed:
        raise error(sig, INVALID, f"{sig.label(key)} dtype {dtypes.label(desc.dtype)} is not supported"
                                  f"{suffix}: expected {dtype_labels(allowed)}")


def check_profile(profile: str, signature: Signature = V4) -> None:
    """361001 on Atlas A3 (every entry point's document: not supported; 361001 is what CANN
    returns for an unsupported SoC elsewhere, e.g. aclnnCalculateMatmulWeightSizeV2)."""
    if profile == "A3":
        raise Violation(RUNTIME, signature.function,
                        f"{signature.op} is not supported on Atlas A3 (SoC profile A3): "
                        f"supported are Atlas A2 and Ascend 950")
    if profile not in ("A2", "950"):
        raise Violation(RUNTIME, signature.function, f"unknown SoC profile {profile!r}")


def check_required(sig: Signature, given: dict[str, TensorDesc | None], reduce_op: str | None) -> None:
    """161001 for a null required tensor (the entry point's order), then for a null reduceOp
    (V4/V5's CheckNotNull; the others would pass it to strcmp: our choice, never crash)."""
    for key in sig.required:
        if given[key] is None:
            what = sig.label(key)
            raise error(sig, NULLPTR, f"{what} is a null pointer: {what} is required")
    if reduce_op is None:
        raise error(sig, NULLPTR, 'reduceOp is a null pointer: expected "sum"')


def check_rank_count(profile: str, rank_size: int, signature: Signature = V4) -> None:
    """561002 unless the communicator size is supported on ``profile`` (a Violation whose
    ``rule`` is RANK_COUNT: CANN checks it at its tiling stage, hence the internal-looking code;
    matmul_all_reduce_tiling_base.cpp, CheckRanksizePlatformSupported)."""
    allowed = allowed_rank_counts(profile)
    if rank_size not in allowed:
        name = "Atlas A2" if profile == "A2" else "Ascend 950"
        raise Violation(TILING, signature.function,
                        f"group rank count {rank_size} is not supported on {name}: expected "
                        f"{', '.join(str(r) for r in allowed[:-1])} or {allowed[-1]} ranks (a rule of "
                        f"{signature.op} on the communicator's size, checked at its tiling stage: hence 561002)",
                        rule=RANK_COUNT)


def check_formats(sig: Signature, tensors: dict[str, TensorDesc | None]) -> None:
    """Only x2 may be FRACTAL_NZ (x1's layout is a shape rule); the others are ND: the op
    definition (op_host/matmul_all_reduce_def.cpp) lists ND for every other input and the
    output, so nnopbase refuses a private format there with 161002, whatever its storage shape."""
    for key, desc in tensors.items():
        if desc is not None and desc.is_private_format:
            raise error(sig, INVALID, f"{sig.label(key)} format {dtypes.format_label(desc.format)} is not "
                                      f"supported: expected ND (only x2 may be FRACTAL_NZ)")


def check_attributes(sig: Signature, reduce_op: str, stream_mode: int) -> None:
    """161002: reduceOp "sum" (strcmp; V4 and V5 strncmp of three characters), streamMode 1."""
    if (reduce_op != "sum") if sig.exact_reduce_op else (reduce_op[:3] != "sum"):
        raise error(sig, INVALID, f'reduceOp "{reduce_op}" is not supported: only "sum"')
    if stream_mode != 1:
        raise error(sig, INVALID, f"streamMode {stream_mode} is not supported: only 1 (ACL_STOP_ON_FAILURE)")


def check_comm_mode(sig: Signature, comm_mode: str | None, profile: str) -> None:
    """161002 unless commMode names an engine of the SoC: Atlas A2 NULL or "ai_cpu", Ascend 950
    "ai_cpu" or "ccu" (NULL refused). matmul_all_reduce_util.cpp, ``IsCommModeValid``, called by
    MatmulAllReduceV3, QuantMatmulAllReduceV5 and WeightQuantMatmulAllReduceV2 after their
    parameter checks."""
    allowed = COMM_MODES[profile]
    if comm_mode is None and profile == "A2":
        return
    if comm_mode not in allowed:
        where = "Atlas A2" if profile == "A2" else "Ascend 950"
        got = "null" if comm_mode is None else f'"{comm_mode}"'
        raise error(sig, INVALID, f"commMode {got} is not supported on {where}: expected "
                                  + " or ".join(f'"{m}"' for m in allowed) + (" or null" if profile == "A2" else ""))


def check_comm_turn(sig: Signature, comm_turn: int) -> None:
    """561002 unless commTurn is 0 (matmul_all_reduce_tiling_base.cpp, CheckInput)."""
    if comm_turn != 0:
        raise error(sig, TILING, f"commTurn {comm_turn} is not supported: only 0")


def check_shapes(sig: Signature, profile: str, x1: TensorDesc, x2: TensorDesc, output: TensorDesc,
                 bias: TensorDesc | None, x3: TensorDesc | None) -> None:
    """161002: x1 2-D/3-D contiguous ND; x2 2-D, ND contiguous or a transposed view, or an INT8
    FRACTAL_NZ weight (:func:`check_nz_x2`); x1's k equal to x2's; output x1[:-1] + (n,);
    bias (n,); x3 the output's shape.

    Empty tensors: the quantized entry points refuse an empty x1 or x2; MatmulAllReduce takes
    them (k = 0 gives AllReduce(bias + x3), an empty output computes nothing: its document and
    ``matmul_all_reduce_empty_tensor_k_general.h``); WeightQuantMatmulAllReduce refuses an
    empty output (its CheckShape) and takes k = 0.

    An x2 in a private format is FRACTAL_NZ with a 4-D storage shape or refused (upstream takes
    another storage as ND in op_api, the op definition as NZ: no layout to read it by).
    A non-contiguous x2 other than a transposed view is refused on every profile (upstream checks
    it on Atlas A2 only, ``MatmulAllReduceCheckValidContiguous``; every document says it is not
    supported: stricter, never less safe); an empty x2 is not checked (as upstream, whose
    ``MatmulAllReduceCheckValidEmptyTensor`` skips the check for empty tensors).
    """
    if x1.ndim not in (2, 3):
        raise error(sig, INVALID, f"x1 must be 2-D (m, k) or 3-D (b, s, k), got shape {shape_text(x1.shape)}")
    if not x1.is_contiguous() or x1.is_nz:
        raise error(sig, INVALID, "x1 must be a contiguous ND tensor (x1 cannot be transposed)")
    if x2.ndim != 2:
        raise error(sig, INVALID, f"x2 must be 2-D (k, n), got shape {shape_text(x2.shape)}")
    if x2.is_private_format and not x2.is_nz:
        raise error(sig, INVALID, f"x2 format {dtypes.format_label(x2.format)} with the storage shape "
                                  f"{list(x2.storage_shape)} is not supported: expected ND, or FRACTAL_NZ with a 4-D "
                                  f"storage shape (aclnnTransMatmulWeight's)")
    if x2.is_nz:
        if sig.legacy_checks and profile == "950":
            raise error(sig, INVALID, f"x2 in FRACTAL_NZ format is not supported on Ascend 950: "
                                      f"{sig.op} takes an ND x2 there")
        check_nz_x2(sig, x2)
    elif x2.numel and not (x2.is_contiguous() or x2.is_transposed()):
        raise error(sig, INVALID, "x2 must be contiguous or a transposed view of the last two dims "
                                  "(no other non-contiguous x2 is supported)")
    k, n = x2.shape
    if x1.shape[-1] != k:
        raise error(sig, INVALID, f"x1 last dim {x1.shape[-1]} must equal x2 k dim {k} "
                                  f"(x1 {shape_text(x1.shape)}, x2 {shape_text(x2.shape)})")
    if sig.kind == "quant":
        for what, desc in (("x1", x1), ("x2", x2)):
            if desc.numel == 0:
                raise error(sig, INVALID, f"{what} is empty (shape {shape_text(desc.shape)}): empty tensors "
                                          f"are not supported")
    expected_out = x1.shape[:-1] + (n,)
    if output.shape != expected_out:
        raise error(sig, INVALID, f"output shape {shape_text(output.shape)} must be x1 shape with last dim n: "
                                  f"expected [{', '.join(str(d) for d in expected_out)}]")
    if sig.kind == "weight" and output.numel == 0:
        raise error(sig, INVALID, f"output is empty (shape {shape_text(output.shape)}): {sig.op} takes no "
                                  f"empty output (only k = 0 may be empty)")
    if bias is not None and bias.shape != (n,):
        raise error(sig, INVALID, f"{sig.label('bias')} must be 1-D of length n = {n}, got shape "
                                  f"{shape_text(bias.shape)}")
    if x3 is not None and x3.shape != output.shape:
        raise error(sig, INVALID, f"{sig.label('x3')} shape {shape_text(x3.shape)} must equal the output shape "
                                  f"{shape_text(output.shape)}")


def check_nz_x2(sig: Signature, x2: TensorDesc) -> None:
    """An INT8 FRACTAL_NZ x2 whose storage holds the NZ layout of its view (:func:`canonical_x2`).

    Upstream takes a FRACTAL_NZ x2 with a 4-D storage shape as NZ and skips its shape checks
    (hicann/ops-transformer mc2/matmul_all_reduce/op_api/matmul_all_reduce_util.cpp,
    ``QuantMatmulAllReduceIsWeightNZFormat`` in ``QuantMatmulAllReduceCheckShape``; V4/V5 and
    WeightQuantMatmulAllReduce: ``MatmulAllReduceIsWeightNZFormat`` in their ``CheckShape``):
    the storage shape is not compared with the view. The kernel reads the NZ layout of the view
    (C0 = 32 for INT8) from the storage, so a storage with fewer elements than that layout is
    refused here (upstream would read past it). The op definition lists FRACTAL_NZ for INT8 x2
    only (op_host/matmul_all_reduce_def.cpp): nnopbase refuses another dtype with 161002.
    """
    if dtype_name(x2) != "int8":
        raise error(sig, INVALID, f"x2 in FRACTAL_NZ format must be INT8 (made by "
                                  f"aclnnTransMatmulWeight), got {dtypes.label(x2.dtype)}")
    expected = _nz.nz_storage_shape(x2.shape, "int8")
    if math.prod(x2.storage_shape) < math.prod(expected):
        raise error(sig, INVALID, f"x2 FRACTAL_NZ storage shape {list(x2.storage_shape)} is too small for its "
                                  f"view shape {shape_text(x2.shape)}: the NZ layout {list(expected)} needs "
                                  f"{math.prod(expected)} elements")


def canonical_x2(x2: TensorDesc) -> TensorDesc:
    """x2 as the kernel reads it: an NZ x2 in the NZ layout of its view (C0 = 32 for INT8),
    whatever 4-D storage shape the caller gave (:func:`check_nz_x2`); other x2 unchanged."""
    if not x2.is_nz:
        return x2
    return replace(x2, storage_shape=_nz.nz_storage_shape(x2.shape, "int8"))
