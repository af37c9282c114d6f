"""Helpers of the binding tier: SoC profiles, thread ranks, reusable HCCL communicators, and
what a test may expect of the runtime's messages.

Everything here goes through aclnn_py only, so the tier runs unchanged on an Ascend host. A test
that needs a SoC profile or more devices than the host has is skipped with the reason.

Messages: a raw C call's status code is CANN's ABI and is asserted on every runtime; the text it
leaves in ``aclGetRecentErrMsg`` (or ``HcclGetErrorString``) is the runtime's own wording, the
project's rule messages on the mock and CANN's words on hardware, so a test checks that text only
when :func:`mock_library` says the loaded libraries are the mock's (:func:`expect_status`,
:func:`expect_outcomes`). Messages the binding raises itself before any C call (its rules, its
argument checks) come from aclnn-py and are checked everywhere.

Through the CANN code path against the mock's libraries (tests/mock/test_binding_tier_through_cann.py)
the loaded library IS the mock's, so the text checks stay on there: :func:`mock_library` sees it in
what the loaded ``libascendcl.so`` exports, a public signal. That test's other run hands out every
runtime message in other words and replaces :func:`mock_library` by False, as on an Ascend host:
the tier must pass there too.

Numerics follow the same split: an operator's output is compared with the golden under CANN's
precision standard (:func:`aclnn_py.semantics.precision.assert_close`, integers exactly) everywhere;
a bit-exact check of one of the mock's documented numeric choices runs only where
:func:`mock_library` is True.
"""
from __future__ import annotations

import ctypes
import functools
import os
import threading
from contextlib import contextmanager

import ml_dtypes
import numpy as np
import pytest

import aclnn_py
from aclnn_py import Context, Device, DeviceBuffer, Stream, ffi, hccl
from aclnn_py.check import recent_message
from aclnn_py.ops import grouped_matmul_v5, nz_weight_tensor, quant_matmul_all_reduce_v4, trans_matmul_weight
from aclnn_py.runtime import device_count
from aclnn_py.semantics import dtypes, soc as socs
from aclnn_py.semantics.grouped_matmul import golden as grouped_matmul_golden
from aclnn_py.semantics.hccl import OPERATIONS
from aclnn_py.semantics.precision import assert_close
from aclnn_py.semantics.quant_matmul_all_reduce import golden as quant_matmul_all_reduce_golden
from aclnn_py.testing import mock_soc, soc_unavailable
from aclnn_py.semantics.signatures import Kind
from aclnn_py.tensor import IntArray, Tensor, create_handle
from aclnn_py.testing.soc import current
from aclnn_py.ops import _grouped_matmul, _quant_matmul_all_reduce
from aclnn_py.semantics.quant_matmul_all_reduce import rules as quant_matmul_all_reduce_rules


#: What the mock's ``libascendcl.so`` exports besides CANN's functions: the entry point of the
#: Python module it embeds (the mock is NumPy behind CANN's C ABI). CANN's library has no such
#: symbol.
MOCK_ENTRY_POINT = "PyInit__aclnn_py_mock_ascendcl"


@functools.cache
def mock_library() -> bool:
    """Whether the loaded libraries are the mock's, from public information only: the backend
    aclnn_py loaded (``aclnn_py.backend()``), or, through the CANN code path, whether the
    ``libascendcl.so`` the loader reports (``aclnn_py.lib.paths``) exports :data:`MOCK_ENTRY_POINT`
    (looked up in the library already loaded, never loading anything)."""
    lib = aclnn_py.lib
    if lib.backend == "mock":
        return True
    for path in lib.paths["ascendcl"]:
        try:
            handle = ctypes.CDLL(str(path), mode=os.RTLD_NOLOAD | os.RTLD_LAZY)
        except OSError:
            continue
        if hasattr(handle, MOCK_ENTRY_POINT):
            return True
    return False


def expect_status(status: int, code: int, fragment: str = "", message: str | None = None) -> None:
    """A raw C call returned ``status``: it must be ``code`` on any runtime; its recent message
    (``message``, else read now with :func:`aclnn_py.check.recent_message`, right after the call on
    its thread) must hold ``fragment`` where the libraries are the mock's."""
    text = recent_message() if message is None and status else (message or "")
    assert status == code, (status, code, text)
    if fragment and mock_library():
        assert fragment in text, (fragment, text)


def expect_outcomes(binding: tuple, raw: tuple) -> None:
    """The binding's own checks and the raw C call agree: the same status code everywhere, and
    the same message (``(code, message)`` each) where the libraries are the mock's, whose rules
    the binding shares."""
    assert binding[0] == raw[0], (binding, raw)
    if mock_library():
        assert binding == raw, (binding, raw)


@contextmanager
def soc_profile(soc: str):
    """The enclosed code runs under the product profile of ``soc`` (A2, A3 or 950).

    When the runtime's SoC (``aclrtGetSocName``) has that profile, nothing changes. Otherwise
    the test is skipped with the reason (:func:`aclnn_py.testing.soc_unavailable`), except on
    the mock runtime, which is re-initialised under ``soc`` and restored after
    (:func:`aclnn_py.testing.mock_soc`, as the kit's ``aclnn_soc`` marker does): objects of the
    previous runtime must be released first.
    """
    reason = soc_unavailable(soc)
    if reason is not None:
        pytest.skip(reason)
    if socs.profile_of(current()) == socs.profile_of(soc):
        yield
        return
    with mock_soc(soc):
        yield


def skip_unless_profile(profiles: set[str], what: str) -> None:
    """Skip the test when the runtime's SoC has none of ``profiles`` ("A2", "A3", "950"), saying
    which SoC it is."""
    present = current()
    if socs.profile_of(present) not in profiles:
        wanted = " or ".join(sorted(profiles))
        pytest.skip(f"{what} runs on the {wanted} profile; this SoC ({present}) is {socs.profile_of(present)}")


def skip_unless_devices(count: int, what: str = "") -> None:
    """Skip the test when the host has fewer than ``count`` devices, saying so."""
    present = device_count()
    if count > present:
        pytest.skip(f"{what or f'{count} ranks'} need {count} devices; this host has {present}")


@contextmanager
def communicators(size: int):
    """The ``size`` ranks of one HCCL communicator (HcclCommInitAll over devices 0..size-1,
    through :func:`aclnn_py.hccl.init_all`), destroyed on exit; skipped with fewer devices."""
    skip_unless_devices(size)
    comms = hccl.init_all(list(range(size)))
    try:
        yield comms
    finally:
        for comm in comms:
            comm.close()


class Groups:
    """Communicators reused across tests: ``groups(size)`` gives the ranks of one communicator
    of that size (made on first use; the test is skipped with fewer devices); :meth:`close`
    destroys them all."""

    def __init__(self) -> None:
        self._comms: dict[int, list] = {}

    def __call__(self, size: int) -> list:
        if size not in self._comms:
            skip_unless_devices(size)
            self._comms[size] = hccl.init_all(list(range(size)))
        return self._comms[size]

    def close(self) -> None:
        comms, self._comms = self._comms, {}
        for ranks in comms.values():
            for comm in ranks:
                comm.close()


def run_ranks(size: int, fn, timeout: float = 60.0):
    """Run ``fn(rank, stream)`` on one thread per rank (device = rank); return the results in rank order.

    ``fn`` returns a callable or value; callables are called after the stream synchronised.
    """
    results: list = [None] * size
    errors: list = [None] * size

    def worker(rank: int) -> None:
        try:
            device = aclnn_py.Device(rank)  # keep: it resets the device when collected
            stream = aclnn_py.Stream()
            try:
                value = fn(rank, stream)
                stream.synchronize()
                results[rank] = value() if callable(value) else value
            finally:
                stream.close()
                device.close()
        except BaseException as exc:  # noqa: BLE001
            errors[rank] = exc

    threads = [threading.Thread(target=worker, args=(r,)) for r in range(size)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    for exc in errors:
        if exc is not None:
            raise exc
    return results


def run_comm_ranks(comms, fn, timeout: float = 60.0):
    """Run ``fn(comm, stream)`` on one thread per rank of ``comms``, each with its own context and
    stream; return ``({rank: result}, {rank: exception})``."""
    results: dict[int, object] = {}
    errors: dict[int, BaseException] = {}

    def body(comm, rank):
        try:
            with Context(comm.device), Stream() as stream:
                results[rank] = fn(comm, stream)
        except BaseException as exc:  # reported to the test
            errors[rank] = exc

    # the ranks read first: ``fn`` may close its communicator (a closed one refuses every use)
    threads = [threading.Thread(target=body, args=(c, c.rank), daemon=True) for c in comms]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a rank thread hung"
    return results, errors


def rendezvous_threads(n: int, make, timeout: float = 30.0) -> dict[int, object]:
    """Each of ``n`` threads sets device ``rank`` and calls ``make(rank)`` (a communicator
    constructor that waits for the others); returns ``{rank: result or exception}``."""
    out: dict[int, object] = {}

    def body(rank):
        try:
            with Context(rank):
                out[rank] = make(rank)
        except BaseException as exc:  # reported to the test
            out[rank] = exc

    threads = [threading.Thread(target=body, args=(r,), daemon=True) for r in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a rank thread hung"
    return out


def host_to_device(array: np.ndarray, keep: list) -> DeviceBuffer:
    """A device copy of ``array``, remembered in ``keep`` (see :func:`close_all`)."""
    buf = DeviceBuffer.from_numpy(array)
    keep.append(buf)
    return buf


def close_all(keep: list) -> None:
    for b in keep:
        b.close()


def sum_ranks(comm, stream) -> np.ndarray:
    """For :func:`run_comm_ranks`: an int64 HcclAllReduce sum of rank + 1 (8 elements)."""
    keep: list = []
    buf = host_to_device(np.full(8, comm.rank + 1, np.int64), keep)
    comm.all_reduce(buf, buf, 8, np.int64, "sum", stream)
    stream.synchronize()
    out = buf.to_numpy(np.int64)
    close_all(keep)
    return out


def raw_grouped_matmul(args: dict, signature=None) -> tuple[int, str]:
    """A GroupedMatmul entry point's GetWorkspaceSize (V5 unless ``signature``, an entry point of
    :mod:`aclnn_py.semantics.grouped_matmul.entry_points`) straight through the C ABI, its arguments
    in its header's order: (status, message). ``args``: tensor lists by the binding's keyword
    names (``out`` for V1-V3's ``y``), ``group_list`` a Tensor (a host sequence for V1/V2's
    aclIntArray), ``tuning_config`` a sequence, and the integer attributes (absent: 0, groupType -1)."""
    lib = aclnn_py.lib
    header = (signature or _grouped_matmul.V5).header
    made, arrays = [], []

    def value(parameter):
        v = args.get(parameter.name)
        if parameter.kind is Kind.INTEGER:
            return args.get(parameter.name, -1 if parameter.name == "group_type" else 0)
        if v is None:
            return ffi.NULL
        if parameter.kind is Kind.INT_ARRAY:
            arrays.append(IntArray(v))
            return arrays[-1].handle
        if parameter.kind is Kind.TENSOR:
            return v.handle
        handles = [create_handle(t.desc) for t in v]
        h = lib.aclCreateTensorList(ffi.new("aclTensor *[]", handles or [ffi.NULL]), len(handles))
        made.append(h)
        return h

    size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
    status = getattr(lib, header.function)(*map(value, header.parameters), size, executor)
    message = recent_message() if status else ""
    if status == 0:
        lib.aclDestroyAclOpExecutor(executor[0])
    for h in made:
        lib.aclDestroyTensorList(h)
    for array in arrays:
        array.close()
    return status, message


def grouped_matmul_inputs(rng):
    """x (8, 16) and three experts' weights (16, 8), small integers: exact in float16; the
    cumulative group list [2, 5, 8]."""
    x = rng.integers(-4, 4, (8, 16)).astype(np.float16)
    w = rng.integers(-4, 4, (3, 16, 8)).astype(np.float16)
    return x, w, np.array([2, 5, 8], np.int64)


def grouped_matmul_reference(x, w, cumulative):
    """Rows [start, end) of x times the expert's weight, in float32, rounded to float16."""
    out, start = np.zeros((x.shape[0], w.shape[2]), np.float32), 0
    for expert, end in enumerate(cumulative):
        out[start:end] = x[start:end].astype(np.float32) @ w[expert].astype(np.float32)
        start = end
    return out.astype(np.float16)


def grouped_matmul_plan(x, w, group_list, **kwargs):
    """A GroupedMatmulV5Plan of x and the stacked experts, split by a cumulative group list."""
    return aclnn_py.ops.GroupedMatmulV5Plan([x], [w], group_list=group_list, split_item=3, group_type=0,
                                            **kwargs)


def device_tensors(d: dict, stream: Stream, *, transposed: bool = False, nz: bool = False) -> dict:
    """One rank's MatmulAllReduce-family inputs on the device (scalars kept): x2 as stored (k, n), a
    transposed view of an (n, k) copy (a 2-D antiquant scale or offset following it), or an NZ weight."""
    t = {key: value if np.isscalar(value) else Tensor.from_numpy(value, None, stream)
         for key, value in d.items() if key != "x2"}
    if transposed:  # stored (n, k), passed as its transposed view; a 2-D scale follows x2's layout
        t["x2"] = Tensor.from_numpy(np.ascontiguousarray(d["x2"].T), None, stream).T
        for key in ("antiquant_scale", "antiquant_offset"):
            if key in d and np.ndim(d[key]) == 2 and 1 not in np.shape(d[key]):
                t[key] = Tensor.from_numpy(np.ascontiguousarray(d[key].T), None, stream).T
    elif nz:
        t["x2"] = trans_matmul_weight(nz_weight_tensor(d["x2"], stream=stream), stream)
        assert t["x2"].is_nz
    else:
        t["x2"] = Tensor.from_numpy(d["x2"], None, stream)
    return t


def mutation(**changes):
    """A change to a call spec (dict): each key set to its value (a callable: what it returns)."""
    def apply(spec):
        for key, value in changes.items():
            spec[key] = value() if callable(value) else value
        return spec
    return apply


def quant_matmul_all_reduce_arguments(x1, x2, x2_scale, *, signature=None, stream=None, out=None, out_dtype=None,
                                      rank_size=None, x_dtype=None, **arguments):
    """The binding's checked arguments of one QuantMatmulAllReduce call (its Python pre-checks, no C
    call) of any entry point (V4 by default), ``arguments`` by canonical name (those its header
    lacks are left out; the attributes default as V4's function has them)."""
    signature = signature or quant_matmul_all_reduce_rules.V4
    values = {"reduce_op": "sum", "comm_turn": 0, "stream_mode": 1, "group_size": 0, "comm_quant_mode": 0,
              **arguments, "x1": x1, "x2": x2, "x2_scale": x2_scale}
    values = {key: value for key, value in values.items() if signature.has(key)}
    return _quant_matmul_all_reduce._Arguments(signature, values, stream=stream, out=out, out_dtype=out_dtype,
                                               rank_size=rank_size, x_dtype=x_dtype)


def grouped_matmul_arguments(x, weight, *, stream=None, out_dtype=None, signature=None, **kwargs):
    """The binding's checked arguments of one GroupedMatmul call (V5 unless ``signature``: its
    Python pre-checks, no C call)."""
    return _grouped_matmul._Arguments(signature or _grouped_matmul.V5, {"x": x, "weight": weight, **kwargs},
                                      stream=stream, out_dtype=out_dtype)


def _checked_round(rng: np.random.Generator, comm, stream: Stream) -> list[str]:
    """One QuantMatmulAllReduceV4 (int8, per-token scales, FLOAT16 out) and one GroupedMatmulV5
    (float16, two experts) from fresh random host arrays (device copies queued on ``stream``),
    then ``stream.synchronize()``; what differs from the golden of aclnn_py.semantics."""
    m = 8 * int(rng.integers(1, 4))
    x1 = rng.integers(-8, 8, (m, 32)).astype(np.int8)
    x2 = rng.integers(-8, 8, (32, 16)).astype(np.int8)
    x2_scale = rng.uniform(0.5, 1.5, 16).astype(np.float32)
    x1_scale = rng.uniform(0.5, 1.5, m).astype(np.float32)
    x = rng.integers(-4, 4, (m, 16)).astype(np.float16)
    w = rng.integers(-4, 4, (2, 16, 8)).astype(np.float16)
    group_list = np.array([m // 2, m], np.int64)
    out = quant_matmul_all_reduce_v4(x1, x2, x2_scale, x1_scale=x1_scale, group=comm, stream=stream,
                                     out_dtype="float16")
    (y,) = grouped_matmul_v5([x], [w], group_list=group_list, split_item=3, group_type=0, stream=stream)
    stream.synchronize()
    try:
        assert_close(out.to_numpy(), quant_matmul_all_reduce_golden.quant_matmul_all_reduce(
            [x1], [x2], [x2_scale], x1_scale=[x1_scale], out_dtype="float16"), "float16")
        assert_close(y.to_numpy(), grouped_matmul_golden.grouped_matmul(
            [x], [w], group_list=group_list, split_item=3, group_type=0)[0], "float16")
    except AssertionError as exc:
        return [str(exc)]
    finally:
        out.close()
        y.close()
    return []


def threads_sharing_a_stream(stream: Stream, rounds: int) -> tuple[list[BaseException], list[str]]:
    """Four threads run ``rounds`` checked rounds (:func:`_checked_round`) each on ``stream`` (of
    device 0), four more on streams of their own, each thread with a one-rank communicator of its
    own; returns the exceptions raised and the outputs that differed from the golden."""
    comms = [hccl.init_all([0])[0] for _ in range(8)]
    wrong: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def work(index: int, shared: Stream | None) -> None:
        device = Device(0)  # the stream's device (its default context) on this thread
        own = Stream() if shared is None else None
        rng = np.random.default_rng(index)
        try:
            start.wait()
            for _ in range(rounds):
                wrong.extend(_checked_round(rng, comms[index], shared or own))
        except BaseException as exc:  # reported to the test
            errors.append(exc)
        finally:
            if own is not None:
                own.close()
            device.close()

    threads = [threading.Thread(target=work, args=(i, stream if i < 4 else None)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert not any(thread.is_alive() for thread in threads), "a thread hung"
    finally:
        for comm in comms:
            comm.close()
    return errors, wrong


# -- HCCL data and goldens ------------------------------------------------------------------
#: CANN's precision standard per float type; it has no FLOAT64 row: the FLOAT32 one, the tightest.
HCCL_FLOAT_RULE = {np.dtype(np.float16): "float16", np.dtype(ml_dtypes.bfloat16): "bfloat16",
                   np.dtype(np.float32): "float32", np.dtype(np.float64): "float32"}
HCCL_OPS = ["sum", "prod", "max", "min"]


def hccl_profile() -> str:
    """The product profile of the runtime's SoC ("A2", "A3", "950"): what HCCL supports there."""
    return socs.profile_of(current())


def hccl_types(operation: str) -> list[hccl.HcclDataType]:
    """The HcclDataTypes ``operation`` supports on the runtime's product (aclnn_py.semantics.hccl)."""
    allowed = OPERATIONS[operation].dtypes[hccl_profile()]
    return [t for t in hccl.HcclDataType if t.name.removeprefix("HCCL_DATA_TYPE_") in allowed]


def hccl_cases(operation: str) -> list[tuple[hccl.HcclDataType, str]]:
    """Every (type, reduce op) ``operation`` supports on the runtime's product."""
    spec = OPERATIONS[operation]
    return [(t, op) for t in hccl_types(operation) for op in HCCL_OPS
            if spec.op_problem(hccl_profile(), t, hccl.reduce_op(op)) is None]


def hccl_host(dt: hccl.HcclDataType) -> np.dtype:
    """The NumPy type of a reducible HcclDataType."""
    return np.dtype(dtypes.from_hccl(dt).host)


def hccl_rank_data(dtype, rank: int, count: int, seed: int) -> np.ndarray:
    """Integers over the type's whole range; floats in [0.5, 2), which neither cancel in a sum nor
    vanish in a product, so relative errors measure the reduction's rounding."""
    rng = np.random.default_rng(seed * 1009 + rank)
    dt = np.dtype(dtype)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return rng.integers(info.min, info.max, count, dtype=dt, endpoint=True)
    return rng.uniform(0.5, 2.0, count).astype(np.float32).astype(dt)


def hccl_bytes_data(dt: hccl.HcclDataType, rank: int, count: int, seed: int = 0) -> np.ndarray:
    """``count`` elements of ``dt`` as random bytes (data movement copies bytes, whatever the type)."""
    rng = np.random.default_rng((int(dt) * 31 + rank) * 7 + seed)
    return rng.integers(0, 256, count * dtypes.hccl_bytes(dt), dtype=np.uint8)


def hccl_expected_reduce(parts: list[np.ndarray], op: str) -> np.ndarray:
    """The reduction in rank order: Python integers wrapped to the type; floats as the mock
    documents them (FP16/BF16 in float32, rounded once)."""
    dt = parts[0].dtype
    if dt.kind in "iu":
        bits = dt.itemsize * 8
        acc = parts[0].astype(object)
        for v in parts[1:]:
            acc = {"sum": lambda a, b: a + b, "prod": lambda a, b: a * b,
                   "max": np.maximum, "min": np.minimum}[op](acc, v.astype(object))
        acc = np.array([int(x) % (1 << bits) for x in acc], dtype=object)
        if dt.kind == "i":
            acc = np.array([x - (1 << bits) if x >= 1 << (bits - 1) else x for x in acc], dtype=object)
        return acc.astype(dt)
    compute = np.float32 if dt in (np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16)) else dt
    ufunc = {"sum": np.add, "prod": np.multiply, "max": np.maximum, "min": np.minimum}[op]
    acc = parts[0].astype(compute)
    for p in parts[1:]:
        acc = ufunc(acc, p.astype(compute))
    return acc.astype(dt)


def assert_reduced(got: np.ndarray, parts: list[np.ndarray], op: str, context: object) -> None:
    """``got`` is the reduction of ``parts``: integers, MAX and MIN exactly on any runtime; float
    sums and products under CANN's precision standard, and bit for bit as the mock documents them
    where its libraries are loaded."""
    from aclnn_py.semantics.precision import assert_close

    want = hccl_expected_reduce(parts, op)
    assert got.dtype == want.dtype, context
    if want.dtype.kind in "iu" or op in ("max", "min"):
        assert np.array_equal(got.view(np.uint8), want.view(np.uint8)), (context, got, want)
        return
    assert_close(got, hccl_expected_reduce([p.astype(np.float64) for p in parts], op), HCCL_FLOAT_RULE[want.dtype])
    if mock_library():
        assert np.array_equal(got.view(np.uint8), want.view(np.uint8)), (context, got, want)
