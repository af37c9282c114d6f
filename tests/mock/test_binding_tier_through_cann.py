"""The binding tier through the CANN code path: ``python -m pytest tests/binding`` in a child
process with ``ACLNN_PY_BACKEND=cann`` and ``ACLNN_PY_LIB_DIR`` at the mock's libraries, as a
hardware user runs it against CANN's, once under the mock's default SoC (Atlas A2) and once
under ``ACLNN_MOCK_SOC=Ascend950PR`` (the harness choosing the hardware: the mock reads it at
aclInit). Every test passes or is skipped with a reason naming the SoC or the device count.

Through the CANN path the backend is "cann", so the SoC marker and fixtures cannot switch the
mock's profile: a test of another profile is skipped (its "only the mock can switch" reason
proves the child ran through that path), which is why there are two runs.

The runtime's messages: the Ascend950PR run keeps the tier's checks of the mock's wording of raw
calls (binding_helpers.mock_library() sees the mock's libascendcl.so loaded, which is checked
here too); the default-SoC run loads the plugin :mod:`as_if_cann`, which hands out every runtime
message in other words and tells the tier the libraries are not the mock's, as on an Ascend
host: it proves the tier passes whatever words the runtime uses, on its hardware comparisons.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mock_helpers import ROOT

HERE = Path(__file__).resolve().parent

#: Passes at least expected of each run (A2: 456, 950: 223 when this was written); fewer means
#: tests of the tier stopped running there, e.g. skipped for a reason that should not apply.
MINIMUM_PASSES = {None: 400, "Ascend950PR": 200}
SKIP = re.compile(r"^SKIPPED \[(\d+)\] [^:]+:\d+: (.*)$")
SOC_REASON = re.compile(r"\bAscend\d")  # names the SoC wanted or present
DEVICE_REASON = re.compile(r"\b\d+ devices?\b.*\bthis host has \d+\b")


def cann_path_environment(mock_libdir, soc: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ACLNN_MOCK_", "PYTEST_XDIST_")) and k != "PYTEST_ADDOPTS"}
    env.update(ACLNN_PY_BACKEND="cann", ACLNN_PY_LIB_DIR=str(mock_libdir))
    if soc is not None:
        env["ACLNN_MOCK_SOC"] = soc
    return env


@pytest.mark.long
@pytest.mark.parametrize("soc", [None, "Ascend950PR"], ids=["default-soc-other-words", "Ascend950PR"])
def test_the_binding_tier_passes_through_the_cann_path(mock_libdir, soc):
    env = cann_path_environment(mock_libdir, soc)
    command = [sys.executable, "-m", "pytest", "tests/binding", "-n", "0", "-x", "-q", "-rs", "-p", "no:cacheprovider"]
    if soc is None:  # the runtime's messages in other words, the tier told it is not on the mock
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), env.get("PYTHONPATH", "")) if p)
        command += ["-p", "as_if_cann"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-6000:]
    if soc is None:  # many raw calls failed and their messages came in other words
        assert int(re.search(r"as_if_cann: (\d+) runtime messages", done.stdout).group(1)) >= 100, report[-2000:]

    summary = done.stdout.strip().splitlines()[-1]
    passed = int(re.search(r"(\d+) passed", summary).group(1))
    assert passed >= MINIMUM_PASSES[soc], summary
    assert not re.search(r"\b(failed|error|errors|xpassed)\b", summary), summary

    skips = [SKIP.match(line) for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert all(skips), [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    reasons = {m.group(2): int(m.group(1)) for m in skips}
    unexplained = [r for r in reasons if not (SOC_REASON.search(r) or DEVICE_REASON.search(r))]
    assert not unexplained, unexplained
    skipped = int(re.search(r"(\d+) skipped", summary).group(1)) if "skipped" in summary else 0
    assert sum(int(m.group(1)) for m in skips) == skipped, summary
    other = "Ascend950" if soc is None else "Ascend910B"
    assert any("only the mock can switch" in r and other in r for r in reasons), reasons  # the CANN path


def test_the_cann_path_on_the_mocks_libraries_keeps_the_message_checks(mock_libdir):
    """binding_helpers.mock_library() knows the mock's libraries loaded through the CANN path (so
    the Ascend950PR run above checks their wording), from what the loaded library exports."""
    probe = ("import sys; sys.path.insert(0, 'tests/binding'); import aclnn_py, binding_helpers; "
             "print(aclnn_py.backend(), binding_helpers.mock_library())")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                          env=cann_path_environment(mock_libdir), cwd=ROOT)
    assert done.stdout.split() == ["cann", "True"], done.stdout + done.stderr


def test_on_hardware_the_tier_refuses_several_xdist_workers(mock_libdir):
    """As on an Ascend host (the libraries not the mock's, as_if_cann), two pytest-xdist workers
    would share the devices: every test of the tier fails, saying to run it with -n 0."""
    env = cann_path_environment(mock_libdir)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), env.get("PYTHONPATH", "")) if p)
    command = [sys.executable, "-m", "pytest", "tests/binding/test_startup.py", "-n", "2", "-q",
               "-p", "no:cacheprovider", "-p", "as_if_cann"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    summary = done.stdout.strip().splitlines()[-1]
    assert done.returncode == 1 and "passed" not in summary and " error" in summary, done.stdout[-3000:]
    assert "python -m pytest -n 0 tests/binding), not on 2 pytest-xdist workers" in done.stdout, done.stdout[-3000:]
