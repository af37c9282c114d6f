"""The root-info hand-off under attack (issue 15, item 5): rank 0 serves every connection at
once, each with its own deadline; both sides prove they hold ACLNN_PY_HANDOFF_SECRET over nonces
fresh to the exchange, and a rank takes only a root info MACed over both nonces. Pure sockets: no
runtime, so it runs anywhere. (The environment and the launcher: test_launch.py.)"""
from __future__ import annotations

import socket
import threading
import time
import warnings

import pytest

from aclnn_py import launch
from aclnn_py.launch import handoff
from aclnn_py.launch.handoff import HandoffError

ROOT_INFO = bytes(range(256)) * 16 + b"ROOT"  # 4108 bytes, as HcclRootInfo
FOREIGN = b"F" * len(ROOT_INFO)


@pytest.fixture(autouse=True)
def secret(monkeypatch):
    monkeypatch.setenv("ACLNN_PY_HANDOFF_SECRET", "s3cret")


@pytest.fixture
def server():
    servers = []

    def start(world: int = 2, timeout: float = 20.0, port: int | None = None) -> handoff.RootInfoServer:
        servers.append(handoff.RootInfoServer("127.0.0.1", port or launch.free_port(), world, ROOT_INFO, timeout))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def served(server: handoff.RootInfoServer, expected: set[int]) -> set[int]:
    """The ranks ``server`` counts as served, once it has recorded ``expected`` (it records a rank
    on its own thread after the answer went out, so the rank may read the answer first)."""
    deadline = time.monotonic() + 5
    while server.served != expected and time.monotonic() < deadline:
        time.sleep(0.01)
    return set(server.served)


def port_of(server: handoff.RootInfoServer) -> int:
    return server.sock.getsockname()[1]


class Relay:
    """A TCP relay on a free port to ``target`` for one connection: records what each side sent;
    with ``tamper_at``, flips the byte at that offset of what the target sends back."""

    def __init__(self, target: int, tamper_at: int | None = None) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.target, self.tamper_at = target, tamper_at
        self.sent = {"client": bytearray(), "server": bytearray()}
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _pump(self, src: socket.socket, dst: socket.socket, side: str) -> None:
        record = self.sent[side]
        try:
            while chunk := src.recv(65536):
                chunk = bytearray(chunk)
                if side == "server" and self.tamper_at is not None and len(record) <= self.tamper_at < len(record) + len(chunk):
                    chunk[self.tamper_at - len(record)] ^= 0xFF
                record += chunk
                dst.sendall(chunk)
            dst.shutdown(socket.SHUT_WR)
        except OSError:  # the other side closed first
            pass

    def _run(self) -> None:
        with self.listener, self.listener.accept()[0] as client, \
                socket.create_connection(("127.0.0.1", self.target)) as upstream:
            back = threading.Thread(target=self._pump, args=(upstream, client, "server"), daemon=True)
            back.start()
            self._pump(client, upstream, "client")
            back.join(5)


def test_the_root_info_goes_to_a_holder_of_the_secret_only(server, monkeypatch):
    rank0 = server(world=3)
    assert handoff.fetch_root_info("127.0.0.1", port_of(rank0), 1, 3, timeout=5) == ROOT_INFO
    monkeypatch.setenv("ACLNN_PY_HANDOFF_SECRET", "wrong")
    with pytest.raises(HandoffError, match="did not prove that it knows ACLNN_PY_HANDOFF_SECRET"):
        handoff.fetch_root_info("127.0.0.1", port_of(rank0), 2, 3, timeout=5)
    monkeypatch.setenv("ACLNN_PY_HANDOFF_SECRET", "s3cret")
    with pytest.raises(HandoffError, match="rank 0 refused the root info to rank 2: rank 2 has WORLD_SIZE=2"):
        handoff.fetch_root_info("127.0.0.1", port_of(rank0), 2, 2, timeout=5)
    assert served(rank0, {1}) == {1}  # neither the wrong secret nor the refused rank counts
    assert handoff.fetch_root_info("127.0.0.1", port_of(rank0), 2, 3, timeout=5) == ROOT_INFO
    assert served(rank0, {1, 2}) == {1, 2}


def test_no_rank_0_is_a_timeout_naming_the_address():
    port = launch.free_port()
    with pytest.raises(TimeoutError, match=f"rank 1: no root info from rank 0 at .* = 127.0.0.1:{port} within 0.5 s"):
        handoff.fetch_root_info("127.0.0.1", port, 1, 3, timeout=0.5)


def test_a_slow_unauthenticated_connection_does_not_block_the_rank(server):
    rank0 = server()
    stop = threading.Event()
    silent = socket.create_connection(("127.0.0.1", port_of(rank0)))  # sends nothing at all

    def slow_loris() -> None:
        with socket.create_connection(("127.0.0.1", port_of(rank0))) as sock:
            for byte in b"APYHCCL2" * 8:  # the start of a hello, a byte at a time
                if stop.wait(0.1):
                    return
                try:
                    sock.send(bytes([byte]))
                except OSError:
                    return

    loris = threading.Thread(target=slow_loris, daemon=True)
    loris.start()
    time.sleep(0.2)  # both hold a connection before the rank asks
    try:
        start = time.monotonic()
        assert handoff.fetch_root_info("127.0.0.1", port_of(rank0), 1, 2, timeout=5) == ROOT_INFO
        assert time.monotonic() - start < 2
    finally:
        stop.set()
        silent.close()
        loris.join(5)


def test_a_replayed_hello_gets_nothing_and_leaves_the_rank_its_slot(server):
    earlier = server()
    relay = Relay(port_of(earlier))
    assert handoff.fetch_root_info("127.0.0.1", relay.port, 1, 2, timeout=5) == ROOT_INFO
    relay.thread.join(5)
    captured = bytes(relay.sent["client"])  # the rank's hello and response, as seen on the wire
    rank0 = server()  # the next job, same secret: a replay of the capture
    with socket.create_connection(("127.0.0.1", port_of(rank0)), timeout=5) as attacker:
        attacker.sendall(captured)
        got = bytearray()
        while chunk := attacker.recv(65536):
            got += chunk
    assert len(got) == 72 and ROOT_INFO[:64] not in got  # a fresh challenge, then the door closes
    assert rank0.served == set()
    assert handoff.fetch_root_info("127.0.0.1", port_of(rank0), 1, 2, timeout=5) == ROOT_INFO  # the real rank 1


def _squatter(port: int, answer) -> threading.Thread:
    """A process that holds the hand-off port and answers every hello with ``answer(hello)``."""
    listener = socket.create_server(("127.0.0.1", port))

    def run() -> None:
        with listener:
            listener.settimeout(5)
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                hello = conn.recv(48)
                conn.sendall(answer(hello))
                time.sleep(0.5)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("kind", ["replays-rank-0", "answers-in-clear"])
def test_a_process_holding_the_port_cannot_hand_a_rank_its_root_info(server, kind):
    earlier = server()
    relay = Relay(port_of(earlier))
    assert handoff.fetch_root_info("127.0.0.1", relay.port, 1, 2, timeout=5) == ROOT_INFO
    relay.thread.join(5)
    recorded = bytes(relay.sent["server"])  # a real rank 0's challenge and answer
    port = launch.free_port()
    if kind == "replays-rank-0":
        squatter = _squatter(port, lambda hello: recorded)
    else:  # the status-and-root-info answer of the hand-off before it was authenticated
        squatter = _squatter(port, lambda hello: b"APYHCCL1" + (0).to_bytes(4, "big")
                             + len(FOREIGN).to_bytes(4, "big") + FOREIGN)
    start = time.monotonic()
    with pytest.raises(HandoffError, match=f"the process answering at 127.0.0.1:{port} did not prove"):
        handoff.fetch_root_info("127.0.0.1", port, 1, 2, timeout=10)
    assert time.monotonic() - start < 5  # at once, not after the timeout
    squatter.join(5)
    with socket.create_server(("127.0.0.1", port)), pytest.raises(RuntimeError, match="rank 0 cannot listen"):
        server(port=port)  # and the real rank 0, finding the port taken, says so


def test_a_root_info_altered_on_the_way_is_refused(server):
    rank0 = server()
    relay = Relay(port_of(rank0), tamper_at=72 + 16 + 100)  # a byte of the root info in the answer
    with pytest.raises(HandoffError, match="failed authentication .* refused, not used"):
        handoff.fetch_root_info("127.0.0.1", relay.port, 1, 2, timeout=5)


def test_without_a_secret_off_loopback_it_warns_once(monkeypatch):
    monkeypatch.delenv("ACLNN_PY_HANDOFF_SECRET")
    monkeypatch.setattr(handoff, "_warned", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        handoff.warn_if_unauthenticated("127.0.0.1")
        handoff.warn_if_unauthenticated("localhost")
        assert caught == []
        handoff.warn_if_unauthenticated("192.0.2.7")
        handoff.warn_if_unauthenticated("192.0.2.8")
    assert len(caught) == 1 and caught[0].category is RuntimeWarning
    assert "MASTER_ADDR=192.0.2.7 is not a loopback address and ACLNN_PY_HANDOFF_SECRET is not set" in str(caught[0].message)
    monkeypatch.setattr(handoff, "_warned", False)
    monkeypatch.setenv("ACLNN_PY_HANDOFF_SECRET", "s3cret")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        handoff.warn_if_unauthenticated("192.0.2.7")
    assert caught == []
