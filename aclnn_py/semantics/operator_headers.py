"""Read aclnn operator headers (``aclnnop/aclnn_*.h``) as CANN writes them.

The project's runtime headers follow a strict style that :mod:`.headers` strips
without a preprocessor. Operator headers come from anywhere -- ``include/aclnnop``
of this project, a CANN toolkit, a custom operator package -- and are written in
CANN's style, so this reader is tolerant: a small C preprocessor (``#ifdef``,
``#ifndef``, ``#if`` with ``defined``, integers and the usual operators, ``#else``,
``#elif``, ``#define`` and ``#undef`` of object- and function-like macros; ``#include``,
``#pragma`` and ``#warning`` ignored; ``#error`` refuses the header) followed by the
removal of what a C caller's declaration does not need: the ``ACLNN_API`` marker and
the macros CANN's runtime headers define (``ACL_FUNC_VISIBILITY``, ``ACL_DEPRECATED``,
``ACL_DEPRECATED_MESSAGE(...)``), ``__attribute__((...))``, ``__declspec(...)`` and
``[[...]]`` attributes.

The header is read twice, as a C compiler and as a C++ compiler sees it: the C view
gives the declarations (what cffi and the mock's C build take), the C++ view which of
them have C linkage (``extern "C"``; a function declared without it is exported under
a mangled name, which no C caller can find). A function that cannot be declared for C
is *refused* with the reason, never dropped: a C++ reference parameter, a C++ default
argument, C++ linkage, a type the aclnn-py headers do not declare, two different
prototypes. A header this reader cannot read at all (``#error``, an unknown directive,
unbalanced conditionals or braces) refuses every function named in it.

Pure text processing: no compiler, no cffi (the binding declares what this returns).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["HeaderReading", "Prototype", "declarator", "read", "read_file"]

#: Macros CANN's runtime headers define (acl/acl_base.h via acl_base_rt.h, aclnnop/aclnn_util.h) that
#: expand to attributes or nothing: removed wherever a header uses them without defining them.
ATTRIBUTE_MACROS = ("ACLNN_API", "ACL_FUNC_VISIBILITY", "ACL_DEPRECATED")
ATTRIBUTE_FUNCTION_MACROS = ("ACL_DEPRECATED_MESSAGE",)

_C_TYPE_WORDS = frozenset(("void", "char", "short", "int", "long", "float", "double", "signed", "unsigned",
                           "bool", "_Bool", "size_t", "int8_t", "int16_t", "int32_t", "int64_t", "uint8_t",
                           "uint16_t", "uint32_t", "uint64_t", "intptr_t", "uintptr_t", "ptrdiff_t"))
_QUALIFIERS = frozenset(("const", "volatile", "restrict", "__restrict", "__restrict__", "struct", "enum", "union"))
_CXX_WORDS = ("namespace", "template", "class", "using", "operator", "typename", "constexpr", "noexcept")

_TOKENS = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|/\*.*?\*/|//[^\n]*', re.S)
_DIRECTIVE = re.compile(r"^\s*#\s*(\w*)\s*(.*?)\s*$")
_DEFINE = re.compile(r"^(\w+)(\(([^)]*)\))?\s*(.*)$")
_IDENT = re.compile(r"[A-Za-z_]\w*")
_INT = re.compile(r"^(0[xX][0-9a-fA-F]+|\d+)[uUlL]*$")
_FUNC = re.compile(r"^(.*?)\b([A-Za-z_]\w*)\s*\((.*)\)\s*$", re.S)
_SPECIAL = re.compile(r'[{};"]')
_BRACES = re.compile(r"[{}]")
_CALL = re.compile(r"\b([A-Za-z_]\w*)\s*\(")


def declarator(c_type: str, name: str) -> str:
    """A parameter as C writes it: ``const aclTensor *x`` (no space after ``*``), ``int64_t axis``."""
    return f"{c_type}{name}" if c_type.endswith("*") else f"{c_type} {name}"


@dataclass(frozen=True)
class Prototype:
    """One function a header declares for C: its return type and its parameters as (C type, name)."""

    name: str
    restype: str
    parameters: tuple[tuple[str, str], ...]
    header: str
    variadic: bool = False
    #: Type declarations of the header the prototype needs (a header-local typedef), in order.
    types: tuple[str, ...] = ()

    @property
    def declaration(self) -> str:
        """The C prototype, one line (what cffi and a C compiler take)."""
        params = [declarator(ctype, name) for ctype, name in self.parameters]
        if self.variadic:
            params.append("...")
        return f"{self.restype} {self.name}({', '.join(params) or 'void'});"


@dataclass
class HeaderReading:
    """What one header gives: its functions declared for C, those refused (name -> reason), and the
    header-wide problem that refused all of them (None when the header could be read)."""

    path: str
    functions: dict[str, Prototype] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    problem: str | None = None


class _Unreadable(ValueError):
    """A construct the reader cannot take: the whole header is refused with this message."""


# --------------------------------------------------------------------------- preprocessing

def _strip_comments(text: str) -> str:
    """Comments removed (a block comment keeps its line breaks), string literals kept."""
    def replace(match: re.Match) -> str:
        token = match.group(0)
        if token.startswith("/*"):
            return " " + "\n" * token.count("\n")
        return "" if token.startswith("//") else token
    return _TOKENS.sub(replace, text)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) of each logical line: backslash-newline continuations joined."""
    lines: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        lines.append((start, pending + line))
        pending = ""
    if pending:
        lines.append((start, pending))
    return lines


@dataclass
class _Macro:
    params: tuple[str, ...] | None  # None: object-like
    body: str


def _evaluate(expression: str, macros: dict[str, _Macro], where: str) -> bool:
    """An ``#if`` expression: ``defined``, integers, macros that expand to integers, unknown
    identifiers as 0 (as the C preprocessor takes them), and C's logical, comparison and
    arithmetic operators."""
    text = re.sub(r"\bdefined\s*\(\s*(\w+)\s*\)|\bdefined\s+(\w+)",
                  lambda m: "1" if (m.group(1) or m.group(2)) in macros else "0", expression)
    for _ in range(16):  # expand object-like macros (bounded: a macro defined in terms of itself stops here)
        expanded = _IDENT.sub(lambda m: macros[m.group(0)].body if m.group(0) in macros
                              and macros[m.group(0)].params is None else m.group(0), text)
        if expanded == text:
            break
        text = expanded
    tokens = re.findall(r"0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*|[A-Za-z_]\w*|&&|\|\||[=!<>]=|<<|>>|[-+*/%()<>!~^&|?:]|\S",
                        text)
    python: list[str] = []
    for token in tokens:
        if _INT.match(token):
            python.append(str(int(token.rstrip("uUlL"), 0)))
        elif _IDENT.fullmatch(token):
            python.append("0")
        elif token in ("&&", "||", "!"):
            python.append({"&&": " and ", "||": " or ", "!": " not "}[token])
        elif token in ("?", ":"):
            raise _Unreadable(f"{where}: the conditional operator in #if is not supported: {expression}")
        elif token in ("==", "!=", "<=", ">=", "<<", ">>", "<", ">", "+", "-", "*", "%", "(", ")", "~", "^", "&", "|"):
            python.append(token)
        elif token == "/":
            python.append("//")
        else:
            raise _Unreadable(f"{where}: cannot evaluate #if {expression}")
    try:
        return bool(eval("".join(python) or "0", {"__builtins__": {}}, {}))  # digits and operators only
    except Exception:
        raise _Unreadable(f"{where}: cannot evaluate #if {expression}") from None


def _preprocess(text: str, path: str, cplusplus: bool) -> tuple[str, dict[str, _Macro]]:
    """The code a C (``cplusplus`` False) or C++ compiler sees, and the macros the header defines."""
    macros: dict[str, _Macro] = {"__cplusplus": _Macro(None, "201103")} if cplusplus else {}
    out: list[str] = []
    stack: list[list[bool]] = []  # per open conditional: [this branch active, a branch was taken]

    def active() -> bool:
        return all(level[0] for level in stack)

    on = True  # active(), recomputed when the stack changes
    for number, line in _logical_lines(_strip_comments(text)):
        match = _DIRECTIVE.match(line) if line.lstrip().startswith("#") else None
        if match is None:
            out.append(line if on else "")
            continue
        where = f"{path}:{number}"
        word, rest = match.groups()
        if word in ("ifdef", "ifndef"):
            name = rest.split()[0] if rest else ""
            taken = (name in macros) == (word == "ifdef")
            stack.append([taken, taken])
        elif word == "if":
            taken = active() and _evaluate(rest, macros, where)
            stack.append([taken, taken])
        elif word in ("elif", "else"):
            if not stack:
                raise _Unreadable(f"{where}: #{word} without #if")
            level = stack[-1]
            stack.pop()
            taken = not level[1] and active() and (word == "else" or _evaluate(rest, macros, where))
            stack.append([taken, level[1] or taken])
        elif word == "endif":
            if not stack:
                raise _Unreadable(f"{where}: #endif without #if")
            stack.pop()
        elif not active() or word in ("include", "pragma", "warning", "line", "ident", ""):
            pass
        elif word == "define":
            m = _DEFINE.match(rest)
            if m is None:
                raise _Unreadable(f"{where}: cannot read #define {rest}")
            params = None if m.group(2) is None else tuple(p.strip() for p in m.group(3).split(",") if p.strip())
            macros[m.group(1)] = _Macro(params, m.group(4))
        elif word == "undef":
            macros.pop(rest.split()[0] if rest else "", None)
        elif word == "error":
            raise _Unreadable(f"{where}: #error {rest}")
        else:
            raise _Unreadable(f"{where}: unsupported directive #{word}")
        on = active()
        out.append("")
    if stack:
        raise _Unreadable(f"{path}: an #if/#ifdef/#ifndef is never closed")
    return "\n".join(out), macros


def _balanced(text: str, start: int) -> int:
    """Index just past the parenthesis group opening at ``text[start]`` (``(`` or ``[``)."""
    opening = text[start]
    closing = {"(": ")", "[": "]"}[opening]
    depth = 0
    for i in range(start, len(text)):
        if text[i] == opening:
            depth += 1
        elif text[i] == closing:
            depth -= 1
            if depth == 0:
                return i + 1
    raise _Unreadable(f"unbalanced {opening} in: {text[start:start + 60]!r}")


def _expand(code: str, macros: dict[str, _Macro]) -> str:
    """Macros expanded, then attributes and attribute macros removed."""
    used = re.compile(r"\b(" + "|".join(map(re.escape, macros)) + r")\b") if macros else None
    for _ in range(8 if used is not None and used.search(code) else 0):
        changed = False
        pos = 0
        parts: list[str] = []
        for m in _IDENT.finditer(code):
            name = m.group(0)
            macro = macros.get(name)
            if macro is None:
                continue
            end = m.end()
            if macro.params is None:
                replacement = macro.body
            else:
                after = re.match(r"\s*\(", code[end:])
                if after is None:
                    continue
                close = _balanced(code, end + after.end() - 1)
                args = _split_top(code[end + after.end():close - 1])
                replacement = macro.body
                for param, arg in zip(macro.params, args):
                    replacement = re.sub(rf"\b{re.escape(param)}\b", lambda _m, a=arg: a, replacement)
                end = close
            if m.start() < pos:
                continue
            parts.append(code[pos:m.start()])
            parts.append(f" {replacement} ")
            pos = end
            changed = True
        parts.append(code[pos:])
        code = "".join(parts)
        if not changed:
            break
    return _remove_attributes(code)


def _remove_attributes(code: str) -> str:
    """``__attribute__((...))``, ``__declspec(...)``, ``[[...]]``, the function-like attribute macros and the
    attribute markers removed."""
    pattern = re.compile(r"\b(__attribute__|__declspec|" + "|".join(ATTRIBUTE_FUNCTION_MACROS) + r")\s*\(|\[\[")
    while (m := pattern.search(code)) is not None:
        start = m.end() - 1 if m.group(0) != "[[" else m.start()
        end = _balanced(code, start)
        code = code[:m.start()] + " " + code[end:]
    return re.sub(r"\b(" + "|".join(ATTRIBUTE_MACROS) + r")\b", " ", code)


def _split_top(text: str, separator: str = ",") -> list[str]:
    """``text`` split at ``separator`` outside parentheses, brackets and braces."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


# --------------------------------------------------------------------------- declarations

def _statements(code: str) -> list[str]:
    """Top-level statements: declarations up to ``;`` (brace bodies of types inside them), function
    bodies (``... ) { ... }``) as one statement ending with ``}``, ``extern "C" {`` / ``}`` unwrapped."""
    code = re.sub(r'\bextern\s+"C"\s*\{', ";", code)  # the block's opening; its closing brace is unmatched
    statements, depth, start, skip_to, opened = [], 0, 0, 0, 0
    for m in _SPECIAL.finditer(code):
        i, ch = m.start(), m.group()
        if i < skip_to:
            continue
        if ch == '"':
            skip_to = code.find('"', i + 1) + 1 or len(code)
        elif ch == "{":
            if depth == 0:
                opened = i
            depth += 1
        elif ch == "}":
            if depth == 0:  # the closing brace of an extern "C" block
                statements.append(code[start:i])
                start = i + 1
                continue
            depth -= 1
            if depth == 0 and re.search(r"\)\s*(const\s*)?$", code[start:opened]):
                statements.append(code[start:i + 1])  # a function definition
                start = i + 1
        elif depth == 0:  # ;
            statements.append(code[start:i + 1])
            start = i + 1
    if depth:
        raise _Unreadable("unbalanced braces")
    statements.append(code[start:])
    return [" ".join(s.split()) for s in statements if s.strip(" ;\n\t")]


def _function_names(statement: str) -> list[str]:
    """Names of the functions a statement declares or defines (for refusals)."""
    head = statement.split("{", 1)[0]
    return re.findall(r"\b([A-Za-z_]\w*)\s*\(", head)[:1]


def _c_linkage(code: str) -> set[str]:
    """Names declared with C linkage in the C++ view: inside ``extern "C" { ... }`` or after ``extern "C"``."""
    names: set[str] = set()
    for m in re.finditer(r'\bextern\s+"C"\s*(\{)?', code):
        end = len(code)
        if m.group(1):
            depth = 1
            for brace in _BRACES.finditer(code, m.end()):
                depth += 1 if brace.group() == "{" else -1
                if depth == 0:
                    end = brace.start()
                    break
        else:
            end = code.find(";", m.end()) + 1 or end
        names.update(_CALL.findall(code, m.end(), end))
    return names


def _type_names(ctype: str) -> list[str]:
    """The type names a parameter or return type uses (qualifiers and C's basic types left out)."""
    return [w for w in _IDENT.findall(ctype) if w not in _C_TYPE_WORDS and w not in _QUALIFIERS]


def _normal_type(text: str) -> str:
    """``const aclTensor*`` -> ``const aclTensor *``; ``int64_t * *`` -> ``int64_t **``."""
    text = " ".join(text.replace("*", " * ").split())
    return re.sub(r"(?<=\*) \*", "*", text).replace(" *", " *")


def _parameter(text: str, index: int, function: str) -> tuple[str, str]:
    """(C type, name) of one parameter; unnamed parameters are named ``argN``."""
    if "&" in text:
        raise ValueError(f"C++ reference parameter ({' '.join(text.split())}): no C declaration")
    if "=" in text:
        raise ValueError(f"C++ default argument ({' '.join(text.split())}): no C declaration")
    array = re.search(r"\[[^\]]*\]\s*$", text)
    if array:  # int64_t shape[] is int64_t *shape
        text = text[:array.start()]
    words = _IDENT.findall(text)
    m = re.match(r"^(.*?)\b([A-Za-z_]\w*)\s*$", text.strip(), re.S)
    named = m is not None and words and len(words) > 1 and words[-1] not in _C_TYPE_WORDS \
        and words[-1] not in _QUALIFIERS and not text.rstrip().endswith("*")
    if named and not _type_names(m.group(1)) and not any(w in _C_TYPE_WORDS for w in _IDENT.findall(m.group(1))):
        named = False  # "aclTensor" alone is a type, not a name
    if named:
        ctype, name = m.group(1), m.group(2)
    else:
        ctype, name = text, f"arg{index}"
    ctype = _normal_type(ctype + (" *" if array else ""))
    if not ctype or ctype == "const":
        raise ValueError(f"cannot read parameter {index} of {function}: {text.strip()!r}")
    return ctype, name


def _prototype(statement: str, path: str, known_types: frozenset[str], local_types: dict[str, str]) -> Prototype:
    """A prototype from one declaration statement (ValueError: why it cannot be declared for C)."""
    m = _FUNC.match(statement.rstrip(";").strip())
    if m is None:
        raise ValueError(f"cannot read the declaration {statement[:80]!r}")
    head, name, inner = m.groups()
    restype = _normal_type(re.sub(r"\b(extern|static|inline)\b", " ", head))
    if not restype:
        raise ValueError(f"{name} has no return type")
    params: list[tuple[str, str]] = []
    variadic = False
    parts = _split_top(inner)
    if parts == ["void"] or parts == [""]:
        parts = []
    for i, part in enumerate(parts):
        if part == "...":
            variadic = True
            continue
        params.append(_parameter(part, i, name))
    needed: list[str] = []
    for ctype in (restype, *(t for t, _ in params)):
        for word in _type_names(ctype):
            if word in local_types:
                if local_types[word] not in needed:
                    needed.append(local_types[word])
            elif word not in known_types:
                raise ValueError(f"unknown type {word!r} (declared neither by the aclnn-py headers nor by {path})")
    seen = [n for _, n in params]
    if len(set(seen)) != len(seen):
        raise ValueError(f"{name} names two parameters alike: {', '.join(seen)}")
    return Prototype(name, restype, tuple(params), path, variadic, tuple(needed))


def _local_types(statement: str) -> list[str]:
    """Type names a ``typedef`` / ``enum`` / ``struct`` declaration introduces."""
    if statement.startswith("typedef"):
        body = re.sub(r"\{.*\}", " ", statement)
        m = re.search(r"\b([A-Za-z_]\w*)\s*(\[[^\]]*\])?\s*;?$", body.rstrip(";").strip() + ";")
        pointer = re.search(r"\(\s*\*\s*([A-Za-z_]\w*)\s*\)", body)  # a function pointer typedef
        return [pointer.group(1)] if pointer else ([m.group(1)] if m else [])
    m = re.match(r"^(enum|struct|union)\s+([A-Za-z_]\w*)", statement)
    return [f"{m.group(1)} {m.group(2)}"] if m else []


def read(text: str, path: str, known_types: frozenset[str] | set[str]) -> HeaderReading:
    """Read one operator header. ``known_types``: the type names declared elsewhere (the project's runtime
    headers: :func:`aclnn_py.semantics.headers.type_names`)."""
    reading = HeaderReading(path)
    known = frozenset(known_types)
    try:
        c_code, c_macros = _preprocess(text, path, cplusplus=False)
        cxx_code, cxx_macros = _preprocess(text, path, cplusplus=True)
        c_statements = _statements(_expand(c_code, c_macros))
        linkage = _c_linkage(_expand(cxx_code, cxx_macros))
        cxx_functions = {n for s in _statements(_expand(cxx_code, cxx_macros)) for n in _function_names(s)}
    except _Unreadable as exc:
        reading.problem = str(exc)
        for name in dict.fromkeys(re.findall(r"\b(aclnn\w+)\s*\(", _strip_comments(text))):
            reading.refused[name] = f"the header cannot be read: {exc}"
        return reading
    local: dict[str, str] = {}
    for statement in c_statements:
        if statement.startswith(_CXX_WORDS):
            for name in _function_names(statement):
                if name not in known and name not in local:  # a type (std::function<aclnnStatus(...)>) is no function
                    reading.refused[name] = f"C++ declaration in the C part of the header: {statement[:60]!r}"
            continue
        introduced = _local_types(statement)
        is_type = statement.startswith(("typedef", "enum", "struct", "union")) and (
            introduced or "(" not in statement.split("{", 1)[0])
        if is_type:
            for name in introduced:
                local[name.split()[-1]] = local[name] = statement if statement.endswith(";") else statement + ";"
            continue
        if "(" not in statement:
            continue  # a variable or a stray token: nothing to call
        names = _function_names(statement)
        if not names:
            continue
        name = names[0]
        if statement.endswith("}"):
            reading.refused[name] = "defined in the header (a static inline function): no library exports it"
            continue
        try:
            proto = _prototype(statement, path, known, local)
        except ValueError as exc:
            reading.refused[name] = str(exc)
            continue
        if name not in linkage:
            reading.refused[name] = 'declared without extern "C" (C++ linkage): the library exports a mangled name'
            continue
        previous = reading.functions.get(name)
        if previous is not None and previous.declaration != proto.declaration:
            reading.refused[name] = f"declared twice, differently: {previous.declaration} / {proto.declaration}"
            del reading.functions[name]
        elif name not in reading.refused:
            reading.functions[name] = proto
    for name in sorted(cxx_functions - set(reading.functions) - set(reading.refused)):
        if name.startswith("aclnn"):
            reading.refused[name] = "declared for C++ only (inside #ifdef __cplusplus)"
    return reading


def read_file(path, known_types: frozenset[str] | set[str], label: str | None = None) -> HeaderReading:
    """:func:`read` of a file (``label``: the path shown in messages, default the file's)."""
    from pathlib import Path

    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return HeaderReading(label or str(path), problem=f"cannot read {path}: {exc.strerror or exc}")
    return read(text, label or str(path), known_types)
