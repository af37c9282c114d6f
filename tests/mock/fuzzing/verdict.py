"""Judging what a fuzz case reported (pure: reads the child's JSON records).

The rules (issue 9, "documented codes, never internal errors"):

* GetWorkspaceSize (and aclnnCalculateMatmulWeightSize[V2]) return 0, 161001,
  161002, 361001 or 561002; the execute calls 0, 161001, 161002 or 361001;
  aclrtSynchronizeStream after them 0, or the operator's documented run-time
  failure (GroupedMatmulV5: 507015 for invalid device groupList values;
  TransQuantParamV2: 561002 for a NaN/Inf scale). Never an internal-error code
  (500000, 507000, 561000, 561001, 561103...).
* The fuzzer's own calls (aclrtMalloc, aclrtMemcpy, aclrtFree, the destroy
  calls) succeed: their failure is bookkeeping gone wrong.
* aclCreateTensor / aclCreateTensorList / aclCreateIntArray may refuse (NULL).
* Every failure comes with a non-empty aclGetRecentErrMsg naming a parameter
  of the function (or, after execute, of the operator); 361001 (the operator
  does not exist on this SoC) names the operator instead, no parameter being
  at fault.
* The Python API raises only the project's errors -- AclnnParamError,
  AclnnRuntimeError, AclnnInternalError with 561002, AclError with a
  documented code, ArgumentError (with its parameter), TypeError -- never
  KeyError, IndexError, OverflowError, ZeroDivisionError...
* QuantMatmulAllReduce is never accepted on Atlas A3 nor with a 3-rank
  communicator (no profile supports 3 ranks).
* An execute call given a wrong workspace (NULL, too small a size, freed, too
  short, another device's, host memory) or a wrong stream (destroyed, not a
  stream, another device's) fails.
* Executed cases wrote nothing outside their outputs, and both ranks of an
  AllReduce produced the same bytes.
* The outputs of an accepted, executed call of a generic operator
  (:mod:`.generic_ops`) equal its golden: the child compares them and reports a
  mismatch as a violation of the record.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from aclnn_py.semantics import catalogue
from aclnn_py.semantics.headers import load
from fuzzing.generic_ops import GENERIC

PHASE1 = {0, 161001, 161002, 361001, 561002}
EXECUTE = {0, 161001, 161002, 361001}
SYNC = {"quant_matmul_all_reduce": {0}, "grouped_matmul": {0, 507015}, "trans_weight": {0}, "trans_quant": {0, 561002},
        **{name: {0} for name in GENERIC}}
#: Codes the Python API may raise as AclError (allocation failures of outputs it makes).
PYTHON_ACL = {207001}
INTERNAL = {500000, 507000, 561000, 561001, 561003, 561103, 107000}
PYTHON_ERRORS = {"AclnnParamError", "AclnnRuntimeError", "AclnnInternalError", "AclError", "ArgumentError",
                 "TypeError"}
#: The Python-level names of the arguments (keywords of aclnn_py.ops and of Tensor).
PYTHON_NAMES = ("x1", "x2", "x2_scale", "dequant_scale", "x1_scale", "pertoken_scale", "bias", "x3",
                "comm_quant_scale_1", "comm_quant_scale_2", "out", "output", "out_dtype", "x_dtype", "group",
                "reduce_op", "comm_turn", "stream_mode", "group_size", "comm_quant_mode", "rank_size", "x",
                "weight", "scale", "offset", "antiquant_scale", "antiquant_offset", "per_token_scale",
                "group_list", "split_item", "group_type", "group_list_type", "act_type", "tuning_config",
                "tensor", "shape", "strides", "storage_shape", "format", "dtype", "array", "address", "values",
                "nbytes", "mmWeightRef") + tuple(sorted({p.name for op in GENERIC.values()
                                                         for p in catalogue.project_signature(op.op).parameters}))


@dataclass
class Verdict:
    """The problems found in one case (empty: it passed) and its figures."""

    problems: list[str] = field(default_factory=list)
    phase1: object = None  # the first rank's GetWorkspaceSize code, or the Python outcome
    executed: bool = False
    sync: object = None


@lru_cache(maxsize=None)
def _parameters(function: str) -> tuple[str, ...]:
    """The C parameter names of a function (a runtime one, or an operator's from its header)."""
    fn = load().functions.get(function)
    if fn is not None:
        names = set(fn.parameters)
    else:
        found = catalogue.project_index().find(function)
        if found is None or not found.declared:
            return ()
        names = {name for _, name in found.prototype.parameters}
    names |= {n.removesuffix("Optional") for n in names}
    return tuple(sorted(names, key=len, reverse=True))


def _names_parameter(message: str, names) -> bool:
    return any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", message) for n in names)


def _allowed(role: str, op: str) -> set:
    if role == "op":
        return PHASE1
    if role == "exec":
        return EXECUTE
    if role == "sync":
        return SYNC[op]
    if role == "create":
        return {0, "NULL"}
    if role == "rebind":  # aclSetTensorAddr: an index out of range or a tensor not the executor's is refused
        return {0, 161001, 161002}
    return {0}


def judge(event: dict, op_function: str, profile: str) -> Verdict:
    """Judge one ``{"event": "case"}`` line of :mod:`.child` (``op_function``: its GetWorkspaceSize,
    ``profile``: the SoC profile it ran on)."""
    v = Verdict()
    op = event["op"]
    op_names = _parameters(op_function)
    for record in event["records"]:
        where = f"rank {record['rank']}"
        v.problems += [f"{where}: {p}" for p in record["violations"]]
        for function, code, message, role in record["calls"]:
            allowed = _allowed(role, op)
            if code not in allowed:
                kind = "an internal-error code" if code in INTERNAL else "an undocumented code"
                v.problems.append(f"{where}: {function} returned {kind} {code} (allowed: "
                                  f"{sorted(allowed, key=str)}): {message!r}")
            if code != 0:
                names = _parameters(function) + (op_names if role in ("exec", "sync") else ())
                if code == 361001:  # an unsupported SoC: no parameter is at fault, the operator is named
                    names += (function.removesuffix("GetWorkspaceSize"),)
                if not message:
                    v.problems.append(f"{where}: {function} returned {code} with an empty aclGetRecentErrMsg")
                elif names and not _names_parameter(message, names):
                    v.problems.append(f"{where}: {function} returned {code} but the message names no "
                                      f"parameter: {message!r}")
            if role == "exec" and code == 0 and record.get("wrong_launch"):
                v.problems.append(f"{where}: {function} accepted a wrong launch ({record['wrong_launch']})")
            if role == "op" and function == op_function and record["rank"] == 0:
                v.phase1 = code
            if role == "sync" and record["rank"] == 0:
                v.sync = code
        if record["python"] is not None:
            v.problems += [f"{where}: {p}" for p in _judge_python(record["python"], op, op_names)]
            if record["rank"] == 0:
                v.phase1 = _python_outcome(record["python"])
        v.executed |= record["executed"]
    if op == "quant_matmul_all_reduce" and v.phase1 in (0, "returned"):
        if event["ranks"] == 3:
            v.problems.append("QuantMatmulAllReduce accepted a 3-rank communicator")
        if profile == "A3":
            v.problems.append("QuantMatmulAllReduce accepted on Atlas A3")
    digests = {r["output_digest"] for r in event["records"] if r["executed"]}
    if len(event["records"]) == 2 and all(r["executed"] for r in event["records"]) and len(digests) > 1 \
            and v.sync in (0, None) and not event.get("launch"):  # a re-pointed tensor may hold anything
        v.problems.append("the two ranks of the AllReduce wrote different outputs")
    return v


def _python_outcome(python: dict) -> object:
    if python.get("type") is None:
        return "returned"
    return f"{python['type']}({python['code']})" if python.get("code") is not None else python["type"]


def _judge_python(python: dict, op: str, op_names: tuple[str, ...]) -> list[str]:
    kind = python.get("type")
    if kind is None:
        return []
    text = f"{kind} at {python['stage']} ({python['where']}): {python['message']!r}"
    problems = []
    if kind not in PYTHON_ERRORS and not (set(python["classes"]) & PYTHON_ERRORS - {"TypeError"}):
        return [f"the Python API raised a foreign exception {text}"]
    code = python.get("code")
    if not python["message"]:
        problems.append(f"the Python API raised {kind} with an empty message")
    if kind == "ArgumentError" and not python.get("parameter"):
        problems.append(f"ArgumentError without a parameter: {text}")
    if kind == "TypeError" and not _names_parameter(python["message"], PYTHON_NAMES + op_names):
        problems.append(f"TypeError whose message names no parameter: {text}")
    if code is not None:
        if python["stage"] == "synchronize":
            allowed = SYNC[op]
        elif kind == "AclError":
            allowed = PYTHON_ACL
        else:
            allowed = PHASE1 | EXECUTE
        if code not in allowed:
            problems.append(f"the Python API raised {kind} with code {code} (allowed {sorted(allowed)}): {text}")
        elif kind in ("AclnnParamError", "AclnnRuntimeError", "AclnnInternalError", "AclError"):
            names = PYTHON_NAMES + op_names + _parameters(python.get("function") or "")
            if code == 361001:
                names += ((python.get("function") or "").removesuffix("GetWorkspaceSize"),)
            if not _names_parameter(python["message"], names):
                problems.append(f"{kind} whose message names no parameter: {text}")
    return problems
