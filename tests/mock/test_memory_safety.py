"""Memory safety of the mock (issue 9 items 1-4 and 7).

Every tensor access of every operator is proven inside its allocation at
GetWorkspaceSize (and again at launch), whatever the strides' signs, the
format and the dtype; negative offsets are refused at aclCreateTensor;
freed device memory is reused behind a bounded quarantine while use after
free and double free are still reported; impossible allocations answer
207001. tests/mock/c/memory_safety.cpp checks the same through the C ABI only.
The layouts themselves: tests/semantics/test_layout.py; the binding's Tensor
views: tests/binding/test_tensor_views.py.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import aclnn_py
from aclnn_py import DeviceBuffer, Tensor, ffi
from aclnn_py.errors import AclError, AclnnParamError
from aclnn_py.check import check_acl, check_aclnn, recent_message
from aclnn_py.ops._grouped_matmul import grouped_matmul_v5
from mock_helpers import C_DIR, build_cpp, run_c, run_python


# --------------------------------------------------------------------------- aclCreateTensor

def _raw_tensor(shape, dtype, data, strides=None, offset=0, fmt=None, storage=None):
    lib = aclnn_py.lib
    dims = ffi.new("int64_t[]", list(shape) or [0])
    st = ffi.NULL if strides is None else ffi.new("int64_t[]", list(strides))
    storage = list(shape) if storage is None else list(storage)
    return lib.aclCreateTensor(dims, len(shape), dtype, st, offset, lib.ACL_FORMAT_ND if fmt is None else fmt,
                               ffi.new("int64_t[]", storage or [0]), len(storage), data)


@pytest.mark.parametrize("what, kwargs", [
    ("offset -1 is negative", dict(offset=-1)),
    ("storage shape [-4] has a negative dimension", dict(storage=(-4,))),
    ("view shape [-1] has a negative dimension", dict(shape=(-1,))),
])
def test_create_tensor_stores_negative_extents_and_the_operator_refuses_them(device, what, kwargs):
    """As CANN's aclCreateTensor (opbase acl_op_api.cpp): the values are stored; the operator refuses the
    tensor at GetWorkspaceSize (161002) before any access."""
    lib = aclnn_py.lib
    with DeviceBuffer(64) as buf:
        shape = kwargs.pop("shape", (4,))
        scale = _raw_tensor(shape, lib.ACL_FLOAT, buf.ptr, **kwargs)
        assert scale != ffi.NULL
        offset = ffi.new("int64_t *")
        assert lib.aclGetViewOffset(scale, offset) == 0 and offset[0] == kwargs.get("offset", 0)
        out = _raw_tensor((4,), lib.ACL_UINT64, buf.ptr)
        size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
        status = lib.aclnnTransQuantParamV2GetWorkspaceSize(scale, ffi.NULL, out, size, executor)
        assert status == 161002 and f"scale {what}" in recent_message()
        for t in (scale, out):
            lib.aclDestroyTensor(t)


@pytest.mark.parametrize("dtype", [41, 99, -1, 2**31 - 1])  # ACL_FLOAT4_E1M2, no type, DT_UNDEFINED, huge
def test_create_tensor_stores_any_dtype_and_the_operator_refuses_what_it_cannot_take(device, dtype):
    lib = aclnn_py.lib
    with DeviceBuffer(1024) as buf:
        weight = _raw_tensor((16, 32), dtype, buf.ptr)
        assert weight != ffi.NULL
        stored = ffi.new("aclDataType *")
        assert lib.aclGetDataType(weight, stored) == 0 and stored[0] == dtype
        size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
        status = lib.aclnnTransMatmulWeightGetWorkspaceSize(weight, size, executor)
        assert status == 161002 and "mmWeightRef dtype" in recent_message()
        lib.aclDestroyTensor(weight)


def test_init_tensor_stores_a_negative_offset(device):
    lib = aclnn_py.lib
    with DeviceBuffer(64) as buf:
        t = _raw_tensor((4,), lib.ACL_FLOAT, buf.ptr)
        dims = ffi.new("int64_t[]", [4])
        assert lib.aclInitTensor(t, dims, 1, lib.ACL_FLOAT, ffi.NULL, -8, lib.ACL_FORMAT_ND, dims, 1, buf.ptr) == 0
        offset = ffi.new("int64_t *")
        assert lib.aclGetViewOffset(t, offset) == 0 and offset[0] == -8
        lib.aclDestroyTensor(t)


def test_create_tensor_refuses_null_dims_with_a_count_as_cann_does(device):
    lib = aclnn_py.lib
    dims = ffi.new("int64_t[]", [4])
    assert lib.aclCreateTensor(ffi.NULL, 1, lib.ACL_FLOAT, ffi.NULL, 0, lib.ACL_FORMAT_ND, dims, 1, ffi.NULL) == ffi.NULL
    assert "viewDims is NULL" in recent_message()
    assert lib.aclCreateTensor(dims, 1, lib.ACL_FLOAT, ffi.NULL, 0, lib.ACL_FORMAT_ND, ffi.NULL, 1, ffi.NULL) == ffi.NULL
    assert "storageDims is NULL" in recent_message()


# --------------------------------------------------------------------------- operators

def _grouped_matmul_phase1(x, w, out):
    """aclnnGroupedMatmulV5GetWorkspaceSize on raw aclTensor handles (one of each)."""
    lib = aclnn_py.lib
    lists = [lib.aclCreateTensorList(ffi.new("aclTensor *[]", [h]), 1) for h in (x, w, out)]
    size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
    null = ffi.NULL
    status = lib.aclnnGroupedMatmulV5GetWorkspaceSize(lists[0], lists[1], null, null, null, null, null, null, null,
                                                      null, null, null, 0, -1, 0, 0, null, lists[2], null, null,
                                                      size, executor)
    message = recent_message() if status else ""
    return status, message, int(size[0]), executor[0], lists


def test_grouped_matmul_checks_data_addresses_at_get_workspace_size(device):
    lib = aclnn_py.lib
    with DeviceBuffer(16 * 4 * 2) as w, DeviceBuffer(8 * 4 * 2) as out:
        freed = DeviceBuffer(8 * 16 * 2)
        stale = freed.ptr
        freed.close()
        cases = [
            ("x NULL", (_raw_tensor((8, 16), lib.ACL_FLOAT16, ffi.NULL), 161001, "x[0]: the data address")),
            ("x freed", (_raw_tensor((8, 16), lib.ACL_FLOAT16, stale), 161002, "x[0] (FLOAT16 ND tensor")),
        ]
        for name, (xt, code, fragment) in cases:
            status, message, _, _, lists = _grouped_matmul_phase1(xt, _raw_tensor((16, 4), lib.ACL_FLOAT16, w.ptr),
                                                       _raw_tensor((8, 4), lib.ACL_FLOAT16, out.ptr))
            assert (status, fragment in message) == (code, True), (name, status, message)
            if code == 161002:
                assert "use after free" in message
            for l in lists:
                lib.aclDestroyTensorList(l)


def test_memory_freed_between_the_phases_fails_the_launch_not_the_stream(stream):
    lib = aclnn_py.lib
    with DeviceBuffer(8 * 4 * 2) as out, DeviceBuffer(16 * 4 * 2) as w:
        x = DeviceBuffer(8 * 16 * 2)
        status, message, size, executor, lists = _grouped_matmul_phase1(_raw_tensor((8, 16), lib.ACL_FLOAT16, x.ptr),
                                                             _raw_tensor((16, 4), lib.ACL_FLOAT16, w.ptr),
                                                             _raw_tensor((8, 4), lib.ACL_FLOAT16, out.ptr))
        assert status == 0, message
        x.close()
        with DeviceBuffer(size) as workspace:
            status = lib.aclnnGroupedMatmulV5(workspace.ptr, size, executor, stream.handle)
            message = recent_message()
            assert status == 161002 and "x[0]" in message and "use after free" in message
            stream.synchronize()  # nothing was queued
        lib.aclDestroyAclOpExecutor(executor)
        for l in lists:
            lib.aclDestroyTensorList(l)


def test_grouped_matmul_binding_with_a_freed_input_fails_at_get_workspace_size(stream):
    memory = DeviceBuffer.from_numpy(np.ones((8, 16), np.float16))
    x = Tensor.from_pointer(memory.address, (8, 16), "float16")  # borrowed: the binding cannot see it freed
    w = Tensor.from_numpy(np.ones((16, 4), np.float16))
    out = Tensor.empty((8, 4), "float16")
    memory.close()
    with pytest.raises(AclnnParamError, match="use after free") as info:
        grouped_matmul_v5([x], [w], stream=stream, out=[out])
    assert info.value.function == "aclnnGroupedMatmulV5GetWorkspaceSize" and info.value.code == 161002
    owned = Tensor.from_numpy(np.ones((8, 16), np.float16))
    owned.buffer.close()  # a buffer the binding owns: refused before C (tests/binding/test_closed_resources.py)
    with pytest.raises(aclnn_py.ClosedResourceError):
        grouped_matmul_v5([owned], [w], stream=stream, out=[out])
    for t in (x, w, out, owned):
        t.close()


QUEUED_THEN_REUSED = """
import threading
import numpy as np
import aclnn_py
from aclnn_py import DeviceBuffer, Tensor, ffi
from aclnn_py.errors import AclError
from aclnn_py.check import check_aclnn
from mock_runtime.core import memory, runtime as rt

lib = aclnn_py.lib
runtime, device, stream = aclnn_py.Runtime(), aclnn_py.Device(0), aclnn_py.Stream()
scale = DeviceBuffer(16)  # the lowest address of a fresh process
scale.copy_from_host(np.ones(4, np.float32))
s, out = Tensor(scale, (4,), "float32"), Tensor.empty((4,), "uint64")
gate = threading.Event()
rt.stream(int(ffi.cast("uintptr_t", stream.handle))).submit("gate", gate.wait)  # hold the stream
size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
check_aclnn(lib.aclnnTransQuantParamV2GetWorkspaceSize(s.handle, ffi.NULL, out.handle, size, executor), "phase 1")
check_aclnn(lib.aclnnTransQuantParamV2(ffi.NULL, 0, executor[0], stream.handle), "phase 2")
base = scale.address
scale._disown()
memory.table.free(base)  # behind the race check's back (aclrtFree would refuse: the work is queued)
for _ in range(memory.QUARANTINE_COUNT):  # push the range out of the quarantine
    DeviceBuffer(16).close()
again = DeviceBuffer(16)
print("reused", again.address == base)
gate.set()
try:
    stream.synchronize()
except AclError as exc:
    print("code", exc.code, exc.message)
"""


def test_work_queued_before_a_free_never_touches_a_later_allocation():
    """The launch pins the allocations it proved: when the address of a freed one is reused
    (here forced through the mock's internals) the queued task fails instead of writing there."""
    result = run_python(QUEUED_THEN_REUSED)
    assert "reused True" in result.stdout, result.stdout + result.stderr
    assert "code 107000" in result.stdout and "freed after the work was queued" in result.stdout, result.stdout


M, KD, N = 16, 64, 32


@pytest.fixture
def quant_matmul_all_reduce_group(device):
    """The name of a one-rank mock HCCL communicator."""
    from aclnn_py import hccl

    comm, = hccl.init_all([0])
    try:
        yield comm.name
    finally:
        comm.close()


def _quant_matmul_all_reduce_phase1(group, x1, x2, scale, out):
    lib = aclnn_py.lib
    size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
    status = lib.aclnnQuantMatmulAllReduceV4GetWorkspaceSize(
        x1, x2, ffi.NULL, ffi.NULL, ffi.NULL, scale, ffi.NULL, ffi.NULL, ffi.new("char[]", group.encode()),
        ffi.new("char[]", b"sum"), 0, 1, 0, 0, out, size, executor)
    message = recent_message() if status else ""
    if status == 0:
        lib.aclDestroyAclOpExecutor(executor[0])
    return status, message


OPERATOR_CASES = [  # (operator, which tensor, bad layout) -> status, fragment
    ("quant_matmul_all_reduce", "out", dict(strides=(-N, 1)), 161002, "output: strides [-32, 1] with offset 0 reach element -480"),
    ("quant_matmul_all_reduce", "out", dict(strides=(N, -1), offset=N - 2), 161002, "reach element -1"),
    ("quant_matmul_all_reduce", "out", dict(nz=(1, 1, 16, 16)), 161002, "output format FRACTAL_NZ is not supported: expected ND"),
    ("quant_matmul_all_reduce", "out", dict(offset=1), 161002, "bytes [2, 1026) are outside the allocation of 1024 bytes"),
    ("quant_matmul_all_reduce", "out", dict(strides=(1 << 62, 1)), 161002, "are outside the allocation of 1024 bytes"),
    ("quant_matmul_all_reduce", "x2", dict(freed=True), 161002, "use after free"),
    ("quant_matmul_all_reduce", "x2", dict(null=True), 161001, "x2: the data address"),
    ("quant_matmul_all_reduce", "x2Scale", dict(offset=4), 161002, "x2Scale (UINT64 ND tensor"),
    ("grouped_matmul", "out", dict(strides=(-N, 1)), 161002, "out[0]"),
    ("grouped_matmul", "out", dict(offset=1), 161002, "out[0] (FLOAT16 ND tensor"),
    ("grouped_matmul", "x", dict(freed=True), 161002, "x[0] (FLOAT16 ND tensor"),
    ("grouped_matmul", "weight", dict(null=True), 161001, "weight[0]: the data address"),
    ("tmw", "weight", dict(offset=1), 161002, "mmWeightRef (INT8 ND tensor"),
    ("tmw", "weight", dict(small=True), 161002, "outside the allocation of 2047 bytes"),
]


@pytest.mark.parametrize("op, which, bad, status, fragment", OPERATOR_CASES,
                         ids=[f"{c[0]}-{c[1]}-{'-'.join(c[2])}" for c in OPERATOR_CASES])
def test_operators_refuse_bad_layouts_at_get_workspace_size(quant_matmul_all_reduce_group, op, which, bad, status, fragment):
    """Python side of tests/mock/c/memory_safety.cpp's layouts: refused before any byte is touched;
    the allocation after the tensor's keeps its contents."""
    lib = aclnn_py.lib
    int8, fp16 = (lib.ACL_INT8, lib.ACL_INT8) if op != "grouped_matmul" else (lib.ACL_FLOAT16, lib.ACL_FLOAT16)
    shapes = {"x1": (M, KD), "x": (M, KD), "x2": (KD, N), "weight": (KD, N), "x2Scale": (N,), "out": (M, N)}
    dtypes_ = {"x1": int8, "x": fp16, "x2": int8, "weight": fp16, "x2Scale": lib.ACL_UINT64, "out": lib.ACL_FLOAT16}
    if op == "tmw":
        shapes["weight"], dtypes_["weight"] = (KD, N - 1), lib.ACL_INT8
    freed = DeviceBuffer(4096)
    stale = freed.ptr
    freed.close()
    buffers, handles = {}, {}
    for name, shape in shapes.items():
        nbytes = math.prod(shape) * (8 if dtypes_[name] == lib.ACL_UINT64 else 2 if dtypes_[name] == lib.ACL_FLOAT16 else 1)
        if op == "tmw" and name == "weight" and bad.get("small"):
            nbytes = KD * N - 1
        buffers[name] = DeviceBuffer(nbytes)
        buffers[name + " neighbour"] = DeviceBuffer(4096)
        buffers[name + " neighbour"].memset(0xA5)
        options = bad if name == which else {}
        data = ffi.NULL if options.get("null") else stale if options.get("freed") else buffers[name].ptr
        handles[name] = _raw_tensor(shape, dtypes_[name], data, strides=options.get("strides"),
                                    offset=options.get("offset", 0),
                                    fmt=lib.ACL_FORMAT_FRACTAL_NZ if "nz" in options else None,
                                    storage=options.get("nz"))
    if op == "quant_matmul_all_reduce":
        got, message = _quant_matmul_all_reduce_phase1(quant_matmul_all_reduce_group, handles["x1"], handles["x2"], handles["x2Scale"], handles["out"])
    elif op == "grouped_matmul":
        got, message, _, executor, lists = _grouped_matmul_phase1(handles["x"], handles["weight"], handles["out"])
        for l in lists:
            lib.aclDestroyTensorList(l)
    else:
        size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
        got = lib.aclnnTransMatmulWeightGetWorkspaceSize(handles["weight"], size, executor)
        message = recent_message() if got else ""
    assert (got, fragment in message) == (status, True), message
    for name, buf in buffers.items():
        if name.endswith("neighbour"):
            assert (buf.to_numpy() == 0xA5).all(), name
        buf.close()
    if op != "grouped_matmul":
        for h in handles.values():
            lib.aclDestroyTensor(h)


# --------------------------------------------------------------------------- bookkeeping

def test_freed_memory_is_reused_and_misuse_is_still_reported(device):
    from mock_runtime.core import memory

    lib = aclnn_py.lib
    live = len(memory.table.live())
    seen = set()
    for _ in range(3 * memory.QUARANTINE_COUNT):
        with DeviceBuffer(1 << 20) as b:
            seen.add(b.address)
    assert len(seen) < 3 * memory.QUARANTINE_COUNT  # addresses came back after the quarantine
    assert memory.table.bookkeeping() <= live + memory.QUARANTINE_COUNT
    stale = DeviceBuffer(64)
    ptr = stale.ptr
    stale.close()
    host = np.zeros(64, np.uint8)
    status = lib.aclrtMemcpy(ffi.cast("void *", host.ctypes.data), 64, ptr, 64, lib.ACL_MEMCPY_DEVICE_TO_HOST)
    assert status == 107000 and "use after free" in recent_message()
    assert lib.aclrtFree(ptr) == 207002 and "double free" in recent_message()


def test_handles_are_never_reused_and_not_remembered(device):
    from mock_runtime.core import objects

    lib = aclnn_py.lib
    dims = ffi.new("int64_t[]", [4])
    first = lib.aclCreateTensor(dims, 1, lib.ACL_FLOAT, ffi.NULL, 0, lib.ACL_FORMAT_ND, dims, 1, ffi.NULL)
    lib.aclDestroyTensor(first)
    live = len(objects.tensors.live())
    handles = set()
    for _ in range(5000):
        h = lib.aclCreateTensor(dims, 1, lib.ACL_FLOAT, ffi.NULL, 0, lib.ACL_FORMAT_ND, dims, 1, ffi.NULL)
        handles.add(int(ffi.cast("uintptr_t", h)))
        lib.aclDestroyTensor(h)
    assert len(handles) == 5000 and int(ffi.cast("uintptr_t", first)) not in handles
    assert len(objects.tensors.live()) == live and not hasattr(objects.tensors, "_dead")
    with pytest.raises(AclnnParamError, match="was already destroyed"):
        check_aclnn(lib.aclDestroyTensor(first), "aclDestroyTensor")
    never = ffi.cast("aclTensor *", max(handles) + 16 * 1000)
    with pytest.raises(AclnnParamError, match="is not a aclTensor handle"):
        check_aclnn(lib.aclDestroyTensor(never), "aclDestroyTensor")


@pytest.mark.parametrize("size, fragment", [
    (600 << 30, "size 644245094400 bytes do not fit on device 0: 68719476736 of its 68719476736 bytes are free"),
    (2 << 40, "more than the device's 1099511627776 bytes"),
    ((1 << 64) - 1, "more than the device's"),
])
def test_impossible_allocations_answer_207001(device, capfd, size, fragment):
    lib = aclnn_py.lib
    out = ffi.new("void **")
    status = lib.aclrtMalloc(out, size, lib.ACL_MEM_MALLOC_HUGE_FIRST)
    with pytest.raises(AclError) as info:
        check_acl(status, "aclrtMalloc")
    assert info.value.code == 207001 and fragment in info.value.message
    assert "Traceback" not in capfd.readouterr().err
    with DeviceBuffer(1024):  # the runtime still works
        pass


# --------------------------------------------------------------------------- through C

@pytest.fixture(scope="module")
def program(tmp_path_factory, mock_libdir):
    return build_cpp([C_DIR / "memory_safety.cpp"], tmp_path_factory.mktemp("memsafety") / "memory_safety",
                     mock_libdir)


C_LAYOUTS = {  # case: (status, fragment of the message)
    "create_negative_offset": (161002, "output offset -512 is negative"),
    "quant_matmul_all_reduce_out_negative_stride": (161002, "output: strides [-32, 1] with offset 0 reach element -480"),
    "quant_matmul_all_reduce_out_negative_inner_stride": (161002, "reach element -1, before the start of the storage"),
    "quant_matmul_all_reduce_out_nz_too_small": (161002, "output format FRACTAL_NZ is not supported: expected ND"),
    "quant_matmul_all_reduce_out_past_end": (161002, "bytes [2, 1026) are outside the allocation of 1024 bytes"),
    "quant_matmul_all_reduce_out_huge_stride": (161002, "are outside the allocation of 1024 bytes"),
    "quant_matmul_all_reduce_out_overflowing_stride": (161002, "are outside the allocation of 1024 bytes"),
    "quant_matmul_all_reduce_out_null": (161001, "output: the data address of a FLOAT16 ND tensor"),
    "quant_matmul_all_reduce_out_freed": (161002, "use after free"),
    "quant_matmul_all_reduce_out_host": (161002, "is not inside any device allocation"),
    "quant_matmul_all_reduce_x1_negative_stride": (161002, "x1"),
    "quant_matmul_all_reduce_x2_freed": (161002, "x2 (INT8 ND tensor of view [64, 32]"),
    "quant_matmul_all_reduce_x2_nz_too_small": (161002, "x2 FRACTAL_NZ storage shape [1, 1, 16, 32]"),
    "grouped_matmul_x_null": (161001, "x[0]: the data address"),
    "grouped_matmul_weight_freed": (161002, "weight[0] (FLOAT16 ND tensor"),
    "grouped_matmul_out_negative_stride": (161002, "out[0]"),
    "grouped_matmul_out_too_small": (161002, "outside the allocation of 256 bytes"),
    "grouped_matmul_x_other_device": (161002, "x[0]: 0x"),  # ... is in an allocation of device 1, but the operator runs on device 0
    "exec_workspace_other_device": (161002, "is memory of device 1, but the executor runs on device 0"),
    "exec_destroyed_stream": (361001, "cannot launch on stream: stream"),
    "tmw_negative_stride": (161002, "mmWeightRef"),
    "tmw_buffer_too_small": (161002, "outside the allocation of 2047 bytes"),
    "tqp_out_past_end": (161002, "out (UINT64 ND tensor"),
    "tqp_out_negative_stride": (161002, "out: strides [-1] with offset 0 reach element -31"),
}


def test_c_bad_layouts_and_addresses_are_refused_at_get_workspace_size(program, mock_libdir):
    cases, values, _ = run_c(program, mock_libdir, "layouts")
    for name, (status, fragment) in C_LAYOUTS.items():
        assert cases[name][0] == status and fragment in cases[name][1], (name, cases[name])
    assert "is in an allocation of device 1, but the operator runs on device 0" in cases["grouped_matmul_x_other_device"][1]
    assert values["neighbour_intact"] == "1"  # nothing was written outside the output
    assert values["reversed_output_correct"] == "1"  # a valid reversed view inside its allocation works


def test_c_alloc_free_cycles_reuse_addresses_with_flat_memory(program, mock_libdir):
    cases, values, _ = run_c(program, mock_libdir, "cycles", "100000")  # 65,534 was the old limit
    assert int(values["reused"]) > 0
    assert int(values["rss_kb_end"]) - int(values["rss_kb_start"]) < 8 * 1024
    assert cases["use_after_free"][0] == 107000 and "use after free" in cases["use_after_free"][1]
    assert cases["double_free"][0] == 207002 and "double free" in cases["double_free"][1]


def test_c_impossible_allocations_answer_207001(program, mock_libdir):
    cases, _, stderr = run_c(program, mock_libdir, "huge")
    assert cases["beyond_memory"] == (207001, "aclrtMalloc: size 644245094400 bytes do not fit on device 0: "
                                              "68719476736 of its 68719476736 bytes are free")
    for name in ("beyond_device", "size_max"):
        assert cases[name][0] == 207001 and "more than the device's 1099511627776 bytes" in cases[name][1]
    assert cases["host_pinned"][0] == 207001 and "aclrtMallocHost" in cases["host_pinned"][1]


def test_c_per_call_tensors_and_workspace_keep_memory_flat(program, mock_libdir):
    _, values, _ = run_c(program, mock_libdir, "opcalls", "2000")  # RSS read after 1000 calls and at the end
    assert int(values["rss_kb_end"]) - int(values["rss_kb_start"]) < 1024  # was ~3.3 MB per 1000 calls
