"""What the fuzzer (tests/mock/fuzzing) found, each fixed at its root: a regression test per bug, through
the raw C entry points (aclnn_py.lib, the mock's C ABI) and through the Python API."""
from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

import aclnn_py
from aclnn_py import AclError, AclnnParamError, ArgumentError, DeviceBuffer, Tensor, ffi
from aclnn_py.check import recent_message
from aclnn_py.ops._grouped_matmul import grouped_matmul_v5
from aclnn_py.ops._quant_matmul_all_reduce import quant_matmul_all_reduce_v4
from aclnn_py.ops import trans_matmul_weight, trans_quant_param_v2
from aclnn_py.semantics import codecs, nz
from aclnn_py.semantics.descriptors import FRACTAL_NZ
from aclnn_py.semantics.grouped_matmul.call import decode_group_list
from aclnn_py.semantics.quant_params import trans_quant_param
from binding_helpers import communicators


@pytest.fixture
def group(stream):
    """A 1-rank HCCL communicator on device 0."""
    with communicators(1) as (comm,):
        yield comm


def _nz_tensor(shape, dtype) -> Tensor:
    storage = nz.nz_storage_shape(shape, dtype)
    t = Tensor(DeviceBuffer(int(np.prod(storage)) * 2), shape, dtype, format=FRACTAL_NZ, storage_shape=storage)
    t.owns_buffer = True
    return t


def _quant_matmul_all_reduce_v4(tensors: dict, group: str) -> tuple[int, str]:
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
def test_quant_matmul_all_reduce_refuses_fractal_nz_tensors_other_than_x2(stream, group, key):
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
    status, message = _quant_matmul_all_reduce_v4(tensors, group.name)
    assert (status, fragment in message) == (161002, True), message
    with pytest.raises(AclnnParamError) as info:
        quant_matmul_all_reduce_v4(tensors["x1"], tensors["x2"], tensors["x2_scale"], x3=tensors["x3"],
                                   out=tensors["output"], group=group.name, rank_size=1, stream=stream)
    assert info.value.code == 161002 and fragment in info.value.message
    for t in tensors.values():
        t.close()


# --------------------------------------------------------------------------- GroupedMatmulV5

def test_grouped_matmul_group_list_counts_beyond_int64_are_a_device_data_error(stream):
    """Found: groupList counts (type 1) adding up beyond int64 wrapped around in an int64 cumsum, the
    negative total passed the bound check and the task failed with 161002 on a negative row count;
    it is invalid device data: 507015 from aclrtSynchronizeStream naming the groupList."""
    counts = np.array([4, 17, 2**63 - 1, 9], np.int64)
    with pytest.raises(ValueError, match="groupList covers"):
        decode_group_list(counts, 1, 11)
    rng = np.random.default_rng(1)
    x = Tensor.from_numpy(rng.standard_normal((11, 16)).astype(np.float16))
    w = Tensor.from_numpy(rng.standard_normal((4, 16, 8)).astype(np.float16))
    gl = Tensor.from_numpy(counts)
    out = Tensor.empty((11, 8), "float16")
    lib = aclnn_py.lib
    lists = [aclnn_py.TensorList([t]) for t in (x, w, out)]
    size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
    null = ffi.NULL
    status = lib.aclnnGroupedMatmulV5GetWorkspaceSize(lists[0].handle, lists[1].handle, null, null, null, null,
                                                      null, null, gl.handle, null, null, null, 3, 0, 1, 0, null,
                                                      lists[2].handle, null, null, size, executor)
    assert status == 0, recent_message()
    workspace = DeviceBuffer(int(size[0]))
    assert lib.aclnnGroupedMatmulV5(workspace.ptr, size[0], executor[0], stream.handle) == 0
    assert lib.aclrtSynchronizeStream(stream.handle) == 507015
    assert "invalid groupList" in recent_message()
    grouped_matmul_v5([x], [w], group_list=gl, group_list_type=1, split_item=3, group_type=0, out=[out],
                      stream=stream)
    with pytest.raises(AclError) as info:
        stream.synchronize()
    assert info.value.code == 507015 and "groupList covers" in info.value.message
    for r in (*lists, workspace, x, w, gl, out):
        r.close()


def test_grouped_matmul_zero_k_message_names_the_tensor(stream):
    """Found: 'does not support input K being 0 while M and N are not empty' named no parameter."""
    x = Tensor.from_numpy(np.zeros((8, 0), np.float16))
    w = Tensor.from_numpy(np.zeros((8, 0), np.float16).T.copy())
    out = Tensor.empty((8, 8), "float16")
    with pytest.raises(AclnnParamError, match=r"x\[0\] has K = 0: does not support input K being 0"):
        grouped_matmul_v5([x], [w], out=[out], split_item=0, group_type=-1, stream=stream)
    for t in (x, w, out):
        t.close()


# --------------------------------------------------------------------------- the Python API

def test_trans_matmul_weight_wants_a_tensor(stream):
    """Found: trans_matmul_weight(None) raised AttributeError from inside the binding."""
    with pytest.raises(TypeError, match="tensor: expected a Tensor, got NoneType"):
        trans_matmul_weight(None, stream)


@pytest.mark.parametrize("shape, dtype, fragment", [
    ((64,), "float16", "FRACTAL_NZ needs a shape of at least 2"),
    ((4, 4), "uint64", "no FRACTAL_NZ layout for 64-bit dtype"),
])
def test_from_pointer_nz_without_storage_shape_raises_argument_error(stream, shape, dtype, fragment):
    """Found: Tensor.from_pointer(format=FRACTAL_NZ) of a 1-D or 64-bit tensor raised a bare ValueError
    from the NZ layout code."""
    with DeviceBuffer(4096) as buf:
        with pytest.raises(ArgumentError, match=fragment) as info:
            Tensor.from_pointer(buf.address, shape, dtype, format=FRACTAL_NZ)
        assert info.value.parameter == "format"


# --------------------------------------------------------------------------- the mock's memory proofs

def test_operators_refuse_memory_of_another_device(stream):
    """Found: an operator on device 0 read and wrote device 1's allocations; its kernels cannot address
    them. 161002 naming the tensor and both devices, at GetWorkspaceSize and again at launch."""
    rng = np.random.default_rng(2)
    here = aclnn_py.Device(0)
    other = aclnn_py.Device(1)  # current on this thread now
    x_far = Tensor.from_numpy(rng.standard_normal((4, 8)).astype(np.float16))
    here.use()
    x = Tensor.from_numpy(rng.standard_normal((4, 8)).astype(np.float16))
    w = Tensor.from_numpy(rng.standard_normal((8, 16)).astype(np.float16))
    out = Tensor.empty((4, 16), "float16")
    fragment = "x[0]: 0x"
    where = "is in an allocation of device 1, but the operator runs on device 0"
    with pytest.raises(AclnnParamError) as info:
        grouped_matmul_v5([x_far], [w], out=[out], split_item=0, group_type=-1, stream=stream)
    assert info.value.code == 161002 and fragment in info.value.message and where in info.value.message
    # through C: accepted with device 0's x, then the executor's x moved to device 1's memory
    lib = aclnn_py.lib
    lists = [aclnn_py.TensorList([t]) for t in (x, w, out)]
    size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
    null = ffi.NULL
    assert lib.aclnnGroupedMatmulV5GetWorkspaceSize(lists[0].handle, lists[1].handle, null, null, null, null, null,
                                                    null, null, null, null, null, 0, -1, 0, 0, null,
                                                    lists[2].handle, null, null, size, executor) == 0
    assert lib.aclSetDynamicInputTensorAddr(executor[0], 0, 0, lists[0].handle, x_far.buffer.ptr) == 0
    workspace = DeviceBuffer(int(size[0]))
    assert lib.aclnnGroupedMatmulV5(workspace.ptr, size[0], executor[0], stream.handle) == 161002
    assert fragment in recent_message()
    lib.aclDestroyAclOpExecutor(executor[0])
    for r in (*lists, workspace, x, w, out):
        r.close()
    other.use()
    x_far.close()
    other.close()
    here.use()
    here.close()


# --------------------------------------------------------------------------- host conversions

@pytest.mark.parametrize("values, name", [
    (np.array([0.5, -1.0], ml_dtypes.float4_e2m1fn), "float32"),
    (np.array([1.5, 2.0], ml_dtypes.bfloat16), "float16"),
    (np.array([3, -2], ml_dtypes.int4), "int8"),
])
def test_ml_dtypes_arrays_convert_to_other_dtypes(values, name):
    """Found: converting an ml_dtypes array (bfloat16, float4, int4...) to another dtype raised
    NameError ('_NAMES_BY_DTYPE', a table that moved to aclnn_py.semantics.dtypes)."""
    np.testing.assert_array_equal(codecs.to_host(values, name).astype(np.float32), values.astype(np.float32))


def test_unconvertible_arrays_raise_value_error_and_argument_error(stream):
    with pytest.raises(ValueError, match="cannot convert complex64 values to float32"):
        codecs.to_host(np.array([1j], np.complex64), "float32")
    with pytest.raises(ArgumentError, match="cannot convert complex64 values to float32"):
        Tensor.from_numpy(np.array([1j], np.complex64), "float32")


def test_python_api_takes_ml_dtypes_arrays(stream):
    """The fuzzer's case: a float4 offset array given to trans_quant_param_v2."""
    out = trans_quant_param_v2(np.full(4, 0.5, np.float32), np.zeros(4, ml_dtypes.float4_e2m1fn), stream=stream)
    stream.synchronize()
    assert out.to_numpy().tolist() == trans_quant_param(np.full(4, 0.5, np.float32)).tolist()
    out.close()


# --------------------------------------------------------------------------- execute calls

def _grouped_matmul_executor(x: Tensor, w: Tensor, out: Tensor) -> tuple[int, object, list]:
    lib = aclnn_py.lib
    lists = [aclnn_py.TensorList([t]) for t in (x, w, out)]
    size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
    null = ffi.NULL
    assert lib.aclnnGroupedMatmulV5GetWorkspaceSize(lists[0].handle, lists[1].handle, null, null, null, null, null,
                                                    null, null, null, null, null, 0, -1, 0, 0, null,
                                                    lists[2].handle, null, null, size, executor) == 0
    return int(size[0]), executor[0], lists


def test_execute_refuses_a_workspace_or_stream_of_another_device_or_a_dead_stream(stream, group):
    """Found: the execute call took a workspace of another device, and launched on a stream of another
    device, a destroyed stream (107000, a runtime code) or a bogus handle. Now: a workspace not on the
    executor's device is 161002; a stream it cannot launch on is 361001 (ACLNN_ERR_RUNTIME_ERROR, the
    runtime refusing the launch)."""
    rng = np.random.default_rng(3)
    here = aclnn_py.Device(0)
    other = aclnn_py.Device(1)
    far_workspace = DeviceBuffer(16 << 20)
    far_stream = aclnn_py.Stream()
    here.use()
    dead = aclnn_py.Stream()
    dead_handle = dead.handle  # the raw handle, for the C call below (the closed Stream refuses it)
    dead.close()
    x = Tensor.from_numpy(rng.standard_normal((4, 8)).astype(np.float16))
    w = Tensor.from_numpy(rng.standard_normal((8, 16)).astype(np.float16))
    out = Tensor.empty((4, 16), "float16")
    lib = aclnn_py.lib
    workspace = DeviceBuffer(16 << 20)
    cases = [(far_workspace.ptr, stream.handle, 161002, "is memory of device 1, but the executor runs on device 0"),
             (workspace.ptr, far_stream.handle, 361001, "belongs to device 1, but the executor was made on device 0"),
             (workspace.ptr, dead_handle, 361001, "cannot launch on stream: stream"),
             (workspace.ptr, ffi.cast("void *", 0x1234), 361001, "is not a aclrtStream handle")]
    for ws, target, code, fragment in cases:
        size, executor, lists = _grouped_matmul_executor(x, w, out)
        assert lib.aclnnGroupedMatmulV5(ws, size, executor, target) == code
        assert fragment in recent_message()
        assert lib.aclDestroyAclOpExecutor(executor) == 0  # a refused launch leaves the executor to its owner
        for r in lists:
            r.close()
    # the Python API: a plan executed on another device's stream
    from aclnn_py.ops._quant_matmul_all_reduce import QuantMatmulAllReduceV4Plan
    x1 = rng.integers(-5, 5, (16, 32)).astype(np.int8)
    x2 = rng.integers(-5, 5, (32, 16)).astype(np.int8)
    with QuantMatmulAllReduceV4Plan(x1, x2, trans_quant_param(np.full(16, 0.01, np.float32)), group=group.name,
                                    rank_size=1, out_dtype="float16") as plan:
        with pytest.raises(aclnn_py.AclnnRuntimeError, match="belongs to device 1"):
            plan.execute(far_stream)
        plan.execute(stream)
        stream.synchronize()
    for r in (workspace, x, w, out):
        r.close()
    other.use()
    far_stream.close()
    far_workspace.close()
    other.close()
    here.use()
    here.close()


@pytest.mark.parametrize("call", ["quant_matmul_all_reduce", "grouped_matmul", "trans_quant", "from_numpy"])
def test_ragged_nested_lists_raise_argument_error(stream, group, call):
    """Found: a ragged nested list given for an input raised NumPy's ValueError ('setting an array
    element with a sequence') from inside the binding."""
    ragged = [[1, 2], [3]]
    with pytest.raises(ArgumentError, match="cannot be made a NumPy array") as info:
        if call == "quant_matmul_all_reduce":
            quant_matmul_all_reduce_v4(np.ones((4, 32), np.int8), np.ones((32, 8), np.int8), ragged,
                                       group=group.name, rank_size=1, stream=stream, out_dtype="float16")
        elif call == "grouped_matmul":
            grouped_matmul_v5([ragged], [np.ones((2, 4), np.float16)], split_item=0, group_type=-1, stream=stream)
        elif call == "trans_quant":
            trans_quant_param_v2(ragged, stream=stream)
        else:
            Tensor.from_numpy(ragged)
    assert info.value.parameter == {"quant_matmul_all_reduce": "x2_scale", "grouped_matmul": "x[0]", "trans_quant": "scale",
                                    "from_numpy": "array"}[call]


def test_an_allocation_the_host_cannot_back_names_the_size(stream):
    """Found: the 207001 message of aclrtMalloc said '<n> bytes on device 0: ...' without naming
    the parameter; it names ``size`` now (the Python API allocating a huge output shows it)."""
    with pytest.raises(AclError) as info:
        Tensor.empty((2**34,), "uint64")  # 128 GiB: more than the mock's 64 GiB device
    assert info.value.code == 207001
    assert info.value.message.startswith(f"aclrtMalloc: size {2**37} bytes do not fit on device 0")
