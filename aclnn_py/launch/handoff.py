"""The HCCL root-info hand-off of a one-process-per-rank job.

The ranks' environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, or Open MPI's
``OMPI_COMM_WORLD_*`` / MPICH's ``PMI_*``; ``MASTER_ADDR``; the hand-off port),
mpi4py's world communicator under mpirun (:func:`mpi_world`), and otherwise the
small TCP exchange on which rank 0 gives the other ranks its 4108-byte root info
within ``HCCL_CONNECT_TIMEOUT``: :class:`RootInfoServer` serves every connection at
once, each with one deadline for its whole exchange; :func:`fetch_root_info` asks
until rank 0 answers. Each exchange is a challenge-response keyed by
``ACLNN_PY_HANDOFF_SECRET`` in both directions (:mod:`._handshake`): a rank takes a
root info only from a holder of the secret, and rank 0 gives it only to one.
:func:`aclnn_py.hccl.init_from_env` drives it (the :mod:`aclnn_py.hccl`
documentation describes the variables; what is trusted: docs/hccl-security.md).
"""
from __future__ import annotations

import ipaddress
import os
import socket
import threading
import time
import warnings
from typing import Iterable

from ._handshake import HandoffError, ask, serve

__all__ = ["HandoffError", "RootInfoServer", "fetch_root_info", "env_ranks", "mpi_world", "master_addr",
           "handoff_port", "connect_timeout"]

#: Seconds one connection to rank 0 has for its whole exchange (a rank needs milliseconds).
HANDSHAKE_SECONDS = 10.0
#: Connections rank 0 serves at once; a new one beyond pushes out the oldest.
MAX_HANDSHAKES = 32


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


def _secret() -> bytes:
    """The key of the hand-off's MACs: ACLNN_PY_HANDOFF_SECRET (empty when unset: nothing is proven)."""
    return os.environ.get("ACLNN_PY_HANDOFF_SECRET", "").encode()


def _is_loopback(host: str) -> bool:
    """Whether every address ``host`` names is a loopback address."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return False
    return bool(found) and all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in found)


_warned = False
_warned_lock = threading.Lock()


def warn_if_unauthenticated(addr: str) -> None:
    """Warn once per process when the hand-off crosses a network (MASTER_ADDR not a loopback
    address) and no secret authenticates it."""
    global _warned
    if os.environ.get("ACLNN_PY_HANDOFF_SECRET") or _is_loopback(addr):
        return
    with _warned_lock:
        if _warned:
            return
        _warned = True
    warnings.warn(
        f"MASTER_ADDR={addr} is not a loopback address and ACLNN_PY_HANDOFF_SECRET is not set: the HCCL "
        f"root-info hand-off is not authenticated (a process that reaches {addr} first can take the root info, "
        f"or hand a rank its own); give every rank the same secret (docs/hccl-security.md)",
        RuntimeWarning, stacklevel=3)


def _shut(conn: socket.socket) -> None:
    """End a connection another thread is serving (its next read returns at once)."""
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class RootInfoServer:
    """Rank 0: serves the root info on ``addr:port`` until every other rank has it or ``timeout``
    seconds passed. Every connection is served at once on its own thread, with one deadline for
    its whole exchange (:data:`HANDSHAKE_SECONDS`); at most :data:`MAX_HANDSHAKES` at a time (a
    new one pushes out the oldest). A rank counts as served only after it proved it holds the
    secret, and may ask again."""

    def __init__(self, addr: str, port: int, world: int, root_info: bytes, timeout: float) -> None:
        warn_if_unauthenticated(addr)
        self.world, self.root_info, self.deadline = world, root_info, time.monotonic() + timeout
        self.key = _secret()
        self.served: set[int] = set()
        self._lock = threading.Lock()
        self._open: dict[socket.socket, None] = {}  # connections being served, oldest first
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((addr, port))
        except OSError as exc:
            self.sock.close()
            raise RuntimeError(f"rank 0 cannot listen on {addr}:{port} (MASTER_ADDR and the hand-off port) for the "
                               f"HCCL root-info hand-off: {exc.strerror or exc}; choose another port with "
                               f"ACLNN_PY_HANDOFF_PORT") from None
        self.sock.listen(max(64, world))
        self.sock.settimeout(0.2)
        self.thread = threading.Thread(target=self._run, name="aclnn-py-hccl-handoff", daemon=True)
        self.thread.start()

    def _finished(self) -> bool:
        return len(self.served) >= self.world - 1 or time.monotonic() >= self.deadline

    def _run(self) -> None:
        try:
            while not self._finished():
                try:
                    conn, _ = self.sock.accept()
                except socket.timeout:
                    continue
                except OSError:
                    return
                with self._lock:
                    if len(self._open) >= MAX_HANDSHAKES:
                        _shut(self._open.pop(next(iter(self._open))))
                    self._open[conn] = None
                try:
                    threading.Thread(target=self._serve, args=(conn,), name="aclnn-py-hccl-handoff-peer",
                                     daemon=True).start()
                except RuntimeError:  # no thread to be had: this peer asks again
                    self._forget(conn)
                    conn.close()
        finally:
            self.sock.close()
            with self._lock:
                for conn in self._open:
                    _shut(conn)

    def _serve(self, conn: socket.socket) -> None:
        try:
            with conn:
                rank = serve(conn, self.key, self.world, self.root_info,
                             min(self.deadline, time.monotonic() + HANDSHAKE_SECONDS))
            if rank is not None:
                with self._lock:
                    self.served.add(rank)
        except OSError:  # closed, reset, pushed out or too slow: that peer got nothing
            pass
        finally:
            self._forget(conn)

    def _forget(self, conn: socket.socket) -> None:
        with self._lock:
            self._open.pop(conn, None)

    def close(self) -> None:
        self.deadline = 0.0
        self.thread.join(2.0)


def fetch_root_info(addr: str, port: int, rank: int, world: int, timeout: float) -> bytes:
    """Rank ``rank`` > 0: rank 0's root info from ``addr:port``, asked again (a connection that
    breaks, rank 0 not listening yet) until ``timeout`` seconds passed. HandoffError at once when
    the process there fails authentication or rank 0 refuses."""
    warn_if_unauthenticated(addr)
    key, where = _secret(), f"{addr}:{port}"
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while True:
        try:
            with socket.create_connection((addr, port), timeout=max(0.1, min(5.0, deadline - time.monotonic()))) as s:
                return ask(s, key, rank, world, deadline, where)
        except OSError as exc:
            last = exc
        if time.monotonic() >= deadline:
            raise TimeoutError(f"rank {rank}: no root info from rank 0 at MASTER_ADDR:MASTER_PORT = {where} within "
                               f"{timeout:g} s (HCCL_CONNECT_TIMEOUT){f': {last}' if last else ''}")
        time.sleep(0.05)


def handoff_port() -> int:
    """The TCP port of the hand-off: ACLNN_PY_HANDOFF_PORT if set, else MASTER_PORT (default
    29500), plus one under torchrun (TORCHELASTIC_RUN_ID set)."""
    explicit = _env_int(("ACLNN_PY_HANDOFF_PORT",), "hand-off port")
    if explicit:
        return explicit
    master = _env_int(("MASTER_PORT",), "master port") or 29500
    # torchrun's agent already listens on MASTER_PORT with its own store
    return master + 1 if os.environ.get("TORCHELASTIC_RUN_ID") else master
