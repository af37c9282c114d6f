"""aclnnCast in the pure layer: the rules on descriptors (CANN's order and codes, the conversions
each SoC has) and the golden's conversions against values worked out by hand."""
from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from aclnn_py.semantics import codecs, dtypes
from aclnn_py.semantics.cast import golden, rules
from aclnn_py.semantics.descriptors import TensorDesc
from aclnn_py.semantics.status import INVALID, NULLPTR, TILING, Violation

D = dtypes.DataType


def T(shape, dtype, strides=None, fmt=None) -> TensorDesc:
    desc = TensorDesc.contiguous(shape, int(dtype))
    if strides is not None:
        desc = TensorDesc(desc.shape, desc.dtype, strides)
    if fmt is not None:
        desc = TensorDesc(desc.shape, desc.dtype, desc.strides, 0, int(fmt), desc.shape)
    return desc


def refused(*args, code=INVALID, match=""):
    with pytest.raises(Violation) as info:
        rules.check_cast(*args)
    assert info.value.code == code and match in info.value.message, info.value
    assert info.value.function == "aclnnCastGetWorkspaceSize"


# --------------------------------------------------------------------------- rules

def test_the_doc_sample_call():
    assert rules.check_cast(T((4, 2), D.ACL_FLOAT), D.ACL_DOUBLE, T((4, 2), D.ACL_DOUBLE), "A2") is True


def test_null_pointers_then_types():
    refused(None, D.ACL_FLOAT, T((2,), D.ACL_FLOAT), "A2", code=NULLPTR, match="self is a null pointer")
    refused(T((2,), D.ACL_FLOAT), D.ACL_FLOAT, None, "A2", code=NULLPTR, match="out is a null pointer")
    refused(T((2,), D.ACL_HIFLOAT8), D.ACL_FLOAT, T((2,), D.ACL_FLOAT), "A3", match="self dtype HIFLOAT8")
    refused(T((2,), D.ACL_FLOAT), D.ACL_INT4, T((2,), D.ACL_INT4), "A2", match="dtype INT4 is not supported")
    refused(T((2,), D.ACL_FLOAT), 99, T((2,), D.ACL_FLOAT), "950", match="dtype <unknown aclDataType 99>")
    refused(T((2,), D.ACL_INT4), D.ACL_INT32, T((2,), D.ACL_INT32), "950", match="self dtype INT4")  # a target only


def test_shapes_formats_and_out_dtype():
    refused(T((1,) * 9, D.ACL_FLOAT), D.ACL_FLOAT16, T((1,) * 9, D.ACL_FLOAT16), "A2", match="at most 8")
    refused(T((4, 2), D.ACL_FLOAT), D.ACL_FLOAT16, T((2, 4), D.ACL_FLOAT16), "A2", match="out shape [2, 4]")
    refused(T((4, 2), D.ACL_FLOAT), D.ACL_FLOAT16, T((4, 2), D.ACL_BF16), "A2", match="out dtype BF16 must be dtype")
    nchw = dtypes.Format.ACL_FORMAT_NCHW
    refused(T((1, 2, 2, 2), D.ACL_FLOAT, fmt=nchw), D.ACL_FLOAT16, T((1, 2, 2, 2), D.ACL_FLOAT16), "A2",
            match="out format ND must be self's NCHW")
    assert rules.check_cast(T((1, 2, 2, 2), D.ACL_FLOAT), D.ACL_FLOAT16, T((1, 2, 2, 2), D.ACL_FLOAT16, fmt=nchw),
                            "A2")  # an ND self may be copied into any format


def test_an_empty_self_is_a_no_op_before_the_pair_rules():
    assert rules.check_cast(T((0, 3), D.ACL_FLOAT), D.ACL_INT8, T((0, 3), D.ACL_BF16), "A2") is False


def test_int4_rules():
    assert rules.check_cast(T((3, 4), D.ACL_INT32), D.ACL_INT4, T((3, 4), D.ACL_INT4), "950")
    refused(T((3, 5), D.ACL_INT32), D.ACL_INT4, T((3, 5), D.ACL_INT4), "950", code=TILING, match="last dim")
    refused(T((4, 3), D.ACL_INT32, strides=(1, 4)), D.ACL_INT4, T((4, 3), D.ACL_INT4), "950",
            match="self must be contiguous when out is INT4")
    refused(T((4,), D.ACL_FLOAT), D.ACL_INT4, T((4,), D.ACL_INT4), "950", match="cannot be cast to dtype INT4")


def test_the_conversions_of_each_soc():
    """Atlas A2/A3: every pair of the fifteen basic types (the AI CPU kernel takes them all);
    Ascend 950: also its AI Core list's pairs of the low-bit types, nothing else."""
    basic = sorted(rules.BASIC)
    assert all(rules.converts(a, b, "A2") for a in basic for b in basic)
    assert len(rules.SPECIAL_950) == 47
    assert rules.converts(D.ACL_BF16, D.ACL_FLOAT4_E2M1, "950") and rules.converts(D.ACL_HIFLOAT8, D.ACL_BF16, "950")
    assert not rules.converts(D.ACL_HIFLOAT8, D.ACL_FLOAT8_E4M3FN, "950")
    assert not rules.converts(D.ACL_FLOAT8_E5M2, D.ACL_INT8, "950")
    assert not rules.converts(D.ACL_DOUBLE, D.ACL_HIFLOAT8, "950")
    assert rules.converts(D.ACL_HIFLOAT8, D.ACL_HIFLOAT8, "950")
    refused(T((2,), D.ACL_FLOAT8_E4M3FN), D.ACL_INT32, T((2,), D.ACL_INT32), "950",
            match="FLOAT8_E4M3FN cannot be cast to dtype INT32")


def test_output_inference():
    out = rules.output_desc(T((2, 3), D.ACL_FLOAT), D.ACL_BF16)["out"]
    assert out.shape == (2, 3) and out.dtype == D.ACL_BF16
    assert rules.output_desc(None, D.ACL_BF16) == {}


# --------------------------------------------------------------------------- golden

def test_float_to_integers_truncate_saturate_and_map_nan_to_zero():
    x = np.float32([2.9, -2.9, np.nan, 1e10, -1e10, 200.5, -0.5])
    assert golden.convert(x, "float32", "int8").tolist() == [2, -2, 0, 127, -128, 127, 0]
    assert golden.convert(x, "float32", "uint8").tolist() == [2, 0, 0, 255, 0, 200, 0]
    assert golden.convert(x, "float32", "int32").tolist() == [2, -2, 0, 2**31 - 1, -2**31, 200, 0]
    assert golden.convert(x, "float32", "int64").tolist() == [2, -2, 0, 10**10, -10**10, 200, 0]
    assert golden.convert(np.float64([2.0**64, 2.0**63, -1.0]), "float64", "uint64").tolist() == \
        [2**64 - 1, 2**63, 0]


def test_integers_narrow_by_their_low_bits():
    x = np.int32([300, -129, 127, 8, -9, 15])
    assert golden.convert(x, "int32", "int8").tolist() == [44, 127, 127, 8, -9, 15]
    assert golden.convert(x, "int32", "uint16").tolist() == [300, 65407, 127, 8, 65527, 15]
    assert [int(v) for v in golden.convert(x, "int32", "int4")] == [-4, -1, -1, -8, 7, -1]
    assert golden.convert(np.uint64([2**64 - 1]), "uint64", "int64").tolist() == [-1]


def test_bool_both_ways():
    assert golden.convert(np.float32([0.0, -0.0, 0.5, np.nan]), "float32", "bool").tolist() == \
        [False, False, True, True]
    assert golden.convert(np.complex64([0, 1j, 2]), "complex64", "bool").tolist() == [False, True, True]
    assert golden.convert(np.bool_([True, False]), "bool", "bfloat16").astype(np.float32).tolist() == [1.0, 0.0]


def test_floats_round_to_nearest_even():
    assert golden.convert(np.float32([1 + 2**-11, 1 + 3 * 2**-11]), "float32", "float16").tolist() == \
        [1.0, 1 + 2**-9]
    assert golden.convert(np.float32([70000.0]), "float32", "float16").tolist() == [np.inf]
    bf16 = golden.convert(np.float64([1 + 2**-8, 1 + 3 * 2**-8]), "float64", "bfloat16")
    assert bf16.dtype == ml_dtypes.bfloat16 and bf16.astype(np.float32).tolist() == [1.0, 1 + 2**-6]
    assert golden.convert(np.int64([2**24 + 1, 2**24 + 3]), "int64", "float32").tolist() == [2**24, 2**24 + 4]
    e4m3 = golden.convert(np.float32([1.0625, 1.1875, 1000.0]), "float32", "float8_e4m3fn").astype(np.float32)
    assert e4m3[:2].tolist() == [1.0, 1.25] and np.isnan(e4m3[2])


def test_hifloat8_rounds_ties_away_from_zero():
    values = np.float32([1.5, -3.0, 0.0, 1e9])
    codes = golden.convert(values, "float32", "hifloat8")
    assert np.array_equal(np.asarray(codes).view(np.uint8), codecs.hifloat8_encode(values))
    back = golden.convert(codes, "hifloat8", "float32")
    assert back[:3].tolist() == [1.5, -3.0, 0.0] and back[3] == np.inf


def test_complex_keeps_or_drops_the_imaginary_part():
    z = np.complex128([1.5 + 2j, -2.7 - 1j])
    assert golden.convert(z, "complex128", "complex64").tolist() == [1.5 + 2j, np.complex64(-2.7 - 1j)]
    assert golden.convert(z, "complex128", "int32").tolist() == [1, -2]
    assert golden.convert(np.float32([3.0]), "float32", "complex128").tolist() == [3 + 0j]


def test_equal_types_copy():
    x = np.arange(5, dtype=np.int16)
    y = golden.convert(x, "int16", "int16")
    assert y is not x and np.array_equal(x, y)
