"""Finding the reader's credential in a request: ``Authorization: Bearer`` or the session cookie."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from .settings import DEFAULT_COOKIE_NAMES

__all__ = ["Credential", "credential_from_request", "is_jwt", "parse_cookie_header"]

#: Longest credential accepted; anything longer is refused without asking hallpass.
MAX_CREDENTIAL_LENGTH = 8192
# JWT: base64url segments; session token: [A-Za-z0-9]{32}, signed with "." + base64 (maybe
# URL-encoded). Nothing else is forwarded to hallpass.
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9._~%+/=-]+")


def is_jwt(token: str) -> bool:
    """Whether a bearer value has the shape of a JWS (three dot-separated parts)."""
    return token.count(".") == 2


@dataclass(frozen=True, slots=True)
class Credential:
    """The reader's credential as it came: a JWT or a session token (raw or signed), from the
    ``Authorization`` header or from a session cookie (``cookie_name`` tells which)."""

    value: str
    source: Literal["authorization", "cookie"]
    cookie_name: str | None = None

    @property
    def kind(self) -> Literal["jwt", "session"]:
        """``"jwt"`` for a hallpass JWT, ``"session"`` for a session token or signed cookie."""
        return "jwt" if self.source == "authorization" and is_jwt(self.value) else "session"

    @property
    def is_wellformed(self) -> bool:
        """Whether the value could be a hallpass credential at all."""
        return 0 < len(self.value) <= MAX_CREDENTIAL_LENGTH and bool(
            _TOKEN_CHARS.fullmatch(self.value)
        )

    def forward_headers(self) -> dict[str, str]:
        """The header that presents this credential to hallpass, exactly as the reader sent it
        (only the session cookie is forwarded, never the reader's other cookies)."""
        if self.source == "cookie":
            return {"Cookie": f"{self.cookie_name}={self.value}"}
        return {"Authorization": f"Bearer {self.value}"}

    def __repr__(self) -> str:  # never print a live credential in full
        return f"Credential(source={self.source!r}, kind={self.kind!r}, value='{self.value[:6]}…')"


def parse_cookie_header(header: str) -> dict[str, str]:
    """Cookies of a ``Cookie`` header, by name (first occurrence wins; values kept as sent).

    Not ``http.cookies.SimpleCookie``: it drops the whole header at one malformed cookie, which
    browsers and hallpass do not.
    """
    cookies: dict[str, str] = {}
    for part in header.split(";"):
        name, sep, value = part.partition("=")
        name = name.strip()
        if sep and name and name not in cookies:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            cookies[name] = value
    return cookies


def credential_from_request(
    authorization: str | None,
    cookies: Mapping[str, str] | str | None,
    cookie_names: Iterable[str] = DEFAULT_COOKIE_NAMES,
) -> Credential | None:
    """The credential of a request: ``Authorization: Bearer <value>`` first, then the first
    session cookie found. ``cookies`` is a parsed mapping or the raw ``Cookie`` header.

    Returns ``None`` when the request carries neither (another ``Authorization`` scheme, such as
    Basic, is not a hallpass credential and is skipped).
    """
    if authorization:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() == "bearer":
            return Credential(value.strip(), "authorization")
    if cookies:
        jar = parse_cookie_header(cookies) if isinstance(cookies, str) else cookies
        for name in cookie_names:
            found = jar.get(name)
            if found:
                return Credential(found, "cookie", name)
    return None
