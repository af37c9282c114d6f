"""The operator headers the binding reads, and the operator functions declared from them on first use.

Directories, in order of precedence (the first that declares a function wins; a different
declaration further down is reported as shadowed by ``aclnn-py ops``):

1. the project's ``include/aclnnop`` (the operators whose rules the pure layer holds);
2. each directory of ``ACLNN_PY_INCLUDE`` (``os.pathsep``-separated, absolute paths only: a
   relative entry is ignored with a warning, never looked up from the current directory) --
   a custom operator package's ``op_api/include``, or any directory of CANN-style headers;
3. the backend's: on CANN ``<library directory>/../include/aclnnop`` (``$ASCEND_HOME_PATH/
   include/aclnnop``, where CANN 8.5/9.x's split ops packages install their headers too);
   on the mock ``<library directory>/include`` (its extension operators' headers).

Libraries: a directory of ``ACLNN_PY_INCLUDE`` laid out as a CANN custom operator package
(``<vendor>/op_api/include`` next to ``<vendor>/op_api/lib/libcust_opapi.so``: ops-math
``cmake/variables.cmake``, ``ACLNN_INC_INSTALL_DIR``/``ACLNN_LIB_INSTALL_DIR`` of a custom
build) brings its library, loaded with the backend's operator libraries; the mock's extension
operators are its ``libcust_opapi.so``.

Cost: nothing at import. The first operator looked up lists the directories and searches each
header's text for ``aclnn...(`` names (a few milliseconds for the project's headers, about
0.1 s for a CANN toolkit's thousand), then reads the one header declaring it (about 3 ms) and
declares its prototype to cffi (about 1 ms). Later look-ups of that function cost nothing.
"""
from __future__ import annotations

import functools
import logging
import os
import threading
from pathlib import Path

from ._ffi import ffi
from .errors import SymbolNotFoundError
from .semantics import catalogue
from .semantics.catalogue import Declaration, HeaderIndex
from .semantics.operator_headers import Prototype

log = logging.getLogger("aclnn_py")

VARIABLE = "ACLNN_PY_INCLUDE"
CUSTOM_LIBRARY = "libcust_opapi.so"


@functools.lru_cache(maxsize=None)
def include_dirs() -> tuple[tuple[Path, str], ...]:
    """The directories of ``ACLNN_PY_INCLUDE`` (read once), each with its origin; relative entries
    are ignored with a warning."""
    found = []
    for entry in os.environ.get(VARIABLE, "").split(os.pathsep):
        entry = entry.strip()
        if not entry:
            continue
        if not os.path.isabs(entry):
            log.warning("aclnn-py: %s entry %r ignored: not an absolute path", VARIABLE, entry)
            continue
        found.append((Path(entry), VARIABLE))
    return tuple(found)


def custom_libraries() -> list[Path]:
    """``libcust_opapi.so`` of each ``ACLNN_PY_INCLUDE`` directory laid out as a CANN custom package."""
    libraries = []
    for directory, _ in include_dirs():
        candidate = directory.parent / "lib" / CUSTOM_LIBRARY
        if directory.name == "include" and candidate.is_file():
            libraries.append(candidate)
    return libraries


def backend_dirs(backend: str, directory: Path) -> list[tuple[Path, str]]:
    """The operator headers of a backend whose libraries are in ``directory``."""
    if backend == "mock":
        return [(directory / "include", "mock extension operators")]
    return [(directory.parent / "include" / "aclnnop", "CANN toolkit")]


@functools.lru_cache(maxsize=None)
def _index(backend: tuple[tuple[Path, str], ...]) -> HeaderIndex:
    return HeaderIndex([(catalogue.project_operator_dir(), "aclnn-py"), *include_dirs(), *backend])


def index(backend: list[tuple[Path, str]] | None = None) -> HeaderIndex:
    """The index of the project's, ``ACLNN_PY_INCLUDE``'s and ``backend``'s headers (one per set)."""
    return _index(tuple(backend or ()))


_lock = threading.Lock()
_declared: dict[str, Prototype] = {}
_types: set[str] = set()


def declare(name: str, headers: HeaderIndex) -> Prototype:
    """Declare ``name`` to the FFI from its header (once); :class:`SymbolNotFoundError` saying why
    when no header declares it for C."""
    proto = _declared.get(name)
    if proto is not None:
        return proto
    found = headers.find(name)
    if found is None or not found.declared:
        raise SymbolNotFoundError(not_declared(name, found, headers))
    with _lock:
        proto = _declared.get(name)
        if proto is None:
            proto = found.prototype
            text = "\n".join(t for t in proto.types if t not in _types)
            try:
                ffi.cdef(f"{text}\n{proto.declaration}")
            except Exception as exc:  # cffi's parser refused it: a fact about that header
                raise SymbolNotFoundError(f"{name} ({found.header}) cannot be declared to cffi: {exc}") from None
            _types.update(proto.types)
            _declared[name] = proto
    return proto


def not_declared(name: str, found: Declaration | None, headers: HeaderIndex) -> str:
    """Why ``name`` cannot be called: refused by its header, or declared by none of the directories."""
    if found is not None:
        return f"{name} cannot be declared from {found.header}: {found.reason}"
    places = ", ".join(str(d) for d, _ in headers.directories)
    return (f"{name} is declared by no operator header read by aclnn-py ({places}); add its header's "
            f"directory to {VARIABLE}")
