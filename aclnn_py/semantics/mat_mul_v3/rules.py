"""The rules of aclnnMm and aclnnMatmul: GetWorkspaceSize's checks in CANN's order, and the call
they classify.

Public source: hicann/ops-nn ``matmul/mat_mul_v3/op_host/op_api/aclnn_mm.cpp`` (``CheckMmInputParams``)
and ``aclnn_matmul.cpp`` (``CheckInputParams``), and the rule they share,
``matmul/common/op_host/op_api/matmul_util.cpp`` ``Dav2201MatMulRule`` (the rule ``BuildRule`` picks
for DAV_2201, Atlas A2/A3, and DAV_3510, Ascend 950) with ``cube_util.cpp``
``CheckCubeMathTypeForMm``; the cubeMathType values of ``common/inc/op_api/op_api_def_nn.h``.

In CANN's order (the first failure is the status):

1. 161001 for a NULL tensor: Mm checks ``out``, ``self``, ``mat2``; Matmul ``self``, ``mat2``,
   ``out``. Then a negative extent (the project's first rule for every operator) is 161002.
2. ``cubeMathType`` -1 (FP16FP32_KEEP_DTYPE, CANN's internal value) on Ascend 950: 161002 (it
   exists on DAV_2201 only).
3. ``self``, ``mat2`` and ``out`` FLOAT, FLOAT16 or BF16 (any mix: the inputs promote, the result
   is cast to ``out``); ``cubeMathType`` one of -1..4.
4. Matmul: a FRACTAL_NZ ``mat2`` takes FLOAT16 with FLOAT16 or BF16 with BF16, not a mix.
5. Shapes. Mm: ``self`` (m, k) and ``mat2`` (k, n) 2-D, ``out`` (m, n). Matmul: 1 to 6 dims each,
   equal k (``self``'s last dim; ``mat2``'s first when it has 1 or 2 dims, else its second-last),
   batch dims broadcasting (``torch.matmul``'s shape, :func:`result_shape`).
6. Formats. Matmul refuses a FRACTAL_NZ ``self`` or ``out`` (its ``CheckFormat``). Neither
   operator checks more; the documents say ND for every tensor, and CANN reads any other
   format of ``self`` and ``out`` as ND, so the rules refuse every private format there
   (our choice: a private layout read as ND is garbage). ``mat2`` may be the FRACTAL_NZ weight
   :func:`aclnnTransMatmulWeight` makes (its NZ storage shape, 4+ dims: what CANN's
   ``MatmulCommonProcess`` takes), no other private format.
7. Matmul checks no ``out`` shape: CANN reshapes the product into ``out``'s view
   (``CommonPostProcessWithReshape``), and a product whose element count differs from
   ``out``'s fails in that reshape with ACLNN_ERR_INNER_NULLPTR (561103). Here it is 161002,
   the documented code of a wrong parameter, naming ``out``; an ``out`` of another shape holding
   as many elements receives the product in row-major order, as on CANN.

An empty ``out`` with an empty input is a successful no-op (both entry points' first branch);
an empty k gives zeros (``ProcessEmptyTensor``: a Fill of the product).

Documents and code disagree where the documents list only 0..4 for ``cubeMathType`` and ND for
``mat2``: the code decides (-1 accepted on Atlas A2/A3; the NZ weight of
aclnnTransMatmulWeight's own doc sample accepted).
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import dtypes
from ..descriptors import TensorDesc, refuse_negative_extents, shape_text
from ..status import INVALID, NULLPTR, Violation

__all__ = ["CUBE_MATH_TYPES", "MatmulCall", "check_matmul", "check_mm", "product_dtype", "promoted_dtype",
           "result_shape"]

D = dtypes.DataType
MM, MATMUL = "aclnnMmGetWorkspaceSize", "aclnnMatmulGetWorkspaceSize"
#: The values of cubeMathType and their names (op_api_def_nn.h); -1 is FP16FP32_KEEP_DTYPE (internal).
CUBE_MATH_TYPES = {-1: "FP16FP32_KEEP_DTYPE", 0: "KEEP_DTYPE", 1: "ALLOW_FP32_DOWN_PRECISION", 2: "USE_FP16",
                   3: "USE_HF32", 4: "USE_FP32_ADD"}
USE_FP16, KEEP_FP32_OUTPUT = 2, -1
#: cubeMathType values that compute FLOAT32 operands as HF32 (``enableHf32`` of CreateMatmulOpInfo).
HF32_MODES = (1, 3)
FLOATS = (D.ACL_FLOAT, D.ACL_FLOAT16, D.ACL_BF16)
MAX_DIMS = 6


@dataclass(frozen=True)
class MatmulCall:
    """One accepted call: what the golden computes.

    ``operands``: the dtype the cube takes both inputs in (their promotion under
    cubeMathType); ``hf32``: FLOAT32 operands rounded to HF32 first; ``product``: the dtype the
    matrix unit writes (FLOAT32 accumulation rounded to it); ``out``: the dtype of ``out`` (one
    more rounding); ``dot``: Matmul of two vectors (CANN's Dot, in the plainly promoted dtype).
    """

    op: str
    profile: str
    shape: tuple[int, ...]  # the product's shape (torch.matmul's)
    operands: str
    hf32: bool
    product: str
    out: str
    k: int
    dot: bool = False
    empty: bool = False  # nothing is written: out has no elements

    @property
    def zeros(self) -> bool:
        """The product has elements but k is 0: zeros are written."""
        return not self.empty and self.k == 0


def _null(function: str, tensors: dict[str, TensorDesc | None]) -> None:
    for name, desc in tensors.items():
        if desc is None:
            raise Violation(NULLPTR, function, f"{name} is a null pointer")


def _check_types(function: str, self: TensorDesc, mat2: TensorDesc, out: TensorDesc | None,
                 cube_math_type: int, profile: str) -> None:
    """``Dav2201MatMulRule::CheckInput``: the FP16FP32_KEEP_DTYPE SoC rule, the dtypes, cubeMathType."""
    if cube_math_type == KEEP_FP32_OUTPUT and profile == "950":
        raise Violation(INVALID, function, "cubeMathType -1 (FP16FP32_KEEP_DTYPE) is not supported on Ascend 950 "
                                           "(Atlas A2/A3 only)")
    for name, desc in (("self", self), ("mat2", mat2), ("out", out)):
        if desc is not None and desc.dtype not in FLOATS:
            raise Violation(INVALID, function, f"{name} dtype {dtypes.label(desc.dtype)} is not supported: expected "
                                               f"FLOAT, FLOAT16 or BF16")
    if cube_math_type not in CUBE_MATH_TYPES:
        raise Violation(INVALID, function, f"cubeMathType {cube_math_type} is not supported: expected 0 (KEEP_DTYPE), "
                                           f"1 (ALLOW_FP32_DOWN_PRECISION), 2 (USE_FP16), 3 (USE_HF32) or "
                                           f"4 (USE_FP32_ADD)")


def _check_mixed_nz(mat2: TensorDesc, self: TensorDesc) -> None:
    """aclnn_matmul.cpp ``CheckWeightNzDtype``."""
    if mat2.is_private_format and {self.dtype, mat2.dtype} == {D.ACL_FLOAT16, D.ACL_BF16}:
        raise Violation(INVALID, MATMUL, f"a FRACTAL_NZ mat2 needs self and mat2 both FLOAT16 or both BF16, got "
                                         f"self {dtypes.label(self.dtype)} and mat2 {dtypes.label(mat2.dtype)}")


def _check_formats(function: str, self: TensorDesc, mat2: TensorDesc, out: TensorDesc | None) -> None:
    for name, desc in (("self", self), ("out", out)):
        if desc is not None and desc.is_private_format:
            raise Violation(INVALID, function, f"{name} format {dtypes.format_label(desc.format)} is not supported: "
                                               f"expected ND")
    if mat2.is_private_format and not (mat2.is_nz and mat2.ndim >= 2):
        raise Violation(INVALID, function, f"mat2 format {dtypes.format_label(mat2.format)} with storage shape "
                                           f"{shape_text(mat2.storage_shape)} is not supported: expected ND, or "
                                           f"FRACTAL_NZ with its NZ storage shape (4 or more dims)")


def _mm_shape(self: TensorDesc, mat2: TensorDesc) -> tuple[int, int]:
    """aclnn_mm.cpp ``CheckShapeValid``: (m, n)."""
    for name, desc in (("mat2", mat2), ("self", self)):
        if desc.ndim != 2:
            raise Violation(INVALID, MM, f"{name} shape {shape_text(desc.shape)} is not supported: expected 2 dims")
    if self.shape[1] != mat2.shape[0]:
        raise Violation(INVALID, MM, f"the k-axis of self {shape_text(self.shape)} ({self.shape[1]}) and mat2 "
                                     f"{shape_text(mat2.shape)} ({mat2.shape[0]}) differ")
    return self.shape[0], mat2.shape[1]


def result_shape(self_shape: tuple[int, ...], mat2_shape: tuple[int, ...], function: str = MATMUL) -> tuple[int, ...]:
    """The shape of ``self @ mat2`` (``torch.matmul``), after aclnn_matmul.cpp ``CheckShapeValid``
    (161002 naming the rule: dims 1..6, equal k, broadcasting batch dims)."""
    for name, shape in (("self", self_shape), ("mat2", mat2_shape)):
        if len(shape) > MAX_DIMS:
            raise Violation(INVALID, function, f"{name} shape {shape_text(shape)} has {len(shape)} dims: at most "
                                               f"{MAX_DIMS} are supported")
        if not shape:
            raise Violation(INVALID, function, f"{name} is 0-d: self and mat2 need 1 to {MAX_DIMS} dims")
    k_self = self_shape[-1]
    k_mat2 = mat2_shape[0] if len(mat2_shape) <= 2 else mat2_shape[-2]
    if k_self != k_mat2:
        raise Violation(INVALID, function, f"the k-axis of self {shape_text(self_shape)} ({k_self}) and mat2 "
                                           f"{shape_text(mat2_shape)} ({k_mat2}) differ")
    if len(self_shape) == 1 and len(mat2_shape) == 1:
        return ()
    if len(mat2_shape) == 1:
        return self_shape[:-1]
    if len(self_shape) == 1:
        return mat2_shape[:-2] + mat2_shape[-1:]
    batch_self, batch_mat2 = self_shape[:-2], mat2_shape[:-2]
    batch = []
    for i in range(1, max(len(batch_self), len(batch_mat2)) + 1):
        a = batch_self[-i] if i <= len(batch_self) else 1
        b = batch_mat2[-i] if i <= len(batch_mat2) else 1
        if a != b and 1 not in (a, b):
            raise Violation(INVALID, function, f"the batch dims of self {shape_text(self_shape)} and mat2 "
                                               f"{shape_text(mat2_shape)} do not broadcast")
        batch.append(b if a == 1 else a)
    return tuple(reversed(batch)) + self_shape[-2:-1] + mat2_shape[-1:]


def promoted_dtype(a: int, b: int) -> int:
    """The plain promotion of two of the float types (op::PromoteType): equal types stay, any
    other pair is FLOAT."""
    return a if a == b else D.ACL_FLOAT


def _operands(a: int, b: int, cube_math_type: int) -> int:
    """``Dav2201MatMulRule::GetUpperDtypeByLookUpTable``: BF16 pairs stay BF16, FLOAT16 pairs and
    USE_FP16 give FLOAT16, every other pair FLOAT."""
    if a == b and a in (D.ACL_BF16, D.ACL_FLOAT16):
        return a
    return D.ACL_FLOAT16 if cube_math_type == USE_FP16 else D.ACL_FLOAT


def product_dtype(a: int, b: int, out: int, cube_math_type: int, profile: str) -> int:
    """What the matrix unit writes before the cast to ``out``: FLOAT for FP16FP32_KEEP_DTYPE, for
    an FLOAT ``out`` on Atlas A2/A3 unless USE_FP16 (``UpdateOutputDtype``), and for two FLOAT16
    or two BF16 inputs with a FLOAT ``out`` (``NeedEnableFp32Output``); else the operands' dtype."""
    operands = _operands(a, b, cube_math_type)
    if cube_math_type == KEEP_FP32_OUTPUT:
        return D.ACL_FLOAT
    if out == D.ACL_FLOAT and profile in ("A2", "A3") and cube_math_type != USE_FP16:
        return D.ACL_FLOAT
    if out == D.ACL_FLOAT and a == b and a in (D.ACL_FLOAT16, D.ACL_BF16):
        return D.ACL_FLOAT
    return operands


def _classify(function: str, profile: str, self: TensorDesc, mat2: TensorDesc, out: TensorDesc,
              cube_math_type: int, shape: tuple[int, ...]) -> MatmulCall:
    dot = function == MATMUL and self.ndim == 1 and mat2.ndim == 1
    if dot:  # MatMulDotGraph: PromoteType, no cube
        operands = product = promoted_dtype(self.dtype, mat2.dtype)
        hf32 = False
    else:
        operands = _operands(self.dtype, mat2.dtype, cube_math_type)
        product = product_dtype(self.dtype, mat2.dtype, out.dtype, cube_math_type, profile)
        hf32 = operands == D.ACL_FLOAT and cube_math_type in HF32_MODES
    return MatmulCall(function.removesuffix("GetWorkspaceSize"), profile, shape, dtypes.name(operands), hf32,
                      dtypes.name(product), dtypes.name(out.dtype), self.shape[-1], dot, out.numel == 0)


def _inputs(function: str, self: TensorDesc | None, mat2: TensorDesc | None, out: TensorDesc | None,
            cube_math_type: int, profile: str, *, need_out: bool = True) -> tuple[TensorDesc, TensorDesc]:
    """The null pointers (in the entry point's order; ``out`` not when ``need_out`` is false),
    negative extents and the type rules."""
    order = {"out": out, "self": self, "mat2": mat2} if function == MM else {"self": self, "mat2": mat2, "out": out}
    _null(function, {k: v for k, v in order.items() if need_out or k != "out"})
    assert self is not None and mat2 is not None
    refuse_negative_extents(function, {"self": self, "mat2": mat2, "out": out})
    _check_types(function, self, mat2, out, cube_math_type, profile)
    return self, mat2


def check_mm(self: TensorDesc | None, mat2: TensorDesc | None, out: TensorDesc | None, cube_math_type: int,
             profile: str) -> MatmulCall:
    """aclnnMmGetWorkspaceSize's rules; the call they accept."""
    self, mat2 = _inputs(MM, self, mat2, out, cube_math_type, profile)
    assert out is not None
    m, n = _mm_shape(self, mat2)
    if out.ndim != 2 or out.shape != (m, n):
        raise Violation(INVALID, MM, f"out shape {shape_text(out.shape)} must be [{m}, {n}] (self rows, mat2 "
                                     f"columns)")
    _check_formats(MM, self, mat2, out)
    return _classify(MM, profile, self, mat2, out, cube_math_type, (m, n))


def check_matmul(self: TensorDesc | None, mat2: TensorDesc | None, out: TensorDesc | None, cube_math_type: int,
                 profile: str) -> MatmulCall:
    """aclnnMatmulGetWorkspaceSize's rules; the call they accept."""
    self, mat2 = _inputs(MATMUL, self, mat2, out, cube_math_type, profile)
    assert out is not None
    _check_mixed_nz(mat2, self)
    shape = result_shape(self.shape, mat2.shape)
    _check_formats(MATMUL, self, mat2, out)
    elements = 1
    for d in shape:
        elements *= d
    if out.numel != elements:
        raise Violation(INVALID, MATMUL, f"out shape {shape_text(out.shape)} holds {out.numel} elements; self @ mat2 "
                                         f"has shape {shape_text(shape)} ({elements} elements)")
    return _classify(MATMUL, profile, self, mat2, out, cube_math_type, shape)


def output_desc(function: str, self: TensorDesc | None, mat2: TensorDesc | None, cube_math_type: int,
                profile: str | None) -> dict[str, TensorDesc]:
    """The ``out`` a call implies: the product's shape in the promoted dtype of the inputs (the
    documents' "self与mat2推导之后的数据类型"); the inputs' own rules fail first (a Violation)."""
    self, mat2 = _inputs(function, self, mat2, None, cube_math_type, profile or "A2", need_out=False)
    shape = _mm_shape(self, mat2) if function == MM else result_shape(self.shape, mat2.shape)
    return {"out": TensorDesc.contiguous(shape, promoted_dtype(self.dtype, mat2.dtype))}
