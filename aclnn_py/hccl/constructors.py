"""Making communicators: HcclCommInitAll, the root info (HcclGetRootInfo,
HcclCommInitRootInfo[Config]), rank tables (HcclCommInitClusterInfo[Config]) and
:func:`init_from_env` for one process per rank (its hand-off: :mod:`aclnn_py.launch.handoff`)."""
from __future__ import annotations

import os
from typing import Any, Sequence

from .. import arguments
from ..semantics.headers import load
from .._ffi import ffi
from .._loader import library
from ..check import check_acl, check_hccl
from ..errors import ArgumentError
from ..launch import handoff
from .communicator import Communicator
from .config import as_config

ROOT_INFO_BYTES = load().constants["HCCL_ROOT_INFO_BYTES"]


def init_all(devices: Sequence[int]) -> list[Communicator]:
    """``HcclCommInitAll``: one communicator whose rank i is on ``devices[i]``, all in this process.

    CANN's samples call ``aclrtSetDevice`` for every device first; then each
    rank runs on its own thread with a context of ``comm.device``.
    """
    devs = list(arguments.integers(devices, "devices", lo=-(2**31), hi=2**31 - 1))
    arr = ffi.new("int32_t[]", devs)
    out = ffi.new("HcclComm[]", len(devs))
    check_hccl(library().HcclCommInitAll(len(devs), arr, out), "HcclCommInitAll")
    return [Communicator(out[i], devs[i]) for i in range(len(devs))]


def get_root_info() -> bytes:
    """``HcclGetRootInfo`` on the root rank: the 4108 bytes every rank passes to :func:`init_root_info`."""
    info = ffi.new("HcclRootInfo *")
    check_hccl(library().HcclGetRootInfo(info), "HcclGetRootInfo")
    return bytes(ffi.buffer(info))


def _calling_device() -> int | None:
    from ..runtime import current_device

    try:
        return current_device()
    except Exception:
        return None


def init_root_info(n_ranks: int, root_info: bytes, rank: int, config: Any = None) -> Communicator:
    """``HcclCommInitRootInfo`` (``HcclCommInitRootInfoConfig`` with a ``config``); blocks until every rank joined.

    ``config`` is the result of :func:`comm_config_init` or a dict of its keyword arguments.
    The rank's device is the calling thread's current device.
    """
    data = bytes(root_info)
    if len(data) != ROOT_INFO_BYTES:
        raise ArgumentError("root_info", f"must be {ROOT_INFO_BYTES} bytes (from get_root_info()), got {len(data)}")
    info = ffi.new("HcclRootInfo *")
    ffi.memmove(info, data, ROOT_INFO_BYTES)
    out = ffi.new("HcclComm *")
    lib = library()
    cfg = as_config(config)
    n_ranks = arguments.integer(n_ranks, "n_ranks", lo=0, hi=2**32 - 1)
    rank = arguments.integer(rank, "rank", lo=0, hi=2**32 - 1)
    if cfg is None:
        check_hccl(lib.HcclCommInitRootInfo(n_ranks, info, rank, out), "HcclCommInitRootInfo")
    else:
        check_hccl(lib.HcclCommInitRootInfoConfig(n_ranks, info, rank, cfg, out), "HcclCommInitRootInfoConfig")
    return Communicator(out[0], _calling_device())


def init_cluster_info(rank_table_path: str | os.PathLike, rank: int, config: Any = None) -> Communicator:
    """``HcclCommInitClusterInfo[Config]`` from a rank table file (CANN's multi-host path)."""
    path = os.fsencode(os.fspath(rank_table_path))
    out = ffi.new("HcclComm *")
    lib = library()
    cfg = as_config(config)
    rank = arguments.integer(rank, "rank", lo=0, hi=2**32 - 1)
    if cfg is None:
        check_hccl(lib.HcclCommInitClusterInfo(path, rank, out), "HcclCommInitClusterInfo")
    else:
        check_hccl(lib.HcclCommInitClusterInfoConfig(path, rank, cfg, out), "HcclCommInitClusterInfoConfig")
    return Communicator(out[0], _calling_device())


def init_from_env(device: int | None = None, config: Any = None) -> Communicator:
    """The communicator of a one-process-per-rank job (launcher, torchrun or mpirun environment).

    Makes ``device`` (default: LOCAL_RANK) current on the calling thread
    (``aclrtSetDevice``; ACL must be initialised, e.g. with
    :class:`aclnn_py.Runtime`), hands rank 0's root info to every rank (an
    MPI broadcast under mpirun when mpi4py is installed, else the TCP
    hand-off on MASTER_ADDR:MASTER_PORT), and returns ``init_root_info(WORLD_SIZE,
    root_info, RANK, config)``.
    """
    rank, world, local = handoff.env_ranks()
    device = local if device is None else int(device)
    check_acl(library().aclrtSetDevice(device), "aclrtSetDevice")
    mpi = handoff.mpi_world() if world > 1 else None
    if mpi is not None:
        if mpi.Get_size() != world or mpi.Get_rank() != rank:
            raise RuntimeError(f"MPI says rank {mpi.Get_rank()} of {mpi.Get_size()}, the environment rank "
                               f"{rank} of {world}")
        comm = init_root_info(world, mpi.bcast(get_root_info() if rank == 0 else None, root=0), rank, config)
        comm.device = device
        return comm
    addr = handoff.master_addr()
    port = handoff.handoff_port()
    timeout = handoff.connect_timeout()
    server = None
    if rank == 0:
        root_info = get_root_info()
        if world > 1:
            server = handoff.RootInfoServer(addr, port, world, root_info, timeout)
    else:
        root_info = handoff.fetch_root_info(addr, port, rank, world, timeout)
    try:
        comm = init_root_info(world, root_info, rank, config)
    finally:
        if server is not None:
            server.close()
    comm.device = device
    return comm
