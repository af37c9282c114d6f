"""aclnnCast on the mock: the rules at GetWorkspaceSize, the golden conversion on the stream.

Phase 1 runs :func:`aclnn_py.semantics.cast.rules.check_cast` under the profile of the SoC chosen
at aclInit and proves ``self`` (read) and ``out`` (written) inside live device memory
(:mod:`mock_runtime.core.tensor_io`); the execute call proves them again and declares the
accesses to the race detector. The queued work reads ``self`` in its logical layout (any
strides), converts it with :func:`aclnn_py.semantics.cast.golden.convert` and writes ``out``
(any strides).

COMPLEX32 and FLOAT4_E1M2, which Ascend 950 converts, have no host representation in aclnn-py:
a call involving one (empty or not) is refused at GetWorkspaceSize, after CANN's rules, with
161002 naming the type: what the mock cannot compute, said so. Workspace: 0 bytes (the mock's choice; CANN does
not document it).
"""
from __future__ import annotations

from aclnn_py.semantics import dtypes
from aclnn_py.semantics.cast import golden, rules
from aclnn_py.semantics.descriptors import TensorDesc
from mock_runtime.core import compute, objects, tensor_io
from mock_runtime.core import runtime as rt
from mock_runtime.core.errors import C, MockError
from mock_runtime.ops import as_status, implements

OP = "aclnnCast"


@implements(OP)
def prepare(*, self: TensorDesc | None, dtype: int, out: TensorDesc | None) -> objects.Executor:
    with as_status():
        work = rules.check_cast(self, dtype, out, rt.require().profile)
    assert self is not None and out is not None
    for name, value in (("self", self.dtype), ("dtype", dtype)):
        if value not in dtypes.NAMES:
            raise MockError(C["ACLNN_ERR_PARAM_INVALID"], f"{name} {dtypes.label(value)}: the mock cannot compute "
                                                          f"this type (aclnn-py has no host representation of it)")
    params: dict[str, object] = {"self": self, "out": out}
    tensor_io.prove_params(params, ["out"], {})
    if not work:
        return objects.Executor(op=OP, device=rt.current_device(), workspace_size=0, params=params,
                                run=lambda p: None)
    source, target = dtypes.name(self.dtype), dtypes.name(dtype)

    def run(p: dict[str, object]) -> None:
        values = tensor_io.view(p["self"], "self")  # type: ignore[arg-type]
        tensor_io.write(p["out"], compute.pool.call(golden.convert, values, source, target), "out")  # type: ignore[arg-type]

    return objects.Executor(op=OP, device=rt.current_device(), workspace_size=0, params=params, run=run)
