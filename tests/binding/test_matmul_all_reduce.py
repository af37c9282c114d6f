"""aclnnMatmulAllReduce V1-V3, aclnnWeightQuantMatmulAllReduce V1-V2 and aclnnQuantMatmulAllReduceV5 through
the binding, over HCCL communicators.

Values: each entry point's modes on Atlas A2 and Ascend 950, on 1 and 2 thread-ranks, through the
Pythonic functions and a raw cffi call in each header's parameter order, against the golden
(aclnn_py.semantics.quant_matmul_all_reduce.golden) under CANN's precision standard; k = 0 and an
empty output; plans executed again with refreshed inputs. Errors: the binding's checks and the raw
C call give the same code (and, on the mock's libraries, the same message). Resources: a stream of
another device than the communicator's and a closed tensor are refused before C. A SoC profile the
runtime does not have is skipped with the reason.
"""
from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from binding_helpers import communicators, device_tensors, expect_outcomes, expect_status, mutation, run_ranks

import aclnn_py
from aclnn_py import Tensor, ops
from aclnn_py._ffi import ffi
from aclnn_py.check import check_aclnn, recent_message
from aclnn_py.errors import ArgumentError, ClosedResourceError, StatusError
from aclnn_py.semantics import dtypes
from aclnn_py.semantics.precision import assert_close
from aclnn_py.semantics.quant_matmul_all_reduce import golden
from aclnn_py.semantics.quant_params import trans_quant_param

A2, P950 = "Ascend910B4", "Ascend950PR"
BF16 = ml_dtypes.bfloat16
FUNCTIONS = {"matmul": ops.matmul_all_reduce, "matmul_v2": ops.matmul_all_reduce_v2,
             "matmul_v3": ops.matmul_all_reduce_v3, "weight": ops.weight_quant_matmul_all_reduce,
             "weight_v2": ops.weight_quant_matmul_all_reduce_v2}
PLANS = {"matmul": ops.MatmulAllReducePlan, "matmul_v2": ops.MatmulAllReduceV2Plan,
         "matmul_v3": ops.MatmulAllReduceV3Plan, "weight": ops.WeightQuantMatmulAllReducePlan,
         "weight_v2": ops.WeightQuantMatmulAllReduceV2Plan}
# Each header's phase-1 order, written here independently of the binding (ops-transformer
# mc2/matmul_all_reduce/op_api/aclnn_*.h).
C_ORDER = {
    "aclnnMatmulAllReduce": ("x1", "x2", "bias", "group", "reduce_op", "comm_turn", "stream_mode", "out"),
    "aclnnMatmulAllReduceV2": ("x1", "x2", "bias", "x3", "group", "reduce_op", "comm_turn", "stream_mode", "out"),
    "aclnnMatmulAllReduceV3": ("x1", "x2", "bias", "x3", "group", "reduce_op", "comm_mode", "comm_turn",
                               "stream_mode", "out"),
    "aclnnWeightQuantMatmulAllReduce": ("x1", "x2", "bias", "antiquant_scale", "antiquant_offset", "x3", "group",
                                        "reduce_op", "comm_turn", "stream_mode", "antiquant_group_size", "out"),
    "aclnnWeightQuantMatmulAllReduceV2": ("x1", "x2", "bias", "antiquant_scale", "antiquant_offset", "x3", "group",
                                          "reduce_op", "comm_mode", "comm_turn", "stream_mode",
                                          "antiquant_group_size", "out"),
}
OPS = {"matmul": "aclnnMatmulAllReduce", "matmul_v2": "aclnnMatmulAllReduceV2", "matmul_v3": "aclnnMatmulAllReduceV3",
       "weight": "aclnnWeightQuantMatmulAllReduce", "weight_v2": "aclnnWeightQuantMatmulAllReduceV2"}


# --------------------------------------------------------------------------- inputs
def make_rank(rng, kind, *, x="float16", w="int8", mode="channel", bias=True, x3=True, lead=(12,), k=64, n=48):
    """One rank's host inputs by Python argument name (group size in ``antiquant_group_size``)."""
    host = dtypes.host_dtype(x)
    d = {"x1": rng.standard_normal(lead + (k,)).astype(host)}
    if kind.startswith("matmul"):
        d["x2"] = rng.standard_normal((k, n)).astype(host)
    else:
        d["x2"] = (rng.integers(-128, 128, (k, n)).astype(np.int8) if w == "int8"
                   else rng.integers(-8, 8, (k, n)).astype(ml_dtypes.int4))
        shape = {"tensor": (1,), "channel": (n,), "group": (-(-k // 32), n)}[mode]
        d["antiquant_scale"] = rng.uniform(0.002, 0.01, shape).astype(host)
        d["antiquant_offset"] = rng.uniform(-4, 4, shape).astype(host)
        d["antiquant_group_size"] = 32 if mode == "group" else 0
    if bias:
        d["bias"] = rng.standard_normal(n).astype(host)
    if x3 and kind != "matmul":
        d["x3"] = rng.standard_normal(lead + (n,)).astype(host)
    return d


def gold(kind, per_rank, transposed=False):
    column = lambda key: None if key not in per_rank[0] else [d[key] for d in per_rank]  # noqa: E731
    if kind.startswith("matmul"):
        return golden.matmul_all_reduce(column("x1"), column("x2"), bias=column("bias"), x3=column("x3"),
                                        x2_transposed=transposed)
    return golden.weight_quant_matmul_all_reduce(
        column("x1"), column("x2"), column("antiquant_scale"), antiquant_offset=column("antiquant_offset"),
        bias=column("bias"), x3=column("x3"), antiquant_group_size=per_rank[0]["antiquant_group_size"],
        x2_transposed=transposed)


def run_python(kind, t, comm, stream):
    args = dict(t)
    x1, x2 = args.pop("x1"), args.pop("x2")
    if kind.startswith("matmul"):
        return FUNCTIONS[kind](x1, x2, group=comm, stream=stream, **args)
    return FUNCTIONS[kind](x1, x2, args.pop("antiquant_scale"), group=comm, stream=stream, **args)


def raw_args(op, values):
    """Phase-1 arguments in the header's order (NULL for what ``values`` lacks; strings as char[])."""
    c = {key: value.handle if isinstance(value, Tensor) else value for key, value in values.items()
         if value is not None}
    for key in ("group", "reduce_op", "comm_mode"):
        if isinstance(c.get(key), str):
            c[key] = ffi.new("char[]", c[key].encode())
    return [c.get(key, ffi.NULL) for key in C_ORDER[op]]


def raw_status(op, values):
    size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
    status = getattr(aclnn_py.lib, op + "GetWorkspaceSize")(*raw_args(op, values), size, executor)
    message = recent_message() if status else ""
    if status == 0:
        assert aclnn_py.lib.aclDestroyAclOpExecutor(executor[0]) == 0
    return status, message


def run_raw(kind, t, comm, stream):
    """Both phases through aclnn_py.lib, the workspace from aclrtMalloc; returns the output tensor."""
    lib, op = aclnn_py.lib, OPS[kind]
    x1, x2 = t["x1"], t["x2"]
    values = dict(t, out=Tensor.empty(x1.shape[:-1] + (x2.shape[1],), x1.dtype), group=comm.name, reduce_op="sum",
                  comm_mode="ai_cpu", comm_turn=0, stream_mode=1)
    size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
    check_aclnn(getattr(lib, op + "GetWorkspaceSize")(*raw_args(op, values), size, executor), op + "GetWorkspaceSize")
    workspace = ffi.new("void **")
    assert lib.aclrtMalloc(workspace, max(size[0], 1), 0) == 0
    check_aclnn(getattr(lib, op)(workspace[0], size[0], executor[0], stream.handle), op)
    stream.synchronize()
    assert lib.aclrtFree(workspace[0]) == 0
    return values["out"]


def run_case(kind, per_rank, api="python", *, transposed=False, nz=False):
    ranks = len(per_rank)
    with communicators(ranks) as comms:
        def rank_fn(rank, stream):
            t = device_tensors(per_rank[rank], stream, transposed=transposed, nz=nz)
            out = (run_python if api == "python" else run_raw)(kind, t, comms[rank], stream)
            return out.to_numpy

        results = run_ranks(ranks, rank_fn)
    expected = gold(kind, per_rank, transposed)
    out = dtypes.name_of(per_rank[0]["x1"])
    for result in results:
        assert result.shape == expected.shape and result.dtype == expected.dtype
        assert_close(result, expected, out)
    return results, expected


# --------------------------------------------------------------------------- values
CASES = [  # (id, kind, inputs, layout, profiles)
    ("matmul-fp16", "matmul", dict(), {}, (A2, P950)),
    ("matmul_v2-bf16-3d", "matmul_v2", dict(x="bfloat16", lead=(2, 5)), {}, (A2, P950)),
    ("matmul_v3-fp16-transposed", "matmul_v3", dict(bias=False), dict(transposed=True), (A2, P950)),
    ("weight-fp16-int8-channel", "weight", dict(), {}, (A2, P950)),
    ("weight-bf16-int4-group", "weight", dict(x="bfloat16", w="int4", mode="group", n=64), {}, (A2, P950)),
    ("weight-fp16-int8-tensor-3d", "weight", dict(mode="tensor", lead=(3, 4), k=40, n=24), {}, (A2,)),
    ("weight-bf16-int8-group-transposed", "weight", dict(x="bfloat16", mode="group", k=80), dict(transposed=True),
     (A2,)),
    ("weight-fp16-int8-nz", "weight", dict(k=64, n=64), dict(nz=True), (A2,)),
    ("weight_v2-fp16-int4-channel", "weight_v2", dict(w="int4", x3=False), {}, (A2, P950)),
]
RUNS = [(2, "python"), (1, "raw")]


PER_SOC = [(soc, case) for case in CASES for soc in case[4]]


@pytest.mark.parametrize("ranks,api", RUNS, ids=[f"{r}rank-{a}" for r, a in RUNS])
@pytest.mark.parametrize("soc,case", PER_SOC, ids=[f"{c[0]}-{s}" for s, c in PER_SOC], indirect=["soc"])
def test_values(soc, case, ranks, api):
    _, kind, inputs, layout, _ = case
    rng = np.random.default_rng(len(case[0]))
    run_case(kind, [make_rank(rng, kind, **inputs) for _ in range(ranks)], api, **layout)


@pytest.mark.parametrize("soc", [P950], indirect=True)
def test_fp8_weights_on_950(soc):
    """FLOAT8_E4M3FN and HIFLOAT8 weights (uint8 codes named by ``x2_dtype``), per channel."""
    from aclnn_py.semantics import codecs

    rng = np.random.default_rng(4)
    x1 = rng.standard_normal((8, 32)).astype(BF16)
    w8 = rng.standard_normal((32, 16)).astype(ml_dtypes.float8_e4m3fn)
    codes = codecs.hifloat8_encode(rng.standard_normal((32, 16)).astype(np.float32))
    scale = rng.uniform(0.5, 2, 16).astype(BF16)
    with communicators(1) as comms:
        def rank_fn(rank, stream):
            a = ops.weight_quant_matmul_all_reduce(x1, w8, scale, group=comms[0], stream=stream)
            b = ops.weight_quant_matmul_all_reduce(x1, codes, scale, group=comms[0], stream=stream,
                                                   x2_dtype="hifloat8")
            return lambda: (a.to_numpy(), b.to_numpy())

        got_w8, got_hif8 = run_ranks(1, rank_fn)[0]
    assert_close(got_w8, golden.weight_quant_matmul_all_reduce([x1], [w8], [scale]), "bfloat16")
    assert_close(got_hif8, golden.weight_quant_matmul_all_reduce([x1], [codes], [scale], x2_dtype="hifloat8"),
                 "bfloat16")


@pytest.mark.parametrize("soc", [A2], indirect=True)
def test_quant_v5_is_v4_with_a_comm_mode(soc):
    rng = np.random.default_rng(5)
    per_rank = [(rng.integers(-128, 128, (12, 64)).astype(np.int8), rng.integers(-128, 128, (64, 32)).astype(np.int8))
                for _ in range(2)]
    scale = trans_quant_param(rng.uniform(1e-3, 2e-3, 32).astype(np.float32))
    with communicators(2) as comms:
        def rank_fn(rank, stream):
            x1, x2 = per_rank[rank]
            out = ops.quant_matmul_all_reduce_v5(x1, x2, scale, group=comms[rank], stream=stream, comm_mode="ai_cpu",
                                                 out_dtype="float16")
            return out.to_numpy

        results = run_ranks(2, rank_fn)
    expected = golden.quant_matmul_all_reduce([p[0] for p in per_rank], [p[1] for p in per_rank], [scale] * 2,
                                              out_dtype="float16")
    for result in results:
        assert_close(result, expected, "float16")


@pytest.mark.parametrize("soc", [A2], indirect=True)
def test_k_0_gives_the_all_reduce_of_bias_and_x3_and_an_empty_output_nothing(soc):
    bias = [np.array([1, -2, 3], np.float16), np.array([0.5, 0.25, 4], np.float16)]
    x3 = np.full((4, 3), 2, np.float16)
    with communicators(2) as comms:
        def rank_fn(rank, stream):
            out = ops.matmul_all_reduce_v2(np.zeros((4, 0), np.float16), np.zeros((0, 3), np.float16),
                                           bias=bias[rank], x3=x3, group=comms[rank], stream=stream)
            empty = ops.matmul_all_reduce(np.zeros((0, 8), np.float16), np.ones((8, 3), np.float16),
                                          group=comms[rank], stream=stream)
            return lambda: (out.to_numpy(), empty.shape)

        results = run_ranks(2, rank_fn)
    for values, empty_shape in results:
        np.testing.assert_array_equal(values, np.tile(np.array([5.5, 2.25, 11], np.float16), (4, 1)))
        assert empty_shape == (0, 3)


@pytest.mark.parametrize("soc", [A2], indirect=True)
@pytest.mark.parametrize("kind", ["matmul_v2", "weight"])
def test_plans_execute_again_with_refreshed_inputs(soc, kind):
    rng = np.random.default_rng(6)
    first, second = make_rank(rng, kind), make_rank(rng, kind)
    with communicators(1) as comms:
        def rank_fn(rank, stream):
            args = dict(first)
            x1, x2 = args.pop("x1"), args.pop("x2")
            positional = (x1, x2) if kind.startswith("matmul") else (x1, x2, args.pop("antiquant_scale"))
            with PLANS[kind](*positional, group=comms[0], **args) as plan:
                plan.execute(stream)
                stream.synchronize()
                one = plan.out.to_numpy()
                plan.tensors["x1"].copy_from_numpy(second["x1"])
                plan.execute(stream)
                stream.synchronize()
                return one, plan.out.to_numpy()

        one, two = run_ranks(1, rank_fn)[0]
    assert_close(one, gold(kind, [first]), "float16")
    assert_close(two, gold(kind, [dict(first, x1=second["x1"])]), "float16")
    assert not np.array_equal(one, two)


# --------------------------------------------------------------------------- errors
def _t(shape, dtype):
    return Tensor.empty(shape, dtype)


def base_spec(kind, m=16, k=64, n=32):
    """A valid call (Tensors; FLOAT16; the weight INT8 per channel)."""
    spec = dict(x1=_t((m, k), "float16"), x2=_t((k, n), "float16"), out=_t((m, n), "float16"), reduce_op="sum",
                comm_turn=0, stream_mode=1)
    if kind.startswith("weight"):
        spec.update(x2=_t((k, n), "int8"), antiquant_scale=_t((n,), "float16"), antiquant_group_size=0)
    if kind.endswith("v3") or kind.endswith("v2") and kind.startswith("weight"):
        spec["comm_mode"] = "ai_cpu"
    return spec


def binding_status(kind, spec, group):
    """The binding's outcome of phase 1 (its plan: the checks, then the C call)."""
    args = {key: value for key, value in spec.items() if key not in ("x1", "x2", "antiquant_scale")}
    positional = (spec["x1"], spec["x2"]) + ((spec["antiquant_scale"],) if kind.startswith("weight") else ())
    try:
        plan = PLANS[kind](*positional, group=group, **args)
    except StatusError as exc:
        assert exc.function == OPS[kind] + "GetWorkspaceSize"
        return exc.code, exc.message
    plan.close()
    return 0, ""


RULES = [  # (kinds, name, mutation, code, fragment)
    (("matmul", "matmul_v3", "weight"), "x1 null", mutation(x1=None), 161001, "x1 is a null pointer"),
    (("matmul", "weight_v2"), "reduceOp null", mutation(reduce_op=None), 161001, "reduceOp is a null pointer"),
    (("matmul", "matmul_v3"), "x2 dtype", mutation(x2=lambda: _t((64, 32), "bfloat16")), 161002,
     "x2 dtype BF16 must equal x1 dtype FLOAT16"),
    (("matmul",), "x1 float", mutation(x1=lambda: _t((16, 64), "float32")), 161002,
     "x1 dtype FLOAT is not supported: expected FLOAT16 or BF16"),
    (("matmul", "weight"), "reduceOp prefix", mutation(reduce_op="summ"), 161002, 'reduceOp "summ" is not supported'),
    (("matmul",), "k mismatch", mutation(x2=lambda: _t((63, 32), "float16")), 161002,
     "x1 last dim 64 must equal x2 k dim 63"),
    (("weight",), "k mismatch", mutation(x2=lambda: _t((63, 32), "int8")), 161002,
     "x1 last dim 64 must equal x2 k dim 63"),
    (("matmul_v3", "weight_v2"), "commMode ccu", mutation(comm_mode="ccu"), 161002,
     'commMode "ccu" is not supported on Atlas A2'),
    (("matmul", "weight"), "commTurn", mutation(comm_turn=2), 561002, "commTurn 2 is not supported: only 0"),
    (("weight",), "antiquantScale null", mutation(antiquant_scale=None), 161001, "antiquantScale is a null pointer"),
    (("weight",), "group size", mutation(antiquant_scale=lambda: _t((2, 32), "float16"), antiquant_group_size=40),
     161002, "antiquantGroupSize 40 is not supported"),
    (("weight",), "per-group scale shape", mutation(antiquant_scale=lambda: _t((3, 32), "float16"),
                                                    antiquant_group_size=32), 161002,
     "antiquantScale shape [3, 32] is not supported: expected [2, 32] (per group of 32 rows of k = 64)"),
    (("weight",), "empty output", mutation(x1=lambda: _t((0, 64), "float16"), out=lambda: _t((0, 32), "float16")),
     161002, "output is empty"),
    (("weight",), "fp8 weight on A2", mutation(x2=lambda: _t((64, 32), "float8_e4m3fn")), 161002,
     "x2 dtype FLOAT8_E4M3FN is not supported on Atlas A2"),
    (("weight",), "k limit", mutation(x1=lambda: _t((1, 65536), "float16"), x2=lambda: _t((65536, 32), "int8"),
                                      out=lambda: _t((1, 32), "float16")), 561002, "k = 65536 exceeds the limit 65535"),
]
CHECKS = [(kind,) + rule[1:] for rule in RULES for kind in rule[0]]


@pytest.mark.parametrize("soc", [A2], indirect=True)
@pytest.mark.parametrize("kind,name,mutate,code,fragment", CHECKS, ids=[f"{c[0]}-{c[1]}" for c in CHECKS])
def test_rules(soc, kind, name, mutate, code, fragment):
    with communicators(1) as comms:
        device = aclnn_py.Device(0)
        try:
            spec = mutate(base_spec(kind))
            raw = raw_status(OPS[kind], dict(spec, group=comms[0].name))
            expect_status(raw[0], code, fragment, raw[1])
            if spec["out"] is not None:
                py = binding_status(kind, spec, comms[0])
                expect_outcomes(py, raw)
                assert fragment in py[1], py
        finally:
            device.close()


@pytest.mark.parametrize("soc", [A2], indirect=True)
def test_a_stream_of_another_device_and_a_closed_tensor_are_refused_before_c(soc):
    x1, x2 = np.ones((8, 32), np.float16), np.ones((32, 16), np.float16)
    scale = np.ones(16, np.float16)
    with communicators(2) as comms:
        errors = {}

        def on_device_1(rank, stream):
            if rank == 1:
                for kind in ("matmul_v3", "weight_v2"):
                    w = x2 if kind.startswith("matmul") else np.ones((32, 16), np.int8)
                    args = (x1, w) if kind.startswith("matmul") else (x1, w, scale)
                    try:
                        FUNCTIONS[kind](*args, group=comms[0], stream=stream)
                    except ArgumentError as exc:
                        errors[kind] = str(exc)
            return None

        run_ranks(2, on_device_1)
        assert set(errors) == {"matmul_v3", "weight_v2"}
        assert all("device 1" in text and "device 0" in text for text in errors.values()), errors
        device = aclnn_py.Device(0)
        try:
            with aclnn_py.Stream() as stream:
                closed = Tensor.from_numpy(x2)
                closed.close()
                with pytest.raises(ClosedResourceError):
                    ops.matmul_all_reduce(x1, closed, group=comms[0], stream=stream)
        finally:
            device.close()
