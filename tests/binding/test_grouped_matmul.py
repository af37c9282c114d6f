"""aclnnGroupedMatmulV5 through the binding, against the golden.

Every scenario of CANN's document aclnnGroupedMatmulV5.md (ops-transformer,
gmm/grouped_matmul/docs/; its Atlas A2 and Ascend 950 tables), the tensor-count
patterns, groupType / groupListType / splitItem, rows past the groupList total,
NZ weights, activations, and every argument rule of the doc (status code and
message) both through the binding and through
the raw C entry point. The Ascend 950 A8W4 ("S8S4") and A4W4 ("S4S4") are
checked against references written here from the 2026 doc. A SoC profile the
runtime does not have is skipped with the reason.
"""
from __future__ import annotations

import gc
import math
from contextlib import ExitStack

import aclnn_py
import ml_dtypes
import numpy as np
import pytest

from aclnn_py import AclnnParamError, Device, Stream, Tensor
from binding_helpers import expect_status, mock_library, soc_profile
from aclnn_py.semantics import codecs, dtypes
from aclnn_py.semantics.descriptors import FRACTAL_NZ
from aclnn_py.semantics import nz
from aclnn_py.semantics.grouped_matmul.golden import grouped_matmul
from aclnn_py.semantics.precision import assert_close
from aclnn_py.semantics.quant_params import trans_quant_param
from aclnn_py.memory import DeviceBuffer
from aclnn_py.ops._grouped_matmul import grouped_matmul as grouped_matmul_v1
from aclnn_py.ops._grouped_matmul import grouped_matmul_v2, grouped_matmul_v5, grouped_matmul_weight_nz
from aclnn_py.tensor import IntArray, create_handle

BF16 = ml_dtypes.bfloat16
SENTINEL = 7.0
SOCS = {"A2": "Ascend910B4", "A3": "Ascend910_9391", "950": "Ascend950PR_9599"}
NULLPTR, INVALID = 161001, 161002


# --------------------------------------------------------------------------- runtime per profile

class _Env:
    """One SoC profile at a time with a device and a stream on it: ``use(profile)`` enters the
    profile (binding_helpers.soc_profile: a runtime without it skips the test) when it is not
    the current one."""

    def __init__(self) -> None:
        self.profile = None
        self.objects: tuple = ()
        self.entered = ExitStack()

    def use(self, profile: str) -> Stream:
        if self.profile != profile:
            self.close()
            self.entered.enter_context(soc_profile(SOCS[profile]))
            dev = Device(0)
            stream = Stream()
            self.objects, self.profile = (dev, stream), profile
        return self.objects[1]

    def close(self) -> None:
        if self.objects:
            dev, stream = self.objects
            stream.close()
            gc.collect()
            dev.close()
        self.objects, self.profile = (), None
        self.entered.close()


@pytest.fixture(scope="module")
def env(runtime):
    e = _Env()
    yield e
    e.close()


@pytest.fixture
def a2(env) -> Stream:
    return env.use("A2")


@pytest.fixture
def a950(env) -> Stream:
    return env.use("950")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240607)


# --------------------------------------------------------------------------- helpers

def dev(array, name: str | None = None) -> Tensor:
    array = np.asarray(array)
    if name == "float8_e8m0" and array.dtype == np.uint8:  # codes: upload the bytes, not the values
        array = array.view(ml_dtypes.float8_e8m0fnu)
    return Tensor.from_numpy(array, name)


def dev_transposed(array, name: str | None = None) -> Tensor:
    """A transposed view over (.., N, K) storage holding the logical (.., K, N) array."""
    return Tensor.from_numpy(np.ascontiguousarray(np.swapaxes(array, -1, -2)), name).transpose()


def dev_nz(array, name: str, c0: int | None = None) -> Tensor:
    """A FRACTAL_NZ weight: 4-D storage shape per matrix (C0 of the dtype unless given), the view logical."""
    storage = nz.nz_storage_shape(array.shape, name, c0)
    nbytes = dtypes.nbytes(math.prod(storage), name)
    t = Tensor(DeviceBuffer(nbytes), array.shape, name, format=FRACTAL_NZ, storage_shape=storage)
    t.owns_buffer = True
    t.copy_from_numpy(array)
    return t


def host_name(a) -> str:
    return dtypes.name_of(a)


def run_vs_golden(stream, x, w, *, names=None, transposed=False, nz_weight=False, out_dtype=None,
                  gl_device=True, expect_kept=None, **kw):
    """Run the binding with sentinel-filled outputs and compare every output with the golden."""
    names = names or {}
    golden_kw = dict(kw)
    golden = grouped_matmul(x, w, out_dtype=out_dtype, weight_transposed=transposed,
                            x_dtype=names.get("x"), weight_dtype=names.get("weight"),
                            scale_dtype=names.get("scale"),
                            per_token_scale_dtype=names.get("per_token_scale"), **golden_kw)
    out_names = [dtypes.name_of(g) for g in golden]
    init = [np.full(g.shape, SENTINEL).astype(g.dtype) for g in golden]
    golden = grouped_matmul(x, w, out=init, out_dtype=out_dtype, weight_transposed=transposed,
                            x_dtype=names.get("x"), weight_dtype=names.get("weight"),
                            scale_dtype=names.get("scale"),
                            per_token_scale_dtype=names.get("per_token_scale"), **golden_kw)
    xs = [dev(a, names.get("x")) for a in x]
    if nz_weight:
        ws = [dev_nz(a, names.get("weight") or host_name(a)) for a in w]
    elif transposed:
        ws = [dev_transposed(a, names.get("weight")) for a in w]
    else:
        ws = [dev(a, names.get("weight")) for a in w]
    args = {}
    for key in ("bias", "scale", "offset", "antiquant_scale", "antiquant_offset", "per_token_scale"):
        if kw.get(key) is not None:
            args[key] = [dev(a, names.get(key)) for a in kw[key]]
    gl = kw.get("group_list")
    if gl is not None:
        args["group_list"] = dev(np.asarray(gl, np.int64)) if gl_device else np.asarray(gl, np.int64)
    outs = [dev(i) for i in init]
    for key in ("split_item", "group_type", "group_list_type", "act_type"):
        if key in kw:
            args[key] = kw[key]
    result = grouped_matmul_v5(xs, ws, stream=stream, out=outs, **args)
    stream.synchronize()
    assert result == outs
    for o, g, n in zip(result, golden, out_names):
        got = o.to_numpy()
        assert_close(got, g, n)
        if n not in ("float16", "bfloat16", "float32"):
            np.testing.assert_array_equal(got, g)
    if expect_kept is not None:  # rows past the groupList total keep their contents
        got = result[0].to_numpy()
        assert np.all(got[expect_kept:].astype(np.float32) == SENTINEL)
    return [o.to_numpy() for o in result]


# groupList of the doc pattern, scaled: 4 experts, 3 rows past the total (M = 11)
M = 11
GL = {0: [2, 2, 5, 8], 1: [2, 0, 3, 3],
      2: [[0, 2], [2, 3], [3, 3], [1, 0]]}


def ints(rng, shape, lo=-128, hi=128, dtype=np.int8):
    return rng.integers(lo, hi, shape).astype(dtype)


def floats(rng, shape, dtype):
    return rng.standard_normal(shape).astype(np.float32).astype(dtype)


# --------------------------------------------------------------------------- A2 scenarios

@pytest.mark.parametrize("dtype", [np.float16, BF16, np.float32])
@pytest.mark.parametrize("glt", [0, 1])
def test_nonquant_m_grouped(a2, rng, dtype, glt):
    x = floats(rng, (M, 48), dtype)
    w = floats(rng, (4, 48, 24), dtype)
    bias = floats(rng, (4, 24), np.float16 if dtype == np.float16 else np.float32)
    run_vs_golden(a2, [x], [w], bias=[bias], group_list=GL[glt], group_list_type=glt, split_item=3,
                  group_type=0, expect_kept=8)


def test_a_moe_call_with_the_default_group_type_is_told_how_to_group(a2, rng):
    """x (M, K) with a stacked (E, K, N) weight and the defaults (groupType -1, splitItem 0): the
    binding's own rule check says which attributes make it the grouped call, before any C call."""
    x, w = floats(rng, (M, 48), np.float16), floats(rng, (4, 48, 24), np.float16)
    with pytest.raises(AclnnParamError) as info:
        grouped_matmul_v5([x], [w], group_list=np.asarray(GL[0], np.int64), stream=a2)
    assert info.value.code == 161002
    assert "a weight list paired with an x list needs 2-D weights, got ranks [3]; " in info.value.message
    assert info.value.message.endswith("pass groupType 0 with splitItem 3 and a groupList "
                                       "(group_type=0, split_item=3 in Python)")


@pytest.mark.parametrize("split_item", [2, 3])
def test_nonquant_transposed_weight_and_host_group_list(a2, rng, split_item):
    x = floats(rng, (M, 32), np.float16)
    w = floats(rng, (4, 32, 16), np.float16)
    run_vs_golden(a2, [x], [w], transposed=True, group_list=GL[0], split_item=split_item, group_type=0,
                  gl_device=False, expect_kept=8)


@pytest.mark.parametrize("split_item", [0, 1])
def test_per_tensor_lists(a2, rng, split_item):
    shapes = [(5, 16, 8), (3, 32, 24), (7, 8, 16)]
    x = [floats(rng, (m, k), BF16) for m, k, _ in shapes]
    w = [floats(rng, (k, n), BF16) for _, k, n in shapes]
    bias = [floats(rng, (n,), np.float32) for *_, n in shapes]
    run_vs_golden(a2, x, w, bias=bias, split_item=split_item, group_type=-1)


@pytest.mark.parametrize("split_item, gl", [(2, [3, 7, 9]), (3, None)])
def test_concat_lists(a2, rng, split_item, gl):
    """Several x concatenated into one output: grouping along M (a single output needs it, upstream's
    PreCheckGroupType), the groupList optional."""
    x = [floats(rng, (m, 16), np.float16) for m in (3, 4, 2)]
    w = [floats(rng, (16, 8), np.float16) for _ in range(3)]
    run_vs_golden(a2, x, w, group_list=gl, split_item=split_item, group_type=0)


def test_single_x_weight_list_single_out(a2, rng):
    x = floats(rng, (M, 16), np.float16)
    w = [floats(rng, (16, 8), np.float16) for _ in range(4)]
    run_vs_golden(a2, [x], w, group_list=GL[1], group_list_type=1, split_item=2, group_type=0,
                  expect_kept=8)


@pytest.mark.parametrize("split_item", [0, 1])
def test_single_x_split_outputs(a2, rng, split_item):
    """One output per weight: V1/V2 (a host groupList of cumulative sizes, which sizes the outputs);
    the tensor-groupList versions refuse it (upstream's CheckCaseSplitM)."""
    x = floats(rng, (M, 16), np.float16)
    w = [floats(rng, (16, n), np.float16) for n in (8, 16, 24, 8)]
    cumulative = np.cumsum(GL[1]).tolist()
    golden = grouped_matmul([x], w, group_list=GL[1], group_list_type=1, split_item=split_item, group_type=0)
    outs = grouped_matmul_v2([x], w, stream=a2, group_list=cumulative, split_item=split_item, group_type=0)
    v1 = grouped_matmul_v1([dev(x)], w, stream=a2, group_list=cumulative, split_item=split_item)
    a2.synchronize()
    assert [o.shape for o in outs] == [(2, 8), (0, 16), (3, 24), (3, 8)]
    for o, o1, g in zip(outs, v1, golden):
        assert_close(o.to_numpy(), g, "float16")
        assert np.array_equal(o1.to_numpy(), o.to_numpy())
    with pytest.raises(AclnnParamError, match="takes the host groupList of aclnnGroupedMatmul/V2"):
        grouped_matmul_v5([x], w, stream=a2, group_list=np.array(GL[1]), group_list_type=1,
                          split_item=split_item, group_type=0)


@pytest.mark.parametrize("glt", [0, 1])
def test_k_grouped_single_weight(a2, rng, glt):
    x = floats(rng, (6, 40), np.float16)
    w = floats(rng, (40, 8), np.float16)
    gl = [10, 10, 30, 36] if glt == 0 else [10, 0, 20, 6]
    golden = grouped_matmul([x], [w], group_list=gl, group_list_type=glt, split_item=3, group_type=2)[0]
    xt = dev_transposed(x)  # x must be a transposed view for groupType 2
    out = grouped_matmul_v5([xt], [dev(w)], stream=a2, group_list=np.array(gl), group_list_type=glt,
                            split_item=3, group_type=2)
    a2.synchronize()
    assert out[0].shape == (4, 6, 8)
    assert_close(out[0].to_numpy(), golden, "float16")
    assert not out[0].to_numpy()[1].any()  # empty K range -> zeros


def test_k_grouped_weight_list(a2, rng):
    x = floats(rng, (6, 40), BF16)
    w = [floats(rng, (k, 8), BF16) for k in (16, 8, 16)]
    golden = grouped_matmul([x], w, split_item=0, group_type=2)
    out = grouped_matmul_v5([dev_transposed(x)], w, stream=a2, split_item=0, group_type=2)
    a2.synchronize()
    for o, g in zip(out, golden):
        assert_close(o.to_numpy(), g, "bfloat16")


A8W8_A2 = {
    # name: (out, scale kind, bias dtype, with pts)
    "int8_requant": ("int8", "uint64", np.int32, False),
    "bf16_bf16scale_pts": ("bfloat16", "bfloat16", np.int32, True),
    "fp16_fp32scale_pts": ("float16", "float32", np.int32, True),
    "int32": ("int32", None, np.int32, False),
}


def a8w8_inputs(rng, case, k=64, n=16, e=4):
    out, scale_kind, bias_dt, with_pts = case
    x = ints(rng, (M, k))
    w = ints(rng, (e, k, n))
    raw = rng.uniform(0.001, 0.01, (e, n)).astype(np.float32)
    scale = {None: None, "uint64": trans_quant_param(raw, rng.integers(-3, 3, (e, n)).astype(np.float32))
             if out == "int8" else trans_quant_param(raw),
             "int64": trans_quant_param(raw).view(np.int64), "float32": raw,
             "bfloat16": raw.astype(BF16)}[scale_kind]
    kw = dict(out_dtype=out, scale=None if scale is None else [scale],
              bias=None if bias_dt is None else [ints(rng, (e, n), -1000, 1000, bias_dt)],
              per_token_scale=[rng.uniform(0.5, 2, M).astype(np.float32)] if with_pts else None)
    return x, w, kw


@pytest.mark.parametrize("case", sorted(A8W8_A2))
@pytest.mark.parametrize("glt", [0, 1, 2])
def test_a8w8(a2, rng, case, glt):
    x, w, kw = a8w8_inputs(rng, A8W8_A2[case])
    run_vs_golden(a2, [x], [w], group_list=GL[glt], group_list_type=glt, split_item=3, group_type=0,
                  expect_kept=8, **kw)


def test_placeholder_lists_act_as_omitted(a2, rng):
    """torch_npu passes one tensor of shape [0] for each unused optional list; CANN's op_api treats it as
    nullptr (ResetEmptyTensor), so the call computes exactly what the call without those lists does, and
    the default out dtype ignores a placeholder antiquant scale."""
    x, w, kw = a8w8_inputs(rng, A8W8_A2["bf16_bf16scale_pts"])
    common = dict(stream=a2, out_dtype="bfloat16", group_list=np.asarray(GL[1], np.int64), group_list_type=1,
                  split_item=3, group_type=0, scale=kw["scale"], per_token_scale=kw["per_token_scale"])
    plain = grouped_matmul_v5([x], [w], **common)
    empty = {"float32": np.zeros(0, np.float32), "bfloat16": np.zeros(0, BF16)}
    padded = grouped_matmul_v5([x], [w], bias=[empty["float32"]], offset=[empty["float32"]],
                               antiquant_scale=[empty["bfloat16"]], antiquant_offset=[empty["bfloat16"]], **common)
    a2.synchronize()
    rows = sum(GL[1])  # the rows the groupList assigns; the rest are left unwritten
    np.testing.assert_array_equal(padded[0].to_numpy()[:rows].view(np.uint16),
                                  plain[0].to_numpy()[:rows].view(np.uint16))
    defaulted = grouped_matmul_v5([x.astype(np.float16) / 64], [w.astype(np.float16) / 64], stream=a2,
                                  antiquant_scale=[np.zeros(0, np.float16)], group_list=np.asarray(GL[1], np.int64),
                                  group_list_type=1, split_item=3, group_type=0)
    a2.synchronize()
    assert defaulted[0].dtype == dtypes.DataType.ACL_FLOAT16


@pytest.mark.parametrize("act", [1, 2, 4, 5])
@pytest.mark.parametrize("case", ["bf16_bf16scale_pts", "fp16_fp32scale_pts"])
def test_a8w8_activations(a2, rng, act, case):
    x, w, kw = a8w8_inputs(rng, A8W8_A2[case])
    run_vs_golden(a2, [x], [w], group_list=GL[0], split_item=2, group_type=0, act_type=act,
                  expect_kept=8, **kw)


def test_a8w8_nz_weight(a2, rng):
    x, w, kw = a8w8_inputs(rng, A8W8_A2["bf16_bf16scale_pts"], k=32, n=64)
    run_vs_golden(a2, [x], [w], nz_weight=True, group_list=GL[1], group_list_type=1, split_item=3,
                  group_type=0, expect_kept=8, **kw)


def test_a8w8_binding_sizes_output(a2, rng):
    x, w, kw = a8w8_inputs(rng, A8W8_A2["bf16_bf16scale_pts"])
    outs = grouped_matmul_v5([x], [w], stream=a2, scale=kw["scale"], bias=kw["bias"],
                             per_token_scale=kw["per_token_scale"], group_list=dev(np.array(GL[2])),
                             group_list_type=2, split_item=3, group_type=0, out_dtype="bfloat16")
    a2.synchronize()
    golden = grouped_matmul([x], [w], group_list=GL[2], group_list_type=2, split_item=3, group_type=0, **kw)
    assert outs[0].shape == (M, 16)
    assert_close(outs[0].to_numpy()[:8], golden[0][:8], "bfloat16")
    with pytest.raises(ValueError, match="out_dtype"):
        grouped_matmul_v5([x], [w], stream=a2, scale=kw["scale"], group_list=np.array(GL[0]),
                          split_item=3, group_type=0)


@pytest.mark.parametrize("nz_weight", [False, True])
def test_nonquant_nz_weight(a2, rng, nz_weight):
    x = floats(rng, (M, 32), BF16)
    w = floats(rng, (4, 32, 16), BF16)
    run_vs_golden(a2, [x], [w], nz_weight=nz_weight, group_list=GL[0], split_item=3, group_type=0,
                  expect_kept=8)


WEIGHT_ONLY = {
    # name: (x dtype, weight dtype, groups (0 = per channel), with offset)
    "a16w8_fp16_offset": (np.float16, "int8", 0, True),
    "a16w8_bf16": (BF16, "int8", 0, False),
    "a16w4_fp16_pergroup": (np.float16, "int4", 4, False),
    "a16w4_bf16_perchannel_offset": (BF16, "int4", 0, True),
}


@pytest.mark.parametrize("case", sorted(WEIGHT_ONLY))
def test_weight_only(a2, rng, case):
    dt, w_name, groups, with_offset = WEIGHT_ONLY[case]
    k, n, e = 64, 16, 4
    x = floats(rng, (M, k), dt)
    w = ints(rng, (e, k, n)) if w_name == "int8" else ints(rng, (e, k, n), -8, 8, ml_dtypes.int4)
    shape = (e, groups, n) if groups else (e, n)
    scale = rng.uniform(0.01, 0.05, shape).astype(dt)
    offset = rng.uniform(-4, 4, shape).astype(dt) if with_offset else None
    bias = floats(rng, (e, n), np.float16 if dt == np.float16 else np.float32)
    run_vs_golden(a2, [x], [w], bias=[bias], antiquant_scale=[scale],
                  antiquant_offset=None if offset is None else [offset], group_list=GL[1],
                  group_list_type=1, split_item=3, group_type=0, expect_kept=8)


def test_weight_only_per_tensor_list_rank3_x(a2, rng):
    x = [floats(rng, (2, 3, 32), np.float16), floats(rng, (4, 32), np.float16)]
    w = [ints(rng, (32, 16)), ints(rng, (32, 8))]
    scale = [rng.uniform(0.01, 0.05, (n,)).astype(np.float16) for n in (16, 8)]
    run_vs_golden(a2, x, w, antiquant_scale=scale, split_item=0, group_type=-1)


@pytest.mark.parametrize("with_offset", [False, True])
def test_a8w4(a2, rng, with_offset):
    k, n, e = 256, 16, 4
    x = ints(rng, (M, k))
    w = ints(rng, (e, k, n), -8, 8, ml_dtypes.int4)
    s = rng.uniform(0.001, 0.01, (e, 1, n)).astype(np.float16).astype(np.float32)
    scale = s.view(np.uint32).astype(np.uint64)
    bias = (8 * np.einsum("ekn,en->en", w.astype(np.float32), s[:, 0])).astype(np.float32)
    offset = [rng.uniform(-0.05, 0.05, (e, 1, n)).astype(np.float32)] if with_offset else None
    run_vs_golden(a2, [x], [w], scale=[scale], bias=[bias], offset=offset,
                  per_token_scale=[rng.uniform(0.5, 2, M).astype(np.float32)],
                  out_dtype="float16" if with_offset else "bfloat16", group_list=GL[1],
                  group_list_type=1, split_item=3, group_type=0, expect_kept=8)


@pytest.mark.parametrize("groups", [0, 2])
def test_a4w4(a2, rng, groups):
    k, n, e = 64, 16, 4
    x = ints(rng, (M, k), -8, 8, ml_dtypes.int4)
    w = ints(rng, (e, k, n), -8, 8, ml_dtypes.int4)
    raw = rng.uniform(0.01, 0.1, (e, groups, n) if groups else (e, n)).astype(np.float32)
    scale = trans_quant_param(raw.reshape(-1, n)).reshape(raw.shape)
    run_vs_golden(a2, [x], [w], scale=[scale], per_token_scale=[rng.uniform(0.5, 2, M).astype(np.float32)],
                  out_dtype="bfloat16", group_list=GL[0], split_item=3, group_type=0, expect_kept=8)


def test_int32_packed_int4_weight(a2, rng):
    k, n, e = 64, 16, 4
    x = floats(rng, (M, k), np.float16)
    w4 = ints(rng, (e, k, n), -8, 8, ml_dtypes.int4)
    scale = rng.uniform(0.01, 0.05, (e, n)).astype(np.float16)
    run_vs_golden(a2, [x], [codecs.pack_int4_to_int32(w4)], names={"weight": "int32"},
                  antiquant_scale=[scale], group_list=GL[0], split_item=3, group_type=0, expect_kept=8)


def test_group_list_is_read_when_the_work_runs(a2, rng):
    """The groupList is device data: a value written after GetWorkspaceSize is the one used."""
    x = floats(rng, (M, 16), np.float16)
    w = floats(rng, (4, 16, 8), np.float16)
    gl = dev(np.array([4, 3, 20, 20], np.int64))  # invalid now; fixed by a copy queued on the stream
    good = np.array([2, 5, 5, 8], np.int64)
    gl.buffer.copy_from_host(good, 0, a2)  # aclrtMemcpyAsync, ordered before the operator
    out = dev(np.full((M, 8), SENTINEL, np.float16))
    grouped_matmul_v5([x], [w], stream=a2, group_list=gl, split_item=3, group_type=0, out=[out])
    a2.synchronize()
    golden = grouped_matmul([x], [w], group_list=good, split_item=3, group_type=0,
                            out=[np.full((M, 8), SENTINEL, np.float16)])[0]
    assert_close(out.to_numpy(), golden, "float16")  # rows past the total keep the sentinel
    if mock_library():  # the mock computes the golden itself
        np.testing.assert_array_equal(out.to_numpy(), golden)


# --------------------------------------------------------------------------- 950 scenarios

@pytest.mark.parametrize("x_name, scale_kind, with_pts, out", [
    ("float8_e4m3fn", "uint64", False, "bfloat16"),
    ("hifloat8", "float32", True, "float16"),
    ("float8_e5m2", "int64", True, "float32"),
])
def test_950_quant_fp8(a950, rng, x_name, scale_kind, with_pts, out):
    k, n, e = 64, 16, 4
    x = codecs.from_float32(rng.standard_normal((M, k)) * 3, x_name)
    w = codecs.from_float32(rng.standard_normal((e, k, n)) * 3, x_name)
    raw = rng.uniform(0.01, 0.1, (e, n)).astype(np.float32)
    scale = raw if scale_kind == "float32" else trans_quant_param(raw).view(
        np.int64 if scale_kind == "int64" else np.uint64)
    pts = [rng.uniform(0.5, 2, M).astype(np.float32)] if with_pts else None
    run_vs_golden(a950, [x], [w], names={"x": x_name, "weight": x_name}, scale=[scale], per_token_scale=pts,
                  out_dtype=out, group_list=GL[2], group_list_type=2, split_item=3, group_type=0,
                  expect_kept=8)


@pytest.mark.parametrize("x_name, transposed", [("float8_e4m3fn", False), ("float4_e2m1", True)])
def test_950_mx(a950, rng, x_name, transposed):
    k, n, e, pairs = 96, 12, 4, 2
    x = codecs.from_float32(rng.standard_normal((M, k)) * 2, x_name)
    w = codecs.from_float32(rng.standard_normal((e, k, n)) * 2, x_name)
    pts = rng.integers(124, 131, (M, pairs, 2)).astype(np.uint8)
    ew = rng.integers(124, 131, (e, pairs * 2, n)).astype(np.uint8)
    if transposed:
        scale = np.ascontiguousarray(ew.transpose(0, 2, 1)).reshape(e, n, pairs, 2)
    else:
        scale = np.ascontiguousarray(ew.reshape(e, pairs, 2, n).transpose(0, 1, 3, 2))
    bias = [floats(rng, (e, n), np.float32)] if x_name == "float4_e2m1" else None
    run_vs_golden(a950, [x], [w], names={"scale": "float8_e8m0", "per_token_scale": "float8_e8m0"},
                  transposed=transposed, scale=[scale], per_token_scale=[pts], bias=bias,
                  out_dtype="bfloat16", group_list=GL[0], split_item=3, group_type=0, expect_kept=8)


def test_950_pergroup_perblock(a950, rng):
    k, n, e = 256, 136, 4
    x = codecs.from_float32(rng.standard_normal((M, k)), "float8_e4m3fn")
    w = codecs.from_float32(rng.standard_normal((e, k, n)), "float8_e4m3fn")
    pts = rng.uniform(0.5, 2, (M, 2)).astype(np.float32)
    scale = rng.uniform(0.01, 0.1, (e, 2, 2)).astype(np.float32)
    run_vs_golden(a950, [x], [w], scale=[scale], per_token_scale=[pts], out_dtype="float32",
                  group_list=GL[0], split_item=3, group_type=0, expect_kept=8)


@pytest.mark.parametrize("w_name", ["float8_e4m3fn", "hifloat8"])
def test_950_weight_only_fp8(a950, rng, w_name):
    k, n, e = 32, 16, 4
    x = floats(rng, (M, k), BF16)
    w = codecs.from_float32(rng.standard_normal((e, k, n)) * 4, w_name)
    scale = rng.uniform(0.01, 0.05, (e, n)).astype(BF16)
    run_vs_golden(a950, [x], [w], names={"weight": w_name}, transposed=True, antiquant_scale=[scale],
                  group_list=GL[1], group_list_type=1, split_item=3, group_type=0, expect_kept=8)


def test_950_a8w8_k_grouped_and_bf16_bias(a950, rng):
    x = ints(rng, (6, 64))
    w = ints(rng, (64, 16))
    scale = rng.uniform(0.001, 0.01, (4, 16)).astype(np.float32)
    gl = [16, 16, 40, 64]
    golden = grouped_matmul([x], [w], scale=[scale], group_list=gl, split_item=3, group_type=2,
                            out_dtype="bfloat16")[0]
    out = grouped_matmul_v5([dev_transposed(x)], [w], stream=a950, scale=[scale], group_list=np.array(gl),
                            split_item=3, group_type=2, out_dtype="bfloat16")
    a950.synchronize()
    assert_close(out[0].to_numpy(), golden, "bfloat16")
    xb, wb = floats(rng, (M, 16), BF16), floats(rng, (4, 16, 8), BF16)
    run_vs_golden(a950, [xb], [wb], bias=[floats(rng, (4, 8), BF16)], group_list=GL[0], split_item=3,
                  group_type=0, expect_kept=8)


# --------------------------------------------------------------------------- 950 A8W4 (S8S4) and A4W4 (S4S4)
# Checked against references written here from the 2026 doc's formulas in float64 (not the golden),
# under CANN's precision standard. x and w lean positive so every output is well away from zero and
# the relative errors measure the fp16 rounding points of the kernels, not a cancellation.

ROWS_OF_EXPERT = {0: range(0, 4), 2: range(4, 10)}  # 12 rows, expert 1 empty, rows 10-11 not covered
GROUP_LISTS_950 = {0: [4, 4, 10], 1: [4, 0, 6], 2: [[0, 4], [2, 6], [1, 0]]}


def int4_leaning_positive(rng, shape):
    """Every INT4 code -8..7, the non-negative ones four times as likely as the negative ones."""
    values = np.arange(-8, 8)
    return rng.choice(values, shape, p=np.where(values < 0, 1, 4) / 40).astype(ml_dtypes.int4)


def fp19_exact(rng, shape, lo, hi):
    """float32 scales with 10 mantissa bits: a packed UINT64 carries them exactly."""
    return rng.uniform(lo, hi, shape).astype(np.float16).astype(np.float32)


def fixpipe_packed(s: np.ndarray) -> np.ndarray:
    """UINT64 scales as the S8S4 example writes them: float32 bits, bit 46 (M1 mode) set."""
    return s.view(np.uint32).astype(np.uint64) | np.uint64(1 << 46)


def run_950(stream, x, weight, n, *, out_dtype, glt, function=None, **params):
    """The binding on the 950 profile (V5 unless ``function``), single x / weight / out, sentinel-filled out."""
    out = dev(np.full((x.shape[0], n), SENTINEL).astype(dtypes.host_dtype(out_dtype)))
    lists = {key: [dev(v)] for key, v in params.items() if v is not None}
    result = (function or grouped_matmul_v5)([dev(x)], [weight], stream=stream, out=[out], group_list_type=glt,
                               group_list=dev(np.array(GROUP_LISTS_950[glt], np.int64)), split_item=3,
                               group_type=0, **lists)
    stream.synchronize()
    assert result == [out]
    got = out.to_numpy()
    assert np.all(got[10:].astype(np.float32) == SENTINEL), "rows past the groupList must keep their contents"
    return got[:10]


def weight_tensor(w, kind, c0=32):
    if kind == "int32":
        return dev(codecs.pack_int4_to_int32(w), "int32")
    return dev_nz(w, "int4", c0) if kind == "nz" else dev(w)


@pytest.mark.parametrize("with_offset, weight_kind, out_dtype", [
    (False, "nd", "bfloat16"), (False, "int32", "float16"), (False, "nz", "bfloat16"),
    (True, "nd", "float16"), (True, "nz", "float16")])
def test_950_a8w4_s8s4(a950, rng, with_offset, weight_kind, out_dtype):
    """Doc: y = ((x - 8) @ w * s + bias) * pts with bias = 8 * sum_k w * s, the weight dequantized
    per channel with the fused offset (w * s + offset) or per 256-group without it."""
    m, k, n, e = 12, 512, 64, 3
    x = rng.integers(-40, 128, (m, k)).astype(np.int8)
    w = int4_leaning_positive(rng, (e, k, n))
    groups = 1 if with_offset else k // 256
    s = fp19_exact(rng, (e, groups, n), 0.001, 0.01)
    s_k = np.repeat(s.astype(np.float64), k // groups, axis=1)  # [E, K, N]
    bias = (8 * np.einsum("ekn,ekn->en", w.astype(np.float64), s_k)).astype(np.float32)
    offset = fp19_exact(rng, (e, 1, n), 0.0, 0.05) if with_offset else None
    pts = rng.uniform(0.5, 2, m).astype(np.float32)
    got = run_950(a950, x, weight_tensor(w, weight_kind), n, out_dtype=out_dtype, glt=1, bias=bias,
                  scale=fixpipe_packed(s), offset=offset, per_token_scale=pts)
    ref = np.zeros((10, n))
    for ex, rows in ROWS_OF_EXPERT.items():
        xr = x[rows].astype(np.float64)
        v = (xr - 8) @ (w[ex].astype(np.float64) * s_k[ex]) + bias[ex]  # the doc's formula
        if offset is not None:  # weight (w + antiquantOffset) * s = w * s + offset
            v += xr.sum(axis=1, keepdims=True) * offset[ex, 0]
        ref[rows] = v * pts[rows, None]
    assert np.all(np.abs(ref) > 1)
    assert_close(got, ref, out_dtype)


@pytest.mark.parametrize("groups, with_pts, weight_kind, out_dtype, glt", [
    (0, True, "nd", "bfloat16", 0), (4, False, "nd", "float16", 1), (4, True, "int32", "bfloat16", 2),
    (0, False, "nz", "float16", 0), (0, True, "nz64", "bfloat16", 1)])
def test_950_a4w4_s4s4(a950, rng, groups, with_pts, weight_kind, out_dtype, glt):
    """Doc: y = (x @ w) * scale * pts per channel, sum_g (x_g @ w_g) * scale_g * pts per group. An NZ
    weight goes through aclnnGroupedMatmulWeightNz (the 950 quant checker's CheckWeightNzSpecialParams)."""
    m, k, n, e = 12, 256, 64, 3
    x = int4_leaning_positive(rng, (m, k))
    w = int4_leaning_positive(rng, (e, k, n))
    s = fp19_exact(rng, (e, groups or 1, n), 0.01, 0.1)
    pts = rng.uniform(0.5, 2, m).astype(np.float32) if with_pts else None
    weight = weight_tensor(w, "nz", 64) if weight_kind == "nz64" else weight_tensor(w, weight_kind)
    got = run_950(a950, x, weight, n, out_dtype=out_dtype, glt=glt, per_token_scale=pts,
                  scale=fixpipe_packed(s if groups else s[:, 0]),
                  function=grouped_matmul_weight_nz if weight_kind.startswith("nz") else None)
    ref = np.zeros((10, n))
    for ex, rows in ROWS_OF_EXPERT.items():
        s_k = np.repeat(s[ex].astype(np.float64), k // (groups or 1), axis=0)
        ref[rows] = x[rows].astype(np.float64) @ (w[ex].astype(np.float64) * s_k)
        if pts is not None:
            ref[rows] *= pts[rows, None]
    assert np.all(np.abs(ref) > 1)
    assert_close(got, ref, out_dtype)


def test_950_s8s4_example_shapes(a950, rng):
    """The shapes and bound of the upstream S8S4 example (M 8, K 512, N 16, E 2, 4 + 4 rows, all-ones
    pts, max abs error < 0.2) with data of our own, given as host arrays (the binding uploads them
    and sizes the output)."""
    m, k, n, e = 8, 512, 16, 2
    x = ints(rng, (m, k), -8, 8)
    w = ints(rng, (e, k, n), -8, 8, ml_dtypes.int4)
    s = rng.integers(1, 5, (e, n)).astype(np.float32) / 128
    offset = (rng.integers(-2, 3, (e, n)) * s).astype(np.float32)
    bias = (8 * np.einsum("ekn,en->en", w.astype(np.float64), s)).astype(np.float32)
    out, = grouped_matmul_v5(x, w, stream=a950, bias=bias, scale=fixpipe_packed(s)[:, None],  # host arrays
                             offset=offset[:, None], per_token_scale=np.ones(m, np.float32),
                             group_list=np.array([4, 4]), group_list_type=1, split_item=3, group_type=0,
                             out_dtype="float16")
    a950.synchronize()
    assert out.shape == (m, n) and out.dtype == aclnn_py.semantics.dtypes.DataType.ACL_FLOAT16
    ref = np.vstack([x[:4].astype(np.float64) @ (w[0].astype(np.float64) * s[0] + offset[0]),
                     x[4:].astype(np.float64) @ (w[1].astype(np.float64) * s[1] + offset[1])])
    assert np.abs(ref).max() > 10
    assert np.abs(out.to_numpy().astype(np.float64) - ref).max() < 0.2


# --------------------------------------------------------------------------- validation rules

def _c_list(items):
    """aclCreateTensorList with NULL elements allowed (None); returns (handle, owned)."""
    from aclnn_py import ffi, lib
    handles = [ffi.NULL if t is None else create_handle(t.desc) for t in items]
    return lib.aclCreateTensorList(ffi.new("aclTensor *[]", handles or [ffi.NULL]), len(handles))


def raw_call(args: dict):
    """Phase 1 straight through the C ABI (the runtime's own checks): (status, message, workspace)."""
    from aclnn_py import ffi, lib
    from aclnn_py.check import recent_message
    made = []

    def tl(key):
        v = args.get(key)
        if v is None:
            return ffi.NULL
        h = _c_list(v)
        made.append(h)
        return h
    gl = args.get("group_list")
    tuning = None if args.get("tuning_config") is None else IntArray(args["tuning_config"])
    size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
    status = lib.aclnnGroupedMatmulV5GetWorkspaceSize(
        tl("x"), tl("weight"), tl("bias"), tl("scale"), tl("offset"), tl("antiquant_scale"),
        tl("antiquant_offset"), tl("per_token_scale"), ffi.NULL if gl is None else gl.handle,
        tl("activation_input"), ffi.NULL, ffi.NULL, args.get("split_item", 0), args.get("group_type", -1),
        args.get("group_list_type", 0), args.get("act_type", 0),
        ffi.NULL if tuning is None else tuning.handle, tl("out"), ffi.NULL, ffi.NULL, size, executor)
    message = recent_message() if status else ""
    if status == 0:
        lib.aclDestroyAclOpExecutor(executor[0])
    for h in made:
        lib.aclDestroyTensorList(h)
    return status, message, int(size[0])


def binding_call(stream, args: dict):
    kw = {k: v for k, v in args.items() if k not in ("x", "weight")}
    return grouped_matmul_v5(args["x"], args["weight"], stream=stream, **kw)


def T(a, name=None):
    return dev(a, name)


def base_a8w8(rng, **over):
    a = dict(x=[T(ints(rng, (8, 32)))], weight=[T(ints(rng, (3, 32, 16)))],
             scale=[T(rng.uniform(0.01, 0.1, (3, 16)).astype(BF16))],
             per_token_scale=[T(np.ones(8, np.float32))], group_list=T(np.array([2, 5, 8], np.int64)),
             split_item=3, group_type=0, out=[T(np.zeros((8, 16), BF16))])
    a.update(over)
    return a


def base_fp16(rng, dt=np.float16, **over):
    a = dict(x=[T(floats(rng, (8, 32), dt))], weight=[T(floats(rng, (3, 32, 16), dt))],
             group_list=T(np.array([2, 5, 8], np.int64)), split_item=3, group_type=0,
             out=[T(np.zeros((8, 16), dt))])
    a.update(over)
    return a


def base_lists(rng, n=2, **over):
    a = dict(x=[T(floats(rng, (4, 16), np.float16)) for _ in range(n)],
             weight=[T(floats(rng, (16, 8), np.float16)) for _ in range(n)],
             split_item=0, group_type=-1, out=[T(np.zeros((4, 8), np.float16)) for _ in range(n)])
    a.update(over)
    return a


def base_a8w4(rng, k=256, n=16, **over):
    a = dict(x=[T(ints(rng, (8, k)))], weight=[T(ints(rng, (3, k, n), -8, 8, ml_dtypes.int4))],
             scale=[T(np.ones((3, 1, n), np.uint64))], bias=[T(np.zeros((3, n), np.float32))],
             per_token_scale=[T(np.ones(8, np.float32))], group_list=T(np.array([2, 5, 1], np.int64)),
             split_item=3, group_type=0, out=[T(np.zeros((8, n), BF16))])
    a.update(over)
    return a


def base_a8w4_offset(rng, **over):
    """Per-channel A8W4 with the fused offset (FLOAT16 out, groupListType 1)."""
    a = base_a8w4(rng, offset=[T(np.zeros((3, 1, 16), np.float32))], out=[T(np.zeros((8, 16), np.float16))],
                  group_list_type=1)
    a.update(over)
    return a


def base_a16w4(rng, n=16, scale_shape=(3, 16), **over):
    a = dict(x=[T(floats(rng, (8, 32), np.float16))], weight=[T(ints(rng, (3, 32, n), -8, 8, ml_dtypes.int4))],
             antiquant_scale=[T(np.ones(scale_shape, np.float16))], group_list=T(np.array([2, 5, 8], np.int64)),
             split_item=3, group_type=0, out=[T(np.zeros((8, n), np.float16))])
    a.update(over)
    return a


def base_a4w4(rng, n=16, scale_shape=(3, 16), **over):
    a = dict(x=[T(ints(rng, (8, 64), -8, 8, ml_dtypes.int4))],
             weight=[T(ints(rng, (3, 64, n), -8, 8, ml_dtypes.int4))],
             scale=[T(np.ones(scale_shape, np.uint64))], group_list=T(np.array([2, 5, 8], np.int64)),
             split_item=3, group_type=0, out=[T(np.zeros((8, n), BF16))])
    a.update(over)
    return a


def _fp8(rng, shape):
    return T(codecs.from_float32(rng.standard_normal(shape), "float8_e4m3fn"))


def _nz(rng, shape, dt=np.float16):
    return dev_nz(floats(rng, shape, dt), dtypes.name_of(np.zeros(1, dt)))


# (id, profile, builder(rng) -> args, code, message fragment, binding too?)
RULES = [
    ("x_null", "A2", lambda r: base_fp16(r, x=None), NULLPTR, "x is nullptr", False),
    ("weight_null", "A2", lambda r: base_fp16(r, weight=None), NULLPTR, "weight is nullptr", False),
    ("out_null", "A2", lambda r: base_fp16(r, out=None), NULLPTR, "out is nullptr", False),
    ("weight_element_null", "A2", lambda r: base_lists(r, weight=[None, T(np.zeros((16, 8), np.float16))]),
     NULLPTR, "weight[0] is nullptr", False),
    ("x_element_null", "A2", lambda r: base_lists(r, x=[None, T(np.zeros((4, 16), np.float16))]),
     NULLPTR, "x[0] is nullptr", False),
    ("x_empty_list", "A2", lambda r: base_lists(r, x=[]), NULLPTR, "x must not be an empty tensor list", False),
    ("a8w8_scale_missing", "A2", lambda r: base_a8w8(r, scale=None), NULLPTR,
     "scaleOptional is nullptr but A8W8 with BFLOAT16 out requires it", True),
    ("a8w4_bias_missing", "A2", lambda r: base_a8w4(r, bias=None), NULLPTR, "biasOptional is nullptr", True),
    ("x_dtype_int16", "A2", lambda r: base_fp16(r, x=[T(np.zeros((8, 32), np.int16))]), INVALID,
     "x dtype INT16 with weight dtype FLOAT16", True),
    ("a2_fp8_x", "A2", lambda r: base_a8w8(r, x=[_fp8(r, (8, 32))], weight=[_fp8(r, (3, 32, 16))]), INVALID,
     "x dtype FLOAT8_E4M3FN is not supported on Atlas A2/A3", True),
    ("a2_fp8_weight_only", "A2", lambda r: base_fp16(r, weight=[_fp8(r, (3, 32, 16))],
                                                     antiquant_scale=[T(np.ones((3, 16), np.float16))]),
     INVALID, "weight dtype FLOAT8_E4M3FN is not supported on Atlas A2/A3", True),
    ("a2_bf16_bias", "A2", lambda r: base_fp16(r, BF16, bias=[T(np.zeros((3, 16), BF16))]), INVALID,
     "biasOptional dtype BF16 is not supported on Atlas A2/A3", True),
    ("fp16_bias_dtype", "A2", lambda r: base_fp16(r, bias=[T(np.zeros((3, 16), np.float32))]), INVALID,
     "biasOptional dtype FLOAT is not supported", True),
    ("a2_bf16_out_fp32_scale", "A2",
     lambda r: base_a8w8(r, scale=[T(np.ones((3, 16), np.float32))], bias=[T(np.zeros((3, 16), np.int32))]),
     INVALID, "scaleOptional dtype FLOAT is not supported for A8W8 on the A2 profile with BFLOAT16 out", True),
    ("out_dtype", "A2", lambda r: base_fp16(r, out=[T(np.zeros((8, 16), BF16))]), INVALID,
     "out dtype BF16 is not supported", True),
    ("offset_a8w8", "A2", lambda r: base_a8w8(r, offset=[T(np.zeros((3, 16), np.float32))]), INVALID,
     "offsetOptional must be null for A8W8", True),
    ("weight_list_129", "A2", lambda r: dict(
        x=[T(np.zeros((1, 2), np.float16)) for _ in range(129)],
        weight=[T(np.zeros((2, 2), np.float16)) for _ in range(129)],
        out=[T(np.zeros((1, 2), np.float16)) for _ in range(129)], split_item=0, group_type=-1),
     INVALID, "x has 129 tensors; at most 128", True),
    ("bias_length", "A2", lambda r: base_lists(r, bias=[T(np.zeros(8, np.float16))]), INVALID,
     "biasOptional has 1 tensors but weight has 2", True),
    ("group_list_2d_type0", "A2", lambda r: base_fp16(r, group_list=T(np.array([[2, 5]], np.int64))), INVALID,
     "groupListOptional must be 1-D for groupListType 0, got 2 dims", True),
    ("group_list_type2_1d", "A2", lambda r: base_a8w8(r, group_list_type=2), INVALID,
     "must have shape [E, 2] for groupListType 2", True),
    ("group_list_too_long", "A2", lambda r: base_fp16(r, group_list=T(np.arange(1025, dtype=np.int64))),
     INVALID, "1025 groups; at most 1024", True),
    ("group_list_longer_than_weights", "A2", lambda r: base_fp16(r, group_list=T(np.arange(4, dtype=np.int64))),
     INVALID, "has 4 groups but the weight stacks only 3", True),
    ("group_list_with_type_minus1", "A2", lambda r: base_lists(r, group_list=T(np.array([4, 8], np.int64))),
     INVALID, "groupListOptional must be null when groupType is -1", True),
    ("group_list_missing", "A2", lambda r: base_fp16(r, group_list=None), INVALID,
     "groupListOptional is required", True),
    ("group_list_int32", "A2", lambda r: base_fp16(r, group_list=T(np.array([2, 5, 8], np.int32))), INVALID,
     "groupListOptional dtype INT32", True),
    ("group_list_k_split_a2", "A2", lambda r: dict(
        x=[T(floats(r, (16, 4), np.float16)).transpose()], weight=[T(np.zeros((8, 8), np.float16))] * 2,
        out=[T(np.zeros((4, 8), np.float16))] * 2, group_list=T(np.array([8, 16], np.int64)),
        split_item=0, group_type=2), INVALID, "must be null for groupType 2 with a weight list", True),
    ("group_list_len_vs_weights", "A2", lambda r: dict(
        x=[T(floats(r, (8, 16), np.float16))], weight=[T(np.zeros((16, 8), np.float16))] * 2,
        out=[T(np.zeros((8, 8), np.float16))], group_list=T(np.array([8], np.int64)), split_item=2,
        group_type=0), INVALID, "has 1 groups but weight has 2 tensors", True),
    ("split2_out_len", "A2", lambda r: base_fp16(r, out=[T(np.zeros((8, 16), np.float16))] * 2), INVALID,
     "splitItem 3 needs a single out tensor", True),
    ("split0_out_len", "A2", lambda r: base_lists(r, out=[T(np.zeros((4, 8), np.float16))]), INVALID,
     "out has 1 tensors but x has 2", True),
    ("split_item_5", "A2", lambda r: base_fp16(r, split_item=5), INVALID, "splitItem must be 0, 1, 2 or 3", True),
    ("tuning_negative", "A2", lambda r: base_fp16(r, tuning_config=[-1]), INVALID,
     "tuningConfigOptional[0]=-1 must be >= 0 and <= M=8", True),
    ("tuning_above_m", "A2", lambda r: base_fp16(r, tuning_config=[4, 9]), INVALID,
     "tuningConfigOptional[1]=9", True),
    ("group_type_1", "A2", lambda r: base_fp16(r, group_type=1), INVALID,
     "grouping along N is not supported", True),
    ("act_gelu_erf", "A2", lambda r: base_a8w8(r, act_type=3), INVALID, "actType 3 (GELU_ERR_FUNC) is not supported",
     True),
    ("act_out_of_range", "A2", lambda r: base_a8w8(r, act_type=9), INVALID, "actType must be in [0, 5]", True),
    ("act_nonquant", "A2", lambda r: base_fp16(r, act_type=1), INVALID,
     "actType 1 (RELU) is only supported for A8W8", True),
    ("act_int8_out", "A2", lambda r: base_a8w8(r, scale=[T(np.ones((3, 16), np.uint64))], per_token_scale=None,
                                               out=[T(np.zeros((8, 16), np.int8))], act_type=5),
     INVALID, "actType 5 (SILU) is only supported", True),
    ("glt2_nonquant", "A2", lambda r: base_fp16(r, group_list=T(np.array([[0, 2], [1, 3]], np.int64)),
                                                group_list_type=2),
     INVALID, "groupListType 2 is only supported for full quantization", True),
    ("glt_3", "A2", lambda r: base_fp16(r, group_list_type=3), INVALID, "groupListType must be 0, 1 or 2", True),
    ("a8w8_multi_tensor", "A2", lambda r: dict(
        x=[T(ints(r, (4, 16)))] * 2, weight=[T(ints(r, (16, 8)))] * 2, out=[T(np.zeros((4, 8), np.int32))] * 2,
        split_item=0, group_type=-1), INVALID, "A8W8 quantization needs single-tensor", True),
    ("a8w8_group_type_minus1", "A2", lambda r: base_a8w8(r, group_type=-1, group_list=None, split_item=0), INVALID,
     "A8W8 quantization needs groupType 0", True),
    ("single_out_no_grouping", "A2", lambda r: base_fp16(r, group_type=-1, group_list=None), INVALID,
     "splitItem 3 (a single output) needs groupType 0 or 2, got -1", True),
    ("a8w8_2d_weight", "A2", lambda r: base_a8w8(r, weight=[T(ints(r, (32, 16)))]), INVALID,
     "needs a 3-D weight", True),
    ("a8w4_transposed", "A2", lambda r: base_a8w4(
        r, weight=[T(ints(r, (3, 16, 256), -8, 8, ml_dtypes.int4)).transpose()]), INVALID,
     "A8W4 does not support a transposed weight", True),
    ("x_transposed", "A2", lambda r: base_fp16(r, x=[T(floats(r, (32, 8), np.float16)).transpose()]), INVALID,
     "x[0] must be contiguous", True),
    ("mixed_transposition", "A2", lambda r: base_lists(
        r, weight=[T(np.zeros((16, 8), np.float16)), T(np.zeros((8, 16), np.float16)).transpose()]), INVALID,
     "mixed transposition", True),
    ("last_dim_65536", "A2", lambda r: dict(
        x=[T(np.zeros((1, 65536), np.float16))], weight=[T(np.zeros((65536, 1), np.float16))],
        out=[T(np.zeros((1, 1), np.float16))], split_item=0, group_type=-1), INVALID,
     "x[0] last dim 65536 must be less than 65536", True),
    ("nz_misaligned", "A2", lambda r: base_fp16(r, x=[T(floats(r, (8, 24), np.float16))],
                                                weight=[_nz(r, (3, 24, 16))]), INVALID,
     "FRACTAL_NZ format needs K % 16 == 0 and N % 16 == 0, got K=24", True),
    ("nz_int8_n", "A2", lambda r: base_a8w8(r, weight=[dev_nz(ints(r, (3, 32, 16)), "int8")]), INVALID,
     "N % 32 == 0", True),
    ("k_zero", "A2", lambda r: base_fp16(r, x=[T(np.zeros((8, 0), np.float16))],
                                         weight=[T(np.zeros((3, 0, 16), np.float16))]), INVALID,
     "x[0] has K = 0: does not support input K being 0", True),
    ("activation_input", "A2", lambda r: base_fp16(r, activation_input=[T(np.zeros((8, 32), np.float16))]),
     INVALID, "activationInputOptional must be nullptr", False),
    ("a16w4_no_antiquant", "A2", lambda r: base_a16w4(r, antiquant_scale=None), INVALID,
     "also needs antiquantScale", True),
    ("a16w4_group_divides", "A2", lambda r: base_a16w4(r, scale_shape=(3, 5, 16)), INVALID,
     "the group count 5 must divide K=32", True),
    ("a16w4_odd_last_dim", "A2", lambda r: base_a16w4(r, n=15, scale_shape=(3, 15)), INVALID,
     "INT4 weight needs an even last dim", True),
    ("a16w4_pergroup_offset_a2", "A2", lambda r: base_a16w4(
        r, scale_shape=(3, 4, 16), antiquant_offset=[T(np.ones((3, 4, 16), np.float16))]), INVALID,
     "symmetric only", True),
    ("a8w4_k_256", "A2", lambda r: base_a8w4(r, k=128), INVALID, "multiple of 256 and at most 18432", True),
    ("a8w4_n_8", "A2", lambda r: base_a8w4(r, n=12), INVALID, "A8W4 needs N to be a multiple of 8", True),
    ("a4w4_n_8", "A2", lambda r: base_a4w4(r, n=12, scale_shape=(3, 12)), INVALID,
     "A4W4 with an ND weight needs N to be a multiple of 8", True),
    ("a4w4_group_odd", "A2", lambda r: base_a4w4(r, scale_shape=(3, 64, 16)), INVALID,
     "K/G must be an even integer", True),
    ("out_shape", "A2", lambda r: base_fp16(r, out=[T(np.zeros((8, 15), np.float16))]), INVALID,
     "differ from the expected", True),
    ("950_a8w4_group_list_type_0", "950", lambda r: base_a8w4(r), INVALID,
     "A8W4 on the 950 profile needs groupListType 1 (the groupList holds counts), got 0", True),
    ("950_a8w4_group_list_type_2", "950", lambda r: base_a8w4(
        r, group_list_type=2, group_list=T(np.array([[0, 2], [1, 6]], np.int64))), INVALID,
     "needs groupListType 1 (the groupList holds counts), got 2", True),
    ("950_a8w4_pergroup_scale", "950", lambda r: base_a8w4(r, k=512, group_list_type=1), INVALID,
     "scaleOptional shape [3, 1, 16] is not supported: A8W4 (one group per 256 values of K) needs [3, 2, 16]", True),
    ("a8w4_pergroup_scale_a2", "A2", lambda r: base_a8w4(r, k=512, group_list_type=1), INVALID,
     "scaleOptional shape [3, 1, 16] is not supported: A8W4 (one group per 256 values of K) needs [3, 2, 16]", True),
    ("950_a8w4_perchannel_scale", "950", lambda r: base_a8w4_offset(r, scale=[T(np.ones((3, 2, 16), np.uint64))]),
     INVALID, "scaleOptional shape [3, 2, 16] is not supported: A8W4 with offsetOptional (one group) needs [3, 1, 16]", True),
    ("950_a8w4_offset_shape", "950", lambda r: base_a8w4_offset(r, offset=[T(np.zeros((3, 16), np.float32))]),
     INVALID, "offsetOptional shape [3, 16] is not supported: A8W4 needs [3, 1, 16]", True),
    ("950_a8w4_offset_bf16_out", "950", lambda r: base_a8w4_offset(r, out=[T(np.zeros((8, 16), BF16))]),
     INVALID, "offsetOptional (asymmetric A8W4) needs FLOAT16 out", True),
    ("950_a8w4_pts_missing", "950", lambda r: base_a8w4(r, group_list_type=1, per_token_scale=None), NULLPTR,
     "perTokenScaleOptional is nullptr but A8W4 requires it", True),
    ("950_a8w4_pts_per_tensor", "950", lambda r: base_a8w4(
        r, group_list_type=1, per_token_scale=[T(np.ones(3, np.float32))]), INVALID,
     "perTokenScaleOptional shape [3] is not supported: per-token quantization needs [8]", True),
    ("950_a8w4_bias_missing", "950", lambda r: base_a8w4(r, group_list_type=1, bias=None), NULLPTR,
     "biasOptional is nullptr but A8W4 requires it", True),
    ("950_a8w4_transposed", "950", lambda r: base_a8w4(
        r, group_list_type=1, weight=[T(ints(r, (3, 16, 256), -8, 8, ml_dtypes.int4)).transpose()]), INVALID,
     "A8W4 does not support a transposed weight", True),
    ("950_a8w4_k_256", "950", lambda r: base_a8w4(r, k=128, group_list_type=1), INVALID,
     "multiple of 256 and at most 18432", True),
    ("950_a8w4_nz_c0_64", "950", lambda r: base_a8w4(
        r, n=64, group_list_type=1, weight=[dev_nz(ints(r, (3, 256, 64), -8, 8, ml_dtypes.int4), "int4")]),
     INVALID, "FRACTAL_NZ storage shape [3, 1, 16, 16, 64] is not the NZ shape [3, 2, 16, 16, 32]", True),
    ("950_a4w4_scale_shape", "950", lambda r: base_a4w4(r, scale_shape=(3, 1)), INVALID,
     "scaleOptional shape [3, 1] is not supported: A4W4 (per channel [N] or per group [G, N]) needs "
     "[3, 16] or [3, 3, 16]", True),
    ("950_a4w4_pergroup_nz", "950", lambda r: base_a4w4(
        r, n=64, scale_shape=(3, 2, 64), weight=[dev_nz(ints(r, (3, 64, 64), -8, 8, ml_dtypes.int4), "int4")]),
     INVALID, "A4W4 with a per-group scale [E, G, N] needs an ND weight on the 950 profile", True),
    ("950_a4w4_nz_c0_16", "950", lambda r: base_a4w4(
        r, n=64, scale_shape=(3, 64), weight=[dev_nz(ints(r, (3, 64, 64), -8, 8, ml_dtypes.int4), "int4", 16)]),
     INVALID, "is not the NZ shape [3, 2, 4, 16, 32] (C0 32 or 64) of its view [3, 64, 64]", True),
    ("950_a4w4_bias", "950", lambda r: base_a4w4(r, bias=[T(np.zeros((3, 16), np.float32))]), INVALID,
     "biasOptional dtype FLOAT is not supported for A4W4 on the 950 profile; supported: null", True),
    ("950_a4w4_pts_per_tensor", "950", lambda r: base_a4w4(r, per_token_scale=[T(np.ones((3, 1), np.float32))]),
     INVALID, "perTokenScaleOptional shape [3, 1] is not supported: per-token quantization needs [8]", True),
    ("950_a4w4_fp32_out", "950", lambda r: base_a4w4(r, out=[T(np.zeros((8, 16), np.float32))]), INVALID,
     "out dtype FLOAT is not supported for A4W4 on the 950 profile", True),
    ("950_a4w4_transposed", "950", lambda r: base_a4w4(
        r, weight=[T(ints(r, (3, 16, 64), -8, 8, ml_dtypes.int4)).transpose()]), INVALID,
     "A4W4 does not support a transposed weight", True),
    ("950_a4w4_k_grouped", "950", lambda r: base_a4w4(r, group_type=2), INVALID,
     "A4W4 quantization needs groupType 0, got 2", True),
    ("950_weight_fp8_not_transposed", "950", lambda r: base_fp16(
        r, BF16, weight=[_fp8(r, (3, 32, 16))], antiquant_scale=[T(np.ones((3, 16), BF16))]), INVALID,
     "weight-only FP8/HiF8 needs a transposed weight", True),
    ("950_nonquant_act", "950", lambda r: base_fp16(r, act_type=2), INVALID, "actType 2 (GELU_TANH)", True),
]


@pytest.mark.parametrize("case", RULES, ids=[c[0] for c in RULES])
def test_rules(env, rng, case):
    _, profile, build, code, fragment, via_binding = case
    stream = env.use(profile)
    args = build(rng)
    status, message, _ = raw_call(args)
    expect_status(status, code, fragment, message)
    if via_binding:  # the binding's own rules, before any C call: the project's wording everywhere
        with pytest.raises(AclnnParamError) as info:
            binding_call(stream, args)
        assert info.value.code == code and fragment in info.value.message


@pytest.mark.parametrize("profile", ["A2", "950"])
def test_empty_inputs_succeed_with_no_workspace(env, rng, profile):
    stream = env.use(profile)
    args = base_fp16(rng, x=[T(np.zeros((0, 32), np.float16))], out=[T(np.zeros((0, 16), np.float16))])
    assert raw_call(args)[0::2] == (0, 0)
    binding_call(stream, args)
    stream.synchronize()
    status, _, size = raw_call(base_fp16(rng))
    assert status == 0
    if mock_library():  # the mock's workspace size; CANN's is its own
        assert size == 16 * 1024 * 1024


# --------------------------------------------------------------------------- A2 vs 950 profiles

PROFILE_CASES = [
    ("fp8_quant", lambda r: base_a8w8(r, x=[_fp8(r, (8, 32))], weight=[_fp8(r, (3, 32, 16))],
                                      scale=[T(np.ones((3, 16), np.float32))], per_token_scale=None)),
    ("bf16_bias", lambda r: base_fp16(r, BF16, bias=[T(np.zeros((3, 16), BF16))])),
    ("a8w8_k_grouped", lambda r: dict(x=[T(ints(r, (32, 8))).transpose()], weight=[T(ints(r, (32, 16)))],
                                      scale=[T(np.ones((2, 16), np.float32))],
                                      group_list=T(np.array([16, 32], np.int64)), split_item=3, group_type=2,
                                      out=[T(np.zeros((2, 8, 16), BF16))])),
]


@pytest.mark.parametrize("profile", ["A2", "950"])
def test_a_full_quant_nz_weight_may_be_padded_on_the_950(env, rng, profile):
    """N = 4 INT8 weight in FRACTAL_NZ, its storage padded to one 32-wide tile (what
    aclnnNpuFormatCast makes of it, as ops-transformer's example
    gmm/grouped_matmul/examples/arch35/test_aclnn_grouped_matmul_weight_nz.cpp does), through
    aclnnGroupedMatmulWeightNz: the 950's full quantization reads the storage tiles (ceil(N/32),
    ceil(K/16)) and needs no alignment; Atlas A2/A3 require K % 16 and N % 32."""
    stream = env.use(profile)
    x, w = ints(rng, (8, 32)), ints(rng, (3, 32, 4))
    assert nz.nz_storage_shape(w.shape, "int8") == (3, 1, 2, 16, 32)
    scale = rng.uniform(0.01, 0.1, (3, 4)).astype(BF16)
    pts = rng.uniform(0.5, 1.5, 8).astype(np.float32)
    args = base_a8w8(rng, x=[T(x)], weight=[dev_nz(w, "int8")], scale=[T(scale)], per_token_scale=[T(pts)],
                     out=[T(np.zeros((8, 4), BF16))])
    kw = {k: v for k, v in args.items() if k not in ("x", "weight")}
    if profile == "A2":
        with pytest.raises(AclnnParamError, match="N % 32 == 0, got K=32, N=4") as info:
            grouped_matmul_weight_nz(args["x"], args["weight"], stream=stream, **kw)
        assert info.value.code == INVALID
        return
    out = grouped_matmul_weight_nz(args["x"], args["weight"], stream=stream, **kw)[0]
    stream.synchronize()
    rows = np.repeat(np.arange(3), [2, 3, 3])  # groupList [2, 5, 8], cumulative
    exact = np.einsum("mk,mkn->mn", x.astype(np.int64), w[rows].astype(np.int64)).astype(np.float64)
    expected = exact * scale[rows].astype(np.float64) * pts[:, None]
    assert_close(out.to_numpy(), expected, "bfloat16")


@pytest.mark.parametrize("profile", ["A2", "950"])
def test_an_int64_scale_is_a_uint64_one(env, rng, profile):
    """Every entry point re-types an INT64 scale as UINT64 before any check (hicann/ops-transformer
    gmm/grouped_matmul/op_api/aclnn_grouped_matmul.cpp, aclnnGroupedMatmulGetWorkspaceSizeCommon):
    the same bits give the same output, on Atlas A2 too."""
    stream = env.use(profile)
    packed = trans_quant_param(rng.uniform(0.01, 0.02, (3, 16)).astype(np.float32))
    args = base_a8w8(rng, scale=[T(packed)], per_token_scale=None, out=[T(np.zeros((8, 16), np.int8))])
    as_uint64 = binding_call(stream, args)[0]
    as_int64 = binding_call(stream, dict(args, scale=[T(packed.view(np.int64))], out=[T(np.zeros((8, 16), np.int8))]))[0]
    stream.synchronize()
    assert as_uint64.to_numpy().any()
    assert np.array_equal(as_uint64.to_numpy(), as_int64.to_numpy())


@pytest.mark.parametrize("profile", ["A2", "950"])
@pytest.mark.parametrize("case", PROFILE_CASES, ids=[c[0] for c in PROFILE_CASES])
def test_profiles_a2_vs_950(env, rng, case, profile):
    """Refused on Atlas A2, computed on the Ascend 950."""
    _, build = case
    stream = env.use(profile)
    status, message, _ = raw_call(build(rng))
    assert status == (INVALID if profile == "A2" else 0), message
    if profile == "950":
        binding_call(stream, build(rng))
        stream.synchronize()


@pytest.mark.parametrize("profile", ["A3", "A2"])
def test_a8w4_accepted_on_a2_and_a3(env, rng, profile):
    env.use(profile)
    status, message, _ = raw_call(base_a8w4(rng))
    assert status == 0, message


# Atlas A2/A3 keep their A8W4/A4W4 behaviour: calls only the 950 rules reject are still accepted there,
# and every A2 rejection of these scenarios keeps its code and message on A2 and A3.
INT4_950_ONLY = [
    ("a8w4_group_list_type_0", lambda r: base_a8w4(r)),
    ("a4w4_pergroup_nz", lambda r: base_a4w4(
        r, n=64, scale_shape=(3, 2, 64), weight=[dev_nz(ints(r, (3, 64, 64), -8, 8, ml_dtypes.int4), "int4")])),
]


@pytest.mark.parametrize("profile", ["A2", "A3", "950"])
@pytest.mark.parametrize("case", INT4_950_ONLY, ids=[c[0] for c in INT4_950_ONLY])
def test_int4_950_rules_leave_a2_a3_unchanged(env, rng, case, profile):
    _, build = case
    env.use(profile)
    status, message, _ = raw_call(build(rng))
    assert status == (INVALID if profile == "950" else 0), (profile, message)


INT4_A2_REJECTIONS = [c for c in RULES if c[1] == "A2" and c[0].startswith(("a8w4", "a4w4"))] + [
    ("a4w4_nz_c0_32", "A2", lambda r: base_a4w4(
        r, n=64, scale_shape=(3, 64), weight=[dev_nz(ints(r, (3, 64, 64), -8, 8, ml_dtypes.int4), "int4", 32)]),
     INVALID, "FRACTAL_NZ storage shape [3, 2, 4, 16, 32] is not the NZ shape [3, 1, 4, 16, 64] of its view", True),
]


@pytest.mark.parametrize("profile", ["A2", "A3"])
@pytest.mark.parametrize("case", INT4_A2_REJECTIONS, ids=[c[0] for c in INT4_A2_REJECTIONS])
def test_int4_a2_a3_rejections_unchanged(env, rng, case, profile):
    _, _, build, code, fragment, _ = case
    env.use(profile)
    status, message, _ = raw_call(build(rng))
    expect_status(status, code, fragment, message)


def test_float32_out_dtype_is_not_mistaken_for_none(stream):
    """out_dtype="float32" is aclDataType 0: the binding must still use it (it once read 0 as "not given")."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((6, 16)).astype(np.float32)
    w = rng.standard_normal((16, 8)).astype(np.float32)
    y, = grouped_matmul_v5([x], [w], stream=stream, out_dtype="float32")
    stream.synchronize()
    assert y.dtype == aclnn_py.DataType.ACL_FLOAT
    assert_close(y.to_numpy(), x.astype(np.float64) @ w, "float32")
