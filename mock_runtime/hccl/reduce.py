"""What a collective delivers: HcclAllReduce's numerics (rank-order left fold; FP16/BFP16 in
float32, rounded once; integers wrap) and the result of each kind of collective."""
from __future__ import annotations

import numpy as np

from aclnn_py.spec import dtypes

from mock_runtime.core.errors import C

#: The HcclDataTypes HcclAllReduce reduces (their host dtypes come from the dtype table).
REDUCIBLE = frozenset(C[f"HCCL_DATA_TYPE_{n}"] for n in (
    "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64", "FP16", "BFP16", "FP32", "FP64"))
_WIDENED = {C["HCCL_DATA_TYPE_FP16"], C["HCCL_DATA_TYPE_BFP16"]}
UFUNCS = {
    C["HCCL_REDUCE_SUM"]: np.add, C["HCCL_REDUCE_PROD"]: np.multiply,
    C["HCCL_REDUCE_MAX"]: np.maximum, C["HCCL_REDUCE_MIN"]: np.minimum,
}


def host_dtype(hccl_dtype: int) -> np.dtype:
    """The NumPy dtype of a reducible HcclDataType (from the dtype table)."""
    return dtypes.from_hccl(hccl_dtype).host


def reduce_arrays(parts: list[np.ndarray], hccl_dtype: int, op: int) -> np.ndarray:
    """Reduce ``parts`` (one per rank, rank order) as HcclAllReduce does: a fresh array."""
    target = host_dtype(hccl_dtype)
    compute = np.dtype(np.float32) if hccl_dtype in _WIDENED else target
    ufunc = UFUNCS[op]
    acc = parts[0].astype(compute, copy=True)
    for part in parts[1:]:
        ufunc(acc, part if part.dtype == compute else part.astype(compute), out=acc)
    return acc.astype(target) if compute != target else acc


def combine(spec: dict, parts: list) -> np.ndarray | None:
    """The result every rank receives (never a view of a contribution)."""
    kind = spec["kind"]
    if kind == "barrier":
        return None
    if kind == "broadcast":
        return np.array(parts[spec["root"]], copy=True)
    if kind == "allgather":
        return np.concatenate(parts)
    if kind == "exchange":
        return np.stack(parts)
    if kind == "allreduce":
        return reduce_arrays(parts, spec["dtype"], spec["op"])
    raise ValueError(f"unknown collective kind {kind!r}")
