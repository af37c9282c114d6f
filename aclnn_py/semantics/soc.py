"""SoC names and the product profile each belongs to (what features an operator allows)."""
from __future__ import annotations

#: SoC name prefix -> profile: Atlas A2 (910B), Atlas A3 (910_93), Ascend 950PR/DT.
PROFILES = {"Ascend910B": "A2", "Ascend910_93": "A3", "Ascend950": "950"}


def profile(soc_name: str) -> str:
    """``"A2"``, ``"A3"`` or ``"950"`` for a SoC name such as ``Ascend910B4`` (ValueError otherwise)."""
    for prefix, name in PROFILES.items():
        if soc_name.startswith(prefix):
            return name
    known = ", ".join(f"{p}*" for p in PROFILES)
    raise ValueError(f"SoC {soc_name!r} is not supported (expected one of {known})")
