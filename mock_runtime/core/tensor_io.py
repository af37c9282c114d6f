"""Read and write the device memory behind an aclTensor as NumPy arrays (see aclnn_py.layout)."""
from __future__ import annotations

import numpy as np

from aclnn_py import layout
from aclnn_py.descriptors import TensorDesc

from .errors import C, MockError
from .memory import table as memory


def _region(desc: TensorDesc, what: str) -> np.ndarray:
    start, nbytes = layout.byte_span(desc)
    if nbytes and desc.address == 0:
        raise MockError(C["ACLNN_ERR_PARAM_NULLPTR"], f"{what}: tensor data address is NULL")
    return memory.region(desc.address + start, nbytes, what)


def check(desc: TensorDesc, what: str) -> None:
    """Raise unless the tensor's elements lie in one live allocation."""
    _region(desc, what)


def read(desc: TensorDesc, what: str) -> np.ndarray:
    """A copy of the tensor's logical contents."""
    return layout.from_bytes(desc, _region(desc, what))


def write(desc: TensorDesc, values: np.ndarray, what: str) -> None:
    """Store ``values`` (logical shape) into the tensor's memory."""
    try:
        layout.into_bytes(desc, values, _region(desc, what))
    except ValueError as exc:
        raise MockError(C["ACLNN_ERR_INNER"], f"{what}: {exc}") from None
