"""The C entry points of the four mock libraries, registered with cffi's ``def_extern``.

Each submodule implements the functions one library exports, named as in C and
taking the raw cffi arguments; its ``ffi``/``lib`` globals are that library's
cffi objects, set at registration. :func:`register` wraps every one of them so a
failure becomes the documented status code plus a thread-local message read
by ``aclGetRecentErrMsg``, never a crash. An unexpected Python exception is a bug
of the mock: it still returns the library's internal-error code, but the message
names the exception and where it was raised, and the traceback goes to stderr.
A call made while the same thread is inside the mock (a finalizer run by a
garbage collection) is deferred, see :mod:`mock_runtime.core.reentry`.
"""
from __future__ import annotations

import importlib
import sys
import traceback
from typing import Any, Callable

from pathlib import Path

from aclnn_py.semantics.headers import Function, load
from mock_runtime import catalogue
from mock_runtime.core import reentry
from mock_runtime.core.errors import C, MockError, set_recent
from mock_runtime.extensions import LIBRARY as EXTENSION_LIBRARY, Extension

#: Status returned when the mock itself fails unexpectedly.
INTERNAL_ERROR = {
    "ascendcl": C["ACL_ERROR_INTERNAL_ERROR"],
    "nnopbase": C["ACLNN_ERR_INNER"],
    "opapi": C["ACLNN_ERR_INNER"],
    "cust_opapi": C["ACLNN_ERR_INNER"],
    "hccl": C["HCCL_E_INTERNAL"],
}


def _wrap(fn: Function, impl: Callable[..., Any], ffi: Any, internal: int) -> Callable[..., Any]:
    if fn.returns_status:
        failed: Callable[[int], Any] = lambda code: code
    elif fn.restype.endswith("*"):
        failed = lambda code: ffi.NULL
    else:
        failed = lambda code: 0

    def call(*args: Any) -> Any:
        try:
            result = impl(*args)
        except MockError as exc:
            set_recent(exc.message)
            return failed(exc.code)
        except Exception as exc:  # never let an exception reach C, never hide a bug
            set_recent(f"{fn.name}: internal error in the mock runtime (a bug in the mock, please report "
                       f"it): {exc!r} at {_origin(exc)}")
            traceback.print_exc(file=sys.stderr)
            return failed(internal)
        if result is None:
            return 0 if fn.returns_status else ffi.NULL
        return result

    def entry(*args: Any) -> Any:
        if fn.returns_status and reentry.active():  # a finalizer run by a collection inside the mock
            reentry.defer(lambda: call(*args))
            return 0
        with reentry.inside():
            return call(*args)

    entry.__name__ = fn.name
    return entry


def _origin(exc: BaseException) -> str:
    """``file:line in function`` of the innermost frame that raised ``exc``."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "<unknown>"
    last = frames[-1]
    return f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno} in {last.name}"


def register(library: str, ffi: Any, lib: Any, extensions: list[str] = ()) -> None:
    """Attach the Python implementation of every function ``library`` exports (``extensions``: the
    directories of the extension packages ``libcust_opapi`` exports the operators of)."""
    if library in (catalogue.CLASSIC, EXTENSION_LIBRARY):
        found = _operator_functions(library, extensions)
        module = importlib.import_module(f"{__name__}.opapi")
    else:
        module = importlib.import_module(f"{__name__}.{library}")
        found = [(fn, getattr(module, fn.name)) for fn in load().library_functions(library)]
    module.ffi, module.lib = ffi, lib  # the library's own cffi objects, for casts and helpers
    for fn, impl in found:
        ffi.def_extern(name=fn.name)(_wrap(fn, impl, ffi, INTERNAL_ERROR[library]))


def _operator_functions(library: str, paths: list[str]) -> list[tuple[Function, Callable[..., Any]]]:
    """The C functions of the catalogue's operators of ``library`` with their entry points."""
    from mock_runtime.exports.opapi import entries

    loaded = [Extension(Path(p)) for p in paths]
    operators = catalogue.operators(library, loaded)
    found = entries(operators)
    return [(Function(proto.name, library, proto.restype, proto.declaration, str(op.header)), found[proto.name])
            for op in operators for proto in op.prototypes]
