"""aclnnNpuFormatCast and aclnnNpuFormatCastCalculateSizeAndFormat: ND <-> FRACTAL_NZ -- rules and golden.

Public source: ops-math conversion/npu_format_cast/op_host/op_api/aclnn_npu_format_cast.cpp (the code
decides where its doc, docs/aclnnNpuFormatCast.md, differs). The FRACTAL_NZ bytes are the layout of
:mod:`~aclnn_py.semantics.nz` (the one aclnnTransMatmulWeight writes), with the C0 of the target.

**aclnnNpuFormatCastCalculateSizeAndFormat(srcTensor, dstFormat, additionalDtype, ...)** (host only).
Every failure of its input checks is 161002 -- the code turns them all into ACLNN_ERR_PARAM_INVALID,
a NULL srcTensor included (the doc says 161001):

* srcTensor's dtype INT8, UINT8, FLOAT, FLOAT16, BFLOAT16, INT32, UINT32, FLOAT8_E4M3FN,
  FLOAT4_E2M1, HIFLOAT8 or FLOAT4_E1M2 (``WEIGHT_DTYPE_SUPPORT_LIST``); additionalDtype -1 means
  srcTensor's dtype.
* **ND -> NZ** (dstFormat FRACTAL_NZ, srcTensor ND or NCL, or NCHW/NCDHW with additionalDtype the
  src dtype): the shape (batch..., ceil(w / C0), ceil(h / 16), 16, C0) of the view (..., h, w).
  Atlas A2/A3: C0 = 32 bytes / size of additionalDtype, format FRACTAL_NZ; an empty srcTensor is
  361001 (the aclop fallback). Ascend 950 (``Check95NdToNzCalculateSizeAndFormatInputs``): no zero
  dim; additionalDtype the src dtype: C0 = 32 bytes / its size (64 for the FP4 types), format
  FRACTAL_NZ, for FLOAT/FLOAT16/BFLOAT16 a view of 2-6 dims whose k (dim -2) is not 1, else an
  8-bit or 4-bit additionalDtype and 2-6 dims; otherwise (WeightQuantBatchMatmul weights) an INT32
  src takes FLOAT16/BFLOAT16/INT8, a FLOAT src FLOAT16/BFLOAT16/FLOAT8_E4M3FN/HIFLOAT8/UINT8, 2 or 3
  dims: a 2-byte additionalDtype gives FRACTAL_NZ_C0_16 (C0 16), INT8/FLOAT8_E4M3FN
  FRACTAL_NZ_C0_32 (C0 32).
* **NZ -> ND** (srcTensor FRACTAL_NZ -- on the Ascend 950 also FRACTAL_NZ_C0_2/4/16/32 with a
  storage shape of 4-8 non-zero dims ending in its C0 -- and dstFormat ND): the src view shape,
  format ND.
* **NCHW <-> NC1HWC0, NCDHW <-> NDC1HWC0** (:mod:`~aclnn_py.semantics.c1hwc0`; CANN computes these
  on every profile): to the blocked format the shape (N, C1, H, W, C0) / (N, D, C1, H, W, C0), C0 =
  32 bytes / size of additionalDtype (``CalcNCHWToNC1HWC0``, ``CalcNCDHWToNDC1HWC0``; a view of
  another rank: 161002, and an additionalDtype outside the Atlas A2/A3 list above: 161002 -- this
  implementation's rules, as CANN reads dims and sizes it does not check); back, the src view shape,
  which must have 4 / 5 dims (``CalcToNCHW``, ``CalcToNCDHW``: 361001 otherwise). An empty
  srcTensor on Atlas A2/A3: 361001 (the aclop fallback).
* The other pairs of the same chain (NCDHW <-> FRACTAL_Z_3D, NHWC -> NC1HWC0, NCHW/HWCN <->
  FRACTAL_Z, NDHWC <-> NDC1HWC0, DHWCN <-> FRACTAL_Z_3D: ``kTransdataForwardFormatPairs910B``)
  are not modelled: the rules return None (the binding then leaves the call to the runtime; the
  mock answers 361001 saying it does not model them). Any other pair: 361001.

**aclnnNpuFormatCastGetWorkspaceSize(srcTensor, dstTensor)**: a NULL tensor is 561103
(ACLNN_ERR_INNER_NULLPTR, the code's CHECK_RET; the doc says 161001). Both contiguous, of the
dtypes above (Atlas A2/A3: INT8, UINT8, FLOAT, FLOAT16, BFLOAT16, INT32, UINT32); ND/NCL/NCHW/NCDHW
-> FRACTAL_NZ (Ascend 950: FRACTAL_NZ_C0_16/32 for INT32, FLOAT, FLOAT8_E4M3FN, HIFLOAT8, UINT8
too) or FRACTAL_NZ(_C0_x) -> ND/NCL/NCHW/NCDHW (the other Atlas A2/A3 pairs: None, as above);
161002 otherwise. Checks of this implementation,
where CANN's kernels would read or write outside the tensors or CANN returns without an executor
(an unsupported pair on A2/A3 returns ``false``, 0): the two dtypes equal; ND -> NZ: dstTensor's
view shape srcTensor's, its storage shape the NZ shape of that view with its own C0 (the last
storage dim); NZ -> ND: srcTensor's storage shape the NZ shape of dstTensor's view (the kernel
takes the ND shape from dstTensor); NCHW/NCDHW <-> NC1HWC0/NDC1HWC0 (Atlas A2/A3; on the Ascend 950
CANN takes them into a TransData whose support the public code does not show: None, as the other
pairs): the plain tensor
4 / 5 dims, to the blocked format dstTensor's view shape srcTensor's, and the blocked tensor's storage
shape the blocked shape of the plain view with its own C0 (its last storage dim). 161002 otherwise. An
empty tensor is a no-op.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from . import c1hwc0, dtypes, nz
from .catalogue import OperatorRules
from .descriptors import FRACTAL_NZ, ND, TensorDesc, contiguous_strides, refuse_negative_extents, shape_text
from .headers import load
from .status import INVALID, NULLPTR, RUNTIME, Violation

__all__ = ["OPERATORS", "BlockedCastCall", "FormatCastCall", "calculate_size_and_format", "check"]

D = dtypes.DataType
_K = load().constants
CALCULATE = "aclnnNpuFormatCastCalculateSizeAndFormat"
FUNCTION = "aclnnNpuFormatCastGetWorkspaceSize"
INNER_NULLPTR = _K["ACLNN_ERR_INNER_NULLPTR"]
NZ_C0 = {_K["ACL_FORMAT_FRACTAL_NZ_C0_2"]: 2, _K["ACL_FORMAT_FRACTAL_NZ_C0_4"]: 4,
         _K["ACL_FORMAT_FRACTAL_NZ_C0_16"]: 16, _K["ACL_FORMAT_FRACTAL_NZ_C0_32"]: 32}
NZ_FORMATS = (FRACTAL_NZ, *NZ_C0)
#: The plain formats an NZ tensor converts from and to (ND, NCL, NCHW, NCDHW).
PLAIN_FORMATS = (ND, _K["ACL_FORMAT_NCL"], _K["ACL_FORMAT_NCHW"], _K["ACL_FORMAT_NCDHW"])
_NCL = _K["ACL_FORMAT_NCL"]
_C0_16, _C0_32 = _K["ACL_FORMAT_FRACTAL_NZ_C0_16"], _K["ACL_FORMAT_FRACTAL_NZ_C0_32"]
_BLOCK = 32  # bytes of one C0 row
_DHWCN = 31  # ge's FORMAT_DHWCN (graph/types.h); the acl headers name no ACL_FORMAT_DHWCN
#: The conversions CANN's CalculateSizeAndFormat computes (on every profile) besides ND <-> NZ and the
#: modelled channel-blocked ones (``kTransdataForwardFormatPairs910B``), both ways.
_OTHER_PAIRS = frozenset(pair for src, dst in (
    ("ACL_FORMAT_NCDHW", "ACL_FRACTAL_Z_3D"), (_DHWCN, "ACL_FRACTAL_Z_3D"), ("ACL_FORMAT_NHWC", "ACL_FORMAT_NC1HWC0"),
    ("ACL_FORMAT_NCHW", "ACL_FORMAT_FRACTAL_Z"), ("ACL_FORMAT_HWCN", "ACL_FORMAT_FRACTAL_Z"),
    ("ACL_FORMAT_NDHWC", "ACL_FORMAT_NDC1HWC0"))
    for a, b in [(_K[src] if isinstance(src, str) else src, _K[dst])] for pair in ((a, b), (b, a)))
#: The channel-blocked conversions modelled on Atlas A2/A3 (plain format, blocked format) -> the plain view's dims.
_TO_BLOCKED = {(_K["ACL_FORMAT_NCHW"], _K["ACL_FORMAT_NC1HWC0"]): 4, (_K["ACL_FORMAT_NCDHW"], _K["ACL_FORMAT_NDC1HWC0"]): 5}
_FP4 = (D.ACL_FLOAT4_E2M1, D.ACL_FLOAT4_E1M2) if hasattr(D, "ACL_FLOAT4_E1M2") else (D.ACL_FLOAT4_E2M1,)
_WEIGHT_DTYPES = (D.ACL_INT8, D.ACL_UINT8, D.ACL_FLOAT, D.ACL_FLOAT16, D.ACL_BF16, D.ACL_INT32, D.ACL_UINT32,
                  D.ACL_FLOAT8_E4M3FN, D.ACL_HIFLOAT8, *_FP4)
_A2_DTYPES = (D.ACL_INT8, D.ACL_UINT8, D.ACL_FLOAT, D.ACL_FLOAT16, D.ACL_BF16, D.ACL_INT32, D.ACL_UINT32)
_950_DTYPES = (D.ACL_INT8, D.ACL_FLOAT, D.ACL_FLOAT16, D.ACL_BF16, D.ACL_INT32, D.ACL_FLOAT8_E4M3FN,
               D.ACL_HIFLOAT8, D.ACL_UINT8, *_FP4)
_QUANT_DTYPES = (D.ACL_INT8, D.ACL_UINT8, D.ACL_FLOAT8_E4M3FN, D.ACL_HIFLOAT8, *_FP4)
_NONQUANT_DTYPES = (D.ACL_FLOAT, D.ACL_FLOAT16, D.ACL_BF16)
_WEIGHT_QUANT = {D.ACL_INT32: (D.ACL_FLOAT16, D.ACL_BF16, D.ACL_INT8),
                 D.ACL_FLOAT: (D.ACL_FLOAT16, D.ACL_BF16, D.ACL_FLOAT8_E4M3FN, D.ACL_HIFLOAT8, D.ACL_UINT8)}


def _labels(values) -> str:
    return ", ".join(dtypes.label(v) for v in values)


def _dtype_label(value: int) -> str:
    try:
        return dtypes.label(value)
    except (KeyError, ValueError):
        return str(value)


def _c0(dtype: int) -> int:
    """C0 of the FRACTAL_NZ layout of a dtype: 32 bytes of it (64 for 4-bit floats)."""
    return _BLOCK * 8 // dtypes.bits(dtype)


# --------------------------------------------------------------------------- CalculateSizeAndFormat

def _nd_to_nz_950(src: TensorDesc, additional: int) -> tuple[int, int]:
    """(C0, actual format) on the Ascend 950, after its checks."""
    if any(d == 0 for d in src.shape):
        raise Violation(INVALID, CALCULATE, f"srcTensor shape {shape_text(src.shape)} must not have a zero dim")
    if src.dtype not in _950_DTYPES:
        raise Violation(INVALID, CALCULATE, f"srcTensor dtype {dtypes.label(src.dtype)} is not supported on this "
                                            f"SoC (profile 950): expected {_labels(_950_DTYPES)}")
    if additional == src.dtype:
        if src.dtype in _NONQUANT_DTYPES:
            if src.ndim >= 2 and src.shape[-2] == 1:
                raise Violation(INVALID, CALCULATE, f"srcTensor shape {shape_text(src.shape)}: its k (dim -2) must "
                                                    f"not be 1 when additionalDtype is srcTensor's dtype")
        elif additional not in _QUANT_DTYPES:
            raise Violation(INVALID, CALCULATE, f"additionalDtype {_dtype_label(additional)} must be one of "
                                                f"{_labels(_QUANT_DTYPES)} when it is srcTensor's dtype")
        if not 2 <= src.ndim <= 6:
            raise Violation(INVALID, CALCULATE, f"srcTensor shape {shape_text(src.shape)} must have 2 to 6 dims")
        return _c0(src.dtype), FRACTAL_NZ
    allowed = _WEIGHT_QUANT.get(src.dtype)
    if allowed is not None and additional not in allowed:
        raise Violation(INVALID, CALCULATE, f"additionalDtype {_dtype_label(additional)} must be one of "
                                            f"{_labels(allowed)} for a {dtypes.label(src.dtype)} srcTensor")
    if src.ndim not in (2, 3):
        raise Violation(INVALID, CALCULATE, f"srcTensor shape {shape_text(src.shape)} must have 2 or 3 dims when "
                                            f"additionalDtype differs from its dtype")
    if additional in (D.ACL_INT8, D.ACL_FLOAT8_E4M3FN):
        return _BLOCK, _C0_32
    return 16, _C0_16  # a 2-byte additionalDtype (UNCONFIRMED for HIFLOAT8/UINT8: CANN leaves the format unset)


def calculate_size_and_format(src: TensorDesc | None, dst_format: int, additional_dtype: int,
                              profile: str = "A2") -> tuple[tuple[int, ...], int] | None:
    """(dstShape, actualFormat) of aclnnNpuFormatCastCalculateSizeAndFormat (Violation: its status);
    None for a conversion CANN makes that these rules do not model (module doc)."""
    if src is None:
        raise Violation(INVALID, CALCULATE, "srcTensor must not be a null pointer")
    refuse_negative_extents(CALCULATE, {"srcTensor": src})
    if src.dtype not in _WEIGHT_DTYPES:
        raise Violation(INVALID, CALCULATE, f"srcTensor dtype {dtypes.label(src.dtype)} is not supported: expected "
                                            f"{_labels(_WEIGHT_DTYPES)}")
    additional = src.dtype if additional_dtype == -1 else additional_dtype
    if dst_format == FRACTAL_NZ and (src.format in (ND, _NCL) or (additional == src.dtype
                                                                   and src.format in PLAIN_FORMATS)):
        if src.ndim < 2:
            raise Violation(INVALID, CALCULATE, f"srcTensor shape {shape_text(src.shape)} must have at least 2 dims")
        if profile == "950":
            c0, actual = _nd_to_nz_950(src, additional)
        else:
            if src.numel == 0:
                raise Violation(RUNTIME, CALCULATE, "an empty srcTensor is not supported (CANN falls back to aclop)")
            if additional not in _A2_DTYPES:
                raise Violation(INVALID, CALCULATE, f"additionalDtype {_dtype_label(additional_dtype)} is not "
                                                    f"supported: expected -1 or one of {_labels(_A2_DTYPES)}")
            c0, actual = _c0(additional), FRACTAL_NZ
        return nz.nz_storage_shape(src.shape, "int8", c0), actual
    if src.format in NZ_FORMATS and dst_format == ND:
        if profile != "950" and src.format != FRACTAL_NZ:
            raise Violation(INVALID, CALCULATE, f"srcTensor format {dtypes.format_label(src.format)} is not "
                                                f"supported: expected FRACTAL_NZ")
        if profile == "950":
            _valid_nz_storage(src, CALCULATE)
        elif src.numel == 0:
            raise Violation(RUNTIME, CALCULATE, "an empty srcTensor is not supported (CANN falls back to aclop)")
        return src.shape, ND
    blocked = _blocked_size_and_format(src, dst_format, additional, additional_dtype, profile)
    if blocked is not None:
        return blocked
    if (src.format, dst_format) in _OTHER_PAIRS:
        return None
    raise Violation(RUNTIME, CALCULATE, f"converting srcTensor format {dtypes.format_label(src.format)} to dstFormat "
                                        f"{dtypes.format_label(dst_format) if dst_format in _FORMAT_NAMES else dst_format} "
                                        f"is not supported (the mock converts ND/NCL/NCHW/NCDHW <-> FRACTAL_NZ)")


_FORMAT_NAMES = frozenset(int(f) for f in dtypes.Format)


def _blocked_size_and_format(src: TensorDesc, dst_format: int, additional: int, additional_dtype: int,
                             profile: str) -> tuple[tuple[int, ...], int] | None:
    """CalculateSizeAndFormat of NCHW/NCDHW <-> NC1HWC0/NDC1HWC0; None for another pair."""
    forward = (src.format, dst_format) in _TO_BLOCKED
    if not forward and (dst_format, src.format) not in _TO_BLOCKED:
        return None
    if src.numel == 0 and profile != "950":
        raise Violation(RUNTIME, CALCULATE, "an empty srcTensor is not supported (CANN falls back to aclop)")
    plain = src.format if forward else dst_format
    dims = _TO_BLOCKED[(plain, dst_format if forward else src.format)]
    if src.ndim != dims:
        raise Violation(INVALID if forward else RUNTIME, CALCULATE,
                        f"srcTensor shape {shape_text(src.shape)} must have {dims} dims "
                        f"({dtypes.format_label(plain)})")
    if not forward:
        return src.shape, dst_format
    if additional not in _A2_DTYPES:
        raise Violation(INVALID, CALCULATE, f"additionalDtype {_dtype_label(additional_dtype)} is not "
                                            f"supported: expected -1 or one of {_labels(_A2_DTYPES)}")
    return c1hwc0.blocked_shape(src.shape, _c0(additional)), dst_format


def _valid_nz_storage(desc: TensorDesc, function: str) -> None:
    """An NZ tensor's storage shape: 4-8 non-zero dims whose last is the C0 of its format (950's ValidNzShape)."""
    storage = desc.storage_shape
    if not 4 <= len(storage) <= 8 or any(d == 0 for d in storage):
        raise Violation(INVALID, function, f"srcTensor storage shape {shape_text(storage)} must have 4 to 8 non-zero "
                                           f"dims in an NZ format")
    expected = NZ_C0.get(desc.format) or (64 if desc.dtype in _FP4 else _BLOCK * 8 // dtypes.bits(desc.dtype))
    if storage[-1] != expected:
        raise Violation(INVALID, function, f"srcTensor c0 {storage[-1]} (its last storage dim) must be {expected} for "
                                           f"{dtypes.format_label(desc.format)} {dtypes.label(desc.dtype)}")


# --------------------------------------------------------------------------- the two-phase operator

@dataclass(frozen=True)
class FormatCastCall:
    """A checked call: the ND and NZ descriptors of the data (NZ relabelled FRACTAL_NZ, its C0 in its
    storage shape, its view the ND shape) and the direction."""

    to_nz: bool
    nd: TensorDesc
    nz: TensorDesc
    empty: bool


@dataclass(frozen=True)
class BlockedCastCall:
    """A checked NCHW/NCDHW <-> NC1HWC0/NDC1HWC0 call: the plain tensor, the blocked one as a contiguous ND
    descriptor of its storage shape, its C0 and the direction."""

    to_blocked: bool
    plain: TensorDesc
    blocked: TensorDesc
    c0: int
    empty: bool


def _check_blocked(src: TensorDesc, dst: TensorDesc) -> BlockedCastCall:
    to_blocked = (src.format, dst.format) in _TO_BLOCKED
    plain, blocked = (src, dst) if to_blocked else (dst, src)
    plain_what, blocked_what = ("srcTensor", "dstTensor") if to_blocked else ("dstTensor", "srcTensor")
    dims = _TO_BLOCKED[(plain.format, blocked.format)]
    if plain.ndim != dims:
        raise Violation(INVALID, FUNCTION, f"{plain_what} shape {shape_text(plain.shape)} must have {dims} dims "
                                           f"({dtypes.format_label(plain.format)})")
    if to_blocked and dst.shape != src.shape:
        raise Violation(INVALID, FUNCTION, f"dstTensor view shape {shape_text(dst.shape)} must be srcTensor's "
                                           f"{shape_text(src.shape)}")
    storage = blocked.storage_shape
    c0 = storage[-1] if storage else 0
    expected = c1hwc0.blocked_shape(plain.shape, c0) if c0 > 0 else None
    if storage != expected:
        raise Violation(INVALID, FUNCTION, f"{blocked_what} storage shape {shape_text(storage)} must be the "
                                           f"{dtypes.format_label(blocked.format)} shape of the view "
                                           f"{shape_text(plain.shape)} with its C0 (its last storage dim)")
    flat = TensorDesc(storage, blocked.dtype, contiguous_strides(storage), blocked.offset, ND, storage,
                      blocked.address)
    return BlockedCastCall(to_blocked, plain, flat, c0, plain.numel == 0)


def _as_nz(desc: TensorDesc, shape: tuple[int, ...]) -> TensorDesc:
    return replace(desc, shape=shape, strides=tuple(TensorDesc.contiguous(shape, desc.dtype).strides),
                   format=FRACTAL_NZ)


def _nz_fits(nd_shape: tuple[int, ...], nz_desc: TensorDesc, what: str) -> None:
    storage = nz_desc.storage_shape
    c0 = storage[-1] if storage else 0
    if len(nd_shape) < 2 or len(storage) != len(nd_shape) + 2 or c0 <= 0:
        raise Violation(INVALID, FUNCTION, f"{what} storage shape {shape_text(storage)} must have the ND view's "
                                           f"{len(nd_shape)} dims plus 2, ending in a positive C0")
    expected = nz.nz_storage_shape(nd_shape, "int8", c0)
    if storage != expected:
        raise Violation(INVALID, FUNCTION, f"{what} storage shape {shape_text(storage)} must be the FRACTAL_NZ shape "
                                           f"{shape_text(expected)} of the view {shape_text(nd_shape)} with C0 {c0}")


def check(src_tensor: TensorDesc | None, dst_tensor: TensorDesc | None,
          profile: str = "A2") -> FormatCastCall | BlockedCastCall | None:
    """Validate one aclnnNpuFormatCast call (Violation: its status and message); None for a conversion
    CANN makes that these rules do not model (module doc)."""
    src, dst = src_tensor, dst_tensor
    for what, desc in (("srcTensor", src), ("dstTensor", dst)):
        if desc is None:
            raise Violation(INNER_NULLPTR, FUNCTION, f"{what} must not be a null pointer")
    assert src is not None and dst is not None
    refuse_negative_extents(FUNCTION, {"srcTensor": src, "dstTensor": dst})
    for what, desc in (("srcTensor", src), ("dstTensor", dst)):
        if not desc.is_contiguous():
            raise Violation(INVALID, FUNCTION, f"{what} must be contiguous")
    allowed = _950_DTYPES if profile == "950" else _A2_DTYPES
    for what, desc in (("srcTensor", src), ("dstTensor", dst)):
        if desc.dtype not in allowed:
            raise Violation(INVALID, FUNCTION, f"{what} dtype {dtypes.label(desc.dtype)} is not supported on this SoC "
                                               f"(profile {profile}): expected {_labels(allowed)}")
    if src.dtype != dst.dtype:
        raise Violation(INVALID, FUNCTION, f"dstTensor dtype {dtypes.label(dst.dtype)} must be srcTensor's "
                                           f"{dtypes.label(src.dtype)} (this implementation's rule)")
    if {(src.format, dst.format), (dst.format, src.format)} & _TO_BLOCKED.keys():
        return None if profile == "950" else _check_blocked(src, dst)
    if (src.format, dst.format) in _OTHER_PAIRS:
        return None
    to_nz = src.format in PLAIN_FORMATS and (dst.format == FRACTAL_NZ or (profile == "950" and dst.format in
                                                                          (_C0_16, _C0_32)))
    if not to_nz and not (src.format in (NZ_FORMATS if profile == "950" else (FRACTAL_NZ,))
                          and dst.format in PLAIN_FORMATS):
        raise Violation(INVALID, FUNCTION, f"converting srcTensor format {dtypes.format_label(src.format)} to "
                                           f"dstTensor format {dtypes.format_label(dst.format)} is not supported "
                                           f"(ND/NCL/NCHW/NCDHW <-> FRACTAL_NZ)")
    if to_nz:
        if not 2 <= src.ndim <= 6:
            raise Violation(INVALID, FUNCTION, f"srcTensor shape {shape_text(src.shape)} must have 2 to 6 dims")
        if dst.shape != src.shape:
            raise Violation(INVALID, FUNCTION, f"dstTensor view shape {shape_text(dst.shape)} must be srcTensor's "
                                               f"{shape_text(src.shape)}")
        _nz_fits(src.shape, dst, "dstTensor")
        return FormatCastCall(True, src, _as_nz(dst, src.shape), src.numel == 0)
    if not 2 <= dst.ndim <= 6:
        raise Violation(INVALID, FUNCTION, f"dstTensor shape {shape_text(dst.shape)} must have 2 to 6 dims")
    _nz_fits(dst.shape, src, "srcTensor")
    return FormatCastCall(False, dst, _as_nz(src, dst.shape), dst.numel == 0)


#: The catalogue's entries (ops-math conversion/npu_format_cast: libopapi_math).
OPERATORS = (
    OperatorRules("aclnnNpuFormatCast", "opapi_math",
                  check=lambda *, src_tensor, dst_tensor, profile: check(src_tensor, dst_tensor, profile)),
    OperatorRules("aclnnNpuFormatCastCalculateSizeAndFormat", "opapi_math"),
)
