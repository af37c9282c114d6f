"""The mock's HCCL over TCP: frames (length-prefixed JSON header + raw array bytes) and the
loopback server that lets ranks of other processes reach the hubs of this one."""
from __future__ import annotations

import hmac
import json
import os
import socket
import struct
import sys
import threading
from typing import Any

import numpy as np

from mock_runtime.core import reentry
from mock_runtime.core.errors import C
from mock_runtime.hccl.config import DEFAULT_CONNECT_TIMEOUT
from mock_runtime.hccl.hub import find_hub
from mock_runtime.hccl.names import Error
from mock_runtime.hccl.reduce import Gathered

LOOPBACK = "127.0.0.1"
_FRAME = struct.Struct("!4sIQ")
_FRAME_MAGIC = b"MHCL"
_MAX_HEADER = 1 << 20


def send_frame(sock: socket.socket, lock: threading.Lock, header: dict, payload: np.ndarray | None = None) -> None:
    """One frame: ``header`` as JSON, then ``payload``'s bytes (``lock`` keeps frames whole)."""
    head = json.dumps(header).encode()
    body = b"" if payload is None else np.ascontiguousarray(payload).reshape(-1).view(np.uint8)
    with lock:
        sock.sendall(_FRAME.pack(_FRAME_MAGIC, len(head), len(body)) + head)
        if len(body):
            sock.sendall(memoryview(body))


def _recv_exact(sock: socket.socket, n: int) -> bytearray | None:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:], min(n - got, 1 << 22))
        if k == 0:
            return None
        got += k
    return buf


def recv_frame(sock: socket.socket, max_body: int = 1 << 40) -> tuple[dict, bytearray] | None:
    """One frame, or None at end of stream; ValueError for garbage."""
    raw = _recv_exact(sock, _FRAME.size)
    if raw is None:
        return None
    magic, head_len, body_len = _FRAME.unpack(raw)
    if magic != _FRAME_MAGIC or head_len > _MAX_HEADER or body_len > max_body:
        raise ValueError("not a mock-HCCL frame")
    head = _recv_exact(sock, head_len)
    body = _recv_exact(sock, body_len) if body_len else bytearray()
    if head is None or body is None:
        return None
    return json.loads(head.decode()), body


def dtype_desc(dtype: np.dtype) -> list:
    """A JSON-able description of a NumPy dtype (ml_dtypes types by name; an array of one of
    them exists only once ml_dtypes is imported)."""
    extra = getattr(sys.modules.get("ml_dtypes"), dtype.name, None)
    if extra is not None and dtype.kind == "V" and np.dtype(extra) == dtype:
        return ["ml", dtype.name]
    return ["np", dtype.str]


def dtype_of(desc: list) -> np.dtype:
    """The NumPy dtype :func:`dtype_desc` described (ml_dtypes imported for its types)."""
    kind, text = desc
    if kind == "ml":
        import ml_dtypes

        return np.dtype(getattr(ml_dtypes, text))
    return np.dtype(text)


def frame_array(body: bytearray, desc: list, shape: list) -> np.ndarray:
    """A frame's payload as the array its header describes (a view of ``body``)."""
    return np.frombuffer(body, np.uint8).view(dtype_of(desc)).reshape(shape)


class Server:
    """A TCP listener on 127.0.0.1 serving the hubs of this process to other processes."""

    def __init__(self, port: int = 0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((LOOPBACK, port))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, name=f"mock-hccl-server-{self.port}", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), name="mock-hccl-session", daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        send_lock = threading.Lock()
        try:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.settimeout(30.0)
            frame = recv_frame(conn, max_body=0)  # the join request; nothing is trusted before the token
            if frame is None:
                conn.close()
                return
            head, _ = frame
            hub = find_hub(bytes.fromhex(head.get("comm_id", "")))
            if hub is None or head.get("op") != "join":
                send_frame(conn, send_lock, {"id": 0, "ok": False, "code": C["HCCL_E_PARA"], "message":
                      f"the rendezvous at {LOOPBACK}:{self.port} (process {os.getpid()}) knows no communicator "
                      f"{head.get('comm_id', '')[:16]} (root info stale, or its communicator already ended)"})
                conn.close()
                return
            if not hmac.compare_digest(bytes.fromhex(head.get("token", "")), hub.token):
                send_frame(conn, send_lock, {"id": 0, "ok": False, "code": C["HCCL_E_PARA"], "message":
                      f"the rendezvous at {LOOPBACK}:{self.port} rejected rank {head.get('rank')}: its root info "
                      f"carries the wrong token (not the root info HcclGetRootInfo produced, or corrupted)"})
                conn.close()
                return
            rank, n_ranks = int(head["rank"]), int(head["n_ranks"])
            name, pid = str(head.get("name", "")), int(head.get("pid", 0))
            device = int(head.get("device", -1))
            timeout = float(head.get("timeout", DEFAULT_CONNECT_TIMEOUT))
            if not 0 <= rank < n_ranks or not timeout > 0:
                conn.close()
                return
            conn.settimeout(None)
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            conn.close()
            return
        joined = threading.Event()
        rejected = threading.Event()

        def reply(request_id: int, result: Any, error: Error | None, meta: dict | None = None) -> None:
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
                send_frame(conn, send_lock, header, payload)
            except OSError:
                pass  # the reader below sees the closed socket and reports the rank

        def joined_cb(result: Any, error: Error | None) -> None:
            (joined if error is None else rejected).set()
            reply(0, None, error, result)

        with reentry.inside():
            hub.join(rank, n_ranks, name, pid, device, timeout, joined_cb)
        left = False
        try:
            while True:
                frame = recv_frame(conn)
                if frame is None:
                    break
                head, body = frame
                if head.get("op") == "leave":
                    left = True
                    with reentry.inside():
                        hub.leave(rank)
                    break
                if head.get("op") != "submit":
                    continue
                request_id = int(head["id"])
                payload = frame_array(body, head["dtype"], head["shape"]) if head.get("dtype") else None
                with reentry.inside():
                    hub.submit(rank, int(head["seq"]), head["signature"], head["spec"], payload,
                               float(head["timeout"]), lambda r, e, i=request_id: reply(i, r, e))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass
        finally:
            if not left and not rejected.is_set():
                what = "closed its connection to the rendezvous without HcclCommDestroy: its process died or exited"
                with reentry.inside():
                    hub.leave(rank, what if joined.is_set() else "lost its connection (its process died?)")
            try:
                conn.close()
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
