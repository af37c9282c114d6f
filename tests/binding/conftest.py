"""The binding tier: the runtime only through aclnn_py, so it runs unchanged on an Ascend host.

The backend is the one aclnn_py chooses (``ACLNN_PY_BACKEND``; ``auto`` uses the mock only
where there is no sign of CANN). The runtime, device and stream fixtures: tests/conftest.py.
"""
from __future__ import annotations

import pytest

from binding_helpers import soc_profile


@pytest.fixture(scope="module")
def soc(request, runtime):
    """Parametrised indirectly with a SoC name: the module's tests of that SoC run under its
    profile (:func:`binding_helpers.soc_profile`; pytest groups the tests by SoC), or are
    skipped with the reason."""
    with soc_profile(request.param):
        yield request.param
