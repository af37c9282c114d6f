"""Validated call signatures: an operator's argument rules run once per distinct call signature.

The rules of :mod:`aclnn_py.semantics` are deterministic functions of what they are
given: per tensor its shape, dtype, strides, offset, format and storage shape
(never its data address: no rule reads it), plus the attributes, the SoC
profile and the group size. A call whose signature -- all of those -- passed
the rules once passes them again with the same result, so the binding keeps
the accepted signatures (:data:`ACCEPTED`, bounded; only accepted calls: a
rejected one is checked again and fails with its own message) and skips the
rules for a call it has seen. ``tests/test_signatures.py`` checks the
memoised outcome against the rules run from scratch over many random calls.

A tensor's part of the key is its memoised layout object
(:attr:`aclnn_py.tensor.Tensor._layout`: one object per layout, so identity
is equality) or, for a descriptor without one, the tuple of those six fields.
"""
from __future__ import annotations

from typing import Any, Hashable

from .._memo import BoundedMemo
from ..semantics.descriptors import TensorDesc

__all__ = ["ACCEPTED", "desc_key", "tensor_key"]

#: Signatures the rules accepted -> what the rules returned for them.
ACCEPTED = BoundedMemo(2048)


def desc_key(desc: TensorDesc | None) -> Hashable:
    """What the rules read from a descriptor (None for an absent tensor)."""
    if desc is None:
        return None
    return desc.shape, desc.dtype, desc.strides, desc.offset, desc.format, desc.storage_shape


def tensor_key(tensor: Any) -> Hashable:
    """:func:`desc_key` of a Tensor's descriptor, as its memoised layout object when it has one."""
    if tensor is None:
        return None
    layout = tensor._layout
    return desc_key(tensor.desc) if layout is None else layout
