"""aclnn-py: Python binding to CANN's aclnn operators, ACL runtime and HCCL.

Layers, from the bottom:

* ``aclnn_py.ffi`` / ``aclnn_py.lib``: the raw C API, 1:1 (for line-by-line
  ports of CANN's C samples). Loading happens on first use of ``lib``.
* resources that free themselves: :class:`Runtime`, :class:`Device`,
  :class:`Context`, :class:`Stream`, :class:`Event`, :class:`DeviceBuffer`,
  :class:`Tensor`, :class:`TensorList`, :class:`IntArray`, :class:`Scalar`,
  :class:`ScalarList`, :class:`FloatArray`, :class:`BoolArray`, and the HCCL
  communicators of :mod:`aclnn_py.hccl`;
* one function and one plan per operator in :mod:`aclnn_py.ops` (any operator a
  header declares: ``ops.<name>``, ``ops.call``; docs/operators.md);
* the pure layer :mod:`aclnn_py.semantics` (headers parsed, dtypes, codecs,
  layouts, each operator's rules and NumPy golden reference): no runtime
  needed, shared with the mock.

Importing the package loads no library, builds no FFI and imports none of its modules
(not even NumPy): each name is imported on first use, so a program (or a pytest session,
which loads the testing plugin) that does not use aclnn-py does not pay for it.
"""
from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_ERRORS = ("StatusError", "ArgumentError", "AclError", "AclnnError", "AclnnParamError", "AclnnRuntimeError",
           "AclnnInternalError", "RankCountError", "ClosedResourceError", "HcclError", "LibraryNotFoundError",
           "SymbolNotFoundError")
_LAZY = {
    "ffi": "_ffi",
    "Runtime": "runtime", "Device": "runtime", "Context": "runtime", "Stream": "runtime", "Event": "runtime",
    "DeviceBuffer": "memory", "Tensor": "tensor", "TensorList": "tensor", "IntArray": "tensor",
    "DataType": "semantics.dtypes", "Format": "semantics.dtypes", **{name: "errors" for name in _ERRORS},
    "Scalar": "host_values", "ScalarList": "host_values", "FloatArray": "host_values", "BoolArray": "host_values",
}


def backend() -> str:
    """``"cann"`` or ``"mock"``: the backend loaded (loading it if needed)."""
    from ._loader import library

    return library().backend


def __getattr__(name: str) -> Any:
    if name == "lib":
        from ._loader import library

        return library()
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'aclnn_py' has no attribute {name!r}")


__all__ = ["lib", "backend", *_LAZY]
