"""HCCL communicators and collectives.

A :class:`Communicator` is one rank of an HCCL communicator. Its
:attr:`~Communicator.name` is the string the MC2 operators take as ``group``
(the QuantMatmulAllReduce functions of ``aclnn_py.ops`` accept the communicator itself).
Collectives are queued on a stream, like every device operation: synchronise
the stream before reading the result. Failed calls raise
:class:`aclnn_py.HcclError` with ``HcclGetErrorString``'s text and the
runtime's recent error message.

Two ways to run ranks
---------------------
**Threads in one process** (as CANN's C samples do): :func:`init_all` creates
every rank at once; then one thread per rank makes its device's context
current, creates a stream and calls the collectives::

    import threading, numpy as np
    from aclnn_py import Runtime, Context, Stream, DeviceBuffer, hccl

    with Runtime():
        comms = hccl.init_all([0, 1, 2, 3])

        def rank_main(comm):
            with Context(comm.device), Stream() as stream, comm:
                buf = DeviceBuffer.from_numpy(np.full(1024, comm.rank, np.float32))
                comm.all_reduce(buf, buf, 1024, np.float32, "sum", stream)
                stream.synchronize()
                print(comm.rank, buf.to_numpy(np.float32)[:4])
                buf.close()

        threads = [threading.Thread(target=rank_main, args=(c,)) for c in comms]
        for t in threads: t.start()
        for t in threads: t.join()

(``examples/hccl_threads.py`` is the complete program.)

**One process per rank**: start the script with the launcher,
``python -m aclnn_py.launch -n 4 script.py`` (or torchrun / mpirun), and
call :func:`init_from_env` in it::

    with Runtime():
        with hccl.init_from_env() as comm:       # device = LOCAL_RANK
            stream = Stream()
            ...

:func:`init_from_env` reads ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``
(torchrun's names; Open MPI's ``OMPI_COMM_WORLD_RANK``,
``OMPI_COMM_WORLD_SIZE`` and ``OMPI_COMM_WORLD_LOCAL_RANK`` and MPICH's
``PMI_RANK`` / ``PMI_SIZE`` are the fallbacks). Rank 0 calls
``HcclGetRootInfo`` and hands the 4108 bytes to the other ranks; then every
rank calls ``HcclCommInitRootInfo``. Under mpirun with mpi4py installed
(``pip install "aclnn-py[mpi]"``) the hand-off is an ``MPI_Bcast`` from rank
0, as HCCL's own samples do, and works across hosts with no further setting.
Otherwise it is a small TCP exchange on ``MASTER_ADDR`` / ``MASTER_PORT``
(default 127.0.0.1 and 29500). Under torchrun (``TORCHELASTIC_RUN_ID``
set), whose agent already listens on MASTER_PORT, the hand-off uses
MASTER_PORT + 1; ``ACLNN_PY_HANDOFF_PORT`` overrides the port in every case.
mpirun without mpi4py sets no MASTER_ADDR/MASTER_PORT: export them for a multi-host job. The TCP hand-off waits at most
``HCCL_CONNECT_TIMEOUT`` seconds (default 120). When
``ACLNN_PY_HANDOFF_SECRET`` is set (the launcher sets a random one), only
processes that know it get the root info, and a rank takes a root info only
from a process that knows it (a challenge-response with HMAC-SHA256 both ways;
:mod:`aclnn_py.launch.handoff`). Without it nothing is authenticated, and
:func:`init_from_env` warns once when ``MASTER_ADDR`` is not a loopback
address (docs/hccl-security.md).

Data types and operations
-------------------------
``dtype`` is an :class:`HcclDataType` value, or a NumPy /
ml_dtypes dtype (``np.float16`` -> ``HCCL_DATA_TYPE_FP16``,
``ml_dtypes.bfloat16`` -> ``HCCL_DATA_TYPE_BFP16``, ...), or an
:class:`aclnn_py.DataType` (``aclDataType``, converted: the two numberings
differ). ``op`` is ``"sum"``, ``"prod"``, ``"max"``, ``"min"`` or a
:class:`ReduceOp` value. Counts are numbers of ELEMENTS. Buffers are
:class:`aclnn_py.DeviceBuffer` / :class:`aclnn_py.Tensor` objects, device
addresses (``int``) or cffi pointers.

Modules: :mod:`.enums` (HcclDataType, ReduceOp, Result and conversions),
:mod:`.config` (HcclCommConfig), :mod:`.communicator` (the Communicator and
its collectives), :mod:`.constructors` (every way to make one).
"""
from __future__ import annotations

from .communicator import COMM_NAME_MAX_LENGTH, Communicator
from .config import comm_config_init, config_capability
from .constructors import ROOT_INFO_BYTES, get_root_info, init_all, init_cluster_info, init_from_env, init_root_info
from .enums import HcclDataType, ReduceOp, Result, error_string, hccl_dtype, reduce_op

__all__ = [
    "HcclDataType", "ReduceOp", "Result", "Communicator", "comm_config_init", "hccl_dtype", "reduce_op",
    "init_all", "get_root_info", "init_root_info", "init_cluster_info", "init_from_env",
    "error_string", "config_capability", "ROOT_INFO_BYTES", "COMM_NAME_MAX_LENGTH",
]
