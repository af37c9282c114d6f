"""Compiler and linker flags for C/C++ programs against the headers and the mock's libraries.

What C build systems expect, in one call each (``python -m mock_runtime cflags``, ``libs``,
``pc``): the include directory of CANN's headers (:func:`cflags`), the library directory with
CANN's classic link line (:func:`libs`), and both as a pkg-config file named ``aclnn-mock``
(:func:`pc_file`). The link line names the four classic libraries, as CANN's samples do
(``-lascendcl -lnnopbase -lhccl -lopapi``); a program that starts threads adds ``-lpthread``.

The libraries' directory is also recorded as the program's run path (``-Wl,--enable-new-dtags,
-rpath``, a DT_RUNPATH): the program runs on the mock without ``LD_LIBRARY_PATH``, and
``LD_LIBRARY_PATH`` pointing at a CANN ``lib64`` still takes precedence over it, so the same
binary runs on an Ascend host. A rebuilt mock lives in another directory: link again (or set
``LD_LIBRARY_PATH=$(python -m mock_runtime libdir)``).

Paths are printed as they are (no quoting): like ``python3-config``, the flags are meant for
``$(...)`` in a shell or a Makefile, which split on spaces.
"""
from __future__ import annotations

from importlib import metadata
from pathlib import Path

from aclnn_py.semantics.headers import LIBRARY_HEADERS, include_dir

__all__ = ["PACKAGE", "cflags", "libs", "pc_file"]

#: The pkg-config name (``pkg-config --cflags --libs aclnn-mock``).
PACKAGE = "aclnn-mock"


def cflags() -> str:
    """``-I<headers>``: CANN's include paths (``acl/acl.h``, ``aclnnop/...``, ``hccl/hccl.h``)."""
    return f"-I{include_dir()}"


def libs(libdir: Path | str) -> str:
    """``-L<libdir>``, the run path and CANN's classic link line."""
    names = " ".join(f"-l{name}" for name in LIBRARY_HEADERS)
    return f"-L{libdir} -Wl,--enable-new-dtags,-rpath,{libdir} {names}"


def _version() -> str:
    try:
        return metadata.version("aclnn-py")
    except metadata.PackageNotFoundError:  # run from a checkout that pip never installed
        return "0"


def pc_file(libdir: Path) -> str:
    """The text of ``aclnn-mock.pc`` (save it in a directory of ``PKG_CONFIG_PATH``)."""
    return (f"includedir={include_dir()}\n"
            f"libdir={libdir}\n\n"
            f"Name: {PACKAGE}\n"
            "Description: CANN's headers (acl, aclnn, aclnnop, hccl) and aclnn-py's mock of CANN's runtime "
            "libraries\n"
            f"Version: {_version()}\n"
            "Cflags: -I${includedir}\n"
            f"Libs: {libs('${libdir}')}\n")
