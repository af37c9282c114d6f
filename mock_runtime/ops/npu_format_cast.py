"""aclnnNpuFormatCast and aclnnNpuFormatCastCalculateSizeAndFormat on the mock: ND <-> FRACTAL_NZ, and
NCHW/NCDHW <-> NC1HWC0/NDC1HWC0 (the layout of :mod:`aclnn_py.semantics.c1hwc0`, the blocked tensor read
and written as a contiguous array of its storage shape).

CalculateSizeAndFormat is host-only: :func:`aclnn_py.semantics.npu_format_cast.calculate_size_and_format`
gives the shape (written to a new malloc'd array the caller frees: :mod:`mock_runtime.exports.opapi`)
and the format. The two-phase operator runs :func:`~aclnn_py.semantics.npu_format_cast.check` at
GetWorkspaceSize, proves both tensors inside live device memory -- the NZ one through its NZ layout
(its format relabelled FRACTAL_NZ, C0 its last storage dim, view the ND shape) -- and the task
rearranges the bytes with the layout of :mod:`aclnn_py.semantics.nz` (the one aclnnTransMatmulWeight
writes, padding zero). Workspace: 0 bytes.
"""
from __future__ import annotations

from aclnn_py.semantics import c1hwc0, dtypes
from aclnn_py.semantics import npu_format_cast as rules
from aclnn_py.semantics.descriptors import TensorDesc
from mock_runtime.core import objects, tensor_io
from mock_runtime.core import runtime as rt
from mock_runtime.core.errors import C, MockError
from mock_runtime.ops import as_status, implements

OP = "aclnnNpuFormatCast"


@implements("aclnnNpuFormatCastCalculateSizeAndFormat")
def calculate_size_and_format(*, src_tensor: TensorDesc | None, dst_format: int,
                              additional_dtype: int) -> tuple[tuple[int, ...], int, int]:
    """(dstShape, dstShapeSize, actualFormat)."""
    with as_status():
        result = rules.calculate_size_and_format(src_tensor, dst_format, additional_dtype, rt.require().profile)
    if result is None:
        raise _not_modelled(src_tensor, dst_format)  # type: ignore[arg-type]
    shape, actual = result
    return shape, len(shape), actual


def _not_modelled(src: TensorDesc, dst_format: int) -> MockError:
    """361001 naming the conversion and what the mock converts on the current SoC (the blocked formats on
    Atlas A2/A3 only: :mod:`aclnn_py.semantics.npu_format_cast`)."""
    modelled = ("ND/NCL/NCHW/NCDHW <-> FRACTAL_NZ and FRACTAL_NZ_C0_16/32" if rt.require().profile == "950"
                else "ND/NCL/NCHW/NCDHW <-> FRACTAL_NZ, NCHW <-> NC1HWC0 and NCDHW <-> NDC1HWC0")
    return MockError(C["ACLNN_ERR_RUNTIME_ERROR"], f"converting {dtypes.format_label(src.format)} to "
                                                   f"{dtypes.format_label(dst_format)}: CANN makes this conversion, "
                                                   f"the mock does not model it (on this SoC it converts {modelled})")


@implements(OP)
def prepare(*, src_tensor: TensorDesc | None, dst_tensor: TensorDesc | None) -> objects.Executor:
    settings = rt.require()
    with as_status():
        call = rules.check(src_tensor, dst_tensor, settings.profile)
    if call is None:
        raise _not_modelled(src_tensor, dst_tensor.format)  # type: ignore[union-attr, arg-type]
    if isinstance(call, rules.BlockedCastCall):
        return _blocked_executor(call)
    source, target = (call.nd, call.nz) if call.to_nz else (call.nz, call.nd)
    params: dict[str, object] = {"src_tensor": source, "dst_tensor": target}
    tensor_io.prove_params(params, ["dst_tensor"], {"src_tensor": "srcTensor", "dst_tensor": "dstTensor"})

    def run(p: dict[str, object]) -> None:
        values = tensor_io.read(p["src_tensor"], "srcTensor")  # type: ignore[arg-type]
        tensor_io.write(p["dst_tensor"], values, "dstTensor")  # type: ignore[arg-type]

    return objects.Executor(op=OP, device=rt.current_device(), workspace_size=0, params=params,
                            run=(lambda p: None) if call.empty else run)


def _blocked_executor(call: rules.BlockedCastCall) -> objects.Executor:
    """NCHW/NCDHW <-> NC1HWC0/NDC1HWC0: the blocked tensor read and written as its storage (padding zero)."""
    src, dst = (call.plain, call.blocked) if call.to_blocked else (call.blocked, call.plain)
    params: dict[str, object] = {"src_tensor": src, "dst_tensor": dst}
    tensor_io.prove_params(params, ["dst_tensor"], {"src_tensor": "srcTensor", "dst_tensor": "dstTensor"})

    def run(p: dict[str, object]) -> None:
        values = tensor_io.read(p["src_tensor"], "srcTensor")  # type: ignore[arg-type]
        converted = c1hwc0.to_blocked(values, call.c0) if call.to_blocked else c1hwc0.from_blocked(values, call.plain.shape)
        tensor_io.write(p["dst_tensor"], converted, "dstTensor")  # type: ignore[arg-type]

    return objects.Executor(op=OP, device=rt.current_device(), workspace_size=0, params=params,
                            run=(lambda p: None) if call.empty else run)
