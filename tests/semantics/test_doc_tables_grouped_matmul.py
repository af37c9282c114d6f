"""The tables of grouped_matmul_v5's docstring agree with the rules.

Every combination a scenario row allows (each choice of every cell together on every
listed SoC; each group_list_type with the first choices) is accepted by
``aclnn_py.semantics.grouped_matmul.rules`` and classified as the row's scenario; around
one combination of each row, changing one
argument's dtype (to every dtype, or null <-> present) is accepted exactly when some
row documents the result. The pattern rows are built with float16 and their output
shapes compared with the rules' own. The legends' claims (weight lists, group_type 2
for full quantization, act_type, group_list_type 2, size rules) are checked too.
"""
from __future__ import annotations

import re

import pytest

from aclnn_py.semantics import dtypes
from aclnn_py.semantics.descriptors import TensorDesc
from aclnn_py.semantics.grouped_matmul import rules
from aclnn_py.semantics.grouped_matmul.call import WEIGHT_ONLY
from aclnn_py.semantics.grouped_matmul.entry_points import V5, WEIGHT_NZ
from aclnn_py.semantics.status import Violation

from doc_tables import ALL_DTYPES, NULL, Cell, cell, choices, desc, docstring, evaluate, product, split_top, tables

SYMBOLS = dict(M=96, K=1024, N=384, E=5, G=2)
SCENARIOS = {"non-quantized": "nonquant", "A16W8": "a16w8", "A16W4": "a16w4", "A16W4 per group": "a16w4",
             "weight FP8": "weight_fp8", "A8W8": "a8w8", "A8W4": "a8w4", "A4W4": "a4w4", "FP8/HiF8": "quant_fp8",
             "MX": "mx", "per-group/per-block": "pergroup_perblock"}
#: The tensor arguments, x first (the cells that say "x" refer to it).
ARGS = ("x", "weight", "scale", "offset", "antiquant_scale", "antiquant_offset", "per_token_scale", "bias", "out")
OPTIONAL = ("scale", "offset", "antiquant_scale", "antiquant_offset", "per_token_scale", "bias")
#: Per-group arguments: a leading E with one (E, K, N) weight, a list of E tensors with E weights.
PER_GROUP = ("scale", "offset", "antiquant_scale", "antiquant_offset", "bias")
#: The shape an absent optional argument gets when a mutation makes it present.
PRESENT_SHAPE = {"scale": "(E, N)", "offset": "(E, 1, N)", "antiquant_scale": "(E, N)",
                 "antiquant_offset": "antiquant_scale", "per_token_scale": "(M)", "bias": "(E, N)"}

PATTERNS, FLOAT_ROWS_TABLE, QUANT_ROWS_TABLE = tables(docstring("aclnn_py.ops._grouped_matmul", "grouped_matmul_v5"))


def _scenario_rows():
    rows = []
    for table, quantized in ((FLOAT_ROWS_TABLE, False), (QUANT_ROWS_TABLE, True)):
        for r in table:
            cells = {arg: cell(r.get(arg, NULL)) for arg in ARGS}
            glts = [int(v) for v in choices(r["group_list_type"])] if quantized else [0, 1]
            rows.append(dict(label=r["scenario"], kind=SCENARIOS[r["scenario"]], socs=choices(r["SoC"]),
                             cells=cells, glts=glts, quantized=quantized))
    return rows


ROWS = _scenario_rows()


def _resolve(name, combo):
    return combo["x"][0] if name == "x" else name


def _shape(arg: str, text: str | None, combo: dict):
    if arg == "out":
        return (SYMBOLS["M"], SYMBOLS["N"]), ""
    if text == "antiquant_scale":  # a present antiquant_offset takes the antiquant_scale's shape
        scale = combo.get("antiquant_scale", (None, None, None))
        return (scale[1], "") if scale[0] is not None else evaluate("(E, N)", SYMBOLS)
    return evaluate(text, SYMBOLS)


def combinations(row: dict, socs=None):
    """Combinations of ``row``: argument -> (dtype, shape, layout), plus "soc" and "glt". Every
    choice of every cell together on each SoC but A3 (the rules treat A3 as A2) with the first
    group_list_type; the first choices with each other group_list_type and on A3."""
    options = {}
    for arg in ARGS:
        c = row["cells"][arg]
        options[arg] = ([(None, None)] if c.optional else []) + [
            (d, s) for d in c.present_dtypes for s in (c.shapes or (None,))]
    for soc in socs or row["socs"]:
        for i, chosen in enumerate(product(options)):
            for glt in row["glts"] if i == 0 else row["glts"][:1]:
                combo = dict(soc=soc, glt=glt)
                for arg in ARGS:
                    name, text = chosen[arg]
                    if name is None:
                        combo[arg] = (None, (), "")
                    else:
                        combo[arg] = (_resolve(name, combo),) + _shape(arg, text, combo)
                yield combo
            if soc == "A3":
                break


def distinct(combos, *args):
    """The first of ``combos`` for each SoC and value of ``args``' (dtype, shape, layout)."""
    seen = set()
    for combo in combos:
        key = (combo["soc"],) + tuple(combo[a] for a in args)
        if key not in seen:
            seen.add(key)
            yield combo


INT64 = int(dtypes.DataType.ACL_INT64)


def _group_list(combo: dict, n_groups: int) -> TensorDesc:
    return TensorDesc.contiguous((n_groups, 2) if combo["glt"] == 2 else (n_groups,), INT64)


def check(combo: dict, *, as_list: bool = False, act_type: int = 0, signature=V5):
    """rules.check of ``combo`` (one (E, K, N) weight, group_type 0, split_item 3); ``as_list``:
    E weights (K, N) with per-group arguments as lists of E tensors."""
    e = SYMBOLS["E"]
    lists = {}
    for arg in ARGS:
        dtype, shape, layout = combo[arg]
        if dtype is None:
            lists[arg] = None
        elif as_list and (arg == "weight" or arg in PER_GROUP):
            lists[arg] = [desc(shape[1:], dtype, layout) for _ in range(e)]
        else:
            lists[arg] = [desc(shape, dtype, layout)]
    return rules.check(x=lists["x"], weight=lists["weight"], bias=lists["bias"], scale=lists["scale"],
                       offset=lists["offset"], antiquant_scale=lists["antiquant_scale"],
                       antiquant_offset=lists["antiquant_offset"], per_token_scale=lists["per_token_scale"],
                       group_list=_group_list(combo, e), split_item=3, group_type=0,
                       group_list_type=combo["glt"], act_type=act_type, out=lists["out"], profile=combo["soc"],
                       signature=signature)


def _dtype_matches(c: Cell, dtype: str | None, combo: dict) -> bool:
    return c.optional if dtype is None else dtype in [_resolve(n, combo) for n in c.present_dtypes]


def _shape_matches(c: Cell, arg: str, value: tuple, combo: dict) -> bool:
    return value[0] is None or any(_shape(arg, text, combo) == value[1:] for text in (c.shapes or (None,)))


def documented(combo: dict) -> bool:
    """Some row allows ``combo``."""
    for row in ROWS:
        cells = row["cells"]
        if (combo["soc"] in row["socs"] and combo["glt"] in row["glts"]
                and all(_dtype_matches(cells[arg], combo[arg][0], combo) for arg in ARGS)
                and all(_shape_matches(cells[arg], arg, combo[arg], combo) for arg in ARGS)):
            return True
    return False


def accepted(combo: dict, **kwargs) -> bool:
    try:
        check(combo, **kwargs)
    except Violation:
        return False
    return True


# --------------------------------------------------------------------------- scenario rows

def test_the_tables_cover_every_scenario_and_soc():
    assert {r["kind"] for r in ROWS} == set(SCENARIOS.values())
    for row in ROWS:
        assert set(row["socs"]) <= {"A2", "A3", "950"}
        assert "A2" in row["socs"] or "950" in row["socs"]
        assert ("A2" in row["socs"]) == ("A3" in row["socs"])


@pytest.mark.parametrize("index", range(len(ROWS)), ids=lambda i: f"row{i + 1}-{ROWS[i]['kind']}")
def test_every_documented_combination_is_accepted(index):
    row = ROWS[index]
    seen = 0
    for combo in combinations(row):
        try:
            result = check(combo)
        except Violation as exc:
            raise AssertionError(f"documented but rejected: {combo}: {exc}") from None
        assert result.kind == row["kind"], combo
        seen += 1
    assert seen


def _mutations(combo: dict):
    """``combo`` with one argument's dtype changed (x also with every cell that says "x"),
    or an optional argument made null / present."""
    linked = tuple(a for a in ARGS if a != "x" and combo[a][0] is not None and combo[a][0] == combo["x"][0])
    groups = {arg: (arg,) for arg in ARGS}
    groups["x with the arguments of its dtype"] = ("x",) + linked
    for label, args in groups.items():
        for name in ALL_DTYPES + (None,):
            mutated = dict(combo)
            for arg in args:
                dtype, shape, layout = combo[arg]
                if name is None:
                    if arg not in OPTIONAL:
                        break
                    mutated[arg] = (None, (), "")
                    continue
                if dtype is None:
                    shape, layout = _shape(arg, PRESENT_SHAPE[arg], combo)
                mutated[arg] = (name, shape, layout)
            else:
                if mutated != combo:
                    yield label, mutated


def test_changing_one_dtype_is_accepted_exactly_when_documented():
    checked = 0
    for row in ROWS:
        for soc in row["socs"][:1] + (["950"] if "950" in row["socs"][1:] else []):
            base = next(combinations(row, [soc]))
            for label, mutated in _mutations(base):
                ok = accepted(mutated)
                assert ok == documented(mutated), (
                    f"{row['label']} on {soc}, {label} changed: the rules {'accept' if ok else 'reject'} it, "
                    f"the tables {'do not document' if ok else 'document'} it: {mutated}")
                checked += 1
    assert checked > 1000


# --------------------------------------------------------------------------- the legends

@pytest.mark.parametrize("index", [i for i, r in enumerate(ROWS) if not r["quantized"]],
                         ids=lambda i: f"row{i + 1}-{ROWS[i]['kind']}")
def test_float_rows_take_a_list_of_weights_with_lists_of_per_group_arguments(index):
    for combo in combinations(ROWS[index]):
        try:
            check(combo, as_list=True)
        except Violation as exc:
            raise AssertionError(f"list form rejected: {combo}: {exc}") from None


def test_group_list_type_2_is_full_quantization_only():
    for row in ROWS:
        combo = dict(next(combinations(row)), glt=2)
        assert accepted(combo) == row["quantized"], row["label"]


def test_act_type_only_for_a8w8_with_a_float_scale():
    for row in ROWS:
        for combo in distinct(combinations(row), "scale", "out"):
            allowed = row["kind"] == "a8w8" and combo["scale"][0] in ("float32", "bfloat16")
            for act in (1, 2, 4, 5):
                assert accepted(combo, act_type=act) == allowed, (row["label"], act, combo)
            assert not accepted(combo, act_type=3)


def _k_grouped(combo: dict) -> dict:
    """The legend's group_type 2 form of a full-quantization combination."""
    m, k, n, e = (SYMBOLS[s] for s in "MKNE")
    out = dict(combo, x=(combo["x"][0], (m, k), "T"), weight=(combo["weight"][0], (k, n), combo["weight"][2]),
               out=(combo["out"][0], (e, m, n), ""))
    pts = combo["per_token_scale"]
    if pts[0] is not None and pts[1] == (m,):
        out["per_token_scale"] = (pts[0], (e, m), "")
    return out


def _check_k_grouped(combo: dict):
    e = SYMBOLS["E"]
    d = {arg: None if combo[arg][0] is None else [desc(combo[arg][1], combo[arg][0], combo[arg][2])] for arg in ARGS}
    return rules.check(x=d["x"], weight=d["weight"], bias=d["bias"], scale=d["scale"], offset=d["offset"],
                       per_token_scale=d["per_token_scale"], group_list=_group_list(combo, e), split_item=3,
                       group_type=2, group_list_type=combo["glt"], out=d["out"], profile=combo["soc"])


def test_group_type_2_for_a8w8_and_fp8_on_the_950():
    for row in ROWS:
        if not row["quantized"]:
            continue
        for combo in distinct(combinations(row), "x", "weight", "scale", "per_token_scale", "bias", "glt"):
            if combo["glt"] == 2 or combo["bias"][0] is not None:
                continue
            expected = combo["soc"] == "950" and row["kind"] in ("a8w8", "quant_fp8")
            try:
                _check_k_grouped(_k_grouped(combo))
                ok = True
            except Violation:
                ok = False
            assert ok == expected, (row["label"], combo)
        if row["kind"] in ("a8w8", "quant_fp8") and "950" in row["socs"]:
            combo = next(combinations(row, ["950"]))
            with_bias = dict(_k_grouped(combo), bias=("float32", (SYMBOLS["E"], SYMBOLS["N"]), ""))
            with pytest.raises(Violation, match="bias"):
                _check_k_grouped(with_bias)


@pytest.mark.parametrize("kind, symbols, rule", [
    ("a8w4", dict(K=1280 + 128), None), ("a8w4", dict(K=18688), "at most 18432"),
    ("a8w4", dict(N=388), "multiple of 8"), ("a4w4", dict(N=388), "multiple of 8"),
    ("mx", dict(K=2), "even K other than 2"), ("mx", dict(N=385), "even N"),
])
def test_the_size_rules_of_the_legend(monkeypatch, kind, symbols, rule):
    row = next(r for r in ROWS if r["kind"] == kind and (kind != "mx" or r["cells"]["x"].dtypes == ("float4_e2m1",)))
    monkeypatch.setattr(__import__(__name__), "SYMBOLS", dict(SYMBOLS, **symbols))
    if rule is None:  # K/256 is no integer: the scale takes the whole groups
        rule = "multiple of 256"
        monkeypatch.setattr(__import__(__name__), "evaluate",
                            lambda text, symbols, plain=evaluate: plain(text.replace("K/256", "K//256"), symbols))
    combo = next(combinations(row, ["950"]))
    with pytest.raises(Violation, match=rule):
        check(combo)


def test_a8w4_and_a4w4_take_no_transposed_weight():
    for row in ROWS:
        if row["kind"] in ("a8w4", "a4w4"):
            combo = next(combinations(row))
            transposed = dict(combo, weight=combo["weight"][:2] + ("T",))
            with pytest.raises(Violation, match="transposed"):
                check(transposed)


def test_int8_float16_bfloat16_weights_may_be_fractal_nz():
    """Except in weight-only quantization: the doc's tables allow an NZ INT8 weight there, upstream's
    code refuses it (ParamsWeightNzDtype, the 950 checker's CheckDimNumAndFormat), and the code
    decides (rules: check_nz). Nor with INT8 out (ParamsWeightNzDtype). Quantization on the 950 takes
    an NZ weight through aclnnGroupedMatmulWeightNz only (the 950 checker's CheckWeightNzSpecialParams)."""
    tried = refused = 0
    for row in ROWS:
        for combo in distinct(combinations(row), "x", "weight", "out"):
            if combo["weight"][0] in ("int8", "float16", "bfloat16") and combo["weight"][2] == "":
                nz_call = dict(combo, weight=combo["weight"][:2] + ("nz",))
                if row["kind"] in WEIGHT_ONLY:
                    with pytest.raises(Violation, match="weight-only quantization"):
                        check(nz_call)
                    refused += 1
                elif combo["out"][0] == "int8":
                    with pytest.raises(Violation, match="is not a FRACTAL_NZ weight combination"):
                        check(nz_call, signature=WEIGHT_NZ)
                    refused += 1
                elif row["quantized"] and combo["soc"] == "950":
                    with pytest.raises(Violation, match="needs aclnnGroupedMatmulWeightNz"):
                        check(nz_call)
                    check(nz_call, signature=WEIGHT_NZ)
                    tried += 1
                else:
                    check(nz_call)
                    tried += 1
    assert tried > 10 and refused > 1


def test_weight_only_x_up_to_6_dims_with_one_weight_per_x():
    row = next(r for r in ROWS if r["kind"] == "a16w8")
    combo = next(combinations(row))
    n, k = SYMBOLS["N"], SYMBOLS["K"]
    per_group = {arg: None if combo[arg][0] is None else [desc(combo[arg][1][1:], combo[arg][0])]
                 for arg in PER_GROUP}
    for ndim, ok in ((6, True), (7, False)):
        lead = (2,) * (ndim - 1)
        x = [desc(lead + (k,), "float16")]
        out = [desc(lead + (n,), "float16")]
        kwargs = dict(x=x, weight=[desc((k, n), "int8")], out=out, split_item=0, group_type=-1, profile="A2",
                      **per_group)
        if ok:
            assert rules.check(**kwargs).kind == "a16w8"
        else:
            with pytest.raises(Violation, match="dims"):
                rules.check(**kwargs)


def test_int4_weights_may_be_int32_with_8_values_along_the_stored_last_dim():
    for row in ROWS:
        for combo in distinct(combinations(row), "weight"):
            dtype, (e, k, n), layout = combo["weight"]
            if dtype == "int4":
                packed = (e, k, n // 8) if layout == "" else (e, k // 8, n)
                check(dict(combo, weight=("int32", packed, layout)))


def test_a8w4_on_atlas_a2_reads_counts_unless_offset_is_given():
    from aclnn_py.semantics.grouped_matmul.call import effective_group_list_type

    for profile in ("A2", "A3", "950"):
        for glt in (0, 1, 2):
            assert effective_group_list_type("a8w4", False, glt, profile) == (glt if profile == "950" else 1)
            assert effective_group_list_type("a8w4", True, glt, profile) == glt


# --------------------------------------------------------------------------- patterns

PATTERN_SYMBOLS = dict(M=96, K=128, N=48, E=3, n=2, M_i=[16, 32], K_i=[64, 128], N_i=[48, 80],
                       N_e=[48, 80, 112], K_e=[16, 32, 48], c_e=[30, 0, 66])


def _pattern_value(text: str) -> list[tuple[tuple[int, ...], str]] | None:
    """A pattern cell choice as a list of (shape, layout), None for "—"."""
    if text == NULL:
        return None
    text = re.sub(r"Σ(\w+)", lambda m: str(sum(PATTERN_SYMBOLS[m.group(1)])), text)
    scalars = {k: v for k, v in PATTERN_SYMBOLS.items() if not isinstance(v, list)}
    count = re.match(r"^(n|E) × (.*)$", text)
    if count is None:
        return [evaluate(text, scalars)]
    suffix = "_i" if count.group(1) == "n" else "_e"
    return [evaluate(count.group(2), dict(scalars, **{k: v[j] for k, v in PATTERN_SYMBOLS.items()
                                                     if k.endswith(suffix)}))
            for j in range(PATTERN_SYMBOLS[count.group(1)])]


def _pattern_cases():
    for r in PATTERNS:
        for soc in choices(r["SoC"]):
            for split_item in choices(r["split_item"]):
                for weight in split_top(r["weight"], "/"):
                    lists = {"group_list": [_pattern_value(t) for t in split_top(r["group_list"], "/")]}
                    yield dict(group_type=int(r["group_type"]), split_item=int(split_item), soc=soc,
                               x=_pattern_value(r["x"]), weight=_pattern_value(weight), out=_pattern_value(r["out"]),
                               group_lists=lists["group_list"])


PATTERN_CASES = list(_pattern_cases())


def _descs(values):
    return [desc(shape, "float16", layout) for shape, layout in values]


@pytest.mark.parametrize("case", PATTERN_CASES, ids=lambda c: f"gt{c['group_type']}-si{c['split_item']}-{c['soc']}"
                                                              f"-w{len(c['weight'])}")
def test_every_pattern_row_is_accepted_with_its_output_shapes(case):
    counts = PATTERN_SYMBOLS["c_e"]
    for group_list in (None, [((len(counts),), "")]):
        documented_here = group_list in case["group_lists"] or (group_list is None and None in case["group_lists"])
        gl = None if group_list is None else TensorDesc.contiguous(group_list[0][0], INT64)
        try:
            rules.check(x=_descs(case["x"]), weight=_descs(case["weight"]), out=_descs(case["out"]),
                        group_list=gl, split_item=case["split_item"], group_type=case["group_type"],
                        group_list_type=1, profile=case["soc"])
            ok = True
        except Violation as exc:
            ok, why = False, exc
        assert ok == documented_here, (case, group_list, None if ok else why)
    expected = [shape for shape, _ in case["out"]]
    derived = rules.output_shapes(_descs(case["x"]), _descs(case["weight"]), split_item=case["split_item"],
                                  group_type=case["group_type"], group_list_len=len(counts),
                                  group_list_values=counts, group_list_type=1)
    assert derived == expected
