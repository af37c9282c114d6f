"""The aclnn two-phase protocol: ``...GetWorkspaceSize`` then execute on a stream.

:func:`launch` runs both phases once, with the stream's workspace buffer
(:meth:`Stream.workspace`, grown when an operator needs more, freed with the
stream). :class:`Plan` keeps a repeatable executor: phase 1 once, execute many
times.
"""
from __future__ import annotations

import weakref
from typing import Any, Sequence

from .._ffi import ffi
from .._loader import library
from ..check import check_aclnn
from ..runtime import Stream


def phase1(op: str, *args: Any) -> tuple[int, Any]:
    """Call ``{op}GetWorkspaceSize(*args, &size, &executor)``; return both."""
    size, executor = ffi.new("uint64_t *"), ffi.new("aclOpExecutor **")
    name = f"{op}GetWorkspaceSize"
    check_aclnn(getattr(library(), name)(*args, size, executor), name)
    return int(size[0]), executor[0]


def phase2(op: str, size: int, executor: Any, stream: Stream) -> None:
    check_aclnn(getattr(library(), op)(stream.workspace(size), size, executor, stream.handle), op)


def launch(op: str, args: tuple, stream: Stream, keep: tuple = (), release: Sequence[Any] = ()) -> None:
    """Both phases; ``keep`` (the caller's tensors...) stays alive until the stream synchronises,
    ``release`` (what the wrapper made for this call) is closed then -- also when a phase fails,
    since copies into those tensors may already be queued on the stream."""
    try:
        size, executor = phase1(op, *args)
        phase2(op, size, executor, stream)
        stream.keep(*keep)
    finally:
        stream.release(*release)


def dispose(resources: Sequence[Any], stream: Stream | None) -> None:
    """Release what a wrapper made when the call cannot go ahead: at the stream's next
    synchronisation when copies may be queued on ``stream``, at once otherwise."""
    if stream is not None:
        stream.release(*resources)
        return
    for resource in resources:
        if resource is not None:
            resource.close()


class Plan:
    """A repeatable executor: :meth:`execute` runs the prepared operator again on any stream.

    Inputs are read and outputs written at each execution, so refreshing the
    input buffers' contents between runs gives new results.
    """

    def __init__(self, op: str, args: tuple, keep: tuple = (), owned: Sequence[Any] = ()) -> None:
        """``keep``: objects the executor uses; ``owned``: resources the plan made and closes
        with itself (closed now if phase 1 fails)."""
        self.op = op
        self._owned = list(owned)
        try:
            self.workspace_size, self._executor = phase1(op, *args)
        except BaseException:
            dispose(self._owned, None)
            raise
        self._finalizer = weakref.finalize(self, _destroy_executor, self._executor)
        lib = library()
        check_aclnn(lib.aclSetAclOpExecutorRepeatable(self._executor), "aclSetAclOpExecutorRepeatable")
        self._keep = keep

    def execute(self, stream: Stream) -> None:
        if not self._finalizer.alive:
            raise RuntimeError(f"{self.op} plan is closed")
        phase2(self.op, self.workspace_size, self._executor, stream)
        stream.keep(self, *self._keep)

    def close(self) -> None:
        """Destroy the executor and what the plan made (after the streams that ran it synchronised)."""
        if self._finalizer.detach():
            check_aclnn(library().aclDestroyAclOpExecutor(self._executor), "aclDestroyAclOpExecutor")
            dispose(self._owned, None)
            self._owned = []

    def __enter__(self) -> "Plan":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _destroy_executor(executor: Any) -> None:
    import sys

    if not sys.is_finalizing():
        try:
            library().aclDestroyAclOpExecutor(executor)
        except Exception:
            pass
