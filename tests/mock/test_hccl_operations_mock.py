"""The mock's segmented HCCL calls (ReduceScatter[V], Reduce, Scatter, AllGatherV, AlltoAll[V|VC],
Send/Recv, BatchSendRecv) where CANN's behaviour is a fault: counts, types and roots that differ
between ranks fail every rank with HCCL_E_PARA naming the ranks and the values; a send without its
receive times out under HCCL_EXEC_TIMEOUT naming the peer; V-variant layouts are proven inside the
buffers' allocations (HCCL_E_PARA, nothing written); receive buffers overlapping sent bytes give
the right result; every segment is declared to the race checker."""
from __future__ import annotations

import time

import numpy as np
import pytest

import aclnn_py
from aclnn_py import HcclError, ffi, hccl
from aclnn_py.check import recent_message
from aclnn_py.errors import AclError
from aclnn_py.semantics.headers import load
from binding_helpers import close_all, host_to_device, run_comm_ranks

K = load().constants
FP32, INT32 = 4, 2




def failing(comms, submit):
    """Every rank runs ``submit(comm, stream, keep)``, then synchronises, which must fail; returns
    {rank: (stream error, async error)}."""
    def fn(comm, stream):
        keep: list = []
        submit(comm, stream, keep)
        with pytest.raises(AclError) as info:
            stream.synchronize()
        close_all(keep)
        return info.value, comm.async_error()

    results, errors = run_comm_ranks(comms, fn)
    assert not errors, errors
    return results


# -- differences between ranks: HCCL_E_PARA on every rank ---------------------------------------
@pytest.mark.parametrize("case", ["reduce_scatter_count", "all_to_all_dtype", "scatter_root", "all_gather_v",
                                  "reduce_scatter_v", "all_to_all_v", "send_recv_count"])
def test_differences_between_ranks_fail_every_rank(comms_factory, case):
    comms = comms_factory(2)

    def submit(comm, stream, keep):
        r = comm.rank
        big = host_to_device(np.zeros(64, np.float32), keep)
        out = host_to_device(np.zeros(64, np.float32), keep)
        if case == "reduce_scatter_count":
            comm.reduce_scatter(big, out, 4 if r == 0 else 3, np.float32, "sum", stream)
        elif case == "all_to_all_dtype":
            comm.all_to_all(big, out, 4, np.float32 if r == 0 else np.int32, stream)
        elif case == "scatter_root":
            comm.scatter(big, out, 4, np.float32, root=r, stream=stream)
        elif case == "all_gather_v":  # rank 1 thinks rank 0 sends 3 elements; rank 0 sends 2
            comm.all_gather_v(big, 2 if r == 0 else 4, out, [2, 4] if r == 0 else [3, 4], [0, 8], np.float32, stream)
        elif case == "reduce_scatter_v":
            counts = [2, 3] if r == 0 else [2, 5]
            comm.reduce_scatter_v(big, counts, [0, 8], out, counts[r], np.float32, "sum", stream)
        elif case == "all_to_all_v":
            comm.all_to_all_v(big, [1, 2], [0, 8], out, [1, 3] if r == 1 else [1, 1], [0, 8], np.float32, stream)
        elif case == "send_recv_count":
            (comm.send if r == 0 else comm.recv)(big, 4 if r == 0 else 5, np.float32, 1 - r, stream)

    expected = {
        "reduce_scatter_count": ["HcclReduceScatter(recvCount=4", "HcclReduceScatter(recvCount=3"],
        "all_to_all_dtype": ["dtype=FP32", "dtype=INT32"],
        "scatter_root": ["root=0", "root=1"],
        "all_gather_v": ["rank 0 sends 2 elements to rank 1", "recvCounts[0] = 3 on rank 1"],
        "reduce_scatter_v": ["rank 0 sends 3 elements to rank 1", "sendCounts[1] = 3 on rank 0",
                             "recvCount = 5 on rank 1"],
        "all_to_all_v": ["rank 0 sends 2 elements to rank 1", "recvCounts[0] = 1 on rank 1"],
        "send_recv_count": ["HcclSend(count=4, dtype=FP32, destRank=1)", "HcclRecv(count=5, dtype=FP32, srcRank=0)"],
    }[case]
    for err, async_error in failing(comms, submit).values():
        assert err.code == K["ACL_ERROR_RT_PARAM_INVALID"], err
        assert async_error == hccl.Result.HCCL_E_PARA
        for fragment in expected:
            assert fragment in err.message, (fragment, err.message)


# -- point to point: pairing and timeouts ----------------------------------------------------------
def test_a_send_without_its_receive_times_out_naming_the_peer(comms_factory, monkeypatch):
    monkeypatch.setenv("HCCL_EXEC_TIMEOUT", "1")
    comms = comms_factory(3)

    def fn(comm, stream):
        if comm.rank != 0:
            return None
        keep: list = []
        buf = host_to_device(np.zeros(8, np.float32), keep)
        comm.send(buf, 8, np.float32, 2, stream)
        start = time.monotonic()
        with pytest.raises(AclError) as info:
            stream.synchronize()
        close_all(keep)
        return info.value, time.monotonic() - start, comm.async_error()

    results, errors = run_comm_ranks(comms, fn)
    assert not errors, errors
    err, seconds, async_error = results[0]
    assert err.code == K["ACL_ERROR_RT_TASK_TIMEOUT"] and async_error == hccl.Result.HCCL_E_TIMEOUT
    assert 0.9 < seconds < 10
    assert "HcclSend(count=8, dtype=FP32, destRank=2)" in err.message
    assert "its peer, rank 2, never called the matching HcclRecv" in err.message and "HCCL_EXEC_TIMEOUT" in err.message


def test_two_ranks_that_both_send_first_time_out(comms_factory, monkeypatch):
    """CANN's HcclSend and HcclRecv are synchronous pairs: both ranks sending first on one stream
    each never meet (the fix: BatchSendRecv, or one rank receiving first)."""
    monkeypatch.setenv("HCCL_EXEC_TIMEOUT", "1")
    comms = comms_factory(2)

    def submit(comm, stream, keep):
        a, b = (host_to_device(np.zeros(4, np.int32), keep) for _ in range(2))
        comm.send(a, 4, np.int32, 1 - comm.rank, stream)
        comm.recv(b, 4, np.int32, 1 - comm.rank, stream)

    for err, async_error in failing(comms, submit).values():
        assert async_error == hccl.Result.HCCL_E_TIMEOUT
        assert "never called the matching HcclRecv" in err.message


def test_sends_to_one_peer_pair_up_in_order(comms_factory):
    """The n-th send to a peer meets the peer's n-th receive from this rank, whatever the calls
    in between (a BatchSendRecv item counts as one of them)."""
    comms = comms_factory(3)

    def fn(comm, stream):
        keep: list = []
        bufs = [host_to_device(np.full(3, 10 * comm.rank + i, np.int32), keep) for i in range(3)]
        got = [host_to_device(np.zeros(3, np.int32), keep) for _ in range(3)]
        if comm.rank == 0:
            comm.send(bufs[0], 3, np.int32, 1, stream)
            comm.batch_send_recv([("send", bufs[1], 3, np.int32, 1), ("send", bufs[2], 3, np.int32, 2)], stream)
            comm.send(bufs[0], 3, np.int32, 2, stream)
        elif comm.rank == 1:
            comm.batch_send_recv([("recv", got[0], 3, np.int32, 0)], stream)
            comm.recv(got[1], 3, np.int32, 0, stream)
        else:
            comm.recv(got[0], 3, np.int32, 0, stream)
            comm.recv(got[1], 3, np.int32, 0, stream)
        stream.synchronize()
        out = [g.to_numpy(np.int32)[0] for g in got[:2]]
        close_all(keep)
        return out

    results, errors = run_comm_ranks(comms, fn)
    assert not errors, errors
    assert results[1] == [0, 1] and results[2] == [2, 0]


# -- layouts proven inside the allocations ---------------------------------------------------------
def test_raw_calls_are_checked_before_anything_is_queued(comms_factory):
    comms = comms_factory(2)
    lib = aclnn_py.lib

    def fn(comm, stream):
        if comm.rank:
            return None
        keep: list = []
        buf = host_to_device(np.zeros(8, np.float32), keep)  # 32 bytes
        other = host_to_device(np.zeros(8, np.float32), keep)
        u64 = lambda values: ffi.new("uint64_t[]", values)
        h, s = comm.handle, stream.handle
        calls = {
            "sdispls_past_end": lambda: lib.HcclAlltoAllV(buf.ptr, u64([1, 1]), u64([0, 8]), FP32, other.ptr,
                                                          u64([1, 1]), u64([0, 1]), FP32, h, s),
            "rdispls_overlap": lambda: lib.HcclAlltoAllV(buf.ptr, u64([2, 2]), u64([0, 2]), FP32, other.ptr,
                                                         u64([2, 2]), u64([0, 1]), FP32, h, s),
            "null_counts": lambda: lib.HcclAlltoAllV(buf.ptr, ffi.NULL, u64([0, 0]), FP32, other.ptr, u64([1, 1]),
                                                     u64([0, 1]), FP32, h, s),
            "agv_past_end": lambda: lib.HcclAllGatherV(buf.ptr, 1, other.ptr, u64([1, 1]), u64([0, 9]), FP32, h, s),
            "rsv_recv_count": lambda: lib.HcclReduceScatterV(buf.ptr, u64([2, 2]), u64([0, 2]), other.ptr, 3, FP32, 0,
                                                             h, s),
            "same_buffer": lambda: lib.HcclAlltoAll(buf.ptr, 2, FP32, buf.ptr, 2, FP32, h, s),
            "send_types": lambda: lib.HcclAlltoAll(buf.ptr, 2, FP32, other.ptr, 2, INT32, h, s),
            "rs_past_end": lambda: lib.HcclReduceScatter(buf.ptr, other.ptr, 5, FP32, 0, h, s),
            "self_send": lambda: lib.HcclSend(buf.ptr, 2, FP32, 0, h, s),
            "peer_range": lambda: lib.HcclRecv(buf.ptr, 2, FP32, 7, h, s),
            "root_range": lambda: lib.HcclReduce(buf.ptr, other.ptr, 2, FP32, 0, 2, h, s),
            "scatter_null_root_send": lambda: lib.HcclScatter(ffi.NULL, other.ptr, 2, FP32, 0, h, s),
            "null_stream": lambda: lib.HcclScatter(buf.ptr, other.ptr, 2, FP32, 0, h, ffi.NULL),
            "batch_type": lambda: lib.HcclBatchSendRecv(_items([(5, buf.ptr, 1, FP32, 1)]), 1, h, s),
            "batch_overlap": lambda: lib.HcclBatchSendRecv(
                _items([(1, buf.ptr, 4, FP32, 1), (1, ffi.cast("char *", buf.ptr) + 4, 1, FP32, 1)]), 2, h, s),
        }
        out = {name: (call(), recent_message()) for name, call in calls.items()}
        stream.synchronize()  # nothing was queued: nothing waits for rank 1
        untouched = other.to_numpy(np.float32)
        close_all(keep)
        return out, untouched

    results, errors = run_comm_ranks(comms, fn)
    assert not errors, errors
    out, untouched = results[0]
    assert not untouched.any()
    expect = {
        "sdispls_past_end": (K["HCCL_E_PARA"], "sdispls[1] + sendCounts[1] = 8 + 1 = 9 elements exceed"),
        "rdispls_overlap": (K["HCCL_E_PARA"], "recvBuf segments 0 and 1 overlap"),
        "null_counts": (K["HCCL_E_PTR"], "sendCounts is NULL"),
        "agv_past_end": (K["HCCL_E_PARA"], "recvDispls[1] + recvCounts[1] = 9 + 1 = 10 elements exceed"),
        "rsv_recv_count": (K["HCCL_E_PARA"], "recvCount 3 on rank 0 must equal its sendCounts[0] = 2"),
        "same_buffer": (K["HCCL_E_PARA"], "the same buffer"),
        "send_types": (K["HCCL_E_PARA"], "sendType FP32 differs from recvType INT32"),
        "rs_past_end": (K["HCCL_E_PARA"], "outside the allocation"),
        "self_send": (K["HCCL_E_NOT_SUPPORT"], "destRank 0 is this rank itself"),
        "peer_range": (K["HCCL_E_PARA"], "srcRank 7 is not a rank"),
        "root_range": (K["HCCL_E_PARA"], "root 2 is not a rank"),
        "scatter_null_root_send": (K["HCCL_E_PTR"], "sendBuf (of the root) is NULL"),
        "null_stream": (K["HCCL_E_PTR"], "stream is NULL"),
        "batch_type": (K["HCCL_E_PARA"], "sendRecvInfo[0].sendRecvType 5"),
        "batch_overlap": (K["HCCL_E_PARA"], "receive into overlapping device memory"),
    }
    for name, (code, fragment) in expect.items():
        status, message = out[name]
        assert status == code, (name, status, message)
        assert fragment in message, (name, message)


def _items(rows):
    table = ffi.new("HcclSendRecvItem[]", len(rows))
    for entry, (kind, buf, count, dtype, peer) in zip(table, rows):
        entry.sendRecvType, entry.buf, entry.count, entry.dataType, entry.remoteRank = kind, buf, count, dtype, peer
    _items.keep = table  # alive until the call returned
    return table


# -- buffers that overlap what is sent ------------------------------------------------------------
def test_receives_overlapping_sent_bytes_are_written_after_every_read(comms_factory):
    """In-place ReduceScatter (recvBuf = block ``rank`` of sendBuf) and an AlltoAllV whose receive
    segments sit in the same allocation as its send segments give NumPy's result."""
    n = 3
    comms = comms_factory(n)

    def fn(comm, stream):
        keep: list = []
        r = comm.rank
        data = np.arange(4 * n, dtype=np.int32) + 100 * r
        buf = host_to_device(data, keep)
        block = ffi.cast("char *", buf.ptr) + r * 4 * 4
        comm.reduce_scatter(buf, block, 4, np.int32, "sum", stream)
        # one allocation: send segments at elements 0..n-1, receives at 1..n (shifted by one: overlapping)
        shared = host_to_device(np.arange(n + 1, dtype=np.int32) + 10 * r, keep)
        comm.all_to_all_v(shared, [1] * n, list(range(n)), ffi.cast("char *", shared.ptr) + 4, [1] * n,
                          list(range(n)), np.int32, stream)
        stream.synchronize()
        out = buf.to_numpy(np.int32)[r * 4:(r + 1) * 4], shared.to_numpy(np.int32)
        close_all(keep)
        return out

    results, errors = run_comm_ranks(comms, fn)
    assert not errors, errors
    for r in range(n):
        summed, exchanged = results[r]
        np.testing.assert_array_equal(summed, sum(np.arange(4 * n, dtype=np.int32) + 100 * k for k in range(n))[
            r * 4:(r + 1) * 4])
        np.testing.assert_array_equal(exchanged[1:], [r + 10 * k for k in range(n)])


def test_segments_are_declared_to_the_race_checker(comms_factory):
    """A receive segment of an AlltoAllV read by a copy on another stream, with no event between
    them: the collective is refused (HCCL_E_RUNTIME, a race report naming the segment)."""
    comms = comms_factory(2)

    def fn(comm, stream):
        keep: list = []
        send = host_to_device(np.ones(4, np.float32), keep)
        recv = host_to_device(np.zeros(4, np.float32), keep)
        host = np.zeros(2, np.float32)
        with aclnn_py.Stream() as other:
            status = aclnn_py.lib.aclrtMemcpyAsync(ffi.cast("void *", host.ctypes.data), 8,
                                                   ffi.cast("char *", recv.ptr) + 8, 8, 2, other.handle)
            assert status == 0, recent_message()
            with pytest.raises(HcclError) as info:
                comm.all_to_all_v(send, [2, 2], [0, 2], recv, [2, 2], [0, 2], np.float32, stream)
            other.synchronize()
        # the refused call queued nothing: run a matching one so the peer is not left waiting
        comm.all_to_all_v(send, [2, 2], [0, 2], recv, [2, 2], [0, 2], np.float32, stream)
        stream.synchronize()
        close_all(keep)
        return info.value

    results, errors = run_comm_ranks(comms, fn)
    assert not errors, errors
    for err in results.values():
        assert err.code == K["HCCL_E_RUNTIME"] and "recvBuf segment 1" in err.message, err


def test_a_pair_completes_after_other_ranks_destroyed_their_communicators(runtime):
    """CANN's send/recv sample: ranks 0 and 1 finish their pair and destroy their communicators
    before ranks 2 and 3 even start theirs, which still completes; a later call needing a
    departed rank fails at once (HCCL_E_REMOTE naming it)."""
    comms = hccl.init_all([0, 1, 2, 3])
    first_pair_done = __import__("threading").Event()

    def fn(comm, stream):
        keep: list = []
        buf = host_to_device(np.full(4, comm.rank, np.int32), keep)
        peer = comm.rank ^ 1
        if comm.rank >= 2:
            first_pair_done.wait(10)
        (comm.send if comm.rank % 2 == 0 else comm.recv)(buf, 4, np.int32, peer, stream)
        stream.synchronize()
        got = buf.to_numpy(np.int32)[0]
        late = None
        if comm.rank == 1:
            comm.close()
            first_pair_done.set()
        elif comm.rank == 0:
            first_pair_done.wait(10)
            comm.close()
        elif comm.rank == 3:
            with pytest.raises(AclError) as info:
                comm.recv(buf, 4, np.int32, 0, stream)
                stream.synchronize()
            late = info.value.message
        close_all(keep)
        return got, late

    try:
        results, errors = run_comm_ranks(comms, fn)
    finally:
        for c in comms:
            c.close()
    assert not errors, errors
    assert [results[r][0] for r in range(4)] == [0, 0, 2, 2]
    assert "rank 0 destroyed its communicator (HcclCommDestroy)" in results[3][1]
