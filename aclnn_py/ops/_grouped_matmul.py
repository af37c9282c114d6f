"""GroupedMatmul: grouped (mixture-of-experts) matrix multiplication, all six entry points.

The raw pairs are ``aclnn_py.lib.aclnnGroupedMatmul[V2|V3|V4|V5|WeightNz]GetWorkspaceSize`` /
``aclnn_py.lib.aclnnGroupedMatmul[V2|V3|V4|V5|WeightNz]``. One Pythonic function per entry point
-- :func:`grouped_matmul` (V1), :func:`grouped_matmul_v2`, :func:`grouped_matmul_v3`,
:func:`grouped_matmul_v4`, :func:`grouped_matmul_v5`, :func:`grouped_matmul_weight_nz` -- takes
tensor-list arguments as lists of :class:`Tensor` or host arrays (arrays are copied to the
device), derives the output shapes from the scenario, checks the arguments with the entry
point's rules (``aclnn_py.semantics.grouped_matmul.rules``, as the mock runs them) before C is
called, and returns the output tensors. The work is queued on ``stream``; synchronise before
reading the outputs. Each has a plan class taking the same arguments and keeping a repeatable
executor (phase 1 once, :meth:`~aclnn_py.ops._two_phase.Plan.execute` many times); the function
checks the same arguments and runs the call once (:func:`~aclnn_py.ops._two_phase.launch`: what
that plan made single-use, executed once and closed does).

The six share one implementation (:mod:`aclnn_py.semantics.grouped_matmul.entry_points`: a
version is V5's call restricted): V1-V3's ``y`` is the ``out`` argument here; V1 and V2 take the
groupList as a host sequence of cumulative sizes (an ``aclIntArray``), the others as an INT64
device tensor or a host array.

The feature set follows the SoC (``aclrtGetSocName``): on an Ascend 950,
A8W4 ("S8S4": INT8 x, ``ml_dtypes.int4`` or INT32-packed weight (E, K, N),
FLOAT bias (E, N), UINT64 scale, FLOAT per-token scale, optional FLOAT offset
(E, 1, N), groupListType 1) and A4W4 ("S4S4": ``ml_dtypes.int4`` x and weight)
take the arguments the 2026 GroupedMatmulV5 doc lists; UINT64 scales come from
:func:`aclnn_py.ops._trans_quant_param.trans_quant_param_v2` or
:func:`aclnn_py.semantics.quant_params.trans_quant_param`.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import _resource, arguments
from .._ffi import ffi
from .._resource import require_open
from ..errors import AclnnParamError, ArgumentError, from_violation, raising
from ..memory import DeviceBuffer
from ..runtime import Stream
from ..semantics import codecs, dtypes, nz
from ..semantics.descriptors import FRACTAL_NZ, TensorDesc
from ..semantics.grouped_matmul import call, rules
from ..semantics.grouped_matmul import version_rules as versions
from ..semantics.grouped_matmul.entry_points import V1, V2, V3, V4, V5, WEIGHT_NZ, EntryPoint
from ..semantics.signatures import Kind
from ..semantics.status import NOT_MODELLED, Violation
from ..tensor import IntArray, Tensor, TensorList
from ._function_plan import TakesFunctionArguments
from ._inputs import device_tensor
from ._profile import current_profile
from ._signatures import ACCEPTED, desc_key, tensor_key
from ._two_phase import Plan, dispose, launch

__all__ = ["GroupedMatmulPlan", "GroupedMatmulV2Plan", "GroupedMatmulV3Plan", "GroupedMatmulV4Plan",
           "GroupedMatmulV5Plan", "GroupedMatmulWeightNzPlan", "grouped_matmul", "grouped_matmul_v2",
           "grouped_matmul_v3", "grouped_matmul_v4", "grouped_matmul_v5", "grouped_matmul_weight_nz", "OP"]

OP = V5.op


def _as_tensor(value: Any, parameter: str, created: list, stream: Stream | None) -> Tensor:
    if value is None:
        raise TypeError(f"{parameter}: expected a Tensor or an array, got None")
    return device_tensor(value, parameter, created, None, stream)


def _nz_tensor(value: Any, parameter: str, created: list, stream: Stream | None) -> Tensor:
    """A Tensor as given, or a host array (its logical (.., K, N) values) copied to a new
    FRACTAL_NZ tensor (the NZ storage of its view with its dtype's C0): what WeightNz reads."""
    if value is None or isinstance(value, Tensor):
        return _as_tensor(value, parameter, created, stream)
    array = arguments.as_array(value, parameter)
    try:
        acl = dtypes.of_array(array)
        storage = nz.nz_storage_shape(array.shape, dtypes.name(acl))
    except ValueError as exc:
        raise ArgumentError(parameter, f"no FRACTAL_NZ layout for this array: {exc}") from None
    elements = 1
    for d in storage:
        elements *= d
    buffer = DeviceBuffer(max(dtypes.nbytes(elements, acl), 1))
    try:
        tensor = Tensor(buffer, array.shape, acl, format=FRACTAL_NZ, storage_shape=storage)
    except BaseException:
        buffer.close()
        raise
    tensor.owns_buffer = True
    created.append(tensor)
    tensor.copy_from_numpy(array, stream)
    return tensor


def _as_list(values: Sequence[Any] | Any | None, parameter: str, created: list,
             stream: Stream | None = None, convert=_as_tensor) -> list[Tensor] | None:
    if values is None:
        return None
    if isinstance(values, (Tensor, np.ndarray)):
        values = [values]
    return [convert(v, f"{parameter}[{i}]", created, stream) for i, v in enumerate(values)]


def _descs(tensors: list[Tensor] | None):
    return None if tensors is None else [t.desc for t in tensors]


def _keys(tensors: list[Tensor] | None):
    """The signature of a tensor list (:func:`~aclnn_py.ops._signatures.tensor_key` of each)."""
    return None if tensors is None else tuple(map(tensor_key, tensors))


def _output_shapes(entry: EntryPoint, xs, ws, gl, group_host, attrs) -> list[tuple[int, ...]]:
    """Shapes of the outputs the scenario implies (AclnnParamError when the inputs imply none)."""
    split_item, group_type = attrs["split_item"], attrs.get("group_type")
    host = entry.host_group_list
    try:
        with raising():
            if group_type is None:  # V1: the lists choose; out counted as split_item implies it
                separate = split_item < 2 and (len(xs) > 1 or len(ws) > 1)
                group_type = versions.v1_group_type(len(xs), len(ws), max(len(xs), len(ws)) if separate else 1)
            shapes = rules.output_shapes(
                [t.desc for t in xs], [t.desc for t in ws], split_item=split_item, group_type=group_type,
                group_list_len=(len(group_host) if group_host is not None else None) if host else (
                    None if gl is None or gl.desc.ndim == 0 else gl.shape[0]),
                group_list_values=group_host, group_list_type=0 if host else attrs.get("group_list_type", 0))
    except AclnnParamError:
        raise
    except ValueError as exc:
        if call.per_group_outputs(len(xs), split_item, group_type) and group_host is None:
            raise ArgumentError("out", str(exc)) from None
        raise AclnnParamError(rules.INVALID, entry.function, str(exc)) from None
    return shapes


class _Arguments:
    """The checked arguments of one call of an entry point: tensors and C values, by the header's
    parameters (the entry point's :attr:`~aclnn_py.semantics.grouped_matmul.entry_points.EntryPoint.header`:
    canonical names, V1-V3's ``y`` as ``out``).

    ``values`` holds the header's parameters given (absent: NULL or the header's default of
    the Python function); ``tensors`` the tensor lists by name (``"out"`` included;
    ``"group_list"`` a Tensor, a tuple of host values (V1/V2) or None); ``keep`` what the queued
    work uses and the caller owns; ``created`` what was made for the call (device copies, tensor
    lists, host arrays), released once the stream has passed the work.
    """

    def __init__(self, entry: EntryPoint, values: dict[str, Any], *, stream: Stream | None,
                 out_dtype: Any = None) -> None:
        self.checked_at = _resource.closed_since  # before the check: see Plan._inputs_open
        header = entry.header
        require_open(stream, *(values.get(p.name) for p in header.parameters))
        attrs = {p.name: arguments.integer(values[p.name], p.name) for p in header.parameters
                 if p.kind is Kind.INTEGER and p.name in values}
        if out_dtype is not None:
            out_dtype = dtypes.to_acl(out_dtype, "out_dtype")
        arrays = {p.name: arguments.integers(values[p.name], p.name) for p in header.parameters
                  if p.kind is Kind.INT_ARRAY and values.get(p.name) is not None}
        created: list[Any] = []  # released with the work
        self.created = created
        try:
            lists = {p.name: _as_list(values.get(p.name), p.name, created, stream,
                                      _nz_tensor if entry is WEIGHT_NZ and p.name == "weight" else _as_tensor)
                     for p in header.parameters if p.kind is Kind.TENSOR_LIST and not p.output}
            xs, ws = lists["x"], lists["weight"]
            gl, group_host = self._group_list(entry, values.get("group_list"), arrays, created, stream)
            if xs is None or ws is None:
                raise AclnnParamError(rules.NULLPTR, entry.function, f"{'x' if xs is None else 'weight'} is nullptr")
            made_outs: list[Tensor] = []  # returned to the caller, never released here
            outputs = {p.name: _as_list(values.get(p.name), p.name, made_outs, stream) for p in header.parameters
                       if p.kind is Kind.TENSOR_LIST and p.output}
            out_descs = None
            if outputs["out"] is None:  # descriptors only: the memory is allocated once the rules accept the call
                shapes = _output_shapes(entry, xs, ws, gl, group_host, attrs)
                dtype = out_dtype if out_dtype is not None else rules.default_out_dtype(
                    _descs(xs), _descs(ws), _descs(lists["scale"]), _descs(lists["antiquant_scale"]))
                out_descs = [TensorDesc.contiguous(shape, int(dtype)) for shape in shapes]
            profile = current_profile()
            if profile is not None:
                key = (entry.op, profile, *attrs.values(), *arrays.values(), *map(_keys, lists.values()),
                       tensor_key(gl), *[tuple(map(desc_key, out_descs)) if name == "out" and v is None else _keys(v)
                                         for name, v in outputs.items()])
                if ACCEPTED.get(key) is None:
                    descs = {name: _descs(v) for name, v in {**lists, **outputs}.items()}
                    if out_descs is not None:
                        descs["out"] = out_descs
                    host_arrays = dict(arrays)
                    group_list = host_arrays.pop("group_list", None) if entry.host_group_list else (
                        None if gl is None else gl.desc)
                    try:
                        checked = rules.check(**descs, group_list=group_list, **host_arrays,
                                              profile=profile, signature=entry, **attrs)
                    except Violation as violation:
                        if violation.rule != NOT_MODELLED:  # a scenario the rules do not model: CANN decides
                            raise from_violation(violation) from None
                    else:
                        ACCEPTED.put(key, checked)
            if outputs["out"] is None:
                outputs["out"] = [Tensor.empty(d.shape, d.dtype) for d in out_descs]

            def tl(tensors):
                if tensors is None:
                    return ffi.NULL
                lst = TensorList(tensors)
                created.append(lst)
                return lst._handle

            c_values: dict[str, Any] = {name: tl(v) for name, v in {**lists, **outputs}.items()}
            if entry.tensor_group_list:
                c_values["group_list"] = ffi.NULL if gl is None else gl._handle
            c_values.update(attrs)
            for name, values_ in arrays.items():
                array = IntArray(values_)
                created.append(array)
                c_values[name] = array._handle
            self.args = tuple(c_values.get(name, ffi.NULL) for name in header.names)
        except BaseException:
            dispose(created, stream)
            raise
        self.tensors: dict[str, Any] = {**lists, "group_list": group_host if entry.host_group_list else gl,
                                        **outputs}
        self.out = outputs["out"]
        users = [t for t in [*(t for v in lists.values() for t in v or ()), gl] if t is not None]
        self.keep = (*users, *(t for v in outputs.values() for t in v or ()))

    @staticmethod
    def _group_list(entry: EntryPoint, value: Any, arrays: dict[str, Any], created: list, stream: Stream | None):
        """(the groupList tensor or None, its host values or None): V1/V2 take the host values
        (``arrays``' int array); the others a Tensor, or a host array copied to one."""
        if entry.host_group_list:
            host = arrays.get("group_list")
            return None, None if host is None else tuple(host)
        if value is None or isinstance(value, Tensor):
            return value, None
        try:
            host = codecs.to_host(arguments.as_array(value, "group_list"), "int64")
        except ValueError as exc:
            raise ArgumentError("group_list", str(exc)) from None
        tensor = Tensor.from_numpy(host, None, stream)
        created.append(tensor)
        return tensor, host


class _GroupedMatmulPlan(TakesFunctionArguments, Plan):
    """A GroupedMatmul entry point prepared once (a repeatable executor), :meth:`execute` on a
    stream many times.

    Arguments as the entry point's function, plus ``stream`` (optional: where host arrays are
    copied to the device, synchronously when None) and ``repeatable`` (False: a single-use plan).
    ``out`` is the list of output tensors, ``tensors`` every tensor of the call by name
    (``plan.tensors["x"][0]``, ``plan.tensors["group_list"]``); refill the inputs
    (``.copy_from_numpy``) between executions for new data. ``close()`` releases the executor and
    what the plan made once the streams that ran it synchronised; the outputs stay the caller's.
    """

    ENTRY: EntryPoint

    def _prepare(self, arguments_: dict[str, Any], repeatable: bool) -> None:
        stream, out_dtype = arguments_.pop("stream"), arguments_.pop("out_dtype")
        call_ = _Arguments(self.ENTRY, arguments_, stream=stream, out_dtype=out_dtype)
        self.tensors = call_.tensors
        self.out: list[Tensor] = call_.out
        Plan.__init__(self, self.ENTRY.op, call_.args, keep=call_.keep, owned=call_.created, stream=stream,
                      repeatable=repeatable, checked_at=call_.checked_at)


def _run(plan_class: type[_GroupedMatmulPlan], arguments_: dict[str, Any]) -> list[Tensor]:
    """The function of an entry point: its arguments checked as its plan checks them, the call run
    once (:func:`~aclnn_py.ops._two_phase.launch`: what that plan made single-use, executed once
    and closed does, without the plan object)."""
    stream, out_dtype = arguments_.pop("stream"), arguments_.pop("out_dtype")
    call_ = _Arguments(plan_class.ENTRY, arguments_, stream=stream, out_dtype=out_dtype)
    launch(plan_class.ENTRY.op, call_.args, stream, keep=call_.keep, owned=call_.created,
           checked_at=call_.checked_at)
    return call_.out


class GroupedMatmulPlan(_GroupedMatmulPlan):
    __doc__ = _GroupedMatmulPlan.__doc__.replace("A GroupedMatmul entry point", "aclnnGroupedMatmul (V1)")
    ENTRY = V1


class GroupedMatmulV2Plan(_GroupedMatmulPlan):
    __doc__ = _GroupedMatmulPlan.__doc__.replace("A GroupedMatmul entry point", "aclnnGroupedMatmulV2")
    ENTRY = V2


class GroupedMatmulV3Plan(_GroupedMatmulPlan):
    __doc__ = _GroupedMatmulPlan.__doc__.replace("A GroupedMatmul entry point", "aclnnGroupedMatmulV3")
    ENTRY = V3


class GroupedMatmulV4Plan(_GroupedMatmulPlan):
    __doc__ = _GroupedMatmulPlan.__doc__.replace("A GroupedMatmul entry point", "aclnnGroupedMatmulV4")
    ENTRY = V4


class GroupedMatmulV5Plan(_GroupedMatmulPlan):
    __doc__ = _GroupedMatmulPlan.__doc__.replace("A GroupedMatmul entry point", "aclnnGroupedMatmulV5")
    ENTRY = V5


class GroupedMatmulWeightNzPlan(_GroupedMatmulPlan):
    __doc__ = _GroupedMatmulPlan.__doc__.replace("A GroupedMatmul entry point", "aclnnGroupedMatmulWeightNz")
    ENTRY = WEIGHT_NZ


@GroupedMatmulPlan.arguments_of
def grouped_matmul(x, weight, *, stream: Stream, bias=None, scale=None, offset=None, antiquant_scale=None,
                   antiquant_offset=None, group_list: Sequence[int] | None = None, split_item: int = 0, out=None,
                   out_dtype=None) -> list[Tensor]:
    """Queue aclnnGroupedMatmul (V1, deprecated by CANN) on ``stream`` and return the outputs (its ``y``).

    :func:`grouped_matmul_v5`'s arguments and tables, less what V1 lacks: no ``group_type`` -- the
    lists choose it: -1 (one x per weight, one output each) when x and out both hold several
    tensors, or x, weight and out one each; else 0 (grouping along M) --, no ``per_token_scale``,
    ``group_list_type``, ``act_type`` or ``tuning_config``. ``group_list`` is a host sequence of
    cumulative row counts (an aclIntArray), checked value by value: its increments are the rows
    of each x (several x) or out (one x, one output per weight), else its last value is x's M;
    with groupType -1 it may give the rows of each 2-D x. A single x split along M takes one
    output per weight (``split_item`` 0/1, out sized by the group_list) -- which V3-V5 do not
    take -- or a single output (2/3). Atlas A2/A3: no float32 x, no transposed weight with one x
    per weight. Ascend 950: no quantization (it needs a groupList tensor: V3 and later), A16W8
    without grouping only.
    """
    return _run(GroupedMatmulPlan, dict(locals()))


@GroupedMatmulV2Plan.arguments_of
def grouped_matmul_v2(x, weight, *, stream: Stream, bias=None, scale=None, offset=None, antiquant_scale=None,
                      antiquant_offset=None, group_list: Sequence[int] | None = None, split_item: int = 0,
                      group_type: int = -1, out=None, out_dtype=None) -> list[Tensor]:
    """Queue aclnnGroupedMatmulV2 (deprecated by CANN) on ``stream`` and return the outputs (its ``y``).

    :func:`grouped_matmul_v5`'s arguments and tables, less ``per_token_scale``,
    ``group_list_type``, ``act_type`` and ``tuning_config``; ``group_list`` is a host sequence of
    cumulative sizes of the grouped axis (an aclIntArray), checked value by value as
    :func:`grouped_matmul`'s (group_type 2: its last value is x's K); null with group_type -1. A
    single x split along M takes one output per weight (``split_item`` 0/1, out sized by the
    group_list), which V3-V5 do not take. Ascend 950: no quantization (V3 and later), no A16W4
    or weight FP8 (V4, V5).
    """
    return _run(GroupedMatmulV2Plan, dict(locals()))


@GroupedMatmulV3Plan.arguments_of
def grouped_matmul_v3(x, weight, *, stream: Stream, bias=None, scale=None, offset=None, antiquant_scale=None,
                      antiquant_offset=None, group_list=None, split_item: int = 0, group_type: int = -1, out=None,
                      out_dtype=None) -> list[Tensor]:
    """Queue aclnnGroupedMatmulV3 (deprecated by CANN) on ``stream`` and return the outputs (its ``y``).

    :func:`grouped_matmul_v5`'s arguments and tables with a 1-D ``group_list`` of cumulative sizes
    (an INT64 Tensor, or a host array copied to one: ``group_list_type`` 0), less
    ``per_token_scale``, ``group_list_type``, ``act_type`` and ``tuning_config``. Ascend 950:
    quantization is A8W8 to int8 out only (uint64/int64 scale, int32 bias); no A16W4 or weight FP8
    (V4, V5).
    """
    return _run(GroupedMatmulV3Plan, dict(locals()))


@GroupedMatmulV4Plan.arguments_of
def grouped_matmul_v4(x, weight, *, stream: Stream, bias=None, scale=None, offset=None, antiquant_scale=None,
                      antiquant_offset=None, per_token_scale=None, group_list=None, split_item: int = 0,
                      group_type: int = -1, group_list_type: int = 0, act_type: int = 0, out=None,
                      out_dtype=None) -> list[Tensor]:
    """Queue aclnnGroupedMatmulV4 (deprecated by CANN) on ``stream`` and return the outputs.

    :func:`grouped_matmul_v5` without ``tuning_config``: the same arguments, tables and rules.
    """
    return _run(GroupedMatmulV4Plan, dict(locals()))


@GroupedMatmulV5Plan.arguments_of
def grouped_matmul_v5(x, weight, *, stream: Stream, bias=None, scale=None, offset=None, antiquant_scale=None,
                      antiquant_offset=None, per_token_scale=None, group_list=None, split_item: int = 0,
                      group_type: int = -1, group_list_type: int = 0, act_type: int = 0,
                      tuning_config: Sequence[int] | None = None, out=None, out_dtype=None) -> list[Tensor]:
    """Queue aclnnGroupedMatmulV5 on ``stream`` and return the output tensors.

    Tensor-list arguments take a list of :class:`Tensor` / NumPy arrays (a single
    one is wrapped). ``group_list`` is a Tensor (INT64 device data) or a host
    array. Outputs are created from the scenario's shapes and ``out_dtype``
    (default: the x dtype for non-quantized and weight-only calls; required for
    full quantization) unless ``out`` is given; the per-group outputs of a single
    x split along M (groupType 0, splitItem 0/1) need either ``out`` or a host
    ``group_list`` (its values size the outputs; a device groupList is never read
    back). Argument errors raise :class:`~aclnn_py.errors.AclnnParamError`
    (161001/161002) before C is called. Device copies made from arrays are
    released once the stream has passed the work (:meth:`Stream.release`).

    The tables below are held to the rules by tests/semantics/test_doc_tables_grouped_matmul.py. A cell
    is dtypes then shapes, ``/`` separating choices: ``—`` null (omit it), ``x``
    the x dtype, fp8 = float8_e4m3fn or float8_e5m2; ``(E, K, N)ᵀ`` a view of an
    (E, N, K) tensor with the last two dims swapped; ``n ×``/``E ×`` a list of
    tensors; E groups (experts), G groups along K of a per-group scale. SoC: A2/A3 =
    Atlas A2/A3, 950 = Ascend 950.

    Patterns: how x, weight and out correspond (non-quantized calls take all of
    them; the scenarios below say which they take). group_list is INT64:
    ``group_list_type`` 0 cumulative row counts, 1 counts, 2 (full quantization with
    an (E, K, N) weight) (E, 2) rows of [group, count]; c_e is the count of group e;
    ΣK_e <= K.

    | group_type | split_item | SoC | x | weight | group_list | out |
    |---|---|---|---|---|---|---|
    | -1 | 0/1 | A2 A3 950 | n × (M_i, K_i) | n × (K_i, N_i) | — | n × (M_i, N_i) |
    | 0 | 2/3 | A2 A3 950 | n × (M_i, K) | n × (K, N) | —/(n) | (ΣM_i, N) |
    | 0 | 2/3 | A2 A3 950 | (M, K) | (E, K, N)/E × (K, N) | (E) | (M, N) |
    | 2 | 2/3 | A2 A3 950 | (M, K)ᵀ | (K, N) | (E) | (E, M, N) |
    | 2 | 0/1 | A2 A3 | (M, K)ᵀ | E × (K_e, N_e) | — | E × (M, N_e) |
    | 2 | 0/1 | 950 | (M, K)ᵀ | E × (K_e, N_e) | —/(E) | E × (M, N_e) |

    Non-quantized and weight-only quantization, shown for one (E, K, N) weight
    (group_type 0, split_item 2/3, out (M, N)); group_list_type 0 or 1, act_type 0.
    Weight-only takes group_type -1 or 0 (weight FP8: 0 only), and with
    group_type -1 and split_item 0/1 an x of up to 6 dims. With a list of weights,
    each per-group argument is a list of one tensor per weight, without the leading
    E. int4 weights are ``ml_dtypes.int4`` arrays, or int32 holding 8 values along
    the stored last dim; A16W4 needs that dim even and G dividing K (K/G even for a
    transposed weight). An int8, float16 or bfloat16 weight may also be FRACTAL_NZ
    (:func:`~aclnn_py.ops._trans_matmul_weight.trans_matmul_weight`), in every row of either table
    but the weight-only ones (A16W8, A16W4, weight FP8: ND weights only) and A8W8 with int8 out;
    quantization on the 950 takes an NZ weight through :func:`grouped_matmul_weight_nz` only.

    | scenario | SoC | x | weight | antiquant_scale | antiquant_offset | bias | out |
    |---|---|---|---|---|---|---|---|
    | non-quantized | A2 A3 950 | float16 (M, K) | x (E, K, N)/(E, K, N)ᵀ | — | — | —/float16 (E, N) | x |
    | non-quantized | A2 A3 | bfloat16 (M, K) | x (E, K, N)/(E, K, N)ᵀ | — | — | —/float32 (E, N) | x |
    | non-quantized | 950 | bfloat16 (M, K) | x (E, K, N)/(E, K, N)ᵀ | — | — | —/float32/bfloat16 (E, N) | x |
    | non-quantized | A2 A3 950 | float32 (M, K) | x (E, K, N)/(E, K, N)ᵀ | — | — | —/float32 (E, N) | x |
    | A16W8 | A2 A3 950 | float16 (M, K) | int8 (E, K, N)/(E, K, N)ᵀ | x (E, N) | —/x (E, N) | —/float16 (E, N) | x |
    | A16W8 | A2 A3 | bfloat16 (M, K) | int8 (E, K, N)/(E, K, N)ᵀ | x (E, N) | —/x (E, N) | —/float32 (E, N) | x |
    | A16W8 | 950 | bfloat16 (M, K) | int8 (E, K, N)/(E, K, N)ᵀ | x (E, N) | —/x (E, N) | —/float32/bfloat16 (E, N) | x |
    | A16W4 | A2 A3 950 | float16 (M, K) | int4 (E, K, N)/(E, K, N)ᵀ | x (E, N) | —/x (E, N) | —/float16 (E, N) | x |
    | A16W4 | A2 A3 | bfloat16 (M, K) | int4 (E, K, N)/(E, K, N)ᵀ | x (E, N) | —/x (E, N) | —/float32 (E, N) | x |
    | A16W4 | 950 | bfloat16 (M, K) | int4 (E, K, N)/(E, K, N)ᵀ | x (E, N) | —/x (E, N) | —/float32/bfloat16 (E, N) | x |
    | A16W4 per group | A2 A3 | float16 (M, K) | int4 (E, K, N)/(E, K, N)ᵀ | x (E, G, N) | — | —/float16 (E, N) | x |
    | A16W4 per group | A2 A3 | bfloat16 (M, K) | int4 (E, K, N)/(E, K, N)ᵀ | x (E, G, N) | — | —/float32 (E, N) | x |
    | A16W4 per group | 950 | float16 (M, K) | int4 (E, K, N)/(E, K, N)ᵀ | x (E, G, N) | —/x (E, G, N) | —/float16 (E, N) | x |
    | A16W4 per group | 950 | bfloat16 (M, K) | int4 (E, K, N)/(E, K, N)ᵀ | x (E, G, N) | —/x (E, G, N) | —/float32/bfloat16 (E, N) | x |
    | weight FP8 | 950 | float16 (M, K) | fp8/hifloat8 (E, K, N)ᵀ | x (E, N) | — | —/float16 (E, N) | x |
    | weight FP8 | 950 | bfloat16 (M, K) | fp8/hifloat8 (E, K, N)ᵀ | x (E, N) | — | —/float32/bfloat16 (E, N) | x |

    Full quantization: one x, one (E, K, N) weight, one out (M, N), group_type 0,
    split_item 2/3; ``out_dtype`` required. On the 950, A8W8 and FP8/HiF8 also take
    group_type 2 (x (M, K)ᵀ, weight (K, N), out (E, M, N), group_list (E), no bias,
    per_token_scale (E, M)/(E, 1)/(E)). act_type (1 RELU, 2 GELU_TANH, 4 FAST_GELU,
    5 SILU) only for A8W8 with a float32/bfloat16 scale, else 0. uint64/int64 scales
    come from :func:`~aclnn_py.ops._trans_quant_param.trans_quant_param_v2`. A8W4 and A4W4 take no
    transposed weight; A8W4 without offset needs K a multiple of 256 up to 18432 and
    N of 8 (Atlas A2/A3 read its group list as counts unless offset is given); A4W4
    with an ND weight N a multiple of 8, per group K/G even; MX with float4_e2m1 x:
    K even and not 2, N even unless the weight is transposed.

    | scenario | SoC | x | weight | scale | offset | per_token_scale | bias | out | group_list_type |
    |---|---|---|---|---|---|---|---|---|---|
    | A8W8 | A2 A3 | int8 (M, K) | int8 (E, K, N)/(E, K, N)ᵀ | — | — | — | —/int32 (E, N) | int32 | 0/1/2 |
    | A8W8 | 950 | int8 (M, K) | int8 (E, K, N)/(E, K, N)ᵀ | —/uint64/int64 (E, N)/(E, 1)/(E) | — | — | —/int32 (E, N) | int32 | 0/1/2 |
    | A8W8 | A2 A3 | int8 (M, K) | int8 (E, K, N)/(E, K, N)ᵀ | uint64/int64 (E, N) | — | — | —/int32 (E, N) | int8 | 0/1/2 |
    | A8W8 | 950 | int8 (M, K) | int8 (E, K, N)/(E, K, N)ᵀ | uint64/int64 (E, N) | — | — | —/int32 (E, N) | int8 | 0/1/2 |
    | A8W8 | A2 A3 | int8 (M, K) | int8 (E, K, N)/(E, K, N)ᵀ | bfloat16 (E, N) | — | —/float32 (M) | —/int32 (E, N) | bfloat16 | 0/1/2 |
    | A8W8 | A2 A3 | int8 (M, K) | int8 (E, K, N)/(E, K, N)ᵀ | float32 (E, N) | — | —/float32 (M) | —/int32 (E, N) | float16 | 0/1/2 |
    | A8W8 | 950 | int8 (M, K) | int8 (E, K, N)/(E, K, N)ᵀ | bfloat16/float32 (E, N)/(E, 1)/(E) | — | —/float32 (M)/(E)/(E, 1) | —/int32/bfloat16/float32 (E, N) | bfloat16 | 0/1/2 |
    | A8W8 | 950 | int8 (M, K) | int8 (E, K, N)/(E, K, N)ᵀ | float32 (E, N)/(E, 1)/(E) | — | —/float32 (M)/(E)/(E, 1) | —/int32/float16/float32 (E, N) | float16 | 0/1/2 |
    | A8W8 | 950 | int8 (M, K) | int8 (E, K, N)/(E, K, N)ᵀ | uint64/int64 (E, N)/(E, 1)/(E) | — | — | —/int32 (E, N) | bfloat16/float16 | 0/1/2 |
    | A8W4 | A2 A3 950 | int8 (M, K) | int4 (E, K, N) | uint64/int64 (E, K/256, N) | — | float32 (M) | float32 (E, N) | bfloat16/float16 | 1 |
    | A8W4 | A2 A3 950 | int8 (M, K) | int4 (E, K, N) | uint64/int64 (E, 1, N) | float32 (E, 1, N) | float32 (M) | float32 (E, N) | float16 | 1 |
    | A4W4 | A2 A3 950 | int4 (M, K) | int4 (E, K, N) | uint64/int64 (E, N)/(E, G, N) | — | —/float32 (M) | — | float16/bfloat16 | 0/1/2 |
    | FP8/HiF8 | 950 | fp8/hifloat8 (M, K) | fp8/hifloat8 (E, K, N)/(E, K, N)ᵀ | uint64/int64/float32 (E, N)/(E, 1)/(E) | — | —/float32 (M)/(E)/(E, 1) | — | float16/bfloat16/float32 | 0/1/2 |
    | MX | 950 | fp8/hifloat8 (M, K) | fp8/hifloat8/float4_e2m1 (E, K, N) | float8_e8m0 (E, ceil(K/64), N, 2) | — | float8_e8m0 (M, ceil(K/64), 2) | — | float16/bfloat16/float32 | 0/1/2 |
    | MX | 950 | fp8/hifloat8 (M, K) | fp8/hifloat8/float4_e2m1 (E, K, N)ᵀ | float8_e8m0 (E, N, ceil(K/64), 2) | — | float8_e8m0 (M, ceil(K/64), 2) | — | float16/bfloat16/float32 | 0/1/2 |
    | MX | 950 | float4_e2m1 (M, K) | fp8/hifloat8/float4_e2m1 (E, K, N) | float8_e8m0 (E, ceil(K/64), N, 2) | — | float8_e8m0 (M, ceil(K/64), 2) | —/float32 (E, N) | float16/bfloat16/float32 | 0/1/2 |
    | MX | 950 | float4_e2m1 (M, K) | fp8/hifloat8/float4_e2m1 (E, K, N)ᵀ | float8_e8m0 (E, N, ceil(K/64), 2) | — | float8_e8m0 (M, ceil(K/64), 2) | —/float32 (E, N) | float16/bfloat16/float32 | 0/1/2 |
    | per-group/per-block | 950 | fp8/hifloat8 (M, K) | fp8/hifloat8 (E, K, N) | float32 (E, ceil(K/128), ceil(N/128)) | — | float32 (M, ceil(K/128)) | — | float16/bfloat16/float32 | 0/1/2 |
    | per-group/per-block | 950 | fp8/hifloat8 (M, K) | fp8/hifloat8 (E, K, N)ᵀ | float32 (E, ceil(N/128), ceil(K/128)) | — | float32 (M, ceil(K/128)) | — | float16/bfloat16/float32 | 0/1/2 |
    """
    return _run(GroupedMatmulV5Plan, dict(locals()))


@GroupedMatmulWeightNzPlan.arguments_of
def grouped_matmul_weight_nz(x, weight, *, stream: Stream, bias=None, scale=None, offset=None, antiquant_scale=None,
                             antiquant_offset=None, per_token_scale=None, group_list=None, split_item: int = 0,
                             group_type: int = -1, group_list_type: int = 0, act_type: int = 0,
                             tuning_config: Sequence[int] | None = None, quant_group_size: int = 0, out=None,
                             out_dtype=None) -> list[Tensor]:
    """Queue aclnnGroupedMatmulWeightNz on ``stream`` and return the outputs.

    :func:`grouped_matmul_v5`'s arguments and tables with the weight read as FRACTAL_NZ data:
    pass FRACTAL_NZ Tensors (:func:`~aclnn_py.ops._trans_matmul_weight.trans_matmul_weight`), or
    the logical host arrays ((K, N) / (E, K, N)), which are copied to new FRACTAL_NZ tensors (a
    Tensor in another format is read as the NZ layout of its view, as CANN reads it). The
    combinations an NZ weight takes (x / weight -> out): int8 / int8 -> float16, bfloat16, int32;
    int8 / int4 and int4 / int4 -> float16, bfloat16; float16 and bfloat16 non-quantized; on the
    Ascend 950 also float8_e4m3fn and float4_e2m1 MX. No K grouping (group_type 2), no
    weight-only quantization but the 950's. ``quant_group_size``: 0, or on the Ascend 950 for
    INT8 x with an INT4 weight and a uint64 scale (S8S4) 256 without ``offset`` (0 with one).
    """
    return _run(GroupedMatmulWeightNzPlan, dict(locals()))
