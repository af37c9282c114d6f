"""The mock tier: on the mock runtime, one ACL runtime per session (the fixtures of tests/conftest.py)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# The mock tier builds on the binding tier's helpers (binding_helpers), whichever tier runs first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "binding"))

os.environ.setdefault("ACLNN_PY_BACKEND", "mock")
# Tests of the raw C ABI leave handles (phase 1 without an execution, bare aclTensors): the mock
# reports them at aclFinalize as a warning, not as the kit's strict end-of-session error.
os.environ.setdefault("ACLNN_MOCK_STRICT", "0")


@pytest.fixture(scope="session")
def mock_libdir(aclnn_mock_libdir) -> Path:
    return aclnn_mock_libdir
