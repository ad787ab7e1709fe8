"""Every service function names the permission it checks, and a call that skips the check fails."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import urbandata
from urbandata.auth.actor import RequestContext
from urbandata.auth.guard import UncheckedServiceCall, guarded, permission_of
from urbandata.auth.policy import PERMISSIONS

# Open by design: signing in and resolving a token are the authentication itself (the secret is the
# check), and appending to the audit log is what every other check does, not a read or write of data.
OPEN_BY_DESIGN = {
    "urbandata.accounts.service.login",
    "urbandata.accounts.identity.actor_for_token",
    "urbandata.accounts.oidc.complete",
    "urbandata.audit.service.record",
}
DOMAINS = ("catalog", "accounts", "audit")


def service_functions() -> list[tuple[str, object]]:
    """Public functions of the domain packages whose first parameter is the request context."""
    found = []
    for domain in DOMAINS:
        pkg = importlib.import_module(f"urbandata.{domain}")
        for info in pkgutil.iter_modules(pkg.__path__):
            if info.name == "repository":
                continue
            module = importlib.import_module(f"urbandata.{domain}.{info.name}")
            for name, fn in inspect.getmembers(module, inspect.isfunction):
                if name.startswith("_") or getattr(fn, "__module__", "") != module.__name__ and not permission_of(fn):
                    continue
                target = inspect.unwrap(fn)
                if target.__module__ != module.__name__:
                    continue
                params = list(inspect.signature(target).parameters.values())
                if params and params[0].annotation in (RequestContext, "RequestContext"):
                    found.append((f"{module.__name__}.{name}", fn))
    return found


def test_every_service_function_declares_a_registered_permission() -> None:
    functions = service_functions()
    assert len(functions) > 20
    missing = [name for name, fn in functions if name not in OPEN_BY_DESIGN and permission_of(fn) is None]
    assert missing == [], f"service functions without @guarded(permission): {missing}"
    unknown = {permission_of(fn) for _, fn in functions} - set(PERMISSIONS) - {None}
    assert unknown == set()


def test_a_guarded_function_that_never_asks_the_policy_fails() -> None:
    @guarded("dataset.read")
    def careless(ctx: RequestContext) -> str:
        return "leaked"

    with pytest.raises(UncheckedServiceCall):
        careless(None)  # type: ignore[arg-type]


def test_package_imports() -> None:
    assert urbandata.__version__
