"""The rules of the unquantized entry points of the MatmulAllReduce family (MatmulAllReduce V1-V3,
WeightQuantMatmulAllReduce V1-V2) and of QuantMatmulAllReduceV5's commMode, per SoC profile, as
ops-transformer's op_api code and tiling decide them (their sources: the rules' docstrings).
CANN's own op_api unit tests of them are replayed in tests/mock/test_op_api_replay.py."""
from __future__ import annotations

import pytest

from aclnn_py.semantics import dtypes
from aclnn_py.semantics.descriptors import FRACTAL_NZ, ND, TensorDesc
from aclnn_py.semantics.quant_matmul_all_reduce import rules
from aclnn_py.semantics.quant_matmul_all_reduce.call import (MATMUL, MATMUL_V2, MATMUL_V3, V4, V5, WEIGHT_QUANT,
                                                             WEIGHT_QUANT_V2)
from aclnn_py.semantics.status import INVALID, NULLPTR, RUNTIME, TILING, Violation

D = dtypes.DataType
F16, BF16, I8, I4 = D.ACL_FLOAT16, D.ACL_BF16, D.ACL_INT8, D.ACL_INT4


def t(shape, dtype=F16) -> TensorDesc:
    return TensorDesc.contiguous(tuple(shape), int(dtype))


def transposed(k, n, dtype=F16) -> TensorDesc:
    """The (k, n) transposed view of an (n, k) tensor."""
    return TensorDesc((k, n), int(dtype), (1, k), 0, ND, (n, k))


def matmul(signature=MATMUL_V2, profile="A2", m=16, k=32, n=24, dtype=F16, **changes):
    args = dict(x1=t((m, k), dtype), x2=t((k, n), dtype), output=t((m, n), dtype), reduce_op="sum")
    if signature.has("comm_mode"):
        args["comm_mode"] = "ai_cpu"
    args.update(changes)
    return rules.check_entry(signature=signature, profile=profile, **args)


def weight(signature=WEIGHT_QUANT, profile="A2", m=16, k=64, n=64, x=F16, w=I8, scale_shape=None, **changes):
    args = dict(x1=t((m, k), x), x2=t((k, n), w), antiquant_scale=t(scale_shape or (n,), x),
                output=t((m, n), x), reduce_op="sum")
    if signature.has("comm_mode"):
        args["comm_mode"] = "ai_cpu"
    args.update(changes)
    return rules.check_entry(signature=signature, profile=profile, **args)


def refused(code, fragment, fn, *args, **kwargs):
    with pytest.raises(Violation, match=fragment) as info:
        fn(*args, **kwargs)
    assert info.value.code == code, info.value
    return info.value


# --------------------------------------------------------------------------- MatmulAllReduce V1-V3

@pytest.mark.parametrize("profile", ["A2", "950"])
@pytest.mark.parametrize("dtype", [F16, BF16])
def test_matmul_takes_one_16_bit_float_dtype(profile, dtype):
    call = matmul(profile=profile, dtype=dtype, bias=t((24,), dtype), x3=t((16, 24), dtype))
    assert (call.kind, call.formula, call.x_dtype, call.out_dtype) == ("float", 0, dtypes.name(dtype),
                                                                        dtypes.name(dtype))
    assert (call.m, call.k, call.n) == (16, 32, 24)


@pytest.mark.parametrize("key,shape", [("x2", (32, 24)), ("output", (16, 24)), ("bias", (24,)), ("x3", (16, 24))])
def test_matmul_refuses_a_second_dtype(key, shape):
    """MatmulAllReduceCheckDtypeValid: every tensor of x1's dtype."""
    error = refused(INVALID, "must equal x1 dtype", matmul, **{key: t(shape, BF16)})
    assert error.message.startswith(key)


def test_matmul_refuses_int8_and_float_inputs():
    refused(INVALID, "x1 dtype FLOAT is not supported", matmul, x1=t((16, 32), D.ACL_FLOAT))
    refused(INVALID, "x2 dtype INT8 is not supported", matmul, x2=t((32, 24), I8))


def test_matmul_refuses_an_nz_x2_whatever_its_storage():
    """MatmulAllReduceCheckFormat (4-D NZ storage) and the op definition (ND only) refuse any NZ x2."""
    for storage in ((1, 1, 32, 24), (32, 24)):
        x2 = TensorDesc((32, 24), int(F16), (24, 1), 0, FRACTAL_NZ, storage)
        refused(INVALID, "x2 format FRACTAL_NZ is not supported", matmul, x2=x2)


def test_matmul_takes_empty_tensors():
    """k = 0 gives AllReduce(bias + x3); an empty output computes nothing (the documents)."""
    assert matmul(k=0).k == 0
    assert matmul(m=0).m == 0
    assert matmul(n=0, bias=t((0,))).n == 0


def test_matmul_layouts():
    assert matmul(x2=transposed(32, 24)).x2_transposed
    strided = TensorDesc((32, 24), int(F16), (48, 1), 0, ND, (32 * 48,))
    refused(INVALID, "x2 must be contiguous or a transposed view", matmul, x2=strided)


def test_matmul_attributes_and_stages():
    refused(INVALID, 'reduceOp "summ" is not supported', matmul, reduce_op="summ")  # strcmp, V4's is strncmp
    refused(NULLPTR, "reduceOp is a null pointer", matmul, reduce_op=None)
    refused(NULLPTR, "x2 is a null pointer", matmul, x2=None)
    refused(INVALID, "streamMode 0 is not supported", matmul, stream_mode=0)
    refused(TILING, "commTurn 8 is not supported", matmul, comm_turn=8)
    refused(RUNTIME, "not supported on Atlas A3", matmul, profile="A3")
    refused(TILING, "group rank count 16 is not supported on Atlas A2", matmul, rank_size=16)
    assert matmul(profile="950", rank_size=16).kind == "float"


@pytest.mark.parametrize("signature", [MATMUL_V3, V5, WEIGHT_QUANT_V2], ids=lambda s: s.op)
def test_comm_mode_names_an_engine_of_the_soc(signature):
    """IsCommModeValid: Atlas A2 NULL or "ai_cpu"; Ascend 950 "ai_cpu" or "ccu" (NULL refused)."""
    def call(profile, mode):
        if signature is V5:
            return rules.check_entry(signature=V5, profile=profile, x1=t((16, 32), I8), x2=t((32, 24), I8),
                                     x2_scale=t((24,), D.ACL_UINT64), output=t((16, 24)), reduce_op="sum",
                                     comm_mode=mode)
        return (matmul if signature.kind == "float" else weight)(signature=signature, profile=profile, comm_mode=mode)

    for profile, mode in (("A2", None), ("A2", "ai_cpu"), ("950", "ai_cpu"), ("950", "ccu")):
        call(profile, mode)
    for profile, mode in (("A2", "ccu"), ("A2", ""), ("950", None), ("950", "invalid")):
        refused(INVALID, "commMode .* is not supported on", call, profile, mode)


def test_v5_is_v4_plus_comm_mode():
    """V5's checks are V4's (a prefix reduceOp) and its header has commMode after reduceOp."""
    assert V5.parameters[V5.parameters.index("reduceOp") + 1] == "commMode"
    assert [p for p in V5.parameters if p != "commMode"] == list(V4.parameters)
    args = dict(x1=t((16, 32), I8), x2=t((32, 24), I8), x2_scale=t((24,), D.ACL_UINT64), output=t((16, 24)),
                reduce_op="summ")
    assert rules.check_entry(signature=V5, profile="A2", comm_mode="ai_cpu", **args).formula == 2


# --------------------------------------------------------------------------- WeightQuantMatmulAllReduce

@pytest.mark.parametrize("w", [I8, I4])
@pytest.mark.parametrize("x", [F16, BF16])
def test_weight_quant_modes(x, w):
    """Per tensor [1], per channel [n] / [1, n], per group [ceil(k / g), n] with an offset of its shape."""
    assert weight(x=x, w=w, scale_shape=(1,), antiquant_offset=t((1,), x)).x2_dtype == dtypes.name(w)
    assert weight(x=x, w=w, scale_shape=(1, 64)).antiquant_group_size == 0
    call = weight(x=x, w=w, k=80, scale_shape=(3, 64), antiquant_offset=t((3, 64), x), antiquant_group_size=32)
    assert (call.kind, call.antiquant_group_size, call.k) == ("weight", 32, 80)


@pytest.mark.parametrize("group,fragment", [(16, "16 is not supported"), (48, "48 is not supported"),
                                            (64, "64 is not supported: expected 0 or a multiple of 32 in \\[32, 63\\]")])
def test_weight_quant_group_size_is_a_multiple_of_32_below_k(group, fragment):
    refused(INVALID, fragment, weight, scale_shape=(2, 64), antiquant_group_size=group)


def test_weight_quant_scale_shapes():
    refused(INVALID, r"antiquantScale shape \[32\] is not supported: expected \[1\]", weight, scale_shape=(32,))
    refused(INVALID, r"expected \[2, 64\] \(per group", weight, scale_shape=(3, 64), antiquant_group_size=32)
    refused(INVALID, "antiquantOffset shape", weight, antiquant_offset=t((1, 64)))
    assert weight(k=0, scale_shape=(5,)).k == 0  # k = 0: the scale is not checked (CheckShape)


def test_weight_quant_dtypes():
    refused(INVALID, "antiquantScale dtype BF16 must equal x1 dtype FLOAT16", weight, antiquant_scale=t((64,), BF16))
    refused(INVALID, "antiquantOffset dtype BF16 must equal antiquantScale", weight, antiquant_offset=t((64,), BF16))
    refused(INVALID, "x2 dtype FLOAT8_E4M3FN is not supported on Atlas A2", weight,
            w=D.ACL_FLOAT8_E4M3FN)
    refused(INVALID, "output is empty", weight, m=0)


def test_weight_quant_fp8_weights_are_950_per_channel_without_offset():
    for w in (D.ACL_FLOAT8_E4M3FN, D.ACL_HIFLOAT8):
        assert weight(profile="950", w=w).x2_dtype == dtypes.name(w)
        refused(TILING, "antiquantOffset must be null", weight, profile="950", w=w, antiquant_offset=t((64,)))
        refused(TILING, "per-channel antiquantScale only", weight, profile="950", w=w, scale_shape=(1,))
        refused(TILING, "per-channel antiquantScale only", weight, profile="950", w=w, scale_shape=(2, 64),
                antiquant_group_size=32)


def test_weight_quant_950_per_group_alignment():
    """Ascend 950 per group: k and n multiples of 32 (INT8), 64 (INT4); Atlas A2 has no such rule."""
    assert weight(profile="950", w=I8, n=32, scale_shape=(2, 32), antiquant_group_size=32).n == 32
    refused(TILING, "multiples of 64", weight, profile="950", w=I4, n=32, scale_shape=(2, 32), antiquant_group_size=32)
    assert weight(profile="A2", w=I4, n=24, scale_shape=(2, 24), antiquant_group_size=32).n == 24


def test_weight_quant_nz_weights():
    """An INT8 FRACTAL_NZ weight (the op definition's only NZ weight): Atlas A2; Ascend 950's tiling
    refuses it."""
    nz = TensorDesc((64, 64), int(I8), (64, 1), 0, FRACTAL_NZ, (2, 4, 16, 32))
    assert weight(x2=nz).x2_nz
    refused(TILING, "FRACTAL_NZ format is not supported on Ascend 950", weight, profile="950", x2=nz)
    nz4 = TensorDesc((64, 64), int(I4), (64, 1), 0, FRACTAL_NZ, (1, 4, 16, 64))
    refused(INVALID, "FRACTAL_NZ format must be INT8", weight, x2=nz4)


def test_weight_quant_scale_follows_the_weight_layout():
    """ContiguousCheckImpl: a 2-D scale with both dims above 1 is transposed exactly when x2 is."""
    scale_t = TensorDesc((2, 64), int(F16), (1, 2), 0, ND, (64, 2))
    assert weight(x2=transposed(64, 64, I8), antiquant_scale=scale_t, antiquant_group_size=32).x2_transposed
    refused(INVALID, "must be transposed", weight, x2=transposed(64, 64, I8), scale_shape=(2, 64),
            antiquant_group_size=32)
    refused(INVALID, "must be contiguous", weight, antiquant_scale=scale_t, antiquant_group_size=32)
    assert weight(x2=transposed(64, 64, I8), scale_shape=(1, 64)).x2_transposed  # a [1, n] scale: either


def test_weight_quant_tiling_limits():
    refused(TILING, "k = 65536 exceeds the limit 65535", weight, k=65536, scale_shape=(64,))
    refused(TILING, "antiquantOffset is empty", weight, k=0, antiquant_offset=t((0,)))
    assert matmul(k=65536).k == 65536  # MatmulAllReduce's limit is INT32_MAX


def test_a_private_format_is_refused_where_the_op_definition_has_nd():
    """nnopbase refuses a private format the op definition does not list, whatever its storage shape:
    every tensor but x2; an x2 in a private format is NZ with a 4-D storage shape or refused."""
    nz_2d = TensorDesc((16, 64), int(F16), (64, 1), 0, FRACTAL_NZ, (16, 64))
    refused(INVALID, "output format FRACTAL_NZ is not supported", weight, output=nz_2d)
    w_2d = TensorDesc((64, 64), int(I8), (64, 1), 0, FRACTAL_NZ, (64, 64))
    refused(INVALID, r"x2 format FRACTAL_NZ with the storage shape \[64, 64\] is not supported", weight, x2=w_2d)
    refused(INVALID, "x2 format FRACTAL_NZ with the storage shape", rules.check, x1=t((16, 64), I8), x2=w_2d,
            x2_scale=t((64,), D.ACL_UINT64), output=t((16, 64)), reduce_op="sum")
