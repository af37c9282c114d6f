"""GroupedMatmul modes: every V5 scenario, the three group-list kinds, no group list and K
grouping; and the other entry points (``grouped_matmul/v1/...``, ``v2``, ``v3``, ``v4``,
``weight-nz``) with what each takes that V5 does not or differently: V1/V2's host groupList and
one output per weight, V3's cumulative groupList, WeightNz's FRACTAL_NZ weight.

Group lists cover every row of x, so every output element is written and compared;
the outputs are given (shapes and dtypes of the golden's), as a C caller gives them.
The Atlas A2/A3 scenarios run on every profile (A8W4 and A4W4 with each profile's
formula, ``golden.grouped_matmul(profile=...)``); FP8/HiF8 quantization, FP8/HiF8
weight-only, MX and per-group/per-block quantization on the Ascend 950 only; quantization with
an NZ weight through V5 on Atlas A2/A3 only (the 950 takes it through WeightNz).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

import ml_dtypes
import numpy as np

from ..ops import (grouped_matmul, grouped_matmul_v2, grouped_matmul_v3, grouped_matmul_v4, grouped_matmul_v5,
                   grouped_matmul_weight_nz)
from ..ops import nz_weight_tensor, trans_matmul_weight
from ..semantics import codecs, dtypes
from ..semantics.grouped_matmul import golden
from ..semantics.precision import compare
from ..semantics.quant_params import trans_quant_param
from ..tensor import Tensor
from .framework import Comparison, Host, Mode, close_after, rng_for

__all__ = ["modes"]

BF16 = ml_dtypes.bfloat16
M = 12  # rows of x; the group lists below cover all of them (expert 1 gets none)
GROUP_LISTS = {0: np.array([3, 3, 8, 12], np.int64), 1: np.array([3, 0, 5, 4], np.int64),
               2: np.array([[0, 3], [2, 5], [3, 4], [1, 0]], np.int64)}
PARAMS = ("bias", "scale", "offset", "antiquant_scale", "antiquant_offset", "per_token_scale")


@dataclass
class Call:
    """Host arrays and attributes of one call (logical x and weights)."""

    x: list
    weight: list
    params: dict
    out_dtype: str | None = None
    group_list: np.ndarray | None = None
    split_item: int = 3
    group_type: int = 0
    group_list_type: int = 0
    act_type: int = 0
    names: dict | None = None  # dtype names the arrays do not carry: x, weight, scale, per_token_scale
    #: "nd", "transposed" (a transposed view), "nz" (TransMatmulWeight) or "host" (the arrays, given to the
    #: function as they are: WeightNz copies them to FRACTAL_NZ tensors)
    weight_layout: str = "nd"
    x_transposed: bool = False  # groupType 2 takes x as a transposed view
    entry: str = "v5"  # the entry point (:data:`FUNCTIONS`); V1/V2 take group_list as cumulative host values


def _floats(rng, shape, dtype):
    return rng.standard_normal(shape).astype(np.float32).astype(dtype)


def _ints(rng, shape, lo=-128, hi=128, dtype=np.int8):
    return rng.integers(lo, hi, shape).astype(dtype)


def _grouped(glt: int, **kw) -> dict:
    return dict(group_list=GROUP_LISTS[glt], group_list_type=glt, split_item=3, group_type=0, **kw)


# --------------------------------------------------------------------------- every profile

def nonquant_fp16(rng, profile) -> Call:
    return Call([_floats(rng, (M, 48), np.float16)], [_floats(rng, (4, 48, 24), np.float16)],
                {"bias": [_floats(rng, (4, 24), np.float16)]}, **_grouped(0))


def nonquant_bf16_transposed(rng, profile) -> Call:
    return Call([_floats(rng, (M, 32), BF16)], [_floats(rng, (4, 32, 16), BF16)],
                {"bias": [_floats(rng, (4, 16), np.float32)]}, weight_layout="transposed", **_grouped(1))


def nonquant_bf16_nz(rng, profile) -> Call:
    """A bfloat16 weight given as a host array: WeightNz's function copies it to FRACTAL_NZ (K and N
    multiples of 16; aclnnTransMatmulWeight takes a 3-D bfloat16 weight on Atlas A2/A3 only)."""
    return Call([_floats(rng, (M, 32), BF16)], [_floats(rng, (4, 32, 16), BF16)],
                {"bias": [_floats(rng, (4, 16), np.float32)]}, weight_layout="host", **_grouped(1))


def nonquant_fp32_lists(rng, profile) -> Call:
    shapes = [(5, 16, 8), (3, 32, 24), (7, 8, 16)]
    return Call([_floats(rng, (m, k), np.float32) for m, k, _ in shapes],
                [_floats(rng, (k, n), np.float32) for _, k, n in shapes],
                {"bias": [_floats(rng, (n,), np.float32) for *_, n in shapes]}, split_item=0, group_type=-1)


def nonquant_k_grouped(rng, profile) -> Call:
    return Call([_floats(rng, (6, 40), np.float16)], [_floats(rng, (40, 8), np.float16)], {},
                group_list=np.array([10, 16, 30, 40], np.int64), group_type=2, x_transposed=True)


def nonquant_split_outputs(entry: str):
    """One x split along M into one output per weight: V1 and V2 only (their host groupList)."""
    def build(rng, profile) -> Call:
        weights = [_floats(rng, (16, n), np.float16) for n in (8, 16, 24)]
        return Call([_floats(rng, (M, 16), np.float16)], weights, {}, group_list=np.array([3, 7, 12], np.int64),
                    split_item=0, group_type=0, entry=entry)
    return build


def versioned(entry: str, build: Callable[[np.random.Generator, str | None], Call], **changes):
    """A V5 mode's call through another entry point (with ``changes`` for what it lacks)."""
    def built(rng, profile) -> Call:
        call = build(rng, profile)
        for key, value in {"entry": entry, **changes}.items():
            setattr(call, key, value)
        return call
    return built


def v1_lists(rng, profile) -> Call:
    """V1: x and out lists choose groupType -1; the groupList gives the rows of each x."""
    shapes = [(5, 16, 8), (3, 32, 24)]
    return Call([_floats(rng, (m, k), np.float16) for m, k, _ in shapes],
                [_floats(rng, (k, n), np.float16) for _, k, n in shapes],
                {"bias": [_floats(rng, (n,), np.float16) for *_, n in shapes]}, group_list=np.array([5, 8]),
                split_item=0, group_type=-1, entry="v1")


def _a8w8(rng, out: str, scale_kind: str | None, pts: bool, bias: bool, e: int = 4, k: int = 64, n: int = 16):
    raw = rng.uniform(0.001, 0.01, (e, n)).astype(np.float32)
    scale = {None: None, "uint64+offset": trans_quant_param(raw, rng.integers(-3, 3, (e, n)).astype(np.float32)),
             "float32": raw, "bfloat16": raw.astype(BF16)}[scale_kind]
    params = {"scale": None if scale is None else [scale],
              "bias": [_ints(rng, (e, n), -1000, 1000, np.int32)] if bias else None,
              "per_token_scale": [rng.uniform(0.5, 2, M).astype(np.float32)] if pts else None}
    return [_ints(rng, (M, k))], [_ints(rng, (e, k, n))], {key: v for key, v in params.items() if v is not None}


def a8w8(out: str, scale_kind: str | None, pts: bool, glt: int, act: int = 0, nz: bool = False):
    def build(rng, profile) -> Call:
        x, w, params = _a8w8(rng, out, scale_kind, pts, bias=True, k=32 if nz else 64, n=64 if nz else 16)
        return Call(x, w, params, out_dtype=out, act_type=act, weight_layout="nz" if nz else "nd", **_grouped(glt))
    return build


def weight_only(x_dtype, w_name: str, groups: int, offset: bool, packed: bool = False):
    def build(rng, profile) -> Call:
        k, n, e = 64, 16, 4
        w = _ints(rng, (e, k, n)) if w_name == "int8" else _ints(rng, (e, k, n), -8, 8, ml_dtypes.int4)
        shape = (e, groups, n) if groups else (e, n)
        params = {"antiquant_scale": [rng.uniform(0.01, 0.05, shape).astype(x_dtype)],
                  "bias": [_floats(rng, (e, n), np.float16 if x_dtype == np.float16 else np.float32)]}
        if offset:
            params["antiquant_offset"] = [rng.uniform(-4, 4, shape).astype(x_dtype)]
        names = None
        if packed:
            w, names = codecs.pack_int4_to_int32(w), {"weight": "int32"}
        return Call([_floats(rng, (M, k), x_dtype)], [w], params, names=names, **_grouped(1))
    return build


def a8w4(rng, profile) -> Call:
    """INT8 x, INT4 weight, K = 256 (one scale group): the offline bias 8 * sum_k w * s makes the
    A2/A3 formula and the Ascend 950 "S8S4" one agree with x @ (w * s) * pts."""
    k, n, e = 256, 16, 4
    w = _ints(rng, (e, k, n), -8, 8, ml_dtypes.int4)
    s = rng.uniform(0.001, 0.01, (e, 1, n)).astype(np.float16).astype(np.float32)  # fp19-exact
    scale = s.view(np.uint32).astype(np.uint64) | np.uint64(1 << 46)  # float32 bits, FixPipe bit 46
    bias = (8 * np.einsum("ekn,en->en", w.astype(np.float32), s[:, 0])).astype(np.float32)
    return Call([_ints(rng, (M, k))], [w], {"scale": [scale], "bias": [bias],
                                             "per_token_scale": [rng.uniform(0.5, 2, M).astype(np.float32)]},
                out_dtype="bfloat16", **_grouped(1))


def a4w4(groups: int, glt: int):
    def build(rng, profile) -> Call:
        k, n, e = 64, 16, 4
        raw = rng.uniform(0.01, 0.1, (e, groups, n) if groups else (e, n)).astype(np.float32)
        scale = trans_quant_param(raw.reshape(-1, n)).reshape(raw.shape)
        return Call([_ints(rng, (M, k), -8, 8, ml_dtypes.int4)], [_ints(rng, (e, k, n), -8, 8, ml_dtypes.int4)],
                    {"scale": [scale], "per_token_scale": [rng.uniform(0.5, 2, M).astype(np.float32)]},
                    out_dtype="bfloat16", **_grouped(glt))
    return build


# --------------------------------------------------------------------------- Ascend 950

def quant_fp8(x_name: str, scale_kind: str, pts: bool, out: str, glt: int):
    def build(rng, profile) -> Call:
        k, n, e = 64, 16, 4
        raw = rng.uniform(0.01, 0.1, (e, n)).astype(np.float32)
        scale = raw if scale_kind == "float32" else trans_quant_param(raw).view(
            np.int64 if scale_kind == "int64" else np.uint64)
        params = {"scale": [scale]}
        if pts:
            params["per_token_scale"] = [rng.uniform(0.5, 2, M).astype(np.float32)]
        return Call([codecs.from_float32(rng.standard_normal((M, k)) * 3, x_name)],
                    [codecs.from_float32(rng.standard_normal((e, k, n)) * 3, x_name)], params, out_dtype=out,
                    names={"x": x_name, "weight": x_name}, **_grouped(glt))
    return build


def weight_fp8(w_name: str):
    def build(rng, profile) -> Call:
        k, n, e = 32, 16, 4
        return Call([_floats(rng, (M, k), BF16)], [codecs.from_float32(rng.standard_normal((e, k, n)) * 4, w_name)],
                    {"antiquant_scale": [rng.uniform(0.01, 0.05, (e, n)).astype(BF16)]},
                    names={"weight": w_name}, weight_layout="transposed", **_grouped(1))
    return build


def mx(x_name: str, transposed: bool):
    def build(rng, profile) -> Call:
        k, n, e, pairs = 96, 12, 4, 2
        exponents = rng.integers(-3, 4, (e, pairs * 2, n))
        if transposed:
            scale = np.ascontiguousarray(exponents.transpose(0, 2, 1)).reshape(e, n, pairs, 2)
        else:
            scale = np.ascontiguousarray(exponents.reshape(e, pairs, 2, n).transpose(0, 1, 3, 2))
        params = {"scale": [codecs.e8m0_from_exponent(scale)],
                  "per_token_scale": [codecs.e8m0_from_exponent(rng.integers(-3, 4, (M, pairs, 2)))]}
        if x_name == "float4_e2m1":
            params["bias"] = [_floats(rng, (e, n), np.float32)]
        return Call([codecs.from_float32(rng.standard_normal((M, k)) * 2, x_name)],
                    [codecs.from_float32(rng.standard_normal((e, k, n)) * 2, x_name)], params,
                    out_dtype="bfloat16", names={"scale": "float8_e8m0", "per_token_scale": "float8_e8m0"},
                    weight_layout="transposed" if transposed else "nd", **_grouped(0))
    return build


def pergroup_perblock(rng, profile) -> Call:
    k, n, e = 256, 136, 4
    return Call([codecs.from_float32(rng.standard_normal((M, k)), "float8_e4m3fn")],
                [codecs.from_float32(rng.standard_normal((e, k, n)), "float8_e4m3fn")],
                {"per_token_scale": [rng.uniform(0.5, 2, (M, 2)).astype(np.float32)],
                 "scale": [rng.uniform(0.01, 0.1, (e, 2, 2)).astype(np.float32)]}, out_dtype="float32",
                **_grouped(0))


# --------------------------------------------------------------------------- running

def _device(array: np.ndarray, name: str | None, stream) -> Tensor:
    return Tensor.from_numpy(array, name, stream)


def _call(call: Call, outputs: list[tuple[tuple[int, ...], str]], rank) -> list[np.ndarray]:
    """The call on the rank's stream with output tensors of the given shapes and dtypes
    (given, as a C caller gives them: every element read back is the operator's)."""
    stream, names, made = rank.stream, call.names or {}, []

    def keep(tensor: Tensor) -> Tensor:
        made.append(tensor)
        return tensor

    def transposed(array: np.ndarray, name: str | None) -> Tensor:
        stored = keep(_device(np.ascontiguousarray(np.swapaxes(array, -1, -2)), name, stream))
        return keep(stored.transpose())

    try:
        xs = [transposed(a, names.get("x")) if call.x_transposed else keep(_device(a, names.get("x"), stream))
              for a in call.x]
        if call.weight_layout == "nz":
            ws = [keep(trans_matmul_weight(nz_weight_tensor(a, stream=stream), stream)) for a in call.weight]
        elif call.weight_layout == "transposed":
            ws = [transposed(a, names.get("weight")) for a in call.weight]
        elif call.weight_layout == "host":
            ws = list(call.weight)
        else:
            ws = [keep(_device(a, names.get("weight"), stream)) for a in call.weight]
        params = {key: [keep(_device(a, names.get(key), stream)) for a in values]
                  for key, values in call.params.items()}
        outs = [keep(Tensor.empty(shape, name)) for shape, name in outputs]
        FUNCTIONS[call.entry](xs, ws, stream=stream, split_item=call.split_item, out=outs, **params,
                              **_attributes(call, keep, stream))
        stream.synchronize()
        return [out.to_numpy() for out in outs]
    finally:
        close_after(stream, made)


#: The function of each entry point.
FUNCTIONS = {"v1": grouped_matmul, "v2": grouped_matmul_v2, "v3": grouped_matmul_v3, "v4": grouped_matmul_v4,
             "v5": grouped_matmul_v5, "weight_nz": grouped_matmul_weight_nz}


def _attributes(call: Call, keep, stream) -> dict:
    """The groupList and attributes the entry point takes: V1/V2 the host values, no groupType for
    V1, no groupListType or actType before V4."""
    if call.entry in ("v1", "v2"):
        attributes: dict = {"group_list": None if call.group_list is None else call.group_list.tolist()}
    else:
        attributes = {"group_list": None if call.group_list is None else keep(_device(call.group_list, None, stream))}
    if call.entry != "v1":
        attributes["group_type"] = call.group_type
    if call.entry in ("v4", "v5", "weight_nz"):
        attributes.update(group_list_type=call.group_list_type, act_type=call.act_type)
    return attributes


def _run(build: Callable[[np.random.Generator, str | None], Call], name: str, host: Host) -> list[Comparison]:
    call = build(rng_for(name), host.profile)
    names = call.names or {}
    expected = golden.grouped_matmul(
        call.x, call.weight, **call.params, group_list=None if call.group_type == -1 else call.group_list,
        split_item=call.split_item,
        group_type=call.group_type, group_list_type=call.group_list_type, act_type=call.act_type,
        out_dtype=call.out_dtype, weight_transposed=call.weight_layout == "transposed",
        x_dtype=names.get("x"), weight_dtype=names.get("weight"), scale_dtype=names.get("scale"),
        per_token_scale_dtype=names.get("per_token_scale"), profile=host.profile or "A2")
    outputs = [(want.shape, dtypes.name_of(want)) for want in expected]
    results = host.ranks.run(partial(_call, call, outputs))[0]
    return [Comparison(f"y[{i}]", compare(got, want, dtypes.name_of(want)))
            for i, (got, want) in enumerate(zip(results, expected))]


EVERY = ("A2", "A3", "950")
CASES: list[tuple[str, Callable, tuple[str, ...]]] = [
    ("grouped_matmul/nonquant/fp16/glt0", nonquant_fp16, EVERY),
    ("grouped_matmul/nonquant/bf16/glt1/transposed-weight", nonquant_bf16_transposed, EVERY),
    ("grouped_matmul/nonquant/fp32/no-group-list", nonquant_fp32_lists, EVERY),
    ("grouped_matmul/nonquant/fp16/k-grouped", nonquant_k_grouped, EVERY),
    ("grouped_matmul/a8w8/int8-out/glt1", a8w8("int8", "uint64+offset", False, 1), EVERY),
    ("grouped_matmul/a8w8/bf16-out/glt0", a8w8("bfloat16", "bfloat16", True, 0), EVERY),
    ("grouped_matmul/a8w8/bf16-out/glt1", a8w8("bfloat16", "bfloat16", True, 1), EVERY),
    ("grouped_matmul/a8w8/bf16-out/glt2", a8w8("bfloat16", "bfloat16", True, 2), EVERY),
    ("grouped_matmul/a8w8/fp16-out+silu/glt0", a8w8("float16", "float32", True, 0, act=5), EVERY),
    ("grouped_matmul/a8w8/int32-out/glt1", a8w8("int32", None, False, 1), EVERY),
    ("grouped_matmul/a8w8/bf16-out/glt1/nz-weight", a8w8("bfloat16", "bfloat16", True, 1, nz=True), ("A2", "A3")),
    ("grouped_matmul/a16w8/fp16+offset/glt1", weight_only(np.float16, "int8", 0, True), EVERY),
    ("grouped_matmul/a16w8/bf16/glt1", weight_only(BF16, "int8", 0, False), EVERY),
    ("grouped_matmul/a16w4/fp16-per-group/glt1", weight_only(np.float16, "int4", 4, False), EVERY),
    ("grouped_matmul/a16w4/bf16+offset/glt1", weight_only(BF16, "int4", 0, True), EVERY),
    ("grouped_matmul/a16w4/fp16-int32-packed/glt1", weight_only(np.float16, "int4", 0, False, packed=True), EVERY),
    ("grouped_matmul/a8w4/glt1", a8w4, EVERY),
    ("grouped_matmul/a4w4/per-channel/glt0", a4w4(0, 0), EVERY),
    ("grouped_matmul/a4w4/per-group/glt1", a4w4(2, 1), EVERY),
    ("grouped_matmul/quant-fp8/e4m3-uint64->bf16/glt2", quant_fp8("float8_e4m3fn", "uint64", False, "bfloat16", 2), ("950",)),
    ("grouped_matmul/quant-fp8/hif8-pertoken->fp16/glt0", quant_fp8("hifloat8", "float32", True, "float16", 0), ("950",)),
    ("grouped_matmul/quant-fp8/e5m2-int64->fp32/glt1", quant_fp8("float8_e5m2", "int64", True, "float32", 1), ("950",)),
    ("grouped_matmul/weight-fp8/e4m3/glt1", weight_fp8("float8_e4m3fn"), ("950",)),
    ("grouped_matmul/weight-fp8/hif8/glt1", weight_fp8("hifloat8"), ("950",)),
    ("grouped_matmul/mx/e4m3->bf16/glt0", mx("float8_e4m3fn", False), ("950",)),
    ("grouped_matmul/mx/fp4->bf16/glt0/transposed-weight", mx("float4_e2m1", True), ("950",)),
    ("grouped_matmul/pergroup-perblock/e4m3->fp32/glt0", pergroup_perblock, ("950",)),
    # the other entry points (a version is V5's call restricted: its own groupList and attributes)
    ("grouped_matmul/v1/nonquant/fp16/lists", v1_lists, EVERY),
    ("grouped_matmul/v1/nonquant/fp16/split-outputs", nonquant_split_outputs("v1"), EVERY),
    ("grouped_matmul/v2/nonquant/fp16/split-outputs", nonquant_split_outputs("v2"), EVERY),
    ("grouped_matmul/v2/nonquant/fp16/k-grouped", versioned("v2", nonquant_k_grouped), EVERY),
    ("grouped_matmul/v2/a16w8/bf16", versioned("v2", weight_only(BF16, "int8", 0, False), group_list_type=0,
                                               group_list=np.array([3, 3, 8, 12], np.int64)), EVERY),
    ("grouped_matmul/v3/nonquant/fp16", versioned("v3", nonquant_fp16), EVERY),
    ("grouped_matmul/v3/a8w8/int8-out", versioned("v3", a8w8("int8", "uint64+offset", False, 0)), EVERY),
    ("grouped_matmul/v4/a8w8/fp16-out+silu/glt1", versioned("v4", a8w8("float16", "float32", True, 1, act=5)), EVERY),
    ("grouped_matmul/v4/mx/e4m3->bf16/glt0", versioned("v4", mx("float8_e4m3fn", False)), ("950",)),
    ("grouped_matmul/weight-nz/nonquant/bf16/glt1", versioned("weight_nz", nonquant_bf16_nz), EVERY),
    ("grouped_matmul/weight-nz/a8w8/bf16-out/glt1", versioned("weight_nz", a8w8("bfloat16", "bfloat16", True, 1,
                                                                                 nz=True)), EVERY),
]

#: The C entry point of each mode's ``entry``.
_ENTRY_NAMES = {"v1": "GroupedMatmul", "v2": "GroupedMatmulV2", "v3": "GroupedMatmulV3", "v4": "GroupedMatmulV4",
                "weight-nz": "GroupedMatmulWeightNz"}


def _label(name: str) -> str:
    """The family a mode belongs to (what a skip message names): the entry point and the scenario."""
    parts = name.split("/")
    entry = _ENTRY_NAMES.get(parts[1])
    scenario = parts[2] if entry else parts[1]
    return f"{entry or 'GroupedMatmulV5'} {scenario.upper().replace('-', ' ')}"


def modes() -> list[Mode]:
    return [Mode(name, partial(_run, build, name), 1, profiles, _label(name)) for name, build, profiles in CASES]
