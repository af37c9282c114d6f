"""The golden of the unquantized MatmulAllReduce entry points (aclnn_py.semantics.quant_matmul_all_reduce.golden:
matmul_all_reduce, weight_quant_matmul_all_reduce) and the shared weight-only dequantization
(aclnn_py.semantics.antiquant), against references written here step by step.

The references follow the documented formulas (ops-transformer mc2/matmul_all_reduce/docs/) with the
precision choices the golden states: each rank's x1 @ W + bias accumulated in float32 and rounded to
the output dtype, x3 added in float32 and rounded, the ranks summed in float32 in rank order and
rounded once; W~ = (w + offset) * scale in float16 arithmetic for FLOAT16 x1 (each step rounded),
in float32 rounded once for BFLOAT16 x1. Values are compared bit for bit: the references compute
the same roundings by other means (scalar loops)."""
from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from aclnn_py.semantics import antiquant
from aclnn_py.semantics.quant_matmul_all_reduce import golden

BF16 = ml_dtypes.bfloat16


def f32(a):
    return np.asarray(a).astype(np.float32)


def all_reduce(partials, dtype):
    total = np.zeros(partials[0].shape, np.float32)
    for p in partials:
        total = total + f32(p)
    return total.astype(dtype)


def test_along_k_covers_k_with_groups_of_group_size_rows():
    table = np.arange(6, dtype=np.float32).reshape(3, 2)
    rows = antiquant.along_k(table, 80, 32)
    assert rows.shape == (80, 2)
    assert (rows[:32] == table[0]).all() and (rows[32:64] == table[1]).all() and (rows[64:] == table[2]).all()
    assert antiquant.along_k(np.ones(5, np.float32), 80).shape == (1, 5)  # per channel: broadcast
    assert (antiquant.along_k(table[:2], 8) == np.repeat(table[:2], 4, axis=0)).all()  # k / G rows by default
    with pytest.raises(ValueError, match="do not cover K=80"):
        antiquant.along_k(table, 80, 16)
    with pytest.raises(ValueError, match="must divide K=9"):
        antiquant.along_k(table[:2], 9)


@pytest.mark.parametrize("dtype", [np.float16, BF16])
def test_matmul_all_reduce(dtype):
    rng = np.random.default_rng(1)
    x1 = [rng.standard_normal((2, 3, 40)).astype(dtype) for _ in range(3)]  # 3-D x1 (b, s, k)
    x2 = [rng.standard_normal((40, 24)).astype(dtype) for _ in range(3)]
    bias = [rng.standard_normal(24).astype(dtype) for _ in range(3)]
    x3 = [rng.standard_normal((2, 3, 24)).astype(dtype) for _ in range(3)]
    partials = []
    for a, b, c, d in zip(x1, x2, bias, x3):
        local = np.einsum("bsk,kn->bsn", f32(a), f32(b)) + f32(c)
        partials.append((f32(local.astype(dtype)) + f32(d)).astype(dtype))
    expected = all_reduce(partials, dtype)
    got = golden.matmul_all_reduce(x1, x2, bias=bias, x3=x3)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(f32(got), f32(expected))
    transposed = golden.matmul_all_reduce(x1, x2, bias=bias, x3=x3, x2_transposed=True)
    np.testing.assert_array_equal(f32(transposed), f32(expected))  # the logical (k, n) operand either way


def test_matmul_all_reduce_with_k_0_is_the_all_reduce_of_bias_and_x3():
    bias = [np.array([1, -2, 3], np.float16), np.array([0.5, 0.25, 4], np.float16)]
    x3 = [np.full((4, 3), 2, np.float16)] * 2
    got = golden.matmul_all_reduce([np.zeros((4, 0), np.float16)] * 2, [np.zeros((0, 3), np.float16)] * 2,
                                   bias=bias, x3=x3)
    np.testing.assert_array_equal(got, np.tile(np.array([5.5, 2.25, 11], np.float16), (4, 1)))


def reference_weight(x, w, scale, offset, group, dtype):
    """One rank's W~ by scalar loops (float16 steps for FLOAT16 x1), then x @ W~ in float32."""
    k, n = w.shape
    wt = np.empty((k, n), dtype)
    for i in range(k):
        g = 0 if scale.ndim == 1 or scale.shape[0] == 1 else i // group
        for j in range(n):
            s = scale.reshape(-1)[0] if scale.size == 1 else scale.reshape(-1, n)[g, j]
            o = None if offset is None else (offset.reshape(-1)[0] if offset.size == 1 else offset.reshape(-1, n)[g, j])
            if dtype == np.float16:
                v = np.float16(w[i, j])
                if o is not None:
                    v = np.float16(v + np.float16(o))
                wt[i, j] = np.float16(v * np.float16(s))
            else:
                v = np.float32(w[i, j]) + (np.float32(0) if o is None else np.float32(o))
                wt[i, j] = BF16(np.float32(v) * np.float32(s))
    return f32(x) @ f32(wt)


@pytest.mark.parametrize("dtype", [np.float16, BF16])
@pytest.mark.parametrize("mode", ["tensor", "channel", "group"])
def test_weight_quant_matmul_all_reduce(dtype, mode):
    rng = np.random.default_rng(2)
    k, n, group = 80, 16, (32 if mode == "group" else 0)
    shape = {"tensor": (1,), "channel": (1, n), "group": (3, n)}[mode]  # per group: ceil(80 / 32) = 3 groups
    x1 = [rng.standard_normal((5, k)).astype(dtype) for _ in range(2)]
    w = [rng.integers(-128, 128, (k, n)).astype(np.int8), rng.integers(-8, 8, (k, n)).astype(ml_dtypes.int4)]
    scale = [rng.uniform(0.001, 0.01, shape).astype(dtype) for _ in range(2)]
    offset = [rng.uniform(-4, 4, shape).astype(dtype) for _ in range(2)]
    bias = [rng.standard_normal(n).astype(dtype) for _ in range(2)]
    partials = [(reference_weight(a, b, s, o, group, dtype) + f32(c)).astype(dtype)
                for a, b, s, o, c in zip(x1, w, scale, offset, bias)]
    got = golden.weight_quant_matmul_all_reduce(x1, w, scale, antiquant_offset=offset, bias=bias,
                                                antiquant_group_size=group)
    np.testing.assert_array_equal(f32(got), f32(all_reduce(partials, dtype)))


def test_weight_quant_hifloat8_weight_is_one_rounding():
    """FP8/HiF8 weights (Ascend 950, per channel, no offset): W~ = x1-dtype(f32(w) * f32(scale))."""
    from aclnn_py.semantics import codecs

    rng = np.random.default_rng(3)
    x1 = rng.standard_normal((4, 32)).astype(BF16)
    codes = codecs.hifloat8_encode(rng.standard_normal((32, 8)).astype(np.float32))
    scale = rng.uniform(0.5, 2, 8).astype(BF16)
    wt = (codecs.to_float32(codes, "hifloat8") * f32(scale)).astype(BF16)
    expected = (f32(x1) @ f32(wt)).astype(BF16)
    got = golden.weight_quant_matmul_all_reduce([x1], [codes], [scale], x2_dtype="hifloat8")
    np.testing.assert_array_equal(f32(got), f32(expected))


def test_a_call_the_operator_refuses_is_a_value_error_naming_the_rule():
    x1 = [np.zeros((4, 64), np.float16)]
    with pytest.raises(ValueError, match="antiquantGroupSize 16 is not supported"):
        golden.weight_quant_matmul_all_reduce(x1, [np.zeros((64, 8), np.int8)], [np.ones((4, 8), np.float16)],
                                              antiquant_group_size=16)
    with pytest.raises(ValueError, match="x2 dtype BF16 must equal x1 dtype FLOAT16"):
        golden.matmul_all_reduce(x1, [np.zeros((64, 8), BF16)])
