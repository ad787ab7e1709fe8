"""Sign-in through an OpenID Connect provider (Keycloak is what German municipal IT runs).

Authorization code flow: the platform sends the browser to the provider with a random `state` and
`nonce` (kept in an HttpOnly cookie), takes the code back, exchanges it at the token endpoint with
the client secret, and accepts the ID token only if its signature (the provider's JWKS), issuer,
audience, expiry and nonce check out. The account is found by the token's subject, else linked by
user name, else (setting `oidc_auto_create`) created as a staff account without roles.
"""

from __future__ import annotations

import secrets
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from urbandata.accounts import repository as repo
from urbandata.accounts.models import NewToken
from urbandata.accounts.service import open_session
from urbandata.audit.service import record
from urbandata.auth.actor import RequestContext
from urbandata.auth.guard import mark_checked
from urbandata.config import Settings
from urbandata.errors import ConfigError, Forbidden, NotFound, Unauthorized
from urbandata.stores import Stores

_TIMEOUT = 10.0
_DISCOVERY_TTL = 3600.0


@dataclass(frozen=True)
class Challenge:
    url: str
    state: str
    nonce: str


def _require(settings: Settings) -> tuple[str, str, str]:
    if not (settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret):
        raise NotFound("Sign-in with OpenID Connect is not configured here.", code="oidc_disabled")
    return settings.oidc_issuer.rstrip("/"), settings.oidc_client_id, settings.oidc_client_secret


def _discovery(stores: Stores, issuer: str) -> dict[str, Any]:
    cache: dict[str, tuple[float, dict[str, Any]]] = stores.caches.setdefault("oidc", {})
    hit = cache.get(issuer)
    if hit and time.monotonic() - hit[0] < _DISCOVERY_TTL:
        return hit[1]
    try:
        resp = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=_TIMEOUT)
        resp.raise_for_status()
        doc: dict[str, Any] = resp.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ConfigError(f"The OpenID Connect provider cannot be reached: {exc}", code="oidc_unavailable") from None
    if doc.get("issuer", "").rstrip("/") != issuer:
        raise ConfigError("The provider's discovery document names another issuer.", code="oidc_misconfigured")
    cache[issuer] = (time.monotonic(), doc)
    return doc


def start(settings: Settings, stores: Stores, redirect_uri: str) -> Challenge:
    """Where to send the browser, with fresh state and nonce."""
    issuer, client_id, _ = _require(settings)
    doc = _discovery(stores, issuer)
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid profile email",
            "state": state,
            "nonce": nonce,
        }
    )
    return Challenge(url=f"{doc['authorization_endpoint']}?{query}", state=state, nonce=nonce)


def _id_token_claims(stores: Stores, settings: Settings, code: str, redirect_uri: str, nonce: str) -> dict[str, Any]:
    issuer, client_id, secret = _require(settings)
    doc = _discovery(stores, issuer)
    try:
        resp = httpx.post(
            doc["token_endpoint"],
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
            auth=(client_id, secret),
            timeout=_TIMEOUT,
        )
        if resp.status_code != 200:
            raise Unauthorized("The provider did not accept the sign-in.", code="oidc_rejected")
        id_token = resp.json()["id_token"]
        keys = httpx.get(doc["jwks_uri"], timeout=_TIMEOUT)
        keys.raise_for_status()
        key_set = KeySet.import_key_set(keys.json())
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        raise Unauthorized(f"Sign-in failed: {exc.__class__.__name__}", code="oidc_failed") from None
    try:
        token = jwt.decode(id_token, key_set, algorithms=["RS256", "ES256", "PS256"])
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": client_id},
            nonce={"essential": True, "value": nonce},
            sub={"essential": True},
            exp={"essential": True},
        ).validate(token.claims)
    except (JoseError, ValueError) as exc:
        raise Unauthorized(f"The ID token is not valid: {exc}", code="oidc_invalid_token") from None
    return dict(token.claims)


def complete(ctx: RequestContext, stores: Stores, code: str, redirect_uri: str, nonce: str) -> NewToken:
    """Finish the sign-in: check the ID token, find or create the account, open a session (audited)."""
    mark_checked()  # the provider's signed ID token is the check
    try:
        claims = _id_token_claims(stores, ctx.settings, code, redirect_uri, nonce)
    except Unauthorized as exc:
        record(ctx, stores.engine, "auth.oidc", outcome="failed", details={"reason": exc.code})
        raise
    subject = str(claims["sub"])
    username = str(claims.get("preferred_username") or subject).lower()[:64]
    with stores.engine.begin() as conn:
        row = repo.get_user_by_subject(conn, subject)
        if row is None:
            row = repo.get_user(conn, username)
            if row is not None and row.oidc_subject not in (None, subject):
                row = None
            if row is not None:
                repo.update_user(conn, row.id, {"oidc_subject": subject})
            elif ctx.settings.oidc_auto_create:
                repo.insert_user(
                    conn,
                    {
                        "username": username,
                        "display_name": claims.get("name"),
                        "email": claims.get("email"),
                        "oidc_subject": subject,
                    },
                )
                record(ctx, conn, "user.create", "user", username, details={"via": "oidc"}, actor=username)
                row = repo.get_user(conn, username)
        if row is None or row.disabled:
            record(ctx, conn, "auth.oidc", "user", username, outcome="failed", details={"reason": "no account"})
            raise Forbidden("There is no active account for this sign-in.", code="oidc_no_account")
        repo.update_user(conn, row.id, {"last_login_at": repo.now()})
        record(ctx, conn, "auth.oidc", "user", row.username, actor=row.username)
        return open_session(conn, ctx.settings, row.id)
