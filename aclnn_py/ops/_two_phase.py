"""The aclnn two-phase protocol as a resource: :class:`Plan`.

A plan runs ``{op}GetWorkspaceSize`` once when it is made (the arguments are
checked, the executor built) and ``{op}`` each time it is executed, with the
stream's workspace buffer (:meth:`Stream.workspace`, grown when an operator
needs more, freed with the stream). Each operator has its plan class
(``GroupedMatmulV5Plan``, ``QuantMatmulAllReduceV4Plan``, ...); its one-shot
function makes a single-use plan, executes it once and closes it, as
nvmath-python's matmul function does with its plan object.

Lifetimes: :meth:`Plan.close` (also ``with`` and the finalizer) never frees
what queued work may still use. The executor and the resources the plan made
(device copies of NumPy inputs, tensor lists) are released once every stream
the plan queued work on has passed that work -- at the stream's next
successful ``synchronize()`` or its ``close()`` -- or at once when nothing is
queued.

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
from .._resource import Resource
from ..check import check_aclnn
from ..runtime import Stream

__all__ = ["Plan", "dispose", "launch"]

_SIZE = ffi.typeof("uint64_t *")
_EXECUTOR = ffi.typeof("aclOpExecutor **")


def phase1(op: str, *args: Any) -> tuple[int, Any]:
    """Call ``{op}GetWorkspaceSize(*args, &size, &executor)``; return both."""
    size, executor = ffi.new(_SIZE), ffi.new(_EXECUTOR)
    name = op + "GetWorkspaceSize"
    status = getattr(library(), name)(*args, size, executor)
    if status:
        check_aclnn(status, name)
    return size[0], executor[0]


def dispose(resources: Sequence[Any], stream: Stream | None) -> None:
    """Release what a wrapper made when the call cannot go ahead: at the stream's next
    synchronisation when copies may be queued on ``stream``, at once otherwise."""
    if stream is not None:
        stream.release(*resources)
        return
    for resource in resources:
        if resource is not None:
            resource.close()


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
                 stream: Stream | None = None, repeatable: bool = True) -> None:
        """``args``: phase 1's arguments before ``workspaceSize``; ``keep``: objects the executor
        uses (the caller's tensors, C strings...); ``owned``: resources the plan made and releases
        with itself; ``stream``: where copies into ``owned`` may be queued (they count as the
        plan's queued work; released there if phase 1 fails)."""
        self.op = op
        self.repeatable = bool(repeatable)
        self._keep = keep if type(keep) is tuple else tuple(keep)
        self._owned = tuple(owned)
        self._lock = threading.Lock()
        self._queued = 0  # pieces of work on streams that have not synchronised yet
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

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called (what it releases may still wait for a stream)."""
        return self._closing

    def execute(self, stream: Stream) -> None:
        """Queue the operator on ``stream`` (phase 2) with the stream's workspace."""
        # A repeatable plan that ran on a stream is recorded there (Stream._launches: the plan ->
        # its phase-2 call with the stream's workspace) until the stream synchronises -- the only
        # time that workspace can change. The record counts as the plan's queued work there (the
        # stream passes it when it synchronises), so executing the plan there again is the call.
        try:
            launch = stream._launches[self]
        except KeyError:
            status = self._launch(stream)
        else:
            status = self._launch(stream) if self._closing else launch()
        if status:
            check_aclnn(status, self.op)

    def _launch(self, stream: Stream) -> int:
        """Phase 2 on ``stream``, tracked as the plan's work there; the status."""
        if self._closing:
            raise RuntimeError(f"{self.op} plan is closed")
        if self._ran and not self.repeatable:
            raise RuntimeError(f"{self.op}: a single-use plan runs once (make a repeatable plan to run it again)")
        size = self.workspace_size
        workspace = stream.workspace(size)
        function: Callable[..., int] = getattr(library(), self.op)
        status = function(workspace, size, self.handle, stream.handle)
        if self.repeatable and not status:
            with self._lock:
                self._queued += 1
            stream._launches[self] = functools.partial(function, workspace, size, self.handle, stream.handle)
            return status
        if not self.repeatable:
            self._ran = True
            self._disown()  # CANN freed the executor in the call, whatever the status
        self._track(stream)  # a failed launch may still have queued part of the work
        return status

    def _track(self, stream: Stream) -> None:
        with self._lock:
            self._queued += 1
        stream.release(_Queued(self))

    def _passed(self) -> None:
        """A stream passed a piece of this plan's work."""
        # a _Queued token, or the plan's record in Stream._launches
        with self._lock:
            self._queued -= 1
            ready = self._closing and self._queued == 0
        if ready:
            self._free()

    def close(self) -> None:
        """Release the executor and what the plan made: now when no stream has the plan's work
        queued, else once the last of those streams synchronised (again: no effect)."""
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


def launch(op: str, args: tuple, stream: Stream, keep: tuple = (), owned: Sequence[Any] = ()) -> None:
    """Run ``op`` once on ``stream`` through a single-use :class:`Plan`, released once the
    stream has passed the work (``owned`` with it, also when a phase fails: copies into those
    tensors may already be queued on the stream)."""
    run_once(Plan(op, args, keep=keep, owned=owned, stream=stream, repeatable=False), stream)


def run_once(plan: Plan, stream: Stream) -> None:
    """Execute ``plan`` on ``stream`` and close it (what it holds waits for the stream)."""
    try:
        status = plan._launch(stream)  # a single-use plan: never a recorded call
        if status:
            check_aclnn(status, plan.op)
    finally:
        plan.close()
