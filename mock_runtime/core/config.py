"""Mock configuration from the environment, read at every aclInit.

``ACLNN_MOCK_DEVICE_COUNT`` (default 8), ``ACLNN_MOCK_STRICT`` (1: leaks at
aclFinalize are an error), ``ACLNN_MOCK_SOC`` (default ``Ascend910B4``) and
``ACLNN_MOCK_RACECHECK`` (``error``, ``warn`` or ``off``, default ``error``:
what a race report does, see :mod:`mock_runtime.core.races`).
The SoC name selects a product profile: names starting with ``Ascend910B``
are Atlas A2, ``Ascend910_93`` Atlas A3, ``Ascend950`` Ascend 950PR/DT.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from aclnn_py.semantics.soc import known, profile_of

DEFAULT_SOC = "Ascend910B4"
RACECHECK_MODES = ("error", "warn", "off")


@dataclass(frozen=True)
class Config:
    device_count: int
    strict: bool
    soc_name: str
    profile: str  # "A2", "A3" or "950"
    racecheck: str = "error"


def soc_from_environment() -> str | None:
    """The SoC name ACLNN_MOCK_SOC selects (None when it names no supported SoC): what
    aclrtGetSocName answers, initialised or not."""
    soc = os.environ.get("ACLNN_MOCK_SOC", "") or DEFAULT_SOC
    return None if profile_of(soc) is None else soc


def from_environment() -> Config:
    """Read and check the ACLNN_MOCK_* variables."""
    raw = os.environ.get("ACLNN_MOCK_DEVICE_COUNT", "8")
    try:
        count = int(raw)
    except ValueError:
        count = -1
    if not 1 <= count <= 1024:
        raise ValueError(f"ACLNN_MOCK_DEVICE_COUNT={raw!r} must be an integer in [1, 1024]")
    soc = os.environ.get("ACLNN_MOCK_SOC", "") or DEFAULT_SOC
    strict = os.environ.get("ACLNN_MOCK_STRICT", "0") not in ("", "0", "false", "False")
    racecheck = os.environ.get("ACLNN_MOCK_RACECHECK", "") or "error"
    if racecheck not in RACECHECK_MODES:
        raise ValueError(f"ACLNN_MOCK_RACECHECK={racecheck!r} must be one of {', '.join(RACECHECK_MODES)}")
    profile = profile_of(soc)
    if profile is None:
        raise ValueError(f"ACLNN_MOCK_SOC: SoC {soc!r} is not supported (expected one of {known()})")
    return Config(count, strict, soc, profile, racecheck)


