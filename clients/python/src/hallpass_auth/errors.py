"""The errors this package raises."""

from __future__ import annotations

__all__ = [
    "HallpassError",
    "HallpassUnavailable",
    "InvalidToken",
    "NoCredential",
    "NotAuthenticated",
    "StrictCheckUnavailable",
]


class HallpassError(Exception):
    """Base class of every error of this package."""


class NotAuthenticated(HallpassError):
    """The request carries no credential, or one that hallpass does not accept (401)."""


class NoCredential(NotAuthenticated):
    """The request carries no credential at all (no bearer token, no session cookie)."""


class InvalidToken(NotAuthenticated):
    """A JWT failed verification: bad signature, unknown key, wrong algorithm, expired, or a
    wrong issuer or audience. :attr:`reason` says which, for logs (not for the reader)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StrictCheckUnavailable(NotAuthenticated):
    """A live check was asked for a JWT, but this service has no internal secret: only a session
    credential (the session cookie or the session token) can be checked live without it."""


class HallpassUnavailable(HallpassError):
    """hallpass could not be reached, or answered with a server error (503 to the reader)."""
