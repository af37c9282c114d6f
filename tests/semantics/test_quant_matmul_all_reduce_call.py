"""The one classification of the QuantMatmulAllReduce entry points (aclnn_py.semantics.quant_matmul_all_reduce):
each version's signature maps its header's parameters onto the canonical arguments, and the
rules that differ between V4 and V1-V3."""
from __future__ import annotations

import pytest

from aclnn_py.semantics.descriptors import TensorDesc
from aclnn_py.semantics.dtypes import DataType
from aclnn_py.semantics.quant_matmul_all_reduce import call, rules
from aclnn_py.semantics.status import Violation


def test_signatures_cover_their_headers():
    """Each entry point maps every header parameter, once, onto a distinct canonical argument."""
    canonical = set(call.TENSORS) | {"group", "reduce_op", "comm_turn", "stream_mode", "group_size",
                                     "comm_quant_mode", "comm_mode", "antiquant_group_size"}
    for signature in call.SIGNATURES.values():
        assert sorted(signature.params) == sorted(signature.parameters), signature.op
        keys = [signature.params[p] for p in signature.parameters]
        assert len(set(keys)) == len(keys) and set(keys) <= canonical, signature.op
    assert [call.V2.label(k) for k in ("x2_scale", "x1_scale", "bias")] == ["dequantScale", "pertokenScale", "bias"]
    assert [call.V4.label(k) for k in ("x2_scale", "x1_scale", "bias")] == ["x2Scale", "x1Scale", "bias"]


def test_reduce_op_prefix_is_v4_only():
    """V4 compares three characters of reduceOp (strncmp), V1-V3 the whole string (strcmp)."""
    D = DataType
    args = dict(x1=TensorDesc.contiguous((16, 64), D.ACL_INT8), x2=TensorDesc.contiguous((64, 32), D.ACL_INT8),
                x2_scale=TensorDesc.contiguous((32,), D.ACL_UINT64),
                output=TensorDesc.contiguous((16, 32), D.ACL_FLOAT16), reduce_op="summ")
    assert rules.check(**args, signature=rules.V4).formula == 2
    for signature in (rules.V1, rules.V2, rules.V3):
        with pytest.raises(Violation, match='reduceOp "summ" is not supported') as info:
            rules.check(**args, signature=signature)
        assert info.value.function == signature.function
