"""aclnnQuantMatmulAllReduce, V2, V3 and V4: quantized matmul + AllReduce-sum over an HCCL group.

Raw pairs: ``aclnn_py.lib.aclnnQuantMatmulAllReduce[V2|V3|V4]GetWorkspaceSize(...)``
and ``aclnn_py.lib.aclnnQuantMatmulAllReduce[V2|V3|V4](...)``. Pythonic layer,
one function and one plan per entry point:

* :func:`quant_matmul_all_reduce` (V1: INT8, ``dequant_scale``),
  :func:`quant_matmul_all_reduce_v2` (+ ``pertoken_scale``),
  :func:`quant_matmul_all_reduce_v3` (+ ``comm_quant_scale_1/2``) and
  :func:`quant_matmul_all_reduce_v4` (every mode) -- one call each; they take
  Tensors or NumPy arrays (arrays are copied to the device; HiFloat8 arrays are
  uint8 codes and need ``x_dtype="hifloat8"``), allocate the output when
  ``out`` is None, check the arguments with
  :mod:`aclnn_py.semantics.quant_matmul_all_reduce.rules` for that entry point (same
  codes and messages as the C function) and reuse the stream's workspace.
* :class:`QuantMatmulAllReducePlan`, :class:`QuantMatmulAllReduceV2Plan`,
  :class:`QuantMatmulAllReduceV3Plan`, :class:`QuantMatmulAllReduceV4Plan` --
  phase 1 once (repeatable executor), :meth:`execute` many times; resources
  (:class:`~aclnn_py.ops._two_phase.Plan`). Each function above makes its
  version's plan single-use, executes it once and closes it.

The four share one implementation: a version's arguments are V4's canonical
ones (``dequant_scale`` is ``x2_scale``, ``pertoken_scale`` is ``x1_scale``)
and its :class:`~aclnn_py.semantics.quant_matmul_all_reduce.rules.Signature` orders them
as its header does. Every rank of the group must make the same call (on its
own thread/process, device and stream); all ranks get the same output.
"""
from __future__ import annotations

import operator
from typing import Any


from .. import arguments
from ..semantics import dtypes
from .._ffi import ffi
from ..semantics.descriptors import TensorDesc
from ..errors import ArgumentError, raising
from .. import _resource
from .._resource import require_open
from ..hccl.communicator import Communicator
from ..semantics.quant_matmul_all_reduce import rules
from ..runtime import Stream
from ..tensor import Tensor
from ._signatures import ACCEPTED, desc_key
from ._inputs import device_tensor
from ._two_phase import Plan, dispose, run_once
from ._trans_matmul_weight import current_profile

__all__ = ["QuantMatmulAllReducePlan", "QuantMatmulAllReduceV2Plan", "QuantMatmulAllReduceV3Plan",
           "QuantMatmulAllReduceV4Plan", "infer_out_dtype", "quant_matmul_all_reduce",
           "quant_matmul_all_reduce_v2", "quant_matmul_all_reduce_v3", "quant_matmul_all_reduce_v4"]

D = dtypes.DataType
_INPUTS = ("x1", "x2", "bias", "x3", "x1_scale", "x2_scale", "comm_quant_scale_1", "comm_quant_scale_2")
_CHARS = ffi.typeof("char[]")
#: The C values of a call, in this order: the inputs' handles, then these.
_C_VALUES = (*_INPUTS, "output", "group", "reduce_op", "comm_turn", "stream_mode", "group_size", "comm_quant_mode")
_ORDERS: dict[str, operator.itemgetter] = {}


def _header_order(signature: rules.Signature) -> operator.itemgetter:
    """Picks the phase-1 arguments of ``signature`` (header order) from values in :data:`_C_VALUES` order."""
    order = _ORDERS.get(signature.op)
    if order is None:
        order = _ORDERS[signature.op] = operator.itemgetter(
            *(_C_VALUES.index(signature.params[p]) for p in signature.parameters))
    return order


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
    if not isinstance(group, Communicator):
        raise TypeError(f"group: expected an aclnn_py.hccl.Communicator or a communicator name (str), "
                        f"got {type(group).__name__}")
    return arguments.c_string(group.name, "group"), group.size


class _Arguments:
    """The checked arguments of one call of ``signature``: tensors and C values (canonical names).

    ``tensors`` holds every tensor by canonical name ("output" included); ``keep``
    what the queued work uses and the caller owns (never this object: a reference
    cycle would leave the tensors to the garbage collector); ``created`` the device
    copies of NumPy inputs, released once the stream has passed the work;
    ``communicator`` the group when it is a Communicator. Closed resources, and a
    stream of another device than the communicator's, are refused before any C call.
    """

    def __init__(self, x1, x2, x2_scale, *, group, stream, bias=None, x3=None, x1_scale=None,
                 comm_quant_scale_1=None, comm_quant_scale_2=None, group_size=0, comm_quant_mode=0,
                 out=None, out_dtype=None, reduce_op="sum", comm_turn=0, stream_mode=1, rank_size=None,
                 x_dtype=None, signature: rules.Signature = rules.V4) -> None:
        self.checked_at = _resource.closed_since  # before the check: see Plan._inputs_open
        require_open(stream, group, x1, x2, x2_scale, bias, x3, x1_scale, comm_quant_scale_1, comm_quant_scale_2, out)
        self.communicator = group if isinstance(group, Communicator) else None
        if stream is not None and self.communicator is not None:
            stream._require_device(self.communicator)
        integer = arguments.integer
        comm_turn = integer(comm_turn, "comm_turn")
        stream_mode = integer(stream_mode, "stream_mode")
        group_size = integer(group_size, "group_size")
        comm_quant_mode = integer(comm_quant_mode, "comm_quant_mode")
        group_bytes, size = _group_name(group)
        reduce_bytes = None if reduce_op is None else arguments.c_string(reduce_op, "reduce_op")
        if x_dtype is not None:
            x_dtype = dtypes.to_acl(x_dtype, "x_dtype")
        if out_dtype is not None:
            out_dtype = dtypes.to_acl(out_dtype, "out_dtype")
        if out is not None and not isinstance(out, Tensor):
            raise TypeError(f"out: expected a Tensor, got {type(out).__name__}")
        values = (x1, x2, bias, x3, x1_scale, x2_scale, comm_quant_scale_1, comm_quant_scale_2)  # _INPUTS
        self.created: list[Tensor] = []
        try:
            tensors = [v if v is None or isinstance(v, Tensor) else
                       device_tensor(v, key, self.created, x_dtype if key in ("x1", "x2") else None, stream)
                       for key, v in zip(_INPUTS, values)]
            t = dict(zip(_INPUTS, tensors))
            out_desc = None  # the output's descriptor when the binding allocates it
            if out is None and t["x1"] is not None and t["x2"] is not None and t["x2_scale"] is not None:
                dtype = infer_out_dtype(t["x1"], t["x2_scale"], t["x1_scale"], t["x3"],
                                        t["comm_quant_scale_1"]) if out_dtype is None else out_dtype
                if dtype is None:
                    raise ArgumentError("out_dtype", f"required for {dtypes.label(t['x1'].dtype)} x1 with "
                                                     f"{dtypes.label(t['x2_scale'].dtype)} "
                                                     f"{signature.label('x2_scale')} (FLOAT16, BFLOAT16 or FLOAT)")
                # x1 (.., k) @ x2 (k, n); slicing keeps a wrong rank for the rules to report
                out_desc = TensorDesc.contiguous(t["x1"].shape[:-1] + t["x2"].shape[-1:], int(dtype))
            reduce = None if reduce_bytes is None else reduce_bytes.decode("utf-8", "replace")
            profile = current_profile()
            rank = size if rank_size is None else integer(rank_size, "rank_size")
            key = (signature.op, profile, rank, reduce, comm_turn, stream_mode, group_size, comm_quant_mode,
                   *[None if v is None else v._layout or desc_key(v.desc) for v in tensors],
                   desc_key(out_desc) if out is None else out._layout or desc_key(out.desc))
            if ACCEPTED.get(key) is None:
                desc = lambda v: None if v is None else v.desc  # noqa: E731
                with raising():
                    checked = rules.check(
                        **{name: desc(v) for name, v in t.items()}, output=out_desc if out is None else out.desc,
                        reduce_op=reduce,
                        comm_turn=comm_turn, stream_mode=stream_mode, group_size=group_size,
                        comm_quant_mode=comm_quant_mode, profile=profile, rank_size=rank, signature=signature)
                ACCEPTED.put(key, checked)
            if out is None:  # allocated only once the rules accept the call
                out = Tensor.empty(out_desc.shape, out_desc.dtype)
        except BaseException:
            dispose(self.created, stream)
            raise
        t["output"] = out
        self.tensors = t
        self.out = out
        self._group = ffi.NULL if group_bytes is None else ffi.new(_CHARS, group_bytes)
        self._reduce = ffi.NULL if reduce_bytes is None else ffi.new(_CHARS, reduce_bytes)
        # checked open above (require_open) or just made: the handles as they are
        c_values = [ffi.NULL if v is None else v._handle for v in tensors]  # _C_VALUES
        c_values += (out._handle, self._group, self._reduce, comm_turn, stream_mode, group_size, comm_quant_mode)
        self.args = _header_order(signature)(c_values)
        self.keep = (self._group, self._reduce, out, *[v for v in values if isinstance(v, Tensor)])


class _QuantMatmulAllReducePlan(Plan):
    """Phase 1 once (a repeatable executor), :meth:`execute` on a stream many times.

    Same arguments as the version's function; ``stream`` (optional) is where
    host arrays are copied to the device (synchronously when None), and
    ``repeatable=False`` makes a single-use plan (what the functions use).
    ``out`` is the output tensor, ``tensors`` every tensor of the call by
    canonical name (``plan.tensors["x1"]``, ``plan.tensors["x2_scale"]`` for
    V1-V3's dequantScale); refill the inputs (``.copy_from_numpy``) between
    executions for new data. ``close()`` releases the executor and the device
    copies once the streams that ran the plan synchronised; the output stays
    the caller's.
    """

    signature: rules.Signature = rules.V4
    _renamed: dict[str, str] = {}  # the version's keyword -> canonical argument

    def __init__(self, x1: Any, x2: Any, scale: Any, *, group: Any, stream: Stream | None = None,
                 repeatable: bool = True, **kwargs: Any) -> None:
        if self._renamed:
            kwargs = {self._renamed.get(key, key): value for key, value in kwargs.items()}
        self._prepare(_Arguments(x1, x2, scale, group=group, stream=stream, signature=self.signature, **kwargs),
                      stream, repeatable)

    def _prepare(self, call: _Arguments, stream: Stream | None, repeatable: bool) -> None:
        self.tensors = call.tensors
        self.out = call.out
        Plan.__init__(self, self.signature.op, call.args, keep=call.keep, owned=call.created, stream=stream,
                      repeatable=repeatable, communicator=call.communicator, checked_at=call.checked_at)

    @classmethod
    def _once(cls, stream: Stream, x1: Any, x2: Any, scale: Any, **canonical: Any) -> Tensor:
        """The version's function: its plan, single-use, from canonical arguments, run once on
        ``stream`` and closed; returns the output."""
        plan = cls.__new__(cls)
        plan._prepare(_Arguments(x1, x2, scale, stream=stream, signature=cls.signature, **canonical), stream, False)
        run_once(plan, stream)
        return plan.out


class QuantMatmulAllReducePlan(_QuantMatmulAllReducePlan):
    """The plan of aclnnQuantMatmulAllReduce (V1); arguments of :func:`quant_matmul_all_reduce`."""

    signature = rules.V1

    def __init__(self, x1: Any, x2: Any, dequant_scale: Any, *, group: Any, bias: Any = None,
                 x3: Any = None, out: Tensor | None = None, out_dtype: Any = None, reduce_op: str = "sum",
                 comm_turn: int = 0, stream_mode: int = 1, rank_size: int | None = None,
                 stream: Stream | None = None, repeatable: bool = True) -> None:
        super().__init__(x1, x2, dequant_scale, group=group, bias=bias, x3=x3, out=out, out_dtype=out_dtype,
                         reduce_op=reduce_op, comm_turn=comm_turn, stream_mode=stream_mode,
                         rank_size=rank_size, stream=stream, repeatable=repeatable)


class QuantMatmulAllReduceV2Plan(_QuantMatmulAllReducePlan):
    """The plan of aclnnQuantMatmulAllReduceV2; arguments of :func:`quant_matmul_all_reduce_v2`."""

    signature = rules.V2
    _renamed = {"pertoken_scale": "x1_scale"}

    def __init__(self, x1: Any, x2: Any, dequant_scale: Any, *, group: Any, bias: Any = None,
                 x3: Any = None, pertoken_scale: Any = None, out: Tensor | None = None,
                 out_dtype: Any = None, reduce_op: str = "sum", comm_turn: int = 0, stream_mode: int = 1,
                 rank_size: int | None = None, stream: Stream | None = None, repeatable: bool = True) -> None:
        super().__init__(x1, x2, dequant_scale, group=group, bias=bias, x3=x3, pertoken_scale=pertoken_scale,
                         out=out, out_dtype=out_dtype, reduce_op=reduce_op, comm_turn=comm_turn,
                         stream_mode=stream_mode, rank_size=rank_size, stream=stream, repeatable=repeatable)


class QuantMatmulAllReduceV3Plan(_QuantMatmulAllReducePlan):
    """The plan of aclnnQuantMatmulAllReduceV3; arguments of :func:`quant_matmul_all_reduce_v3`."""

    signature = rules.V3
    _renamed = {"pertoken_scale": "x1_scale"}

    def __init__(self, x1: Any, x2: Any, dequant_scale: Any, *, group: Any, bias: Any = None,
                 x3: Any = None, pertoken_scale: Any = None, comm_quant_scale_1: Any = None,
                 comm_quant_scale_2: Any = None, out: Tensor | None = None, out_dtype: Any = None,
                 reduce_op: str = "sum", comm_turn: int = 0, stream_mode: int = 1,
                 rank_size: int | None = None, stream: Stream | None = None, repeatable: bool = True) -> None:
        super().__init__(x1, x2, dequant_scale, group=group, bias=bias, x3=x3, pertoken_scale=pertoken_scale,
                         comm_quant_scale_1=comm_quant_scale_1, comm_quant_scale_2=comm_quant_scale_2,
                         out=out, out_dtype=out_dtype, reduce_op=reduce_op, comm_turn=comm_turn,
                         stream_mode=stream_mode, rank_size=rank_size, stream=stream, repeatable=repeatable)


class QuantMatmulAllReduceV4Plan(_QuantMatmulAllReducePlan):
    """The plan of aclnnQuantMatmulAllReduceV4; arguments of :func:`quant_matmul_all_reduce_v4`."""

    signature = rules.V4

    def __init__(self, x1: Any, x2: Any, x2_scale: Any, *, group: Any, bias: Any = None, x3: Any = None,
                 x1_scale: Any = None, comm_quant_scale_1: Any = None, comm_quant_scale_2: Any = None,
                 group_size: int = 0, comm_quant_mode: int = 0, out: Tensor | None = None,
                 out_dtype: Any = None, reduce_op: str = "sum", comm_turn: int = 0, stream_mode: int = 1,
                 rank_size: int | None = None, x_dtype: Any = None, stream: Stream | None = None,
                 repeatable: bool = True) -> None:
        super().__init__(x1, x2, x2_scale, group=group, bias=bias, x3=x3, x1_scale=x1_scale,
                         comm_quant_scale_1=comm_quant_scale_1, comm_quant_scale_2=comm_quant_scale_2,
                         group_size=group_size, comm_quant_mode=comm_quant_mode, out=out, out_dtype=out_dtype,
                         reduce_op=reduce_op, comm_turn=comm_turn, stream_mode=stream_mode, rank_size=rank_size,
                         x_dtype=x_dtype, stream=stream, repeatable=repeatable)


def quant_matmul_all_reduce(x1: Any, x2: Any, dequant_scale: Any, *, group: Any, stream: Stream,
                            bias: Any = None, x3: Any = None, out: Tensor | None = None,
                            out_dtype: Any = None, reduce_op: str = "sum", comm_turn: int = 0,
                            stream_mode: int = 1, rank_size: int | None = None) -> Tensor:
    """Run aclnnQuantMatmulAllReduce (V1: INT8 x1/x2, pertensor/perchannel ``dequant_scale``).

    ``dequant_scale``: INT64/UINT64 (packed with aclnnTransQuantParamV2, FLOAT16
    output) or BFLOAT16 (BFLOAT16 output). ``group`` as for
    :func:`quant_matmul_all_reduce_v4`. Returns the output tensor (queued work).
    Dtypes and shapes: the rows of :func:`quant_matmul_all_reduce_v4`'s table that
    list V1 (``dequant_scale`` is its ``x2_scale``).
    """
    return QuantMatmulAllReducePlan._once(
        stream, x1, x2, dequant_scale, group=group, bias=bias, x3=x3, out=out, out_dtype=out_dtype,
        reduce_op=reduce_op, comm_turn=comm_turn, stream_mode=stream_mode, rank_size=rank_size)


def quant_matmul_all_reduce_v2(x1: Any, x2: Any, dequant_scale: Any, *, group: Any, stream: Stream,
                               bias: Any = None, x3: Any = None, pertoken_scale: Any = None,
                               out: Tensor | None = None, out_dtype: Any = None, reduce_op: str = "sum",
                               comm_turn: int = 0, stream_mode: int = 1,
                               rank_size: int | None = None) -> Tensor:
    """Run aclnnQuantMatmulAllReduceV2: V1 plus a FLOAT32 ``pertoken_scale`` of length m (b*s).

    With ``pertoken_scale``, ``dequant_scale`` is FLOAT32 (FLOAT16 output) or
    BFLOAT16 (BFLOAT16 output). Dtypes and shapes: the rows of
    :func:`quant_matmul_all_reduce_v4`'s table that list V2 (``dequant_scale`` is its
    ``x2_scale``, ``pertoken_scale`` its ``x1_scale``).
    """
    return QuantMatmulAllReduceV2Plan._once(
        stream, x1, x2, dequant_scale, group=group, bias=bias, x3=x3, x1_scale=pertoken_scale, out=out,
        out_dtype=out_dtype, reduce_op=reduce_op, comm_turn=comm_turn, stream_mode=stream_mode,
        rank_size=rank_size)


def quant_matmul_all_reduce_v3(x1: Any, x2: Any, dequant_scale: Any, *, group: Any, stream: Stream,
                               bias: Any = None, x3: Any = None, pertoken_scale: Any = None,
                               comm_quant_scale_1: Any = None, comm_quant_scale_2: Any = None,
                               out: Tensor | None = None, out_dtype: Any = None, reduce_op: str = "sum",
                               comm_turn: int = 0, stream_mode: int = 1,
                               rank_size: int | None = None) -> Tensor:
    """Run aclnnQuantMatmulAllReduceV3: V2 plus INT8 low-bit communication.

    ``comm_quant_scale_1``/``_2``: both or neither, output dtype, shape (n,) or
    (1, n), the same on every rank. Dtypes and shapes: the rows of
    :func:`quant_matmul_all_reduce_v4`'s table that list V3 (``dequant_scale`` is its
    ``x2_scale``, ``pertoken_scale`` its ``x1_scale``).
    """
    return QuantMatmulAllReduceV3Plan._once(
        stream, x1, x2, dequant_scale, group=group, bias=bias, x3=x3, x1_scale=pertoken_scale,
        comm_quant_scale_1=comm_quant_scale_1, comm_quant_scale_2=comm_quant_scale_2, out=out,
        out_dtype=out_dtype, reduce_op=reduce_op, comm_turn=comm_turn, stream_mode=stream_mode,
        rank_size=rank_size)


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

    Modes by formula of the V4 document ("versions": the entry points that take the
    row, V1-V3's ``dequant_scale`` being ``x2_scale`` and ``pertoken_scale``
    ``x1_scale``; tests/semantics/test_doc_tables_quant_matmul_all_reduce.py holds the table to the rules). A
    cell is dtypes then shapes, ``/`` separating choices: ``—`` null (omit it),
    ``x1``/``out`` that argument's dtype, fp8 = float8_e4m3fn or float8_e5m2;
    ``(k, n)ᵀ`` a transposed view of an (n, k) tensor, ``(k, n) nz`` an int8
    FRACTAL_NZ weight from :func:`~aclnn_py.ops._trans_matmul_weight.trans_matmul_weight` (V1-V3:
    Atlas A2 only). Besides:

    - x1 is (m, k) or (b, s, k) with m = b*s (perblock x1_scale then
      (b, ceil(s/128), ceil(k/128))); out is x1's shape with last dim n; x3
      (optional, every formula) has out's dtype and shape;
    - group_size 0 infers the group sizes from the scale shapes: the x1 rows, n and
      k must be multiples of 128 (perblock), k a multiple of 64 (MX); else pass the
      value shown;
    - float4_e2m1 needs k even and ceil(k/32) even;
    - ranks: Atlas A2 1, 2, 4 or 8; Ascend 950 1, 2, 4, ... 64; Atlas A3 has no
      QuantMatmulAllReduce (361001).

    | formula | versions | SoC | x1 | x2 | x2_scale | x1_scale | bias | out | comm_quant_scale_1, _2 | group_size | comm_quant_mode |
    |---|---|---|---|---|---|---|---|---|---|---|---|
    | 2 | V1 V2 V3 V4 | A2 950 | int8 (m, k) | x1 (k, n)/(k, n)ᵀ/(k, n) nz | uint64/int64 (1)/(n)/(1, n) | — | —/int32 (n) | float16 | — | 0 | 0 |
    | 2 | V1 V2 V3 V4 | A2 950 | int8 (m, k) | x1 (k, n)/(k, n)ᵀ/(k, n) nz | bfloat16 (1)/(n)/(1, n) | — | —/int32 (n) | bfloat16 | — | 0 | 0 |
    | 3 | V2 V3 V4 | A2 950 | int8 (m, k) | x1 (k, n)/(k, n)ᵀ/(k, n) nz | float32 (1)/(n)/(1, n) | float32 (m) | —/int32 (n) | float16 | — | 0 | 0 |
    | 3 | V2 V3 V4 | A2 950 | int8 (m, k) | x1 (k, n)/(k, n)ᵀ/(k, n) nz | bfloat16 (1)/(n)/(1, n) | float32 (m) | —/int32 (n) | bfloat16 | — | 0 | 0 |
    | 1 | V3 V4 | A2 950 | int8 (m, k) | x1 (k, n)/(k, n)ᵀ/(k, n) nz | uint64/int64 (1)/(n)/(1, n) | — | —/int32 (n) | float16 | out (n)/(1, n) | 0 | 0 |
    | 1 | V3 V4 | A2 950 | int8 (m, k) | x1 (k, n)/(k, n)ᵀ/(k, n) nz | bfloat16 (1)/(n)/(1, n) | — | —/int32 (n) | bfloat16 | out (n)/(1, n) | 0 | 0 |
    | 1 | V3 V4 | A2 950 | int8 (m, k) | x1 (k, n)/(k, n)ᵀ/(k, n) nz | float32 (1)/(n)/(1, n) | float32 (m) | —/int32 (n) | float16 | out (n)/(1, n) | 0 | 0 |
    | 1 | V3 V4 | A2 950 | int8 (m, k) | x1 (k, n)/(k, n)ᵀ/(k, n) nz | bfloat16 (1)/(n)/(1, n) | float32 (m) | —/int32 (n) | bfloat16 | out (n)/(1, n) | 0 | 0 |
    | 4 (MX) | V4 | 950 | fp8/float4_e2m1 (m, k) | x1 (k, n)ᵀ | float8_e8m0 (n, ceil(k/64), 2) | float8_e8m0 (m, ceil(k/64), 2) | —/float32 (n) | float16/bfloat16/float32 | — | 0/4295032864 | 0 |
    | 5 | V4 | 950 | fp8/hifloat8 (m, k) | x1 (k, n)/(k, n)ᵀ | uint64/int64 (1)/(n)/(1, n) | — | —/float32 (n) | float16/bfloat16/float32 | — | 0 | 0 |
    | 6 | V4 | 950 | fp8/hifloat8 (m, k) | x1 (k, n)/(k, n)ᵀ | float32 (1)/(n)/(1, n) | float32 (m) | —/float32 (n) | float16/bfloat16/float32 | — | 0 | 0 |
    | 7 | V4 | 950 | fp8/hifloat8 (m, k) | x1 (k, n) | float32 (ceil(k/128), ceil(n/128)) | float32 (ceil(m/128), ceil(k/128)) | — | float16/bfloat16/float32 | — | 0/549764202624 | 0 |
    | 7 | V4 | 950 | fp8/hifloat8 (m, k) | x1 (k, n)ᵀ | float32 (ceil(n/128), ceil(k/128)) | float32 (ceil(m/128), ceil(k/128)) | — | float16/bfloat16/float32 | — | 0/549764202624 | 0 |
    | 8 (6) | V4 | 950 | fp8 (m, k) | x1 (k, n)/(k, n)ᵀ | float32 (1)/(n)/(1, n) | float32 (m) | —/float32 (n) | float16/bfloat16/float32 | — | 0 | 1 |
    | 8 (7) | V4 | 950 | fp8 (m, k) | x1 (k, n) | float32 (ceil(k/128), ceil(n/128)) | float32 (ceil(m/128), ceil(k/128)) | — | float16/bfloat16/float32 | — | 0/549764202624 | 1 |
    | 8 (7) | V4 | 950 | fp8 (m, k) | x1 (k, n)ᵀ | float32 (ceil(n/128), ceil(k/128)) | float32 (ceil(m/128), ceil(k/128)) | — | float16/bfloat16/float32 | — | 0/549764202624 | 1 |

    Formula 1 is 2 or 3 with the int8 low-bit communication; 8 is 6 or 7 with fp8
    per-tile communication (comm_quant_mode 1).
    """
    return QuantMatmulAllReduceV4Plan._once(
        stream, x1, x2, x2_scale, group=group, bias=bias, x3=x3, x1_scale=x1_scale,
        comm_quant_scale_1=comm_quant_scale_1, comm_quant_scale_2=comm_quant_scale_2, group_size=group_size,
        comm_quant_mode=comm_quant_mode, out=out, out_dtype=out_dtype, reduce_op=reduce_op, comm_turn=comm_turn,
        stream_mode=stream_mode, rank_size=rank_size, x_dtype=x_dtype)
