"""Cast modes: float narrowing and widening, float to integer (truncation, saturation), integer
narrowing and BOOL on every profile; HiFloat8, FLOAT8, FLOAT4 and INT4 on the Ascend 950.

Inputs stay where CANN's document guarantees exact results (INT32 to INT8 on Atlas A2/A3: within
(-2048, 1920); here within INT8's range, so no rule of wrapping is needed). Integer, BOOL and
8/4-bit outputs are compared exactly with the golden of :mod:`aclnn_py.semantics.cast`, other
float outputs under CANN's precision standard of their dtype.
"""
from __future__ import annotations

from functools import partial

import numpy as np

from ..ops import cast
from ..semantics import dtypes
from ..semantics.cast import golden
from ..semantics.precision import compare
from ..tensor import Tensor
from .framework import Comparison, Host, Mode, close_after, exact, rng_for

__all__ = ["modes"]

#: (source, target, profiles or None for every one)
CASES = [("float32", "float16", None), ("float32", "bfloat16", None), ("float16", "float32", None),
         ("float32", "int32", None), ("float16", "int8", None), ("int32", "int8", None), ("int64", "float32", None),
         ("bfloat16", "float16", None), ("float32", "bool", None), ("float64", "float32", None),
         ("float32", "hifloat8", ("950",)), ("float16", "float8_e4m3fn", ("950",)),
         ("bfloat16", "float4_e2m1", ("950",)), ("int32", "int4", ("950",))]
_EXACT_FLOATS = ("hifloat8", "float8_e4m3fn", "float8_e5m2", "float4_e2m1")


def _values(source: str, target: str) -> np.ndarray:
    rng = rng_for(f"cast/{source}->{target}")
    if source in dtypes.INTEGERS:
        high = 8 if target == "int4" else 128 if target == "int8" else 1 << 20
        return rng.integers(-high, high, (16, 24)).astype(dtypes.host_dtype(source))
    scale = 100.0 if target in dtypes.INTEGERS else 4.0
    values = rng.uniform(-scale, scale, (16, 24))
    if target == "bool":
        values[::3] = 0.0
    return values.astype(dtypes.host_dtype(source))


def _run(source: str, target: str, host: Host) -> list[Comparison]:
    values = _values(source, target)

    def body(rank) -> np.ndarray:
        made = []
        try:
            out = cast(values, target, stream=rank.stream)
            made.append(out)
            rank.stream.synchronize()
            return out.to_numpy()
        finally:
            close_after(rank.stream, made)

    got = host.ranks.run(body)[0]
    want = golden.convert(values, source, target)
    if target in dtypes.EXACT or target in _EXACT_FLOATS:
        return [exact("out", np.asarray(got).view(np.uint8) if target in _EXACT_FLOATS else got,
                      np.asarray(want).view(np.uint8) if target in _EXACT_FLOATS else want)]
    return [Comparison("out", compare(got, want, target))]


def modes() -> list[Mode]:
    return [Mode(f"cast/{source}->{target}", partial(_run, source, target), profiles=profiles,
                 feature=f"aclnnCast {source} -> {target}") for source, target, profiles in CASES]
