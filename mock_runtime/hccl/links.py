"""How one rank reaches its hub: directly when this process hosts it, else over one TCP
connection; a Future is the rank's wait for the hub's answer."""
from __future__ import annotations

import hmac
import itertools
import os
import socket
import threading
import time
from typing import Any

import numpy as np

from mock_runtime.core.errors import C, MockError
from mock_runtime.hccl.hub import Hub, find_hub
from mock_runtime.hccl.names import Error, fail, rank_list
from mock_runtime.hccl.wire import JoinRequest, dtype_desc, frame_array, frames, recv_frame, send_frame


class Future:
    """One rank's wait for a hub answer."""

    __slots__ = ("_event", "result", "error")

    def __init__(self) -> None:
        self._event = threading.Event()
        self.result: Any = None
        self.error: Error | None = None

    def __call__(self, result: Any, error: Error | None) -> None:
        if not self._event.is_set():
            self.result, self.error = result, error
            self._event.set()

    def wait(self, timeout: float) -> bool:
        return self._event.wait(timeout)


class LocalLink:
    """A rank in the hub's own process."""

    remote = False

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def join(self, rank: int, n_ranks: int, name: str, device: int, timeout: float) -> dict:
        fut = Future()
        self.hub.join(rank, n_ranks, name, os.getpid(), device, timeout, fut)
        if not fut.wait(timeout + 10.0):
            self.hub.fail(C["HCCL_E_TIMEOUT"], f"rendezvous of rank {rank} got no answer in {timeout + 10:g} s")
            fut.wait(1.0)
        if fut.error is not None:
            raise MockError(*fut.error)
        return fut.result

    def submit(self, rank: int, seq: int, signature: str, spec: dict, payload: Any, timeout: float) -> Future:
        fut = Future()
        self.hub.submit(rank, seq, signature, spec, payload, timeout, fut)
        return fut

    def fail(self, code: int, message: str) -> None:
        self.hub.fail(code, message)

    def leave(self, rank: int, reason: str | None = None) -> None:
        self.hub.leave(rank, reason)


class RemoteLink:
    """A rank in another process than its hub: one TCP connection per rank."""

    remote = True

    def __init__(self, sock: socket.socket, where: str, comm_id: bytes, token: bytes, root_pid: int) -> None:
        self.sock = sock
        self.comm_id = comm_id
        self.token = token
        self.where = where
        self.root_pid = root_pid
        self._send_lock = threading.Lock()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pending: dict[int, Future] = {}
        self._dead: Error | None = None
        self._leaving = False
        self._send_error: str | None = None
        self.pids: dict[int, int] = {}

    def join(self, rank: int, n_ranks: int, name: str, device: int, timeout: float) -> dict:
        request = JoinRequest(self.comm_id, self.token, rank, n_ranks, device, os.getpid(), timeout, name)
        try:
            self.sock.settimeout(timeout + 10.0)
            with self._send_lock:
                self.sock.sendall(request.pack())
            frame = recv_frame(self.sock)
        except socket.timeout:
            self.sock.close()
            raise fail("HCCL_E_TIMEOUT", f"rank {rank}: the rendezvous at {self.where} did not answer within {timeout + 10:g} s") from None
        except (OSError, ValueError) as exc:
            self.sock.close()
            raise fail("HCCL_E_TCP_TRANSFER", f"rank {rank}: connection to the rendezvous at {self.where} failed: {exc}") from None
        if frame is None:
            self.sock.close()
            raise fail("HCCL_E_REMOTE", f"rank {rank}: the rendezvous at {self.where} (process {self.root_pid}) closed the "
                                        f"connection before answering: its process died, or a flood of connections to it "
                                        f"pushed this one out")
        head, _ = frame
        if not head.get("ok"):
            self.sock.close()
            raise MockError(int(head.get("code", C["HCCL_E_INTERNAL"])), str(head.get("message")))
        self.sock.settimeout(None)
        self.pids = {int(r): p for r, p in head.get("pids", {}).items()}
        threading.Thread(target=self._read, name="mock-hccl-client", daemon=True).start()
        return {"name": head["name"], "pids": self.pids}

    def _read(self) -> None:
        reason = None
        try:
            for head, body in frames(self.sock):
                if head.get("notice"):  # the communicator failed: the cause, before anything else
                    self.fail(int(head["code"]), str(head["message"]))
                    continue
                with self._lock:
                    fut = self._pending.pop(int(head.get("id", -1)), None)
                if fut is None:
                    continue
                if head.get("ok"):
                    fut(frame_array(body, head["dtype"], head["shape"]) if head.get("dtype") else None, None)
                else:
                    fut(None, (int(head["code"]), str(head["message"])))
        except (OSError, ValueError, KeyError) as exc:
            reason = str(exc)
        reason = self._send_error or reason
        root_ranks = sorted(r for r, p in self.pids.items() if p == self.root_pid)
        message = (f"lost the connection to the rendezvous at {self.where}: the root process (pid {self.root_pid}, "
                   f"rank(s) {rank_list(root_ranks)}) died or exited" + (f" ({reason})" if reason else ""))
        if self._leaving:
            message = "the communicator was destroyed"
        self.fail(C["HCCL_E_REMOTE"], message)  # an earlier cause (the hub's notice) stays the one reported

    def submit(self, rank: int, seq: int, signature: str, spec: dict, payload: Any, timeout: float) -> Future:
        fut = Future()
        with self._lock:
            if self._dead is not None:
                fut(None, self._dead)
                return fut
            request_id = next(self._ids)
            self._pending[request_id] = fut
        header = {"op": "submit", "id": request_id, "seq": seq, "signature": signature, "spec": spec, "timeout": timeout}
        if isinstance(payload, np.ndarray):
            header["dtype"], header["shape"] = dtype_desc(payload.dtype), list(payload.shape)
        try:
            send_frame(self.sock, self._send_lock, header, payload if isinstance(payload, np.ndarray) else None)
        except OSError as exc:
            # The hub closes a failed communicator's connections right after its notice of the cause
            # (a rank died...): the reader still has that notice to read. The collective waits for
            # the reader, which fails it with the first cause it reads, or at the end of the
            # connection with this send's error; our half is closed so that the end comes.
            self._send_error = f"sending to the rendezvous failed: {exc}"
            try:
                self.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        return fut

    def fail(self, code: int, message: str) -> None:
        """Fail the waiting collectives and every later one; the first cause is the one kept."""
        with self._lock:
            if self._dead is None:
                self._dead = (code, message)
            dead = self._dead
            pending, self._pending = self._pending, {}
        for fut in pending.values():
            fut(None, dead)

    def leave(self, rank: int, reason: str | None = None) -> None:
        """Leave the hub (the wire's leave carries no reason: the hub reports an HcclCommDestroy)."""
        with self._lock:
            self._leaving = True
        try:
            send_frame(self.sock, self._send_lock, {"op": "leave"})
        except OSError:
            pass
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def connect(host: str, port: int, comm_id: bytes, token: bytes, rank: int, deadline: float,
            root_pid: int) -> LocalLink | RemoteLink:
    """A link to the hub: local if this process hosts it, else TCP (retried until ``deadline``)."""
    where = f"{host}:{port}"
    last = None
    while True:
        hub = find_hub(comm_id)
        if hub is not None:
            if not hmac.compare_digest(hub.token, token):
                raise fail("HCCL_E_PARA", f"rank {rank}: the root info carries the wrong token for communicator {comm_id.hex()[:16]}")
            return LocalLink(hub)
        try:
            sock = socket.create_connection((host, port), timeout=max(0.1, min(5.0, deadline - time.monotonic())))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return RemoteLink(sock, where, comm_id, token, root_pid)
        except OSError as exc:
            last = exc
        if time.monotonic() >= deadline:
            raise fail("HCCL_E_TCP_CONNECT", f"rank {rank}: cannot reach the rendezvous at {where} before HCCL_CONNECT_TIMEOUT: {last}")
        time.sleep(0.05)
