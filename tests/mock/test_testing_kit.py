"""The testing kit (aclnn_py.testing): its fixtures here in the suite, and the plugin as a
downstream project meets it -- a child pytest over a test file, with the plugin found through
its entry point: leaks fail the test that made them, naming what and where; the mock's own
report at the end of the session; SoC switching; opt-out."""
from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import pytest

from aclnn_py import DeviceBuffer, Stream, Tensor
from aclnn_py.testing import BuildError, LeakCheck, RankError, build_program, compile_and_run, soc_unavailable
from aclnn_py.testing.soc import current
from mock_helpers import require_tool

ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- in this suite

def test_a_stream_on_device_zero(aclnn_stream, aclnn_device):
    assert aclnn_device.id == 0
    with Tensor.from_numpy(np.arange(6, dtype=np.int32), stream=aclnn_stream) as t:
        aclnn_stream.synchronize()
        assert t.to_numpy().tolist() == list(range(6))


def test_ranks_have_their_own_context_stream_and_communicator(aclnn_ranks):
    ranks = aclnn_ranks(4)
    data = [np.full(8, r + 1, np.float32) for r in range(4)]

    def rank_main(rank):
        with DeviceBuffer.from_numpy(data[rank.rank]) as buffer:
            rank.comm.all_reduce(buffer, buffer, 8, np.float32, "sum", rank.stream)
            rank.stream.synchronize()
            return rank.rank, rank.size, rank.device, rank.comm.rank, buffer.to_numpy(np.float32)

    results = ranks.run(rank_main)
    assert [r[:4] for r in results] == [(r, 4, r, r) for r in range(4)]
    assert all((r[4] == 10).all() for r in results)
    assert len({id(rank.stream) for rank in ranks.ranks}) == 4
    assert len({rank.comm.name for rank in ranks.ranks}) == 1


def test_a_failing_rank_is_named(aclnn_ranks):
    ranks = aclnn_ranks(2)

    def rank_main(rank):
        if rank.rank == 1:
            raise ValueError("bad input on this rank")
        return rank.rank

    with pytest.raises(RankError, match="rank 1: ValueError: bad input on this rank") as info:
        ranks.run(rank_main)
    assert info.value.rank == 1
    assert ranks.run(lambda rank: rank.rank) == [0, 1]  # the ranks keep working


def test_more_ranks_than_devices_skip(aclnn_ranks, aclnn_runtime):
    with pytest.raises(pytest.skip.Exception, match=f"this host has {aclnn_runtime.device_count}"):
        aclnn_ranks(aclnn_runtime.device_count + 1)


@pytest.mark.aclnn_soc("Ascend950PR_9599")
def test_the_soc_marker_switches_the_mock(aclnn_stream):
    assert current() == "Ascend950PR_9599"
    from aclnn_py.ops import current_profile

    assert current_profile() == "950"


def test_the_previous_soc_is_back_after_the_marked_test(aclnn_runtime):
    assert current() == os.environ.get("ACLNN_MOCK_SOC", "Ascend910B4")


def test_soc_reasons():
    assert soc_unavailable("Ascend950DT") is None  # the mock can be any SoC
    assert "no known product profile" in soc_unavailable("Ascend310P3")


def test_leak_check_names_what_the_code_left_open(aclnn_stream):
    with LeakCheck() as check:
        kept = [DeviceBuffer(128), Tensor.from_numpy(np.zeros((2, 2), np.float16))]
        with DeviceBuffer(64):  # closed: not a leak
            pass
        Tensor.from_numpy(np.zeros(3, np.float32))  # dropped: freed by its finalizer at once
        aclnn_stream.workspace(1 << 20)  # the (older) stream's own buffer: not the check's business
        leaks = check.leaks()
    assert [leak.description for leak in leaks] == [
        f"DeviceBuffer of 128 bytes at {kept[0].address:#x}", repr(kept[1])]
    assert leaks[1].holds == ("DeviceBuffer",)
    assert all(leak.created_at.startswith(f"{__file__}:") for leak in leaks)
    assert "test_leak_check_names_what_the_code_left_open" in leaks[0].created_at
    assert check.release() == 3  # the buffer, the tensor and the tensor's own buffer, newest first
    assert all(resource.closed for resource in kept) and check.leaks() == []


def test_leak_check_excuses_what_owners_and_paused_code_make(aclnn_device):
    holder = type("Holder", (), {})()
    with LeakCheck() as check:
        holder.streams = {"main": Stream()}  # held by an object that outlives the check
        with check.paused():
            shared = DeviceBuffer(32)  # made by a broader fixture, say
        assert check.leaks(owners=[holder]) == []
        assert [leak.description.split()[0] for leak in check.leaks()] == ["Stream"]
    holder.streams["main"].close()
    shared.close()


# --------------------------------------------------------------------------- C programs

def test_compile_and_run_a_c_program(aclnn_program):
    source = '#include "acl/acl.h"\n#include <stdio.h>\nint main(void) { printf("%d\\n", ACL_ERROR_UNINITIALIZE); ' \
             'return aclrtSetDevice(0) == ACL_ERROR_UNINITIALIZE ? 0 : 1; }\n'
    result = aclnn_program.compile_and_run(source, language="c")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "100001"


def test_build_errors_carry_the_compiler_output(tmp_path):
    source = tmp_path / "broken.cpp"
    source.write_text('#include "aclnnop/aclnn_grouped_matmul_v5.h"\nint main() { return undeclared; }\n')
    require_tool("g++")
    with pytest.raises(BuildError, match="undeclared"):
        build_program([source], tmp_path / "broken")
    with pytest.raises(ValueError, match="language"):
        compile_and_run("int main(void) { return 0; }", language="fortran")


# --------------------------------------------------------------------------- as a downstream project

DOWNSTREAM = '''
import numpy as np
import pytest
from aclnn_py import DeviceBuffer, Tensor, hccl
from aclnn_py.ops import QuantMatmulAllReduceV4Plan
from aclnn_py.semantics.quant_params import trans_quant_param

KEPT = []


def test_leaks_a_buffer(aclnn_stream):
    KEPT.append(DeviceBuffer(64))


def test_leaks_a_tensor(aclnn_device):
    KEPT.append(Tensor.from_numpy(np.ones((2, 3), np.float16)))


def test_leaks_a_communicator(aclnn_ranks):
    aclnn_ranks(2)
    KEPT.append(hccl.init_all([2, 3]))


def test_leaks_an_executor(aclnn_ranks):
    ranks = aclnn_ranks(1)
    x1 = Tensor.from_numpy(np.ones((8, 32), np.int8))
    x2 = Tensor.from_numpy(np.ones((32, 16), np.int8))
    scale = Tensor.from_numpy(trans_quant_param(np.full(16, 0.5, np.float32)))
    KEPT.append(QuantMatmulAllReduceV4Plan(x1, x2, scale, group=ranks.ranks[0].comm, out_dtype="float16"))
    KEPT.append((x1, x2, scale))


def test_fails_and_is_not_blamed_for_leaks(aclnn_stream):
    KEPT.append(DeviceBuffer(16))
    assert False, "the test's own failure"


@pytest.mark.aclnn_no_leak_check
def test_opted_out(aclnn_stream):
    KEPT.append(DeviceBuffer(32))


@pytest.mark.aclnn_soc("Ascend999")
def test_a_typo_in_the_soc(aclnn_stream):
    pass


def test_clean(aclnn_stream):
    with Tensor.from_numpy(np.arange(4, dtype=np.float32), stream=aclnn_stream):
        aclnn_stream.synchronize()


def test_last(aclnn_runtime):
    """Its teardown finalises the session's runtime."""
'''


def downstream_pytest(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
    """pytest over DOWNSTREAM in a fresh directory (no conftest): the plugin comes from the
    entry point; returns the run and, per test, (outcome, message) from its JUnit XML."""
    (tmp_path / "test_downstream.py").write_text(DOWNSTREAM)
    env = {**os.environ, "ACLNN_PY_BACKEND": "mock"}
    env.pop("ACLNN_MOCK_STRICT", None)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--rootdir={tmp_path}",
                          f"--junit-xml={tmp_path / 'junit.xml'}", *args, str(tmp_path)],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    cases = {}
    if (tmp_path / "junit.xml").exists():
        for case in ElementTree.parse(tmp_path / "junit.xml").iter("testcase"):
            problems = [(child.tag, child.text or child.get("message", "")) for child in case
                        if child.tag in ("failure", "error", "skipped")]
            cases.setdefault(case.get("name"), []).extend(problems)
    return run, cases


def test_downstream_leaks_fail_the_test_that_made_them(tmp_path):
    run, cases = downstream_pytest(tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert cases["test_clean"] == [] and cases["test_opted_out"] == []

    def error(name: str) -> str:
        (kind, text), = cases[name]
        assert kind == "error", (name, cases[name])
        return text

    assert "DeviceBuffer of 64 bytes" in error("test_leaks_a_buffer")
    line = DOWNSTREAM.splitlines().index("    KEPT.append(DeviceBuffer(64))") + 1
    assert f"test_downstream.py:{line} in test_leaks_a_buffer" in error("test_leaks_a_buffer")
    assert "Tensor(shape=[2, 3], dtype=FLOAT16" in error("test_leaks_a_tensor")
    assert "(and the DeviceBuffer it holds)" in error("test_leaks_a_tensor")
    text = error("test_leaks_a_communicator")
    assert text.count("hccl.Communicator") == 2 and "rank 1/2 device 3" in text
    # the test's own failure only, not a leak report for what its traceback keeps alive
    assert [kind for kind, _ in cases["test_fails_and_is_not_blamed_for_leaks"]] == ["failure"]
    # each leak is reported once, where it happened: the per-test check released what it reported
    # (and what the failed test left), so the session's aclFinalize (the mock, ACLNN_MOCK_STRICT=1)
    # finds only what no check watched -- the opted-out test's buffer -- and says whose it is
    report = error("test_last")
    assert "ACL_ERROR_RELATIVE_RESOURCE_NOT_CLEARED (148051): aclFinalize: leaked" in report
    assert "device buffer of 32 bytes" in report and "not this test's doing" in report
    for reported in ("aclOpExecutor", "HcclComm", "aclTensor", "device buffer of 64 bytes", "device buffer of 16"):
        assert reported not in report, reported
    # an unknown SoC is an error naming the known ones, not a skip
    typo = error("test_a_typo_in_the_soc")
    assert "aclnn_soc('Ascend999'): unknown SoC" in typo
    assert all(name in typo for name in ("Ascend910B*", "Ascend910_93*", "Ascend950*"))


def test_downstream_opt_out(tmp_path):
    run, cases = downstream_pytest(tmp_path, "-p", "no:aclnn_py", "-k", "clean")
    assert run.returncode == 1
    assert "fixture 'aclnn_stream' not found" in cases["test_clean"][0][1]


def test_the_example_downstream_tests_pass(tmp_path):
    env = {**os.environ, "ACLNN_PY_BACKEND": "mock"}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--rootdir={tmp_path}",
                          str(ROOT / "examples" / "downstream")], capture_output=True, text=True, cwd=tmp_path,
                         env=env, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert " passed" in run.stdout.splitlines()[-1] and "skipped" not in run.stdout.splitlines()[-1]
