"""HCCL through the Python binding, ranks as threads of this process.

Covers: HcclCommInitAll over 1/2/4/8 ranks (one context and stream per rank
thread, as CANN's samples do; rank counts beyond the host's devices are skipped
with the reason); HcclCommInitRootInfo[Config] with thread ranks; every
collective x every data type x every reduce op against NumPy (integers and data
movement exactly; float reductions under CANN's precision standard, and bit for
bit as the mock documents them where its libraries are loaded); the binding's
argument checks. The mock's own HCCL (rendezvous, faults, rank tables, the
operator API) is tested in tests/mock/test_hccl_mock.py.
"""
from __future__ import annotations


import ml_dtypes
import numpy as np
import pytest

import aclnn_py
from aclnn_py import HcclError, hccl
from aclnn_py.semantics.headers import load
from aclnn_py.semantics import dtypes

from binding_helpers import (assert_reduced, close_all, hccl_bytes_data, hccl_cases, hccl_host, hccl_profile, hccl_rank_data,
                             hccl_types, host_to_device, mock_library, rendezvous_threads, run_comm_ranks,
                             skip_unless_devices, sum_ranks)

K = load().constants
DT = hccl.HcclDataType
COUNT = 64




# -- basic: 1, 2, 4, 8 ranks --------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 4, 8])
def test_init_all_collectives(comms_factory, n):
    comms = comms_factory(n)
    assert [c.rank for c in comms] == list(range(n))
    assert all(c.size == n for c in comms)
    assert len({c.name for c in comms}) == 1 and comms[0].name
    assert [c.device for c in comms] == list(range(n))

    def fn(comm, stream):
        keep: list = []
        mine = np.arange(COUNT, dtype=np.float32) + 100 * comm.rank
        send = host_to_device(mine, keep)
        summed = host_to_device(np.zeros(COUNT, np.float32), keep)
        gathered = host_to_device(np.zeros(COUNT * n, np.float32), keep)
        comm.all_reduce(send, summed, COUNT, np.float32, "sum", stream)
        comm.all_gather(send, gathered, COUNT, np.float32, stream)
        comm.barrier(stream)
        comm.broadcast(send, COUNT, np.float32, root=n - 1, stream=stream)
        stream.synchronize()
        out = (summed.to_numpy(np.float32), gathered.to_numpy(np.float32), send.to_numpy(np.float32))
        close_all(keep)
        assert comm.async_error() == hccl.Result.HCCL_SUCCESS
        return out

    results, errors = run_comm_ranks(comms, fn)
    assert not errors, errors
    everyone = [np.arange(COUNT, dtype=np.float32) + 100 * r for r in range(n)]
    for rank in range(n):
        summed, gathered, bcast = results[rank]
        np.testing.assert_array_equal(summed, np.sum(everyone, axis=0, dtype=np.float32))
        np.testing.assert_array_equal(gathered, np.concatenate(everyone))
        np.testing.assert_array_equal(bcast, everyone[-1])


# -- every dtype x op the product supports ------------------------------------------------
def test_all_reduce_every_dtype_and_op(comms_factory):
    n = 4
    comms = comms_factory(n)
    cases = hccl_cases("HcclAllReduce")

    def fn(comm, stream):
        keep: list = []
        outs = []
        for i, (dt, op) in enumerate(cases):
            data = hccl_rank_data(hccl_host(dt), comm.rank, COUNT, i)
            send = host_to_device(data, keep)
            recv = host_to_device(np.zeros_like(data), keep)
            # alternate the spelling of the dtype: HcclDataType value or NumPy dtype
            comm.all_reduce(send, recv, COUNT, dt if i % 2 else hccl_host(dt), op, stream)
            outs.append(recv)
        stream.synchronize()
        got = [b.to_numpy(hccl_host(dt)) for b, (dt, _) in zip(outs, cases)]
        close_all(keep)
        return got

    results, errors = run_comm_ranks(comms, fn)
    assert not errors, errors
    for i, (dt, op) in enumerate(cases):
        parts = [hccl_rank_data(hccl_host(dt), r, COUNT, i) for r in range(n)]
        for rank in range(n):
            assert_reduced(results[rank][i], parts, op, (dt.name, op, rank))


def test_all_gather_and_broadcast_every_dtype(comms_factory):
    n = 3
    comms = comms_factory(n)
    types = hccl_types("HcclAllGather")
    assert types == hccl_types("HcclBroadcast")

    def fn(comm, stream):
        keep: list = []
        gathered, bcast = [], []
        for i, dt in enumerate(types):
            send = host_to_device(hccl_bytes_data(dt, comm.rank, COUNT), keep)
            recv = host_to_device(np.zeros(COUNT * dtypes.hccl_bytes(dt) * n, np.uint8), keep)
            comm.all_gather(send, recv, COUNT, dt, stream)
            buf = host_to_device(hccl_bytes_data(dt, comm.rank, COUNT), keep)
            comm.broadcast(buf, COUNT, dt, root=i % n, stream=stream)
            gathered.append(recv)
            bcast.append(buf)
        stream.synchronize()
        res = ([b.to_numpy() for b in gathered], [b.to_numpy() for b in bcast])
        close_all(keep)
        return res

    results, errors = run_comm_ranks(comms, fn)
    assert not errors, errors
    for i, dt in enumerate(types):
        for rank in range(n):
            gathered, bcast = results[rank][0][i], results[rank][1][i]
            np.testing.assert_array_equal(gathered, np.concatenate([hccl_bytes_data(dt, r, COUNT) for r in range(n)]))
            np.testing.assert_array_equal(bcast, hccl_bytes_data(dt, i % n, COUNT))


def test_types_and_ops_the_product_does_not_support_are_refused(comms_factory):
    """Outside the product's lists (docs/hccl.md): HCCL_E_NOT_SUPPORT at the call, on any runtime."""
    (comm,) = comms_factory(1)
    refused_reduce = [t for t in DT if t != DT.HCCL_DATA_TYPE_RESERVED and t not in hccl_types("HcclAllReduce")]
    refused_move = [t for t in DT if t != DT.HCCL_DATA_TYPE_RESERVED and t not in hccl_types("HcclAllGather")]
    assert DT.HCCL_DATA_TYPE_INT128 in refused_move and DT.HCCL_DATA_TYPE_UINT8 in refused_reduce

    def fn(comm, stream):
        keep: list = []
        buf = host_to_device(np.zeros(COUNT * 16, np.uint8), keep)
        out = []
        try:
            calls = [(dt, lambda dt=dt: comm.all_reduce(buf, buf, COUNT, dt, "sum", stream)) for dt in refused_reduce]
            calls += [(dt, lambda dt=dt: comm.all_gather(buf, buf, 1, dt, stream)) for dt in refused_move]
            calls += [(DT.HCCL_DATA_TYPE_BFP16, lambda: comm.all_reduce(buf, buf, COUNT, DT.HCCL_DATA_TYPE_BFP16,
                                                                          "prod", stream))]
            for dt, call in calls:
                with pytest.raises(HcclError) as info:
                    call()
                out.append((dt, info.value))
            stream.synchronize()
        finally:
            close_all(keep)
        return out

    results, errors = run_comm_ranks([comm], fn)
    assert not errors, errors
    for dt, err in results[0]:
        assert err.code == K["HCCL_E_NOT_SUPPORT"], (dt.name, err)
        if mock_library():  # the runtime's own words: the mock's here
            assert dt.name.removeprefix("HCCL_DATA_TYPE_") in err.message


# -- argument errors -----------------------------------------------------------------------


def test_init_all_rejects_bad_devices(runtime):
    for devices, fragment in (([0, 1, 1], "device 1 appears twice"), ([0, 99], "99")):
        with pytest.raises(HcclError) as info:
            hccl.init_all(devices)
        assert info.value.code == K["HCCL_E_PARA"]
        if mock_library():  # the runtime's own words: the mock's here
            assert fragment in info.value.message


def test_destroyed_communicator(runtime):
    comms = hccl.init_all([0, 1])
    with comms[0] as c:
        assert c.size == 2
    comms[0].close()  # idempotent
    assert comms[0].closed
    with pytest.raises(aclnn_py.ClosedResourceError, match=r"hccl.Communicator.* of device 0 is closed"):
        _ = hccl.Communicator.rank.fget(comms[0])
    comms[1].close()


def test_the_binding_checks_collective_arguments(comms_factory):
    (comm,) = comms_factory(1)

    def fn(comm, stream):
        keep: list = []
        buf = host_to_device(np.zeros(16, np.float32), keep)
        try:
            with pytest.raises(ValueError):
                comm.all_reduce(buf, buf, 17, np.float32, "sum", stream)  # the binding checks DeviceBuffer sizes
            with pytest.raises(ValueError):
                comm.all_reduce(buf, buf, 4, np.float32, "avg", stream)
            stream.synchronize()
        finally:
            close_all(keep)

    results, errors = run_comm_ranks([comm], fn)
    assert not errors, errors


# -- small API pieces -----------------------------------------------------------------------
def test_dtype_and_op_mapping():
    assert hccl.hccl_dtype(np.float16) == DT.HCCL_DATA_TYPE_FP16 == 3
    assert hccl.hccl_dtype(ml_dtypes.bfloat16) == DT.HCCL_DATA_TYPE_BFP16 == 11
    assert hccl.hccl_dtype(np.float32) == DT.HCCL_DATA_TYPE_FP32
    assert hccl.hccl_dtype(ml_dtypes.float8_e4m3fn) == DT.HCCL_DATA_TYPE_FP8E4M3
    assert hccl.hccl_dtype(aclnn_py.DataType.ACL_FLOAT16) == DT.HCCL_DATA_TYPE_FP16  # aclDataType 1 -> HCCL 3
    assert hccl.hccl_dtype(aclnn_py.DataType.ACL_BF16) == DT.HCCL_DATA_TYPE_BFP16
    assert hccl.hccl_dtype(aclnn_py.DataType.ACL_HIFLOAT8) == DT.HCCL_DATA_TYPE_HIF8
    assert hccl.hccl_dtype(1) == DT.HCCL_DATA_TYPE_INT16
    with pytest.raises(ValueError):
        hccl.hccl_dtype(13)
    with pytest.raises(ValueError):
        hccl.hccl_dtype(np.complex64)
    assert hccl.reduce_op("MAX") == hccl.ReduceOp.HCCL_REDUCE_MAX == 2
    assert hccl.reduce_op(3) == hccl.ReduceOp.HCCL_REDUCE_MIN
    with pytest.raises(ValueError):
        hccl.reduce_op(4)


def test_error_strings_and_capability(runtime):
    for name, value in load().enums["HcclResult"].items():
        text = hccl.error_string(value)
        assert text and text.isascii()
    # CANN's answer: HCCL_COMM_CONFIG_RESERVED on Atlas A2/A3, HCCL_COMM_CONFIG_RETRY on Ascend 950 (hcomm
    # op_base.cc HcclGetCommConfigCapability, op_base_v2.cc HcclGetCommConfigCapabilityV2)
    assert hccl.config_capability() == (K["HCCL_COMM_CONFIG_RETRY"] if hccl_profile() == "950"
                                        else K["HCCL_COMM_CONFIG_RESERVED"])
    if mock_library():  # the mock's words (hccl_types.h's comments)
        assert hccl.error_string(9) == "timeout"
        assert "unknown" in hccl.error_string(777)


def test_comm_config_init_fields():
    cfg = hccl.comm_config_init()
    raw = bytes(aclnn_py.ffi.buffer(cfg))
    assert len(raw) == 2240
    assert int.from_bytes(raw[0:8], "little") == 2240
    assert int.from_bytes(raw[8:12], "little") == 0xF0F0F0F0
    assert int.from_bytes(raw[12:16], "little") == 10
    assert cfg.hcclExecTimeOut == -1 and cfg.hcclSymWinMaxMemSizePerRank == 16
    cfg = hccl.comm_config_init(name="tp", exec_timeout=5, hcclDeterministic=1)
    assert aclnn_py.ffi.string(cfg.hcclCommName) == b"tp" and cfg.hcclExecTimeOut == 5 and cfg.hcclDeterministic == 1
    with pytest.raises(ValueError):
        hccl.comm_config_init(name="x" * 128)
    with pytest.raises(TypeError):
        hccl.comm_config_init(colour="red")


# -- root info with thread ranks ------------------------------------------------------------------
@pytest.mark.parametrize("n", [2, 4])
def test_init_root_info_with_threads(runtime, n):
    skip_unless_devices(n)
    info = hccl.get_root_info()
    assert len(info) == hccl.ROOT_INFO_BYTES
    comms = rendezvous_threads(n, lambda rank: hccl.init_root_info(n, info, rank))
    assert all(isinstance(c, hccl.Communicator) for c in comms.values()), comms
    try:
        assert len({c.name for c in comms.values()}) == 1
        assert sorted(c.rank for c in comms.values()) == list(range(n))
        results, errors = run_comm_ranks(list(comms.values()), sum_ranks)
        assert not errors, errors
        assert all(np.all(r == sum(range(1, n + 1))) for r in results.values())
    finally:
        for c in comms.values():
            c.close()


def test_every_documented_config_field_is_accepted(runtime):
    """A config with every field CANN documents set to a valid value forms a working communicator."""
    info = hccl.get_root_info()
    cfg = hccl.comm_config_init(name="all_fields", buffer_size=64, deterministic=1, udi="job-7",
                                op_expansion_mode=1, rdma_traffic_class=132, rdma_service_level=4, world_rank_id=3,
                                job_id=42, graph_zero_copy=1, exec_timeout=30, algo="level0:NA;level1:ring",
                                retry_enable="L1:0,L2:0", retry_params="MaxCnt:3,HoldTime:5000,IntervalTime:1000",
                                buffer_name="pool", qos=2, sym_win_max_mem_size_per_rank=8)
    comms = rendezvous_threads(2, lambda rank: hccl.init_root_info(2, info, rank, cfg))
    try:
        assert all(isinstance(c, hccl.Communicator) for c in comms.values()), comms
        assert {c.name for c in comms.values()} == {"all_fields"}
        results, errors = run_comm_ranks(list(comms.values()), sum_ranks)
        assert not errors and all(np.all(r == 3) for r in results.values()), (results, errors)
    finally:
        for c in comms.values():
            if isinstance(c, hccl.Communicator):
                c.close()


def test_init_root_info_config_names_the_communicator(runtime):
    info = hccl.get_root_info()
    cfg = hccl.comm_config_init(name="tensor_parallel", exec_timeout=1)
    comms = rendezvous_threads(2, lambda rank: hccl.init_root_info(2, info, rank, cfg))
    try:
        assert {c.name for c in comms.values()} == {"tensor_parallel"}
    finally:
        for c in comms.values():
            c.close()
