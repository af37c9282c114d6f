"""The rules of aclnnCast: GetWorkspaceSize's checks in CANN's order, and which conversions a SoC has.

Public source: hicann/ops-math ``math/cast/op_api/aclnn_cast.cpp`` (``CheckParams``, then the
INT4 and empty-tensor branches), the conversions of ``math/cast/op_api/cast.cpp`` (``l0op::Cast``:
an AI Core pair of the SoC's list, else the AI CPU kernel when it takes both types), the copy into
``out`` of ``conversion/contiguous/op_host/op_api/contiguous.cpp`` (``ViewCopy``'s
``CheckViewCopyParams``) and the INT4 tiling rule of ``math/cast/op_host/arch35/cast_tiling.cpp``.

In CANN's order:

1. 161001 for a NULL ``self`` or ``out``; a negative extent is 161002.
2. ``self``'s dtype and ``dtype`` in the SoC's lists (:data:`SELF_TYPES`, :data:`TARGET_TYPES`):
   on Atlas A2/A3 (DAV_2201) the fifteen :data:`BASIC` types; on Ascend 950 (DAV_3510, a
   "RegBase" arch) also HIFLOAT8, FLOAT8_E5M2, FLOAT8_E4M3FN, COMPLEX32, FLOAT4_E1M2 and
   FLOAT4_E2M1, and INT4 as a target only.
3. ``self`` at most 8 dims; ``out`` of ``self``'s shape.
4. An INT4 ``out`` needs a contiguous ``self``.
5. An empty ``self`` is a successful no-op (before any of the following).
6. The conversion must exist on the SoC (:func:`converts`): every pair of :data:`BASIC` types (the
   AI CPU kernel takes all of them), equal types (no kernel), and on Ascend 950 the pairs of
   :data:`SPECIAL_950` (its AI Core list). CANN's ``l0op::Cast`` returns NULL for another pair
   and GetWorkspaceSize gives ACLNN_ERR_INNER_NULLPTR (561103); here it is 161002, the
   documented code of a wrong parameter, naming ``self`` and ``dtype``.
7. ``out``'s dtype must be ``dtype`` and its format ``self``'s unless ``self`` is ND (ViewCopy's
   checks; CANN returns 561103 when they fail, here 161002 naming ``out``).
8. An INT4 ``dtype`` needs an even last dim of ``self`` (a 0-d ``self`` counts as one element):
   561002, ACLNN_ERR_INNER_TILING_ERROR, as the document lists it.

The document's constraints beyond the code (the pairs of its Ascend 950 table, non-contiguous
inputs of BOOL, COMPLEX and FLOAT4 types) are not refused: the code decides.
"""
from __future__ import annotations

from .. import dtypes
from ..descriptors import ND, TensorDesc, refuse_negative_extents, shape_text
from ..status import INVALID, NULLPTR, TILING, Violation

__all__ = ["BASIC", "SELF_TYPES", "SPECIAL_950", "TARGET_TYPES", "check_cast", "converts", "output_desc"]

D = dtypes.DataType
FUNCTION = "aclnnCastGetWorkspaceSize"
MAX_DIMS = 8

#: The types of every SoC's lists, and of the AI CPU kernel (cast.cpp ``AICPU_DTYPE_SUPPORT_LIST``).
BASIC = frozenset({D.ACL_FLOAT16, D.ACL_FLOAT, D.ACL_DOUBLE, D.ACL_INT8, D.ACL_UINT8, D.ACL_INT16, D.ACL_INT32,
                   D.ACL_INT64, D.ACL_UINT16, D.ACL_UINT32, D.ACL_UINT64, D.ACL_BOOL, D.ACL_COMPLEX64,
                   D.ACL_COMPLEX128, D.ACL_BF16})
_LOW_BIT = frozenset({D.ACL_HIFLOAT8, D.ACL_FLOAT8_E5M2, D.ACL_FLOAT8_E4M3FN, D.ACL_COMPLEX32, D.ACL_FLOAT4_E1M2,
                      D.ACL_FLOAT4_E2M1})
#: ``self``'s types per profile (aclnn_cast.cpp ``DTYPE_SUPPORT_LIST_DEFAULT``, ``REGBASE_SELF_DTYPE_SUPPORT_LIST``).
SELF_TYPES = {"A2": BASIC, "A3": BASIC, "950": BASIC | _LOW_BIT}
#: ``dtype``'s types per profile (the same, and ``REGBASE_DTYPE_SUPPORT_LIST`` with INT4).
TARGET_TYPES = {"A2": BASIC, "A3": BASIC, "950": BASIC | _LOW_BIT | {D.ACL_INT4}}

_FLOAT8 = (D.ACL_HIFLOAT8, D.ACL_FLOAT8_E5M2, D.ACL_FLOAT8_E4M3FN)
_FLOAT4 = (D.ACL_FLOAT4_E2M1, D.ACL_FLOAT4_E1M2)
_WIDE = (D.ACL_FLOAT, D.ACL_FLOAT16, D.ACL_BF16)


def _pairs(sources, targets) -> set[tuple[int, int]]:
    return {(s, t) for s in sources for t in targets}


#: The pairs of Ascend 950's AI Core list (cast.cpp ``REGBASE_AICORE_DTYPE_SUPPORT_LIST``) that
#: involve a type beyond :data:`BASIC` (UINT1 -> FLOAT16 aside: UINT1 is no ``self`` type).
SPECIAL_950 = frozenset(
    _pairs((D.ACL_FLOAT,), _FLOAT8) | _pairs(_FLOAT8, (D.ACL_FLOAT,))
    | _pairs((D.ACL_FLOAT16, D.ACL_BF16), _FLOAT8) | {(D.ACL_HIFLOAT8, D.ACL_FLOAT16), (D.ACL_HIFLOAT8, D.ACL_BF16)}
    | _pairs((D.ACL_FLOAT8_E5M2, D.ACL_FLOAT8_E4M3FN), (D.ACL_FLOAT16, D.ACL_BF16))
    | _pairs(_FLOAT4, _FLOAT8 + _WIDE) | _pairs(_FLOAT8 + _WIDE, _FLOAT4)
    | {(D.ACL_FLOAT16, D.ACL_COMPLEX32), (D.ACL_COMPLEX32, D.ACL_FLOAT16), (D.ACL_COMPLEX64, D.ACL_COMPLEX32),
       (D.ACL_COMPLEX32, D.ACL_COMPLEX64), (D.ACL_INT32, D.ACL_INT4)})


def converts(source: int, target: int, profile: str) -> bool:
    """Whether ``l0op::Cast`` has the conversion on ``profile``'s SoC."""
    if source == target or (source in BASIC and target in BASIC):
        return True
    return profile == "950" and (source, target) in SPECIAL_950


def _names(types) -> str:
    return ", ".join(sorted(dtypes.label(t) for t in types))


def _is_int4_odd(self: TensorDesc) -> bool:
    return (self.shape[-1] if self.shape else 1) % 2 == 1


def check_cast(self: TensorDesc | None, dtype: int, out: TensorDesc | None, profile: str) -> bool:
    """aclnnCastGetWorkspaceSize's rules; False for an empty ``self`` (nothing to do)."""
    for name, desc in (("self", self), ("out", out)):
        if desc is None:
            raise Violation(NULLPTR, FUNCTION, f"{name} is a null pointer")
    assert self is not None and out is not None
    refuse_negative_extents(FUNCTION, {"self": self, "out": out})
    if self.dtype not in SELF_TYPES[profile]:
        raise Violation(INVALID, FUNCTION, f"self dtype {dtypes.label(self.dtype)} is not supported on this SoC: "
                                           f"expected one of {_names(SELF_TYPES[profile])}")
    if dtype not in TARGET_TYPES[profile]:
        raise Violation(INVALID, FUNCTION, f"dtype {dtypes.label(dtype)} is not supported on this SoC: expected one "
                                           f"of {_names(TARGET_TYPES[profile])}")
    if self.ndim > MAX_DIMS:
        raise Violation(INVALID, FUNCTION, f"self shape {shape_text(self.shape)} has {self.ndim} dims: at most "
                                           f"{MAX_DIMS} are supported")
    if out.shape != self.shape:
        raise Violation(INVALID, FUNCTION, f"out shape {shape_text(out.shape)} must be self's "
                                           f"{shape_text(self.shape)}")
    if out.dtype == D.ACL_INT4 and not self.is_contiguous():
        raise Violation(INVALID, FUNCTION, "self must be contiguous when out is INT4")
    if self.numel == 0:
        return False
    if not converts(self.dtype, dtype, profile):
        raise Violation(INVALID, FUNCTION, f"self dtype {dtypes.label(self.dtype)} cannot be cast to dtype "
                                           f"{dtypes.label(dtype)} on this SoC (no kernel has the conversion)")
    if out.dtype != dtype:
        raise Violation(INVALID, FUNCTION, f"out dtype {dtypes.label(out.dtype)} must be dtype "
                                           f"{dtypes.label(dtype)}")
    if out.format != self.format and self.format != ND:
        raise Violation(INVALID, FUNCTION, f"out format {dtypes.format_label(out.format)} must be self's "
                                           f"{dtypes.format_label(self.format)}")
    if dtype == D.ACL_INT4 and _is_int4_odd(self):
        raise Violation(TILING, FUNCTION, f"self shape {shape_text(self.shape)}: the last dim must be even when "
                                          f"dtype is INT4")
    return True


def output_desc(self: TensorDesc | None, dtype: int) -> dict[str, TensorDesc]:
    """The ``out`` a call implies: ``self``'s shape, ``dtype`` (none without ``self``)."""
    if self is None:
        return {}
    return {"out": TensorDesc.contiguous(self.shape, int(dtype))}
