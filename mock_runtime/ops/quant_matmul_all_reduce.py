"""The MatmulAllReduce family on the mock: aclnnQuantMatmulAllReduce V1-V5, aclnnMatmulAllReduce
V1-V3 and aclnnWeightQuantMatmulAllReduce V1-V2 (matmul, quantized or not, + AllReduce-sum).

The entry points are one operator: ``mock_runtime.exports.opapi`` maps
each one's C arguments onto the family's canonical arguments with its
:class:`~aclnn_py.semantics.quant_matmul_all_reduce.call.Signature`, and
:func:`prepare` does the rest for all of them. GetWorkspaceSize runs
:func:`aclnn_py.semantics.quant_matmul_all_reduce.rules.check_entry` for that signature (the
binding runs the same rules), keeps the
:class:`~aclnn_py.semantics.quant_matmul_all_reduce.call.QuantMatmulAllReduceCall` it returns, resolves
``group`` to the mock HCCL communicator of the current device and checks its rank
count. The stream task of every rank reads its inputs from device memory, computes
its contribution with :func:`aclnn_py.semantics.quant_matmul_all_reduce.golden.partial`
of that call (one BLAS unit of the compute pool, :mod:`mock_runtime.core.compute`:
the ranks' products take turns on all the cores instead of all running at once, and
each finishes its rows on every core), hands it to the
other ranks (``Communicator.combine``, blocking until every rank has reached the
same point on its own stream) and writes
:func:`~aclnn_py.semantics.quant_matmul_all_reduce.golden.reduce` of the ranks'
contributions (in rank order, never stacked into a copy) to ``output`` -- the same values on every rank. The reduction runs
once for the ranks of this process (in blocks of rows on the pool), not once per
rank.

A call whose output is empty (MatmulAllReduce with m or n = 0) computes and communicates
nothing, as CANN's framework returns before tiling for it (the documents: "此场景不进入kernel计算，
直接返回"); its workspace is 0.

Workspace: a fixed 16 MiB, standing in for the MC2 system workspace (the mock
never touches it; it only checks that the caller passes it).

Execute with a NULL executor: ACLNN_ERR_INNER (561000). Each entry point's op_api returns
ACLNN_ERR_INNER whenever aclnnInnerMatmulAllReduce fails (ops-transformer
mc2/matmul_all_reduce/op_api/aclnn_*matmul_all_reduce*.cpp, the second-phase functions;
MatmulAllReduceV3 and QuantMatmulAllReduceV5 check a NULL executor first). The other misuses of
the execute call the mock detects (a stream of another device, a spent executor, a small
workspace) keep their documented codes naming the rule: on CANN they too end as ACLNN_ERR_INNER.
"""
from __future__ import annotations

import inspect

import numpy as np

from aclnn_py.semantics.dtypes import host_dtype
from aclnn_py.semantics.quant_matmul_all_reduce import call as classification
from aclnn_py.semantics.quant_matmul_all_reduce import golden
from aclnn_py.semantics.quant_matmul_all_reduce import rules
from mock_runtime.core import compute, objects, tensor_io
from mock_runtime.core import runtime as rt
from mock_runtime.core.errors import C, MockError
from mock_runtime.ops import as_status, implements

WORKSPACE_SIZE = 16 * 1024 * 1024
_OUTPUTS = ["output"]
#: The tensors the golden reads: its partial product's inputs, and its reduction's (the commQuantScales).
_PARTIAL_INPUTS = tuple(name for name, p in inspect.signature(golden.partial).parameters.items()
                        if name not in ("call", "map"))
_REDUCE_INPUTS = tuple(name for name, p in inspect.signature(golden.reduce).parameters.items()
                       if p.kind is p.KEYWORD_ONLY and name != "map")


def _reduction_key(call: classification.QuantMatmulAllReduceCall, *scales: np.ndarray | None) -> tuple:
    """What :func:`golden.reduce` depends on besides the partials: ranks with equal keys share
    one reduction (the doc requires identical commQuantScales on every rank; the mock does
    not rely on it)."""
    return (call.formula, call.out_dtype, call.x_dtype) + tuple(
        None if s is None else (s.dtype.str, s.shape, s.tobytes()) for s in scales)


def prepare(*, signature: classification.Signature, group: str | None, **arguments) -> objects.Executor:
    """Check one call of ``signature`` (its header's parameters by canonical name; V1-V3 leave V4's
    extras to the rules' defaults) and build its executor."""
    op = signature.op
    profile = rt.require().profile
    with as_status():
        call = rules.check_entry(**arguments, profile=profile, signature=signature)
    if group is None:
        raise MockError(C["ACLNN_ERR_PARAM_NULLPTR"], "group is a null pointer: expected the "
                                                      "communicator name from HcclGetCommName")
    device = rt.current_device()
    from mock_runtime.hccl import registry  # loaded with the first communicator (see runtime.leak_report)

    comm = registry.find_communicator(group, device)
    with as_status():
        rules.check_rank_count(profile, comm.size, signature)
    params = {name: arguments[name] for name in signature.tensors}
    params["x2"] = rules.canonical_x2(params["x2"])
    labels = {key: name for name, key in signature.params.items()}  # C parameter names, for messages
    tensor_io.prove_params(params, _OUTPUTS, labels)  # every tensor inside live device memory now
    output = params["output"]
    if output.numel == 0:  # type: ignore[attr-defined]
        return objects.Executor(op=op, device=device, workspace_size=0, params=params, run=lambda p: None)

    def run(p: dict[str, object]) -> None:
        def read(name: str) -> np.ndarray | None:
            """The tensor's contents: a C-ordered view of device memory (a copy when its layout
            has no such view), as the golden has always been given."""
            desc = p.get(name)
            if desc is None:
                return None
            return np.ascontiguousarray(tensor_io.view(desc, labels.get(name, name)))  # type: ignore[arg-type]

        arrays = {name: read(name) for name in (*_PARTIAL_INPUTS, *_REDUCE_INPUTS)}
        try:
            partial = compute.pool.call(golden.partial, call, **{name: arrays[name] for name in _PARTIAL_INPUTS},
                                        map=compute.pool.map, blas=True)
        except ValueError as exc:  # the rules accepted what cannot be computed: still join the exchange
            failure = exc
            partial = np.zeros(output.shape, np.float32 if call.formula == 8 else host_dtype(call.out_dtype))
        else:
            failure = None
        scales = {name: arrays[name] for name in _REDUCE_INPUTS}

        def reduce(partials) -> np.ndarray:
            return golden.reduce(call, partials, **scales, map=compute.pool.map)

        result = comm.combine(partial, op, reduce, _reduction_key(call, *scales.values()))
        if failure is not None:
            raise MockError(C["ACLNN_ERR_INNER_TILING_ERROR"], f"rank {comm.rank}: {failure}")
        tensor_io.write(p["output"], result, "output")  # type: ignore[arg-type]

    return objects.Executor(op=op, device=device, workspace_size=WORKSPACE_SIZE, params=params, run=run)


def _entry_point(signature: classification.Signature):
    """The execution of one entry point: :func:`prepare` for its signature."""
    def run(**arguments) -> objects.Executor:
        return prepare(signature=signature, **arguments)
    run.__name__ = f"prepare_{signature.op}"
    return run


for _signature in classification.SIGNATURES.values():
    implements(_signature.op, null_executor=C["ACLNN_ERR_INNER"])(_entry_point(_signature))
