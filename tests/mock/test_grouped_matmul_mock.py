"""GroupedMatmulV5 on the mock: the stream task decodes the device group list once and hands the
ranges to the golden; tests/mock/c/grouped_matmul_int4_quant.cpp runs S8S4 and S4S4 through the C ABI against
its own reference. The binding's GroupedMatmulV5 tests: tests/binding/test_grouped_matmul.py."""
from __future__ import annotations

import re

import numpy as np
import pytest

from mock_helpers import C_DIR, build_cpp, run_program

from aclnn_py import Tensor
from aclnn_py.ops._grouped_matmul import grouped_matmul_v2, grouped_matmul_v5
from aclnn_py.semantics.grouped_matmul.golden import grouped_matmul
from aclnn_py.semantics.status import NOT_MODELLED, RUNTIME, Violation

SOCS = {"A2": "Ascend910B4", "950": "Ascend950PR_9599"}
M, SENTINEL = 11, 7.0


def floats(rng, shape, dtype):
    return rng.standard_normal(shape).astype(np.float32).astype(dtype)


@pytest.mark.parametrize("pattern", ["m_single", "m_split"])
def test_the_mock_decodes_the_group_list_once(stream, monkeypatch, pattern):
    """The work decodes the groupList once (V5's device tensor; V2's host values for one output per
    weight, the pattern only V1/V2 take) and hands the ranges to the golden."""
    from aclnn_py.semantics.grouped_matmul import call

    decoded = []
    decode = call.decode_group_list

    def counting(*args, **kwargs):
        decoded.append(args)
        return decode(*args, **kwargs)

    monkeypatch.setattr(call, "decode_group_list", counting)
    rng = np.random.default_rng(20240607)
    x = floats(rng, (M, 16), np.float16)
    w = floats(rng, (3, 16, 8), np.float16)
    counts = np.array([2, 0, 5], np.int64)
    if pattern == "m_single":
        weight, kw = [w], dict(split_item=3, out=[Tensor.from_numpy(np.full((M, 8), SENTINEL, np.float16))])
    else:
        weight, kw = list(w), dict(split_item=0, out=[Tensor.from_numpy(np.zeros((c, 8), np.float16))
                                                      for c in counts])
    if pattern == "m_single":
        outs = grouped_matmul_v5([x], weight, stream=stream, group_list=Tensor.from_numpy(counts), group_list_type=1,
                                 group_type=0, **kw)
    else:
        outs = grouped_matmul_v2([x], weight, stream=stream, group_list=np.cumsum(counts).tolist(), group_type=0, **kw)
    stream.synchronize()
    assert len(decoded) == 1
    monkeypatch.undo()
    initial = [np.full((M, 8), SENTINEL, np.float16)] if pattern == "m_single" else None
    golden = grouped_matmul([x], weight, group_list=counts, group_list_type=1, group_type=0,
                            split_item=kw["split_item"], out=initial)
    for out, expect in zip(outs, golden):
        np.testing.assert_array_equal(out.to_numpy(), expect)


@pytest.mark.parametrize("rule", [NOT_MODELLED, ""])
def test_the_binding_leaves_a_call_its_rules_do_not_model_to_the_runtime(stream, monkeypatch, rule):
    """A Violation whose rule is NOT_MODELLED (the 950's FP4 weight quantization) lets the call reach the
    runtime, which decides (here the mock computes it); any other Violation stops the call before C."""
    from aclnn_py.errors import AclnnParamError
    from aclnn_py.ops import _grouped_matmul as binding
    from aclnn_py.semantics.grouped_matmul import rules

    class Refusing:  # the binding's view of the rules only: the mock keeps the real ones
        def __getattr__(self, name):
            return getattr(rules, name)

        @staticmethod
        def check(**_):
            raise Violation(RUNTIME if rule else rules.INVALID, rules.FUNCTION, "refused by the test", rule=rule)

    monkeypatch.setattr(binding, "rules", Refusing())
    rng = np.random.default_rng(20261207)
    x, w = floats(rng, (5, 16), np.float16), floats(rng, (2, 16, 24), np.float16)  # shapes no other test caches
    counts = np.array([3, 2], np.int64)

    def call():
        return grouped_matmul_v5([x], [w], stream=stream, group_list=Tensor.from_numpy(counts), group_list_type=1,
                                 group_type=0, split_item=3)

    if rule:
        outs = call()
        stream.synchronize()
        expect = grouped_matmul([x], [w], group_list=counts, group_list_type=1, group_type=0, split_item=3)
        np.testing.assert_array_equal(outs[0].to_numpy(), expect[0])
    else:
        with pytest.raises(AclnnParamError, match="refused by the test"):
            call()


@pytest.fixture(scope="module")
def int4_quant_program(mock_libdir, tmp_path_factory):
    return build_cpp([C_DIR / "grouped_matmul_int4_quant.cpp"],
                     tmp_path_factory.mktemp("grouped_matmul") / "grouped_matmul_int4_quant", mock_libdir)


@pytest.mark.parametrize("soc", [SOCS["950"], SOCS["A2"]])
def test_c_program_s8s4_s4s4(int4_quant_program, mock_libdir, soc):
    """tests/mock/c/grouped_matmul_int4_quant.cpp: S8S4 and S4S4 through the C ABI against its own double reference
    (and, on the 950, the groupListType rule of S8S4), no leaks under ACLNN_MOCK_STRICT."""
    result = run_program(int4_quant_program, mock_libdir, env={"ACLNN_MOCK_SOC": soc, "ACLNN_MOCK_STRICT": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"PASS on {soc}" in result.stdout



@pytest.fixture(scope="module")
def versions_program(mock_libdir, tmp_path_factory):
    # CANN declares V1-V4 deprecated: a program still calling them builds without that warning
    return build_cpp([C_DIR / "grouped_matmul_versions.cpp"],
                     tmp_path_factory.mktemp("grouped_matmul") / "grouped_matmul_versions", mock_libdir,
                     "-Wno-deprecated-declarations")


@pytest.mark.parametrize("soc", [SOCS["A2"], SOCS["950"]])
def test_c_program_versions(versions_program, mock_libdir, soc):
    """tests/mock/c/grouped_matmul_versions.cpp: V1, V2, V3, V4 and WeightNz from their own headers, the
    same product in each prototype's form, exact against its own reference; V1's null y is 161001 and
    V3's 2-D groupList 161002; no leaks under ACLNN_MOCK_STRICT."""
    result = run_program(versions_program, mock_libdir, env={"ACLNN_MOCK_SOC": soc, "ACLNN_MOCK_STRICT": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("aclnnGroupedMatmul", "aclnnGroupedMatmulV2", "aclnnGroupedMatmulV3", "aclnnGroupedMatmulV4",
                 "aclnnGroupedMatmulWeightNz"):
        assert f"{name}: 192 values, 0 wrong" in result.stdout
    assert "with a null y: 161001" in result.stdout and "with a 2-D groupList: 161002" in result.stdout
    assert "ALL OK" in result.stdout
    # CANN's arch35 MxA8W4 weight-NZ example: taken by the 950 (grouped_matmul_weight_quant_950_checker.cpp,
    # IsMxA8W4NZ), whose parameter checks the mock runs and passes; its execution is not modelled -- the mock
    # says so instead of refusing it as invalid
    mx = re.search(r"aclnnGroupedMatmulWeightNz MxA8W4: (\d+) \((.*)\)", result.stdout)
    assert mx is not None, result.stdout
    if soc == SOCS["950"]:
        assert mx[1] == "361001" and "MxA8W4 on the Ascend 950" in mx[2] and "does not model" in mx[2], mx[0]
        assert "passes CANN's parameter checks" in mx[2], mx[0]
    else:
        assert mx[1] == "161002" and "FLOAT8_E4M3FN" in mx[2], mx[0]
