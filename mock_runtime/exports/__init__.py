"""The C entry points of the four mock libraries, registered with cffi's ``def_extern``.

Each submodule implements the functions one library exports, named as in C and
taking the raw cffi arguments; its ``ffi``/``lib`` globals are that library's
cffi objects, set at registration. :func:`register` wraps every one of them so a
failure becomes the documented status code plus a thread-local message read
by ``aclGetRecentErrMsg``, never a crash. An unexpected Python exception is a bug
of the mock: it still returns the library's internal-error code, but the message
names the exception and where it was raised, and the traceback goes to stderr.
A call made while the same thread is inside the mock (a finalizer run by a
garbage collection) is deferred, see :mod:`mock_runtime.core.reentry`. Ctrl-C
on the host's main thread takes effect when the call has returned, see
:mod:`mock_runtime.core.interrupts`.

The libraries' exported functions are C wrappers (``mock_runtime._build``) around
the Python implementation registered here as ``PYTHON_PREFIX`` + the function's name.
"""
from __future__ import annotations

import importlib
import sys
import traceback
from typing import Any, Callable

from pathlib import Path

from aclnn_py.semantics.headers import Function, load
from mock_runtime import catalogue
from mock_runtime.core import interrupts, reentry
from mock_runtime._build import PYTHON_PREFIX
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


def _failure(fn: Function, ffi: Any) -> Callable[[int], Any]:
    """What ``fn`` returns when it fails with a status code."""
    if fn.returns_status:
        return lambda code: code
    if fn.restype.endswith("*"):
        return lambda code: ffi.NULL
    return lambda code: 0


def _wrap(fn: Function, impl: Callable[..., Any], ffi: Any, lib: Any, internal: int) -> Callable[..., Any]:
    failed = _failure(fn, ffi)

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
        main = interrupts.enter()
        try:
            with reentry.inside():
                return call(*args)
        finally:
            if main:
                interrupts.leave(lib.aclnn_mock_interrupt_on_return)

    entry.__name__ = fn.name
    return entry


def interrupted(fn: Function, ffi: Any, lib: Any, internal: int) -> Callable[..., Any]:
    """cffi's ``onerror`` of ``fn``: an exception got past :func:`_wrap`'s entry point. A
    KeyboardInterrupt raised before the call began (:mod:`mock_runtime.core.interrupts`) is
    raised again after the return and the call, which did nothing, fails; anything else is a
    bug of the mock, reported as such."""
    failed = _failure(fn, ffi)

    def onerror(exc_type: type, exc: BaseException, tb: Any) -> Any:
        if issubclass(exc_type, KeyboardInterrupt):
            set_recent(f"{fn.name}: interrupted (KeyboardInterrupt) before it ran")
            lib.aclnn_mock_interrupt_on_return()
        else:
            set_recent(f"{fn.name}: internal error in the mock runtime (a bug in the mock, please report it): "
                       f"{exc!r}")
            traceback.print_exception(exc_type, exc, tb, file=sys.stderr)
        return failed(internal)

    return onerror


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
    internal = INTERNAL_ERROR[library]
    for fn, impl in found:
        ffi.def_extern(name=PYTHON_PREFIX + fn.name, onerror=interrupted(fn, ffi, lib, internal))(
            _wrap(fn, impl, ffi, lib, internal))


def _operator_functions(library: str, paths: list[str]) -> list[tuple[Function, Callable[..., Any]]]:
    """The C functions of the catalogue's operators of ``library`` with their entry points."""
    from mock_runtime.exports.opapi import entries

    loaded = [Extension(Path(p)) for p in paths]
    operators = catalogue.operators(library, loaded)
    found = entries(operators)
    return [(Function(proto.name, library, proto.restype, proto.declaration, str(op.header)), found[proto.name])
            for op in operators for proto in op.prototypes]
