"""Testing kit for projects that call aclnn: pytest fixtures and the helpers behind them.

Installing aclnn-py registers the pytest plugin :mod:`aclnn_py.testing.plugin`
(entry point ``pytest11``, name ``aclnn_py``). Its fixtures do nothing unless a
test asks for them; ``-p no:aclnn_py`` disables the plugin altogether.

==========================  =========================================================
fixture / marker            what it gives
==========================  =========================================================
``aclnn_runtime``           the session's :class:`aclnn_py.Runtime` (aclInit/aclFinalize)
``aclnn_device``            device 0 set on the test's thread, reset after the test
``aclnn_stream``            a stream on it, synchronised and destroyed after the test
``aclnn_ranks``             ``aclnn_ranks(n)``: :class:`Ranks`, n thread ranks with a
                            context, a stream and an HCCL communicator each (skipped
                            when the host has fewer than n devices)
``aclnn_leak_check``        fails the test (at teardown) naming every resource it
                            created and left open; used by the three fixtures above
``aclnn_program``           build/run C and C++ programs against ``include/`` and the mock
``@pytest.mark.aclnn_soc``  ``aclnn_soc("Ascend950PR")``: the test runs under that SoC
                            profile (mock; skipped on hardware of another profile)
==========================  =========================================================

The helpers work without pytest: :class:`Ranks`, :class:`LeakCheck`,
:func:`mock_soc` / :func:`switch_soc`, :func:`build_program`, :func:`run_program`,
:func:`compile_and_run`. Importing this package loads no library.
"""
from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "Rank": "ranks", "RankError": "ranks", "Ranks": "ranks",
    "Leak": "leaks", "LeakCheck": "leaks",
    "mock_soc": "soc", "switch_soc": "soc", "soc_unavailable": "soc",
    "BuildError": "programs", "CompilerNotFound": "programs", "build_program": "programs",
    "compile_and_run": "programs", "mock_libdir": "programs", "run_program": "programs",
}
_RENAMED = {"switch_soc": "switch", "soc_unavailable": "unavailable"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, _RENAMED.get(name, name))
    raise AttributeError(f"module 'aclnn_py.testing' has no attribute {name!r}")


__all__ = list(_LAZY)
