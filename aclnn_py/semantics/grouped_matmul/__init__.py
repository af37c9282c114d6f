"""aclnnGroupedMatmulV5: what a call is (:mod:`.call`, the one classification), the rules
of GetWorkspaceSize (:mod:`.rules`) and the golden reference (:mod:`.golden`)."""
from .rules import OPERATORS

__all__ = ["OPERATORS"]
