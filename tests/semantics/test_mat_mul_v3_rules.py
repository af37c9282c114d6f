"""The rules of aclnnMm and aclnnMatmul on descriptors: CANN's order, codes and messages, the
dtype promotion under cubeMathType, the product's shape and the output inference."""
from __future__ import annotations

import pytest

from aclnn_py.semantics import dtypes, nz
from aclnn_py.semantics.descriptors import FRACTAL_NZ, TensorDesc
from aclnn_py.semantics.mat_mul_v3 import rules
from aclnn_py.semantics.status import INVALID, NULLPTR, Violation

D = dtypes.DataType
F32, F16, BF16 = D.ACL_FLOAT, D.ACL_FLOAT16, D.ACL_BF16


def T(shape, dtype=F16, **kw) -> TensorDesc:
    return TensorDesc.contiguous(shape, int(dtype), **kw)


def nz_weight(shape, dtype=F16) -> TensorDesc:
    desc = T(shape, dtype)
    return TensorDesc(desc.shape, desc.dtype, desc.strides, 0, FRACTAL_NZ,
                      nz.nz_storage_shape(shape, dtypes.name(dtype)))


def refused(check, *args, code=INVALID, match=""):
    with pytest.raises(Violation) as info:
        check(*args)
    assert info.value.code == code, info.value
    assert match in info.value.message, info.value.message
    return info.value


# --------------------------------------------------------------------------- aclnnMm

def test_mm_accepts_the_doc_sample_and_classifies_it():
    call = rules.check_mm(T((16, 32), F32), T((32, 16), F32), T((16, 16), F32), 1, "A2")
    assert (call.op, call.shape, call.operands, call.hf32, call.product, call.out) == \
        ("aclnnMm", (16, 16), "float32", True, "float32", "float32")
    assert not call.empty and not call.zeros and call.k == 32


def test_mm_null_pointers_in_canns_order():
    """aclnn_mm.cpp CheckNotNull: out, then self, then mat2."""
    refused(rules.check_mm, None, None, None, 0, "A2", code=NULLPTR, match="out is a null pointer")
    refused(rules.check_mm, None, None, T((2, 2)), 0, "A2", code=NULLPTR, match="self is a null pointer")
    refused(rules.check_mm, T((2, 2)), None, T((2, 2)), 0, "A2", code=NULLPTR, match="mat2 is a null pointer")


@pytest.mark.parametrize("name,dtype", [("self", D.ACL_INT8), ("mat2", D.ACL_DOUBLE), ("out", D.ACL_BOOL),
                                        ("self", D.ACL_HIFLOAT8)])
def test_mm_dtypes_are_float_float16_bf16(name, dtype):
    args = {"self": T((4, 8)), "mat2": T((8, 2)), "out": T((4, 2))}
    args[name] = T(args[name].shape, dtype)
    error = refused(rules.check_mm, args["self"], args["mat2"], args["out"], 0, "950",
                    match=f"{name} dtype {dtypes.label(dtype)} is not supported")
    assert error.function == "aclnnMmGetWorkspaceSize"


@pytest.mark.parametrize("value", [-2, 5, 127, -128])
def test_cube_math_type_outside_its_values(value):
    refused(rules.check_mm, T((4, 8)), T((8, 2)), T((4, 2)), value, "A2", match=f"cubeMathType {value} is not")


def test_fp16fp32_keep_dtype_only_on_atlas_a2_a3():
    for profile in ("A2", "A3"):
        call = rules.check_mm(T((4, 8)), T((8, 2)), T((4, 2)), -1, profile)
        assert call.product == "float32"  # the FP32 output of FP16FP32_KEEP_DTYPE, then cast to out
    refused(rules.check_matmul, T((4, 8)), T((8, 2)), T((4, 2)), -1, "950", match="not supported on Ascend 950")


def test_mm_shapes():
    refused(rules.check_mm, T((10, 16, 32)), T((32, 16)), T((16, 16)), 0, "A2", match="self shape [10, 16, 32]")
    refused(rules.check_mm, T((16, 32)), T((46, 64)), T((16, 64)), 0, "A2",
            match="k-axis of self [16, 32] (32) and mat2 [46, 64] (46) differ")
    refused(rules.check_mm, T((16, 32)), T((32, 8)), T((16, 16)), 0, "A2", match="out shape [16, 16] must be [16, 8]")
    refused(rules.check_mm, T((16, 32)), T((32,)), T((16, 1)), 0, "A2", match="mat2 shape [32]")


def test_mm_formats():
    """mat2 may be the FRACTAL_NZ weight of aclnnTransMatmulWeight; self and out are ND."""
    call = rules.check_mm(T((3, 40)), nz_weight((40, 24)), T((3, 24)), 1, "A2")
    assert call.shape == (3, 24)
    nz_self = TensorDesc((3, 40), int(F16), (40, 1), 0, FRACTAL_NZ, nz.nz_storage_shape((3, 40), "float16"))
    refused(rules.check_mm, nz_self, T((40, 24)), T((3, 24)), 0, "A2", match="self format FRACTAL_NZ")
    flat_nz = TensorDesc((40, 24), int(F16), (24, 1), 0, FRACTAL_NZ, (40, 24))  # NZ label, ND storage
    refused(rules.check_mm, T((3, 40)), flat_nz, T((3, 24)), 0, "A2", match="mat2 format FRACTAL_NZ")


def test_negative_extents_after_the_null_pointers():
    bad = TensorDesc((4, -8), int(F16), (8, 1))
    refused(rules.check_mm, T((4, 8)), bad, T((4, 2)), 0, "A2", match="mat2 view shape [4, -8] has a negative")


def test_empty_calls():
    assert rules.check_mm(T((0, 8)), T((8, 4)), T((0, 4)), 0, "A2").empty
    zeros = rules.check_mm(T((3, 0)), T((0, 4)), T((3, 4)), 0, "A2")
    assert zeros.zeros and not zeros.empty


# --------------------------------------------------------------------------- aclnnMatmul

@pytest.mark.parametrize("a,b,shape", [
    ((5,), (5,), ()), ((3, 5), (5,), (3,)), ((5,), (5, 4), (4,)), ((3, 5), (5, 4), (3, 4)),
    ((2, 3, 5), (5, 4), (2, 3, 4)), ((2, 3, 5), (5,), (2, 3)), ((5,), (2, 5, 4), (2, 4)),
    ((3, 5), (2, 5, 4), (2, 3, 4)), ((2, 1, 3, 5), (4, 5, 6), (2, 4, 3, 6)),
    ((1, 1, 1, 1, 3, 5), (2, 5, 1), (1, 1, 1, 2, 3, 1))])
def test_matmul_shapes_are_torch_matmuls(a, b, shape):
    assert rules.result_shape(a, b) == shape
    out = T(shape if shape else (), F32)
    assert rules.check_matmul(T(a, F32), T(b, F32), out, 0, "A2").shape == shape


def test_matmul_shape_rules():
    refused(rules.check_matmul, T((3, 5)), T((4, 6)), T((3, 6)), 0, "A2",
            match="k-axis of self [3, 5] (5) and mat2 [4, 6] (4) differ")
    refused(rules.check_matmul, T((2, 3, 5)), T((3, 5, 4)), T((6, 4)), 0, "A2", match="do not broadcast")
    refused(rules.check_matmul, T((1,) * 7), T((1, 1)), T((1,) * 7), 0, "A2", match="at most 6")
    refused(rules.check_matmul, T(()), T((3,)), T(()), 0, "A2", match="self is 0-d")
    refused(rules.check_matmul, T((3, 5)), T((5, 4)), T((3, 5)), 0, "A2",
            match="out shape [3, 5] holds 15 elements; self @ mat2 has shape [3, 4] (12 elements)")
    # an out of another shape holding as many elements: CANN reshapes the product into it
    assert rules.check_matmul(T((3, 5)), T((5, 4)), T((4, 3)), 0, "A2").shape == (3, 4)


def test_matmul_null_order_and_formats():
    refused(rules.check_matmul, None, None, None, 0, "A2", code=NULLPTR, match="self is a null pointer")
    refused(rules.check_matmul, T((2, 2)), T((2, 2)), None, 0, "A2", code=NULLPTR, match="out is a null pointer")
    nz_out = TensorDesc((3, 24), int(F16), (24, 1), 0, FRACTAL_NZ, nz.nz_storage_shape((3, 24), "float16"))
    refused(rules.check_matmul, T((3, 40)), T((40, 24)), nz_out, 0, "A2", match="out format FRACTAL_NZ")
    refused(rules.check_matmul, T((3, 40), BF16), nz_weight((40, 24)), T((3, 24)), 0, "A2",
            match="a FRACTAL_NZ mat2 needs self and mat2 both FLOAT16 or both BF16")


# --------------------------------------------------------------------------- dtypes

@pytest.mark.parametrize("a,b,cube,operands", [
    (F32, F32, 0, "float32"), (F32, F32, 2, "float16"), (F32, F16, 0, "float32"), (F32, F16, 2, "float16"),
    (F16, F16, 3, "float16"), (F16, F16, 0, "float16"), (F32, BF16, 2, "float16"), (F32, BF16, 1, "float32"),
    (F16, BF16, 0, "float32"), (F16, BF16, 2, "float16"), (BF16, BF16, 2, "bfloat16"), (BF16, BF16, 3, "bfloat16")])
def test_operands_promotion_table(a, b, cube, operands):
    """Dav2201MatMulRule::GetUpperDtypeByLookUpTable (Atlas A2/A3 and Ascend 950)."""
    call = rules.check_matmul(T((2, 4), a), T((4, 3), b), T((2, 3), F32), cube, "950")
    assert call.operands == operands
    assert call.hf32 == (operands == "float32" and cube in (1, 3))


@pytest.mark.parametrize("a,b,out,cube,profile,product", [
    (F16, F16, F16, 0, "A2", "float16"), (F16, F16, F32, 0, "A2", "float32"), (F16, F16, F32, 2, "A2", "float32"),
    (F16, F16, F32, 0, "950", "float32"), (BF16, BF16, F16, 0, "A2", "bfloat16"),
    (F32, F32, F16, 2, "A2", "float16"), (F32, F32, F32, 2, "A2", "float16"), (F32, F32, F32, 2, "950", "float16"),
    (F32, F16, F32, 2, "A3", "float16"), (F16, F16, F16, -1, "A2", "float32"), (F16, BF16, BF16, 0, "A2", "float32")])
def test_product_dtype(a, b, out, cube, profile, product):
    """UpdateOutputDtype (A2/A3: a FLOAT out unless USE_FP16), NeedEnableFp32Output (two FLOAT16 or
    two BF16 inputs and a FLOAT out), FP16FP32_KEEP_DTYPE."""
    assert rules.check_mm(T((2, 4), a), T((4, 3), b), T((2, 3), out), cube, profile).product == product


def test_a_dot_takes_the_plain_promotion():
    call = rules.check_matmul(T((5,), F16), T((5,), BF16), T((), F16), 2, "A2")
    assert call.dot and (call.operands, call.product, call.hf32) == ("float32", "float32", False)


def test_output_inference():
    out = rules.output_desc(rules.MATMUL, T((2, 3, 5), F16), T((5, 4), BF16), 0, "A2")["out"]
    assert out.shape == (2, 3, 4) and out.dtype == F32
    assert rules.output_desc(rules.MM, T((3, 5), BF16), T((5, 4), BF16), 0, None)["out"].dtype == BF16
    refused(rules.output_desc, rules.MM, T((3, 5)), T((6, 4)), 0, "A2", match="k-axis")  # the inputs' rule
    refused(rules.output_desc, rules.MM, T((3, 5), D.ACL_INT8), T((5, 4)), 0, "A2", match="self dtype INT8")
