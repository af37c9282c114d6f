"""The mock's execution of aclnnAxpyCustom: its rules at GetWorkspaceSize, the golden on the stream."""
from __future__ import annotations

from mock_runtime.core import objects, tensor_io
from mock_runtime.core import runtime as rt
from mock_runtime.ops import as_status

from . import rules


def prepare(*, x, y, alpha, out) -> objects.Executor:
    settings = rt.require()
    with as_status():
        rules.check(x=x, y=y, alpha=alpha, out=out, profile=settings.profile)
    params = {"x": x, "y": y, "out": out}
    tensor_io.prove_params(params, ["out"], {})
    scale = float(alpha[1])

    def run(p: dict[str, object]) -> None:
        result = rules.golden(tensor_io.read(p["x"], "x"), tensor_io.read(p["y"], "y"), scale)
        tensor_io.write(p["out"], result, "out")

    return objects.Executor(op="aclnnAxpyCustom", device=rt.current_device(), workspace_size=0, params=params, run=run)
