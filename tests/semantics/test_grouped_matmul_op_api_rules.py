"""GroupedMatmulV5's rules where upstream's op_api code decides (issue 17, items 1-4).

Each rule cites hicann/ops-transformer gmm/grouped_matmul/op_api/aclnn_grouped_matmul.cpp in its
docstring; the cases here are the calls CANN's op_api unit tests make (docs/op-api-replay.md).
"""
from __future__ import annotations

import pytest

from aclnn_py.semantics import dtypes, nz
from aclnn_py.semantics.descriptors import FRACTAL_NZ, ND, TensorDesc
from aclnn_py.semantics.grouped_matmul import rules
from aclnn_py.semantics.grouped_matmul.entry_points import V5, WEIGHT_NZ
from aclnn_py.semantics.status import INVALID, NOT_MODELLED, RUNTIME, Violation

D = dtypes.DataType


def t(shape, dtype, fmt=ND, storage=None) -> TensorDesc:
    desc = TensorDesc.contiguous(shape, int(dtype), format=fmt)
    return desc if storage is None else TensorDesc(desc.shape, desc.dtype, desc.strides, 0, fmt, tuple(storage))


def placeholder(dtype=D.ACL_FLOAT) -> list[TensorDesc]:
    """What torch_npu (and CANN's own tests) pass for an unused optional list: one tensor of shape [0]."""
    return [t((0,), dtype)]


def a8w8(profile="A2", out_dtype=D.ACL_FLOAT16, scale_dtype=D.ACL_FLOAT, **overrides):
    """A valid A8W8 call: x [64, 256] INT8, weight [2, 256, 128] INT8, per-channel scale, M grouping."""
    kwargs = dict(x=[t((64, 256), D.ACL_INT8)], weight=[t((2, 256, 128), D.ACL_INT8)],
                  scale=[t((2, 128), scale_dtype)], group_list=t((2,), D.ACL_INT64), split_item=3, group_type=0,
                  group_list_type=1, out=[t((64, 128), out_dtype)], profile=profile)
    kwargs.update(overrides)
    return kwargs


def a16w8(**overrides):
    """A valid A16W8 call: x [64, 128] BF16, weight [1, 128, 32] INT8, antiquantScale [1, 32]."""
    kwargs = dict(x=[t((64, 128), D.ACL_BF16)], weight=[t((1, 128, 32), D.ACL_INT8)],
                  antiquant_scale=[t((1, 32), D.ACL_BF16)], group_list=t((1,), D.ACL_INT64), split_item=3,
                  group_type=0, out=[t((64, 32), D.ACL_BF16)], profile="950")
    kwargs.update(overrides)
    return kwargs


def refused(kwargs, match: str) -> None:
    with pytest.raises(Violation, match=match) as info:
        rules.check(**kwargs)
    assert info.value.code == INVALID


# --------------------------------------------------------------------------- 1. placeholders

@pytest.mark.parametrize("slot", ["bias", "offset", "antiquant_scale", "antiquant_offset", "per_token_scale",
                                  "activation_input", "activation_quant_scale", "activation_quant_offset",
                                  "activation_feature_out", "dyn_quant_scale_out"])
@pytest.mark.parametrize("form", ["shape [0]", "no tensor", "null first tensor"])
def test_an_optional_list_holding_a_placeholder_is_absent(slot, form):
    value = {"shape [0]": placeholder(), "no tensor": [], "null first tensor": [None]}[form]
    call = rules.check(**a8w8(**{slot: value}))
    assert call.kind == "a8w8" and not call.empty


def test_a_placeholder_scale_leaves_a8w8_without_its_scale():
    with pytest.raises(Violation, match="scaleOptional is nullptr"):
        rules.check(**a8w8() | {"scale": placeholder(D.ACL_UINT64)})


def test_a_list_of_two_empty_tensors_is_not_a_placeholder():
    refused(a8w8(bias=[t((0,), D.ACL_INT32), t((0,), D.ACL_INT32)]), "biasOptional")


def test_a_group_list_tensor_without_elements_is_not_reset():
    refused(a8w8(group_list=t((0,), D.ACL_INT64)), "groupListOptional must not be empty")


# --------------------------------------------------------------------------- 2. empty inputs

def test_k_zero_with_an_empty_n_runs_the_whole_check_first():
    """CANN's k0_empty_tensor case: x [345, 0], weight [2, 567, 0] FRACTAL_NZ, out [345, 567]: the
    parameter check refuses it (x's K differs from the weight's) before any empty shortcut."""
    weight = t((2, 567, 0), D.ACL_INT8, FRACTAL_NZ)
    kwargs = a8w8(x=[t((345, 0), D.ACL_INT8)], weight=[weight], scale=[t((2, 1), D.ACL_FLOAT)],
                  per_token_scale=[t((345,), D.ACL_FLOAT)], out=[t((345, 567), D.ACL_FLOAT16)],
                  group_list_type=0)
    with pytest.raises(Violation) as info:
        rules.check(**kwargs)
    assert info.value.code == INVALID


def test_an_empty_call_that_passes_every_check_takes_the_shortcut():
    call = rules.check(**a8w8(x=[t((0, 256), D.ACL_INT8)], out=[t((0, 128), D.ACL_FLOAT16)]))
    assert call.empty


def test_an_empty_call_with_a_wrong_dtype_is_refused():
    refused(a8w8(x=[t((0, 256), D.ACL_INT8)], out=[t((0, 128), D.ACL_INT8)]), "scaleOptional dtype")


# --------------------------------------------------------------------------- 3. A2 scale dtypes

def test_a2_bfloat16_out_needs_a_bfloat16_scale():
    refused(a8w8(out_dtype=D.ACL_BF16, scale_dtype=D.ACL_FLOAT), "scaleOptional dtype FLOAT is not supported")
    assert rules.check(**a8w8(out_dtype=D.ACL_BF16, scale_dtype=D.ACL_BF16)).out_name == "bfloat16"
    assert rules.check(**a8w8(profile="950", out_dtype=D.ACL_BF16, scale_dtype=D.ACL_FLOAT)).out_name == "bfloat16"


# --------------------------------------------------------------------------- 4. private formats

@pytest.mark.parametrize("where", ["x", "out"])
def test_x_and_out_in_fractal_nz_are_refused_whatever_their_storage(where):
    kwargs = a16w8()
    kwargs[where] = [t(kwargs[where][0].shape, D.ACL_BF16, FRACTAL_NZ)]  # 2-D storage: the view's shape
    refused(kwargs, f"{where}\\[0\\] format FRACTAL_NZ is not supported")


@pytest.mark.parametrize("storage", ["3-D", "NZ"])
def test_a16w8_takes_no_fractal_nz_weight(storage):
    shape = (1, 128, 32)
    stored = shape if storage == "3-D" else nz.nz_storage_shape(shape, "int8")
    refused(a16w8(weight=[t(shape, D.ACL_INT8, FRACTAL_NZ, stored)]), "weight-only quantization")


def test_an_nz_weight_whose_storage_holds_no_tiling_is_read_as_the_nz_layout_of_its_view_where_upstream_reads_no_storage():
    """Atlas A2/A3 check an NZ weight's K and N alignment only (TransWeightToNz): a 3-D storage
    is the NZ layout of the view; the 950's full quantization checks the storage shape
    (CheckWeightStorageShape) and refuses it."""
    three_d = [t((2, 256, 128), D.ACL_INT8, FRACTAL_NZ)]
    assert not rules.check(**a8w8(weight=three_d)).empty
    refused(a8w8(profile="950", weight=three_d), "is not the NZ shape")
    nz_storage = nz.nz_storage_shape((2, 256, 128), "int8")
    assert not rules.check(**a8w8(weight=[t((2, 256, 128), D.ACL_INT8, FRACTAL_NZ, nz_storage)])).empty


# --------------------------------------------------------------------------- scenarios the rules do not model

@pytest.mark.parametrize("x_dtype", [D.ACL_BF16, D.ACL_FLOAT16])
def test_an_fp4_weight_with_an_antiquant_scale_on_the_950_is_not_modelled_rather_than_invalid(x_dtype):
    """The 950's weight-quantization checker takes FP16/BF16 x with an FP4 weight, A16 MXFP4 (CANN's arch35
    examples); the rules do not model it: 361001 with the NOT_MODELLED rule (the binding then leaves the call
    to the runtime), never a 161002 that claims CANN refuses it. Atlas A2/A3 refuse the FP4 weight: 161002."""
    kwargs = a16w8(x=[t((64, 128), x_dtype)], weight=[t((1, 128, 64), D.ACL_FLOAT4_E2M1)],
                   antiquant_scale=[t((1, 4, 64), D.ACL_FLOAT8_E8M0)], out=[t((64, 64), D.ACL_BF16)])
    with pytest.raises(Violation, match="A16 MXFP4 on the Ascend 950.*does not model") as info:
        rules.check(**kwargs)
    assert (info.value.code, info.value.rule) == (RUNTIME, NOT_MODELLED)
    with pytest.raises(Violation) as info:
        rules.check(**{**kwargs, "profile": "A2"})
    assert (info.value.code, info.value.rule) == (INVALID, "")


# --------------------------------------------------------------------------- MxA8W4 on the 950 (mx_a8w4_rules)

def transposed_nz(shape, dtype=D.ACL_FLOAT4_E2M1) -> TensorDesc:
    """An FP4 FRACTAL_NZ weight viewed as (.., K, N) over an (.., N, K) storage (CANN's MxA8W4 tests)."""
    *batch, k, n = shape
    strides = tuple([k * n] * len(batch)) + (1, k)
    return TensorDesc(tuple(shape), int(dtype), strides, 0, FRACTAL_NZ, (k // 64, n // 16, 16, 32))


def mx_a8w4(weight_dtype=D.ACL_FLOAT4_E2M1, **overrides):
    """A valid MxA8W4 WeightNz call as CANN's op_api tests make it: x [64, 128] FLOAT8_E4M3FN, two 2-D weights
    (128, 64), bias (64) BF16, antiquantScale (K/64, N, 2) and perTokenScale (M, K/64, 2) FLOAT8_E8M0."""
    kwargs = dict(x=[t((64, 128), D.ACL_FLOAT8_E4M3FN)], weight=[transposed_nz((128, 64), weight_dtype)] * 2,
                  bias=[t((64,), D.ACL_BF16)] * 2, antiquant_scale=[t((2, 64, 2), D.ACL_FLOAT8_E8M0)] * 2,
                  per_token_scale=[t((64, 2, 2), D.ACL_FLOAT8_E8M0)], group_list=t((2,), D.ACL_INT64),
                  split_item=3, group_type=0, out=[t((64, 64), D.ACL_BF16)], profile="950",
                  signature=WEIGHT_NZ)
    kwargs.update(overrides)
    return kwargs


@pytest.mark.parametrize("weight_dtype", [D.ACL_FLOAT4_E2M1, D.ACL_FLOAT4_E1M2])
@pytest.mark.parametrize("layout", ["two 2-D weights", "one 3-D weight"])
def test_an_mx_a8w4_call_passing_upstreams_checks_is_not_modelled(weight_dtype, layout):
    """grouped_matmul_weight_quant_950_checker.cpp takes it (IsMxA8W4NZ); its execution is not modelled: 361001,
    never a 161002. Atlas A2/A3 refuse FP8: 161002."""
    kwargs = mx_a8w4(weight_dtype)
    if layout == "one 3-D weight":
        kwargs.update(weight=[transposed_nz((2, 128, 64), weight_dtype)], bias=[t((2, 64), D.ACL_BF16)],
                      antiquant_scale=[t((2, 2, 64, 2), D.ACL_FLOAT8_E8M0)])
    with pytest.raises(Violation, match="MxA8W4 on the Ascend 950.*passes CANN's parameter checks.*does not "
                                        "model") as info:
        rules.check(**kwargs)
    assert (info.value.code, info.value.rule) == (RUNTIME, NOT_MODELLED)
    with pytest.raises(Violation) as info:
        rules.check(**{**kwargs, "profile": "A2"})
    assert (info.value.code, info.value.rule) == (INVALID, "")


@pytest.mark.parametrize("change, match", [
    ({"group_type": -1, "group_list": None, "split_item": 0}, "groupType -1 is not supported.*only groupType 0"),
    ({"signature": V5}, "only supported by aclnnGroupedMatmulWeightNz"),
    ({"split_item": 0}, "splitItem 0 is not supported.*must be 2 or 3"),
    ({"scale": [t((2, 64), D.ACL_FLOAT)] * 2}, "scaleOptional must be null"),
    ({"per_token_scale": [t((64, 2, 2), D.ACL_FLOAT)]}, "perTokenScaleOptional dtype FLOAT .*FLOAT8_E8M0"),
    ({"out": [t((64, 64), D.ACL_FLOAT16)]}, "biasOptional dtype BF16 must equal the out dtype FLOAT16"),
    ({"per_token_scale": [t((64, 4, 2), D.ACL_FLOAT8_E8M0)]}, "x dim 1 \\(K = 128\\) must be 64 times"),
    ({"weight": [TensorDesc((128, 64), int(D.ACL_FLOAT4_E2M1), (1, 128), 0, ND, (64, 128))] * 2},
     "weight\\[0\\] format ND is not supported for MxA8W4: the weight must be FRACTAL_NZ"),
    ({"antiquant_scale": [t((4, 64, 2), D.ACL_FLOAT8_E8M0)] * 2}, "group size K / groups = 16 must be 32"),
    ({"group_list": t((3,), D.ACL_INT64)}, "groupListOptional has 3 values but the weight has 2 groups"),
    ({"tuning_config": [65]}, "tuningConfigOptional\\[0\\]=65 must be >= 0 and <= M=64"),
])
def test_upstreams_mx_a8w4_checks_refuse_an_invalid_parameter(change, match):
    """Each check of the 950's MxA8W4 path (aclnn_py/semantics/grouped_matmul/mx_a8w4_rules.py) refuses its
    parameter with 161002 naming it and the rule, where upstream's checker does (before: 361001, not modelled)."""
    refused(mx_a8w4(**change), match)
