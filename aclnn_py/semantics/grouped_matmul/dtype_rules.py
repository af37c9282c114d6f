"""The dtype rules of aclnnGroupedMatmulV5GetWorkspaceSize, as data. Source: CANN's document
aclnnGroupedMatmulV5.md (ops-transformer, gmm/grouped_matmul/docs/), its dtype tables of
约束说明 (constraints) for Atlas A2/A3 and for Ascend 950.

:func:`check_profile_features` rejects the dtypes Atlas A2/A3 lack;
:func:`check_combinations` checks the dtype of every parameter against the
tables of its scenario, profile family (``"A2"`` for Atlas A2/A3, ``"950"``)
and output dtype. Dtypes are canonical names (``None``: the parameter is
null); a failure raises :class:`~aclnn_py.semantics.status.Violation` (161001 for a
missing required parameter, 161002 otherwise) whose message names the
parameter, the dtype, the context and the supported dtypes. Also home of the
Violation helpers :func:`invalid` / :func:`null` that :mod:`.rules` uses.

Choices where the sources leave it open (UNCONFIRMED):

- BF16 bias is accepted on the 950 profile only (the doc's parameter notes: on Atlas A2/A3
  biasOptional does not take BFLOAT16), although
  the Dec-2025 A2 A8W8 table lists a BF16-bias row.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Union

from .. import dtypes
from ..headers import load
from ..status import Violation

__all__ = ["FUNCTION", "NULLPTR", "INVALID", "OPTIONAL", "invalid", "null", "check_profile_features",
           "check_combinations"]

FUNCTION = "aclnnGroupedMatmulV5GetWorkspaceSize"
_K = load().constants
NULLPTR = _K["ACLNN_ERR_PARAM_NULLPTR"]
INVALID = _K["ACLNN_ERR_PARAM_INVALID"]

# The C parameter names, which key the dtype names of a call.
BIAS, SCALE, OFFSET = "biasOptional", "scaleOptional", "offsetOptional"
AQS, AQO, PTS = "antiquantScaleOptional", "antiquantOffsetOptional", "perTokenScaleOptional"
OUT = "out"
#: The optional tensor lists, in the order they are checked.
OPTIONAL = (BIAS, SCALE, OFFSET, AQS, AQO, PTS)

Names = Mapping[str, Union[str, None]]
Allowed = Union[tuple, Mapping]


def invalid(message: str) -> Violation:
    return Violation(INVALID, FUNCTION, message)


def null(message: str) -> Violation:
    return Violation(NULLPTR, FUNCTION, message)


# --------------------------------------------------------------------------- tables

_LOW = ("float8_e4m3fn", "float8_e5m2", "hifloat8", "float4_e2m1", "float8_e8m0")
_950_FEATURES = " (FP8/HiF8/FP4/E8M0 are Ascend 950 features)"
#: (parameter, dtypes, why) rejected on Atlas A2/A3, in check order.
_NOT_ON_A2 = (("x", _LOW, _950_FEATURES), ("weight", _LOW, _950_FEATURES), (SCALE, _LOW, _950_FEATURES),
              (PTS, _LOW, _950_FEATURES), (BIAS, ("bfloat16",), ""))

X = "<x>"  # in an allowed tuple: the x dtype
_FLOAT_OUTS = ("bfloat16", "float16", "float32")
_PACKED = ("uint64", "int64")
#: Bias dtypes of non-quantized and weight-only calls by (family, x dtype).
_FLOAT_BIAS = {("A2", "float16"): (None, "float16"), ("A2", "bfloat16"): (None, "float32"),
               ("A2", "float32"): (None, "float32"), ("950", "float16"): (None, "float16"),
               ("950", "bfloat16"): (None, "float32", "bfloat16"), ("950", "float32"): (None, "float32")}


@dataclass(frozen=True)
class _Scenario:
    """The dtype table of one scenario.

    ``null``: parameters that must be null ("{what} must be null {null_reason}");
    ``required``: parameters that must be present (161001, "{what} is nullptr but
    {required_by} requires it"); ``allowed``: (parameter, dtypes, context) in
    check order, the dtypes a tuple (``None`` = may be null, ``X`` = the x dtype)
    or a mapping keyed by (family, x dtype) or x dtype (``"*"``: any other); the
    context a template over ``ctx`` ("for KIND on the P profile"), ``where``
    ("on the P profile"), ``X`` (the x dtype's name in capitals), ``x_label``.
    """

    null: tuple[str, ...]
    null_reason: str
    allowed: tuple[tuple[str, Allowed, str], ...]
    required: tuple[str, ...] = ()
    required_by: str = ""


_SAME_AS_X = "{ctx} (must equal the x dtype)"
_FULL_NULL = (AQS, AQO, OFFSET)


def _weight_only(offsets: tuple) -> _Scenario:
    return _Scenario((SCALE, OFFSET, PTS), "for weight-only quantization",
                     ((AQS, (X,), _SAME_AS_X), (AQO, offsets, _SAME_AS_X), (BIAS, _FLOAT_BIAS, "{ctx}"),
                      (OUT, (X,), _SAME_AS_X)))


def _quant(required: tuple[str, ...], required_by: str, *allowed: tuple[str, Allowed],
           null: tuple[str, ...] = _FULL_NULL) -> _Scenario:
    return _Scenario(null, "for {KIND}", tuple((p, a, "{ctx}") for p, a in allowed), required, required_by)


_SCENARIOS = {
    "nonquant": _Scenario((SCALE, OFFSET, AQO, PTS), "for non-quantized inputs",
                          ((BIAS, _FLOAT_BIAS, "with x {X} {where}"), (OUT, (X,), "with x {x_label}"))),
    "a16w8": _weight_only((None, X)),
    "a16w4": _weight_only((None, X)),
    "weight_fp8": _weight_only((None,)),
    "a8w8": _quant((), "", (OUT, ("int8", "bfloat16", "float16", "int32")), (PTS, (None, "float32"))),
    "a8w4": _quant((BIAS, SCALE, PTS), "A8W4", (BIAS, ("float32",)), (SCALE, ("uint64",)), (PTS, ("float32",)),
                   (OUT, ("bfloat16", "float16")), (OFFSET, (None, "float32")), null=(AQS, AQO)),
    "a4w4": _quant((SCALE,), "A4W4", (SCALE, ("uint64",)), (PTS, (None, "float32")), (BIAS, (None,)),
                   (OUT, ("float16", "bfloat16"))),
    "quant_fp8": _quant((SCALE,), "FP8/HiF8 quantization", (SCALE, ("uint64", "int64", "float32")),
                        (PTS, (None, "float32")), (BIAS, (None,)), (OUT, _FLOAT_OUTS)),
    "mx": _quant((PTS,), "MX quantization", (PTS, ("float8_e8m0",)),
                 (BIAS, {"float4_e2m1": (None, "float32"), "*": (None,)}), (OUT, _FLOAT_OUTS)),
    "pergroup_perblock": _quant((PTS,), "per-group/per-block quantization", (SCALE, ("float32",)),
                                (PTS, ("float32",)), (BIAS, (None,)), (OUT, _FLOAT_OUTS)),
}
#: A8W8 after its out and perTokenScale dtypes: (family, out) -> (parameter, dtypes), "with {OUT} out".
_A8W8 = {
    ("A2", "int32"): ((SCALE, (None,)), (PTS, (None,)), (BIAS, (None, "int32"))),
    ("950", "int32"): ((SCALE, (None, "uint64")), (PTS, (None,)), (BIAS, (None, "int32"))),
    ("A2", "int8"): ((SCALE, ("uint64",)), (PTS, (None,)), (BIAS, (None, "int32"))),
    ("950", "int8"): ((SCALE, ("uint64", "int64")), (PTS, (None,)), (BIAS, (None, "int32"))),
    ("A2", "bfloat16"): ((SCALE, ("bfloat16",)), (BIAS, (None, "int32"))),
    ("A2", "float16"): ((SCALE, ("float32",)), (BIAS, (None, "int32"))),
    ("950", "bfloat16"): ((SCALE, ("bfloat16", "float32")), (BIAS, (None, "int32", "bfloat16", "float32"))),
    ("950", "float16"): ((SCALE, ("float32",)), (BIAS, (None, "int32", "float16", "float32"))),
}
#: Ascend 950 A8W8 with a float out and a packed UINT64/INT64 scale ("with a {SCALE} scale").
_A8W8_950_PACKED = ((PTS, (None,)), (BIAS, (None, "int32")))


# --------------------------------------------------------------------------- checks

def _family(profile: str) -> str:
    return "A2" if profile in ("A2", "A3") else "950"


def _text(name: str) -> str:
    return name if name.startswith("unsupported") else dtypes.label(dtypes.from_name(name))


def _labels(names) -> str:
    return ", ".join("null" if n is None else dtypes.label(dtypes.from_name(n)) for n in names)


def _allow(name: str | None, allowed, what: str, context: str) -> None:
    if name not in allowed:
        shown = "null" if name is None else _text(name)
        raise invalid(f"{what} dtype {shown} is not supported {context}; supported: {_labels(allowed)}")


def check_profile_features(names: Names, profile: str) -> None:
    """Atlas A2/A3 have no FP8/HiF8/FP4/E8M0, no INT64 scale and no BF16 bias."""
    if _family(profile) != "A2":
        return
    for what, rejected, why in _NOT_ON_A2:
        name = names[what]
        if name in rejected:
            raise invalid(f"{what} dtype {_text(name)} is not supported on Atlas A2/A3{why}")


def _resolve(allowed: Allowed, family: str, x_name: str) -> tuple:
    if isinstance(allowed, Mapping):
        allowed = allowed.get((family, x_name)) or allowed.get(x_name) or allowed["*"]
    return tuple(x_name if a == X else a for a in allowed)


def check_combinations(kind: str, profile: str, names: Names) -> None:
    """Every parameter's dtype against the tables of ``kind`` (names by C parameter name)."""
    family, x_name = _family(profile), names["x"]
    assert x_name is not None
    where = f"on the {profile} profile"
    fields = dict(ctx=f"for {kind.upper()} {where}", where=where, X=x_name.upper(),
                  x_label=dtypes.label(dtypes.from_name(x_name)), KIND=kind.upper())
    table = _SCENARIOS[kind]
    for what in table.null:
        if names[what] is not None:
            raise invalid(f"{what} must be null {table.null_reason.format(**fields)}")
    for what in table.required:
        if names[what] is None:
            raise null(f"{what} is nullptr but {table.required_by} requires it")
    for what, allowed, context in table.allowed:
        _allow(names[what], _resolve(allowed, family, x_name), what, context.format(**fields))
    if kind == "a8w4" and names[OFFSET] is not None and names[OUT] != "float16":
        raise invalid("offsetOptional (asymmetric A8W4) needs FLOAT16 out")
    if kind == "a8w8":
        _a8w8(family, names, fields["ctx"])


def _a8w8(family: str, names: Names, ctx: str) -> None:
    """A8W8 after its out dtype: the scale, perTokenScale and bias dtypes (the doc's A2/A3 and 950 tables).

    On Atlas A2/A3 a BFLOAT16 out needs a BFLOAT16 scale and a FLOAT16 out a FLOAT scale
    (hicann/ops-transformer gmm/grouped_matmul/op_api/aclnn_grouped_matmul.cpp,
    ``CheckQuantParamsDtype``; the V5 doc says so as well).
    """
    out, scale = names[OUT], names[SCALE]
    assert out is not None
    if out != "int32" and scale is None:
        raise null(f"scaleOptional is nullptr but A8W8 with {out.upper()} out requires it")
    if family == "950" and out in ("bfloat16", "float16") and scale in _PACKED:
        assert scale is not None
        rows, suffix = _A8W8_950_PACKED, f"with a {scale.upper()} scale"
    else:
        rows, suffix = _A8W8[(family, out)], f"with {out.upper()} out"
    for what, allowed in rows:
        _allow(names[what], allowed, what, f"{ctx} {suffix}")
