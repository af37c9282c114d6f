"""QuantMatmulAllReduce on the mock: the call the mock computes from is the one the golden
classifies (one classification), rank counts beyond eight devices (ACLNN_MOCK_DEVICE_COUNT),
and the C++ programs: the example of examples/c and tests/mock/c/quant_matmul_all_reduce_v123.cpp (V1-V3 from C++
on 2 thread-ranks). The binding's own QuantMatmulAllReduce tests: tests/binding/test_quant_matmul_all_reduce*.py."""
from __future__ import annotations

import functools
import os
import subprocess
import sys

import ml_dtypes
import numpy as np
import pytest

from binding_helpers import communicators
from mock_helpers import C_DIR, ROOT, build_cpp, mock_soc, require_tool, run_program

import aclnn_py
from aclnn_py import ffi, hccl
from aclnn_py.check import recent_message
from aclnn_py.errors import AclnnInternalError
from aclnn_py.ops import nz_weight_tensor, quant_matmul_all_reduce_v4, trans_matmul_weight
from aclnn_py.semantics import codecs, dtypes
from aclnn_py.semantics.descriptors import FRACTAL_NZ
from aclnn_py.semantics.quant_matmul_all_reduce import golden
from aclnn_py.semantics.quant_params import encode_group_size, trans_quant_param

A2, P950 = "Ascend910B4", "Ascend950PR"
ONE_PER_FORMULA = [(1, "int8", "bfloat16"), (2, "int8", "float16"), (3, "int8", "float16"),
                   (4, "float8_e4m3fn", "float32"), (5, "hifloat8", "bfloat16"), (6, "float8_e5m2", "float16"),
                   (7, "float8_e4m3fn", "bfloat16"), (8, "float8_e5m2", "float32")]


@pytest.fixture(scope="module")
def p950(runtime):
    with mock_soc(P950):
        yield


def _x(rng, shape, name):
    if name == "int8":
        return rng.integers(-128, 128, shape).astype(np.int8)
    v = rng.standard_normal(shape).astype(np.float32)
    return codecs.hifloat8_encode(v) if name == "hifloat8" else v.astype(dtypes.host_dtype(name))


def inputs(formula, x, out, m=16, k=128, n=32):
    """One rank's host arrays and keyword arguments for ``formula`` (x2 given as (k, n), or
    transposed for MX)."""
    rng = np.random.default_rng(formula)
    d = {"x1": _x(rng, (m, k), x), "x2": _x(rng, (k, n), x)}
    kw: dict = {"out_dtype": out}
    if formula in (1, 2):
        d["x2_scale"] = (rng.uniform(0.5, 1.5, n).astype(ml_dtypes.bfloat16) / 1000 if out == "bfloat16"
                         else trans_quant_param(rng.uniform(1e-3, 2e-3, n).astype(np.float32)))
    elif formula == 5:
        d["x2_scale"] = trans_quant_param(rng.uniform(0.5, 2, n).astype(np.float32))
    elif formula == 4:
        d["x1_scale"] = codecs.e8m0_from_exponent(rng.integers(-3, 3, (m, k // 64, 2)))
        d["x2_scale"] = codecs.e8m0_from_exponent(rng.integers(-3, 3, (n, k // 64, 2)))
        kw["group_size"] = encode_group_size(1, 1, 32)
    elif formula == 7:
        d["x1_scale"] = rng.uniform(0.5, 1.5, (1, 1)).astype(np.float32)
        d["x2_scale"] = rng.uniform(0.5, 1.5, (1, 1)).astype(np.float32)
        kw["group_size"] = encode_group_size(128, 128, 128)
    else:  # 3, 6, 8: per token
        d["x1_scale"] = rng.uniform(0.5, 1.5, m).astype(np.float32)
        d["x2_scale"] = rng.uniform(1e-3, 2e-3, n).astype(np.float32 if out != "bfloat16" or formula != 3
                                                           else ml_dtypes.bfloat16)
        if formula in (6, 8):
            kw["comm_quant_mode"] = int(formula == 8)
    if formula == 1:
        host_out = dtypes.host_dtype(out)
        kw["comm_quant_scale_1"] = np.full(n, 8, np.float32).astype(host_out)
        kw["comm_quant_scale_2"] = np.full(n, 16, np.float32).astype(host_out)
    return d, kw


@pytest.mark.parametrize("formula,x,out", ONE_PER_FORMULA)
def test_mock_and_golden_share_one_classification(p950, formula, x, out, monkeypatch):
    """The QuantMatmulAllReduceCall the mock computes from (the rules' result for its device descriptors) is the
    one the golden classifies from the same host arrays; both give the doc's formula."""
    d, kw = inputs(formula, x, out)
    transposed = formula == 4  # MX needs a transposed x2
    calls = []
    compute = golden.partial

    @functools.wraps(compute)  # the mock reads the golden's parameters (a first import may come after this)
    def spy(call, *args, **kwargs):
        calls.append(call)
        return compute(call, *args, **kwargs)

    monkeypatch.setattr(golden, "partial", spy)  # the mock's stream task and the golden both use it
    xd = "hifloat8" if x == "hifloat8" else None
    with communicators(1) as (comm,), aclnn_py.Device(0), aclnn_py.Stream() as stream:
        x2 = aclnn_py.Tensor.from_numpy(np.ascontiguousarray(d["x2"].T) if transposed else d["x2"], xd, stream)
        result = quant_matmul_all_reduce_v4(d["x1"], x2.T if transposed else x2, d["x2_scale"],
                                            x1_scale=d.get("x1_scale"), group=comm, stream=stream, x_dtype=xd, **kw)
        stream.synchronize()
        got = result.to_numpy()
        result.close()
        x2.close()
    expected = golden.quant_matmul_all_reduce([d["x1"]], [d["x2"]], [d["x2_scale"]],
                                              x1_scale=None if "x1_scale" not in d else [d["x1_scale"]],
                                              x_dtype=x, x2_transposed=transposed, group_size=kw.get("group_size", 0),
                                              **{k: v for k, v in kw.items() if k != "group_size"})
    mock_call, host_call = calls  # the mock ran first, then the golden
    assert (mock_call.formula, mock_call.x_dtype, mock_call.out_dtype) == (formula, x, out)
    assert (host_call.formula, host_call.x_dtype, host_call.out_dtype) == (formula, x, out)
    assert mock_call.group_sizes == host_call.group_sizes == {4: (1, 1, 32), 7: (128, 128, 128)}.get(formula)
    np.testing.assert_array_equal(got.view(np.uint8), expected.view(np.uint8))


@pytest.mark.parametrize("soc,code", [(A2, 561002), (P950, 0)])
def test_rank_counts_beyond_eight_devices(runtime, soc, code):
    """16 ranks (ACLNN_MOCK_DEVICE_COUNT=16): refused on Atlas A2 (1, 2, 4 or 8), accepted on the 950."""
    with mock_soc(soc, devices=16):
        comms = hccl.init_all(list(range(16)))
        try:
            with aclnn_py.Device(0), aclnn_py.Stream() as stream:
                x1, x2 = aclnn_py.Tensor.empty((16, 64), "int8"), aclnn_py.Tensor.empty((64, 32), "int8")
                scale, out = aclnn_py.Tensor.empty((32,), "uint64"), aclnn_py.Tensor.empty((16, 32), "float16")
                size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
                status = aclnn_py.lib.aclnnQuantMatmulAllReduceV4GetWorkspaceSize(
                    x1.handle, x2.handle, ffi.NULL, ffi.NULL, ffi.NULL, scale.handle, ffi.NULL, ffi.NULL,
                    comms[0].name.encode(), b"sum", 0, 1, 0, 0, out.handle, size, executor)
                message = recent_message() if status else ""
                assert status == code, message
                if code:
                    assert "group rank count 16 is not supported on Atlas A2" in message
                    with pytest.raises(AclnnInternalError, match="group rank count 16"):
                        quant_matmul_all_reduce_v4(x1, x2, scale, group=comms[0], stream=stream, out=out)
                else:
                    assert aclnn_py.lib.aclDestroyAclOpExecutor(executor[0]) == 0
                for t in (x1, x2, scale, out):
                    t.close()
        finally:
            for comm in comms:
                comm.close()


def test_cpp_example(tmp_path):
    gxx = require_tool("g++")
    source = ROOT / "examples" / "c" / "quant_matmul_all_reduce_v4.cpp"
    libdir = subprocess.run([sys.executable, "-m", "mock_runtime", "libdir"], capture_output=True,
                            text=True, check=True, cwd=ROOT).stdout.strip()
    exe = tmp_path / "quant_matmul_all_reduce_v4"
    subprocess.run([gxx, "-std=c++17", "-O1", "-Wall", "-Wextra", "-Werror", "-I", str(ROOT / "include"),
                    str(source), "-o", str(exe),
                    f"-L{libdir}", f"-Wl,-rpath,{libdir}", "-lascendcl", "-lnnopbase", "-lopapi", "-lhccl",
                    "-lpthread"], check=True, capture_output=True, text=True)
    env = dict(os.environ, ACLNN_MOCK_SOC=A2)
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "max error 0" in run.stdout


@pytest.fixture(scope="module")
def cpp_program(tmp_path_factory, mock_libdir):
    return build_cpp([C_DIR / "quant_matmul_all_reduce_v123.cpp"], tmp_path_factory.mktemp("quant_matmul_all_reduce_v123") / "quant_matmul_all_reduce_v123", mock_libdir)


@pytest.mark.parametrize("soc_name", [A2, P950])
def test_cpp_program(cpp_program, mock_libdir, soc_name):
    """V1, V2, V3 from C++ on 2 thread-ranks: exact values and each version's errors, checked in C."""
    result = run_program(cpp_program, mock_libdir, {"ACLNN_MOCK_SOC": soc_name, "HCCL_EXEC_TIMEOUT": "30"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "failures=0" in result.stdout
    for rank in (0, 1):
        for version in ("V1", "V2", "V3"):
            assert f"rank {rank} {version} mismatches=0 of 128" in result.stdout
    assert result.stdout.count(" ok: ") == 10  # five error checks per rank
    differs = int(result.stdout.split("differs from a plain all-reduce at ")[1].split()[0])
    assert differs > 0  # the V3 check can tell low-bit communication from a plain AllReduce


def test_an_nz_x2_is_read_in_the_nz_layout_of_its_view_whatever_its_4d_storage_shape(runtime):
    """CANN takes a FRACTAL_NZ x2 with any 4-D storage shape (its shape checks are skipped, CANN's
    NzFormatWeightX2 cases); the mock reads the NZ layout of the view (C0 = 32 for INT8) from it, so
    [1, 1, 64, 128] over the bytes aclnnTransMatmulWeight wrote computes what the canonical NZ does."""
    rng = np.random.default_rng(5)
    x1 = rng.integers(-8, 8, (32, 64)).astype(np.int8)
    x2 = rng.integers(-8, 8, (64, 128)).astype(np.int8)
    scale = trans_quant_param(rng.uniform(1e-3, 2e-3, 128).astype(np.float32))
    with communicators(1) as (comm,), aclnn_py.Device(0), aclnn_py.Stream() as stream:
        canonical = trans_matmul_weight(nz_weight_tensor(x2, stream=stream), stream)
        relabelled = aclnn_py.Tensor(canonical.buffer, (64, 128), "int8", format=FRACTAL_NZ,
                                     storage_shape=(1, 1, 64, 128))
        results = [quant_matmul_all_reduce_v4(x1, w, scale, group=comm, stream=stream, out_dtype="float16")
                   for w in (canonical, relabelled)]
        stream.synchronize()
        got = [r.to_numpy() for r in results]
        for t in (*results, relabelled, canonical):
            t.close()
    expected = golden.quant_matmul_all_reduce([x1], [x2], [scale], out_dtype="float16", x_dtype="int8")
    np.testing.assert_array_equal(got[1].view(np.uint16), got[0].view(np.uint16))
    np.testing.assert_array_equal(got[0].view(np.uint16), expected.view(np.uint16))
