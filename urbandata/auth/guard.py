"""Service functions declare the permission they check; a call that returns without asking the policy
is a defect that this guard turns into an error (tests) instead of a silent leak."""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_checked: contextvars.ContextVar[bool] = contextvars.ContextVar("urbandata_permission_checked", default=False)


class UncheckedServiceCall(RuntimeError):
    """A service function returned without consulting the access policy."""


def mark_checked() -> None:
    _checked.set(True)


def guarded(permission: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Mark a service function with the permission it checks, and verify on every call that it did."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            token = _checked.set(False)
            try:
                result = fn(*args, **kwargs)
                checked = _checked.get()
            finally:
                _checked.reset(token)
            if not checked:
                raise UncheckedServiceCall(f"{fn.__module__}.{fn.__qualname__} did not check {permission}")
            mark_checked()  # an enclosing guarded call counts this check too
            return result

        wrapper.__guarded__ = permission  # type: ignore[attr-defined]
        return wrapper

    return decorate


def permission_of(fn: Any) -> str | None:
    return getattr(fn, "__guarded__", None)
