"""One authenticated exchange of the root-info hand-off: a rank asks rank 0 for its root info,
each side proving to the other that it holds ``ACLNN_PY_HANDOFF_SECRET``.

Messages, in network byte order (``MAGIC`` = ``b"APYHCCL2"``; r = the asking rank, 0 = rank 0)::

    r -> 0  HELLO      MAGIC, rank (u32), world size (u32), nonce_r (32 random bytes)
    0 -> r  CHALLENGE  MAGIC, nonce_0 (32 random bytes), MAC("rank 0", nonce_r, nonce_0, rank, world)
    r -> 0  RESPONSE   MAGIC, MAC("rank", nonce_r, nonce_0, rank, world)
    0 -> r  ANSWER     MAGIC, status (u32, 0: the root info follows), length (u32), body,
                       MAC("answer", nonce_r, nonce_0, rank, world, MAGIC, status, length, body)

MAC(label, fields) is HMAC-SHA256 keyed by the secret over the label, a zero byte and the fields
as sent (all of fixed size but the body, whose length precedes it). Each side checks a MAC over
a nonce it drew itself for this connection (``secrets``), so neither the secret nor any fixed
function of it is ever sent, a recorded exchange replayed gets nothing, and the answer (root info
or refusal) is bound to this exchange; the labels keep a MAC of one side from passing as the
other's. The root info is authenticated, not encrypted. Without a secret the key is empty: the
exchange runs the same but proves nothing (docs/hccl-security.md).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import socket
import struct
import time

MAGIC = b"APYHCCL2"
_NONCE = 32
_HELLO = struct.Struct("!8sII32s")
_CHALLENGE = struct.Struct("!8s32s32s")
_RESPONSE = struct.Struct("!8s32s")
_ANSWER = struct.Struct("!8sII")
_IDS = struct.Struct("!II")
_TAG = hashlib.sha256().digest_size
_MAX_BODY = 1 << 16  # a root info is 4108 bytes, a refusal a line of text


class HandoffError(RuntimeError):
    """The hand-off failed in a way waiting does not mend: rank 0 refused, or the peer failed
    authentication."""


def _mac(key: bytes, label: bytes, *fields: bytes) -> bytes:
    return hmac.new(key, label + b"\0" + b"".join(fields), hashlib.sha256).digest()


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the hand-off's deadline passed")
    return left


def _send(sock: socket.socket, data: bytes, deadline: float) -> None:
    sock.settimeout(_left(deadline))
    sock.sendall(data)


def _recv(sock: socket.socket, n: int, deadline: float) -> bytes:
    """Exactly ``n`` bytes before ``deadline`` (one deadline for the whole exchange, not per read)."""
    data = bytearray()
    while len(data) < n:
        sock.settimeout(_left(deadline))
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("connection closed during the root-info hand-off")
        data += chunk
    return bytes(data)


def serve(sock: socket.socket, key: bytes, world: int, root_info: bytes, deadline: float) -> int | None:
    """Rank 0's side of one exchange: the rank that received the root info, or None (refused,
    or a peer that did not prove it holds the secret: it got a challenge and nothing else)."""
    magic, rank, their_world, nonce_r = _HELLO.unpack(_recv(sock, _HELLO.size, deadline))
    if magic != MAGIC:
        return None
    nonce_0 = secrets.token_bytes(_NONCE)
    ids = _IDS.pack(rank, their_world)
    _send(sock, _CHALLENGE.pack(MAGIC, nonce_0, _mac(key, b"rank 0", nonce_r, nonce_0, ids)), deadline)
    magic, proof = _RESPONSE.unpack(_recv(sock, _RESPONSE.size, deadline))
    if magic != MAGIC or not hmac.compare_digest(proof, _mac(key, b"rank", nonce_r, nonce_0, ids)):
        return None
    problem = None
    if their_world != world:
        problem = f"rank {rank} has WORLD_SIZE={their_world} but rank 0 has {world}"
    elif not 0 < rank < world:
        problem = f"rank {rank} is not in [1, {world})"
    status, body = (1, problem.encode()) if problem else (0, root_info)
    head = _ANSWER.pack(MAGIC, status, len(body))
    _send(sock, head + body + _mac(key, b"answer", nonce_r, nonce_0, ids, head, body), deadline)
    return None if problem else rank


def ask(sock: socket.socket, key: bytes, rank: int, world: int, deadline: float, where: str) -> bytes:
    """A rank's side of one exchange with the process at ``where``: rank 0's root info.
    HandoffError when that process fails authentication or rank 0 refuses; OSError
    (ConnectionError, TimeoutError) when the connection breaks, which a retry may mend."""
    nonce_r = secrets.token_bytes(_NONCE)
    ids = _IDS.pack(rank, world)
    _send(sock, _HELLO.pack(MAGIC, rank, world, nonce_r), deadline)
    magic, nonce_0, proof = _CHALLENGE.unpack(_recv(sock, _CHALLENGE.size, deadline))
    if magic != MAGIC or not hmac.compare_digest(proof, _mac(key, b"rank 0", nonce_r, nonce_0, ids)):
        raise HandoffError(
            f"rank {rank}: the process answering at {where} did not prove that it knows ACLNN_PY_HANDOFF_SECRET, "
            f"so it is not this job's rank 0 (another process holds the hand-off port, or the ranks were given "
            f"different secrets); nothing was taken from it")
    _send(sock, _RESPONSE.pack(MAGIC, _mac(key, b"rank", nonce_r, nonce_0, ids)), deadline)
    head = _recv(sock, _ANSWER.size, deadline)
    magic, status, length = _ANSWER.unpack(head)
    if magic != MAGIC or length > _MAX_BODY:
        raise HandoffError(f"rank {rank}: the answer from {where} is not a hand-off answer; refused")
    body = _recv(sock, length, deadline)
    tag = _recv(sock, _TAG, deadline)
    if not hmac.compare_digest(tag, _mac(key, b"answer", nonce_r, nonce_0, ids, head, body)):
        raise HandoffError(
            f"rank {rank}: the root info from {where} failed authentication (its HMAC over this exchange's "
            f"nonces does not match: altered on the way, or not from rank 0); refused, not used")
    if status:
        raise HandoffError(f"rank 0 refused the root info to rank {rank}: {body.decode(errors='replace')}")
    return body
