"""Running code under another SoC profile: re-initialising the mock runtime.

The mock reads ``ACLNN_MOCK_SOC`` at ``aclInit`` (``Ascend910B*`` Atlas A2,
``Ascend910_93*`` Atlas A3, ``Ascend950*`` Ascend 950), so :func:`switch` calls
``aclFinalize``, sets the variable and calls ``aclInit`` again. Everything made
under the previous runtime (devices, streams, buffers...) is gone with it:
release it first. On hardware the SoC is the chip's: :func:`unavailable` says
why a requested SoC cannot be had (a different product profile) or None when the
present one already has that profile.
"""
from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from typing import Iterator

from .._ffi import ffi
from .._loader import library
from ..check import check_acl
from ..errors import AclError
from ..semantics import soc as socs

__all__ = ["current", "mock_soc", "switch", "unavailable"]

VARIABLE = "ACLNN_MOCK_SOC"


def current() -> str | None:
    """``aclrtGetSocName`` (None when the runtime does not say; it needs no ``aclInit``)."""
    name = library().aclrtGetSocName()
    return None if name == ffi.NULL else ffi.string(name).decode()


def unavailable(soc: str) -> str | None:
    """Why ``soc`` cannot be used here, or None when it can (always on the mock;
    on hardware when the present SoC has the same product profile)."""
    wanted = socs.profile_of(soc)
    if wanted is None:
        return f"SoC {soc!r} has no known product profile (expected {socs.known()})"
    if library().backend == "mock":
        return None
    present = current()
    if socs.profile_of(present) == wanted:
        return None
    return (f"this test needs an {soc} (profile {wanted}); the device is {present or 'unknown'} and only "
            f"the mock can switch SoC profiles (ACLNN_MOCK_SOC)")


def switch(soc: str | None) -> None:
    """Re-initialise the mock runtime under ``soc`` (None: the mock's default).

    Raises :class:`RuntimeError` on another backend, and :class:`aclnn_py.AclError`
    when ``aclFinalize`` fails (under ``ACLNN_MOCK_STRICT=1``: something of the old
    runtime is still open; the new one is initialised all the same).
    """
    lib = library()
    if lib.backend != "mock":
        raise RuntimeError(f"only the mock runtime can switch SoC profiles (backend: {lib.backend})")
    gc.collect()  # what the previous runtime's objects still hold, they release now
    failure = None
    status = lib.aclFinalize()
    if status != lib.ACL_ERROR_UNINITIALIZE:
        try:
            check_acl(status, "aclFinalize")  # reads the message now, before aclInit replaces it
        except AclError as exc:
            failure = exc
    if soc is None:
        os.environ.pop(VARIABLE, None)
    else:
        os.environ[VARIABLE] = soc
    status = lib.aclInit(ffi.NULL)
    if status != lib.ACL_ERROR_REPEAT_INITIALIZE:
        check_acl(status, "aclInit")
    if failure is not None:
        raise failure


@contextmanager
def mock_soc(soc: str) -> Iterator[None]:
    """``with mock_soc("Ascend950PR"): ...`` -- the mock under ``soc``, then the previous one."""
    previous = os.environ.get(VARIABLE)
    switch(soc)
    try:
        yield
    finally:
        switch(previous)
