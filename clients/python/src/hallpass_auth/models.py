"""The user and session as hallpass describes them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any

__all__ = ["CORE_USER_FIELDS", "Session", "User"]

#: Keys of a user object that are Better Auth's own; every other key is a profile field.
CORE_USER_FIELDS = frozenset(
    {"id", "name", "email", "emailVerified", "image", "createdAt", "updatedAt"}
)
#: JWT claims that describe the token, not the user.
_TOKEN_CLAIMS = frozenset({"iat", "exp", "nbf", "sub", "iss", "aud", "jti", "sid"})

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def parse_time(value: object) -> datetime | None:
    """An ISO-8601 date as hallpass writes it (``2026-11-29T14:48:42.060Z``), or ``None``."""
    if not isinstance(value, str) or not value:
        return None
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


@dataclass(frozen=True, slots=True)
class User:
    """A hallpass user with their profile.

    ``profile`` holds every field of the user object that is not one of Better Auth's own
    (``software_background`` and ``hardware_background`` by default; a deployment can configure
    others). ``session_id`` is the session the credential belongs to, when known (the JWT's
    ``sid`` claim, or the session hallpass returned).
    """

    id: str
    name: str
    email: str
    email_verified: bool = False
    image: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    profile: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    session_id: str | None = None

    @property
    def software_background(self) -> str | None:
        """The reader's software level (``none``, ``beginner``, ``intermediate``, ``advanced``),
        or ``None`` when they gave no answer."""
        value = self.profile.get("software_background")
        return value if isinstance(value, str) else None

    @property
    def hardware_background(self) -> str | None:
        """The reader's hardware level, or ``None`` when they gave no answer."""
        value = self.profile.get("hardware_background")
        return value if isinstance(value, str) else None

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, session_id: str | None = None) -> User:
        """A user from hallpass's user object (get-session, ``/auth/me``, ``/internal/user``)."""
        profile = {k: v for k, v in data.items() if k not in CORE_USER_FIELDS}
        return cls._build(data, profile, session_id)

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> User:
        """A user from verified JWT claims (the user object plus ``sub``, ``sid`` and the rest)."""
        profile = {
            k: v for k, v in claims.items() if k not in CORE_USER_FIELDS and k not in _TOKEN_CLAIMS
        }
        data = claims if "id" in claims else {**claims, "id": claims.get("sub")}
        sid = claims.get("sid")
        return cls._build(data, profile, sid if isinstance(sid, str) else None)

    @classmethod
    def _build(
        cls, data: Mapping[str, Any], profile: dict[str, Any], session_id: str | None
    ) -> User:
        image = data.get("image")
        return cls(
            id=_str(data.get("id")),
            name=_str(data.get("name")),
            email=_str(data.get("email")),
            email_verified=data.get("emailVerified") is True,
            image=image if isinstance(image, str) else None,
            created_at=parse_time(data.get("createdAt")),
            updated_at=parse_time(data.get("updatedAt")),
            profile=MappingProxyType(profile),
            session_id=session_id,
        )

    def to_json(self) -> dict[str, Any]:
        """The user as hallpass writes it (camelCase core fields, then the profile fields)."""
        return {
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "emailVerified": self.email_verified,
            "image": self.image,
            "createdAt": _iso(self.created_at),
            "updatedAt": _iso(self.updated_at),
            **self.profile,
        }


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    utc = value.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class Session:
    """A live hallpass session (the token itself is not kept)."""

    id: str
    user_id: str
    expires_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    ip_address: str | None = None
    user_agent: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Session:
        """A session from hallpass's session object."""
        ip = data.get("ipAddress")
        agent = data.get("userAgent")
        return cls(
            id=_str(data.get("id")),
            user_id=_str(data.get("userId")),
            expires_at=parse_time(data.get("expiresAt")),
            created_at=parse_time(data.get("createdAt")),
            updated_at=parse_time(data.get("updatedAt")),
            ip_address=ip if isinstance(ip, str) else None,
            user_agent=agent if isinstance(agent, str) else None,
        )
