"""Permute modes: 2-D to 5-D orders (negative dims too), several dtypes, a strided input.

Permuting moves values without computing: every output is compared exactly (as bytes) with
:func:`aclnn_py.semantics.permute.compute`.
"""
from __future__ import annotations

from functools import partial

import numpy as np

from ..ops import permute
from ..semantics import dtypes
from ..semantics import permute as golden
from ..tensor import Tensor
from .framework import Comparison, Host, Mode, close_after, exact, rng_for

__all__ = ["modes"]

#: (dtype, shape, dims, strided input)
CASES = [("float16", (64, 96), (1, 0), False), ("float32", (4, 6, 8), (2, 0, 1), False),
         ("bfloat16", (2, 3, 4, 5), (0, 2, 3, 1), False), ("int8", (2, 3, 4, 5, 6), (-1, 0, 3, 1, 2), False),
         ("int64", (6, 10, 4), (1, 2, 0), True)]


def _run(name: str, shape: tuple[int, ...], dims: tuple[int, ...], strided: bool, host: Host) -> list[Comparison]:
    rng = rng_for(f"permute/{name}")
    values = rng.integers(-100, 100, shape).astype(dtypes.host_dtype(name))
    axes = tuple(d % len(shape) for d in dims)

    def body(rank) -> np.ndarray:
        made = []
        try:
            if strided:  # every other element of the last dim of a buffer twice as wide
                wide = Tensor.from_numpy(np.repeat(values, 2, axis=-1), stream=rank.stream)
                made.append(wide)
                strides = wide.desc.strides[:-1] + (2,)
                source = wide.view(shape, strides)
                made.append(source)
            else:
                source = values
            out = permute(source, dims, stream=rank.stream)
            made.append(out)
            rank.stream.synchronize()
            return out.to_numpy()
        finally:
            close_after(rank.stream, made)

    got = host.ranks.run(body)[0]
    return [exact("out", np.asarray(got).view(np.uint8), golden.compute(values, axes).view(np.uint8))]


def modes() -> list[Mode]:
    return [Mode(f"permute/{name}-{'x'.join(map(str, shape))}-dims={','.join(map(str, dims))}"
                 + ("-strided" if strided else ""), partial(_run, name, shape, dims, strided))
            for name, shape, dims, strided in CASES]
