"""HCCL communicators and collectives.

A :class:`Communicator` is one rank of an HCCL communicator. Its
:attr:`~Communicator.name` is the string the MC2 operators take as ``group``
(``aclnn_py.ops.quant_matmul_all_reduce`` accepts the communicator itself).
Collectives are queued on a stream, like every device operation: synchronise
the stream before reading the result. Failed calls raise
:class:`aclnn_py.HcclError` with ``HcclGetErrorString``'s text and the
runtime's recent error message.

Two ways to run ranks
---------------------
**Threads in one process** (as CANN's C samples do): :func:`init_all` creates
every rank at once; then one thread per rank makes its device's context
current, creates a stream and calls the collectives::

    import threading, numpy as np
    from aclnn_py import Runtime, Context, Stream, DeviceBuffer, hccl

    with Runtime():
        comms = hccl.init_all([0, 1, 2, 3])

        def rank_main(comm):
            with Context(comm.device), Stream() as stream, comm:
                buf = DeviceBuffer.from_numpy(np.full(1024, comm.rank, np.float32))
                comm.all_reduce(buf, buf, 1024, np.float32, "sum", stream)
                stream.synchronize()
                print(comm.rank, buf.to_numpy(np.float32)[:4])
                buf.close()

        threads = [threading.Thread(target=rank_main, args=(c,)) for c in comms]
        for t in threads: t.start()
        for t in threads: t.join()

(``examples/hccl_threads.py`` is the complete program.)

**One process per rank**: start the script with the launcher,
``python -m aclnn_py.launch -n 4 script.py`` (or torchrun / mpirun), and
call :func:`init_from_env` in it::

    with Runtime():
        with hccl.init_from_env() as comm:       # device = LOCAL_RANK
            stream = Stream()
            ...

:func:`init_from_env` reads ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``
(torchrun's names; Open MPI's ``OMPI_COMM_WORLD_RANK``,
``OMPI_COMM_WORLD_SIZE`` and ``OMPI_COMM_WORLD_LOCAL_RANK`` are the
fallbacks) and ``MASTER_ADDR`` / ``MASTER_PORT`` (default 127.0.0.1 and
29500). Rank 0 calls ``HcclGetRootInfo`` and hands the 4108 bytes to the
other ranks over a small TCP exchange on MASTER_ADDR:MASTER_PORT; then every
rank calls ``HcclCommInitRootInfo``. Under torchrun (``TORCHELASTIC_RUN_ID``
set), whose agent already listens on MASTER_PORT, the hand-off uses
MASTER_PORT + 1; ``ACLNN_PY_HANDOFF_PORT`` overrides the port in every case.
mpirun sets no MASTER_ADDR/MASTER_PORT: export them for a multi-host job. The hand-off waits at most
``HCCL_CONNECT_TIMEOUT`` seconds (default 120). When
``ACLNN_PY_HANDOFF_SECRET`` is set (the launcher sets a random one), only
processes that know it get the root info.

Data types and operations
-------------------------
``dtype`` is an :class:`HcclDataType` value, or a NumPy /
ml_dtypes dtype (``np.float16`` -> ``HCCL_DATA_TYPE_FP16``,
``ml_dtypes.bfloat16`` -> ``HCCL_DATA_TYPE_BFP16``, ...), or an
:class:`aclnn_py.DataType` (``aclDataType``, converted: the two numberings
differ). ``op`` is ``"sum"``, ``"prod"``, ``"max"``, ``"min"`` or a
:class:`ReduceOp` value. Counts are numbers of ELEMENTS. Buffers are
:class:`aclnn_py.DeviceBuffer` / :class:`aclnn_py.Tensor` objects, device
addresses (``int``) or cffi pointers.
"""
from __future__ import annotations

import enum
import hashlib
import hmac
import os
import socket
import struct
import threading
import time
from typing import Any, Iterable, Sequence

import numpy as np

from .. import arguments
from ..spec import dtypes as _acl_dtypes
from ..spec.dtypes import HcclDataType
from ..spec.headers import load
from .._ffi import ffi
from .._loader import library
from .._resource import Resource
from ..errors import ArgumentError, HcclError

from ..check import check_acl, check_hccl

_K = load().constants

#: ``HcclReduceOp`` as an IntEnum generated from the header.
ReduceOp = enum.IntEnum("ReduceOp", load().enums["HcclReduceOp"])
#: ``HcclResult`` as an IntEnum generated from the header.
Result = enum.IntEnum("Result", load().enums["HcclResult"])

ROOT_INFO_BYTES = _K["HCCL_ROOT_INFO_BYTES"]
COMM_NAME_MAX_LENGTH = _K["COMM_NAME_MAX_LENGTH"]
_OPS = {"sum": ReduceOp.HCCL_REDUCE_SUM, "prod": ReduceOp.HCCL_REDUCE_PROD,
        "max": ReduceOp.HCCL_REDUCE_MAX, "min": ReduceOp.HCCL_REDUCE_MIN}

__all__ = [
    "HcclDataType", "ReduceOp", "Result", "Communicator", "comm_config_init", "hccl_dtype", "reduce_op",
    "init_all", "get_root_info", "init_root_info", "init_cluster_info", "init_from_env",
    "error_string", "config_capability", "ROOT_INFO_BYTES",
]


# -- value conversions -------------------------------------------------------------
def hccl_dtype(dtype: Any) -> HcclDataType:
    """The HcclDataType of ``dtype``: an HcclDataType value, an aclDataType (:class:`aclnn_py.DataType`),
    a canonical dtype name or a NumPy / ml_dtypes dtype."""
    if isinstance(dtype, (int, np.integer)) and not isinstance(dtype, (bool, _acl_dtypes.DataType)):
        try:
            return HcclDataType(int(dtype))
        except ValueError:
            raise ArgumentError("dtype", f"{int(dtype)} is not an HcclDataType value") from None
    return _acl_dtypes.hccl_of(dtype)


def reduce_op(op: Any) -> ReduceOp:
    """The HcclReduceOp of ``'sum'``/``'prod'``/``'max'``/``'min'`` or an int."""
    if isinstance(op, str):
        try:
            return _OPS[op.lower()]
        except KeyError:
            raise ArgumentError("op", f"unknown reduce op {op!r}; expected one of {sorted(_OPS)}") from None
    try:
        return ReduceOp(int(op))
    except (ValueError, TypeError, OverflowError):
        raise ArgumentError("op", f"{op!r} is not an HcclReduceOp") from None


def _count(count: Any) -> int:
    return arguments.integer(count, "count", lo=0, hi=2**64 - 1)


def _pointer(buffer: Any, nbytes: int, what: str) -> Any:
    """A ``void *`` for a DeviceBuffer / Tensor / address / cffi pointer, size-checked when known."""
    from ..memory import DeviceBuffer
    from ..tensor import Tensor

    if isinstance(buffer, Tensor):
        desc = buffer.desc
        base = buffer.buffer
        offset = desc.offset * _acl_dtypes.bits(desc.dtype) // 8 if desc.offset else 0
        if offset + nbytes > base.nbytes:
            raise ArgumentError(what, f"{nbytes} bytes from element offset {desc.offset} exceed the tensor's "
                                      f"buffer of {base.nbytes} bytes")
        return ffi.cast("char *", base.ptr) + offset
    if isinstance(buffer, DeviceBuffer):
        if nbytes > buffer.nbytes:
            raise ArgumentError(what, f"{nbytes} bytes needed but the DeviceBuffer holds {buffer.nbytes}")
        return buffer.ptr
    if isinstance(buffer, (int, np.integer)):
        return ffi.cast("void *", arguments.integer(buffer, what, lo=0, hi=2**64 - 1))
    if isinstance(buffer, ffi.CData):
        return ffi.cast("void *", buffer)
    raise TypeError(f"{what}: expected a DeviceBuffer, Tensor, device address or cffi pointer, got {type(buffer).__name__}")


def _stream_handle(stream: Any) -> Any:
    if stream is None:
        return ffi.NULL
    handle = getattr(stream, "handle", stream)
    return ffi.cast("void *", handle) if isinstance(handle, int) else handle


def _keep(stream: Any, *objects: Any) -> None:
    keep = getattr(stream, "keep", None)
    if keep is not None:
        keep(*objects)


def error_string(code: int) -> str:
    """``HcclGetErrorString``."""
    text = library().HcclGetErrorString(int(code))
    return "" if text == ffi.NULL else ffi.string(text).decode("utf-8", "replace")


def config_capability() -> int:
    """``HcclGetCommConfigCapability``: capability k is supported iff the result is > k."""
    return int(library().HcclGetCommConfigCapability())


# -- HcclCommConfig ---------------------------------------------------------------
_CONFIG_FIELDS = {
    "buffer_size": "hcclBufferSize", "deterministic": "hcclDeterministic", "name": "hcclCommName",
    "udi": "hcclUdi", "op_expansion_mode": "hcclOpExpansionMode", "rdma_traffic_class": "hcclRdmaTrafficClass",
    "rdma_service_level": "hcclRdmaServiceLevel", "world_rank_id": "hcclWorldRankID", "job_id": "hcclJobID",
    "graph_zero_copy": "aclGraphZeroCopyEnable", "exec_timeout": "hcclExecTimeOut", "algo": "hcclAlgo",
    "retry_enable": "hcclRetryEnable", "retry_params": "hcclRetryParams", "buffer_name": "hcclBufferName",
    "qos": "hcclQos", "sym_win_max_mem_size_per_rank": "hcclSymWinMaxMemSizePerRank",
}


def comm_config_init(**fields: Any) -> Any:
    """A new ``HcclCommConfig *`` filled exactly as the header's inline ``HcclCommConfigInit``.

    Keyword arguments then set fields, by C name (``hcclCommName="tp"``) or by
    the short names ``name``, ``exec_timeout``, ``deterministic``,
    ``buffer_size``, ... (strings are encoded as UTF-8 and must leave room
    for the NUL). The memory lives as long as the returned object.
    """
    config = ffi.new("HcclCommConfig *")  # zero-filled, padding included (as the memset)
    header = struct.pack("<QIIQ", ffi.sizeof("HcclCommConfig"), _K["HCCL_COMM_CONFIG_MAGIC_WORD"],
                         _K["HCCL_COMM_CONFIG_VERSION"], 0)
    ffi.memmove(config.reserved, header, len(header))
    config.hcclBufferSize = _K["HCCL_COMM_BUFFSIZE_CONFIG_NOT_SET"]
    config.hcclDeterministic = _K["HCCL_COMM_DETERMINISTIC_CONFIG_NOT_SET"]
    config.hcclOpExpansionMode = _K["HCCL_COMM_DEFAULT_OP_EXPANSION_MODE"]
    config.hcclRdmaTrafficClass = _K["HCCL_COMM_TRAFFIC_CLASS_CONFIG_NOT_SET"]
    config.hcclRdmaServiceLevel = _K["HCCL_COMM_SERVICE_LEVEL_CONFIG_NOT_SET"]
    config.hcclWorldRankID = 0
    config.hcclJobID = 0
    config.aclGraphZeroCopyEnable = 0
    config.hcclExecTimeOut = _K["HCCL_COMM_EXECTIMEOUT_CONFIG_NOT_SET"]
    config.hcclQos = _K["HCCL_COMM_QOS_CONFIG_NOT_SET"]
    config.hcclSymWinMaxMemSizePerRank = _K["HCCL_DEFAULT_SYMMETRIC_MEMORY_STRIDE"]
    for key, value in fields.items():
        attr = _CONFIG_FIELDS.get(key, key)
        if attr not in _CONFIG_FIELDS.values():
            raise TypeError(f"comm_config_init: unknown HcclCommConfig field {key!r}")
        if isinstance(value, (str, bytes)):
            data = arguments.c_string(value, key)
            size = ffi.sizeof(getattr(config, attr))
            if len(data) >= size:
                raise ArgumentError(key, f"{len(data)} bytes do not fit in {attr} (char[{size}]) with the NUL")
            value = data
        try:
            setattr(config, attr, value)
        except OverflowError:
            raise ArgumentError(key, f"{value!r} is out of range for {attr}") from None
    return config


def _config_arg(config: Any) -> Any:
    if config is None:
        return None
    if isinstance(config, dict):
        return comm_config_init(**config)
    return config


# -- the communicator --------------------------------------------------------------
class Communicator(Resource):
    """One rank of an HCCL communicator (an ``HcclComm``); ``close()`` is ``HcclCommDestroy``."""

    _destroy = "HcclCommDestroy"
    _check = staticmethod(check_hccl)

    def __init__(self, handle: Any, device: int | None = None) -> None:
        self._own(handle)
        self.device = device
        self._name: str | None = None
        self._rank: int | None = None
        self._size: int | None = None

    def __repr__(self) -> str:
        if self.closed:
            return "<hccl.Communicator (destroyed)>"
        return f"<hccl.Communicator {self.name!r} rank {self.rank}/{self.size} device {self.device}>"

    def _live(self) -> Any:
        if self.closed:
            raise HcclError(_K["HCCL_E_PARA"], "Communicator", "the communicator was destroyed (close())")
        return self.handle

    @property
    def name(self) -> str:
        """``HcclGetCommName``: the same on every rank; the ``group`` of the MC2 operators."""
        if self._name is None:
            buf = ffi.new("char[]", COMM_NAME_MAX_LENGTH)
            check_hccl(library().HcclGetCommName(self._live(), buf), "HcclGetCommName")
            self._name = ffi.string(buf).decode("utf-8", "replace")
        return self._name

    @property
    def rank(self) -> int:
        """``HcclGetRankId``."""
        if self._rank is None:
            out = ffi.new("uint32_t *")
            check_hccl(library().HcclGetRankId(self._live(), out), "HcclGetRankId")
            self._rank = int(out[0])
        return self._rank

    @property
    def size(self) -> int:
        """``HcclGetRankSize``."""
        if self._size is None:
            out = ffi.new("uint32_t *")
            check_hccl(library().HcclGetRankSize(self._live(), out), "HcclGetRankSize")
            self._size = int(out[0])
        return self._size

    def all_reduce(self, send: Any, recv: Any, count: int, dtype: Any, op: Any = "sum", stream: Any = None) -> None:
        """``HcclAllReduce`` of ``count`` elements (queued on ``stream``; None = default stream)."""
        dt, rop, count = hccl_dtype(dtype), reduce_op(op), _count(count)
        nbytes = count * _acl_dtypes.hccl_bytes(dt)
        status = library().HcclAllReduce(_pointer(send, nbytes, "send"), _pointer(recv, nbytes, "recv"), count,
                                         dt, rop, self._live(), _stream_handle(stream))
        check_hccl(status, "HcclAllReduce")
        _keep(stream, send, recv, self)

    def all_gather(self, send: Any, recv: Any, count: int, dtype: Any, stream: Any = None) -> None:
        """``HcclAllGather``: ``count`` elements from every rank into ``recv`` (``count * size`` elements)."""
        dt, count = hccl_dtype(dtype), _count(count)
        nbytes = count * _acl_dtypes.hccl_bytes(dt)
        status = library().HcclAllGather(_pointer(send, nbytes, "send"), _pointer(recv, nbytes * self.size, "recv"),
                                         count, dt, self._live(), _stream_handle(stream))
        check_hccl(status, "HcclAllGather")
        _keep(stream, send, recv, self)

    def broadcast(self, buf: Any, count: int, dtype: Any, root: int = 0, stream: Any = None) -> None:
        """``HcclBroadcast`` of ``count`` elements from rank ``root``."""
        dt, count = hccl_dtype(dtype), _count(count)
        nbytes = count * _acl_dtypes.hccl_bytes(dt)
        root = arguments.integer(root, "root", lo=0, hi=2**32 - 1)
        status = library().HcclBroadcast(_pointer(buf, nbytes, "buf"), count, dt, root, self._live(),
                                         _stream_handle(stream))
        check_hccl(status, "HcclBroadcast")
        _keep(stream, buf, self)

    def barrier(self, stream: Any = None) -> None:
        """``HcclBarrier`` (queued on ``stream``)."""
        check_hccl(library().HcclBarrier(self._live(), _stream_handle(stream)), "HcclBarrier")
        _keep(stream, self)

    def async_error(self) -> Result:
        """``HcclGetCommAsyncError``: HCCL_SUCCESS, or the error of a failed collective."""
        out = ffi.new("HcclResult *")
        check_hccl(library().HcclGetCommAsyncError(self._live(), out), "HcclGetCommAsyncError")
        try:
            return Result(int(out[0]))
        except ValueError:
            return int(out[0])  # type: ignore[return-value]


# -- constructors ---------------------------------------------------------------
def init_all(devices: Sequence[int]) -> list[Communicator]:
    """``HcclCommInitAll``: one communicator whose rank i is on ``devices[i]``, all in this process.

    CANN's samples call ``aclrtSetDevice`` for every device first; then each
    rank runs on its own thread with a context of ``comm.device``.
    """
    devs = list(arguments.integers(devices, "devices", lo=-(2**31), hi=2**31 - 1))
    arr = ffi.new("int32_t[]", devs)
    out = ffi.new("HcclComm[]", len(devs))
    check_hccl(library().HcclCommInitAll(len(devs), arr, out), "HcclCommInitAll")
    return [Communicator(out[i], devs[i]) for i in range(len(devs))]


def get_root_info() -> bytes:
    """``HcclGetRootInfo`` on the root rank: the 4108 bytes every rank passes to :func:`init_root_info`."""
    info = ffi.new("HcclRootInfo *")
    check_hccl(library().HcclGetRootInfo(info), "HcclGetRootInfo")
    return bytes(ffi.buffer(info))


def _calling_device() -> int | None:
    from ..runtime import current_device

    try:
        return current_device()
    except Exception:
        return None


def init_root_info(n_ranks: int, root_info: bytes, rank: int, config: Any = None) -> Communicator:
    """``HcclCommInitRootInfo`` (``HcclCommInitRootInfoConfig`` with a ``config``); blocks until every rank joined.

    ``config`` is the result of :func:`comm_config_init` or a dict of its keyword arguments.
    The rank's device is the calling thread's current device.
    """
    data = bytes(root_info)
    if len(data) != ROOT_INFO_BYTES:
        raise ArgumentError("root_info", f"must be {ROOT_INFO_BYTES} bytes (from get_root_info()), got {len(data)}")
    info = ffi.new("HcclRootInfo *")
    ffi.memmove(info, data, ROOT_INFO_BYTES)
    out = ffi.new("HcclComm *")
    lib = library()
    cfg = _config_arg(config)
    n_ranks = arguments.integer(n_ranks, "n_ranks", lo=0, hi=2**32 - 1)
    rank = arguments.integer(rank, "rank", lo=0, hi=2**32 - 1)
    if cfg is None:
        check_hccl(lib.HcclCommInitRootInfo(n_ranks, info, rank, out), "HcclCommInitRootInfo")
    else:
        check_hccl(lib.HcclCommInitRootInfoConfig(n_ranks, info, rank, cfg, out), "HcclCommInitRootInfoConfig")
    return Communicator(out[0], _calling_device())


def init_cluster_info(rank_table_path: str | os.PathLike, rank: int, config: Any = None) -> Communicator:
    """``HcclCommInitClusterInfo[Config]`` from a rank table file (CANN's multi-host path)."""
    path = os.fsencode(os.fspath(rank_table_path))
    out = ffi.new("HcclComm *")
    lib = library()
    cfg = _config_arg(config)
    rank = arguments.integer(rank, "rank", lo=0, hi=2**32 - 1)
    if cfg is None:
        check_hccl(lib.HcclCommInitClusterInfo(path, rank, out), "HcclCommInitClusterInfo")
    else:
        check_hccl(lib.HcclCommInitClusterInfoConfig(path, rank, cfg, out), "HcclCommInitClusterInfoConfig")
    return Communicator(out[0], _calling_device())


# -- one process per rank: environment and root-info hand-off -------------------
_HANDOFF_MAGIC = b"APYHCCL1"
_HELLO = struct.Struct("!8sII32s")  # magic, rank, world size, sha256(secret)
_ANSWER = struct.Struct("!8sII")  # magic, status (0 = ok), length of what follows


def _env_int(names: Iterable[str], what: str) -> int | None:
    for name in names:
        raw = os.environ.get(name)
        if raw not in (None, ""):
            try:
                return int(raw)
            except ValueError:
                raise ValueError(f"{name}={raw!r} is not an integer ({what})") from None
    return None


def _connect_timeout() -> float:
    raw = os.environ.get("HCCL_CONNECT_TIMEOUT", "").strip()
    try:
        value = float(raw) if raw else 120.0
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ValueError(f"HCCL_CONNECT_TIMEOUT={raw!r} must be a positive number of seconds")
    return value


def env_ranks() -> tuple[int, int, int]:
    """(rank, world size, local rank) from RANK/WORLD_SIZE/LOCAL_RANK or Open MPI's variables."""
    rank = _env_int(("RANK", "OMPI_COMM_WORLD_RANK"), "rank")
    world = _env_int(("WORLD_SIZE", "OMPI_COMM_WORLD_SIZE"), "world size")
    local = _env_int(("LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK"), "local rank")
    if rank is None or world is None:
        raise RuntimeError("init_from_env needs RANK and WORLD_SIZE (or OMPI_COMM_WORLD_RANK/SIZE): "
                           "start the script with `python -m aclnn_py.launch -n N script.py`, torchrun or mpirun")
    if not 0 <= rank < world:
        raise ValueError(f"rank {rank} is not in [0, WORLD_SIZE={world})")
    return rank, world, rank if local is None else local


def _secret_digest() -> bytes:
    secret = os.environ.get("ACLNN_PY_HANDOFF_SECRET", "")
    return hashlib.sha256(secret.encode()).digest() if secret else bytes(32)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("connection closed during the root-info hand-off")
        data += chunk
    return bytes(data)


class _RootInfoServer:
    """Rank 0: serves the root info to ranks 1..world-1 on MASTER_ADDR:MASTER_PORT, for a bounded time."""

    def __init__(self, addr: str, port: int, world: int, root_info: bytes, timeout: float) -> None:
        self.world, self.root_info, self.deadline = world, root_info, time.monotonic() + timeout
        self.digest = _secret_digest()
        self.served: set[int] = set()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((addr, port))
        except OSError as exc:
            self.sock.close()
            raise RuntimeError(f"rank 0 cannot listen on {addr}:{port} (MASTER_ADDR and the hand-off port) for the "
                               f"HCCL root-info hand-off: {exc.strerror or exc}; choose another port with "
                               f"ACLNN_PY_HANDOFF_PORT") from None
        self.sock.listen(max(16, world))
        self.sock.settimeout(0.2)
        self.thread = threading.Thread(target=self._run, name="aclnn-py-hccl-handoff", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            while len(self.served) < self.world - 1 and time.monotonic() < self.deadline:
                try:
                    conn, _ = self.sock.accept()
                except socket.timeout:
                    continue
                except OSError:
                    return
                with conn:
                    self._answer(conn)
        finally:
            self.sock.close()

    def _answer(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(max(0.5, min(10.0, self.deadline - time.monotonic())))
            magic, rank, world, digest = _HELLO.unpack(_recv_exact(conn, _HELLO.size))
            if magic != _HANDOFF_MAGIC:
                return
            problem = None
            if not hmac.compare_digest(digest, self.digest):
                problem = "wrong ACLNN_PY_HANDOFF_SECRET"
            elif world != self.world:
                problem = f"rank {rank} has WORLD_SIZE={world} but rank 0 has {self.world}"
            elif not 0 < rank < self.world:
                problem = f"rank {rank} is not in [1, {self.world})"
            if problem:
                text = problem.encode()
                conn.sendall(_ANSWER.pack(_HANDOFF_MAGIC, 1, len(text)) + text)
                return
            conn.sendall(_ANSWER.pack(_HANDOFF_MAGIC, 0, len(self.root_info)) + self.root_info)
            self.served.add(rank)
        except (OSError, ConnectionError, struct.error):
            return

    def close(self) -> None:
        self.deadline = 0.0
        self.thread.join(2.0)


def _fetch_root_info(addr: str, port: int, rank: int, world: int, timeout: float) -> bytes:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((addr, port), timeout=max(0.1, min(5.0, deadline - time.monotonic()))) as s:
                s.settimeout(max(0.1, deadline - time.monotonic()))
                s.sendall(_HELLO.pack(_HANDOFF_MAGIC, rank, world, _secret_digest()))
                magic, status, length = _ANSWER.unpack(_recv_exact(s, _ANSWER.size))
                body = _recv_exact(s, length)
            if magic != _HANDOFF_MAGIC:
                raise RuntimeError(f"{addr}:{port} is not rank 0's HCCL root-info hand-off")
            if status:
                raise RuntimeError(f"rank 0 refused the root info to rank {rank}: {body.decode(errors='replace')}")
            return body
        except (OSError, ConnectionError) as exc:
            last = exc
            time.sleep(0.05)
    raise TimeoutError(f"rank {rank}: no root info from rank 0 at MASTER_ADDR:MASTER_PORT = {addr}:{port} within "
                       f"{timeout:g} s (HCCL_CONNECT_TIMEOUT){f': {last}' if last else ''}")


def handoff_port() -> int:
    """The TCP port of the root-info hand-off (see the module documentation)."""
    explicit = _env_int(("ACLNN_PY_HANDOFF_PORT",), "hand-off port")
    if explicit:
        return explicit
    master = _env_int(("MASTER_PORT",), "master port") or 29500
    # torchrun's agent already listens on MASTER_PORT with its own store
    return master + 1 if os.environ.get("TORCHELASTIC_RUN_ID") else master


def init_from_env(device: int | None = None, config: Any = None) -> Communicator:
    """The communicator of a one-process-per-rank job (launcher, torchrun or mpirun environment).

    Makes ``device`` (default: LOCAL_RANK) current on the calling thread
    (``aclrtSetDevice``; ACL must be initialised, e.g. with
    :class:`aclnn_py.Runtime`), hands rank 0's root info to every rank over
    MASTER_ADDR:MASTER_PORT, and returns ``init_root_info(WORLD_SIZE,
    root_info, RANK, config)``.
    """
    rank, world, local = env_ranks()
    device = local if device is None else int(device)
    check_acl(library().aclrtSetDevice(device), "aclrtSetDevice")
    addr = os.environ.get("MASTER_ADDR", "127.0.0.1") or "127.0.0.1"
    port = handoff_port()
    timeout = _connect_timeout()
    server = None
    if rank == 0:
        root_info = get_root_info()
        if world > 1:
            server = _RootInfoServer(addr, port, world, root_info, timeout)
    else:
        root_info = _fetch_root_info(addr, port, rank, world, timeout)
    try:
        comm = init_root_info(world, root_info, rank, config)
    finally:
        if server is not None:
            server.close()
    comm.device = device
    return comm
