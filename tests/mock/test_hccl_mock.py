"""The mock's HCCL through the binding, ranks as threads of this process: its choices where the
public material is open (fp16/bf16 summed in fp32 and rounded once), its argument checks of raw
calls, the operator-mock API (find_communicator, combine), the faults (missing rank, mismatched
collective, a rank that destroys its communicator, rendezvous timeout, wrong token), its root
info, communicator registry and single-host rank tables.
"""
from __future__ import annotations

import json
import threading
import time

import ml_dtypes
import numpy as np
import pytest

import aclnn_py
from aclnn_py import Context, HcclError, Stream, hccl
from aclnn_py.errors import AclError
from aclnn_py.check import recent_message
from binding_helpers import close_all, host_to_device, rendezvous_threads, run_comm_ranks, sum_ranks
from aclnn_py.semantics.headers import load

K = load().constants




def test_half_precision_is_summed_in_fp32_and_rounded_once(comms_factory):
    """1 + 2**-11 + 2**-11 in fp16 step by step stays 1.0; summed in fp32 and rounded once it is 1 + 2**-10."""
    comms = comms_factory(3)
    values = [1.0, 2.0 ** -11, 2.0 ** -11]

    def fn(comm, stream):
        keep: list = []
        out = {}
        for dtype in (np.float16, ml_dtypes.bfloat16):
            tiny = values[comm.rank] if dtype is np.float16 else [1.0, 2.0 ** -8, 2.0 ** -8][comm.rank]
            send = host_to_device(np.full(4, tiny, dtype), keep)
            comm.all_reduce(send, send, 4, dtype, "sum", stream)
            out[dtype] = send
        stream.synchronize()
        res = {d: b.to_numpy(d) for d, b in out.items()}
        close_all(keep)
        return res

    results, errors = run_comm_ranks(comms, fn)
    assert not errors, errors
    for rank in range(3):
        assert np.all(results[rank][np.float16] == np.float16(1 + 2.0 ** -10))
        assert np.all(results[rank][ml_dtypes.bfloat16] == ml_dtypes.bfloat16(1 + 2.0 ** -7))

def test_argument_errors(comms_factory):
    (comm,) = comms_factory(1)
    lib = aclnn_py.lib

    def fn(comm, stream):
        keep: list = []
        buf = host_to_device(np.zeros(16, np.float32), keep)
        small = host_to_device(np.zeros(4, np.float32), keep)
        problems = {}
        for label, call in {
            "dtype": lambda: lib.HcclAllReduce(buf.ptr, buf.ptr, 4, 13, 0, comm.handle, stream.handle),
            "op": lambda: lib.HcclAllReduce(buf.ptr, buf.ptr, 4, 4, 7, comm.handle, stream.handle),
            "too_big": lambda: lib.HcclAllReduce(buf.ptr, buf.ptr, 17, 4, 0, comm.handle, stream.handle),
            "gather_recv": lambda: lib.HcclAllGather(buf.ptr, small.ptr, 8, 4, comm.handle, stream.handle),
            "null_buf": lambda: lib.HcclAllReduce(aclnn_py.ffi.NULL, buf.ptr, 4, 4, 0, comm.handle, stream.handle),
            "root": lambda: lib.HcclBroadcast(buf.ptr, 4, 4, 1, comm.handle, stream.handle),
            "null_comm": lambda: lib.HcclBarrier(aclnn_py.ffi.NULL, stream.handle),
        }.items():
            status = call()
            problems[label] = (status, recent_message())
        stream.synchronize()
        close_all(keep)
        return problems

    results, errors = run_comm_ranks([comm], fn)
    assert not errors, errors
    p = results[0]
    assert p["dtype"][0] == K["HCCL_E_PARA"] and "13" in p["dtype"][1]
    # an op no HcclReduceOp names: CANN's HcomCheckReductionOp answers HCCL_E_NOT_SUPPORT (hcomm, legacy param_check.cc)
    assert p["op"][0] == K["HCCL_E_NOT_SUPPORT"] and "HcclReduceOp" in p["op"][1]
    assert p["too_big"][0] == K["HCCL_E_PARA"] and "outside the allocation" in p["too_big"][1]
    assert p["gather_recv"][0] == K["HCCL_E_PARA"] and "recvBuf" in p["gather_recv"][1]
    assert p["null_buf"][0] == K["HCCL_E_PTR"]
    assert p["root"][0] == K["HCCL_E_PARA"] and "root 1" in p["root"][1]
    assert p["null_comm"][0] == K["HCCL_E_PTR"]

def test_stream_of_another_device_is_refused(comms_factory):
    comms = comms_factory(2)

    def fn(comm, stream):
        if comm.rank:
            return None
        keep: list = []
        with Context(1), Stream() as other:
            buf = host_to_device(np.zeros(4, np.float32), keep)
            with pytest.raises(aclnn_py.ArgumentError, match="device 1.*device 0"):  # the binding, before C
                comm.all_reduce(buf, buf, 4, np.float32, "sum", other)
            status = aclnn_py.lib.HcclAllReduce(buf.ptr, buf.ptr, 4, hccl.hccl_dtype(np.float32),
                                                hccl.reduce_op("sum"), comm.handle, other.handle)
            message = recent_message()
        close_all(keep)
        return status, message

    results, errors = run_comm_ranks(comms, fn)
    assert not errors, errors
    status, message = results[0]
    assert status == load().constants["HCCL_E_PARA"], message  # the mock, through the raw call
    assert "device 1" in message and "device 0" in message

def _core_stream(stream):
    from mock_runtime.core import runtime as rt

    return rt.stream(int(aclnn_py.ffi.cast("uintptr_t", stream.handle)))


def test_find_communicator_and_combine(comms_factory):
    from mock_runtime.hccl import registry
    from mock_runtime.core.errors import MockError

    n = 4
    comms = comms_factory(n)
    name = comms[0].name
    for c in comms:
        found = registry.find_communicator(name, c.device)
        assert (found.rank, found.size, found.name, found.device) == (c.rank, n, name, c.device)
    with pytest.raises(MockError) as info:
        registry.find_communicator("no-such-group", 0)
    assert info.value.code == K["ACLNN_ERR_PARAM_INVALID"] and "no-such-group" in info.value.message
    with pytest.raises(MockError) as info:
        registry.find_communicator(name, 7)
    assert "device 7" in info.value.message

    calls = []  # (key, arrays, their ids) of every evaluation of a reduction
    values = {}  # rank -> the array it contributed

    def reduce_for(key):
        def reduce(arrays):
            calls.append((key, np.stack(arrays), [id(a) for a in arrays]))
            return np.sum(arrays, axis=0) * (10 if key == "tenfold" else 1)
        return reduce

    def fn(comm, stream):
        mine = registry.find_communicator(comm.name, comm.device)
        out = {}
        value = values[comm.rank] = np.full((2, 3), comm.rank, np.float32)
        key = "tenfold" if comm.rank < 2 else "plain"
        _core_stream(stream).submit("test", lambda: out.update(r=mine.combine(value, "TestOp", reduce_for(key), key)))
        # a collective after the combine keeps the sequence aligned on every rank
        keep: list = []
        buf = host_to_device(np.ones(4, np.int32), keep)
        comm.all_reduce(buf, buf, 4, np.int32, "sum", stream)
        stream.synchronize()
        out["sum"] = buf.to_numpy(np.int32)
        close_all(keep)
        return out

    results, errors = run_comm_ranks(comms, fn)
    assert not errors, errors
    stack = np.stack([np.full((2, 3), r, np.float32) for r in range(n)])
    assert sorted(key for key, _, _ in calls) == ["plain", "tenfold"]  # once per key, not per rank
    for _, seen, ids in calls:
        np.testing.assert_array_equal(seen, stack)
        assert ids == [id(values[r]) for r in range(n)]  # the contributions themselves, in rank order
    for rank in range(n):
        got = results[rank]["r"]
        np.testing.assert_array_equal(got, stack.sum(axis=0) * (10 if rank < 2 else 1))
        assert got is results[rank ^ 1]["r"]  # the ranks of one key share the result, read-only
        assert not got.flags.writeable
        np.testing.assert_array_equal(results[rank]["sum"], [n] * 4)


def test_combine_mismatch_fails_every_rank(comms_factory):
    from mock_runtime.hccl import registry

    comms = comms_factory(2)

    def fn(comm, stream):
        mine = registry.find_communicator(comm.name, comm.device)
        shape = (2, 3) if comm.rank == 0 else (3, 2)
        _core_stream(stream).submit("test", lambda: mine.combine(np.zeros(shape, np.float32), "TestOp", np.copy, 0))
        with pytest.raises(AclError) as info:
            stream.synchronize()
        return info.value

    results, errors = run_comm_ranks(comms, fn)
    assert not errors, errors
    for err in results.values():
        assert err.code == K["ACL_ERROR_RT_PARAM_INVALID"]
        assert "TestOp(shape=(2, 3)" in err.message and "TestOp(shape=(3, 2)" in err.message


def test_a_failing_shared_reduction_fails_every_rank_with_its_own_exception(comms_factory):
    """The ranks sharing one reduction (one key) all fail with its code and message; each rank
    raises an exception instance of its own (the first one the original)."""
    from mock_runtime.core.errors import MockError
    from mock_runtime.hccl import registry

    comms = comms_factory(3)
    raised = {}

    def failing(arrays):
        raise MockError(K["ACL_ERROR_RT_PARAM_INVALID"], f"refused {len(arrays)} arrays")

    def fn(comm, stream):
        mine = registry.find_communicator(comm.name, comm.device)

        def task():  # mock code: it calls no aclnn_py function (those calls would be deferred)
            try:
                mine.combine(np.zeros(2, np.float32), "TestOp", failing, "key")
            except MockError as exc:
                raised[mine.rank] = exc
                raise
        _core_stream(stream).submit("test", task)
        with pytest.raises(AclError) as info:
            stream.synchronize()
        return info.value

    results, errors = run_comm_ranks(comms, fn)
    assert not errors, errors
    for err in results.values():
        assert err.code == K["ACL_ERROR_RT_PARAM_INVALID"] and "refused 3 arrays" in err.message
    assert sorted(results) == sorted(raised) == [0, 1, 2] and len({id(exc) for exc in raised.values()}) == 3


def test_missing_rank_times_out_with_its_number(runtime, monkeypatch):
    monkeypatch.setenv("HCCL_EXEC_TIMEOUT", "1")
    comms = hccl.init_all([0, 1, 2])
    try:
        def fn(comm, stream):
            if comm.rank == 1:
                return None  # never arrives
            keep: list = []
            buf = host_to_device(np.ones(8, np.float32), keep)
            comm.all_reduce(buf, buf, 8, np.float32, "sum", stream)
            start = time.monotonic()
            with pytest.raises(AclError) as info:
                stream.synchronize()
            elapsed = time.monotonic() - start
            close_all(keep)
            return info.value, elapsed, comm.async_error()

        results, errors = run_comm_ranks(comms, fn)
        assert not errors, errors
        for rank in (0, 2):
            err, elapsed, async_error = results[rank]
            assert err.code == K["ACL_ERROR_RT_TASK_TIMEOUT"]
            assert "rank(s) [1] of 3 never arrived" in err.message and "HCCL_EXEC_TIMEOUT" in err.message
            assert "HcclAllReduce(count=8, dtype=FP32, op=SUM)" in err.message
            assert elapsed < 10
            assert async_error == hccl.Result.HCCL_E_TIMEOUT

        # the failure is sticky: the late rank fails at once, naming the earlier failure
        def late(comm, stream):
            if comm.rank != 1:
                return None
            keep: list = []
            buf = host_to_device(np.ones(8, np.float32), keep)
            comm.all_reduce(buf, buf, 8, np.float32, "sum", stream)
            start = time.monotonic()
            with pytest.raises(AclError) as info:
                stream.synchronize()
            close_all(keep)
            return info.value, time.monotonic() - start

        results, errors = run_comm_ranks(comms, late)
        assert not errors, errors
        err, elapsed = results[1]
        assert "unusable after an earlier failure" in err.message and elapsed < 1
    finally:
        for c in comms:
            c.close()

def test_mismatched_collectives_fail_every_rank(comms_factory):
    comms = comms_factory(2)

    def fn(comm, stream):
        keep: list = []
        buf = host_to_device(np.ones(32, np.float32), keep)
        if comm.rank == 0:
            comm.all_reduce(buf, buf, 16, np.float32, "sum", stream)
        else:
            out = host_to_device(np.ones(16, np.float32), keep)
            comm.all_gather(buf, out, 8, np.float32, stream)
        with pytest.raises(AclError) as info:
            stream.synchronize()
        close_all(keep)
        return info.value, comm.async_error()

    results, errors = run_comm_ranks(comms, fn)
    assert not errors, errors
    for err, async_error in results.values():
        assert err.code == K["ACL_ERROR_RT_PARAM_INVALID"]
        assert "HcclAllReduce(count=16, dtype=FP32, op=SUM)" in err.message
        assert "HcclAllGather(sendCount=8, dtype=FP32)" in err.message
        assert async_error == hccl.Result.HCCL_E_PARA

def test_mismatched_count_fails_every_rank(comms_factory):
    comms = comms_factory(2)

    def fn(comm, stream):
        keep: list = []
        buf = host_to_device(np.ones(32, np.float32), keep)
        comm.all_reduce(buf, buf, 16 if comm.rank == 0 else 8, np.float32, "sum", stream)
        with pytest.raises(AclError) as info:
            stream.synchronize()
        close_all(keep)
        return info.value

    results, errors = run_comm_ranks(comms, fn)
    assert not errors, errors
    for err in results.values():
        assert "count=16" in err.message and "count=8" in err.message

def test_rank_destroying_its_communicator_releases_the_waiters(runtime, monkeypatch):
    monkeypatch.setenv("HCCL_EXEC_TIMEOUT", "30")
    comms = hccl.init_all([0, 1])
    arrived = threading.Event()

    def fn(comm, stream):
        if comm.rank == 1:
            arrived.wait(10)
            time.sleep(0.2)
            comm.close()
            return None
        keep: list = []
        buf = host_to_device(np.ones(8, np.float32), keep)
        comm.all_reduce(buf, buf, 8, np.float32, "sum", stream)
        arrived.set()
        start = time.monotonic()
        with pytest.raises(AclError) as info:
            stream.synchronize()
        close_all(keep)
        return info.value, time.monotonic() - start, comm.async_error()

    results, errors = run_comm_ranks(comms, fn)
    comms[0].close()
    assert not errors, errors
    err, elapsed, async_error = results[0]
    assert "rank 1 destroyed its communicator" in err.message and elapsed < 5
    assert async_error == hccl.Result.HCCL_E_REMOTE

def test_init_root_info_config_needs_the_header(runtime):
    info = hccl.get_root_info()
    cfg = aclnn_py.ffi.new("HcclCommConfig *")  # not initialised with HcclCommConfigInit
    out = rendezvous_threads(1, lambda rank: hccl.init_root_info(1, info, rank, cfg))
    assert isinstance(out[0], HcclError) and "magic word" in str(out[0])

def test_rendezvous_timeout_names_the_missing_ranks(runtime, monkeypatch):
    monkeypatch.setenv("HCCL_CONNECT_TIMEOUT", "1")
    info = hccl.get_root_info()
    start = time.monotonic()
    out = rendezvous_threads(2, lambda rank: hccl.init_root_info(3, info, rank))
    assert time.monotonic() - start < 10
    for err in out.values():
        assert isinstance(err, HcclError) and err.code == K["HCCL_E_TIMEOUT"]
        assert "rank(s) [2] of 3 never joined" in str(err) and "HCCL_CONNECT_TIMEOUT" in str(err)

def test_root_info_with_a_wrong_token_is_refused(runtime):
    info = bytearray(hccl.get_root_info())
    info[40] ^= 0xFF
    out = rendezvous_threads(1, lambda rank: hccl.init_root_info(2, bytes(info), 1))
    assert isinstance(out[0], HcclError) and out[0].code == K["HCCL_E_PARA"] and "token" in str(out[0])
    out = rendezvous_threads(1, lambda rank: hccl.init_root_info(2, bytes(4108), 1))
    assert isinstance(out[0], HcclError) and "HcclGetRootInfo" in str(out[0])
    with pytest.raises(ValueError):
        hccl.init_root_info(2, b"short", 0)

def test_different_names_are_refused(runtime, monkeypatch):
    monkeypatch.setenv("HCCL_CONNECT_TIMEOUT", "5")
    info = hccl.get_root_info()
    out = rendezvous_threads(2, lambda rank: hccl.init_root_info(2, info, rank, {"name": f"g{rank}"}))
    for err in out.values():
        assert isinstance(err, HcclError) and "different communicator names" in str(err)

def _rank_table(path, devices, **extra):
    table = {"version": "1.0", "server_count": "1", "status": "completed",
             "server_list": [{"server_id": "127.0.0.1", "device": [
                 {"device_id": str(d), "device_ip": f"192.0.2.{d}", "rank_id": str(r)} for r, d in enumerate(devices)]}]}
    table.update(extra)
    path.write_text(json.dumps(table))
    return path

def _rank_table_v2(path, devices, **extra):
    """CANN's version 2.0 layout (Ascend 950; hcomm's rank_table_v2.json sample has this shape)."""
    table = {"version": "2.0", "rank_count": len(devices), "status": "completed", "rank_list": [
        {"rank_id": r, "device_id": d, "local_id": d, "level_list": [
            {"net_layer": 0, "net_instance_id": "az0-rack0", "net_type": "TOPO_FILE_DESC", "net_attr": "",
             "rank_addr_list": [{"addr_type": "IPV4", "addr": f"192.0.2.{d}", "ports": ["0/0"]}]}]}
        for r, d in enumerate(devices)]}
    table.update(extra)
    path.write_text(json.dumps(table))
    return path


@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_init_cluster_info_with_threads(runtime, tmp_path, version):
    path = (_rank_table if version == "1.0" else _rank_table_v2)(tmp_path / "rank_table.json", [0, 1])
    comms = rendezvous_threads(2, lambda rank: hccl.init_cluster_info(path, rank))
    assert all(isinstance(c, hccl.Communicator) for c in comms.values()), comms
    try:
        assert len({c.name for c in comms.values()}) == 1
        results, errors = run_comm_ranks(list(comms.values()), sum_ranks)
        assert not errors, errors
        assert all(np.all(r == 3) for r in results.values())
    finally:
        for c in comms.values():
            c.close()

def test_rank_table_errors(runtime, tmp_path):
    def attempt(path, rank=0):
        return rendezvous_threads(1, lambda _: hccl.init_cluster_info(path, rank))[0]

    err = attempt(tmp_path / "missing.json")
    assert isinstance(err, HcclError) and err.code == K["HCCL_E_OPEN_FILE_FAILURE"]
    err = attempt(_rank_table(tmp_path / "v.json", [0], version="3.0"))
    assert err.code == K["HCCL_E_NOT_SUPPORT"] and "version" in str(err)
    err = attempt(_rank_table(tmp_path / "v1.json", [0], version="2.0"))  # 2.0 has a rank_list, not server_list
    assert err.code == K["HCCL_E_PARA"] and "rank_count is missing (version 2.0)" in str(err)
    err = attempt(_rank_table_v2(tmp_path / "v2count.json", [0, 1], rank_count=3))
    assert err.code == K["HCCL_E_PARA"] and "rank_count 3 but rank_list has 2 entries" in str(err)
    err = attempt(_rank_table_v2(tmp_path / "v2servers.json", [0, 0]))  # two servers' device 0
    assert err.code == K["HCCL_E_NOT_SUPPORT"] and "several servers" in str(err)
    bad = {"version": "1.0", "server_list": [{"device": [{"device_id": "0", "rank_id": "0"},
                                                          {"device_id": "1", "rank_id": "0"}]}]}
    (tmp_path / "dup.json").write_text(json.dumps(bad))
    err = attempt(tmp_path / "dup.json")
    assert err.code == K["HCCL_E_PARA"] and "rank_id 0 appears twice" in str(err)
    two = {"version": "1.0", "server_list": [{"device": [{"device_id": "0", "rank_id": "0"}]},
                                             {"device": [{"device_id": "0", "rank_id": "1"}]}]}
    (tmp_path / "two.json").write_text(json.dumps(two))
    err = attempt(tmp_path / "two.json")
    assert err.code == K["HCCL_E_NOT_SUPPORT"] and "one server" in str(err)
    err = attempt(_rank_table(tmp_path / "r.json", [0, 1]), rank=5)
    assert err.code == K["HCCL_E_PARA"] and "rank 5" in str(err)
    (tmp_path / "junk.json").write_text("{not json")
    assert attempt(tmp_path / "junk.json").code == K["HCCL_E_PARA"]


def test_destroyed_communicator_handle_is_refused(runtime):
    comms = hccl.init_all([0, 1])
    handle = comms[0].handle
    comms[0].close()
    out = aclnn_py.ffi.new("uint32_t *")
    assert aclnn_py.lib.HcclGetRankSize(handle, out) == K["HCCL_E_PARA"]
    assert "already destroyed" in recent_message()
    assert aclnn_py.lib.HcclCommDestroy(handle) == K["HCCL_E_PARA"]
    comms[1].close()


def test_root_info_carries_the_mock_rendezvous(runtime):
    info = hccl.get_root_info()
    assert len(info) == hccl.ROOT_INFO_BYTES and info[:8] == b"MOCKHCCL"
    assert b"127.0.0.1" in info[80:128]


def test_init_root_info_config_sets_the_exec_timeout(runtime):
    from mock_runtime.hccl import registry

    info = hccl.get_root_info()
    cfg = hccl.comm_config_init(name="tensor_parallel", exec_timeout=1)
    comms = rendezvous_threads(2, lambda rank: hccl.init_root_info(2, info, rank, cfg))
    try:
        assert registry.find_communicator("tensor_parallel", 1).exec_timeout == 1.0
    finally:
        for c in comms.values():
            c.close()


@pytest.mark.parametrize("field,value,fragment", [
    ("hcclBufferSize", 0, "hcclBufferSize must be >= 1 MB"),
    ("hcclDeterministic", 3, "hcclDeterministic must be 0, 1, 2"),
    ("aclGraphZeroCopyEnable", 2, "aclGraphZeroCopyEnable must be 0 or 1"),
    ("hcclRdmaTrafficClass", 130, "hcclRdmaTrafficClass must be not set or in [0, 255] and a multiple of 4"),
    ("hcclRdmaServiceLevel", 8, "hcclRdmaServiceLevel must be not set or in [0, 7]"),
    ("hcclQos", 9, "hcclQos must be not set or in [0, 7]"),
    ("hcclAlgo", b"x" * 1600, "hcclAlgo is not NUL-terminated"),
])
def test_config_fields_out_of_range_are_refused(runtime, field, value, fragment):
    cfg = hccl.comm_config_init()
    if isinstance(value, bytes):
        aclnn_py.ffi.memmove(getattr(cfg, field), value, len(value))
    else:
        setattr(cfg, field, value)
    out = rendezvous_threads(1, lambda rank: hccl.init_root_info(1, hccl.get_root_info(), rank, cfg))
    assert isinstance(out[0], HcclError) and out[0].code == K["HCCL_E_PARA"], out
    assert fragment in out[0].message


def test_strict_determinism_is_for_atlas_a2_only(runtime):
    from aclnn_py.testing import mock_soc

    with mock_soc("Ascend910_9391"):
        cfg = hccl.comm_config_init(deterministic=2)
        out = rendezvous_threads(1, lambda rank: hccl.init_root_info(1, hccl.get_root_info(), rank, cfg))
        assert isinstance(out[0], HcclError) and "Atlas A2 only" in out[0].message
        assert hccl.config_capability() == K["HCCL_COMM_CONFIG_RESERVED"]
    with mock_soc("Ascend950PR"):
        assert hccl.config_capability() == K["HCCL_COMM_CONFIG_RETRY"]
