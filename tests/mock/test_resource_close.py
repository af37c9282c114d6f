"""A close() the runtime refuses leaves the resource open (and its handle owned), so the caller
can close it again once the cause is gone; it is never half-closed with its handle leaked."""
from __future__ import annotations

import numpy as np
import pytest

from aclnn_py import DeviceBuffer
from aclnn_py.errors import AclError


def test_a_refused_free_keeps_the_buffer_open_until_it_can_be_freed(stream):
    data = np.arange(1 << 16, dtype=np.uint8)
    buffer = DeviceBuffer(data.nbytes)
    buffer.copy_from_host(data, stream=stream)  # queued: the mock's race check refuses the free now
    with pytest.raises(AclError) as info:
        buffer.close()
    assert info.value.code == 507004 and "aclrtFree" in info.value.message
    assert not buffer.closed
    stream.synchronize()
    assert np.array_equal(buffer.to_numpy(), data)  # still usable: nothing was freed
    buffer.close()
    assert buffer.closed
    buffer.close()  # again: no effect
