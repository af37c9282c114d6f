"""aclnnGroupedMatmul (V1), V2, V3, V4 and WeightNz through the binding, against the golden.

Each entry point is V5's call restricted (aclnn_py.semantics.grouped_matmul.entry_points): these
tests give each one its own scenarios' values (its groupList form, its attributes), its
documented return codes -- 161001 for a null required list, 161002 for the rows of its document's
table (ops-transformer gmm/grouped_matmul/docs/aclnnGroupedMatmul*.md, "返回值") -- and the limits
its version has in upstream's op_api code, through the C entry point and through the binding.
V5 itself is tests/binding/test_grouped_matmul.py.
"""
from __future__ import annotations

import gc

import ml_dtypes
import numpy as np
import pytest

from binding_helpers import expect_status, raw_grouped_matmul

from aclnn_py import AclnnParamError, Device, Stream, Tensor
from aclnn_py.ops import (GroupedMatmulV3Plan, grouped_matmul, grouped_matmul_v2, grouped_matmul_v3,
                          grouped_matmul_v4, grouped_matmul_v5, grouped_matmul_weight_nz)
from aclnn_py.semantics import dtypes, nz
from aclnn_py.semantics.descriptors import FRACTAL_NZ
from aclnn_py.semantics.grouped_matmul import golden
from aclnn_py.semantics.grouped_matmul.entry_points import V1, V2, V3, V4, V5, WEIGHT_NZ
from aclnn_py.semantics.precision import assert_close
from aclnn_py.semantics.quant_params import trans_quant_param
from aclnn_py.memory import DeviceBuffer

A2, P950 = "Ascend910B4", "Ascend950PR_9599"
NULLPTR, INVALID = 161001, 161002
BF16 = ml_dtypes.bfloat16
FUNCTIONS = {V1.op: grouped_matmul, V2.op: grouped_matmul_v2, V3.op: grouped_matmul_v3, V4.op: grouped_matmul_v4,
             V5.op: grouped_matmul_v5, WEIGHT_NZ.op: grouped_matmul_weight_nz}
VERSIONS = [V1, V2, V3, V4, WEIGHT_NZ]


@pytest.fixture(scope="module")
def stream(soc):
    """One device and stream per SoC profile, shared by the module's tests (as test_grouped_matmul.py's)."""
    device = Device(0)
    shared = Stream()
    yield shared
    shared.close()
    gc.collect()
    device.close()


def small(rng, shape, dtype=np.float16):
    """Small integers: every product and sum exact in float16."""
    return rng.integers(-4, 4, shape).astype(dtype)


def T(array, name=None) -> Tensor:
    return Tensor.from_numpy(np.asarray(array), name)


def nz_tensor(array, name: str) -> Tensor:
    """A FRACTAL_NZ tensor: the logical view ``array``, NZ storage of its dtype's C0."""
    storage = nz.nz_storage_shape(array.shape, name)
    tensor = Tensor(DeviceBuffer(dtypes.nbytes(int(np.prod(storage)), name)), array.shape, name,
                    format=FRACTAL_NZ, storage_shape=storage)
    tensor.owns_buffer = True
    tensor.copy_from_numpy(array)
    return tensor


def run(entry, stream, args: dict):
    """The entry point's binding function with ``args`` (only the parameters its header has)."""
    kw = {k: v for k, v in args.items() if k not in ("x", "weight") and entry.has(k)}
    outs = FUNCTIONS[entry.op](args["x"], args["weight"], stream=stream, **kw)
    stream.synchronize()
    return outs


def both_ways(entry, stream, args: dict, code: int, fragment: str) -> None:
    """The C entry point and the binding agree: ``code`` from both; the binding's rules (before any
    C call) word it with ``fragment``, and so does the C call on the mock's libraries."""
    status, message = raw_grouped_matmul(args, entry)
    expect_status(status, code, fragment, message)
    with pytest.raises(AclnnParamError) as info:
        run(entry, stream, args)
    assert info.value.code == code and fragment in info.value.message, info.value.message


def group_list_for(entry, cumulative):
    """V1/V2 take the host values (an aclIntArray), the others an INT64 device tensor."""
    return list(cumulative) if entry.host_group_list else T(np.array(cumulative, np.int64))


# --------------------------------------------------------------------------- values

@pytest.mark.parametrize("soc", [A2], indirect=True)
def test_v1_lists_choose_one_output_per_x(soc, stream):
    """V1 has no groupType: x and y of several tensors make it -1; its groupList gives each x's rows."""
    rng = np.random.default_rng(1)
    shapes = [(5, 16, 8), (3, 32, 24)]
    x = [small(rng, (m, k)) for m, k, _ in shapes]
    w = [small(rng, (k, n)) for _, k, n in shapes]
    bias = [small(rng, (n,)) for *_, n in shapes]
    outs = grouped_matmul(x, w, bias=bias, group_list=[5, 8], stream=stream)
    stream.synchronize()
    want = golden.grouped_matmul(x, w, bias=bias, split_item=0, group_type=-1)
    assert [o.shape for o in outs] == [(5, 8), (3, 24)]
    for got, expected in zip(outs, want):
        assert_close(got.to_numpy(), expected, "float16")


@pytest.mark.parametrize("soc", [A2], indirect=True)
@pytest.mark.parametrize("entry", [V1, V2, V3, V4, WEIGHT_NZ], ids=lambda e: e.version)
def test_a_single_x_grouped_along_m(soc, stream, entry):
    """One x, a weight per group, one output (groupType 0: V1 derives it from the lists): every
    entry point against the golden, its groupList in its own form."""
    rng = np.random.default_rng(2)
    x, w = small(rng, (8, 32)), small(rng, (3, 32, 16))
    outs = run(entry, stream, dict(x=[x], weight=[w] if entry is WEIGHT_NZ else list(w), split_item=3,
                                   group_type=0, group_list=group_list_for(entry, [2, 5, 8])))
    want, = golden.grouped_matmul([x], [w], group_list=np.array([2, 5, 8]), split_item=3, group_type=0)
    assert len(outs) == 1 and outs[0].shape == (8, 16)
    assert_close(outs[0].to_numpy(), want, "float16")


@pytest.mark.parametrize("soc", [A2], indirect=True)
def test_v2_groups_along_k(soc, stream):
    """V2 groupType 2: the host groupList's last value is x's K; one (M, N) output per group."""
    rng = np.random.default_rng(3)
    x, w = small(rng, (6, 40)), small(rng, (40, 8))
    x_view = T(np.ascontiguousarray(x.T)).transpose()  # (M, K) over (K, M) storage
    out, = grouped_matmul_v2([x_view], [w], group_list=[10, 16, 30, 40], split_item=3, group_type=2, stream=stream)
    stream.synchronize()
    want, = golden.grouped_matmul([x], [w], group_list=np.array([10, 16, 30, 40]), split_item=3, group_type=2)
    assert out.shape == (4, 6, 8)
    assert_close(out.to_numpy(), want, "float16")


@pytest.mark.parametrize("soc", [A2], indirect=True)
def test_v2_takes_float32_where_v1_does_not(soc, stream):
    """Atlas A2/A3: V1 refuses non-quantized FLOAT (``CheckFunctionParams``); V2 computes it."""
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((8, 16)).astype(np.float32), rng.standard_normal((3, 16, 8)).astype(np.float32)
    args = dict(x=[T(x)], weight=[T(w[e]) for e in range(3)], group_list=[2, 5, 8], split_item=3, group_type=0,
                out=[T(np.zeros((8, 8), np.float32))])
    both_ways(V1, stream, args, INVALID, "x dtype FLOAT is not supported by aclnnGroupedMatmul on Atlas A2/A3")
    out, = run(V2, stream, args)
    want, = golden.grouped_matmul([x], [w], group_list=np.array([2, 5, 8]), split_item=3, group_type=0)
    assert_close(out.to_numpy(), want, "float32")


@pytest.mark.parametrize("soc", [A2], indirect=True)
def test_v3_a8w8_to_int8_and_its_plan_runs_again(soc, stream):
    """V3, A8W8 to INT8 with a UINT64 scale (TransQuantParam's packing) and an INT32 bias, exact;
    its plan executed again with a new groupList."""
    rng = np.random.default_rng(5)
    x, w = rng.integers(-128, 128, (8, 32)).astype(np.int8), rng.integers(-128, 128, (3, 32, 16)).astype(np.int8)
    scale = trans_quant_param(rng.uniform(0.001, 0.01, (3, 16)).astype(np.float32))
    bias = rng.integers(-1000, 1000, (3, 16)).astype(np.int32)
    group_list = T(np.array([2, 5, 8], np.int64))
    with GroupedMatmulV3Plan([T(x)], [T(w)], bias=[T(bias)], scale=[T(scale)], group_list=group_list,
                             split_item=3, group_type=0, out_dtype="int8") as plan:
        for cumulative in ([2, 5, 8], [0, 7, 8]):
            group_list.copy_from_numpy(np.array(cumulative, np.int64))
            plan.execute(stream)
            stream.synchronize()
            want, = golden.grouped_matmul([x], [w], bias=[bias], scale=[scale], group_list=np.array(cumulative),
                                          split_item=3, group_type=0, out_dtype="int8")
            assert np.array_equal(plan.out[0].to_numpy(), want)
    plan.out[0].close()


@pytest.mark.parametrize("soc", [A2], indirect=True)
def test_v4_a8w8_per_token_with_activation(soc, stream):
    """V4: per-token A8W8 to FLOAT16 with a FLOAT scale, counts (groupListType 1) and SiLU (actType 5)."""
    rng = np.random.default_rng(6)
    x, w = rng.integers(-128, 128, (8, 32)).astype(np.int8), rng.integers(-128, 128, (3, 32, 16)).astype(np.int8)
    scale = rng.uniform(0.001, 0.01, (3, 16)).astype(np.float32)
    pts = rng.uniform(0.5, 2, 8).astype(np.float32)
    out, = grouped_matmul_v4([x], [w], scale=[scale], per_token_scale=[pts], group_list=np.array([2, 3, 3]),
                             group_list_type=1, split_item=3, group_type=0, act_type=5, out_dtype="float16",
                             stream=stream)
    stream.synchronize()
    want, = golden.grouped_matmul([x], [w], scale=[scale], per_token_scale=[pts], group_list=np.array([2, 3, 3]),
                                  group_list_type=1, split_item=3, group_type=0, act_type=5, out_dtype="float16")
    assert np.abs(want.astype(np.float32)).max() > 1
    assert_close(out.to_numpy(), want, "float16")


@pytest.mark.parametrize("soc", [A2, P950], indirect=True)
def test_weight_nz_reads_nz_data(soc, stream):
    """WeightNz: a host weight is copied to FRACTAL_NZ storage, an NZ Tensor is read as such; both
    give the golden (A8W8 to BFLOAT16, a quantized NZ weight the 950 takes through WeightNz only)."""
    rng = np.random.default_rng(7)
    x, w = rng.integers(-128, 128, (8, 32)).astype(np.int8), rng.integers(-128, 128, (3, 32, 64)).astype(np.int8)
    scale = rng.uniform(0.001, 0.01, (3, 64)).astype(BF16)
    pts = rng.uniform(0.5, 2, 8).astype(np.float32)
    kw = dict(scale=[scale], per_token_scale=[pts], group_list=np.array([2, 5, 8]), split_item=3, group_type=0,
              out_dtype="bfloat16", stream=stream)
    from_host, = grouped_matmul_weight_nz([x], [w], **kw)
    from_nz, = grouped_matmul_weight_nz([x], [nz_tensor(w, "int8")], **kw)
    stream.synchronize()
    want, = golden.grouped_matmul([x], [w], scale=[scale], per_token_scale=[pts], group_list=np.array([2, 5, 8]),
                                  split_item=3, group_type=0, out_dtype="bfloat16")
    assert_close(from_host.to_numpy(), want, "bfloat16")
    assert np.array_equal(from_nz.to_numpy(), from_host.to_numpy())


# --------------------------------------------------------------------------- documented return codes

def lists(rng, n=2, **over):
    """FLOAT16 x, weight and out lists of n (groupType -1, V1's lists choose it; K and N multiples of
    16, so that WeightNz's NZ reading of the weights has a layout)."""
    args = dict(x=[T(small(rng, (4, 16))) for _ in range(n)], weight=[T(small(rng, (16, 16))) for _ in range(n)],
                out=[T(np.zeros((4, 16), np.float16)) for _ in range(n)], split_item=0, group_type=-1)
    args.update(over)
    return args


def stacked(rng, entry, **over):
    """A single FLOAT16 x grouped along M over three weights into one output, in the entry point's
    weight form (one (E, K, N) weight; a list of three for V1, whose lists choose the grouping)."""
    w = small(rng, (3, 16, 8))
    args = dict(x=[T(small(rng, (8, 16)))], weight=[T(w[e]) for e in range(3)] if entry is V1 else [T(w)],
                out=[T(np.zeros((8, 8), np.float16))], group_list=group_list_for(entry, [2, 5, 8]), split_item=3,
                group_type=0)
    args.update(over)
    return args


@pytest.mark.parametrize("soc", [A2], indirect=True)
@pytest.mark.parametrize("entry", VERSIONS, ids=lambda e: e.version)
@pytest.mark.parametrize("key", ["x", "weight", "out"])
def test_a_null_required_list_is_161001(soc, stream, entry, key):
    """Every document: "必选输入、输出或者必选属性是空指针" -> ACLNN_ERR_PARAM_NULLPTR."""
    rng = np.random.default_rng(8)
    status, message = raw_grouped_matmul(stacked(rng, entry, **{key: None}), entry)
    expect_status(status, NULLPTR, f"{entry.label(key)} is nullptr", message)
    if key != "out":  # the binding makes the outputs
        with pytest.raises(AclnnParamError) as info:
            run(entry, stream, stacked(rng, entry, **{key: None}))
        assert info.value.code == NULLPTR


# (id, builder(rng, entry) -> args, message fragment): the 161002 rows every version's document lists
DOCUMENTED = [
    ("dtype", lambda r, e: stacked(r, e, x=[T(small(r, (8, 16), np.float32))]), "dtype"),
    ("bias_length", lambda r, e: lists(r, bias=[T(np.zeros(16, np.float16))]), "biasOptional has 1 tensors but weight has 2"),
    ("single_output_length", lambda r, e: lists(r, split_item=3, group_type=0, group_list=group_list_for(e, [4, 8])),
     "splitItem 3"),
    ("outputs_per_weight", lambda r, e: lists(r, out=[T(np.zeros((4, 16), np.float16))]),
     "has 1 tensors but x has 2"),
]


@pytest.mark.parametrize("soc", [A2], indirect=True)
@pytest.mark.parametrize("entry", VERSIONS, ids=lambda e: e.version)
@pytest.mark.parametrize("case", DOCUMENTED, ids=[c[0] for c in DOCUMENTED])
def test_documented_161002(soc, stream, entry, case):
    _, build, fragment = case
    both_ways(entry, stream, build(np.random.default_rng(9), entry), INVALID, fragment)


# --------------------------------------------------------------------------- what each version limits

def a8w8(rng, entry, out_dtype="bfloat16", **over):
    """A8W8 of one INT8 x (8, 32) over an INT8 (3, 32, 16) weight, per-channel scale of the out dtype's
    kind (UINT64 for INT8 out, else BFLOAT16) and a per-token scale (float out)."""
    to_int8 = out_dtype == "int8"
    scale = trans_quant_param(np.full((3, 16), 0.01, np.float32)) if to_int8 else np.full((3, 16), 0.01, BF16)
    args = dict(x=[T(rng.integers(-8, 8, (8, 32)).astype(np.int8))],
                weight=[T(rng.integers(-8, 8, (3, 32, 16)).astype(np.int8))], scale=[T(scale)],
                out=[T(np.zeros((8, 16), dtypes.host_dtype(out_dtype)))], group_list=group_list_for(entry, [2, 5, 8]),
                split_item=3, group_type=0)
    if not to_int8 and entry.has("per_token_scale"):
        args["per_token_scale"] = [T(np.ones(8, np.float32))]
    args.update(over)
    return args


# (id, soc, entry, builder(rng, entry) -> args, message fragment): upstream op_api code at the
# commit of docs/op-api-replay.md (aclnn_py.semantics.grouped_matmul.version_rules names each function)
LIMITS = [
    ("v2_group_list_without_grouping", A2, V2, lambda r, e: lists(r, group_list=[4, 8]),
     "groupListOptional must be null when groupType is -1"),
    ("v1_decreasing_group_list", A2, V1, lambda r, e: stacked(r, e, group_list=[5, 2, 8]),
     "non-negative and non-decreasing"),
    ("v2_group_list_over_128", A2, V2, lambda r, e: stacked(r, e, group_list=list(range(129))),
     "at most 128 are supported"),
    ("v2_group_list_not_m", A2, V2, lambda r, e: stacked(r, e, group_list=[2, 5, 7]),
     "the last groupListOptional value 7 must equal the grouped axis of x (M = 8)"),
    ("v3_group_list_2d", A2, V3, lambda r, e: stacked(r, e, group_list=T(np.array([[2, 5, 8]], np.int64))),
     "groupListOptional must be 1-D"),
    ("v4_group_list_2d", A2, V4, lambda r, e: stacked(r, e, group_list=T(np.array([[2, 5, 8]], np.int64))),
     "groupListOptional must be 1-D for groupListType 0"),
    ("weight_nz_k_grouped", A2, WEIGHT_NZ, lambda r, e: stacked(r, e, group_type=2),
     "groupType 2 (K grouping) is not supported by aclnnGroupedMatmulWeightNz"),
    ("950_v2_quant", P950, V2, a8w8, "quantization on the Ascend 950 needs a groupList tensor"),
    ("950_v3_quant_bf16_out", P950, V3, a8w8, "aclnnGroupedMatmulV3 on the Ascend 950 quantizes INT8 x and weight "
                                              "to INT8 y"),
    ("950_v5_quant_nz_weight", P950, V5, lambda r, e: a8w8(r, e, weight=[nz_tensor(np.zeros((3, 32, 64), np.int8),
                                                                                   "int8")],
                                                           scale=[T(np.ones((3, 64), BF16))],
                                                           out=[T(np.zeros((8, 64), BF16))]),
     "a FRACTAL_NZ weight in quantization on the Ascend 950 needs aclnnGroupedMatmulWeightNz"),
    ("950_v4_a8w4", P950, V4, lambda r, e: a8w8(
        r, e, weight=[T(np.zeros((3, 256, 16), ml_dtypes.int4))], x=[T(np.zeros((8, 256), np.int8))],
        scale=[T(np.ones((3, 1, 16), np.uint64))], bias=[T(np.zeros((3, 16), np.float32))], group_list_type=1),
     "A8W4 (INT8 x INT4) on the Ascend 950 needs aclnnGroupedMatmulV5 or aclnnGroupedMatmulWeightNz"),
    ("950_v3_a16w4", P950, V3, lambda r, e: stacked(r, e, weight=[T(np.zeros((3, 16, 8), ml_dtypes.int4))],
                                                     antiquant_scale=[T(np.ones((3, 8), np.float16))]),
     "A16W4 on the Ascend 950 needs aclnnGroupedMatmulV4 or V5"),
    ("950_weight_nz_a16w8", P950, WEIGHT_NZ, lambda r, e: stacked(
        r, e, weight=[T(np.zeros((3, 16, 16), np.int8))], antiquant_scale=[T(np.ones((3, 16), np.float16))],
        out=[T(np.zeros((8, 16), np.float16))]),
     "weight format FRACTAL_NZ is not supported for weight-only quantization (A16W8)"),
]


@pytest.mark.parametrize("soc, entry, build, fragment", [c[1:] for c in LIMITS], ids=[c[0] for c in LIMITS],
                         indirect=["soc"])
def test_version_limits(soc, stream, entry, build, fragment):
    both_ways(entry, stream, build(np.random.default_rng(10), entry), INVALID, fragment)


@pytest.mark.parametrize("soc", [A2], indirect=True)
@pytest.mark.parametrize("entry", [V1, V2, V3, V4, WEIGHT_NZ], ids=lambda e: e.version)
def test_one_output_per_weight_needs_a_host_group_list(soc, stream, entry):
    """A single x split along M into one output per weight: V1/V2 compute it (their host groupList
    sizes the outputs); the tensor-groupList versions refuse it (``CheckCaseSplitM``)."""
    rng = np.random.default_rng(11)
    x, w = small(rng, (8, 16)), [small(rng, (16, 16)) for _ in range(3)]
    args = dict(x=[T(x)], weight=[T(a) for a in w], out=[T(np.zeros((m, 16), np.float16)) for m in (2, 3, 3)],
                group_list=group_list_for(entry, [2, 5, 8]), split_item=0, group_type=0)
    if entry.tensor_group_list:
        both_ways(entry, stream, args, INVALID, "takes the host groupList of aclnnGroupedMatmul/V2")
        return
    outs = run(entry, stream, args)
    want = golden.grouped_matmul([x], w, group_list=np.array([2, 5, 8]), split_item=0, group_type=0)
    for got, expected in zip(outs, want):
        assert_close(got.to_numpy(), expected, "float16")
