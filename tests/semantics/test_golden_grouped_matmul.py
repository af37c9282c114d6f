"""aclnn_py.semantics.grouped_matmul.golden (and the classification it uses, .call) against an
independent brute-force reference.

The reference below loops over rows / groups / columns in Python with float64
or exact integer sums and makes every rounding point explicit with np.float16,
np.float32 or ml_dtypes.bfloat16 scalars. Exact equality is asserted where the
rounding points are fully specified, CANN's precision standard elsewhere.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from aclnn_py.semantics import codecs, dtypes
from aclnn_py.semantics.grouped_matmul.call import decode_group_list, output_shapes, scenario
from aclnn_py.semantics.grouped_matmul.golden import grouped_matmul
from aclnn_py.semantics.precision import assert_close
from aclnn_py.semantics.quant_params import trans_quant_param

BF16 = ml_dtypes.bfloat16

# The doc's groupList example scaled down: 8 groups, experts 0, 2, 5 get 2, 3, 3
# rows (doc: 123, 333, 333), x has M = 11 rows (3 beyond the total), the weight
# stacks 9 experts (doc: 9).
M, E_W = 11, 9
GROUP_LISTS = {
    0: np.array([2, 2, 5, 5, 5, 8, 8, 8], np.int64),
    1: np.array([2, 0, 3, 0, 0, 3, 0, 0], np.int64),
    2: np.array([[0, 2], [2, 3], [5, 3], [1, 0], [0, 0], [0, 0], [0, 0], [0, 0]], np.int64),
}
EXPERT_OF_ROW = {0: 0, 1: 0, 2: 2, 3: 2, 4: 2, 5: 5, 6: 5, 7: 5}
SENTINEL = 7.0


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


# --------------------------------------------------------------------------- reference helpers

def cast(value: float, name: str):
    """Round one float64 value to the output dtype (single RNE rounding)."""
    return {"float16": np.float16, "bfloat16": BF16, "float32": np.float32}[name](value)


def fp19(packed) -> np.float32:
    """Scale held by a packed UINT64 value: its low 32 bits with 13 mantissa bits cleared."""
    return np.array(int(packed) & 0xFFFFE000, np.uint32).view(np.float32)[()]


def packed_offset(packed) -> int:
    field = (int(packed) >> 37) & 0x1FF
    return field - 512 if field >= 256 else field


def idot(a: np.ndarray, b: np.ndarray) -> int:
    """Exact integer dot product."""
    return int(sum(int(p) * int(q) for p, q in zip(a.astype(np.int64), b.astype(np.int64))))


def fdot(a: np.ndarray, b: np.ndarray, name: str | None = None) -> float:
    """float64 dot product of two host arrays of the CANN dtype ``name``."""
    return float(np.dot(codecs.to_float32(a, name).astype(np.float64),
                        codecs.to_float32(b, name).astype(np.float64)))


def run_grouped(glt: int, x, w, *, out_name: str, **kw) -> np.ndarray:
    """Single x / single 3-D weight / single y, M grouping, sentinel-filled out."""
    out = np.full((x.shape[0], w.shape[-1]), SENTINEL).astype(dtypes.host_dtype(out_name))
    y = grouped_matmul([x], [w], group_list=GROUP_LISTS[glt], group_list_type=glt,
                       split_item=3, group_type=0, out=[out], **kw)
    assert len(y) == 1 and y[0].dtype == dtypes.host_dtype(out_name)
    assert np.all(y[0][8:] == out[8:]), "rows beyond the groupList total must be kept"
    return y[0]


def reference(shape_n: int, row_fn, name: str) -> np.ndarray:
    """Rows 0..7 of the reference: row_fn(m, e, n) -> float64 value, cast per element."""
    ref = np.zeros((8, shape_n), dtypes.host_dtype(name))
    for m, e in EXPERT_OF_ROW.items():
        for n in range(shape_n):
            ref[m, n] = cast(row_fn(m, e, n), name) if name in ("float16", "bfloat16",
                                                                 "float32") else row_fn(m, e, n)
    return ref


def small_ints(rng, shape, dtype, lo=-3, hi=4):
    return rng.integers(lo, hi, shape).astype(dtype)


# --------------------------------------------------------------------------- groupList

def test_decode_group_list_doc_pattern():
    expected = [(0, 0, 2), (2, 2, 5), (5, 5, 8)]
    for glt in (0, 1):
        ranges = decode_group_list(GROUP_LISTS[glt], glt, M)
        assert len(ranges) == 8
        assert [r for r in ranges if r[2] > r[1]] == expected
        assert ranges[1] == (1, 2, 2) and ranges[7] == (7, 8, 8)
    assert decode_group_list(GROUP_LISTS[2], 2, M) == expected
    assert decode_group_list(np.array([[3, 2], [1, 0], [0, 4]]), 2, 6) == [(3, 0, 2)]
    assert decode_group_list(np.zeros(0, np.int64), 1, 0) == []


@pytest.mark.parametrize("values, glt, rows, message", [
    ([2, 5, 12], 0, 11, "exceed"),
    ([2, 1, 3], 0, 11, "non-decreasing"),
    ([2, -1, 3], 1, 11, "non-negative"),
    ([5, 5, 5], 1, 11, "exceed"),
    ([[0, 6], [1, 6]], 2, 11, "exceed"),
    ([[-1, 2]], 2, 11, "index"),
    ([0, 2], 2, 11, r"\[E, 2\]"),
    ([[0, 2]], 0, 11, "1-D"),
    ([1, 2], 3, 11, "groupListType"),
])
def test_decode_group_list_errors(values, glt, rows, message):
    with pytest.raises(ValueError, match="groupList") as info:
        decode_group_list(np.array(values), glt, rows)
    assert info.match(message)


# --------------------------------------------------------------------------- non-quant

@pytest.mark.parametrize("glt", [0, 1, 2])
@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32"])
def test_nonquant_exact(rng, name, glt):
    k, n = 32, 12
    dt = dtypes.host_dtype(name)
    x, w = small_ints(rng, (M, k), dt), small_ints(rng, (E_W, k, n), dt)
    bias = small_ints(rng, (E_W, n), np.float16 if name == "float16" else np.float32, -20, 20)
    y = run_grouped(glt, x, w, bias=[bias], out_name=name)
    ref = reference(n, lambda m, e, c: fdot(x[m], w[e][:, c]) + float(bias[e, c]), name)
    np.testing.assert_array_equal(y[:8], ref)


@pytest.mark.parametrize("name", ["float16", "bfloat16"])
def test_nonquant_random(rng, name):
    k, n = 200, 20
    dt = dtypes.host_dtype(name)
    x = rng.standard_normal((M, k)).astype(dt)
    w = rng.standard_normal((E_W, k, n)).astype(dt)
    y = run_grouped(1, x, w, out_name=name)
    assert_close(y[:8], reference(n, lambda m, e, c: fdot(x[m], w[e][:, c]), "float32"), name)


# --------------------------------------------------------------------------- A8W8

def int8_data(rng, k=96, n=16):
    x = rng.integers(-128, 128, (M, k), dtype=np.int8)
    w = rng.integers(-128, 128, (E_W, k, n), dtype=np.int8)
    bias = rng.integers(-5000, 5000, (E_W, n)).astype(np.int32)
    return x, w, bias


@pytest.mark.parametrize("glt", [0, 1, 2])
def test_a8w8_int32_exact(rng, glt):
    x, w, bias = int8_data(rng, k=1100)  # K > 1024 exercises the chunked exact matmul
    y = run_grouped(glt, x, w, bias=[bias], out_name="int32", out_dtype="int32")
    ref = reference(16, lambda m, e, c: idot(x[m], w[e][:, c]) + int(bias[e, c]), "int32")
    np.testing.assert_array_equal(y[:8], ref)


@pytest.mark.parametrize("glt", [0, 1, 2])
def test_a8w8_int8_requant_exact(rng, glt):
    x, w, bias = int8_data(rng)
    scale = rng.uniform(1e-4, 3e-3, (E_W, 16)).astype(np.float32)
    offset = rng.integers(-20, 20, (E_W, 16)).astype(np.float32)
    packed = trans_quant_param(scale, offset)

    def row(m, e, c):
        t = np.rint(np.float32(idot(x[m], w[e][:, c]) + int(bias[e, c])) * fp19(packed[e, c]))
        return min(max(min(max(int(t), -256), 255) + packed_offset(packed[e, c]), -128), 127)

    y = run_grouped(glt, x, w, bias=[bias], scale=[packed], out_name="int8")
    np.testing.assert_array_equal(y[:8], reference(16, row, "int8"))


A8W8_FLOAT_CASES = {
    # name: (out, scale dtype, bias kind, per-token scale)
    "bf16_scale_int_bias_pts": ("bfloat16", "bfloat16", "int32", True),
    "fp32_scale_bf16_bias_pts": ("bfloat16", "float32", "bfloat16", True),
    "fp32_scale_int_bias_fp16": ("float16", "float32", "int32", False),
    "packed_scale_fp16_no_bias": ("float16", "uint64", None, False),
    "fp32_scale_fp32_out_pts": ("float32", "float32", "float32", True),
}


def a8w8_float_setup(rng, case):
    out, scale_name, bias_kind, with_pts = A8W8_FLOAT_CASES[case]
    x, w, int_bias = int8_data(rng)
    raw = rng.uniform(1e-4, 3e-3, (E_W, 16)).astype(np.float32)
    scale = trans_quant_param(raw) if scale_name == "uint64" else raw.astype(
        dtypes.host_dtype(scale_name))
    scales = np.array([[fp19(p) for p in r] for r in scale]) if scale_name == "uint64" else (
        scale.astype(np.float32))
    bias = None if bias_kind is None else int_bias if bias_kind == "int32" else (
        rng.uniform(-3, 3, (E_W, 16)).astype(dtypes.host_dtype(bias_kind)))
    pts = rng.uniform(0.5, 2, M).astype(np.float32) if with_pts else None

    def value(m, e, c):  # float32 operations in the documented order
        acc = idot(x[m], w[e][:, c]) + (int(bias[e, c]) if bias_kind == "int32" else 0)
        v = np.float32(acc) * np.float32(scales[e, c])
        if pts is not None:
            v = v * pts[m]
        if bias_kind not in (None, "int32"):
            v = v + np.float32(bias[e, c])
        return v

    kwargs = dict(scale=[scale], bias=None if bias is None else [bias],
                  per_token_scale=None if pts is None else [pts], out_dtype=out)
    return x, w, out, value, kwargs


@pytest.mark.parametrize("case", sorted(A8W8_FLOAT_CASES))
def test_a8w8_float_exact(rng, case):
    x, w, out, value, kwargs = a8w8_float_setup(rng, case)
    y = run_grouped(0, x, w, out_name=out, **kwargs)
    np.testing.assert_array_equal(y[:8], reference(16, value, out))


ACTIVATIONS = {
    1: lambda v: max(v, 0.0),
    2: lambda v: 0.5 * v * (1 + np.tanh(np.sqrt(2 / np.pi) * (v + 0.044715 * v ** 3))),
    4: lambda v: v / (1 + np.exp(-1.702 * abs(v))) * np.exp(0.851 * (v - abs(v))),
    5: lambda v: v / (1 + np.exp(-v)),
}


@pytest.mark.parametrize("act", sorted(ACTIVATIONS))
@pytest.mark.parametrize("case", ["bf16_scale_int_bias_pts", "fp32_scale_int_bias_fp16",
                                  "fp32_scale_bf16_bias_pts"])
def test_a8w8_activations(rng, case, act):
    x, w, out, value, kwargs = a8w8_float_setup(rng, case)
    y = run_grouped(1, x, w, out_name=out, act_type=act, **kwargs)
    ref = reference(16, lambda m, e, c: ACTIVATIONS[act](float(value(m, e, c))), out)
    assert_close(y[:8], ref, out)


def test_a8w8_rejections(rng):
    x, w, out, _, kwargs = a8w8_float_setup(rng, "fp32_scale_int_bias_fp16")
    with pytest.raises(ValueError, match="actType 3"):
        run_grouped(0, x, w, out_name=out, act_type=3, **kwargs)
    with pytest.raises(ValueError, match=r"actType 1 \(RELU\) is only supported for A8W8"):
        grouped_matmul([x], [w], group_list=GROUP_LISTS[0], split_item=2, group_type=0,
                       act_type=1, out_dtype="int32")
    with pytest.raises(ValueError, match="packed scale"):
        grouped_matmul([x], [w], group_list=GROUP_LISTS[0], split_item=2, group_type=0,
                       scale=kwargs["scale"], out_dtype="int8")
    with pytest.raises(ValueError, match="out_dtype is required"):
        grouped_matmul([x], [w], group_list=GROUP_LISTS[0], split_item=2, group_type=0)
    with pytest.raises(ValueError, match="9 weights"):
        grouped_matmul([x], [w], group_list=np.array([[9, 1]]), group_list_type=2,
                       split_item=2, group_type=0, out_dtype="int32")


# --------------------------------------------------------------------------- weight-only

def antiquant_reference(w, w_name, scale, offset, x_name):
    """W~ element by element: fp16 steps each rounded, or fp32 then one bf16 rounding."""
    k, n = w.shape
    groups = scale.shape[0] if scale.ndim == 2 else 1
    s = scale.reshape(groups, n)
    o = None if offset is None else offset.reshape(groups, n)
    wt = np.zeros((k, n))
    for kk in range(k):
        for c in range(n):
            g = kk // (k // groups)
            wv = float(codecs.to_float32(w[kk:kk + 1, c], w_name)[0])
            if x_name == "float16":
                t = np.float16(wv) if o is None else np.float16(wv + float(o[g, c]))
                wt[kk, c] = np.float16(float(t) * float(s[g, c]))
            else:
                t = np.float32(wv) if o is None else np.float32(wv) + np.float32(o[g, c])
                wt[kk, c] = BF16(np.float32(t) * np.float32(s[g, c]))
    return wt


WEIGHT_ONLY_CASES = {
    # name: (x dtype, weight dtype, groups (0 = per channel), with offset)
    "a16w8_fp16_offset": ("float16", "int8", 0, True),
    "a16w8_bf16_offset": ("bfloat16", "int8", 0, True),
    "a16w4_fp16_pergroup": ("float16", "int4", 4, False),
    "a16w4_bf16_perchannel_offset": ("bfloat16", "int4", 0, True),
    "fp8_e4m3_fp16": ("float16", "float8_e4m3fn", 0, False),
    "hif8_bf16": ("bfloat16", "hifloat8", 0, False),
}


def weight_values(rng, shape, name):
    if name == "int8":
        return rng.integers(-128, 128, shape, dtype=np.int8)
    if name == "int4":
        return rng.integers(-8, 8, shape).astype(ml_dtypes.int4)
    return codecs.from_float32(rng.standard_normal(shape) * 4, name)


@pytest.mark.parametrize("case", sorted(WEIGHT_ONLY_CASES))
def test_weight_only(rng, case):
    x_name, w_name, groups, with_offset = WEIGHT_ONLY_CASES[case]
    k, n, e = 64, 12, 3
    dt = dtypes.host_dtype(x_name)
    x = rng.standard_normal((M, k)).astype(dt)
    w = weight_values(rng, (e, k, n), w_name)
    s_shape = (e, groups, n) if groups else (e, n)
    scale = rng.uniform(0.01, 0.05, s_shape).astype(dt)
    offset = rng.uniform(-4, 4, s_shape).astype(dt) if with_offset else None
    bias = rng.uniform(-1, 1, (e, n)).astype(np.float16 if x_name == "float16" else np.float32)
    gl = np.array([3, 0, 5], np.int64)  # counts: rows 0-2 -> 0, 3-7 -> 2
    y = grouped_matmul([x], [w], bias=[bias], antiquant_scale=[scale],
                       antiquant_offset=None if offset is None else [offset], group_list=gl,
                       group_list_type=1, split_item=2, group_type=0, weight_dtype=w_name)[0]
    assert y.dtype == dt and not y[8:].any()
    for m in range(8):
        ex = 0 if m < 3 else 2
        wt = antiquant_reference(w[ex], w_name, scale[ex],
                                 None if offset is None else offset[ex], x_name)
        ref = [float(np.dot(x[m].astype(np.float64), wt[:, c])) + float(bias[ex, c])
               for c in range(n)]
        assert_close(y[m], np.array(ref), x_name)


@pytest.mark.parametrize("case", sorted(WEIGHT_ONLY_CASES))
def test_weight_only_dequant_exact(rng, case):
    """One-hot x rows select rows of W~, so y must equal W~ bit for bit."""
    x_name, w_name, groups, with_offset = WEIGHT_ONLY_CASES[case]
    k, n, e = 64, 12, 3
    dt = dtypes.host_dtype(x_name)
    picks = [(7 * m + 3) % k for m in range(8)]
    x = np.zeros((8, k), dt)
    x[np.arange(8), picks] = 1
    w = weight_values(rng, (e, k, n), w_name)
    s_shape = (e, groups, n) if groups else (e, n)
    scale = rng.uniform(0.01, 0.05, s_shape).astype(dt)
    offset = rng.uniform(-4, 4, s_shape).astype(dt) if with_offset else None
    y = grouped_matmul([x], [w], antiquant_scale=[scale],
                       antiquant_offset=None if offset is None else [offset],
                       group_list=np.array([3, 3, 8]), split_item=2, group_type=0,
                       weight_dtype=w_name)[0]
    for m, kk in enumerate(picks):
        ex = 0 if m < 3 else 2
        wt = antiquant_reference(w[ex], w_name, scale[ex],
                                 None if offset is None else offset[ex], x_name)
        np.testing.assert_array_equal(y[m], wt[kk].astype(dt))


def test_weight_only_multi_tensor_rank3(rng):
    """groupType -1, splitItem 0: per-tensor lists, a 3-D x, per-tensor N."""
    xs = [rng.standard_normal((2, 3, 32)).astype(np.float16),
          rng.standard_normal((4, 32)).astype(np.float16)]
    ws = [rng.integers(-128, 128, (32, 8), dtype=np.int8),
          rng.integers(-128, 128, (32, 16), dtype=np.int8)]
    scales = [rng.uniform(0.01, 0.05, 8).astype(np.float16),
              rng.uniform(0.01, 0.05, 16).astype(np.float16)]
    ys = grouped_matmul(xs, ws, antiquant_scale=scales, split_item=0, group_type=-1)
    assert [y.shape for y in ys] == [(2, 3, 8), (4, 16)]
    for x, w, s, y in zip(xs, ws, scales, ys):
        wt = antiquant_reference(w, "int8", s, None, "float16")
        ref = np.einsum("...k,kn->...n", x.astype(np.float64), wt)
        assert_close(y, ref, "float16")


# --------------------------------------------------------------------------- INT32-packed int4

def test_int32_packed_int4_weight(rng):
    k, n, e = 64, 16, 3
    w = rng.integers(-8, 8, (e, k, n)).astype(ml_dtypes.int4)
    x = rng.standard_normal((M, k)).astype(np.float16)
    scale = rng.uniform(0.01, 0.05, (e, 4, n)).astype(np.float16)
    kw = dict(antiquant_scale=[scale], group_list=np.array([3, 5]), group_list_type=1,
              split_item=2, group_type=0)
    plain = grouped_matmul([x], [w], **kw)[0]
    packed_n = codecs.pack_int4_to_int32(w)  # (e, k, n/8)
    np.testing.assert_array_equal(
        grouped_matmul([x], [packed_n], weight_dtype="int32", **kw)[0], plain)
    # Transposed storage (e, n, k) packs along K; the logical view is (e, k/8, n).
    packed_k = np.swapaxes(codecs.pack_int4_to_int32(np.swapaxes(w, 1, 2)), 1, 2)
    np.testing.assert_array_equal(grouped_matmul([x], [packed_k], weight_dtype="int32",
                                                 weight_transposed=True, **kw)[0], plain)


# --------------------------------------------------------------------------- A8W4

def a8w4_setup(rng, with_offset: bool):
    k, n = 512, 16
    x = rng.integers(-128, 128, (M, k), dtype=np.int8)
    w = rng.integers(-8, 8, (E_W, k, n)).astype(ml_dtypes.int4)
    groups = 1 if with_offset else k // 256
    s = rng.uniform(0.001, 0.01, (E_W, groups, n)).astype(np.float16).astype(np.float32)
    scale = s.view(np.uint32).astype(np.uint64)  # float32 bits in the low 32 bits
    w32 = w.astype(np.float32)
    bias = 8 * np.einsum("ekn,ekn->en", w32, np.repeat(s, k // groups, axis=1))
    bias = bias.astype(np.float32)
    offset = rng.uniform(-0.05, 0.05, (E_W, 1, n)).astype(np.float32) if with_offset else None
    pts = rng.uniform(0.5, 2, M).astype(np.float32)
    return x, w, s, scale, bias, offset, pts


@pytest.mark.parametrize("with_offset", [False, True])
def test_a8w4(rng, with_offset):
    x, w, s, scale, bias, offset, pts = a8w4_setup(rng, with_offset)
    k, n = w.shape[1:]
    groups = s.shape[1]
    size = k // groups
    kw = dict(bias=[bias], scale=[scale], per_token_scale=[pts], out_dtype="bfloat16",
              offset=None if offset is None else [offset])
    # Offset null: the groupList is read as counts whatever groupListType says.
    y = run_grouped(1, x, w, out_name="bfloat16", **kw)
    if not with_offset:
        np.testing.assert_array_equal(
            grouped_matmul([x], [w], group_list=GROUP_LISTS[1], group_list_type=0,
                           split_item=2, group_type=0, **kw)[0][:8], y[:8])

    def kernel_row(m, e, c):  # hi/lo nibbles, fp16 group terms summed in fp16
        hi = np.array([int(v) >> 4 for v in x[m]])
        lo = np.array([(int(v) & 15) - 8 for v in x[m]])
        sums = []
        for half in (hi, lo):
            acc = None
            for g in range(groups):
                ks = slice(g * size, (g + 1) * size)
                term = np.float16(np.float32(idot(half[ks], w[e][ks, c])) * s[e, g, c])
                acc = term if acc is None else np.float16(acc + term)
            sums.append(np.float32(acc))
        v = np.float32(16) * sums[0] + sums[1] + bias[e, c]
        if offset is not None:
            v = v + np.float32(idot(x[m], np.ones(k))) * offset[e, 0, c]
        return v * pts[m]

    np.testing.assert_array_equal(y[:8], reference(n, kernel_row, "bfloat16"))

    def doc_row(m, e, c):  # y = (x @ (w * s) + rowsum * offset) * pts
        ws = [float(w[e][kk, c]) * float(s[e, kk // size, c]) for kk in range(k)]
        v = float(np.dot(x[m].astype(np.float64), ws))
        if offset is not None:
            v += idot(x[m], np.ones(k)) * float(offset[e, 0, c])
        return v * float(pts[m])

    assert_close(y[:8], reference(n, doc_row, "float32"), "bfloat16")


def test_a8w4_int32_packed(rng):
    x, w, _, scale, bias, _, pts = a8w4_setup(rng, False)
    kw = dict(bias=[bias], scale=[scale], per_token_scale=[pts], out_dtype="float16",
              group_list=GROUP_LISTS[1], group_list_type=1, split_item=2, group_type=0)
    np.testing.assert_array_equal(
        grouped_matmul([x], [codecs.pack_int4_to_int32(w)], weight_dtype="int32", **kw)[0],
        grouped_matmul([x], [w], **kw)[0])


@pytest.mark.parametrize("with_offset", [False, True])
@pytest.mark.parametrize("glt", [0, 2])
def test_a8w4_950(rng, with_offset, glt):
    """Ascend 950 S8S4: exact x @ w per k-group, FixPipe to fp16 with the fp19 scale, fp16 sums,
    + rowsum * offset in float32, * pts; the bias is not read and groupListType is honoured."""
    x, w, s, scale, bias, offset, pts = a8w4_setup(rng, with_offset)
    scale = scale | np.uint64(1 << 46)  # the M1-mode bit the upstream example sets
    k, n = w.shape[1:]
    groups = s.shape[1]
    size = k // groups
    kw = dict(scale=[scale], per_token_scale=[pts], out_dtype="float16", profile="950",
              offset=None if offset is None else [offset])
    y = run_grouped(glt, x, w, bias=[bias], out_name="float16", **kw)
    np.testing.assert_array_equal(run_grouped(glt, x, w, bias=[np.zeros_like(bias)], out_name="float16", **kw), y)

    def row(m, e, c):
        acc = None
        for g in range(groups):
            ks = slice(g * size, (g + 1) * size)
            term = np.float16(np.float32(idot(x[m][ks], w[e][ks, c])) * fp19(scale[e, g, c]))
            acc = term if acc is None else np.float16(acc + term)
        v = np.float32(acc)
        if offset is not None:
            v = v + np.float32(idot(x[m], np.ones(k))) * offset[e, 0, c]
        return v * pts[m]

    np.testing.assert_array_equal(y[:8], reference(n, row, "float16"))


def test_a4w4_same_formula_on_every_profile(rng):
    x = rng.integers(-8, 8, (M, 64)).astype(ml_dtypes.int4)
    w = rng.integers(-8, 8, (E_W, 64, 16)).astype(ml_dtypes.int4)
    scale = trans_quant_param(rng.uniform(0.01, 0.1, (E_W * 2, 16))).reshape(E_W, 2, 16)
    kw = dict(scale=[scale], per_token_scale=[rng.uniform(0.5, 2, M).astype(np.float32)],
              out_name="bfloat16", out_dtype="bfloat16")
    y = run_grouped(2, x, w, **kw)
    for profile in ("A3", "950"):
        np.testing.assert_array_equal(run_grouped(2, x, w, profile=profile, **kw), y)
    with pytest.raises(ValueError, match="profile must be one of"):
        run_grouped(2, x, w, profile="310P", **kw)


# --------------------------------------------------------------------------- A4W4

@pytest.mark.parametrize("groups, with_pts, out", [(0, True, "bfloat16"), (4, True, "float16"),
                                                   (4, False, "bfloat16")])
def test_a4w4(rng, groups, with_pts, out):
    k, n = 64, 16
    x = rng.integers(-8, 8, (M, k)).astype(ml_dtypes.int4)
    w = rng.integers(-8, 8, (E_W, k, n)).astype(ml_dtypes.int4)
    raw = rng.uniform(0.01, 0.1, (E_W, groups, n) if groups else (E_W, n)).astype(np.float32)
    scale = trans_quant_param(raw.reshape(-1, n)).reshape(raw.shape)
    pts = rng.uniform(0.5, 2, M).astype(np.float32) if with_pts else None
    y = run_grouped(0, x, w, scale=[scale], per_token_scale=None if pts is None else [pts],
                    out_name=out, out_dtype=out)
    g_count = groups or 1
    size = k // g_count
    packed = scale.reshape(E_W, g_count, n)

    def row(m, e, c):
        acc = None
        for g in range(g_count):
            ks = slice(g * size, (g + 1) * size)
            term = np.float16(np.float32(idot(x[m][ks], w[e][ks, c])) * fp19(packed[e, g, c]))
            acc = term if acc is None else np.float16(acc + term)
        return np.float32(acc) * (np.float32(1) if pts is None else pts[m])

    np.testing.assert_array_equal(y[:8], reference(n, row, out))


# --------------------------------------------------------------------------- 950: FP8/HiF8 quant

@pytest.mark.parametrize("x_name, scale_kind, with_pts, out", [
    ("float8_e4m3fn", "uint64", False, "bfloat16"),
    ("hifloat8", "float32", True, "float16"),
    ("float8_e5m2", "int64", True, "float32"),
])
def test_quant_fp8(rng, x_name, scale_kind, with_pts, out):
    k, n = 96, 16
    x = codecs.from_float32(rng.standard_normal((M, k)) * 3, x_name)
    w = codecs.from_float32(rng.standard_normal((E_W, k, n)) * 3, x_name)
    raw = rng.uniform(0.01, 0.1, (E_W, n)).astype(np.float32)
    scale = raw if scale_kind == "float32" else trans_quant_param(raw).view(
        np.int64 if scale_kind == "int64" else np.uint64)
    pts = rng.uniform(0.5, 2, M).astype(np.float32) if with_pts else None
    y = run_grouped(2, x, w, scale=[scale], per_token_scale=None if pts is None else [pts],
                    out_name=out, out_dtype=out, x_dtype=x_name, weight_dtype=x_name)

    def row(m, e, c):
        s = float(raw[e, c]) if scale_kind == "float32" else float(fp19(scale[e, c]))
        v = fdot(x[m], w[e][:, c], x_name) * s
        return v * (1.0 if pts is None else float(pts[m]))

    assert_close(y[:8], reference(n, row, "float32"), out)


# --------------------------------------------------------------------------- 950: MX

@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("x_name", ["float8_e4m3fn", "float4_e2m1"])
def test_mx(rng, x_name, transposed):
    k, n = 96, 12  # 3 blocks of 32: the last slot of the second pair is padding
    blocks, pairs = 3, 2
    x = codecs.from_float32(rng.standard_normal((M, k)) * 2, x_name)
    w = codecs.from_float32(rng.standard_normal((E_W, k, n)) * 2, x_name)
    ex = rng.integers(124, 131, (M, pairs * 2)).astype(np.uint8)  # E8M0 codes per block
    ew = rng.integers(124, 131, (E_W, pairs * 2, n)).astype(np.uint8)
    pts = ex.reshape(M, pairs, 2)
    if transposed:  # [E, N, ceil(K/64), 2]
        scale = np.ascontiguousarray(ew.transpose(0, 2, 1)).reshape(E_W, n, pairs, 2)
    else:  # [E, ceil(K/64), N, 2]
        scale = np.ascontiguousarray(ew.reshape(E_W, pairs, 2, n).transpose(0, 1, 3, 2))
    bias = rng.uniform(-1, 1, (E_W, n)).astype(np.float32) if x_name == "float4_e2m1" else None
    y = run_grouped(0, x, w, scale=[scale], per_token_scale=[pts],
                    bias=None if bias is None else [bias], out_name="bfloat16",
                    out_dtype="bfloat16", scale_dtype="float8_e8m0",
                    per_token_scale_dtype="float8_e8m0", weight_transposed=transposed)

    def row(m, e, c):
        total = 0.0 if bias is None else float(bias[e, c])
        for j in range(blocks):
            ks = slice(32 * j, 32 * (j + 1))
            total += (2.0 ** (int(ex[m, j]) - 127) * 2.0 ** (int(ew[e, j, c]) - 127)
                      * fdot(x[m][ks], w[e][ks, c]))
        return total

    assert_close(y[:8], reference(n, row, "float32"), "bfloat16")


# --------------------------------------------------------------------------- 950: G-B

@pytest.mark.parametrize("transposed", [False, True])
def test_pergroup_perblock(rng, transposed):
    k, n, e = 320, 136, 6  # 3 k-blocks (last partial), 2 n-blocks (last partial)
    x = codecs.from_float32(rng.standard_normal((M, k)), "float8_e4m3fn")
    w = codecs.from_float32(rng.standard_normal((e, k, n)), "float8_e4m3fn")
    pts = rng.uniform(0.5, 2, (M, 3)).astype(np.float32)
    s = rng.uniform(0.01, 0.1, (e, 3, 2)).astype(np.float32)
    scale = np.ascontiguousarray(s.transpose(0, 2, 1)) if transposed else s
    gl = np.array([2, 2, 5, 5, 5, 8], np.int64)  # cumsum over the first 6 experts
    out = np.full((M, n), SENTINEL, np.float32)
    y = grouped_matmul([x], [w], scale=[scale], per_token_scale=[pts], group_list=gl,
                       split_item=2, group_type=0, out=[out], out_dtype="float32",
                       weight_transposed=transposed)[0]
    assert np.all(y[8:] == SENTINEL)

    def row(m, ex, c):
        return sum(fdot(x[m][128 * j:128 * (j + 1)], w[ex][128 * j:128 * (j + 1), c])
                   * float(pts[m, j]) * float(s[ex, j, c // 128]) for j in range(3))

    assert_close(y[:8], reference(n, row, "float32"), "float32")


# --------------------------------------------------------------------------- tensor-count patterns

def nonquant_ref(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Exact float64 product of small-integer float32 data, looped per row."""
    rows = np.zeros((x.shape[0], w.shape[1]))
    for m in range(x.shape[0]):
        for c in range(w.shape[1]):
            rows[m, c] = fdot(x[m], w[:, c])
    return rows


def test_pattern_per_tensor_and_concat(rng):
    xs = [small_ints(rng, (r, 16), np.float32) for r in (3, 0, 4)]
    ws = [small_ints(rng, (16, 8), np.float32) for _ in range(3)]
    per = grouped_matmul(xs, ws, split_item=1, group_type=-1)
    assert [y.shape for y in per] == [(3, 8), (0, 8), (4, 8)]
    for x, w, y in zip(xs, ws, per):
        np.testing.assert_array_equal(y, nonquant_ref(x, w))
    for split in (2, 3):
        cat = grouped_matmul(xs, ws, split_item=split, group_type=0,
                             group_list=np.array([3, 3, 7]))
        np.testing.assert_array_equal(cat[0], np.concatenate(per))
    with pytest.raises(ValueError, match="groupList sizes"):
        grouped_matmul(xs, ws, split_item=2, group_type=0, group_list=np.array([3, 4, 7]))
    with pytest.raises(ValueError, match="groupList must be null"):
        grouped_matmul(xs, ws, split_item=0, group_type=-1, group_list=np.array([3, 3, 7]))


def test_pattern_single_x_weight_list(rng):
    x = small_ints(rng, (M, 16), np.float32)
    ws = [small_ints(rng, (16, 8), np.float32) for _ in range(3)]
    out = np.full((M, 8), SENTINEL, np.float32)
    y = grouped_matmul([x], ws, group_list=np.array([[2, 4], [0, 3], [1, 0]]),
                       group_list_type=2, split_item=3, group_type=0, out=[out])[0]
    np.testing.assert_array_equal(y[:4], nonquant_ref(x[:4], ws[2]))
    np.testing.assert_array_equal(y[4:7], nonquant_ref(x[4:7], ws[0]))
    assert np.all(y[7:] == SENTINEL) and np.all(out == SENTINEL)


def test_pattern_single_x_split_outputs(rng):
    x = small_ints(rng, (M, 16), np.float32)
    w = small_ints(rng, (4, 16, 8), np.float32)
    ys = grouped_matmul([x], list(w), group_list=np.array([2, 0, 3, 1]), group_list_type=1,
                        split_item=0, group_type=0)
    assert [y.shape for y in ys] == [(2, 8), (0, 8), (3, 8), (1, 8)]
    for y, (e, a, b) in zip(ys, [(0, 0, 2), (1, 2, 2), (2, 2, 5), (3, 5, 6)]):
        np.testing.assert_array_equal(y, nonquant_ref(x[a:b], w[e]))
    with pytest.raises(ValueError, match="needs a list of several 2-D weights"):  # as the rules: not a stacked weight
        grouped_matmul([x], [w], group_list=np.array([2, 0, 3, 1]), group_list_type=1,
                       split_item=0, group_type=0)


def test_pattern_k_grouped_single_weight(rng):
    m, k, n = 5, 40, 6
    x = small_ints(rng, (m, k), np.float32)
    w = small_ints(rng, (k, n), np.float32)
    out = np.full((4, m, n), SENTINEL, np.float32)
    y = grouped_matmul([x], [w], group_list=np.array([10, 10, 30, 36]), split_item=2,
                       group_type=2, out=[out])[0]
    assert y.shape == (4, m, n)
    assert not y[1].any(), "an empty K group gives zeros"
    for i, (a, b) in enumerate([(0, 10), (10, 10), (10, 30), (30, 36)]):
        np.testing.assert_array_equal(y[i], nonquant_ref(x[:, a:b], w[a:b]))


def test_pattern_k_grouped_weight_list(rng):
    m, n = 5, 6
    x = small_ints(rng, (m, 40), np.float32)
    ws = [small_ints(rng, (kk, n), np.float32) for kk in (12, 0, 20)]
    ys = grouped_matmul([x], ws, split_item=1, group_type=2)
    assert [y.shape for y in ys] == [(m, n)] * 3 and not ys[1].any()
    np.testing.assert_array_equal(ys[0], nonquant_ref(x[:, :12], ws[0]))
    np.testing.assert_array_equal(ys[2], nonquant_ref(x[:, 12:32], ws[2]))
    with pytest.raises(ValueError, match="groupList sizes"):
        grouped_matmul([x], ws, split_item=1, group_type=2, group_list=np.array([12, 13, 32]))


def test_k_grouped_a8w8_per_group_scales(rng):
    m, k, n = 4, 64, 8
    x = rng.integers(-128, 128, (m, k), dtype=np.int8)
    w = rng.integers(-128, 128, (k, n), dtype=np.int8)
    scale = rng.uniform(1e-3, 1e-2, (3, n)).astype(np.float32)
    pts = rng.uniform(0.5, 2, (3, m)).astype(np.float32)
    y = grouped_matmul([x], [w], scale=[scale], per_token_scale=[pts],
                       group_list=np.array([20, 0, 44]), group_list_type=1, split_item=2,
                       group_type=2, out_dtype="float32")[0]
    assert not y[1].any()
    for i, (a, b) in enumerate([(0, 20), (20, 20), (20, 64)]):
        if a == b:
            continue
        for r in range(m):
            for c in range(n):
                expect = np.float32(idot(x[r, a:b], w[a:b, c])) * scale[i, c] * pts[i, r]
                assert y[i, r, c] == expect


# --------------------------------------------------------------------------- shapes, scenario

def test_output_shapes():
    assert output_shapes([(3, 16), (2, 4, 16)], [(16, 8), (16, 5)], split_item=0,
                         group_type=-1, group_list_len=None) == [(3, 8), (2, 4, 5)]
    assert output_shapes([(3, 16), (4, 16)], [(16, 8), (16, 8)], split_item=2, group_type=0,
                         group_list_len=2) == [(7, 8)]
    assert output_shapes([(789, 4096)], [(9, 4096, 7168)], split_item=3, group_type=0,
                         group_list_len=8) == [(789, 7168)]
    assert output_shapes([(11, 16)], [(16, 8)] * 3, split_item=2, group_type=0,
                         group_list_len=3) == [(11, 8)]
    assert output_shapes([(5, 40)], [(40, 6)], split_item=2, group_type=2,
                         group_list_len=4) == [(4, 5, 6)]
    assert output_shapes([(5, 40)], [(12, 6), (28, 7)], split_item=1, group_type=2,
                         group_list_len=None) == [(5, 6), (5, 7)]
    assert output_shapes([(11, 512)], [(9, 512, 2)], split_item=2, group_type=0,
                         group_list_len=8, weight_dtype="int32") == [(11, 16)]
    assert output_shapes([(11, 64)], [(3, 8, 16)], split_item=2, group_type=0,
                         group_list_len=3, weight_dtype="int32",
                         weight_transposed=True) == [(11, 16)]
    with pytest.raises(ValueError, match="groupList"):
        output_shapes([(11, 16)], [(16, 8)] * 4, split_item=0, group_type=0, group_list_len=4)
    with pytest.raises(ValueError, match="needs a list of several 2-D weights"):
        output_shapes([(11, 16)], [(4, 16, 8)], split_item=0, group_type=0, group_list_len=4)
    with pytest.raises(ValueError, match="groupList length"):
        output_shapes([(5, 40)], [(40, 6)], split_item=2, group_type=2, group_list_len=None)
    with pytest.raises(ValueError, match="groupType"):
        output_shapes([(5, 40)], [(40, 6)], split_item=2, group_type=1, group_list_len=1)


@pytest.mark.parametrize("args, kwargs, expected", [
    (("float16", "float16"), {}, "nonquant"),
    (("float32", "float32"), {}, "nonquant"),
    (("bfloat16", "int8"), {"has_antiquant_scale": True}, "a16w8"),
    (("float16", "int32"), {"has_antiquant_scale": True}, "a16w4"),
    (("bfloat16", "hifloat8"), {"has_antiquant_scale": True}, "weight_fp8"),
    (("int8", "int8"), {"scale_dtype": "uint64"}, "a8w8"),
    (("int8", "int4"), {"scale_dtype": "uint64", "scale_group_ndim": 2}, "a8w4"),
    (("int4", "int32"), {"scale_dtype": "uint64"}, "a4w4"),
    (("hifloat8", "hifloat8"), {"scale_dtype": "float32"}, "quant_fp8"),
    (("float8_e4m3fn", "float8_e4m3fn"), {"scale_dtype": "float8_e8m0"}, "mx"),
    (("float4_e2m1", "float4_e2m1"), {"scale_dtype": "float8_e8m0"}, "mx"),
    (("float8_e5m2", "float8_e5m2"), {"scale_dtype": "float32", "scale_group_ndim": 2},
     "pergroup_perblock"),
])
def test_scenario(args, kwargs, expected):
    assert scenario(*args, **kwargs) == expected


@pytest.mark.parametrize("args, kwargs", [
    (("float16", "int8"), {}),
    (("float16", "bfloat16"), {}),
    (("int8", "int8"), {"has_antiquant_scale": True}),
    (("float4_e2m1", "float4_e2m1"), {"scale_dtype": "float32"}),
])
def test_scenario_rejects(args, kwargs):
    with pytest.raises(ValueError):
        scenario(*args, **kwargs)
