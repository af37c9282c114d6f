"""Build the mock's four shared libraries with cffi's embedding mode.

Each library is compiled from the project's headers: its C source includes
them, and cffi generates the exported functions from the same derived
declarations, so the compiler checks one against the other. The libraries
link libpython; their init code makes the building environment's packages
importable (so a C program finds NumPy of the virtual environment the mock
was built in) and registers :mod:`mock_runtime.exports`.

Builds are cached in a directory named after a hash of everything the C side
depends on; a build happens once, under a file lock, into a temporary
directory renamed into place.
"""
from __future__ import annotations

import contextlib
import fcntl
import io
import json
import hashlib
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import cffi

import aclnn_py
from aclnn_py._cdef import LIBRARY_HEADERS, include_dir, load

#: Build order: libopapi links libnnopbase (dlsym through a libopapi handle finds aclCreateTensor).
LIBRARIES = ("ascendcl", "nnopbase", "hccl", "opapi")
_LINKS = {"opapi": ("nnopbase",)}
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
    return str(Path(aclnn_py.__file__).resolve().parent.parent)


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for rel in sorted(p for headers in LIBRARY_HEADERS.values() for p in headers):
        digest.update((include_dir() / rel).read_bytes())
    digest.update(Path(__file__).read_bytes())
    for part in (sys.version, sys.prefix, sys.exec_prefix, repr(_site_dirs()), _project_root()):
        digest.update(part.encode())
    return digest.hexdigest()[:16]


def _cache_root() -> Path:
    local = Path(__file__).resolve().parent / "_lib"
    try:
        local.mkdir(exist_ok=True)
        if os.access(local, os.W_OK):
            return local
    except OSError:
        pass
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "aclnn-py" / "mock"
    cache.mkdir(parents=True, exist_ok=True)
    return cache


def _c_source(library: str) -> str:
    headers = [h for hs in LIBRARY_HEADERS.values() for h in hs]
    lines = ["#include <stdlib.h>"] + [f'#include "{h}"' for h in headers]
    if library in _HELPERS:
        lines.append(_HELPERS[library][1])
    return "\n".join(lines) + "\n"


def _compile(library: str, out: Path, work: Path) -> None:
    decls = load()
    module = f"_aclnn_py_mock_{library}"
    builder = cffi.FFI()
    builder.cdef(decls.types_cdef)
    if library in _HELPERS:
        builder.cdef(_HELPERS[library][0])
    builder.embedding_api("\n".join(f.declaration for f in decls.library_functions(library)))
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
        raise RuntimeError(f"building lib{library}.so failed:\n{' '.join(command)}\n{result.stderr}")


def build(force: bool = False) -> Path:
    """Build the libraries if needed; return the directory holding them."""
    if not sysconfig.get_config_var("Py_ENABLE_SHARED"):
        raise RuntimeError(
            "the mock runtime embeds Python and needs a Python built with --enable-shared "
            f"(libpython); {sys.executable} has none"
        )
    root = _cache_root()
    target = root / _fingerprint()
    if target.is_dir() and not force:
        return target
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.is_dir() and not force:
            return target
        with tempfile.TemporaryDirectory(dir=root) as tmp:
            out = Path(tmp) / "lib"
            out.mkdir()
            for library in LIBRARIES:
                _compile(library, out, Path(tmp))
            if target.exists():
                shutil.rmtree(target)
            out.rename(target)
    return target
