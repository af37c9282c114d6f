"""aclnnQuantMatmulAllReduceV4: quantized matmul + AllReduce-sum over an HCCL group.

Raw pair: ``aclnn_py.lib.aclnnQuantMatmulAllReduceV4GetWorkspaceSize(...)`` and
``aclnn_py.lib.aclnnQuantMatmulAllReduceV4(...)``. Pythonic layer:

* :func:`quant_matmul_all_reduce_v4` -- one call; takes Tensors or NumPy arrays
  (arrays are copied to the device; HiFloat8 arrays are uint8 codes and need
  ``x_dtype="hifloat8"``), allocates the output when ``out`` is None, checks the
  arguments with :mod:`aclnn_py.rules.quant_matmul_all_reduce` (same codes and
  messages as the C function) and reuses the stream's workspace.
* :class:`QuantMatmulAllReduceV4Plan` -- phase 1 once (repeatable executor),
  :meth:`~QuantMatmulAllReduceV4Plan.execute` many times.

Every rank of the group must make the same call (on its own thread/process,
device and stream); all ranks get the same output.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import arguments, dtypes
from .._ffi import ffi
from ..descriptors import TensorDesc
from ..errors import ArgumentError
from ..rules import quant_matmul_all_reduce as rules
from ..runtime import Stream
from ..tensor import Tensor
from ._two_phase import Plan, dispose, launch
from .trans import current_profile

__all__ = ["QuantMatmulAllReduceV4Plan", "infer_out_dtype", "quant_matmul_all_reduce_v4"]

OP = "aclnnQuantMatmulAllReduceV4"
D = dtypes.DataType


def _tensor(value: Any, parameter: str, created: list[Tensor], dtype: Any = None,
            stream: Stream | None = None) -> Tensor | None:
    """``value`` itself when it is a Tensor (or None), else a device copy recorded in ``created``."""
    if value is None or isinstance(value, Tensor):
        return value
    try:
        tensor = Tensor.from_numpy(np.asarray(value), dtype, stream)
    except ArgumentError as exc:
        raise ArgumentError(parameter, exc.detail) from None
    created.append(tensor)
    return tensor


def infer_out_dtype(x1: Tensor, x2_scale: Tensor, x1_scale: Tensor | None, x3: Tensor | None,
                    comm_quant_scale_1: Tensor | None) -> D | None:
    """The output dtype the inputs imply, or None when it must be given."""
    for t in (x3, comm_quant_scale_1):
        if t is not None:
            return t.dtype
    if x1.dtype == D.ACL_INT8:
        if x2_scale.dtype == D.ACL_BF16:
            return D.ACL_BF16
        if x2_scale.dtype in (D.ACL_UINT64, D.ACL_INT64) or x1_scale is not None:
            return D.ACL_FLOAT16
    return None


def _group_name(group: Any) -> tuple[bytes | None, int | None]:
    """The communicator name for C (str as UTF-8, bytes unchanged, None for NULL) and the
    group size when known."""
    if group is None:
        return None, None
    if isinstance(group, (str, bytes, bytearray)):
        return arguments.c_string(group, "group"), None
    name, size = getattr(group, "name", None), getattr(group, "size", None)
    if not isinstance(name, str) or size is None:
        raise TypeError(f"group: expected an aclnn_py.hccl.Communicator or a communicator name (str), "
                        f"got {type(group).__name__}")
    return arguments.c_string(name, "group"), int(size)


class _Call:
    """Tensors and C arguments of one call, checked.

    ``keep`` holds what the queued work uses and the caller owns (never this object:
    a reference cycle would leave the tensors to the garbage collector); ``created``
    the device copies of NumPy inputs, released once the stream has passed the work.
    """

    def __init__(self, x1, x2, x2_scale, *, group, stream, bias, x3, x1_scale, comm_quant_scale_1,
                 comm_quant_scale_2, group_size, comm_quant_mode, out, out_dtype, reduce_op,
                 comm_turn, stream_mode, rank_size, x_dtype) -> None:
        ints = {name: arguments.integer(value, name) for name, value in (
            ("comm_turn", comm_turn), ("stream_mode", stream_mode), ("group_size", group_size),
            ("comm_quant_mode", comm_quant_mode))}
        group_bytes, size = _group_name(group)
        reduce_bytes = None if reduce_op is None else arguments.c_string(reduce_op, "reduce_op")
        if x_dtype is not None:
            x_dtype = dtypes.to_acl(x_dtype, "x_dtype")
        if out_dtype is not None:
            out_dtype = dtypes.to_acl(out_dtype, "out_dtype")
        self.created: list[Tensor] = []
        try:
            self._prepare(x1, x2, x2_scale, bias, x3, x1_scale, comm_quant_scale_1, comm_quant_scale_2,
                          out, out_dtype, x_dtype, stream)
            desc = lambda t: None if t is None else t.desc  # noqa: E731
            out_desc = desc(self.out) if self.out is not None else self._out_desc
            reduce_text = None if reduce_bytes is None else reduce_bytes.decode("utf-8", "replace")
            self.plan = rules.check(
                x1=desc(self.x1), x2=desc(self.x2), x2_scale=desc(self.x2_scale), output=out_desc,
                reduce_op=reduce_text, bias=desc(self.bias), x3=desc(self.x3), x1_scale=desc(self.x1_scale), comm_quant_scale_1=desc(self.cqs1),
                comm_quant_scale_2=desc(self.cqs2), comm_turn=ints["comm_turn"],
                stream_mode=ints["stream_mode"], group_size=ints["group_size"],
                comm_quant_mode=ints["comm_quant_mode"], profile=current_profile(),
                rank_size=size if rank_size is None else arguments.integer(rank_size, "rank_size"))
            if self.out is None:  # allocated only once the rules accept the call
                self.out = Tensor.empty(out_desc.shape, out_desc.dtype)
        except BaseException:
            dispose(self.created, stream)
            raise
        self._group = ffi.NULL if group_bytes is None else ffi.new("char[]", group_bytes)
        self._reduce = ffi.NULL if reduce_bytes is None else ffi.new("char[]", reduce_bytes)
        h = lambda t: ffi.NULL if t is None else t.handle  # noqa: E731
        self.args = (h(self.x1), h(self.x2), h(self.bias), h(self.x3), h(self.x1_scale), h(self.x2_scale),
                     h(self.cqs1), h(self.cqs2), self._group, self._reduce, ints["comm_turn"],
                     ints["stream_mode"], ints["group_size"], ints["comm_quant_mode"], h(self.out))
        users = (x1, x2, x2_scale, bias, x3, x1_scale, comm_quant_scale_1, comm_quant_scale_2)
        self.keep = (self._group, self._reduce, self.out) + tuple(t for t in users if isinstance(t, Tensor))

    def _prepare(self, x1, x2, x2_scale, bias, x3, x1_scale, cqs1, cqs2, out, out_dtype, x_dtype, stream) -> None:
        """The device tensors, and the output's descriptor when the call allocates it."""
        made = self.created
        self.x1 = _tensor(x1, "x1", made, x_dtype, stream)
        self.x2 = _tensor(x2, "x2", made, x_dtype, stream)
        self.x2_scale = _tensor(x2_scale, "x2_scale", made, None, stream)
        self.bias = _tensor(bias, "bias", made, None, stream)
        self.x3 = _tensor(x3, "x3", made, None, stream)
        self.x1_scale = _tensor(x1_scale, "x1_scale", made, None, stream)
        self.cqs1 = _tensor(cqs1, "comm_quant_scale_1", made, None, stream)
        self.cqs2 = _tensor(cqs2, "comm_quant_scale_2", made, None, stream)
        if out is not None and not isinstance(out, Tensor):
            raise TypeError(f"out: expected a Tensor, got {type(out).__name__}")
        self.out = out
        self._out_desc = None
        if out is None and self.x1 is not None and self.x2 is not None and self.x2_scale is not None:
            dtype = infer_out_dtype(self.x1, self.x2_scale, self.x1_scale, self.x3, self.cqs1) \
                if out_dtype is None else out_dtype
            if dtype is None:
                raise ArgumentError("out_dtype", f"required for {dtypes.label(self.x1.dtype)} x1 with "
                                                 f"{dtypes.label(self.x2_scale.dtype)} x2Scale (FLOAT16, "
                                                 f"BFLOAT16 or FLOAT)")
            # x1 (.., k) @ x2 (k, n); slicing keeps a wrong rank for the rules to report
            self._out_desc = TensorDesc.contiguous(self.x1.shape[:-1] + self.x2.shape[-1:], int(dtype))


def quant_matmul_all_reduce_v4(x1: Any, x2: Any, x2_scale: Any, *, group: Any, stream: Stream,
                               bias: Any = None, x3: Any = None, x1_scale: Any = None,
                               comm_quant_scale_1: Any = None, comm_quant_scale_2: Any = None,
                               group_size: int = 0, comm_quant_mode: int = 0, out: Tensor | None = None,
                               out_dtype: Any = None, reduce_op: str = "sum", comm_turn: int = 0,
                               stream_mode: int = 1, rank_size: int | None = None,
                               x_dtype: Any = None) -> Tensor:
    """Run aclnnQuantMatmulAllReduceV4 on ``stream``; returns the output tensor (queued work).

    ``group`` is an :class:`aclnn_py.hccl.Communicator` (its size is checked against
    the SoC's allowed rank counts) or a communicator name; ``rank_size`` overrides
    the size used by the Python check. ``x_dtype`` is the aclDataType of NumPy x1/x2
    arrays when it cannot be inferred (``"hifloat8"`` for uint8 codes). Raises the
    same AclnnParamError/AclnnInternalError (code + message) as the C function.
    """
    call = _Call(x1, x2, x2_scale, group=group, stream=stream, bias=bias, x3=x3, x1_scale=x1_scale,
                 comm_quant_scale_1=comm_quant_scale_1, comm_quant_scale_2=comm_quant_scale_2,
                 group_size=group_size, comm_quant_mode=comm_quant_mode, out=out, out_dtype=out_dtype,
                 reduce_op=reduce_op, comm_turn=comm_turn, stream_mode=stream_mode,
                 rank_size=rank_size, x_dtype=x_dtype)
    launch(OP, call.args, stream, keep=call.keep, release=call.created)
    return call.out


class QuantMatmulAllReduceV4Plan(Plan):
    """Phase 1 once (a repeatable executor), :meth:`execute` on a stream many times.

    Same arguments as :func:`quant_matmul_all_reduce_v4` minus ``stream`` (arrays
    are copied to the device synchronously). ``out`` is the output tensor; refill
    the input tensors (``.copy_from_numpy``) between executions for new data.
    """

    def __init__(self, x1: Any, x2: Any, x2_scale: Any, *, group: Any, **kwargs: Any) -> None:
        unknown = set(kwargs) - set(_DEFAULTS)
        if unknown:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) {sorted(unknown)}")
        call = _Call(x1, x2, x2_scale, group=group, stream=None, **{**_DEFAULTS, **kwargs})
        self.call = call
        self.out = call.out
        super().__init__(OP, call.args, keep=call.keep, owned=call.created)


_DEFAULTS = dict(bias=None, x3=None, x1_scale=None, comm_quant_scale_1=None, comm_quant_scale_2=None,
                 group_size=0, comm_quant_mode=0, out=None, out_dtype=None, reduce_op="sum",
                 comm_turn=0, stream_mode=1, rank_size=None, x_dtype=None)
