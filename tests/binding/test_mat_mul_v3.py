"""aclnnMm and aclnnMatmul through the binding (``aclnn_py.ops.mm`` / ``ops.matmul``, the generic
path from their headers): values against the golden under CANN's precision standard and exactly
for small integers, the output inferred, views, the NZ weight of aclnnTransMatmulWeight, and the
documented codes from the binding's rules and from the raw C entry points alike."""
from __future__ import annotations

import inspect

import ml_dtypes
import numpy as np
import pytest

import aclnn_py
from aclnn_py import Tensor, ffi, ops
from aclnn_py.errors import AclnnParamError
from aclnn_py.ops import current_profile, nz_weight_tensor, trans_matmul_weight
from aclnn_py.semantics import dtypes
from aclnn_py.semantics.descriptors import TensorDesc
from aclnn_py.semantics.mat_mul_v3 import golden, rules
from aclnn_py.semantics.precision import assert_close

from binding_helpers import expect_status, mock_library

HOST = {"float16": np.float16, "bfloat16": ml_dtypes.bfloat16, "float32": np.float32}


def _golden(op, a, b, out_dtype, cube):
    """The golden of one call: its classification by the rules, then the product."""
    self, mat2 = (TensorDesc.contiguous(x.shape, int(dtypes.of_array(x))) for x in (a, b))
    out = TensorDesc.contiguous(rules.result_shape(a.shape, b.shape), int(dtypes.from_name(out_dtype)))
    check = rules.check_mm if op == "mm" else rules.check_matmul
    return golden.compute(check(self, mat2, out, cube, current_profile() or "A2"), a, b)


@pytest.mark.parametrize("dtype,out_dtype,cube", [("float16", "float16", 0), ("float16", "float32", 0),
                                                  ("bfloat16", "bfloat16", 1), ("float32", "float32", 0),
                                                  ("float32", "float32", 1), ("float32", "float16", 2)])
def test_mm_against_the_golden(stream, dtype, out_dtype, cube):
    """Random positive inputs (no cancellation): the output within the standard of its dtype (and
    of FLOAT16 where HF32 or USE_FP16 round the FLOAT32 operands), bit-exact on the mock (it
    computes with the golden)."""
    rng = np.random.default_rng(3)
    a = rng.uniform(0.5, 1.0, (20, 96)).astype(HOST[dtype])
    b = rng.uniform(0.5, 1.0, (96, 24)).astype(HOST[dtype])
    with Tensor.empty((20, 24), out_dtype) as out:
        assert ops.mm(a, b, out=out, cube_math_type=cube, stream=stream) is out
        stream.synchronize()
        got = out.to_numpy()
    expected = _golden("mm", a, b, out_dtype, cube)
    assert_close(got, a.astype(np.float64) @ b.astype(np.float64), "float16" if cube in (1, 2) and
                 dtype == "float32" else out_dtype)
    if mock_library():
        assert np.array_equal(got.view(np.uint8), expected.view(np.uint8))


def test_mm_allocates_out_in_the_promoted_dtype(stream):
    parameters = inspect.signature(ops.mm).parameters
    assert list(parameters) == ["self", "mat2", "out", "cube_math_type", "stream"]
    assert parameters["out"].default is None and parameters["cube_math_type"].default == 0  # torch_npu's
    a = np.arange(12, dtype=np.float16).reshape(3, 4)
    b = np.ones((4, 2), np.float32)
    with ops.mm(a, b, stream=stream) as out:  # cube_math_type defaults to KEEP_DTYPE
        stream.synchronize()
        assert out.shape == (3, 2) and out.dtype == dtypes.DataType.ACL_FLOAT
        assert out.to_numpy().tolist() == [[6.0, 6.0], [22.0, 22.0], [38.0, 38.0]]


@pytest.mark.parametrize("a_shape,b_shape", [((33,), (33,)), ((5, 33), (33,)), ((33,), (33, 4)),
                                             ((2, 3, 5, 33), (33, 4)), ((3, 1, 5, 33), (2, 33, 4)),
                                             ((5, 33), (2, 33, 4)), ((2, 5, 33), (33,))])
def test_matmul_shapes_are_exact_for_small_integers(stream, a_shape, b_shape):
    """Integers |v| <= 3 with k = 33: exact in FLOAT16 and in the FLOAT32 accumulator: the
    result equals NumPy's int64 matmul, with torch.matmul's shape."""
    rng = np.random.default_rng(4)
    a = rng.integers(-3, 4, a_shape).astype(np.float16)
    b = rng.integers(-3, 4, b_shape).astype(np.float16)
    with ops.matmul(a, b, stream=stream) as out:
        stream.synchronize()
        expected = np.matmul(a.astype(np.int64), b.astype(np.int64))
        assert out.shape == expected.shape
        assert np.array_equal(out.to_numpy().astype(np.int64), expected)


def test_matmul_writes_the_product_into_an_out_of_another_shape(stream):
    """CANN reshapes the product into out's view (as many elements): row-major order."""
    a = np.arange(6, dtype=np.float32).reshape(3, 2)
    b = np.float32([[1, 0, 2, 1], [0, 1, 1, 1]])
    with Tensor.empty((2, 6), "float32") as out:
        ops.matmul(a, b, out=out, stream=stream)
        stream.synchronize()
        assert np.array_equal(out.to_numpy(), (a @ b).reshape(2, 6))


def test_views_in_and_out(stream):
    """A transposed self and mat2 and a strided out (every other column of a wider buffer)."""
    rng = np.random.default_rng(5)
    a = rng.integers(-3, 4, (16, 8)).astype(np.float16)  # stored (k, m): self is its transpose
    b = rng.integers(-3, 4, (12, 16)).astype(np.float16)  # stored (n, k): mat2 is its transpose
    with Tensor.from_numpy(a) as ta, Tensor.from_numpy(b) as tb, Tensor.empty((8, 24), "float16") as wide:
        wide.copy_from_numpy(np.full((8, 24), 7, np.float16))
        with wide.view((8, 12), (24, 2)) as out:
            ops.mm(ta.T, tb.T, out=out, stream=stream)
            stream.synchronize()
            got = wide.to_numpy()
    assert np.array_equal(got[:, ::2].astype(np.int64), a.T.astype(np.int64) @ b.T.astype(np.int64))
    assert (got[:, 1::2] == 7).all()  # the elements between out's are not written


def test_mm_takes_the_nz_weight_of_trans_matmul_weight(stream):
    """CANN's aclnnTransMatmulWeight doc sample: a FLOAT16 weight made FRACTAL_NZ, then aclnnMm."""
    rng = np.random.default_rng(6)
    x = rng.integers(-3, 4, (5, 40)).astype(np.float16)
    w = rng.integers(-3, 4, (40, 24)).astype(np.float16)
    with trans_matmul_weight(nz_weight_tensor(w, stream=stream), stream) as weight:
        assert weight.is_nz
        with ops.mm(x, weight, cube_math_type=1, stream=stream) as out:
            stream.synchronize()
            assert np.array_equal(out.to_numpy().astype(np.int64), x.astype(np.int64) @ w.astype(np.int64))


def test_documented_codes_from_the_binding_and_from_c(stream):
    lib = aclnn_py.lib
    size, ex = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
    with Tensor.from_numpy(np.ones((4, 8), np.float16)) as a, Tensor.from_numpy(np.ones((6, 3), np.float16)) as b, \
            Tensor.empty((4, 3), "float16") as out, Tensor.from_numpy(np.ones((4, 8), np.int8)) as i8:
        with pytest.raises(AclnnParamError, match=r"k-axis of self \[4, 8\] \(8\) and mat2 \[6, 3\] \(6\) differ"):
            ops.mm(a, b, out=out, stream=stream)
        expect_status(lib.aclnnMmGetWorkspaceSize(a.handle, b.handle, out.handle, 0, size, ex), 161002, "k-axis")
        expect_status(lib.aclnnMatmulGetWorkspaceSize(i8.handle, a.handle, out.handle, 0, size, ex), 161002,
                      "self dtype INT8 is not supported")
        expect_status(lib.aclnnMatmulGetWorkspaceSize(a.handle, a.handle, out.handle, 9, size, ex), 161002,
                      "cubeMathType 9")
        expect_status(lib.aclnnMmGetWorkspaceSize(a.handle, b.handle, ffi.NULL, 0, size, ex), 161001,
                      "out is a null pointer")
        expect_status(lib.aclnnMatmulGetWorkspaceSize(ffi.NULL, b.handle, out.handle, 0, size, ex), 161001,
                      "self is a null pointer")
        with pytest.raises(AclnnParamError, match="cubeMathType 5 is not supported"):
            ops.matmul(a, a.T, cube_math_type=5, stream=stream)
        with pytest.raises(AclnnParamError, match="do not broadcast"):
            ops.matmul(np.ones((2, 3, 4), np.float16), np.ones((3, 4, 5), np.float16), stream=stream)


@pytest.mark.aclnn_soc("Ascend950PR")
def test_fp16fp32_keep_dtype_is_refused_on_ascend_950(stream):
    with pytest.raises(AclnnParamError, match="not supported on Ascend 950"):
        ops.mm(np.ones((2, 2), np.float16), np.ones((2, 2), np.float16), cube_math_type=-1, stream=stream)
