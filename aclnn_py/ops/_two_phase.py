"""The aclnn two-phase protocol as a resource: :class:`Plan`.

A plan runs ``{op}GetWorkspaceSize`` once when it is made (the arguments are
checked, the executor built) and ``{op}`` each time it is executed, with the
stream's workspace buffer (:meth:`Stream.workspace`, grown when an operator
needs more, freed with the stream). Each operator has its plan class
(``GroupedMatmulV5Plan``, ``QuantMatmulAllReduceV4Plan``, ...); its one-shot
function does what that plan made single-use, executed once and closed does
(:func:`launch`, without the plan object), as nvmath-python's matmul function
does with its plan object.

Lifetimes: :meth:`Plan.close` (also ``with`` and the finalizer) never frees
what queued work may still use. The executor and the resources the plan made
(device copies of NumPy inputs, tensor lists) are released once every stream
the plan queued work on has passed that work -- at the stream's next
successful ``synchronize()`` or its ``close()`` -- or at once when nothing is
queued.

Threads: a plan may be executed by several threads at once, on one stream or
on several; its count of queued work is kept under a lock of its own, taken
together with (inside) the stream's lock: a launch reserves its count before
the C call, so a ``close()`` from another thread never frees the executor
under it. Executing a closed plan, or one whose tensors (or communicator)
were closed, raises :class:`~aclnn_py.errors.ClosedResourceError` before C is
called.

Executors: a repeatable plan (the default) calls
``aclSetAclOpExecutorRepeatable`` right after phase 1 and frees the executor
with ``aclDestroyAclOpExecutor``. A single-use plan (``repeatable=False``)
leaves the executor as phase 1 made it: CANN frees a non-repeatable executor
inside the execute call, whatever its status (opbase's
``CommonOpExecutorRun`` deletes it after running it, and on a NULL
workspace), so the plan never destroys it once executed; it destroys it only
when closed without having run it. Some operators cannot be made repeatable
(CANN refuses executors whose operator copies host data itself); their
single-use plans still work.
"""
from __future__ import annotations

import functools
import threading
from typing import Any, Callable, Sequence

from .._ffi import ffi
from .._loader import library
from .. import _resource
from .._resource import Resource, owned_ids, registered_ids, require_open
from ..check import check_aclnn
from ..runtime import Stream

__all__ = ["Plan", "dispose", "launch"]

_SIZE = ffi.typeof("uint64_t *")
_EXECUTOR = ffi.typeof("aclOpExecutor **")


#: op -> its phase-1 / phase-2 C function, looked up on first use (the libraries load once per process).
_PHASE1: dict[str, Callable[..., int]] = {}
_PHASE2: dict[str, Callable[..., int]] = {}


def _phase1_function(op: str) -> Callable[..., int]:
    function = _PHASE1[op] = getattr(library(), op + "GetWorkspaceSize")
    return function


def _phase2_function(op: str) -> Callable[..., int]:
    function = _PHASE2[op] = getattr(library(), op)
    return function


def phase1(op: str, *args: Any) -> tuple[int, Any]:
    """Call ``{op}GetWorkspaceSize(*args, &size, &executor)``; return both."""
    size, executor = ffi.new(_SIZE), ffi.new(_EXECUTOR)
    status = (_PHASE1.get(op) or _phase1_function(op))(*args, size, executor)
    if status:
        check_aclnn(status, op + "GetWorkspaceSize")
    return size[0], executor[0]


def dispose(resources: Sequence[Any], stream: Stream | None) -> None:
    """Release what a wrapper made when the call cannot go ahead: once the stream has passed the
    work queued so far when copies may be queued on ``stream``, at once otherwise (nothing was
    queued on a ``stream`` that is no Stream)."""
    if isinstance(stream, Stream):
        stream.release(*resources)
        return
    for resource in resources:
        if resource is not None:
            resource.close()


def _lock_of(stream: Any) -> Any:
    """The lock of ``stream``: a :class:`Stream` (a TypeError naming what was given otherwise)."""
    try:
        return stream._lock
    except AttributeError:
        raise TypeError(f"stream: expected an aclnn_py.Stream, got {type(stream).__name__}") from None


class _Queued:
    """One piece of a plan's work queued on a stream; the stream closes it (Stream.release) once
    it has passed that work. Holds the plan (and through it what the work uses) until then."""

    __slots__ = ("plan",)

    def __init__(self, plan: "Plan") -> None:
        self.plan: Plan | None = plan

    def close(self) -> None:
        plan, self.plan = self.plan, None
        if plan is not None:
            plan._passed()


class Plan(Resource):
    """A prepared call of ``op``: phase 1 done, :meth:`execute` runs it on a stream.

    Inputs are read and outputs written at each execution, so refreshing the
    input buffers' contents between runs gives new results. ``close()``,
    ``with`` and the finalizer release the executor and what the plan made,
    deferred until the streams that ran it have passed the work (see the
    module docstring).
    """

    _destroy = "aclDestroyAclOpExecutor"
    _check = staticmethod(check_aclnn)

    def __init__(self, op: str, args: tuple, *, keep: tuple = (), owned: Sequence[Any] = (),
                 stream: Stream | None = None, repeatable: bool = True, communicator: Any = None,
                 checked_at: int = -1) -> None:
        """``args``: phase 1's arguments before ``workspaceSize``; ``keep``: objects the executor
        uses (the caller's tensors, C strings...); ``owned``: resources the plan made and releases
        with itself; ``stream``: where copies into ``owned`` may be queued (they count as the
        plan's queued work; released there if phase 1 fails); ``communicator``: the HCCL
        communicator the operator runs on (a rank of one device: the plan runs only on that
        device's streams); ``checked_at``: the value of ``_resource.closed_since`` read before
        the caller found ``keep`` and ``communicator`` open (-1: not checked)."""
        self.op = op
        self.repeatable = bool(repeatable)
        self._keep = keep if type(keep) is tuple else tuple(keep)
        self._owned = tuple(owned)
        self._communicator = communicator
        #: The registered resources the executor uses (and their buffers): all open, or no launch
        #: (found on first need).
        self._needed: frozenset[int] | None = None
        self._checked_at = checked_at  # the value of _resource.closed_since when they last were
        self._lock = threading.Lock()  # held for counts and flags only: nothing under it can re-enter
        self._queued = 0  # pieces of work on streams that have not passed them yet
        self._closing = False
        self._ran = False
        try:
            self.workspace_size, executor = phase1(op, *args)
        except BaseException:
            dispose(self._owned, stream)
            raise
        self._own(executor)
        if stream is not None and self._owned:
            self._track(stream)
        if self.repeatable:
            try:
                check_aclnn(library().aclSetAclOpExecutorRepeatable(executor), "aclSetAclOpExecutorRepeatable")
            except BaseException:
                self.close()
                raise

    def _label(self) -> str:
        return f"{self.op} plan"

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called (what it releases may still wait for a stream)."""
        return self._closing

    @property
    def handle(self) -> Any:
        self._require_open()
        return super().handle

    def execute(self, stream: Stream) -> None:
        """Queue the operator on ``stream`` (phase 2) with the stream's workspace."""
        # A repeatable plan that ran on a stream is recorded there (Stream._launches: the plan ->
        # its phase-2 call with the stream's workspace) until the stream has passed that work;
        # the record counts as the plan's queued work there, so executing the plan there again is
        # the call, made under the stream's lock (the workspace cannot change meanwhile).
        try:
            lock = stream._lock
        except AttributeError:
            lock = _lock_of(stream)  # raises the TypeError
        with lock:
            launch = stream._launches.get(self)
            if launch is not None and not self._closing and (
                    self._checked_at == _resource.closed_since or self._inputs_still_open()):
                status = launch()
            else:
                status = self._launch(stream)
        if status:
            check_aclnn(status, self.op)

    def _inputs_still_open(self) -> bool:
        """Whether every resource the executor uses is still open, when they were found once
        (:meth:`_require_inputs`); remembered until a resource closes somewhere."""
        seen = _resource.closed_since  # read before the check: a close after it changes the value
        needed = self._needed
        if needed is not None and owned_ids >= needed:
            self._checked_at = seen
            return True
        return False

    def _require_inputs(self) -> None:
        """Refuse (ClosedResourceError naming it) a closed resource the executor uses; remember
        the registered ones for :meth:`_inputs_still_open`."""
        seen = _resource.closed_since
        require_open(*self._keep, self._communicator)
        if self._needed is None:
            self._needed = registered_ids((*self._keep, self._communicator))
        self._checked_at = seen

    def _launch(self, stream: Stream) -> int:
        """Phase 2 on ``stream``, tracked as the plan's work there; the status. The caller holds
        the stream's lock: the workspace, the launch and its record are one step."""
        if self._closing:
            raise self._closed_error()
        queue = stream._live()
        if self._communicator is not None:
            stream._require_device(self._communicator)
        if self._checked_at != _resource.closed_since and not self._inputs_still_open():
            self._require_inputs()
        with self._lock:
            if self._closing:
                raise self._closed_error()
            if self._ran and not self.repeatable:
                raise RuntimeError(f"{self.op}: a single-use plan runs once (make a repeatable plan to run it again)")
            ran, self._ran = self._ran, True
            self._queued += 1  # reserved: a close() meanwhile defers the free
        try:
            size = self.workspace_size
            workspace = stream._workspace_pointer(size)
            function = _PHASE2.get(self.op) or _phase2_function(self.op)
            status = function(workspace, size, self._handle, queue)
        except BaseException:  # the executor did not run (a workspace allocation failed, say)
            self._ran = ran
            self._passed()
            raise
        if self.repeatable and not status:
            recorded = self in stream._launches
            stream._launches[self] = functools.partial(function, workspace, size, self._handle, queue)
            if recorded:
                self._passed()  # the record already counts this plan's work there
            return status
        if not self.repeatable:
            self._disown()  # CANN freed the executor in the call, whatever the status
        stream._owned.append(_Queued(self))  # a failed launch may still have queued part of the work
        return status

    def _track(self, stream: Stream) -> None:
        with self._lock:
            self._queued += 1
        stream.release(_Queued(self))

    def _passed(self) -> None:
        """A stream passed a piece of this plan's work (or a reservation was not used)."""
        # a _Queued token, or the plan's record in Stream._launches
        with self._lock:
            self._queued -= 1
            ready = self._closing and self._queued == 0
        if ready:
            self._free()

    def close(self) -> None:
        """Release the executor and what the plan made: now when no stream has the plan's work
        queued, else once the last of those streams passed it (again: no effect)."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
            ready = self._queued == 0
        if ready:
            self._free()

    def _free(self) -> None:
        owned, self._owned = self._owned, ()
        self._keep = ()
        try:
            super().close()  # the executor, unless a single-use execution consumed it
        finally:
            dispose(owned, None)


def launch(op: str, args: tuple, stream: Stream, keep: tuple = (), owned: Sequence[Any] = (), *,
           communicator: Any = None, checked_at: int = -1) -> None:
    """Run ``op`` once on ``stream``: what a single-use :class:`Plan` executed once and closed does,
    without the plan object (a one-shot function's call).

    Phase 1, then -- under the stream's lock, as :meth:`Plan.execute` -- the checks of a launch
    (the stream open, the ``communicator``'s device, ``keep`` and ``communicator`` still open unless
    nothing closed since ``checked_at``, as for :class:`Plan`), the stream's workspace and phase 2
    with the executor as phase 1 made it: CANN frees a single-use executor in that call, whatever
    its status (see the module docstring); one that never reaches it is destroyed here. The stream
    holds ``keep`` and closes ``owned`` once it has passed the work (``owned`` also when a phase
    fails: copies into those tensors may already be queued on the stream)."""
    try:
        lock = stream._lock
    except AttributeError:
        dispose(owned, None)
        lock = _lock_of(stream)  # raises the TypeError
    try:
        size, executor = phase1(op, *args)
    except BaseException:
        dispose(owned, stream)
        raise
    with lock:
        try:
            queue = stream._live()
            if communicator is not None:
                stream._require_device(communicator)
            if checked_at != _resource.closed_since:
                require_open(*keep, communicator)
            workspace = stream._workspace_pointer(size)
        except BaseException:  # the executor never ran: ours to free
            _destroy_executor(executor)
            dispose(owned, stream)
            raise
        status = (_PHASE2.get(op) or _phase2_function(op))(workspace, size, executor, queue)
        stream._keepalive.append(keep)  # a failed launch may still have queued part of the work
        stream._owned.extend(owned)
    if status:
        check_aclnn(status, op)


def _destroy_executor(executor: Any) -> None:
    """Free an executor phase 1 made and no execution consumed (quietly: an error is propagating)."""
    library().aclDestroyAclOpExecutor(executor)

