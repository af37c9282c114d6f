"""What the hub computes for the segmented collectives: every call that moves segments between
ranks (ReduceScatter[V], Reduce, Scatter, AllGatherV, AlltoAll[V|VC], Send/Recv,
BatchSendRecv) is one *transfer*: each rank sends a segment to some ranks and receives a
segment from some ranks; a reducing transfer folds what a rank receives, in rank order, with
HcclAllReduce's numerics (:func:`mock_runtime.hccl.reduce.reduce_arrays`).

A rank's part (what it hands the hub):

* from a rank in the hub's process, a :class:`Transfer`: views of the device bytes it sends and
  of the device bytes it receives into. The hub writes every result straight into the receiving
  views, before it releases any rank (so no rank can free or change a buffer another rank still
  reads), in parallel on the compute pool. A receiving view that overlaps bytes some rank sends
  is written only after every read (its result is staged first).
* from a rank in another process, the bytes it sends concatenated in the order of its ``sends``
  list (one array over the wire); it receives, concatenated in the order of its ``recvs`` list,
  what the hub returns for it.

Every rank's spec (JSON: it travels with a remote part) lists its ``sends`` and ``recvs`` as
``[rank, bytes]`` pairs. The hub checks that every rank receives from each peer exactly what
that peer sends it: a difference is a :class:`Mismatch` (HCCL_E_PARA on every rank) naming both
ranks, the parameters (``send_param`` / ``recv_param`` of the spec, with ``{me}`` and ``{peer}``
filled in) and their values in elements.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mock_runtime.core import compute
from mock_runtime.core.errors import C
from mock_runtime.hccl.reduce import host_dtype, reduce_arrays

_COPY_BYTES = 4 << 20  # one copy unit of the compute pool


class Mismatch(Exception):
    """The ranks' parts do not fit together: fails the collective on every rank with HCCL_E_PARA."""

    code = C["HCCL_E_PARA"]

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PerRank(list):
    """A result that differs per rank: item ``r`` is what rank ``r`` receives (None: nothing, or
    written into its buffers already)."""


@dataclass(frozen=True)
class Transfer:
    """A local rank's part: uint8 views of what it sends (by destination rank) and of where it
    receives (by source rank)."""

    sends: dict[int, np.ndarray]
    sinks: dict[int, np.ndarray]


def _address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def _sends_of(part: object, spec: dict) -> dict[int, np.ndarray]:
    if isinstance(part, Transfer):
        return part.sends
    data = np.empty(0, np.uint8) if part is None else np.asarray(part).reshape(-1).view(np.uint8)
    out, offset = {}, 0
    for peer, nbytes in spec["sends"]:
        out[int(peer)] = data[offset:offset + nbytes]
        offset += nbytes
    if offset != data.size:
        raise Mismatch(f"rank {spec['rank']} sent {data.size} bytes for segments of {offset} bytes")
    return out


def _check(spec: dict, specs: list[dict], sends: dict[int, dict[int, np.ndarray]]) -> None:
    """Every rank receives from each peer what that peer sends it (sizes in bytes)."""
    itemsize = int(spec.get("itemsize", 1))
    what = spec["what"]
    for recv_spec in specs:
        r = recv_spec["rank"]
        expected = {int(peer): nbytes for peer, nbytes in recv_spec["recvs"]}
        for src in sorted(set(expected) | {s for s, out in sends.items() if r in out}):
            got = sends.get(src, {}).get(r)
            sent = 0 if got is None else got.size
            want = expected.get(src, 0)
            if sent != want:
                send_param = spec["send_param"].format(me=src, peer=r)
                recv_param = spec["recv_param"].format(me=r, peer=src)
                raise Mismatch(f"{what}: rank {src} sends {sent // itemsize} elements to rank {r} "
                               f"({send_param} = {sent // itemsize} on rank {src}) but rank {r} expects "
                               f"{want // itemsize} from rank {src} ({recv_param} = {want // itemsize} on rank {r})")


def _span(a: np.ndarray) -> tuple[int, int]:
    return _address(a), _address(a) + a.nbytes


def _overlaps(view: np.ndarray, spans: set[tuple[int, int]]) -> set[tuple[int, int]]:
    begin, end = _span(view)
    return {(b, e) for b, e in spans if b < end and begin < e}


def combine(spec: dict, parts: list, specs: list[dict]) -> PerRank:
    """The results of one transfer from every participant's part and spec (same order)."""
    sends = {s["rank"]: _sends_of(p, s) for p, s in zip(parts, specs)}
    _check(spec, specs, sends)
    reduce = spec.get("reduce")
    spans = {_span(a) for out in sends.values() for a in out.values() if a.size}
    size = max(s["rank"] for s in specs) + 1
    results = PerRank([None] * size)
    copies: list[tuple[np.ndarray, np.ndarray]] = []
    staged: list[tuple[np.ndarray, np.ndarray]] = []

    for part, rank_spec in zip(parts, specs):
        r = rank_spec["rank"]
        incoming = [(int(src), sends[int(src)][r]) for src, _ in rank_spec["recvs"]]
        if not incoming:
            continue
        sinks = part.sinks if isinstance(part, Transfer) else None
        if reduce is not None:
            dtype = host_dtype(reduce["dtype"])
            arrays = [a.view(dtype) for _, a in incoming]
            if sinks is None:
                results[r] = reduce_arrays(arrays, reduce["dtype"], reduce["op"]).view(np.uint8)
                continue
            sink = next(iter(sinks.values()))  # every source's entry names the one receive buffer
            clash = _overlaps(sink, spans)
            # in place on the first input is fine: the fold reads each block of it before writing there
            if not clash or clash == {_span(sink)} & {_span(arrays[0])}:
                reduce_arrays(arrays, reduce["dtype"], reduce["op"], outs=[sink.view(dtype)])
            else:
                staged.append((sink, reduce_arrays(arrays, reduce["dtype"], reduce["op"]).view(np.uint8)))
            continue
        if sinks is None:
            results[r] = np.concatenate([a for _, a in incoming]) if len(incoming) > 1 else incoming[0][1].copy()
            continue
        for src, data in incoming:
            sink = sinks[src]
            if not data.size:
                continue
            if _overlaps(sink, spans) and _address(sink) != _address(data):
                staged.append((sink, data.copy()))
            elif _address(sink) != _address(data):
                copies.append((sink, data))
    _copy_all(copies)
    _copy_all(staged)
    return results


def _copy_all(pairs: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """``dst[...] = src`` for every pair, in units of the compute pool."""
    units = [(dst[lo:lo + _COPY_BYTES], src[lo:lo + _COPY_BYTES])
             for dst, src in pairs for lo in range(0, src.size, _COPY_BYTES)]
    if len(units) == 1:
        np.copyto(*units[0])
    elif units:
        compute.pool.map(lambda unit: np.copyto(*unit), units)
