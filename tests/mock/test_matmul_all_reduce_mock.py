"""MatmulAllReduce V1-V3, WeightQuantMatmulAllReduce V1-V2 and QuantMatmulAllReduceV5 on the mock, from
C++: tests/mock/c/matmul_all_reduce_family.cpp calls each entry point as CANN's doc samples do (two
thread-ranks of one HcclCommInitAll, only the operator headers and acl/acl.h included), checks
every output value exactly against the documented formula computed in the program, and each
entry point's own errors (code and message). The binding's tests of them:
tests/binding/test_matmul_all_reduce.py."""
from __future__ import annotations

import pytest

from mock_helpers import C_DIR, build_cpp, run_program

ENTRY_POINTS = ("MatmulAllReduce", "MatmulAllReduceV2", "MatmulAllReduceV3", "WeightQuantMatmulAllReduce",
                "WeightQuantMatmulAllReduceV2", "QuantMatmulAllReduceV5")


@pytest.fixture(scope="module")
def program(tmp_path_factory, mock_libdir):
    return build_cpp([C_DIR / "matmul_all_reduce_family.cpp"],
                     tmp_path_factory.mktemp("matmul_all_reduce_family") / "matmul_all_reduce_family", mock_libdir)


@pytest.mark.parametrize("soc", ["Ascend910B4", "Ascend950PR"])
def test_cpp_program(program, mock_libdir, soc):
    result = run_program(program, mock_libdir, {"ACLNN_MOCK_SOC": soc, "HCCL_EXEC_TIMEOUT": "30"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "failures=0" in result.stdout
    for rank in (0, 1):
        for entry in ENTRY_POINTS:
            assert f"rank {rank} {entry} mismatches=0 of 512" in result.stdout
    assert result.stdout.count(" ok: ") == 12  # six error checks per rank
    where = "Atlas A2" if soc == "Ascend910B4" else "Ascend 950"
    assert f'commMode "" is not supported on {where}' in result.stdout
    assert "aclFinalize: leaked" not in result.stderr
