"""The cffi FFI, declared from the headers in ``include/`` (ABI mode: no compiler needed)."""
from __future__ import annotations

import cffi

from .semantics.headers import load

ffi = cffi.FFI()
ffi.cdef(load().cdef)
