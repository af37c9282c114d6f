"""CANN's precision standard for comparing operator outputs with golden references.

MERE = mean(|a - g| / (|g| + 1e-7)) and MARE = max(...) over positions where both
values are finite; a float output passes when MERE < T and MARE < 10 * T, with T
from :data:`THRESHOLDS`, and its NaN/inf positions match the golden's exactly.
Integer (and bool) outputs must be exactly equal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .dtypes import EXACT, host_dtype, name_of

__all__ = ["THRESHOLDS", "CompareResult", "assert_close", "compare", "round_to"]

THRESHOLDS: dict[str, float] = {
    "float16": 2.0**-10,
    "bfloat16": 2.0**-7,
    "float32": 2.0**-13,
    "float8_e4m3fn": 2.0**-3,
    "float8_e5m2": 2.0**-2,
}
_EPS = 1e-7


@dataclass(frozen=True)
class CompareResult:
    """Outcome of :func:`compare`.

    ``threshold`` is T (0.0 for exact types); ``mismatches`` counts unequal
    elements for exact types, and NaN/inf positions that differ for floats.
    """

    name: str
    mere: float
    mare: float
    threshold: float
    passed: bool
    mismatches: int
    size: int

    def __str__(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        if self.name in EXACT:
            return (f"{self.name} {verdict} (exact): {self.mismatches} of {self.size} "
                    f"elements differ; MERE={self.mere:.3e} MARE={self.mare:.3e}")
        return (f"{self.name} {verdict}: MERE={self.mere:.3e} (limit {self.threshold:.3e}), "
                f"MARE={self.mare:.3e} (limit {10 * self.threshold:.3e}), "
                f"NaN/inf position mismatches: {self.mismatches} of {self.size}")


def _relative_errors(a: np.ndarray, g: np.ndarray) -> tuple[float, float]:
    if a.size == 0:
        return 0.0, 0.0
    rel = np.abs(a - g) / (np.abs(g) + _EPS)
    return float(rel.mean()), float(rel.max())


def compare(actual: np.ndarray, golden: np.ndarray, name: str | None = None) -> CompareResult:
    """Compare an output with its golden under CANN's precision standard.

    ``name`` is the output dtype name choosing the rule (default: the dtype of
    ``actual``). ``golden`` may be in the same dtype or a wider one (e.g. float32
    or float64); both are converted to float64 for the ratios.
    """
    act, gold = np.asarray(actual), np.asarray(golden)
    if act.shape != gold.shape:
        raise ValueError(f"shape mismatch: actual {act.shape} vs golden {gold.shape}")
    if name is None:
        name = name_of(act)
    a, g = act.astype(np.float64), gold.astype(np.float64)
    if name in EXACT:
        mere, mare = _relative_errors(a, g)
        unequal = int(np.count_nonzero(act != gold))
        return CompareResult(name, mere, mare, 0.0, unequal == 0, unequal, act.size)
    if name not in THRESHOLDS:
        raise ValueError(f"no precision standard for {name!r}; known: "
                         f"{', '.join(sorted(THRESHOLDS))} and integer types")
    threshold = THRESHOLDS[name]
    finite_a, finite_g = np.isfinite(a), np.isfinite(g)
    both_finite = finite_a & finite_g
    same_special = ~finite_a & ~finite_g & ((a == g) | (np.isnan(a) & np.isnan(g)))
    mismatches = int(np.count_nonzero(~both_finite & ~same_special))
    mere, mare = _relative_errors(a[both_finite], g[both_finite])
    passed = mismatches == 0 and mere < threshold and mare < 10 * threshold
    return CompareResult(name, mere, mare, threshold, passed, mismatches, act.size)


def assert_close(actual: np.ndarray, golden: np.ndarray, name: str | None = None) -> CompareResult:
    """:func:`compare`, raising AssertionError with the result text when it fails."""
    result = compare(actual, golden, name)
    if not result.passed:
        raise AssertionError(str(result))
    return result


def round_to(values_fp32: np.ndarray, name: str) -> np.ndarray:
    """Cast float32 values to float16/bfloat16/float32 with round-half-to-even (RINT)."""
    if name not in ("float16", "bfloat16", "float32"):
        raise ValueError(f"round_to supports float16, bfloat16 and float32, not {name!r}")
    return np.asarray(values_fp32, dtype=np.float32).astype(host_dtype(name))
