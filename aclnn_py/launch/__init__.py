"""Start one process per rank: ``python -m aclnn_py.launch -n 4 script.py [args...]``.

Every process gets torchrun's environment conventions:

* ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``LOCAL_WORLD_SIZE`` (one host:
  local rank = rank),
* ``MASTER_ADDR`` (127.0.0.1) and ``MASTER_PORT`` (a free port, or
  ``--master-port``),
* ``ACLNN_PY_HANDOFF_SECRET``: a random secret; :func:`aclnn_py.hccl.init_from_env`
  hands rank 0's HCCL root info only to processes that present it
  (:mod:`aclnn_py.launch.handoff`).

In the script, :func:`aclnn_py.hccl.init_from_env` returns the rank's
communicator. The launcher waits for every rank. When one exits non-zero
(or is killed), the others are terminated (SIGTERM, then SIGKILL after a
grace period) and the launcher exits with that rank's code (128 + signal
for a signal); ``--timeout`` bounds the whole run (exit code 124). Ctrl-C
terminates every rank. On Linux every rank is also killed (SIGKILL) when the
launcher itself dies, even by ``kill -9``: each rank asks the kernel for it
(``prctl(PR_SET_PDEATHSIG)``) before it starts the script.

``-m module`` runs a module instead of a script, as ``python -m`` does.
"""
from __future__ import annotations

import argparse
import ctypes
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from typing import Callable, Sequence

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def rank_environment(rank: int, world: int, addr: str, port: int, secret: str,
                     base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    env.update({
        "RANK": str(rank), "WORLD_SIZE": str(world), "LOCAL_RANK": str(rank), "LOCAL_WORLD_SIZE": str(world),
        "GROUP_RANK": "0", "MASTER_ADDR": addr, "MASTER_PORT": str(port), "ACLNN_PY_HANDOFF_SECRET": secret,
    })
    return env


def ended_with_launcher() -> Callable[[], None] | None:
    """What a rank runs between fork and exec so that it dies with the launcher: on Linux the
    kernel sends it SIGKILL when the launcher's thread that started it ends
    (``prctl(PR_SET_PDEATHSIG)``), and a rank whose launcher died before that call kills
    itself. None where there is no such call (the ranks then outlive a killed launcher)."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved here: the child only calls it
    launcher = os.getpid()

    def die_with_launcher() -> None:
        prctl(_PR_SET_PDEATHSIG, ctypes.c_ulong(signal.SIGKILL), ctypes.c_ulong(0), ctypes.c_ulong(0),
              ctypes.c_ulong(0))
        if os.getppid() != launcher:  # it died before the call: nobody would send the signal
            os.kill(os.getpid(), signal.SIGKILL)

    return die_with_launcher


def _exit_code(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def _stop(procs: Sequence[subprocess.Popen], grace: float) -> None:
    """Terminate the still-running processes we started; kill those that outlive ``grace``."""
    for p in procs:
        if p.poll() is None:
            try:
                p.terminate()
            except OSError:
                pass
    deadline = time.monotonic() + grace
    for p in procs:
        try:
            p.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                p.kill()
            except OSError:
                pass
            p.wait()


def run(command: Sequence[str], nprocs: int, *, master_addr: str = "127.0.0.1", master_port: int | None = None,
        timeout: float | None = None, grace: float = 5.0, env: dict[str, str] | None = None,
        log=sys.stderr) -> int:
    """Run ``command`` (argv list) in ``nprocs`` processes; return the launcher's exit code."""
    if nprocs < 1:
        raise ValueError("the number of processes must be >= 1")
    port = master_port or free_port(master_addr)
    secret = secrets.token_hex(16)
    procs: list[subprocess.Popen] = []
    deadline = None if timeout is None else time.monotonic() + timeout
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum, frame):  # the launcher itself is being stopped: take the ranks with it
        raise KeyboardInterrupt

    if previous is not None:
        try:
            signal.signal(signal.SIGTERM, on_term)
        except ValueError:  # not the main thread
            previous = None
    try:
        before_exec = ended_with_launcher()
        for rank in range(nprocs):
            procs.append(subprocess.Popen(list(command), env=rank_environment(rank, nprocs, master_addr, port, secret, env),
                                          preexec_fn=before_exec))
        while True:
            codes = [p.poll() for p in procs]
            failed = [(r, c) for r, c in enumerate(codes) if c not in (None, 0)]
            if failed:
                rank, code = failed[0]
                print(f"[aclnn_py.launch] rank {rank} (pid {procs[rank].pid}) exited with code {code}; "
                      f"stopping the other ranks", file=log, flush=True)
                _stop(procs, grace)
                return _exit_code(code)
            if all(c == 0 for c in codes):
                return 0
            if deadline is not None and time.monotonic() > deadline:
                running = [r for r, c in enumerate(codes) if c is None]
                print(f"[aclnn_py.launch] timeout after {timeout:g} s; rank(s) {running} still running: stopping them",
                      file=log, flush=True)
                _stop(procs, grace)
                return 124
            time.sleep(0.05)
    except KeyboardInterrupt:
        _stop(procs, grace)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m aclnn_py.launch",
        description="Run a script in N processes, one HCCL rank each (torchrun-style environment).",
    )
    parser.add_argument("-n", "--nproc", "--nproc-per-node", "--nproc_per_node", dest="nproc", type=int, required=True,
                        help="number of processes (ranks) on this host")
    parser.add_argument("--master-addr", "--master_addr", default="127.0.0.1", help="MASTER_ADDR (default 127.0.0.1)")
    parser.add_argument("--master-port", "--master_port", type=int, default=None, help="MASTER_PORT (default: a free port)")
    parser.add_argument("--timeout", type=float, default=None, help="stop every rank after this many seconds (exit 124)")
    parser.add_argument("--grace", type=float, default=5.0, help="seconds between SIGTERM and SIGKILL when stopping ranks")
    parser.add_argument("-m", dest="module", action="store_true", help="run the target as a module (python -m)")
    parser.add_argument("target", help="the script (or module with -m)")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments passed to every rank")
    ns = parser.parse_args(argv)
    command = [sys.executable, *(["-m"] if ns.module else []), ns.target, *ns.args]
    return run(command, ns.nproc, master_addr=ns.master_addr, master_port=ns.master_port, timeout=ns.timeout,
               grace=ns.grace)

