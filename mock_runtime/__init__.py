"""A mock of CANN's runtime: libascendcl, libnnopbase, libopapi and libhccl in NumPy.

The libraries export CANN's symbols with CANN's C ABI (derived from the
project's ``include/`` headers) so Python code and compiled C/C++ programs run
unchanged without an Ascend NPU. ``python -m mock_runtime libdir`` builds
them when needed and prints their directory.
"""
from __future__ import annotations

from pathlib import Path

LIBRARY_NAMES = ("libascendcl.so", "libnnopbase.so", "libopapi.so", "libhccl.so")


def libdir(rebuild: bool = False) -> Path:
    """Directory of the four mock libraries, built on first use."""
    from ._build import build

    return build(force=rebuild)


def include_dir() -> Path:
    """Directory of the CANN-compatible headers to compile C programs with."""
    from aclnn_py._cdef import include_dir as headers

    return headers()
