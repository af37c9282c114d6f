"""Build the mock's shared libraries: four with cffi's embedding mode, plus the split names.

Each classic library (``libascendcl``, ``libnnopbase``, ``libhccl``,
``libopapi``) is compiled from the project's headers: its C source includes
them and defines every exported function as a small C wrapper, so the compiler
checks each definition against its header prototype. The wrapper calls the
function's Python implementation (a static ``extern "Python"`` function named
:data:`PYTHON_PREFIX` + the name, which cffi generates from the same derived
declaration) and, after it returned, raises a Ctrl-C that arrived meanwhile
(:mod:`mock_runtime.core.interrupts`). The libraries link libpython; their init
code makes the building environment's packages importable (so a C program finds
NumPy of the virtual environment the mock was built in) and registers
:mod:`mock_runtime.exports`.

The libraries of CANN's split packages (``libacl_rt``, ``libhcomm``,
``libopapi_transformer``, ``libopapi_math``, ``libopapi_nn``,
``libhccl_fwk``; :data:`aclnn_py.semantics.headers.SPLIT_LIBRARIES`) are small C
forwarders, no Python: each lists its classic library as NEEDED and exports
exactly the functions of the headers the split table gives it, each one
calling the classic library's function (looked up once, when the forwarder is
loaded). Both CANN's classic and split link lines then link and run.

Where: the first of these that holds the build or can take it:
``$ACLNN_MOCK_BUILD_DIR`` (when set, the only place tried), ``_lib`` next to
this module, ``$XDG_CACHE_HOME/aclnn-py/mock`` (default
``~/.cache/aclnn-py/mock``). When none can, :class:`MockBuildError` names
every place tried and the variable. Builds are cached in a subdirectory named
after a hash of everything the C side depends on; a build happens once, under
a file lock, into a temporary directory renamed into place.
"""
from __future__ import annotations

import contextlib
import fcntl
import io
import json
import hashlib
import os
import re
import shutil
import site
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import cffi

from aclnn_py.semantics import headers as _headers
from aclnn_py.semantics.headers import (LIBRARY_HEADERS, SPLIT_LIBRARIES, SPLIT_ONLY_LIBRARIES, Function,
                                       include_dir, load)

#: Build order: libopapi links libnnopbase (dlsym through a libopapi handle finds aclCreateTensor).
LIBRARIES = ("ascendcl", "nnopbase", "hccl", "opapi")
_LINKS = {"opapi": ("nnopbase",)}

#: The variable that chooses where the libraries are built.
BUILD_DIR_VARIABLE = "ACLNN_MOCK_BUILD_DIR"


class MockBuildError(RuntimeError):
    """The mock's libraries cannot be built (no writable place, no compiler, no libpython)."""


def split_libraries() -> dict[str, str]:
    """Every split library the mock provides, with the classic library it forwards to."""
    forwarders = dict(SPLIT_ONLY_LIBRARIES)
    for library, headers in LIBRARY_HEADERS.items():
        for header in headers:
            split = SPLIT_LIBRARIES[header]
            if split != library:
                forwarders[split] = library
    return forwarders
_HELPERS = {
    "nnopbase": (
        "int64_t *aclnn_mock_alloc_i64(size_t n);",
        "int64_t *aclnn_mock_alloc_i64(size_t n) { return (int64_t *)malloc(n * sizeof(int64_t)); }",
    ),
}

# Started from a library constructor: the interpreter's home is the one the mock was built
# with, whatever python3 comes first on the C program's PATH. Inside a Python process
# (already initialised) it does nothing; cffi then runs its init code in that interpreter.
_STARTUP = r"""
#include <Python.h>

__attribute__((constructor)) static void aclnn_py_mock_start_python(void) {
    if (Py_IsInitialized()) return;
    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    config.install_signal_handlers = 0;
    config.parse_argv = 0;
    PyStatus status = PyConfig_SetBytesString(&config, &config.home, ACLNN_PY_MOCK_HOME);
    if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) return;
    PyRun_SimpleString(ACLNN_PY_MOCK_PATHS);  /* the build environment's packages first */
    PyEval_SaveThread();  /* cffi takes the GIL per call */
}
"""

# Put the building environment's site directories (with their .pth files) first on sys.path.
_PATHS = """
import sys, site
_missing = [p for p in {site_dirs!r} if p not in sys.path]
_before = list(sys.path)
for _p in _missing:
    site.addsitedir(_p)
sys.path[:] = [p for p in sys.path if p not in _before] + _before
"""

_INIT = """
import sys
if not hasattr(sys, "argv"):
    sys.argv = ["aclnn-py-mock"]
try:
    import mock_runtime
except ImportError:
    sys.path.insert(0, {project_root!r})
from {module} import ffi, lib
from mock_runtime.exports import register
register({library!r}, ffi, lib)
"""


def _site_dirs() -> list[str]:
    dirs = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    return [d for d in dirs if os.path.isdir(d)]


def _project_root() -> str:
    return str(Path(_headers.__file__).resolve().parents[2])


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted(include_dir().rglob("*.h")):
        digest.update(str(path.relative_to(include_dir())).encode())
        digest.update(path.read_bytes())
    digest.update(Path(__file__).read_bytes())
    for part in (sys.version, sys.prefix, sys.exec_prefix, repr(_site_dirs()), _project_root(),
                 repr(LIBRARY_HEADERS), repr(SPLIT_LIBRARIES), repr(SPLIT_ONLY_LIBRARIES)):
        digest.update(part.encode())
    return digest.hexdigest()[:16]


def build_dirs() -> list[tuple[Path, str]]:
    """The places the libraries may be built, in the order tried, each with where it comes from."""
    chosen = os.environ.get(BUILD_DIR_VARIABLE, "").strip()
    if chosen:
        return [(Path(chosen).expanduser().absolute(), BUILD_DIR_VARIABLE)]
    cache = os.environ.get("XDG_CACHE_HOME", "").strip() or os.path.join(os.path.expanduser("~"), ".cache")
    return [
        (Path(__file__).resolve().parent / "_lib", "next to the mock_runtime package"),
        (Path(cache).absolute() / "aclnn-py" / "mock", "$XDG_CACHE_HOME, default ~/.cache"),
    ]


def _unwritable(root: Path) -> str | None:
    """Why the libraries cannot be built below ``root``, or None when they can."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=root):
            pass
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None


#: The Python implementation of exported function ``f`` is the static ``extern "Python"`` ``PYTHON_PREFIX + f``.
PYTHON_PREFIX = "aclnn_mock_py_"

# After each call: a SIGINT the Python side held while the calling thread was inside the mock
# is raised again now that the call returned (PyErr_SetInterrupt needs no GIL).
_RETURNING = r"""
static __thread int aclnn_mock_interrupt_pending;
static void aclnn_mock_interrupt_on_return(void) { aclnn_mock_interrupt_pending = 1; }
static void aclnn_mock_returning(void)
{
    if (aclnn_mock_interrupt_pending) {
        aclnn_mock_interrupt_pending = 0;
        PyErr_SetInterrupt();
    }
}
"""
_RETURNING_CDEF = "static void aclnn_mock_interrupt_on_return(void);"
_EXPORT = """static {python_declaration}
__attribute__((visibility("default"))) {definition}
{{
    {store}{python}({args});
    aclnn_mock_returning();{ret}
}}"""


def _python_declaration(fn: Function) -> str:
    """``fn``'s prototype, named as its Python implementation."""
    return re.sub(rf"\b{fn.name}\(", f"{PYTHON_PREFIX}{fn.name}(", fn.declaration, count=1)


def _export(fn: Function) -> str:
    """The exported C function: calls the Python implementation, then :data:`_RETURNING`."""
    void = fn.restype == "void"
    return _EXPORT.format(python_declaration=_python_declaration(fn), definition=fn.declaration.rstrip(";"),
                          store="" if void else f"{fn.restype} result = ", python=PYTHON_PREFIX + fn.name,
                          args=", ".join(fn.parameters), ret="" if void else "\n    return result;")


def _c_source(library: str) -> str:
    headers = [h for hs in LIBRARY_HEADERS.values() for h in hs]
    lines = ["#include <stdlib.h>"] + [f'#include "{h}"' for h in headers]
    if library in _HELPERS:
        lines.append(_HELPERS[library][1])
    lines.append(_RETURNING)
    lines += [_export(fn) for fn in load().library_functions(library)]
    return "\n".join(lines) + "\n"


# A split library: one wrapper per function, calling the classic library's function found at load time.
_FORWARDER = """#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
{includes}

/* lib{split}.so: forwards to lib{classic}.so (generated by mock_runtime/_build.py). */
{wrappers}

__attribute__((constructor)) static void aclnn_py_mock_forward(void)
{{
    void *lib = dlopen("lib{classic}.so", RTLD_NOW | RTLD_NOLOAD);
    if (lib == NULL) {{
        fprintf(stderr, "lib{split}.so: lib{classic}.so is not loaded: %s\\n", dlerror());
        abort();
    }}
{lookups}
}}
"""
_WRAPPER = """static __typeof__(&{name}) target_{name};
{definition}
{{
    {ret}target_{name}({args});
}}"""
_LOOKUP = """    target_{name} = (__typeof__(target_{name}))dlsym(lib, "{name}");
    if (target_{name} == NULL) {{
        fprintf(stderr, "lib{split}.so: {name} is missing from lib{classic}.so\\n");
        abort();
    }}"""


def _forwarder_source(split: str, classic: str) -> str:
    """C source of a split library: each function calls the classic library's."""
    functions = load().split_library_functions(split)
    if not functions:  # libhccl_fwk: only the NEEDED entry
        return f"/* lib{split}.so: exports none of the declared functions; needs lib{classic}.so. */\n"
    wrappers = [_WRAPPER.format(name=fn.name, definition=fn.declaration.rstrip(";"), args=", ".join(fn.parameters),
                                ret="" if fn.restype == "void" else "return ")
                for fn in functions]
    lookups = [_LOOKUP.format(name=fn.name, split=split, classic=classic) for fn in functions]
    includes = "\n".join(f'#include "{h}"' for hs in LIBRARY_HEADERS.values() for h in hs)
    return _FORWARDER.format(includes=includes, split=split, classic=classic, wrappers="\n\n".join(wrappers),
                             lookups="\n".join(lookups))


def _compile_forwarder(split: str, classic: str, out: Path, work: Path, final: Path) -> None:
    """Compile lib{split}.so into ``out``; it finds lib{classic}.so next to itself or in ``final``
    (where ``out`` is renamed to, for a forwarder reached through a symbolic link)."""
    source = work / f"forward_{split}.c"
    source.write_text(_forwarder_source(split, classic))
    command = [
        os.environ.get("CC", "gcc"), "-std=gnu11", "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror",
        f"-I{include_dir()}", str(source), "-o", str(out / f"lib{split}.so"), f"-Wl,-soname,lib{split}.so",
        f"-L{out}", "-Wl,--no-as-needed", f"-l{classic}", "-Wl,--as-needed", "-ldl", f"-Wl,-rpath,$ORIGIN:{final}",
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode:
        raise MockBuildError(f"building lib{split}.so failed:\n{' '.join(command)}\n{result.stderr}")


def _compile(library: str, out: Path, work: Path) -> None:
    decls = load()
    module = f"_aclnn_py_mock_{library}"
    builder = cffi.FFI()
    builder.cdef(decls.types_cdef)
    if library in _HELPERS:
        builder.cdef(_HELPERS[library][0])
    builder.cdef(_RETURNING_CDEF)
    builder.cdef("\n".join(f'extern "Python" static {_python_declaration(f)}' for f in decls.library_functions(library)))
    builder.set_source(module, _c_source(library))
    builder.embedding_init_code(
        _INIT.format(project_root=_project_root(), module=module, library=library)
    )
    source = work / f"{module}.c"
    startup = work / "startup.c"
    startup.write_text(_STARTUP)
    with contextlib.redirect_stdout(io.StringIO()):  # cffi announces "generating ..."
        builder.emit_c_code(str(source))
    libdir = sysconfig.get_config_var("LIBDIR")
    pyver = sysconfig.get_config_var("LDVERSION") or sysconfig.get_config_var("VERSION")
    command = [
        os.environ.get("CC", "gcc"), "-shared", "-fPIC", "-O2", "-w",
        f"-I{sysconfig.get_paths()['include']}", f"-I{include_dir()}",
        f"-DACLNN_PY_MOCK_HOME={json.dumps(sys.base_prefix)}",
        f"-DACLNN_PY_MOCK_PATHS={json.dumps(_PATHS.format(site_dirs=_site_dirs()))}",
        str(source), str(startup), "-o", str(out / f"lib{library}.so"), f"-Wl,-soname,lib{library}.so",
        f"-L{libdir}", f"-lpython{pyver}", f"-Wl,-rpath,{libdir}",
    ]
    for dep in _LINKS.get(library, ()):
        command += [f"-L{out}", f"-l{dep}", "-Wl,-rpath,$ORIGIN"]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode:
        raise MockBuildError(f"building lib{library}.so failed:\n{' '.join(command)}\n{result.stderr}")


def build(force: bool = False) -> Path:
    """Build the libraries if needed; return the directory holding them."""
    if not sysconfig.get_config_var("Py_ENABLE_SHARED"):
        raise MockBuildError(
            "the mock runtime embeds Python and needs a Python built with --enable-shared "
            f"(libpython); {sys.executable} has none"
        )
    fingerprint, tried = _fingerprint(), []
    for root, origin in build_dirs():
        if (root / fingerprint).is_dir() and not force:
            return root / fingerprint
        problem = _unwritable(root)
        if problem is None:
            return _build_into(root, root / fingerprint, force)
        tried.append(f"{root} ({origin}): {problem}")
    raise MockBuildError(
        "cannot build the aclnn-py mock runtime: no writable directory for its libraries. Tried:\n  "
        + "\n  ".join(tried)
        + f"\nSet {BUILD_DIR_VARIABLE} to a writable directory."
    )


def _build_into(root: Path, target: Path, force: bool) -> Path:
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.is_dir() and not force:
            return target
        with tempfile.TemporaryDirectory(dir=root) as tmp:
            out = Path(tmp) / "lib"
            out.mkdir()
            for library in LIBRARIES:
                _compile(library, out, Path(tmp))
            for split, classic in split_libraries().items():
                _compile_forwarder(split, classic, out, Path(tmp), target)
            if target.exists():
                shutil.rmtree(target)
            out.rename(target)
    return target
