"""aclnnCast (hicann/ops-math ``math/cast``, exported by libopapi_math): the rules of
GetWorkspaceSize and the conversions each SoC has (:mod:`.rules`), the golden (:mod:`.golden`)."""
from ..catalogue import OperatorRules
from . import rules

__all__ = ["OPERATORS"]

#: The catalogue's entry: the rules, ``out`` inferred (``self``'s shape, ``dtype``).
OPERATORS = (OperatorRules(
    "aclnnCast", "opapi_math",
    check=lambda *, self, dtype, out, profile: rules.check_cast(self, dtype, out, profile),
    outputs=lambda *, self, dtype, profile, **_: rules.output_desc(self, dtype)),)
