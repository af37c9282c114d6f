"""GroupedMatmul's one classification (aclnn_py.semantics.grouped_matmul.call): the rules and the golden
accept exactly the same tensor-count patterns, with the same message when they reject one -- V5's rules,
and V2's for the one pattern only the host-groupList versions take (a single x split along M into one
output per weight).

Pure layer only: descriptors for the rules, host arrays for the golden, no runtime.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from aclnn_py.semantics import dtypes
from aclnn_py.semantics.descriptors import TensorDesc
from aclnn_py.semantics.grouped_matmul import rules
from aclnn_py.semantics.grouped_matmul.entry_points import V2, V5
from aclnn_py.semantics.grouped_matmul.golden import grouped_matmul
from aclnn_py.semantics.status import Violation

M, K, N, E = 4, 8, 4, 2
F32 = int(dtypes.DataType.ACL_FLOAT)
WEIGHT_RANKS = [(3,), (2,), (2, 2), (2, 2, 2), (3, 2), (3, 3), (2, 3)]


def _desc(shape, transposed=False) -> TensorDesc:
    if not transposed:
        return TensorDesc.contiguous(shape, F32)
    storage = TensorDesc.contiguous(tuple(shape[:-2]) + (shape[-1], shape[-2]), F32)
    strides = storage.strides[:-2] + (storage.strides[-1], storage.strides[-2])
    return TensorDesc(tuple(shape), F32, strides, 0, storage.format, storage.shape)


def _call(n_x: int, ranks: tuple[int, ...], split_item: int, group_type: int):
    """Host arrays and keyword arguments of one float32 call with these tensor counts and attributes."""
    rng = np.random.default_rng(len(ranks) * 100 + n_x * 10 + split_item)
    k = K // len(ranks) if group_type == 2 else K
    xs = [rng.integers(-3, 4, (M, K)).astype(np.float32) for _ in range(n_x)]
    ws = [rng.integers(-3, 4, (E, k, N) if r == 3 else (k, N)).astype(np.float32) for r in ranks]
    group_list = None
    if group_type == 0 and n_x == 1:
        group_list = np.array([1, 2] if ranks == (3,) else [1] * len(ranks), np.int64)
    elif group_type == 2 and len(ranks) == 1 and split_item >= 2:
        group_list = np.array([K // 2, K // 2], np.int64)
    kw = dict(group_list=group_list, split_item=split_item, group_type=group_type, group_list_type=1)
    return xs, ws, kw


def _descriptors(xs, ws, kw, outs):
    gl = kw["group_list"]
    return dict(x=[_desc(x.shape, kw["group_type"] == 2) for x in xs], weight=[_desc(w.shape) for w in ws],
                out=[_desc(o) for o in outs], group_list=None if gl is None else TensorDesc.contiguous(
                    gl.shape, int(dtypes.DataType.ACL_INT64)),
                split_item=kw["split_item"], group_type=kw["group_type"], group_list_type=kw["group_list_type"])


def _check(xs, ws, kw, outs):
    """V5's rules; V2's (its host groupList of cumulative sizes) for a single x with one output per weight."""
    arguments = _descriptors(xs, ws, kw, outs)
    if len(xs) == 1 and kw["split_item"] < 2 and kw["group_type"] == 0:
        del arguments["group_list_type"]
        arguments["group_list"] = tuple(int(v) for v in np.cumsum(kw["group_list"]))
        return rules.check(**arguments, profile="A2", signature=V2)
    return rules.check(**arguments, profile="A2", signature=V5)


CASES = list(itertools.product((1, 2, 3), WEIGHT_RANKS, (0, 1, 2, 3), (-1, 0, 2)))


@pytest.mark.parametrize("n_x, ranks, split_item, group_type", CASES)
def test_rules_and_golden_accept_the_same_patterns(n_x, ranks, split_item, group_type):
    xs, ws, kw = _call(n_x, ranks, split_item, group_type)
    try:
        ys = grouped_matmul(xs, ws, **kw)
    except ValueError as exc:
        golden_error: str | None = str(exc)
        outs = [(M, N)]
    else:
        golden_error = None
        outs = [y.shape for y in ys]
    try:
        result = _check(xs, ws, kw, outs)
    except Violation as violation:
        assert violation.code == rules.INVALID
        assert golden_error == violation.message, "the golden accepts a call the rules reject"
    else:
        assert golden_error is None, f"the rules accept a call the golden rejects: {golden_error}"
        assert not result.empty and result.pattern is not None


def test_the_patterns_seen():
    """The grid above covers every pattern and rejects the stacked weight with per-group outputs."""
    seen = set()
    for n_x, ranks, split_item, group_type in CASES:
        xs, ws, kw = _call(n_x, ranks, split_item, group_type)
        try:
            ys = grouped_matmul(xs, ws, **kw)
        except ValueError:
            continue
        seen.add(_check(xs, ws, kw, [y.shape for y in ys]).pattern)
    assert seen == {"per_tensor", "concat", "m_single", "m_split", "k_stack", "k_split"}
    xs, ws, kw = _call(1, (3,), 0, 0)
    with pytest.raises(ValueError, match=r"splitItem 0 \(one output per group\) needs a list of several 2-D weights"):
        grouped_matmul(xs, ws, **kw)
    with pytest.raises(Violation, match=r"splitItem 0 \(one output per group\) needs a list of several 2-D weights"):
        rules.check(**_descriptors(xs, ws, kw, [(1, N), (2, N)]), profile="A2")


GROUPING_HINT = "pass groupType 0 with splitItem 3 and a groupList (group_type=0, split_item=3 in Python)"


@pytest.mark.parametrize("ranks, rule", [((3,), "a weight list paired with an x list needs 2-D weights, got ranks [3]"),
                                         ((2, 2), "x has 1 tensors but weight has 2")])
def test_a_mixture_of_experts_call_without_grouping_is_told_how_to_group(ranks, rule):
    """One x with a stacked (E, K, N) weight, or with E weights, under the default groupType -1: the
    rule says what is wrong and which attributes make it the grouped call it looks like."""
    xs, ws, kw = _call(1, ranks, 0, -1)
    with pytest.raises(ValueError) as golden_error:
        grouped_matmul(xs, ws, **kw)
    with pytest.raises(Violation) as violation:
        rules.check(**_descriptors(xs, ws, kw, [(M, N)]), profile="A2")
    for message in (str(golden_error.value), violation.value.message):
        assert message.startswith(rule) and message.endswith(GROUPING_HINT)
    # the call it points to is accepted, with the same weights
    xs, ws, kw = _call(1, ranks, 3, 0)
    assert rules.check(**_descriptors(xs, ws, kw, [y.shape for y in grouped_matmul(xs, ws, **kw)]),
                       profile="A2").pattern == "m_single"


def test_per_group_outputs_of_a_stacked_weight_are_told_to_ask_for_one():
    xs, ws, kw = _call(1, (3,), 0, 0)
    with pytest.raises(ValueError, match=r"gives a single output: pass splitItem 3 \(split_item=3 in Python\)$"):
        grouped_matmul(xs, ws, **kw)
    # two x with stacked weights under groupType -1 pair x with weight: no hint to group
    xs, ws, kw = _call(2, (3, 3), 0, -1)
    with pytest.raises(ValueError) as error:
        grouped_matmul(xs, ws, **kw)
    assert "groupType 0" not in str(error.value)
