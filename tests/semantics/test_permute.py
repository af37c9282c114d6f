"""aclnnPermute in the pure layer: the rules on descriptors and the golden (any permutation)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from aclnn_py.semantics import dtypes, permute
from aclnn_py.semantics.descriptors import TensorDesc
from aclnn_py.semantics.status import INVALID, NULLPTR, Violation

D = dtypes.DataType


def T(shape, dtype=D.ACL_FLOAT) -> TensorDesc:
    return TensorDesc.contiguous(shape, int(dtype))


def refused(*args, code=INVALID, match=""):
    with pytest.raises(Violation) as info:
        permute.check_permute(*args)
    assert info.value.code == code and match in info.value.message, info.value
    assert info.value.function == "aclnnPermuteGetWorkspaceSize"


def test_the_doc_sample_call():
    assert permute.check_permute(T((4, 2)), (1, 0), T((2, 4))) == (1, 0)


def test_negative_dims_count_from_the_end():
    assert permute.check_permute(T((2, 3, 4)), (-1, 0, -2), T((4, 2, 3))) == (2, 0, 1)


def test_rules_in_canns_order():
    refused(None, (0,), T((2,)), code=NULLPTR, match="self is a null pointer")
    refused(T((2,)), None, T((2,)), code=NULLPTR, match="dims is a null pointer")
    refused(T((2,)), (0,), None, code=NULLPTR, match="out is a null pointer")
    refused(T((2,), D.ACL_FLOAT4_E2M1), (0,), T((2,), D.ACL_FLOAT4_E2M1), match="self dtype FLOAT4_E2M1")
    refused(T((2,)), (0,), T((2,), D.ACL_FLOAT16), match="out dtype FLOAT16 must be self's FLOAT")
    refused(T((2, 3)), (1, 0), T((6,)), match="must have self's 2 dims")
    refused(T((2, 3)), (1,), T((3, 2)), match="has 1 values")
    refused(T((2, 3)), (1, 1), T((3, 2)), match="names a dim twice")
    refused(T((1,) * 9), tuple(range(9)), T((1,) * 9), match="at most 8")
    refused(T((2, 3)), (0, 2), T((2, 3)), match="2 is outside [-2, 1]")
    refused(T((2, 3)), (1, -1), T((3, 3)), match="counting negative values from the end")
    refused(T((2, 3)), (1, 0), T((2, 3)), match="out shape [2, 3] must be [3, 2]")


def test_empty_and_single_element_tensors():
    assert permute.check_permute(T((0, 3)), (1, 0), T((3, 0))) == (1, 0)
    assert permute.check_permute(T((0, 3)), (1, 0), T((0, 3))) == (1, 0)  # any empty out (CANN's check)
    refused(T((0, 3)), (1, 0), T((3, 1)), match="must be empty")
    assert permute.check_permute(T((1, 1)), (1, 0), T((1, 1))) == (1, 0)
    assert permute.check_permute(T(()), (), T(())) == ()


@pytest.mark.parametrize("dtype", [D.ACL_HIFLOAT8, D.ACL_FLOAT8_E4M3FN, D.ACL_BF16, D.ACL_COMPLEX128])
def test_every_listed_type_on_every_profile(dtype):
    """The document leaves the 8-bit floats out on Atlas A2/A3; CANN's code has no profile rule."""
    assert permute.check_permute(T((2, 3), dtype), (1, 0), T((3, 2), dtype)) == (1, 0)


def test_the_golden_is_every_permutation():
    values = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    for axes in itertools.permutations(range(4)):
        result = permute.compute(values, axes)
        assert result.flags.c_contiguous
        for index in [(0, 0, 0, 0), (1, 2, 3, 4), (1, 0, 2, 3)]:
            out_index = tuple(index[a] for a in axes)
            assert result[out_index] == values[index]


def test_output_inference():
    assert permute.output_desc(T((2, 3, 4), D.ACL_INT8), (2, 0, 1))["out"].shape == (4, 2, 3)
    with pytest.raises(Violation, match="names a dim twice"):
        permute.output_desc(T((2, 3)), (0, 0))
