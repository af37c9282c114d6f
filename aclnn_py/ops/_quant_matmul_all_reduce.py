"""aclnnQuantMatmulAllReduce, V2, V3, V4 and V5: quantized matmul + AllReduce-sum over an HCCL group.

Raw pairs: ``aclnn_py.lib.aclnnQuantMatmulAllReduce[V2|V3|V4|V5]GetWorkspaceSize(...)``
and ``aclnn_py.lib.aclnnQuantMatmulAllReduce[V2|V3|V4|V5](...)``. Pythonic layer,
one function and one plan per entry point:

* :func:`quant_matmul_all_reduce` (V1: INT8, ``dequant_scale``),
  :func:`quant_matmul_all_reduce_v2` (+ ``pertoken_scale``),
  :func:`quant_matmul_all_reduce_v3` (+ ``comm_quant_scale_1/2``),
  :func:`quant_matmul_all_reduce_v4` (every mode) and
  :func:`quant_matmul_all_reduce_v5` (V4 + ``comm_mode``) -- one call each; they take
  Tensors or NumPy arrays (arrays are copied to the device; HiFloat8 arrays are
  uint8 codes and need ``x_dtype="hifloat8"``), allocate the output when
  ``out`` is None, check the arguments with
  :mod:`aclnn_py.semantics.quant_matmul_all_reduce.rules` for that entry point (same
  codes and messages as the C function) and reuse the stream's workspace.
* :class:`QuantMatmulAllReducePlan`, :class:`QuantMatmulAllReduceV2Plan`,
  :class:`QuantMatmulAllReduceV3Plan`, :class:`QuantMatmulAllReduceV4Plan`,
  :class:`QuantMatmulAllReduceV5Plan` --
  phase 1 once (repeatable executor), :meth:`execute` many times; resources
  (:class:`~aclnn_py.ops._two_phase.Plan`). Each function above does what its
  version's plan made single-use, executed once and closed does
  (:func:`~aclnn_py.ops._two_phase.launch`, without the plan object).

They share one implementation with the family's other entry points
(:mod:`aclnn_py.ops._matmul_all_reduce`): a version's arguments are the family's canonical
ones (``dequant_scale`` is ``x2_scale``, ``pertoken_scale`` is ``x1_scale``)
and its :class:`~aclnn_py.semantics.quant_matmul_all_reduce.rules.Signature` orders them
as its header does. Every rank of the group must make the same call (on its
own thread/process, device and stream); all ranks get the same output.
"""
from __future__ import annotations

from typing import Any

from .. import _resource, arguments
from .._ffi import ffi
from .._resource import owned_ids, require_open
from ..errors import raising
from ..hccl.communicator import Communicator
from ..runtime import Stream
from ..semantics import dtypes
from ..semantics.quant_matmul_all_reduce import rules
from ..semantics.signatures import Kind, python_name
from ..tensor import Tensor
from ._arguments import c_text
from ._function_plan import TakesFunctionArguments
from ._inputs import device_tensor
from ._profile import current_profile
from ._signatures import ACCEPTED, desc_key
from ._two_phase import Plan, dispose, launch

__all__ = ["QuantMatmulAllReducePlan", "QuantMatmulAllReduceV2Plan", "QuantMatmulAllReduceV3Plan",
           "QuantMatmulAllReduceV4Plan", "QuantMatmulAllReduceV5Plan", "quant_matmul_all_reduce",
           "quant_matmul_all_reduce_v2", "quant_matmul_all_reduce_v3", "quant_matmul_all_reduce_v4",
           "quant_matmul_all_reduce_v5"]

_INT64_MIN = -(2**63)
#: A string parameter left out: the functions' defaults ("ai_cpu": the engine every SoC has).
_STRING_DEFAULTS = {"reduce_op": "sum", "comm_mode": "ai_cpu"}


class _Form:
    """What a call of one entry point builds from its header, found once: the input tensors' and
    the integer attributes' canonical names, the string parameters' but ``group`` (reduce_op,
    comm_mode), every parameter that is neither a tensor nor an integer (``group`` and the
    strings), the parameters' order, and the Python names that differ from the canonical ones
    (V1-V3's ``dequant_scale`` is ``x2_scale``)."""

    __slots__ = ("inputs", "integers", "strings", "others", "names", "renamed")

    def __init__(self, signature: rules.Signature) -> None:
        header = signature.header
        self.inputs = tuple(name for name in signature.tensors if name != "output")
        self.integers = tuple(p.name for p in header.parameters if p.kind is Kind.INTEGER)
        self.strings = tuple(p.name for p in header.parameters if p.kind is Kind.STRING and p.name != "group")
        self.others = tuple(p.name for p in header.parameters if p.kind not in (Kind.TENSOR, Kind.INTEGER))
        self.names = header.names
        self.renamed = tuple((python_name(p.c_name), p.name) for p in header.parameters
                             if python_name(p.c_name) != p.name)


_FORMS: dict[str, _Form] = {}


def _form(signature: rules.Signature) -> _Form:
    form = _FORMS.get(signature.op)
    if form is None:
        form = _FORMS[signature.op] = _Form(signature)
    return form


def _group(group: Any) -> tuple[Any, int | None]:
    """The communicator name as a C string (str as UTF-8, bytes unchanged, NULL for None) and the
    group size when known."""
    if group is None:
        return ffi.NULL, None
    if isinstance(group, (str, bytes, bytearray)):
        return c_text(group, "group")[0], None
    if not isinstance(group, Communicator):
        raise TypeError(f"group: expected an aclnn_py.hccl.Communicator or a communicator name (str), "
                        f"got {type(group).__name__}")
    return c_text(group.name, "group")[0], group.size


def _int64(value: Any, parameter: str) -> int:
    """An int64 argument: an int in range as it is; anything else checked open (a closed resource
    is refused as such, whatever the parameter), then converted by :func:`arguments.integer`."""
    if type(value) is int and _INT64_MIN <= value <= arguments.INT64_MAX:
        return value
    require_open(value)
    return arguments.integer(value, parameter)


class _Arguments:
    """The checked arguments of one call of ``signature``: tensors and C values, by canonical name.

    ``values`` holds the header's parameters by canonical name (absent: NULL or the rules'
    default; other keys are not read); everything else is keyword arguments. ``tensors`` holds
    every tensor by canonical name ("output" included); ``keep`` what the queued work uses and the
    caller owns (never this object: a reference cycle would leave the tensors to the garbage
    collector); ``created`` the device copies of NumPy inputs, released once the stream has passed
    the work; ``communicator`` the group when it is a Communicator. Closed resources, and a stream
    of another device than the communicator's, are refused before any C call. ``x_dtype`` is the
    aclDataType of NumPy x1 and x2 arrays, ``x2_dtype`` of a NumPy x2 alone (where their NumPy
    dtype does not say it).
    """

    def __init__(self, signature: rules.Signature, values: dict[str, Any], *, stream: Stream | None,
                 out: Any = None, out_dtype: Any = None, rank_size: Any = None, x_dtype: Any = None,
                 x2_dtype: Any = None) -> None:
        self.checked_at = _resource.closed_since  # before the checks: see _two_phase.launch
        form = _FORMS.get(signature.op) or _form(signature)
        get = values.get
        # closed resources first, before anything is converted or copied
        require_open(stream, out)
        t: dict[str, Any] = {}  # the input tensors by canonical name
        copies = False  # an input given as something else than a Tensor (a host array to copy)
        for name in form.inputs:
            t[name] = value = get(name)
            if type(value) is Tensor:
                if id(value) not in owned_ids or id(value.buffer) not in owned_ids:
                    value._require_open()
            elif value is not None:
                require_open(value)
                copies = True
        for name in form.others:
            value = get(name)
            if value is not None and type(value) is not str:
                require_open(value)
        group = get("group")
        self.communicator = group if isinstance(group, Communicator) else None
        if self.communicator is not None and isinstance(stream, Stream):  # another stream: a TypeError later
            stream._require_device(self.communicator)
        c_values: dict[str, Any] = {}  # by canonical name
        for name in form.integers:
            if name in values:
                c_values[name] = _int64(values[name], name)
        attributes = dict(c_values)
        c_values["group"], size = _group(group)
        texts: dict[str, str | None] = {}  # the string parameters as the rules read them
        for name in form.strings:
            value = get(name, _STRING_DEFAULTS.get(name))
            c_values[name], texts[name] = (ffi.NULL, None) if value is None else c_text(value, name)
        x_dtype = None if x_dtype is None else dtypes.to_acl(x_dtype, "x_dtype")
        x2_dtype = x_dtype if x2_dtype is None else dtypes.to_acl(x2_dtype, "x2_dtype")
        if out_dtype is not None:
            out_dtype = dtypes.to_acl(out_dtype, "out_dtype")
        if out is not None and not isinstance(out, Tensor):
            raise TypeError(f"out: expected a Tensor, got {type(out).__name__}")
        self.created: list[Tensor] = []
        try:
            if copies:
                host_dtypes = {"x1": x_dtype, "x2": x2_dtype}
                for name, value in t.items():
                    if value is not None and not isinstance(value, Tensor):
                        t[name] = device_tensor(value, name, self.created, host_dtypes.get(name), stream)
            out_desc = None  # the output's descriptor when the binding allocates it
            profile = current_profile()
            needed = ("x1", "x2", "x2_scale") if signature.kind == "quant" else ("x1", "x2")
            if out is None and all(t[name] is not None for name in needed):
                with raising():
                    out_desc = rules.output_desc_of(signature, {name: None if v is None else v.desc
                                                                for name, v in t.items()},
                                                    out_dtype=out_dtype, profile=profile)
            rank = size if rank_size is None else _int64(rank_size, "rank_size")
            if profile is not None:
                key = (signature.op, profile, rank, *texts.values(), *attributes.values(),
                       *[None if v is None else v._layout or desc_key(v.desc) for v in t.values()],
                       desc_key(out_desc) if out is None else out._layout or desc_key(out.desc))
                if ACCEPTED.get(key) is None:
                    with raising():
                        checked = rules.check_entry(
                            **{name: None if v is None else v.desc for name, v in t.items()},
                            output=out_desc if out is None else out.desc, **texts, **attributes,
                            profile=profile, rank_size=rank, signature=signature)
                    ACCEPTED.put(key, checked)
            if out is None:  # allocated only once the rules accept the call
                if out_desc is None:
                    raise TypeError(f"out: required when {', '.join(needed[:-1])} or {needed[-1]} is None")
                out = Tensor.empty(out_desc.shape, out_desc.dtype)
        except BaseException:
            dispose(self.created, stream)
            raise
        # what the work uses that the caller owns: the C strings, the output, the Tensors given
        keep = [c_values["group"], *[c_values[name] for name in form.strings], out]
        for name, value in t.items():  # checked open above or just made: the handles as they are
            if value is None:
                c_values[name] = ffi.NULL
            else:
                c_values[name] = value._handle
                if value is get(name):
                    keep.append(value)
        c_values["output"] = out._handle
        self.args = tuple(map(c_values.__getitem__, form.names))
        self.keep = tuple(keep)
        t["output"] = out
        self.tensors = t
        self.out = out


def _canonical(signature: rules.Signature, arguments_: dict[str, Any]) -> dict[str, Any]:
    """A version's Python arguments with its header's by canonical name (``dequant_scale`` is
    ``x2_scale``); the Python-only ones (``stream``, ``out``...) as they are."""
    renamed = (_FORMS.get(signature.op) or _form(signature)).renamed
    if not renamed:
        return arguments_
    values = dict(arguments_)
    for python, canonical in renamed:
        if python in values:
            values[canonical] = values.pop(python)
    return values


def _arguments(signature: rules.Signature, arguments_: dict[str, Any]) -> _Arguments:
    """The checked arguments of a version's function or plan (its arguments by Python name)."""
    values = _canonical(signature, arguments_)
    get = values.get
    return _Arguments(signature, values, stream=get("stream"), out=get("out"), out_dtype=get("out_dtype"),
                      rank_size=get("rank_size"), x_dtype=get("x_dtype"), x2_dtype=get("x2_dtype"))


class _QuantMatmulAllReducePlan(TakesFunctionArguments, Plan):
    """Phase 1 once (a repeatable executor), :meth:`execute` on a stream many times.

    Same arguments as the version's function; ``stream`` (optional) is where
    host arrays are copied to the device (synchronously when None), and
    ``repeatable=False`` makes a single-use plan.
    ``out`` is the output tensor, ``tensors`` every tensor of the call by
    canonical name (``plan.tensors["x1"]``, ``plan.tensors["x2_scale"]`` for
    V1-V3's dequantScale); refill the inputs (``.copy_from_numpy``) between
    executions for new data. ``close()`` releases the executor and the device
    copies once the streams that ran the plan synchronised; the output stays
    the caller's.
    """

    signature: rules.Signature  # the entry point

    def _prepare(self, arguments_: dict[str, Any], repeatable: bool) -> None:
        call = _arguments(self.signature, arguments_)
        self.tensors = call.tensors
        self.out = call.out
        Plan.__init__(self, self.signature.op, call.args, keep=call.keep, owned=call.created,
                      stream=arguments_.get("stream"), repeatable=repeatable, communicator=call.communicator,
                      checked_at=call.checked_at)

    @classmethod
    def _once(cls, arguments_: dict[str, Any]) -> Tensor:
        """The version's function: what its plan made single-use, run once on ``stream`` and closed
        does (:func:`~aclnn_py.ops._two_phase.launch`); returns the output."""
        call = _arguments(cls.signature, arguments_)
        launch(cls.signature.op, call.args, arguments_["stream"], keep=call.keep, owned=call.created,
               communicator=call.communicator, checked_at=call.checked_at)
        return call.out


class QuantMatmulAllReducePlan(_QuantMatmulAllReducePlan):
    """The plan of aclnnQuantMatmulAllReduce (V1); arguments of :func:`quant_matmul_all_reduce`."""

    signature = rules.V1


class QuantMatmulAllReduceV2Plan(_QuantMatmulAllReducePlan):
    """The plan of aclnnQuantMatmulAllReduceV2; arguments of :func:`quant_matmul_all_reduce_v2`."""

    signature = rules.V2


class QuantMatmulAllReduceV3Plan(_QuantMatmulAllReducePlan):
    """The plan of aclnnQuantMatmulAllReduceV3; arguments of :func:`quant_matmul_all_reduce_v3`."""

    signature = rules.V3


class QuantMatmulAllReduceV4Plan(_QuantMatmulAllReducePlan):
    """The plan of aclnnQuantMatmulAllReduceV4; arguments of :func:`quant_matmul_all_reduce_v4`."""

    signature = rules.V4


class QuantMatmulAllReduceV5Plan(_QuantMatmulAllReducePlan):
    """The plan of aclnnQuantMatmulAllReduceV5; arguments of :func:`quant_matmul_all_reduce_v5`."""

    signature = rules.V5


@QuantMatmulAllReducePlan.arguments_of
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
    return QuantMatmulAllReducePlan._once(locals())


@QuantMatmulAllReduceV2Plan.arguments_of
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
    return QuantMatmulAllReduceV2Plan._once(locals())


@QuantMatmulAllReduceV3Plan.arguments_of
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
    return QuantMatmulAllReduceV3Plan._once(locals())


@QuantMatmulAllReduceV4Plan.arguments_of
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
    return QuantMatmulAllReduceV4Plan._once(locals())



@QuantMatmulAllReduceV5Plan.arguments_of
def quant_matmul_all_reduce_v5(x1: Any, x2: Any, x2_scale: Any, *, group: Any, stream: Stream,
                               bias: Any = None, x3: Any = None, x1_scale: Any = None,
                               comm_quant_scale_1: Any = None, comm_quant_scale_2: Any = None,
                               group_size: int = 0, comm_quant_mode: int = 0, comm_mode: str | None = "ai_cpu",
                               out: Tensor | None = None, out_dtype: Any = None, reduce_op: str = "sum",
                               comm_turn: int = 0, stream_mode: int = 1, rank_size: int | None = None,
                               x_dtype: Any = None) -> Tensor:
    """Run aclnnQuantMatmulAllReduceV5: :func:`quant_matmul_all_reduce_v4` (every mode, the same
    arguments) plus ``comm_mode``, the communication engine: ``"ai_cpu"`` (the default) or None on
    Atlas A2, ``"ai_cpu"`` or ``"ccu"`` on Ascend 950 (None is refused there). The engine changes how
    the AllReduce travels, not its result.
    """
    return QuantMatmulAllReduceV5Plan._once(locals())
