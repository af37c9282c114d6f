"""The loopback TCP listener through which ranks of other processes reach the hubs of this one.

Before its token is checked, a connection is held to fixed bounds: it is served by the
listener's one thread (a selector, no thread of its own), has one deadline for its whole join
request (ACLNN_MOCK_HCCL_HANDSHAKE_TIMEOUT, counted from its accept), may send at most
:data:`~mock_runtime.hccl.wire.JOIN_MAX` bytes of fixed binary fields (no JSON), and at most
:data:`MAX_PENDING` such connections wait at once (a new one pushes out the oldest). Whatever
an unauthenticated peer sends, the listener prints nothing. A connection that presents a live
communicator's id and token becomes a :class:`_Session`: one thread per joined rank, relaying
its frames to the hub.
"""
from __future__ import annotations

import errno
import hmac
import os
import selectors
import socket
import threading
import time
from typing import Any

import numpy as np

from mock_runtime.core import reentry
from mock_runtime.core.errors import C
from mock_runtime.hccl.config import handshake_timeout
from mock_runtime.hccl.hub import Hub, find_hub
from mock_runtime.hccl.names import Error
from mock_runtime.hccl.reduce import Gathered
from mock_runtime.hccl.wire import (JOIN_FIXED, JOIN_MAGIC, JOIN_MAX, LOOPBACK, JoinRequest, dtype_desc, frame_array,
                                    frame_start, frames, join_length, parse_join, send_frame, slot_key)

#: Unauthenticated connections waiting at once for their join request, per listener.
MAX_PENDING = 64
_ACCEPTS_PER_ROUND = 16  # then the waiting connections are read, so a flood of accepts cannot starve them
_OUT_OF_DESCRIPTORS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
_CLOSED = {errno.EBADF, errno.EINVAL, errno.ENOTSOCK}  # the listening socket itself is gone


class _Pending:
    """An accepted connection that has not yet delivered its whole join request: it is read up
    to its magic, then up to its fixed fields, then to its end, each part checked on arrival."""

    __slots__ = ("deadline", "buf", "got", "need")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.buf = bytearray(JOIN_MAX)
        self.got = 0
        self.need = len(JOIN_MAGIC)

    def next_part(self) -> bool:
        """Check the part just read and set how much more to read; False when the request is whole."""
        if self.got == len(JOIN_MAGIC) and self.need == len(JOIN_MAGIC):
            if self.buf[:self.got] != JOIN_MAGIC:
                raise ValueError("not a mock-HCCL join request")
            self.need = JOIN_FIXED
        elif self.got == JOIN_FIXED and self.need == JOIN_FIXED:
            self.need = join_length(bytes(self.buf[:JOIN_FIXED]))
        return self.got < self.need


class Server:
    """A TCP listener on 127.0.0.1 serving the hubs of this process to other processes."""

    def __init__(self, port: int = 0) -> None:
        self.handshake_timeout = handshake_timeout()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((LOOPBACK, port))
            sock.listen(256)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self.sock = sock
        self.port = sock.getsockname()[1]
        self._selector = selectors.DefaultSelector()
        self._selector.register(sock, selectors.EVENT_READ)
        self._pending: dict[socket.socket, _Pending] = {}  # oldest first: deadlines in accept order
        threading.Thread(target=self._run, name=f"mock-hccl-listener-{self.port}", daemon=True).start()

    def _run(self) -> None:
        while True:
            oldest = next(iter(self._pending.values()), None)
            wait = None if oldest is None else max(0.0, oldest.deadline - time.monotonic())
            try:
                events = self._selector.select(wait)
            except OSError:
                return
            for key, _ in events:
                if key.fileobj is self.sock:
                    if not self._accept():
                        return
                else:
                    self._read(key.fileobj)
            now = time.monotonic()
            for conn in [c for c, p in self._pending.items() if p.deadline <= now]:
                self._drop(conn)

    def _accept(self) -> bool:
        """Accept what is waiting (a bounded batch); False once the listener is closed."""
        for _ in range(_ACCEPTS_PER_ROUND):
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return True
            except OSError as exc:
                if exc.errno in _OUT_OF_DESCRIPTORS:  # the pending ones go first: they hold descriptors
                    if self._pending:
                        self._drop(next(iter(self._pending)))
                    else:
                        time.sleep(0.01)
                    return True
                return exc.errno not in _CLOSED  # a peer that gave up before its accept, say: go on
            if len(self._pending) >= MAX_PENDING:
                self._drop(next(iter(self._pending)))
            conn.setblocking(False)
            self._pending[conn] = _Pending(time.monotonic() + self.handshake_timeout)
            self._selector.register(conn, selectors.EVENT_READ)
            self._read(conn)  # a rank's request has usually arrived with its connection
        return True

    def _read(self, conn: socket.socket) -> None:
        """Read what ``conn`` sent of its join request; admit it once whole, drop it if wrong."""
        pending = self._pending.get(conn)
        if pending is None:
            return
        try:
            while True:
                n = conn.recv_into(memoryview(pending.buf)[pending.got:pending.need])
                if n == 0:
                    raise ConnectionError("closed before its join request")
                pending.got += n
                if pending.got == pending.need and not pending.next_part():
                    break
            request = parse_join(bytes(pending.buf[:pending.need]))
        except BlockingIOError:
            return
        except (OSError, ValueError):  # garbage, or gone: nothing to tell the peer
            self._drop(conn)
            return
        self._forget(conn)
        self._admit(conn, request)

    def _admit(self, conn: socket.socket, request: JoinRequest) -> None:
        """Start the session of a join request with a live communicator's token; refuse others."""
        hub = find_hub(request.comm_id)
        if hub is None:
            return self._refuse(conn, (
                f"the rendezvous at {LOOPBACK}:{self.port} (process {os.getpid()}) knows no communicator "
                f"{request.comm_id.hex()[:16]} (root info stale, or its communicator already ended)"))
        if not hmac.compare_digest(request.token, hub.token):
            return self._refuse(conn, (
                f"the rendezvous at {LOOPBACK}:{self.port} rejected rank {request.rank}: its root info carries "
                f"the wrong token (not the root info HcclGetRootInfo produced, or corrupted)"))
        try:
            conn.setblocking(True)
            threading.Thread(target=_Session(conn, hub, request).run, name="mock-hccl-session", daemon=True).start()
        except (OSError, RuntimeError):  # no thread to be had: the rank sees its connection close
            conn.close()

    @staticmethod
    def _refuse(conn: socket.socket, message: str) -> None:
        """Tell the peer why, if its socket takes the few bytes at once; then close."""
        try:
            conn.send(frame_start({"id": 0, "ok": False, "code": C["HCCL_E_PARA"], "message": message}))
        except OSError:
            pass
        conn.close()

    def _forget(self, conn: socket.socket) -> None:
        del self._pending[conn]
        self._selector.unregister(conn)

    def _drop(self, conn: socket.socket) -> None:
        self._forget(conn)
        conn.close()


class _Session:
    """One joined rank of another process: its join, then its collectives, relayed to ``hub``."""

    def __init__(self, conn: socket.socket, hub: Hub, request: JoinRequest) -> None:
        self.conn, self.hub, self.request = conn, hub, request
        self.send_lock = threading.Lock()
        self.joined = threading.Event()
        self.rejected = threading.Event()

    def reply(self, request_id: int, result: Any, error: Error | None, meta: dict | None = None) -> None:
        header: dict = {"id": request_id, "ok": error is None}
        if error is not None:
            header["code"], header["message"] = error
        payload = None
        if isinstance(result, Gathered):
            result = result.stacked
        if error is None and isinstance(result, np.ndarray):
            header["dtype"], header["shape"] = dtype_desc(result.dtype), list(result.shape)
            payload = result
        elif error is None and meta is not None:
            header.update(meta)
        try:
            send_frame(self.conn, self.send_lock, header, payload)
        except OSError:
            pass  # the reader sees the closed socket and reports the rank

    def notice(self, _result: Any, error: Error) -> None:
        """The communicator failed: tell the rank now, not at its next request (its root may be gone by then)."""
        try:
            send_frame(self.conn, self.send_lock, {"id": 0, "ok": False, "notice": True,
                                                   "code": error[0], "message": error[1]})
        except OSError:
            pass

    def _joined(self, result: Any, error: Error | None) -> None:
        (self.joined if error is None else self.rejected).set()
        self.reply(0, None, error, result)

    def run(self) -> None:
        r, hub = self.request, self.hub
        hub.watch(self.notice)
        with reentry.inside():
            hub.join(r.rank, r.n_ranks, r.name, r.pid, r.device, r.timeout, self._joined)
        left = False
        reason = None
        try:
            for head, body in frames(self.conn):
                if head.get("op") == "leave":
                    left = True
                    with reentry.inside():
                        hub.leave(r.rank)
                    break
                if head.get("op") != "submit":
                    continue
                request_id = int(head["id"])
                payload = frame_array(body, head["dtype"], head["shape"]) if head.get("dtype") else None
                with reentry.inside():
                    hub.submit(r.rank, slot_key(head["seq"]), head["signature"], head["spec"], payload,
                               float(head["timeout"]), lambda res, err, i=request_id: self.reply(i, res, err))
        except OSError:  # reset: as closed
            pass
        except Exception as exc:  # noqa: BLE001 -- a malformed frame ends this rank's session, quietly
            reason = f"sent a malformed frame ({type(exc).__name__})"
        finally:
            hub.unwatch(self.notice)
            if not left and not self.rejected.is_set():
                if reason is None:
                    reason = ("closed its connection to the rendezvous without HcclCommDestroy: its process died "
                              "or exited" if self.joined.is_set() else "lost its connection (its process died?)")
                with reentry.inside():
                    hub.leave(r.rank, reason)
            try:
                self.conn.close()
            except OSError:
                pass


_server: Server | None = None
_rank_table_servers: dict[int, Server] = {}
_server_lock = threading.Lock()


def process_server() -> Server:
    """The listener (on a free port) of the hubs HcclGetRootInfo made in this process."""
    global _server
    with _server_lock:
        if _server is None:
            _server = Server()
        return _server


def serve_port(port: int) -> None:
    """Listen on ``port`` (a rank table's rendezvous) unless this process already does; OSError if taken."""
    with _server_lock:
        if port not in _rank_table_servers:
            _rank_table_servers[port] = Server(port)
