"""Rank processes forked from one interpreter that has already loaded the binding and the mock, so
that a job of several rank processes starts in a fraction of a second:
``python tests/mock/hccl_forked_jobs.py MODE ARGS...`` (test_hccl_hub_hardening.py).

* ``blame VICTIM:SLOW ...``: one 4-process all-reduce loop per pair; rank VICTIM dies
  (``os._exit``) at its fourth collective while rank SLOW sleeps between collectives; every
  survivor writes ``RESULT {"job", "rank", "error"}`` and exits at once.
* ``flood WORKDIR``: a 2-process all-reduce loop, every result checked against NumPy, while this
  process floods rank 0's hub listener with hostile connections; in the middle of the flood the
  ranks form a second communicator through that listener. Writes ``WORKDIR/rank<r>.json`` per
  rank and one ``RESULT`` line with the flood's figures and rank 0's thread count and RSS.
"""
from __future__ import annotations

import json
import os
import socket
import struct
import sys
import threading
import time
import traceback
from pathlib import Path

import numpy as np

from aclnn_py import Device, DeviceBuffer, Runtime, Stream, hccl, launch
from aclnn_py._loader import library
from aclnn_py.errors import AclError, HcclError

library()
import mock_runtime.exports.hccl  # noqa: E402,F401 -- loaded once, here: every fork starts with it
from mock_runtime.hccl.listener import MAX_PENDING  # noqa: E402
from mock_runtime.hccl.wire import JoinRequest  # noqa: E402


def report(**fields) -> None:
    os.write(1, ("RESULT " + json.dumps(fields) + "\n").encode())  # one write: lines never interleave


def fork_ranks(world: int, rank_main) -> dict[int, int]:
    """Fork ``world`` rank processes running ``rank_main(rank)``; {rank: pid}."""
    port = launch.free_port()
    pids = {}
    for rank in range(world):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.environ.update(launch.rank_environment(rank, world, "127.0.0.1", port, "s3cret", {}))
                code = rank_main(rank) or 0
            except BaseException:  # noqa: BLE001 -- shown on stderr, which the test reads
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        pids[rank] = pid
    return pids


def wait_ranks(pids: dict[int, int], timeout: float) -> dict[int, int]:
    """{rank: exit code (negative: killed by that signal)}; the ranks still running after
    ``timeout`` seconds are killed."""
    deadline = time.monotonic() + timeout
    codes: dict[int, int] = {}
    while len(codes) < len(pids) and time.monotonic() < deadline:
        for rank, pid in pids.items():
            if rank not in codes:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    codes[rank] = os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    for rank, pid in pids.items():
        if rank not in codes:
            os.kill(pid, 9)
            codes[rank] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    return codes


# -- blame: who died ------------------------------------------------------------------------------
def blame_rank(rank: int, job: int, victim: int, slow: int) -> int:
    world = 4
    with Runtime():
        comm = hccl.init_from_env()
        stream = Stream()
        buf = DeviceBuffer(64 * 4)
        it = 0
        try:
            while True:
                if rank == victim and it == 3:
                    os._exit(3)  # dies without HcclCommDestroy, the others waiting for it or busy
                buf.copy_from_host(np.arange(64, dtype=np.float32) + it * 100 + rank)
                comm.all_reduce(buf, buf, 64, np.float32, "sum", stream)
                stream.synchronize()
                want = sum(np.arange(64, dtype=np.float32) + it * 100 + r for r in range(world))
                if not np.array_equal(buf.to_numpy(np.float32), want):
                    report(job=job, rank=rank, error=f"wrong all-reduce result at iteration {it}")
                    os._exit(1)
                if rank == slow:
                    time.sleep(0.1)  # host work between two collectives
                it += 1
        except (AclError, HcclError) as exc:
            report(job=job, rank=rank, error=exc.message)
            os._exit(0)  # at once: rank 0's process (the hub's) is gone as early as it can be


def blame(pairs: list[str]) -> None:
    for job, pair in enumerate(pairs):
        victim, slow = map(int, pair.split(":"))
        codes = wait_ranks(fork_ranks(4, lambda rank: blame_rank(rank, job, victim, slow)), 30)
        report(job=job, codes={str(r): c for r, c in codes.items()})


# -- flood: a live collective while the hub's listener is attacked ---------------------------------
COUNT = 256
ROUNDS_BEFORE_FLOOD = 20


def exchange_root_info(workdir: Path, name: str, rank: int) -> bytes:
    """Rank 0 makes a root info and publishes it in ``workdir``; the other rank reads it."""
    path = workdir / name
    if rank == 0:
        info = hccl.get_root_info()
        (workdir / (name + ".tmp")).write_bytes(info)
        os.rename(workdir / (name + ".tmp"), path)
        return info
    deadline = time.monotonic() + 30
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {name} from rank 0")
        time.sleep(0.01)
    return path.read_bytes()


def second_communicator(workdir: Path, rank: int) -> bool:
    """A new communicator formed through the flooded listener; its first all-reduce right?"""
    comm = hccl.init_root_info(2, exchange_root_info(workdir, "root_info2", rank), rank)
    with comm, Stream() as stream, DeviceBuffer.from_numpy(np.full(4, rank + 1, np.int32)) as buf:
        comm.all_reduce(buf, buf, 4, np.int32, "sum", stream)
        stream.synchronize()
        return buf.to_numpy(np.int32).tolist() == [3, 3, 3, 3]


def flood_rank(rank: int, workdir: Path) -> int:
    with Runtime(), Device(rank):
        comm = hccl.init_root_info(2, exchange_root_info(workdir, "root_info", rank), rank)
        stream = Stream()
        buf = DeviceBuffer(COUNT * 4 + 8)  # the data, then rank 0's two control flags: stop, form a new communicator
        times, bad, second = [], [], None
        it = 0
        while True:
            control = [0.0, 0.0]
            if rank == 0:
                control = [float((workdir / "stop").exists()),
                           float(second is None and (workdir / "flooding").exists())]
            buf.copy_from_host(np.concatenate([np.arange(COUNT, dtype=np.float32) + it * 7 + rank,
                                               np.float32(control)]))
            comm.all_reduce(buf, buf, COUNT + 2, np.float32, "sum", stream)
            stream.synchronize()
            got = buf.to_numpy(np.float32)
            if not np.array_equal(got[:COUNT], 2 * (np.arange(COUNT, dtype=np.float32) + it * 7) + 1):
                bad.append(it)
            times.append(time.monotonic())
            if rank == 0 and it == ROUNDS_BEFORE_FLOOD:
                (workdir / "warm").touch()
            if got[COUNT + 1]:
                second = second_communicator(workdir, rank)
            if got[COUNT]:
                break
            it += 1
        comm.close()
        buf.close()
        stream.close()
    (workdir / f"rank{rank}.json").write_text(json.dumps({"times": times, "bad": bad, "second": second}))
    return 0


def proc_status(pid: int) -> tuple[int, int, int]:
    """(threads, RSS in bytes, open descriptors) of a process, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["Threads"]), int(fields["VmRSS"].split()[0]) * 1024, len(os.listdir(f"/proc/{pid}/fd"))


class Flood:
    """Connections to 127.0.0.1:port from one thread, until stopped: ``slow`` slow-loris peers at
    a time that send a plausible join request (a wrong token) one byte at a time (the time each
    was left open is kept), and with ``hostile``, as fast as it can, headers declaring 1 MiB,
    deeply nested JSON, garbage and connections that close at once."""

    def __init__(self, port: int, slow: int, hostile: bool) -> None:
        self.port, self.slow, self.hostile = port, slow, hostile
        self.stop = threading.Event()
        self.connections = 0
        self.slow_lifetimes: list[float] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(10)

    def _connect(self) -> socket.socket | None:
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=0.2)
        except OSError:
            return None
        self.connections += 1
        return sock

    @staticmethod
    def _send(sock: socket.socket, data: bytes) -> bool:
        try:
            sock.settimeout(0.02)
            sock.sendall(data)
            return True
        except OSError:
            return False

    def _hostile(self, kind: int, held: list[socket.socket]) -> None:
        sock = self._connect()
        if sock is None:
            return
        if kind % 10 == 0:
            self._send(sock, struct.pack("!4sIQ", b"MHCL", 200_000, 0) + b"[" * 100_000 + b"]" * 100_000)
        elif kind % 10 == 1:
            self._send(sock, os.urandom(64))
            sock.close()
            return
        else:
            self._send(sock, struct.pack("!4sIQ", b"MHCL", 1 << 20, 0) + b"{")
        held.append(sock)
        while len(held) > 600:
            held.pop(0).close()

    def _run(self) -> None:
        plausible = JoinRequest(os.urandom(16), os.urandom(32), 1, 2, 1, os.getpid(), 5.0, "x" * 40).pack()
        held: list[socket.socket] = []
        slow: dict[socket.socket, tuple[float, int]] = {}  # socket -> (opened at, bytes sent)
        kind = 0
        while not self.stop.is_set():
            if self.hostile:
                kind += 1
                self._hostile(kind, held)
            else:
                time.sleep(0.01)
            while len(slow) < self.slow:
                sock = self._connect()
                if sock is None:
                    break
                slow[sock] = (time.monotonic(), 0)
            for sock, (opened, sent) in list(slow.items()):
                if sent < len(plausible) and self._send(sock, plausible[sent:sent + 1]) and not self._closed(sock):
                    slow[sock] = (opened, sent + 1)
                    continue
                self.slow_lifetimes.append(time.monotonic() - opened)
                del slow[sock]
                sock.close()
        for sock in held + list(slow):
            sock.close()

    @staticmethod
    def _closed(sock: socket.socket) -> bool:
        try:
            sock.setblocking(False)
            return sock.recv(1) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True


def wait_for(path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path.name} did not appear within {timeout:g} s")
        time.sleep(0.01)


def flood(workdir: Path, seconds: float = 1.5) -> None:
    """Phase 1 (``seconds``): every kind of hostile connection, more slow-loris peers than the
    listener holds; phase 2: a few slow-loris peers alone, which only the deadline ends."""
    pids = fork_ranks(2, lambda rank: flood_rank(rank, workdir))
    try:
        wait_for(workdir / "warm", 60)
        port = struct.unpack_from("!H", (workdir / "root_info").read_bytes(), 68)[0]
        base = proc_status(pids[0])
        attack = Flood(port, slow=MAX_PENDING + 16, hostile=True)
        time.sleep(0.1)  # the flood is under way before the second communicator forms
        (workdir / "flooding").touch()
        start = time.monotonic()
        peak = base
        while time.monotonic() - start < seconds:
            peak = tuple(map(max, peak, proc_status(pids[0])))
            time.sleep(0.01)
        end = time.monotonic()
        attack.finish()
        loris = Flood(port, slow=8, hostile=False)
        time.sleep(float(os.environ["ACLNN_MOCK_HCCL_HANDSHAKE_TIMEOUT"]) + 0.3)
        loris.finish()
    finally:
        (workdir / "stop").touch()
        codes = wait_ranks(pids, 30)
    report(codes={str(r): c for r, c in codes.items()}, window=[start, end], connections=attack.connections,
           evicted_lifetimes=attack.slow_lifetimes, slow_lifetimes=loris.slow_lifetimes,
           base=dict(zip(("threads", "rss", "fds"), base)), peak=dict(zip(("threads", "rss", "fds"), peak)))


if __name__ == "__main__":
    if sys.argv[1] == "blame":
        blame(sys.argv[2:])
    else:
        flood(Path(sys.argv[2]))
