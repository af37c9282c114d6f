"""aclnnCalculateMatmulWeightSize(V2) and aclnnTransMatmulWeight on the mock.

TransMatmulWeight is in place: the tensor's host metadata (aclTensor) is
relabelled at GetWorkspaceSize -- storage format FRACTAL_NZ (29), storage shape
the 4+-D NZ shape, view shape/strides unchanged -- as CANN edits the aclTensor
while it builds the executor (the executor's descriptor of the in-place
``mmWeightRef`` becomes the aclTensor's: :mod:`mock_runtime.exports.opapi`); the bytes are rearranged ND -> NZ in the same
buffer when the task runs on the stream. The buffer must hold
CalculateMatmulWeightSizeV2 elements; the ND weight read and the NZ weight
written are both proven inside live device memory at GetWorkspaceSize
(:mod:`mock_runtime.core.tensor_io`: 161001 / 161002).

Workspace: always positive, as CANN's samples expect (they treat 0 as a
failure of GetWorkspaceSize): the bytes of the FRACTAL_NZ weight (room for a
staging copy of it) rounded up to :data:`WORKSPACE_ALIGN`, and
WORKSPACE_ALIGN bytes for an empty weight. The size is a mock choice (CANN
does not document it); the execute call checks that the workspace it is
given is a live device allocation of at least that many bytes.
"""
from __future__ import annotations

from dataclasses import replace

from aclnn_py.semantics import dtypes
from aclnn_py.semantics.descriptors import FRACTAL_NZ, TensorDesc
from aclnn_py.semantics import nz
from aclnn_py.semantics import trans_matmul_weight as rules
from mock_runtime.core import objects, tensor_io
from mock_runtime.core import runtime as rt
from mock_runtime.core.errors import MockError
from mock_runtime.ops import as_status, implements

OP = "aclnnTransMatmulWeight"
WORKSPACE_ALIGN = 512


def workspace_size(nbytes: int) -> int:
    """The workspace for a weight whose NZ form takes ``nbytes`` bytes."""
    return max(WORKSPACE_ALIGN, -(-nbytes // WORKSPACE_ALIGN) * WORKSPACE_ALIGN)


@implements("aclnnCalculateMatmulWeightSize")
def calculate_size(*, tensor_shape: tuple[int, ...] | None) -> int:
    """Elements of the NZ buffer, the V1 rule (FLOAT16 alignment)."""
    return calculate_size_v2(tensor_shape=tensor_shape, data_type=None)


@implements("aclnnCalculateMatmulWeightSizeV2")
def calculate_size_v2(*, tensor_shape: tuple[int, ...] | None, data_type: int | None) -> int:
    """Elements of the NZ buffer of a ``data_type`` weight (``None``: the V1 rule)."""
    with as_status():
        return rules.calculate_matmul_weight_size(tensor_shape, data_type, rt.require().profile)


@implements(OP)
def prepare(*, mm_weight_ref: TensorDesc | None) -> objects.Executor:
    profile = rt.require().profile
    nd = mm_weight_ref
    with as_status():
        convert = rules.check_trans_matmul_weight(nd, profile)
    if not convert:  # empty tensor: nothing to do
        return objects.Executor(op=OP, device=rt.current_device(), workspace_size=workspace_size(0),
                                params={"mm_weight_ref": nd}, run=lambda params: None)
    storage = nz.nz_storage_shape(nd.shape, dtypes.name(nd.dtype))
    nzd = replace(nd, format=FRACTAL_NZ, storage_shape=storage)
    nz_bytes = dtypes.nbytes(nz.matmul_weight_size(nd.shape, dtypes.name(nd.dtype)), nd.dtype)
    tensor_io.prove(nd, "mmWeightRef")  # the ND weight the task reads
    try:  # ... and the NZ weight it writes over it
        tensor_io.prove(nzd, "mmWeightRef", write=True)
    except MockError as exc:
        raise MockError(exc.code, f"{exc.message} (the buffer must hold the FRACTAL_NZ weight {list(storage)}: "
                                  f"{nz.matmul_weight_size(nd.shape, dtypes.name(nd.dtype))} elements, see "
                                  f"aclnnCalculateMatmulWeightSizeV2)") from None

    def run(params: dict[str, object]) -> None:
        # params hold the NZ descriptor (addresses may have been updated); its ND twin reads the data
        target = params["mm_weight_ref"]
        source = replace(target, format=nd.format, storage_shape=nd.storage_shape)  # type: ignore[type-var]
        values = tensor_io.read(source, "mmWeightRef")
        tensor_io.write(target, values, "mmWeightRef")  # type: ignore[arg-type]

    return objects.Executor(op=OP, device=rt.current_device(), workspace_size=workspace_size(nz_bytes),
                            params={"mm_weight_ref": nzd}, run=run)
