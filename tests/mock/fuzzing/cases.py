"""Fuzz cases as plain data: a valid call of the profile, then random mutations.

Pure: imports only numpy and :mod:`aclnn_py.semantics`; loads no library. The same
``(seed, profile, index)`` always gives the same :class:`Case` (its own
``numpy.random.Generator`` seeded with all three), so one case can be
regenerated and run alone.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Union

import numpy as np

from aclnn_py.semantics import dtypes, nz
from aclnn_py.semantics.descriptors import TensorDesc, contiguous_strides
from aclnn_py.semantics.quant_matmul_all_reduce import call as quant_matmul_all_reduce_call
from aclnn_py.semantics.quant_params import encode_group_size
from fuzzing.generic_ops import GENERIC

__all__ = ["ADDRESS_KINDS", "LAUNCH_VARIANTS", "Case", "OPS", "PROFILES", "SOCS", "TensorSpec", "generate", "int64", "soc_of"]

D = dtypes.DataType
ND = int(dtypes.Format.ACL_FORMAT_ND)
NZ = int(dtypes.Format.ACL_FORMAT_FRACTAL_NZ)

#: The SoC the child runs for each profile (ACLNN_MOCK_SOC).
SOCS = {"A2": "Ascend910B4", "950": "Ascend950PR_9599", "A3": "Ascend910_93"}
PROFILES = tuple(SOCS)
_PROFILE_IDS = {p: i for i, p in enumerate(PROFILES)}

#: Where a tensor's data address points (see :class:`TensorSpec`).
ADDRESS_KINDS = ("alloc", "null", "freed", "host", "wild", "other_device", "short", "misaligned")
#: aclDataType numbers that name no type the mock handles, or no type at all (int32 range).
INVALID_DTYPES = (-1, 13, 16, 17, 30, 33, 38, 39, 41, 42, 99, 1000, 2**31 - 1, -2**31)
VALID_DTYPES = tuple(sorted(dtypes.NAMES))
BOGUS_FORMATS = (-1, 0, 1, 3, 4, 30, 50, 51, 52, 53, 54, 999, 2**31 - 1, -2**31)
HUGE = (2**31 - 1, 2**31, 2**32 + 1, 2**40, 2**62, 2**63 - 1)
EXTREME_STRIDES = (2**62, -2**62, 2**63 - 1, -2**63, 2**31, -2**31, 2**40 + 3)
INTERESTING_INTS = (0, 1, 2, 3, -1, 4, 5, 7, 8, 16, 128, 256, 2**16, 2**31 - 1, 2**31, -2**31, 2**32,
                    2**62, 2**63 - 1, -2**63)


@dataclass(frozen=True)
class TensorSpec:
    """One aclTensor and its memory.

    ``strides`` None: contiguous (a NULL strides pointer in C). ``storage`` None:
    derived (ND: the elements the view reaches, 1-D; FRACTAL_NZ: the NZ shape of
    the view). ``address``: ``alloc`` (a device allocation holding the storage,
    with guard bytes before and after it), ``null``, ``freed`` (allocated and
    freed before the call), ``host`` (host memory), ``wild`` (no allocation),
    ``other_device`` (an allocation of another device), ``short`` (an allocation
    one byte too small), ``misaligned`` (``alloc`` shifted by one byte).
    ``fill``: ``random`` bytes, ``small`` finite values of the dtype, ``scale``
    (positive scales; packed UINT64/INT64 scales as aclnnTransQuantParamV2 makes
    them), ``values`` (the int64 ``values``: a group list). ``capacity``: storage
    elements to allocate at least (aclnnTransMatmulWeight's NZ buffer).
    """

    shape: tuple[int, ...]
    dtype: int
    strides: tuple[int, ...] | None = None
    offset: int = 0
    format: int = ND
    storage: tuple[int, ...] | None = None
    address: str = "alloc"
    fill: str = "random"
    values: tuple[int, ...] | None = None
    capacity: int | None = None

    @property
    def name(self) -> str | None:
        return dtypes.NAMES.get(self.dtype)

    def desc(self, address: int = 0) -> TensorDesc:
        """The descriptor the tensor would have (strides made one per dim, storage derived)."""
        strides = self.c_strides()
        return TensorDesc(tuple(self.shape), int(self.dtype), strides, int(self.offset), int(self.format),
                          self.storage_shape(), address)

    def c_strides(self) -> tuple[int, ...]:
        """The strides a C caller passes: one per view dim (padded with 1 / cut), as int64
        (the contiguous strides of a huge shape wrap around, as a C program computing them would)."""
        if self.strides is None:
            strides = contiguous_strides(tuple(max(d, 0) for d in self.shape))
        else:
            strides = (tuple(self.strides) + (1,) * len(self.shape))[:len(self.shape)]
        return tuple(int64(v) for v in strides)

    def storage_shape(self) -> tuple[int, ...]:
        if self.storage is not None:
            return tuple(self.storage)
        if self.format == NZ and self.name is not None and len(self.shape) >= 2 and min(self.shape) >= 0:
            try:
                return nz.nz_storage_shape(self.shape, self.name)
            except ValueError:
                return (1,)
        return (min(max(_extent(self), 1), 2**63 - 1),)


def int64(value: int) -> int:
    """``value`` wrapped into int64 (two's complement)."""
    return (value + 2**63) % 2**64 - 2**63


def _extent(spec: TensorSpec) -> int:
    """One past the largest element index the view reaches (strides as given)."""
    stop = spec.offset + 1
    for d, s in zip(spec.shape, spec.c_strides()):
        if d > 1 and s > 0:
            stop += (d - 1) * s
    return stop


Value = Union[TensorSpec, tuple[Union[TensorSpec, None], ...], None]


@dataclass(frozen=True)
class Case:
    """One operator call, everything needed to make it (see :func:`generate`).

    ``op``: ``quant_matmul_all_reduce`` (``version`` V1..V4), ``grouped_matmul``, ``trans_weight`` (with the
    aclnnCalculateMatmulWeightSize[V2] calls), ``trans_quant`` or an operator of the generic path
    (:data:`fuzzing.generic_ops.GENERIC`: ``mm``, ``matmul``, ``cast``, ``permute``, their non-tensor
    arguments in ``ints``). ``tensors``:
    canonical argument -> TensorSpec, or for GroupedMatmulV5's lists a tuple
    (members may be None) or None (a NULL list). ``ints`` and ``strings``: the
    attributes and C strings by canonical name (``reduce_op``, ``group``: the
    value kind, ``comm`` for the communicator's name). ``ranks``: communicator
    size (1, 2 or 3). ``api``: ``c`` or ``python``. ``execute``: run it on a
    stream when GetWorkspaceSize accepts it. ``python``: extra arguments of
    the Python call (``out_dtype``, ``x_dtype``, host arrays...). ``launch``: how
    the C execute call is made wrong (:data:`LAUNCH_VARIANTS`: the workspace
    NULL, a byte short, freed, of another device, host memory; a tensor of
    the executor re-pointed with aclSetTensorAddr to bad memory, slot
    ``launch_index``; a destroyed stream, a bogus handle, another device's stream).
    ``mutations``: what was changed from the valid call, for the report.
    """

    seed: int
    profile: str
    index: int
    op: str
    version: str
    api: str
    tensors: dict[str, Value]
    ints: dict[str, int]
    strings: dict[str, Any]
    ranks: int
    execute: bool
    repeat: bool = False
    null_out_pointer: str | None = None
    launch: str | None = None
    launch_index: int = 0
    python: dict[str, Any] = field(default_factory=dict)
    mutations: tuple[str, ...] = ()

    @property
    def function(self) -> str:
        """The C GetWorkspaceSize entry point (or the first C function of the case)."""
        if self.op == "quant_matmul_all_reduce":
            return _QUANT_MATMUL_ALL_REDUCE_SIGS[self.version].function
        if self.op in GENERIC:
            return GENERIC[self.op].function
        return {"grouped_matmul": "aclnnGroupedMatmulV5GetWorkspaceSize",
                "trans_weight": "aclnnTransMatmulWeightGetWorkspaceSize",
                "trans_quant": "aclnnTransQuantParamV2GetWorkspaceSize"}[self.op]

    @property
    def op_name(self) -> str:
        return self.function.removesuffix("GetWorkspaceSize")

    def describe(self) -> str:
        """The case in a few lines, for failure reports."""
        lines = [f"case seed={self.seed} profile={self.profile} index={self.index}: {self.op_name} via "
                 f"{self.api}, {self.ranks}-rank group, execute={self.execute}, repeat={self.repeat}",
                 f"  mutations: {', '.join(self.mutations) or 'none (a valid call)'}",
                 f"  ints: {self.ints}", f"  strings: {self.strings}"]
        if self.python:
            lines.append(f"  python: {self.python}")
        if self.null_out_pointer:
            lines.append(f"  NULL output pointer: {self.null_out_pointer}")
        if self.launch:
            lines.append(f"  launch: {self.launch} (index {self.launch_index})")
        for key, value in self.tensors.items():
            lines.append(f"  {key}: {value}")
        return "\n".join(lines)


_QUANT_MATMUL_ALL_REDUCE_SIGS = {"V1": quant_matmul_all_reduce_call.V1, "V2": quant_matmul_all_reduce_call.V2, "V3": quant_matmul_all_reduce_call.V3, "V4": quant_matmul_all_reduce_call.V4}
#: Host arrays the Python API must refuse or convert (see child._odd_array).
ODD_ARRAYS = ("complex", "object", "text", "datetime", "huge_values", "fractions", "strided", "zero_d", "nan",
              "list", "nested_lists", "empty")
#: Wrong execute calls (see :class:`Case`).
LAUNCH_VARIANTS = ("workspace_null", "workspace_small_size", "workspace_short", "workspace_freed",
                   "workspace_other_device", "workspace_host", "rebind_freed", "rebind_short",
                   "rebind_other_device", "rebind_host", "rebind_wild", "rebind_null", "stream_destroyed",
                   "stream_bogus", "stream_other_device")
OPS = ("quant_matmul_all_reduce", "grouped_matmul", "trans_weight", "trans_quant", *GENERIC)


def soc_of(profile: str) -> str:
    return SOCS[profile]


# --------------------------------------------------------------------------- helpers

class _Rng:
    """A few conveniences over numpy's Generator (plain Python values out)."""

    def __init__(self, seed: int, profile: str, index: int) -> None:
        self.g = np.random.default_rng([seed, _PROFILE_IDS[profile], index])

    def random(self) -> float:
        return float(self.g.random())

    def chance(self, p: float) -> bool:
        return self.random() < p

    def choice(self, values):
        values = list(values)
        return values[int(self.g.integers(len(values)))]

    def integer(self, lo: int, hi: int) -> int:
        """An int in [lo, hi]."""
        return int(self.g.integers(lo, hi + 1))

    def counts(self, total: int, parts: int) -> list[int]:
        """``parts`` non-negative counts adding up to at most ``total``."""
        cuts = sorted(self.integer(0, total) for _ in range(parts))
        return [b - a for a, b in zip([0] + cuts[:-1], cuts)]


def T(shape, name: str, **kw) -> TensorSpec:
    return TensorSpec(tuple(int(d) for d in shape), int(dtypes.from_name(name)), **kw)


def _transposed(shape, name: str, **kw) -> TensorSpec:
    """A view of logical ``shape`` (.., K, N) over (.., N, K) storage: the last two strides swapped."""
    shape = tuple(shape)
    swapped = shape[:-2] + (shape[-1], shape[-2])
    strides = list(contiguous_strides(swapped))
    strides[-2], strides[-1] = strides[-1], strides[-2]
    return T(shape, name, strides=tuple(strides), **kw)


def _nz_weight(shape, name: str, **kw) -> TensorSpec:
    return T(shape, name, format=NZ, storage=nz.nz_storage_shape(shape, name), **kw)


def _group_list(rng: _Rng, kind: int, groups: int, total: int) -> TensorSpec:
    """A valid INT64 groupList of ``groups`` groups covering at most ``total`` rows."""
    counts = rng.counts(total, groups)
    if kind == 0:
        values = tuple(int(v) for v in np.cumsum(counts))
        return T((groups,), "int64", fill="values", values=values)
    if kind == 1:
        return T((groups,), "int64", fill="values", values=tuple(counts))
    pairs = []
    for e, c in enumerate(counts):
        pairs += [rng.integer(0, groups - 1) if rng.chance(0.3) else e, c]
    return T((groups, 2), "int64", fill="values", values=tuple(pairs))


# --------------------------------------------------------------------------- QuantMatmulAllReduce

def _quant_matmul_all_reduce_template(rng: _Rng, profile: str) -> tuple[str, dict, dict, dict]:
    """A valid call: (version, tensors, ints, strings)."""
    version = rng.choice(["V1", "V2", "V3", "V4", "V4", "V4"])
    sig = _QUANT_MATMUL_ALL_REDUCE_SIGS[version]
    rows = rng.choice([1, 2, 7, 16, 33])
    k = rng.choice([16, 32, 64, 128])
    n = rng.choice([8, 16, 24, 64])
    batch = rng.choice([None, None, None, 2])
    x1_shape = (rows, k) if batch is None else (batch, rows, k)
    m = math.prod(x1_shape[:-1])
    out_rows = x1_shape[:-1]
    ints = {"comm_turn": 0, "stream_mode": 1, "group_size": 0, "comm_quant_mode": 0}
    strings = {"group": "comm", "reduce_op": "sum"}
    t: dict[str, Value] = {}
    modes = ["int8_packed", "int8_bf16", "int8_pertoken"]
    if version == "V1":
        modes = ["int8_packed", "int8_bf16"]
    if version == "V4" and profile == "950":
        modes += ["packed", "pertoken", "perblock", "mx", "mx", "fp8_comm"]
    mode = rng.choice(modes)
    if mode.startswith("int8"):
        x = "int8"
    elif mode == "mx":
        x = rng.choice(["float8_e4m3fn", "float8_e5m2", "float4_e2m1"])
        k = rng.choice([64, 128])
        x1_shape = x1_shape[:-1] + (k,)
    elif mode == "fp8_comm":
        x = rng.choice(["float8_e4m3fn", "float8_e5m2"])
    else:
        x = rng.choice(["float8_e4m3fn", "float8_e5m2", "hifloat8"])
    t["x1"] = T(x1_shape, x)
    x2_layout = rng.choice(["nd", "nd", "transposed", "nz"])
    if mode == "mx":
        x2_layout = "transposed"
    if x2_layout == "nz" and (x != "int8" or (sig.legacy_checks and profile == "950")):
        x2_layout = "nd"
    if x2_layout == "transposed":
        t["x2"] = _transposed((k, n), x)
    elif x2_layout == "nz":
        t["x2"] = _nz_weight((k, n), x)
    else:
        t["x2"] = T((k, n), x)
    scale_shape = rng.choice([(n,), (1, n), (1,)])
    if mode == "int8_packed":
        out = "float16"
        t["x2_scale"] = T(scale_shape, rng.choice(["uint64", "int64"]), fill="scale")
    elif mode == "int8_bf16":
        out = "bfloat16"
        t["x2_scale"] = T(scale_shape, "bfloat16", fill="scale")
        if version != "V1" and rng.chance(0.5):
            t["x1_scale"] = T((m,), "float32", fill="scale")
    elif mode == "int8_pertoken":
        out = "float16"
        t["x2_scale"] = T(scale_shape, "float32", fill="scale")
        t["x1_scale"] = T((m,), "float32", fill="scale")
    else:
        out = rng.choice(["float16", "bfloat16", "float32"])
    if mode == "packed":
        t["x2_scale"] = T(scale_shape, "uint64", fill="scale")
    elif mode in ("pertoken", "fp8_comm") and (mode == "pertoken" or rng.chance(0.5)):
        t["x1_scale"] = T((m,), "float32", fill="scale")
        t["x2_scale"] = T(scale_shape, "float32", fill="scale")
    elif mode in ("perblock", "fp8_comm"):
        kb, nb = -(-k // 128), -(-n // 128)
        t["x1_scale"] = T(x1_shape[:-2] + (-(-x1_shape[-2] // 128), kb), "float32", fill="scale")
        t["x2_scale"] = T((nb, kb) if x2_layout == "transposed" else (kb, nb), "float32", fill="scale")
        ints["group_size"] = encode_group_size(128, 128, 128)
    elif mode == "mx":
        pairs = -(-k // 64)
        t["x1_scale"] = T((m, pairs, 2), "float8_e8m0", fill="scale")
        t["x2_scale"] = T((n, pairs, 2), "float8_e8m0", fill="scale")
        ints["group_size"] = rng.choice([0, encode_group_size(1, 1, 32)])
    if mode == "fp8_comm":
        ints["comm_quant_mode"] = 1
    int8 = x == "int8"
    if mode != "perblock" and mode != "fp8_comm" and rng.chance(0.3):
        t["bias"] = T((n,), "int32" if int8 else "float32", fill="small")
    if rng.chance(0.25):
        t["x3"] = T(out_rows + (n,), out, fill="small")
    if int8 and version in ("V3", "V4") and rng.chance(0.3):
        shape = rng.choice([(n,), (1, n)])
        t["comm_quant_scale_1"] = T(shape, out, fill="scale")
        t["comm_quant_scale_2"] = T(shape, out, fill="scale")
    t["output"] = T(out_rows + (n,), out)
    keys = [key for key in map(sig.params.get, sig.parameters) if key in quant_matmul_all_reduce_call.TENSORS]
    tensors = {key: t.get(key) for key in keys}
    return version, tensors, ints, strings


# --------------------------------------------------------------------------- GroupedMatmulV5

_GROUPED_MATMUL_LISTS = ("x", "weight", "bias", "scale", "offset", "antiquant_scale", "antiquant_offset", "per_token_scale")


def _grouped_matmul_empty() -> dict[str, Value]:
    return {key: None for key in _GROUPED_MATMUL_LISTS + ("group_list", "out")}


def _float_bias(x: str) -> str:
    return "float16" if x == "float16" else "float32"


def _grouped_matmul_template(rng: _Rng, profile: str) -> tuple[dict, dict]:
    """A valid call: (tensors, ints)."""
    t = _grouped_matmul_empty()
    ints = {"split_item": 3, "group_type": 0, "group_list_type": 0, "act_type": 0}
    scenarios = ["nonquant_m", "nonquant_m", "per_tensor", "concat", "k_stack", "a8w8", "a8w8",
                 "a16w8", "a16w4", "a4w4"]
    scenarios += ["a8w4_a2"] if profile != "950" else ["s8s4", "s4s4", "quant_fp8", "mx", "perblock", "weight_fp8"]
    kind = rng.choice(scenarios)
    e = rng.integer(1, 4)
    m = rng.choice([1, 4, 11, 24])
    if kind in ("nonquant_m", "a8w8", "a16w8", "a16w4", "quant_fp8", "weight_fp8"):
        k = rng.choice([16, 32, 48, 64])
        n = rng.choice([8, 16, 24, 32])
        x = {"nonquant_m": rng.choice(["float16", "bfloat16", "float32"]), "a8w8": "int8",
             "a16w8": rng.choice(["float16", "bfloat16"]), "a16w4": rng.choice(["float16", "bfloat16"]),
             "quant_fp8": rng.choice(["float8_e4m3fn", "float8_e5m2", "hifloat8"]),
             "weight_fp8": rng.choice(["float16", "bfloat16"])}[kind]
        w = {"a16w8": "int8", "a16w4": "int4", "a8w8": "int8",
             "weight_fp8": rng.choice(["float8_e4m3fn", "hifloat8"])}.get(kind, x)
        glt = rng.choice([0, 1, 2] if kind in ("a8w8", "quant_fp8") else [0, 1])
        transposed = kind == "weight_fp8" or (kind in ("nonquant_m", "a8w8", "a16w8") and rng.chance(0.25))
        if kind == "a16w4":
            n = rng.choice([8, 16, 32])
        # the 950 takes a quantized NZ weight through aclnnGroupedMatmulWeightNz only
        use_nz = (kind == "nonquant_m" or (kind == "a8w8" and profile != "950")) and not transposed \
            and x != "float32" and rng.chance(0.2)
        a8w8_outs = [("int8", "uint64", "int32", False), ("bfloat16", "bfloat16", "int32", True),
                     ("bfloat16", "float32", None, True), ("float16", "float32", "int32", True),
                     ("int32", None, "int32", False)]
        if use_nz:  # an NZ weight gives no INT8 out (ParamsWeightNzDtype)
            a8w8_outs = a8w8_outs[1:]
        if use_nz:
            c0 = nz.nz_c0(w)
            k, n = 32, c0 * rng.integer(1, 2)
            t["weight"] = (_nz_weight((e, k, n), w),)
        elif transposed:
            t["weight"] = (_transposed((e, k, n), w),)
        else:
            t["weight"] = (T((e, k, n), w),)
        t["x"] = (T((m, k), x),)
        t["group_list"] = _group_list(rng, glt, e, m)
        ints.update(split_item=rng.choice([2, 3]), group_list_type=glt)
        if kind == "nonquant_m":
            out = x
            if rng.chance(0.4):
                t["bias"] = (T((e, n), _float_bias(x), fill="small"),)
        elif kind == "a8w8":
            out, scale, bias, pts = rng.choice(a8w8_outs)
            if (out, scale) == ("bfloat16", "float32") and profile != "950":
                scale = "bfloat16"  # Atlas A2/A3: a BFLOAT16 out needs a BFLOAT16 scale
            if scale is not None:
                t["scale"] = (T((e, n), scale, fill="scale"),)
            if bias is not None and rng.chance(0.5):
                t["bias"] = (T((e, n), bias, fill="small"),)
            if pts and rng.chance(0.6):
                t["per_token_scale"] = (T((m,), "float32", fill="scale"),)
            if out in ("float16", "bfloat16") and scale is not None and rng.chance(0.2):
                ints["act_type"] = rng.choice([1, 2, 4, 5])
        elif kind == "quant_fp8":
            out = rng.choice(["bfloat16", "float16", "float32"])
            t["scale"] = (T((e, n), rng.choice(["uint64", "int64", "float32"]), fill="scale"),)
            if rng.chance(0.5):
                t["per_token_scale"] = (T((m,), "float32", fill="scale"),)
        else:  # weight-only
            out = x
            groups = rng.choice([2, 4]) if kind == "a16w4" and rng.chance(0.4) else 0
            shape = (e, groups, n) if groups else (e, n)
            t["antiquant_scale"] = (T(shape, x, fill="scale"),)
            if kind != "weight_fp8" and not groups and rng.chance(0.5):
                t["antiquant_offset"] = (T(shape, x, fill="small"),)
            if kind != "weight_fp8" and rng.chance(0.3):
                t["bias"] = (T((e, n), _float_bias(x), fill="small"),)
            if kind == "weight_fp8":
                ints["group_list_type"] = 1
                t["group_list"] = _group_list(rng, 1, e, m)
        t["out"] = (T((m, n), out),)
    elif kind == "per_tensor":
        x = rng.choice(["float16", "bfloat16", "float32"])
        dims = [(rng.integer(1, 9), rng.choice([8, 16, 32]), rng.choice([8, 16])) for _ in range(rng.integer(1, 3))]
        t["x"] = tuple(T((a, b), x) for a, b, _ in dims)
        t["weight"] = tuple(T((b, c), x) for _, b, c in dims)
        t["out"] = tuple(T((a, c), x) for a, _, c in dims)
        if rng.chance(0.4):
            t["bias"] = tuple(T((c,), _float_bias(x), fill="small") for *_, c in dims)
        ints.update(split_item=rng.choice([0, 1]), group_type=-1)
    elif kind == "concat":
        x = rng.choice(["float16", "bfloat16"])
        k, n = rng.choice([8, 16]), rng.choice([8, 16])
        rows = [rng.integer(1, 6) for _ in range(rng.integer(1, 3))]
        t["x"] = tuple(T((r, k), x) for r in rows)
        t["weight"] = tuple(T((k, n), x) for _ in rows)
        t["out"] = (T((sum(rows), n), x),)
        ints.update(split_item=rng.choice([2, 3]), group_type=0)  # a single output needs grouping (along M)
        if len(rows) == 1 or rng.chance(0.5):  # the groupList is optional with several x
            values = tuple(int(v) for v in np.cumsum(rows))
            t["group_list"] = T((len(rows),), "int64", fill="values", values=values)
    elif kind == "k_stack":
        x = rng.choice(["float16", "bfloat16"])
        k, n = rng.choice([16, 40]), rng.choice([8, 16])
        glt = rng.choice([0, 1])
        m = max(m, 4)  # a transposed view of one row is contiguous
        t["x"] = (_transposed((m, k), x),)
        t["weight"] = (T((k, n), x),)
        t["group_list"] = _group_list(rng, glt, e, k)
        t["out"] = (T((e, m, n), x),)
        ints.update(split_item=3, group_type=2, group_list_type=glt)
    elif kind in ("a8w4_a2", "s8s4"):
        k, n = 256, rng.choice([8, 16, 64])
        with_offset = rng.chance(0.4)
        t["x"] = (T((m, k), "int8"),)
        t["weight"] = (T((e, k, n), "int4"),)
        t["scale"] = (T((e, 1, n), "uint64", fill="scale"),)
        t["bias"] = (T((e, n), "float32", fill="small"),)
        t["per_token_scale"] = (T((m,), "float32", fill="scale"),)
        if with_offset:
            t["offset"] = (T((e, 1, n), "float32", fill="small"),)
        t["group_list"] = _group_list(rng, 1, e, m)
        t["out"] = (T((m, n), "float16" if with_offset else rng.choice(["bfloat16", "float16"])),)
        ints.update(group_list_type=1)
    elif kind in ("a4w4", "s4s4"):
        k, n = rng.choice([64, 256]), rng.choice([16, 64])
        groups = rng.choice([0, 0, 2, 4])
        t["x"] = (T((m, k), "int4"),)
        t["weight"] = (T((e, k, n), "int4"),)
        t["scale"] = (T((e, groups, n) if groups else (e, n), "uint64", fill="scale"),)
        if rng.chance(0.6):
            t["per_token_scale"] = (T((m,), "float32", fill="scale"),)
        glt = rng.choice([0, 1]) if kind == "a4w4" else rng.choice([0, 1, 2])
        t["group_list"] = _group_list(rng, glt, e, m)
        t["out"] = (T((m, n), rng.choice(["bfloat16", "float16"])),)
        ints.update(group_list_type=glt)
    elif kind == "mx":
        x = rng.choice(["float8_e4m3fn", "float8_e5m2", "float4_e2m1"])
        k, n = rng.choice([64, 96, 128]), rng.choice([12, 16, 32])
        transposed = rng.chance(0.5)
        kp = -(-k // 64)
        t["x"] = (T((m, k), x),)
        t["weight"] = (_transposed((e, k, n), x) if transposed else T((e, k, n), x),)
        t["per_token_scale"] = (T((m, kp, 2), "float8_e8m0", fill="scale"),)
        t["scale"] = (T((e, n, kp, 2) if transposed else (e, kp, n, 2), "float8_e8m0", fill="scale"),)
        if x == "float4_e2m1" and rng.chance(0.5):
            t["bias"] = (T((e, n), "float32", fill="small"),)
        t["group_list"] = _group_list(rng, 0, e, m)
        t["out"] = (T((m, n), rng.choice(["bfloat16", "float16", "float32"])),)
    elif kind == "perblock":
        k, n = rng.choice([128, 256]), rng.choice([16, 136])
        t["x"] = (T((m, k), "float8_e4m3fn"),)
        t["weight"] = (T((e, k, n), "float8_e4m3fn"),)
        t["per_token_scale"] = (T((m, -(-k // 128)), "float32", fill="scale"),)
        t["scale"] = (T((e, -(-k // 128), -(-n // 128)), "float32", fill="scale"),)
        t["group_list"] = _group_list(rng, 0, e, m)
        t["out"] = (T((m, n), rng.choice(["bfloat16", "float16", "float32"])),)
    if rng.chance(0.1) and t["group_list"] is not None:
        ints["tuning_config"] = rng.choice([(0,), (1,), (0, 0)])
    return t, ints


# --------------------------------------------------------------------------- the helpers

def _trans_weight_template(rng: _Rng) -> dict:
    name = rng.choice(["int8", "float16", "bfloat16"])
    k, n = rng.choice([16, 32, 40, 64]), rng.choice([8, 16, 32, 48])
    shape = (k, n) if name != "int8" or rng.chance(0.7) else (2, k, n)
    return {"weight": T(shape, name, capacity=nz.matmul_weight_size(shape, name))}


def _trans_quant_template(rng: _Rng) -> dict:
    n = rng.choice([1, 4, 16, 33])
    kind = rng.choice(["1d", "2d", "1d_offset", "2d_offset"])
    scale_shape = (n,) if kind.startswith("1d") else (1, n)
    t: dict[str, Value] = {"scale": T(scale_shape, "float32", fill="scale"), "offset": None}
    out_shape = scale_shape
    if kind == "1d_offset":
        length = rng.choice([1, n])
        t["offset"] = T((length,), "float32", fill="small")
        out_shape = (max(n, length),)
    elif kind == "2d_offset":
        t["offset"] = T(scale_shape, "float32", fill="small")
    t["out"] = T(out_shape, rng.choice(["uint64", "int64"]))
    return t


# --------------------------------------------------------------------------- mutations

def _paths(tensors: dict[str, Value]) -> list[tuple[str, int | None]]:
    paths = []
    for key, value in tensors.items():
        if isinstance(value, TensorSpec):
            paths.append((key, None))
        elif isinstance(value, tuple):
            paths.extend((key, i) for i, s in enumerate(value) if s is not None)
    return paths


def _get(tensors, path) -> TensorSpec:
    key, i = path
    return tensors[key] if i is None else tensors[key][i]


def _set(tensors, path, spec: TensorSpec | None) -> None:
    key, i = path
    if i is None:
        tensors[key] = spec
    else:
        members = list(tensors[key])
        members[i] = spec
        tensors[key] = tuple(members)


def _mutate_dtype(rng: _Rng, s: TensorSpec) -> tuple[TensorSpec, str]:
    dtype = rng.choice(INVALID_DTYPES) if rng.chance(0.3) else rng.choice(VALID_DTYPES)
    return replace(s, dtype=dtype, fill="random"), f"dtype {dtype}"


def _mutate_shape(rng: _Rng, s: TensorSpec) -> tuple[TensorSpec, str]:
    shape = list(s.shape)
    how = rng.choice(["zero", "0-d", "add", "drop", "huge", "plus_one", "minus_one", "double", "swap"])
    if how == "0-d" or not shape:
        shape = [] if how == "0-d" or rng.chance(0.5) else [rng.integer(0, 8)]
    elif how == "zero":
        shape[rng.integer(0, len(shape) - 1)] = 0
    elif how == "add":
        shape.insert(rng.integer(0, len(shape)), rng.choice([1, 2, 3]))
    elif how == "drop":
        del shape[rng.integer(0, len(shape) - 1)]
    elif how == "huge":
        shape[rng.integer(0, len(shape) - 1)] = rng.choice(HUGE)
    elif how == "swap" and len(shape) >= 2:
        shape[-1], shape[-2] = shape[-2], shape[-1]
    else:
        i = rng.integer(0, len(shape) - 1)
        shape[i] = max(0, {"plus_one": shape[i] + 1, "minus_one": shape[i] - 1, "double": 2 * shape[i]}.get(how, 1))
    strides = None if s.strides is None or rng.chance(0.7) else s.strides
    return replace(s, shape=tuple(shape), strides=strides), f"shape {how} -> {shape}"


def _mutate_strides(rng: _Rng, s: TensorSpec) -> tuple[TensorSpec, str]:
    strides = list(s.c_strides())
    if not strides:
        return replace(s, strides=()), "strides of a 0-d tensor"
    i = rng.integer(0, len(strides) - 1)
    how = rng.choice(["negate", "negate_valid", "zero", "extreme", "transpose", "small", "all_negative"])
    offset = s.offset
    if how in ("negate", "negate_valid"):
        strides[i] = -strides[i]
        if how == "negate_valid":  # a valid backwards view: start at the last element of that dim
            offset += max(s.shape[i] - 1, 0) * abs(strides[i])
    elif how == "all_negative":
        strides = [-abs(v) for v in strides]
        offset += sum(max(d - 1, 0) * abs(v) for d, v in zip(s.shape, strides))
    elif how == "zero":
        strides[i] = 0
    elif how == "extreme":
        strides[i] = rng.choice(EXTREME_STRIDES)
    elif how == "transpose" and len(strides) >= 2:
        strides[-1], strides[-2] = strides[-2], strides[-1]
    else:
        strides[i] = rng.integer(-4, 64)
    return replace(s, strides=tuple(strides), offset=offset), f"strides {how} -> {strides} offset {offset}"


def _mutate_offset(rng: _Rng, s: TensorSpec) -> tuple[TensorSpec, str]:
    offset = rng.choice([rng.integer(1, 64), rng.integer(1, 64), -1, -rng.integer(2, 100), 2**40, 2**62,
                         2**63 - 1, -2**63])
    return replace(s, offset=offset), f"offset {offset}"


def _mutate_format(rng: _Rng, s: TensorSpec) -> tuple[TensorSpec, str]:
    if s.format != NZ and rng.chance(0.5):
        return replace(s, format=NZ, storage=None), "format FRACTAL_NZ (NZ storage of the view)"
    fmt = rng.choice(BOGUS_FORMATS + (ND,))
    return replace(s, format=fmt), f"format {fmt}"


def _mutate_storage(rng: _Rng, s: TensorSpec) -> tuple[TensorSpec, str]:
    current = list(s.storage_shape())
    how = rng.choice(["smaller", "empty", "zero", "negative", "huge", "random", "nz_of_smaller"])
    if how == "smaller":
        storage = [max(d // 2, 0) for d in current]
    elif how == "empty":
        storage = []
    elif how == "zero":
        storage = [0]
    elif how == "negative":
        storage = current[:-1] + [-1]
    elif how == "huge":
        storage = current[:-1] + [rng.choice(HUGE)]
    elif how == "nz_of_smaller" and s.name is not None and len(s.shape) >= 2:
        try:
            storage = list(nz.nz_storage_shape([max(d // 2, 0) for d in s.shape], s.name))
        except ValueError:
            storage = [1]
    else:
        storage = [rng.integer(0, 64) for _ in range(rng.integer(1, 5))]
    return replace(s, storage=tuple(storage)), f"storage {how} -> {storage}"


def _mutate_address(rng: _Rng, s: TensorSpec) -> tuple[TensorSpec, str]:
    kind = rng.choice(ADDRESS_KINDS[1:])
    return replace(s, address=kind), f"address {kind}"


_TENSOR_MUTATIONS: dict[str, Callable[[_Rng, TensorSpec], tuple[TensorSpec, str]]] = {
    "dtype": _mutate_dtype, "shape": _mutate_shape, "strides": _mutate_strides, "offset": _mutate_offset,
    "format": _mutate_format, "storage": _mutate_storage, "address": _mutate_address,
}


def _random_spec(rng: _Rng) -> TensorSpec:
    shape = tuple(rng.integer(0, 16) for _ in range(rng.integer(0, 3)))
    return TensorSpec(shape, rng.choice(VALID_DTYPES), fill="small")


def _mutate_case(rng: _Rng, op: str, tensors: dict, ints: dict, strings: dict) -> tuple[list[str], int | None]:
    """Apply one mutation in place; returns (log, new communicator size or None)."""
    kinds = ["tensor"] * 8 + ["null_tensor", "add_tensor", "attr", "attr"]
    if op == "grouped_matmul":
        kinds += ["list", "list", "group_list_values"]
    if op == "quant_matmul_all_reduce":
        kinds += ["string", "ranks"]
    kind = rng.choice(kinds)
    paths = _paths(tensors)
    if kind == "tensor" and paths:
        path = rng.choice(paths)
        name = rng.choice(list(_TENSOR_MUTATIONS))
        spec, what = _TENSOR_MUTATIONS[name](rng, _get(tensors, path))
        _set(tensors, path, spec)
        return [f"{path[0]}{'' if path[1] is None else f'[{path[1]}]'}: {what}"], None
    if kind == "null_tensor" and paths:
        path = rng.choice(paths)
        _set(tensors, path, None)
        return [f"{path[0]}{'' if path[1] is None else f'[{path[1]}]'}: NULL"], None
    if kind == "add_tensor":
        key = rng.choice(list(tensors))
        spec = _random_spec(rng)
        if op == "grouped_matmul" and key != "group_list":
            tensors[key] = (tensors[key] or ()) + (spec,)
        else:
            tensors[key] = spec
        return [f"{key}: a random tensor {spec}"], None
    if kind == "list":
        key = rng.choice([k for k in tensors if k != "group_list"])
        how = rng.choice(["null", "empty", "null_member", "drop", "duplicate"])
        members = list(tensors[key] or ())
        if how == "null":
            tensors[key] = None
        elif how == "empty":
            tensors[key] = ()
        elif how == "null_member":
            members.insert(rng.integer(0, len(members)), None)
            tensors[key] = tuple(members)
        elif how == "drop" and members:
            del members[rng.integer(0, len(members) - 1)]
            tensors[key] = tuple(members)
        elif members:
            tensors[key] = tuple(members + [members[-1]])
        return [f"{key} list: {how}"], None
    if kind == "group_list_values" and isinstance(tensors.get("group_list"), TensorSpec):
        gl = tensors["group_list"]
        values = tuple(rng.choice([-1, 0, 1, 5, 2**31, 2**62, -2**63, 2**63 - 1]) if rng.chance(0.5)
                       else rng.integer(0, 40) for _ in range(max(math.prod(gl.shape), 0) if len(gl.shape) <= 2
                                                               and max(gl.shape, default=0) < 64 else 0))
        tensors["group_list"] = replace(gl, values=values)
        return [f"group_list values {values}"], None
    if kind == "string":
        key = rng.choice(["group", "reduce_op"])
        value = rng.choice(["null", "empty", "bogus", "bytes", "long"] if key == "group"
                           else [None, "", "max", "summ", "SUM", "sum\x01", b"\xff\xfe"])
        strings[key] = value
        return [f"{key}: {value!r}"], None
    if kind == "ranks":
        ranks = rng.choice([1, 2, 3])
        return [f"communicator of {ranks} ranks"], ranks
    if ints:
        key = rng.choice([k for k in ints if k != "tuning_config"] or list(ints))
        if key == "tuning_config" or isinstance(ints[key], tuple):  # an aclIntArray (None: NULL)
            value: Any = rng.choice([(), (-1,), (2**63 - 1,), (0, 1, 2), (0, 0), (1, 0), (-9, 0, 1)]
                                    + ([None] if key != "tuning_config" else []))
        elif key == "dtype":
            value = rng.choice(VALID_DTYPES + INVALID_DTYPES)
        else:
            value = rng.choice(INTERESTING_INTS + (encode_group_size(128, 128, 128), encode_group_size(1, 1, 32)))
        ints[key] = value
        return [f"{key} = {value}"], None
    return [], None


# --------------------------------------------------------------------------- the case

def generate(seed: int, profile: str, index: int) -> Case:
    """Case ``index`` of ``seed`` for ``profile`` ("A2", "950" or "A3")."""
    rng = _Rng(seed, profile, index)
    op = rng.choice(["quant_matmul_all_reduce"] * 5 + ["grouped_matmul"] * 5 + ["trans_weight", "trans_quant"]
                    + list(GENERIC))
    version = ""
    ints: dict[str, Any] = {}
    strings: dict[str, Any] = {}
    if op == "quant_matmul_all_reduce":
        version, tensors, ints, strings = _quant_matmul_all_reduce_template(rng, profile)
    elif op in GENERIC:
        tensors, ints = GENERIC[op].template(rng, profile)
    elif op == "grouped_matmul":
        tensors, ints = _grouped_matmul_template(rng, profile)
    elif op == "trans_weight":
        tensors = _trans_weight_template(rng)
    else:
        tensors = _trans_quant_template(rng)
    ranks = rng.choice([1, 2]) if op == "quant_matmul_all_reduce" else 1
    log: list[str] = []
    if rng.chance(0.65):
        for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
            changes, new_ranks = _mutate_case(rng, op, tensors, ints, strings)
            log += changes
            ranks = new_ranks or ranks
    api = "python" if rng.chance(0.3) else "c"
    null_out = None
    if api == "c" and rng.chance(0.02):
        null_out = rng.choice(["workspaceSize", "executor"])
        log.append(f"NULL {null_out} output pointer")
    python: dict[str, Any] = {}
    if api == "python":
        python = _python_extras(rng, op, tensors, log)
    execute = rng.chance(0.4)
    launch, launch_index = None, 0
    if api == "c" and execute and rng.chance(0.25):
        launch, launch_index = rng.choice(LAUNCH_VARIANTS), rng.choice([0, 0, 1, 2, 3, 7, 2**31, 2**63])
        log.append(f"launch: {launch}")
    return Case(seed=seed, profile=profile, index=index, op=op, version=version, api=api, tensors=tensors,
                ints=ints, strings=strings, ranks=ranks, execute=execute, repeat=rng.chance(0.1),
                null_out_pointer=null_out, launch=launch, launch_index=launch_index, python=python,
                mutations=tuple(log))


def _python_extras(rng: _Rng, op: str, tensors: dict, log: list[str]) -> dict[str, Any]:
    """Python-only arguments: output dtypes, host arrays instead of tensors, odd values."""
    extras: dict[str, Any] = {}
    if rng.chance(0.4):
        extras["allocate_out"] = True  # let the binding make the output
    if rng.chance(0.15) and op not in GENERIC:  # the generic functions have no out_dtype
        value = rng.choice(["float16", "bfloat16", "float32", "float99", "", 1, 27, -5, 2**40, "ACL_BF16", 3.5, None])
        extras["out_dtype"] = value
        log.append(f"python out_dtype={value!r}")
    if op == "quant_matmul_all_reduce" and rng.chance(0.1):
        value = rng.choice(["int8", "hifloat8", "bogus", 2, 999, None])
        extras["x_dtype"] = value
        log.append(f"python x_dtype={value!r}")
    if rng.chance(0.2):
        extras["host_arrays"] = True  # inputs given as NumPy arrays of the spec's shape and host dtype
        log.append("python: inputs as NumPy arrays")
    if rng.chance(0.05):
        key = rng.choice(["comm_turn", "stream_mode", "group_size", "split_item", "act_type", "group_type",
                          "cube_math_type", "dtype", "dims"])
        value = rng.choice([2**64, -2**64, 1.5, "1", None, True])
        extras["odd_int"] = (key, value)
        log.append(f"python {key}={value!r}")
    if rng.chance(0.1):
        keys = [k for k, v in tensors.items() if v is not None and k not in ("output", "out")]
        if keys:
            extras["odd_array"] = (rng.choice(keys), rng.choice(ODD_ARRAYS))
            log.append(f"python {extras['odd_array'][0]} = {extras['odd_array'][1]} array")
    if op == "quant_matmul_all_reduce" and rng.chance(0.05):
        value = rng.choice([123, b"\xff\xfe", "bad\x00name", "ünïcode", None])
        extras["group_value"] = value
        log.append(f"python group={value!r}")
    return extras
