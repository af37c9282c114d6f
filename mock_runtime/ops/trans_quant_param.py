"""aclnnTransQuantParamV2 on the mock: float32 scale (+ offset) -> packed UINT64/INT64.

Encoding from aclnn_py.semantics.quant_params.trans_quant_param (V2 = truncating to
fp19, bit 46 set, offset in bits 37..45). Workspace: 0 bytes. NaN/Inf values
are found only when the task runs (a stream failure, 561002).
"""
from __future__ import annotations

import numpy as np

from aclnn_py.semantics.descriptors import TensorDesc
from aclnn_py.semantics.quant_params import trans_quant_param
from aclnn_py.semantics import trans_quant_param as rules
from mock_runtime.core import objects, tensor_io
from mock_runtime.core import runtime as rt
from mock_runtime.core.errors import C, MockError
from mock_runtime.ops import as_status, implements

OP = "aclnnTransQuantParamV2"


@implements(OP)
def prepare(*, scale: TensorDesc | None, offset: TensorDesc | None, out: TensorDesc | None) -> objects.Executor:
    rt.require()
    with as_status():
        rules.check_trans_quant_param_v2(scale, offset, out)
    params = {"scale": scale, "offset": offset, "out": out}
    tensor_io.prove_params(params, ["out"], {})  # every tensor inside live device memory now

    def run(params: dict[str, object]) -> None:
        s = tensor_io.read(params["scale"], "scale")  # type: ignore[arg-type]
        o = None if params["offset"] is None else tensor_io.read(params["offset"], "offset")  # type: ignore[arg-type]
        try:
            packed = trans_quant_param(s, o)
        except ValueError as exc:
            raise MockError(C["ACLNN_ERR_INNER_TILING_ERROR"], str(exc)) from None
        target: TensorDesc = params["out"]  # type: ignore[assignment]
        tensor_io.write(target, np.asarray(packed).view(np.uint64).astype(
            np.int64 if target.dtype == rules.D.ACL_INT64 else np.uint64, copy=False), "out")

    return objects.Executor(op=OP, device=rt.current_device(), workspace_size=0, params=params, run=run)
