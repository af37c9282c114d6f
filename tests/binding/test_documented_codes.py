"""Inputs the operator rules cannot accept get a documented code at GetWorkspaceSize, never an
internal error later (issue 9, items 5 and 6), through the binding and the raw C entry points
(the raw calls' message text is checked where the libraries are the mock's: binding_helpers)."""
from __future__ import annotations

import numpy as np
import pytest

from binding_helpers import communicators, expect_status, mock_library, raw_grouped_matmul, skip_unless_profile

import aclnn_py
from aclnn_py import AclnnInternalError, AclnnParamError, Tensor, ffi
from aclnn_py.semantics.grouped_matmul.golden import grouped_matmul
from aclnn_py.semantics.precision import assert_close
from aclnn_py.semantics.quant_matmul_all_reduce.golden import quant_matmul_all_reduce
from aclnn_py.ops._grouped_matmul import grouped_matmul_v5
from aclnn_py.ops import quant_matmul_all_reduce_v4

INVALID, TILING = 161002, 561002
P950 = "Ascend950PR_9599"
BIG = 1 << 62


def both_ways(stream, args: dict, code: int, fragment: str) -> None:
    """The C entry point and the binding agree: ``code`` from both; the binding's rules (before any
    C call) word it with ``fragment``, and so does the C call on the mock's libraries."""
    status, message = raw_grouped_matmul(args)
    expect_status(status, code, fragment, message)
    kw = {k: v for k, v in args.items() if k not in ("x", "weight")}
    with pytest.raises(AclnnParamError) as info:
        grouped_matmul_v5(args["x"], args["weight"], stream=stream, **kw)
    assert info.value.code == code and fragment in info.value.message


def T(shape, dtype="float16", fill=0):
    return Tensor.from_numpy(np.full(shape, fill, np.float32), dtype)


def stacked(**over):
    """Non-quantized FLOAT16 M-grouped call: x (4, 8), weight (3, 8, 16), out (4, 16)."""
    args = dict(x=[T((4, 8))], weight=[T((3, 8, 16))], out=[T((4, 16))],
                group_list=Tensor.from_numpy(np.array([1, 2, 4], np.int64)), split_item=3, group_type=0)
    args.update(over)
    return args


def per_tensor(n=2, **over):
    """A16W8 tensor lists: n x (4, 8) FLOAT16 with n INT8 (8, 16) weights."""
    args = dict(x=[T((4, 8)) for _ in range(n)], weight=[T((8, 16), "int8") for _ in range(n)],
                antiquant_scale=[T((16,), fill=1) for _ in range(n)], out=[T((4, 16)) for _ in range(n)],
                split_item=0, group_type=-1)
    args.update(over)
    return args


# --------------------------------------------------------------------------- item 5: empty lists

@pytest.mark.parametrize("key", ["bias", "scale", "offset", "antiquant_offset", "per_token_scale"])
def test_an_empty_optional_list_counts_as_omitted(stream, key):
    """CANN's op_api resets an empty optional list to nullptr before any check (hicann/ops-transformer
    gmm/grouped_matmul/op_api/aclnn_grouped_matmul.cpp, ResetEmptyTensor): the call is the call without it."""
    args = stacked(**{key: []})
    status, message = raw_grouped_matmul(args)
    expect_status(status, 0, "", message)
    kw = {k: v for k, v in args.items() if k not in ("x", "weight")}
    assert grouped_matmul_v5(args["x"], args["weight"], stream=stream, **kw) == args["out"]
    stream.synchronize()


def test_an_empty_antiquant_scale_list_leaves_a16w8_without_its_scale(stream):
    both_ways(stream, per_tensor(antiquant_scale=[]), INVALID,
              "a weight-only quantized weight also needs antiquantScale")


def test_optional_list_lengths_are_checked_for_every_scenario(stream):
    # A8W8 (single tensors): two scale tensors against one weight
    a8w8 = dict(x=[T((4, 8), "int8")], weight=[T((3, 8, 16), "int8")], scale=[T((3, 16), "bfloat16")] * 2,
                out=[T((4, 16), "bfloat16")], group_list=Tensor.from_numpy(np.array([1, 2, 4], np.int64)),
                split_item=3, group_type=0)
    both_ways(stream, a8w8, INVALID, "scaleOptional has 2 tensors but weight has 1")


# --------------------------------------------------------------------------- item 6: shapes and ranks

def test_zero_d_out(stream):
    both_ways(stream, stacked(out=[T(())]), INVALID, "out[0] must have at least 2 dims, got 0")


def test_zero_d_antiquant_scale_a16w8(stream):
    args = dict(x=[T((4, 8))], weight=[T((3, 8, 16), "int8")], antiquant_scale=[T(())], out=[T((4, 16))],
                group_list=Tensor.from_numpy(np.array([1, 2, 4], np.int64)), split_item=3, group_type=0)
    both_ways(stream, args, INVALID, "antiquantScaleOptional shape [] is not supported: A16W8 (per channel [N]) "
                                     "needs [3, 16]")


@pytest.mark.parametrize("key, shape, fragment", [
    ("bias", (16,), "biasOptional shape [16] is not supported"),
    ("antiquant_offset", (3, 8), "antiquantOffsetOptional[0] shape [3, 8] must equal"),
])
def test_parameter_shapes_are_checked(stream, key, shape, fragment):
    args = stacked(**{key: [T(shape)]}) if key == "bias" else per_tensor(**{key: [T(shape), T(shape)]})
    both_ways(stream, args, INVALID, fragment)


@pytest.mark.aclnn_soc("Ascend910B4")
def test_quantized_parameter_shapes_a2(stream):
    a4w4 = dict(x=[T((4, 64), "int4")], weight=[T((3, 64, 16), "int4")],
                scale=[Tensor.from_numpy(np.ones((3, 2, 2, 16), np.uint64))],
                out=[T((4, 16), "bfloat16")], group_list=Tensor.from_numpy(np.array([1, 2, 4], np.int64)),
                split_item=3, group_type=0)
    both_ways(stream, a4w4, INVALID, "scaleOptional shape [3, 2, 2, 16] is not supported: A4W4")
    a8w8 = dict(x=[T((4, 8), "int8")], weight=[T((3, 8, 16), "int8")], scale=[T((3, 16), "bfloat16")],
                per_token_scale=[T((3,), "float32")], out=[T((4, 16), "bfloat16")],
                group_list=Tensor.from_numpy(np.array([1, 2, 4], np.int64)), split_item=3, group_type=0)
    both_ways(stream, a8w8, INVALID, "perTokenScaleOptional shape [3] is not supported: per-token quantization "
                                     "needs [4]")


def test_size_one_dims_with_extreme_strides_are_computed(stream):
    """A stride is never used along a size-1 dim: any int64 value is accepted and nothing overflows."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 8)).astype(np.float16)
    w = rng.standard_normal((1, 8, 16)).astype(np.float16)
    bias = rng.standard_normal((1, 16)).astype(np.float16)
    xt, bt = Tensor.from_numpy(x), Tensor.from_numpy(bias)
    xv = xt.view((1, 8), (BIG, 1))
    bv = bt.view((1, 16), (2**63 - 1, 1))
    gl = Tensor.from_numpy(np.array([1], np.int64))
    out, = grouped_matmul_v5([xv], [w], bias=[bv], group_list=gl, split_item=3, group_type=0, stream=stream)
    stream.synchronize()
    expect, = grouped_matmul([x], [w], bias=[bias], group_list=[1], split_item=3, group_type=0)
    assert_close(out.to_numpy(), expect, "float16")
    if mock_library():  # the mock computes the golden itself
        np.testing.assert_array_equal(out.to_numpy(), expect)
    assert raw_grouped_matmul(dict(x=[xv], weight=[Tensor.from_numpy(w)], bias=[bv], out=[out], group_list=gl,
                        split_item=3, group_type=0)) == (0, "")


def test_quant_matmul_all_reduce_size_one_dims_with_extreme_strides(stream):
    skip_unless_profile({"A2", "950"}, "QuantMatmulAllReduceV4")
    with communicators(1) as (comm,):  # by name and rank_size (a name alone has no size in Python)
        rng = np.random.default_rng(6)
        x1 = rng.integers(-8, 8, (1, 32)).astype(np.int8)
        x2 = rng.integers(-8, 8, (32, 16)).astype(np.int8)
        s2 = rng.uniform(0.01, 0.1, 16).astype(np.float32)
        s1 = np.array([0.5], np.float32)
        t1, ts1 = Tensor.from_numpy(x1), Tensor.from_numpy(s1)
        out = quant_matmul_all_reduce_v4(t1.view((1, 32), (BIG, 1)), x2, s2, x1_scale=ts1.view((1,), (BIG,)),
                                         group=comm.name, rank_size=1, stream=stream, out_dtype="float16")
        stream.synchronize()
        expect = quant_matmul_all_reduce([x1], [x2], [s2], x1_scale=[s1], out_dtype="float16")
        assert_close(out.to_numpy(), expect, "float16")
        if mock_library():  # the mock computes the golden itself
            np.testing.assert_array_equal(out.to_numpy(), expect)


@pytest.mark.aclnn_soc(P950)
def test_quant_matmul_all_reduce_950_zero_d_x1_scale_with_2d_x2_scale(stream):
    x1 = Tensor.empty((8, 256), "float8_e4m3fn")
    x2 = Tensor.empty((256, 16), "float8_e4m3fn")
    s1, s2 = T((), "float32"), T((2, 1), "float32")
    out = Tensor.empty((8, 16), "bfloat16")
    fragment = "x1Scale [] with x2Scale [2, 1] is not supported"
    with pytest.raises(AclnnInternalError) as info:
        quant_matmul_all_reduce_v4(x1, x2, s2, x1_scale=s1, group="g", out=out, stream=stream)
    assert info.value.code == TILING and fragment in info.value.message
    size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
    status = aclnn_py.lib.aclnnQuantMatmulAllReduceV4GetWorkspaceSize(
        x1.handle, x2.handle, ffi.NULL, ffi.NULL, s1.handle, s2.handle, ffi.NULL, ffi.NULL, b"g", b"sum",
        0, 1, 0, 0, out.handle, size, executor)
    expect_status(status, TILING, fragment)
    for t in (x1, x2, s1, s2, out):
        t.close()
