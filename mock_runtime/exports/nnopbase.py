"""libnnopbase.so: aclTensor / aclTensorList / host arrays and executor bookkeeping.

aclCreateTensor stores what it is given, as CANN's does (hicann/opbase
src/nnopbase/common/api/acl_op_api.cpp ``aclCreateTensor`` and the ``aclTensor``
constructor of src/nnopbase/common/utils/common_types.cpp): any aclDataType value
(ACL_FLOAT4_E1M2 and values the mock computes nothing with included), negative view
or storage dims, a negative offset, negative strides. Like CANN it returns NULL
only for a NULL viewDims or storageDims with a non-zero count. The refusal comes
where CANN gives it: the operator that receives such a tensor rejects it at
GetWorkspaceSize (161002, :func:`aclnn_py.semantics.descriptors.refuse_negative_extents`
and the operators' dtype rules), and every device access is proven inside its
allocation first (:mod:`mock_runtime.core.tensor_io`), so no such tensor leads to
an access outside one.
"""
from __future__ import annotations

from typing import Any

from aclnn_py.semantics import dtypes
from aclnn_py.semantics.descriptors import TensorDesc, contiguous_strides
from mock_runtime.core import objects
from mock_runtime.core.errors import C, MockError

ffi: Any = None
lib: Any = None
_NULLPTR = C["ACLNN_ERR_PARAM_NULLPTR"]
_INVALID = C["ACLNN_ERR_PARAM_INVALID"]



def _addr(p: Any) -> int:
    return int(ffi.cast("uintptr_t", p))


def _ints(p: Any, n: int, what: str) -> tuple[int, ...]:
    if n and p == ffi.NULL:
        raise MockError(_NULLPTR, f"{what} is NULL but its length is {n}")
    return tuple(int(p[i]) for i in range(n))


def _out(p: Any, what: str) -> Any:
    if p == ffi.NULL:
        raise MockError(_NULLPTR, f"{what} is NULL")
    return p


def _describe(viewDims, viewDimsNum, dataType, stride, offset, format, storageDims, storageDimsNum, data) -> TensorDesc:
    """The descriptor of an aclCreateTensor / aclInitTensor call, stored as given (see the module docstring)."""
    shape = _ints(viewDims, viewDimsNum, "viewDims")
    storage = _ints(storageDims, storageDimsNum, "storageDims")
    strides = _ints(stride, viewDimsNum, "stride") if stride != ffi.NULL else contiguous_strides(shape)
    return TensorDesc(shape, int(dataType), strides, int(offset), int(format), storage, _addr(data))


# -- create / destroy --------------------------------------------------------
def aclCreateTensor(viewDims, viewDimsNum, dataType, stride, offset, format, storageDims, storageDimsNum, tensorData):
    desc = _describe(viewDims, viewDimsNum, dataType, stride, offset, format, storageDims, storageDimsNum, tensorData)
    return ffi.cast("aclTensor *", objects.tensors.add(desc))


def aclInitTensor(tensor, viewDims, viewDimsNum, dataType, stride, offset, format, storageDims, storageDimsNum, tensorDataAddr):
    handle = _addr(tensor)
    objects.tensors.get(handle, "tensor")
    desc = _describe(viewDims, viewDimsNum, dataType, stride, offset, format, storageDims, storageDimsNum, tensorDataAddr)
    objects.tensors.replace(handle, desc, "tensor")


def aclCreateScalar(value, dataType):
    if value == ffi.NULL:
        raise MockError(_NULLPTR, "value is NULL")
    size = dtypes.nbytes(1, dataType) if int(dataType) in dtypes.NAMES else 0
    if not size:
        raise MockError(_INVALID, f"dataType {dtypes.label(dataType)} cannot be a scalar")
    return ffi.cast("aclScalar *", objects.scalars.add((int(dataType), bytes(ffi.buffer(ffi.cast("char *", value), size)))))


def aclCreateIntArray(value, size):
    return ffi.cast("aclIntArray *", objects.int_arrays.add(_ints(value, size, "value")))


def aclCreateFloatArray(value, size):
    if size and value == ffi.NULL:
        raise MockError(_NULLPTR, "value is NULL")
    return ffi.cast("aclFloatArray *", objects.float_arrays.add(tuple(float(value[i]) for i in range(size))))


def aclCreateBoolArray(value, size):
    if size and value == ffi.NULL:
        raise MockError(_NULLPTR, "value is NULL")
    return ffi.cast("aclBoolArray *", objects.bool_arrays.add(tuple(bool(value[i]) for i in range(size))))


def _members(value, size, table, what: str) -> list[int]:
    if size and value == ffi.NULL:
        raise MockError(_NULLPTR, "value is NULL")
    handles = [_addr(value[i]) for i in range(size)]
    for i, h in enumerate(handles):
        if h:
            table.get(h, f"{what}[{i}]")
    return handles


def aclCreateTensorList(value, size):
    return ffi.cast("aclTensorList *", objects.tensor_lists.add(_members(value, size, objects.tensors, "value")))


def aclCreateScalarList(value, size):
    return ffi.cast("aclScalarList *", objects.scalar_lists.add(_members(value, size, objects.scalars, "value")))


def _destroy(table, p, what: str) -> None:
    if p != ffi.NULL:
        table.remove(_addr(p), what)


def aclDestroyTensor(tensor):
    _destroy(objects.tensors, tensor, "tensor")


def aclDestroyScalar(scalar):
    _destroy(objects.scalars, scalar, "scalar")


def aclDestroyIntArray(array):
    _destroy(objects.int_arrays, array, "array")


def aclDestroyFloatArray(array):
    _destroy(objects.float_arrays, array, "array")


def aclDestroyBoolArray(array):
    _destroy(objects.bool_arrays, array, "array")


def _destroy_list(lists, members_table, p, what: str) -> None:
    """Destroy a list and every member (CANN's ownership rule)."""
    if p == ffi.NULL:
        return
    problems = []
    for i, h in enumerate(lists.remove(_addr(p), what)):
        if h:
            try:
                members_table.remove(h, f"{what} member {i}")
            except MockError as exc:
                problems.append(exc.message)
    if problems:
        raise MockError(_INVALID, "; ".join(problems) + " (members of a list are destroyed with the list; do not destroy them separately)")


def aclDestroyTensorList(array):
    _destroy_list(objects.tensor_lists, objects.tensors, array, "tensor list")


def aclDestroyScalarList(array):
    _destroy_list(objects.scalar_lists, objects.scalars, array, "scalar list")


# -- queries -----------------------------------------------------------------
def _tensor(p: Any) -> TensorDesc:
    if p == ffi.NULL:
        raise MockError(_NULLPTR, "tensor is NULL")
    return objects.tensors.get(_addr(p), "tensor")


def _give_array(values: tuple[int, ...], out, count) -> None:
    """Return a malloc'ed int64 array, as CANN returns a new[]'ed one (caller frees)."""
    buf = lib.aclnn_mock_alloc_i64(max(len(values), 1))
    for i, v in enumerate(values):
        buf[i] = v
    _out(out, "output array pointer")[0] = buf
    _out(count, "output count")[0] = len(values)


def aclGetViewShape(tensor, viewDims, viewDimsNum):
    _give_array(_tensor(tensor).shape, viewDims, viewDimsNum)


def aclGetStorageShape(tensor, storageDims, storageDimsNum):
    _give_array(_tensor(tensor).storage_shape, storageDims, storageDimsNum)


def aclGetViewStrides(tensor, stridesValue, stridesNum):
    _give_array(_tensor(tensor).strides, stridesValue, stridesNum)


def aclGetViewOffset(tensor, offset):
    _out(offset, "offset")[0] = _tensor(tensor).offset


def aclGetFormat(tensor, format):
    _out(format, "format")[0] = _tensor(tensor).format


def aclGetDataType(tensor, dataType):
    _out(dataType, "dataType")[0] = _tensor(tensor).dtype


def _size_of(table, p, what: str, size) -> None:
    if p == ffi.NULL:
        raise MockError(_NULLPTR, f"{what} is NULL")
    _out(size, "size")[0] = len(table.get(_addr(p), what))


def aclGetIntArraySize(array, size):
    _size_of(objects.int_arrays, array, "array", size)


def aclGetFloatArraySize(array, size):
    _size_of(objects.float_arrays, array, "array", size)


def aclGetBoolArraySize(array, size):
    _size_of(objects.bool_arrays, array, "array", size)


def aclGetTensorListSize(tensorList, size):
    _size_of(objects.tensor_lists, tensorList, "tensorList", size)


def aclGetScalarListSize(scalarList, size):
    _size_of(objects.scalar_lists, scalarList, "scalarList", size)


def aclSetRawTensorAddr(tensor, addr):
    desc = _tensor(tensor)
    objects.tensors.replace(_addr(tensor), desc.with_address(_addr(addr)), "tensor")


def aclGetRawTensorAddr(tensor, addr):
    _out(addr, "addr")[0] = ffi.cast("void *", _tensor(tensor).address)


# -- executors ---------------------------------------------------------------
def _executor(p: Any) -> objects.Executor:
    if p == ffi.NULL:
        raise MockError(C["ACLNN_ERR_INNER_NULLPTR"], "executor is NULL")
    return objects.executors.get(_addr(p), "executor")


def aclSetAclOpExecutorRepeatable(executor):
    ex = _executor(executor)
    if ex.used:
        raise MockError(_INVALID, f"{ex.op}: the executor already ran; make it repeatable right after GetWorkspaceSize")
    ex.repeatable = True


def aclDestroyAclOpExecutor(executor):
    _executor(executor)
    objects.executors.remove(_addr(executor), "executor")


def _set(kind: str, executor, index, tensor, addr, relative=None) -> None:
    """aclSet*TensorAddr: point the aclTensor (member ``relative`` of the list ``tensor`` for the
    Dynamic calls) and the executor's uses of it at ``addr``
    (:meth:`~mock_runtime.core.objects.Executor.set_address`). A NULL executor, tensor, list or
    member is 561103 and a member index beyond the list 161002, as in CANN."""
    if tensor == ffi.NULL:
        raise MockError(C["ACLNN_ERR_INNER_NULLPTR"], f"{'tensor' if relative is None else 'tensors'} is NULL")
    ex = _executor(executor)
    if relative is None:
        member = _addr(tensor)
        objects.tensors.get(member, "tensor")
    else:
        members = objects.tensor_lists.get(_addr(tensor), "tensors")
        if not 0 <= relative < len(members):
            raise MockError(_INVALID, f"relativeIndex {relative} is out of the tensor list's {len(members)} members")
        member = members[relative]
        if not member:
            raise MockError(C["ACLNN_ERR_INNER_NULLPTR"], f"tensors[{relative}] is NULL")
    ex.set_address(kind, int(index), member, _addr(addr), relative is not None)
    objects.tensors.replace(member, objects.tensors.get(member, "tensor").with_address(_addr(addr)), "tensor")


def aclSetInputTensorAddr(executor, index, tensor, addr):
    _set("input", executor, index, tensor, addr)


def aclSetOutputTensorAddr(executor, index, tensor, addr):
    _set("output", executor, index, tensor, addr)


def aclSetTensorAddr(executor, index, tensor, addr):
    _set("any", executor, index, tensor, addr)


def aclSetDynamicInputTensorAddr(executor, irIndex, relativeIndex, tensors, addr):
    _set("input", executor, irIndex, tensors, addr, int(relativeIndex))


def aclSetDynamicOutputTensorAddr(executor, irIndex, relativeIndex, tensors, addr):
    _set("output", executor, irIndex, tensors, addr, int(relativeIndex))


def aclSetDynamicTensorAddr(executor, irIndex, relativeIndex, tensors, addr):
    _set("any", executor, irIndex, tensors, addr, int(relativeIndex))


def aclnnInit(configPath):
    return None


def aclnnFinalize():
    return None
