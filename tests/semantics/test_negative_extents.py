"""Negative view/storage dims and offsets (which CANN's aclCreateTensor stores as given) are refused by
every operator's rules first, with 161002 naming the tensor (issue 17, item 7)."""
from __future__ import annotations

import pytest

from aclnn_py.semantics import dtypes
from aclnn_py.semantics.descriptors import TensorDesc, negative_extent
from aclnn_py.semantics.grouped_matmul import rules as grouped_matmul
from aclnn_py.semantics.quant_matmul_all_reduce import rules as quant_matmul_all_reduce
from aclnn_py.semantics.status import INVALID, Violation
from aclnn_py.semantics.trans_matmul_weight import check_trans_matmul_weight
from aclnn_py.semantics.trans_quant_param import check_trans_quant_param_v2

D = dtypes.DataType


def t(shape, dtype, offset=0, storage=None) -> TensorDesc:
    c = TensorDesc.contiguous(tuple(max(d, 1) for d in shape), int(dtype))
    return TensorDesc(tuple(shape), c.dtype, c.strides, offset, c.format, tuple(storage or shape))


CALLS = {
    "grouped_matmul": lambda bad: grouped_matmul.check(
        x=[t((8, 16), D.ACL_FLOAT16)], weight=[bad], out=[t((8, 32), D.ACL_FLOAT16)], split_item=0,
        group_type=-1),
    "quant_matmul_all_reduce": lambda bad: quant_matmul_all_reduce.check(
        x1=t((8, 16), D.ACL_INT8), x2=bad, x2_scale=t((32,), D.ACL_UINT64), output=t((8, 32), D.ACL_FLOAT16),
        reduce_op="sum"),
    "trans_matmul_weight": lambda bad: check_trans_matmul_weight(bad),
    "trans_quant_param": lambda bad: check_trans_quant_param_v2(t((32,), D.ACL_FLOAT), None, bad),
}
BAD = {  # the tensor each call gets, per kind of negative extent, and what the message says
    "view": (lambda dtype, shape: t((-1,) + shape[1:], dtype), "view shape [-1"),
    "storage": (lambda dtype, shape: t(shape, dtype, storage=(-2,) + shape[1:]), "storage shape [-2"),
    "offset": (lambda dtype, shape: t(shape, dtype, offset=-3), "offset -3 is negative"),
}
SHAPES = {"grouped_matmul": (D.ACL_FLOAT16, (16, 32), "weight[0]"),
          "quant_matmul_all_reduce": (D.ACL_INT8, (16, 32), "x2"),
          "trans_matmul_weight": (D.ACL_INT8, (16, 32), "mmWeightRef"),
          "trans_quant_param": (D.ACL_UINT64, (32,), "out")}


@pytest.mark.parametrize("kind", sorted(BAD))
@pytest.mark.parametrize("op", sorted(CALLS))
def test_every_operator_refuses_a_negative_extent_naming_the_tensor(op, kind):
    dtype, shape, name = SHAPES[op]
    make, fragment = BAD[kind]
    with pytest.raises(Violation) as info:
        CALLS[op](make(dtype, shape))
    assert info.value.code == INVALID and f"{name} {fragment}" in info.value.message


def test_a_tensor_without_negative_extents_has_none():
    assert negative_extent(t((2, 3), D.ACL_FLOAT)) is None
