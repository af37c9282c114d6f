"""The tables of aclnn_py.ops._trans_matmul_weight agree with the rules of
aclnn_py.semantics.trans_matmul_weight: for every dtype (and None), SoC and rank 1..7 the rules
accept a call exactly when a row documents it.
"""
from __future__ import annotations

import math

from aclnn_py.semantics import dtypes, trans_matmul_weight as rules
from aclnn_py.semantics.descriptors import TensorDesc

from doc_tables import ALL_DTYPES, accepts, choices, docstring, tables

SOCS = ("A2", "A3", "950")


def _dims(text: str) -> range:
    low, _, high = text.partition("-")
    return range(int(low), int(high or low) + 1)


def _documented_ranks(function: str, column: str) -> dict[tuple[str | None, str], range]:
    (table,) = tables(docstring("aclnn_py.ops._trans_matmul_weight", function))
    ranks = {}
    for r in table:
        names = r[column]
        expanded = [None] if names == "None" else list(ALL_DTYPES) if names == "any" else choices(names)
        for name in expanded:
            for soc in choices(r["SoC"]):
                assert (name, soc) not in ranks, f"{name} on {soc} documented twice"
                ranks[(name, soc)] = _dims(r["dims"])
    return ranks


def test_calculate_matmul_weight_size_table():
    ranks = _documented_ranks("calculate_matmul_weight_size", "dtype")
    for name in ALL_DTYPES + (None,):
        acl = None if name is None else int(dtypes.from_name(name))
        for soc in SOCS:
            for ndim in range(1, 8):
                shape = tuple(range(3, 3 + ndim))
                ok = accepts(rules.calculate_matmul_weight_size, shape, acl, soc)
                assert ok == (ndim in ranks.get((name, soc), ())), (name, soc, ndim)
                if ok:  # the formula of the docstring
                    inner = 16 if name in (None, "float16", "bfloat16") else 32
                    expected = math.prod(shape[:-2]) * -(-shape[-2] // 16) * 16 * (-(-shape[-1] // inner) * inner)
                    assert rules.calculate_matmul_weight_size(shape, acl, soc) == expected
            assert not accepts(rules.calculate_matmul_weight_size, (4, 0), acl, soc)


def test_trans_matmul_weight_table():
    ranks = _documented_ranks("trans_matmul_weight", "tensor")
    for name in ALL_DTYPES:
        for soc in SOCS:
            for ndim in range(1, 8):
                weight = TensorDesc.contiguous(tuple(range(3, 3 + ndim)), int(dtypes.from_name(name)))
                ok = accepts(rules.check_trans_matmul_weight, weight, soc)
                assert ok == (ndim in ranks.get((name, soc), ())), (name, soc, ndim)
