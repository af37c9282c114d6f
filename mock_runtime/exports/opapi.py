"""libopapi.so and libcust_opapi.so: the operators of the mock's catalogue, each a GetWorkspaceSize /
execute pair (or a single function), generated from its signature.

Phase 1 converts the C arguments by the kind of each parameter
(:class:`~aclnn_py.semantics.signatures.Kind`: a TensorDesc per aclTensor, a list of them per
aclTensorList, a tuple per host array, ``(dtype, value)`` per aclScalar, str per ``char *``,
numbers), calls the operator's execution (:mod:`mock_runtime.ops`) with them by canonical name
and records the :class:`~mock_runtime.core.objects.Executor` it returns, completed from the
signature: which tensors are inputs and outputs (header order, for aclSet*TensorAddr, unless the
operator names those of its IR), their C names (for messages) and their aclTensor handles. Phase 2 queues the executor's work on the
stream. A single function gets its inputs the same way and writes what its execution returns
through its output pointers.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from aclnn_py.semantics import dtypes
from aclnn_py.semantics.descriptors import TensorDesc
from aclnn_py.semantics.signatures import INTEGERS, Kind, Parameter
from mock_runtime.catalogue import MockOperator
from mock_runtime.core import objects, races, tensor_io
from mock_runtime.core import runtime as rt
from mock_runtime.core.errors import C, MockError
from mock_runtime.core.memory import table as memory

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


def _scalar(p: Any, what: str) -> tuple[int, Any] | None:
    """(aclDataType, value) of an aclScalar (its value a NumPy scalar of the dtype's host type)."""
    if p == ffi.NULL:
        return None
    dtype, raw = objects.scalars.get(_addr(p), what)
    return dtype, np.frombuffer(raw, dtypes.host_dtype(dtype), count=1)[0]


def _scalar_list(p: Any, what: str) -> tuple[tuple[int, Any], ...] | None:
    if p == ffi.NULL:
        return None
    members = objects.scalar_lists.get(_addr(p), what)
    return tuple(_scalar(ffi.cast("aclScalar *", h), f"{what}[{i}]") for i, h in enumerate(members))


def _host_array(table: Any) -> Callable[[Any, str], tuple | None]:
    return lambda p, what: None if p == ffi.NULL else table.get(_addr(p), what)


def _handle(p: Any) -> int | None:
    return None if p == ffi.NULL else _addr(p)


def _member_handles(p: Any) -> list[int] | None:
    return None if p == ffi.NULL else list(objects.tensor_lists.get(_addr(p), "tensor list"))


#: C value -> Python value, by kind (the pointer kinds take the C parameter name for messages).
_READ: dict[Kind, Callable[[Any, str], Any]] = {
    Kind.TENSOR: _tensor,
    Kind.TENSOR_LIST: _tensor_list,
    Kind.SCALAR: _scalar,
    Kind.SCALAR_LIST: _scalar_list,
    Kind.INT_ARRAY: _host_array(objects.int_arrays),
    Kind.FLOAT_ARRAY: _host_array(objects.float_arrays),
    Kind.BOOL_ARRAY: _host_array(objects.bool_arrays),
    Kind.INTEGER: lambda v, _: int(v),
    Kind.FLOAT: lambda v, _: float(v),
    Kind.BOOL: lambda v, _: bool(v),
    Kind.DTYPE: lambda v, _: int(v),
    Kind.STRING: lambda v, _: None if v == ffi.NULL else ffi.string(v).decode("utf-8", "replace"),
    Kind.POINTER: lambda v, _: None if v == ffi.NULL else _addr(v),
}
#: The aclTensor handle(s) of a tensor argument, by kind.
_HANDLES: dict[Kind, Callable[[Any], Any]] = {Kind.TENSOR: _handle, Kind.TENSOR_LIST: _member_handles}


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


# -- the entry points of an operator -----------------------------------------
def _is_out_pointer(p: Parameter) -> bool:
    """An output of a single function: a non-const pointer to one number (``uint64_t *weightTensorSize``),
    or to a pointer the function sets to a new array of numbers (``int64_t **dstShape``)."""
    words = p.c_type.split()
    return p.kind is Kind.POINTER and words[0] != "const" and words[-1] in ("*", "**") \
        and " ".join(words[:-1]) in INTEGERS


def _store(p: Parameter, target: Any, value: Any) -> None:
    """Write one output of a single function: a number, or (``T **``) a new malloc'd array of ``value``'s
    numbers, which the caller frees."""
    if target == ffi.NULL:
        raise MockError(_NULLPTR, f"{p.c_name} is a null pointer")
    if not p.c_type.endswith("**"):
        target[0] = value
        return
    item = p.c_type[: -len("**")].strip()
    array = ffi.cast(f"{item} *", lib.aclnn_mock_op_alloc(len(value) * ffi.sizeof(item)))
    if array == ffi.NULL:
        raise MockError(C["ACLNN_ERR_INNER"], f"{p.c_name}: out of host memory for {len(value)} values")
    for i, v in enumerate(value):
        array[i] = v
    target[0] = array


def _phase1_entry(operator: MockOperator) -> Callable[..., None]:
    params = operator.signature.parameters
    readers = [_READ[p.kind] for p in params]
    tensors = [(i, p) for i, p in enumerate(params) if p.kind in _HANDLES]
    inputs = [p.name for _, p in tensors if p.input]  # the header's order: what aclSet*TensorAddr indices count
    outputs = [p.name for _, p in tensors if p.output]
    in_place = [(i, p) for i, p in tensors if p.input and p.output and p.kind is Kind.TENSOR]
    labels = {p.name: p.c_name for p in params}
    run = operator.implementation.run

    def entry(*args: Any) -> None:
        *c_values, workspaceSize, executor = args

        def prepare() -> objects.Executor:
            values = {p.name: read(v, p.c_name) for p, read, v in zip(params, readers, c_values)}
            ex = run(**values)
            ex.inputs, ex.outputs = ex.inputs or inputs, ex.outputs or outputs  # unless the operator names its IR's
            ex.labels = labels
            for i, p in in_place:  # an in-place tensor the operator relabelled (TransMatmulWeight: NZ)
                if values[p.name] is not None and ex.params.get(p.name) != values[p.name]:
                    objects.tensors.replace(_addr(c_values[i]), ex.params[p.name], p.c_name)
            return ex

        _phase1(prepare, workspaceSize, executor,
                lambda: {p.name: _HANDLES[p.kind](c_values[i]) for i, p in tensors})
    return entry


def _phase2_entry(op: str, null_executor: int | None) -> Callable[..., None]:
    """Phase 2 of ``op``; a NULL executor is ``null_executor`` when the operator has its own status
    for it (:class:`mock_runtime.ops.Implementation`)."""
    def entry(workspace: Any, workspaceSize: Any, executor: Any, stream: Any) -> None:
        if null_executor is not None and executor == ffi.NULL:
            raise MockError(null_executor, f"{op}: executor is NULL")
        _phase2(op, workspace, workspaceSize, executor, stream)
    return entry


def _single_entry(operator: MockOperator) -> Callable[..., None]:
    params = operator.signature.parameters
    outs = [i for i, p in enumerate(params) if _is_out_pointer(p)]
    ins = [i for i in range(len(params)) if i not in outs]
    run = operator.implementation.run

    def entry(*c_values: Any) -> None:
        result = run(**{params[i].name: _READ[params[i].kind](c_values[i], params[i].c_name) for i in ins})
        results = result if len(outs) > 1 else (result,)
        for i in outs:  # every output pointer checked before any is written (no array left behind)
            if c_values[i] == ffi.NULL:
                raise MockError(_NULLPTR, f"{params[i].c_name} is a null pointer")
        for i, value in zip(outs, results):
            _store(params[i], c_values[i], value)
    return entry


def entries(operators: list[MockOperator]) -> dict[str, Callable[..., Any]]:
    """The C entry points of ``operators`` by function name."""
    found: dict[str, Callable[..., Any]] = {}
    for operator in operators:
        if operator.signature.two_phase:
            found[f"{operator.op}GetWorkspaceSize"] = _phase1_entry(operator)
            found[operator.op] = _phase2_entry(operator.op, operator.implementation.null_executor)
        else:
            found[operator.op] = _single_entry(operator)
    return found
