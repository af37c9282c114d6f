"""Python arguments (issue 9, items 10 and 11): a lossy or out-of-range host conversion raises
``ArgumentError`` naming the values and the range unless ``cast=True``; a wrong value of the right
type raises ``ArgumentError`` (a ``ValueError``) naming the parameter, never KeyError, IndexError,
OverflowError or UnicodeError from deep inside, across dtypes, Tensor, DeviceBuffer, ops and hccl."""
from __future__ import annotations

import pickle

import ml_dtypes
import numpy as np
import pytest

from binding_helpers import communicators, mock_library, skip_unless_profile

from aclnn_py import AclError, AclnnParamError, DeviceBuffer, IntArray, Tensor, hccl
from aclnn_py.semantics import dtypes
from aclnn_py.errors import ArgumentError
from aclnn_py.semantics.quant_params import trans_quant_param
from aclnn_py.ops._grouped_matmul import grouped_matmul_v5
from aclnn_py.ops import quant_matmul_all_reduce_v4
from aclnn_py.ops._trans_matmul_weight import calculate_matmul_weight_size


@pytest.fixture
def group(stream):
    """A one-rank HCCL communicator."""
    with communicators(1) as (comm,):
        yield comm


def raises(parameter: str, *fragments: str):
    """Context: ArgumentError for ``parameter`` whose message holds every fragment."""
    class Check:
        def __enter__(self):
            self.ctx = pytest.raises(ArgumentError)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            handled = self.ctx.__exit__(*exc)
            err = self.info.value
            assert err.parameter == parameter, str(err)
            assert str(err).startswith(f"{parameter}: ")
            for f in fragments:
                assert f in str(err), str(err)
            return handled
    return Check()


# --------------------------------------------------------------------------- item 10: conversions

@pytest.mark.parametrize("values, dtype, shown, range_text, cast_result", [
    (np.array([300, 1], np.int32), "int8", "300", "[-128, 127]", [44, 1]),
    (np.array([9, -9], np.int8), "int4", "9, -9", "[-8, 7]", [-7, 7]),
    (np.array([2.7, 1.0]), "int8", "2.7", "[-128, 127]", [2, 1]),
    (np.array([-1, 5], np.int64), "uint8", "-1", "[0, 255]", [255, 5]),
    (np.array([70000.0], np.float32), "float16", "70000.0", "[-65504, 65504]", [np.inf]),
    (np.array([np.inf]), "float8_e4m3fn", "inf", "[-448, 448] (no infinity)", [np.nan]),
    (np.array([2]), "bool", "2", "{0, 1}", [True]),
])
def test_lossy_conversion_needs_cast(stream, values, dtype, shown, range_text, cast_result):
    with raises("array", f"cannot be represented as {dtype} without loss", f"e.g. {shown}", range_text,
                "cast=True"):
        Tensor.from_numpy(values, dtype)
    with Tensor.from_numpy(values, dtype, cast=True) as t:
        got = t.to_numpy().astype(np.float64)
        np.testing.assert_array_equal(got, np.asarray(cast_result, np.float64))
    with Tensor.empty(values.shape, dtype) as t:  # the same rule when writing into a tensor
        with raises("array", "cast=True"):
            t.copy_from_numpy(values)
        t.copy_from_numpy(values, cast=True)


@pytest.mark.parametrize("values, dtype, expect", [
    (np.array([-128, 127], np.int32), "int8", [-128, 127]),
    (np.array([-8, 7], np.int64), "int4", [-8, 7]),
    (np.array([3.0, -2.0]), "int32", [3, -2]),
    (np.array([0.1, 1 / 3]), "float16", np.array([0.1, 1 / 3]).astype(np.float16)),  # rounding is fine
    (np.array([1, 2**24 + 1], np.int64), "float32", [1, 2**24]),
    (np.array([0.5, 3.0], np.float32), "float8_e8m0", [0.5, 4.0]),
    (np.array([True, False]), "float16", [1.0, 0.0]),
])
def test_lossless_conversions_pass(stream, values, dtype, expect):
    with Tensor.from_numpy(values, dtype) as t:
        np.testing.assert_array_equal(t.to_numpy().astype(np.float64), np.asarray(expect, np.float64))


def test_hifloat8_from_floats_is_encoded_not_truncated(stream):
    with Tensor.from_numpy(np.array([1.0625, -1.0625]), "hifloat8") as t:
        assert t.to_numpy().view(np.uint8).tolist() == [0x09, 0x89]
    with raises("array", "hifloat8", "(-40960, 40960)"):
        Tensor.from_numpy(np.array([1e6]), "hifloat8")
    codes = np.array([0x09, 0x82], np.uint8)  # uint8 stays codes
    with Tensor.from_numpy(codes, "hifloat8") as t:
        assert t.to_numpy().view(np.uint8).tolist() == [0x09, 0x82]


@pytest.mark.parametrize("dtype", ["float8_e4m3fn", "float8_e5m2", "float8_e8m0", "hifloat8"])
def test_uint8_codes_are_codes_for_from_numpy_and_copy_from_numpy_alike(stream, dtype):
    """Issue 20, item 13: copy_from_numpy takes a uint8 array of an 8-bit float type as its codes,
    as from_numpy does (it converted 0x38 to the number 56 for the FLOAT8 types before)."""
    codes = np.array([0x38, 0x40], np.uint8)
    with Tensor.from_numpy(codes, dtype) as t:
        assert t.to_numpy().view(np.uint8).tolist() == [0x38, 0x40]
        t.copy_from_numpy(np.array([0x3C, 0x44], np.uint8))
        assert t.to_numpy().view(np.uint8).tolist() == [0x3C, 0x44]


# --------------------------------------------------------------------------- item 11: foreign exceptions

def test_dtype_values():
    for bad in ("float99", "bogus", 999, object()):
        with raises("dtype"):
            dtypes.to_acl(bad)
    assert dtypes.to_acl("bf16") == dtypes.to_acl("ACL_BF16") == dtypes.to_acl(ml_dtypes.bfloat16) == \
        dtypes.DataType.ACL_BF16


def test_quant_matmul_all_reduce_bad_values(stream, group):
    skip_unless_profile({"A2", "950"}, "QuantMatmulAllReduceV4")
    x1, x2 = np.zeros((4, 32), np.int8), np.zeros((32, 8), np.int8)
    s2 = trans_quant_param(np.ones(8, np.float32))
    with raises("out_dtype", "float99"):
        quant_matmul_all_reduce_v4(x1, x2, s2, group=group.name, stream=stream, out_dtype="float99")
    with raises("x_dtype", "bogus"):
        quant_matmul_all_reduce_v4(x1, x2, s2, group=group.name, stream=stream, x_dtype="bogus")
    with raises("group", "cannot be encoded as UTF-8"):
        quant_matmul_all_reduce_v4(x1, x2, s2, group="g\udcff", stream=stream)
    with raises("reduce_op", "NUL"):
        quant_matmul_all_reduce_v4(x1, x2, s2, group=group.name, stream=stream, reduce_op="sum\0")
    with raises("group_size", "out of range"):
        quant_matmul_all_reduce_v4(x1, x2, s2, group=group.name, stream=stream, group_size=2**64)
    # bytes are handed to C unchanged: an unknown (non-UTF-8) name is the operator's 161002
    with pytest.raises(AclnnParamError) as info:
        quant_matmul_all_reduce_v4(x1, x2, s2, group=b"\xff\xfe", stream=stream)
    assert info.value.code == 161002
    if mock_library():  # the C call's message: the runtime's own words, the mock's here
        assert "group '" in info.value.message
    # a 0-d x2 without out: the operator's rule, not an IndexError from sizing the output
    with pytest.raises(AclnnParamError) as info:
        quant_matmul_all_reduce_v4(x1, np.int8(3), s2, group=group.name, stream=stream)
    assert info.value.code == 161002 and "x2 must be 2-D (k, n), got shape []" in info.value.message


def test_grouped_matmul_bad_values(stream):
    x, w = np.zeros((4, 8), np.float16), np.zeros((3, 8, 16), np.float16)
    with pytest.raises(AclnnParamError) as info:
        grouped_matmul_v5([], [w], group_list=np.array([1, 2, 4]), split_item=3, group_type=0, stream=stream)
    assert info.value.code == 161002 and "x tensor list is empty" in info.value.message
    with pytest.raises(AclnnParamError) as info:
        grouped_matmul_v5([x], [np.float16(1)], group_list=np.array([1, 2, 4]), split_item=3, group_type=0,
                          stream=stream)
    assert info.value.code == 161002 and "weight[0] must have 2 or 3 dims, got 0" in info.value.message
    with raises("out_dtype", "float99"):
        grouped_matmul_v5([x], [w], group_list=np.array([1, 2, 4]), split_item=3, group_type=0, stream=stream,
                          out_dtype="float99")
    with raises("group_list", "int64"):
        grouped_matmul_v5([x], [w], group_list=np.array([1.5, 2, 4]), split_item=3, group_type=0, stream=stream)
    with raises("split_item", "out of range"):
        grouped_matmul_v5([x], [w], group_list=np.array([1, 2, 4]), split_item=2**63, group_type=0, stream=stream)
    with raises("out_dtype", "required for the quantized scenario a8w8"):
        grouped_matmul_v5([x.astype(np.int8)], [w.astype(np.int8)], scale=[np.ones((3, 16), np.float32)],
                          group_list=np.array([1, 2, 4]), split_item=3, group_type=0, stream=stream)


def test_tensor_and_buffer_sizes(stream):
    with raises("shape", "more than a device buffer can address"):
        Tensor.empty((2**40, 2**40), "float32")
    with raises("shape[0]", "out of range"):
        Tensor.empty((2**63,), "int8")
    with raises("shape[1]", "out of range [0,"):
        Tensor.empty((2, -1), "int8")
    try:  # 4 TiB: beyond a device (the mock's too); a documented runtime code, never an OverflowError
        Tensor.empty((2**40,), "float32").close()
    except AclError as exc:
        assert exc.code == 207001  # ACL_ERROR_RT_MEMORY_ALLOCATION
    with DeviceBuffer(64) as buf:
        with raises("strides[0]", "out of range"):
            Tensor(buf, (2,), "int8", strides=(2**70,))
        with raises("strides", "1 strides for a shape of 2 dims"):
            Tensor(buf, (2, 2), "int8", strides=(1,))
        with raises("shape", "needs bytes [0, 128) but the buffer has 64"):
            Tensor(buf, (128,), "int8")
        with raises("offset", "outside the buffer"):
            buf.to_numpy(np.uint8, (8,), 60)
        with raises("value", "out of range"):
            buf.memset(2**40)
    with raises("nbytes", "out of range"):
        DeviceBuffer(0)
    with raises("nbytes", "out of range"):
        DeviceBuffer(2**70)
    with raises("values[0]", "out of range"):
        IntArray([2**64])
    with raises("tensor", "transpose needs at least 2 dims"):
        with Tensor.from_numpy(np.zeros(3, np.float32)) as t:
            t.T
    with raises("shape[0]", "out of range"):
        calculate_matmul_weight_size([2**64, 16], "int8")


def test_hccl_values(stream):
    with raises("name", "cannot be encoded as UTF-8"):
        hccl.comm_config_init(name="x\udcff")
    with raises("name", "do not fit"):
        hccl.comm_config_init(name="n" * 200)
    with raises("exec_timeout", "out of range"):
        hccl.comm_config_init(exec_timeout=2**40)
    with raises("op", "avg"):
        hccl.reduce_op("avg")
    with raises("dtype", "HcclDataType"):
        hccl.hccl_dtype(2**40)
    comm, = hccl.init_all([0])
    try:
        with DeviceBuffer(64) as buf:
            with raises("count", "out of range"):
                comm.all_reduce(buf, buf, -1, np.float32, "sum", stream)
            with raises("send", "128 bytes needed but the DeviceBuffer holds 64"):
                comm.all_reduce(buf, buf, 32, np.float32, "sum", stream)
            with raises("root", "out of range"):
                comm.broadcast(buf, 4, np.float32, root=-1, stream=stream)
    finally:
        comm.close()
    with raises("rank", "out of range"):
        hccl.init_root_info(2, bytes(4108), -1)
    with raises("root_info", "4108 bytes"):
        hccl.init_root_info(2, b"short", 0)


def test_argument_error_is_a_value_error_and_pickles():
    err = ArgumentError("out_dtype", "unknown dtype 'float99'")
    assert isinstance(err, ValueError)
    back = pickle.loads(pickle.dumps(err))
    assert (type(back), back.parameter, str(back)) == (ArgumentError, "out_dtype", str(err))
