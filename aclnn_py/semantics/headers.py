"""Derive cffi declarations from the runtime headers in ``include/``.

The headers are the one source of the ABI. The runtime's (``acl/``, ``aclnn/``,
``hccl/``) follow a strict, documented style (see ``include/README.md``) so that
a small pure-Python stripper turns them into a cffi ``cdef`` without a C
preprocessor (the operator headers, ``aclnnop/``, are CANN-style and read by
:mod:`.operator_headers`):

* comments, include guards, ``#include`` lines and ``#ifdef __cplusplus``
  blocks are dropped;
* ``#define NAME <integer literal>`` lines are kept (cffi understands them);
* a ``#if ... #endif`` block holding only ``#define``, ``#elif`` and ``#else`` lines
  (the compiler-specific deprecation macros CANN's ``acl/acl_base_rt.h`` defines) is
  dropped;
* the one ``static inline`` function (``HcclCommConfigInit``) is dropped with
  its body: no library exports it, the binding implements it.

Anything else -- a conditional it cannot evaluate (``#if``, ``#else``, an
``#ifdef`` other than ``__cplusplus``), a ``#define`` that is not an integer,
a function or constant declared twice -- is a ValueError naming the header,
never a silently wrong cdef.

Each function is attributed to the library that exports it on CANN, by the
header it is declared in: :data:`LIBRARY_HEADERS` gives the classic library
(``libascendcl``, ``libnnopbase``, ``libhccl``; ``libopapi``'s operators come from
their own headers, :mod:`.catalogue`) and :data:`SPLIT_LIBRARIES` the library of
CANN's split packages (``libacl_rt``, ``libhcomm``...). Adding a header to both
tables is all the mock needs to export its functions under both names.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

#: Headers per exporting library, in declaration order (types before use).
LIBRARY_HEADERS: dict[str, tuple[str, ...]] = {
    "ascendcl": (
        "acl/acl_base.h",
        "acl/error_codes/rt_error_codes.h",
        "acl/acl_rt.h",
        "acl/acl.h",
    ),
    "nnopbase": (
        "aclnn/opdev/op_errno.h",
        "aclnn/acl_meta.h",
        "aclnn/aclnn_base.h",
    ),
    "hccl": (
        "hccl/hccl_types.h",
        "hccl/hccl_comm.h",
        "hccl/hccl.h",
    ),
    "opapi": (),  # the operators: their headers are read by .operator_headers (see .catalogue)
}

#: Per header: the library of CANN's split packages (8.5/9.x) that exports its
#: functions, the library of the repository that ships the header (hicann/runtime:
#: libacl_rt, hicann/opbase: libnnopbase, hicann/hcomm: libhcomm, hicann/hccl: libhccl,
#: ops-math / ops-nn / ops-transformer: libopapi_math / _nn / _transformer; the link line
#: of ops-transformer's build.sh examples is ``-lopapi_math -lopapi_transformer
#: -lascendcl -lnnopbase -lhccl -lhccl_fwk``). Where it differs from the classic
#: library of :data:`LIBRARY_HEADERS`, the mock also provides that library, exporting
#: exactly these functions.
SPLIT_LIBRARIES: dict[str, str] = {
    "acl/acl_base.h": "acl_rt",
    "acl/error_codes/rt_error_codes.h": "acl_rt",
    "acl/acl_rt.h": "acl_rt",
    "acl/acl.h": "acl_rt",
    "aclnn/opdev/op_errno.h": "nnopbase",
    "aclnn/acl_meta.h": "nnopbase",
    "aclnn/aclnn_base.h": "nnopbase",
    "hccl/hccl_types.h": "hccl",
    "hccl/hccl_comm.h": "hcomm",
    "hccl/hccl.h": "hccl",
}

#: The operator libraries of CANN's split packages (8.5/9.x): one per ops repository, named
#: ``opapi_${PKG_NAME}`` (ops-math/ops-nn/ops-transformer/ops-cv ``cmake/variables.cmake``,
#: ``OPAPI_NAME``), each exporting its repository's operators (the classic libopapi exports all).
SPLIT_OPERATOR_LIBRARIES = ("opapi_math", "opapi_nn", "opapi_transformer", "opapi_cv")

#: Split libraries that export none of the declared functions but appear on
#: CANN's documented link lines (``-lhccl_fwk``: HCCL's framework library,
#: whose exports are internal to MC2 operators), with the classic library
#: they stand next to.
SPLIT_ONLY_LIBRARIES: dict[str, str] = {"hccl_fwk": "hccl"}

#: Return types that carry a status code.
STATUS_TYPES = ("aclError", "aclnnStatus", "HcclResult")

_INT = r"-?(?:0[xX][0-9a-fA-F]+|\d+)"
_DEFINE = re.compile(rf"#\s*define\s+(\w+)\s+({_INT})\s*$")
_ENUM_MEMBER = re.compile(rf"\b(\w+)\s*=\s*({_INT})\s*(?=[,}}])")
_ENUM_BLOCK = re.compile(r"\benum\b[^{;]*\{([^}]*)\}\s*(\w*)", re.S)
#: The stack entry of a ``#if`` block (the compiler-specific macros of acl/acl_base.h).
_MACRO_BLOCK = "#if"
_FUNC_NAME = re.compile(r"(\w+)\s*\($")
_PARAM_NAME = re.compile(r"(\w+)\s*(?:\[[^\]]*\])?\s*$")


@dataclass(frozen=True)
class Function:
    """One exported C function."""

    name: str
    library: str
    restype: str
    declaration: str
    header: str = ""

    @property
    def returns_status(self) -> bool:
        return self.restype in STATUS_TYPES

    @property
    def split_library(self) -> str:
        """The library exporting it in CANN's split packages."""
        return SPLIT_LIBRARIES[self.header]

    @property
    def parameters(self) -> tuple[str, ...]:
        """Parameter names in declaration order (empty for ``(void)``)."""
        inner = self.declaration[self.declaration.index("(") + 1 : self.declaration.rindex(")")]
        if inner.strip() == "void":
            return ()
        return tuple(_PARAM_NAME.search(p).group(1) for p in inner.split(","))


@dataclass
class Declarations:
    """Everything derived from the headers."""

    types_cdef: str = ""
    functions: dict[str, Function] = field(default_factory=dict)
    constants: dict[str, int] = field(default_factory=dict)
    enums: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def cdef(self) -> str:
        """Types, constants and every function prototype."""
        protos = "\n".join(f.declaration for f in self.functions.values())
        return f"{self.types_cdef}\n{protos}\n"

    def library_functions(self, library: str) -> list[Function]:
        return [f for f in self.functions.values() if f.library == library]

    def split_library_functions(self, library: str) -> list[Function]:
        return [f for f in self.functions.values() if f.split_library == library]

    @functools.cached_property
    def type_names(self) -> frozenset[str]:
        """Every type name the headers declare (typedef names, ``struct``/``enum``/``union`` tags): what an
        operator header may use without declaring it."""
        names: set[str] = set()
        types = "\n".join(line for line in self.types_cdef.splitlines() if not line.startswith("#define"))
        for decl in _split_declarations(types):
            body = re.sub(r"\{.*\}", " ", decl)
            names.update(re.findall(r"\b(?:struct|enum|union)\s+(\w+)", body))
            if decl.startswith("typedef"):
                names.add(re.findall(r"(\w+)\s*;$", body)[0])
        return frozenset(names)


def include_dir() -> Path:
    """The header directory: shipped in the package (``aclnn_py/include``), else the source tree's."""
    here = Path(__file__).resolve().parent.parent  # the aclnn_py package
    for candidate in (here / "include", here.parent / "include"):
        if (candidate / "acl" / "acl.h").is_file():
            return candidate
    raise FileNotFoundError(
        f"aclnn-py headers not found in {here / 'include'} or {here.parent / 'include'}"
    )


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def _strip_preprocessor(text: str, path: str) -> tuple[str, dict[str, int]]:
    """Drop directives and C++-only blocks; return C text and integer #defines."""
    out: list[str] = []
    defines: dict[str, int] = {}
    stack: list[str] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if stack and stack[-1] == _MACRO_BLOCK:  # compiler-specific macros: none reaches the cdef
            word = s[1:].split()[0] if s.startswith("#") and len(s) > 1 else ""
            if word == "endif":
                stack.pop()
            elif word not in ("define", "elif", "else") and s:
                raise ValueError(f"{path}:{lineno}: a #if block may hold only #define, #elif and #else lines: {s}")
            continue
        if s.startswith("#"):
            word = s[1:].split()[0] if len(s) > 1 else ""
            if word == "if":
                stack.append(_MACRO_BLOCK)
            elif word == "ifndef" or s.split() == ["#ifdef", "__cplusplus"]:  # include guards, C++ blocks
                stack.append(s)
            elif word == "endif":
                if not stack:
                    raise ValueError(f"{path}:{lineno}: unbalanced #endif")
                stack.pop()
            elif word == "define" and not any("__cplusplus" in c for c in stack):
                m = _DEFINE.match(s)
                if m:
                    defines[m.group(1)] = int(m.group(2), 0)
                    out.append(f"#define {m.group(1)} {m.group(2)}")
                elif len(s.split()) != 2:  # a bare "#define GUARD" is fine
                    raise ValueError(f"{path}:{lineno}: unsupported #define: {s}")
            elif word != "include":  # a condition it cannot evaluate (#if, #else...) would go wrong
                raise ValueError(f"{path}:{lineno}: unsupported directive: {s}")
            continue
        if any("__cplusplus" in c for c in stack):
            continue
        out.append(line)
    if stack:
        raise ValueError(f"{path}: {stack[-1]} is never closed")
    return "\n".join(out), defines


def _drop_inline_definitions(text: str) -> str:
    while (start := text.find("static inline")) >= 0:
        brace = text.index("{", start)
        depth, i = 0, brace
        while True:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
            if depth == 0:
                break
        text = text[:start] + text[i:]
    return text


def _split_declarations(text: str) -> list[str]:
    decls, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == ";" and depth == 0:
            decl = " ".join(text[start : i + 1].split())
            if decl != ";":
                decls.append(decl)
            start = i + 1
    if text[start:].strip():
        raise ValueError(f"trailing text after last declaration: {text[start:].strip()[:60]}")
    return decls


def strip(text: str, path: str = "<header>") -> tuple[str, dict[str, int]]:
    """One header's C part as the cdef takes it -- comments, directives, ``#ifdef __cplusplus``
    blocks dropped, ``#define NAME <integer>`` lines kept -- and those integer defines."""
    return _strip_preprocessor(_strip_comments(text), path)


def declarations(text: str, path: str = "<header>") -> tuple[list[str], dict[str, int]]:
    """One header's declarations as :func:`parse` reads them (one per entry, whitespace
    collapsed, the ``static inline`` definition dropped) and its integer defines."""
    stripped, defines = strip(text, path)
    body = "\n".join(l for l in stripped.splitlines() if not l.startswith("#define"))
    return _split_declarations(_drop_inline_definitions(body)), defines


def parse(root: Path) -> Declarations:
    """Read every header of :data:`LIBRARY_HEADERS` below ``root`` (ValueError for a construct
    outside the headers' style, or a function or constant declared twice)."""
    result = Declarations()
    types: list[str] = []
    where: dict[str, str] = {}  # constant -> header

    def constants(names: dict[str, int], rel: str) -> None:
        for name in names:
            if name in where:
                raise ValueError(f"{rel}: {name} is already defined in {where[name]}")
            where[name] = rel
        result.constants.update(names)

    for library, headers in LIBRARY_HEADERS.items():
        for rel in headers:
            decls, defines = declarations((root / rel).read_text(), rel)
            constants(defines, rel)
            types.extend(f"#define {name} {value}" for name, value in defines.items())
            for decl in decls:
                head = decl.split("(", 1)[0]
                is_function = "(" in decl and not decl.startswith("typedef") and "{" not in head
                if is_function:
                    m = _FUNC_NAME.search(head + "(")
                    if not m:
                        raise ValueError(f"{rel}: cannot find function name in: {decl}")
                    name = m.group(1)
                    if name in result.functions:
                        raise ValueError(f"{rel}: {name} is already declared in {result.functions[name].header}")
                    restype = head[: m.start()].strip()
                    result.functions[name] = Function(name, library, restype, decl, rel)
                    continue
                types.append(decl)
                for block in _ENUM_BLOCK.finditer(decl):
                    members = {n: int(v, 0) for n, v in _ENUM_MEMBER.findall(block.group(1) + "}")}
                    typename = decl.rstrip(";").split("}")[-1].strip() or block.group(2)
                    result.enums[typename] = members
                    constants(members, rel)
    result.types_cdef = "\n".join(types)
    return result


@functools.lru_cache(maxsize=None)
def load() -> Declarations:
    """The declarations of the headers this package uses (parsed once)."""
    return parse(include_dir())
