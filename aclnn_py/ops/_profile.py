"""The product profile the operators' Python pre-checks run under: the runtime's SoC, looked up once."""
from __future__ import annotations

import threading
import warnings

from .._ffi import ffi
from .._loader import library
from ..semantics import soc

__all__ = ["current_profile"]

_PROFILES: dict[bytes, str | None] = {}  # SoC names seen -> their profile
_lock = threading.Lock()


def current_profile() -> str | None:
    """``"A2"``, ``"A3"`` or ``"950"``: the profile of the SoC the runtime reports (``aclrtGetSocName``).

    None when the runtime names no SoC (before ``aclInit``) or one of no known profile (a SoC
    newer than this package): the operators then skip their Python pre-checks and pass the call
    to the runtime, which accepts what that SoC runs and rejects the rest with its own status.
    The latter is said once per SoC name, in a :class:`RuntimeWarning`.
    """
    name = library().aclrtGetSocName()
    if name == ffi.NULL:
        return None
    raw = ffi.string(name)
    try:
        return _PROFILES[raw]
    except KeyError:
        pass
    profile = soc.profile_of(raw.decode("utf-8", "replace"))
    with _lock:
        first = raw not in _PROFILES
        if len(_PROFILES) < 64:
            _PROFILES[raw] = profile
    if profile is None and first:
        warnings.warn(f"SoC {raw.decode('utf-8', 'replace')!r} has no product profile aclnn-py knows "
                      f"({soc.known()}): the operators' Python pre-checks are skipped and the runtime "
                      f"checks each call", RuntimeWarning, stacklevel=3)
    return profile
