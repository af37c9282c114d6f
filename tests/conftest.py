"""What both runtime tiers share: the runtime, device and stream of a test come from the testing
kit (aclnn_py.testing: the session's runtime; device 0 and a stream torn down after the test,
which fails if it leaves aclnn-py resources open); a collective that never completes fails within
20 s, not CANN's default (HCCL's own variables)."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("HCCL_EXEC_TIMEOUT", "20")
os.environ.setdefault("HCCL_CONNECT_TIMEOUT", "20")


@pytest.fixture(scope="session")
def runtime(aclnn_runtime):
    return aclnn_runtime


@pytest.fixture
def device(aclnn_device):
    return aclnn_device


@pytest.fixture
def stream(aclnn_stream):
    return aclnn_stream
