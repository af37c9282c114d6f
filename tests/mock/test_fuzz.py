"""A seeded fuzz of both operators, the weight/scale helpers and the operators of the generic path
(Mm, Matmul, Cast, Permute: called from their header signatures) through the C ABI and the Python
API, each batch of cases in a child process (tests/mock/fuzzing): no crash, no hang, only documented
codes with messages naming a parameter, only the project's exceptions, nothing written outside the
outputs, the generic operators' outputs equal to their golden. ``ACLNN_FUZZ_SEED`` changes the
seed; a failure prints the seed, the case and the command that runs it alone. benchmarks/fuzz.py
runs the same fuzzer for longer (``python benchmarks/fuzz.py --minutes 5``)."""
from __future__ import annotations


import numpy as np
import pytest

from fuzzing import cases, generic_ops, runner, verdict
from fuzzing.cases import generate
from fuzzing.generic_ops import GENERIC

#: (profile, first case, cases): a few seconds on 2 cores (benchmarks/fuzz.py runs thousands).
PLAN = [("A2", 0, 250), ("950", 0, 250), ("A3", 0, 100)]


@pytest.mark.long
def test_fuzz_operators_answer_documented_codes_only():
    seed = runner.seed_from_env()
    print(f"fuzz seed {seed} (set ACLNN_FUZZ_SEED to change it)")
    stats, failures = runner.run(seed, PLAN, workers=2, timeout=90)
    print(stats.summary())
    assert not failures, f"fuzz seed {seed}: {len(failures)} failing case(s)\n\n" + \
        "\n\n".join(f.report() for f in failures[:5])
    assert stats.cases == sum(count for *_, count in PLAN)
    # not a vacuous run: calls accepted and executed, every kind of refusal seen
    assert stats.accepted > stats.cases // 5 and stats.executed > stats.cases // 10
    for outcome in ("161001", "161002", "561002", "361001", "AclnnParamError(161002)", "ArgumentError",
                    "TypeError"):
        assert stats.rejected[outcome] > 0, (outcome, stats.rejected)
    for op in GENERIC:  # each generic operator called both ways; outputs compared with their golden
        assert stats.by_op[f"{op} via c"] and stats.by_op[f"{op} via python"], stats.by_op
    assert sum(stats.golden.values()) >= len(GENERIC), stats.golden


# --------------------------------------------------------------------------- the fuzzer itself

@pytest.mark.parametrize("profile", cases.PROFILES)
def test_the_valid_calls_the_cases_start_from_are_accepted_by_the_rules(profile):
    """Every template of every profile passes the operators' own rules (the mutations then break them)."""
    from aclnn_py.semantics import catalogue, trans_matmul_weight, trans_quant_param
    from aclnn_py.semantics.grouped_matmul import rules as grouped_matmul_rules
    from aclnn_py.semantics.quant_matmul_all_reduce import rules as quant_matmul_all_reduce_rules

    def desc(value):
        if value is None:
            return None
        return [s.desc() for s in value] if isinstance(value, tuple) else value.desc()

    for index in range(200):
        rng = cases._Rng(11, profile, index)
        version, t, ints, _ = cases._quant_matmul_all_reduce_template(rng, profile)
        if profile != "A3":  # QuantMatmulAllReduce does not exist there
            quant_matmul_all_reduce_rules.check(**{k: desc(v) for k, v in t.items()}, reduce_op="sum", profile=profile,
                              signature=cases._QUANT_MATMUL_ALL_REDUCE_SIGS[version], **ints)
        t, ints = cases._grouped_matmul_template(rng, profile)
        attrs = {k: v for k, v in ints.items() if k != "tuning_config"}
        grouped_matmul_rules.check(**{k: desc(v) for k, v in t.items()}, tuning_config=ints.get("tuning_config"),
                        profile=profile, **attrs)
        assert trans_matmul_weight.check_trans_matmul_weight(desc(cases._trans_weight_template(rng)["weight"]), profile)
        tq = cases._trans_quant_template(rng)
        trans_quant_param.check_trans_quant_param_v2(desc(tq["scale"]), desc(tq["offset"]), desc(tq["out"]))
        for op in GENERIC.values():  # through the rules the generic path applies (the catalogue's)
            tensors, values = op.template(rng, profile)
            catalogue.rules(op.op).check(profile=profile, **{k: desc(v) for k, v in tensors.items()}, **values)


def test_cases_are_a_function_of_seed_profile_and_index():
    assert generate(5, "A2", 17) == generate(5, "A2", 17)
    assert generate(5, "A2", 17) != generate(6, "A2", 17)
    assert {generate(1, "950", i).op for i in range(200)} == set(cases.OPS)


@pytest.mark.parametrize("op, dtype, got, want, fragment", [
    ("permute", "int32", np.array([1, 2, 3], np.int32), np.array([1, 2, 4], np.int32), "1 byte(s) differ"),
    ("cast", "float32", np.array([np.nan, 1], np.float32), np.array([np.inf, 1], np.float32), "differ"),
    ("mm", "float16", np.array([1.0, 2.0], np.float16), np.array([1.0, 2.01], np.float32), "FAIL"),
    ("mm", "float32", np.ones((2, 3), np.float32), np.ones((3, 3), np.float32), "the golden has shape"),
])
def test_an_output_unlike_its_golden_is_a_mismatch(op, dtype, got, want, fragment):
    from aclnn_py.semantics import dtypes

    problem = generic_ops.mismatch(op, "out", int(dtypes.from_name(dtype)), got, want)
    assert problem is not None and fragment in problem, problem


def test_an_output_equal_to_its_golden_is_no_mismatch():
    from aclnn_py.semantics import dtypes

    got = np.array([1.0, 2.0, 3.0], np.float32)
    assert generic_ops.mismatch("mm", "out", int(dtypes.DataType.ACL_FLOAT), got, got * (1 + 2**-20)) is None
    nan = np.full(2, np.nan, np.float32)
    assert generic_ops.mismatch("permute", "out", int(dtypes.DataType.ACL_FLOAT), nan, nan.copy()) is None


def _event(calls, python=None, violations=(), executed=False, op="grouped_matmul"):
    return {"event": "case", "op": op, "version": "", "api": "c", "ranks": 1,
            "records": [{"rank": 0, "calls": calls, "python": python, "executed": executed,
                         "violations": list(violations), "output_digest": None}]}


PHASE1 = "aclnnGroupedMatmulV5GetWorkspaceSize"


@pytest.mark.parametrize("event, fragment", [
    (_event([[PHASE1, 561000, "x: internal error", "op"]]), "internal-error code 561000"),
    (_event([[PHASE1, 161002, "", "op"]]), "empty aclGetRecentErrMsg"),
    (_event([[PHASE1, 161002, "something went wrong", "op"]]), "names no parameter"),
    (_event([[PHASE1, 0, "", "op"], ["aclrtSynchronizeStream", 507000, "out[0]: bug", "sync"]]),
     "internal-error code 507000"),
    (_event([[PHASE1, 0, "", "op"], ["aclrtFree", 207002, "aclrtFree: double free", "setup"]]), "aclrtFree"),
    (_event([], python={"type": "KeyError", "classes": ["KeyError"], "code": None, "message": "'x'",
                        "parameter": None, "stage": "call", "where": "f.py:1 in g", "function": None}),
     "foreign exception KeyError"),
    (_event([[PHASE1, 0, "", "op"]], violations=["out[0] (output): 4 byte(s) outside its elements changed"],
            executed=True), "outside its elements changed"),
])
def test_the_verdict_catches_what_it_must(event, fragment):
    problems = verdict.judge(event, PHASE1, "A2").problems
    assert any(fragment in p for p in problems), problems


def test_the_verdict_passes_documented_answers():
    event = _event([[PHASE1, 161002, "weight[0] dtype FLOAT is not supported", "op"],
                    ["aclCreateTensor", "NULL", "viewDims [-1] has a negative dimension", "create"]])
    assert verdict.judge(event, PHASE1, "A2").problems == []


@pytest.mark.long
@pytest.mark.parametrize("fault, kind", [("abort", "crash"), ("hang", "hang")])
def test_a_crash_or_a_hang_of_a_child_is_observed_and_reported(monkeypatch, fault, kind):
    monkeypatch.setenv("ACLNN_FUZZ_INJECT", f"{fault}@3")
    # a hang is no event for `timeout` seconds (each case takes milliseconds; the start-up has its own bound)
    stats, failures = runner.run_batch(1, "A2", 0, 6, timeout=4 if fault == "hang" else 90)
    assert [f.kind for f in failures] == [kind], [f.report() for f in failures]
    assert failures[0].index == 3 and "reproduce: python tests/mock/fuzzing/child.py --seed 1 --soc A2 --start 3" \
        in failures[0].report()
    assert stats.cases == 3  # the cases before it were judged
