"""``aclnn-py selfcheck``: every mode on the present backend, compared with the golden.

Runs, with small shapes, every QuantMatmulAllReduceV4 formula (1-8), the
V1-V3 and V5 entry points, MatmulAllReduce V1-V3 and WeightQuantMatmulAllReduce
V1-V2 on 1, 2, 4 and 8 thread ranks (each with its own context,
stream and rank of a real HCCL communicator), every GroupedMatmulV5 scenario
and group-list kind, TransMatmulWeight, TransQuantParamV2, Mm, Matmul, Cast, Permute,
CalculateMatmulWeightSize(V2), the runtime basics and the HCCL collectives.
Each output is compared with the NumPy golden of :mod:`aclnn_py.semantics` under
CANN's precision standard (:mod:`aclnn_py.semantics.precision`: mean relative error
< T, max relative error < 10 T; integers and packed words exact). Modes the SoC
(``aclrtGetSocName``) does not have, and rank counts beyond the device count,
are listed as skipped with the reason.

Output: progress while it runs, then a table (mode, ranks, status, max and mean
relative error against their limits, time); ``--json FILE`` writes the same as
JSON (``-``: to stdout, and the human output goes to stderr), ``--only PATTERN``
(repeatable) selects modes by name or ``name@ranks`` (shell wildcards, else a
substring), ``--list`` lists them.
Exit status 0 when nothing failed, 1 naming the failed modes, 2 for a pattern
that selects nothing.

It uses only the public API, so the same command checks an Ascend host.
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Sequence

__all__ = ["add_arguments", "all_modes", "main"]


def all_modes():
    """Every mode, in the order of the table."""
    from . import (basics, cast, grouped_matmul, mat_mul_v3, matmul_all_reduce, neighbour_operators, permute,
                   quant_matmul_all_reduce, trans_matmul_weight, trans_quant_param)

    return (basics.modes() + trans_matmul_weight.modes() + trans_quant_param.modes() + mat_mul_v3.modes()
            + cast.modes() + permute.modes() + neighbour_operators.modes() + grouped_matmul.modes()
            + quant_matmul_all_reduce.modes() + matmul_all_reduce.modes() + basics.collective_modes())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--only", metavar="PATTERN", action="append", default=[],
                        help="run only the modes whose name (or name@ranks) matches; shell wildcards, "
                             "else a substring; repeatable")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON ('-': stdout, the report then on stderr)")
    parser.add_argument("--list", action="store_true", help="list the selected modes and exit")


def main(args: argparse.Namespace) -> int:
    from .framework import matches

    selected = [mode for mode in all_modes() if matches(mode, args.only)]
    if not selected:
        print(f"aclnn-py selfcheck: no mode matches {', '.join(args.only)} (--list shows them)", file=sys.stderr)
        return 2
    if args.list:
        for mode in selected:
            print(mode.key)
        return 0
    return _check(selected, args.json)


def _check(selected: Sequence, json_path: str | None) -> int:
    import aclnn_py

    from . import report, runner

    human = sys.stderr if json_path == "-" else sys.stdout  # stdout carries the JSON alone
    start = time.perf_counter()
    runtime = aclnn_py.Runtime()
    lib = aclnn_py.lib
    environment = {"aclnn_py": aclnn_py.__version__, "backend": lib.backend, "library_dir": str(lib.directory),
                   "soc": runtime.soc_name, "device_count": runtime.device_count}
    print(f"aclnn-py selfcheck: backend {lib.backend} ({lib.directory}), SoC {runtime.soc_name}, "
          f"{runtime.device_count} devices, {len(selected)} checks", file=human, flush=True)
    progress = report.Progress(len(selected), out=human)
    try:
        outcomes = runner.run(list(selected), started=progress.start, finished=progress.done, runtime=runtime)
    finally:
        progress.finish()
    # Not on the way out of an interrupt: rank threads may still hold resources of this runtime;
    # the process frees everything at exit, once they have stopped.
    runtime.close()
    seconds = time.perf_counter() - start
    print(report.table(outcomes), file=human)
    document = report.document(outcomes, environment, seconds)
    counts = document["summary"]
    print(f"\n{counts['pass']} passed, {counts['fail']} failed, {counts['error']} errors, "
          f"{counts['skip']} skipped in {seconds:.1f} s", file=human)
    failed = [o for o in outcomes if o.failed]
    for outcome in failed:
        print(f"{outcome.status} {outcome.mode.name} ({report.ranks_text(outcome.mode.ranks)}): {outcome.detail}",
              file=human)
    if json_path:
        report.dump(document, json_path)
    return 1 if failed else 0
