"""The aclnnQuantMatmulAllReduceV4 golden against an independent brute-force reference.

The reference below re-derives every formula of the doc element by element in
exact arithmetic (Python ints, ``fractions.Fraction``) and rounds at each rounding
point with its own round-to-nearest-even (:func:`rn`), so it shares no arithmetic
with the golden. Inputs are drawn so that every float32 dot product is exact
(values with few significant bits), which makes the whole result fully specified:
those checks demand bit equality. One test with unrestricted FP8 inputs uses
CANN's precision standard instead.
"""

from __future__ import annotations

import math
import operator
from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest

from aclnn_py.semantics import codecs
from aclnn_py.semantics.quant_matmul_all_reduce import golden as reference
from aclnn_py.semantics.precision import assert_close

F32, F16, BF16 = np.float32, np.float16, ml_dtypes.bfloat16
OUT = {"float16": F16, "bfloat16": BF16, "float32": F32}
FP8_HOST = {"float8_e4m3fn": ml_dtypes.float8_e4m3fn, "float8_e5m2": ml_dtypes.float8_e5m2,
            "float4_e2m1": ml_dtypes.float4_e2m1fn}
FP8_MAX = {"float8_e4m3fn": 448, "float8_e5m2": 57344}
# Few significant bits: every product is a multiple of 1/4 and, for k <= 300, every
# float32 partial sum of a dot product is exact whatever the summation order.
SMALL_VALUES = (0.0, 0.5, -0.5, 1.0, -1.0, 1.5, -1.5, 2.0, -2.0, 3.0, -3.0, 4.0, -4.0, 6.0, -6.0)
PERBLOCK_GS = (128 << 32) | (128 << 16) | 128
MX_GS = (1 << 32) | (1 << 16) | 32


# --------------------------------------------------------------------------- exact helpers

def rn(x, dtype) -> np.generic:
    """Round the exact value ``x`` to ``dtype`` (nearest, ties to the even encoding)."""
    x = Fraction(x)
    with np.errstate(over="ignore"):
        guess = np.array([float(x)]).astype(dtype)
    if np.isinf(guess[0]):  # beyond the largest finite value's rounding range
        return guess[0]
    uint = {1: np.uint8, 2: np.uint16, 4: np.uint32}[guess.itemsize]
    bits = guess.view(uint)[0]
    best = None
    for delta in (-1, 0, 1):
        cand = np.array([(int(bits) + delta) % (1 << (8 * guess.itemsize))], uint).view(dtype)
        if not np.isfinite(float(cand[0])):
            continue
        key = (abs(Fraction(float(cand[0])) - x), (int(bits) + delta) & 1)
        if best is None or key < best[0]:
            best = (key, cand[0])
    assert best is not None
    return best[1]


def fr(v) -> Fraction:
    return Fraction(float(v))


def rint_sat8(x: np.generic) -> int:
    """Round half to even, then saturate to int8 (infinities included)."""
    v = float(x)
    if math.isinf(v):
        return 127 if v > 0 else -128
    return max(-128, min(127, round(Fraction(v))))


def fp19(packed) -> Fraction:
    """Scale carried by a packed UINT64/INT64 value: low 32 bits with 13 mantissa bits cut."""
    low = int(packed) & 0xFFFFE000
    return fr(np.array([low], np.uint32).view(F32)[0])


def pack(scales: np.ndarray, dtype=np.uint64) -> np.ndarray:
    """Pack float32 scales with ALL their bits (no fp19 masking) and bit 46."""
    bits = np.asarray(scales, F32).view(np.uint32).astype(np.uint64) | np.uint64(1 << 46)
    return bits.view(dtype)


def hif8_value(code: int) -> float:
    """HiFloat8 decode written from the format table (prefix-coded dot field)."""
    if code == 0x80:
        return math.nan
    sign = -1.0 if code & 0x80 else 1.0
    p = code & 0x7F
    if p == 0x6F:
        return sign * math.inf
    for dot, prefix, plen in ((4, 0b11, 2), (3, 0b10, 2), (2, 0b01, 2), (1, 0b001, 3),
                              (0, 0b0001, 4)):
        if p >> (7 - plen) == prefix:
            break
    else:  # denormal 2**(m - 23)
        return sign * (math.ldexp(1.0, (p & 7) - 23) if p & 7 else 0.0)
    mbits = 7 - plen - dot
    field, mant = (p >> mbits) & ((1 << dot) - 1), p & ((1 << mbits) - 1)
    exp = 0
    if dot:
        exp = (1 << (dot - 1)) + (field & ((1 << (dot - 1)) - 1))
        exp = -exp if field >> (dot - 1) else exp
    return sign * math.ldexp(1.0 + mant / (1 << mbits), exp)


HIF8_CODE = {hif8_value(c): c for c in range(0x80) if c != 0x6F}
HIF8_CODE.update({-v: c | 0x80 for v, c in HIF8_CODE.items() if v})


def test_hif8_reference_decoder():
    assert [hif8_value(c) for c in (0x08, 0x0F, 0x10, 0x18, 0x20, 0x40, 0x61, 0x6E, 0x70,
                                    0x7E, 0x01)] == [1, 1.875, 2, 0.5, 4, 16, 384, 32768,
                                                     2.0**-8, 2.0**-15, 2.0**-22]
    finite = [c for c in range(256) if c not in (0x80, 0x6F, 0xEF)]
    assert np.array_equal(codecs.hifloat8_decode(np.array(finite, np.uint8)),
                          np.array([hif8_value(c) for c in finite], F32))


# --------------------------------------------------------------------------- inputs

def small_floats(rng, shape, name):
    """(host array, python float values) of ``shape`` drawn from SMALL_VALUES."""
    pool = [v for v in SMALL_VALUES if name != "float4_e2m1" or abs(v) <= 6]
    vals = np.array(pool)[rng.integers(0, len(pool), shape)]
    if name == "hifloat8":
        host = np.vectorize(lambda v: HIF8_CODE[v], otypes=[np.uint8])(vals)
    else:
        host = vals.astype(FP8_HOST[name])
    return host, vals


def rows_of(values: np.ndarray) -> list[list]:
    return values.reshape(-1, values.shape[-1]).tolist()


def as_x2(rng_vals: np.ndarray, transposed: bool):
    """Logical (k, n) view; when transposed the storage is (n, k)."""
    return np.ascontiguousarray(rng_vals.T).T if transposed else rng_vals


# --------------------------------------------------------------------------- reference

def ref_local(formula, x1v, x2v, *, s1=None, s2=None, bias=None, batch=None,
              transposed=False):
    """Exact pre-cast local result L (float32 values, as Fractions) per (row, col).

    x1v: rows x k values (ints or floats), x2v: k x n; s1/s2 nested lists or arrays
    of exact scale values (Fractions); ``batch`` = rows per batch for perblock.
    """
    k, n = len(x2v), len(x2v[0])
    cols = [[x2v[t][j] for t in range(k)] for j in range(n)]

    def dot(row, col, lo=0, hi=k):
        if isinstance(row[0], int):
            return sum(map(operator.mul, row[lo:hi], col[lo:hi]))
        return Fraction(math.fsum(map(operator.mul, row[lo:hi], col[lo:hi])))  # exact here

    out = {}
    for i, row in enumerate(x1v):
        for j, col in enumerate(cols):
            if formula in (2, 3):
                v = rn(dot(row, col) + (bias[j] if bias is not None else 0), F32)
                v = rn(fr(v) * s2[j], F32)
                if formula == 3:
                    v = rn(fr(v) * s1[i], F32)
            elif formula in (5, 6):
                v = rn(dot(row, col), F32)
                if bias is not None:
                    v = rn(fr(v) + fr(bias[j]), F32)
                v = rn(fr(v) * s2[j], F32)
                if formula == 6:
                    v = rn(fr(v) * s1[i], F32)
            elif formula == 4:
                terms = [row[t] * col[t] * s1[i][t // 32] * s2[j][t // 32] for t in range(k)]
                v = rn(Fraction(math.fsum(terms)), F32)
                if bias is not None:
                    v = rn(fr(v) + fr(bias[j]), F32)
            else:  # 7: blocks of 128 along k, in order
                v = None
                for blk in range((k + 127) // 128):
                    part = rn(dot(row, col, 128 * blk, 128 * blk + 128), F32)
                    srow = s1[i // batch][i % batch // 128][blk] if np.ndim(s1) == 3 \
                        else s1[i // 128][blk]
                    scol = s2[j // 128][blk] if transposed else s2[blk][j // 128]
                    term = rn(fr(part) * fr(rn(fr(srow) * fr(scol), F32)), F32)
                    v = term if v is None else rn(fr(v) + fr(term), F32)
            out[i, j] = fr(v)
    return out


def ref_rank(local, shape, out, x3=None, fp32_result=False):
    """Y_r: cast L then add x3 (round(f32(L) + f32(x3))); or float32 L + x3."""
    y = np.empty(shape, F32 if fp32_result else OUT[out])
    flat_x3 = None if x3 is None else np.asarray(x3).reshape(-1, shape[-1])
    flat = y.reshape(-1, shape[-1])
    for (i, j), v in local.items():
        if fp32_result:
            flat[i, j] = v if x3 is None else rn(v + fr(flat_x3[i, j]), F32)
        else:
            c = rn(v, OUT[out])
            flat[i, j] = c if x3 is None else rn(fr(c) + fr(flat_x3[i, j]), OUT[out])
    return y


def ref_allreduce(ys, out):
    acc = None
    for y in ys:
        acc = y.astype(F32) if acc is None else np.vectorize(
            lambda a, b: rn(fr(a) + fr(b), F32), otypes=[F32])(acc, y)
    # element by element (np.vectorize cannot make ml_dtypes outputs on NumPy 1.24)
    return np.array([rn(fr(v), OUT[out]) for v in acc.ravel()], OUT[out]).reshape(acc.shape)


def ref_int8_comm(ys, out, c1, c2):
    """Formula 1 steps 1-3 with exact division / multiplication and explicit casts."""
    res = np.empty(ys[0].shape, OUT[out])
    c1, c2 = np.broadcast_to(c1.reshape(-1), ys[0].shape[-1:]), \
        np.broadcast_to(c2.reshape(-1), ys[0].shape[-1:])
    for idx in np.ndindex(res.shape):
        a, b = fr(c1[idx[-1]]), fr(c2[idx[-1]])
        if out == "float16":  # division in fp16
            qs = [rint_sat8(rn(fr(y[idx]) / a, F16)) for y in ys]
        else:  # fp32 division, then fp16, then int8
            qs = [rint_sat8(rn(fr(rn(fr(y[idx]) / a, F32)), F16)) for y in ys]
        t = rn(sum(qs) * fr(rn(a / b, F32)), F32)
        z = rint_sat8(rn(fr(t), F16))
        res[idx] = rn(z * b, OUT[out])
    return res


def ref_tile_quant(row, fp8):
    """Per 1x128 tile: (dequantized float32 values as Fractions) of quant(row)."""
    res = []
    for lo in range(0, len(row), 128):
        tile = row[lo:lo + 128]
        s = fr(rn(max(abs(v) for v in tile) / FP8_MAX[fp8], F32))
        s = s or Fraction(1)
        res += [fr(rn(fr(rn(v / s, FP8_HOST[fp8])) * s, F32)) for v in tile]
    return res


def ref_pertile(ys, out, fp8):
    res = np.empty(ys[0].shape, OUT[out])
    flat = res.reshape(-1, res.shape[-1])
    for i in range(flat.shape[0]):
        total = None
        for y in ys:
            deq = ref_tile_quant([fr(v) for v in y.reshape(flat.shape)[i]], fp8)
            total = deq if total is None else [fr(rn(a + b, F32)) for a, b in zip(total, deq)]
        flat[i] = [rn(v, OUT[out]) for v in ref_tile_quant(total, fp8)]
    return res


def assert_bit_equal(golden, ref):
    assert golden.dtype == ref.dtype and golden.shape == ref.shape
    assert np.array_equal(golden.astype(np.float64), ref.astype(np.float64)), \
        np.argwhere(golden.astype(np.float64) != ref.astype(np.float64))[:5]


# --------------------------------------------------------------------------- dispatch

DISPATCH = [
    (("int8", None, "uint64", 0, 1, True, 0), 1),
    (("int8", "float32", "float32", 1, 1, True, 0), 1),
    (("int8", None, "bfloat16", 0, 2, True, 0), 1),
    (("int8", None, "uint64", 0, 1, False, 0), 2),
    (("int8", None, "int64", 0, 2, False, 0), 2),
    (("int8", None, "bfloat16", 0, 1, False, 0), 2),
    (("int8", "float32", "float32", 1, 1, False, 0), 3),
    (("int8", "float32", "bfloat16", 1, 2, False, 0), 3),
    (("float4_e2m1", "float8_e8m0", "float8_e8m0", 3, 3, False, 0), 4),
    (("float8_e4m3fn", "float8_e8m0", "float8_e8m0", 3, 3, False, 0), 4),
    (("float8_e5m2", "float8_e8m0", "float8_e8m0", 3, 3, False, 0), 4),
    (("float8_e4m3fn", None, "uint64", 0, 1, False, 0), 5),
    (("hifloat8", None, "int64", 0, 1, False, 0), 5),
    (("float8_e5m2", "float32", "float32", 1, 1, False, 0), 6),
    (("hifloat8", "float32", "float32", 1, 2, False, 0), 6),
    (("float8_e4m3fn", "float32", "float32", 2, 2, False, 0), 7),
    (("hifloat8", "float32", "float32", 3, 2, False, 0), 7),
    (("float8_e4m3fn", "float32", "float32", 1, 1, False, 1), 8),
    (("float8_e5m2", "float32", "float32", 2, 2, False, 1), 8),
]

INVALID = [
    ("int8", "float8_e8m0", "float8_e8m0", 3, 3, False, 0),
    ("int8", None, "float32", 0, 1, False, 0),
    ("int8", None, "uint64", 0, 1, False, 1),
    ("int8", "float32", "uint64", 1, 1, False, 0),
    ("hifloat8", "float8_e8m0", "float8_e8m0", 3, 3, False, 0),
    ("hifloat8", "float32", "float32", 1, 1, False, 1),
    ("float8_e4m3fn", None, "uint64", 0, 1, True, 0),
    ("float8_e4m3fn", None, "uint64", 0, 1, False, 1),
    ("float8_e4m3fn", "float32", "float32", 2, 1, False, 0),
    ("float4_e2m1", None, "uint64", 0, 1, False, 0),
    ("int16", None, "uint64", 0, 1, False, 0),
    ("float8_e4m3fn", "float32", "float32", 1, 1, False, 2),
]


def dispatch_case(x, s1, s2, s1_ndim, s2_ndim, has_comm, comm_quant_mode):
    """Host arrays of a call with these dtypes and scale ranks (m=4, k=128, n=8; 3-D x1 for a
    3-D FLOAT32 x1Scale), as the arguments of :func:`reference.classify_host`."""
    m, k, n = 4, 128, 8
    perblock = s1 == "float32" and s1_ndim >= 2
    x1_shape = (2, m, k) if perblock and s1_ndim == 3 else (m, k)
    host = {"int16": np.int16, "hifloat8": np.uint8, "float8_e8m0": ml_dtypes.float8_e8m0fnu,
            "uint64": np.uint64, "int64": np.int64, "int8": np.int8, "float32": F32, "bfloat16": BF16,
            **FP8_HOST}
    out = "bfloat16" if "bfloat16" in (s1, s2) else "float16"

    def scale(name, ndim, rows):
        if name == "float8_e8m0":
            return np.ones((rows, 2, 2), host[name])  # MX: [rows, ceil(k/64), 2]
        if perblock and ndim >= 2:  # [.., ceil(rows/128), ceil(k/128)], [ceil(k/128), ceil(n/128)]
            return np.ones(x1_shape[:-2] + (1, 1) if rows == m else (1, 1), host[name])
        return np.ones({1: (rows,), 2: (1, rows)}[ndim], host[name])

    kw = dict(out_dtype=out, x_dtype=x, comm_quant_mode=comm_quant_mode,
              x1_scale=None if s1 is None else scale(s1, s1_ndim, m),
              x2_transposed=s2 == "float8_e8m0", group_size=PERBLOCK_GS if perblock else 0)
    if has_comm:
        kw["comm_quant_scale_1"] = kw["comm_quant_scale_2"] = np.ones(n, OUT[out])
    return (np.zeros(x1_shape, host[x]), np.zeros((k, n), host[x]), scale(s2, s2_ndim, n)), kw


@pytest.mark.parametrize("args,formula", DISPATCH)
def test_classification(args, formula):
    host_args, kw = dispatch_case(*args)
    assert reference.classify_host(*host_args, **kw).formula == formula


@pytest.mark.parametrize("args", INVALID)
def test_classification_rejects(args):
    host_args, kw = dispatch_case(*args)
    with pytest.raises(ValueError) as info:
        reference.classify_host(*host_args, **kw)
    assert info.value.__cause__.code in (161002, 561002)  # the operator's own rule


# --------------------------------------------------------------------------- int8: 2, 3, 1

def int8_inputs(rng, ranks, x1_shape, k, n):
    x1 = [rng.integers(-128, 128, x1_shape + (k,), dtype=np.int8) for _ in range(ranks)]
    x2 = [rng.integers(-128, 128, (k, n), dtype=np.int8) for _ in range(ranks)]
    return x1, x2


def out_values(rng, shape, out, scale=50.0):
    return (rng.standard_normal(shape) * scale).astype(OUT[out])


@pytest.mark.parametrize("ranks,x1_shape,k,n,s2_kind,s2_shape,out,with_bias,with_x3", [
    (1, (3,), 64, 5, "uint64", "n", "float16", False, False),
    (2, (4,), 200, 7, "int64", "1", "float16", True, False),
    (4, (5,), 130, 6, "uint64", "1n", "float16", True, True),
    (2, (2, 3), 96, 9, "int64", "n", "float16", False, True),
    (2, (4,), 100, 8, "bfloat16", "n", "bfloat16", True, True),
    (4, (3,), 70, 5, "bfloat16", "1", "bfloat16", False, True),
])
def test_formula2(ranks, x1_shape, k, n, s2_kind, s2_shape, out, with_bias, with_x3):
    rng = np.random.default_rng(2)
    x1, x2 = int8_inputs(rng, ranks, x1_shape, k, n)
    shape = {"n": (n,), "1": (1,), "1n": (1, n)}[s2_shape]
    raw = [rng.uniform(2e-5, 1e-4, shape).astype(F32) for _ in range(ranks)]
    s2 = [r.astype(BF16) if s2_kind == "bfloat16" else pack(r, np.dtype(s2_kind)) for r in raw]
    bias = [rng.integers(-5000, 5000, n, dtype=np.int32) for _ in range(ranks)] \
        if with_bias else None
    x3 = [out_values(rng, x1_shape + (n,), out) for _ in range(ranks)] if with_x3 else None
    golden = reference.quant_matmul_all_reduce(x1, x2, s2, bias=bias, x3=x3, out_dtype=out)
    ys = []
    for r in range(ranks):
        exact = [fr(v) if s2_kind == "bfloat16" else fp19(v) for v in s2[r].reshape(-1)]
        scales = exact * n if len(exact) == 1 else exact
        local = ref_local(2, rows_of(x1[r]), x2[r].tolist(), s2=scales,
                          bias=None if bias is None else bias[r].tolist())
        ys.append(ref_rank(local, x1_shape + (n,), out, None if x3 is None else x3[r]))
    assert_bit_equal(golden, ref_allreduce(ys, out))


def test_fp19_truncation_is_applied():
    # 1 + 2**-11 + 2**-20 loses both low bits in fp19; untruncated, fp16 would round up.
    scale = np.array([1 + 2.0**-11 + 2.0**-20], F32)
    x1 = np.ones((1, 64), np.int8)
    x2 = np.zeros((64, 3), np.int8)
    x2[0] = 1  # acc = 1 everywhere
    y = reference.rank_partial(x1, x2, pack(scale), out_dtype="float16")
    assert y.tolist() == [[1.0, 1.0, 1.0]]
    assert float(np.float16(scale[0])) == 1 + 2.0**-10  # what skipping the truncation gives
    assert reference.rank_partial(x1, x2, pack(scale, np.int64), out_dtype="float16").tolist() \
        == [[1.0, 1.0, 1.0]]


@pytest.mark.parametrize("ranks,x1_shape,k,n,out,s2_shape,with_bias,with_x3", [
    (1, (4,), 150, 6, "float16", "n", True, False),
    (2, (2, 2), 64, 5, "float16", "1", False, True),
    (4, (3,), 100, 7, "bfloat16", "1n", True, True),
])
def test_formula3(ranks, x1_shape, k, n, out, s2_shape, with_bias, with_x3):
    rng = np.random.default_rng(3)
    x1, x2 = int8_inputs(rng, ranks, x1_shape, k, n)
    m = math.prod(x1_shape)
    shape = {"n": (n,), "1": (1,), "1n": (1, n)}[s2_shape]
    s2 = [rng.uniform(1e-3, 1e-2, shape).astype(F32 if out == "float16" else BF16)
          for _ in range(ranks)]
    s1 = [rng.uniform(1e-3, 2e-2, m).astype(F32) for _ in range(ranks)]
    bias = [rng.integers(-5000, 5000, n, dtype=np.int32) for _ in range(ranks)] \
        if with_bias else None
    x3 = [out_values(rng, x1_shape + (n,), out) for _ in range(ranks)] if with_x3 else None
    golden = reference.quant_matmul_all_reduce(x1, x2, s2, x1_scale=s1, bias=bias, x3=x3,
                                           out_dtype=out)
    ys = []
    for r in range(ranks):
        scales = [fr(v) for v in np.broadcast_to(s2[r].reshape(-1), (n,))]
        local = ref_local(3, rows_of(x1[r]), x2[r].tolist(), s1=[fr(v) for v in s1[r]],
                          s2=scales, bias=None if bias is None else bias[r].tolist())
        ys.append(ref_rank(local, x1_shape + (n,), out, None if x3 is None else x3[r]))
    assert_bit_equal(golden, ref_allreduce(ys, out))


@pytest.mark.parametrize("ranks,out,pertoken,with_x3,c_shape", [
    (1, "float16", False, False, (7,)),
    (2, "float16", True, True, (1, 7)),
    (4, "bfloat16", False, True, (7,)),
    (4, "bfloat16", True, False, (1, 7)),
])
def test_formula1_int8_comm(ranks, out, pertoken, with_x3, c_shape):
    rng = np.random.default_rng(1)
    m, k, n = 4, 96, 7
    x1, x2 = int8_inputs(rng, ranks, (m,), k, n)
    sdt = BF16 if out == "bfloat16" else (F32 if pertoken else None)
    raw = [rng.uniform(1e-4, 4e-4, n).astype(F32) for _ in range(ranks)]
    s2 = [r.astype(sdt) if sdt is not None else pack(r) for r in raw]
    s1 = [rng.uniform(0.5, 1.5, m).astype(F32) for _ in range(ranks)] if pertoken else None
    x3 = [out_values(rng, (m, n), out, 5.0) for _ in range(ranks)] if with_x3 else None
    # Column 0 saturates already in step 1, column 1 only in the requant step 2.
    c1 = np.full(n, 0.5, F32)
    c1[0] = 1e-4
    c2 = c1 * 4
    c2[1] = 1e-4
    c1, c2 = c1.reshape(c_shape).astype(OUT[out]), c2.reshape(c_shape).astype(OUT[out])
    golden = reference.quant_matmul_all_reduce(x1, x2, s2, x1_scale=s1, x3=x3, out_dtype=out,
                                           comm_quant_scale_1=c1, comm_quant_scale_2=c2)
    ys = []
    for r in range(ranks):
        scales = [fr(v) if sdt is not None else fp19(v) for v in s2[r]]
        local = ref_local(3 if pertoken else 2, x1[r].tolist(), x2[r].tolist(), s2=scales,
                          s1=None if s1 is None else [fr(v) for v in s1[r]])
        ys.append(ref_rank(local, (m, n), out, None if x3 is None else x3[r]))
    ref = ref_int8_comm(ys, out, c1, c2)
    assert_bit_equal(golden, ref)
    c1f, c2f = c1.reshape(-1).astype(np.float64), c2.reshape(-1).astype(np.float64)
    assert np.abs(ys[0][:, 0].astype(np.float64) / c1f[0]).max() > 127  # step-1 clamp hit
    clamped = (np.array([0, 127, 128]) * c2f[1]).astype(OUT[out]).astype(np.float64)
    assert np.all(np.isin(np.abs(golden[:, 1].astype(np.float64)), clamped))  # step 2


def test_combine_requires_both_comm_scales():
    with pytest.raises(ValueError, match="commQuantScale1 and commQuantScale2"):
        reference.combine(np.zeros((2, 3, 4), F16), out_dtype="float16",
                      comm_quant_scale_1=np.ones(4, F16))


# --------------------------------------------------------------------------- FP8/HIF8: 5, 6

@pytest.mark.parametrize("x_name,ranks,s2_kind,out,with_bias,with_x3", [
    ("float8_e4m3fn", 1, "uint64", "float16", True, False),
    ("float8_e5m2", 2, "int64", "bfloat16", False, True),
    ("hifloat8", 4, "uint64", "float32", True, True),
])
def test_formula5(x_name, ranks, s2_kind, out, with_bias, with_x3):
    rng = np.random.default_rng(5)
    m, k, n = 3, 120, 9
    pairs = [(small_floats(rng, (m, k), x_name), small_floats(rng, (k, n), x_name))
             for _ in range(ranks)]
    s2 = [pack(rng.uniform(0.01, 0.1, n).astype(F32), np.dtype(s2_kind)) for _ in range(ranks)]
    bias = [rng.standard_normal(n).astype(F32) for _ in range(ranks)] if with_bias else None
    x3 = [out_values(rng, (m, n), out, 2.0) for _ in range(ranks)] if with_x3 else None
    golden = reference.quant_matmul_all_reduce(
        [a[0] for a, _ in pairs], [b[0] for _, b in pairs], s2, bias=bias, x3=x3,
        out_dtype=out, x_dtype=x_name)
    ys = [ref_rank(ref_local(5, a[1].tolist(), b[1].tolist(), s2=[fp19(v) for v in s2[r]],
                             bias=None if bias is None else bias[r]),
                   (m, n), out, None if x3 is None else x3[r])
          for r, (a, b) in enumerate(pairs)]
    assert_bit_equal(golden, ref_allreduce(ys, out))


@pytest.mark.parametrize("x_name,ranks,x1_shape,s2_size,out,with_bias,with_x3", [
    ("float8_e4m3fn", 2, (4,), "n", "bfloat16", True, True),
    ("float8_e5m2", 1, (2, 2), "1", "float32", False, False),
    ("hifloat8", 4, (3,), "n", "float16", True, False),
])
def test_formula6(x_name, ranks, x1_shape, s2_size, out, with_bias, with_x3):
    rng = np.random.default_rng(6)
    k, n = 300, 6
    m = math.prod(x1_shape)
    pairs = [(small_floats(rng, x1_shape + (k,), x_name), small_floats(rng, (k, n), x_name))
             for _ in range(ranks)]
    s2 = [rng.uniform(0.01, 0.1, n if s2_size == "n" else 1).astype(F32) for _ in range(ranks)]
    s1 = [rng.uniform(0.5, 2, m).astype(F32) for _ in range(ranks)]
    bias = [rng.standard_normal(n).astype(F32) for _ in range(ranks)] if with_bias else None
    x3 = [out_values(rng, x1_shape + (n,), out, 2.0) for _ in range(ranks)] if with_x3 else None
    golden = reference.quant_matmul_all_reduce(
        [a[0] for a, _ in pairs], [b[0] for _, b in pairs], s2, x1_scale=s1, bias=bias,
        x3=x3, out_dtype=out, x_dtype=x_name)
    ys = [ref_rank(ref_local(6, rows_of(a[1]), b[1].tolist(), s1=[fr(v) for v in s1[r]],
                             s2=[fr(v) for v in np.broadcast_to(s2[r], (n,))],
                             bias=None if bias is None else bias[r]),
                   x1_shape + (n,), out, None if x3 is None else x3[r])
          for r, (a, b) in enumerate(pairs)]
    assert_bit_equal(golden, ref_allreduce(ys, out))


@pytest.mark.parametrize("x_name,out", [("float8_e4m3fn", "bfloat16"), ("hifloat8", "float16")])
def test_free_summation_order_within_precision_standard(x_name, out):
    """Unrestricted inputs: the fp32 accumulation order is free, compare with MERE/MARE."""
    rng = np.random.default_rng(7)
    m, k, n, ranks = 4, 256, 8, 2
    golden_in, ref_ys = [], []
    for _ in range(ranks):
        vals = rng.standard_normal((m + n, k)) * 8
        host = (codecs.hifloat8_encode(vals) if x_name == "hifloat8"
                else vals.astype(FP8_HOST[x_name]))
        exact = codecs.to_float32(host, x_name).astype(np.float64)
        s1, s2 = rng.uniform(0.5, 2, m).astype(F32), rng.uniform(0.01, 0.1, n).astype(F32)
        golden_in.append((host[:m], host[m:].T, s1, s2))
        ref = (exact[:m] @ exact[m:].T) * s2.astype(np.float64) * s1[:, None].astype(np.float64)
        ref_ys.append(ref)
    golden = reference.quant_matmul_all_reduce(
        [g[0] for g in golden_in], [g[1] for g in golden_in], [g[3] for g in golden_in],
        x1_scale=[g[2] for g in golden_in], out_dtype=out, x_dtype=x_name)
    assert_close(golden, sum(ref_ys), out)


# --------------------------------------------------------------------------- MX: formula 4

def e8m0(rng, shape):
    return codecs.e8m0_from_exponent(rng.integers(-2, 2, shape))


@pytest.mark.parametrize("x_name,ranks,x1_shape,k,n,group_size,out,with_bias,with_x3", [
    ("float4_e2m1", 1, (3,), 128, 6, 0, "bfloat16", True, False),
    ("float8_e4m3fn", 2, (2, 2), 96, 5, MX_GS, "float32", False, True),
    ("float8_e5m2", 4, (3,), 160, 4, MX_GS, "float16", True, True),
    ("float4_e2m1", 2, (4,), 64, 7, 0, "float16", False, False),
])
def test_formula4_mx(x_name, ranks, x1_shape, k, n, group_size, out, with_bias, with_x3):
    rng = np.random.default_rng(4)
    m = math.prod(x1_shape)
    pairs = [(small_floats(rng, x1_shape + (k,), x_name), small_floats(rng, (n, k), x_name))
             for _ in range(ranks)]
    pairs_k = (k + 63) // 64
    s1 = [e8m0(rng, (m, pairs_k, 2)) for _ in range(ranks)]
    s2 = [e8m0(rng, (n, pairs_k, 2)) for _ in range(ranks)]
    bias = [rng.standard_normal(n).astype(F32) for _ in range(ranks)] if with_bias else None
    x3 = [out_values(rng, x1_shape + (n,), out, 2.0) for _ in range(ranks)] if with_x3 else None
    golden = reference.quant_matmul_all_reduce(
        [a[0] for a, _ in pairs], [b[0].T for _, b in pairs], s2, x1_scale=s1, bias=bias,
        x3=x3, out_dtype=out, group_size=group_size, x2_transposed=True)
    ys = []
    for r, (a, b) in enumerate(pairs):
        sc1 = [[2.0 ** (int(c) - 127) for c in row] for row in s1[r].view(np.uint8).reshape(m, -1)]
        sc2 = [[2.0 ** (int(c) - 127) for c in row] for row in s2[r].view(np.uint8).reshape(n, -1)]
        local = ref_local(4, rows_of(a[1]), b[1].T.tolist(), s1=sc1, s2=sc2,
                          bias=None if bias is None else bias[r])
        ys.append(ref_rank(local, x1_shape + (n,), out, None if x3 is None else x3[r]))
    assert_bit_equal(golden, ref_allreduce(ys, out))


def mx_args(k, transposed=True):
    x1 = np.ones((2, k), ml_dtypes.float8_e4m3fn)
    x2 = np.ones((k, 3), ml_dtypes.float8_e4m3fn)
    p = (k + 63) // 64
    return (x1, x2, codecs.e8m0_from_exponent(np.zeros((3, p, 2), np.int64))), dict(
        x1_scale=codecs.e8m0_from_exponent(np.zeros((2, p, 2), np.int64)),
        out_dtype="float32", x2_transposed=transposed)


@pytest.mark.parametrize("k,group_size,transposed,message", [
    (96, 0, True, "groupSize"),          # inferred gK = 96 / 4 = 24
    (128, (1 << 32) | (1 << 16) | 64, True, "groupSize"),
    (128, 0, False, "transposed"),
])
def test_mx_rejects(k, group_size, transposed, message):
    args, kw = mx_args(k, transposed)
    with pytest.raises(ValueError, match=message):
        reference.rank_partial(*args, group_size=group_size, **kw)


# --------------------------------------------------------------------------- perblock: formula 7

def perblock_case(rng, x_name, x1_shape, k, n, transposed):
    """(host x1, host logical x2, s1, s2, x1 values, x2 values) of one rank."""
    (h1, v1), (h2, v2) = small_floats(rng, x1_shape + (k,), x_name), \
        small_floats(rng, (n, k) if transposed else (k, n), x_name)
    kb, nb = (k + 127) // 128, (n + 127) // 128
    s1 = rng.uniform(0.5, 2, x1_shape[:-1] + ((x1_shape[-1] + 127) // 128, kb)).astype(F32)
    s2 = rng.uniform(0.01, 0.1, (nb, kb) if transposed else (kb, nb)).astype(F32)
    if transposed:
        h2, v2 = h2.T, v2.T
    return h1, h2, s1, s2, v1, v2


@pytest.mark.parametrize("x_name,ranks,x1_shape,k,n,transposed,out,with_x3", [
    ("float8_e4m3fn", 2, (130,), 260, 3, False, "bfloat16", True),
    ("hifloat8", 1, (3,), 260, 129, True, "float16", False),
    ("float8_e5m2", 4, (2, 3), 300, 5, True, "float32", True),
    ("float8_e4m3fn", 2, (2, 130), 140, 2, False, "float16", False),
])
def test_formula7_perblock(x_name, ranks, x1_shape, k, n, transposed, out, with_x3):
    rng = np.random.default_rng(8)
    cases = [perblock_case(rng, x_name, x1_shape, k, n, transposed) for _ in range(ranks)]
    x3 = [out_values(rng, x1_shape + (n,), out, 2.0) for _ in range(ranks)] if with_x3 else None
    golden = reference.quant_matmul_all_reduce(
        [c[0] for c in cases], [c[1] for c in cases], [c[3] for c in cases],
        x1_scale=[c[2] for c in cases], x3=x3, out_dtype=out, x_dtype=x_name,
        group_size=PERBLOCK_GS, x2_transposed=transposed)
    ys = [ref_rank(ref_local(7, rows_of(c[4]), c[5].tolist(), s1=c[2].tolist(),
                             s2=c[3].tolist(), batch=x1_shape[-1], transposed=transposed),
                   x1_shape + (n,), out, None if x3 is None else x3[r])
          for r, c in enumerate(cases)]
    assert_bit_equal(golden, ref_allreduce(ys, out))


@pytest.mark.parametrize("transposed", [False, True])
def test_perblock_group_size_inferred_equals_explicit(transposed):
    rng = np.random.default_rng(9)
    h1, h2, s1, s2, _, _ = perblock_case(rng, "float8_e4m3fn", (256,), 384, 128, transposed)
    kw = dict(x1_scale=s1, out_dtype="float32", x2_transposed=transposed)
    explicit = reference.rank_partial(h1, h2, s2, group_size=PERBLOCK_GS, **kw)
    assert_bit_equal(reference.rank_partial(h1, h2, s2, group_size=0, **kw), explicit)
    assert_bit_equal(reference.rank_partial(h1, h2, s2, group_size=128 << 16, **kw), explicit)


@pytest.mark.parametrize("x1_rows,s1_rows,group_size,message", [
    (5, 1, 0, "groupSize resolves"),         # 5 / 1 = 5, not 128
    (5, 2, 0, "groupSizeM cannot be inferred"),  # 5 not divisible by 2
    (256, 2, (64 << 32) | (128 << 16) | 128, "groupSize resolves"),
])
def test_perblock_rejects_group_size(x1_rows, s1_rows, group_size, message):
    x1 = np.ones((x1_rows, 128), ml_dtypes.float8_e4m3fn)
    x2 = np.ones((128, 128), ml_dtypes.float8_e4m3fn)
    with pytest.raises(ValueError, match=message):
        reference.rank_partial(x1, x2, np.ones((1, 1), F32), x1_scale=np.ones((s1_rows, 1), F32),
                           out_dtype="float16", group_size=group_size)


def test_perblock_rejects_bias():
    x1 = np.ones((128, 128), ml_dtypes.float8_e4m3fn)
    with pytest.raises(ValueError, match="bias"):
        reference.rank_partial(x1, x1, np.ones((1, 1), F32), x1_scale=np.ones((1, 1), F32),
                           bias=np.zeros(128, F32), out_dtype="float16")


# --------------------------------------------------------------------------- pertile: formula 8

@pytest.mark.parametrize("x_name,ranks,base,out,with_x3", [
    ("float8_e4m3fn", 1, 6, "bfloat16", False),
    ("float8_e4m3fn", 2, 7, "float16", True),
    ("float8_e5m2", 4, 6, "float32", True),
])
def test_formula8_pertile(x_name, ranks, base, out, with_x3):
    rng = np.random.default_rng(10)
    m, k, n = 3, 64, 200  # tiles of 128 and a partial one of 72
    ys, inputs = [], []
    for _ in range(ranks):
        (h1, v1), (h2, v2) = small_floats(rng, (m, k), x_name), small_floats(rng, (k, n), x_name)
        h1[0], v1[0] = 0, 0  # row 0 is zero: every tile of it has s = 1
        x3 = out_values(rng, (m, n), out, 2.0) if with_x3 else None
        if x3 is not None:
            x3[0] = 0
        if base == 6:
            s1, s2 = rng.uniform(0.5, 2, m).astype(F32), rng.uniform(0.01, 0.1, n).astype(F32)
            local = ref_local(6, v1.tolist(), v2.tolist(), s1=[fr(v) for v in s1],
                              s2=[fr(v) for v in s2])
        else:
            s1 = rng.uniform(0.5, 2, (1, 1)).astype(F32)
            s2 = rng.uniform(0.01, 0.1, (1, 2)).astype(F32)
            local = ref_local(7, v1.tolist(), v2.tolist(), s1=s1.tolist(), s2=s2.tolist())
        ys.append(ref_rank(local, (m, n), out, x3, fp32_result=True))
        inputs.append((h1, h2, s1, s2, x3))
    x1s, x2s, s1s, s2s, x3s = zip(*inputs)
    golden = reference.quant_matmul_all_reduce(
        x1s, x2s, s2s, x1_scale=s1s, x3=x3s if with_x3 else None, out_dtype=out,
        comm_quant_mode=1, group_size=PERBLOCK_GS if base == 7 else 0)
    assert_bit_equal(golden, ref_pertile(ys, out, x_name))
    assert not golden[0].astype(np.float64).any()
    partial = reference.rank_partial(x1s[0], x2s[0], s2s[0], x1_scale=s1s[0], out_dtype=out,
                                 comm_quant_mode=1,
                                 group_size=PERBLOCK_GS if base == 7 else 0)
    assert partial.dtype == F32


def test_pertile_combine_needs_fp8_dtype():
    with pytest.raises(ValueError, match="commQuantMode 1"):
        reference.combine(np.zeros((2, 3, 4), F32), out_dtype="float16", comm_quant_mode=1,
                      x_dtype="hifloat8")
