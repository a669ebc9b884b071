"""The FastAPI dependencies, through FastAPI's TestClient and through a real uvicorn."""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

import hallpass_auth.fastapi as hp_fastapi
from hallpass_auth import HallpassUnavailable, User, personalization_context
from hallpass_auth.fastapi import (
    CurrentUser,
    HallpassAuth,
    OptionalUser,
    StrictUser,
)

from conftest import Account, Hallpass, free_port
from fakes import FakeServer, Request, http_response


def make_app(auth: HallpassAuth | None) -> FastAPI:
    app = FastAPI(lifespan=auth.lifespan if auth else None)

    def describe(user: User) -> dict[str, Any]:
        return {
            "id": user.id,
            "name": user.name,
            "profile": dict(user.profile),
            "session_id": user.session_id,
        }

    @app.get("/me")
    async def me(user: CurrentUser) -> dict[str, Any]:
        return describe(user)

    @app.get("/strict")
    async def strict(user: StrictUser) -> dict[str, Any]:
        return describe(user)

    @app.get("/optional")
    async def optional(user: OptionalUser) -> dict[str, Any] | None:
        return describe(user) if user else None

    @app.get("/sync-route")
    def sync_route(user: CurrentUser) -> dict[str, str]:
        return {"context": personalization_context(user)}

    if auth is not None:
        # (A default value, not Annotated: with postponed annotations, FastAPI evaluates
        # annotations in the module's namespace, where this local ``auth`` is not.)
        strict_dependency = auth.dependency(strict=True)

        @app.get("/bound")
        async def bound(user: User = Depends(strict_dependency)) -> str:  # noqa: B008
            return user.email

    return app


@pytest.fixture
def auth(hallpass: Hallpass) -> HallpassAuth:
    return HallpassAuth(hallpass.settings())


@pytest.fixture
def client(auth: HallpassAuth) -> Iterator[TestClient]:
    with TestClient(make_app(auth)) as c:
        yield c


@pytest.fixture
def jwt_token(hallpass: Hallpass, account: Account) -> str:
    return hallpass.jwt(account)


def test_a_bearer_jwt_gives_the_user_and_profile(
    client: TestClient, account: Account, jwt_token: str
) -> None:
    resp = client.get("/me", headers={"Authorization": f"Bearer {jwt_token}"})
    assert resp.status_code == 200
    body = resp.json()
    assert body["id"] == account.user["id"]
    assert body["name"] == "Ada Lovelace"
    assert body["profile"] == {
        "software_background": "intermediate",
        "hardware_background": "beginner",
    }


def test_a_session_token_is_checked_with_hallpass(client: TestClient, account: Account) -> None:
    for value in (account.token, account.signed_token):
        resp = client.get("/me", headers={"Authorization": f"Bearer {value}"})
        assert resp.status_code == 200, resp.text
        assert resp.json()["id"] == account.user["id"]


def test_the_session_cookie_is_accepted(client: TestClient, account: Account) -> None:
    client.cookies.set("better-auth.session_token", account.cookie)
    resp = client.get("/me")
    assert resp.status_code == 200, resp.text
    assert resp.json()["id"] == account.user["id"]


def test_the_secure_cookie_is_forwarded_as_it_came() -> None:
    """hallpass names its cookie ``__Secure-...`` when its URL is https; a stand-in hallpass
    records what the dependency forwards."""
    user = {"id": "u1", "name": "Sec", "email": "s@example.com", "software_background": None}

    def get_session(req: Request) -> bytes:
        ok = req.headers.get("cookie") == "__Secure-better-auth.session_token=tok.sig%3D"
        return http_response(
            200, {"session": {"id": "s1", "userId": "u1"}, "user": user} if ok else None
        )

    fake = FakeServer(get_session)
    try:
        app = make_app(HallpassAuth(url=fake.url))
        cookies = {"__Secure-better-auth.session_token": "tok.sig%3D", "theme": "dark"}
        with TestClient(app, cookies=cookies) as c:
            resp = c.get("/me")
        assert resp.status_code == 200, resp.text
        assert resp.json()["session_id"] == "s1"
        assert "theme" not in fake.requests[0].headers["cookie"]
    finally:
        fake.close()


def test_no_credential_is_a_401_with_a_bearer_challenge(client: TestClient) -> None:
    resp = client.get("/me")
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"] == "Bearer"


def test_a_bad_token_is_a_401_with_invalid_token(client: TestClient, jwt_token: str) -> None:
    head, payload, _ = jwt_token.split(".")
    for value in (f"{head}.{payload}.AAAA", "not-a-session", "x y"):
        resp = client.get("/me", headers={"Authorization": f"Bearer {value}"})
        assert resp.status_code == 401
        assert resp.headers["www-authenticate"].startswith("Bearer")
        assert 'error="invalid_token"' in resp.headers["www-authenticate"]


def test_optional_user_is_null_when_signed_out(client: TestClient, jwt_token: str) -> None:
    assert client.get("/optional").json() is None
    assert (
        client.get("/optional", headers={"Authorization": "Bearer nope.nope.nope"}).json() is None
    )
    resp = client.get("/optional", headers={"Authorization": f"Bearer {jwt_token}"})
    assert resp.json()["name"] == "Ada Lovelace"


def test_a_sync_route_gets_the_user_too(client: TestClient, jwt_token: str) -> None:
    resp = client.get("/sync-route", headers={"Authorization": f"Bearer {jwt_token}"})
    assert resp.status_code == 200
    assert "intermediate" in resp.json()["context"]


def test_strict_refuses_a_revoked_session_token_at_once(
    hallpass: Hallpass, client: TestClient, account: Account
) -> None:
    headers = {"Authorization": f"Bearer {account.token}"}
    assert client.get("/strict", headers=headers).status_code == 200
    hallpass.revoke(account)
    assert client.get("/strict", headers=headers).status_code == 401


def test_strict_refuses_a_revoked_session_jwt_at_once(
    hallpass: Hallpass, client: TestClient, account: Account, jwt_token: str
) -> None:
    """Waits for the server's /internal/user and the ``sid`` claim."""
    headers = {"Authorization": f"Bearer {jwt_token}"}
    assert client.get("/strict", headers=headers).status_code == 200
    assert client.get("/bound", headers=headers).text == json.dumps(account.email)
    hallpass.revoke(account)
    assert client.get("/me", headers=headers).status_code == 200  # offline: still valid
    assert client.get("/strict", headers=headers).status_code == 401


def test_strict_jwt_without_the_internal_secret_asks_for_a_session_credential(
    hallpass: Hallpass, account: Account, jwt_token: str
) -> None:
    app = make_app(HallpassAuth(hallpass.settings(internal_secret=None)))
    with TestClient(app) as c:
        resp = c.get("/strict", headers={"Authorization": f"Bearer {jwt_token}"})
        assert resp.status_code == 401
        assert "session token" in resp.headers["www-authenticate"]
        resp = c.get("/strict", headers={"Authorization": f"Bearer {account.token}"})
        assert resp.status_code == 200


def test_503_when_hallpass_cannot_be_reached(
    hallpass: Hallpass, account: Account, jwt_token: str, dead_url: str
) -> None:
    app = make_app(HallpassAuth(url=dead_url, issuer=hallpass.url))
    with TestClient(app) as c:
        for value in (account.token, jwt_token):
            resp = c.get("/me", headers={"Authorization": f"Bearer {value}"})
            assert resp.status_code == 503
            assert resp.json() == {"detail": "Authentication service unavailable"}
        assert (
            c.get("/optional", headers={"Authorization": f"Bearer {account.token}"}).status_code
            == 503
        )
        assert c.get("/me").status_code == 401  # no credential: nothing to ask


def test_jwts_still_verify_offline_while_hallpass_is_down(
    spawn_hallpass: Any,
) -> None:
    server: Hallpass = spawn_hallpass()
    reader = server.sign_up()
    token = server.jwt(reader)
    with TestClient(make_app(HallpassAuth(server.settings()))) as c:
        headers = {"Authorization": f"Bearer {token}"}
        assert c.get("/me", headers=headers).status_code == 200
        server.stop()
        assert c.get("/me", headers=headers).status_code == 200
        session = {"Authorization": f"Bearer {reader.token}"}
        assert c.get("/me", headers=session).status_code == 503


def test_configured_from_the_environment(
    hallpass: Hallpass, account: Account, jwt_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HALLPASS_URL", hallpass.url)
    monkeypatch.setattr(hp_fastapi, "_default", None)
    with TestClient(make_app(None)) as c:
        resp = c.get("/me", headers={"Authorization": f"Bearer {jwt_token}"})
        assert resp.status_code == 200
        assert resp.json()["id"] == account.user["id"]
    assert hp_fastapi._default is not None
    assert hp_fastapi._default.settings.url == hallpass.url


def test_the_openapi_document_declares_the_bearer_scheme(client: TestClient) -> None:
    schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
    assert schemes["HTTPBearer"]["scheme"] == "bearer"


# ---- a real uvicorn ----------------------------------------------------------------------------


class UvicornThread:
    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> UvicornThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def get(
        self, path: str, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        headers_out = {k.lower(): v for k, v in resp.getheaders()}
        return resp.status, headers_out, json.loads(body) if body else None


def test_through_a_real_uvicorn(hallpass: Hallpass, account: Account, jwt_token: str) -> None:
    with UvicornThread(make_app(HallpassAuth(hallpass.settings()))) as server:
        status, _, body = server.get("/me", {"Authorization": f"Bearer {jwt_token}"})
        assert (status, body["id"]) == (200, account.user["id"])

        status, _, body = server.get(
            "/me", {"Cookie": f"better-auth.session_token={account.cookie}"}
        )
        assert (status, body["profile"]["hardware_background"]) == (200, "beginner")

        status, _, body = server.get("/strict", {"Authorization": f"Bearer {account.token}"})
        assert status == 200
        assert body["session_id"]

        status, headers, _ = server.get("/me")
        assert (status, headers["www-authenticate"]) == (401, "Bearer")

        hallpass.revoke(account)
        status, _, _ = server.get("/strict", {"Authorization": f"Bearer {account.token}"})
        assert status == 401


def test_strict_jwt_through_a_real_uvicorn(
    hallpass: Hallpass, account: Account, jwt_token: str
) -> None:
    """Waits for the server's /internal/user and the ``sid`` claim."""
    with UvicornThread(make_app(HallpassAuth(hallpass.settings()))) as server:
        status, _, body = server.get("/strict", {"Authorization": f"Bearer {jwt_token}"})
        assert status == 200
        assert body["session_id"]
        hallpass.revoke(account)
        status, _, _ = server.get("/strict", {"Authorization": f"Bearer {jwt_token}"})
        assert status == 401


def test_503_through_a_real_uvicorn(dead_url: str) -> None:
    with UvicornThread(make_app(HallpassAuth(url=dead_url))) as server:
        status, headers, _ = server.get("/me", {"Authorization": "Bearer abcdefghijklmnop"})
        assert status == 503
        assert headers["retry-after"] == "1"


def test_warm_up_fetches_the_keys_or_says_hallpass_is_down(
    hallpass: Hallpass, dead_url: str
) -> None:
    auth = HallpassAuth(hallpass.settings())
    asyncio.run(auth.warm_up())
    assert auth.authenticator.verifier.key_ids

    with pytest.raises(HallpassUnavailable):
        asyncio.run(HallpassAuth(url=dead_url).warm_up())


def test_settings_from_code_override_the_environment(
    hallpass: Hallpass, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HALLPASS_URL", "http://elsewhere.invalid:1")
    assert HallpassAuth(url=hallpass.url).settings.url == hallpass.url
    base = hallpass.settings()
    assert HallpassAuth(base, session_cache_ttl=0).settings.session_cache_ttl == 0
