"""QuantMatmulAllReduce V1-V4 where upstream's op_api code decides (issue 17, items 5 and 6).

The calls are those of CANN's op_api unit tests (docs/op-api-replay.md): an INT8 FRACTAL_NZ x2 of
view [64, 128] with the 4-D storage [1, 1, 64, 128], and V1 with a FLOAT dequantScale.
"""
from __future__ import annotations

import pytest

from aclnn_py.semantics import dtypes, nz
from aclnn_py.semantics.descriptors import FRACTAL_NZ, TensorDesc
from aclnn_py.semantics.quant_matmul_all_reduce import rules
from aclnn_py.semantics.quant_matmul_all_reduce.call import V1, V2, V3, V4
from aclnn_py.semantics.status import INVALID, TILING, Violation

D = dtypes.DataType


def t(shape, dtype) -> TensorDesc:
    return TensorDesc.contiguous(shape, int(dtype))


def nz_x2(storage) -> TensorDesc:
    base = t((64, 128), D.ACL_INT8)
    return TensorDesc(base.shape, base.dtype, base.strides, 0, FRACTAL_NZ, tuple(storage))


def call(signature, x2, scale=None, **extra):
    """x1 [32, 64] INT8 @ x2 (64, 128) -> FLOAT16 [32, 128] with a pertensor/perchannel scale."""
    return rules.check(x1=t((32, 64), D.ACL_INT8), x2=x2, x2_scale=scale or t((128,), D.ACL_INT64),
                       output=t((32, 128), D.ACL_FLOAT16), reduce_op="sum", profile="A2", signature=signature,
                       **extra)


@pytest.mark.parametrize("signature", [V1, V2, V3, V4], ids=lambda s: s.op)
def test_an_nz_x2_with_any_4d_storage_holding_its_layout_is_accepted(signature):
    """CANN's NzFormatWeightX2 cases: the storage shape is not compared with the view."""
    result = call(signature, nz_x2((1, 1, 64, 128)))
    assert result.x2_nz and (result.k, result.n) == (64, 128)
    assert rules.canonical_x2(nz_x2((1, 1, 64, 128))).storage_shape == nz.nz_storage_shape((64, 128), "int8")


def test_an_nz_x2_storage_too_small_for_its_layout_is_refused():
    with pytest.raises(Violation, match="too small for its view shape") as info:
        call(V4, nz_x2((1, 1, 32, 128)))
    assert info.value.code == INVALID


def test_v1_takes_a_float_dequant_scale_at_its_aclnn_layer():
    """Not 161002 (the aclnn layer's list has FLOAT); V1 has no pertokenScale, so tiling refuses it."""
    with pytest.raises(Violation, match="without a per-token scale") as info:
        call(V1, t((64, 128), D.ACL_INT8), t((128,), D.ACL_FLOAT))
    assert info.value.code == TILING
