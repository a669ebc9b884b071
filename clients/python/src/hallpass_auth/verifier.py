"""Offline verification of hallpass JWTs against its published keys (``/api/auth/jwks``).

hallpass signs a short-lived JWT (15 minutes) with Ed25519 (``alg: EdDSA``), with ``iss`` and
``aud`` set to its base URL's origin and the user (profile included) as claims. A service that
holds the public keys can trust such a token without calling hallpass: this module fetches the
keys once, keeps them, and fetches again when a token names a key it has not seen (after a key
rotation), at most once per ``jwks_refresh_interval`` so that forged key ids cannot flood hallpass.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ._http import AsyncHTTP, Response, SyncHTTP, TransportError
from .errors import HallpassUnavailable, InvalidToken
from .models import User
from .settings import HallpassSettings

__all__ = ["AsyncVerifier", "JWKS_PATH", "Verifier"]

log = logging.getLogger("hallpass_auth")

#: Where hallpass publishes its public keys.
JWKS_PATH = "/api/auth/jwks"
#: The only algorithm accepted. Pinned: the token's header never chooses how it is checked.
ALGORITHM = "EdDSA"
#: After a failed JWKS fetch, the next try waits this long (requests meanwhile get a 503 fast).
FAILURE_BACKOFF = 1.0
_REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]


def _b64url_json(segment: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def token_header(token: str) -> Mapping[str, Any]:
    """The JOSE header of a compact JWS, unverified (to find its key id)."""
    head, sep, _ = token.partition(".")
    try:
        header = _b64url_json(head) if sep else None
    except (ValueError, binascii.Error, UnicodeDecodeError):
        header = None
    if not isinstance(header, dict):
        raise InvalidToken("malformed token")
    return header


def parse_jwks(body: object) -> dict[str, Ed25519PublicKey]:
    """The Ed25519 keys of a JWK set, by key id (other kinds of key are ignored)."""
    keys: dict[str, Ed25519PublicKey] = {}
    entries = body.get("keys") if isinstance(body, dict) else None
    if not isinstance(entries, list):
        raise ValueError("not a JWK set")
    for jwk in entries:
        if not isinstance(jwk, dict):
            continue
        kid = jwk.get("kid")
        if (
            not isinstance(kid, str)
            or jwk.get("kty") != "OKP"
            or jwk.get("crv") != "Ed25519"
            or jwk.get("alg", ALGORITHM) != ALGORITHM
            or jwk.get("use", "sig") != "sig"
        ):
            continue
        try:
            key = jwt.PyJWK(jwk, algorithm=ALGORITHM).key
        except (jwt.PyJWTError, ValueError, TypeError):
            continue
        if isinstance(key, Ed25519PublicKey):
            keys[kid] = key
    return keys


class _KeySet:
    """The cached keys and when to fetch them again. Not itself locked: its users are."""

    def __init__(self, refresh_interval: float, max_age: float) -> None:
        self.keys: dict[str, Ed25519PublicKey] = {}
        self.refresh_interval = refresh_interval
        self.max_age = max_age
        self.fetched_at: float | None = None  # monotonic time of the last successful fetch
        self.failed_at: float | None = None  # monotonic time of the last failed fetch
        self.unknown_at: float | None = None  # last fetch caused by an unknown key id

    def needs_fetch(self, kid: str) -> bool:
        """Whether to fetch before verifying a token signed with ``kid``: never fetched yet,
        too old, or an unknown key id and no fetch for an unknown one in the last
        ``refresh_interval`` seconds (a rotated key is found at once, forged ids flood nothing).
        """
        now = time.monotonic()
        if self.failed_at is not None and now - self.failed_at < FAILURE_BACKOFF:
            return False
        if self.fetched_at is None or now - self.fetched_at >= self.max_age:
            return True
        if kid in self.keys:
            return False
        return self.unknown_at is None or now - self.unknown_at >= self.refresh_interval

    def begin_fetch(self, kid: str) -> None:
        if kid not in self.keys and self.fetched_at is not None:
            self.unknown_at = time.monotonic()

    def store(self, response: Response) -> None:
        if response.status != 200:
            raise HallpassUnavailable(f"JWKS fetch answered {response.status}")
        try:
            keys = parse_jwks(response.json())
        except ValueError as exc:
            raise HallpassUnavailable(f"JWKS is not a JWK set: {exc}") from exc
        for kid, key in keys.items():  # the same key keeps its object (the cache holds it)
            old = self.keys.get(kid)
            if old is not None and old.public_bytes_raw() == key.public_bytes_raw():
                keys[kid] = old
        self.keys = keys
        self.fetched_at = time.monotonic()
        self.failed_at = None

    def fail(self, exc: Exception) -> None:
        self.failed_at = time.monotonic()
        if self.fetched_at is not None:
            log.warning("hallpass JWKS refresh failed, keeping the keys it had: %s", exc)

    def key_for(self, kid: str) -> Ed25519PublicKey:
        key = self.keys.get(kid)
        if key is not None:
            return key
        if self.fetched_at is None:
            raise HallpassUnavailable("hallpass's signing keys could not be fetched")
        raise InvalidToken("unknown key id")


class _VerifierBase:
    def __init__(self, settings: HallpassSettings | None) -> None:
        self.settings = settings or HallpassSettings.from_env()
        self._issuer = self.settings.expected_issuer
        self._audience = self.settings.expected_audience
        self._leeway = self.settings.leeway
        self._keyset = _KeySet(self.settings.jwks_refresh_interval, self.settings.jwks_max_age)
        self._options: Any = {"require": _REQUIRED_CLAIMS}
        # Tokens already verified, by their exact text: a reader sends the same JWT for its
        # whole life, so its signature is checked once. An entry holds the key object that
        # verified it, so a key withdrawn from the JWKS (a new object set) invalidates it.
        self._verified: dict[str, tuple[User, float, Ed25519PublicKey]] = {}
        self._cache_size = self.settings.jwt_cache_size
        self._cache_lock = threading.Lock()

    @property
    def key_ids(self) -> frozenset[str]:
        """The key ids currently trusted."""
        return frozenset(self._keyset.keys)

    @staticmethod
    def _kid(token: str) -> str:
        header = token_header(token)
        alg = header.get("alg")
        if alg != ALGORITHM:
            raise InvalidToken(f"algorithm {alg!r} is not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("token has no key id")
        return kid

    def user_for(self, token: str, key: Ed25519PublicKey) -> User:
        """The user of a token whose key is known: from the cache of tokens already verified
        (same bytes, not expired, key still published), else verified now."""
        hit = self._verified.get(token)
        if hit is not None:
            user, exp, verified_key = hit
            if verified_key is key and time.time() < exp + self._leeway:
                return user
            self._verified.pop(token, None)
        claims = self.decode_claims(token, key)
        user = User.from_claims(claims)
        if self._cache_size:
            with self._cache_lock:
                self._verified[token] = (user, float(claims["exp"]), key)
                while len(self._verified) > self._cache_size:
                    self._verified.pop(next(iter(self._verified)), None)
        return user

    def decode_claims(self, token: str, key: Ed25519PublicKey) -> dict[str, Any]:
        """Verify signature, algorithm, ``exp``/``nbf``/``iat``, ``iss`` and ``aud`` with one
        key; answer the claims (never from the cache)."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                options=self._options,
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("token expired") from None
        except jwt.ImmatureSignatureError:
            raise InvalidToken("token not valid yet") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken("wrong issuer") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken("wrong audience") from None
        except jwt.InvalidSignatureError:
            raise InvalidToken("bad signature") from None
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidToken(f"token has no {exc.claim!r} claim") from None
        except jwt.InvalidAlgorithmError:
            raise InvalidToken("algorithm not accepted") from None
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"invalid token: {exc}") from None
        if not isinstance(claims.get("sub"), str):
            raise InvalidToken("token has no subject")
        return claims


class Verifier(_VerifierBase):
    """Verifies hallpass JWTs offline (sync; safe to share between threads).

    >>> verifier = Verifier()  # HALLPASS_URL, or HallpassSettings(url=...)
    >>> user = verifier.verify(token)  # raises InvalidToken or HallpassUnavailable
    >>> user.software_background, user.session_id
    """

    def __init__(
        self, settings: HallpassSettings | None = None, *, http: SyncHTTP | None = None
    ) -> None:
        super().__init__(settings)
        self._http = http or SyncHTTP(self.settings.base_url, timeout=self.settings.timeout)
        self._lock = threading.Lock()

    def verify(self, token: str) -> User:
        """The user a valid token describes; raises :class:`InvalidToken` for any token that is
        not a live hallpass JWT, and :class:`HallpassUnavailable` when the keys cannot be had."""
        return self.user_for(token, self.key_for(token))

    def key_for(self, token: str) -> Ed25519PublicKey:
        """The key that should have signed this token (fetching the key set when needed)."""
        kid = self._kid(token)
        if self._keyset.needs_fetch(kid):
            with self._lock:
                if self._keyset.needs_fetch(kid):
                    self._keyset.begin_fetch(kid)
                    self._fetch()
        return self._keyset.key_for(kid)

    def refresh(self) -> None:
        """Fetch the keys now (at start-up, say); raises :class:`HallpassUnavailable`."""
        with self._lock:
            self._fetch()
            if self._keyset.fetched_at is None:
                raise HallpassUnavailable("hallpass's signing keys could not be fetched")

    def _fetch(self) -> None:
        try:
            self._keyset.store(self._http.request("GET", JWKS_PATH))
        except (TransportError, HallpassUnavailable) as exc:
            self._keyset.fail(exc)

    def close(self) -> None:
        """Close the connections to hallpass."""
        self._http.close()


class AsyncVerifier(_VerifierBase):
    """Verifies hallpass JWTs offline, fetching keys without blocking the event loop.

    The same as :class:`Verifier` with ``await verifier.verify(token)``.
    """

    def __init__(
        self, settings: HallpassSettings | None = None, *, http: AsyncHTTP | None = None
    ) -> None:
        super().__init__(settings)
        self._http = http or AsyncHTTP(self.settings.base_url, timeout=self.settings.timeout)
        self._locks: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._locks is None or self._locks[0] is not loop:
            self._locks = (loop, asyncio.Lock())
        return self._locks[1]

    async def verify(self, token: str) -> User:
        """The user a valid token describes; raises :class:`InvalidToken` for any token that is
        not a live hallpass JWT, and :class:`HallpassUnavailable` when the keys cannot be had."""
        return self.user_for(token, await self.key_for(token))

    async def key_for(self, token: str) -> Ed25519PublicKey:
        """The key that should have signed this token (fetching the key set when needed)."""
        kid = self._kid(token)
        if self._keyset.needs_fetch(kid):
            async with self._lock():
                if self._keyset.needs_fetch(kid):
                    self._keyset.begin_fetch(kid)
                    await self._fetch()
        return self._keyset.key_for(kid)

    async def refresh(self) -> None:
        """Fetch the keys now (at start-up, say); raises :class:`HallpassUnavailable`."""
        async with self._lock():
            await self._fetch()
        if self._keyset.fetched_at is None:
            raise HallpassUnavailable("hallpass's signing keys could not be fetched")

    async def _fetch(self) -> None:
        try:
            self._keyset.store(await self._http.request("GET", JWKS_PATH))
        except (TransportError, HallpassUnavailable) as exc:
            self._keyset.fail(exc)

    async def aclose(self) -> None:
        """Close the connections to hallpass."""
        await self._http.aclose()
