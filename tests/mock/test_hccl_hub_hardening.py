"""The mock's HCCL hub under attack and under faults (issue 15, items 4 and 7), with rank
processes forked from one interpreter (tests/mock/hccl_forked_jobs.py: a job starts in a fraction
of a second).

* A local process without the token floods rank 0's hub listener (headers declaring 1 MiB, deeply
  nested JSON, garbage, slow-loris peers sending a join request a byte at a time, hundreds of
  connections) while two rank processes run an all-reduce loop and form a second communicator
  through that listener: every result is right, rank 0 gains no thread and no memory to speak
  of, a slow peer is cut at the handshake deadline, and nothing is printed.
* A rank process of a 4-process all-reduce loop dies: every survivor names that rank, never "the
  root process died". The race: the hub (in rank 0's process) failed the communicator when the
  dead rank's connection closed, rank 0 got its error and its process ended at once, and a
  survivor that was between two collectives (here: one sleeping on the host) learnt of the
  failure only from its next request, which found rank 0's process gone. Every job of the list
  below showed it before the fix.
"""
from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mock_runtime.hccl import wire
from mock_runtime.hccl.listener import MAX_PENDING

ROOT = Path(__file__).resolve().parents[2]
JOBS = Path(__file__).resolve().parent / "hccl_forked_jobs.py"
HANDSHAKE_TIMEOUT = 0.3


def run_jobs(*args: str, **env: str) -> tuple[list[dict], str]:
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), environment.get("PYTHONPATH", "")) if p)
    environment.update({"HCCL_EXEC_TIMEOUT": "20", "HCCL_CONNECT_TIMEOUT": "30"}, **env)
    done = subprocess.run([sys.executable, str(JOBS), *args], capture_output=True, text=True, timeout=120,
                          env=environment, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    found = [json.loads(line[len("RESULT "):]) for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    return found, done.stderr


def test_hub_flood_leaves_the_collective_right_and_the_rank_bounded(tmp_path):
    (summary,), stderr = run_jobs("flood", str(tmp_path), ACLNN_MOCK_HCCL_HANDSHAKE_TIMEOUT=str(HANDSHAKE_TIMEOUT))
    assert summary["codes"] == {"0": 0, "1": 0}, stderr
    assert "Traceback" not in stderr and "Exception" not in stderr and "Error" not in stderr, stderr
    start, end = summary["window"]
    for rank in (0, 1):
        ranks = json.loads((tmp_path / f"rank{rank}.json").read_text())
        assert ranks["bad"] == [], ranks["bad"]  # every all-reduce equal to NumPy's sum
        assert ranks["second"] is True  # a communicator formed through the flooded listener
        assert sum(start <= t <= end for t in ranks["times"]) >= 5  # the loop kept running meanwhile
    base, peak = summary["base"], summary["peak"]
    assert summary["connections"] >= 400
    assert peak["threads"] <= base["threads"] + 4, summary  # the second communicator: a session, a stream
    assert peak["rss"] - base["rss"] < 16 << 20, summary
    assert peak["fds"] <= base["fds"] + MAX_PENDING + 4, summary
    # more slow peers than the listener holds: the oldest are pushed out before their deadline
    assert summary["evicted_lifetimes"] and max(summary["evicted_lifetimes"]) < HANDSHAKE_TIMEOUT + 1, summary
    # a few slow peers alone: each is cut at the deadline of its whole join request
    assert len(summary["slow_lifetimes"]) == 8, summary
    assert all(HANDSHAKE_TIMEOUT - 0.05 < t < HANDSHAKE_TIMEOUT + 1 for t in summary["slow_lifetimes"]), summary


def test_every_survivor_names_the_rank_that_died():
    pairs = ["3:1", "1:2", "2:3", "3:2"]  # victim:slow survivor
    found, stderr = run_jobs("blame", *pairs)
    for job, pair in enumerate(pairs):
        victim = int(pair.split(":")[0])
        (codes,) = [r["codes"] for r in found if r["job"] == job and "codes" in r]
        assert codes == {str(r): 3 if r == victim else 0 for r in range(4)}, (pair, codes, stderr)
        errors = {r["rank"]: r["error"] for r in found if r["job"] == job and "error" in r}
        assert sorted(errors) == sorted({0, 1, 2, 3} - {victim}), (pair, errors)
        for rank, error in errors.items():
            assert f"rank {victim} " in error and "died" in error, (pair, rank, error)
            assert "root process" not in error, (pair, rank, error)


def test_a_join_request_is_fixed_fields_checked_on_arrival():
    request = wire.JoinRequest(b"i" * 16, b"t" * 32, 1, 4, 2, 4321, 7.5, "my_comm")
    raw = request.pack()
    assert len(raw) == wire.JOIN_FIXED + 7 and wire.join_length(raw[:wire.JOIN_FIXED]) == len(raw)
    assert wire.parse_join(raw) == request
    longest = wire.JoinRequest(b"i" * 16, b"t" * 32, 0, 1, 0, 1, 1.0, "n" * 127).pack()
    assert len(longest) == wire.JOIN_MAX
    with pytest.raises(ValueError):  # a name of 128 bytes has no room for its NUL in hcclCommName
        wire.join_length(wire.JoinRequest(b"i" * 16, b"t" * 32, 0, 1, 0, 1, 1.0, "n" * 128).pack()[:wire.JOIN_FIXED])
    with pytest.raises(ValueError):  # the old frame format, or anything else
        wire.join_length(struct.pack("!4sIQ", b"MHCL", 1 << 20, 0).ljust(wire.JOIN_FIXED, b"{"))
    for bad in (dict(rank=4), dict(timeout=0.0), dict(timeout=float("inf")), dict(device=-2)):
        fields = {**request.__dict__, **bad}
        with pytest.raises(ValueError):
            wire.parse_join(wire.JoinRequest(**fields).pack())


@pytest.mark.parametrize(("header", "nests"), [
    (b'{"a":' + b"[" * 15 + b"]" * 15 + b"}", True),
    (b'{"a":' + b"[" * 16 + b"]" * 16 + b"}", False),
    (b'{"a":"' + b"[{" * 5000 + b'"}', True),  # brackets inside a string do not nest
    (b"[" * 100_000 + b"]" * 100_000, False),  # no RecursionError: refused before json.loads
])
def test_frame_headers_are_checked_for_depth_before_parsing(header, nests):
    sender, receiver = socket.socketpair()
    with sender, receiver:
        feed = threading.Thread(target=sender.sendall, args=(struct.pack("!4sIQ", b"MHCL", len(header), 0) + header,))
        feed.start()
        if nests:
            assert isinstance(wire.recv_frame(receiver)[0], dict)
        else:
            with pytest.raises(ValueError, match="nests deeper than 16"):
                wire.recv_frame(receiver)
        feed.join(5)
