"""What an aclnnGroupedMatmulV5 call is: its classification, written once.

:func:`classify` turns shapes, canonical dtype names and attributes into a
:class:`GroupedMatmulCall`: the tensor-count pattern, the scenario, the logical weight
shapes, the output shapes and dtype, the effective groupListType. The rules
(:mod:`.rules`) validate descriptors with these pieces and return the
:class:`GroupedMatmulCall` of a valid call; the golden (:mod:`.golden`) computes from
one; the binding takes output shapes and the default output dtype from here;
the mock decodes the device groupList once (:func:`group_ranges`) and hands
the call and the ranges to the golden.

Everything here reads shapes and dtype names (never descriptors or arrays).
A call that cannot be classified raises ValueError naming the rule; the rules
report it as 161002 with the same message.

Tensor-count patterns (:func:`pattern`)
    per_tensor  x_i with w_i -> y_i (as many 2-D weights as x; splitItem 0/1)
    concat      the same, the outputs concatenated into one (splitItem 2/3)
    m_single    one x grouped along M (groupType 0), one 3-D weight (E, K, N)
                or a list of 2-D weights, one output (splitItem 2/3)
    m_split     one x grouped along M, a list of 2-D weights, one output per
                group sized by the groupList values (splitItem 0/1)
    k_stack     one x grouped along K (groupType 2), one 2-D weight, one
                (E, M, N) output (splitItem 2/3)
    k_split     one x grouped along K, a list of 2-D weights, one output per
                weight (splitItem 0/1)

Scenarios (:func:`scenario`): nonquant; weight-only a16w8, a16w4, weight_fp8
(:data:`WEIGHT_ONLY`); full quantization a8w8, a8w4, a4w4, quant_fp8, mx,
pergroup_perblock (:data:`FULL_QUANT`). See the golden's docstring for the math.

Choices where the sources leave it open (UNCONFIRMED):

- A stacked (E, K, N) weight with splitItem 0/1 is rejected: per-group outputs
  need a weight list.
- A8W4 without offsetOptional reads the groupList as counts (groupListType 1)
  whatever groupListType says on Atlas A2/A3; the Ascend 950 honours
  groupListType (its rules accept only 1 for A8W4).
- A per-group parameter has a leading group axis when the weight is one stacked
  (E, K, N) tensor or a single K-grouped weight; when the scenario is read from
  the scale's rank (per-block FP8 scales), that axis is not counted for a single
  weight with groupType 2 either.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

__all__ = ["GroupedMatmulCall", "classify", "pattern", "scenario", "logical_weight_shape", "output_shapes",
           "decode_group_list", "group_ranges", "per_group_outputs", "split_output_shapes",
           "default_out_name", "effective_group_list_type", "check_activation", "scale_group_ndim",
           "FULL_QUANT", "WEIGHT_ONLY", "ACT_NAMES"]

Shape = tuple[int, ...]

FLOATS = ("float16", "bfloat16", "float32")
FP8 = ("float8_e4m3fn", "float8_e5m2", "hifloat8")
LOW_FLOATS = FP8 + ("float4_e2m1",)
#: Scenarios with a quantized x (one x, one weight, one out).
FULL_QUANT = ("a8w8", "a8w4", "a4w4", "quant_fp8", "mx", "pergroup_perblock")
#: Scenarios with a float x and a quantized weight (antiquantScale given).
WEIGHT_ONLY = ("a16w8", "a16w4", "weight_fp8")
#: actType values and their names (3 is named but not supported).
ACT_NAMES = {0: "NONE", 1: "RELU", 2: "GELU_TANH", 3: "GELU_ERR_FUNC", 4: "FAST_GELU", 5: "SILU"}

_WEIGHT_ONLY_BY_WEIGHT = {"int8": "a16w8", "int4": "a16w4", "float8_e4m3fn": "weight_fp8",
                          "float8_e5m2": "weight_fp8", "hifloat8": "weight_fp8"}
_INTEGER = {("int8", "int8"): "a8w8", ("int8", "int4"): "a8w4", ("int4", "int4"): "a4w4"}


# --------------------------------------------------------------------------- the call

@dataclass(frozen=True)
class GroupedMatmulCall:
    """What a call is. ``empty``: all x or all weight tensors are empty (nothing to do)."""

    empty: bool
    kind: str | None = None
    pattern: str | None = None
    x_name: str | None = None
    weight_name: str | None = None  # 'int32' for packed int4
    out_name: str | None = None
    scale_name: str | None = None
    pts_name: str | None = None
    weight_transposed: bool = False
    group_list_type: int = 0  # the one the kernel uses (A8W4 override applied)
    split_item: int = 0
    group_type: int = -1
    act_type: int = 0
    profile: str = "A2"
    x_shapes: tuple[Shape, ...] = ()
    weight_shapes: tuple[Shape, ...] = ()  # logical: (K, N) or (E, K, N), int4 counted unpacked
    out_shapes: tuple[Shape, ...] | None = None  # None for m_split: the groupList values size them

    @property
    def stacked(self) -> bool:
        """Per-group parameters are one tensor with a leading group axis (else one tensor per weight)."""
        return len(self.weight_shapes) == 1 and (len(self.weight_shapes[0]) == 3 or self.pattern == "k_stack")

    @property
    def grouped_length(self) -> int:
        """Length of the axis the groupList splits (rows of x, K of x, or the per-tensor totals)."""
        if self.pattern in ("per_tensor", "concat"):
            return sum(math.prod(s[:-1]) for s in self.x_shapes)
        if self.pattern == "k_split":
            return sum(s[0] for s in self.weight_shapes)
        return self.x_shapes[0][1 if self.pattern == "k_stack" else 0]


def classify(*, x_shapes: Sequence[Sequence[int]], weight_shapes: Sequence[Sequence[int]], x_name: str,
             weight_name: str, out_name: str | None = None, scale_name: str | None = None,
             scale_ndim: int | None = None, pts_name: str | None = None, has_antiquant_scale: bool = False,
             has_offset: bool = False, split_item: int = 0, group_type: int = -1, group_list_type: int = 0,
             group_list_len: int | None = None, act_type: int = 0, weight_transposed: bool = False,
             profile: str = "A2") -> GroupedMatmulCall:
    """The :class:`GroupedMatmulCall` of a call (ValueError naming the rule when it has none).

    ``weight_shapes`` are the shapes as stored (an INT32 weight packs 8 int4
    along its storage last axis); ``out_name`` None takes the default output
    dtype (:func:`default_out_name`); ``scale_ndim`` is the rank of the first
    scale tensor.
    """
    layout = pattern(len(x_shapes), [len(s) for s in weight_shapes], split_item, group_type)
    w_shapes = tuple(logical_weight_shape(s, weight_name, weight_transposed) for s in weight_shapes)
    kind = scenario(x_name, weight_name, scale_dtype=scale_name,
                    scale_group_ndim=0 if scale_ndim is None else scale_group_ndim(
                        scale_ndim, len(w_shapes), len(w_shapes[0]), group_type),
                    has_antiquant_scale=has_antiquant_scale)
    if out_name is None:
        out_name = default_out_name(kind, x_name)
        if out_name is None:
            raise ValueError(f"out_dtype is required for the quantized scenario {kind!r}")
    check_activation(act_type, kind, out_name, scale_name)
    xs = tuple(tuple(s) for s in x_shapes)
    outs = None if layout == "m_split" else tuple(output_shapes(
        xs, w_shapes, split_item=split_item, group_type=group_type, group_list_len=group_list_len))
    return GroupedMatmulCall(empty=False, kind=kind, pattern=layout, x_name=x_name, weight_name=weight_name,
                   out_name=out_name, scale_name=scale_name, pts_name=pts_name,
                   weight_transposed=weight_transposed,
                   group_list_type=effective_group_list_type(kind, has_offset, group_list_type, profile),
                   split_item=split_item, group_type=group_type, act_type=act_type, profile=profile,
                   x_shapes=xs, weight_shapes=w_shapes, out_shapes=outs)


# --------------------------------------------------------------------------- attributes

def check_split_item(split_item: int) -> None:
    if split_item not in (0, 1, 2, 3):
        raise ValueError(f"splitItem must be 0, 1, 2 or 3, got {split_item}")


def check_group_type(group_type: int) -> None:
    if group_type not in (-1, 0, 2):
        raise ValueError(f"groupType must be -1 (no grouping), 0 (M axis) or 2 (K axis), got {group_type}"
                         + (" (grouping along N is not supported)" if group_type == 1 else ""))


def check_single_output_grouping(split_item: int, group_type: int) -> None:
    """A single output (splitItem 2/3) needs grouping: groupType 0 or 2 (hicann/ops-transformer
    gmm/grouped_matmul/op_api/aclnn_grouped_matmul.cpp ``PreCheckGroupType``, every version)."""
    if split_item in (2, 3) and group_type == -1:
        raise ValueError(f"splitItem {split_item} (a single output) needs groupType 0 or 2, got -1: several x "
                         f"tensors concatenated into one output are grouped along M (groupType 0)")


def check_group_list_type(group_list_type: int) -> None:
    if group_list_type not in (0, 1, 2):
        raise ValueError(f"groupListType must be 0, 1 or 2, got {group_list_type}")


def check_act_type(act_type: int) -> None:
    """actType is in range and not 3 (upstream's ``CheckCommonParam``)."""
    if act_type not in ACT_NAMES:
        raise ValueError(f"actType must be in [0, 5], got {act_type}")
    if act_type == 3:
        raise ValueError("actType 3 (GELU_ERR_FUNC) is not supported")


def check_activation(act_type: int, kind: str, out_name: str | None, scale_name: str | None) -> None:
    """actType is in range, not 3, and only non-zero for A8W8 with a float scale and a float16/bf16 out."""
    check_act_type(act_type)
    if act_type and not (kind == "a8w8" and out_name in ("float16", "bfloat16")
                         and scale_name in ("float32", "bfloat16")):
        raise ValueError(f"actType {act_type} ({ACT_NAMES[act_type]}) is only supported for A8W8 with a "
                         f"FLOAT/BFLOAT16 scale and FLOAT16/BFLOAT16 out; this call allows actType 0 only")


def effective_group_list_type(kind: str, has_offset: bool, group_list_type: int, profile: str) -> int:
    """The groupListType the kernel reads: A8W4 without offset on Atlas A2/A3 reads counts (1)."""
    if kind == "a8w4" and not has_offset and profile != "950":
        return 1
    return group_list_type


# --------------------------------------------------------------------------- pattern and shapes

def pattern(n_x: int, weight_ndims: Sequence[int], split_item: int, group_type: int) -> str:
    """Name the tensor-count pattern (how x, weight and out correspond); see the module docstring."""
    check_split_item(split_item)
    check_group_type(group_type)
    check_single_output_grouping(split_item, group_type)
    w_ndims = list(weight_ndims)
    single_out = split_item >= 2
    all_2d = all(nd == 2 for nd in w_ndims)
    if group_type == 2:
        if n_x != 1:
            raise ValueError(f"groupType 2 (K grouping) needs a single x tensor, got {n_x}")
        if single_out:
            if len(w_ndims) != 1 or not all_2d:
                raise ValueError("groupType 2 with splitItem 2/3 needs a single 2-D weight (K, N), "
                                 f"got weight ranks {w_ndims}")
            return "k_stack"
        if not all_2d:
            raise ValueError(f"groupType 2 with splitItem 0/1 needs 2-D weights, got ranks {w_ndims}")
        return "k_split"
    if group_type == 0 and n_x == 1:
        if single_out:
            if len(w_ndims) == 1 and w_ndims[0] == 3:
                return "m_single"
            if not all_2d:
                raise ValueError(f"a single x grouped along M needs one 3-D weight (E, K, N) or a list of "
                                 f"2-D weights, got weight ranks {w_ndims}")
            return "m_single"
        if not all_2d or len(w_ndims) == 1:
            raise ValueError(f"splitItem {split_item} (one output per group) needs a list of several 2-D weights, "
                             f"got weight ranks {w_ndims}" + _ONE_OUTPUT_HINT * (len(w_ndims) == 1))
        return "m_split"
    hint = _GROUPING_HINT if n_x == 1 and group_type == -1 else ""
    if n_x != len(w_ndims):
        raise ValueError(f"x has {n_x} tensors but weight has {len(w_ndims)}: with groupType {group_type} "
                         f"and {n_x} x tensors the lists must have equal length{hint}")
    if not all_2d:
        raise ValueError(f"a weight list paired with an x list needs 2-D weights, got ranks {w_ndims}{hint}")
    return "concat" if single_out else "per_tensor"


#: A single x with groupType -1 (the default) and weights that only fit grouping: the call meant.
_GROUPING_HINT = ("; to split one x (M, K) along M over the groups (experts) of a 3-D weight (E, K, N) or of a "
                  "weight list, as a mixture-of-experts layer does, pass groupType 0 with splitItem 3 and a "
                  "groupList (group_type=0, split_item=3 in Python)")
#: One weight grouped along M with per-group outputs asked for (upstream's SplitMSingleXSingleWeightSingleY).
_ONE_OUTPUT_HINT = "; a single weight gives a single output: pass splitItem 3 (split_item=3 in Python)"


def per_group_outputs(n_x: int, split_item: int, group_type: int) -> bool:
    """One x grouped along M with one output per group: the groupList values size the outputs."""
    return group_type == 0 and n_x == 1 and split_item in (0, 1)


def logical_weight_shape(shape: Sequence[int], weight_name: str | None, transposed: bool) -> Shape:
    """(.., K, N) of a weight; an INT32 weight packs 8 int4 along its storage last axis (N, or K transposed)."""
    dims = list(shape)
    if weight_name == "int32" and len(dims) >= 2:
        dims[-2 if transposed else -1] *= 8
    return tuple(dims)


def output_shapes(x_shapes: Sequence[Sequence[int]], weight_shapes: Sequence[Sequence[int]],
                  *, split_item: int, group_type: int, group_list_len: int | None,
                  weight_transposed: bool = False, weight_dtype: str | None = None) -> list[Shape]:
    """Output shapes from the input shapes alone (the groupList values are not needed).

    Weight shapes are logical ((K, N) / (E, K, N)); with ``weight_dtype='int32'``
    the packed axis (N, or K when transposed) counts 8 int4 values per element.
    The per-group output list of a single x grouped along M depends on the
    groupList values (:func:`split_output_shapes`) and raises ValueError.
    """
    w_shapes = [logical_weight_shape(s, weight_dtype, weight_transposed) for s in weight_shapes]
    kind = pattern(len(x_shapes), [len(s) for s in w_shapes], split_item, group_type)
    ns = [s[-1] for s in w_shapes]
    if kind == "per_tensor":
        return [tuple(xs[:-1]) + (n,) for xs, n in zip(x_shapes, ns)]
    if kind == "k_split":
        return [(x_shapes[0][0], n) for n in ns]
    if kind == "m_split":
        raise ValueError("the outputs of a single x split along M with splitItem 0/1 have "
                         "as many rows as the groupList assigns to each group")
    if len(set(ns)) != 1:
        raise ValueError(f"a single output needs weights with equal N, got {ns}")
    if kind == "concat":
        return [(sum(math.prod(xs[:-1]) for xs in x_shapes), ns[0])]
    if kind == "m_single":
        return [(x_shapes[0][0], ns[0])]
    if group_list_len is None:
        raise ValueError("groupType 2 with a single weight needs the groupList length")
    return [(group_list_len, x_shapes[0][0], ns[0])]


def split_output_shapes(ranges: Sequence[tuple[int, int, int]], weight_shapes: Sequence[Sequence[int]]
                        ) -> list[Shape]:
    """The per-group outputs of a single x split along M: (rows of group i, N of its weight)."""
    shapes = []
    for e, a, b in ranges:
        if e >= len(weight_shapes):
            raise ValueError(f"groupList refers to group {e} but there are only {len(weight_shapes)} weights")
        shapes.append((b - a, weight_shapes[e][-1]))
    return shapes


# --------------------------------------------------------------------------- scenario

def scale_group_ndim(scale_ndim: int, n_weights: int, weight_ndim: int, group_type: int) -> int:
    """Rank of one group's scale: a single stacked or K-grouped weight's scale has a leading group axis."""
    return scale_ndim - (1 if n_weights == 1 and (weight_ndim == 3 or group_type == 2) else 0)


def scenario(x_dtype: str, weight_dtype: str, *, scale_dtype: str | None = None,
             scale_group_ndim: int = 1, has_antiquant_scale: bool = False) -> str:
    """Classify a call by its dtypes (CANN names; weight 'int32' = packed int4).

    ``scale_group_ndim`` is the rank of one group's scale (2 for the per-block
    FLOAT32 scale [ceil(K/128), ceil(N/128)] that selects 'pergroup_perblock').
    """
    w = "int4" if weight_dtype == "int32" else weight_dtype
    if x_dtype in FLOATS and w == x_dtype and not has_antiquant_scale:
        return "nonquant"
    if x_dtype in ("float16", "bfloat16") and w in _WEIGHT_ONLY_BY_WEIGHT and has_antiquant_scale:
        return _WEIGHT_ONLY_BY_WEIGHT[w]
    if has_antiquant_scale:
        raise ValueError(f"antiquantScale belongs to weight-only quantization (FP16/BF16 x "
                         f"with an INT8/INT4/FP8/HiF8 weight), not x {x_dtype} / weight {w}")
    if (x_dtype, w) in _INTEGER:
        return _INTEGER[(x_dtype, w)]
    if x_dtype in LOW_FLOATS and w in LOW_FLOATS and scale_dtype == "float8_e8m0":
        return "mx"
    if x_dtype in FP8 and w in FP8:
        return "pergroup_perblock" if scale_group_ndim == 2 else "quant_fp8"
    raise ValueError(f"unsupported x/weight dtypes {x_dtype}/{w} (a weight-only "
                     f"quantized weight also needs antiquantScale)")


def default_out_name(kind: str, x_name: str) -> str | None:
    """The output dtype when none is given: the x dtype for non-quantized and weight-only calls, else None."""
    return x_name if kind == "nonquant" or kind in WEIGHT_ONLY else None


# --------------------------------------------------------------------------- groupList

def decode_group_list(group_list: np.ndarray, group_list_type: int,
                      num_rows: int) -> list[tuple[int, int, int]]:
    """Decode a groupList into (weight_index, start, stop) ranges of the grouped axis.

    Type 0: non-decreasing cumulative sums, entry i covers [c[i-1], c[i]) with
    weight i. Type 1: non-negative counts, offsets are their running sum. Type 2:
    [E, 2] (index, count) rows consumed in order from row 0, stopping at the first
    count <= 0. The covered total may not exceed ``num_rows`` (ValueError).
    """
    values = np.asarray(group_list, dtype=np.int64)
    check_group_list_type(group_list_type)
    if group_list_type == 2:
        if values.ndim != 2 or values.shape[1] != 2:
            raise ValueError(f"groupList must have shape [E, 2] for groupListType 2, "
                             f"got {values.shape}")
        ranges = _pair_ranges(values)
    else:
        if values.ndim != 1:
            raise ValueError(f"groupList must be 1-D for groupListType {group_list_type}, "
                             f"got shape {values.shape}")
        if np.any(values < 0):
            raise ValueError("groupList values must be non-negative")
        if group_list_type == 0 and np.any(np.diff(values) < 0):
            raise ValueError("groupList must be non-decreasing for groupListType 0 "
                             "(cumulative sums)")
        # running sums in Python integers: an int64 cumsum of huge counts would wrap to a small total
        stops = values.tolist() if group_list_type == 0 else list(itertools.accumulate(values.tolist()))
        ranges = [(i, a, b) for i, (a, b) in enumerate(zip([0] + stops[:-1], stops))]
    total = ranges[-1][2] if ranges else 0
    if total > num_rows:
        raise ValueError(f"groupList covers {total} rows but the grouped axis has only "
                         f"{num_rows}: its total must not exceed the grouped axis length")
    return ranges


def _pair_ranges(pairs: np.ndarray) -> list[tuple[int, int, int]]:
    """Ranges of groupListType 2 (index, count) pairs, up to the first count <= 0."""
    ranges, start = [], 0
    for index, count in pairs.tolist():
        if count <= 0:
            break
        if index < 0:
            raise ValueError(f"groupList group index must be non-negative, got {index}")
        ranges.append((index, start, start + count))
        start += count
    return ranges


def group_ranges(call: GroupedMatmulCall, group_list: np.ndarray | None) -> list[tuple[int, int, int]] | None:
    """The groupList of ``call`` decoded (None without one), with the groupListType the kernel reads."""
    if group_list is None:
        return None
    if call.group_type == -1:
        raise ValueError("groupList must be null when groupType is -1")
    return decode_group_list(group_list, call.group_list_type, call.grouped_length)
