"""aclnnMm and aclnnMatmul on the mock: the rules at GetWorkspaceSize, the golden on the stream.

Phase 1 runs :func:`aclnn_py.semantics.mat_mul_v3.rules.check_mm` / ``check_matmul`` under the
profile of the SoC chosen at aclInit (the :class:`~aclnn_py.semantics.mat_mul_v3.rules.MatmulCall`
they return is what the golden computes) and proves ``self``, ``mat2`` (read) and ``out``
(written) inside live device memory (:mod:`mock_runtime.core.tensor_io`: a NULL data address
161001; freed, foreign or too small memory, or a layout reaching before its data 161002); the
execute call proves them again and declares the accesses to the race detector. The queued work
reads both inputs in their logical layout (any strides; a FRACTAL_NZ ``mat2`` through its NZ
layout), computes :func:`aclnn_py.semantics.mat_mul_v3.golden.compute` as one BLAS unit of the
compute pool and writes the product into ``out`` (row-major into ``out``'s view, which holds as
many elements: Matmul reshapes the product into it as CANN does).

Workspace: 16 MiB for a call with work (the system workspace CANN reserves for its cube kernels;
its exact figure is not documented and is the mock's choice), 0 for an empty ``out`` (CANN's
own figure for that branch).
"""
from __future__ import annotations

from aclnn_py.semantics.descriptors import TensorDesc
from aclnn_py.semantics.mat_mul_v3 import golden, rules
from mock_runtime.core import compute, objects, tensor_io
from mock_runtime.core import runtime as rt
from mock_runtime.ops import as_status, implements

WORKSPACE_SIZE = 16 * 1024 * 1024
_CHECKS = {"aclnnMm": rules.check_mm, "aclnnMatmul": rules.check_matmul}


def _prepare(op: str, self: TensorDesc | None, mat2: TensorDesc | None, out: TensorDesc | None,
             cube_math_type: int) -> objects.Executor:
    with as_status():
        call = _CHECKS[op](self, mat2, out, cube_math_type, rt.require().profile)
    params: dict[str, object] = {"self": self, "mat2": mat2, "out": out}
    tensor_io.prove_params(params, ["out"], {})
    if call.empty:
        return objects.Executor(op=op, device=rt.current_device(), workspace_size=0, params=params,
                                run=lambda p: None)

    def run(p: dict[str, object]) -> None:
        a = tensor_io.view(p["self"], "self")  # type: ignore[arg-type]
        b = tensor_io.view(p["mat2"], "mat2")  # type: ignore[arg-type]
        product = compute.pool.call(golden.compute, call, a, b, blas=True)
        target: TensorDesc = p["out"]  # type: ignore[assignment]
        tensor_io.write(target, product.reshape(target.shape), "out")

    return objects.Executor(op=op, device=rt.current_device(), workspace_size=WORKSPACE_SIZE, params=params,
                            run=run)


@implements("aclnnMm")
def prepare_mm(*, self: TensorDesc | None, mat2: TensorDesc | None, out: TensorDesc | None,
               cube_math_type: int) -> objects.Executor:
    return _prepare("aclnnMm", self, mat2, out, cube_math_type)


@implements("aclnnMatmul")
def prepare_matmul(*, self: TensorDesc | None, mat2: TensorDesc | None, out: TensorDesc | None,
                   cube_math_type: int) -> objects.Executor:
    return _prepare("aclnnMatmul", self, mat2, out, cube_math_type)
