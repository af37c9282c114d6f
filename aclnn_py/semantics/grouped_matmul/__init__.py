"""aclnnGroupedMatmulV5: what a call is (:mod:`.call`, the one classification), the rules
of GetWorkspaceSize (:mod:`.rules`) and the golden reference (:mod:`.golden`)."""
from ..catalogue import OperatorRules

__all__ = ["OPERATORS"]

#: The catalogue's entry (ops-transformer gmm/grouped_matmul: libopapi_transformer); the header's
#: parameter names in snake case are the canonical arguments.
OPERATORS = (OperatorRules("aclnnGroupedMatmulV5", "opapi_transformer"),)
