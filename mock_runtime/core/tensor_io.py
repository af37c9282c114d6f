"""Every tensor access of the mock's operators, proven before a byte is touched.

One place for the rules every operator (GroupedMatmulV5, QuantMatmulAllReduceV4,
TransMatmulWeight, TransQuantParamV2) applies to its tensors:

* at ``GetWorkspaceSize`` and again when the executor is launched (the
  aclSet*TensorAddr family may have moved a tensor, memory may have been freed
  in between), :func:`prove` checks each tensor:

  - its layout (:func:`aclnn_py.semantics.layout.check`: non-negative offset, no element
    before the data address, a FRACTAL_NZ storage large enough for its view)
    -- ACLNN_ERR_PARAM_INVALID (161002);
  - a NULL data address for a tensor with elements -- ACLNN_ERR_PARAM_NULLPTR
    (161001);
  - every byte it spans inside one live device allocation (not a host
    pointer, not outside, not freed) of the operator's own device (an
    allocation of another device is not addressable by its kernels) --
    ACLNN_ERR_PARAM_INVALID (161002);

  the message names the parameter and the rule. Device *data* (the values of
  a groupList, say) is checked when the work runs.

* the stream task reads and writes only through :func:`read`, :func:`view`
  and :func:`write`, which locate the bytes again and build the NumPy views
  over exactly the proven span (see :mod:`aclnn_py.semantics.layout`). Inside
  :func:`launched`, an access must land in the very allocation proven at the
  launch: memory freed after the launch -- even when a new allocation now
  has its address -- fails the task with ACL_ERROR_RT_PARAM_INVALID
  ("use after free"), reported by aclrtSynchronizeStream.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterable, Iterator

import numpy as np

from aclnn_py.semantics import dtypes, layout
from aclnn_py.semantics.descriptors import TensorDesc

from mock_runtime.core import runtime as rt
from mock_runtime.core.errors import C, MockError
from mock_runtime.core.memory import Allocation, table as memory

_INVALID = C["ACLNN_ERR_PARAM_INVALID"]
_NULLPTR = C["ACLNN_ERR_PARAM_NULLPTR"]
_RUNTIME = C["ACL_ERROR_RT_PARAM_INVALID"]


@dataclass(frozen=True)
class Proof:
    """A tensor access proven inside one live allocation (``alloc`` None: no bytes)."""

    what: str
    desc: TensorDesc
    alloc: Allocation | None
    start: int  # byte offset of the span inside the allocation
    nbytes: int
    write: bool = False

    @property
    def region(self) -> tuple[int, int] | None:
        """The absolute device bytes [begin, end) the access touches."""
        if self.alloc is None:
            return None
        begin = self.alloc.base + self.start
        return begin, begin + self.nbytes


def _summary(desc: TensorDesc) -> str:
    return (f"{dtypes.label(desc.dtype)} {dtypes.format_label(desc.format)} tensor of view {list(desc.shape)}, "
            f"strides {list(desc.strides)}, offset {desc.offset}")


def _locate(desc: TensorDesc, what: str, code: int) -> tuple[Allocation | None, int, int]:
    try:
        layout.check(desc)
    except layout.LayoutError as exc:
        raise MockError(_INVALID, f"{what}: {exc}") from None
    start, nbytes = layout.byte_span(desc)
    if nbytes == 0:
        return None, 0, 0
    if desc.address == 0:
        raise MockError(_NULLPTR, f"{what}: the data address of a {_summary(desc)} is NULL")
    where = f"{what} ({_summary(desc)}: bytes [{start}, {start + nbytes}) from its data address {desc.address:#x})"
    alloc, offset = memory.locate(desc.address + start, nbytes, where, code)
    return alloc, offset, nbytes


def prove(desc: TensorDesc, what: str, *, write: bool = False, device: int | None = None) -> Proof:
    """Check one tensor now (161001/161002 with a message naming ``what`` and the rule) for an
    operator running on ``device`` (default: the calling thread's current device)."""
    alloc, start, nbytes = _locate(desc, what, _INVALID)
    if alloc is not None:
        device = rt.current_device() if device is None else device
        if alloc.device != device:
            raise MockError(_INVALID, f"{what}: {desc.address:#x} is in an allocation of device {alloc.device}, "
                                      f"but the operator runs on device {device} (an operator reads and writes "
                                      f"only the memory of its own device)")
    return Proof(what, desc, alloc, start, nbytes, write)


def prove_params(params: dict[str, object], outputs: Iterable[str], labels: dict[str, str],
                 device: int | None = None) -> list[Proof]:
    """Prove every tensor of an operator's parameters (a TensorDesc, a list of them, or None);
    ``labels`` gives the C parameter names, ``outputs`` the parameters the operator writes,
    ``device`` the operator's device (default: the calling thread's current device)."""
    written = set(outputs)
    proofs = []
    for name, value in params.items():
        label = labels.get(name, name)
        if isinstance(value, TensorDesc):
            proofs.append(prove(value, label, write=name in written, device=device))
        elif isinstance(value, list):
            proofs.extend(prove(d, f"{label}[{i}]", write=name in written, device=device)
                          for i, d in enumerate(value) if d is not None)
    return proofs


# --------------------------------------------------------------------------- run time

_launch = threading.local()


@contextmanager
def launched(proofs: list[Proof]) -> Iterator[None]:
    """Run a stream task whose accesses must stay in the allocations proven at its launch."""
    previous = getattr(_launch, "allocs", None)
    _launch.allocs = [p.alloc for p in proofs if p.alloc is not None]
    try:
        yield
    finally:
        _launch.allocs = previous


def _bytes(desc: TensorDesc, what: str) -> np.ndarray:
    alloc, start, nbytes = _locate(desc, what, _RUNTIME)
    if alloc is None:
        return np.empty(0, np.uint8)
    address = alloc.base + start
    for pinned in getattr(_launch, "allocs", None) or ():
        if pinned is not alloc and pinned.base <= address < pinned.end:
            raise MockError(_RUNTIME, f"{what}: use after free: the allocation of {pinned.size} bytes at "
                                      f"{pinned.base:#x} was freed after the work was queued (its address now "
                                      f"belongs to another allocation)")
    return memory.view(alloc, start, nbytes, what)


def check(desc: TensorDesc, what: str) -> None:
    """Raise unless the tensor's elements lie in one live allocation (see :func:`prove`)."""
    prove(desc, what)


def read(desc: TensorDesc, what: str) -> np.ndarray:
    """A copy of the tensor's logical contents."""
    return layout.from_bytes(desc, _bytes(desc, what))


def view(desc: TensorDesc, what: str) -> np.ndarray:
    """The tensor's logical contents: a read-only view of device memory when the layout
    allows one (not FRACTAL_NZ, not 4-bit), else a copy."""
    if desc.is_nz or dtypes.bits(desc.dtype) == 4 or desc.numel == 0:
        return read(desc, what)
    raw = _bytes(desc, what)
    first, _ = layout.element_span(desc)
    result = layout.strided_view(raw, desc, first)
    result.flags.writeable = False
    return result


def write(desc: TensorDesc, values: np.ndarray, what: str) -> None:
    """Store ``values`` (logical shape) into the tensor's memory."""
    raw = _bytes(desc, what)
    try:
        layout.into_bytes(desc, values, raw)
    except ValueError as exc:
        raise MockError(C["ACLNN_ERR_INNER"], f"{what}: {exc}") from None
