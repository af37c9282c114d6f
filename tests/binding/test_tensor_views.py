"""Tensor views of the binding: a negative offset or strides reaching before the storage are
refused before any C call (161002, naming the rule); views with negative strides and 4-bit views
on an odd element read and write in place."""
from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from aclnn_py import DeviceBuffer, Tensor
from aclnn_py.errors import AclnnParamError


def test_tensor_refuses_a_negative_offset(device):
    with DeviceBuffer(64) as buf:
        with pytest.raises(AclnnParamError, match="view offset -4 is negative") as info:
            Tensor(buf, (4,), "float32", offset=-4)
        assert info.value.code == 161002
        with pytest.raises(AclnnParamError, match="before the start of the storage"):
            Tensor(buf, (4,), "float32", strides=(-1,))


def test_tensor_views_with_negative_strides_read_and_write_in_place(device):
    values = np.arange(12, dtype=np.float32).reshape(3, 4)
    with Tensor.from_numpy(values) as t, t.view((3, 4), (-4, -1), 11) as flipped:
        np.testing.assert_array_equal(flipped.to_numpy(), values[::-1, ::-1])
        flipped.copy_from_numpy(values * 10)
        np.testing.assert_array_equal(t.to_numpy(), (values * 10)[::-1, ::-1])


def test_four_bit_view_on_an_odd_element_keeps_its_neighbours(device):
    values = np.array([1, -1, 7, -8, 3, 2], ml_dtypes.int4)
    with Tensor.from_numpy(values) as t, t.view((3,), (1,), 1) as middle:
        middle.copy_from_numpy(np.array([0, 0, 0], ml_dtypes.int4))
        assert t.to_numpy().astype(int).tolist() == [1, 0, 0, 0, 3, 2]
