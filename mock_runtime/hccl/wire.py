"""The mock's HCCL on the wire: the join request a rank opens its connection with (fixed binary
fields, at most :data:`JOIN_MAX` bytes: nothing is parsed recursively before the token is
checked), then frames (length-prefixed JSON header of bounded size and depth + raw array bytes).

Join request, network byte order: magic ``b"MHCJ"`` (4), version 1 (u16), communicator id
(16), token (32), rank (u32), nRanks (u32), device (i32, -1 unknown), pid (u32), the rank's
HCCL_CONNECT_TIMEOUT (f64 seconds), length of the communicator name (u16, < COMM_NAME_MAX),
then the name in UTF-8.
"""
from __future__ import annotations

import json
import math
import re
import socket
import struct
import sys
import threading
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from mock_runtime.hccl.config import COMM_NAME_MAX

LOOPBACK = "127.0.0.1"
_FRAME = struct.Struct("!4sIQ")
_FRAME_MAGIC = b"MHCL"
_MAX_HEADER = 1 << 20
_MAX_DEPTH = 16  # nesting of a frame's JSON header (the mock's own headers nest 2 deep)
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKET = re.compile(rb"[^\[\]{}]")

_JOIN = struct.Struct("!4sH16s32sIIiIdH")
JOIN_MAGIC = b"MHCJ"
_JOIN_VERSION = 1
JOIN_FIXED = _JOIN.size
JOIN_MAX = _JOIN.size + COMM_NAME_MAX - 1


@dataclass(frozen=True)
class JoinRequest:
    """What a rank asks of a hub when it connects (see the module docstring for the bytes)."""

    comm_id: bytes
    token: bytes
    rank: int
    n_ranks: int
    device: int
    pid: int
    timeout: float
    name: str

    def pack(self) -> bytes:
        name = self.name.encode()
        return _JOIN.pack(JOIN_MAGIC, _JOIN_VERSION, self.comm_id, self.token, self.rank, self.n_ranks,
                          self.device, self.pid, self.timeout, len(name)) + name


def join_length(fixed: bytes) -> int:
    """The whole request's length from its first :data:`JOIN_FIXED` bytes; ValueError if they
    are not the start of a join request."""
    magic, version, *_, name_len = _JOIN.unpack(fixed)
    if magic != JOIN_MAGIC or version != _JOIN_VERSION or name_len >= COMM_NAME_MAX:
        raise ValueError("not a mock-HCCL join request")
    return _JOIN.size + name_len


def parse_join(raw: bytes) -> JoinRequest:
    """A whole join request (:func:`join_length` bytes); ValueError if a field is out of range."""
    _, _, comm_id, token, rank, n_ranks, device, pid, timeout, _ = _JOIN.unpack_from(raw)
    if not (0 <= rank < n_ranks and device >= -1 and timeout > 0 and math.isfinite(timeout)):
        raise ValueError("join request fields out of range")
    return JoinRequest(comm_id, token, rank, n_ranks, device, pid, timeout, raw[_JOIN.size:].decode())


def frame_start(header: dict, body_bytes: int = 0) -> bytes:
    """The bytes of a frame up to its body: the length prefix and ``header`` as JSON."""
    head = json.dumps(header).encode()
    return _FRAME.pack(_FRAME_MAGIC, len(head), body_bytes) + head


def send_frame(sock: socket.socket, lock: threading.Lock, header: dict, payload: np.ndarray | None = None) -> None:
    """One frame: ``header`` as JSON, then ``payload``'s bytes (``lock`` keeps frames whole)."""
    body = b"" if payload is None else np.ascontiguousarray(payload).reshape(-1).view(np.uint8)
    with lock:
        sock.sendall(frame_start(header, len(body)))
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


def _header(raw: bytes) -> dict:
    """A frame's JSON header, its nesting checked before the (recursive) JSON parser sees it."""
    depth = 0
    for bracket in _NOT_BRACKET.sub(b"", _JSON_STRING.sub(b"", raw)):
        depth += 1 if bracket in b"[{" else -1
        if depth > _MAX_DEPTH:
            raise ValueError(f"a frame header nests deeper than {_MAX_DEPTH}")
    head = json.loads(raw.decode())
    if not isinstance(head, dict):
        raise ValueError("a frame header is not a JSON object")
    return head


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
    return _header(bytes(head)), body


def frames(sock: socket.socket) -> Iterator[tuple[dict, bytearray]]:
    """The frames ``sock`` delivers until its end of stream; ValueError for garbage."""
    while (frame := recv_frame(sock)) is not None:
        yield frame


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


def slot_key(seq: object) -> int | str:
    """A submit's collective number, or the text key of a point-to-point transfer."""
    if isinstance(seq, str):
        return seq
    return int(seq)  # type: ignore[call-overload]


def frame_array(body: bytearray, desc: list, shape: list) -> np.ndarray:
    """A frame's payload as the array its header describes (a view of ``body``)."""
    return np.frombuffer(body, np.uint8).view(dtype_of(desc)).reshape(shape)
