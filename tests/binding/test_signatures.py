"""The binding's memos give the outcome the checks give from scratch.

* Validated call signatures (:mod:`aclnn_py.ops._signatures`): over many random
  QuantMatmulAllReduce calls (V1-V4, Atlas A2 and Ascend 950) drawn from a small space, so
  that signatures repeat on new tensors at new addresses, the binding accepts exactly the
  calls the rules accept and rejects the others with the rules' code and message -- whether
  the memo answered or the rules ran.
* Checked layouts (:mod:`aclnn_py.tensor`): random descriptors are accepted or refused as
  ``layout.check`` and the buffer size say, the first time and again on another buffer.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from binding_helpers import grouped_matmul_arguments, quant_matmul_all_reduce_arguments, soc_profile  # noqa: E402

import aclnn_py  # noqa: E402
from aclnn_py import DeviceBuffer, Tensor  # noqa: E402
from aclnn_py.errors import AclnnParamError, ArgumentError, StatusError  # noqa: E402
from aclnn_py.ops._signatures import ACCEPTED  # noqa: E402
from aclnn_py.ops import current_profile  # noqa: E402
from aclnn_py.semantics import dtypes, layout, nz  # noqa: E402
from aclnn_py.semantics.descriptors import FRACTAL_NZ, ND, TensorDesc  # noqa: E402
from aclnn_py.semantics.grouped_matmul import rules as grouped_matmul_rules  # noqa: E402
from aclnn_py.semantics.quant_matmul_all_reduce import rules  # noqa: E402
from aclnn_py.semantics.quant_params import encode_group_size  # noqa: E402
from aclnn_py.semantics.status import Violation  # noqa: E402

PERBLOCK = encode_group_size(128, 128, 128)
CALLS = 400
NEIGHBOURS = 6  # per accepted call
ATTRIBUTES = dict(signature=rules.V4, reduce_op="sum", comm_turn=0, stream_mode=1, group_size=0, comm_quant_mode=0)
NEIGHBOUR_VALUES = {"reduce_op": ("sum", "sumx", "max"), "comm_turn": (0, 1), "stream_mode": (1, 0),
                    "rank_size": (1, 2, 3, 8, 16), "group_size": (0, 1, PERBLOCK), "comm_quant_mode": (0, 1, 2)}
NEIGHBOUR_DTYPES = ("int8", "float8_e4m3fn", "float16", "bfloat16", "float32", "int32", "uint64", "float8_e8m0")


class Calls:
    """Random calls over a few device buffers: each tensor a new aclTensor at a random offset
    of a random buffer (its address changes, its signature often does not)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.buffers = [DeviceBuffer(1 << 14) for _ in range(3)]
        self.tensors: list[Tensor] = []

    def pick(self, *choices):
        return choices[self.rng.integers(len(choices))]

    def maybe(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def usually(self, value, *others, p: float = 0.06):
        """``value``, or one of ``others`` with probability ``p``."""
        return self.pick(*others) if others and self.maybe(p) else value

    def tensor(self, shape, dtype, *, transposed=False) -> Tensor:
        """A view of ``shape`` (contiguous, or the transpose of a contiguous (.., b, a) one)."""
        shape = tuple(shape)
        if transposed:
            strides = list(TensorDesc.contiguous(shape[:-2] + (shape[-1], shape[-2]), 0).strides)
            strides[-1], strides[-2] = strides[-2], strides[-1]
        else:
            strides = TensorDesc.contiguous(shape, 0).strides
        t = Tensor(self.pick(*self.buffers), shape, dtype, strides=tuple(strides), offset=self.pick(0, 0, 16))
        if self.maybe(0.1):
            t.desc = t.desc  # a descriptor without a memoised layout (as after refresh)
        self.tensors.append(t)
        return t

    def call(self, profile: str) -> dict:
        """One call: a valid-looking base (int8 per-channel / per-token, or FP8 per-token /
        perblock on 950) with each part changed with a small probability."""
        sig = self.pick(rules.V4, rules.V4, rules.V4, rules.V1, rules.V2, rules.V3)
        m, k, n = self.pick(16, 8), self.pick(64, 32), self.pick(32, 16)
        fp8 = profile == "950" and sig is rules.V4 and self.maybe(0.5)
        x = self.usually(self.pick("float8_e4m3fn", "float8_e5m2") if fp8 else "int8", "float16", "hifloat8", "int8")
        mode = self.pick("pertoken", "perblock") if fp8 else self.pick("perchannel", "perchannel", "pertoken")
        if not sig.has("x1_scale"):
            mode = "perchannel"
        x1_shape = (2, m // 2, k) if self.maybe(0.15) else (m, k)
        spec = dict(
            x1=self.tensor(x1_shape, x, transposed=self.maybe(0.03)),
            x2=self.tensor((self.usually(k, k + 1), n), self.usually(x, "int8", "float8_e5m2"),
                           transposed=self.maybe(0.3)),
            signature=sig, reduce_op=self.usually("sum", "max", "sumx"), comm_turn=self.usually(0, 1),
            stream_mode=self.usually(1, 0), comm_quant_mode=0, rank_size=self.usually(self.pick(1, 2, 8), 3, 16),
            group_size=0)
        out_dtype = self.pick("float16", "bfloat16", *(("float32",) if fp8 else ()))
        if mode == "perblock":
            kb, nb = -(-k // 128), -(-n // 128)
            spec["x1_scale"] = self.tensor(x1_shape[:-2] + (-(-x1_shape[-2] // 128), kb), "float32")
            spec["x2_scale"] = self.tensor(self.usually((kb, nb), (kb, nb + 1)), "float32")
            spec["group_size"] = self.usually(PERBLOCK, 0, 1)
        elif mode == "pertoken":
            spec["x1_scale"] = self.tensor((self.usually(x1_shape[0] * (x1_shape[1] if len(x1_shape) == 3 else 1),
                                                         m + 1),), self.usually("float32", "bfloat16"))
            scale = "float32" if out_dtype == "float16" else self.pick(out_dtype, "float32")
            spec["x2_scale"] = self.tensor((n,), self.usually(scale, "int32"))
        else:
            scale = "bfloat16" if out_dtype == "bfloat16" else self.pick("uint64", "int64")
            spec["x2_scale"] = self.tensor(self.usually(self.pick((n,), (1, n)), (n + 1,)),
                                           self.usually(scale, "int32", "float8_e8m0", "float32"))
        if self.maybe(0.2):
            spec["bias"] = self.tensor((self.usually(n, n + 1),), self.usually("int32" if x == "int8" else "float32",
                                                                              "float32", "int32"))
        out_shape = x1_shape[:-1] + (self.usually(n, n + 1),)
        if self.maybe(0.15):
            spec["x3"] = self.tensor(out_shape, self.usually(out_dtype, "float16", "bfloat16"))
        if sig.has("comm_quant_scale_1") and self.maybe(0.1):
            spec["comm_quant_scale_1"] = self.tensor((n,), out_dtype)
            if self.maybe(0.8):
                spec["comm_quant_scale_2"] = self.tensor(self.pick((n,), (1, n)), out_dtype)
        if sig.has("comm_quant_mode"):
            spec["comm_quant_mode"] = self.usually(0, 1)
        spec["out"] = self.tensor(out_shape, out_dtype)
        return spec

    def twin(self, spec: dict) -> dict:
        """The same call on new tensors in other buffers: the same signature, other addresses."""
        twin = dict(spec)
        for key, t in spec.items():
            if isinstance(t, Tensor):
                buffer = self.buffers[(self.buffers.index(t.buffer) + 1) % len(self.buffers)]
                twin[key] = copy = Tensor(buffer, t.shape, t.dtype, strides=t.desc.strides, offset=t.desc.offset)
                if t._layout is None:
                    copy.desc = copy.desc
                self.tensors.append(copy)
        return twin

    def neighbours(self, spec: dict, count: int):
        """``count`` calls that differ from ``spec`` in one thing each: an attribute, the entry
        point, or one tensor's dtype, shape, strides, offset, format or presence."""
        sig = spec["signature"]
        kinds = ["scalar", "signature", "dtype", "shape", "strides", "offset", "format", "presence"]
        for _ in range(count):
            kind = self.pick(*kinds)
            variant = dict(spec)
            if kind == "scalar":
                key = self.pick("reduce_op", "comm_turn", "stream_mode", "rank_size",
                                *(("group_size", "comm_quant_mode") if sig.has("group_size") else ()))
                variant[key] = self.pick(*[v for v in NEIGHBOUR_VALUES[key] if v != spec[key]])
            elif kind == "signature":
                others = [s for s in (rules.V1, rules.V2, rules.V3, rules.V4) if s is not sig and all(
                    s.has(k) for k in ("x1_scale", "comm_quant_scale_1", "comm_quant_scale_2") if spec.get(k) is not None)]
                if not others or (spec["group_size"] or spec["comm_quant_mode"]):
                    continue
                variant["signature"] = self.pick(*others)
            elif kind == "presence":
                key = self.pick("bias", "x3", "x1_scale") if sig.has("x1_scale") else self.pick("bias", "x3")
                if spec.get(key) is None:
                    variant[key] = self.tensor(spec["out"].shape if key == "x3" else (spec["out"].shape[-1],),
                                               self.pick("int32", "float32", "float16", "bfloat16"))
                else:
                    variant[key] = None
            else:
                key = self.pick(*[k for k, v in spec.items() if isinstance(v, Tensor)])
                t = spec[key]
                shape, dtype, strides, offset = t.shape, t.dtype, t.desc.strides, t.desc.offset
                fmt, storage = ND, None
                if kind == "dtype":
                    dtype = self.pick(*[d for d in NEIGHBOUR_DTYPES if d != dtypes.name(t.dtype)])
                elif kind == "shape":
                    shape = shape[:-1] + (shape[-1] + 1,) if shape else (2,)
                    strides = TensorDesc.contiguous(shape, 0).strides
                elif kind == "strides":
                    if len(shape) < 2:
                        continue
                    strides = strides[:-2] + (strides[-1], strides[-2])
                elif kind == "offset":
                    offset += 1
                elif kind == "format":
                    if len(shape) != 2 or dtypes.bits(dtype) > 32:
                        continue
                    fmt, storage = FRACTAL_NZ, nz.nz_storage_shape(shape, dtypes.name(dtype))
                try:
                    variant[key] = copy = Tensor(self.pick(*self.buffers), shape, dtype, strides=strides,
                                                 offset=offset, format=fmt, storage_shape=storage)
                except (AclnnParamError, ArgumentError):
                    continue
                self.tensors.append(copy)
            yield variant

    def close(self) -> None:
        for t in self.tensors:
            t.close()
        for b in self.buffers:
            b.close()


def binding_outcome(spec: dict) -> tuple:
    kwargs = dict(spec)
    x1, x2, scale = kwargs.pop("x1"), kwargs.pop("x2"), kwargs.pop("x2_scale")
    try:
        quant_matmul_all_reduce_arguments(x1, x2, scale, group="group", stream=None, **kwargs)
    except StatusError as exc:
        return exc.code, exc.message
    return ("accepted",)


def rules_outcome(spec: dict) -> tuple:
    """The rules from scratch, on the descriptors the binding passes them."""
    descs = {key: None if spec.get(key) is None else spec[key].desc for key in rules.V4.tensors if key != "output"}
    try:
        rules.check(**descs, output=spec["out"].desc, reduce_op=spec["reduce_op"], comm_turn=spec["comm_turn"],
                    stream_mode=spec["stream_mode"], group_size=spec["group_size"],
                    comm_quant_mode=spec["comm_quant_mode"], profile=current_profile(),
                    rank_size=spec["rank_size"], signature=spec["signature"])
    except Violation as violation:
        return violation.code, violation.message
    return ("accepted",)


@pytest.mark.parametrize("soc,profile", [("Ascend910B4", "A2"), ("Ascend950PR", "950")])
def test_memoised_signatures_give_the_rules_outcome(runtime, soc, profile):
    with soc_profile(soc):
        device = aclnn_py.Device(0)
        calls = Calls(np.random.default_rng(12))
        try:
            assert current_profile() == profile
            ACCEPTED.clear()
            outcomes, answered_by_memo, neighbours = {}, 0, [0, 0]  # neighbours accepted / rejected
            for _ in range(CALLS):
                spec = calls.call(profile)
                expected = rules_outcome(spec)
                assert binding_outcome(spec) == expected, spec
                twin = calls.twin(spec)
                assert rules_outcome(twin) == expected  # the rules read no address
                known = len(ACCEPTED)
                assert binding_outcome(twin) == expected, twin
                answered_by_memo += expected == ("accepted",) and len(ACCEPTED) == known
                outcomes[expected[0]] = outcomes.get(expected[0], 0) + 1
                if expected == ("accepted",):  # memoised now: its neighbours must not pass on its account
                    for variant in calls.neighbours(spec, NEIGHBOURS):
                        outcome = rules_outcome(variant)
                        assert binding_outcome(variant) == outcome, (spec, variant)
                        neighbours[outcome != expected] += 1
            # both paths are exercised: many accepted calls, each twin answered by the memo, and
            # rejections at the aclnn (161002) and tiling (561002) stages
            assert outcomes.get("accepted", 0) >= CALLS // 5, outcomes
            assert answered_by_memo == outcomes["accepted"]
            assert outcomes.get(161002, 0) >= 20 and outcomes.get(561002, 0) >= 20, outcomes
            assert min(neighbours) >= 100, neighbours
        finally:
            calls.close()
            device.close()


def test_a_signature_accepted_on_one_soc_is_checked_again_on_another(runtime):
    """An FP8 per-token call and a 16-rank call pass on Ascend 950; the same signatures are
    refused on Atlas A2 (the profile is part of the signature)."""

    def calls():
        buf = DeviceBuffer(1 << 14)
        tensors = [Tensor(buf, shape, dtype) for shape, dtype in (
            ((16, 64), "float8_e4m3fn"), ((64, 32), "float8_e4m3fn"), ((32,), "float32"), ((16,), "float32"),
            ((16, 32), "bfloat16"), ((16, 64), "int8"), ((64, 32), "int8"), ((32,), "uint64"), ((16, 32), "float16"))]
        x1, x2, s2, s1, out, i1, i2, packed, half = tensors
        results = [binding_outcome(dict(x1=x1, x2=x2, x2_scale=s2, x1_scale=s1, out=out, **ATTRIBUTES, rank_size=8)),
                   binding_outcome(dict(x1=i1, x2=i2, x2_scale=packed, out=half, **ATTRIBUTES, rank_size=16))]
        for t in tensors:
            t.close()
        buf.close()
        return results

    for soc, codes in (("Ascend950PR", ["accepted", "accepted"]), ("Ascend910B4", [161002, 561002])):
        with soc_profile(soc):
            device = aclnn_py.Device(0)
            assert [outcome[0] for outcome in calls()] == codes
            device.close()


def test_a_memoised_signature_never_accepts_a_different_layout(device):
    """Accepted once contiguous, the same shapes and dtypes are refused for a transposed x1, a
    rank count the SoC lacks, and a strided x2; then accepted again as they were."""
    buf = DeviceBuffer(1 << 14)
    x1 = Tensor(buf, (16, 64), "int8")
    x2 = Tensor(buf, (64, 32), "int8")
    scale = Tensor(buf, (32,), "uint64")
    out = Tensor(buf, (16, 32), "float16")
    quant_matmul_all_reduce_arguments(x1, x2, scale, group="g", stream=None, out=out, rank_size=2)
    x1_t = Tensor(buf, (16, 64), "int8", strides=(1, 16))
    with pytest.raises(AclnnParamError, match="x1 must be a contiguous ND tensor"):
        quant_matmul_all_reduce_arguments(x1_t, x2, scale, group="g", stream=None, out=out, rank_size=2)
    with pytest.raises(StatusError, match="group rank count 3 is not supported"):
        quant_matmul_all_reduce_arguments(x1, x2, scale, group="g", stream=None, out=out, rank_size=3)
    x2_strided = Tensor(buf, (64, 32), "int8", strides=(64, 2))
    with pytest.raises(AclnnParamError, match="x2 must be contiguous or a transposed view"):
        quant_matmul_all_reduce_arguments(x1, x2_strided, scale, group="g", stream=None, out=out, rank_size=2)
    quant_matmul_all_reduce_arguments(x1, x2, scale, group="g", stream=None, out=out, rank_size=2)
    for t in (x1, x2, scale, out, x1_t, x2_strided):
        t.close()
    buf.close()


class GroupedMatmulCalls:
    """GroupedMatmulV5 calls: a few valid bases (non-quantised m-grouped, per-tensor lists,
    A8W8, weight-only INT8) and their neighbours, one thing changed each."""

    BASES = {
        "fp16": dict(x=[((8, 32), "float16")], weight=[((3, 32, 16), "float16")], group_list=((3,), "int64"),
                     split_item=3, group_type=0, out=[((8, 16), "float16")]),
        "lists": dict(x=[((4, 16), "float16")] * 2, weight=[((16, 8), "float16")] * 2, split_item=0,
                      group_type=-1, out=[((4, 8), "float16")] * 2),
        "a8w8": dict(x=[((8, 32), "int8")], weight=[((3, 32, 16), "int8")], scale=[((3, 16), "bfloat16")],
                     per_token_scale=[((8,), "float32")], group_list=((3,), "int64"), split_item=3, group_type=0,
                     out=[((8, 16), "bfloat16")]),
        "a16w8": dict(x=[((8, 32), "float16")], weight=[((3, 32, 16), "int8")],
                      antiquant_scale=[((3, 16), "float16")], group_list=((3,), "int64"), split_item=3,
                      group_type=0, out=[((8, 16), "float16")]),
    }
    LISTS = ("x", "weight", "bias", "scale", "offset", "antiquant_scale", "antiquant_offset", "per_token_scale",
             "out")
    ATTRIBUTES = {"split_item": (0, 1, 2, 3), "group_type": (-1, 0, 2), "group_list_type": (0, 1, 2),
                  "act_type": (0, 1, 2), "tuning_config": (None, (1,), (-1,))}

    def __init__(self, calls: Calls) -> None:
        self.calls = calls

    def tensor(self, shape, dtype, transposed=False) -> Tensor:
        """A contiguous (or transposed) tensor at offset 0 of a random buffer."""
        strides = list(TensorDesc.contiguous(shape, 0).strides)
        if transposed:
            strides = list(TensorDesc.contiguous(shape[:-2] + (shape[-1], shape[-2]), 0).strides)
            strides[-1], strides[-2] = strides[-2], strides[-1]
        t = Tensor(self.calls.pick(*self.calls.buffers), shape, dtype, strides=tuple(strides))
        self.calls.tensors.append(t)
        return t

    def build(self, name: str) -> dict:
        spec = {}
        for key, value in self.BASES[name].items():
            if key == "group_list":
                spec[key] = self.tensor(*value)
            elif isinstance(value, list):
                spec[key] = [self.tensor(*v) for v in value]
            else:
                spec[key] = value
        return spec

    def neighbour(self, spec: dict) -> dict:
        c = self.calls
        variant = {k: list(v) if isinstance(v, list) else v for k, v in spec.items()}
        kind = c.pick("attribute", "presence", "tensor", "tensor", "group_list")
        if kind == "attribute":
            key = c.pick(*self.ATTRIBUTES)
            variant[key] = c.pick(*[v for v in self.ATTRIBUTES[key] if v != spec.get(key)])
        elif kind == "presence":
            key = c.pick(*self.LISTS[2:-1])
            variant[key] = None if spec.get(key) else [self.tensor((3, 16), c.pick("float16", "float32", "bfloat16"))]
        elif kind == "group_list":
            gl = spec.get("group_list")
            variant["group_list"] = None if gl is not None and c.maybe(0.3) else self.tensor(
                c.pick((3,), (4,), (3, 1)), c.pick("int64", "int64", "int32"))
        else:
            key = c.pick(*[k for k in self.LISTS if spec.get(k)])
            i = int(c.rng.integers(len(spec[key])))
            t = spec[key][i]
            shape, dtype = t.shape, dtypes.name(t.dtype)
            change = c.pick("dtype", "shape", "strides")
            if change == "dtype":
                dtype = c.pick(*[d for d in NEIGHBOUR_DTYPES if d != dtype])
            elif change == "shape":
                shape = shape[:-1] + (shape[-1] + c.pick(1, -1),)
            variant[key][i] = self.tensor(shape, dtype, transposed=change == "strides" and len(shape) >= 2)
        return variant


def grouped_matmul_binding_outcome(spec: dict) -> tuple:
    kwargs = {k: v for k, v in spec.items() if k not in ("x", "weight")}
    try:
        call = grouped_matmul_arguments(spec["x"], spec["weight"], stream=None, **kwargs)
    except StatusError as exc:
        return exc.code, exc.message
    for made in call.created:  # the tensor lists of an accepted call
        if made is not None:
            made.close()
    return ("accepted",)


def grouped_matmul_rules_outcome(spec: dict) -> tuple:
    descs = {k: None if spec.get(k) is None else [t.desc for t in spec[k]] for k in GroupedMatmulCalls.LISTS}
    gl = spec.get("group_list")
    try:
        grouped_matmul_rules.check(**descs, group_list=None if gl is None else gl.desc,
                        **{k: spec.get(k, d) for k, d in (("split_item", 0), ("group_type", -1),
                                                          ("group_list_type", 0), ("act_type", 0),
                                                          ("tuning_config", None))},
                        profile=current_profile())
    except Violation as violation:
        return violation.code, violation.message
    return ("accepted",)


@pytest.mark.parametrize("soc,profile", [("Ascend910B4", "A2"), ("Ascend950PR", "950")])
def test_memoised_grouped_matmul_signatures_give_the_rules_outcome(runtime, soc, profile):
    with soc_profile(soc):
        device = aclnn_py.Device(0)
        calls = Calls(np.random.default_rng(5))
        grouped_calls = GroupedMatmulCalls(calls)
        try:
            ACCEPTED.clear()
            neighbours = [0, 0]  # accepted / rejected
            for _ in range(60):
                for name in GroupedMatmulCalls.BASES:
                    base = grouped_calls.build(name)
                    assert grouped_matmul_rules_outcome(base) == grouped_matmul_binding_outcome(base) == ("accepted",), name
                    known = len(ACCEPTED)
                    assert grouped_matmul_binding_outcome(grouped_calls.build(name)) == ("accepted",)  # new tensors, same signature
                    assert len(ACCEPTED) == known
                    variant = grouped_calls.neighbour(base)
                    outcome = grouped_matmul_rules_outcome(variant)
                    assert grouped_matmul_binding_outcome(variant) == outcome, (name, variant)
                    neighbours[outcome != ("accepted",)] += 1
            assert min(neighbours) >= 20, neighbours
        finally:
            calls.close()
            device.close()


def _layout_outcome(desc: TensorDesc, nbytes: int) -> str:
    """What a Tensor over ``nbytes`` must do with ``desc``, from layout.check and byte_span."""
    try:
        layout.check(desc)
    except layout.LayoutError as exc:
        return f"refused: {exc}"
    start, size = layout.byte_span(desc)
    return "accepted" if start + size <= nbytes else "too big"


def _tensor_outcome(buffer: DeviceBuffer, desc: TensorDesc, dtype: str) -> str:
    try:
        t = Tensor(buffer, desc.shape, dtype, strides=desc.strides, offset=desc.offset, format=desc.format,
                   storage_shape=desc.storage_shape)
    except AclnnParamError as exc:
        return f"refused: {exc.message}"
    except ArgumentError as exc:
        assert "needs bytes" in exc.detail
        return "too big"
    assert t.desc == desc
    t.close()
    return "accepted"


def test_memoised_layouts_give_the_layout_checks_outcome(device):
    """Random layouts, each on one buffer and then -- memoised if it passed -- with one field
    changed (shape, strides, offset, dtype, format, storage shape) on another buffer."""
    rng = np.random.default_rng(3)
    buffers = [DeviceBuffer(n) for n in (64, 128, 512)]
    names = ("int8", "float16", "float32", "int4")
    counts: dict[str, int] = {}

    def draw(shape=None, strides=None, offset=None, dtype=None, fractal=None, storage=None):
        ndim = int(rng.integers(0, 4)) if shape is None else len(shape)
        shape = tuple(int(d) for d in rng.integers(0, 6, ndim)) if shape is None else shape
        strides = tuple(int(v) for v in rng.integers(-3, 12, ndim)) if strides is None else strides
        offset = int(rng.choice([0, 0, 3, 40, -1])) if offset is None else offset
        dtype = str(rng.choice(names)) if dtype is None else dtype
        fractal = bool(ndim >= 2 and rng.random() < 0.2) if fractal is None else fractal
        if storage is None:
            storage = tuple(int(d) for d in rng.integers(1, 40, 4)) if fractal else (int(rng.integers(1, 300)),)
            if ndim >= 2 and rng.random() < 0.3:  # the NZ storage of the view, under either format
                storage = nz.nz_storage_shape(shape, dtype)
        return dict(shape=shape, strides=strides, offset=offset, dtype=dtype, nz=fractal, storage=storage)

    def check(fields, buffer):
        desc = TensorDesc(fields["shape"], int(dtypes.to_acl(fields["dtype"])), fields["strides"], fields["offset"],
                          FRACTAL_NZ if fields["nz"] else ND, fields["storage"], buffer.address)
        expected = _layout_outcome(desc, buffer.nbytes)
        assert _tensor_outcome(buffer, desc, fields["dtype"]) == expected, (desc, buffer.nbytes)
        counts[expected.split(":")[0]] = counts.get(expected.split(":")[0], 0) + 1
        return expected

    for _ in range(300):
        fields = draw()
        if check(fields, buffers[int(rng.integers(3))]) != "accepted":
            continue
        for key in ("shape", "strides", "offset", "dtype", "nz", "storage"):
            changed = dict(fields)
            if key == "shape":  # one dim grown, or two swapped (with their strides kept)
                changed["shape"] = draw(strides=fields["strides"])["shape"] if fields["shape"] else ()
                if len(changed["shape"]) != len(fields["shape"]):
                    continue
            elif key == "nz":  # the other format over the same storage (the span differs)
                changed["nz"] = not fields["nz"] and len(fields["shape"]) >= 2
            else:
                changed[key] = draw(shape=fields["shape"], fractal=fields["nz"])[key]
            check(changed, buffers[int(rng.integers(3))])
    assert min(counts.get(k, 0) for k in ("accepted", "refused", "too big")) >= 40, counts
    for b in buffers:
        b.close()
