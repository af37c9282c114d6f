"""Run fuzz cases in this process, one JSON line per case on stdout (see tests/mock/fuzzing/__init__.py).

    python tests/mock/fuzzing/child.py --seed S --soc PROFILE --start I --count N [--verbose]

Before each case a ``{"event": "begin", "index": I}`` line, after it a
``{"event": "case", ...}`` line with what every call returned (the parent's
:mod:`.verdict` judges it); at the end ``{"event": "finalize", ...}`` with
aclFinalize's status under ACLNN_MOCK_STRICT=1 (every buffer, tensor, list,
executor and communicator the cases made must be gone). A crash or a hang is
what the parent sees when neither line comes.

``ACLNN_FUZZ_INJECT=abort@I`` (or ``hang@I``) makes the child abort (hang) at
case I: how tests/mock/test_fuzz.py checks that the parent observes both.

Rank 0 runs on the main thread (device 0); a 2-rank QuantMatmulAllReduce case
that may launch work runs on a second thread (device 1) as well, with the same
memory contents, so the AllReduce completes and both outputs can be compared.
"""
from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import queue
import sys
import threading
import time
import traceback
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from fuzzing import cases  # noqa: E402
from fuzzing.cases import NZ, Case, TensorSpec  # noqa: E402

PAD = 64  # guard bytes before and after a tensor's storage inside its allocation
GUARD = 4096  # the guard allocation made right after each output's allocation
MAX_BYTES = 4 << 20  # larger storages get a small allocation (the call must then be refused)
POOL = 32 << 20  # per device (larger than a workspace): where "other_device" addresses point
WILD = (0x1000, 0xDEADBEEF000, 2**63, 2**64 - 4096)
OUTPUTS = {"qmmar": ("output",), "gmm": ("out",), "trans_weight": ("weight",), "trans_quant": ("out",)}


def _setup_environment(profile: str) -> None:
    os.environ.setdefault("ACLNN_PY_BACKEND", "mock")
    os.environ["ACLNN_MOCK_SOC"] = cases.soc_of(profile)
    os.environ["ACLNN_MOCK_STRICT"] = "1"
    os.environ.setdefault("HCCL_EXEC_TIMEOUT", "10")
    os.environ.setdefault("HCCL_CONNECT_TIMEOUT", "10")
    warnings.filterwarnings("ignore", category=RuntimeWarning)  # NumPy on random bytes: NaN, overflow


# --------------------------------------------------------------------------- one rank

class Rank:
    """A device, its stream and workspace, on the thread that made it."""

    def __init__(self, rank: int, comms: dict[int, Any], pools: dict[int, int]) -> None:
        import aclnn_py

        self.rank = rank
        self.device = aclnn_py.Device(rank)
        self.stream = aclnn_py.Stream()
        with aclnn_py.Stream() as dead:
            self.dead_stream = dead.handle  # a destroyed stream's handle
        self.foreign_device = aclnn_py.Device(2)  # current on this thread until device.use()
        self.foreign_stream = aclnn_py.Stream()  # a stream of another device
        self.device.use()
        self.comms = comms  # size -> this rank's Communicator
        self.pools = pools  # device -> pool address
        self.workspace = 0
        self.workspace_size = 0

    def other_device_pool(self) -> int:
        return self.pools[(self.rank + 1) % len(self.pools)]

    def close(self) -> None:
        import aclnn_py

        if self.workspace:
            aclnn_py.lib.aclrtFree(_ptr(self.workspace))
        self.stream.close()
        self.foreign_stream.close()
        self.foreign_device.close()
        self.device.close()


def _ptr(address: int) -> Any:
    from aclnn_py import ffi

    return ffi.cast("void *", address)


# --------------------------------------------------------------------------- a case's memory

@dataclass
class Placed:
    """Where one tensor of a case lives and what its allocation held before the call."""

    label: str
    spec: TensorSpec
    address: int
    output: bool
    base: int = 0  # the allocation (0: none of ours)
    size: int = 0
    original: np.ndarray | None = None
    guard: tuple[int, np.ndarray] | None = None
    host: np.ndarray | None = None  # keeps host memory alive


@dataclass
class Record:
    """What one rank saw while running a case."""

    rank: int
    calls: list[list] = field(default_factory=list)  # [function, code, message, role]
    python: dict | None = None
    executed: bool = False
    violations: list[str] = field(default_factory=list)
    output_digest: str | None = None
    wrong_launch: str | None = None  # the execute call had to fail: a wrong workspace was given

    def as_dict(self) -> dict:
        return {"rank": self.rank, "calls": self.calls, "python": self.python, "executed": self.executed,
                "violations": self.violations, "output_digest": self.output_digest,
                "wrong_launch": self.wrong_launch}


def _message() -> str:
    import aclnn_py
    from aclnn_py import ffi

    p = aclnn_py.lib.aclGetRecentErrMsg()
    return "" if p == ffi.NULL else ffi.string(p).decode("utf-8", "replace")


class Memory:
    """The allocations and handles of one case on one rank; :meth:`release` frees them all."""

    def __init__(self, rank: Rank, record: Record, rng: np.random.Generator) -> None:
        self.rank, self.record, self.rng = rank, record, rng
        self.allocations: list[int] = []
        self.placed: list[Placed] = []
        self.hosts: list[np.ndarray] = []  # host memory some call points at

    def call(self, function: str, status: int, role: str) -> int:
        self.record.calls.append([function, int(status), _message() if status else "", role])
        return int(status)

    def malloc(self, size: int) -> int:
        import aclnn_py
        from aclnn_py import ffi

        lib = aclnn_py.lib
        out = ffi.new("void **")
        if self.call("aclrtMalloc", lib.aclrtMalloc(out, size, lib.ACL_MEM_MALLOC_HUGE_FIRST), "setup"):
            return 0
        address = int(ffi.cast("uintptr_t", out[0]))
        self.allocations.append(address)
        return address

    def upload(self, address: int, data: np.ndarray) -> None:
        import aclnn_py
        from aclnn_py import ffi

        lib = aclnn_py.lib
        self.call("aclrtMemcpy", lib.aclrtMemcpy(_ptr(address), data.nbytes, ffi.cast("void *", data.ctypes.data),
                                                 data.nbytes, lib.ACL_MEMCPY_HOST_TO_DEVICE), "setup")

    def download(self, address: int, size: int) -> np.ndarray | None:
        import aclnn_py
        from aclnn_py import ffi

        lib = aclnn_py.lib
        data = np.empty(size, np.uint8)
        status = lib.aclrtMemcpy(ffi.cast("void *", data.ctypes.data), size, _ptr(address), size,
                                 lib.ACL_MEMCPY_DEVICE_TO_HOST)
        return None if self.call("aclrtMemcpy", status, "setup") else data

    def free(self, address: int) -> None:
        import aclnn_py

        self.allocations.remove(address)
        self.call("aclrtFree", aclnn_py.lib.aclrtFree(_ptr(address)), "setup")

    def release(self) -> None:
        for address in list(self.allocations):
            self.free(address)

    # -- placing tensors ---------------------------------------------------
    def place(self, label: str, spec: TensorSpec, output: bool) -> Placed:
        """Allocate and fill the memory of ``spec`` as its address kind says."""
        from aclnn_py.spec import dtypes, layout

        desc = spec.desc()
        valid = True
        try:
            layout.check(desc)
            start, nbytes = layout.byte_span(desc)
        except Exception:  # a descriptor no memory can hold: any small allocation will do
            valid, start, nbytes = False, 0, 256
        need = start + nbytes
        if spec.capacity is not None and spec.name is not None:
            need = max(need, dtypes.nbytes(spec.capacity, spec.dtype) + start)
        if need > MAX_BYTES:
            valid, need = False, 4096
        kind = spec.address
        if kind == "null":
            placed = Placed(label, spec, 0, output)
        elif kind == "wild":
            placed = Placed(label, spec, WILD[int(self.rng.integers(len(WILD)))], output)
        elif kind == "other_device":
            placed = Placed(label, spec, self.rank.other_device_pool() + PAD, output)
        elif kind == "host":
            host = self.rng.integers(0, 256, need + 2 * PAD, dtype=np.uint8)
            placed = Placed(label, spec, host.ctypes.data + PAD, output, host=host)
        else:
            shift = 1 if kind == "misaligned" else 0
            size = PAD + need + shift + (PAD if kind != "short" else -1)
            size = max(size, PAD + 1)
            base = self.malloc(size)
            raw = self.rng.integers(0, 256, size, dtype=np.uint8)
            if valid and spec.fill != "random" and nbytes:
                _fill(desc, spec, raw[PAD + shift + start:PAD + shift + start + nbytes], self.rng)
            if base:
                self.upload(base, raw)
            placed = Placed(label, spec, base + PAD + shift if base else 0, output, base, size, raw)
            if kind == "freed" and base:
                self.free(base)
                placed.base, placed.original = 0, None
            elif output and base:
                guard = self.malloc(GUARD)
                if guard:
                    pattern = self.rng.integers(0, 256, GUARD, dtype=np.uint8)
                    self.upload(guard, pattern)
                    placed.guard = (guard, pattern)
        self.placed.append(placed)
        return placed

    # -- after the work ran ------------------------------------------------
    def check_untouched(self, op: str) -> list[str]:
        """Nothing outside the outputs' elements changed: every input allocation, the bytes of each
        output's allocation outside its elements, each output's guard allocation."""
        problems = []
        for p in self.placed:
            if p.base and p.original is not None:
                now = self.download(p.base, p.size)
                if now is None:
                    continue
                allowed = np.zeros(p.size, bool)
                if p.output:
                    offsets = _writable(op, p.spec)
                    if offsets is None:
                        continue
                    inside = offsets + (p.address - p.base)
                    allowed[inside[(inside >= 0) & (inside < p.size)]] = True
                changed = np.flatnonzero((now != p.original) & ~allowed)
                if changed.size:
                    what = "output" if p.output else "input"
                    problems.append(f"{p.label} ({what}): {changed.size} byte(s) outside its elements changed, "
                                    f"first at allocation offset {int(changed[0])} (data at {p.address - p.base})")
            if p.guard is not None:
                guard, pattern = p.guard
                now = self.download(guard, GUARD)
                if now is not None and not np.array_equal(now, pattern):
                    problems.append(f"{p.label}: the guard allocation after its allocation changed")
        return problems

    def output_digest(self, made: list | None = None) -> str:
        """A hash of the element bytes of every output (equal on the ranks of one AllReduce), and
        of the tensors the Python API ``made`` for outputs it was not given."""
        h = hashlib.sha256()
        for tensor in made or ():
            h.update(tensor.to_numpy().tobytes())
        for p in self.placed:
            if p.output and p.base:
                offsets = _writable("", p.spec)
                now = self.download(p.base, p.size)
                if now is not None and offsets is not None:
                    inside = offsets + (p.address - p.base)
                    h.update(now[inside[(inside >= 0) & (inside < p.size)]].tobytes())
        return h.hexdigest()


def _writable(op: str, spec: TensorSpec) -> np.ndarray | None:
    """Byte offsets (from the data address) an operator may write for output ``spec``:
    its elements; for aclnnTransMatmulWeight the whole FRACTAL_NZ weight it writes in place."""
    from aclnn_py.spec import dtypes, layout, nz

    desc = spec.desc()
    if desc.numel == 0:
        return np.empty(0, np.int64)  # nothing to write (an empty aclnnTransMatmulWeight is a no-op)
    if op == "trans_weight":
        try:
            nzd = replace(desc, format=NZ, storage_shape=nz.nz_storage_shape(desc.shape, dtypes.name(desc.dtype)))
            start, nbytes = layout.byte_span(nzd)
        except Exception:
            return None
        return np.arange(start, start + nbytes) if start + nbytes < MAX_BYTES + PAD else None
    if desc.numel > 1 << 20 or spec.name is None or abs(desc.offset) > 2**40:
        return None
    index = np.full((), desc.offset, np.int64)
    for d, s in zip(desc.shape, desc.strides):
        index = index[..., None] + np.arange(d, dtype=np.int64) * (s if d > 1 else 0)
    index = index.reshape(-1)
    bits = dtypes.bits(desc.dtype)
    if bits < 8:
        return np.unique(index * bits // 8)
    size = bits // 8
    return (index[:, None] * size + np.arange(size)).reshape(-1)


def _fill(desc, spec: TensorSpec, raw: np.ndarray, rng: np.random.Generator) -> None:
    """Write finite values (``small``, ``scale``) or the spec's ``values`` into the span bytes ``raw``."""
    from aclnn_py.spec import codecs, dtypes, layout
    from aclnn_py.spec.quant_params import trans_quant_param

    name = spec.name
    shape = desc.shape
    n = desc.numel
    if n > 1 << 20 or name is None:
        return
    if spec.fill == "values":
        values = np.resize(np.asarray(spec.values or (0,), np.int64), n)
        host = values.astype(dtypes.host_dtype(name), copy=False) if name in dtypes.INTEGERS else None
        if host is None:
            return
    elif name in ("uint64", "int64") and spec.fill == "scale":
        packed = trans_quant_param(rng.uniform(0.001, 0.01, n).astype(np.float32))
        host = np.asarray(packed).view(np.uint64).astype(np.dtype(dtypes.host_dtype(name)), copy=False)
    elif name == "float8_e8m0":
        host = codecs.from_float32(2.0 ** rng.integers(-3, 4, n), name)
    elif name in dtypes.INTEGERS or name == "bool":
        lo = 0 if name.startswith("uint") or name == "bool" else -3
        host = codecs.from_float32(rng.integers(lo, 4, n).astype(np.float32), name)
    else:
        lo = 0.5 if spec.fill == "scale" else -2.0
        host = codecs.from_float32(rng.uniform(lo, 2.0 if spec.fill != "scale" else 1.5, n), name)
    try:
        layout.into_bytes(desc, np.asarray(host).reshape(shape), raw)
    except (ValueError, TypeError):
        pass  # a layout the values cannot be stored in: the random bytes stay


# --------------------------------------------------------------------------- the C path

def _int_array(memory: Memory, values) -> Any:
    import aclnn_py
    from aclnn_py import ffi

    handle = aclnn_py.lib.aclCreateIntArray(ffi.new("int64_t[]", list(values) or [0]), len(values))
    memory.record.calls.append(["aclCreateIntArray", 0 if handle != ffi.NULL else "NULL",
                                "" if handle != ffi.NULL else _message(), "create"])
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
            _ptr(placed.address))
        failed = handle == ffi.NULL
        self.memory.record.calls.append(["aclCreateTensor", "NULL" if failed else 0, _message() if failed else "",
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
                                         _message() if failed else "", "create"])
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
    from aclnn_py.spec.quant_matmul_all_reduce import call as qmmar_call

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
        if case.op == "qmmar":
            sig = {"V1": qmmar_call.V1, "V2": qmmar_call.V2, "V3": qmmar_call.V3, "V4": qmmar_call.V4}[case.version]
            args = []
            for parameter in sig.parameters:
                key = sig.params[parameter]
                if key in qmmar_call.TENSORS:
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
        elif case.op == "gmm":
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
    runnable = case.execute and case.ranks != 3 and not (case.op == "qmmar" and case.profile == "A3")
    if not runnable:
        memory.call("aclDestroyAclOpExecutor", lib.aclDestroyAclOpExecutor(executor), "cleanup")
        return
    workspace = _workspace(rank, memory, size)
    op = getattr(lib, case.op_name)
    if case.repeat:
        memory.call("aclSetAclOpExecutorRepeatable", lib.aclSetAclOpExecutorRepeatable(executor), "cleanup")
    workspace, size_given = _wrong_launch(case, rank, memory, executor, workspace, size, tensors)
    stream = {"stream_destroyed": rank.dead_stream, "stream_bogus": _ptr(0x1234),
              "stream_other_device": rank.foreign_stream.handle}.get(case.launch or "", rank.stream.handle)
    if stream is not rank.stream.handle:
        memory.record.wrong_launch = case.launch
    status = memory.call(case.op_name, op(_ptr(workspace), size_given, executor, stream), "exec")
    if status == 0 and case.repeat:
        memory.call(case.op_name, op(_ptr(workspace), size_given, executor, stream), "exec")
    memory.call("aclrtSynchronizeStream", lib.aclrtSynchronizeStream(rank.stream.handle), "sync")
    if stream is rank.foreign_stream.handle:  # work accepted on it (a bug reported above) must finish too
        lib.aclrtSynchronizeStream(stream)
    if status or case.repeat:  # a refused launch or a repeatable executor: still there, destroyed here
        memory.call("aclDestroyAclOpExecutor", lib.aclDestroyAclOpExecutor(executor), "cleanup")
    memory.record.executed = True
    memory.record.violations += memory.check_untouched(case.op)
    memory.record.output_digest = memory.output_digest()


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
        tensor, elements = tensors[case.launch_index % len(tensors)] if tensors else (_ptr(0), 0)
        status = memory.call("aclSetTensorAddr", aclnn_py.lib.aclSetTensorAddr(executor, case.launch_index, tensor,
                                                                                _ptr(address)), "rebind")
        if status == 0 and elements and kind != "short":  # a short buffer may still hold a small tensor
            memory.record.wrong_launch = variant
    return workspace, size


def _workspace(rank: Rank, memory: Memory, size: int) -> int:
    import aclnn_py
    from aclnn_py import ffi

    lib = aclnn_py.lib
    if size > rank.workspace_size:
        if rank.workspace:
            memory.call("aclrtFree", lib.aclrtFree(_ptr(rank.workspace)), "setup")
            rank.workspace, rank.workspace_size = 0, 0
        out = ffi.new("void **")
        if memory.call("aclrtMalloc", lib.aclrtMalloc(out, size, lib.ACL_MEM_MALLOC_HUGE_FIRST), "setup") == 0:
            rank.workspace, rank.workspace_size = int(ffi.cast("uintptr_t", out[0])), size
    return rank.workspace if size else 0


# --------------------------------------------------------------------------- the Python path

def _python_value(spec: TensorSpec | None, placed: Placed | None, host: bool, tensors: list) -> Any:
    """A Tensor over the placed memory (``Tensor.from_pointer``), or a host array with ``host``."""
    from aclnn_py import Tensor
    from aclnn_py.spec import dtypes

    if spec is None:
        return None
    if host and spec.name is not None and 0 <= len(spec.shape) <= 4 and all(0 <= d <= 256 for d in spec.shape):
        try:
            return np.zeros(spec.shape, dtypes.host_dtype(spec.name))
        except Exception:
            pass
    assert placed is not None
    tensor = Tensor.from_pointer(placed.address, spec.shape, spec.dtype, strides=spec.strides, offset=spec.offset,
                                 format=spec.format, storage_shape=spec.storage)
    tensors.append(tensor)
    return tensor


def _odd_array(kind: str, value: Any) -> Any:
    """A host value of ``kind`` (cases.ODD_ARRAYS) shaped like the spec (or the list's first spec)."""
    spec = value[0] if isinstance(value, tuple) and value and value[0] is not None else value
    shape = spec.shape if isinstance(spec, TensorSpec) and all(0 <= d <= 64 for d in spec.shape) \
        and len(spec.shape) <= 4 else (2, 3)
    make = {"complex": lambda: np.ones(shape, np.complex64),
            "object": lambda: np.full(shape, None, object),
            "text": lambda: np.full(shape, "x"),
            "datetime": lambda: np.zeros(shape, "datetime64[s]"),
            "huge_values": lambda: np.full(shape, 1e30, np.float64),
            "fractions": lambda: np.full(shape, 0.5, np.float64),
            "strided": lambda: np.ones(tuple(2 * d for d in shape), np.float32)[tuple(slice(None, None, 2)
                                                                                     for _ in shape)],
            "zero_d": lambda: np.float32(1.5),
            "nan": lambda: np.full(shape, np.nan, np.float32),
            "list": lambda: np.zeros(shape, np.float32).tolist(),
            "nested_lists": lambda: [[1, 2], [3]],
            "empty": lambda: np.zeros((0,), np.float32)}
    array = make[kind]()
    return [array] if isinstance(value, tuple) else array


def run_python(case: Case, rank: Rank, memory: Memory) -> None:
    """Make the call through aclnn_py.ops; synchronise and check the memory when it was queued.
    Only what the Python API raises is its outcome: a failure of the placing or checking code here
    reaches :func:`run_case` as a failure of the fuzzer."""
    outputs = OUTPUTS[case.op]
    made: list = []
    extras = case.python
    host = bool(extras.get("host_arrays"))
    placed: dict[str, Any] = {}
    for key, value in case.tensors.items():
        if isinstance(value, TensorSpec):
            placed[key] = memory.place(key, value, key in outputs)
        elif isinstance(value, tuple):
            placed[key] = [None if s is None else memory.place(f"{key}[{i}]", s, key in outputs)
                           for i, s in enumerate(value)]

    def arg(key: str, as_host: bool = host) -> Any:
        odd_key, odd_kind = extras.get("odd_array", (None, None))
        if key == odd_key:
            return _odd_array(odd_kind, case.tensors[key])
        value = case.tensors.get(key)
        if isinstance(value, tuple):
            return [_python_value(s, p, as_host and key not in outputs, made) for s, p in zip(value, placed[key])]
        return _python_value(value, placed.get(key), as_host and key not in outputs, made)

    try:
        try:
            kwargs = _python_call(case, rank, arg)
            key, value = extras.get("odd_int", (None, None))
            if key in kwargs:
                kwargs[key] = value
            function = kwargs.pop("__function__")
            returned = function(**kwargs)
            made_by_call = _tensors(returned, made) if "out" in kwargs and kwargs["out"] is None else []
            made += made_by_call
        except Exception as exc:  # noqa: BLE001 -- the verdict judges what was raised
            memory.record.python = _exception(exc, "call")
            return
        memory.record.python = {"type": None}
        try:
            rank.stream.synchronize()
        except Exception as exc:  # noqa: BLE001
            memory.record.python = _exception(exc, "synchronize")
        memory.record.executed = True
        memory.record.violations += memory.check_untouched(case.op)
        memory.record.output_digest = memory.output_digest(made_by_call)
    finally:
        try:
            rank.stream.synchronize()
        except Exception:  # noqa: BLE001 -- already reported
            pass
        for tensor in made:
            tensor.close()


def _python_call(case: Case, rank: Rank, arg) -> dict[str, Any]:
    from aclnn_py.ops import grouped_matmul, qmmar, trans

    extras = case.python
    out_given = not extras.get("allocate_out")
    kwargs: dict[str, Any] = {"stream": rank.stream}
    if case.op == "qmmar":
        functions = {"V1": qmmar.quant_matmul_all_reduce, "V2": qmmar.quant_matmul_all_reduce_v2,
                     "V3": qmmar.quant_matmul_all_reduce_v3, "V4": qmmar.quant_matmul_all_reduce_v4}
        scale_name = "x2_scale" if case.version == "V4" else "dequant_scale"
        kwargs.update(__function__=functions[case.version], x1=arg("x1"), x2=arg("x2"), bias=arg("bias"),
                      x3=arg("x3"), comm_turn=case.ints["comm_turn"], stream_mode=case.ints["stream_mode"],
                      reduce_op=case.strings["reduce_op"])
        kwargs[scale_name] = arg("x2_scale")
        if case.version != "V1":
            kwargs["x1_scale" if case.version == "V4" else "pertoken_scale"] = arg("x1_scale")
        if case.version in ("V3", "V4"):
            kwargs.update(comm_quant_scale_1=arg("comm_quant_scale_1"), comm_quant_scale_2=arg("comm_quant_scale_2"))
        if case.version == "V4":
            kwargs.update(group_size=case.ints["group_size"], comm_quant_mode=case.ints["comm_quant_mode"])
            if "x_dtype" in extras:
                kwargs["x_dtype"] = extras["x_dtype"]
        kind = case.strings["group"]
        if "group_value" in extras:
            kwargs["group"] = extras["group_value"]
        elif kind == "comm":
            kwargs["group"] = rank.comms.get(case.ranks, "no_such_group")
        else:
            kwargs["group"] = {"null": None, "bogus": "no_such_group", "empty": "", "bytes": b"\xff\xfe",
                               "long": "g" * 5000}[kind]
        out_key = "output"
    elif case.op == "gmm":
        kwargs.update(__function__=grouped_matmul.grouped_matmul_v5, x=arg("x"), weight=arg("weight"),
                      bias=arg("bias"), scale=arg("scale"), offset=arg("offset"),
                      antiquant_scale=arg("antiquant_scale"), antiquant_offset=arg("antiquant_offset"),
                      per_token_scale=arg("per_token_scale"), group_list=arg("group_list"),
                      split_item=case.ints["split_item"], group_type=case.ints["group_type"],
                      group_list_type=case.ints["group_list_type"], act_type=case.ints["act_type"],
                      tuning_config=case.ints.get("tuning_config"))
        out_key = "out"
    elif case.op == "trans_weight":
        return {"__function__": trans.trans_matmul_weight, "tensor": arg("weight", False), "stream": rank.stream}
    else:
        kwargs.update(__function__=trans.trans_quant_param_v2, scale=arg("scale"), offset=arg("offset"))
        out_key = "out"
    kwargs["out"] = arg(out_key, False) if out_given else None
    if "out_dtype" in extras:
        kwargs["out_dtype"] = extras["out_dtype"]
    elif case.op == "trans_quant":
        spec = case.tensors["out"]
        kwargs["out_dtype"] = spec.dtype if isinstance(spec, TensorSpec) else "uint64"
    return kwargs


def _tensors(returned: Any, known: list) -> list:
    """The Tensors a Python call returned (a Tensor or a list of them) that it made itself."""
    from aclnn_py import Tensor

    found = [returned] if isinstance(returned, Tensor) else list(returned or ())
    return [t for t in found if isinstance(t, Tensor) and not any(t is k for k in known)]


def _exception(exc: BaseException, stage: str) -> dict:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno} in {frames[-1].name}" if frames else ""
    return {"type": type(exc).__name__, "classes": [c.__name__ for c in type(exc).__mro__],
            "code": getattr(exc, "code", None), "function": getattr(exc, "function", None),
            "message": str(getattr(exc, "message", "") or exc), "parameter": getattr(exc, "parameter", None),
            "stage": stage, "where": where}


# --------------------------------------------------------------------------- cases

def needs_peer(case: Case) -> bool:
    """A 2-rank QuantMatmulAllReduce call that may launch work runs on both ranks."""
    return case.op == "qmmar" and case.ranks == 2 and (case.api == "python" or case.execute)


def run_case(case: Case, rank: Rank) -> Record:
    record = Record(rank.rank)
    memory = Memory(rank, record, np.random.default_rng([case.seed, case.index, 7]))
    try:
        (run_python if case.api == "python" else run_c)(case, rank, memory)
    except Exception as exc:  # noqa: BLE001 -- a failure of the harness itself: reported, never hidden
        record.violations.append(f"the fuzzer's own code failed: {type(exc).__name__}: {exc} "
                                 f"({_exception(exc, '')['where']})")
    finally:
        memory.release()
    return record


class Peer(threading.Thread):
    """Rank 1 on its own thread: runs the cases it is given."""

    def __init__(self, comms: dict[int, Any], pools: dict[int, int]) -> None:
        super().__init__(name="fuzz-rank-1", daemon=True)
        self.comms, self.pools = comms, pools
        self.inbox: queue.Queue = queue.Queue()
        self.outbox: queue.Queue = queue.Queue()

    def run(self) -> None:
        rank = Rank(1, self.comms, self.pools)
        self.outbox.put("ready")
        while True:
            case = self.inbox.get()
            if case is None:
                rank.close()
                self.outbox.put("closed")
                return
            self.outbox.put(run_case(case, rank))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--soc", choices=cases.PROFILES, required=True)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--verbose", action="store_true", help="print each case and its record on stderr")
    args = parser.parse_args(argv)
    _setup_environment(args.soc)

    import aclnn_py
    from aclnn_py import ffi, hccl

    lib = aclnn_py.lib
    runtime = aclnn_py.Runtime()
    devices = [aclnn_py.Device(d) for d in range(3)]
    pools = {}
    for d, device in enumerate(devices):
        device.use()
        out = ffi.new("void **")
        status = lib.aclrtMalloc(out, POOL, lib.ACL_MEM_MALLOC_HUGE_FIRST)
        if status:
            raise aclnn_py.AclError(status, "aclrtMalloc")
        pools[d] = int(ffi.cast("uintptr_t", out[0]))
    devices[0].use()
    groups = {size: hccl.init_all(list(range(size))) for size in (1, 2, 3)}
    comms0 = {size: comms[0] for size, comms in groups.items()}
    comms1 = {size: comms[1] for size, comms in groups.items() if size > 1}
    rank0 = Rank(0, comms0, pools)
    peer = Peer(comms1, pools)
    peer.start()
    peer.outbox.get()

    def emit(event: dict) -> None:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()

    fault, _, at = os.environ.get("ACLNN_FUZZ_INJECT", "").partition("@")
    for index in range(args.start, args.start + args.count):
        emit({"event": "begin", "index": index})
        if fault and int(at) == index:
            if fault == "abort":
                os.abort()
            time.sleep(3600)
        case = cases.generate(args.seed, args.soc, index)
        if args.verbose:
            print(case.describe(), file=sys.stderr)
        if needs_peer(case):
            peer.inbox.put(case)
        records = [run_case(case, rank0)]
        if needs_peer(case):
            records.append(peer.outbox.get())
        gc.collect()
        event = {"event": "case", "index": index, "op": case.op, "version": case.version, "api": case.api,
                 "ranks": case.ranks, "launch": case.launch, "records": [r.as_dict() for r in records]}
        if args.verbose:
            print(json.dumps(event, indent=1), file=sys.stderr)
        emit(event)

    peer.inbox.put(None)
    peer.outbox.get()
    rank0.close()
    for comms in groups.values():
        for comm in comms:
            comm.close()
    for d, address in pools.items():
        devices[d].use()
        lib.aclrtFree(ffi.cast("void *", address))
    for device in devices:
        device.close()
    gc.collect()
    try:
        runtime.close()
    except aclnn_py.AclError as exc:
        emit({"event": "finalize", "code": exc.code, "message": exc.message})
    else:
        emit({"event": "finalize", "code": 0, "message": ""})
    return 0


if __name__ == "__main__":
    sys.exit(main())
