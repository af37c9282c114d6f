"""A fuzz case's ranks and memory: each rank's device, streams and workspace; every tensor placed
in its own allocation between guard bytes, with what the allocation held before the call, so
that anything written outside the outputs' elements is found; what each rank saw (its record)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from fuzzing.cases import NZ, TensorSpec
from fuzzing.generic_ops import GENERIC

PAD = 64  # guard bytes before and after a tensor's storage inside its allocation
GUARD = 4096  # the guard allocation made right after each output's allocation
MAX_BYTES = 4 << 20  # larger storages get a small allocation (the call must then be refused)
POOL = 32 << 20  # per device (larger than a workspace): where "other_device" addresses point
WILD = (0x1000, 0xDEADBEEF000, 2**63, 2**64 - 4096)
OUTPUTS = {"quant_matmul_all_reduce": ("output",), "grouped_matmul": ("out",), "trans_weight": ("weight",), "trans_quant": ("out",),
           **{name: op.outputs for name, op in GENERIC.items()}}



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
            aclnn_py.lib.aclrtFree(ptr(self.workspace))
        self.stream.close()
        self.foreign_stream.close()
        self.foreign_device.close()
        self.device.close()


def ptr(address: int) -> Any:
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
    golden: bool = False  # the outputs were compared with the operator's golden (mismatches: violations)

    def as_dict(self) -> dict:
        return {"rank": self.rank, "calls": self.calls, "python": self.python, "executed": self.executed,
                "violations": self.violations, "output_digest": self.output_digest,
                "wrong_launch": self.wrong_launch, "golden": self.golden}


def message() -> str:
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
        self.record.calls.append([function, int(status), message() if status else "", role])
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
        self.call("aclrtMemcpy", lib.aclrtMemcpy(ptr(address), data.nbytes, ffi.cast("void *", data.ctypes.data),
                                                 data.nbytes, lib.ACL_MEMCPY_HOST_TO_DEVICE), "setup")

    def download(self, address: int, size: int) -> np.ndarray | None:
        import aclnn_py
        from aclnn_py import ffi

        lib = aclnn_py.lib
        data = np.empty(size, np.uint8)
        status = lib.aclrtMemcpy(ffi.cast("void *", data.ctypes.data), size, ptr(address), size,
                                 lib.ACL_MEMCPY_DEVICE_TO_HOST)
        return None if self.call("aclrtMemcpy", status, "setup") else data

    def free(self, address: int) -> None:
        import aclnn_py

        self.allocations.remove(address)
        self.call("aclrtFree", aclnn_py.lib.aclrtFree(ptr(address)), "setup")

    def release(self) -> None:
        for address in list(self.allocations):
            self.free(address)

    # -- placing tensors ---------------------------------------------------
    def place(self, label: str, spec: TensorSpec, output: bool) -> Placed:
        """Allocate and fill the memory of ``spec`` as its address kind says."""
        from aclnn_py.semantics import dtypes, layout

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
    def contents(self, p: Placed, now: bool) -> np.ndarray | None:
        """The logical values of a placed tensor: as it was placed, or (``now``) as its allocation
        holds them now. None when it is not in an allocation of ours or no memory holds its layout."""
        from aclnn_py.semantics import layout

        if not p.base or p.original is None:
            return None
        desc = p.spec.desc()
        try:
            layout.check(desc)
            start, nbytes = layout.byte_span(desc)
        except Exception:
            return None
        first = p.address - p.base + start
        if first < 0 or first + nbytes > p.size:
            return None
        raw = self.download(p.base, p.size) if now else p.original
        return None if raw is None else layout.from_bytes(desc, raw[first:first + nbytes])

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
    from aclnn_py.semantics import dtypes, layout, nz

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
    index = element_indices(spec)
    if index is None:
        return None
    bits = dtypes.bits(desc.dtype)
    if bits < 8:
        return np.unique(index * bits // 8)
    size = bits // 8
    return (index[:, None] * size + np.arange(size)).reshape(-1)


def element_indices(spec: TensorSpec) -> np.ndarray | None:
    """The storage element index of every element of an ND view, in row-major order (None: too
    many elements, no type, or an offset no allocation reaches)."""
    desc = spec.desc()
    if desc.numel > 1 << 20 or spec.name is None or abs(desc.offset) > 2**40:
        return None
    index = np.full((), desc.offset, np.int64)
    for d, s in zip(desc.shape, desc.strides):
        index = index[..., None] + np.arange(d, dtype=np.int64) * (s if d > 1 else 0)
    return index.reshape(-1)


def _fill(desc, spec: TensorSpec, raw: np.ndarray, rng: np.random.Generator) -> None:
    """Write finite values (``small``, ``scale``) or the spec's ``values`` into the span bytes ``raw``."""
    from aclnn_py.semantics import codecs, dtypes, layout
    from aclnn_py.semantics.quant_params import trans_quant_param

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
