"""Find and load CANN's libraries (or the mock's) and resolve symbols lazily.

Backend choice, ``ACLNN_PY_BACKEND``:

* ``cann``: load from ``ACLNN_PY_LIB_DIR``, else ``$ASCEND_HOME_PATH/lib64``,
  else ``$ASCEND_TOOLKIT_HOME/lib64``, else the installer's default places
  under ``/usr/local/Ascend`` (:data:`DEFAULT_TOOLKITS`; absolute paths only,
  never the current directory), the first that holds ``libascendcl.so`` or
  ``libacl_rt.so``.
  Classic and split CANN packages are both covered: per exporting library,
  every file present of its classic name and its split names
  (:data:`aclnn_py.semantics.headers.SPLIT_LIBRARIES`: ``libacl_rt.so``, ``libhcomm.so``,
  ``libopapi_transformer.so``, ``libopapi_math.so``, ``libopapi_nn.so``;
  operators also in any other ``libopapi_*.so``) is loaded, and a function
  is looked up first in the split library of its header, then in the others.
* ``mock``: the libraries of :mod:`mock_runtime` (built on first use).
* ``auto`` (default): ``cann`` when its libraries are found; the mock only
  when there is no sign of CANN at all (none of those variables set, no
  ``/usr/local/Ascend``), saying so once in a warning. Where CANN is evidently
  meant to be used but its libraries are not found, ``auto`` raises
  :class:`LibraryNotFoundError` listing what was tried and why, instead of
  silently running on the mock.

Nothing is loaded at import time. A function is looked up the first time it is
used; a missing one raises :class:`SymbolNotFoundError` naming the symbol and
the libraries searched.
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from .semantics.headers import LIBRARY_HEADERS, SPLIT_LIBRARIES, SPLIT_OPERATOR_LIBRARIES, load
from .semantics.code_places import MOCK_IMPORTS, import_roots, tree_problem
from . import _op_headers
from ._ffi import ffi
from .errors import LibraryNotFoundError, SymbolNotFoundError

log = logging.getLogger("aclnn_py")


def _cann_files(library: str) -> tuple[str, ...]:
    split = sorted({SPLIT_LIBRARIES[h] for h in LIBRARY_HEADERS[library]} - {library})
    if library == "opapi":
        split += SPLIT_OPERATOR_LIBRARIES
    return (f"lib{library}.so", *(f"lib{name}.so" for name in split))


#: Per exporting library: the files that may hold its symbols (classic name first); at least one must exist.
CANN_FILES: dict[str, tuple[str, ...]] = {library: _cann_files(library) for library in LIBRARY_HEADERS}
#: Load order: dependencies first, so each later library finds them already loaded.
LOAD_ORDER = ("ascendcl", "nnopbase", "hccl", "opapi")
BACKENDS = ("auto", "cann", "mock")


#: Where CANN's installer puts the toolkit; the ``latest`` link of the classic
#: ascend-toolkit layout, then the ``cann`` link of newer (8.5/9.x) packages (UNCONFIRMED
#: for every release: the environment variables set by ``set_env.sh`` come first).
DEFAULT_ASCEND_ROOT = Path("/usr/local/Ascend")
DEFAULT_TOOLKITS = ("ascend-toolkit/latest", "cann")
_VARIABLES = ("ACLNN_PY_LIB_DIR", "ASCEND_HOME_PATH", "ASCEND_TOOLKIT_HOME")


def signs_of_cann() -> list[str]:
    """Why CANN looks meant to be used here (empty: no sign of it)."""
    signs = [f"{var}={os.environ[var]}" for var in _VARIABLES if os.environ.get(var)]
    if DEFAULT_ASCEND_ROOT.is_dir():
        signs.append(f"{DEFAULT_ASCEND_ROOT} exists")
    return signs


def _cann_dirs() -> tuple[list[tuple[str, Path]], list[str]]:
    """Candidate library directories (source, path), and the settings ignored (with why)."""
    dirs, ignored = [], []
    for var in _VARIABLES:
        value = os.environ.get(var)
        if not value:
            continue
        directory = Path(value) if var == "ACLNN_PY_LIB_DIR" else Path(value) / "lib64"
        if directory.is_absolute():
            dirs.append((var, directory))
        else:
            ignored.append(f"{var}={value} (ignored: not an absolute path)")
    dirs += [(f"default {DEFAULT_ASCEND_ROOT}", DEFAULT_ASCEND_ROOT / toolkit / "lib64") for toolkit in DEFAULT_TOOLKITS]
    return dirs, ignored


def _find_cann() -> tuple[Path | None, list[str]]:
    """The first directory holding libascendcl.so or libacl_rt.so, and every path tried."""
    dirs, tried = _cann_dirs()
    for source, directory in dirs:
        for name in CANN_FILES["ascendcl"]:
            candidate = directory / name
            tried.append(f"{candidate} (from {source}): {'found' if candidate.is_file() else 'missing'}")
            if candidate.is_file():
                return directory, tried
    return None, tried


def _files(directory: Path, library: str, backend: str) -> list[Path]:
    names = list(CANN_FILES[library]) if backend == "cann" else [f"lib{library}.so"]
    files = [directory / n for n in names if (directory / n).is_file()]
    if backend == "cann" and library == "opapi":
        files += sorted(p for p in directory.glob("libopapi_*.so") if p not in files)
    if library == "opapi":  # custom operator libraries: ACLNN_PY_INCLUDE's packages, the mock's extensions
        custom = _op_headers.custom_libraries() if backend == "cann" else [directory / _op_headers.CUSTOM_LIBRARY]
        files += [p for p in custom if p.is_file() and p not in files]
    return files


class Library:
    """All loaded libraries behind one namespace: ``lib.aclrtMalloc``, ``lib.ACL_FLOAT``..."""

    def __init__(self, backend: str, directory: Path) -> None:
        self.backend = backend
        self.directory = directory
        self.paths: dict[str, list[Path]] = {}
        self._handles: dict[str, list[Any]] = {}
        #: The operator headers this backend adds to the project's (see aclnn_py._op_headers).
        self.operator_dirs = _op_headers.backend_dirs(backend, directory)
        for library in LOAD_ORDER:
            files = _files(directory, library, backend)
            if not files:
                wanted = " or ".join(CANN_FILES[library]) if backend == "cann" else f"lib{library}.so"
                raise LibraryNotFoundError(
                    f"{wanted} not found in {directory}; source CANN's set_env.sh "
                    "(it sets ASCEND_HOME_PATH) or set ACLNN_PY_LIB_DIR"
                )
            handles = []
            for path in files:
                try:
                    handles.append(ffi.dlopen(str(path), ffi.RTLD_NOW | ffi.RTLD_GLOBAL))
                except OSError as exc:
                    raise LibraryNotFoundError(f"cannot load {path}: {exc}") from None
            self.paths[library], self._handles[library] = files, handles

    def __getattr__(self, name: str) -> Any:
        decls = load()
        fn = decls.functions.get(name)
        if fn is None:
            if name in decls.constants:
                return decls.constants[name]
            if name.startswith("aclnn"):
                return self._operator_function(name)
            raise AttributeError(f"{name} is not declared in the aclnn-py headers")
        split = f"lib{fn.split_library}.so"
        paths = self.paths[fn.library]
        order = sorted(range(len(paths)), key=lambda i: paths[i].name != split)  # its split library first
        for handle in (self._handles[fn.library][i] for i in order):
            try:
                value = getattr(handle, name)
                break
            except AttributeError:
                continue
        else:
            where = ", ".join(str(p) for p in self.paths[fn.library])
            raise SymbolNotFoundError(f"{name} is not exported by {where} (is this CANN too old?)")
        self.__dict__[name] = value
        return value

    def _operator_function(self, name: str) -> Any:
        """An operator function, declared from its header on first use and looked up in the operator
        libraries: custom packages first, then the split libraries, then the classic libopapi."""
        _op_headers.declare(name, self.operators)
        paths = self.paths["opapi"]
        order = sorted(range(len(paths)), key=lambda i: (paths[i].name != _op_headers.CUSTOM_LIBRARY,
                                                         paths[i].name == "libopapi.so"))
        for i in order:
            try:
                value = getattr(self._handles["opapi"][i], name)
            except AttributeError:
                continue
            self.__dict__[name] = value
            return value
        where = ", ".join(str(p) for p in paths)
        raise SymbolNotFoundError(f"{name} is not exported by {where} (is its operator package installed?)")

    @property
    def operators(self) -> "_op_headers.HeaderIndex":
        """The operator headers of the project, ``ACLNN_PY_INCLUDE`` and this backend."""
        return _op_headers.index(self.operator_dirs)

    def __dir__(self) -> list[str]:
        return sorted(load().functions) + sorted(load().constants)


_lock = threading.Lock()
_library: Library | None = None


def requested_backend() -> str:
    backend = os.environ.get("ACLNN_PY_BACKEND", "auto").strip().lower() or "auto"
    if backend not in BACKENDS:
        raise ValueError(f"ACLNN_PY_BACKEND={backend!r}: expected one of {', '.join(BACKENDS)}")
    return backend


def library() -> Library:
    """Load the backend's libraries once; later calls return the same object."""
    global _library
    if _library is not None:
        return _library
    with _lock:
        if _library is None:
            _library = _open(requested_backend())
    return _library


#: The project's packages the isolated child imports: each must be the one next to this package.
_MOCK_PACKAGES = ("aclnn_py", "mock_runtime")

# Run by ``python -I -c``: no current directory, script directory, user site or PYTHON*
# variable on its path; argv[1] is the path to put first, then (name, directory) pairs: each
# package must be found exactly there before any of its code runs.
_LOCATE = """
import importlib.util, json, os, sys
sys.path[:0] = json.loads(sys.argv[1])
for name, expected in json.loads(sys.argv[2]):
    spec = importlib.util.find_spec(name)
    found = os.path.dirname(os.path.realpath(spec.origin)) if spec and spec.origin else None
    if found != expected:
        sys.exit(f"refusing to run {name}: it would be imported from {found}, not from {expected}")
from mock_runtime.__main__ import main
sys.argv = ["python -m mock_runtime", sys.argv[3]]
main()
"""


def _mock_child(command: str = "libdir") -> tuple[list[str], Path]:
    """The isolated command that runs ``python -m mock_runtime <command>`` (``libdir``: print the
    mock's library directory; ``operators``: its catalogue), and its working directory.

    The mock is the ``mock_runtime`` package installed next to ``aclnn_py`` (one distribution
    installs both); the child imports it, and what it imports, only from the directories this
    process uses for the same modules.
    """
    package = Path(__file__).resolve().parent
    root = package.parent
    if not (root / "mock_runtime" / "__init__.py").is_file():
        raise LibraryNotFoundError(f"the mock runtime is not installed next to aclnn_py (no {root / 'mock_runtime'})")
    paths = [str(root), *(where for where in import_roots(MOCK_IMPORTS) if where != str(root))]
    expected = [(name, str(root / name)) for name in _MOCK_PACKAGES]
    return [sys.executable, "-I", "-c", _LOCATE, json.dumps(paths), json.dumps(expected), command], package


def mock_libdir() -> Path:
    """The mock's library directory, from ``python -m mock_runtime libdir`` run in an isolated
    child process (the binding never imports the mock; the child builds the libraries when needed).

    The child never imports code from the current directory, the script's directory, the user
    site or ``PYTHONPATH`` (``-I``, a fixed working directory, an explicit path checked before
    import); the directory it prints is loaded only when it and every file in it are the
    user's alone (:mod:`aclnn_py.semantics.code_places`).
    """
    command, cwd = _mock_child()
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=cwd)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LibraryNotFoundError(f"the mock runtime could not be located: {exc}") from None
    lines = result.stdout.strip().splitlines()
    if result.returncode or not lines:
        detail = result.stderr.strip() or f"exit status {result.returncode}"
        raise LibraryNotFoundError(f"the mock runtime is not available: {detail}")
    directory = Path(lines[-1])
    try:
        files = sorted(directory.iterdir())
    except OSError as exc:
        raise LibraryNotFoundError(f"the mock runtime's directory {directory} cannot be read: {exc.strerror}") from None
    problem = tree_problem(directory, files)
    if problem is not None:
        raise LibraryNotFoundError(
            f"refusing to load the mock runtime from {directory}: {problem}. "
            "Libraries are loaded only from a directory only you can write to; run "
            "'python -m mock_runtime clean' and try again (docs/mock-build.md)"
        )
    return directory


def _open(backend: str) -> Library:
    if backend in ("auto", "cann"):
        directory, tried = _find_cann()
        if directory is not None:
            lib = Library("cann", directory)
            log.info("aclnn-py: loaded CANN from %s", directory)
            return lib
        signs = signs_of_cann()
        if backend == "cann" or signs:
            why = ("ACLNN_PY_BACKEND=cann" if backend == "cann"
                   else f"CANN looks installed ({', '.join(signs)})")
            raise LibraryNotFoundError(
                f"{why} but neither libascendcl.so nor libacl_rt.so was found; tried: {'; '.join(tried)}. "
                "Source CANN's set_env.sh (e.g. /usr/local/Ascend/ascend-toolkit/set_env.sh), set "
                "ACLNN_PY_LIB_DIR to the directory holding the libraries, or set ACLNN_PY_BACKEND=mock "
                "to use the mock runtime deliberately."
            )
    lib = Library("mock", mock_libdir())
    log.log(logging.WARNING if backend == "auto" else logging.INFO,
            "aclnn-py: using the mock runtime from %s%s", lib.directory,
            " (no sign of CANN; set ACLNN_PY_BACKEND=mock to silence this)" if backend == "auto" else "")
    return lib
