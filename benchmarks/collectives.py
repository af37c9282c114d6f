"""Every HCCL collective on the mock, each compared with the NumPy work it implies.

    python benchmarks/collectives.py [--ranks 8] [--mib 64] [--repeat 3] [--only NAME ...]

Eight thread-ranks (HcclCommInitAll, one context and stream per rank) run each collective
through the binding on float32 buffers of ``--mib`` MiB per rank (the larger of a rank's send
and receive buffers: AllGather sends 1/8 of it, ReduceScatter receives 1/8). The time of one
call is measured from a barrier that releases every rank to the moment the last rank's stream
is synchronised. The baseline is the NumPy work the call implies on the same host arrays: a sum
of the ranks' arrays for the reductions (for AllReduce, summed into one rank's array and copied
to the others: every rank receives it), the copies of what every rank receives for the data
movement (a transpose of blocks for the all-to-alls). The machine, the best of ``--repeat``
interleaved runs of each, and their ratios are printed (the target: at most 1.3 each).
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("ACLNN_PY_BACKEND", "mock")

from aclnn_py import Context, DeviceBuffer, Runtime, Stream, backend, hccl  # noqa: E402
from machine import describe  # noqa: E402

F32 = np.float32


def numpy_sum(arrays: list[np.ndarray]) -> np.ndarray:
    total = arrays[0] + arrays[1] if len(arrays) > 1 else arrays[0].copy()
    for a in arrays[2:]:
        total += a
    return total


@dataclass
class Case:
    """One collective: what each rank calls, what it should receive, and the NumPy baseline."""

    name: str
    send_elems: int  # per rank
    recv_elems: int
    call: Callable  # (comm, send, recv, stream) -> None
    expected: Callable[[int], np.ndarray | None]  # rank -> its receive buffer after the call (None: not checked)
    baseline: Callable[[], object]


def cases(n: int, count: int, host: list[np.ndarray]) -> list[Case]:
    """``count`` float32 elements per rank; ``host[r]`` is rank r's send data (``count`` elements)."""
    block = count // n
    blocks = [[h[j * block:(j + 1) * block] for j in range(n)] for h in host]
    out = [np.empty(count, F32) for _ in range(n)]  # the baselines' destinations, made once
    counts, displs = [block] * n, [j * block for j in range(n)]
    total = numpy_sum(host)

    def gather_copies():
        for r in range(n):
            np.concatenate([h[:block] for h in host], out=out[r])

    def deliver_sum():  # every rank receives the sum: one summed into place, copied to the others
        np.add(host[0], host[1], out=out[0])
        for h in host[2:]:
            out[0] += h
        for r in range(1, n):
            np.copyto(out[r], out[0])

    def transpose_blocks():
        for r in range(n):
            np.concatenate([blocks[i][r] for i in range(n)], out=out[r])

    return [
        Case("AllReduce", count, count, lambda c, s, r, st: c.all_reduce(s, r, count, F32, "sum", st),
             lambda rank: total, deliver_sum),
        Case("ReduceScatter", count, block, lambda c, s, r, st: c.reduce_scatter(s, r, block, F32, "sum", st),
             lambda rank: total[rank * block:(rank + 1) * block], lambda: numpy_sum(host)),
        Case("Reduce", count, count, lambda c, s, r, st: c.reduce(s, r, count, F32, "sum", 0, st),
             lambda rank: total if rank == 0 else None, lambda: numpy_sum(host)),
        Case("AllGather", block, count, lambda c, s, r, st: c.all_gather(s, r, block, F32, st),
             lambda rank: np.concatenate([h[:block] for h in host]), gather_copies),
        Case("AllGatherV", block, count, lambda c, s, r, st: c.all_gather_v(s, block, r, counts, displs, F32, st),
             lambda rank: np.concatenate([h[:block] for h in host]), gather_copies),
        Case("Broadcast", count, 0, lambda c, s, r, st: c.broadcast(s, count, F32, 0, st),
             lambda rank: None, lambda: [np.copyto(out[r], host[0]) for r in range(1, n)]),
        Case("Scatter", count, block, lambda c, s, r, st: c.scatter(s, r, block, F32, 0, st),
             lambda rank: blocks[0][rank], lambda: np.copyto(out[0], host[0])),
        Case("AlltoAll", count, count, lambda c, s, r, st: c.all_to_all(s, r, block, F32, st),
             lambda rank: np.concatenate([blocks[i][rank] for i in range(n)]), transpose_blocks),
        Case("AlltoAllV", count, count,
             lambda c, s, r, st: c.all_to_all_v(s, counts, displs, r, counts, displs, F32, st),
             lambda rank: np.concatenate([blocks[i][rank] for i in range(n)]), transpose_blocks),
        Case("AlltoAllVC", count, count, lambda c, s, r, st: c.all_to_all_vc(s, [counts] * n, r, F32, st),
             lambda rank: np.concatenate([blocks[i][rank] for i in range(n)]), transpose_blocks),
        Case("Send/Recv", count, count,
             lambda c, s, r, st: (c.send(s, count, F32, c.rank + 1, st) if c.rank % 2 == 0
                                  else c.recv(r, count, F32, c.rank - 1, st)),
             lambda rank: host[rank - 1] if rank % 2 else None,
             lambda: [np.copyto(out[r], host[r - 1]) for r in range(1, n, 2)]),
        Case("BatchSendRecv", count, count,
             lambda c, s, r, st: c.batch_send_recv([("send", s, count, F32, (c.rank + 1) % n),
                                                    ("recv", r, count, F32, (c.rank - 1) % n)], st),
             lambda rank: host[(rank - 1) % n], lambda: [np.copyto(out[r], host[(r - 1) % n]) for r in range(n)]),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", type=int, default=8)
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", action="append", default=[], help="run only these collectives (by name)")
    args = parser.parse_args()
    n = args.ranks
    count = args.mib * (1 << 20) // 4 // n * n
    rng = np.random.default_rng(0)
    host = [rng.standard_normal(count, dtype=F32) for _ in range(n)]
    selected = [c for c in cases(n, count, host) if not args.only or c.name in args.only]
    print(f"machine: {describe()}")
    print(f"backend: {backend()}; {n} ranks, {args.mib} MiB float32 per rank, best of {args.repeat}")
    print(f"{'collective':<14} {'mock':>10} {'NumPy':>10} {'ratio':>7}")

    with Runtime():
        comms = hccl.init_all(range(n))
        gate, done = threading.Barrier(n + 1), threading.Barrier(n + 1)
        correct: dict[tuple[str, int], bool] = {}

        def rank_main(comm: hccl.Communicator) -> None:
            with Context(comm.device), Stream() as stream:
                for case in selected:
                    send = DeviceBuffer.from_numpy(host[comm.rank][:case.send_elems])
                    recv = DeviceBuffer(max(case.recv_elems, 1) * 4)
                    for _ in range(args.repeat):
                        gate.wait()
                        case.call(comm, send, recv, stream)
                        stream.synchronize()
                        done.wait()
                    want = case.expected(comm.rank)
                    got = (send if case.name == "Broadcast" else recv).to_numpy(F32)
                    correct[(case.name, comm.rank)] = want is None or np.array_equal(got[:want.size], want)
                    send.close()
                    recv.close()

        threads = [threading.Thread(target=rank_main, args=(c,)) for c in comms]
        for t in threads:
            t.start()
        ratios = []
        for case in selected:
            timings, baseline = [], []
            for _ in range(args.repeat):  # interleaved: both see the same load
                start = time.perf_counter()
                case.baseline()
                baseline.append(time.perf_counter() - start)
                gate.wait()
                start = time.perf_counter()
                done.wait()
                timings.append(time.perf_counter() - start)
            best, base = min(timings), min(baseline)
            ratios.append(best / base)
            print(f"{case.name:<14} {best * 1e3:8.1f} ms {base * 1e3:8.1f} ms {best / base:6.2f}x", flush=True)
        for t in threads:
            t.join()
        for c in comms:
            c.close()
    wrong = sorted({case.name for case in selected for r in range(n) if not correct.get((case.name, r), False)})
    print(f"results correct: {not wrong}{'' if not wrong else ' (wrong: ' + ', '.join(wrong) + ')'}")
    print(f"largest ratio: {max(ratios):.2f}x (target <= 1.3)")


if __name__ == "__main__":
    main()
