"""A plan class taking exactly its operator function's arguments, written once (in the function)."""
from __future__ import annotations

import inspect
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class TakesFunctionArguments:
    """Mixin of a plan class whose arguments are those of its operator function.

    ``@Plan.arguments_of`` on the function makes the plan take the function's parameters
    (``stream`` becoming optional: where host arrays are copied, synchronously when None) plus
    ``repeatable``; ``inspect.signature`` and ``help()`` show them. A subclass implements
    ``_prepare(arguments, repeatable)`` with the arguments by name, defaults applied -- what the
    function passes as ``locals()``.
    """

    _bind: inspect.Signature

    @classmethod
    def arguments_of(cls, function: F) -> F:
        parameters = [p.replace(default=None) if p.name == "stream" else p
                      for p in inspect.signature(function).parameters.values()]
        cls._bind = inspect.Signature(parameters)
        cls.__signature__ = inspect.Signature([*parameters, inspect.Parameter(
            "repeatable", inspect.Parameter.KEYWORD_ONLY, default=True, annotation=bool)])
        return function

    def __init__(self, *args: Any, repeatable: bool = True, **kwargs: Any) -> None:
        bound = self._bind.bind(*args, **kwargs)
        bound.apply_defaults()
        self._prepare(dict(bound.arguments), repeatable)

    def _prepare(self, arguments: dict[str, Any], repeatable: bool) -> None:
        raise NotImplementedError
