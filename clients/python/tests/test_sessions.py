"""Live checks with hallpass: get-session with forwarded credentials, /internal/user, the cache,
and the strict path that refuses a revoked session at once."""

from __future__ import annotations

import asyncio
import time

import pytest

from hallpass_auth import (
    AsyncAuthenticator,
    AsyncSessionClient,
    Authenticator,
    Credential,
    HallpassRefused,
    HallpassSettings,
    HallpassUnavailable,
    InvalidToken,
    NoCredential,
    NotAuthenticated,
    SessionClient,
    StrictCheckUnavailable,
)

from conftest import INTERNAL_SECRET, Account, Hallpass

# ---- get-session (works without the internal secret) ---------------------------------------


@pytest.mark.parametrize("form", ["raw token", "signed token"])
def test_get_session_with_a_forwarded_bearer(
    hallpass: Hallpass, account: Account, form: str
) -> None:
    value = account.token if form == "raw token" else account.signed_token
    info = SessionClient(hallpass.settings()).get_session(authorization=f"Bearer {value}")

    assert info is not None
    assert info.user.id == account.user["id"]
    assert info.user.software_background == "intermediate"
    assert info.session is not None
    assert info.user.session_id == info.session.id
    assert info.session.user_id == account.user["id"]


def test_get_session_with_the_forwarded_cookie(hallpass: Hallpass, account: Account) -> None:
    cookie = f"theme=dark; better-auth.session_token={account.cookie}; other=1"
    info = SessionClient(hallpass.settings()).get_session(cookie=cookie)
    assert info is not None
    assert info.user.email == account.email


def test_get_session_without_a_live_session_is_none(hallpass: Hallpass) -> None:
    sessions = SessionClient(hallpass.settings())
    assert sessions.get_session(authorization="Bearer notatoken") is None
    assert sessions.get_session(cookie="better-auth.session_token=forged.c2lnbmF0dXJl") is None
    assert sessions.get_session() is None


def test_async_get_session(hallpass: Hallpass, account: Account) -> None:
    async def go() -> str | None:
        sessions = AsyncSessionClient(hallpass.settings())
        info = await sessions.get_session(authorization=account.bearer)
        await sessions.aclose()
        return info.user.id if info else None

    assert asyncio.run(go()) == account.user["id"]


def test_session_checks_fail_as_unavailable_when_hallpass_is_down(dead_url: str) -> None:
    settings = HallpassSettings(url=dead_url)
    with pytest.raises(HallpassUnavailable):
        SessionClient(settings).get_session(authorization="Bearer x")

    async def go() -> None:
        with pytest.raises(HallpassUnavailable):
            await AsyncSessionClient(settings).get_session(authorization="Bearer x")

    asyncio.run(go())


# ---- the short cache and the strict check ---------------------------------------------------


def test_revoked_session_is_refused_at_once_by_the_strict_check(
    hallpass: Hallpass, account: Account
) -> None:
    auth = Authenticator(hallpass.settings(internal_secret=None, session_cache_ttl=30))
    credential = Credential(account.token, "authorization")
    assert auth.authenticate(credential).id == account.user["id"]  # cached now
    assert auth.authenticate(credential, strict=True).id == account.user["id"]

    hallpass.revoke(account)

    with pytest.raises(NotAuthenticated):
        auth.authenticate(credential, strict=True)
    # The non-strict check may answer from its short cache (here 30 s, to show it).
    assert auth.authenticate(credential).id == account.user["id"]


def test_revoked_session_is_refused_at_once_async(hallpass: Hallpass, account: Account) -> None:
    async def go() -> None:
        auth = AsyncAuthenticator(hallpass.settings(internal_secret=None))
        cookie = {"better-auth.session_token": account.cookie}
        assert (await auth.authenticate_request(None, cookie, strict=True)).id == account.user["id"]
        hallpass.revoke(account)
        with pytest.raises(NotAuthenticated):
            await auth.authenticate_request(None, cookie, strict=True)
        await auth.aclose()

    asyncio.run(go())


def test_the_cache_expires(hallpass: Hallpass, account: Account) -> None:
    auth = Authenticator(hallpass.settings(internal_secret=None, session_cache_ttl=0.2))
    credential = Credential(account.token, "authorization")
    auth.authenticate(credential)
    hallpass.revoke(account)
    time.sleep(0.3)
    with pytest.raises(NotAuthenticated):
        auth.authenticate(credential)


def test_a_jwt_cannot_be_checked_live_without_the_internal_secret(
    hallpass: Hallpass, account: Account
) -> None:
    auth = Authenticator(hallpass.settings(internal_secret=None))
    jwt = hallpass.jwt(account)
    assert auth.authenticate_request(f"Bearer {jwt}", None).id == account.user["id"]
    with pytest.raises(StrictCheckUnavailable):
        auth.authenticate_request(f"Bearer {jwt}", None, strict=True)
    # ... unless the session cookie comes along: then the cookie is checked.
    cookies = {"better-auth.session_token": account.cookie}
    assert auth.authenticate_request(f"Bearer {jwt}", cookies, strict=True).email == account.email


def test_no_credential_and_malformed_credentials(hallpass: Hallpass) -> None:
    auth = Authenticator(hallpass.settings(internal_secret=None))
    with pytest.raises(NoCredential):
        auth.authenticate_request(None, None)
    with pytest.raises(NoCredential):
        auth.authenticate_request("Basic dXNlcjpwYXNz", {"theme": "dark"})
    with pytest.raises(InvalidToken):
        auth.authenticate_request("Bearer bad token with spaces", None)
    with pytest.raises(InvalidToken):
        auth.authenticate_request("Bearer " + "a" * 10_000, None)
    with pytest.raises(InvalidToken):
        auth.authenticate_request("Bearer ", None)


# ---- /internal/user (lands with issue 7 on the server) --------------------------------------


def test_internal_user_by_forwarded_bearer_and_cookie(hallpass: Hallpass, account: Account) -> None:
    sessions = SessionClient(hallpass.settings())
    by_bearer = sessions.internal_user(authorization=account.bearer)
    by_cookie = sessions.internal_user(cookie=f"better-auth.session_token={account.cookie}")

    for info in (by_bearer, by_cookie):
        assert info is not None
        assert info.user.id == account.user["id"]
        assert info.user.hardware_background == "beginner"
        assert info.session is not None


def test_internal_user_by_id_and_email(hallpass: Hallpass, account: Account) -> None:
    sessions = SessionClient(hallpass.settings())
    by_id = sessions.internal_user(user_id=account.user["id"])
    by_email = sessions.internal_user(email=account.email)
    assert by_id is not None
    assert by_email is not None
    assert by_id.user.email == account.email
    assert by_email.user.id == account.user["id"]
    assert by_id.session is None
    assert sessions.internal_user(email="nobody-" + account.email) is None


def test_internal_user_refuses_a_dead_credential(hallpass: Hallpass, account: Account) -> None:
    sessions = SessionClient(hallpass.settings())
    assert sessions.internal_user(authorization="Bearer notalivesession") is None


def test_a_wrong_internal_secret_is_a_configuration_error(
    hallpass: Hallpass, account: Account
) -> None:
    sessions = SessionClient(hallpass.settings(internal_secret="wrong-" + INTERNAL_SECRET))
    with pytest.raises(HallpassRefused):
        sessions.internal_user(authorization=account.bearer)


def test_strict_jwt_check_refuses_a_revoked_session_at_once(
    hallpass: Hallpass, account: Account
) -> None:
    """The JWT stays valid offline for 15 minutes; the strict check asks hallpass about its sid."""
    jwt = hallpass.jwt(account)
    auth = Authenticator(hallpass.settings())
    assert auth.authenticate_request(f"Bearer {jwt}", None, strict=True).id == account.user["id"]

    hallpass.revoke(account)

    assert auth.authenticate_request(f"Bearer {jwt}", None).id == account.user["id"]  # offline
    with pytest.raises(NotAuthenticated):
        auth.authenticate_request(f"Bearer {jwt}", None, strict=True)


def test_strict_jwt_check_async(hallpass: Hallpass, account: Account) -> None:
    jwt = hallpass.jwt(account)

    async def go() -> None:
        auth = AsyncAuthenticator(hallpass.settings())
        user = await auth.authenticate_request(f"Bearer {jwt}", None, strict=True)
        assert user.id == account.user["id"]
        assert user.session_id is not None
        hallpass.revoke(account)
        with pytest.raises(NotAuthenticated):
            await auth.authenticate_request(f"Bearer {jwt}", None, strict=True)
        await auth.aclose()

    asyncio.run(go())


def test_strict_check_of_a_forged_jwt_is_refused_offline(
    hallpass: Hallpass, account: Account
) -> None:
    head, payload, _ = hallpass.jwt(account).split(".")
    auth = Authenticator(hallpass.settings())
    with pytest.raises(InvalidToken):
        auth.authenticate_request(f"Bearer {head}.{payload}.AAAA", None, strict=True)
