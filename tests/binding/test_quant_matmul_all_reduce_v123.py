"""aclnnQuantMatmulAllReduce V1, V2 and V3 through the binding, over HCCL communicators.

Values: every version's modes (V1 formula 2, V2 formulas 2/3, V3 formulas 1/2/3 of the V4
document) on Atlas A2 and Ascend 950, 1 and 2 thread-ranks, through the Pythonic functions and
through raw cffi calls written in each header's parameter order, against the golden under
CANN's precision standard; plans. Errors: each version's own checks, codes and messages (its
own parameter names), through the binding's checks and the raw C call (its code everywhere, its
text on the mock's libraries: binding_helpers). A SoC profile the runtime does not have is
skipped with the reason.
"""
from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from binding_helpers import (communicators, device_tensors, expect_outcomes, expect_status, mock_library, mutation,
                             run_ranks)

import aclnn_py
from aclnn_py import Tensor
from aclnn_py._ffi import ffi
from aclnn_py.errors import StatusError
from aclnn_py.check import check_aclnn, recent_message
from aclnn_py.semantics.quant_matmul_all_reduce import golden
from aclnn_py.semantics.precision import assert_close
from aclnn_py.semantics.quant_params import trans_quant_param
from aclnn_py import ops
from aclnn_py.ops import nz_weight_tensor, trans_matmul_weight

A2, P950, A3 = "Ascend910B4", "Ascend950PR", "Ascend910_93"
OPS = {1: "aclnnQuantMatmulAllReduce", 2: "aclnnQuantMatmulAllReduceV2", 3: "aclnnQuantMatmulAllReduceV3"}
# Each header's phase-1 tensor/attribute order, written here independently of the binding.
C_ORDER = {
    1: ("x1", "x2", "bias", "x3", "dequant", "group", "reduce_op", "comm_turn", "stream_mode", "out"),
    2: ("x1", "x2", "bias", "x3", "dequant", "pertoken", "group", "reduce_op", "comm_turn", "stream_mode",
        "out"),
    3: ("x1", "x2", "bias", "x3", "dequant", "pertoken", "c1", "c2", "group", "reduce_op", "comm_turn",
        "stream_mode", "out"),
}
FUNCTIONS = {1: ops.quant_matmul_all_reduce, 2: ops.quant_matmul_all_reduce_v2, 3: ops.quant_matmul_all_reduce_v3}
PLANS = {1: ops.QuantMatmulAllReducePlan, 2: ops.QuantMatmulAllReduceV2Plan, 3: ops.QuantMatmulAllReduceV3Plan}
KEYWORDS = {"bias": "bias", "x3": "x3", "pertoken": "pertoken_scale", "c1": "comm_quant_scale_1",
            "c2": "comm_quant_scale_2"}


# --------------------------------------------------------------------------- inputs
def make_rank(rng, *, out, pertoken=False, comm=False, bias=True, x3=True, batch=None, m=12, k=48, n=40):
    """One rank's host inputs (keys of C_ORDER). The commQuantScales are added by make_case."""
    host_out = ml_dtypes.bfloat16 if out == "bfloat16" else np.float16
    lead = (batch, m) if batch else (m,)
    d = {"x1": rng.integers(-128, 128, lead + (k,)).astype(np.int8),
         "x2": rng.integers(-128, 128, (k, n)).astype(np.int8)}
    if out == "bfloat16":
        d["dequant"] = (rng.uniform(0.5, 1.5, n) / 1000).astype(ml_dtypes.bfloat16)
    elif pertoken:
        d["dequant"] = rng.uniform(1e-3, 2e-3, n).astype(np.float32)
    else:
        d["dequant"] = trans_quant_param(rng.uniform(1e-3, 2e-3, n).astype(np.float32))
    if pertoken:
        d["pertoken"] = rng.uniform(0.5, 1.5, int(np.prod(lead))).astype(np.float32)
    if bias:
        d["bias"] = rng.integers(-1000, 1000, n).astype(np.int32)
    if x3:
        d["x3"] = rng.standard_normal(lead + (n,)).astype(np.float32).astype(host_out)
    return d


def make_case(version, ranks, seed=0, comm=False, **kw):
    rng = np.random.default_rng(seed)
    per_rank = [make_rank(rng, **kw) for _ in range(ranks)]
    if comm:  # the same on every rank; c1 ~ |Y| / 100 keeps the int8 values in range
        host_out = ml_dtypes.bfloat16 if kw["out"] == "bfloat16" else np.float16
        n = per_rank[0]["x2"].shape[1]
        c1 = rng.uniform(0.15, 0.25, n).astype(host_out)
        c2 = (np.asarray(c1, np.float32) * ranks).astype(host_out)
        for d in per_rank:
            d["c1"], d["c2"] = c1, c2
    return per_rank


def gold(per_rank, out, transposed=False):
    get = lambda key: None if key not in per_rank[0] else [d[key] for d in per_rank]  # noqa: E731
    return golden.quant_matmul_all_reduce(
        get("x1"), get("x2"), get("dequant"), x1_scale=get("pertoken"), bias=get("bias"), x3=get("x3"),
        comm_quant_scale_1=per_rank[0].get("c1"), comm_quant_scale_2=per_rank[0].get("c2"),
        out_dtype=out, x2_transposed=transposed)


def run_python(version, t, comm, stream, out):
    kwargs = {KEYWORDS[key]: t[key] for key in KEYWORDS if key in t}
    return FUNCTIONS[version](t["x1"], t["x2"], t["dequant"], group=comm, stream=stream, out_dtype=out, **kwargs)


def raw_args(version, t, group, reduce_op="sum", comm_turn=0, stream_mode=1):
    """The phase-1 arguments in header order (NULL for absent tensors)."""
    values = {key: ffi.NULL if value is None else value.handle for key, value in t.items()}
    values.update(group=ffi.new("char[]", group.encode()) if group is not None else ffi.NULL,
                  reduce_op=ffi.NULL if reduce_op is None else ffi.new("char[]", reduce_op.encode()),
                  comm_turn=comm_turn, stream_mode=stream_mode)
    return [values.get(key, ffi.NULL) for key in C_ORDER[version]]


def run_raw(version, t, comm, stream, out):
    """Both phases through aclnn_py.lib, workspace from aclrtMalloc; returns the output tensor."""
    lib, op = aclnn_py.lib, OPS[version]
    t = dict(t, out=Tensor.empty(t["x1"].shape[:-1] + (t["x2"].shape[1],), out))
    args = raw_args(version, t, comm.name)
    size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
    check_aclnn(getattr(lib, op + "GetWorkspaceSize")(*args, size, executor), op + "GetWorkspaceSize")
    assert size[0] > 0
    workspace = ffi.new("void **")
    assert lib.aclrtMalloc(workspace, size[0], 0) == 0
    check_aclnn(getattr(lib, op)(workspace[0], size[0], executor[0], stream.handle), op)
    stream.synchronize()
    assert lib.aclrtFree(workspace[0]) == 0
    return t["out"]


def run_case(version, per_rank, out, api, *, transposed=False, nz=False):
    ranks = len(per_rank)
    with communicators(ranks) as comms:
        def rank_fn(rank, stream):
            t = device_tensors(per_rank[rank], stream, transposed=transposed, nz=nz)
            result = (run_python if api == "python" else run_raw)(version, t, comms[rank], stream, out)
            return result.to_numpy

        results = run_ranks(ranks, rank_fn)
    expected = gold(per_rank, out, transposed)
    for result in results:
        assert result.shape == expected.shape
        assert_close(result, expected, out)
        if mock_library():  # the mock reduces once and hands every rank the same bits
            np.testing.assert_array_equal(result.view(np.uint16), results[0].view(np.uint16))
    return results, expected


# --------------------------------------------------------------------------- values
A2_CASES = [  # (id, version, inputs, layout)
    ("v1-fp16-uint64", 1, dict(out="float16"), {}),
    ("v1-bf16-3d", 1, dict(out="bfloat16", batch=2, m=5), {}),
    ("v1-fp16-transposed", 1, dict(out="float16", x3=False), dict(transposed=True)),
    ("v1-fp16-nz", 1, dict(out="float16", k=40, n=50), dict(nz=True)),
    ("v2-fp16-uint64", 2, dict(out="float16"), {}),
    ("v2-fp16-pertoken", 2, dict(out="float16", pertoken=True), {}),
    ("v2-bf16-pertoken-3d", 2, dict(out="bfloat16", pertoken=True, batch=3, m=4), dict(transposed=True)),
    ("v3-fp16-lowbit-pertoken", 3, dict(out="float16", pertoken=True, comm=True), {}),
    ("v3-bf16-lowbit", 3, dict(out="bfloat16", comm=True), {}),
    ("v3-bf16-pertoken", 3, dict(out="bfloat16", pertoken=True), {}),
]
P950_CASES = [A2_CASES[0], A2_CASES[5], A2_CASES[7], A2_CASES[8]]
RUNS = [(1, "python"), (1, "raw"), (2, "python"), (2, "raw")]


@pytest.mark.parametrize("soc", [A2], indirect=True)
@pytest.mark.parametrize("ranks,api", RUNS, ids=[f"{r}rank-{a}" for r, a in RUNS])
@pytest.mark.parametrize("case", A2_CASES, ids=[c[0] for c in A2_CASES])
def test_values_a2(soc, case, ranks, api):
    _, version, inputs, layout = case
    run_case(version, make_case(version, ranks, **inputs), inputs["out"], api, **layout)


@pytest.mark.parametrize("soc", [P950], indirect=True)
@pytest.mark.parametrize("api", ["python", "raw"])
@pytest.mark.parametrize("case", P950_CASES, ids=[c[0] for c in P950_CASES])
def test_values_950(soc, case, api):
    _, version, inputs, layout = case
    run_case(version, make_case(version, 2, seed=7, **inputs), inputs["out"], api, **layout)


@pytest.mark.parametrize("soc", [A2], indirect=True)
def test_lowbit_communication_differs_from_plain_all_reduce(soc):
    """V3 with commQuantScales runs formula 1 (int8 quantized exchange), not formula 3."""
    per_rank = make_case(3, 2, seed=3, out="float16", pertoken=True, comm=True)
    results, expected = run_case(3, per_rank, "float16", "python")
    plain = gold([{k: v for k, v in d.items() if k not in ("c1", "c2")} for d in per_rank], "float16")
    assert not np.array_equal(results[0], plain)


@pytest.mark.parametrize("soc", [A2], indirect=True)
@pytest.mark.parametrize("version", [1, 2, 3])
def test_plans_execute_repeatedly(soc, version):
    inputs = dict(out="float16", pertoken=version != 1, comm=version == 3)
    first_in, second_in = make_case(version, 1, seed=11, **inputs), make_case(version, 1, seed=12, **inputs)
    with communicators(1) as comms:
        def rank_fn(rank, stream):
            d = first_in[0]
            kwargs = {KEYWORDS[key]: d[key] for key in KEYWORDS if key in d}
            with PLANS[version](d["x1"], d["x2"], d["dequant"], group=comms[0], **kwargs) as plan:
                plan.execute(stream)
                stream.synchronize()
                first = plan.out.to_numpy()
                plan.tensors["x1"].copy_from_numpy(second_in[0]["x1"])
                plan.execute(stream)
                stream.synchronize()
                return first, plan.out.to_numpy()

        first, second = run_ranks(1, rank_fn)[0]
    second_in[0] = dict(first_in[0], x1=second_in[0]["x1"])
    assert_close(first, gold(first_in, "float16"), "float16")
    assert_close(second, gold(second_in, "float16"), "float16")
    assert not np.array_equal(first, second)


# --------------------------------------------------------------------------- errors
def _t(shape, dtype):
    return Tensor.empty(shape, dtype)


def base_spec(version, m=16, k=64, n=32):
    """A valid call: INT8, UINT64 dequantScale, FLOAT16 output (Tensors)."""
    spec = dict(x1=_t((m, k), "int8"), x2=_t((k, n), "int8"), bias=None, x3=None, dequant=_t((n,), "uint64"),
                out=_t((m, n), "float16"), reduce_op="sum", comm_turn=0, stream_mode=1)
    if version >= 2:
        spec["pertoken"] = None
    if version == 3:
        spec["c1"] = spec["c2"] = None
    return spec


def raw_status(version, spec, group):
    lib, op = aclnn_py.lib, OPS[version]
    tensors = {key: spec[key] for key in C_ORDER[version] if key in spec and key not in
               ("reduce_op", "comm_turn", "stream_mode")}
    args = raw_args(version, tensors, group, spec["reduce_op"], spec["comm_turn"], spec["stream_mode"])
    size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
    status = getattr(lib, op + "GetWorkspaceSize")(*args, size, executor)
    message = recent_message() if status else ""
    if status == 0:
        lib.aclDestroyAclOpExecutor(executor[0])
    return status, message


def binding_status(version, spec, group):
    kwargs = {KEYWORDS[key]: spec[key] for key in KEYWORDS if key in spec}
    try:
        plan = PLANS[version](spec["x1"], spec["x2"], spec["dequant"], group=group, out=spec["out"],
                              reduce_op=spec["reduce_op"], comm_turn=spec["comm_turn"],
                              stream_mode=spec["stream_mode"], **kwargs)
    except StatusError as exc:
        assert exc.function == OPS[version] + "GetWorkspaceSize"
        return exc.code, exc.message
    plan.close()
    return 0, ""


COMMON_RULES = [  # every version
    ("x1 null", mutation(x1=None), 161001, "x1 is a null pointer"),
    ("dequantScale null", mutation(dequant=None), 161001, "dequantScale is a null pointer: dequantScale is required"),
    ("reduceOp null", mutation(reduce_op=None), 161001, "reduceOp is a null pointer"),
    ("x1 dtype", mutation(x1=lambda: _t((16, 64), "float16")), 161002, "x1 dtype FLOAT16 is not supported: expected INT8"),
    ("x2 dtype", mutation(x2=lambda: _t((64, 32), "int16")), 161002, "x2 dtype INT16 is not supported: expected INT8"),
    ("dequantScale dtype", mutation(dequant=lambda: _t((32,), "int32")), 161002,
     "dequantScale dtype INT32 is not supported: expected INT64, UINT64"),
    ("output dtype", mutation(out=lambda: _t((16, 32), "float32")), 161002,
     "output dtype FLOAT is not supported for INT8 x1: expected FLOAT16 or BF16"),
    ("bias dtype", mutation(bias=lambda: _t((32,), "float32")), 161002,
     "bias dtype FLOAT is not supported: expected INT32"),
    ("x3 dtype", mutation(x3=lambda: _t((16, 32), "bfloat16")), 161002,
     "x3 dtype BF16 is not supported: x3 must have the output dtype FLOAT16"),
    ("bf16 output with uint64", mutation(out=lambda: _t((16, 32), "bfloat16")), 161002,
     "dequantScale dtype UINT64 does not match output dtype BF16"),
    ("reduceOp max", mutation(reduce_op="max"), 161002, 'reduceOp "max" is not supported: only "sum"'),
    ("reduceOp prefix", mutation(reduce_op="summ"), 161002, 'reduceOp "summ" is not supported'),
    ("streamMode", mutation(stream_mode=0), 161002, "streamMode 0 is not supported"),
    ("x1 rank", mutation(x1=lambda: _t((64,), "int8")), 161002, "x1 must be 2-D (m, k) or 3-D (b, s, k)"),
    ("k mismatch", mutation(x2=lambda: _t((63, 32), "int8")), 161002, "x1 last dim 64 must equal x2 k dim 63"),
    ("output shape", mutation(out=lambda: _t((16, 31), "float16")), 161002, "output shape [16, 31] must be x1 shape"),
    ("bias shape", mutation(bias=lambda: _t((31,), "int32")), 161002, "bias must be 1-D of length n = 32"),
    ("dequantScale shape", mutation(dequant=lambda: _t((33,), "uint64")), 161002,
     "dequantScale shape [33] is not supported: expected [1] (pertensor), [32] or [1, 32] (perchannel)"),
    ("dequantScale 2-D", mutation(dequant=lambda: _t((2, 32), "uint64")), 161002, "dequantScale shape [2, 32]"),
    ("x1 empty", mutation(x1=lambda: _t((0, 64), "int8"), out=lambda: _t((0, 32), "float16")), 161002, "x1 is empty"),
    ("commTurn", mutation(comm_turn=1), 561002, "commTurn 1 is not supported: only 0"),
    ("k limit", mutation(x1=lambda: _t((1, 65536), "int8"), x2=lambda: _t((65536, 32), "int8"),
                     out=lambda: _t((1, 32), "float16")), 561002, "k = 65536 exceeds the limit 65535"),
    ("int64 dequantScale ok", mutation(dequant=lambda: _t((1, 32), "int64")), 0, ""),
    ("pertensor bf16 ok", mutation(dequant=lambda: _t((1,), "bfloat16"), out=lambda: _t((16, 32), "bfloat16")), 0, ""),
]
V1_RULES = [
    ("output null before dequantScale", mutation(out=None, dequant=None), 161001, "output is a null pointer"),
    # V1's aclnn layer takes a FLOAT dequantScale (the code shares V2's list; V1's doc does not list it);
    # V1 has no pertokenScale, so the tiling stage refuses it
    ("float dequantScale", mutation(dequant=lambda: _t((32,), "float32")), 561002,
     "dequantScale dtype FLOAT is not supported for INT8 x1 and FLOAT16 output without a per-token scale"),
]
V2_RULES = [
    ("output null before dequantScale", mutation(out=None, dequant=None), 161001, "output is a null pointer"),
    ("pertokenScale dtype", mutation(pertoken=lambda: _t((16,), "float16"), dequant=lambda: _t((32,), "float32")),
     161002, "pertokenScale dtype FLOAT16 is not supported: expected FLOAT"),
    ("pertokenScale shape", mutation(pertoken=lambda: _t((15,), "float32"), dequant=lambda: _t((32,), "float32")),
     161002, "pertokenScale shape [15] is not supported: pertoken pertokenScale must be [16]"),
    ("fp16 pertoken needs float dequantScale", mutation(pertoken=lambda: _t((16,), "float32")), 161002,
     "dequantScale dtype UINT64 does not match pertokenScale dtype FLOAT: with FLOAT16 output and a "
     "pertokenScale, dequantScale must be FLOAT"),
    ("fp16 float dequantScale without pertoken", mutation(dequant=lambda: _t((32,), "float32")), 561002,
     "dequantScale dtype FLOAT is not supported for INT8 x1 and FLOAT16 output without pertokenScale: "
     "expected UINT64 or INT64"),
    ("pertoken 3-D ok", mutation(x1=lambda: _t((2, 8, 64), "int8"), out=lambda: _t((2, 8, 32), "float16"),
                             pertoken=lambda: _t((16,), "float32"), dequant=lambda: _t((32,), "float32")), 0, ""),
]
V3_RULES = [
    ("dequantScale null before output", mutation(out=None, dequant=None), 161001, "dequantScale is a null pointer"),
    ("one commQuantScale", mutation(c1=lambda: _t((32,), "float16")), 161002,
     "commQuantScale1 and commQuantScale2 must both be null or both be given"),
    ("commQuantScale shape", mutation(c1=lambda: _t((2, 32), "float16"), c2=lambda: _t((2, 32), "float16")), 161002,
     "commQuantScale1 shape [2, 32] is not supported: expected [32] or [1, 32]"),
    ("commQuantScale shapes differ", mutation(c1=lambda: _t((32,), "float16"), c2=lambda: _t((1, 32), "float16")),
     161002, "commQuantScale1 shape [32] must equal commQuantScale2 shape [1, 32]"),
    ("commQuantScale dtype", mutation(c1=lambda: _t((32,), "bfloat16"), c2=lambda: _t((32,), "bfloat16")), 161002,
     "commQuantScale1 dtype BF16 is not supported: expected FLOAT16 or BFLOAT16 equal to the output dtype FLOAT16"),
    ("empty commQuantScale", mutation(c1=lambda: _t((0,), "float16"), c2=lambda: _t((0,), "float16")), 161002,
     "commQuantScale1 shape [0] is not supported"),
    ("x2 empty", mutation(x2=lambda: _t((64, 0), "int8"), out=lambda: _t((16, 0), "float16")), 161002,
     "x2 is empty"),
    ("pertokenScale shape", mutation(pertoken=lambda: _t((1, 16), "float32"), dequant=lambda: _t((32,), "float32")),
     161002, "pertokenScale shape [1, 16] is not supported"),
    ("low-bit ok", mutation(c1=lambda: _t((1, 32), "float16"), c2=lambda: _t((1, 32), "float16")), 0, ""),
]
RULES = ([(1,) + r for r in COMMON_RULES + V1_RULES] + [(2,) + r for r in COMMON_RULES + V2_RULES]
         + [(3,) + r for r in COMMON_RULES + V3_RULES])


def _check_rule(version, mutate, code, fragment):
    with communicators(1) as comms:
        device = aclnn_py.Device(0)
        try:
            spec = mutate(base_spec(version))
            raw = raw_status(version, spec, comms[0].name)
            expect_status(raw[0], code, fragment, raw[1])
            texts = [raw[1]] if mock_library() else []
            if spec["out"] is not None:  # the binding allocates a missing output instead
                py = binding_status(version, spec, comms[0])
                expect_outcomes(py, raw)
                assert fragment in py[1], py  # the binding's rules: the project's wording everywhere
                texts.append(py[1])
            for text in texts:  # each version speaks its own parameter names
                assert "x1Scale" not in text and "x2Scale" not in text, text
        finally:
            device.close()


@pytest.mark.parametrize("soc", [A2], indirect=True)
@pytest.mark.parametrize("version,name,mutate,code,fragment", RULES, ids=[f"v{r[0]}-{r[1]}" for r in RULES])
def test_rules(soc, version, name, mutate, code, fragment):
    _check_rule(version, mutate, code, fragment)


RULES_950 = [
    ("fp8 x1", mutation(x1=lambda: _t((16, 64), "float8_e4m3fn")), 161002,
     "x1 dtype FLOAT8_E4M3FN is not supported: expected INT8"),
    ("mx scale", mutation(dequant=lambda: _t((32, 1, 2), "float8_e8m0")), 161002,
     "dequantScale dtype FLOAT8_E8M0 is not supported"),
    ("valid", lambda spec: spec, 0, ""),
]


@pytest.mark.parametrize("soc", [P950], indirect=True)
@pytest.mark.parametrize("version", [1, 2, 3])
@pytest.mark.parametrize("name,mutate,code,fragment", RULES_950, ids=[r[0] for r in RULES_950])
def test_rules_950(soc, version, name, mutate, code, fragment):
    _check_rule(version, mutate, code, fragment)


@pytest.mark.parametrize("soc", [P950], indirect=True)
@pytest.mark.parametrize("version", [1, 2, 3])
def test_nz_x2_rejected_on_950(soc, version):
    with communicators(1) as comms:
        def rank_fn(rank, stream):
            spec = base_spec(version)
            spec["x2"] = trans_matmul_weight(nz_weight_tensor(np.ones((64, 32), np.int8), stream=stream), stream)
            return raw_status(version, spec, comms[0].name), binding_status(version, spec, comms[0])

        raw, py = run_ranks(1, rank_fn)[0]
    fragment = f"x2 in FRACTAL_NZ format is not supported on Ascend 950: {OPS[version]} takes an ND x2"
    expect_status(raw[0], 161002, fragment, raw[1])
    expect_outcomes(py, raw)
    assert fragment in py[1]


@pytest.mark.parametrize("soc", [A2], indirect=True)
@pytest.mark.parametrize("version", [1, 2, 3])
def test_rank_count_a2(soc, version):
    with communicators(3) as comms:
        device = aclnn_py.Device(0)
        try:
            spec = base_spec(version)
            raw = raw_status(version, spec, comms[0].name)
            fragment = "group rank count 3 is not supported on Atlas A2"
            expect_status(raw[0], 561002, fragment, raw[1])
            py = binding_status(version, spec, comms[0])
            expect_outcomes(py, raw)
            assert fragment in py[1]
        finally:
            device.close()


@pytest.mark.parametrize("soc", [A3], indirect=True)
@pytest.mark.parametrize("version", [1, 2, 3])
def test_a3_unsupported(soc, version):
    with communicators(1) as comms:
        device = aclnn_py.Device(0)
        try:
            raw = raw_status(version, base_spec(version), comms[0].name)
        finally:
            device.close()
    expect_status(raw[0], 361001, f"{OPS[version]} is not supported on Atlas A3", raw[1])
