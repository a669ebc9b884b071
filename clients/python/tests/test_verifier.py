"""Offline JWT verification: hallpass's real tokens, and every kind of forged one refused."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from hallpass_auth import (
    AsyncVerifier,
    HallpassSettings,
    HallpassUnavailable,
    InvalidToken,
    Verifier,
)
from hallpass_auth._http import SyncHTTP

from conftest import Account, Hallpass
from fakes import FakeServer, SigningKey, claims_for, jwks_handler, unsigned_token


class CountingHTTP(SyncHTTP):
    """Counts JWKS fetches."""

    fetches = 0

    def request(self, method, path, headers=None, body=None):  # type: ignore[no-untyped-def]
        if path.endswith("/jwks"):
            self.fetches += 1
        return super().request(method, path, headers, body)


# ---- against hallpass ------------------------------------------------------------------------


def test_a_hallpass_jwt_is_verified_with_its_profile(hallpass: Hallpass, account: Account) -> None:
    token = hallpass.jwt(account)

    user = Verifier(hallpass.settings()).verify(token)

    assert user.id == account.user["id"]
    assert user.email == account.email
    assert user.name == "Ada Lovelace"
    assert user.software_background == "intermediate"
    assert user.hardware_background == "beginner"
    assert dict(user.profile) == {
        "software_background": "intermediate",
        "hardware_background": "beginner",
    }
    assert user.created_at is not None


def test_the_jwt_carries_the_session_id(hallpass: Hallpass, account: Account) -> None:
    """Waits for the server: JWTs carry ``sid`` (issue 7)."""
    user = Verifier(hallpass.settings()).verify(hallpass.jwt(account))
    session = hallpass.call(
        "GET", "/api/auth/get-session", headers={"authorization": account.bearer}
    )
    assert user.session_id == session[2]["session"]["id"]


def test_the_async_verifier_verifies_the_same_token(hallpass: Hallpass, account: Account) -> None:
    token = hallpass.jwt(account)

    async def go() -> str:
        verifier = AsyncVerifier(hallpass.settings())
        try:
            return (await verifier.verify(token)).id
        finally:
            await verifier.aclose()

    assert asyncio.run(go()) == account.user["id"]


def test_issuer_can_differ_from_the_url_used_to_reach_hallpass(
    hallpass: Hallpass, account: Account
) -> None:
    settings = HallpassSettings(url=f"http://127.0.0.1:{hallpass.port}", issuer=hallpass.url)
    assert Verifier(settings).verify(hallpass.jwt(account)).id == account.user["id"]


def test_a_token_for_another_issuer_or_audience_is_refused(
    hallpass: Hallpass, account: Account
) -> None:
    token = hallpass.jwt(account)
    with pytest.raises(InvalidToken, match="issuer"):
        Verifier(hallpass.settings(issuer="https://auth.example.com")).verify(token)
    with pytest.raises(InvalidToken, match="audience"):
        Verifier(hallpass.settings(audience="https://chatbot.example.com")).verify(token)


def test_a_token_signed_with_another_key_under_hallpass_kid_is_refused(
    hallpass: Hallpass, account: Account
) -> None:
    real = hallpass.jwt(account)
    kid = jwt.get_unverified_header(real)["kid"]
    forged = SigningKey(kid).sign(jwt.decode(real, options={"verify_signature": False}))

    with pytest.raises(InvalidToken, match="signature"):
        Verifier(hallpass.settings()).verify(forged)


def test_a_tampered_payload_is_refused(hallpass: Hallpass, account: Account) -> None:
    head, payload, sig = hallpass.jwt(account).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["software_background"] = "advanced"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    with pytest.raises(InvalidToken):
        Verifier(hallpass.settings()).verify(f"{head}.{forged_payload}.{sig}")


def test_alg_none_is_refused(hallpass: Hallpass, account: Account) -> None:
    real = hallpass.jwt(account)
    kid = jwt.get_unverified_header(real)["kid"]
    claims = jwt.decode(real, options={"verify_signature": False})

    with pytest.raises(InvalidToken, match="algorithm"):
        Verifier(hallpass.settings()).verify(unsigned_token(claims, {"alg": "none", "kid": kid}))


def test_hs256_signed_with_the_public_key_is_refused(hallpass: Hallpass, account: Account) -> None:
    real = hallpass.jwt(account)
    kid = jwt.get_unverified_header(real)["kid"]
    claims = jwt.decode(real, options={"verify_signature": False})
    jwk = next(k for k in hallpass.jwks()["keys"] if k["kid"] == kid)
    verifier = Verifier(hallpass.settings())
    public = verifier.key_for(real)
    secrets = [
        jwk["x"].encode(),  # the JWK's x as published
        base64.urlsafe_b64decode(jwk["x"] + "=="),  # the raw key bytes
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        json.dumps(jwk).encode(),
    ]
    for secret in secrets:
        head = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "kid": kid}).encode())
        body = base64.urlsafe_b64encode(json.dumps(claims).encode())
        signing_input = head.rstrip(b"=") + b"." + body.rstrip(b"=")
        mac = hmac.new(secret, signing_input, hashlib.sha256).digest()
        forged = (signing_input + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()
        with pytest.raises(InvalidToken, match="algorithm"):
            verifier.verify(forged)


def test_an_expired_hallpass_jwt_is_refused(spawn_hallpass) -> None:  # type: ignore[no-untyped-def]
    """hallpass configured with the shortest JWT life it allows (10 s); no leeway here."""
    server: Hallpass = spawn_hallpass("[jwt]\nexpires_in = 10\n")
    token = server.jwt(server.sign_up())
    verifier = Verifier(server.settings(leeway=0))
    assert verifier.verify(token)
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]

    time.sleep(max(0.0, exp - time.time()) + 1.1)

    with pytest.raises(InvalidToken, match="expired"):
        verifier.verify(token)


def test_rotated_keys_are_picked_up_without_a_restart(spawn_hallpass) -> None:  # type: ignore[no-untyped-def]
    """``hallpass keys rotate`` from the CLI; hallpass restarted so that it signs with the new
    key at once (a running one notices within a minute); the Python side keeps running."""
    server: Hallpass = spawn_hallpass()
    reader = server.sign_up()
    verifier = Verifier(server.settings())
    old_token = server.jwt(reader)
    verifier.verify(old_token)
    old_kid = jwt.get_unverified_header(old_token)["kid"]

    server.rotate_keys()
    assert len(server.jwks()["keys"]) == 2  # both published
    server.stop()
    server.start()
    new_token = server.jwt(server.sign_up())
    new_kid = jwt.get_unverified_header(new_token)["kid"]

    assert new_kid != old_kid
    assert verifier.verify(new_token).email != ""  # unknown kid: the key set is fetched at once
    assert verifier.verify(old_token).id == reader.user["id"]  # the old key stays trusted
    assert {old_kid, new_kid} <= verifier.key_ids


def test_unknown_kid_refetches_are_rate_limited(hallpass: Hallpass, account: Account) -> None:
    http = CountingHTTP(hallpass.url)
    verifier = Verifier(hallpass.settings(jwks_refresh_interval=0.5), http=http)
    real = hallpass.jwt(account)
    claims = jwt.decode(real, options={"verify_signature": False})
    verifier.verify(real)
    assert http.fetches == 1

    for i in range(20):
        with pytest.raises(InvalidToken, match="unknown key id"):
            verifier.verify(SigningKey(f"forged-{i}").sign(claims))
    assert http.fetches == 2  # one refetch for the first unknown kid, none for the others

    time.sleep(0.6)
    with pytest.raises(InvalidToken, match="unknown key id"):
        verifier.verify(SigningKey("forged-later").sign(claims))
    assert http.fetches == 3


def test_keys_cannot_be_had_when_hallpass_is_down(dead_url: str) -> None:
    settings = HallpassSettings(url=dead_url)
    token = SigningKey("k1").sign(claims_for(dead_url))
    with pytest.raises(HallpassUnavailable):
        Verifier(settings).verify(token)

    async def go() -> None:
        with pytest.raises(HallpassUnavailable):
            await AsyncVerifier(settings).verify(token)

    asyncio.run(go())


# ---- against a JWKS we control ------------------------------------------------------------------


@pytest.fixture
def keys() -> list[SigningKey]:
    return [SigningKey("key-1")]


@pytest.fixture
def jwks_server(keys: list[SigningKey]) -> Iterator[FakeServer]:
    server = FakeServer(jwks_handler(keys))
    yield server
    server.close()


@pytest.fixture
def verifier(jwks_server: FakeServer) -> Verifier:
    return Verifier(HallpassSettings(url=jwks_server.url))


def test_valid_token_gives_the_user_profile_and_session(
    jwks_server: FakeServer, keys: list[SigningKey], verifier: Verifier
) -> None:
    user = verifier.verify(keys[0].sign(claims_for(jwks_server.url, plan="pro")))
    assert (user.id, user.name, user.email, user.email_verified) == (
        "user-grace",
        "Grace Hopper",
        "grace@example.com",
        True,
    )
    assert user.session_id == "session-1"
    assert dict(user.profile) == {
        "software_background": "advanced",
        "hardware_background": None,
        "plan": "pro",
    }
    assert user.hardware_background is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"exp": int(time.time()) - 60}, "expired"),
        ({"iss": "http://evil.example"}, "issuer"),
        ({"aud": "http://other.example"}, "audience"),
        ({"nbf": int(time.time()) + 600}, "not valid yet"),
        ({"exp": None}, "exp"),
        ({"sub": None}, "sub"),
    ],
)
def test_bad_claims_are_refused(
    jwks_server: FakeServer,
    keys: list[SigningKey],
    verifier: Verifier,
    change: dict[str, object],
    reason: str,
) -> None:
    claims = claims_for(jwks_server.url)
    for key, value in change.items():
        if value is None:
            del claims[key]
        else:
            claims[key] = value
    with pytest.raises(InvalidToken, match=reason):
        verifier.verify(keys[0].sign(claims))


def test_small_clock_skew_is_allowed(
    jwks_server: FakeServer, keys: list[SigningKey], verifier: Verifier
) -> None:
    claims = claims_for(jwks_server.url)
    claims["exp"] = int(time.time()) - 2  # within the default 5 s leeway
    assert verifier.verify(keys[0].sign(claims)).id == "user-grace"


def test_malformed_tokens_are_refused(verifier: Verifier) -> None:
    for token in ["", "abc", "a.b.c", "....", "eyJhbGciOiJFZERTQSJ9.e30.", "x" * 100]:
        with pytest.raises(InvalidToken):
            verifier.verify(token)


def test_a_token_without_kid_is_refused(
    jwks_server: FakeServer, keys: list[SigningKey], verifier: Verifier
) -> None:
    token = jwt.encode(claims_for(jwks_server.url), keys[0].private, algorithm="EdDSA")
    with pytest.raises(InvalidToken, match="key id"):
        verifier.verify(token)


def test_a_key_withdrawn_from_the_jwks_stops_being_trusted(
    jwks_server: FakeServer, keys: list[SigningKey]
) -> None:
    verifier = Verifier(HallpassSettings(url=jwks_server.url, jwks_max_age=0.2))
    token = keys[0].sign(claims_for(jwks_server.url))
    verifier.verify(token)

    keys[:] = [SigningKey("key-2")]
    time.sleep(0.3)

    with pytest.raises(InvalidToken, match="unknown key id"):
        verifier.verify(token)


def test_keys_are_kept_when_a_refresh_fails(keys: list[SigningKey]) -> None:
    server = FakeServer(jwks_handler(keys))
    verifier = Verifier(HallpassSettings(url=server.url, jwks_max_age=0.1))
    token = keys[0].sign(claims_for(server.url))
    verifier.verify(token)
    server.close()
    time.sleep(0.2)

    assert verifier.verify(token).id == "user-grace"  # hallpass down: the known key still works


def test_concurrent_async_verifications_fetch_once(
    jwks_server: FakeServer, keys: list[SigningKey]
) -> None:
    token = keys[0].sign(claims_for(jwks_server.url))

    async def go() -> None:
        verifier = AsyncVerifier(HallpassSettings(url=jwks_server.url))
        users = await asyncio.gather(*(verifier.verify(token) for _ in range(10)))
        assert {u.id for u in users} == {"user-grace"}

    asyncio.run(go())
    assert len([r for r in jwks_server.requests if r.path.endswith("/jwks")]) == 1


def test_jwks_entries_that_are_not_ed25519_are_ignored(keys: list[SigningKey]) -> None:
    def handler(req):  # type: ignore[no-untyped-def]
        from fakes import http_response

        odd = [
            {"kty": "RSA", "kid": "rsa", "n": "AQAB", "e": "AQAB"},
            {"kty": "OKP", "crv": "X25519", "kid": "x", "x": keys[0].jwk["x"]},
            {"kty": "OKP", "crv": "Ed25519", "kid": "bad-x", "x": "!!"},
            "not a key",
        ]
        return http_response(200, {"keys": [*odd, keys[0].jwk]})

    server = FakeServer(handler)
    try:
        verifier = Verifier(HallpassSettings(url=server.url))
        assert verifier.verify(keys[0].sign(claims_for(server.url))).id == "user-grace"
        assert verifier.key_ids == {"key-1"}
    finally:
        server.close()


def test_refresh_raises_when_hallpass_is_down(dead_url: str) -> None:
    with pytest.raises(HallpassUnavailable):
        Verifier(HallpassSettings(url=dead_url)).refresh()


def test_a_verified_token_is_remembered_until_it_expires(
    jwks_server: FakeServer, keys: list[SigningKey]
) -> None:
    verifier = Verifier(HallpassSettings(url=jwks_server.url, leeway=0))
    # exp is whole seconds: with ttl 1 it could fall a few milliseconds after "now" and expire
    # before the first check. Two seconds, then wait for exp itself.
    claims = claims_for(jwks_server.url, ttl=2)
    token = keys[0].sign(claims)
    first = verifier.verify(token)
    assert verifier.verify(token) is first  # not verified again

    time.sleep(max(0.0, claims["exp"] - time.time()) + 0.1)

    with pytest.raises(InvalidToken, match="expired"):
        verifier.verify(token)


def test_the_verified_token_cache_is_bounded_and_can_be_off(
    jwks_server: FakeServer, keys: list[SigningKey]
) -> None:
    tokens = [keys[0].sign(claims_for(jwks_server.url, jti=str(i))) for i in range(5)]
    small = Verifier(HallpassSettings(url=jwks_server.url, jwt_cache_size=2))
    off = Verifier(HallpassSettings(url=jwks_server.url, jwt_cache_size=0))
    for token in tokens:
        small.verify(token)
        off.verify(token)
    assert list(small._verified) == tokens[-2:]
    assert off._verified == {}
    assert off.verify(tokens[0]) is not off.verify(tokens[0])
