"""Shape rules of aclnnGroupedMatmulV5GetWorkspaceSize: the weight's NZ storage and the
shape of each optional parameter per scenario. Source: CANN's document aclnnGroupedMatmulV5.md
(ops-transformer, gmm/grouped_matmul/docs/), its constraints (约束说明) per product and scenario.

:class:`Operands` is what :mod:`.rules` has validated so far (the null-checked
descriptor lists and the weights' logical shapes); :func:`check_nz` and
:func:`check_parameters` raise :class:`~aclnn_py.semantics.status.Violation` (161002)
naming the parameter, its shape and the shapes the rule allows.

Choices where the sources leave it open (UNCONFIRMED):

- A8W4 ("S8S4") and A4W4 ("S4S4") on the 950 profile follow the 2026 doc and the
  arch35 checker/tiling: S8S4 needs groupListType 1, scale [E, K/256, N] (no
  offset) or [E, 1, N] with offset [E, 1, N], perTokenScale [M]; S4S4 takes scale
  [E, N] or [E, G, N] and perTokenScale [M] or null. Both accept an NZ INT4 weight
  with C0 = 32 (S4S4 also 64); a per-group S4S4 scale needs an ND weight (doc; the
  arch35 checker does not say so). The ENK-NZ weight that tuningConfig[1] = 1
  selects is not modelled (weights are read as (E, K, N), as on Atlas A2/A3).
- An NZ weight is taken as not transposed (its view is the logical (K, N)); the
  alignment rule is K % 16 and N % C0-rule (INT8/FP8/HiF8 32, FP16/BF16 16,
  INT4 64; the INT4 weights of 950 A8W4/A4W4: the C0 of the storage, 32 or 64);
  the storage shape must be the NZ shape of the view.
- Every tensor is checked for a rank and shape the scenario can use, so nothing
  accepted here can fail on its shape when the stream runs. Per group (with a
  leading group axis of E for a stacked (E, K, N) weight, or one per groupList
  entry for a single K-grouped weight; else one tensor per weight): bias [N];
  A8W8/FP8 scale [N] (per channel), plus [1] / [] (per tensor, i.e. [E, 1] / [E])
  on the 950 profile except with INT8 out; A4W4 scale [N] or [G, N]; A8W4 scale
  [K/256, N] ([1, N] with offsetOptional) and offset [1, N]; MX scale
  [ceil(K/64), N, 2] ([N, ceil(K/64), 2] transposed); per-block scale
  [ceil(K/128), ceil(N/128)] (transposed [ceil(N/128), ceil(K/128)]);
  antiquantScale [N] ([G, N] per group for A16W4 only) and antiquantOffset of
  the antiquantScale's shape. perTokenScale: [M] per token (950 also [E] / [E, 1]
  per tensor; K grouping [E, M] / [E, 1] / [E]), MX [M, ceil(K/64), 2], per-group
  [M, ceil(K/128)]. out has at least 2 dims.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import dtypes, nz
from ..descriptors import FRACTAL_NZ, TensorDesc, shape_text
from .call import FULL_QUANT, WEIGHT_ONLY
from .dtype_rules import AQO, AQS, BIAS, OFFSET, PTS, SCALE, invalid

__all__ = ["Operands", "check_nz", "check_parameters"]

_NZ_DTYPES = ("int8", "float8_e4m3fn", "float8_e5m2", "hifloat8", "float16", "bfloat16", "int4")


def _label(desc: TensorDesc) -> str:
    return dtypes.label(desc.dtype)


@dataclass(frozen=True)
class Operands:
    """The descriptor lists of a call, null-checked, with the weights' logical (.., K, N) shapes."""

    xs: list[TensorDesc]
    ws: list[TensorDesc]
    ys: list[TensorDesc]
    optional: dict[str, list[TensorDesc] | None]  # by C parameter name (.dtype_rules.OPTIONAL)
    group_list: TensorDesc | None
    transposed: bool
    w_shapes: list[tuple[int, ...]]

    @property
    def ks(self) -> list[int]:
        return [s[-2] for s in self.w_shapes]

    @property
    def ns(self) -> list[int]:
        return [s[-1] for s in self.w_shapes]


# --------------------------------------------------------------------------- NZ weights

def check_nz(ops: Operands, w_name: str, kind: str, profile: str) -> None:
    """Every weight FRACTAL_NZ (if one is), K % 16 and N % C0, the storage the NZ shape of the view.

    The Ascend 950's full quantization reads the storage tiles instead of aligned sizes: its
    FRACTAL_NZ weight is (.., ceil(N/C0), ceil(K/16), 16, C0), padded, with no K or N alignment
    (upstream ``TransWeightToNz`` skips ``TransWeightToNzCheckAlign`` for a quantized x and
    weight on DAV_3510, whose ``CheckWeightStorageShape`` in grouped_matmul_950_checker.cpp
    checks the padded tiles; CANN's example
    gmm/grouped_matmul/examples/arch35/test_aclnn_grouped_matmul_weight_nz.cpp casts an N = 4
    INT8 weight so).

    A FRACTAL_NZ weight is one by its format, whatever its storage shape, as upstream reads
    it (hicann/ops-transformer gmm/grouped_matmul/op_api/aclnn_grouped_matmul.cpp
    ``TransWeightToNz``); a storage that is not the NZ shape of the view is refused. Weight-only
    quantization takes an ND weight: upstream refuses a private format there (Atlas A2/A3:
    ``ParamsWeightNzDtype`` lists no FLOAT16/BFLOAT16 x with an INT8/INT4/FP8 weight; Ascend 950:
    grouped_matmul_weight_quant_950_checker.cpp ``CheckDimNumAndFormat``, A16W8/A16F8/A16W4).
    """
    if kind in WEIGHT_ONLY:
        raise invalid(f"weight format FRACTAL_NZ is not supported for weight-only quantization "
                      f"({kind.upper()}): the weight must be ND")
    w_logical = "int4" if w_name == "int32" else w_name
    _check_nz(ops.ws, ops.w_shapes, w_logical, _nz_c0s(w_logical, kind, profile),
              aligned=not (profile == "950" and kind in FULL_QUANT))


def _nz_c0s(w_name: str, kind: str, profile: str) -> tuple[int, ...]:
    """C0 values an NZ weight may use: the 32-byte rule, except the INT4 weights of the 950's
    A8W4 (C0 32 only: the S8S4 kernel reads that tile) and A4W4 (32 or the 32-byte rule's 64)."""
    if profile == "950" and w_name == "int4" and kind in ("a8w4", "a4w4"):
        return (32,) if kind == "a8w4" else (32, 64)
    return (nz.nz_c0(w_name),) if w_name in _NZ_DTYPES else ()


def _check_nz(ws: list[TensorDesc], w_shapes: list[tuple[int, ...]], w_name: str,
              c0s: tuple[int, ...], aligned: bool = True) -> None:
    for i, (w, shape) in enumerate(zip(ws, w_shapes)):
        if w.format != FRACTAL_NZ:
            raise invalid("weight: all tensors must be FRACTAL_NZ or none")
        if not c0s:
            raise invalid(f"weight[{i}] dtype {_label(w)} is not supported in FRACTAL_NZ format")
        packed = w.dtype == dtypes.DataType.ACL_INT32
        c0 = w.storage_shape[-1] * (8 if packed else 1) if w.storage_shape else c0s[0]
        c0 = c0 if c0 in c0s else c0s[0]
        k, n = shape[-2], shape[-1]
        if aligned and (k % 16 or n % c0):
            raise invalid(f"weight[{i}] in FRACTAL_NZ format needs K % 16 == 0 and N % {c0} == 0, "
                          f"got K={k}, N={n}")
        expect = None if packed else nz.nz_storage_shape(w.shape, w_name, c0)
        if (expect is not None and tuple(w.storage_shape) != expect) or not w.is_nz:
            choice = f" (C0 {' or '.join(map(str, c0s))})" if len(c0s) > 1 else ""
            shown = "" if expect is None else f" {list(expect)}{choice}"
            raise invalid(f"weight[{i}] FRACTAL_NZ storage shape {list(w.storage_shape)} is not the NZ shape"
                          f"{shown} of its view {list(w.shape)}")


# --------------------------------------------------------------------------- parameter shapes

@dataclass(frozen=True)
class _Shapes:
    """What the parameter shape rules read: K, N per weight, the group axis, the lists."""

    kind: str
    layout: str
    profile: str
    ops: Operands
    groups: int | None  # the leading group axis of per-group parameters (None: one tensor per weight)

    @property
    def k(self) -> int:
        return self.ops.ks[0]

    @property
    def n(self) -> int:
        return self.ops.ns[0]

    def per_group(self, what: str, options, rule: str) -> None:
        """Every tensor of ``what`` has one of the per-group shapes ``options(i)``."""
        for i, d in enumerate(self.ops.optional[what] or ()):
            allowed = [tuple(o) if self.groups is None else (self.groups,) + tuple(o) for o in options(i)]
            if tuple(d.shape) not in allowed:
                name = what if self.groups is not None else f"{what}[{i}]"
                raise invalid(f"{name} shape {shape_text(d.shape)} is not supported: {rule} needs "
                              + " or ".join(shape_text(o) for o in allowed))


def check_parameters(kind: str, layout: str, profile: str, ops: Operands, n_groups: int | None,
                out_name: str | None) -> None:
    """Shapes of the optional tensors (the doc's 约束说明) and the scenario size rules.

    A per-group parameter is one tensor with a leading group axis when the weight is one
    stacked (E, K, N) tensor (E groups) or a single K-grouped weight (one group per
    groupList entry); otherwise it is a list with one tensor per weight.
    """
    if len(ops.ws) == 1 and ops.ws[0].ndim == 3:
        groups: int | None = ops.w_shapes[0][0]
    else:
        groups = n_groups if layout == "k_stack" else None
    s = _Shapes(kind, layout, profile, ops, groups)
    _a8w4_sizes(s)
    _bias_shapes(s)
    _scale_shapes(s, out_name)
    _antiquant_shapes(s)
    _per_token_shapes(s)
    _a16w4_groups(s)
    _a4w4_sizes(s)
    if profile == "950" and kind in ("a8w4", "a4w4"):
        _int4_quant_950(s)
    _fp4_sizes(s)


def _a8w4_sizes(s: _Shapes) -> None:
    if s.kind == "a8w4" and s.ops.optional[OFFSET] is None:
        if s.k % 256 or s.k > 18432:
            raise invalid(f"A8W4 needs K to be a multiple of 256 and at most 18432, got K={s.k}")
        if s.n % 8:
            raise invalid(f"A8W4 needs N to be a multiple of 8, got N={s.n}")


def _bias_shapes(s: _Shapes) -> None:
    if s.ops.optional[BIAS] is not None and s.layout == "k_stack":
        raise invalid("biasOptional must be null for groupType 2 with a single weight")
    ns = s.ops.ns
    s.per_group(BIAS, lambda i: [(ns[i],)], "a bias (one value per output column)")


def _scale_shapes(s: _Shapes, out_name: str | None) -> None:
    kind, k, n, ns, transposed = s.kind, s.k, s.n, s.ops.ns, s.ops.transposed
    scale_l = s.ops.optional[SCALE]
    kb, kp = -(-k // 128), -(-k // 64)
    if kind in ("a8w8", "quant_fp8"):
        per_tensor = s.profile == "950" and out_name != "int8"
        extra = ([(1,)] + ([()] if s.groups is not None else [])) if per_tensor else []
        s.per_group(SCALE, lambda i: [(ns[i],)] + extra,
                    f"{kind.upper()} with {str(out_name).upper()} out on the {s.profile} profile (per channel"
                    + (" or per tensor)" if per_tensor else ")"))
    elif kind == "a4w4":
        assert scale_l is not None
        s.per_group(SCALE, lambda i: [(n,)] + ([(scale_l[0].shape[-2], n)] if scale_l[0].ndim >= 2 else []),
                    "A4W4 (per channel [N] or per group [G, N])")
    elif kind == "a8w4":
        with_offset = s.ops.optional[OFFSET] is not None
        g = 1 if with_offset else k // 256
        s.per_group(SCALE, lambda i: [(g, n)],
                    "A8W4 " + ("with offsetOptional (one group)" if with_offset
                               else "(one group per 256 values of K)"))
        s.per_group(OFFSET, lambda i: [(1, n)], "A8W4")
    elif kind == "mx":
        s.per_group(SCALE, lambda i: [(n, kp, 2) if transposed else (kp, n, 2)],
                    f"MX with a{' transposed' if transposed else ' non-transposed'} weight")
    elif kind == "pergroup_perblock":
        nb = -(-n // 128)
        s.per_group(SCALE, lambda i: [(nb, kb) if transposed else (kb, nb)],
                    "per-block quantization (128 x 128 blocks)")


def _antiquant_shapes(s: _Shapes) -> None:
    kind, ns = s.kind, s.ops.ns
    if kind not in WEIGHT_ONLY:
        return
    aq_scale = s.ops.optional[AQS]
    assert aq_scale is not None

    def antiquant(i: int) -> list[tuple[int, ...]]:
        if kind != "a16w4":
            return [(ns[i],)]
        d = aq_scale[i]
        g = d.shape[-2] if d.ndim >= 2 else 1
        return [(ns[i],), (g, ns[i])]

    s.per_group(AQS, antiquant,
                f"{kind.upper()} (per channel [N]" + (" or per group [G, N])" if kind == "a16w4" else ")"))
    for i, (a, o) in enumerate(zip(aq_scale, s.ops.optional[AQO] or ())):
        if a.shape != o.shape:
            raise invalid(f"antiquantOffsetOptional[{i}] shape {shape_text(o.shape)} must equal the "
                          f"antiquantScaleOptional[{i}] shape {shape_text(a.shape)}")


def _per_token_shapes(s: _Shapes) -> None:
    pts_l = s.ops.optional[PTS]
    if pts_l is None or s.kind not in FULL_QUANT:
        return
    m = s.ops.xs[0].shape[0]
    e = s.groups if s.groups is not None else 1
    kb, kp = -(-s.k // 128), -(-s.k // 64)
    if s.kind == "mx":
        options, rule = [(m, kp, 2)], "MX (per token, per 64 values of K)"
    elif s.kind == "pergroup_perblock":
        options, rule = [(m, kb)], "per-group quantization (per token, per 128 values of K)"
    elif s.layout == "k_stack":
        options, rule = [(e, m), (e, 1), (e,)], "groupType 2 (per group: per token or per tensor)"
    else:
        per_tensor = s.profile == "950" and s.kind not in ("a8w4", "a4w4")  # 950 INT4: per token only
        options = [(m,)] + ([(e,), (e, 1)] if per_tensor else [])
        rule = "per-token quantization" + (" (or per tensor per group)" if per_tensor else "")
    if tuple(pts_l[0].shape) not in options:
        raise invalid(f"perTokenScaleOptional shape {shape_text(pts_l[0].shape)} is not supported: "
                      f"{rule} needs " + " or ".join(shape_text(o) for o in options))


def _a16w4_groups(s: _Shapes) -> None:
    """A16W4: even INT4 last dims; per-group antiquant scales divide K (no offset on Atlas A2/A3)."""
    if s.kind != "a16w4":
        return
    aq_scale = s.ops.optional[AQS]
    assert aq_scale is not None
    stacked = s.groups is not None
    if s.ops.optional[AQO] is not None and s.profile in ("A2", "A3"):
        if any(d.ndim - (1 if stacked else 0) == 2 for d in aq_scale):
            raise invalid("antiquantOffsetOptional must be null for A16W4 per-group quantization on "
                          "Atlas A2/A3 (symmetric only)")
    for i, d in enumerate(aq_scale):
        shape = s.ops.w_shapes[i]
        last = shape[-2] if s.ops.transposed else shape[-1]
        if last % 2:
            raise invalid(f"weight[{i}]: an INT4 weight needs an even last dim, got {last}")
        group_dims = d.shape[1:] if stacked else d.shape
        if len(group_dims) == 2:
            g = group_dims[0]
            if g == 0 or shape[-2] % g:
                raise invalid(f"antiquantScaleOptional[{i}]: the group count {g} must divide K={shape[-2]}")
            if s.ops.transposed and (shape[-2] // g) % 2:
                raise invalid(f"antiquantScaleOptional[{i}]: a transposed INT4 weight needs an even "
                              f"group length, got {shape[-2] // g}")


def _a4w4_sizes(s: _Shapes) -> None:
    if s.kind != "a4w4":
        return
    if not s.ops.ws[0].is_nz and s.n % 8:
        raise invalid(f"A4W4 with an ND weight needs N to be a multiple of 8, got N={s.n}")
    scale_l = s.ops.optional[SCALE]
    if scale_l is not None and scale_l[0].ndim == 3:
        g = scale_l[0].shape[1]
        if g == 0 or s.k % g or (s.k // g) % 2:
            raise invalid(f"A4W4 per-group scale: K/G must be an even integer, got K={s.k}, G={g}")


def _int4_quant_950(s: _Shapes) -> None:
    """Scale and offset shapes of A8W4 (S8S4) and A4W4 (S4S4) on the 950 (2026 doc, arch35 checker)."""
    e, k, n = s.ops.w_shapes[0]
    scale_l, offset_l = s.ops.optional[SCALE], s.ops.optional[OFFSET]
    assert scale_l is not None
    scale = list(scale_l[0].shape)
    if s.kind == "a8w4":
        if offset_l is None:
            want, form = [e, k // 256, n], "[E, K/256, N]"
            mode = "without offsetOptional (the per-group and per-channel scales fused, 256 per group)"
        else:
            want, form, mode = [e, 1, n], "[E, 1, N]", "with offsetOptional (per channel)"
        if scale != want:
            raise invalid(f"scaleOptional must have shape {form} = {want} for A8W4 {mode}, got {scale}")
        if offset_l is not None and list(offset_l[0].shape) != [e, 1, n]:
            raise invalid(f"offsetOptional must have shape [E, 1, N] = {[e, 1, n]}, got "
                          f"{list(offset_l[0].shape)}")
        return
    if not (scale == [e, n] or (len(scale) == 3 and scale[0] == e and scale[2] == n)):
        raise invalid(f"scaleOptional must have shape [E, N] = {[e, n]} (per channel) or [E, G, N] = "
                      f"[{e}, G, {n}] (per group) for A4W4, got {scale}")
    if len(scale) == 3 and s.ops.ws[0].is_nz:
        raise invalid("A4W4 with a per-group scale [E, G, N] needs an ND weight on the 950 profile "
                      "(FRACTAL_NZ weights are per-channel only)")


def _fp4_sizes(s: _Shapes) -> None:
    if s.kind == "mx" and s.ops.xs[0].dtype == dtypes.DataType.ACL_FLOAT4_E2M1:
        if s.k % 2 or s.k == 2:
            raise invalid(f"FLOAT4_E2M1 needs an even K other than 2, got K={s.k}")
        if not s.ops.transposed and s.n % 2:
            raise invalid(f"FLOAT4_E2M1 with a non-transposed weight needs an even N, got N={s.n}")
