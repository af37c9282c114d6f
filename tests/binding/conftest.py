"""The binding tier: the runtime only through aclnn_py, so it runs unchanged on an Ascend host.

The backend is the one aclnn_py chooses (``ACLNN_PY_BACKEND``; ``auto`` uses the mock only
where there is no sign of CANN). The runtime, device and stream fixtures: tests/conftest.py.
"""
from __future__ import annotations

import pytest

import binding_helpers
from binding_helpers import soc_profile


@pytest.fixture(scope="session", autouse=True)
def one_process_on_hardware(request, runtime):
    """On an Ascend host the tier's tests share the devices and their HCCL communicators, so
    they run in one process: the project's default of two pytest-xdist workers (its own suite on
    the mock, where each worker has devices of its own) fails every test there with what to type."""
    # this process's own session (a child pytest inherits its parent worker's PYTEST_XDIST_* variables)
    workers = int(getattr(request.config, "workerinput", {}).get("workercount", 1))
    if workers > 1 and not binding_helpers.mock_library():
        pytest.fail(f"the binding tier runs on the devices of this host: run it in one process "
                    f"(python -m pytest -n 0 tests/binding), not on {workers} pytest-xdist workers", pytrace=False)


@pytest.fixture(scope="module")
def soc(request, runtime):
    """Parametrised indirectly with a SoC name: the module's tests of that SoC run under its
    profile (:func:`binding_helpers.soc_profile`; pytest groups the tests by SoC), or are
    skipped with the reason."""
    with soc_profile(request.param):
        yield request.param
