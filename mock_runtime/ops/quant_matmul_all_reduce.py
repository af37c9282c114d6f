"""aclnnQuantMatmulAllReduceV4 on the mock: quantized matmul + AllReduce-sum across a group.

GetWorkspaceSize runs :func:`aclnn_py.rules.quant_matmul_all_reduce.check`
(the binding runs the same rules), resolves ``group`` to the mock HCCL
communicator of the current device and checks its rank count. The stream task
of every rank reads its inputs from device memory, computes its contribution
with :func:`aclnn_py.golden.quant_matmul_all_reduce.rank_partial`, exchanges it
with the other ranks (``Communicator.exchange``, blocking until every rank has
reached the same point on its own stream) and writes
:func:`~aclnn_py.golden.quant_matmul_all_reduce.combine` of the stacked
contributions to ``output`` -- the same values on every rank.

Workspace: a fixed 16 MiB, standing in for the MC2 system workspace (the mock
never touches it; it only checks that the caller passes it).
"""
from __future__ import annotations

import numpy as np

from aclnn_py.descriptors import TensorDesc
from aclnn_py.formats import host_dtype
from aclnn_py.golden import quant_matmul_all_reduce as golden
from aclnn_py.rules import quant_matmul_all_reduce as rules
from mock_runtime.core import objects, tensor_io
from mock_runtime.core import runtime as rt
from mock_runtime.core.errors import C, MockError
from mock_runtime.ops import as_status

OP = "aclnnQuantMatmulAllReduceV4"
WORKSPACE_SIZE = 16 * 1024 * 1024
_INPUTS = ["x1", "x2", "bias", "x3", "x1_scale", "x2_scale", "comm_quant_scale_1", "comm_quant_scale_2"]
_OUTPUTS = ["output"]
#: The C parameter names, for messages.
LABELS = {"bias": "biasOptional", "x3": "x3Optional", "x1_scale": "x1ScaleOptional", "x2_scale": "x2Scale",
          "comm_quant_scale_1": "commQuantScale1Optional", "comm_quant_scale_2": "commQuantScale2Optional"}


def find_communicator(group: str, device: int):
    """The mock HCCL communicator named ``group`` on ``device`` (tests may patch this)."""
    from mock_runtime.core import hccl  # written separately; imported when first needed

    return hccl.find_communicator(group, device)


def prepare(*, x1: TensorDesc | None, x2: TensorDesc | None, bias: TensorDesc | None,
            x3: TensorDesc | None, x1_scale: TensorDesc | None, x2_scale: TensorDesc | None,
            comm_quant_scale_1: TensorDesc | None, comm_quant_scale_2: TensorDesc | None,
            group: str | None, reduce_op: str | None, comm_turn: int, stream_mode: int,
            group_size: int, comm_quant_mode: int, output: TensorDesc | None) -> objects.Executor:
    profile = rt.require().profile
    with as_status():
        plan = rules.check(x1=x1, x2=x2, x2_scale=x2_scale, output=output, reduce_op=reduce_op,
                           bias=bias, x3=x3, x1_scale=x1_scale,
                           comm_quant_scale_1=comm_quant_scale_1,
                           comm_quant_scale_2=comm_quant_scale_2, comm_turn=comm_turn,
                           stream_mode=stream_mode, group_size=group_size,
                           comm_quant_mode=comm_quant_mode, profile=profile)
    if group is None:
        raise MockError(C["ACLNN_ERR_PARAM_NULLPTR"], "group is a null pointer: expected the "
                                                      "communicator name from HcclGetCommName")
    device = rt.current_device()
    comm = find_communicator(group, device)
    with as_status():
        rules.check_rank_count(profile, comm.size)
    params = {"x1": x1, "x2": x2, "bias": bias, "x3": x3, "x1_scale": x1_scale, "x2_scale": x2_scale,
              "comm_quant_scale_1": comm_quant_scale_1, "comm_quant_scale_2": comm_quant_scale_2,
              "output": output}
    tensor_io.prove_params(params, _OUTPUTS, LABELS)  # every tensor inside live device memory now

    def run(p: dict[str, object]) -> None:
        def read(name: str) -> np.ndarray | None:
            desc = p[name]
            return None if desc is None else tensor_io.read(desc, LABELS.get(name, name))  # type: ignore[arg-type]

        try:
            partial = golden.rank_partial(
                read("x1"), read("x2"), read("x2_scale"), x1_scale=read("x1_scale"),
                bias=read("bias"), x3=read("x3"), out_dtype=plan.out_dtype, x_dtype=plan.x_dtype,
                x2_scale_dtype=plan.x2_scale_dtype, x1_scale_dtype=plan.x1_scale_dtype,
                group_size=group_size, x2_transposed=plan.x2_transposed,
                comm_quant_mode=comm_quant_mode, has_comm_quant_scales=plan.has_comm_quant_scales)
        except ValueError as exc:  # a rule the checks above missed: still join the exchange
            failure = exc
            partial = np.zeros(output.shape, np.float32 if plan.formula == 8 else host_dtype(plan.out_dtype))
        else:
            failure = None
        stacked = comm.exchange(partial, OP)
        if failure is not None:
            raise MockError(C["ACLNN_ERR_INNER_TILING_ERROR"], f"rank {comm.rank}: {failure}")
        result = golden.combine(np.asarray(stacked),
                                out_dtype=plan.out_dtype, x_dtype=plan.x_dtype,
                                comm_quant_scale_1=read("comm_quant_scale_1"),
                                comm_quant_scale_2=read("comm_quant_scale_2"),
                                comm_quant_mode=comm_quant_mode)
        tensor_io.write(p["output"], result, "output")  # type: ignore[arg-type]

    return objects.Executor(op=OP, device=device, workspace_size=WORKSPACE_SIZE, params=params,
                            inputs=_INPUTS, outputs=_OUTPUTS, run=run, labels=LABELS,
                            attrs={"formula": plan.formula, "group": group, "rank": comm.rank})
