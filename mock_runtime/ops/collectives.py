"""HCCL's collectives in the mock: HcclAllReduce and HcclBarrier are checked at the call and
performed when the caller's stream reaches them (see mock_runtime.hccl); the helpers every
collective's checks share (the data-moving calls: :mod:`mock_runtime.ops.transfers`). The data types and reduce operations each call
accepts on the runtime's product are those of :data:`aclnn_py.semantics.hccl.OPERATIONS`
(HCCL_E_NOT_SUPPORT otherwise)."""
from __future__ import annotations

from typing import Callable

import numpy as np

from aclnn_py.semantics import dtypes
from aclnn_py.semantics.hccl import OPERATIONS

from mock_runtime.core import races
from mock_runtime.core import runtime as rt
from mock_runtime.core.errors import C, MockError
from mock_runtime.core.memory import table as memory
from mock_runtime.core.streams import Stream
from mock_runtime.hccl.names import dtype_name, fail, op_name
from mock_runtime.hccl.reduce import Contribution, host_dtype
from mock_runtime.hccl.registry import Communicator, get


def _region(address: int, nbytes: int, what: str) -> np.ndarray:
    """Device bytes proven inside one allocation (HCCL_E_PTR for NULL, else HCCL_E_PARA)."""
    try:
        return memory.region(address, nbytes, what)
    except MockError as exc:
        raise MockError(C["HCCL_E_PTR"] if address == 0 else C["HCCL_E_PARA"], exc.message) from None


def _stream(comm: Communicator, handle: int, what: str) -> Stream:
    """The stream of ``handle``, on the rank's device."""
    try:
        s = rt.stream(handle)
    except MockError as exc:
        raise fail("HCCL_E_PARA" if handle else "HCCL_E_RUNTIME", f"{what}: {exc.message}") from None
    if s.device != comm.device:
        raise fail("HCCL_E_PARA", f"{what}: the stream is on device {s.device} but rank {comm.rank} of communicator {comm.name!r} is on device {comm.device}")
    return s


def _check_dtype(dtype: int, what: str) -> int:
    """Element size of an HcclDataType (HCCL_E_PARA for an unknown one)."""
    try:
        return dtypes.hccl_bytes(dtype)
    except ValueError:
        raise fail("HCCL_E_PARA", f"{what}: dataType {dtype} is not an HcclDataType") from None


def supported(what: str, dtype: int, op: int | None = None) -> int:
    """The element size of ``dtype`` once the product supports ``dtype`` (and ``op``) for ``what``
    (HCCL_E_NOT_SUPPORT otherwise, HCCL_E_PARA for a value no header names)."""
    itemsize = _check_dtype(dtype, what)
    try:
        profile = rt.require().profile
    except MockError as exc:
        raise fail("HCCL_E_RUNTIME", f"{what}: {exc.message}") from None
    operation = OPERATIONS[what]
    problem = operation.dtype_problem(profile, dtype)
    if problem is None and op is not None:
        problem = operation.op_problem(profile, dtype, op)
    if problem is not None:
        raise fail("HCCL_E_NOT_SUPPORT", problem)
    return itemsize


def _launch(stream: Stream, name: str, task: Callable[[], None], buffers: list[tuple[int, int, bool, str]]) -> None:
    """Queue a collective declaring the buffers it reads and writes (a race with another
    stream fails the call with HCCL_E_RUNTIME, see mock_runtime.core.races)."""
    accesses = [races.Access(address, address + nbytes, write, what)
                for address, nbytes, write, what in buffers if nbytes]
    stream.submit(name, task, accesses, race_code=C["HCCL_E_RUNTIME"])


def _task_name(what: str, comm: Communicator) -> str:
    return f"{what} (communicator {comm.name!r}, rank {comm.rank})"


def all_reduce(send: int, recv: int, count: int, dtype: int, op: int, handle: int, stream: int) -> None:
    """HcclAllReduce (numerics and where the result is written: mock_runtime.hccl.reduce)."""
    what = "HcclAllReduce"
    comm = get(handle, f"{what}: comm")
    itemsize = supported(what, dtype, op)
    nbytes = count * itemsize
    if count:
        _region(send, nbytes, f"{what}: sendBuf")
        _region(recv, nbytes, f"{what}: recvBuf")
    s = _stream(comm, stream, what)
    np_dtype = host_dtype(dtype)
    signature = f"{what}(count={count}, dtype={dtype_name(dtype)}, op={op_name(op)})"
    spec = {"kind": "allreduce", "dtype": dtype, "op": op}

    def task() -> None:
        data = memory.region(send, nbytes, "sendBuf").view(np_dtype) if count else np.empty(0, np_dtype)
        sink = memory.region(recv, nbytes, "recvBuf").view(np_dtype) if count else np.empty(0, np_dtype)
        # a rank in the hub's process lets the hub write the result into its recvBuf (None back)
        result = comm.run(signature, spec, data if comm.link.remote else Contribution(data, sink))
        if result is not None:
            sink[...] = result

    _launch(s, _task_name(what, comm), task, [(send, nbytes, False, "sendBuf"), (recv, nbytes, True, "recvBuf")])


def barrier(handle: int, stream: int) -> None:
    """HcclBarrier: returns when every rank's stream reached it."""
    what = "HcclBarrier"
    comm = get(handle, f"{what}: comm")
    s = _stream(comm, stream, what)
    s.submit(_task_name(what, comm), lambda: comm.run(f"{what}()", {"kind": "barrier"}, None))
