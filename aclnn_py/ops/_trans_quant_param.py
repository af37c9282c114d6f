"""aclnnTransQuantParamV2: float32 scales (and offsets) packed into the UINT64 words the int8
paths take.

Arguments are checked in Python with :mod:`aclnn_py.semantics.trans_quant_param` (same codes
and messages as the C function) before C is called. A one-shot function without a plan class
(:func:`~aclnn_py.ops._two_phase.launch` runs the call once): a model's scales are packed
once at load time, where keeping an executor saves nothing.
"""
from __future__ import annotations

from typing import Any

from .. import _resource
from .._ffi import ffi
from ..errors import raising
from .._resource import require_open
from ..runtime import Stream
from ..semantics import catalogue, dtypes
from ..semantics import trans_quant_param as rules
from ..tensor import Tensor
from ._inputs import device_tensor
from ._two_phase import dispose, launch

OP = "aclnnTransQuantParamV2"

__all__ = ["trans_quant_param_v2"]


def trans_quant_param_v2(scale: Any, offset: Any = None, *, stream: Stream, out: Tensor | None = None,
                         out_dtype: Any = "uint64") -> Tensor:
    """aclnnTransQuantParamV2: pack float32 scale (+ offset) into a UINT64/INT64 tensor.

    Arrays are copied to the device as FLOAT32 (released once the stream has passed the work).
    The output (``out_dtype``, uint64 by default) is made unless ``out`` is given:

    | scale | offset | out |
    |---|---|---|
    | float32 (n) | —/float32 (n)/(1) | uint64/int64 (n) |
    | float32 (1) | float32 (n) | uint64/int64 (n) |
    | float32 (m, n) | —/float32 (m, n) | uint64/int64 (m, n) |
    """
    checked_at = _resource.closed_since  # before the check: see launch
    require_open(stream, scale, offset, out)
    out_dtype = dtypes.to_acl(out_dtype, "out_dtype")
    created: list[Tensor] = []
    try:
        s = device_tensor(scale, "scale", created, "float32", stream)
        o = device_tensor(offset, "offset", created, "float32", stream)
        if s is None:
            raise TypeError("scale: expected a Tensor or an array, got None")
        out_desc = out.desc if out is not None else rules.output_desc(s.desc, None if o is None else o.desc, out_dtype)
        with raising():
            rules.check_trans_quant_param_v2(s.desc, None if o is None else o.desc, out_desc)
        if out is None:
            out = Tensor.empty(out_desc.shape, out_desc.dtype)
    except BaseException:
        dispose(created, stream)
        raise
    values = {"scale": s.handle, "offset": ffi.NULL if o is None else o.handle, "out": out.handle}
    launch(OP, tuple(values[name] for name in catalogue.project_signature(OP).names), stream, keep=(s, o, out),
           owned=created, checked_at=checked_at)
    return out
