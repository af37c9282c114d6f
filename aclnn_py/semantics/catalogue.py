"""The operator catalogue: where each operator is declared, and what the pure layer knows about it.

Two halves:

* :class:`HeaderIndex` -- the operator headers of some directories (the project's
  ``include/aclnnop``, a CANN toolkit's, a custom package's), indexed cheaply (each file's
  text searched for ``aclnn...(`` names, no parsing) and read with
  :mod:`.operator_headers` only when a function is asked for, or all at once for a listing.
  The first directory declaring a function wins; a later different declaration of it is
  reported as shadowed, never silently used.
* :class:`OperatorRules` -- per operator, what the pure layer adds to its header: the split
  library CANN exports it from, canonical argument names where they differ from the header's
  (QuantMatmulAllReduce V1-V3's ``dequantScale`` is V4's ``x2_scale``), and optionally the
  rules (``check``), the output inference (``outputs``) and the Python defaults of required
  parameters (``defaults``). A pure-layer module declares them in
  a module-level ``OPERATORS`` tuple; :func:`rules` finds every such module of this package
  (``aclnn_py.semantics.*`` and its sub-packages' ``__init__``), so adding an operator adds no
  line here.

``check(profile=..., **arguments)`` and ``outputs(profile=..., **arguments)`` take the call's
arguments by canonical name, as the binding and the mock convert them from Python or C values:
a tensor as its :class:`~.descriptors.TensorDesc` (None when NULL), a tensor list as a list of
them, an int array as a tuple of ints, a scalar as ``(aclDataType, value)``, a string as str,
numbers as numbers. ``check`` raises :class:`~.status.Violation` (what the C function returns)
and returns the call's classification; ``outputs`` returns the descriptors of the outputs the
arguments imply, by name (the binding allocates them when the caller passes none).
"""
from __future__ import annotations

import functools
import importlib
import pkgutil
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from . import headers
from .operator_headers import HeaderReading, Prototype, read_file
from .signatures import Signature, is_phase1, is_phase2, signature

__all__ = ["Declaration", "HeaderIndex", "OperatorRules", "all_rules", "project_index", "project_operator_dir",
           "project_signature", "rules"]

_NAMES = re.compile(rb"\b(aclnn\w+)\s*\(")


@dataclass(frozen=True)
class OperatorRules:
    """What the pure layer says about one operator (entry point) beyond its header."""

    op: str  # the phase-2 function, or the single function (aclnnCalculateMatmulWeightSizeV2)
    #: CANN's split library exporting it (``opapi_math``, ``opapi_nn``, ``opapi_transformer``,
    #: ``opapi_cv``; a custom package's ``cust_opapi``); the classic ``libopapi`` exports every one.
    library: str
    names: Mapping[str, str] = field(default_factory=dict)  # C parameter name -> canonical name
    check: Callable[..., Any] | None = None
    outputs: Callable[..., Mapping[str, Any]] | None = None
    #: C parameters the operator writes although the header's conventions read them as inputs
    #: (:meth:`~.signatures.Signature.writing`: GroupedMatmul V1-V3's ``const aclTensorList *y``,
    #: WeightQuantBatchMatmulV2's ``const aclTensor *y``).
    written: tuple[str, ...] = ()
    #: canonical name -> the value a Python caller gets when passing none (the binding's
    #: convenience, documented with its source; C has no defaults): Mm's ``cube_math_type``.
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def signature(self, declared: Signature) -> Signature:
        """``declared`` (the header's) with the canonical names and the outputs it writes."""
        signature = declared.renamed(self.names) if self.names else declared
        return signature.writing(self.written) if self.written else signature


def _rule_modules() -> Iterable[str]:
    package = importlib.import_module(__package__)
    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("_") and info.name != "catalogue":
            yield f"{__package__}.{info.name}"


@functools.lru_cache(maxsize=None)
def _all_rules() -> dict[str, OperatorRules]:
    found: dict[str, OperatorRules] = {}
    for module in _rule_modules():
        for entry in getattr(importlib.import_module(module), "OPERATORS", ()):
            if entry.op in found:
                raise ValueError(f"{entry.op}: rules declared twice ({module})")
            found[entry.op] = entry
    return found


def rules(op: str) -> OperatorRules | None:
    """The pure layer's :class:`OperatorRules` of ``op`` (None: only its header is known)."""
    return _all_rules().get(op)


def all_rules() -> dict[str, OperatorRules]:
    """Every operator the pure layer has rules for, by name."""
    return dict(_all_rules())


def project_operator_dir() -> Path:
    """``include/aclnnop`` of this package: the operators the project declares."""
    return headers.include_dir() / "aclnnop"


@functools.lru_cache(maxsize=None)
def project_index() -> "HeaderIndex":
    """The index of the project's operator headers."""
    return HeaderIndex([(project_operator_dir(), "aclnn-py")])


@functools.lru_cache(maxsize=None)
def project_signature(op: str) -> Signature:
    """The signature of one of the project's operators: its header's, with its rules' canonical
    names (ValueError when its header does not declare it)."""
    declared = project_index().signature(op)
    if declared is None:
        raise ValueError(f"{op} is not declared by the headers of {project_operator_dir()}")
    entry = rules(op)
    return declared if entry is None else entry.signature(declared)


@dataclass(frozen=True)
class Declaration:
    """One function as the index found it: its prototype, or why it cannot be declared."""

    name: str
    header: Path
    origin: str  # where the directory comes from ("aclnn-py", "ACLNN_PY_INCLUDE", "CANN toolkit"...)
    prototype: Prototype | None
    reason: str | None = None  # why it is not declared (prototype None)
    shadowed: tuple[str, ...] = ()  # other declarations of the name, ignored (header: why)

    @property
    def declared(self) -> bool:
        return self.prototype is not None


class HeaderIndex:
    """The operator headers (``aclnn*.h``, as CANN names them; not recursive: a toolkit's
    ``aclnnop/level2`` holds copies) of ``directories``, in order of precedence."""

    def __init__(self, directories: Iterable[tuple[Path, str]]) -> None:
        self.directories = [(Path(d), origin) for d, origin in directories]
        self._lock = threading.Lock()
        self._candidates: dict[str, list[tuple[Path, str]]] | None = None
        self._readings: dict[Path, HeaderReading] = {}

    def _index(self) -> dict[str, list[tuple[Path, str]]]:
        """Function name -> the headers whose text names it, in precedence order (cheap: no parsing)."""
        if self._candidates is None:
            candidates: dict[str, list[tuple[Path, str]]] = {}
            seen: set[Path] = set()
            for directory, origin in self.directories:
                try:
                    files = sorted(p for p in directory.glob("aclnn*.h") if p.is_file())
                except OSError:
                    continue
                for path in files:
                    real = path.resolve()
                    if real in seen:
                        continue
                    seen.add(real)
                    try:
                        text = path.read_bytes()
                    except OSError:
                        continue
                    for raw in dict.fromkeys(_NAMES.findall(text)):
                        candidates.setdefault(raw.decode(), []).append((path, origin))
            self._candidates = candidates
        return self._candidates

    def reading(self, path: Path) -> HeaderReading:
        """The header at ``path`` read (once)."""
        reading = self._readings.get(path)
        if reading is None:
            reading = read_file(path, headers.load().type_names)
            self._readings[path] = reading
        return reading

    def names(self) -> list[str]:
        """Every ``aclnn...`` name the headers' texts mention (candidates: a comment counts too)."""
        with self._lock:
            return sorted(self._index())

    def find(self, name: str) -> Declaration | None:
        """The declaration of ``name`` (None when no header declares or refuses it)."""
        with self._lock:
            places = self._index().get(name, ())
            found: Declaration | None = None
            shadowed: list[str] = []
            for path, origin in places:
                reading = self.reading(path)
                proto, reason = reading.functions.get(name), reading.refused.get(name)
                if proto is None and reason is None:
                    continue  # only mentioned (a comment)
                if found is None:
                    found = Declaration(name, path, origin, proto, reason)
                elif proto is None or found.prototype is None or proto.declaration != found.prototype.declaration:
                    shadowed.append(f"{path}: {reason or proto.declaration}")
            if found is not None and shadowed:
                found = Declaration(found.name, found.header, found.origin, found.prototype, found.reason,
                                    tuple(shadowed))
            return found

    def operator(self, op: str) -> tuple[Declaration | None, Declaration | None]:
        """The declarations of ``op``'s two functions (``{op}GetWorkspaceSize``, ``{op}``)."""
        return self.find(f"{op}GetWorkspaceSize"), self.find(op)

    def signature(self, op: str) -> Signature | None:
        """The signature of ``op`` as its header declares it: a pair's (phase 1 and phase 2 both
        declared), else a single function's; None when neither is declared."""
        phase1, phase2 = self.operator(op)
        if phase1 is not None and phase1.declared and phase2 is not None and phase2.declared \
                and is_phase1(phase1.prototype) and is_phase2(phase2.prototype):
            return signature(phase1.prototype, two_phase=True)
        if phase2 is not None and phase2.declared and not is_phase2(phase2.prototype):
            return signature(phase2.prototype, two_phase=False)
        return None

    def readings(self) -> list[tuple[Path, str, HeaderReading]]:
        """Every header read (for a full listing: a second of work per thousand headers)."""
        with self._lock:
            paths = dict.fromkeys((p, o) for places in self._index().values() for p, o in places)
            return [(path, origin, self.reading(path)) for path, origin in paths]
