"""Build the mock's shared libraries: four with cffi's embedding mode, plus the split names.

(The operator libraries' parts -- libopapi's operators, their split forwarders, the extension
operators' libcust_opapi -- come from the operator catalogue: :mod:`mock_runtime._build_ops`.)

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

Where: :mod:`mock_runtime._build_dirs` (``$ACLNN_MOCK_BUILD_DIR``, else a source
checkout's ``mock_runtime/_lib``, else ``$XDG_CACHE_HOME/aclnn-py/mock``; never an
installed package's directory), with the rules a build directory must satisfy. Builds
are kept in a subdirectory named after a hash of everything the C side depends on; a
build happens once, under the root's lock, into a private temporary directory renamed
into place, after which old builds are pruned. The compiler is ``$CC`` (default
``gcc``); C++ is never compiled, so ``CXX`` is not used.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shlex
import shutil
import site
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import cffi

from aclnn_py.semantics import headers as _headers
from aclnn_py.semantics.code_places import MOCK_IMPORTS, import_roots
from aclnn_py.semantics.headers import (LIBRARY_HEADERS, SPLIT_LIBRARIES, SPLIT_ONLY_LIBRARIES, Function,
                                       include_dir, load)
from mock_runtime import _build_ops

from ._build_dirs import (BUILD_DIR_VARIABLE, PARTIAL_PREFIX, MockBuildError, Refused, build_dirs, build_problem,
                          locked, make_private, mark_used, prune, user_cache)

#: Build order: libopapi links libnnopbase (dlsym through a libopapi handle finds aclCreateTensor).
LIBRARIES = ("ascendcl", "nnopbase", "hccl", "opapi")
_LINKS = {"opapi": ("nnopbase",), "cust_opapi": ("nnopbase",)}

def split_libraries() -> dict[str, str]:
    """Every split library the mock provides, with the classic library it forwards to."""
    forwarders = dict(SPLIT_ONLY_LIBRARIES)
    for library, headers in LIBRARY_HEADERS.items():
        for header in headers:
            split = SPLIT_LIBRARIES[header]
            if split != library:
                forwarders[split] = library
    forwarders.update(_build_ops.split_forwarders())
    return forwarders
#: The operator libraries' (static) allocation of the arrays a single function hands its caller to free
#: (aclnnNpuFormatCastCalculateSizeAndFormat's dstShape): malloc, which the caller's free (or a C++
#: delete[] of a trivial type, as CANN's samples write it) releases.
_OPERATOR_ALLOC = (
    "static void *aclnn_mock_op_alloc(size_t n);",
    "static void *aclnn_mock_op_alloc(size_t n) { return malloc(n ? n : 1); }",
)
_HELPERS = {
    "nnopbase": (
        "int64_t *aclnn_mock_alloc_i64(size_t n);",
        "int64_t *aclnn_mock_alloc_i64(size_t n) { return (int64_t *)malloc(n * sizeof(int64_t)); }",
    ),
    "opapi": _OPERATOR_ALLOC,
    "cust_opapi": _OPERATOR_ALLOC,
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

# The project's packages come from where the mock was built, whatever else is on sys.path (a
# C program's interpreter, or a Python process started in a directory holding a package of that
# name): imported from there when not yet imported, refused when imported from elsewhere.
_INIT = """
import sys
if not hasattr(sys, "argv"):
    sys.argv = ["aclnn-py-mock"]

def _from_project(name, root={project_root!r}):
    import importlib.machinery, importlib.util, os
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.machinery.PathFinder.find_spec(name, [root])
        if spec is None:
            raise ImportError(f"the aclnn-py mock runtime needs {{name}} in {{root}}, where it was built")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    found = os.path.dirname(os.path.realpath(module.__file__))
    if found != os.path.join(root, name):
        raise ImportError(f"the aclnn-py mock runtime was built from {{root}}, but {{name}} is imported from {{found}}")

_from_project("aclnn_py")
_from_project("mock_runtime")
from {module} import ffi, lib
from mock_runtime.exports import register
register({library!r}, ffi, lib, {extensions!r})
"""


def _site_dirs() -> list[str]:
    """Where this interpreter's packages are: the directories the mock's dependencies are
    imported from, then its site directories (the user site only when a dependency is there)."""
    dirs = import_roots(MOCK_IMPORTS) + list(site.getsitepackages())
    return [d for i, d in enumerate(dirs) if os.path.isdir(d) and d not in dirs[:i]]


def _project_root() -> str:
    return str(Path(_headers.__file__).resolve().parents[2])


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted(include_dir().rglob("*.h")):
        digest.update(str(path.relative_to(include_dir())).encode())
        digest.update(path.read_bytes())
    digest.update(Path(__file__).read_bytes())
    digest.update(_build_ops.fingerprint())
    for part in (sys.version, sys.prefix, sys.exec_prefix, repr(_site_dirs()), _project_root(),
                 repr(LIBRARY_HEADERS), repr(SPLIT_LIBRARIES), repr(SPLIT_ONLY_LIBRARIES)):
        digest.update(part.encode())
    return digest.hexdigest()[:16]


def c_compiler() -> list[str]:
    """The C compiler's command: ``$CC`` (split as a shell would) or ``gcc``. MockBuildError, in
    one line saying how to get one, when it is not there."""
    chosen = os.environ.get("CC", "").strip()
    command = shlex.split(chosen) if chosen else ["gcc"]
    if shutil.which(command[0]) is None:
        missing = f"CC={chosen} is not found" if chosen else "gcc is not on PATH"
        raise MockBuildError(f"building the mock runtime needs a C compiler, and {missing}: install one "
                             "(e.g. 'apt install gcc') or set CC to a C compiler's command")
    return command


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
    headers = [h for hs in LIBRARY_HEADERS.values() for h in hs] + _build_ops.includes(library)
    lines = ["#include <stdlib.h>"] + [f'#include "{h}"' for h in headers]
    if library in _HELPERS:
        lines.append(_HELPERS[library][1])
    lines.append(_RETURNING)
    lines += [_export(fn) for fn in _exported(library)]
    return "\n".join(lines) + "\n"


def _exported(library: str) -> list[Function]:
    """The functions ``library`` exports: its runtime headers', or its catalogue operators'."""
    return _build_ops.exported(library) if library in _build_ops.libraries() else load().library_functions(library)


# A split library: one wrapper per function, calling the classic library's function found at load time.
_FORWARDER = """#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
{includes}

/* lib{split}.so: forwards to lib{classic}.so (generated by mock_runtime/_build.py). CANN marks some
   of the functions it exports deprecated (GroupedMatmul V1-V4): forwarding them is no use of them. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
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
    operators = split in _build_ops.split_forwarders()
    functions = _build_ops.split_functions(split) if operators else load().split_library_functions(split)
    if not functions:  # libhccl_fwk: only the NEEDED entry
        return f"/* lib{split}.so: exports none of the declared functions; needs lib{classic}.so. */\n"
    wrappers = [_WRAPPER.format(name=fn.name, definition=fn.declaration.rstrip(";"), args=", ".join(fn.parameters),
                                ret="" if fn.restype == "void" else "return ")
                for fn in functions]
    lookups = [_LOOKUP.format(name=fn.name, split=split, classic=classic) for fn in functions]
    headers = [h for hs in LIBRARY_HEADERS.values() for h in hs] + (_build_ops.includes(classic) if operators else [])
    includes = "\n".join(f'#include "{h}"' for h in headers)
    return _FORWARDER.format(includes=includes, split=split, classic=classic, wrappers="\n\n".join(wrappers),
                             lookups="\n".join(lookups))


def _compile_forwarder(compiler: list[str], split: str, classic: str, out: Path, work: Path, final: Path) -> None:
    """Compile lib{split}.so into ``out``; it finds lib{classic}.so next to itself or in ``final``
    (where ``out`` is renamed to, for a forwarder reached through a symbolic link)."""
    source = work / f"forward_{split}.c"
    source.write_text(_forwarder_source(split, classic))
    command = [
        *compiler, "-std=gnu11", "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror",
        f"-I{include_dir()}", str(source), "-o", str(out / f"lib{split}.so"), f"-Wl,-soname,lib{split}.so",
        f"-L{out}", "-Wl,--no-as-needed", f"-l{classic}", "-Wl,--as-needed", "-ldl", f"-Wl,-rpath,$ORIGIN:{final}",
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode:
        raise MockBuildError(f"building lib{split}.so failed:\n{' '.join(command)}\n{result.stderr}")


def _compile(compiler: list[str], library: str, out: Path, work: Path) -> None:
    decls = load()
    module = f"_aclnn_py_mock_{library}"
    builder = cffi.FFI()
    builder.cdef(decls.types_cdef)
    if library in _HELPERS:
        builder.cdef(_HELPERS[library][0])
    builder.cdef(_RETURNING_CDEF)
    builder.cdef("\n".join(f'extern "Python" static {_python_declaration(f)}' for f in _exported(library)))
    builder.set_source(module, _c_source(library))
    builder.embedding_init_code(_INIT.format(project_root=_project_root(), module=module, library=library,
                                             extensions=_build_ops.init_arguments(library)))
    source = work / f"{module}.c"
    startup = work / "startup.c"
    startup.write_text(_STARTUP)
    with contextlib.redirect_stdout(io.StringIO()):  # cffi announces "generating ..."
        builder.emit_c_code(str(source))
    libdir = sysconfig.get_config_var("LIBDIR")
    pyver = sysconfig.get_config_var("LDVERSION") or sysconfig.get_config_var("VERSION")
    command = [
        *compiler, "-shared", "-fPIC", "-O2", "-w",
        f"-I{sysconfig.get_paths()['include']}", f"-I{include_dir()}",
        *[f"-I{d}" for d in _build_ops.include_dirs(library)],
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


def _library_names() -> set[str]:
    return {f"lib{name}.so" for name in (*LIBRARIES, *_build_ops.libraries()[1:], *split_libraries())}


def build(force: bool = False) -> Path:
    """Build the libraries if needed (``force``: again); return the directory holding them.

    The first place of :func:`build_dirs` that passes the rules is used; a default place that
    does not is skipped, ``ACLNN_MOCK_BUILD_DIR`` is refused (MockBuildError saying why).
    """
    if not sysconfig.get_config_var("Py_ENABLE_SHARED"):
        raise MockBuildError(
            "the mock runtime embeds Python and needs a Python built with --enable-shared "
            f"(libpython); {sys.executable} has none"
        )
    fingerprint, tried = _fingerprint(), []
    for place in build_dirs():
        try:
            return _use_or_build(place.root, fingerprint, force)
        except Refused as exc:
            problem = str(exc)
        except OSError as exc:
            problem = f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc)
        if place.explicit:
            raise MockBuildError(
                f"cannot build the aclnn-py mock runtime in {place.root} ({BUILD_DIR_VARIABLE}): {problem}. "
                "Its libraries are built and loaded only where nobody but you can change them "
                f"(docs/mock-build.md): set {BUILD_DIR_VARIABLE} to a directory you own that others cannot "
                f"write to (e.g. made with 'mkdir -m 700'), or unset it to use {user_cache()}"
            ) from None
        tried.append(f"{place.root} ({place.origin}): {problem}")
    raise MockBuildError(
        "cannot build the aclnn-py mock runtime: no usable directory for its libraries. Tried:\n  "
        + "\n  ".join(tried)
        + f"\nSet {BUILD_DIR_VARIABLE} to a directory you own that others cannot write to (docs/mock-build.md)."
    )


def _use_or_build(root: Path, fingerprint: str, force: bool) -> Path:
    """Under the root's lock: the build of ``fingerprint`` when it exists and passes the rules,
    else a fresh one (old builds pruned). Refused when an existing build breaks the rules."""
    with locked(root) as real:
        target = real / fingerprint
        if os.path.lexists(target):
            problem, complete = build_problem(target, _library_names())
            if problem is not None:
                raise Refused(f"{problem}; remove it (python -m mock_runtime clean) to build afresh")
            if complete and not force:
                mark_used(target)
                return target
        _build_into(real, target)
        prune(real)
    return target


def _build_into(root: Path, target: Path) -> None:
    """Compile every library into a private temporary directory of ``root``, then rename it to ``target``."""
    compiler = c_compiler()
    with tempfile.TemporaryDirectory(prefix=PARTIAL_PREFIX, dir=root) as tmp:
        out = Path(tmp) / "lib"
        out.mkdir(mode=0o700)
        for library in LIBRARIES + _build_ops.libraries()[1:]:
            _compile(compiler, library, out, Path(tmp))
        _build_ops.copy_headers(out)
        for split, classic in split_libraries().items():
            _compile_forwarder(compiler, split, classic, out, Path(tmp), target)
        for entry in (out, *out.rglob("*")):  # the libraries, and the extensions' headers
            make_private(entry)
        if os.path.lexists(target):
            shutil.rmtree(target)
        out.rename(target)
