"""``aclnn-py ops``: every function of the headers read, declared or not (and why), with the library
of the loaded backend exporting it and whether the mock implements it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SYNTHETIC = Path(__file__).resolve().parents[1] / "semantics" / "operator_headers"


def _ops(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ACLNN_PY_INCLUDE": str(SYNTHETIC)}
    return subprocess.run([sys.executable, "-m", "aclnn_py", "ops", *args], capture_output=True, text=True,
                          timeout=600, env=env)


def test_ops_lists_every_function_with_its_reason_and_library():
    result = _ops("--json")
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)["functions"]}
    gmm = rows["aclnnGroupedMatmulV5GetWorkspaceSize"]  # the project's: declared, exported, in the mock
    assert gmm["python"] == "grouped_matmul_v5" and gmm["declared"] and gmm["library"] is not None
    assert gmm["mock"] == "opapi_transformer" and gmm["header"].endswith("include/aclnnop/aclnn_grouped_matmul_v5.h")
    assert rows["aclnnGroupedMatmulV5"]["kind"] == "phase 2"
    constructs = rows["aclnnConstructsGetWorkspaceSize"]  # ACLNN_PY_INCLUDE's: declared, exported by no library
    assert constructs["python"] == "constructs" and constructs["origin"] == "ACLNN_PY_INCLUDE"
    assert constructs["library"] is None and constructs["mock"] is False
    refused = rows["aclnnReferenceRefused"]
    assert not refused["declared"] and refused["reason"] == "C++ reference parameter (uint64_t &size): no C declaration"
    unreadable = rows["aclnnErrorRefused"]
    assert unreadable["reason"].startswith("the header cannot be read:") and "#error" in unreadable["reason"]
    assert rows["aclnnHelperSize"]["kind"] == "function" and rows["aclnnHelperSize"]["python"] is None


def test_ops_prints_a_table_with_the_reasons():
    result = _ops()
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    refused = next(i for i, line in enumerate(lines) if line.startswith("aclnnDefaultRefused "))
    assert "not declared" in lines[refused]
    assert lines[refused + 1].strip() == "reason: C++ default argument (int64_t axis = 0): no C declaration"
    assert any(line.startswith("aclnnQuantMatmulAllReduceV4GetWorkspaceSize ") and "quant_matmul_all_reduce_v4" in line
               for line in lines)
    assert lines[-1].startswith(f"{sum(1 for line in lines[1:-1] if line.startswith('aclnn'))} functions in ")
