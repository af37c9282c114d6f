"""aclnnMm and aclnnMatmul (hicann/ops-nn ``matmul/mat_mul_v3``, exported by libopapi_nn): the rules
of GetWorkspaceSize and the call they classify (:mod:`.rules`), the golden (:mod:`.golden`).

A Python caller passing no ``cube_math_type`` gets KEEP_DTYPE (0), torch_npu's default (Ascend
op-plugin, ``matmul_implement_npu``: ``get_cube_math_type(IsAllowMatmulHF32())``, KEEP_DTYPE
unless ``torch.npu.matmul.allow_hf32``)."""
from ..catalogue import OperatorRules
from . import rules

__all__ = ["OPERATORS"]


def _entry(op: str, check, function: str) -> OperatorRules:
    return OperatorRules(
        op, "opapi_nn",
        check=lambda *, self, mat2, out, cube_math_type, profile: check(self, mat2, out, cube_math_type, profile),
        outputs=lambda *, self, mat2, cube_math_type, profile, **_: rules.output_desc(
            function, self, mat2, cube_math_type, profile),
        defaults={"cube_math_type": 0})


#: The catalogue's entries: the rules, ``out`` inferred (the product in the inputs' promoted dtype).
OPERATORS = (_entry("aclnnMm", rules.check_mm, rules.MM), _entry("aclnnMatmul", rules.check_matmul, rules.MATMUL))
