"""aclnnQuantMatmulAllReduceV4 through the binding: every formula x 1/2/4 ranks vs the golden,
3-D x1, transposed and NZ x2, bias/x3, plans, and every validation rule (code and message, through
the Python checks, and through the raw C call: its code everywhere, its text on the mock's
libraries: binding_helpers). The groups are HCCL communicators (HcclCommInitAll,
ranks on threads), made once per SoC profile and reused; a profile the runtime does not have is
skipped with the reason."""
from __future__ import annotations

import pickle

import ml_dtypes
import numpy as np
import pytest

from binding_helpers import (Groups, expect_status, mock_library, mutation, quant_matmul_all_reduce_arguments,
                             run_ranks)

import aclnn_py
from aclnn_py import Tensor
from aclnn_py.semantics import codecs, dtypes
from aclnn_py._ffi import ffi
from aclnn_py.errors import AclnnParamError, StatusError
from aclnn_py.check import recent_message
from aclnn_py.semantics.quant_matmul_all_reduce import golden
from aclnn_py.semantics.precision import assert_close
from aclnn_py.semantics.quant_params import encode_group_size, trans_quant_param
from aclnn_py.ops import QuantMatmulAllReduceV4Plan, quant_matmul_all_reduce, quant_matmul_all_reduce_v4
from aclnn_py.ops import nz_weight_tensor, trans_matmul_weight

A2, P950, A3 = "Ascend910B4", "Ascend950PR", "Ascend910_93"
PERBLOCK = encode_group_size(128, 128, 128)
MX = encode_group_size(1, 1, 32)


@pytest.fixture(scope="module")
def groups(soc):
    """``groups(size)``: the ranks of a communicator of that size, reused by the SoC's tests
    (a size beyond the host's devices skips the test)."""
    made = Groups()
    yield made
    made.close()


# --------------------------------------------------------------------------- inputs
def _x(rng, shape, name):
    if name == "int8":
        return rng.integers(-128, 128, shape).astype(np.int8)
    v = rng.standard_normal(shape).astype(np.float32)
    if name == "hifloat8":
        return codecs.hifloat8_encode(v)
    if name == "float4_e2m1":
        return rng.uniform(-6, 6, shape).astype(ml_dtypes.float4_e2m1fn)
    return v.astype(dtypes.host_dtype(name))


def _e8m0(rng, shape):
    return codecs.e8m0_from_exponent(rng.integers(-3, 3, shape))


def make_rank(rng, formula, x, out, *, m=16, k=64, n=32, batch=None, bias=False, x3=False,
              transposed=False):
    """One rank's inputs (arrays) and the call's keyword arguments."""
    cd = lambda a, b: -(-a // b)  # noqa: E731
    rows = m * (batch or 1)
    x1 = _x(rng, ((batch, m) if batch else (m,)) + (k,), x)
    x2 = _x(rng, (k, n), x)
    d = {"x1": x1, "x2": x2}
    kw: dict = {"out_dtype": out}
    host_out = dtypes.host_dtype(out)
    if formula in (1, 2):
        d["x2_scale"] = (rng.uniform(0.5, 1.5, n).astype(ml_dtypes.bfloat16) / 1000 if out == "bfloat16"
                         else trans_quant_param(rng.uniform(1e-3, 2e-3, n).astype(np.float32)))
    elif formula == 3:
        d["x1_scale"] = rng.uniform(0.5, 1.5, rows).astype(np.float32)
        d["x2_scale"] = rng.uniform(1e-3, 2e-3, n).astype(np.float32 if out == "float16" else ml_dtypes.bfloat16)
    elif formula == 5:
        d["x2_scale"] = trans_quant_param(rng.uniform(0.5, 2, n).astype(np.float32))
    elif formula in (6, 8):
        d["x1_scale"] = rng.uniform(0.5, 1.5, rows).astype(np.float32)
        d["x2_scale"] = rng.uniform(0.5, 1.5, n).astype(np.float32)
        kw["comm_quant_mode"] = int(formula == 8)
    elif formula == 7:
        lead = (batch,) if batch else ()
        d["x1_scale"] = rng.uniform(0.5, 1.5, lead + (cd(m, 128), cd(k, 128))).astype(np.float32)
        d["x2_scale"] = rng.uniform(0.5, 1.5, (cd(k, 128), cd(n, 128))).astype(np.float32)
        kw["group_size"] = PERBLOCK
    elif formula == 4:
        d["x1_scale"] = _e8m0(rng, (rows, cd(k, 64), 2))
        d["x2_scale"] = _e8m0(rng, (n, cd(k, 64), 2))
        kw["group_size"] = MX
        transposed = True
    if formula == 1:
        c1 = np.full(n, 8, np.float32).astype(host_out)
        c2 = np.full(n, 16, np.float32).astype(host_out)
        kw["comm_quant_scale_1"], kw["comm_quant_scale_2"] = c1, c2
    if bias:
        d["bias"] = (rng.integers(-1000, 1000, n).astype(np.int32) if x == "int8"
                     else rng.standard_normal(n).astype(np.float32))
    if x3:
        d["x3"] = rng.standard_normal(x1.shape[:-1] + (n,)).astype(np.float32).astype(host_out)
    return d, kw, transposed


def run_case(groups, formula, x, out, ranks, *, seed=0, nz=False, **shape):
    rng = np.random.default_rng(seed)
    per_rank = [make_rank(rng, formula, x, out, **shape) for _ in range(ranks)]
    kw, transposed = per_rank[0][1], per_rank[0][2]
    comms = groups(ranks)
    xd = "hifloat8" if x == "hifloat8" else None

    def fn(rank, stream):
        d = per_rank[rank][0]
        args = dict(d)
        if transposed:  # x2 stored as (n, k), passed as its transposed view
            stored = Tensor.from_numpy(np.ascontiguousarray(d["x2"].T), xd, stream)
            args["x2"] = stored.T
        elif nz:
            args["x2"] = trans_matmul_weight(nz_weight_tensor(d["x2"], stream=stream), stream)
            assert args["x2"].is_nz
        res = quant_matmul_all_reduce_v4(args.pop("x1"), args.pop("x2"), args.pop("x2_scale"),
                                         group=comms[rank], stream=stream, x_dtype=xd, **args, **kw)
        return res.to_numpy

    results = run_ranks(ranks, fn)
    lists = {key: [p[0].get(key) for p in per_rank] for key in ("x1", "x2", "x2_scale", "x1_scale", "bias", "x3")}
    lists = {key: (None if v[0] is None else v) for key, v in lists.items()}
    gold = golden.quant_matmul_all_reduce(
        lists["x1"], lists["x2"], lists["x2_scale"], x1_scale=lists["x1_scale"], bias=lists["bias"],
        x3=lists["x3"], comm_quant_scale_1=kw.get("comm_quant_scale_1"),
        comm_quant_scale_2=kw.get("comm_quant_scale_2"), out_dtype=out, x_dtype=x,
        group_size=kw.get("group_size", 0), x2_transposed=transposed,
        comm_quant_mode=kw.get("comm_quant_mode", 0))
    for r in results:
        assert r.shape == gold.shape
        assert_close(r, gold, out)
        if mock_library():  # the mock reduces once and hands every rank the same bits
            np.testing.assert_array_equal(r.view(np.uint8), results[0].view(np.uint8))
    return results, gold


# --------------------------------------------------------------------------- formulas
A2_CASES = [(2, "int8", "float16"), (2, "int8", "bfloat16"), (3, "int8", "float16"),
            (3, "int8", "bfloat16"), (1, "int8", "float16"), (1, "int8", "bfloat16")]
P950_CASES = [(4, "float4_e2m1", "float16"), (4, "float8_e4m3fn", "bfloat16"), (4, "float8_e5m2", "float32"),
              (5, "float8_e4m3fn", "float16"), (5, "float8_e5m2", "bfloat16"), (5, "hifloat8", "float32"),
              (6, "float8_e4m3fn", "bfloat16"), (6, "float8_e5m2", "float32"), (6, "hifloat8", "float16"),
              (7, "float8_e4m3fn", "float32"), (7, "float8_e5m2", "float16"), (7, "hifloat8", "bfloat16"),
              (8, "float8_e4m3fn", "float16"), (8, "float8_e5m2", "bfloat16"),
              (3, "int8", "bfloat16"), (1, "int8", "float16")]


def _shape_for(formula):
    if formula == 7:
        return dict(m=48, k=256, n=160)
    if formula == 4:
        return dict(m=16, k=128, n=32)
    if formula == 8:
        return dict(m=8, k=64, n=200)
    return {}


@pytest.mark.parametrize("soc", [A2], indirect=True)
@pytest.mark.parametrize("ranks", [1, 2, 4])
@pytest.mark.parametrize("formula,x,out", A2_CASES)
def test_formulas_a2(soc, groups, formula, x, out, ranks):
    run_case(groups, formula, x, out, ranks, bias=True, x3=formula != 1 or out == "bfloat16", **_shape_for(formula))


@pytest.mark.parametrize("soc", [P950], indirect=True)
@pytest.mark.parametrize("ranks", [1, 2, 4])
@pytest.mark.parametrize("formula,x,out", P950_CASES)
def test_formulas_950(soc, groups, formula, x, out, ranks):
    run_case(groups, formula, x, out, ranks, bias=formula != 7, x3=True, **_shape_for(formula))


@pytest.mark.parametrize("soc", [A2], indirect=True)
@pytest.mark.parametrize("bias,x3", [(False, False), (True, False), (False, True)])
@pytest.mark.parametrize("formula", [2, 3])
def test_bias_x3_on_off(soc, groups, formula, bias, x3):
    run_case(groups, formula, "int8", "float16", 2, bias=bias, x3=x3)


@pytest.mark.parametrize("soc", [A2], indirect=True)
def test_3d_x1_and_transposed_x2(soc, groups):
    run_case(groups, 3, "int8", "bfloat16", 2, batch=2, m=5, bias=True, x3=True)
    run_case(groups, 2, "int8", "float16", 2, transposed=True, bias=True)


@pytest.mark.parametrize("soc", [P950], indirect=True)
def test_3d_perblock_and_pertoken_950(soc, groups):
    run_case(groups, 7, "float8_e4m3fn", "float16", 2, batch=2, m=40, k=256, n=64)
    run_case(groups, 6, "hifloat8", "bfloat16", 2, batch=3, m=4, transposed=True, bias=True)


@pytest.mark.parametrize("soc", [A2], indirect=True)
def test_nz_weight(soc, groups):
    run_case(groups, 2, "int8", "float16", 2, nz=True, k=40, n=50, bias=True)
    run_case(groups, 3, "int8", "bfloat16", 1, nz=True)


@pytest.mark.parametrize("soc", [A2], indirect=True)
def test_plan_executes_repeatedly(soc, groups):
    rng = np.random.default_rng(5)
    d, kw, _ = make_rank(rng, 2, "int8", "float16")
    comm, = groups(1)

    def fn(rank, stream):
        plan = QuantMatmulAllReduceV4Plan(d["x1"], d["x2"], d["x2_scale"], group=comm, **kw)
        plan.execute(stream)
        stream.synchronize()
        first = plan.out.to_numpy()
        plan.tensors["x1"].copy_from_numpy(-d["x1"].astype(np.int16).clip(-127, 127).astype(np.int8))
        plan.execute(stream)
        stream.synchronize()
        second = plan.out.to_numpy()
        plan.close()
        return first, second
    first, second = run_ranks(1, fn)[0]
    gold = golden.quant_matmul_all_reduce([d["x1"]], [d["x2"]], [d["x2_scale"]], out_dtype="float16")
    assert_close(first, gold)
    gold2 = golden.quant_matmul_all_reduce([-d["x1"].astype(np.int16).clip(-127, 127).astype(np.int8)],
                                           [d["x2"]], [d["x2_scale"]], out_dtype="float16")
    assert_close(second, gold2)


# --------------------------------------------------------------------------- validation
def _t(shape, dtype):
    return Tensor.empty(shape, dtype)


def base_spec(m=16, k=64, n=32):
    """A valid A2 call: int8 pertensor/perchannel, UINT64 scale, fp16 output (as Tensors)."""
    return dict(x1=_t((m, k), "int8"), x2=_t((k, n), "int8"), x2_scale=_t((n,), "uint64"),
                out=_t((m, n), "float16"), bias=None, x3=None, x1_scale=None, comm_quant_scale_1=None,
                comm_quant_scale_2=None, reduce_op="sum", comm_turn=0, stream_mode=1, group_size=0,
                comm_quant_mode=0)


def raw_status(spec, group):
    """The C path only: aclnnQuantMatmulAllReduceV4GetWorkspaceSize with these tensors."""
    lib = aclnn_py.lib
    h = lambda key: ffi.NULL if spec[key] is None else spec[key].handle  # noqa: E731
    size, ex = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
    reduce = ffi.NULL if spec["reduce_op"] is None else ffi.new("char[]", spec["reduce_op"].encode())
    status = lib.aclnnQuantMatmulAllReduceV4GetWorkspaceSize(
        h("x1"), h("x2"), h("bias"), h("x3"), h("x1_scale"), h("x2_scale"), h("comm_quant_scale_1"),
        h("comm_quant_scale_2"), ffi.new("char[]", group.encode()), reduce, spec["comm_turn"],
        spec["stream_mode"], spec["group_size"], spec["comm_quant_mode"], h("out"), size, ex)
    message = recent_message() if status else ""
    if status == 0:
        lib.aclDestroyAclOpExecutor(ex[0])
    return status, message


def binding_status(spec, group, stream):
    kwargs = dict(spec)
    args = [kwargs.pop(k) for k in ("x1", "x2", "x2_scale")]
    if kwargs["reduce_op"] is None:
        kwargs["reduce_op"] = None
    try:
        quant_matmul_all_reduce_arguments(*args, group=group, stream=stream, **kwargs)
    except StatusError as exc:
        return exc.code, exc.message
    return 0, ""


RULES_A2 = [
    ("x1 null", mutation(x1=None), 161001, "x1 is a null pointer"),
    ("x2 null", mutation(x2=None), 161001, "x2 is a null pointer"),
    ("x2Scale null", mutation(x2_scale=None), 161001, "x2Scale is a null pointer"),
    ("output null", mutation(out=None), 161001, "output is a null pointer"),
    ("reduceOp null", mutation(reduce_op=None), 161001, "reduceOp is a null pointer"),
    ("x1 dtype", mutation(x1=lambda: _t((16, 64), "float16")), 161002,
     "x1 dtype FLOAT16 is not supported: expected INT8, FLOAT8_E4M3FN, FLOAT8_E5M2, HIFLOAT8 or FLOAT4_E2M1"),
    ("x2 dtype", mutation(x2=lambda: _t((64, 32), "int16")), 161002, "x2 dtype INT16 is not supported"),
    ("x2Scale dtype", mutation(x2_scale=lambda: _t((32,), "int32")), 161002, "x2Scale dtype INT32 is not supported"),
    ("output dtype", mutation(out=lambda: _t((16, 32), "float32")), 161002,
     "output dtype FLOAT is not supported for INT8 x1: expected FLOAT16 or BF16"),
    ("bias dtype", mutation(bias=lambda: _t((32,), "float16")), 161002, "bias dtype FLOAT16 is not supported"),
    ("x3 dtype", mutation(x3=lambda: _t((16, 32), "bfloat16")), 161002, "x3 dtype BF16 is not supported"),
    ("bf16 out scale", mutation(out=lambda: _t((16, 32), "bfloat16")), 161002,
     "x2Scale dtype UINT64 does not match output dtype BF16"),
    ("x1Scale dtype", mutation(x1_scale=lambda: _t((16,), "float16")), 161002, "x1Scale dtype FLOAT16 is not supported"),
    ("commQuantScale dtype", mutation(comm_quant_scale_1=lambda: _t((32,), "bfloat16"),
                                  comm_quant_scale_2=lambda: _t((32,), "bfloat16")), 161002,
     "commQuantScale1 dtype BF16 is not supported"),
    ("reduceOp", mutation(reduce_op="max"), 161002, 'reduceOp "max" is not supported'),
    ("streamMode", mutation(stream_mode=0), 161002, "streamMode 0 is not supported"),
    ("x1 rank", mutation(x1=lambda: _t((64,), "int8")), 161002, "x1 must be 2-D (m, k) or 3-D (b, s, k)"),
    ("x1 transposed", mutation(x1=lambda: _t((64, 16), "int8").T), 161002, "x1 must be a contiguous ND tensor"),
    ("x2 rank", mutation(x2=lambda: _t((1, 64, 32), "int8")), 161002, "x2 must be 2-D"),
    ("k mismatch", mutation(x2=lambda: _t((63, 32), "int8")), 161002, "x1 last dim 64 must equal x2 k dim 63"),
    ("output shape", mutation(out=lambda: _t((16, 31), "float16")), 161002, "output shape [16, 31] must be x1 shape"),
    ("bias shape", mutation(bias=lambda: _t((31,), "int32")), 161002, "bias must be 1-D of length n = 32"),
    ("x3 shape", mutation(x3=lambda: _t((15, 32), "float16")), 161002, "x3 shape [15, 32] must equal the output shape"),
    ("x1 empty", mutation(x1=lambda: _t((0, 64), "int8"), out=lambda: _t((0, 32), "float16")), 161002,
     "x1 is empty"),
    ("commTurn", mutation(comm_turn=1), 561002, "commTurn 1 is not supported"),
    ("commQuantMode", mutation(comm_quant_mode=2), 561002, "commQuantMode 2 is not supported"),
    ("commQuantMode 1 on A2", mutation(comm_quant_mode=1), 561002, "commQuantMode 1 (per-tile FP8 communication) is not supported on Atlas A2"),
    ("groupSize", mutation(group_size=PERBLOCK), 561002, "must be 0 unless x1Scale and x2Scale are both"),
    ("x2Scale shape", mutation(x2_scale=lambda: _t((33,), "uint64")), 561002, "x2Scale shape [33] is not supported"),
    ("x1Scale shape", mutation(x1_scale=lambda: _t((15,), "float32"), x2_scale=lambda: _t((32,), "float32")),
     561002, "x1Scale shape [15] is not supported"),
    ("fp16 out scale", mutation(x2_scale=lambda: _t((32,), "float32")), 561002,
     "x2Scale dtype FLOAT is not supported for INT8 x1 and FLOAT16 output without x1Scale"),
    ("int8 bias float", mutation(bias=lambda: _t((32,), "float32")), 561002, "bias dtype FLOAT is not supported for INT8"),
    ("one comm scale", mutation(comm_quant_scale_1=lambda: _t((32,), "float16")), 561002,
     "commQuantScale1 and commQuantScale2 must both be null or both be given"),
    ("comm scale shape", mutation(comm_quant_scale_1=lambda: _t((2, 32), "float16"),
                              comm_quant_scale_2=lambda: _t((2, 32), "float16")), 561002,
     "commQuantScale1 shape [2, 32] is not supported"),
    ("x2 dtype differs", None, None, None),  # needs 950 (x2 fp8 vs int8 x1): see RULES_950
    ("k limit", mutation(x1=lambda: _t((1, 65536), "int8"), x2=lambda: _t((65536, 32), "int8"),
                     out=lambda: _t((1, 32), "float16")), 561002, "k = 65536 exceeds the limit 65535"),
    ("A2 fp8 x1", mutation(x1=lambda: _t((16, 64), "float8_e4m3fn")), 161002,
     "x1 dtype FLOAT8_E4M3FN is not supported on Atlas A2: expected INT8"),
    ("A2 hif8 x2", mutation(x2=lambda: _t((64, 32), "hifloat8")), 161002, "x2 dtype HIFLOAT8 is not supported on Atlas A2"),
    ("A2 fp4 x1", mutation(x1=lambda: _t((16, 64), "float4_e2m1")), 161002, "x1 dtype FLOAT4_E2M1 is not supported on Atlas A2"),
    ("A2 mx x2Scale", mutation(x2_scale=lambda: _t((32, 1, 2), "float8_e8m0")), 161002,
     "x2Scale dtype FLOAT8_E8M0 is not supported on Atlas A2"),
    ("A2 mx x1Scale", mutation(x1_scale=lambda: _t((16, 1, 2), "float8_e8m0")), 161002,
     "x1Scale dtype FLOAT8_E8M0 is not supported on Atlas A2"),
]
RULES_A2 = [r for r in RULES_A2 if r[1] is not None]

RULES_950 = [
    ("x2 dtype differs", mutation(x2=lambda: _t((64, 32), "float8_e4m3fn")), 561002, "x2 dtype FLOAT8_E4M3FN must equal x1 dtype INT8"),
    ("perblock bias", mutation(x1=lambda: _t((16, 64), "float8_e4m3fn"), x2=lambda: _t((64, 32), "float8_e4m3fn"),
                           x1_scale=lambda: _t((1, 1), "float32"), x2_scale=lambda: _t((1, 1), "float32"),
                           bias=lambda: _t((32,), "float32"), group_size=PERBLOCK), 561002,
     "bias must be null in perblock quantization"),
    ("mx not transposed", mutation(x1=lambda: _t((16, 64), "float8_e4m3fn"), x2=lambda: _t((64, 32), "float8_e4m3fn"),
                               x1_scale=lambda: _t((16, 1, 2), "float8_e8m0"),
                               x2_scale=lambda: _t((32, 1, 2), "float8_e8m0"), group_size=MX), 561002,
     "MX quantization needs a transposed x2"),
    ("hif8 pertile", mutation(x1=lambda: _t((16, 64), "hifloat8"), x2=lambda: _t((64, 32), "hifloat8"),
                          x1_scale=lambda: _t((16,), "float32"), x2_scale=lambda: _t((32,), "float32"),
                          comm_quant_mode=1), 561002, "commQuantMode 1 needs FLOAT8_E4M3FN or FLOAT8_E5M2 x1"),
    ("fp8 float scale without x1Scale", mutation(x1=lambda: _t((16, 64), "float8_e5m2"),
                                             x2=lambda: _t((64, 32), "float8_e5m2"),
                                             x2_scale=lambda: _t((32,), "float32")), 561002,
     "FLOAT32 x2Scale needs a FLOAT32 x1Scale"),
    ("fp8 comm scales", mutation(x1=lambda: _t((16, 64), "float8_e5m2"), x2=lambda: _t((64, 32), "float8_e5m2"),
                             comm_quant_scale_1=lambda: _t((32,), "float16"),
                             comm_quant_scale_2=lambda: _t((32,), "float16")), 561002,
     "only supported for INT8 x1"),
    ("fp8 output float32 ok", mutation(x1=lambda: _t((16, 64), "float8_e5m2"), x2=lambda: _t((64, 32), "float8_e5m2"),
                                   out=lambda: _t((16, 32), "float32")), 0, ""),
]


def _check_rule(groups, mutate, code, fragment, group_size=1):
    """The C call on rank 0 of a communicator of ``group_size`` ranks (found by its name), and the
    binding's checks given the Communicator itself (its size with it)."""
    comm = groups(group_size)[0]
    dev = aclnn_py.Device(0)
    stream = aclnn_py.Stream()
    try:
        spec = mutate(base_spec())
        raw = raw_status(spec, comm.name)
        py = binding_status(spec, comm, stream)
        expect_status(raw[0], code, fragment, raw[1])
        if spec["out"] is not None:  # the binding allocates a missing output instead (its rules: any runtime)
            assert py[0] == code, py
            assert fragment in py[1], py
    finally:
        stream.close()
        dev.close()


@pytest.mark.parametrize("soc", [A2], indirect=True)
@pytest.mark.parametrize("name,mutate,code,fragment", RULES_A2, ids=[r[0] for r in RULES_A2])
def test_rules_a2(soc, groups, name, mutate, code, fragment):
    _check_rule(groups, mutate, code, fragment)


@pytest.mark.parametrize("soc", [P950], indirect=True)
@pytest.mark.parametrize("name,mutate,code,fragment", RULES_950, ids=[r[0] for r in RULES_950])
def test_rules_950(soc, groups, name, mutate, code, fragment):
    _check_rule(groups, mutate, code, fragment)


@pytest.mark.parametrize("soc", [A2], indirect=True)
@pytest.mark.parametrize("size", [3, 16])
def test_rank_count_a2(soc, groups, size):
    _check_rule(groups, lambda s: s, 561002, f"group rank count {size} is not supported on Atlas A2", group_size=size)


@pytest.mark.parametrize("soc", [A2], indirect=True)
def test_an_unsupported_rank_count_raises_rank_count_error(soc, groups):
    """Three ranks on Atlas A2: CANN's code (561002, a tiling-stage code) is kept, but what the user
    reads is a rank-count rule (RankCountError, also an AclnnInternalError and a ValueError), raised
    by the binding's own check before any C call."""
    comm = groups(3)[0]
    x1, x2 = np.ones((16, 64), np.int8), np.ones((64, 32), np.int8)
    scale = trans_quant_param(np.full(32, 0.5, np.float32))
    with aclnn_py.Device(0), aclnn_py.Stream() as stream:
        with pytest.raises(aclnn_py.RankCountError) as info:
            quant_matmul_all_reduce_v4(x1, x2, scale, group=comm, stream=stream, out_dtype="float16")
    error = info.value
    assert isinstance(error, aclnn_py.AclnnInternalError) and isinstance(error, ValueError)
    assert (error.code, error.name, error.function) == (561002, "ACLNN_ERR_INNER_TILING_ERROR",
                                                        "aclnnQuantMatmulAllReduceV4GetWorkspaceSize")
    assert error.message == ("group rank count 3 is not supported on Atlas A2: expected 1, 2, 4 or 8 ranks (a rule "
                             "of aclnnQuantMatmulAllReduceV4 on the communicator's size, checked at its tiling stage: "
                             "hence 561002)")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is aclnn_py.RankCountError and str(again) == str(error)


@pytest.mark.parametrize("soc", [P950], indirect=True)
@pytest.mark.parametrize("size,code,fragment", [(6, 561002, "group rank count 6 is not supported on Ascend 950"),
                                                (8, 0, ""), (16, 0, "")])
def test_rank_count_950(soc, groups, size, code, fragment):
    _check_rule(groups, lambda s: s, code, fragment, group_size=size)


@pytest.mark.parametrize("soc", [A3], indirect=True)
def test_a3_unsupported(soc, groups):
    _check_rule(groups, lambda s: s, 361001, "not supported on Atlas A3")


@pytest.mark.parametrize("soc", [A2], indirect=True)
def test_unknown_group(soc):
    dev = aclnn_py.Device(0)
    try:
        status, message = raw_status(base_spec(), "no_such_group")
        expect_status(status, 161002, "no_such_group", message)
    finally:
        dev.close()


@pytest.mark.parametrize("soc", [A2, P950], indirect=True)
@pytest.mark.parametrize("version", ["v1", "v4"])
def test_a_float16_x1_is_refused_as_such_before_out_dtype_is_asked_for(soc, version):
    """Issue 20, item 8: a call the rules refuse reports its first fault (FLOAT16 x1 is no input
    dtype of the operator), not a demand for out_dtype it could not act on."""
    dev = aclnn_py.Device(0)
    stream = aclnn_py.Stream()
    try:
        x = np.zeros((4, 64), np.float16)
        function = quant_matmul_all_reduce if version == "v1" else quant_matmul_all_reduce_v4
        with pytest.raises(AclnnParamError) as info:
            function(x, x.T.copy(), trans_quant_param(np.ones(4, np.float32)), group="g", stream=stream)
        assert info.value.code == 161002
        assert info.value.message.startswith("x1 dtype FLOAT16 is not supported: expected INT8")
    finally:
        stream.close()
        dev.close()


@pytest.mark.parametrize("soc", [P950], indirect=True)
def test_out_dtype_required_when_not_inferable(soc):
    dev = aclnn_py.Device(0)
    stream = aclnn_py.Stream()
    try:
        x = np.zeros((4, 64), ml_dtypes.float8_e4m3fn)
        with pytest.raises(ValueError, match="out_dtype: required"):
            quant_matmul_all_reduce_v4(x, x.T.copy(), trans_quant_param(np.ones(4, np.float32)),
                                       group="g", stream=stream)
    finally:
        stream.close()
        dev.close()
