"""CANN's own op_api unit tests of the two operator families, replayed through the mock's C ABI.

The cases (tests/mock/op_api_cases/, docs/op-api-replay.md) are the parameter-check expectations
of the upstream tests as data. Every case of a declared entry point is replayed under its SoC
(one mock runtime per SoC, all cases in this process) and must get the outcome the upstream test
asserts, except the ones marked stale, which must get the outcome the upstream code gives.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

import aclnn_py
from aclnn_py.semantics import status as statuses
from aclnn_py.semantics.catalogue import project_index
from aclnn_py.semantics.headers import load as load_headers

from mock_helpers import mock_soc
from op_api_replay import CASES, MOCK_SOC, Replayer, load

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "op-api-replay.md"
MARKS = ("yes", "pending", "stale", "unmodelled_soc", "unmodelled_scenario")
REPLAYED = ("yes", "stale", "unmodelled_scenario")
ALL = load()


def status_code(name: str | int) -> int:
    return name if isinstance(name, int) else statuses.CODES[name]


def agrees(case: dict, status: int) -> bool:
    """Whether ``status`` is the outcome the case expects: the upstream assertion (``eq``: that
    status; ``ne``: any other), for a stale case the status the upstream code gives, for a scenario the
    mock does not model 361001 (its refusal saying so)."""
    if case["replay"] == "stale":
        return status == status_code(case["stale"]["code_status"])
    if case["replay"] == "unmodelled_scenario":
        return status == statuses.CODES["ACLNN_ERR_RUNTIME_ERROR"]
    expected = status_code(case["expect"]["status"])
    return status == expected if case["expect"]["assert"] == "eq" else status != expected


def declared() -> set[str]:
    """The functions include/ declares: the runtime's headers and the operator headers."""
    index = project_index()
    operators = {name for name in index.names() if (found := index.find(name)) is not None and found.declared}
    return set(load_headers().functions) | operators


def test_the_data_names_its_sources_and_every_case_is_well_formed():
    ids = Counter(c["id"] for c in ALL)
    assert [i for i, n in ids.items() if n > 1] == []
    for path in sorted(CASES.glob("*.json")):
        source = json.loads(path.read_text())["source"]
        assert re.fullmatch(r"hicann/ops-(transformer|math|nn)", source["repository"]), path
        assert re.fullmatch(r"[0-9a-f]{40}", source["commit"]) and source["paths"], path
    for case in ALL:
        assert case["replay"] in MARKS, case["id"]
        assert case["expect"]["assert"] in ("eq", "ne"), case["id"]
        assert case["soc"] in ("Ascend910B", "Ascend910_93", "Ascend950", "Ascend310P"), case["id"]
        status_code(case["expect"]["status"])
        if case["replay"] == "stale":
            assert set(case["stale"]) == {"reason", "where", "code_status"}, case["id"]
        if case["replay"] == "unmodelled_scenario":
            assert set(case["unmodelled"]) == {"reason", "where"}, case["id"]


def test_the_pending_cases_are_exactly_those_of_the_entry_points_include_does_not_declare():
    """A reminder: once an entry point is added to include/, this fails until its cases are enabled."""
    names = declared()
    pending = {c["entry"] for c in ALL if c["replay"] == "pending"}
    undeclared = {c["entry"] for c in ALL if c["entry"] not in names}
    assert pending == undeclared
    assert all(c["replay"] == "pending" for c in ALL if c["entry"] in undeclared)


@pytest.mark.parametrize("soc", sorted({c["soc"] for c in ALL if c["replay"] in REPLAYED}))
def test_every_replayed_case_gets_the_upstream_outcome(runtime, soc):
    cases = [c for c in ALL if c["soc"] == soc and c["replay"] in REPLAYED]
    results = {}
    with mock_soc(MOCK_SOC[soc]):
        assert aclnn_py.lib.aclrtSetDevice(0) == 0
        replayer = Replayer()
        try:
            for case in cases:
                results[case["id"]] = replayer.run(case)
        finally:
            replayer.close()
            assert aclnn_py.lib.aclrtResetDevice(0) == 0
    wrong = [f"{c['id']} {c['name']} ({c['entry']}): expected {c['expect']['assert']} {c['expect']['status']}"
             f"{' (stale: code gives ' + str(c['stale']['code_status']) + ')' if c['replay'] == 'stale' else ''}"
             f", got {results[c['id']][0]} {results[c['id']][1]}"
             for c in cases if not agrees(c, results[c["id"]][0])]
    assert not wrong, f"{len(wrong)} of {len(cases)} cases disagree:\n" + "\n".join(wrong)


def figures() -> dict[str, Counter]:
    """Per entry point: cases, and how many of them are replayed, pending, stale, unmodelled."""
    table: dict[str, Counter] = {}
    for case in ALL:
        row = table.setdefault(case["entry"].removesuffix("GetWorkspaceSize"), Counter())
        row["cases"] += 1
        row[case["replay"]] += 1
    return table


def test_the_doc_states_the_figures_of_the_data():
    text = DOC.read_text(encoding="utf-8")
    for entry, row in figures().items():
        line = (f"| `{entry}` | {row['cases']} | {row['yes']} | {row['stale']} | {row['pending']} | "
                f"{row['unmodelled_soc']} | {row['unmodelled_scenario']} |")
        assert line in text, line
    total = sum(figures().values(), Counter())
    assert (f"| total | {total['cases']} | {total['yes']} | {total['stale']} | {total['pending']} | "
            f"{total['unmodelled_soc']} | {total['unmodelled_scenario']} |") in text
    for case in ALL:
        if case["replay"] in ("stale", "unmodelled_scenario"):
            assert case["id"] in text, case["id"]
