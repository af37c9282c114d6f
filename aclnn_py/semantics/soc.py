"""SoC names and the product profile each belongs to (what features an operator allows)."""
from __future__ import annotations

#: SoC name prefix -> profile: Atlas A2 (910B), Atlas A3 (910_93), Ascend 950PR/DT.
PROFILES = {"Ascend910B": "A2", "Ascend910_93": "A3", "Ascend950": "950"}


def profile_of(soc_name: str | None) -> str | None:
    """``"A2"``, ``"A3"`` or ``"950"`` for a SoC name; None for no name or a SoC of no known profile.

    The one lookup of the project (the binding's pre-checks, the testing kit, the self-check, the
    mock). What None means is the caller's to say: the binding skips its Python pre-checks and lets
    the runtime judge the call (a newer SoC may well run it), warning once per SoC name
    (:func:`aclnn_py.ops.current_profile`); the mock refuses an ``ACLNN_MOCK_SOC`` of no profile.
    """
    if soc_name is None:
        return None
    for prefix, name in PROFILES.items():
        if soc_name.startswith(prefix):
            return name
    return None



def known() -> str:
    """The known SoC name prefixes, for messages: ``Ascend910B*, Ascend910_93*, Ascend950*``."""
    return ", ".join(f"{p}*" for p in PROFILES)
