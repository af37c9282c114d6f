"""Where a tensor's elements and bytes are (aclnn_py.semantics.layout), for any stride sign, dtype and
format: the spans the memory checks prove inside an allocation, strided reads and writes that
touch exactly the view, and the layout rules naming the rule they break."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from aclnn_py.semantics import codecs, dtypes, layout
from aclnn_py.semantics.descriptors import FRACTAL_NZ, ND, TensorDesc


def _desc(shape, dtype, strides, offset=0, fmt=ND, storage=None):
    return TensorDesc(tuple(shape), int(dtypes.to_acl(dtype)), tuple(strides), offset, fmt,
                      tuple(storage) if storage is not None else tuple(shape))


def _indices(shape, strides, offset):
    """Every element index of a view, by brute force."""
    return [offset + sum(i * s for i, s in zip(idx, strides)) for idx in itertools.product(*map(range, shape))]


LAYOUTS = [  # shape, strides, offset
    ((3, 4), (4, 1), 0),
    ((3, 4), (-4, 1), 8),
    ((3, 4), (4, -1), 3),
    ((3, 4), (-1, -3), 11),
    ((2, 3, 2), (-6, 2, -1), 7),
    ((4, 1, 3), (3, 1 << 62, -1), 2),  # a size-1 dim with an extreme stride is never stepped along
    ((5,), (-2,), 9),
    ((0, 3), (-3, 1), 0),
]


@pytest.mark.parametrize("shape, strides, offset", LAYOUTS)
def test_element_span_is_the_min_and_max_element_for_any_stride_sign(shape, strides, offset):
    first, stop = layout.element_span(_desc(shape, "float16", strides, offset))
    touched = _indices(shape, strides, offset)
    if touched:
        assert (first, stop) == (min(touched), max(touched) + 1)
    else:
        assert first == stop


@pytest.mark.parametrize("dtype", ["float16", "int8", "float32", "bfloat16", "int4", "float4_e2m1", "complex64",
                                   "complex128"])
@pytest.mark.parametrize("shape, strides, offset", [l for l in LAYOUTS if math.prod(l[0])])
def test_strided_reads_and_writes_touch_exactly_the_view(dtype, shape, strides, offset):
    desc = _desc(shape, dtype, strides, offset)
    layout.check(desc)
    host = np.dtype(dtypes.host_dtype(dtype))
    rng = np.random.default_rng(7)
    first, stop = layout.element_span(desc)
    start, nbytes = layout.byte_span(desc)
    four = dtypes.bits(desc.dtype) == 4
    # the storage as one element per slot (4-bit: unpacked nibbles), from element start*8/bits
    base = start * 8 // dtypes.bits(desc.dtype)
    slots = nbytes * 8 // dtypes.bits(desc.dtype)
    codes = rng.integers(0, 16 if four else 100, slots).astype(np.uint8 if four else np.int64)
    storage = codes.view(host) if four else codes.astype(host)
    raw = codecs.pack_nibbles(storage) if four else storage.view(np.uint8).copy()
    index = np.array(_indices(shape, strides, offset)).reshape(shape) - base
    np.testing.assert_array_equal(layout.from_bytes(desc, raw).view(np.uint8), storage[index].view(np.uint8))

    values = rng.integers(0, 16 if four else 100, math.prod(shape)).astype(np.uint8 if four else np.int64)
    values = (values.view(host) if four else values.astype(host)).reshape(shape)
    layout.into_bytes(desc, values, raw)
    expect = storage.copy()
    expect[index] = values
    got = codecs.unpack_nibbles(raw, host) if four else raw.view(host)
    np.testing.assert_array_equal(got.view(np.uint8), expect.view(np.uint8))  # nothing else changed


def test_views_cannot_be_built_outside_the_span():
    desc = _desc((3, 4), "float32", (-4, 1), 8)
    first, _ = layout.element_span(desc)
    raw = np.zeros(12 * 4 - 4, np.uint8)  # one element short of the span
    with pytest.raises(ValueError, match="strides is incompatible"):
        layout.strided_view(raw, desc, first)


@pytest.mark.parametrize("desc, fragment", [
    (_desc((4,), "float16", (1,), -2), "view offset -2 is negative"),
    (_desc((3, 4), "float16", (-4, 1), 4), "reach element -4, before the start of the storage"),
    (_desc((32, 32), "float16", (32, 1), 0, FRACTAL_NZ, (2, 2, 16, 8)),
     "FRACTAL_NZ storage shape [2, 2, 16, 8] holds 512 elements but the NZ layout of the FLOAT16 view [32, 32] needs 1024"),
    (_desc((64,), "int8", (1,), 0, FRACTAL_NZ, (1, 4, 16, 32)), "FRACTAL_NZ needs a shape of at least 2"),
    (_desc((3, 4), "float16", (1,)), "1 strides for 2 view dims"),
])
def test_layout_rules_name_the_rule(desc, fragment):
    with pytest.raises(layout.LayoutError) as info:
        layout.check(desc)
    assert fragment in str(info.value)


def test_spans_are_exact_beyond_int64():
    """Span arithmetic stays in Python integers: a huge FRACTAL_NZ view never wraps to a small
    span that would pass the memory checks (np.prod wraps at 2**63); a huge storage shape does
    not enlarge the span of a small view (its NZ layout is what the operator touches)."""
    huge_view = TensorDesc((2**40, 2**40), 2, (2**40, 1), 0, FRACTAL_NZ, (2**35, 2**36, 16, 32), 1 << 52)
    assert layout.byte_span(huge_view) == (0, 2**80)  # INT8: one byte per element
    small_view = TensorDesc((32, 64), 2, (64, 1), 0, FRACTAL_NZ, (2**40, 2**40, 16, 32), 1 << 52)
    assert layout.byte_span(small_view) == (0, 32 * 64)
