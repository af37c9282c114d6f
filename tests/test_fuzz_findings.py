"""What the fuzzer (tests/fuzzing) found, each fixed at its root: a regression test per bug, through
the raw C entry points (aclnn_py.lib, the mock's C ABI) and through the Python API."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from qmmar_helpers import ensure_init  # noqa: E402

import aclnn_py  # noqa: E402
from aclnn_py import AclError, AclnnParamError, ArgumentError, DeviceBuffer, Tensor, ffi, hccl  # noqa: E402
from aclnn_py.check import recent_message  # noqa: E402
from aclnn_py.ops.grouped_matmul import grouped_matmul_v5  # noqa: E402
from aclnn_py.ops.quant_matmul_all_reduce import quant_matmul_all_reduce_v4  # noqa: E402
from aclnn_py.ops.trans import trans_matmul_weight  # noqa: E402
from aclnn_py.spec import nz  # noqa: E402
from aclnn_py.spec.descriptors import FRACTAL_NZ  # noqa: E402
from aclnn_py.spec.grouped_matmul.call import decode_group_list  # noqa: E402
from aclnn_py.spec.quant_params import trans_quant_param  # noqa: E402


@pytest.fixture
def stream():
    ensure_init()
    dev = aclnn_py.Device(0)
    s = aclnn_py.Stream()
    yield s
    s.close()
    dev.close()


@pytest.fixture
def comm(stream):
    c, = hccl.init_all([0])
    yield c
    c.close()


def _nz_tensor(shape, dtype) -> Tensor:
    storage = nz.nz_storage_shape(shape, dtype)
    t = Tensor(DeviceBuffer(int(np.prod(storage)) * 2), shape, dtype, format=FRACTAL_NZ, storage_shape=storage)
    t.owns_buffer = True
    return t


def _qmmar_v4(tensors: dict, group: str) -> tuple[int, str]:
    """aclnnQuantMatmulAllReduceV4GetWorkspaceSize through the C entry point: (status, message)."""
    h = {k: ffi.NULL if tensors.get(k) is None else tensors[k].handle
         for k in ("x1", "x2", "bias", "x3", "x1_scale", "x2_scale", "output")}
    size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
    status = aclnn_py.lib.aclnnQuantMatmulAllReduceV4GetWorkspaceSize(
        h["x1"], h["x2"], h["bias"], h["x3"], h["x1_scale"], h["x2_scale"], ffi.NULL, ffi.NULL, group.encode(),
        b"sum", 0, 1, 0, 0, h["output"], size, executor)
    if status == 0:
        aclnn_py.lib.aclDestroyAclOpExecutor(executor[0])
    return status, recent_message() if status else ""


# --------------------------------------------------------------------------- QuantMatmulAllReduceV4

@pytest.mark.parametrize("key", ["output", "x3"])
def test_qmmar_refuses_fractal_nz_tensors_other_than_x2(stream, comm, key):
    """Found: a FRACTAL_NZ output was accepted and written in the NZ layout (bytes outside the
    view's elements changed); the doc lists ND for every tensor but x2."""
    rng = np.random.default_rng(0)
    tensors = {"x1": Tensor.from_numpy(rng.integers(-5, 5, (16, 32)).astype(np.int8)),
               "x2": Tensor.from_numpy(rng.integers(-5, 5, (32, 32)).astype(np.int8)),
               "x2_scale": Tensor.from_numpy(trans_quant_param(np.full(32, 0.01, np.float32))),
               "x3": Tensor.from_numpy(np.zeros((16, 32), np.float16)),
               "output": Tensor.empty((16, 32), "float16")}
    tensors[key].close()
    tensors[key] = _nz_tensor((16, 32), "float16")
    fragment = f"{key} format FRACTAL_NZ is not supported: expected ND (only x2 may be FRACTAL_NZ)"
    status, message = _qmmar_v4(tensors, comm.name)
    assert (status, fragment in message) == (161002, True), message
    with pytest.raises(AclnnParamError) as info:
        quant_matmul_all_reduce_v4(tensors["x1"], tensors["x2"], tensors["x2_scale"], x3=tensors["x3"],
                                   out=tensors["output"], group=comm, stream=stream)
    assert info.value.code == 161002 and fragment in info.value.message
    for t in tensors.values():
        t.close()
