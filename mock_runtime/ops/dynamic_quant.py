"""aclnnDynamicQuant on the mock: the pure layer's rules at GetWorkspaceSize, its golden on the stream.

Phase 1 runs :func:`aclnn_py.semantics.dynamic_quant.check` with the SoC's profile, proves x, the
smooth scales and both outputs inside live device memory (:mod:`mock_runtime.core.tensor_io`) and
records them; the task reads x (and the smooth scales) from device memory, quantizes every row with
:func:`~aclnn_py.semantics.dynamic_quant.quantize_rows` (one unit of the compute pool) and writes
yOut (INT4 packed two per byte, INT32 eight int4 per element) and scaleOut. An empty call is a
no-op. Workspace: 0 bytes (CANN's executor asks for none beyond its kernels').
"""
from __future__ import annotations

from aclnn_py.semantics import dynamic_quant as rules
from aclnn_py.semantics.descriptors import TensorDesc
from mock_runtime.core import compute, objects, tensor_io
from mock_runtime.core import runtime as rt
from mock_runtime.ops import as_status, implements

OP = "aclnnDynamicQuant"


@implements(OP)
def prepare(*, x: TensorDesc | None, smooth_scales: TensorDesc | None, y_out: TensorDesc | None,
            scale_out: TensorDesc | None) -> objects.Executor:
    settings = rt.require()
    with as_status():
        call = rules.check(x, smooth_scales, y_out, scale_out, settings.profile)
    params: dict[str, object] = {"x": x, "smooth_scales": smooth_scales, "y_out": y_out, "scale_out": scale_out}
    labels = {"x": "x", "smooth_scales": "smoothScalesOptional", "y_out": "yOut", "scale_out": "scaleOut"}
    tensor_io.prove_params(params, ["y_out", "scale_out"], labels)  # every tensor inside live device memory now
    if call.empty:
        return objects.Executor(op=OP, device=rt.current_device(), workspace_size=0, params=params,
                                run=lambda p: None)

    def run(p: dict[str, object]) -> None:
        x_values = tensor_io.view(p["x"], "x")  # type: ignore[arg-type]
        smooth = None if p["smooth_scales"] is None else tensor_io.view(p["smooth_scales"], "smoothScalesOptional")  # type: ignore[arg-type]
        y, scale = compute.pool.call(rules.dynamic_quant, x_values, smooth, y_dtype=call.y_name, x_dtype=call.x_name)
        tensor_io.write(p["y_out"], y, "yOut")  # type: ignore[arg-type]
        tensor_io.write(p["scale_out"], scale, "scaleOut")  # type: ignore[arg-type]

    return objects.Executor(op=OP, device=rt.current_device(), workspace_size=0, params=params, run=run)
