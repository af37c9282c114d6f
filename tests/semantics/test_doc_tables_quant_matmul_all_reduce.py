"""The mode table of quant_matmul_all_reduce_v4's docstring agrees with the rules.

Every combination a row allows (each choice of every cell, 2-D and 3-D x1, with and
without x3, on every listed version and SoC) is accepted by
``aclnn_py.semantics.quant_matmul_all_reduce.rules`` and classified as the row's formula; and
around one combination of each row, changing one argument's dtype (to every dtype, or
null <-> present) is accepted exactly when some row documents the result.
"""
from __future__ import annotations

import pytest

from aclnn_py.semantics.quant_matmul_all_reduce import call, rules
from aclnn_py.semantics.status import Violation

from doc_tables import ALL_DTYPES, Cell, cell, choices, desc, docstring, evaluate, product, tables

DOC = docstring("aclnn_py.ops._quant_matmul_all_reduce", "quant_matmul_all_reduce_v4")

SYMBOLS = {2: dict(m=256, k=512, n=384), 3: dict(b=2, s=128, m=256, k=512, n=384)}
VERSIONS = {"V1": call.V1, "V2": call.V2, "V3": call.V3, "V4": call.V4}
#: Tensor arguments in the table's names; "comm" stands for both comm_quant_scale_1 and _2.
TENSORS = ("x1", "x2", "x2_scale", "x1_scale", "bias", "out", "comm", "x3")
CANONICAL = {"out": "output", "comm": "comm_quant_scale_1"}
#: The shape an absent optional argument gets when a mutation makes it present.
PRESENT_SHAPE = {"x1_scale": "(m)", "bias": "(n)", "comm": "(n)", "x3": None}


def _rows():
    (table,) = tables(DOC)
    rows = []
    for r in table:
        cells = {name: cell(r[name]) for name in ("x1", "x2", "x2_scale", "x1_scale", "bias", "out")}
        cells["comm"] = cell(r["comm_quant_scale_1, _2"])
        cells["x3"] = Cell((None, "out"), ("out",))  # the legend: x3 has out's dtype and shape
        formula = r["formula"].split()
        rows.append(dict(
            formula=int(formula[0]), local=int(formula[1].strip("()")) if formula[1:2] and
            formula[1].strip("()").isdigit() else None, versions=choices(r["versions"]),
            socs=choices(r["SoC"]), cells=cells, group_size=[int(v) for v in choices(r["group_size"])],
            comm_quant_mode=int(r["comm_quant_mode"])))
    return rows


ROWS = _rows()


def _x1_shape_text(text: str, ndim: int, arg: str) -> str:
    """The legend's 3-D x1: x1 (b, s, k); perblock x1_scale (b, ceil(s/128), ceil(k/128))."""
    if ndim == 3 and arg == "x1":
        return "(b, s, k)"
    if ndim == 3 and arg == "x1_scale":
        return text.replace("ceil(m/128)", "b, ceil(s/128)")
    return text


def _shape(arg: str, text: str | None, ndim: int, combo: dict) -> tuple[tuple[int, ...], str]:
    if arg in ("out", "x3") or text in (None, "out"):
        x1 = combo["x1"][1]
        return x1[:-1] + (SYMBOLS[ndim]["n"],), ""
    return evaluate(_x1_shape_text(text, ndim, arg), SYMBOLS[ndim])


def _resolve(name, combo: dict):
    """A dtype choice: a canonical name, or the dtype of the argument it names."""
    return combo[name][0] if name in ("x1", "out") else name


def _options(row: dict, ndim: int):
    """The choices of each tensor argument of ``row``: (dtype or token, shape text, layout) tuples."""
    options = {}
    for arg in TENSORS:
        c = row["cells"][arg]
        values = [(None, None)] if c.optional else []
        for d in c.present_dtypes:
            for s in (c.shapes or (None,)):
                values.append((d, s))
        options[arg] = values
    return options


def combinations(row: dict):
    """Every combination of ``row``: dicts of argument -> (dtype, shape, layout), plus attributes."""
    for version in row["versions"]:
        sig = VERSIONS[version]
        for soc in row["socs"]:
            for ndim in (2, 3):
                opts = _options(row, ndim)
                if not sig.has("x1_scale"):
                    opts["x1_scale"] = [v for v in opts["x1_scale"] if v[0] is None]
                for chosen in product({**opts, "group_size": row["group_size"]}):
                    combo = dict(version=version, soc=soc, ndim=ndim, group_size=chosen["group_size"],
                                 comm_quant_mode=row["comm_quant_mode"])
                    for arg in TENSORS:  # in order: x1 before the arguments that refer to it
                        name, text = chosen[arg]
                        if name is None:
                            combo[arg] = (None, (), "")
                            continue
                        dtype = _resolve(name, combo)
                        shape, layout = _shape(arg, text, ndim, combo)
                        combo[arg] = (dtype, shape, layout)
                    yield combo


def _check(combo: dict):
    d = {arg: None if combo[arg][0] is None else desc(combo[arg][1], combo[arg][0], combo[arg][2])
         for arg in TENSORS}
    return rules.check(x1=d["x1"], x2=d["x2"], x2_scale=d["x2_scale"], output=d["out"], reduce_op="sum",
                       bias=d["bias"], x3=d["x3"], x1_scale=d["x1_scale"], comm_quant_scale_1=d["comm"],
                       comm_quant_scale_2=d["comm"], group_size=combo["group_size"],
                       comm_quant_mode=combo["comm_quant_mode"], profile=combo["soc"],
                       signature=VERSIONS[combo["version"]])


def _nz_excluded(combo: dict) -> bool:
    """The legend: an nz x2 is Atlas A2 only for V1-V3."""
    return combo["x2"][2] == "nz" and combo["version"] != "V4" and combo["soc"] != "A2"


def _matches(c: Cell, value: tuple, combo: dict, arg: str) -> bool:
    dtype, shape, layout = value
    if dtype is None:
        return c.optional
    if dtype not in [_resolve(n, combo) for n in c.present_dtypes]:
        return False
    return any(_shape(arg, text, combo["ndim"], combo) == (shape, layout) for text in (c.shapes or (None,)))


def documented(combo: dict) -> bool:
    """Some row allows ``combo``."""
    if _nz_excluded(combo):
        return False
    for row in ROWS:
        if (combo["version"] in row["versions"] and combo["soc"] in row["socs"]
                and combo["group_size"] in row["group_size"] and combo["comm_quant_mode"] == row["comm_quant_mode"]
                and all(_matches(row["cells"][arg], combo[arg], combo, arg) for arg in TENSORS)):
            return True
    return False


def test_the_table_has_every_formula_and_version():
    assert {r["formula"] for r in ROWS} == set(range(1, 9))
    assert {v for r in ROWS for v in r["versions"]} == set(VERSIONS)
    for row in ROWS:
        assert set(row["socs"]) <= {"A2", "950"}


@pytest.mark.parametrize("index", range(len(ROWS)), ids=lambda i: f"row{i + 1}-formula{ROWS[i]['formula']}")
def test_every_documented_combination_is_accepted(index):
    row = ROWS[index]
    seen = 0
    for combo in combinations(row):
        seen += 1
        if _nz_excluded(combo):
            with pytest.raises(Violation, match="FRACTAL_NZ"):
                _check(combo)
            continue
        try:
            result = _check(combo)
        except Violation as exc:
            raise AssertionError(f"documented but rejected: {combo}: {exc}") from None
        assert result.formula == row["formula"], combo
        if row["local"] is not None:
            assert result.local == row["local"], combo
    assert seen


def _mutations(combo: dict):
    """``combo`` with one argument's dtype changed (linked arguments moved together), or an
    optional argument made null / present."""
    sig = VERSIONS[combo["version"]]
    groups = {"x1": ("x1",), "x2": ("x2",), "x1 and x2": ("x1", "x2"), "x2_scale": ("x2_scale",),
              "x1_scale": ("x1_scale",), "bias": ("bias",), "out": ("out",), "comm": ("comm",), "x3": ("x3",),
              "out with x3 and comm": ("out", "x3", "comm")}
    for label, args in groups.items():
        if not all(sig.has(CANONICAL.get(a, a)) for a in args):
            continue
        for name in ALL_DTYPES + (None,):
            mutated = dict(combo)
            for arg in args:
                dtype, shape, layout = combo[arg]
                if dtype is None and name is not None:
                    if arg not in PRESENT_SHAPE or (arg != label and arg in ("x3", "comm")):
                        continue  # a linked argument that is absent stays absent
                    shape, layout = _shape(arg, PRESENT_SHAPE[arg], combo["ndim"], combo)
                if name is None:
                    if arg not in PRESENT_SHAPE:
                        break
                    mutated[arg] = (None, (), "")
                else:
                    mutated[arg] = (name, shape, layout)
            else:
                if mutated != combo:
                    yield label, mutated


def test_changing_one_dtype_is_accepted_exactly_when_documented():
    checked = 0
    for row in ROWS:
        for version in row["versions"]:
            for soc in row["socs"]:
                base = next(c for c in combinations(row) if c["version"] == version and c["soc"] == soc)
                for label, mutated in _mutations(base):
                    try:
                        _check(mutated)
                        accepted = True
                    except Violation:
                        accepted = False
                    assert accepted == documented(mutated), (
                        f"{label} changed: the rules {'accept' if accepted else 'reject'} it, the table "
                        f"{'documents' if not accepted else 'does not document'} it: {mutated}")
                    checked += 1
    assert checked > 1000


def test_group_size_zero_needs_multiples_and_the_shown_value_does_not():
    """The legend: group_size 0 infers perblock groups only from multiples of 128 (here m = 200)."""
    row = next(r for r in ROWS if r["formula"] == 7)
    combo = next(c for c in combinations(row) if c["ndim"] == 2 and c["group_size"] == 0)
    rows_m = 200
    x1_scale = (-(-rows_m // 128), combo["x1_scale"][1][1])
    odd = dict(combo, x1=("float8_e4m3fn", (rows_m, 512), ""), out=(combo["out"][0], (rows_m, 384), ""),
               x1_scale=("float32", x1_scale, ""))
    with pytest.raises(Violation, match="groupSize"):
        _check(odd)
    assert _check(dict(odd, group_size=row["group_size"][1])).formula == 7


def test_the_rank_counts_of_the_legend():
    doc = " ".join(DOC.split())
    assert "Atlas A2 1, 2, 4 or 8; Ascend 950 1, 2, 4, ... 64; Atlas A3 has no" in doc
    for soc, allowed in (("A2", {1, 2, 4, 8}), ("950", {1, 2, 4, 8, 16, 32, 64})):
        for ranks in range(1, 129):
            try:
                rules.check_rank_count(soc, ranks)
                assert ranks in allowed
            except Violation:
                assert ranks not in allowed
    with pytest.raises(Violation) as info:
        rules.check_profile("A3")
    assert info.value.code == 361001
