"""The mock tier: on the mock runtime, one ACL runtime per session (the testing kit's fixtures)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# The mock tier builds on the binding tier's helpers (binding_helpers), whichever tier runs first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "binding"))

os.environ.setdefault("ACLNN_PY_BACKEND", "mock")
os.environ.setdefault("HCCL_EXEC_TIMEOUT", "20")
os.environ.setdefault("HCCL_CONNECT_TIMEOUT", "20")
# Tests of the raw C ABI leave handles (phase 1 without an execution, bare aclTensors): the mock
# reports them at aclFinalize as a warning, not as the kit's strict end-of-session error.
os.environ.setdefault("ACLNN_MOCK_STRICT", "0")


# The runtime, device and stream of a test come from the testing kit (aclnn_py.testing: the
# session's runtime; device 0 and a stream torn down after the test, which fails if it leaves
# aclnn-py resources open).
@pytest.fixture(scope="session")
def runtime(aclnn_runtime):
    return aclnn_runtime


@pytest.fixture
def device(aclnn_device):
    return aclnn_device


@pytest.fixture
def stream(aclnn_stream):
    return aclnn_stream


@pytest.fixture(scope="session")
def mock_libdir(aclnn_mock_libdir) -> Path:
    return aclnn_mock_libdir
