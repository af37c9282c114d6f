"""The mock's operators: argument checks at GetWorkspaceSize, NumPy math on the stream."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from aclnn_py.semantics.status import Violation
from mock_runtime.core.errors import MockError


@contextmanager
def as_status() -> Iterator[None]:
    """Turn a rule violation into the status code the C caller gets."""
    try:
        yield
    except Violation as exc:
        raise MockError(exc.code, exc.message) from None
