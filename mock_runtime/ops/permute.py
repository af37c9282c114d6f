"""aclnnPermute on the mock: the rules at GetWorkspaceSize, the golden on the stream.

Phase 1 runs :func:`aclnn_py.semantics.permute.check_permute` and proves ``self`` (read) and
``out`` (written) inside live device memory (:mod:`mock_runtime.core.tensor_io`); the execute
call proves them again and declares the accesses to the race detector. The queued work reads
``self`` in its logical layout (any strides), permutes it with
:func:`aclnn_py.semantics.permute.compute` and writes ``out`` (any strides). Workspace: 0 bytes
(the mock's choice; CANN does not document it).
"""
from __future__ import annotations

from aclnn_py.semantics import permute
from aclnn_py.semantics.descriptors import TensorDesc
from mock_runtime.core import compute, objects, tensor_io
from mock_runtime.core import runtime as rt
from mock_runtime.ops import as_status, implements

OP = "aclnnPermute"


@implements(OP)
def prepare(*, self: TensorDesc | None, dims: tuple[int, ...] | None, out: TensorDesc | None) -> objects.Executor:
    rt.require()
    with as_status():
        axes = permute.check_permute(self, dims, out)
    assert self is not None and out is not None
    params: dict[str, object] = {"self": self, "out": out}
    tensor_io.prove_params(params, ["out"], {})
    if self.numel == 0:
        return objects.Executor(op=OP, device=rt.current_device(), workspace_size=0, params=params,
                                run=lambda p: None)

    def run(p: dict[str, object]) -> None:
        values = tensor_io.view(p["self"], "self")  # type: ignore[arg-type]
        target: TensorDesc = p["out"]  # type: ignore[assignment]
        result = compute.pool.call(permute.compute, values, axes)
        tensor_io.write(target, result.reshape(target.shape), "out")

    return objects.Executor(op=OP, device=rt.current_device(), workspace_size=0, params=params, run=run)
