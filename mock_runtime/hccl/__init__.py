"""HCCL in the mock: communicators, rendezvous and stream-ordered collectives.

What this package models
------------------------
A *communicator* is a set of ``size`` ranks. Each rank of the calling process
is a :class:`~registry.Communicator` object (behind an ``HcclComm`` handle) bound to one
device. All ranks of one communicator meet at a :class:`~hub.Hub` that lives in one
process (the *root* process: the one that called ``HcclGetRootInfo``, or the
process of rank 0 for a rank table). Ranks in the root process talk to the hub
directly (threads, ``threading`` primitives); ranks in other processes talk to
it over TCP on 127.0.0.1. ``HcclCommInitAll`` builds a hub with every rank in
the calling process.

Every collective is queued on the caller's stream and performed when the
stream reaches it. Each rank numbers its collectives in the order its streams
execute them (``HcclAllReduce``, ``HcclAllGather``, ``HcclBroadcast``,
``HcclBarrier`` and :meth:`Communicator.combine` share one counter). The hub
matches contributions by that number and checks that every rank called the
same thing (function, counts, dtype, op, root); the result is computed once,
by the hub, from the contributions in rank order 0..size-1, so results are
deterministic and identical on every rank.

Numerics of HcclAllReduce
-------------------------
* Reduction order: rank 0, then 1, 2, ... (a left fold), on every rank.
* FP16 and BFP16: decoded to float32, reduced (SUM, PROD, MAX, MIN) in
  float32, rounded once to the type (round to nearest even).
* FP32 and FP64 reduce in their own type.
* Integer types (INT8/16/32/64, UINT8/16/32/64) reduce in their own type and
  **wrap** on overflow (two's complement / modulo 2**bits), as NumPy does.
* MAX/MIN of floats propagate NaN.
* The data types and reduce operations of every call are CANN's per product
  (:data:`aclnn_py.semantics.hccl.OPERATIONS`, docs/hccl.md); others are
  HCCL_E_NOT_SUPPORT with a message naming the type and the supported ones.
  HcclReduceScatter[V] and HcclReduce reduce as HcclAllReduce does.

Environment (read when a communicator is created)
-------------------------------------------------
* ``HCCL_CONNECT_TIMEOUT``: seconds the ranks wait for each other while a
  communicator forms (HcclCommInitRootInfo*, HcclCommInitClusterInfo*).
  Mock default 120 s (CANN's default is 120 s as well).
* ``HCCL_EXEC_TIMEOUT``: seconds a collective waits for the other ranks,
  counted from the first rank's arrival. Mock default 120 s (CANN's is
  1836 s). ``HcclCommConfig.hcclExecTimeOut`` (when not -1) overrides it for
  that communicator. Both accept fractional seconds; values must be > 0.
* ``ACLNN_MOCK_HCCL_HANDSHAKE_TIMEOUT``: seconds a connection to a hub's listener has, from
  its accept, to deliver its whole join request (the mock's own; default 10 s). What the
  listener bounds before the token check: docs/hccl-security.md.

Faults, and how they surface
----------------------------
Membership mistakes fail at once, never by timeout: a rank id joined twice,
or one device serving two ranks of one communicator in one process (two rank
threads that both set device 0), fails the rendezvous of every rank with
HCCL_E_PARA and a message naming the rank or device and both callers (process
and device). A rank id joined after the communicator formed gets HCCL_E_PARA
naming who holds it. Ranks in different processes may use the same device id
(each process may see its own physical device as device 0, e.g. with
ASCEND_RT_VISIBLE_DEVICES). A communicator still alive at aclFinalize is in
its leak report (an error under ACLNN_MOCK_STRICT=1).

A rank that does not join within HCCL_CONNECT_TIMEOUT fails the whole
rendezvous (every waiting rank gets HCCL_E_TIMEOUT naming the missing ranks).
A rank that does not arrive at a collective within HCCL_EXEC_TIMEOUT, a rank
whose process dies (its socket closes), a rank that destroys its communicator
while others still need it, and a rank that calls a different collective (or
count, dtype, op, root) at the same position all fail every participant, with
a message naming what went wrong. The hub tells the ranks of other processes
about a failure as it happens (before it answers the ranks of its own process,
whose process may then end), so a survivor names the rank that died even when
it was busy on the host at that moment and the root process is gone by its
next collective. A failure is sticky: every later collective
of that communicator fails at once with the same message (as with CANN, the
communicator must be destroyed and rebuilt). In a stream task the failure is
raised as an ACL runtime error, so ``aclrtSynchronizeStream`` returns it:

==================  ============================  ====================
HcclResult          meaning                       stream error
==================  ============================  ====================
HCCL_E_TIMEOUT      a rank did not arrive          ACL_ERROR_RT_TASK_TIMEOUT
HCCL_E_PARA         mismatched collectives         ACL_ERROR_RT_PARAM_INVALID
HCCL_E_REMOTE       a rank died / left             ACL_ERROR_RT_INTERNAL_ERROR
others              transport failures             ACL_ERROR_RT_INTERNAL_ERROR
==================  ============================  ====================

and ``HcclGetCommAsyncError`` returns the HcclResult (sticky, not cleared
by reading).

HcclRootInfo layout (4108 bytes, little-endian unless noted)
------------------------------------------------------------
===========  ======  ==========================================================
offset       size    field
===========  ======  ==========================================================
0            8       magic ``b"MOCKHCCL"``
8            4       layout version, 1
12           4       kind, 1 (HcclGetRootInfo)
16           16      communicator id (random)
32           32      token (``secrets.token_bytes``); a joiner must present it
64           4       IPv4 address of the rendezvous, network order (127.0.0.1)
68           2       TCP port of the rendezvous, network order
70           2       reserved, 0
72           4       pid of the root process
76           4       reserved, 0
80           48      text ``"mock-hccl 127.0.0.1:<port>"``, NUL padded
128          3980    zero
===========  ======  ==========================================================

Rank tables (HcclCommInitClusterInfo[Config])
---------------------------------------------
CANN's rank table JSON (hicann/hccl docs/zh/user_guide/cluster_info_config), extra keys ignored,
``status`` checked when present (``"completed"``), every rank on this host:

* ``"version": "1.0"`` (``"1.2"`` is read the same way): ``server_list`` with exactly one
  server, whose ``device`` list has ``device_id`` and ``rank_id`` per rank (strings or
  integers); ``server_count`` checked when present.
* ``"version": "2.0"`` (Ascend 950): ``rank_count`` equal to the length of ``rank_list``, whose
  entries have ``rank_id``, ``local_id``, ``device_id`` and a ``level_list`` of at most 8
  levels; two ranks on one ``device_id`` mean two servers (HCCL_E_NOT_SUPPORT).

Rank ids must be 0..n-1. The communicator id, token and rendezvous port are derived from a
SHA-256 of the file's absolute path and contents (port in 20000..29999); rank 0's process hosts
the rendezvous there. Anyone who can read the file can join.

Config capabilities
-------------------
``HcclGetCommConfigCapability`` answers as CANN's: HCCL_COMM_CONFIG_RESERVED (12) on Atlas
A2/A3, HCCL_COMM_CONFIG_RETRY (10) on Ascend 950. Every documented field of a version >= 10
config is read and checked as CANN checks it (:mod:`.config`); the name (``hcclCommName``) and
``hcclExecTimeOut`` take effect; the mock is always deterministic; buffer size, op expansion
mode, world rank id, job id, graph zero-copy, traffic class, service level, QoS, algorithm and
retry strings have nothing to act on in a mock. Fields after ``hcclCommName`` are read only
from a version >= 10 config of >= 2240 bytes.

For the operator mocks
----------------------
:func:`registry.find_communicator` (by communicator name = the ``group``
string and device) and :meth:`registry.Communicator.combine` (a blocking
all-gather of one NumPy array per rank, stacked in rank order and reduced by the
caller's function -- once for the ranks of this process that pass an equal key --
called from inside a stream task) use the same machinery and the same fault
rules.

Modules
-------
==========  ====================================================================
names       HcclResult/HcclReduceOp names, error texts, the stream error table
config      HCCL_CONNECT_TIMEOUT, HCCL_EXEC_TIMEOUT, HcclCommConfig checks
watchdog    deadlines (one daemon thread)
reduce      HcclAllReduce's numerics; the result each collective delivers
exchange    the segmented calls' transfers: per-rank results, cross-rank count checks
hub         the rendezvous: joining, matching collectives, failures
wire        the join request and the frames ranks of other processes send
listener    the loopback TCP server of this process's hubs (bounded before the token check)
links       how a rank reaches its hub (same process, or TCP)
registry    Communicator, HcclComm handles, lookup by name and device
bootstrap   HcclCommInitAll, root info, rank tables
==========  ====================================================================

The calls themselves are stream-queued operations: HcclAllReduce, HcclAllGather,
HcclBroadcast and HcclBarrier in :mod:`mock_runtime.ops.collectives`; the segmented ones
(ReduceScatter[V], Reduce, Scatter, AllGatherV, AlltoAll[V|VC]) in
:mod:`mock_runtime.ops.transfers`; Send, Recv and BatchSendRecv in
:mod:`mock_runtime.ops.point_to_point`. The C entry points are in :mod:`mock_runtime.exports.hccl`.
"""
