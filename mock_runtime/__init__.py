"""A mock of CANN's runtime: libascendcl, libnnopbase, libopapi and libhccl in NumPy.

The libraries export CANN's symbols with CANN's C ABI (derived from the
project's ``include/`` headers) so Python code and compiled C/C++ programs run
unchanged without an Ascend NPU. The same directory holds the libraries of
CANN's split packages (libacl_rt, libhcomm, libhccl_fwk, libopapi_transformer,
libopapi_math, libopapi_nn, libopapi_cv), small forwarders to the four, and
libcust_opapi with the extension operators of ``ACLNN_MOCK_OPERATORS``
(:mod:`mock_runtime.extensions`). ``python -m mock_runtime libdir`` builds them
when needed (where, and the rules a build directory follows:
:mod:`mock_runtime._build_dirs`, docs/mock-build.md) and prints their directory;
``python -m mock_runtime operators`` prints the operator catalogue
(:mod:`mock_runtime.catalogue`).
"""
from __future__ import annotations

from pathlib import Path


def libdir(rebuild: bool = False) -> Path:
    """Directory of the mock libraries, built on first use (MockBuildError when it cannot be)."""
    from mock_runtime._build import build

    return build(force=rebuild)


def include_dir() -> Path:
    """Directory of the CANN-compatible headers to compile C programs with."""
    from aclnn_py.semantics.headers import include_dir as headers

    return headers()
