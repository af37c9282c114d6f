"""The ``fast`` extra's exact integer products (mock_runtime/core/int_kernel.py: onnxruntime's
MatMulInteger): exact against an int64 reference at the operators' extremes (rows and columns of
-128 and 127, the largest k the operators allow, k split into chunks, int4, any strides), the
probe that keeps a saturating form out, and the operators' outputs bit-identical with and
without it. The pure layer's hook: tests/semantics/test_golden_helpers.py."""
from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import textwrap

import ml_dtypes
import numpy as np
import pytest

from binding_helpers import communicators, run_comm_ranks
from mock_helpers import ROOT

from aclnn_py import Tensor
from aclnn_py.ops import grouped_matmul_v5, quant_matmul_all_reduce_v4
from aclnn_py.selfcheck import grouped_matmul as cases
from aclnn_py.semantics import matmul
from aclnn_py.semantics.grouped_matmul import golden as grouped_golden
from aclnn_py.semantics.quant_matmul_all_reduce import golden as qmmar_golden
from aclnn_py.semantics.quant_matmul_all_reduce.rules import MAX_K
from aclnn_py.semantics.quant_params import trans_quant_param
from mock_runtime.core import compute, int_kernel  # noqa: F401 -- compute installs the kernel

pytestmark = pytest.mark.skipif(int_kernel.unusable() is not None, reason=str(int_kernel.unusable()))


@pytest.fixture(scope="module")
def kernel() -> int_kernel.Kernel:
    """The kernel the compute pool installed, its form chosen by the probe on this machine."""
    installed = matmul.installed_int_kernel()
    assert isinstance(installed, int_kernel.Kernel)
    assert installed.form() is not None and installed.form().name in ("u8s8", "u8u8")
    return installed


def reference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a.astype(np.int64) @ b.astype(np.int64)


def extremes(m: int, k: int, n: int, rng: np.random.Generator, low: int = -128, high: int = 127):
    """Random operands whose first rows (columns) are all ``low``, all ``high`` and alternating."""
    a = rng.integers(low, high + 1, (m, k)).astype(np.int8)
    b = rng.integers(low, high + 1, (k, n)).astype(np.int8)
    alternating = np.where(np.arange(k) % 2, high, low)
    a[:3] = np.stack([np.full(k, low), np.full(k, high), alternating])[:m]
    b[:, :3] = np.stack([np.full(k, low), np.full(k, high), alternating[::-1]], axis=1)[:, :n]
    return a, b


@pytest.mark.parametrize("m, k, n", [(7, 300, 9), (1, 1000, 5), (3, MAX_K, 4), (5, 2 * int_kernel.CHUNK + 7, 6)],
                         ids=["small", "vector", "largest-k", "three-chunks"])
def test_exact_at_the_extremes(kernel, m, k, n):
    """Rows and columns of -128, 127 and both alternating, up to the largest k of the operators
    (65535: 65535 * 2**14 still fits int32) and across chunks of k."""
    a, b = extremes(m, k, n, np.random.default_rng(k))
    got = kernel(a, b)
    assert got.dtype == np.int32 and got.shape == (m, n)
    np.testing.assert_array_equal(got, reference(a, b))
    if k == MAX_K:
        assert got[0, 0] == MAX_K * 2**14


def test_exact_for_int4_and_any_strides(kernel):
    rng = np.random.default_rng(4)
    a4, b4 = extremes(6, 203, 5, rng, -8, 7)
    a4, b4 = a4.astype(ml_dtypes.int4), b4.astype(ml_dtypes.int4)
    np.testing.assert_array_equal(kernel(a4, b4), reference(a4, b4))
    a, b = extremes(9, 130, 8, rng)
    np.testing.assert_array_equal(kernel(a[::2, 1:], b[1:, ::2]), reference(a[::2, 1:], b[1:, ::2]))
    np.testing.assert_array_equal(kernel(b.T, a.T), reference(b.T, a.T))
    for m, k, n in ((0, 5, 3), (3, 0, 4), (3, 5, 0)):
        np.testing.assert_array_equal(kernel(np.ones((m, k), np.int8), np.ones((k, n), np.int8)), np.full((m, n), k))


class _Saturating:
    """A stand-in form adding each pair of byte products in int16 with saturation, as the
    unsigned x signed kernels of AVX2 and AVX-512 without VNNI do."""

    name = "u8s8"

    def product(self, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
        unsigned = a.astype(np.int64) + 128
        k = a.shape[1] + a.shape[1] % 2
        ua = np.zeros((a.shape[0], k), np.int64)
        ua[:, :a.shape[1]] = unsigned
        sb = np.zeros((k, b.shape[1]), np.int64)
        sb[:a.shape[1]] = b
        pairs = ua[:, 0::2, None] * sb[None, 0::2] + ua[:, 1::2, None] * sb[None, 1::2]
        out[...] = np.clip(pairs, -2**15, 2**15 - 1).sum(axis=1) - 128 * b.astype(np.int64).sum(axis=0)


class _Exact:
    name = "u8u8"

    def product(self, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
        out[...] = reference(a, b)


def test_the_probe_rejects_a_form_that_saturates():
    """Every probe shape has byte pairs beyond int16: a saturating form fails, an exact one passes."""
    assert not int_kernel.passes_probe(_Saturating().product)
    assert int_kernel.passes_probe(_Exact().product)
    rng = np.random.default_rng(0)  # the saturating form is exact where no pair leaves int16
    a, b = rng.integers(-128, 0, (4, 64)).astype(np.int8), rng.integers(-64, 64, (64, 3)).astype(np.int8)
    out = np.empty((4, 3), np.int32)
    _Saturating().product(a, b, out)
    np.testing.assert_array_equal(out, reference(a, b))


def test_the_form_the_probe_chose_here_is_exact_where_the_other_one_saturates(kernel):
    """On a CPU whose unsigned x signed kernel saturates (AVX2 without VNNI) the probe chose the
    unsigned x unsigned form; wherever it chose unsigned x signed, that form is exact. On every
    CPU the unsigned x signed form is exact where no pair of byte products leaves int16 (x < 0:
    x + 128 <= 127), so the form itself (its zero point, the signed w) is right."""
    signed = int_kernel.Form("u8s8", kernel._session(signed_b=True))
    assert kernel.form().name == ("u8s8" if int_kernel.passes_probe(signed.product) else "u8u8")
    rng = np.random.default_rng(5)
    x, w = rng.integers(-128, 0, (9, 300)).astype(np.int8), rng.integers(-128, 128, (300, 7)).astype(np.int8)
    x[0], w[:, 0] = -1, -128
    out = np.empty((9, 7), np.int32)
    signed.product(x, w, out)
    np.testing.assert_array_equal(out, reference(x, w))
    a, b = extremes(8, 512, 8, np.random.default_rng(1))
    out = np.empty((8, 8), np.int32)
    kernel.form().product(a, b, out)
    np.testing.assert_array_equal(out, reference(a, b))


def test_a_broken_onnxruntime_declines_with_a_warning(monkeypatch):
    broken = int_kernel.Kernel(1)

    def fail(signed_b: bool):
        raise ImportError("libonnxruntime.so: cannot open shared object file")

    monkeypatch.setattr(broken, "_session", fail)
    with pytest.warns(RuntimeWarning, match="ImportError: libonnxruntime.so"):
        assert broken(np.ones((2, 3), np.int8), np.ones((3, 2), np.int8)) is None
    assert broken(np.ones((2, 3), np.int8), np.ones((3, 2), np.int8)) is None  # decided once


@pytest.mark.parametrize("version, reason", [(None, "onnxruntime is not installed"),
                                             ("1.29.0", "onnxruntime 1.29.0 is outside 1.19 <= version < 1.29"),
                                             ("1.18.1", "onnxruntime 1.18.1 is outside"), ("2.0.dev1", "outside")])
def test_not_installed_without_a_supported_onnxruntime(monkeypatch, version, reason):
    before = matmul.installed_int_kernel()

    def installed(name):
        if version is None:
            raise importlib.metadata.PackageNotFoundError(name)
        return version

    monkeypatch.setattr(importlib.metadata, "version", installed)
    assert reason in int_kernel.unusable()
    assert int_kernel.install(2) is None
    assert matmul.installed_int_kernel() is before  # untouched


FORKED = textwrap.dedent("""
    import os, sys
    import numpy as np
    from mock_runtime.core import compute
    from aclnn_py.semantics import matmul
    a = np.full((4, 300), -128, np.int8)
    a[1] = 127
    want = a.astype(np.int64) @ a.T.astype(np.int64)
    kernel = matmul.installed_int_kernel()
    assert (matmul.int_matmul(a, a.T) == want).all() and kernel.form() is not None
    pid = os.fork()
    if pid == 0:  # a normal exit: the interpreter's and the libraries' exit handlers run
        sys.exit(0 if (matmul.int_matmul(a, a.T) == want).all() and kernel.form() is not None else 3)
    _, status = os.waitpid(pid, 0)
    print("child exit code", os.waitstatus_to_exitcode(status))
""")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_computes_and_exits(kernel):
    """A child forked after the parent's products makes its own session, computes, and exits
    normally (onnxruntime 1.29 and later hang such a child at exit: the version range)."""
    result = subprocess.run([sys.executable, "-c", FORKED], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "child exit code 0", result.stdout + result.stderr


# --------------------------------------------------------------------------- bit-identical operators

def both_paths(kernel, compute_outputs):
    """``compute_outputs()`` with the kernel (it must be used) and on float32 BLAS only."""
    used = []

    def counting(a, b):
        used.append(a.shape)
        return kernel(a, b)

    previous = matmul.set_int_kernel(counting)
    try:
        fast = compute_outputs()
        matmul.set_int_kernel(None)
        blas = compute_outputs()
    finally:
        matmul.set_int_kernel(previous)
    assert used, "the kernel was not used"
    return fast, blas


def assert_same_bits(fast, blas):
    assert len(fast) == len(blas)
    for f, b in zip(fast, blas):
        assert f.dtype == b.dtype and f.shape == b.shape
        np.testing.assert_array_equal(np.ascontiguousarray(f).view(np.uint8), np.ascontiguousarray(b).view(np.uint8))


def qmmar_inputs(formula: int, out: str, rng: np.random.Generator, m=24, k=2600, n=40):
    """Rank inputs of an int8 formula: extreme rows and columns, an int32 bias, a per-channel
    scale (bfloat16 for a bfloat16 output; for a float16 one packed, or float32 with per-token
    scales: formula 3)."""
    x1, x2 = extremes(m, k, n, rng)
    raw = rng.uniform(1e-6, 2e-6, n).astype(np.float32)
    scale = raw if formula == 3 else trans_quant_param(raw)
    d = {"x1": x1, "x2": x2, "bias": rng.integers(-2**20, 2**20, n).astype(np.int32),
         "x2_scale": raw.astype(ml_dtypes.bfloat16) if out == "bfloat16" else scale}
    if formula == 3:
        d["x1_scale"] = rng.uniform(0.5, 1.5, m).astype(np.float32)
    return d


@pytest.mark.parametrize("formula, out", [(1, "bfloat16"), (2, "float16"), (3, "bfloat16"), (3, "float16")])
def test_quant_matmul_all_reduce_goldens_are_bit_identical(kernel, formula, out):
    rng = np.random.default_rng(formula)
    ranks = [qmmar_inputs(formula, out, rng) for _ in range(2)]
    comm = {}
    if formula == 1:
        comm = {"comm_quant_scale_1": np.full(40, 8, np.float32).astype(ml_dtypes.bfloat16),
                "comm_quant_scale_2": np.full(40, 16, np.float32).astype(ml_dtypes.bfloat16)}

    def outputs():
        per_rank = {key: [r[key] for r in ranks] if key in ranks[0] else None
                    for key in ("x1", "x2", "x2_scale", "x1_scale", "bias")}
        return [qmmar_golden.quant_matmul_all_reduce(
            per_rank["x1"], per_rank["x2"], per_rank["x2_scale"], x1_scale=per_rank["x1_scale"],
            bias=per_rank["bias"], out_dtype=out, **comm)]

    assert_same_bits(*both_paths(kernel, outputs))


INTEGER_CASES = [(name, build) for name, build, profiles in cases.CASES
                 if name.split("/")[1] in ("a8w8", "a8w4", "a4w4") and not name.endswith("nz-weight")]


@pytest.mark.parametrize("profile", ["A2", "950"])
@pytest.mark.parametrize("name, build", INTEGER_CASES, ids=[name for name, _ in INTEGER_CASES])
def test_grouped_matmul_goldens_are_bit_identical(kernel, name, build, profile):
    """Every integer scenario of the self-check (A8W8 with each output dtype, A8W4 with both
    profiles' formulas, A4W4) on both profiles."""
    call = build(np.random.default_rng(len(name)), profile)

    def outputs():
        return grouped_golden.grouped_matmul(
            call.x, call.weight, **call.params, group_list=call.group_list, split_item=call.split_item,
            group_type=call.group_type, group_list_type=call.group_list_type, act_type=call.act_type,
            out_dtype=call.out_dtype, profile=profile)

    assert_same_bits(*both_paths(kernel, outputs))


def test_quant_matmul_all_reduce_on_the_mock_is_bit_identical(kernel, runtime):
    """The operator itself (the mock's stream task on the compute pool), V4 formula 3, 2 ranks."""
    rng = np.random.default_rng(7)
    ranks = [qmmar_inputs(3, "bfloat16", rng, m=16, k=3000, n=24) for _ in range(2)]

    def rank(comm, stream) -> np.ndarray:
        d = ranks[comm.rank]
        result = quant_matmul_all_reduce_v4(d["x1"], d["x2"], d["x2_scale"], x1_scale=d["x1_scale"], bias=d["bias"],
                                            group=comm, stream=stream, out_dtype="bfloat16")
        stream.synchronize()
        value = result.to_numpy()
        result.close()
        return value

    def outputs():
        with communicators(2) as comms:
            results, errors = run_comm_ranks(comms, rank)
        assert not errors, errors
        return [results[0], results[1]]

    fast, blas = both_paths(kernel, outputs)
    assert_same_bits(fast, blas)
    assert_same_bits(fast[:1], fast[1:])  # every rank has the sum


def test_grouped_matmul_on_the_mock_is_bit_identical(kernel, stream):
    """The operator itself, A8W8 with a per-token scale and a bfloat16 output, three experts busy."""
    rng = np.random.default_rng(8)
    x, _ = extremes(20, 2100, 1, rng)
    w = np.stack([extremes(1, 2100, 16, rng)[1] for _ in range(4)])
    scale = rng.uniform(1e-4, 1e-3, (4, 16)).astype(ml_dtypes.bfloat16)
    pts = rng.uniform(0.5, 1.5, 20).astype(np.float32)
    counts = np.array([5, 0, 7, 8], np.int64)

    def outputs():
        outs = grouped_matmul_v5([x], [w], stream=stream, scale=[scale], per_token_scale=[pts],
                                 group_list=Tensor.from_numpy(counts), group_list_type=1, split_item=3,
                                 group_type=0, out_dtype="bfloat16")
        stream.synchronize()
        return [o.to_numpy() for o in outs]

    assert_same_bits(*both_paths(kernel, outputs))
