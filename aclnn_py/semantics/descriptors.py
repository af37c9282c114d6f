"""Tensor descriptors: what an aclTensor says about its memory, as plain data.

Shared by the binding (to check arguments before calling C), the mock runtime
(which keeps one per aclTensor) and the operator rules, so the three agree.
Pure Python: importing this module loads no library.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping

from .headers import load
from .status import INVALID, Violation

_K = load().constants
ND = _K["ACL_FORMAT_ND"]
FRACTAL_NZ = _K["ACL_FORMAT_FRACTAL_NZ"]
#: The formats opbase calls private (hicann/opbase src/nnopbase/common/utils/format_utils.cpp,
#: ``op::IsPrivateFormat``): an operator that takes ND data refuses them, whatever the storage shape.
PRIVATE_FORMATS = frozenset(_K[name] for name in (
    "ACL_FORMAT_NC1HWC0", "ACL_FORMAT_FRACTAL_Z", "ACL_FORMAT_NDC1HWC0", "ACL_FRACTAL_Z_3D", "ACL_FORMAT_FRACTAL_NZ",
    "ACL_FORMAT_NC1HWC0_C04", "ACL_FORMAT_FRACTAL_NZ_C0_16", "ACL_FORMAT_FRACTAL_NZ_C0_32",
    "ACL_FORMAT_FRACTAL_NZ_C0_2", "ACL_FORMAT_FRACTAL_NZ_C0_4", "ACL_FORMAT_FRACTAL_NZ_C0_8"))


def shape_text(shape) -> str:
    """A shape as messages print it: ``[2, 3]``."""
    return "[" + ", ".join(str(d) for d in shape) + "]"


def contiguous_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Row-major strides, in elements."""
    strides, step = [], 1
    for dim in reversed(shape):
        strides.append(step)
        step *= max(dim, 1)
    return tuple(reversed(strides))


@dataclass(frozen=True, slots=True, init=False)
class TensorDesc:
    """The arguments of one aclCreateTensor call (dims, strides and offset in elements)."""

    shape: tuple[int, ...]
    dtype: int
    strides: tuple[int, ...]
    offset: int
    format: int
    storage_shape: tuple[int, ...]
    address: int

    def __init__(self, shape: tuple[int, ...], dtype: int, strides: tuple[int, ...], offset: int = 0,
                 format: int = ND, storage_shape: tuple[int, ...] = (), address: int = 0) -> None:
        # The slots' own setters: what the generated frozen __init__ does with seven
        # object.__setattr__ calls, in half the time (the binding and the mock make one
        # descriptor per aclTensor).
        _set_shape(self, shape)
        _set_dtype(self, dtype)
        _set_strides(self, strides)
        _set_offset(self, offset)
        _set_format(self, format)
        _set_storage_shape(self, storage_shape)
        _set_address(self, address)

    @classmethod
    def contiguous(cls, shape, dtype: int, address: int = 0, format: int = ND) -> "TensorDesc":
        shape = tuple(int(d) for d in shape)
        return cls(shape, dtype, contiguous_strides(shape), 0, format, shape, address)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def numel(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def is_private_format(self) -> bool:
        """A private (hardware-tiled) format, whatever the storage shape says (:data:`PRIVATE_FORMATS`)."""
        return self.format in PRIVATE_FORMATS

    @property
    def is_nz(self) -> bool:
        """FRACTAL_NZ storage, as MatmulAllReduceV4 and GroupedMatmul detect it (4+ storage dims)."""
        return self.format == FRACTAL_NZ and len(self.storage_shape) >= 4

    def is_contiguous(self) -> bool:
        """Row-major over the view; the stride of a size-1 dim is never used and may be anything."""
        if len(self.strides) != len(self.shape):
            return False
        if self.numel <= 1:
            return True
        expect = contiguous_strides(self.shape)
        return self.strides == expect or all(d == 1 or s == e for d, s, e in zip(self.shape, self.strides, expect))

    def is_transposed(self) -> bool:
        """The last two dims are swapped relative to a contiguous layout (and nothing else)."""
        if self.ndim < 2 or self.is_nz:
            return False
        swapped = self.shape[:-2] + (self.shape[-1], self.shape[-2])
        expect = list(contiguous_strides(swapped))
        expect[-2], expect[-1] = expect[-1], expect[-2]
        return self.strides == tuple(expect) and not self.is_contiguous()

    def with_address(self, address: int) -> "TensorDesc":
        return replace(self, address=address)


def negative_extent(desc: TensorDesc) -> str | None:
    """What places a descriptor's elements nowhere (a negative view or storage dimension, a
    negative offset), or None.

    CANN's aclCreateTensor stores such values as given (hicann/opbase
    src/nnopbase/common/api/acl_op_api.cpp ``aclCreateTensor``, the ``aclTensor`` constructor of
    src/nnopbase/common/utils/common_types.cpp); the operator that receives the tensor refuses
    it at GetWorkspaceSize (:func:`refuse_negative_extents`).
    """
    if any(d < 0 for d in desc.shape):
        return f"view shape {shape_text(desc.shape)} has a negative dimension"
    if any(d < 0 for d in desc.storage_shape):
        return f"storage shape {shape_text(desc.storage_shape)} has a negative dimension"
    if desc.offset < 0:
        return f"offset {desc.offset} is negative"
    return None


def refuse_negative_extents(function: str, tensors: Mapping[str, object]) -> None:
    """161002 naming the first tensor (a TensorDesc, a list of them or None, by parameter name)
    with a :func:`negative_extent`: the first check of every operator's rules after the null
    pointers, so no rule ever computes with a negative extent."""
    for what, value in tensors.items():
        members = [(what, value)] if not isinstance(value, (list, tuple)) else [
            (f"{what}[{i}]", d) for i, d in enumerate(value)]
        for name, desc in members:
            problem = None if desc is None else negative_extent(desc)  # type: ignore[arg-type]
            if problem:
                raise Violation(INVALID, function, f"{name} {problem}")


(_set_shape, _set_dtype, _set_strides, _set_offset, _set_format, _set_storage_shape, _set_address) = (
    vars(TensorDesc)[name].__set__
    for name in ("shape", "dtype", "strides", "offset", "format", "storage_shape", "address"))
