"""What a downstream project's tests look like with the aclnn-py testing kit.

The fixtures come from the plugin that installing aclnn-py registers (no
conftest.py needed). Every test here is checked for leaked aclnn-py resources.
Runs on the mock (ACLNN_PY_BACKEND=mock, or auto without CANN) and unchanged on
an Ascend host, except where a test says otherwise.
"""
from __future__ import annotations

import numpy as np
import pytest

from aclnn_py import Tensor
from aclnn_py.ops import grouped_matmul_v5, quant_matmul_all_reduce_v4
from aclnn_py.semantics.grouped_matmul.golden import grouped_matmul
from aclnn_py.semantics.precision import assert_close
from aclnn_py.semantics.quant_matmul_all_reduce.golden import quant_matmul_all_reduce
from aclnn_py.semantics.quant_params import trans_quant_param


def test_copy_round_trip(aclnn_stream):
    """A runtime, device 0 and a stream, torn down after the test."""
    values = np.arange(24, dtype=np.float16).reshape(4, 6)
    with Tensor.from_numpy(values, stream=aclnn_stream) as tensor:
        aclnn_stream.synchronize()
        np.testing.assert_array_equal(tensor.to_numpy(), values)


def test_moe_layer_against_the_golden(aclnn_stream):
    """GroupedMatmulV5, non-quantized, 3 experts: compared with the NumPy golden under CANN's standard."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((10, 32)).astype(np.float16)
    w = rng.standard_normal((3, 32, 16)).astype(np.float16)
    counts = np.array([4, 0, 6], np.int64)
    kwargs = dict(group_list=counts, group_list_type=1, split_item=3, group_type=0)
    out, = grouped_matmul_v5([x], [w], stream=aclnn_stream, **kwargs)
    aclnn_stream.synchronize()
    with out:
        assert_close(out.to_numpy(), grouped_matmul([x], [w], **kwargs)[0], "float16")


def test_quant_matmul_all_reduce_on_two_ranks(aclnn_ranks):
    """Two thread ranks (devices 0 and 1), each with a context, a stream and its rank of one
    HCCL communicator; the operator sums the ranks' products."""
    ranks = aclnn_ranks(2)
    rng = np.random.default_rng(1)
    x1 = [rng.integers(-8, 8, (8, 32)).astype(np.int8) for _ in range(2)]
    x2 = [rng.integers(-8, 8, (32, 16)).astype(np.int8) for _ in range(2)]
    scale = trans_quant_param(np.full(16, 0.01, np.float32))

    def rank_main(rank):
        out = quant_matmul_all_reduce_v4(x1[rank.rank], x2[rank.rank], scale, group=rank.comm,
                                         stream=rank.stream, out_dtype="float16")
        rank.stream.synchronize()
        with out:
            return out.to_numpy()

    golden = quant_matmul_all_reduce(x1, x2, [scale, scale], out_dtype="float16")
    for result in ranks.run(rank_main):
        assert_close(result, golden, "float16")


@pytest.mark.aclnn_soc("Ascend950PR")
def test_fp8_needs_an_ascend_950(aclnn_stream):
    """Runs with the mock under an Ascend 950 profile (skipped on hardware of another profile)."""
    from aclnn_py.semantics import codecs

    rng = np.random.default_rng(2)
    x = codecs.from_float32(rng.standard_normal((6, 32)), "float8_e4m3fn")
    w = codecs.from_float32(rng.standard_normal((2, 32, 16)), "float8_e4m3fn")
    scale = rng.uniform(0.5, 1.5, (2, 16)).astype(np.float32)
    kwargs = dict(scale=[scale], group_list=np.array([3, 3]), group_list_type=1, split_item=3, group_type=0,
                  out_dtype="bfloat16")
    out, = grouped_matmul_v5([x], [w], stream=aclnn_stream, **kwargs)
    aclnn_stream.synchronize()
    with out:
        assert_close(out.to_numpy(), grouped_matmul([x], [w], profile="950", **kwargs)[0], "bfloat16")


C_PROGRAM = r"""
#include <stdio.h>
#include "acl/acl.h"

int main(void) {
    if (aclInit(NULL) != ACL_SUCCESS) return 1;
    uint32_t count = 0;
    aclrtGetDeviceCount(&count);
    printf("%s %u\n", aclrtGetSocName(), count);
    return aclFinalize() == ACL_SUCCESS ? 0 : 1;
}
"""


def test_a_c_program(aclnn_program):
    """A C program built against aclnn-py's include/ and run on the mock (hardware: link CANN instead)."""
    result = aclnn_program.compile_and_run(C_PROGRAM, language="c", env={"ACLNN_MOCK_SOC": "Ascend910B3"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Ascend910B3", "8"]
