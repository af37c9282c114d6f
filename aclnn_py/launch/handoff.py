"""The HCCL root-info hand-off of a one-process-per-rank job.

The ranks' environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, or Open MPI's
``OMPI_COMM_WORLD_*`` / MPICH's ``PMI_*``; ``MASTER_ADDR``; the hand-off port),
mpi4py's world communicator under mpirun (:func:`mpi_world`), and otherwise the
small TCP exchange on which rank 0 gives the other ranks its 4108-byte root info: a
hello (magic, rank, world size, SHA-256 of ``ACLNN_PY_HANDOFF_SECRET``)
answered by a status and the root info, within ``HCCL_CONNECT_TIMEOUT``.
:func:`aclnn_py.hccl.init_from_env` drives it (the :mod:`aclnn_py.hccl`
documentation describes the variables).
"""
from __future__ import annotations

import hashlib
import hmac
import os
import socket
import struct
import threading
import time
from typing import Iterable

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


def connect_timeout() -> float:
    """HCCL_CONNECT_TIMEOUT in seconds (default 120): how long the hand-off may take."""
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
    rank = _env_int(("RANK", "OMPI_COMM_WORLD_RANK", "PMI_RANK"), "rank")
    world = _env_int(("WORLD_SIZE", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE"), "world size")
    local = _env_int(("LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID"), "local rank")
    if rank is None or world is None:
        raise RuntimeError("init_from_env needs RANK and WORLD_SIZE (or OMPI_COMM_WORLD_RANK/SIZE): "
                           "start the script with `python -m aclnn_py.launch -n N script.py`, torchrun or mpirun")
    if not 0 <= rank < world:
        raise ValueError(f"rank {rank} is not in [0, WORLD_SIZE={world})")
    return rank, world, rank if local is None else local


def mpi_world():
    """mpi4py's ``COMM_WORLD`` when mpirun started this process and mpi4py is installed, else None."""
    if not any(os.environ.get(v) for v in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK")):
        return None
    try:
        from mpi4py import MPI
    except ImportError:
        return None
    return MPI.COMM_WORLD


def master_addr() -> str:
    """MASTER_ADDR (default 127.0.0.1): where rank 0 serves the hand-off."""
    return os.environ.get("MASTER_ADDR", "127.0.0.1") or "127.0.0.1"


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


class RootInfoServer:
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


def fetch_root_info(addr: str, port: int, rank: int, world: int, timeout: float) -> bytes:
    """Rank ``rank`` > 0: rank 0's root info from ``addr:port``, retried until ``timeout`` seconds passed."""
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
    """The TCP port of the hand-off: ACLNN_PY_HANDOFF_PORT if set, else MASTER_PORT (default
    29500), plus one under torchrun (TORCHELASTIC_RUN_ID set)."""
    explicit = _env_int(("ACLNN_PY_HANDOFF_PORT",), "hand-off port")
    if explicit:
        return explicit
    master = _env_int(("MASTER_PORT",), "master port") or 29500
    # torchrun's agent already listens on MASTER_PORT with its own store
    return master + 1 if os.environ.get("TORCHELASTIC_RUN_ID") else master
