"""Status codes of the headers, their names, and the two neutral failures of the pure layer.

:class:`Violation` is what an operator's rules raise: a status code, the C
function and a message naming the parameter and the rule. The binding turns it
into its exception for that code (:func:`aclnn_py.errors.from_violation`), the
mock into the status its C entry point returns. :class:`ArgumentError` is a
Python value the layer cannot use (the binding raises it before any C call).
"""
from __future__ import annotations

from .headers import load

#: Every integer constant of the headers, status codes among them.
CODES = load().constants


def _names(prefixes: tuple[str, ...], skip: tuple[str, ...] = ()) -> dict[int, str]:
    table: dict[int, str] = {}
    for name, value in CODES.items():
        if name.startswith(prefixes) and not name.endswith(skip):
            table.setdefault(value, name)
    return table


#: Status value -> C name, per family (the first name of a value wins: ACL_ERROR_NONE is ACL_SUCCESS).
ACL_NAMES = {0: "ACL_SUCCESS", **_names(("ACL_ERROR_",), skip=("_NONE",))}
ACLNN_NAMES = _names(("ACLNN_",), skip=("CONFILICT",))
HCCL_NAMES = _names(("HCCL_SUCCESS", "HCCL_E_"))

NULLPTR = CODES["ACLNN_ERR_PARAM_NULLPTR"]
INVALID = CODES["ACLNN_ERR_PARAM_INVALID"]
RUNTIME = CODES["ACLNN_ERR_RUNTIME_ERROR"]
TILING = CODES["ACLNN_ERR_INNER_TILING_ERROR"]


#: :attr:`Violation.rule` of the communicator-size rules (the binding raises its own exception for it).
RANK_COUNT = "rank_count"
#: :attr:`Violation.rule` of a call CANN takes that the rules do not model (code 361001): the mock refuses it
#: saying so, the binding leaves it to the runtime (on an Ascend host CANN decides).
NOT_MODELLED = "not_modelled"


class Violation(Exception):
    """A call an operator's rules reject: ``code`` (161001, 161002, 361001, 561002...),
    ``function`` (the C entry point), ``message`` (the parameter and the rule) and, for a rule
    whose code alone misleads, ``rule`` naming it (:data:`RANK_COUNT`, :data:`NOT_MODELLED`; "" otherwise)."""

    def __init__(self, code: int, function: str, message: str, rule: str = "") -> None:
        self.code = int(code)
        self.function = function
        self.message = message
        self.rule = rule
        super().__init__(f"{function}: {ACLNN_NAMES.get(self.code, self.code)} ({self.code}): {message}")

    def __reduce__(self):
        return (type(self), (self.code, self.function, self.message, self.rule))


class ArgumentError(ValueError):
    """A Python argument of an acceptable type has a value the binding cannot use.

    Raised by the Pythonic layer (dtypes, Tensor, DeviceBuffer, ops, hccl) before
    any C call, instead of whatever a deeper layer would throw (KeyError,
    IndexError, OverflowError, UnicodeError...). ``parameter`` names the argument;
    the message says the rule. A wrong *type* stays a ``TypeError``.
    """

    def __init__(self, parameter: str, message: str) -> None:
        self.parameter = parameter
        self.detail = message
        super().__init__(f"{parameter}: {message}")

    def __reduce__(self):
        return (type(self), (self.parameter, self.detail))
