"""hallpass's plain REST endpoints (/auth/*), seen from a Python service: what they hand out
works with this package. These wait for the server side of issue 7."""

from __future__ import annotations

from typing import Any

import pytest

from hallpass_auth import Authenticator, Credential, NotAuthenticated, Verifier

from conftest import PASSWORD, TRUSTED_ORIGIN, Hallpass


def register(hallpass: Hallpass, **profile: Any) -> tuple[int, dict[str, str], Any]:
    body = {"email": hallpass.new_email("rest"), "password": PASSWORD, "name": "Lin", **profile}
    return hallpass.call("POST", "/auth/register", body)


def test_register_answers_user_token_and_a_jwt_this_package_verifies(hallpass: Hallpass) -> None:
    status, headers, body = register(hallpass, software_background="beginner")

    assert status == 201, body
    assert set(body) >= {"user", "token", "jwt"}
    assert "better-auth.session_token=" in headers["set-cookie"]
    user = Verifier(hallpass.settings()).verify(body["jwt"])
    assert user.id == body["user"]["id"]
    assert user.software_background == "beginner"
    assert user.session_id  # the JWT names its session
    live = Authenticator(hallpass.settings()).authenticate(
        Credential(body["token"], "authorization"), strict=True
    )
    assert live.id == user.id


def test_register_refuses_a_bad_profile_value_naming_the_field(hallpass: Hallpass) -> None:
    status, _, body = register(hallpass, hardware_background="wizard")
    assert status == 400
    assert body["code"] == "VALIDATION_ERROR"
    assert "hardware_background" in body["message"]


def test_login_me_profile_logout(hallpass: Hallpass) -> None:
    _, _, reg = register(hallpass)
    email = reg["user"]["email"]

    status, _, login = hallpass.call("POST", "/auth/login", {"email": email, "password": PASSWORD})
    assert status == 200
    assert set(login) >= {"user", "token", "jwt"}
    bearer = {"authorization": f"Bearer {login['token']}"}

    for credential in (login["token"], login["jwt"]):
        status, _, me = hallpass.call(
            "GET", "/auth/me", headers={"authorization": f"Bearer {credential}"}
        )
        assert status == 200
        assert me["user"]["email"] == email

    status, _, updated = hallpass.call(
        "PUT", "/auth/profile", {"software_background": "advanced"}, headers=bearer
    )
    assert status == 200
    assert updated["user"]["software_background"] == "advanced"
    auth = Authenticator(hallpass.settings())
    fresh = auth.authenticate(Credential(login["token"], "authorization"), strict=True)
    assert fresh.software_background == "advanced"  # a live check sees the change at once
    old = Verifier(hallpass.settings()).verify(login["jwt"])
    assert old.software_background is None  # a JWT carries the profile it was issued with

    status, _, out = hallpass.call("POST", "/auth/logout", headers=bearer)
    assert (status, out) == (200, {"success": True})
    with pytest.raises(NotAuthenticated):
        auth.authenticate(Credential(login["token"], "authorization"), strict=True)


def test_login_with_a_wrong_password_is_401(hallpass: Hallpass) -> None:
    _, _, reg = register(hallpass)
    status, _, body = hallpass.call(
        "POST", "/auth/login", {"email": reg["user"]["email"], "password": "wrong password!"}
    )
    assert status == 401
    assert "code" in body


def test_me_without_a_credential_is_401(hallpass: Hallpass) -> None:
    status, _, body = hallpass.call("GET", "/auth/me")
    assert status == 401
    assert body["code"] == "UNAUTHORIZED"


def test_profile_update_with_a_cookie_needs_a_trusted_origin(hallpass: Hallpass) -> None:
    _, headers, _ = register(hallpass)
    cookie = headers["set-cookie"].split(";", 1)[0]
    status, _, _ = hallpass.call(
        "PUT",
        "/auth/profile",
        {"name": "Lin B"},
        headers={"cookie": cookie, "origin": TRUSTED_ORIGIN},
    )
    assert status == 200
    status, _, _ = hallpass.call(
        "PUT",
        "/auth/profile",
        {"name": "Mallory"},
        headers={"cookie": cookie, "origin": "https://evil.example"},
    )
    assert status == 403


def test_the_profile_schema_lists_the_default_fields(hallpass: Hallpass) -> None:
    status, _, body = hallpass.call("GET", "/auth/profile-schema")
    assert status == 200
    fields = {f["key"]: f for f in body["fields"]}
    assert fields["software_background"]["type"] == "enum"
    assert fields["software_background"]["values"] == [
        "none",
        "beginner",
        "intermediate",
        "advanced",
    ]
    assert "hardware_background" in fields
