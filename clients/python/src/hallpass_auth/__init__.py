"""hallpass-auth: who is asking, and what do they already know?

Verify hallpass users in Python services: offline verification of hallpass's EdDSA JWTs
(:class:`Verifier`), live session checks (:class:`SessionClient`), one call for both
(:class:`Authenticator`), FastAPI dependencies (:mod:`hallpass_auth.fastapi`, with the
``fastapi`` extra), and helpers that turn a reader's profile into guidance for an answer
(:func:`personalization_context`, :func:`content_level`).
"""

from ._http import TransportError
from .authenticator import AsyncAuthenticator, Authenticator
from .credentials import Credential, credential_from_request, is_jwt, parse_cookie_header
from .errors import (
    HallpassError,
    HallpassUnavailable,
    InvalidToken,
    NoCredential,
    NotAuthenticated,
    StrictCheckUnavailable,
)
from .models import CORE_USER_FIELDS, Session, User
from .personalization import (
    DEFAULT_LEVEL,
    LEVELS,
    Level,
    Topic,
    content_level,
    personalization_context,
)
from .sessions import AsyncSessionClient, HallpassRefused, SessionClient, SessionInfo
from .settings import HallpassSettings
from .verifier import AsyncVerifier, Verifier

__version__ = "0.1.0"

__all__ = [
    "CORE_USER_FIELDS",
    "DEFAULT_LEVEL",
    "LEVELS",
    "AsyncAuthenticator",
    "AsyncSessionClient",
    "AsyncVerifier",
    "Authenticator",
    "Credential",
    "HallpassError",
    "HallpassRefused",
    "HallpassSettings",
    "HallpassUnavailable",
    "InvalidToken",
    "Level",
    "NoCredential",
    "NotAuthenticated",
    "Session",
    "SessionClient",
    "SessionInfo",
    "StrictCheckUnavailable",
    "Topic",
    "TransportError",
    "User",
    "Verifier",
    "__version__",
    "content_level",
    "credential_from_request",
    "is_jwt",
    "parse_cookie_header",
    "personalization_context",
]
