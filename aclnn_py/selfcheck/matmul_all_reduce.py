"""MatmulAllReduce and WeightQuantMatmulAllReduce modes (the family's unquantized entry points), per rank count.

Every rank makes the call on its own thread, device and stream with its own inputs and the real
communicator; each rank's output is compared with the golden of
:mod:`aclnn_py.semantics.quant_matmul_all_reduce.golden` over all ranks' inputs. MatmulAllReduce
V1-V3 (FLOAT16/BFLOAT16) and WeightQuantMatmulAllReduce V1-V2 with INT8/INT4 weights run on Atlas
A2 and Ascend 950, an NZ INT8 weight on Atlas A2, FLOAT8_E4M3FN/HIFLOAT8 weights on Ascend 950;
Atlas A3 has none of them.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import ml_dtypes
import numpy as np

from .. import ops
from ..ops import nz_weight_tensor, trans_matmul_weight
from ..semantics import codecs, dtypes
from ..semantics.precision import compare
from ..semantics.quant_matmul_all_reduce import golden, rules
from ..tensor import Tensor
from .framework import Comparison, Host, Mode, close_after, columns, rank_inputs, read_output

__all__ = ["modes"]

RANK_COUNTS = (1, 2, 4, 8)
SHORT = {"float16": "fp16", "bfloat16": "bf16", "int8": "int8", "int4": "int4", "float8_e4m3fn": "e4m3",
         "hifloat8": "hif8"}
FUNCTIONS = {"matmul_all_reduce": ops.matmul_all_reduce, "matmul_all_reduce_v2": ops.matmul_all_reduce_v2,
             "matmul_all_reduce_v3": ops.matmul_all_reduce_v3,
             "weight_quant_matmul_all_reduce": ops.weight_quant_matmul_all_reduce,
             "weight_quant_matmul_all_reduce_v2": ops.weight_quant_matmul_all_reduce_v2}


@dataclass(frozen=True)
class Case:
    """One call pattern: the entry point (its Python name), dtypes, the antiquant mode, options."""

    function: str
    x: str
    w: str | None = None  # the weight-only entry points' x2 dtype
    mode: str = "channel"  # "tensor", "channel" or "group" (group of 32 rows of k)
    m: int = 16
    k: int = 64
    n: int = 64
    bias: bool = True
    x3: bool = True
    offset: bool = True
    transposed: bool = False
    nz: bool = False
    comm_mode: str | None = None  # None: the function's default ("ai_cpu")
    profiles: tuple[str, ...] = ("A2", "950")

    @property
    def weight(self) -> bool:
        return self.function.startswith("weight")

    @property
    def name(self) -> str:
        """``operator/version/dtypes...``, as the QuantMatmulAllReduce modes are named."""
        operator, _, version = self.function.partition("_v")
        label = f"{operator}/v{version or 1}/{SHORT[self.x]}"
        if self.weight:
            label += f"/{SHORT[self.w]}-per-{self.mode}"
        for flag, text in ((self.transposed, "transposed-x2"), (self.nz, "nz-x2"), (self.comm_mode, self.comm_mode)):
            if flag:
                label += f"/{text}"
        return label


def _weight(rng: np.random.Generator, case: Case) -> np.ndarray:
    shape = (case.k, case.n)
    if case.w == "int8":
        return rng.integers(-128, 128, shape).astype(np.int8)
    if case.w == "int4":
        return rng.integers(-8, 8, shape).astype(ml_dtypes.int4)
    values = rng.standard_normal(shape).astype(np.float32)
    return codecs.hifloat8_encode(values) if case.w == "hifloat8" else values.astype(dtypes.host_dtype(case.w))


def _inputs(case: Case, rng: np.random.Generator) -> dict:
    """One rank's arrays, by Python argument name."""
    host = dtypes.host_dtype(case.x)
    d = {"x1": rng.standard_normal((case.m, case.k)).astype(host)}
    if case.weight:
        d["x2"] = _weight(rng, case)
        shape = {"tensor": (1,), "channel": (case.n,), "group": (-(-case.k // 32), case.n)}[case.mode]
        small = case.w in ("int8", "int4")  # integer weights: scales that keep x1 @ W~ near 1
        d["antiquant_scale"] = rng.uniform(0.002 if small else 0.5, 0.01 if small else 1.5, shape).astype(host)
        if case.offset:
            d["antiquant_offset"] = rng.uniform(-4, 4, shape).astype(host)
    else:
        d["x2"] = rng.standard_normal((case.k, case.n)).astype(host)
    if case.bias:
        d["bias"] = rng.standard_normal(case.n).astype(host)
    if case.x3:
        d["x3"] = rng.standard_normal((case.m, case.n)).astype(host)
    return d


def _device(case: Case, d: dict, stream, made: list) -> dict:
    """x2 (and a 2-D scale that must follow it) as the case lays it out; the rest as host arrays."""
    d = dict(d)
    x_dtype = "hifloat8" if case.w == "hifloat8" else None
    if case.transposed:
        for key in ("x2", "antiquant_scale", "antiquant_offset"):
            if key in d and (key == "x2" or case.mode == "group"):
                stored = Tensor.from_numpy(np.ascontiguousarray(d[key].T), x_dtype if key == "x2" else None, stream)
                made += [stored, stored.T]
                d[key] = made[-1]
    elif case.nz:
        made.append(trans_matmul_weight(nz_weight_tensor(d["x2"], stream=stream), stream))
        d["x2"] = made[-1]
    elif x_dtype is not None:
        made.append(Tensor.from_numpy(d["x2"], x_dtype, stream))
        d["x2"] = made[-1]
    return d


def _call(case: Case, inputs: list[dict], rank) -> np.ndarray:
    stream, made = rank.stream, []
    try:
        d = _device(case, inputs[rank.rank], stream, made)
        x1, x2 = d.pop("x1"), d.pop("x2")
        extra = {} if case.comm_mode is None else {"comm_mode": case.comm_mode}
        if case.weight:
            out = FUNCTIONS[case.function](x1, x2, d.pop("antiquant_scale"), group=rank.comm, stream=stream,
                                           antiquant_group_size=32 if case.mode == "group" else 0, **d, **extra)
        else:
            out = FUNCTIONS[case.function](x1, x2, group=rank.comm, stream=stream, **d, **extra)
        return read_output(stream, out)
    finally:
        close_after(stream, made)


def _run(case: Case, host: Host) -> list[Comparison]:
    inputs = rank_inputs(case.name, host.ranks.size, partial(_inputs, case))
    results = host.ranks.run(partial(_call, case, inputs))
    given = columns(inputs)
    if case.weight:
        expected = golden.weight_quant_matmul_all_reduce(
            given["x1"], given["x2"], given["antiquant_scale"], antiquant_offset=given.get("antiquant_offset"),
            bias=given.get("bias"), x3=given.get("x3"), antiquant_group_size=32 if case.mode == "group" else 0,
            x2_dtype=case.w)
    else:
        expected = golden.matmul_all_reduce(given["x1"], given["x2"], bias=given.get("bias"), x3=given.get("x3"))
    return [Comparison(f"rank {r} output", compare(result, expected, case.x)) for r, result in enumerate(results)]


CASES = [
    Case("matmul_all_reduce", "float16", x3=False),
    Case("matmul_all_reduce_v2", "bfloat16"),
    Case("matmul_all_reduce_v3", "float16", transposed=True),
    Case("matmul_all_reduce_v3", "bfloat16", comm_mode="ccu", profiles=("950",)),
    Case("weight_quant_matmul_all_reduce", "float16", "int8", "channel"),
    Case("weight_quant_matmul_all_reduce", "bfloat16", "int8", "tensor"),
    Case("weight_quant_matmul_all_reduce", "float16", "int4", "group"),
    Case("weight_quant_matmul_all_reduce", "bfloat16", "int8", "group", transposed=True),
    Case("weight_quant_matmul_all_reduce", "float16", "int8", "channel", nz=True, profiles=("A2",)),
    Case("weight_quant_matmul_all_reduce", "bfloat16", "float8_e4m3fn", "channel", offset=False, profiles=("950",)),
    Case("weight_quant_matmul_all_reduce", "float16", "hifloat8", "channel", offset=False, profiles=("950",)),
    Case("weight_quant_matmul_all_reduce_v2", "bfloat16", "int4", "channel"),
]


def _feature(case: Case) -> str:
    operator = "WeightQuantMatmulAllReduce" if case.weight else "MatmulAllReduce"
    if case.nz:
        return f"{operator} with an NZ weight"
    if case.w in ("float8_e4m3fn", "hifloat8"):
        return f"{operator} with {SHORT[case.w]} weights"
    return f"{operator} with commMode {case.comm_mode!r}" if case.comm_mode else operator


def modes() -> list[Mode]:
    """Every case on 1, 2, 4 and 8 ranks (skipped where the profile does not allow the count)."""
    return [Mode(case.name, partial(_run, case), ranks, case.profiles, _feature(case),
                 allowed_ranks=rules.allowed_rank_counts)
            for case in CASES for ranks in RANK_COUNTS]
