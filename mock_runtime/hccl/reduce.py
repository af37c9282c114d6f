"""What a collective delivers: HcclAllReduce's numerics (rank-order left fold; FP16/BFP16 in
float32, rounded once; integers wrap) and the result of each kind of collective.

HcclAllReduce is computed once, by the hub, in blocks of elements: a block of every rank's
input is folded in a cache-sized accumulator and written out before the next block is read.
The blocks run on the compute pool (:mod:`mock_runtime.core.compute`), element-wise units
one per core. When every rank is in the hub's process, each contributes a
:class:`Contribution` naming its receive buffer too, and the blocks are written straight
into every receive buffer (the collective then delivers None: nothing left to copy), unless
a receive buffer overlaps another rank's input (in place on its own input is fine: each
block is read in full before it is written).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from aclnn_py.semantics import dtypes

from mock_runtime.core import compute
from mock_runtime.core.errors import C

_WIDENED = {C["HCCL_DATA_TYPE_FP16"], C["HCCL_DATA_TYPE_BFP16"]}
UFUNCS = {
    C["HCCL_REDUCE_SUM"]: np.add, C["HCCL_REDUCE_PROD"]: np.multiply,
    C["HCCL_REDUCE_MAX"]: np.maximum, C["HCCL_REDUCE_MIN"]: np.minimum,
}


def host_dtype(hccl_dtype: int) -> np.dtype:
    """The NumPy dtype of a reducible HcclDataType (from the dtype table)."""
    return dtypes.from_hccl(hccl_dtype).host


_BLOCK_BYTES = 256 << 10  # one rank's share of a block: the fold stays in the core's cache
_UNITS_PER_CORE = 4  # pool units per core (each folds a run of blocks)


@dataclass(frozen=True)
class Contribution:
    """A rank's HcclAllReduce input and its receive buffer (same dtype and length), from a
    rank in the hub's process: the hub writes the result into ``recv`` itself."""

    data: np.ndarray
    recv: np.ndarray


def reduce_arrays(parts: list[np.ndarray], hccl_dtype: int, op: int,
                  outs: list[np.ndarray] | None = None) -> np.ndarray | None:
    """Reduce ``parts`` (one per rank, rank order) as HcclAllReduce does: into every array of
    ``outs`` (returns None), or into a fresh array (returned)."""
    target = host_dtype(hccl_dtype)
    compute_dtype = np.dtype(np.float32) if hccl_dtype in _WIDENED else target
    ufunc = UFUNCS[op]
    fresh = outs is None
    if fresh:
        outs = [np.empty(parts[0].shape, target)]
    count = parts[0].size
    block = max(1, _BLOCK_BYTES // max(1, compute_dtype.itemsize))
    per_unit = -(-count // (compute.pool.cores * _UNITS_PER_CORE))
    per_unit = -(-per_unit // block) * block  # whole blocks

    def fold(start: int) -> None:
        wide = np.empty(block, compute_dtype) if compute_dtype != target else None
        for lo in range(start, min(start + per_unit, count), block):
            hi = min(lo + block, count)
            # the fold runs in the first output itself unless it needs a wider type
            acc = outs[0][lo:hi] if wide is None else wide[:hi - lo]
            if len(parts) > 1:
                ufunc(parts[0][lo:hi], parts[1][lo:hi], out=acc, dtype=compute_dtype)
            else:
                np.copyto(acc, parts[0][lo:hi])
            for part in parts[2:]:
                ufunc(acc, part[lo:hi], out=acc)  # 16-bit floats widen exactly to float32
            if wide is not None:
                outs[0][lo:hi] = acc  # one rounding to the type
                acc = outs[0][lo:hi]
            for out in outs[1:]:
                out[lo:hi] = acc

    compute.pool.map(fold, range(0, count, per_unit) if count else [])
    return outs[0] if fresh else None


def _overlap(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.may_share_memory(a, b))


def _same_bytes(a: np.ndarray, b: np.ndarray) -> bool:
    return a.__array_interface__["data"][0] == b.__array_interface__["data"][0] and a.nbytes == b.nbytes


def all_reduce(parts: list, hccl_dtype: int, op: int) -> np.ndarray | None:
    """HcclAllReduce's result from every rank's part (an array, or a :class:`Contribution`):
    None when it was written into every receive buffer, else the array every rank copies."""
    direct = all(isinstance(p, Contribution) for p in parts)
    data = [p.data if isinstance(p, Contribution) else p for p in parts]
    if direct:
        recvs = [p.recv for p in parts]
        direct = not any(_overlap(recv, d) and not (i == j and _same_bytes(recv, d))
                         for i, recv in enumerate(recvs) for j, d in enumerate(data))
    if not direct:
        return reduce_arrays(data, hccl_dtype, op)
    reduce_arrays(data, hccl_dtype, op, outs=recvs)
    return None


class Gathered(list):
    """An exchange's result: every rank's array in rank order, the contributions themselves
    (no stacked copy), shared read-only by the ranks of this process; a rank in another
    process receives them stacked on a new first axis (:mod:`.wire`)."""

    @cached_property
    def stacked(self) -> np.ndarray:
        """The arrays stacked on a new first axis (made once, for the wire)."""
        return np.stack(self)


def combine(spec: dict, parts: list) -> np.ndarray | Gathered | None:
    """The result every rank receives (an exchange's :class:`Gathered` contributions;
    otherwise never a view of a contribution; None for an HcclAllReduce written into the
    ranks' receive buffers)."""
    kind = spec["kind"]
    if kind == "barrier":
        return None
    if kind == "exchange":
        return Gathered(parts)
    if kind == "allreduce":
        return all_reduce(parts, spec["dtype"], spec["op"])
    raise ValueError(f"unknown collective kind {kind!r}")
