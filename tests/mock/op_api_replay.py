"""Replay the cases of tests/mock/op_api_cases/ through the mock's C ABI (docs/op-api-replay.md).

:class:`Replayer` makes each case's arguments as a C program would -- raw calls of the
functions the mock exports (``aclnn_py.lib``, the cffi declarations of include/) -- calls the
entry point and releases everything the case made. Where the upstream unit test's stubbed
environment differs from a runtime (docs/op-api-replay.md, "How a case is replayed"): each
tensor with elements gets a device allocation holding its bytes (upstream passes NULL data; the
mock proves memory at GetWorkspaceSize), and the ``group`` string ``"group"`` is replaced by the
name of a 1-rank communicator (upstream's HCCL is a stub). The caller chooses the SoC
(ACLNN_MOCK_SOC) and has device 0 set.
"""
from __future__ import annotations

import json
from pathlib import Path

CASES = Path(__file__).resolve().parent / "op_api_cases"
#: The SoC the mock runs for each upstream SoC (ACLNN_MOCK_SOC): one of the product profile's.
MOCK_SOC = {"Ascend910B": "Ascend910B4", "Ascend910_93": "Ascend910_93", "Ascend950": "Ascend950PR_9599"}
#: The status reported for a case whose arguments the runtime refused to create (aclCreateTensor NULL).
CREATE_REFUSED = -1


class CreateRefused(Exception):
    """aclCreateTensor returned NULL for an argument of the case."""


def load() -> list[dict]:
    """Every case of the data files, each with ``file`` (the data file's stem) added."""
    return [dict(c, file=path.stem) for path in sorted(CASES.glob("*.json"))
            for c in json.loads(path.read_text())["cases"]]


class Replayer:
    """A 1-rank communicator on device 0 and the objects of the case being replayed."""

    def __init__(self) -> None:
        import aclnn_py

        self.ffi, self.lib = aclnn_py.ffi, aclnn_py.lib
        lib, ffi = self.lib, self.ffi
        comm = ffi.new("HcclComm *")
        self._check(lib.HcclCommInitAll(1, ffi.new("int32_t[]", [0]), comm), "HcclCommInitAll")
        self.comm = comm[0]
        name = ffi.new("char[]", 128)
        self._check(lib.HcclGetCommName(self.comm, name), "HcclGetCommName")
        self.group = ffi.string(name)
        self.allocations: list = []
        self.keep: list = []  # cffi buffers alive until the case ends
        self.destroy: list = []  # (function, handle) to release after the case

    @staticmethod
    def _check(status: int, what: str) -> None:
        if status:
            raise RuntimeError(f"{what} returned {status}")

    def close(self) -> None:
        self._check(self.lib.HcclCommDestroy(self.comm), "HcclCommDestroy")

    # ------------------------------------------------------------------ one case
    def run(self, case: dict) -> tuple[int, str]:
        entry = case["entry"]
        function = getattr(self.lib, entry)
        types = self.ffi.typeof(function).args
        executor = None
        try:
            values = [self.argument(value, ctype) for (_, value), ctype in zip(case["args"], types)]
        except CreateRefused as exc:
            self.release()
            return CREATE_REFUSED, str(exc)
        if entry.endswith("GetWorkspaceSize"):
            size, executor = self.ffi.new("uint64_t *"), self.ffi.new("aclOpExecutor **")
            values += [size, executor]
        try:
            status = int(function(*values))
            message = self.ffi.string(self.lib.aclGetRecentErrMsg() or self.ffi.new("char[]", 1)).decode()
        finally:
            if executor is not None and executor[0] != self.ffi.NULL:
                self._check(self.lib.aclDestroyAclOpExecutor(executor[0]), "aclDestroyAclOpExecutor")
            self.release()
        return status, message if status else ""

    def release(self) -> None:
        for destroy, handle in reversed(self.destroy):
            destroy(handle)
        for address in self.allocations:
            self._check(self.lib.aclrtFree(address), "aclrtFree")
        self.destroy, self.allocations, self.keep = [], [], []

    def argument(self, value, ctype):
        """The C value of one argument of the data (see docs/op-api-replay.md, "Schema")."""
        ffi, lib = self.ffi, self.lib
        if value is None:
            return ffi.NULL
        if value == "out":  # a valid output pointer
            buffer = ffi.new(ctype)
            self.keep.append(buffer)
            return buffer
        if isinstance(value, dict) and "shape" in value:
            return self.tensor(value)
        if isinstance(value, list):
            members = [ffi.NULL if t is None else self.tensor(t, owned=False) for t in value]
            array = ffi.new("aclTensor *[]", members or [ffi.NULL])
            handle = lib.aclCreateTensorList(array, len(members))
            self.destroy.append((lib.aclDestroyTensorList, handle))
            return handle
        if isinstance(value, dict) and "int_array" in value:
            ints = ffi.new("int64_t[]", value["int_array"] or [0])
            handle = lib.aclCreateIntArray(ints, len(value["int_array"]))
            self.destroy.append((lib.aclDestroyIntArray, handle))
            return handle
        if isinstance(value, str) and ctype.kind == "pointer":  # char *: the group names the communicator
            text = self.group if ctype.item.cname == "char" and value == "group" else value.encode()
            buffer = ffi.new("char[]", text)
            self.keep.append(buffer)
            return buffer
        if isinstance(value, str):
            return getattr(lib, value)  # an enum constant (aclDataType)
        return value

    def tensor(self, spec: dict, owned: bool = True):
        """aclCreateTensor as the upstream test calls it (NULL strides unless given, storage dims = view
        dims unless given), with a device allocation holding the tensor's bytes when it has any."""
        ffi, lib = self.ffi, self.lib
        shape = spec["shape"]
        storage = spec.get("storage_shape") or shape
        strides = spec.get("strides")
        dtype, fmt = self.constant(spec["dtype"]), self.constant(spec["format"])
        data = self.allocate(shape, storage, strides, spec.get("offset", 0), dtype, fmt)
        dims, storage_dims = ffi.new("int64_t[]", shape or [0]), ffi.new("int64_t[]", storage or [0])
        stride_arg = ffi.new("int64_t[]", strides) if strides else ffi.NULL
        self.keep += [dims, storage_dims, stride_arg]
        handle = lib.aclCreateTensor(dims, len(shape), dtype, stride_arg, spec.get("offset", 0), fmt, storage_dims,
                                     len(storage), data)
        if handle == ffi.NULL:
            raise CreateRefused(f"aclCreateTensor returned NULL for {spec}: "
                                f"{ffi.string(lib.aclGetRecentErrMsg()).decode()}")
        if owned:
            self.destroy.append((lib.aclDestroyTensor, handle))
        return handle

    def constant(self, name) -> int:
        return int(getattr(self.lib, name))

    def allocate(self, shape, storage, strides, offset, dtype, fmt):
        """A device allocation covering the tensor's bytes (NULL when it has none or no layout)."""
        from aclnn_py.semantics import dtypes, layout
        from aclnn_py.semantics.descriptors import TensorDesc, contiguous_strides

        try:
            desc = TensorDesc(tuple(shape), dtype, tuple(strides or contiguous_strides(tuple(shape))), offset, fmt,
                              tuple(storage))
            start, nbytes = layout.byte_span(desc)
            storage_bytes = dtypes.nbytes(max(1, _product(storage)), dtype)
        except (ValueError, KeyError, layout.LayoutError):
            return self.ffi.NULL
        size = max(start + nbytes, storage_bytes)
        if nbytes == 0 or start < 0 or size <= 0:
            return self.ffi.NULL
        out = self.ffi.new("void **")
        self._check(self.lib.aclrtMalloc(out, size, self.lib.ACL_MEM_MALLOC_HUGE_FIRST), "aclrtMalloc")
        self.allocations.append(out[0])
        return out[0]


def _product(dims) -> int:
    n = 1
    for d in dims:
        n *= d
    return n
