"""``aclnn-py selfcheck`` in child processes: every mode passes on the mock under the Atlas A2 and
Ascend 950 profiles (what the SoC lacks is skipped with the reason), and a wrong result makes it
fail, naming the mode; selection, listing, the JSON document and the progress display."""
from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from aclnn_py.selfcheck import all_modes
from aclnn_py.selfcheck.framework import FAIL, PASS, SKIP, Mode, Outcome, judge, matches
from aclnn_py.selfcheck.report import Progress, table
from aclnn_py.semantics.precision import compare


def selfcheck(*args: str, soc: str = "Ascend910B4", code: str | None = None,
              timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m aclnn_py selfcheck args`` on the mock under ``soc``; ``code`` runs first in the
    child (to break something on purpose)."""
    env = {**os.environ, "ACLNN_PY_BACKEND": "mock", "ACLNN_MOCK_SOC": soc}
    env.pop("ACLNN_MOCK_STRICT", None)
    program = textwrap.dedent(code or "") + "\nimport sys\nfrom aclnn_py.__main__ import main\n" \
        f"sys.exit(main(['selfcheck', *{list(args)!r}]))\n"
    return subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, timeout=timeout)


@pytest.mark.parametrize("soc, skipped_prefix", [("Ascend910B4", "quant_matmul_all_reduce/v4/f4/"),
                                                 ("Ascend950PR", "quant_matmul_all_reduce/v4/f2/int8->fp16/nz-x2")])
@pytest.mark.long
def test_every_mode_passes_on_the_mock(tmp_path, soc, skipped_prefix):
    report = tmp_path / "selfcheck.json"
    result = selfcheck("--json", str(report), soc=soc)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    document = json.loads(report.read_text())
    assert document["soc"] == soc and document["backend"] == "mock" and document["passed"]
    entries = document["results"]
    assert {e["status"] for e in entries} == {PASS, SKIP}
    assert len(entries) == len(all_modes())
    ran = {e["mode"] for e in entries if e["status"] == PASS}
    # every family ran, QuantMatmulAllReduce on 1, 2, 4 and 8 ranks
    for family in ("runtime/", "trans_matmul_weight/", "trans_quant_param/", "mm/", "matmul/", "cast/", "permute/",
                   "grouped_matmul/", "quant_matmul_all_reduce/v1/", "quant_matmul_all_reduce/v2/", "quant_matmul_all_reduce/v3/", "quant_matmul_all_reduce/v4/f1/",
                   "quant_matmul_all_reduce/v4/f2/", "quant_matmul_all_reduce/v4/f3/", "quant_matmul_all_reduce/v5/",
                   "matmul_all_reduce/v1/", "matmul_all_reduce/v2/", "matmul_all_reduce/v3/",
                   "weight_quant_matmul_all_reduce/v1/", "weight_quant_matmul_all_reduce/v2/", "hccl/"):
        assert any(mode.startswith(family) for mode in ran), family
    for entry in ("v1", "v2", "v3", "v4", "weight-nz"):  # every GroupedMatmul entry point ran
        assert any(mode.startswith(f"grouped_matmul/{entry}/") for mode in ran), entry
    assert {e["ranks"] for e in entries if e["mode"] == "quant_matmul_all_reduce/v4/f3/int8->bf16" and e["status"] == PASS} \
        == {1, 2, 4, 8}
    skipped = [e for e in entries if e["status"] == SKIP]
    assert skipped and all(e["detail"] for e in skipped)
    assert any(e["mode"].startswith(skipped_prefix) and soc in e["detail"] for e in skipped)
    for e in entries:
        if e["status"] == PASS and not e["exact"]:
            assert e["max_rel_error"] < e["max_rel_limit"] and e["mean_rel_error"] < e["mean_rel_limit"]
    # the table names every mode, the summary counts them
    assert "max rel err / limit" in result.stdout
    assert f"{document['summary']['pass']} passed, 0 failed, 0 errors" in result.stdout
    if soc.startswith("Ascend950"):  # the FP8/HiF8/FP4 formulas ran
        assert {"quant_matmul_all_reduce/v4/f4/fp4->fp16", "quant_matmul_all_reduce/v4/f7/hif8->bf16", "quant_matmul_all_reduce/v4/f8/e5m2->bf16",
                "grouped_matmul/mx/fp4->bf16/glt0/transposed-weight", "matmul_all_reduce/v3/bf16/ccu",
                "weight_quant_matmul_all_reduce/v1/fp16/hif8-per-channel",
                "cast/float32->hifloat8", "cast/int32->int4"} <= ran


BROKEN = """
    import numpy as np
    import aclnn_py.tensor
    import aclnn_py.selfcheck.trans_quant_param as trans_checks

    read = aclnn_py.tensor.Tensor.to_numpy

    def wrong(self):  # the device's bfloat16 results come back with one element 25 % off
        values = read(self)
        if values.dtype.name == "bfloat16" and values.size:
            values = values.copy()
            values.reshape(-1)[values.size // 2] *= 1.25
        return values

    def broken(*args, **kwargs):  # and TransQuantParamV2 raises
        raise RuntimeError("TransQuantParamV2 is broken here")

    aclnn_py.tensor.Tensor.to_numpy = wrong
    trans_checks.trans_quant_param_v2 = broken
"""


def test_a_wrong_result_or_an_error_fails_naming_the_mode(tmp_path):
    report = tmp_path / "selfcheck.json"
    result = selfcheck("--only", "quant_matmul_all_reduce/v4/f2/int8->[bf][fp]16@2", "--only", "grouped_matmul/a8w8/int32*",
                       "--only", "trans_quant_param/v2", "--json", str(report), code=BROKEN)
    assert result.returncode == 1, result.stdout + result.stderr
    statuses = {(e["mode"], e["ranks"]): e for e in json.loads(report.read_text())["results"]}
    assert set(statuses) == {("quant_matmul_all_reduce/v4/f2/int8->fp16", 2), ("quant_matmul_all_reduce/v4/f2/int8->bf16", 2),
                             ("grouped_matmul/a8w8/int32-out/glt1", 1), ("trans_quant_param/v2", 1)}
    bad = statuses[("quant_matmul_all_reduce/v4/f2/int8->bf16", 2)]
    assert bad["status"] == FAIL and bad["max_rel_error"] > bad["max_rel_limit"]
    assert statuses[("quant_matmul_all_reduce/v4/f2/int8->fp16", 2)]["status"] == PASS
    assert statuses[("grouped_matmul/a8w8/int32-out/glt1", 1)]["status"] == PASS
    assert statuses[("trans_quant_param/v2", 1)]["status"] == "ERROR"
    last_lines = result.stdout.strip().splitlines()[-3:]
    assert last_lines[0].startswith("2 passed, 1 failed, 1 errors")
    assert last_lines[1].startswith("ERROR trans_quant_param/v2 (1 rank): RankError: rank 0: RuntimeError: "
                                    "TransQuantParamV2 is broken here")
    assert last_lines[2].startswith("FAIL quant_matmul_all_reduce/v4/f2/int8->bf16 (2 ranks): rank 0 output: bfloat16 FAIL")


def test_selection_and_listing(capsys):
    from aclnn_py.__main__ import main

    assert main(["selfcheck", "--list", "--only", "hccl/barrier"]) == 0  # listing needs no runtime
    assert capsys.readouterr().out.split() == ["hccl/barrier@1", "hccl/barrier@2", "hccl/barrier@4",
                                               "hccl/barrier@8"]
    assert main(["selfcheck", "--only", "no-such-mode"]) == 2
    assert "no mode matches no-such-mode" in capsys.readouterr().err


def test_patterns_match_names_and_rank_counts():
    mode = Mode("quant_matmul_all_reduce/v4/f5/e4m3->fp16", lambda host: [], ranks=4)
    assert matches(mode, [])
    assert matches(mode, ["f5/"]) and matches(mode, ["QUANT_MATMUL_ALL_REDUCE/V4/*"]) and matches(mode, ["*@4"])
    assert not matches(mode, ["*@2"]) and not matches(mode, ["grouped_matmul"])
    assert sorted({m.name.split("/")[0] for m in all_modes()}) == [
        "cast", "dynamic_quant", "grouped_matmul", "hccl", "matmul", "matmul_all_reduce", "mm", "npu_format_cast",
        "permute", "quant_matmul_all_reduce", "runtime", "trans_matmul_weight", "trans_quant_param",
        "weight_quant_batch_matmul_v2", "weight_quant_matmul_all_reduce"]
    assert len({m.key for m in all_modes()}) == len(all_modes())


def _outcome(name: str, ranks: int, passed: bool) -> Outcome:
    import numpy as np

    from aclnn_py.selfcheck.framework import Comparison

    golden = np.linspace(1, 2, 64).astype(np.float16)
    actual = golden if passed else (golden * 1.5).astype(np.float16)
    return judge(Mode(name, lambda host: [], ranks), [Comparison("out", compare(actual, golden, "float16"))], 0.25)


def test_table_and_progress():
    skipped = [Outcome(Mode("quant_matmul_all_reduce/x", lambda h: [], r), SKIP, detail="runs on Ascend 950") for r in (1, 2)]
    outcomes = [_outcome("grouped_matmul/a", 1, True), _outcome("grouped_matmul/b", 1, False), *skipped]
    text = table(outcomes)
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["mode", "ranks", "status"]
    assert lines[1].split()[:3] == ["grouped_matmul/a", "1", "PASS"] and "/ 9.77e-03" in lines[1]
    assert lines[2].split()[:3] == ["grouped_matmul/b", "1", "FAIL"] and "MARE" in lines[2]
    assert lines[3].split()[:3] == ["quant_matmul_all_reduce/x", "1,2", "SKIP"] and lines[3].endswith("runs on Ascend 950")
    plain, tty = io.StringIO(), io.StringIO()
    for out, is_tty in ((plain, False), (tty, True)):
        progress = Progress(len(outcomes), out, tty=is_tty)
        for outcome in outcomes:
            progress.start(outcome.mode)
            progress.done(outcome)
        progress.finish()
    assert plain.getvalue().splitlines()[1].startswith("[2/4] FAIL  grouped_matmul/b (1 rank) 0.25 s  out: float16 FAIL")
    assert "\r\x1b[K[3/4] quant_matmul_all_reduce/x (1 rank) ..." in tty.getvalue()
    assert "FAIL  grouped_matmul/b" in tty.getvalue() and "PASS  grouped_matmul/a" not in tty.getvalue()


def test_the_readme_sample_names_current_modes():
    """Every row of the README's sample report (and its progress line) is a mode and rank count
    that ``aclnn-py selfcheck`` has now."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    sample = re.search(r"```\n(aclnn-py selfcheck: .*?)```", readme, re.S).group(1)
    keys = {mode.key for mode in all_modes()}
    rows = [line.split()[:2] for line in sample.splitlines()
            if re.match(r"[a-z_]+/\S+ +[\d,]+ +(PASS|SKIP|FAIL|ERROR)\b", line)]
    progress = re.findall(r"\] PASS +(\S+) \((\d+) rank", sample)
    assert len(rows) >= 5 and progress
    named = [f"{name}@{ranks}" for name, counts in rows + progress for ranks in counts.split(",")]
    assert not set(named) - keys, f"the README's sample names modes selfcheck does not have: {set(named) - keys}"
