"""aclnnQuantMatmulAllReduce, V2, V3 and V4 on the mock: quantized matmul + AllReduce-sum.

The four entry points are one operator: ``mock_runtime.exports.opapi`` maps
each one's C arguments onto V4's canonical arguments with its
:class:`~aclnn_py.semantics.quant_matmul_all_reduce.call.Signature`, and
:func:`prepare` does the rest for all of them. GetWorkspaceSize runs
:func:`aclnn_py.semantics.quant_matmul_all_reduce.rules.check` for that signature (the
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

Workspace: a fixed 16 MiB, standing in for the MC2 system workspace (the mock
never touches it; it only checks that the caller passes it).
"""
from __future__ import annotations

import numpy as np

from aclnn_py.semantics.descriptors import TensorDesc
from aclnn_py.semantics.dtypes import host_dtype
from aclnn_py.semantics.quant_matmul_all_reduce import call as classification
from aclnn_py.semantics.quant_matmul_all_reduce import golden
from aclnn_py.semantics.quant_matmul_all_reduce import rules
from mock_runtime.core import compute, objects, tensor_io
from mock_runtime.core import runtime as rt
from mock_runtime.core.errors import C, MockError
from mock_runtime.ops import as_status

WORKSPACE_SIZE = 16 * 1024 * 1024
_OUTPUTS = ["output"]


def _reduction_key(call: classification.QuantMatmulAllReduceCall, *scales: np.ndarray | None) -> tuple:
    """What :func:`golden.reduce` depends on besides the partials: ranks with equal keys share
    one reduction (the doc requires identical commQuantScales on every rank; the mock does
    not rely on it)."""
    return (call.formula, call.out_dtype, call.x_dtype) + tuple(
        None if s is None else (s.dtype.str, s.shape, s.tobytes()) for s in scales)


def prepare(*, signature: classification.Signature = classification.V4, x1: TensorDesc | None, x2: TensorDesc | None,
            x2_scale: TensorDesc | None, output: TensorDesc | None, group: str | None,
            reduce_op: str | None, comm_turn: int, stream_mode: int, bias: TensorDesc | None = None,
            x3: TensorDesc | None = None, x1_scale: TensorDesc | None = None,
            comm_quant_scale_1: TensorDesc | None = None, comm_quant_scale_2: TensorDesc | None = None,
            group_size: int = 0, comm_quant_mode: int = 0) -> objects.Executor:
    """Check one call of ``signature`` (canonical arguments; V1-V3 leave V4's extras at their
    defaults) and build its executor."""
    op = signature.op
    profile = rt.require().profile
    with as_status():
        call = rules.check(x1=x1, x2=x2, x2_scale=x2_scale, output=output, reduce_op=reduce_op,
                           bias=bias, x3=x3, x1_scale=x1_scale,
                           comm_quant_scale_1=comm_quant_scale_1,
                           comm_quant_scale_2=comm_quant_scale_2, comm_turn=comm_turn,
                           stream_mode=stream_mode, group_size=group_size,
                           comm_quant_mode=comm_quant_mode, profile=profile, signature=signature)
    if group is None:
        raise MockError(C["ACLNN_ERR_PARAM_NULLPTR"], "group is a null pointer: expected the "
                                                      "communicator name from HcclGetCommName")
    device = rt.current_device()
    from mock_runtime.hccl import registry  # loaded with the first communicator (see runtime.leak_report)

    comm = registry.find_communicator(group, device)
    with as_status():
        rules.check_rank_count(profile, comm.size, signature)
    params = {"x1": x1, "x2": rules.canonical_x2(x2), "bias": bias, "x3": x3, "x1_scale": x1_scale, "x2_scale": x2_scale,
              "comm_quant_scale_1": comm_quant_scale_1, "comm_quant_scale_2": comm_quant_scale_2,
              "output": output}
    labels = {key: name for name, key in signature.params.items()}  # C parameter names, for messages
    tensor_io.prove_params(params, _OUTPUTS, labels)  # every tensor inside live device memory now

    def run(p: dict[str, object]) -> None:
        def read(name: str) -> np.ndarray | None:
            """The tensor's contents: a C-ordered view of device memory (a copy when its layout
            has no such view), as the golden has always been given."""
            desc = p[name]
            if desc is None:
                return None
            return np.ascontiguousarray(tensor_io.view(desc, labels.get(name, name)))  # type: ignore[arg-type]

        try:
            partial = compute.pool.call(golden.partial, call, read("x1"), read("x2"), read("x2_scale"),
                                        x1_scale=read("x1_scale"), bias=read("bias"), x3=read("x3"),
                                        map=compute.pool.map, blas=True)
        except ValueError as exc:  # the rules accepted what cannot be computed: still join the exchange
            failure = exc
            partial = np.zeros(output.shape, np.float32 if call.formula == 8 else host_dtype(call.out_dtype))
        else:
            failure = None
        c1, c2 = read("comm_quant_scale_1"), read("comm_quant_scale_2")

        def reduce(partials) -> np.ndarray:
            return golden.reduce(call, partials, comm_quant_scale_1=c1, comm_quant_scale_2=c2,
                                 map=compute.pool.map)

        result = comm.combine(partial, op, reduce, _reduction_key(call, c1, c2))
        if failure is not None:
            raise MockError(C["ACLNN_ERR_INNER_TILING_ERROR"], f"rank {comm.rank}: {failure}")
        tensor_io.write(p["output"], result, "output")  # type: ignore[arg-type]

    inputs = [key for key in map(signature.params.get, signature.parameters)
              if key in classification.TENSORS and key != "output"]  # aclSetInputTensorAddr order: the header's
    return objects.Executor(op=op, device=device, workspace_size=WORKSPACE_SIZE, params=params,
                            inputs=inputs, outputs=_OUTPUTS, run=run, labels=labels)
