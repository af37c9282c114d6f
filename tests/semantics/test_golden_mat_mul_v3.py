"""The golden of aclnnMm and aclnnMatmul against independent references: exact products of small
integers, float64 products under CANN's precision standard, and the roundings cubeMathType and
the product dtype add (values chosen so that each rounding shows)."""
from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from aclnn_py.semantics import dtypes
from aclnn_py.semantics.descriptors import TensorDesc
from aclnn_py.semantics.mat_mul_v3 import golden, rules
from aclnn_py.semantics.precision import assert_close

D = dtypes.DataType


def classify(op, a, b, out_dtype, cube=0, profile="A2"):
    shape = rules.result_shape(a.shape, b.shape)
    descs = [TensorDesc.contiguous(x.shape, int(dtypes.of_array(x))) for x in (a, b)]
    out = TensorDesc.contiguous(shape, int(dtypes.from_name(out_dtype)))
    check = rules.check_mm if op == "mm" else rules.check_matmul
    return check(*descs, out, cube, profile)


@pytest.mark.parametrize("op,a_shape,b_shape", [("mm", (7, 33), (33, 5)), ("matmul", (2, 3, 7, 33), (33, 5)),
                                                ("matmul", (33,), (2, 33, 4)), ("matmul", (33,), (33,))])
@pytest.mark.parametrize("dtype,out_dtype", [("float16", "float16"), ("bfloat16", "float32"), ("float32", "bfloat16")])
def test_small_integers_are_exact(op, a_shape, b_shape, dtype, out_dtype):
    """Integers of |v| <= 3 and k = 33: every product and partial sum is exact in every dtype involved."""
    rng = np.random.default_rng(1)
    a = rng.integers(-3, 4, a_shape).astype(dtypes.host_dtype(dtype))
    b = rng.integers(-3, 4, b_shape).astype(dtypes.host_dtype(dtype))
    result = golden.compute(classify(op, a, b, out_dtype), a, b)
    expected = np.matmul(a.astype(np.int64), b.astype(np.int64))
    assert result.dtype == dtypes.host_dtype(out_dtype) and result.shape == expected.shape
    assert np.array_equal(result.astype(np.int64), expected)


@pytest.mark.parametrize("dtype,out_dtype,cube", [("float16", "float16", 0), ("bfloat16", "bfloat16", 1),
                                                  ("float32", "float32", 0), ("float32", "float16", 2),
                                                  ("float32", "float32", 3)])
def test_random_values_within_the_precision_standard(dtype, out_dtype, cube):
    """Against float64 products of the inputs as given: positive values (no cancellation, so the
    relative errors measure the roundings), k = 256. The standard's thresholds are the output
    dtype's (2**-10 FLOAT16, 2**-7 BF16, 2**-13 FLOAT32); HF32 and USE_FP16 round the FLOAT32
    operands to 11 and 10 mantissa bits: relative error <= 2**-11 per operand, within FLOAT16's."""
    rng = np.random.default_rng(2)
    a = rng.uniform(0.5, 1.0, (24, 256)).astype(dtypes.host_dtype(dtype))
    b = rng.uniform(0.5, 1.0, (256, 40)).astype(dtypes.host_dtype(dtype))
    result = golden.compute(classify("mm", a, b, out_dtype, cube), a, b)
    reference = a.astype(np.float64) @ b.astype(np.float64)
    assert_close(result, reference, "float16" if cube in (2, 3) else out_dtype)


def test_hf32_rounds_to_eleven_mantissa_bits_ties_to_even():
    one = 1.0
    values = np.float32([one + 2**-12, one + 3 * 2**-12, one + 2**-12 + 2**-20, -(one + 2**-12 + 2**-20),
                         2.0**127 * (2 - 2**-12), np.inf, np.nan, 0.0])
    got = golden.to_hf32(values)
    expected = np.float32([one, one + 2**-10, one + 2**-11, -(one + 2**-11), np.inf, np.inf, np.nan, 0.0])
    assert np.array_equal(got, expected, equal_nan=True)


def test_cube_math_type_decides_the_rounding_of_float32_operands():
    a = np.float32([[1 + 2**-13]])
    b = np.float32([[1.0]])
    keep = golden.compute(classify("mm", a, b, "float32", 0), a, b)
    hf32 = golden.compute(classify("mm", a, b, "float32", 1), a, b)
    fp16 = golden.compute(classify("mm", a, b, "float32", 2), a, b)
    assert keep[0, 0] == np.float32(1 + 2**-13) and hf32[0, 0] == 1.0 and fp16[0, 0] == 1.0


def test_the_product_dtype_rounds_before_out():
    """FLOAT16 inputs: 1 + 2**-11 is exact in the FLOAT32 accumulator, a tie FLOAT16 rounds to 1."""
    a = np.float16([[1.0, 2**-11]])
    b = np.float16([[1.0], [1.0]])
    assert golden.compute(classify("mm", a, b, "float32"), a, b)[0, 0] == np.float32(1 + 2**-11)
    assert golden.compute(classify("mm", a, b, "float16"), a, b)[0, 0] == 1.0
    # FLOAT32 inputs under USE_FP16: the product is FLOAT16 even for a FLOAT32 out
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    assert golden.compute(classify("mm", a32, b32, "float32", 2), a32, b32)[0, 0] == 1.0


def test_a_dot_of_float16_and_bf16_is_float32():
    a = np.float16([1.0, 2**-11])
    b = np.ones(2, ml_dtypes.bfloat16)
    result = golden.compute(classify("matmul", a, b, "float32"), a, b)
    assert result.shape == () and result == np.float32(1 + 2**-11)


def test_an_empty_k_gives_zeros():
    a, b = np.zeros((3, 0), np.float16), np.zeros((0, 4), np.float16)
    result = golden.compute(classify("mm", a, b, "bfloat16"), a, b)
    assert result.dtype == ml_dtypes.bfloat16 and result.shape == (3, 4) and not result.astype(np.float32).any()
