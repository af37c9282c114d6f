"""aclTensor, aclTensorList, the host arrays and aclOpExecutor of the mock."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from aclnn_py.spec.descriptors import TensorDesc

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

    ``params`` holds the operator's tensor arguments by name (a TensorDesc, a
    list of them, or None); ``inputs``/``outputs`` name them in the order the
    aclSet*TensorAddr index refers to; ``labels`` gives their C parameter names
    for messages.
    """

    op: str
    device: int
    workspace_size: int
    params: dict[str, object]
    inputs: list[str]
    outputs: list[str]
    run: Callable[[dict[str, object]], None]
    repeatable: bool = False
    used: bool = False
    labels: dict[str, str] = field(default_factory=dict)

    def _slots(self, names: list[str]) -> list[tuple[str, int | None]]:
        slots: list[tuple[str, int | None]] = []
        for name in names:
            value = self.params.get(name)
            if isinstance(value, list):
                slots.extend((name, i) for i in range(len(value)))
            elif value is not None:
                slots.append((name, None))
        return slots

    def set_address(self, kind: str, index: int, address: int, relative: int | None = None) -> None:
        """Re-point one tensor of the executor (aclSet*TensorAddr)."""
        names = {"input": self.inputs, "output": self.outputs, "any": self.inputs + self.outputs}[kind]
        if relative is None:
            slots = self._slots(names)
            if not 0 <= index < len(slots):
                raise MockError(_INVALID, f"{self.op}: {kind} tensor index {index} out of range [0, {len(slots)})")
            name, item = slots[index]
        else:
            present = [n for n in names if self.params.get(n) is not None]
            if not 0 <= index < len(present) or not isinstance(self.params[present[index]], list):
                raise MockError(_INVALID, f"{self.op}: {kind} index {index} is not a tensor-list parameter")
            name, item = present[index], relative
            if not 0 <= item < len(self.params[name]):  # type: ignore[arg-type]
                raise MockError(_INVALID, f"{self.op}: relative index {item} out of range for {name}")
        if item is None:
            self.params[name] = self.params[name].with_address(address)  # type: ignore[union-attr]
        else:
            members = list(self.params[name])  # type: ignore[arg-type]
            members[item] = members[item].with_address(address)
            self.params[name] = members


executors: HandleTable[Executor] = HandleTable("aclOpExecutor", C["ACLNN_ERR_INNER_NULLPTR"])
