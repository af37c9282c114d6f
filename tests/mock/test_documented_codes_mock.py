"""A bug of the mock itself stays visible: an exception inside GetWorkspaceSize or inside a stream
task becomes ACLNN_ERR_INNER / ACL_ERROR_RT_INTERNAL_ERROR with a message naming its location
(and the traceback on stderr), never a wrong result; the documented codes through a C program."""
from __future__ import annotations

import numpy as np
import pytest

from binding_helpers import raw_grouped_matmul
from mock_helpers import C_DIR, build_cpp, run_program

from aclnn_py import AclError, Tensor
from aclnn_py.ops._grouped_matmul import grouped_matmul_v5

A2, P950 = "Ascend910B4", "Ascend950PR_9599"


def T(shape, dtype="float16", fill=0):
    return Tensor.from_numpy(np.full(shape, fill, np.float32), dtype)


def stacked(**over):
    """Non-quantized FLOAT16 M-grouped call: x (4, 8), weight (3, 8, 16), out (4, 16)."""
    args = dict(x=[T((4, 8))], weight=[T((3, 8, 16))], out=[T((4, 16))],
                group_list=Tensor.from_numpy(np.array([1, 2, 4], np.int64)), split_item=3, group_type=0)
    args.update(over)
    return args


def test_a_bug_at_get_workspace_size_is_reported_with_its_location(stream, monkeypatch, capfd):
    import mock_runtime.ops.grouped_matmul as mock_op

    def broken(**kwargs):
        raise IndexError("injected")

    monkeypatch.setattr(mock_op.rules, "check", broken)
    status, message = raw_grouped_matmul(stacked())
    assert status == 561000  # ACLNN_ERR_INNER: the mock failed, not the caller
    assert "internal error in the mock runtime (a bug" in message and "IndexError('injected')" in message
    assert "test_documented_codes_mock.py" in message and "in broken" in message
    assert "IndexError: injected" in capfd.readouterr().err


def test_a_bug_in_a_stream_task_is_reported_with_its_location(stream, monkeypatch, capfd):
    import mock_runtime.ops.grouped_matmul as mock_op

    def broken(*args, **kwargs):
        raise KeyError("injected")

    monkeypatch.setattr(mock_op.golden, "compute", broken)
    args = stacked()
    grouped_matmul_v5(args["x"], args["weight"], group_list=np.array([1, 2, 4]), split_item=3, group_type=0,
                      stream=stream)
    with pytest.raises(AclError) as info:
        stream.synchronize()
    assert info.value.code == 507000  # ACL_ERROR_RT_INTERNAL_ERROR
    assert "internal error in the mock runtime (a bug" in info.value.message
    assert "KeyError('injected')" in info.value.message and "in broken" in info.value.message
    assert "KeyError: 'injected'" in capfd.readouterr().err


@pytest.mark.parametrize("mode, soc", [("a2", A2), ("950", P950)])
def test_c_program(tmp_path, mock_libdir, mode, soc):
    program = build_cpp([C_DIR / "documented_codes.c"], tmp_path / "documented_codes", mock_libdir)
    result = run_program(program, mock_libdir, env={"ACLNN_MOCK_SOC": soc, "ACLNN_MOCK_STRICT": "1"},
                         timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"documented codes ok ({mode})" in result.stdout
