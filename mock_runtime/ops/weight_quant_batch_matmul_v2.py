"""aclnnWeightQuantBatchMatmulV2 on the mock: the pure layer's rules at GetWorkspaceSize, its golden on
the stream.

Phase 1 runs :func:`aclnn_py.semantics.weight_quant_batch_matmul_v2.check` with the SoC's profile
(which classifies the call), proves every tensor inside live device memory
(:mod:`mock_runtime.core.tensor_io`) and records them; the task reads the inputs from device memory
-- the weight as its logical view: a transposed view un-transposed, a FRACTAL_NZ weight (as
aclnnTransMatmulWeight leaves it) read through its NZ layout -- and runs
:func:`~aclnn_py.semantics.weight_quant_batch_matmul_v2.compute` as one BLAS unit of the compute pool.

Workspace: 16 MiB (the system workspace CANN's matmul executors reserve), positive as CANN's samples
expect.
"""
from __future__ import annotations

from aclnn_py.semantics import catalogue
from aclnn_py.semantics import weight_quant_batch_matmul_v2 as rules
from aclnn_py.semantics.descriptors import TensorDesc
from mock_runtime.core import compute, objects, tensor_io
from mock_runtime.core import runtime as rt
from mock_runtime.ops import as_status, implements

OP = "aclnnWeightQuantBatchMatmulV2"
WORKSPACE_SIZE = 16 * 1024 * 1024
_INPUTS = ("x", "weight", "antiquant_scale", "antiquant_offset", "quant_scale", "quant_offset", "bias")


@implements(OP)
def prepare(*, y: TensorDesc | None, antiquant_group_size: int, **tensors: TensorDesc | None) -> objects.Executor:
    settings = rt.require()
    with as_status():
        call = rules.check(**tensors, antiquant_group_size=antiquant_group_size, y=y, profile=settings.profile)
    params: dict[str, object] = {**{name: tensors[name] for name in _INPUTS}, "y": y}
    labels = {p.name: p.c_name for p in catalogue.project_signature(OP).parameters}
    tensor_io.prove_params(params, ["y"], labels)  # every tensor inside live device memory now

    def run(p: dict[str, object]) -> None:
        arrays = {name: None if p[name] is None else tensor_io.view(p[name], labels[name])  # type: ignore[arg-type]
                  for name in _INPUTS}
        result = compute.pool.call(rules.compute, call, **arrays, blas=True)
        tensor_io.write(p["y"], result, "y")  # type: ignore[arg-type]

    return objects.Executor(op=OP, device=rt.current_device(), workspace_size=WORKSPACE_SIZE, params=params, run=run)
