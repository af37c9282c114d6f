"""aclTensor, aclTensorList, the host arrays and aclOpExecutor of the mock."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from aclnn_py.semantics.descriptors import TensorDesc

from mock_runtime.core.errors import C, MockError
from mock_runtime.core.handles import HandleTable

_INVALID = C["ACLNN_ERR_PARAM_INVALID"]

tensors: HandleTable[TensorDesc] = HandleTable("aclTensor", _INVALID)
scalars: HandleTable[tuple[int, bytes]] = HandleTable("aclScalar", _INVALID)
int_arrays: HandleTable[tuple[int, ...]] = HandleTable("aclIntArray", _INVALID)
float_arrays: HandleTable[tuple[float, ...]] = HandleTable("aclFloatArray", _INVALID)
bool_arrays: HandleTable[tuple[bool, ...]] = HandleTable("aclBoolArray", _INVALID)
tensor_lists: HandleTable[list[int]] = HandleTable("aclTensorList", _INVALID)
scalar_lists: HandleTable[list[int]] = HandleTable("aclScalarList", _INVALID)


@dataclass
class Executor:
    """The work one GetWorkspaceSize call prepared, run by the matching execute call.

    ``params`` holds the operator's tensor arguments by canonical name (a
    TensorDesc, a list of them, or None); ``inputs``/``outputs`` name them in the
    header's order (the order the aclSet*TensorAddr indices count in); ``handles``
    gives the aclTensor handle of each (a list of the members' handles for a
    tensor list, None when absent); ``labels`` gives their C parameter names for
    messages. Phase 1 sets those from the operator's signature
    (:mod:`mock_runtime.exports.opapi`) where the operator left ``inputs`` and
    ``outputs`` empty (an operator whose IR differs from its header names them).
    """

    op: str
    device: int
    workspace_size: int
    params: dict[str, object]
    run: Callable[[dict[str, object]], None]
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    repeatable: bool = False
    used: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    handles: dict[str, object] = field(default_factory=dict)

    def set_address(self, kind: str, index: int, tensor: int, address: int, dynamic: bool) -> None:
        """Re-point the executor's uses of the aclTensor ``tensor`` to ``address`` (aclSet*TensorAddr).

        CANN's operators find the tensor to refresh by the aclTensor itself and do not read the
        index (opbase's aclSetInputTensorAddr only passes it on for nnopbase's own executors),
        so the mock does the same. The index is still checked against the documented range: the
        executor's ``kind`` arguments in the header's order, an absent optional counting as one;
        for the plain calls a tensor list counts its members, for the Dynamic ones (irIndex) it
        counts as one argument. An index out of that range, or an aclTensor the executor does not
        use as ``kind``, is 161002.
        """
        declared = {"input": self.inputs, "output": self.outputs, "any": self.inputs + self.outputs}[kind]
        if dynamic:
            count, what = len(declared), "irIndex"
        else:
            count = sum(len(v) if isinstance(v := self.params.get(n), list) else 1 for n in declared)
            what = "index"
        if not 0 <= index < count:
            label = "tensor" if kind == "any" else kind
            raise MockError(_INVALID, f"{self.op}: {label} {what} {index} is out of range [0, {count})")
        found = False
        for name in dict.fromkeys(declared):  # an in-place argument is an input and an output
            value, handle = self.params.get(name), self.handles.get(name)
            if value is None:
                continue
            if isinstance(value, list):
                members = list(value)
                for i, member in enumerate(handle or ()):  # type: ignore[arg-type]
                    if member == tensor:
                        members[i] = members[i].with_address(address)
                        found = True
                self.params[name] = members
            elif handle == tensor:
                self.params[name] = value.with_address(address)  # type: ignore[attr-defined]
                found = True
        if not found:
            role = {"input": "inputs", "output": "outputs", "any": "tensors"}[kind]
            raise MockError(_INVALID, f"{self.op}: aclTensor {tensor:#x} is not one of the executor's {role}")


executors: HandleTable[Executor] = HandleTable("aclOpExecutor", C["ACLNN_ERR_INNER_NULLPTR"])
