"""aclnnCast and aclnnPermute through the binding (``aclnn_py.ops.cast`` / ``ops.permute`` from
their headers): the outputs inferred, values against the golden (exact for integer and BOOL
targets and for any permutation, CANN's precision standard for float targets), views, and the
documented codes from the binding's rules and from the raw C entry points alike."""
from __future__ import annotations

import itertools

import ml_dtypes
import numpy as np
import pytest

import aclnn_py
from aclnn_py import Tensor, ffi, ops
from aclnn_py.errors import AclnnParamError, AclnnInternalError, ArgumentError
from aclnn_py.semantics import dtypes, permute
from aclnn_py.semantics.cast import golden
from aclnn_py.semantics.precision import assert_close

from binding_helpers import expect_status

D = dtypes.DataType
VALUES = np.float32([0.0, -0.0, 1.5, -2.75, 3.9, -3.9, 100.25, 1e6, -1e-3, 65504.0, 255.5, -129.0])


@pytest.mark.parametrize("target", ["float16", "bfloat16", "float64", "int8", "uint8", "int16", "int32",
                                    "int64", "uint32", "bool", "complex64"])
def test_cast_from_float32(stream, target):
    """Integer and BOOL targets exactly (truncation, saturation); float targets under the
    standard of the target (FLOAT16's 1e6 is inf in both: the positions of infinities agree)."""
    with ops.cast(VALUES, target, stream=stream) as out:
        stream.synchronize()
        assert out.shape == VALUES.shape and out.dtype == dtypes.from_name(target)
        got = out.to_numpy()
    expected = golden.convert(VALUES, "float32", target)
    if target in dtypes.EXACT or target == "complex64":
        assert np.array_equal(got, expected)
    else:
        assert_close(got, expected, "float32" if target == "float64" else target)


@pytest.mark.parametrize("source,values", [
    ("int32", [300, -129, 7, 0, -1, 2**31 - 1]), ("int64", [2**40 + 3, -5, 0, 1, 2**53 + 1, -2**62]),
    ("uint8", [0, 1, 128, 255, 7, 9]), ("bool", [True, False, True, True, False, False]),
    ("float16", [0.5, -1.5, 65504.0, -0.0, 3.25, 1000.0])])
def test_cast_into_int8_and_float32(stream, source, values):
    """Integers narrow by their low bits (wrap), floats truncate and saturate; FLOAT32 exactly for
    these values (integers below 2**24 and the FLOAT16 values; 2**40 + 3 and the rest round)."""
    array = np.array(values, dtypes.host_dtype(source))
    for target in ("int8", "float32"):
        with ops.cast(array, target, stream=stream) as out:
            stream.synchronize()
            assert np.array_equal(out.to_numpy(), golden.convert(array, source, target))


def test_cast_writes_into_a_strided_out_from_a_strided_self(stream):
    values = np.arange(24, dtype=np.float32).reshape(4, 6) - 11.5
    with Tensor.from_numpy(values) as t, Tensor.empty((6, 8), "int32") as wide:
        wide.copy_from_numpy(np.full((6, 8), 99, np.int32))
        with wide.view((6, 4), (8, 2)) as out:
            assert ops.cast(t.T, "int32", out=out, stream=stream) is out
            stream.synchronize()
            got = wide.to_numpy()
    assert np.array_equal(got[:, ::2], np.trunc(values.T).astype(np.int32))
    assert (got[:, 1::2] == 99).all()


def test_cast_codes(stream):
    lib = aclnn_py.lib
    size, ex = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
    with Tensor.from_numpy(np.ones((4, 2), np.float32)) as self, Tensor.empty((4, 2), "float16") as f16, \
            Tensor.empty((2, 4), "float64") as wrong_shape:
        expect_status(lib.aclnnCastGetWorkspaceSize(self.handle, D.ACL_FLOAT16, f16.handle, size, ex), 0)
        assert lib.aclDestroyAclOpExecutor(ex[0]) == 0
        expect_status(lib.aclnnCastGetWorkspaceSize(self.handle, D.ACL_DOUBLE, f16.handle, size, ex), 161002,
                      "out dtype FLOAT16 must be dtype DOUBLE")
        expect_status(lib.aclnnCastGetWorkspaceSize(self.handle, D.ACL_DOUBLE, wrong_shape.handle, size, ex), 161002,
                      "out shape [2, 4] must be self's [4, 2]")
        expect_status(lib.aclnnCastGetWorkspaceSize(ffi.NULL, D.ACL_DOUBLE, f16.handle, size, ex), 161001,
                      "self is a null pointer")
        expect_status(lib.aclnnCastGetWorkspaceSize(self.handle, 1000, f16.handle, size, ex), 161002,
                      "dtype <unknown aclDataType 1000> is not supported")
        with pytest.raises(AclnnParamError, match="out dtype FLOAT16 must be dtype BF16"):
            ops.cast(self, "bfloat16", out=f16, stream=stream)
    with pytest.raises(ArgumentError, match="dtype: unknown dtype 'float99'"):
        ops.cast(np.ones(2, np.float32), "float99", stream=stream)


@pytest.mark.aclnn_soc("Ascend950PR")
def test_cast_on_ascend_950(stream):
    """Its low-bit conversions (HiFloat8 ties away from zero, FP4, INT32 to INT4), the pairs it
    lacks and INT4's even last dim (561002, the document's code)."""
    values = np.float32([[1.5, -3.0, 0.0, 6.0], [0.25, -0.75, 12.0, 2.5]])
    with ops.cast(values, "hifloat8", stream=stream) as hif8, ops.cast(values, "float4_e2m1", stream=stream) as fp4:
        stream.synchronize()
        assert np.array_equal(hif8.to_numpy().view(np.uint8),
                              golden.convert(values, "float32", "hifloat8").view(np.uint8))
        assert np.array_equal(fp4.to_numpy().astype(np.float32),
                              golden.convert(values, "float32", "float4_e2m1").astype(np.float32))
        with ops.cast(hif8, "bfloat16", stream=stream) as back:
            stream.synchronize()
            assert back.to_numpy().dtype == ml_dtypes.bfloat16
    with ops.cast(np.int32([[7, -8, 9, 16]]), "int4", stream=stream) as int4:
        stream.synchronize()
        assert [int(v) for v in int4.to_numpy().ravel()] == [7, -8, -7, 0]
    with pytest.raises(AclnnInternalError, match="last dim must be even"):
        ops.cast(np.int32([[1, 2, 3]]), "int4", stream=stream)
    with Tensor.from_numpy(np.zeros(4, np.uint8), "hifloat8") as codes:
        with pytest.raises(AclnnParamError, match="HIFLOAT8 cannot be cast to dtype FLOAT8_E4M3FN"):
            ops.cast(codes, "float8_e4m3fn", stream=stream)


# --------------------------------------------------------------------------- aclnnPermute

@pytest.mark.parametrize("axes", list(itertools.permutations(range(3))) + [(-1, 0, -2)])
def test_permute_every_order(stream, axes):
    values = np.arange(2 * 3 * 4, dtype=np.int16).reshape(2, 3, 4)
    with ops.permute(values, axes, stream=stream) as out:
        stream.synchronize()
        assert np.array_equal(out.to_numpy(), np.transpose(values, axes))


@pytest.mark.parametrize("name", ["bfloat16", "float64", "complex128", "bool", "uint64", "hifloat8"])
def test_permute_types(stream, name):
    rng = np.random.default_rng(7)
    values = rng.integers(0, 100, (3, 1, 5)).astype(dtypes.host_dtype(name) if name != "hifloat8" else np.uint8)
    with Tensor.from_numpy(values, name) as t, ops.permute(t, [2, 0, 1], stream=stream) as out:
        stream.synchronize()
        assert out.dtype == dtypes.from_name(name)
        assert np.array_equal(out.to_numpy().view(np.uint8), permute.compute(values, (2, 0, 1)).view(np.uint8))


def test_permute_of_a_view_into_a_view(stream):
    values = np.arange(30, dtype=np.float32).reshape(5, 6)
    with Tensor.from_numpy(values) as t, Tensor.empty((3, 10), "float32") as wide:
        wide.copy_from_numpy(np.zeros((3, 10), np.float32))
        source = t.view((5, 3), (6, 2))  # every other column
        with source, wide.view((3, 5), (10, 2)) as out:
            ops.permute(source, [1, 0], out=out, stream=stream)
            stream.synchronize()
            got = wide.to_numpy()
    assert np.array_equal(got[:, ::2], values[:, ::2].T) and not got[:, 1::2].any()


def test_permute_codes(stream):
    lib = aclnn_py.lib
    size, ex = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
    with Tensor.from_numpy(np.ones((2, 3), np.float32)) as self, Tensor.empty((3, 2), "float32") as out, \
            Tensor.empty((3, 2), "float16") as f16, aclnn_py.tensor.IntArray([1, 1]) as twice, \
            aclnn_py.tensor.IntArray([1, 0]) as swap:
        expect_status(lib.aclnnPermuteGetWorkspaceSize(self.handle, twice.handle, out.handle, size, ex), 161002,
                      "names a dim twice")
        expect_status(lib.aclnnPermuteGetWorkspaceSize(self.handle, swap.handle, f16.handle, size, ex), 161002,
                      "out dtype FLOAT16 must be self's FLOAT")
        expect_status(lib.aclnnPermuteGetWorkspaceSize(self.handle, ffi.NULL, out.handle, size, ex), 161001,
                      "dims is a null pointer")
        with pytest.raises(AclnnParamError, match=r"dims \[0, 2\]: 2 is outside \[-2, 1\]"):
            ops.permute(self, [0, 2], stream=stream)
        with pytest.raises(AclnnParamError, match=r"out shape \[3, 2\] must be \[2, 3\]"):
            ops.permute(self, (0, 1), out=out, stream=stream)
