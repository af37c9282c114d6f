"""Run fuzz cases in this process, one JSON line per case on stdout (see tests/mock/fuzzing/__init__.py).

    python tests/mock/fuzzing/child.py --seed S --soc PROFILE --start I --count N [--verbose]

Before each case a ``{"event": "begin", "index": I}`` line, after it a
``{"event": "case", ...}`` line with what every call returned (the parent's
:mod:`.verdict` judges it); at the end ``{"event": "finalize", ...}`` with
aclFinalize's status under ACLNN_MOCK_STRICT=1 (every buffer, tensor, list,
executor and communicator the cases made must be gone). A crash or a hang is
what the parent sees when neither line comes.

``ACLNN_FUZZ_INJECT=abort@I`` (or ``hang@I``) makes the child abort (hang) at
case I: how tests/mock/test_fuzz.py checks that the parent observes both.

Rank 0 runs on the main thread (device 0); a 2-rank QuantMatmulAllReduce case
that may launch work runs on a second thread (device 1) as well, with the same
memory contents, so the AllReduce completes and both outputs can be compared.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import queue
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from fuzzing import cases  # noqa: E402
from fuzzing.c_calls import run_c  # noqa: E402
from fuzzing.cases import Case  # noqa: E402
from fuzzing.memory import POOL, Memory, Rank, Record  # noqa: E402
from fuzzing.python_calls import exception_record, run_python  # noqa: E402


def _setup_environment(profile: str) -> None:
    os.environ.setdefault("ACLNN_PY_BACKEND", "mock")
    os.environ["ACLNN_MOCK_SOC"] = cases.soc_of(profile)
    os.environ["ACLNN_MOCK_STRICT"] = "1"
    os.environ.setdefault("HCCL_EXEC_TIMEOUT", "10")
    os.environ.setdefault("HCCL_CONNECT_TIMEOUT", "10")
    warnings.filterwarnings("ignore", category=RuntimeWarning)  # NumPy on random bytes: NaN, overflow


# --------------------------------------------------------------------------- cases

def needs_peer(case: Case) -> bool:
    """A 2-rank QuantMatmulAllReduce call that may launch work runs on both ranks."""
    return case.op == "quant_matmul_all_reduce" and case.ranks == 2 and (case.api == "python" or case.execute)


def run_case(case: Case, rank: Rank) -> Record:
    record = Record(rank.rank)
    memory = Memory(rank, record, np.random.default_rng([case.seed, case.index, 7]))
    try:
        (run_python if case.api == "python" else run_c)(case, rank, memory)
    except Exception as exc:  # noqa: BLE001 -- a failure of the harness itself: reported, never hidden
        record.violations.append(f"the fuzzer's own code failed: {type(exc).__name__}: {exc} "
                                 f"({exception_record(exc, '')['where']})")
    finally:
        memory.release()
    return record


class Peer(threading.Thread):
    """Rank 1 on its own thread: runs the cases it is given."""

    def __init__(self, comms: dict[int, Any], pools: dict[int, int]) -> None:
        super().__init__(name="fuzz-rank-1", daemon=True)
        self.comms, self.pools = comms, pools
        self.inbox: queue.Queue = queue.Queue()
        self.outbox: queue.Queue = queue.Queue()

    def run(self) -> None:
        rank = Rank(1, self.comms, self.pools)
        self.outbox.put("ready")
        while True:
            case = self.inbox.get()
            if case is None:
                rank.close()
                self.outbox.put("closed")
                return
            self.outbox.put(run_case(case, rank))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--soc", choices=cases.PROFILES, required=True)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--verbose", action="store_true", help="print each case and its record on stderr")
    args = parser.parse_args(argv)
    _setup_environment(args.soc)

    import aclnn_py
    from aclnn_py import ffi, hccl

    lib = aclnn_py.lib
    runtime = aclnn_py.Runtime()
    devices = [aclnn_py.Device(d) for d in range(3)]
    pools = {}
    for d, device in enumerate(devices):
        device.use()
        out = ffi.new("void **")
        status = lib.aclrtMalloc(out, POOL, lib.ACL_MEM_MALLOC_HUGE_FIRST)
        if status:
            raise aclnn_py.AclError(status, "aclrtMalloc")
        pools[d] = int(ffi.cast("uintptr_t", out[0]))
    devices[0].use()
    groups = {size: hccl.init_all(list(range(size))) for size in (1, 2, 3)}
    comms0 = {size: comms[0] for size, comms in groups.items()}
    comms1 = {size: comms[1] for size, comms in groups.items() if size > 1}
    rank0 = Rank(0, comms0, pools)
    peer = Peer(comms1, pools)
    peer.start()
    peer.outbox.get()

    def emit(event: dict) -> None:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()

    fault, _, at = os.environ.get("ACLNN_FUZZ_INJECT", "").partition("@")
    for index in range(args.start, args.start + args.count):
        emit({"event": "begin", "index": index})
        if fault and int(at) == index:
            if fault == "abort":
                os.abort()
            time.sleep(3600)
        case = cases.generate(args.seed, args.soc, index)
        if args.verbose:
            print(case.describe(), file=sys.stderr)
        if needs_peer(case):
            peer.inbox.put(case)
        records = [run_case(case, rank0)]
        if needs_peer(case):
            records.append(peer.outbox.get())
        gc.collect()
        event = {"event": "case", "index": index, "op": case.op, "version": case.version, "api": case.api,
                 "ranks": case.ranks, "launch": case.launch, "records": [r.as_dict() for r in records]}
        if args.verbose:
            print(json.dumps(event, indent=1), file=sys.stderr)
        emit(event)

    peer.inbox.put(None)
    peer.outbox.get()
    rank0.close()
    for comms in groups.values():
        for comm in comms:
            comm.close()
    for d, address in pools.items():
        devices[d].use()
        lib.aclrtFree(ffi.cast("void *", address))
    for device in devices:
        device.close()
    gc.collect()
    try:
        runtime.close()
    except aclnn_py.AclError as exc:
        emit({"event": "finalize", "code": exc.code, "message": exc.message})
    else:
        emit({"event": "finalize", "code": 0, "message": ""})
    return 0


if __name__ == "__main__":
    sys.exit(main())
