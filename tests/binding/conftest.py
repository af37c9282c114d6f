"""The binding tier: the runtime only through aclnn_py, so it runs unchanged on an Ascend host.

The backend is the one aclnn_py chooses (``ACLNN_PY_BACKEND``; ``auto`` uses the mock only
where there is no sign of CANN). The runtime, device and stream come from the testing kit
(aclnn_py.testing: the session's runtime; device 0 and a stream torn down after the test, which
fails if it leaves aclnn-py resources open).
"""
from __future__ import annotations

import os

import pytest

from binding_helpers import soc_profile

# CANN's own variables: a collective that never completes fails within 20 s, not the default.
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


@pytest.fixture(scope="module")
def soc(request, runtime):
    """Parametrised indirectly with a SoC name: the module's tests of that SoC run under its
    profile (:func:`binding_helpers.soc_profile`; pytest groups the tests by SoC), or are
    skipped with the reason."""
    with soc_profile(request.param):
        yield request.param
