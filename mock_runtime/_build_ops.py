"""What the mock's build takes from its operator catalogue (:mod:`mock_runtime.catalogue`).

* ``libopapi.so`` exports the project's operators: their prototypes (the headers'
  declarations) go to cffi's ``embedding_api``, their headers into the C source, so the
  compiler checks one against the other; each split library (``libopapi_math.so``...) is a
  forwarder exporting the operators whose rules name it;
* ``libcust_opapi.so`` exports the extension operators of ``ACLNN_MOCK_OPERATORS``
  (:mod:`mock_runtime.extensions`), compiled with their headers' directories on the include
  path; their headers are copied to ``<library directory>/include`` for the binding and for
  C programs;
* the build's fingerprint covers each extension's path and headers.
"""
from __future__ import annotations

import functools
import hashlib
import shutil
from pathlib import Path

from aclnn_py.semantics.headers import SPLIT_OPERATOR_LIBRARIES, Function
from mock_runtime import catalogue, extensions

__all__ = ["copy_headers", "exported", "fingerprint", "include_dirs", "includes", "libraries", "split_forwarders",
           "split_functions"]

EXTENSION = extensions.LIBRARY


@functools.lru_cache(maxsize=None)
def _operators(library: str, loaded: tuple[extensions.Extension, ...] = ()) -> list[catalogue.MockOperator]:
    return catalogue.operators(library, loaded)


def _functions(operators: list[catalogue.MockOperator], library: str) -> list[Function]:
    return [Function(proto.name, library, proto.restype, proto.declaration, str(op.header))
            for op in operators for proto in op.prototypes]


def libraries() -> tuple[str, ...]:
    """The operator libraries to build: libopapi, and libcust_opapi when extensions are configured."""
    return (catalogue.CLASSIC, EXTENSION) if extensions.configured() else (catalogue.CLASSIC,)


def exported(library: str) -> list[Function]:
    """The functions an operator library exports."""
    loaded = tuple(extensions.configured()) if library == EXTENSION else ()
    return _functions(_operators(library, loaded), library)


def includes(library: str) -> list[str]:
    """The operator headers the C source of ``library`` includes (after the runtime's)."""
    if library not in libraries():
        return []
    loaded = tuple(extensions.configured()) if library == EXTENSION else ()
    headers = dict.fromkeys(op.header for op in _operators(library, loaded))
    if library == catalogue.CLASSIC:
        return [f"aclnnop/{h.name}" for h in headers]
    return [h.name for h in headers]


def include_dirs(library: str) -> list[Path]:
    """Extra include directories of ``library`` (the extensions' header directories)."""
    return [ext.headers for ext in extensions.configured()] if library == EXTENSION else []


def init_arguments(library: str) -> list[str]:
    """The extension package directories ``libcust_opapi``'s init code loads (none for the others)."""
    return [str(ext.path) for ext in extensions.configured()] if library == EXTENSION else []


def split_forwarders() -> dict[str, str]:
    """Each of CANN's split operator libraries, forwarding to libopapi (every one, even with no
    operator: their names alone, so that finding an existing build imports no operator module)."""
    return {split: catalogue.CLASSIC for split in SPLIT_OPERATOR_LIBRARIES}


def split_functions(split: str) -> list[Function]:
    """The functions a split operator library exports (those whose rules name it)."""
    return _functions(catalogue.split_libraries(_operators(catalogue.CLASSIC))[split], split)


def fingerprint() -> bytes:
    """What the build depends on besides the project's headers: the extensions' paths and headers."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for ext in extensions.configured():
        digest.update(str(ext.path).encode())
        for header in sorted(ext.headers.glob("*.h")):
            digest.update(header.name.encode() + header.read_bytes())
    return digest.digest()


def copy_headers(out: Path) -> None:
    """Copy the extension operators' headers to ``out/include`` (what the binding and C programs read)."""
    loaded = extensions.configured()
    if not loaded:
        return
    target = out / "include"
    target.mkdir()
    for ext in loaded:
        for header in sorted(ext.headers.glob("*.h")):
            shutil.copy2(header, target / header.name)
