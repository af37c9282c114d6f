"""A bug of the mock itself stays visible: an exception inside GetWorkspaceSize or inside a stream
task becomes ACLNN_ERR_INNER / ACL_ERROR_RT_INTERNAL_ERROR with a message naming its location
(and the traceback on stderr), never a wrong result; the documented codes through a C program."""
from __future__ import annotations

import numpy as np
import pytest

from mock_helpers import C_DIR, build_cpp, run_program

import aclnn_py
from aclnn_py import AclError, Tensor, ffi
from aclnn_py.check import recent_message
from aclnn_py.ops.grouped_matmul import grouped_matmul_v5
from aclnn_py.tensor import create_handle

A2, P950 = "Ascend910B4", "Ascend950PR_9599"


def raw_gmm(args: dict) -> tuple[int, str]:
    """GroupedMatmulV5GetWorkspaceSize straight through the C ABI: (status, message)."""
    lib = aclnn_py.lib
    made = []

    def tl(key):
        if args.get(key) is None:
            return ffi.NULL
        handles = [create_handle(t.desc) for t in args[key]]
        h = lib.aclCreateTensorList(ffi.new("aclTensor *[]", handles or [ffi.NULL]), len(handles))
        made.append(h)
        return h

    gl = args.get("group_list")
    size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
    status = lib.aclnnGroupedMatmulV5GetWorkspaceSize(
        tl("x"), tl("weight"), tl("bias"), tl("scale"), tl("offset"), tl("antiquant_scale"),
        tl("antiquant_offset"), tl("per_token_scale"), ffi.NULL if gl is None else gl.handle, ffi.NULL, ffi.NULL,
        ffi.NULL, args.get("split_item", 0), args.get("group_type", -1), args.get("group_list_type", 0), 0,
        ffi.NULL, tl("out"), ffi.NULL, ffi.NULL, size, executor)
    message = recent_message() if status else ""
    if status == 0:
        lib.aclDestroyAclOpExecutor(executor[0])
    for h in made:
        lib.aclDestroyTensorList(h)
    return status, message


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
    status, message = raw_gmm(stacked())
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
