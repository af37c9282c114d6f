"""A pytest plugin for a child run of the binding tier (``-p as_if_cann``, this directory on
PYTHONPATH; tests/mock/test_binding_tier_through_cann.py): the tier runs on the mock's libraries
as it would on CANN's, which word their messages their own way.

* Every text the runtime hands out (``aclGetRecentErrMsg``, ``HcclGetErrorString``) is replaced
  by :data:`OTHER_WORDS`, so a binding test that still expects the mock's wording of a raw call
  fails here.
* ``binding_helpers.mock_library()`` answers False, so the tier leaves out what it checks only on
  the mock's libraries (the text of raw calls' messages, bit-exact numeric choices of the mock)
  and runs its hardware comparisons (CANN's precision standard) instead.

Messages the binding raises itself before any C call (its rules, its argument checks) do not come
from the runtime: they keep their wording and their checks still run.
"""
from __future__ import annotations

import sys
from pathlib import Path

#: What every runtime message reads in this run (no fragment of any of the mock's messages).
OTHER_WORDS = b"(the words of another runtime)"
BINDING_TIER = Path(__file__).resolve().parent.parent / "binding"


#: How many runtime messages were handed out in other words (reported at the end of the run).
replaced = 0


def pytest_configure(config) -> None:
    import aclnn_py
    from aclnn_py import ffi

    lib = aclnn_py.lib  # loads the libraries (no aclInit)
    words = ffi.new("char[]", OTHER_WORDS)  # alive as long as the wrappers below
    recent, error_string = lib.aclGetRecentErrMsg, lib.HcclGetErrorString

    def other_words(text):
        global replaced
        if text == ffi.NULL:
            return text
        replaced += 1
        return words

    def aclGetRecentErrMsg():
        return other_words(recent())

    def HcclGetErrorString(code):
        return other_words(error_string(code))

    # aclnn_py.lib resolves a function once and keeps it in its __dict__: these are used instead.
    lib.__dict__.update(aclGetRecentErrMsg=aclGetRecentErrMsg, HcclGetErrorString=HcclGetErrorString)
    assert aclnn_py.lib.aclGetRecentErrMsg is aclGetRecentErrMsg
    sys.path.insert(0, str(BINDING_TIER))
    import binding_helpers

    binding_helpers.mock_library = lambda: False


def pytest_terminal_summary(terminalreporter) -> None:
    terminalreporter.write_line(f"as_if_cann: {replaced} runtime messages handed out in other words")
