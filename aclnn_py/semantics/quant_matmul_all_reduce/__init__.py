"""The MatmulAllReduce operator family: aclnnQuantMatmulAllReduce V1-V5, aclnnMatmulAllReduce V1-V3
and aclnnWeightQuantMatmulAllReduce V1-V2 -- what a call is (:mod:`.call`), the rules of
GetWorkspaceSize (:mod:`.rules` for the quantized entry points and the catalogue's entries,
:mod:`.unquantized_rules` for the others, :mod:`.checks` for what they share) and the golden
reference (:mod:`.golden`)."""
from .rules import OPERATORS

__all__ = ["OPERATORS"]
