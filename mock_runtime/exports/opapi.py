"""libopapi.so: the aclnn operators, each a GetWorkspaceSize / execute pair.

Phase 1 converts the C arguments to :class:`~aclnn_py.semantics.descriptors.TensorDesc`
values and asks the operator module (``mock_runtime.ops``) to check them and
prepare an :class:`~mock_runtime.core.objects.Executor`; phase 2 queues the
executor's work on the stream.
"""
from __future__ import annotations

from typing import Any, Callable

from aclnn_py.semantics.descriptors import TensorDesc
from aclnn_py.semantics.quant_matmul_all_reduce import call as quant_matmul_all_reduce_call
from mock_runtime.core import objects, races, tensor_io
from mock_runtime.core import runtime as rt
from mock_runtime.core.errors import C, MockError
from mock_runtime.core.memory import table as memory
from mock_runtime.ops import grouped_matmul, quant_matmul_all_reduce, trans_matmul_weight, trans_quant_param

ffi: Any = None
lib: Any = None
_NULLPTR = C["ACLNN_ERR_PARAM_NULLPTR"]
_INVALID = C["ACLNN_ERR_PARAM_INVALID"]



def _addr(p: Any) -> int:
    return int(ffi.cast("uintptr_t", p))


def _tensor(p: Any, what: str) -> TensorDesc | None:
    return None if p == ffi.NULL else objects.tensors.get(_addr(p), what)


def _tensor_list(p: Any, what: str) -> list[TensorDesc] | None:
    if p == ffi.NULL:
        return None
    members = objects.tensor_lists.get(_addr(p), what)
    return [objects.tensors.get(h, f"{what}[{i}]") if h else None for i, h in enumerate(members)]  # type: ignore[misc]


def _string(p: Any) -> str | None:
    return None if p == ffi.NULL else ffi.string(p).decode("utf-8", "replace")


def _int_array(p: Any, what: str) -> tuple[int, ...] | None:
    return None if p == ffi.NULL else objects.int_arrays.get(_addr(p), what)


def _handle(p: Any) -> int | None:
    return None if p == ffi.NULL else _addr(p)


def _member_handles(p: Any) -> list[int] | None:
    return None if p == ffi.NULL else list(objects.tensor_lists.get(_addr(p), "tensor list"))


def _phase1(prepare: Callable[[], objects.Executor], workspaceSize: Any, executor: Any,
            handles: Callable[[], dict[str, object]]) -> None:
    """Phase 1: prepare the executor; ``handles()`` gives its tensor arguments' aclTensor handles
    by parameter name (lists: their members'), for aclSet*TensorAddr (asked once ``prepare``
    has checked the arguments)."""
    if workspaceSize == ffi.NULL or executor == ffi.NULL:
        raise MockError(_NULLPTR, f"{'workspaceSize' if workspaceSize == ffi.NULL else 'executor'} output pointer is NULL")
    ex = prepare()
    ex.handles = handles()
    workspaceSize[0] = ex.workspace_size
    executor[0] = ffi.cast("aclOpExecutor *", objects.executors.add(ex))


def _phase2(op: str, workspace: Any, workspaceSize: int, executor: Any, stream: Any) -> None:
    if executor == ffi.NULL:
        raise MockError(C["ACLNN_ERR_INNER_NULLPTR"], f"{op}: executor is NULL")
    handle = _addr(executor)
    ex = objects.executors.get(handle, "executor")
    if ex.op != op:
        raise MockError(_INVALID, f"{op}: the executor was made by {ex.op}GetWorkspaceSize")
    if ex.used and not ex.repeatable:
        raise MockError(_INVALID, f"{op}: the executor already ran (make it repeatable with aclSetAclOpExecutorRepeatable)")
    if workspaceSize < ex.workspace_size:
        raise MockError(_INVALID, f"{op}: workspaceSize {workspaceSize} is smaller than the {ex.workspace_size} bytes GetWorkspaceSize asked for")
    accesses = []
    if ex.workspace_size:
        if workspace == ffi.NULL:
            raise MockError(_NULLPTR, f"{op}: workspace is NULL but {ex.workspace_size} bytes are needed")
        base = _addr(workspace)
        alloc, _ = memory.locate(base, ex.workspace_size, f"{op}: workspace ({ex.workspace_size} bytes)", _INVALID)
        if alloc.device != ex.device:
            raise MockError(_INVALID, f"{op}: workspace {base:#x} is memory of device {alloc.device}, but the "
                                      f"executor runs on device {ex.device}")
        accesses.append(races.Access(base, base + ex.workspace_size, True, "workspace"))
    target = _launch_stream(op, stream, ex.device)
    params = dict(ex.params)
    # the tensors again: aclSet*TensorAddr may have moved them, memory may have been freed since phase 1
    proofs = tensor_io.prove_params(params, ex.outputs, ex.labels, ex.device)
    accesses += [races.Access(*p.region, p.write, p.what) for p in proofs if p.region is not None]

    def task() -> None:
        with tensor_io.launched(proofs):
            ex.run(params)

    target.submit(op, task, accesses, race_code=C["ACLNN_ERR_RUNTIME_ERROR"])
    ex.used = True
    if not ex.repeatable:
        objects.executors.remove(handle, "executor")


def _launch_stream(op: str, stream: Any, device: int) -> Any:
    """The stream an execute call launches on: a live stream of the executor's device (NULL: the
    current context's default stream); otherwise the launch fails in the runtime: 361001."""
    try:
        target = rt.stream(_addr(stream))
    except MockError as exc:
        raise MockError(C["ACLNN_ERR_RUNTIME_ERROR"], f"{op}: cannot launch on stream: {exc.message}") from None
    if target.device != device:
        raise MockError(C["ACLNN_ERR_RUNTIME_ERROR"], f"{op}: cannot launch on stream: {target.label} belongs to "
                                                      f"device {target.device}, but the executor was made on "
                                                      f"device {device}")
    return target


# -- weight format and scale packing -----------------------------------------
def aclnnCalculateMatmulWeightSize(tensorShape, weightTensorSize):
    _calculate_size(tensorShape, None, weightTensorSize)


def aclnnCalculateMatmulWeightSizeV2(tensorShape, dataType, weightTensorSize):
    _calculate_size(tensorShape, int(dataType), weightTensorSize)


def _calculate_size(tensorShape, dataType, weightTensorSize) -> None:
    if tensorShape == ffi.NULL or weightTensorSize == ffi.NULL:
        raise MockError(_NULLPTR, f"{'tensorShape' if tensorShape == ffi.NULL else 'weightTensorSize'} is NULL")
    weightTensorSize[0] = trans_matmul_weight.calculate_size(_int_array(tensorShape, "tensorShape"), dataType)


def aclnnTransMatmulWeightGetWorkspaceSize(mmWeightRef, workspaceSize, executor):
    if mmWeightRef == ffi.NULL:
        raise MockError(_NULLPTR, "mmWeightRef is NULL")
    _phase1(lambda: trans_matmul_weight.prepare(_addr(mmWeightRef)), workspaceSize, executor,
            lambda: {"mmWeightRef": _addr(mmWeightRef)})


def aclnnTransMatmulWeight(workspace, workspaceSize, executor, stream):
    _phase2("aclnnTransMatmulWeight", workspace, workspaceSize, executor, stream)


def aclnnTransQuantParamV2GetWorkspaceSize(scale, offset, out, workspaceSize, executor):
    _phase1(
        lambda: trans_quant_param.prepare(_tensor(scale, "scale"), _tensor(offset, "offset"), _tensor(out, "out")),
        workspaceSize,
        executor,
        lambda: {"scale": _handle(scale), "offset": _handle(offset), "out": _handle(out)},
    )


def aclnnTransQuantParamV2(workspace, workspaceSize, executor, stream):
    _phase2("aclnnTransQuantParamV2", workspace, workspaceSize, executor, stream)


# -- QuantMatmulAllReduce, V2, V3, V4 ------------------------------------------
def _quant_matmul_all_reduce_phase1(signature: quant_matmul_all_reduce_call.Signature, args: tuple) -> None:
    """Phase 1 of any version: C arguments in header order -> canonical arguments -> prepare."""
    *params, workspaceSize, executor = args
    call: dict[str, Any] = {}
    handles: dict[str, object] = {}
    for name, value in zip(signature.parameters, params):
        key = signature.params[name]
        if key in quant_matmul_all_reduce_call.TENSORS:
            call[key] = _tensor(value, name)
            handles[key] = _handle(value)
        elif key in ("group", "reduce_op"):
            call[key] = _string(value)
        else:
            call[key] = int(value)
    _phase1(lambda: quant_matmul_all_reduce.prepare(signature=signature, **call), workspaceSize, executor,
            lambda: handles)


def aclnnQuantMatmulAllReduceGetWorkspaceSize(*args):
    _quant_matmul_all_reduce_phase1(quant_matmul_all_reduce_call.V1, args)


def aclnnQuantMatmulAllReduce(workspace, workspaceSize, executor, stream):
    _phase2("aclnnQuantMatmulAllReduce", workspace, workspaceSize, executor, stream)


def aclnnQuantMatmulAllReduceV2GetWorkspaceSize(*args):
    _quant_matmul_all_reduce_phase1(quant_matmul_all_reduce_call.V2, args)


def aclnnQuantMatmulAllReduceV2(workspace, workspaceSize, executor, stream):
    _phase2("aclnnQuantMatmulAllReduceV2", workspace, workspaceSize, executor, stream)


def aclnnQuantMatmulAllReduceV3GetWorkspaceSize(*args):
    _quant_matmul_all_reduce_phase1(quant_matmul_all_reduce_call.V3, args)


def aclnnQuantMatmulAllReduceV3(workspace, workspaceSize, executor, stream):
    _phase2("aclnnQuantMatmulAllReduceV3", workspace, workspaceSize, executor, stream)


def aclnnQuantMatmulAllReduceV4GetWorkspaceSize(*args):
    _quant_matmul_all_reduce_phase1(quant_matmul_all_reduce_call.V4, args)


def aclnnQuantMatmulAllReduceV4(workspace, workspaceSize, executor, stream):
    _phase2("aclnnQuantMatmulAllReduceV4", workspace, workspaceSize, executor, stream)


# -- GroupedMatmulV5 ----------------------------------------------------------
def aclnnGroupedMatmulV5GetWorkspaceSize(
    x, weight, biasOptional, scaleOptional, offsetOptional, antiquantScaleOptional, antiquantOffsetOptional,
    perTokenScaleOptional, groupListOptional, activationInputOptional, activationQuantScaleOptional,
    activationQuantOffsetOptional, splitItem, groupType, groupListType, actType, tuningConfigOptional, out,
    activationFeatureOutOptional, dynQuantScaleOutOptional, workspaceSize, executor,
):
    _phase1(
        lambda: grouped_matmul.prepare(
            x=_tensor_list(x, "x"),
            weight=_tensor_list(weight, "weight"),
            bias=_tensor_list(biasOptional, "biasOptional"),
            scale=_tensor_list(scaleOptional, "scaleOptional"),
            offset=_tensor_list(offsetOptional, "offsetOptional"),
            antiquant_scale=_tensor_list(antiquantScaleOptional, "antiquantScaleOptional"),
            antiquant_offset=_tensor_list(antiquantOffsetOptional, "antiquantOffsetOptional"),
            per_token_scale=_tensor_list(perTokenScaleOptional, "perTokenScaleOptional"),
            group_list=_tensor(groupListOptional, "groupListOptional"),
            activation_input=_tensor_list(activationInputOptional, "activationInputOptional"),
            activation_quant_scale=_tensor_list(activationQuantScaleOptional, "activationQuantScaleOptional"),
            activation_quant_offset=_tensor_list(activationQuantOffsetOptional, "activationQuantOffsetOptional"),
            split_item=int(splitItem),
            group_type=int(groupType),
            group_list_type=int(groupListType),
            act_type=int(actType),
            tuning_config=_int_array(tuningConfigOptional, "tuningConfigOptional"),
            out=_tensor_list(out, "out"),
            activation_feature_out=_tensor_list(activationFeatureOutOptional, "activationFeatureOutOptional"),
            dyn_quant_scale_out=_tensor_list(dynQuantScaleOutOptional, "dynQuantScaleOutOptional"),
        ),
        workspaceSize,
        executor,
        lambda: {
            "x": _member_handles(x), "weight": _member_handles(weight), "bias": _member_handles(biasOptional),
            "scale": _member_handles(scaleOptional), "offset": _member_handles(offsetOptional),
            "antiquant_scale": _member_handles(antiquantScaleOptional),
            "antiquant_offset": _member_handles(antiquantOffsetOptional),
            "per_token_scale": _member_handles(perTokenScaleOptional), "group_list": _handle(groupListOptional),
            "out": _member_handles(out),
        },
    )


def aclnnGroupedMatmulV5(workspace, workspaceSize, executor, stream):
    _phase2("aclnnGroupedMatmulV5", workspace, workspaceSize, executor, stream)
