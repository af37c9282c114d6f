"""QuantMatmulAllReduce modes: V4 formulas 1-8, the int8 entry points V1-V3 and V5, per rank count.

Every rank makes the call on its own thread, device and stream with its own
inputs and the real communicator; each rank's output is compared with the golden
of :mod:`aclnn_py.semantics.quant_matmul_all_reduce.golden` over all ranks' inputs.
INT8 formulas 1-3 and V1-V3 run on Atlas A2 and Ascend 950, the FP8/HiF8/FP4
formulas 4-8 on Ascend 950, an NZ x2 on Atlas A2; Atlas A3 has no
QuantMatmulAllReduce.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import ml_dtypes
import numpy as np

from .. import ops
from ..ops import nz_weight_tensor, trans_matmul_weight
from ..semantics import codecs, dtypes
from ..semantics.quant_matmul_all_reduce import golden, rules
from ..semantics.precision import compare
from ..semantics.quant_params import encode_group_size, trans_quant_param
from ..tensor import Tensor
from .framework import Comparison, Host, Mode, close_after, columns, rank_inputs, read_output

__all__ = ["modes"]

RANK_COUNTS = (1, 2, 4, 8)
SHORT = {"int8": "int8", "float8_e4m3fn": "e4m3", "float8_e5m2": "e5m2", "hifloat8": "hif8",
         "float4_e2m1": "fp4", "float16": "fp16", "bfloat16": "bf16", "float32": "fp32"}
FUNCTIONS = {"v1": ops.quant_matmul_all_reduce, "v2": ops.quant_matmul_all_reduce_v2,
             "v3": ops.quant_matmul_all_reduce_v3, "v4": ops.quant_matmul_all_reduce_v4,
             "v5": ops.quant_matmul_all_reduce_v5}
#: each version's name of V4's canonical arguments
RENAMED = {"v1": {"x2_scale": "dequant_scale"}, "v2": {"x2_scale": "dequant_scale", "x1_scale": "pertoken_scale"},
           "v3": {"x2_scale": "dequant_scale", "x1_scale": "pertoken_scale"}, "v4": {}, "v5": {}}


@dataclass(frozen=True)
class Case:
    """One call pattern: version, formula, dtypes, shape and options."""

    version: str
    formula: int
    x: str
    out: str
    m: int = 16
    k: int = 64
    n: int = 32
    bias: bool = True
    x3: bool = True
    pertoken: bool = False  # formulas 1 and 2/3: an x1Scale
    packed: bool = False  # formulas 1-2: a UINT64 x2Scale (else the output dtype's scale)
    nz: bool = False
    profiles: tuple[str, ...] = ("A2", "950")

    @property
    def name(self) -> str:
        label = f"quant_matmul_all_reduce/{self.version}/f{self.formula}/{SHORT[self.x]}->{SHORT[self.out]}"
        return label + ("/nz-x2" if self.nz else "")

    @property
    def transposed(self) -> bool:
        return self.formula == 4  # MX takes a transposed x2


def _x(rng: np.random.Generator, shape: tuple[int, ...], name: str) -> np.ndarray:
    if name == "int8":
        return rng.integers(-128, 128, shape).astype(np.int8)
    if name == "float4_e2m1":
        return rng.uniform(-6, 6, shape).astype(ml_dtypes.float4_e2m1fn)
    values = rng.standard_normal(shape).astype(np.float32)
    return codecs.hifloat8_encode(values) if name == "hifloat8" else values.astype(dtypes.host_dtype(name))


def _inputs(case: Case, rng: np.random.Generator) -> dict:
    """One rank's arrays, by canonical argument name."""
    m, k, n, out = case.m, case.k, case.n, dtypes.host_dtype(case.out)
    cdiv = lambda a, b: -(-a // b)  # noqa: E731
    d = {"x1": _x(rng, (m, k), case.x), "x2": _x(rng, (k, n), case.x)}
    f = case.formula
    if f in (1, 2, 3):
        if case.packed:
            d["x2_scale"] = trans_quant_param(rng.uniform(1e-3, 2e-3, n).astype(np.float32))
        elif case.out == "bfloat16":
            d["x2_scale"] = rng.uniform(1e-3, 2e-3, n).astype(ml_dtypes.bfloat16)
        else:
            d["x2_scale"] = rng.uniform(1e-3, 2e-3, n).astype(np.float32)
        if case.pertoken or f == 3:
            d["x1_scale"] = rng.uniform(0.5, 1.5, m).astype(np.float32)
    elif f == 5:
        d["x2_scale"] = trans_quant_param(rng.uniform(0.5, 2, n).astype(np.float32))
    elif f in (6, 8):
        d["x1_scale"] = rng.uniform(0.5, 1.5, m).astype(np.float32)
        d["x2_scale"] = rng.uniform(0.5, 1.5, n).astype(np.float32)
    elif f == 7:
        d["x1_scale"] = rng.uniform(0.5, 1.5, (cdiv(m, 128), cdiv(k, 128))).astype(np.float32)
        d["x2_scale"] = rng.uniform(0.5, 1.5, (cdiv(k, 128), cdiv(n, 128))).astype(np.float32)
    elif f == 4:
        d["x1_scale"] = codecs.e8m0_from_exponent(rng.integers(-3, 3, (m, cdiv(k, 64), 2)))
        d["x2_scale"] = codecs.e8m0_from_exponent(rng.integers(-3, 3, (n, cdiv(k, 64), 2)))
    if case.bias:
        d["bias"] = (rng.integers(-1000, 1000, n).astype(np.int32) if case.x == "int8"
                     else rng.standard_normal(n).astype(np.float32))
    if case.x3:
        d["x3"] = rng.standard_normal((m, n)).astype(np.float32).astype(out)
    return d


def _options(case: Case) -> dict:
    """Arguments every rank passes the same (canonical names)."""
    kw: dict = {}
    if case.formula == 1:
        host = dtypes.host_dtype(case.out)
        kw["comm_quant_scale_1"] = np.full(case.n, 8, np.float32).astype(host)
        kw["comm_quant_scale_2"] = np.full(case.n, 16, np.float32).astype(host)
    if case.formula == 7:
        kw["group_size"] = encode_group_size(128, 128, 128)
    if case.formula == 4:
        kw["group_size"] = encode_group_size(1, 1, 32)
    if case.formula == 8:
        kw["comm_quant_mode"] = 1
    if case.version == "v5" and case.profiles == ("950",):
        kw["comm_mode"] = "ccu"  # Ascend 950's other engine (the result does not depend on it)
    return kw


def _call(case: Case, inputs: list[dict], options: dict, rank) -> np.ndarray:
    """One rank: upload, call the version's function on the rank's stream, read the output."""
    d, stream = dict(inputs[rank.rank]), rank.stream
    x_dtype = "hifloat8" if case.x == "hifloat8" else None
    made: list[Tensor] = []
    if case.transposed:  # x2 stored (n, k), passed as its transposed view
        stored = Tensor.from_numpy(np.ascontiguousarray(d["x2"].T), x_dtype, stream)
        made += [stored, stored.T]
        d["x2"] = made[-1]
    elif case.nz:
        made.append(trans_matmul_weight(nz_weight_tensor(d["x2"], stream=stream), stream))
        d["x2"] = made[-1]
    try:
        arguments = {**d, **options}
        arguments["out_dtype"] = case.out
        if x_dtype is not None:
            arguments["x_dtype"] = x_dtype
        renamed = {RENAMED[case.version].get(key, key): value for key, value in arguments.items()}
        scale = renamed.pop("x2_scale" if case.version in ("v4", "v5") else "dequant_scale")
        out = FUNCTIONS[case.version](renamed.pop("x1"), renamed.pop("x2"), scale, group=rank.comm,
                                      stream=stream, **renamed)
        return read_output(stream, out)
    finally:
        close_after(stream, made)


def _run(case: Case, host: Host) -> list[Comparison]:
    inputs = rank_inputs(case.name, host.ranks.size, partial(_inputs, case))
    options = _options(case)
    results = host.ranks.run(partial(_call, case, inputs, options))
    given = columns(inputs)
    expected = golden.quant_matmul_all_reduce(
        given["x1"], given["x2"], given["x2_scale"], x1_scale=given.get("x1_scale"), bias=given.get("bias"),
        x3=given.get("x3"), comm_quant_scale_1=options.get("comm_quant_scale_1"),
        comm_quant_scale_2=options.get("comm_quant_scale_2"), out_dtype=case.out, x_dtype=case.x,
        group_size=options.get("group_size", 0), x2_transposed=case.transposed,
        comm_quant_mode=options.get("comm_quant_mode", 0))
    return [Comparison(f"rank {r} output", compare(result, expected, case.out)) for r, result in enumerate(results)]


INT8 = [
    Case("v4", 1, "int8", "float16", pertoken=True, x3=False),
    Case("v4", 1, "int8", "bfloat16"),
    Case("v4", 2, "int8", "float16", packed=True),
    Case("v4", 2, "int8", "bfloat16"),
    Case("v4", 3, "int8", "float16"),
    Case("v4", 3, "int8", "bfloat16"),
    Case("v4", 2, "int8", "float16", packed=True, nz=True, m=32, k=64, n=128, profiles=("A2",)),
    Case("v1", 2, "int8", "float16", packed=True),
    Case("v1", 2, "int8", "bfloat16"),
    Case("v2", 3, "int8", "bfloat16"),
    Case("v3", 1, "int8", "float16", pertoken=True, x3=False),
    Case("v5", 3, "int8", "bfloat16"),  # V4 with commMode "ai_cpu" (the functions' default engine)
]
LOW_BIT = [
    Case("v5", 6, "float8_e4m3fn", "float16", profiles=("950",)),  # with commMode "ccu"
    Case("v4", 4, "float4_e2m1", "float16", k=128, profiles=("950",)),
    Case("v4", 4, "float8_e4m3fn", "bfloat16", k=128, profiles=("950",)),
    Case("v4", 4, "float8_e5m2", "float32", k=128, profiles=("950",)),
    Case("v4", 5, "float8_e4m3fn", "float16", profiles=("950",)),
    Case("v4", 5, "float8_e5m2", "bfloat16", profiles=("950",)),
    Case("v4", 5, "hifloat8", "float32", profiles=("950",)),
    Case("v4", 6, "float8_e4m3fn", "bfloat16", profiles=("950",)),
    Case("v4", 6, "float8_e5m2", "float32", profiles=("950",)),
    Case("v4", 6, "hifloat8", "float16", profiles=("950",)),
    Case("v4", 7, "float8_e4m3fn", "float32", m=48, k=256, n=160, bias=False, profiles=("950",)),
    Case("v4", 7, "float8_e5m2", "float16", m=48, k=256, n=160, bias=False, profiles=("950",)),
    Case("v4", 7, "hifloat8", "bfloat16", m=48, k=256, n=160, bias=False, profiles=("950",)),
    Case("v4", 8, "float8_e4m3fn", "float16", m=8, n=200, profiles=("950",)),
    Case("v4", 8, "float8_e5m2", "bfloat16", m=8, n=200, profiles=("950",)),
]


def _feature(case: Case) -> str:
    if case.nz:
        return "QuantMatmulAllReduce with an NZ x2"
    if case.x != "int8":
        return f"QuantMatmulAllReduceV4 formula {case.formula} ({SHORT[case.x]})"
    return "QuantMatmulAllReduce"


def modes() -> list[Mode]:
    """Every case on 1, 2, 4 and 8 ranks (skipped where the profile does not allow the count)."""
    return [Mode(case.name, partial(_run, case), ranks, case.profiles, _feature(case),
                 allowed_ranks=rules.allowed_rank_counts)
            for case in INT8 + LOW_BIT for ranks in RANK_COUNTS]
