"""Configuration, from the environment or from code."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

__all__ = ["DEFAULT_COOKIE_NAMES", "HallpassSettings"]

#: The session cookie names, ``__Secure-`` first (hallpass uses it when its URL is https).
DEFAULT_COOKIE_NAMES = ("__Secure-better-auth.session_token", "better-auth.session_token")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class HallpassSettings:
    """Where hallpass is and how to trust what it says.

    - ``url``: how this service reaches hallpass (``HALLPASS_URL``, default
      ``http://localhost:4000``). It may be an internal address.
    - ``internal_secret``: hallpass's ``HALLPASS_INTERNAL_SECRET`` (same variable here). With it,
      live checks go to ``/internal/user``, which can also check a JWT's session; without it,
      they go to ``/api/auth/get-session``, which takes only session credentials.
    - ``issuer`` and ``audience``: what a JWT's ``iss`` and ``aud`` must be: hallpass's public
      base URL origin (``HALLPASS_ISSUER``, ``HALLPASS_AUDIENCE``; default the origin of ``url``).
      Set them when ``url`` is an internal address.
    - ``leeway``: seconds of clock skew allowed on ``exp``, ``iat`` and ``nbf`` (default 5).
    - ``timeout``: seconds for one call to hallpass (``HALLPASS_TIMEOUT``, default 5).
    - ``session_cache_ttl``: seconds a non-strict session check may be answered from memory
      (``HALLPASS_SESSION_CACHE_TTL``, default 1; 0 turns the cache off). Strict checks never use
      it, so a revoked session is refused at once.
    - ``jwks_refresh_interval``: the shortest time between two JWKS fetches caused by tokens with
      an unknown key id (default 10 s), so forged key ids cannot flood hallpass.
    - ``jwks_max_age``: after this many seconds the key set is refreshed on next use (default
      300), so a key hallpass withdrew stops being trusted.
    - ``jwt_cache_size``: how many verified JWTs to remember (``HALLPASS_JWT_CACHE_SIZE``,
      default 4096; 0 turns it off). A token seen again is not verified again until it
      expires, unless its key leaves the JWKS.
    - ``cookie_names``: session cookie names to read, in order.
    """

    url: str = "http://localhost:4000"
    internal_secret: str | None = field(default=None, repr=False)
    issuer: str | None = None
    audience: str | None = None
    leeway: float = 5.0
    timeout: float = 5.0
    session_cache_ttl: float = 1.0
    jwks_refresh_interval: float = 10.0
    jwks_max_age: float = 300.0
    jwt_cache_size: int = 4096
    cookie_names: tuple[str, ...] = DEFAULT_COOKIE_NAMES

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"HALLPASS_URL must be an http(s) URL, not {self.url!r}")
        for name in ("leeway", "timeout", "session_cache_ttl", "jwks_refresh_interval"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.jwt_cache_size < 0:
            raise ValueError("jwt_cache_size must not be negative")
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: object
    ) -> HallpassSettings:
        """Settings from ``HALLPASS_*`` environment variables; keyword arguments win."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        if env.get("HALLPASS_URL"):
            values["url"] = env["HALLPASS_URL"]
        if env.get("HALLPASS_INTERNAL_SECRET"):
            values["internal_secret"] = env["HALLPASS_INTERNAL_SECRET"]
        for var, key in (("HALLPASS_ISSUER", "issuer"), ("HALLPASS_AUDIENCE", "audience")):
            if env.get(var):
                values[key] = env[var]
        for var, key in (
            ("HALLPASS_TIMEOUT", "timeout"),
            ("HALLPASS_SESSION_CACHE_TTL", "session_cache_ttl"),
            ("HALLPASS_JWT_LEEWAY", "leeway"),
        ):
            if env.get(var):
                try:
                    values[key] = float(env[var])
                except ValueError:
                    raise ValueError(
                        f"{var} must be a number of seconds, not {env[var]!r}"
                    ) from None
        if env.get("HALLPASS_JWT_CACHE_SIZE"):
            try:
                values["jwt_cache_size"] = int(env["HALLPASS_JWT_CACHE_SIZE"])
            except ValueError:
                raise ValueError("HALLPASS_JWT_CACHE_SIZE must be a whole number") from None
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    def with_(self, **changes: object) -> HallpassSettings:
        """A copy with some settings changed."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def base_url(self) -> str:
        """``url`` without a trailing slash."""
        return self.url.rstrip("/")

    @property
    def expected_issuer(self) -> str:
        """The ``iss`` a JWT must carry."""
        return self.issuer or _origin(self.url)

    @property
    def expected_audience(self) -> str:
        """The ``aud`` a JWT must carry."""
        return self.audience or self.expected_issuer
