"""The C path of a fuzz case: its tensors, lists and arrays made with aclCreate*, the two phases
called through the raw entry points (aclnn_py.lib), wrong execute calls made on purpose."""
from __future__ import annotations

from typing import Any

import numpy as np

from fuzzing import cases
from fuzzing.cases import Case, TensorSpec
from fuzzing.generic_ops import GENERIC, c_call as generic_c_call, c_values, golden_problems
from fuzzing.memory import OUTPUTS, WILD, Memory, Placed, Rank, message, ptr

def _int_array(memory: Memory, values) -> Any:
    import aclnn_py
    from aclnn_py import ffi

    handle = aclnn_py.lib.aclCreateIntArray(ffi.new("int64_t[]", list(values) or [0]), len(values))
    memory.record.calls.append(["aclCreateIntArray", 0 if handle != ffi.NULL else "NULL",
                                "" if handle != ffi.NULL else message(), "create"])
    return handle


class Handles:
    """The aclTensor / aclTensorList handles of one C call, destroyed by :meth:`destroy`."""

    def __init__(self, memory: Memory) -> None:
        self.memory = memory
        self.tensors: list[Any] = []
        self.created: list[tuple[Any, int]] = []  # every aclTensor made (a list's members too), its elements
        self.lists: list[Any] = []
        self.int_arrays: list[Any] = []

    def tensor(self, placed: Placed, standalone: bool = True) -> Any:
        import aclnn_py
        from aclnn_py import ffi

        spec = placed.spec
        strides = ffi.NULL if spec.strides is None else ffi.new("int64_t[]", list(spec.c_strides()) or [0])
        storage = spec.storage_shape()
        handle = aclnn_py.lib.aclCreateTensor(
            ffi.new("int64_t[]", list(spec.shape) or [0]), len(spec.shape), spec.dtype, strides,
            cases.int64(spec.offset), spec.format, ffi.new("int64_t[]", list(storage) or [0]), len(storage),
            ptr(placed.address))
        failed = handle == ffi.NULL
        self.memory.record.calls.append(["aclCreateTensor", "NULL" if failed else 0, message() if failed else "",
                                         "create"])
        if not failed:
            self.created.append((handle, int(np.prod(spec.shape))))
            if standalone:
                self.tensors.append(handle)
        return handle

    def tensor_list(self, members: list[Any]) -> Any:
        import aclnn_py
        from aclnn_py import ffi

        handle = aclnn_py.lib.aclCreateTensorList(ffi.new("aclTensor *[]", members or [ffi.NULL]), len(members))
        failed = handle == ffi.NULL
        self.memory.record.calls.append(["aclCreateTensorList", "NULL" if failed else 0,
                                         message() if failed else "", "create"])
        if failed:
            for h in members:
                if h != ffi.NULL:
                    self.tensors.append(h)
        else:
            self.lists.append(handle)
        return handle

    def destroy(self) -> None:
        import aclnn_py

        lib = aclnn_py.lib
        for h in self.lists:
            self.memory.call("aclDestroyTensorList", lib.aclDestroyTensorList(h), "cleanup")
        for h in self.tensors:
            self.memory.call("aclDestroyTensor", lib.aclDestroyTensor(h), "cleanup")
        for h in self.int_arrays:
            self.memory.call("aclDestroyIntArray", lib.aclDestroyIntArray(h), "cleanup")


def _c_string(kind: Any, comm_name: str) -> Any:
    from aclnn_py import ffi

    value = {"comm": comm_name.encode(), "null": None, "bogus": b"no_such_group", "empty": b"",
             "bytes": b"\xff\xfe", "long": b"g" * 5000}.get(kind, kind) if isinstance(kind, str) or kind is None \
        else kind
    if value is None:
        return ffi.NULL
    if isinstance(value, str):
        value = value.encode("utf-8", "surrogateescape")
    return ffi.new("char[]", value)


def _comm_name(rank: Rank, size: int) -> str:
    comm = rank.comms.get(size)
    return "no_such_group" if comm is None else comm.name


def run_c(case: Case, rank: Rank, memory: Memory) -> None:
    """Make the call through the raw C entry points; execute it when asked and accepted."""
    import aclnn_py
    from aclnn_py import ffi
    from aclnn_py.semantics.quant_matmul_all_reduce import call as quant_matmul_all_reduce_call

    lib = aclnn_py.lib
    handles = Handles(memory)
    outputs = OUTPUTS[case.op]
    placed: dict[str, Any] = {}
    size = ffi.NULL if case.null_out_pointer == "workspaceSize" else ffi.new("uint64_t *")
    executor = ffi.NULL if case.null_out_pointer == "executor" else ffi.new("aclOpExecutor **")
    keep = []
    try:
        for key, value in case.tensors.items():
            out = key in outputs
            if isinstance(value, TensorSpec):
                placed[key] = handles.tensor(memory.place(key, value, out))
            elif isinstance(value, tuple):
                members = [ffi.NULL if s is None else handles.tensor(memory.place(f"{key}[{i}]", s, out), False)
                           for i, s in enumerate(value)]
                placed[key] = handles.tensor_list(members)
            else:
                placed[key] = ffi.NULL
        if case.op == "quant_matmul_all_reduce":
            sig = {"V1": quant_matmul_all_reduce_call.V1, "V2": quant_matmul_all_reduce_call.V2, "V3": quant_matmul_all_reduce_call.V3, "V4": quant_matmul_all_reduce_call.V4}[case.version]
            args = []
            for parameter in sig.parameters:
                key = sig.params[parameter]
                if key in quant_matmul_all_reduce_call.TENSORS:
                    args.append(placed[key])
                elif key in ("group", "reduce_op"):
                    kind = case.strings[key]
                    text = _c_string(kind, _comm_name(rank, case.ranks)) if key == "group" else _c_string(
                        "sum" if kind == "sum" else kind, "")
                    keep.append(text)
                    args.append(text)
                else:
                    args.append(case.ints[key])
            status = getattr(lib, case.function)(*args, size, executor)
        elif case.op == "grouped_matmul":
            tuning = ffi.NULL
            if "tuning_config" in case.ints:
                tuning = _int_array(memory, case.ints["tuning_config"])
                if tuning != ffi.NULL:
                    handles.int_arrays.append(tuning)
            g = placed
            status = lib.aclnnGroupedMatmulV5GetWorkspaceSize(
                g["x"], g["weight"], g["bias"], g["scale"], g["offset"], g["antiquant_scale"],
                g["antiquant_offset"], g["per_token_scale"], g["group_list"], ffi.NULL, ffi.NULL, ffi.NULL,
                case.ints["split_item"], case.ints["group_type"], case.ints["group_list_type"],
                case.ints["act_type"], tuning, g["out"], ffi.NULL, ffi.NULL, size, executor)
        elif case.op in GENERIC:
            def int_array(values):
                handle = _int_array(memory, values)
                if handle != ffi.NULL:
                    handles.int_arrays.append(handle)
                return handle
            status = generic_c_call(case, placed, int_array, size, executor)
        elif case.op == "trans_weight":
            _weight_size_calls(case, memory)
            status = lib.aclnnTransMatmulWeightGetWorkspaceSize(placed["weight"], size, executor)
        else:
            status = lib.aclnnTransQuantParamV2GetWorkspaceSize(placed["scale"], placed["offset"], placed["out"],
                                                                size, executor)
        memory.call(case.function, status, "op")
        if status == 0 and case.null_out_pointer is None:
            _execute(case, rank, memory, int(size[0]), executor[0], handles.created)
    finally:
        handles.destroy()


def _weight_size_calls(case: Case, memory: Memory) -> None:
    """aclnnCalculateMatmulWeightSize and V2 on the weight's shape and dtype."""
    import aclnn_py
    from aclnn_py import ffi

    lib = aclnn_py.lib
    spec = case.tensors["weight"]
    if not isinstance(spec, TensorSpec):
        return
    shape = _int_array(memory, spec.shape)
    out = ffi.new("uint64_t *")
    memory.call("aclnnCalculateMatmulWeightSize", lib.aclnnCalculateMatmulWeightSize(shape, out), "op")
    memory.call("aclnnCalculateMatmulWeightSizeV2",
                lib.aclnnCalculateMatmulWeightSizeV2(shape, spec.dtype, out), "op")
    if shape != ffi.NULL:
        memory.call("aclDestroyIntArray", lib.aclDestroyIntArray(shape), "cleanup")


def _execute(case: Case, rank: Rank, memory: Memory, size: int, executor: Any,
             tensors: list[tuple[Any, int]]) -> None:
    import aclnn_py

    lib = aclnn_py.lib
    runnable = case.execute and case.ranks != 3 and not (case.op == "quant_matmul_all_reduce" and case.profile == "A3")
    if not runnable:
        memory.call("aclDestroyAclOpExecutor", lib.aclDestroyAclOpExecutor(executor), "cleanup")
        return
    workspace = _workspace(rank, memory, size)
    op = getattr(lib, case.op_name)
    if case.repeat:
        memory.call("aclSetAclOpExecutorRepeatable", lib.aclSetAclOpExecutorRepeatable(executor), "cleanup")
    workspace, size_given = _wrong_launch(case, rank, memory, executor, workspace, size, tensors)
    stream = {"stream_destroyed": rank.dead_stream, "stream_bogus": ptr(0x1234),
              "stream_other_device": rank.foreign_stream.handle}.get(case.launch or "", rank.stream.handle)
    if stream is not rank.stream.handle:
        memory.record.wrong_launch = case.launch
    status = memory.call(case.op_name, op(ptr(workspace), size_given, executor, stream), "exec")
    if status == 0 and case.repeat:
        memory.call(case.op_name, op(ptr(workspace), size_given, executor, stream), "exec")
    synchronized = memory.call("aclrtSynchronizeStream", lib.aclrtSynchronizeStream(rank.stream.handle), "sync")
    if stream is rank.foreign_stream.handle:  # work accepted on it (a bug reported above) must finish too
        lib.aclrtSynchronizeStream(stream)
    if status or case.repeat:  # a refused launch or a repeatable executor: still there, destroyed here
        memory.call("aclDestroyAclOpExecutor", lib.aclDestroyAclOpExecutor(executor), "cleanup")
    memory.record.executed = True
    memory.record.violations += memory.check_untouched(case.op)
    memory.record.output_digest = memory.output_digest()
    if case.op in GENERIC and status == 0 and synchronized == 0 and not case.launch:  # a launch variant may
        memory.record.violations += golden_problems(case, memory, c_values(case))   # re-point a tensor


def _bad_address(kind: str, rank: Rank, memory: Memory, size: int) -> int:
    """An address of ``kind`` for ``size`` bytes that no operator may use (see cases.LAUNCH_VARIANTS)."""
    if kind == "null":
        return 0
    if kind == "wild":
        return WILD[int(memory.rng.integers(len(WILD)))]
    if kind == "other_device":
        return rank.other_device_pool()
    if kind == "host":
        host = np.zeros(max(size, 1), np.uint8)
        memory.hosts.append(host)
        return host.ctypes.data
    address = memory.malloc(max(size - 1, 1) if kind == "short" else max(size, 1))
    if kind == "freed" and address:
        memory.free(address)
    return address


def _wrong_launch(case: Case, rank: Rank, memory: Memory, executor: Any, workspace: int,
                  size: int, tensors: list[tuple[Any, int]]) -> tuple[int, int]:
    """The workspace and size the execute call gets, after the case's launch variant (a re-pointed
    tensor: the ``launch_index``-th aclTensor of the call, cyclically, given with that index; once
    re-pointed at memory it cannot use, the launch must fail)."""
    import aclnn_py

    variant = case.launch or ""
    if variant == "workspace_small_size":
        if size:
            memory.record.wrong_launch = variant
        return workspace, max(size - 1, 0)
    if variant.startswith("workspace_"):
        if size:
            memory.record.wrong_launch = variant
        return _bad_address(variant.removeprefix("workspace_"), rank, memory, size), size
    if variant.startswith("rebind_"):
        kind = variant.removeprefix("rebind_")
        address = _bad_address(kind, rank, memory, 64)
        tensor, elements = tensors[case.launch_index % len(tensors)] if tensors else (ptr(0), 0)
        status = memory.call("aclSetTensorAddr", aclnn_py.lib.aclSetTensorAddr(executor, case.launch_index, tensor,
                                                                                ptr(address)), "rebind")
        if status == 0 and elements and kind != "short":  # a short buffer may still hold a small tensor
            memory.record.wrong_launch = variant
    return workspace, size


def _workspace(rank: Rank, memory: Memory, size: int) -> int:
    import aclnn_py
    from aclnn_py import ffi

    lib = aclnn_py.lib
    if size > rank.workspace_size:
        if rank.workspace:
            memory.call("aclrtFree", lib.aclrtFree(ptr(rank.workspace)), "setup")
            rank.workspace, rank.workspace_size = 0, 0
        out = ffi.new("void **")
        if memory.call("aclrtMalloc", lib.aclrtMalloc(out, size, lib.ACL_MEM_MALLOC_HUGE_FIRST), "setup") == 0:
            rank.workspace, rank.workspace_size = int(ffi.cast("uintptr_t", out[0])), size
    return rank.workspace if size else 0
