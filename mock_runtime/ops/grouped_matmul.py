"""aclnnGroupedMatmulV5 in the mock: rules at GetWorkspaceSize, the golden's math on the stream.

Phase 1 runs :func:`aclnn_py.semantics.grouped_matmul.rules.check` with the profile of
the SoC chosen at aclInit (which returns the call's
:class:`~aclnn_py.semantics.grouped_matmul.call.GroupedMatmulCall`), drops the placeholders
the rules treat as absent (:func:`~aclnn_py.semantics.grouped_matmul.rules.absent`), proves every tensor inside
live device memory (:mod:`mock_runtime.core.tensor_io`: a NULL data address
161001; a freed, foreign or too small allocation, or an impossible layout
161002) and records the descriptors. The queued work (:func:`_run`, on the
stream's worker thread) reads the inputs from device memory -- the groupList
included, so a groupList written by earlier work on the same stream is seen --
decodes the groupList once (:func:`~aclnn_py.semantics.grouped_matmul.call.group_ranges`)
and hands the call and the ranges to
:func:`aclnn_py.semantics.grouped_matmul.golden.compute`, whose formulas follow the
call's profile (A8W4 differs between Atlas A2/A3 and the Ascend 950). ND inputs
are read as zero-copy views of device memory; the golden cuts them into
per-group views, and its per-group matmuls run as units of the compute pool
(:mod:`mock_runtime.core.compute`); an empty group costs nothing. Rows a
groupList leaves out are not written, so the output keeps its previous contents
there.

Workspace: 16 MiB (CANN's system workspace size) for a non-empty call, 0 for an
all-empty one. Invalid device data found when the work runs (a groupList whose
total exceeds the grouped axis, a decreasing cumulative list, an expert index
out of range...) fails the task with ACL_ERROR_RT_AICORE_EXCEPTION; the error
surfaces at the next aclrtSynchronizeStream / aclrtSynchronizeDevice.
"""
from __future__ import annotations

import inspect
from dataclasses import replace
from functools import partial

import numpy as np

from aclnn_py.semantics.descriptors import TensorDesc
from aclnn_py.semantics.grouped_matmul import call as classification
from aclnn_py.semantics.grouped_matmul import golden
from aclnn_py.semantics.grouped_matmul import rules
from aclnn_py.semantics.grouped_matmul.entry_points import ENTRY_POINTS, EntryPoint
from aclnn_py.semantics.signatures import Kind
from mock_runtime.core import compute, objects, tensor_io
from mock_runtime.core import runtime as rt
from mock_runtime.core.errors import C, MockError
from mock_runtime.ops import as_status, implements

WORKSPACE_SIZE = 16 * 1024 * 1024
_OUTPUTS = ["out"]
#: The operator's IR inputs (ops-transformer gmm/grouped_matmul/op_host/grouped_matmul_def.cpp: 9 inputs,
#: no activation ones): what the aclSet*TensorAddr indices count (V1/V2's host groupList is converted to
#: the IR's groupList tensor, which the caller does not own: an absent input here).
_INPUTS = ["x", "weight", "bias", "scale", "offset", "antiquant_scale", "antiquant_offset", "group_list",
           "per_token_scale"]
#: The optional input lists a placeholder (one empty tensor) may stand for (rules.absent).
_PLACEHOLDER_LISTS = ("bias", "scale", "offset", "antiquant_scale", "antiquant_offset", "per_token_scale")
#: The keyword inputs of the golden: the other input lists are not read (the rules require them NULL).
_GOLDEN_INPUTS = tuple(name for name, p in inspect.signature(golden.compute).parameters.items()
                       if p.kind is p.KEYWORD_ONLY and name not in ("ranges", "out", "map"))


def _tensors(signature: EntryPoint) -> tuple[tuple[str, ...], dict[str, str]]:
    """The tensor parameters of an entry point (canonical names, header order) and the C names."""
    header = signature.header
    tensors = tuple(p.name for p in header.parameters if p.kind in (Kind.TENSOR, Kind.TENSOR_LIST))
    return tensors, {p.name: p.c_name for p in header.parameters}


def prepare(*, signature: EntryPoint, **arguments) -> objects.Executor:
    """Check one call of ``signature`` (its header's parameters by canonical name) and build its executor."""
    settings = rt.require()
    if isinstance(arguments.get("weight"), list) and isinstance(arguments.get("x"), list):  # as read (NZ data)
        arguments["weight"] = rules.weights_as_read(signature, arguments["weight"], x=arguments["x"],
                                                    profile=settings.profile)
    with as_status():
        call = rules.check(**arguments, profile=settings.profile, signature=signature)
    tensors, labels = _tensors(signature)
    # the placeholders the rules take as absent are absent here too (never read, never proven)
    params: dict[str, object] = {name: None if name in _PLACEHOLDER_LISTS and rules.absent(arguments[name])
                                 else arguments[name] for name in tensors}
    tensor_io.prove_params(params, _OUTPUTS, labels)  # every tensor inside live device memory now
    op = signature.op
    if call.empty:
        return objects.Executor(op=op, device=rt.current_device(), workspace_size=0, params=params,
                                run=lambda p: None, inputs=_INPUTS, outputs=_OUTPUTS)
    host = arguments.get("group_list") if signature.host_group_list else None
    host = None if not host else np.asarray(host, np.int64)
    return objects.Executor(op=op, device=rt.current_device(), workspace_size=WORKSPACE_SIZE, params=params,
                            run=lambda p: _run(p, call, labels, host), inputs=_INPUTS, outputs=_OUTPUTS)


def _read_list(values, what: str) -> list[np.ndarray] | None:
    if values is None:
        return None
    return [tensor_io.view(d, f"{what}[{i}]") for i, d in enumerate(values)]


def _aicore(message: str) -> MockError:
    return MockError(C["ACL_ERROR_RT_AICORE_EXCEPTION"], message)


# --------------------------------------------------------------------------- the work

def _run(params: dict[str, object], call: classification.GroupedMatmulCall, labels: dict[str, str],
         host: np.ndarray | None) -> None:
    """The work of a call: the groupList is ``host`` (V1/V2's array), else the tensor's device data,
    read now (work queued before on the same stream may have written it); groupType -1 reads none."""
    arrays = {name: _read_list(params.get(name), labels.get(name, name)) for name in ("x", "weight", *_GOLDEN_INPUTS)}
    gl_desc = params.get("group_list")
    group_list = host if host is not None or gl_desc is None else tensor_io.read(gl_desc, labels["group_list"])
    try:
        ranges = None if call.group_type == -1 else classification.group_ranges(call, group_list)
    except ValueError as exc:
        raise _aicore(f"invalid groupList: {exc}") from None
    outs: list[TensorDesc] = list(params["out"])  # type: ignore[arg-type]
    written_rows = None
    if ranges is not None and call.pattern == "m_single":
        written_rows = ranges[-1][2] if ranges else 0
    if ranges is not None and call.pattern == "m_split":
        got = [o.shape[0] for o in outs]
        rows = [b - a for _, a, b in ranges]
        if got != rows:
            raise _aicore(f"groupList assigns {rows} rows to the groups but the out tensors have {got}")
    try:
        results = golden.compute(
            call, arrays.pop("x"), arrays.pop("weight"), **arrays, ranges=ranges,
            map=partial(compute.pool.map, blas=True))
    except ValueError as exc:
        raise _aicore(f"the kernel rejected the device data: {exc}") from None
    for i, (desc, values) in enumerate(zip(outs, results)):
        if written_rows is not None and desc.ndim == 2:
            if written_rows == 0:
                continue
            desc = replace(desc, shape=(written_rows,) + desc.shape[1:])
            values = values[:written_rows]
        tensor_io.write(desc, values, f"out[{i}]")


def _entry_point(signature: EntryPoint):
    """The execution of one entry point: :func:`prepare` for its signature."""
    def run(**arguments) -> objects.Executor:
        return prepare(signature=signature, **arguments)
    run.__name__ = f"prepare_{signature.op}"
    return run


for _signature in ENTRY_POINTS.values():
    implements(_signature.op)(_entry_point(_signature))
