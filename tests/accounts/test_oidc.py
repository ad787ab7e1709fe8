"""Sign-in with OpenID Connect against a real (local, minimal) provider over loopback HTTP."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import RSAKey

from urbandata.accounts import service as accounts
from urbandata.auth.actor import RequestContext
from urbandata.stores import Stores

CLIENT_ID, SECRET = "urbandata", "geheim-geheim"


class Provider:
    """Discovery, JWKS and a token endpoint; `authorize` stands in for the user signing in."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
        self.codes: dict[str, dict[str, Any]] = {}
        self.claims: dict[str, Any] = {"sub": "kc-123", "preferred_username": "Petra.Muster", "name": "Petra Muster"}
        self.sign_with: RSAKey | None = None
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}/realms/stadt"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def authorize(self, url: str) -> tuple[str, str]:
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        assert q["client_id"] == CLIENT_ID and q["response_type"] == "code" and "openid" in q["scope"]
        code = f"code-{len(self.codes)}"
        self.codes[code] = {"nonce": q["nonce"], "redirect_uri": q["redirect_uri"]}
        return code, q["state"]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, status: int, doc: dict[str, Any]) -> None:
                body = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                base = urllib.parse.urlsplit(provider.issuer).path
                if self.path == f"{base}/.well-known/openid-configuration":
                    self._json(
                        200,
                        {
                            "issuer": provider.issuer,
                            "authorization_endpoint": f"{provider.issuer}/auth",
                            "token_endpoint": f"{provider.issuer}/token",
                            "jwks_uri": f"{provider.issuer}/certs",
                        },
                    )
                elif self.path == f"{base}/certs":
                    self._json(200, {"keys": [provider.key.as_dict(private=False)]})
                else:
                    self._json(404, {})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                auth = self.headers.get("Authorization", "")
                if base64.b64decode(auth.removeprefix("Basic ")).decode() != f"{CLIENT_ID}:{SECRET}":
                    return self._json(401, {"error": "invalid_client"})
                grant = provider.codes.pop(form.get("code", ""), None)
                if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
                    return self._json(400, {"error": "invalid_grant"})
                now = int(time.time())
                claims = {
                    "iss": provider.issuer,
                    "aud": CLIENT_ID,
                    "iat": now,
                    "exp": now + 300,
                    "nonce": grant["nonce"],
                    **provider.claims,
                }
                token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, provider.sign_with or provider.key)
                self._json(200, {"id_token": token, "access_token": "x", "token_type": "Bearer"})

        return Handler


@pytest.fixture
def provider(client: TestClient) -> Iterator[Provider]:
    p = Provider()
    client.app.state.settings = client.app.state.settings.model_copy(  # type: ignore[attr-defined]
        update={
            "oidc_issuer": p.issuer,
            "oidc_client_id": CLIENT_ID,
            "oidc_client_secret": SECRET,
            "secure_cookies": False,
        }
    )
    yield p
    p.server.shutdown()


def sign_in(client: TestClient, provider: Provider, state: str | None = None) -> Any:
    start = client.get("/api/v1/auth/oidc/login?next=/datasets", follow_redirects=False)
    assert start.status_code == 302 and start.headers["location"].startswith(provider.issuer + "/auth?")
    code, real_state = provider.authorize(start.headers["location"])
    return client.get(
        "/api/v1/auth/oidc/callback", params={"code": code, "state": state or real_state}, follow_redirects=False
    )


def test_first_sign_in_creates_a_staff_account_and_a_session(client: TestClient, provider: Provider) -> None:
    done = sign_in(client, provider)
    assert done.status_code == 303 and done.headers["location"] == "/datasets"
    assert "ud_session" in done.cookies
    who = client.get("/api/v1/whoami").json()
    assert who["username"] == "petra.muster" and who["kind"] == "user" and who["organizations"] == []
    again = sign_in(client, provider)  # the same subject finds the same account
    assert again.status_code == 303


def test_existing_account_is_linked_by_user_name(
    client: TestClient, provider: Provider, admin: RequestContext, stores: Stores
) -> None:
    accounts.add_user(admin, stores, "petra.muster", is_admin=True)
    sign_in(client, provider)
    assert client.get("/api/v1/whoami").json()["is_admin"] is True


def test_forged_tampered_and_replayed_sign_ins_fail(client: TestClient, provider: Provider) -> None:
    assert sign_in(client, provider, state="not-the-state").status_code == 403
    provider.sign_with = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
    bad = sign_in(client, provider)
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "oidc_invalid_token"
    provider.sign_with = None
    provider.claims["aud"] = "another-client"
    assert sign_in(client, provider).status_code == 401
    del provider.claims["aud"]
    r = client.get("/api/v1/auth/oidc/callback", params={"code": "code-unknown", "state": "x"}, follow_redirects=False)
    assert r.status_code in (401, 403)
    assert client.get("/api/v1/whoami").json()["kind"] == "anonymous"


def test_disabled_account_and_no_auto_create(
    client: TestClient, provider: Provider, admin: RequestContext, stores: Stores
) -> None:
    client.app.state.settings = client.app.state.settings.model_copy(update={"oidc_auto_create": False})  # type: ignore[attr-defined]
    r = sign_in(client, provider)
    assert r.status_code == 403 and r.json()["error"]["code"] == "oidc_no_account"
    accounts.add_user(admin, stores, "petra.muster")
    accounts.set_disabled(admin, stores, "petra.muster")
    assert sign_in(client, provider).status_code == 403


def test_oidc_off_by_default(client: TestClient) -> None:
    r = client.get("/api/v1/auth/oidc/login", follow_redirects=False)
    assert r.status_code == 404 and r.json()["error"]["code"] == "oidc_disabled"
