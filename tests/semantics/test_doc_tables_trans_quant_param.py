"""The table of aclnn_py.ops._trans_quant_param agrees with the rules of
aclnn_py.semantics.trans_quant_param: its rows are accepted with every choice of their cells,
and a changed dtype exactly when a row documents the result.
"""
from __future__ import annotations

import pytest

from aclnn_py.semantics import trans_quant_param as rules

from doc_tables import ALL_DTYPES, accepts, cell, desc, docstring, evaluate, product, tables

SYMBOLS = dict(m=3, n=5)
(QUANT_PARAM_ROWS,) = tables(docstring("aclnn_py.ops._trans_quant_param", "trans_quant_param_v2"))
ARGS = ("scale", "offset", "out")


def _combinations(row):
    options = {}
    for arg in ARGS:
        c = cell(row[arg])
        options[arg] = ([None] if c.optional else []) + [
            (d,) + evaluate(s, SYMBOLS) for d in c.present_dtypes for s in c.shapes]
    return product(options)


def _check(combo):
    d = {arg: None if combo[arg] is None else desc(combo[arg][1], combo[arg][0]) for arg in ARGS}
    rules.check_trans_quant_param_v2(d["scale"], d["offset"], d["out"])


def _documented(combo) -> bool:
    return any(combo == c for row in QUANT_PARAM_ROWS for c in _combinations(row))


@pytest.mark.parametrize("row", QUANT_PARAM_ROWS, ids=lambda r: r["scale"])
def test_trans_quant_param_v2_rows(row):
    for combo in _combinations(row):
        _check(combo)
        for arg in ARGS:
            if combo[arg] is None:
                continue
            for name in ALL_DTYPES:
                mutated = dict(combo, **{arg: (name,) + combo[arg][1:]})
                assert accepts(_check, mutated) == _documented(mutated), (arg, mutated)
