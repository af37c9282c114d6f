"""The tables of aclnn_py.ops.trans agree with the rules of aclnn_py.spec.trans.

For every dtype (and None), SoC and rank 1..7 the rules accept a call exactly when a
row documents it; the trans_quant_param_v2 rows are accepted with every choice of
their cells, and a changed dtype exactly when a row documents the result.
"""
from __future__ import annotations

import math

import pytest

from aclnn_py.spec import dtypes, trans
from aclnn_py.spec.descriptors import TensorDesc
from aclnn_py.spec.status import Violation

from doc_tables import ALL_DTYPES, cell, choices, desc, docstring, evaluate, product, tables

SOCS = ("A2", "A3", "950")


def _dims(text: str) -> range:
    low, _, high = text.partition("-")
    return range(int(low), int(high or low) + 1)


def _documented_ranks(function: str, column: str) -> dict[tuple[str | None, str], range]:
    (table,) = tables(docstring("aclnn_py.ops.trans", function))
    ranks = {}
    for r in table:
        names = r[column]
        expanded = [None] if names == "None" else list(ALL_DTYPES) if names == "any" else choices(names)
        for name in expanded:
            for soc in choices(r["SoC"]):
                assert (name, soc) not in ranks, f"{name} on {soc} documented twice"
                ranks[(name, soc)] = _dims(r["dims"])
    return ranks


def _accepts(function, *args) -> bool:
    try:
        function(*args)
    except Violation:
        return False
    return True


def test_calculate_matmul_weight_size_table():
    ranks = _documented_ranks("calculate_matmul_weight_size", "dtype")
    for name in ALL_DTYPES + (None,):
        acl = None if name is None else int(dtypes.from_name(name))
        for soc in SOCS:
            for ndim in range(1, 8):
                shape = tuple(range(3, 3 + ndim))
                ok = _accepts(trans.calculate_matmul_weight_size, shape, acl, soc)
                assert ok == (ndim in ranks.get((name, soc), ())), (name, soc, ndim)
                if ok:  # the formula of the docstring
                    inner = 16 if name in (None, "float16", "bfloat16") else 32
                    expected = math.prod(shape[:-2]) * -(-shape[-2] // 16) * 16 * (-(-shape[-1] // inner) * inner)
                    assert trans.calculate_matmul_weight_size(shape, acl, soc) == expected
            assert not _accepts(trans.calculate_matmul_weight_size, (4, 0), acl, soc)


def test_trans_matmul_weight_table():
    ranks = _documented_ranks("trans_matmul_weight", "tensor")
    for name in ALL_DTYPES:
        for soc in SOCS:
            for ndim in range(1, 8):
                weight = TensorDesc.contiguous(tuple(range(3, 3 + ndim)), int(dtypes.from_name(name)))
                ok = _accepts(trans.check_trans_matmul_weight, weight, soc)
                assert ok == (ndim in ranks.get((name, soc), ())), (name, soc, ndim)


SYMBOLS = dict(m=3, n=5)
(QUANT_PARAM_ROWS,) = tables(docstring("aclnn_py.ops.trans", "trans_quant_param_v2"))
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
    trans.check_trans_quant_param_v2(d["scale"], d["offset"], d["out"])


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
                assert _accepts(_check, mutated) == _documented(mutated), (arg, mutated)
