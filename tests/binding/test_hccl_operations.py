"""Every operation of ``hccl.h`` beyond AllReduce/AllGather/Broadcast through the binding, ranks as
threads of this process: ReduceScatter[V], Reduce, Scatter, AllGatherV, AlltoAll[V|VC], Send/Recv
and BatchSendRecv, for every data type (and reduce operation) the runtime's product supports,
against NumPy (data movement and integer reductions exactly; float sums and products under
CANN's precision standard); the types the product does not support are refused; the binding's
own argument checks. Runs unchanged on an Ascend host (the mock's fault handling: tests/mock)."""
from __future__ import annotations

import numpy as np
import pytest

from aclnn_py import HcclError, Tensor, hccl
from aclnn_py.errors import ArgumentError
from aclnn_py.semantics import dtypes
from aclnn_py.semantics.hccl import matrix_layout
from aclnn_py.semantics.headers import load

from binding_helpers import (Groups, assert_reduced, close_all, hccl_bytes_data, hccl_cases, hccl_host,
                             hccl_rank_data, hccl_types, host_to_device, mock_library, run_comm_ranks)

K = load().constants
DT = hccl.HcclDataType
N = 4
COUNT = 5


@pytest.fixture(scope="module")
def comms(runtime):
    groups = Groups()
    yield groups(N)
    groups.close()


def run(comms, fn):
    results, errors = run_comm_ranks(comms, fn)
    assert not errors, errors
    return results


def fetch(bufs: list, dtype=np.uint8) -> list[np.ndarray]:
    return [b.to_numpy(dtype) for b in bufs]


# -- reductions -------------------------------------------------------------------------------
def test_reduce_scatter_reduce_and_reduce_scatter_v(comms):
    rs, red, rsv = hccl_cases("HcclReduceScatter"), hccl_cases("HcclReduce"), hccl_cases("HcclReduceScatterV")
    counts = [2, 0, 3, 1]  # ReduceScatterV: what every rank sends to rank i (the same on every rank)
    displs = {r: [sum(counts[:i]) + r for i in range(N)] for r in range(N)}  # each rank its own gaps
    root = 2

    def fn(comm, stream):
        keep, outs = [], []
        for i, (dt, op) in enumerate(rs):
            send = host_to_device(hccl_rank_data(hccl_host(dt), comm.rank, COUNT * N, i), keep)
            recv = host_to_device(np.zeros(COUNT, hccl_host(dt)), keep)
            comm.reduce_scatter(send, recv, COUNT, dt, op, stream)
            outs.append(recv)
        for i, (dt, op) in enumerate(red):
            send = host_to_device(hccl_rank_data(hccl_host(dt), comm.rank, COUNT, 100 + i), keep)
            recv = host_to_device(np.zeros(COUNT, hccl_host(dt)), keep)
            comm.reduce(send, recv, COUNT, dt, op, root=root, stream=stream)
            outs.append(recv)
        for i, (dt, op) in enumerate(rsv):
            send = host_to_device(hccl_rank_data(hccl_host(dt), comm.rank, sum(counts) + N, 200 + i), keep)
            recv = host_to_device(np.zeros(counts[comm.rank] or 1, hccl_host(dt)), keep)
            comm.reduce_scatter_v(send, counts, displs[comm.rank], recv, counts[comm.rank], dt, op, stream)
            outs.append(recv)
        stream.synchronize()
        types = [dt for dt, _ in rs + red + rsv]
        got = [b.to_numpy(hccl_host(dt)) for b, dt in zip(outs, types)]
        close_all(keep)
        return got

    results = run(comms, fn)
    for i, (dt, op) in enumerate(rs):
        parts = [hccl_rank_data(hccl_host(dt), r, COUNT * N, i) for r in range(N)]
        for rank in range(N):
            assert_reduced(results[rank][i], [p[rank * COUNT:(rank + 1) * COUNT] for p in parts], op,
                           ("ReduceScatter", dt.name, op, rank))
    for i, (dt, op) in enumerate(red):
        parts = [hccl_rank_data(hccl_host(dt), r, COUNT, 100 + i) for r in range(N)]
        for rank in range(N):
            got = results[rank][len(rs) + i]
            if rank == root:
                assert_reduced(got, parts, op, ("Reduce", dt.name, op))
            else:  # only the root's recvBuf is written
                assert not got.view(np.uint8).any(), ("Reduce touched a non-root recvBuf", rank)
    for i, (dt, op) in enumerate(rsv):
        parts = [hccl_rank_data(hccl_host(dt), r, sum(counts) + N, 200 + i) for r in range(N)]
        for rank in range(N):
            if counts[rank]:
                mine = [p[displs[r][rank]:displs[r][rank] + counts[rank]] for r, p in enumerate(parts)]
                assert_reduced(results[rank][len(rs) + len(red) + i], mine, op, ("ReduceScatterV", dt.name, op, rank))


# -- data movement ---------------------------------------------------------------------------
def test_scatter_all_gather_v_and_all_to_all(comms):
    types = hccl_types("HcclScatter")
    assert types == hccl_types("HcclAllGatherV") == hccl_types("HcclAlltoAll")
    sizes = [3, 0, 1, 2]  # AllGatherV: rank i sends sizes[i] elements
    gaps = [4, 0, 9, 7]   # ... landing at these displacements (unordered, disjoint)

    def fn(comm, stream):
        keep, outs = [], []
        for i, dt in enumerate(types):
            size = dtypes.hccl_bytes(dt)
            root = i % N
            send = host_to_device(hccl_bytes_data(dt, comm.rank, COUNT * N, 1), keep) if comm.rank == root else None
            recv = host_to_device(np.zeros(COUNT * size, np.uint8), keep)
            comm.scatter(send, recv, COUNT, dt, root=root, stream=stream)
            mine = host_to_device(hccl_bytes_data(dt, comm.rank, max(sizes[comm.rank], 1), 2), keep)
            gathered = host_to_device(np.zeros(12 * size, np.uint8), keep)
            comm.all_gather_v(mine, sizes[comm.rank], gathered, sizes, gaps, dt, stream)
            a2a_send = Tensor.from_numpy(hccl_bytes_data(dt, comm.rank, COUNT * N, 3))  # a Tensor works as well
            keep.append(a2a_send)
            a2a_recv = host_to_device(np.zeros(COUNT * N * size, np.uint8), keep)
            comm.all_to_all(a2a_send, a2a_recv, COUNT, dt, stream)
            outs.append((recv, gathered, a2a_recv))
        stream.synchronize()
        got = [fetch(list(o)) for o in outs]
        close_all(keep)
        return got

    results = run(comms, fn)
    for i, dt in enumerate(types):
        size, root = dtypes.hccl_bytes(dt), i % N
        block = COUNT * size
        rooted = hccl_bytes_data(dt, root, COUNT * N, 1)
        sent = [hccl_bytes_data(dt, r, COUNT * N, 3) for r in range(N)]
        want_gather = np.zeros(12 * size, np.uint8)
        for r in range(N):
            want_gather[gaps[r] * size:(gaps[r] + sizes[r]) * size] = hccl_bytes_data(dt, r, max(sizes[r], 1), 2)[
                :sizes[r] * size]
        for rank in range(N):
            scattered, gathered, exchanged = results[rank][i]
            np.testing.assert_array_equal(scattered, rooted[rank * block:(rank + 1) * block], err_msg=dt.name)
            np.testing.assert_array_equal(gathered, want_gather, err_msg=dt.name)
            np.testing.assert_array_equal(exchanged, np.concatenate([s[rank * block:(rank + 1) * block] for s in sent]),
                                          err_msg=dt.name)


def test_all_to_all_v_and_vc(comms):
    types = hccl_types("HcclAlltoAllV")
    assert types == hccl_types("HcclAlltoAllVC")
    matrix = [[(3 * i + j) % 4 for j in range(N)] for i in range(N)]  # rank i sends matrix[i][j] to rank j
    # AlltoAllV: the same counts, scattered at displacements of each rank's own choosing (reversed order)
    send_displs = {r: [sum(matrix[r][j + 1:]) for j in range(N)] for r in range(N)}
    recv_displs = {r: [sum(matrix[i][r] for i in range(k + 1, N)) + 2 for k in range(N)] for r in range(N)}

    def fn(comm, stream):
        keep, outs = [], []
        me = comm.rank
        sc, _, rc, _ = matrix_layout(matrix, me)
        for i, dt in enumerate(types):
            size = dtypes.hccl_bytes(dt)
            send = host_to_device(hccl_bytes_data(dt, me, max(sum(sc), 1), 4), keep)
            recv_v = host_to_device(np.zeros((sum(rc) + 2) * size, np.uint8), keep)
            comm.all_to_all_v(send, sc, send_displs[me], recv_v, rc, recv_displs[me], dt, stream)
            recv_vc = host_to_device(np.zeros(max(sum(rc), 1) * size, np.uint8), keep)
            comm.all_to_all_vc(send, matrix, recv_vc, dt, stream)
            outs.append((recv_v, recv_vc))
        stream.synchronize()
        got = [fetch(list(o)) for o in outs]
        close_all(keep)
        return got

    results = run(comms, fn)
    for i, dt in enumerate(types):
        size = dtypes.hccl_bytes(dt)
        data = {r: hccl_bytes_data(dt, r, max(sum(matrix[r]), 1), 4) for r in range(N)}
        for rank in range(N):
            got_v, got_vc = results[rank][i]
            want_v = np.zeros_like(got_v)
            packed = []
            offset_vc = 0
            for src in range(N):
                c = matrix[src][rank]
                seg_v = data[src][send_displs[src][rank] * size:(send_displs[src][rank] + c) * size]
                want_v[recv_displs[rank][src] * size:(recv_displs[rank][src] + c) * size] = seg_v
                start = sum(matrix[src][:rank])
                packed.append(data[src][start * size:(start + c) * size])
                offset_vc += c
            np.testing.assert_array_equal(got_v, want_v, err_msg=f"AlltoAllV {dt.name} rank {rank}")
            want_vc = np.concatenate(packed)
            np.testing.assert_array_equal(got_vc[:want_vc.size], want_vc, err_msg=f"AlltoAllVC {dt.name} rank {rank}")


def test_send_recv_and_batch_send_recv(comms):
    """Even ranks send first, odd ranks receive first (synchronous pairs, as CANN's sample); then
    a ring in one HcclBatchSendRecv per rank, every type the product supports."""
    types = hccl_types("HcclBatchSendRecv")
    assert types == hccl_types("HcclSend") == hccl_types("HcclRecv")

    def fn(comm, stream):
        keep, outs = [], []
        me, nxt, prv = comm.rank, (comm.rank + 1) % N, (comm.rank - 1) % N
        for i, dt in enumerate(types):
            size = dtypes.hccl_bytes(dt)
            mine = host_to_device(hccl_bytes_data(dt, me, COUNT, 5), keep)
            got = host_to_device(np.zeros(COUNT * size, np.uint8), keep)
            if me % 2 == 0:
                comm.send(mine, COUNT, dt, me ^ 1, stream)
                comm.recv(got, COUNT, dt, me ^ 1, stream)
            else:
                comm.recv(got, COUNT, dt, me ^ 1, stream)
                comm.send(mine, COUNT, dt, me ^ 1, stream)
            ring = host_to_device(np.zeros(COUNT * size, np.uint8), keep)
            comm.batch_send_recv([("send", mine, COUNT, dt, nxt), ("recv", ring, COUNT, dt, prv)], stream)
            outs.append((got, ring))
        stream.synchronize()
        res = [fetch(list(o)) for o in outs]
        close_all(keep)
        return res

    results = run(comms, fn)
    for i, dt in enumerate(types):
        for rank in range(N):
            got, ring = results[rank][i]
            np.testing.assert_array_equal(got, hccl_bytes_data(dt, rank ^ 1, COUNT, 5), err_msg=dt.name)
            np.testing.assert_array_equal(ring, hccl_bytes_data(dt, (rank - 1) % N, COUNT, 5), err_msg=dt.name)


def test_calls_that_move_nothing_return_at_once(comms):
    """Zero counts return HCCL_SUCCESS without waiting for a peer (CANN's early returns): one rank alone."""
    def fn(comm, stream):
        if comm.rank:
            return None
        keep: list = []
        buf = host_to_device(np.zeros(4, np.float32), keep)
        comm.send(buf, 0, np.float32, 1, stream)
        comm.recv(buf, 0, np.float32, 1, stream)
        comm.batch_send_recv([], stream)
        comm.reduce_scatter(buf, buf, 0, np.float32, "sum", stream)
        comm.reduce(buf, buf, 0, np.float32, "sum", 1, stream)
        comm.scatter(buf, buf, 0, np.float32, 1, stream)
        comm.all_to_all(buf, buf, 0, np.float32, stream)
        comm.all_gather_v(buf, 0, buf, [0] * N, [0] * N, np.float32, stream)
        comm.reduce_scatter_v(buf, [0] * N, [0] * N, buf, 0, np.float32, "sum", stream)
        stream.synchronize()
        close_all(keep)
        return True

    assert run(comms, fn)[0] is True


# -- what the product refuses, and the binding's own checks ------------------------------------
def test_types_the_product_does_not_support_are_refused(comms):
    comm = comms[0]
    refused_move = [t for t in DT if t != DT.HCCL_DATA_TYPE_RESERVED and t not in hccl_types("HcclAlltoAll")]
    refused_reduce = [t for t in DT if t != DT.HCCL_DATA_TYPE_RESERVED and t not in hccl_types("HcclReduceScatter")]

    def fn(c, stream):
        if c.rank:
            return None
        keep: list = []
        buf = host_to_device(np.zeros(16 * N * 4, np.uint8), keep)
        other = host_to_device(np.zeros(16 * N * 4, np.uint8), keep)
        calls = [lambda dt=dt: c.all_to_all(buf, other, 4, dt, stream) for dt in refused_move]
        calls += [lambda dt=dt: c.send(buf, 4, dt, 1, stream) for dt in refused_move]
        calls += [lambda dt=dt: c.reduce_scatter(buf, buf, 4, dt, "sum", stream) for dt in refused_reduce]
        calls += [lambda dt=dt: c.reduce(buf, buf, 4, dt, "max", 0, stream) for dt in refused_reduce]
        calls += [lambda: c.reduce_scatter(buf, buf, 4, DT.HCCL_DATA_TYPE_INT16, "prod", stream)]
        codes = []
        for call in calls:
            with pytest.raises(HcclError) as info:
                call()
            codes.append(info.value.code)
        stream.synchronize()
        close_all(keep)
        return codes

    codes = run([comm] + comms[1:], fn)[0]
    assert codes and set(codes) == {K["HCCL_E_NOT_SUPPORT"]}


def test_the_binding_checks_counts_and_buffers(comms):
    def fn(c, stream):
        if c.rank:
            return None
        keep: list = []
        buf = host_to_device(np.zeros(8, np.float32), keep)
        checks = [
            lambda: c.all_to_all_v(buf, [1] * 3, [0] * 3, buf, [1] * N, [0] * N, np.float32, stream),  # 3 entries
            lambda: c.all_to_all_v(buf, [1] * N, [0] * N, buf, [1] * N, [0, 1, -2, 3], np.float32, stream),
            lambda: c.all_gather_v(buf, 1, buf, [1] * N, [0, 1, 2, 8], np.float32, stream),  # past the buffer
            lambda: c.reduce_scatter(buf, buf, 3, np.float32, "sum", stream),  # 3 x 4 > 8
            lambda: c.all_to_all_vc(buf, [[1] * N] * 3, buf, np.float32, stream),
            lambda: c.batch_send_recv([("put", buf, 1, np.float32, 1)], stream),
            lambda: c.send(buf, 9, np.float32, 1, stream),
        ]
        failures = []
        for i, check in enumerate(checks):
            try:
                check()
            except ArgumentError as exc:
                failures.append((i, exc.parameter))
        stream.synchronize()
        close_all(keep)
        return failures

    failures = run(comms, fn)[0]
    assert [p for _, p in failures] == ["send_counts", "recv_displs[2]", "recv", "send", "send_count_matrix",
                                        "items[0].kind", "buf"], failures


def test_null_stream_is_refused(comms):
    """CANN refuses a NULL stream for these calls (HCCL_E_PTR)."""
    def fn(c, stream):
        if c.rank:
            return None
        keep: list = []
        buf = host_to_device(np.zeros(8, np.float32), keep)
        with pytest.raises(HcclError) as info:
            c.send(buf, 2, np.float32, 1)
        close_all(keep)
        return info.value.code, info.value.message

    code, message = run(comms, fn)[0]
    assert code == K["HCCL_E_PTR"]
    if mock_library():
        assert "stream" in message
