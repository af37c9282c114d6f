"""Host arrays in non-native byte order (issue 15, item 11): every entry point converts them to
native order with their values preserved -- before the fix ``Tensor.from_numpy`` of a big-endian
float32 array said it "has no aclDataType" and ``DeviceBuffer.from_numpy`` stored its bytes as
they were (read back as float32: 4.6e-41...). Where the binding cannot convert (a big-endian
``out`` array a copy fills in place) it refuses with a message about byte order."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from aclnn_py import ArgumentError, DeviceBuffer, Tensor
from aclnn_py.ops import grouped_matmul_v5, nz_weight_tensor, trans_quant_param_v2
from aclnn_py.semantics.grouped_matmul import golden
from aclnn_py.semantics.quant_params import trans_quant_param
from aclnn_py.semantics.precision import assert_close

#: The byte order that is not the host's.
FOREIGN = ">" if sys.byteorder == "little" else "<"


def foreign(array: np.ndarray) -> np.ndarray:
    """``array``'s values in the other byte order."""
    swapped = array.astype(array.dtype.newbyteorder(FOREIGN))
    assert not swapped.dtype.isnative and np.array_equal(swapped, array)
    return swapped


def test_tensor_from_numpy_and_copy_from_numpy(device):
    values = np.array([[1.5, -2.25, 3e37], [0.0, -0.0, 7.0]], np.float32)
    with Tensor.from_numpy(foreign(values)) as t:
        assert t.dtype.name == "ACL_FLOAT"
        np.testing.assert_array_equal(t.to_numpy(), values)
        t.copy_from_numpy(foreign(values * 2))
        np.testing.assert_array_equal(t.to_numpy(), values * 2)
    ints = np.array([1, -2, 2**31 - 1], np.int32)
    with Tensor.from_numpy(foreign(ints.astype(np.int64)), "int32") as t:  # a conversion, checked lossless
        np.testing.assert_array_equal(t.to_numpy(), ints)
    with Tensor.from_numpy(foreign(np.array([1.0, 2.5], np.float64)), "float16") as t:
        np.testing.assert_array_equal(t.to_numpy(), np.array([1.0, 2.5], np.float16))


def test_device_buffer(stream):
    values = np.array([1.0, -2.5, 1e-3, 65504.0], np.float32)
    with DeviceBuffer.from_numpy(foreign(values)) as buffer:
        np.testing.assert_array_equal(buffer.to_numpy(np.float32), values)
        buffer.copy_from_host(foreign(values[::-1].copy()), stream=stream)
        stream.synchronize()
        np.testing.assert_array_equal(buffer.to_numpy(np.float32), values[::-1])
        as_foreign = buffer.to_numpy(np.dtype(np.float32).newbyteorder(FOREIGN))
        assert not as_foreign.dtype.isnative and np.array_equal(as_foreign, values[::-1])
        with pytest.raises(ArgumentError, match=r"out: has non-native byte order \(dtype .f4\): the device holds "
                                                r"native-order values; pass an array of dtype .f4"):
            buffer.copy_to_host(foreign(np.zeros(4, np.float32)))


def test_operator_arguments(stream):
    rng = np.random.default_rng(0)
    x = rng.integers(-4, 4, (8, 16)).astype(np.float16)
    w = rng.integers(-4, 4, (2, 16, 8)).astype(np.float16)
    group_list = np.array([3, 8], np.int64)
    (y,) = grouped_matmul_v5([foreign(x)], [foreign(w)], group_list=foreign(group_list), split_item=3,
                             group_type=0, stream=stream)
    stream.synchronize()
    assert_close(y.to_numpy(), golden.grouped_matmul([x], [w], group_list=group_list, split_item=3,
                                                     group_type=0)[0], "float16")
    y.close()
    scale = np.array([0.5, 0.25, 1.0, 2.0], np.float32)
    packed = trans_quant_param_v2(foreign(scale), stream=stream)
    stream.synchronize()
    np.testing.assert_array_equal(packed.to_numpy(), trans_quant_param(scale))
    packed.close()
    with nz_weight_tensor(foreign(x)) as weight:
        np.testing.assert_array_equal(weight.to_numpy(), x)
