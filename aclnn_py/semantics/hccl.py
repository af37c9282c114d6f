"""HCCL's operations as data: which data types and reduce operations each one accepts on each
product, and the rule every count/displacement layout of the V-variants obeys.

Sources. The per-product lists are those of CANN's HCCL API reference (hicann/hccl
``docs/zh/api_ref/comm_op_interface/<Operation>.md``, sections "dataType说明" and "op说明",
2026-08). Where that reference and the code disagree the code decides: the Ascend 950 path of
hicann/hccl (``src/ops/op_common/op_common.cc``: ``CheckDataType`` and ``CheckReduceOp``, used by
every ``src/ops/*/..._op.cc``) accepts for a reduction INT8, INT16, INT32, INT64, UINT64, FP16,
FP32, FP64 and BFP16, PROD not for INT16 and BFP16, and for data movement every type but INT128
-- the reference's Ascend 950 lists say the same, except HcclReduceScatterV's, which omits UINT64
and FP64 (the code takes them). On Atlas A2/A3 the calls go to hcomm's legacy
implementation, whose checks (``HcomCheckDataType``, ``HcomCheckReduceDataType``) pass the
reference's lists on to the executors; the reference's lists are taken as they are. A type or
operation outside a list is ``HCCL_E_NOT_SUPPORT`` (the code's status for both).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .dtypes import HcclDataType
from .headers import load

_OPS = {v: k.removeprefix("HCCL_REDUCE_").lower() for k, v in load().enums["HcclReduceOp"].items() if v != 255}

#: Data movement on Atlas A2/A3: the reference's twelve types.
MOVE_A2 = frozenset({"INT8", "UINT8", "INT16", "UINT16", "INT32", "UINT32", "INT64", "UINT64",
                     "FP16", "FP32", "FP64", "BFP16"})
#: Data movement on Ascend 950: also the 8-bit floats.
MOVE_950 = MOVE_A2 | {"HIF8", "FP8E4M3", "FP8E5M2", "FP8E8M0"}
#: Reductions on Atlas A2/A3 (AllReduce, ReduceScatter, Reduce).
REDUCE_A2 = frozenset({"INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "BFP16"})
#: Reductions on Ascend 950: also UINT64 and FP64.
REDUCE_950 = REDUCE_A2 | {"UINT64", "FP64"}
ALL_OPS = frozenset({"sum", "prod", "max", "min"})
#: PROD is refused for these types on every product.
PROD_EXCLUDED = frozenset({"INT16", "BFP16"})


@dataclass(frozen=True)
class Operation:
    """One call of ``hccl.h``: its data types and reduce operations per product profile."""

    name: str
    dtypes: dict[str, frozenset[str]]
    ops: dict[str, frozenset[str]] | None = None  # None: the call has no reduce operation

    def dtype_problem(self, profile: str, hccl_dtype: int) -> str | None:
        """Why ``hccl_dtype`` is refused on ``profile`` (None when accepted)."""
        label = _label(hccl_dtype)
        allowed = self.dtypes[profile]
        if label in allowed:
            return None
        return (f"{self.name} does not support dataType {label} on {_PRODUCT[profile]} "
                f"(supported: {', '.join(sorted(allowed, key=_ORDER.index))})")

    def op_problem(self, profile: str, hccl_dtype: int, op: int) -> str | None:
        """Why reduce operation ``op`` is refused for ``hccl_dtype`` on ``profile`` (None when accepted)."""
        assert self.ops is not None
        name = _OPS.get(int(op))
        allowed = self.ops[profile]
        if name is None:
            return f"{self.name}: op {op} is not an HcclReduceOp (SUM 0, PROD 1, MAX 2, MIN 3)"
        if name not in allowed:
            return (f"{self.name} does not support op {name.upper()} on {_PRODUCT[profile]} "
                    f"(supported: {', '.join(o.upper() for o in ('sum', 'prod', 'max', 'min') if o in allowed)})")
        if name == "prod" and _label(hccl_dtype) in PROD_EXCLUDED:
            return f"{self.name} does not support op PROD for dataType {_label(hccl_dtype)} (PROD excludes INT16 and BFP16)"
        return None


_PRODUCT = {"A2": "Atlas A2", "A3": "Atlas A3", "950": "Ascend 950"}
_ORDER = ["INT8", "UINT8", "INT16", "UINT16", "INT32", "UINT32", "INT64", "UINT64", "FP16", "FP32", "FP64",
          "BFP16", "HIF8", "FP8E4M3", "FP8E5M2", "FP8E8M0", "INT128"]


def _label(hccl_dtype: int) -> str:
    try:
        return HcclDataType(int(hccl_dtype)).name.removeprefix("HCCL_DATA_TYPE_")
    except ValueError:
        return f"<unknown HcclDataType {hccl_dtype}>"


def _per_profile(a2: frozenset, a3: frozenset, b950: frozenset) -> dict[str, frozenset]:
    return {"A2": a2, "A3": a3, "950": b950}


_MOVE = _per_profile(MOVE_A2, MOVE_A2, MOVE_950)
_REDUCE = _per_profile(REDUCE_A2, REDUCE_A2, REDUCE_950)
_ALL = _per_profile(ALL_OPS, ALL_OPS, ALL_OPS)

#: Every operation of ``hccl.h`` (HcclBarrier of ``hccl_comm.h`` moves no data).
OPERATIONS: dict[str, Operation] = {op.name: op for op in (
    Operation("HcclAllReduce", _REDUCE, _ALL),
    Operation("HcclBroadcast", _MOVE),
    Operation("HcclReduceScatter", _REDUCE, _ALL),
    # ReduceScatterV: Atlas A2 without INT64 and A2/A3 without PROD (the reference); on Ascend 950
    # the code's CheckDataType(dataType, true) also takes UINT64 and FP64, which the reference omits.
    Operation("HcclReduceScatterV", _per_profile(REDUCE_A2 - {"INT64"}, REDUCE_A2, REDUCE_950),
              _per_profile(ALL_OPS - {"prod"}, ALL_OPS - {"prod"}, ALL_OPS)),
    Operation("HcclScatter", _MOVE),
    Operation("HcclAllGather", _MOVE),
    Operation("HcclAllGatherV", _MOVE),
    Operation("HcclSend", _MOVE),
    Operation("HcclRecv", _MOVE),
    Operation("HcclAlltoAllVC", _MOVE),
    Operation("HcclAlltoAllV", _MOVE),
    Operation("HcclAlltoAll", _MOVE),
    Operation("HcclReduce", _REDUCE, _ALL),
    Operation("HcclBatchSendRecv", _MOVE),
)}


def segments_problem(counts: Sequence[int], displs: Sequence[int], capacity: int | None,
                     counts_name: str, displs_name: str, buffer_name: str, disjoint: bool) -> str | None:
    """The rule of a V-variant's layout: segment ``i`` is elements ``[displs[i], displs[i] +
    counts[i])`` of the buffer, which holds ``capacity`` elements (None: unknown, not checked);
    ``disjoint``: no two non-empty segments may share an element (segments written by the call).
    The first violation, in words naming the parameters and the values; None when it holds."""
    for i, (count, displ) in enumerate(zip(counts, displs)):
        if count and capacity is not None and displ + count > capacity:
            return (f"{displs_name}[{i}] + {counts_name}[{i}] = {displ} + {count} = {displ + count} elements "
                    f"exceed {buffer_name} ({capacity} elements)")
    if disjoint:
        spans = sorted((d, d + c, i) for i, (c, d) in enumerate(zip(counts, displs)) if c)
        for (_, end, i), (begin, _, j) in zip(spans, spans[1:]):
            if begin < end:
                a, b = sorted((i, j))
                return (f"{buffer_name} segments {a} and {b} overlap: elements "
                        f"[{displs[a]}, {displs[a] + counts[a]}) and [{displs[b]}, {displs[b] + counts[b]}) "
                        f"({displs_name}, {counts_name})")
    return None


def matrix_layout(matrix: Sequence[Sequence[int]], rank: int) -> tuple[list[int], list[int], list[int], list[int]]:
    """HcclAlltoAllVC's send counts, send displacements, receive counts and receive displacements of
    ``rank`` from the count matrix (``matrix[i][j]``: what rank i sends to rank j): each rank's
    segments packed in rank order (hicann/hccl ``src/ops/all_to_all_v/all_to_all_v_op.cc``,
    ``ConvertAlltoAllVCParam``)."""
    send_counts = [int(c) for c in matrix[rank]]
    recv_counts = [int(row[rank]) for row in matrix]
    return send_counts, _packed(send_counts), recv_counts, _packed(recv_counts)


def _packed(counts: Sequence[int]) -> list[int]:
    displs, offset = [], 0
    for count in counts:
        displs.append(offset)
        offset += count
    return displs
