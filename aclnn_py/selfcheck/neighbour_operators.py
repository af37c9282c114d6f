"""DynamicQuant, WeightQuantBatchMatmulV2 and NpuFormatCast: the device's outputs against the goldens of
:mod:`aclnn_py.semantics.dynamic_quant`, :mod:`~aclnn_py.semantics.weight_quant_batch_matmul_v2`, the
FRACTAL_NZ layout of :mod:`~aclnn_py.semantics.nz` and the NDC1HWC0 layout of
:mod:`~aclnn_py.semantics.c1hwc0` (integers and layouts exact, floats under CANN's precision standard).
"""
from __future__ import annotations

from functools import partial

import numpy as np

from .. import ops
from ..memory import DeviceBuffer
from ..semantics import c1hwc0, codecs, dtypes, nz
from ..semantics import dynamic_quant as dq
from ..semantics import weight_quant_batch_matmul_v2 as wq
from ..semantics.precision import compare
from ..tensor import Tensor
from .framework import CheckFailed, Comparison, Host, Mode, close_after, exact, rng_for

__all__ = ["modes"]


def _dynamic_quant(y_dtype: str, smooth: bool, host: Host) -> list[Comparison]:
    name = f"dynamic_quant/{y_dtype}{'-smooth' if smooth else ''}"
    rng = rng_for(name)
    x = (rng.standard_normal((6, 3, 128)) * 2).astype(dtypes.host_dtype("float16"))
    scales = (rng.random(128) + 0.5).astype(np.float16) if smooth else None
    shape = x.shape[:-1] + (16,) if y_dtype == "int32" else x.shape

    def body(rank) -> tuple[np.ndarray, np.ndarray]:
        y, scale = Tensor.empty(shape, y_dtype), Tensor.empty(x.shape[:-1], "float32")
        try:
            ops.dynamic_quant(x, smooth_scales=scales, y_out=y, scale_out=scale, stream=rank.stream)
            rank.stream.synchronize()
            return y.to_numpy(), scale.to_numpy()
        finally:
            close_after(rank.stream, [y, scale])

    got_y, got_scale = host.ranks.run(body)[0]
    want_y, want_scale = dq.dynamic_quant(x, scales, y_dtype=y_dtype)
    return [exact("yOut", got_y, want_y), Comparison("scaleOut", compare(got_scale, want_scale, "float32"))]


def _weight_quant(x_dtype: str, weight: str, group: int, host: Host) -> list[Comparison]:
    name = f"weight_quant_batch_matmul_v2/{x_dtype}-{weight}-{'group' + str(group) if group else 'channel'}"
    rng = rng_for(name)
    x_host = dtypes.host_dtype(x_dtype)
    m, k, n = 24, 256, 64
    x = rng.uniform(-1, 1, (m, k)).astype(x_host)
    w = codecs.from_float32(rng.integers(-8, 8, (k, n)), weight)
    rows = k // group if group else 1
    scale = rng.uniform(0.005, 0.05, (rows, n)).astype(x_host)
    offset = rng.integers(-2, 3, (rows, n)).astype(x_host)
    bias = rng.uniform(-1, 1, n).astype(np.float16 if x_dtype == "float16" else np.float32)
    scale, offset = (scale, offset) if group else (scale[0], offset[0])

    def body(rank) -> np.ndarray:
        y = ops.weight_quant_batch_matmul_v2(x, w, scale, antiquant_offset=offset, bias=bias,
                                             antiquant_group_size=group, stream=rank.stream)
        try:
            rank.stream.synchronize()
            return y.to_numpy()
        finally:
            close_after(rank.stream, [y])

    got = host.ranks.run(body)[0]
    want = wq.weight_quant_batch_matmul(x, w, scale, offset, bias=bias, antiquant_group_size=group)
    return [Comparison("y", compare(got, want, x_dtype))]


_FORMAT = dtypes.Format
#: The conversions checked: (plain format, target format, the target's bytes of the plain values).
_CONVERSIONS = {
    "nz": (_FORMAT.ACL_FORMAT_ND, _FORMAT.ACL_FORMAT_FRACTAL_NZ, lambda v, dtype: nz.nd_to_nz(v, dtype)),
    "ndc1hwc0": (_FORMAT.ACL_FORMAT_NCDHW, _FORMAT.ACL_FORMAT_NDC1HWC0,
                 lambda v, dtype: c1hwc0.to_blocked(v, 32 // v.dtype.itemsize)),
}


def _format_cast(dtype: str, shape: tuple[int, ...], conversion: str, host: Host) -> list[Comparison]:
    plain, target, layout = _CONVERSIONS[conversion]
    rng = rng_for(f"npu_format_cast/{dtype}")
    values = codecs.from_float32(rng.integers(-100, 100, shape), dtype)

    def body(rank) -> tuple[tuple[int, ...], np.ndarray, np.ndarray]:
        src = Tensor.empty(shape, dtype, format=plain)
        buffer = dst = back = None
        try:
            src.copy_from_numpy(values, stream=rank.stream)
            dims, fmt = ops.npu_format_cast_calculate_size_and_format(src, target)
            buffer = DeviceBuffer(int(np.prod(dims)) * values.dtype.itemsize)
            dst = Tensor(buffer, shape, dtype, format=fmt, storage_shape=dims)
            back = Tensor.empty(shape, dtype, format=plain)
            ops.npu_format_cast(src, dst, stream=rank.stream)
            ops.npu_format_cast(dst, back, stream=rank.stream)
            rank.stream.synchronize()
            return dims, buffer.to_numpy(values.dtype, dims), back.to_numpy()
        finally:
            close_after(rank.stream, [t for t in (buffer, src, dst, back) if t is not None])

    dims, stored, back = host.ranks.run(body)[0]
    want = layout(values, dtype)
    if tuple(dims) != want.shape:
        raise CheckFailed(f"dstShape {list(dims)}, expected {list(want.shape)}")
    return [exact(f"{target.name.removeprefix('ACL_FORMAT_')} bytes", stored.view(np.uint8), want.view(np.uint8)),
            exact(f"{plain.name.removeprefix('ACL_FORMAT_')} round trip", back.view(np.uint8), values.view(np.uint8))]


def modes() -> list[Mode]:
    found = [Mode(f"dynamic_quant/{y}{'-smooth' if smooth else ''}", partial(_dynamic_quant, y, smooth))
             for y, smooth in (("int8", False), ("int8", True), ("int4", True), ("int32", False))]
    found += [Mode(f"weight_quant_batch_matmul_v2/{x}-{w}-{'group' + str(g) if g else 'channel'}",
                   partial(_weight_quant, x, w, g))
              for x, w, g in (("float16", "int8", 0), ("bfloat16", "int8", 0), ("float16", "int4", 64),
                              ("bfloat16", "int4", 128))]
    found += [Mode(f"npu_format_cast/{dtype}-{'x'.join(map(str, shape))}", partial(_format_cast, dtype, shape, "nz"))
              for dtype, shape in (("int8", (40, 70)), ("float16", (2, 33, 20)), ("bfloat16", (64, 48)))]
    found += [Mode("npu_format_cast/int32-ncdhw-ndc1hwc0", partial(_format_cast, "int32", (2, 17, 3, 4, 5), "ndc1hwc0"),
                   profiles=("A2", "A3"), feature="NpuFormatCast NCDHW <-> NDC1HWC0")]
    return found
