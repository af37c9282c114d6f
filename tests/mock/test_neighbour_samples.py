"""A C++ program in the style of CANN's doc samples runs the call sequences of the aclnnCalculateMatmulWeightSizeV2 /
aclnnTransMatmulWeight samples up to aclnnWeightQuantBatchMatmulV2 (their documented 32.0 over 256 elements),
aclnnDynamicQuant's and aclnnNpuFormatCast's against the mock's libraries (tests/mock/c/neighbour_samples.cpp;
CANN's own samples also call aclnnCast and aclnnMm, which this program leaves out)."""
from __future__ import annotations

import numpy as np
import pytest

from aclnn_py.semantics import c1hwc0, dynamic_quant, nz

from mock_helpers import C_DIR, build_cpp, run_program


@pytest.fixture(scope="module")
def program(tmp_path_factory, mock_libdir):
    return build_cpp([C_DIR / "neighbour_samples.cpp"], tmp_path_factory.mktemp("neighbours") / "neighbour_samples",
                     mock_libdir)


@pytest.mark.parametrize("soc", ["Ascend910B4", "Ascend950PR_9599"])
def test_the_doc_sample_sequences(program, mock_libdir, soc):
    a2 = soc.startswith("Ascend910B")
    result = run_program(program, mock_libdir, {"ACLNN_MOCK_SOC": soc}, args=("blocked",))
    assert result.returncode == 0 and result.stdout.endswith("done\n"), result.stdout + result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines()[:-1] if " " in line)
    if soc.startswith("Ascend910B"):
        assert lines["wqbmm"] == "256 of 256 results are 32.0"
    else:  # the 950's V2 takes no FRACTAL_NZ weight (aclnnWeightQuantBatchMatmulNz does): CheckWeightFormat
        assert lines["wqbmm"] == "refused 161002"
    assert lines["wqbmm_null"] == "161001"
    x = np.arange(128, dtype=np.float16).reshape(4, 32)
    y, scale = dynamic_quant.dynamic_quant(x, (np.arange(32) * 32 + 1).astype(np.float16))
    assert lines["dq"] == (f"row0 {y[0, 1]} {y[0, 16]} {y[0, 31]} row3 {y[3, 0]} {y[3, 31]} "
                           f"scale {scale[0]:.9g} {scale[3]:.9g}")
    # INT32 with a FLOAT16 additionalDtype: FRACTAL_NZ on Atlas A2/A3, FRACTAL_NZ_C0_16 (50) on the Ascend 950
    assert lines["format"] == f"{29 if soc.startswith('Ascend910B') else 50} shape 8 4 16 16"
    host = ((np.arange(128) + 1) % 128).astype(np.int32)[None, :].repeat(64, axis=0)
    flat = nz.nd_to_nz(host, "int32", 16).reshape(-1)
    assert lines["nz"] == f"{flat[0]} {flat[15]} {flat[16]} {flat[256]}"
    assert lines["calculate"] == "null 161002"
    if a2:  # NCDHW -> NDC1HWC0 (the Atlas A2/A3 sample's conversion): C0 = 32 B / 4 B
        assert lines["blocked_format"] == "32 shape 1 1 3 2 2 8"
        assert lines["blocked_small"] == "161002"  # the sample's 272-byte dstTensor for 384 bytes of storage
        expected = c1hwc0.to_blocked(np.arange(68, dtype=np.int32).reshape(1, 17, 1, 2, 2), 8).ravel()
        assert lines["blocked"] == " ".join(map(str, expected))
        assert lines["blocked"].startswith("0 4 8 12 16 20 24 28 1 5")  # channel c of (h, w) holds c * 4 + h * 2 + w
    else:  # the 950: CANN's shapes, then a conversion the mock does not model, and its message says what it does model
        assert lines["blocked_format"] == "32 shape 1 1 3 2 2 8"
        assert lines["blocked_small"] == "361001" and "blocked" not in lines
        code, message = lines["blocked_refused"].split(" ", 1)
        assert code == "361001" and "converting NCDHW to NDC1HWC0" in message and "does not model" in message
        assert message.endswith("(on this SoC it converts ND/NCL/NCHW/NCDHW <-> FRACTAL_NZ and FRACTAL_NZ_C0_16/32)")
