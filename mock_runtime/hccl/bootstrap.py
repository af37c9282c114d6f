"""Making communicators: HcclCommInitAll, the root info (HcclGetRootInfo and its layout,
HcclCommInitRootInfo[Config]) and rank tables (HcclCommInitClusterInfo[Config])."""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import socket
import struct
import time
from pathlib import Path
from typing import Any, Callable

from mock_runtime.core import runtime as rt
from mock_runtime.core.errors import C, MockError
from mock_runtime.hccl.config import Config, check_name, connect_timeout, exec_timeout
from mock_runtime.hccl.hub import Hub, find_hub, forget_hub, register_hub
from mock_runtime.hccl.links import LocalLink, connect
from mock_runtime.hccl.names import fail
from mock_runtime.hccl.registry import Communicator, destroy, register
from mock_runtime.hccl.listener import process_server, serve_port
from mock_runtime.hccl.wire import LOOPBACK

ROOT_INFO_BYTES = C["HCCL_ROOT_INFO_BYTES"]
MAGIC = b"MOCKHCCL"
LAYOUT_VERSION = 1
KIND_ROOT_INFO = 1
RANK_TABLE_PORTS = (20000, 10000)  # base, span of the rendezvous ports derived from a rank table


def _calling_device(what: str) -> int:
    """The device of the calling thread: the new rank's device."""
    try:
        return rt.current_device()
    except MockError as exc:
        raise fail("HCCL_E_RUNTIME", f"{what}: {exc.message} (set the rank's device with aclrtSetDevice before creating its communicator)") from None


def init_all(devices: list[int]) -> list[int]:
    """HcclCommInitAll: one communicator, every rank in this process; returns the handles."""
    what = "HcclCommInitAll"
    try:
        settings = rt.require()
    except MockError as exc:
        raise fail("HCCL_E_RUNTIME", f"{what}: {exc.message}") from None
    if not devices:
        raise fail("HCCL_E_PARA", f"{what}: ndev must be >= 1")
    for i, d in enumerate(devices):
        if not 0 <= d < settings.device_count:
            raise fail("HCCL_E_PARA", f"{what}: devices[{i}] = {d} is not a device id in [0, {settings.device_count})")
    seen: dict[int, int] = {}
    for i, d in enumerate(devices):
        if d in seen:
            raise fail("HCCL_E_PARA", f"{what}: device {d} appears twice (devices[{seen[d]}] and devices[{i}])")
        seen[d] = i
    comm_id = secrets.token_bytes(16)
    hub = Hub(comm_id, secrets.token_bytes(32), f"mock_hccl_all_{comm_id.hex()[:16]}", what)
    hub.n_ranks = len(devices)
    hub.formed = True
    hub.name = hub.default_name
    hub.pids = {r: os.getpid() for r in range(len(devices))}
    timeout = exec_timeout()
    handles: list[int] = []
    try:
        for rank, device in enumerate(devices):
            comm = Communicator(LocalLink(hub), rank, len(devices), hub.name, device, timeout)
            handles.append(register(comm))
    except MockError:
        for h in handles:
            destroy(h)
        raise
    return handles


def get_root_info() -> bytes:
    """HcclGetRootInfo: a new rendezvous served by this process."""
    server = process_server()
    comm_id, token = secrets.token_bytes(16), secrets.token_bytes(32)
    register_hub(Hub(comm_id, token, f"mock_hccl_{comm_id.hex()[:16]}", "HcclCommInitRootInfo"))
    blob = bytearray(ROOT_INFO_BYTES)
    struct.pack_into("<8sII", blob, 0, MAGIC, LAYOUT_VERSION, KIND_ROOT_INFO)
    blob[16:32] = comm_id
    blob[32:64] = token
    blob[64:68] = socket.inet_aton(LOOPBACK)
    struct.pack_into("!H", blob, 68, server.port)
    struct.pack_into("<I", blob, 72, os.getpid())
    text = f"mock-hccl {LOOPBACK}:{server.port}".encode()
    blob[80:80 + len(text)] = text
    return bytes(blob)


def parse_root_info(blob: bytes, what: str) -> tuple[bytes, bytes, str, int, int]:
    """(communicator id, token, host, port, root pid) of a root info (layout in the package docstring)."""
    magic, version, kind = struct.unpack_from("<8sII", blob, 0)
    if magic != MAGIC or kind != KIND_ROOT_INFO:
        raise fail("HCCL_E_PARA", f"{what}: rootInfo was not produced by HcclGetRootInfo (bad magic; copy all {ROOT_INFO_BYTES} bytes unchanged)")
    if version != LAYOUT_VERSION:
        raise fail("HCCL_E_PARA", f"{what}: rootInfo layout version {version} is not {LAYOUT_VERSION}")
    host = socket.inet_ntoa(blob[64:68])
    (port,) = struct.unpack_from("!H", blob, 68)
    (pid,) = struct.unpack_from("<I", blob, 72)
    return bytes(blob[16:32]), bytes(blob[32:64]), host, port, pid


def init_root_info(n_ranks: int, blob: bytes, rank: int, config: Config | None, what: str) -> int:
    """HcclCommInitRootInfo[Config]: join the rendezvous ``blob`` names; the new handle."""
    config = config or Config()
    if n_ranks < 1:
        raise fail("HCCL_E_PARA", f"{what}: nRanks must be >= 1, got {n_ranks}")
    if not 0 <= rank < n_ranks:
        raise fail("HCCL_E_PARA", f"{what}: rank {rank} is not in [0, nRanks={n_ranks})")
    if config.name:
        check_name(config.name, what)
    comm_id, token, host, port, root_pid = parse_root_info(blob, what)
    device = _calling_device(what)
    timeout = connect_timeout()
    ex = config.exec_timeout if config.exec_timeout is not None else exec_timeout()
    link = connect(host, port, comm_id, token, rank, time.monotonic() + timeout, root_pid)
    info = link.join(rank, n_ranks, config.name, device, timeout)
    return register(Communicator(link, rank, n_ranks, info["name"], device, ex))


# -- rank tables -------------------------------------------------------------------
def parse_rank_table(path: str, what: str) -> tuple[list[int], bytes]:
    """Device id per rank id (index = rank) and the file's bytes."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise fail("HCCL_E_OPEN_FILE_FAILURE", f"{what}: cannot read rank table {path!r}: {exc.strerror or exc}") from None
    try:
        table = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise fail("HCCL_E_PARA", f"{what}: rank table {path!r} is not JSON: {exc}") from None

    def bad(message: str) -> MockError:
        return fail("HCCL_E_PARA", f"{what}: rank table {path!r}: {message}")

    def as_int(value: Any, key: str) -> int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise bad(f"{key} {value!r} is not an integer") from None
        if number < 0:
            raise bad(f"{key} {value!r} is negative")
        return number

    if not isinstance(table, dict):
        raise bad("the top level is not a JSON object")
    version = str(table.get("version", ""))
    if version not in ("1.0", "1.2", "2.0"):
        raise fail("HCCL_E_NOT_SUPPORT", f"{what}: rank table {path!r} has version {version!r}; CANN's rank tables "
                                         f"are \"1.0\", \"1.2\" (read as 1.0) and \"2.0\"")
    if "status" in table and table["status"] != "completed":
        raise bad(f"status is {table['status']!r}, not \"completed\"")
    by_rank = _ranks_v2(table, bad, as_int) if version == "2.0" else _ranks_v1(table, bad, as_int, what, path)
    devices: dict[int, int] = {}
    for r, d in sorted(by_rank.items()):
        if d in devices and version == "2.0":  # the one device_id on two servers
            raise fail("HCCL_E_NOT_SUPPORT", f"{what}: rank table {path!r} puts ranks {devices[d]} and {r} on device_id "
                                             f"{d}: several servers; the mock runs every rank on this host (one server)")
        if d in devices:
            raise bad(f"device_id {d} appears twice")
        devices[d] = r
    if sorted(by_rank) != list(range(len(by_rank))):
        raise bad(f"rank ids {sorted(by_rank)} are not 0..{len(by_rank) - 1}")
    return [by_rank[r] for r in range(len(by_rank))], data


def _ranks_v1(table: dict, bad: Callable[[str], MockError], as_int: Callable[[Any, str], int], what: str,
              path: str) -> dict[int, int]:
    """Device id per rank id of a version 1.0 table: ``server_list`` of one server, its ``device``
    list of ``device_id`` and ``rank_id`` (strings or integers)."""
    servers = table.get("server_list")
    if not isinstance(servers, list) or not servers:
        raise bad("server_list is missing or empty")
    if "server_count" in table and as_int(table["server_count"], "server_count") != len(servers):
        raise bad(f"server_count {table['server_count']!r} but server_list has {len(servers)} entries")
    if len(servers) != 1:
        raise fail("HCCL_E_NOT_SUPPORT", f"{what}: rank table {path!r} lists {len(servers)} servers; the mock runs every rank on this host (one server)")
    devices = servers[0].get("device") if isinstance(servers[0], dict) else None
    if not isinstance(devices, list) or not devices:
        raise bad("server_list[0].device is missing or empty")
    by_rank: dict[int, int] = {}
    for i, entry in enumerate(devices):
        if not isinstance(entry, dict) or "rank_id" not in entry or "device_id" not in entry:
            raise bad(f"device[{i}] needs rank_id and device_id")
        r = as_int(entry["rank_id"], f"device[{i}].rank_id")
        if r in by_rank:
            raise bad(f"rank_id {r} appears twice")
        by_rank[r] = as_int(entry["device_id"], f"device[{i}].device_id")
    return by_rank


def _ranks_v2(table: dict, bad: Callable[[str], MockError], as_int: Callable[[Any, str], int]) -> dict[int, int]:
    """Device id per rank id of a version 2.0 table (Ascend 950, CANN's "rank table配置资源信息"):
    ``rank_count`` equal to the length of ``rank_list``, whose entries have ``rank_id`` (in
    [0, rank_count), unique), ``local_id``, ``device_id`` and a ``level_list`` of at most 8 levels
    (hcomm src/coll_communicator_mgr/rank_graph/rank_table_info: RankTableInfo::Check,
    NewRankInfo::Deserialize)."""
    if "rank_count" not in table:
        raise bad("rank_count is missing (version 2.0)")
    count = as_int(table["rank_count"], "rank_count")
    ranks = table.get("rank_list")
    if not isinstance(ranks, list) or not ranks:
        raise bad("rank_list is missing or empty (version 2.0)")
    if not 1 <= count <= 65536 or count != len(ranks):
        raise bad(f"rank_count {count} but rank_list has {len(ranks)} entries (rank_count must equal it, in [1, 65536])")
    by_rank: dict[int, int] = {}
    for i, entry in enumerate(ranks):
        missing = [k for k in ("rank_id", "local_id", "device_id", "level_list") if not isinstance(entry, dict) or k not in entry]
        if missing:
            raise bad(f"rank_list[{i}] needs {', '.join(missing)}")
        r = as_int(entry["rank_id"], f"rank_list[{i}].rank_id")
        as_int(entry["local_id"], f"rank_list[{i}].local_id")
        if not isinstance(entry["level_list"], list) or len(entry["level_list"]) > 8:
            raise bad(f"rank_list[{i}].level_list must be a list of at most 8 levels")
        if r >= count:
            raise bad(f"rank_list[{i}].rank_id {r} is not in [0, rank_count={count})")
        if r in by_rank:
            raise bad(f"rank_id {r} appears twice")
        by_rank[r] = as_int(entry["device_id"], f"rank_list[{i}].device_id")
    return by_rank


def init_cluster_info(path: str, rank: int, config: Config | None, what: str) -> int:
    """HcclCommInitClusterInfo[Config]: join the rendezvous derived from the rank table; the new handle."""
    config = config or Config()
    devices, data = parse_rank_table(path, what)
    n_ranks = len(devices)
    if not 0 <= rank < n_ranks:
        raise fail("HCCL_E_PARA", f"{what}: rank {rank} is not in the rank table {path!r} (ranks 0..{n_ranks - 1})")
    if config.name:
        check_name(config.name, what)
    device = devices[rank]
    try:
        settings = rt.require()
    except MockError as exc:
        raise fail("HCCL_E_RUNTIME", f"{what}: {exc.message}") from None
    if device >= settings.device_count:
        raise fail("HCCL_E_PARA", f"{what}: rank table {path!r} gives rank {rank} device {device}, not in [0, {settings.device_count})")
    try:
        current = rt.current_device()
    except MockError:
        current = device
    if current != device:
        raise fail("HCCL_E_PARA", f"{what}: rank table {path!r} puts rank {rank} on device {device}, but the calling thread's device is {current}")
    digest = hashlib.sha256(b"mock-hccl-rank-table\0" + os.path.abspath(path).encode() + b"\0" + data).digest()
    comm_id, token = digest[:16], hashlib.sha256(digest).digest()
    base, span = RANK_TABLE_PORTS
    port = base + int.from_bytes(digest[16:20], "little") % span
    if rank == 0:
        hub = find_hub(comm_id)
        if hub is None or hub.formed or hub.error is not None:
            hub = Hub(comm_id, token, f"mock_hccl_rt_{comm_id.hex()[:16]}", what)
            register_hub(hub)  # before the listener exists, so no joiner finds it without the hub
            try:
                serve_port(port)
            except OSError as exc:
                forget_hub(hub)
                raise fail("HCCL_E_TCP_CONNECT", f"{what}: rank 0 cannot listen on {LOOPBACK}:{port}, the rendezvous port derived from {path!r}: {exc.strerror or exc} (another job using the same rank table?)") from None
    timeout = connect_timeout()
    ex = config.exec_timeout if config.exec_timeout is not None else exec_timeout()
    link = connect(LOOPBACK, port, comm_id, token, rank, time.monotonic() + timeout, 0)
    info = link.join(rank, n_ranks, config.name, device, timeout)
    if link.remote:
        link.root_pid = info["pids"].get(0, 0)
    return register(Communicator(link, rank, n_ranks, info["name"], device, ex))
