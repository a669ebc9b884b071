"""FastAPI dependencies: the reader and their profile in one line of a route's signature.

>>> from hallpass_auth.fastapi import CurrentUser, OptionalUser, StrictUser
>>> @app.get("/chat/whoami")
... async def whoami(user: CurrentUser) -> dict[str, str]:
...     return {"name": user.name, "software": user.software_background or "unanswered"}

The credential is taken from ``Authorization: Bearer`` or the session cookie
(``better-auth.session_token``, ``__Secure-better-auth.session_token``):

- ``current_user``: a JWT is verified offline; a session token or cookie is checked with hallpass
  (short cache, ``session_cache_ttl``).
- ``strict_user``: a live check every time, so a revoked session is refused at once. A JWT then
  needs ``HALLPASS_INTERNAL_SECRET`` (or a session cookie beside it).
- ``optional_user``: ``None`` for a reader who sent no credential, or one that is not valid.

Missing or bad credential: 401 with ``WWW-Authenticate: Bearer``. hallpass unreachable: 503.

Configuration comes from the environment (``HALLPASS_URL``, ``HALLPASS_INTERNAL_SECRET``, see
:class:`~hallpass_auth.HallpassSettings`) or from code: ``HallpassAuth(settings).install(app)``;
the module-level dependencies use the instance installed on the app, else one made from the
environment on first use. Requires the ``fastapi`` extra: ``pip install hallpass-auth[fastapi]``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .authenticator import AsyncAuthenticator
from .errors import HallpassUnavailable, NoCredential, NotAuthenticated, StrictCheckUnavailable
from .models import User
from .settings import HallpassSettings

__all__ = [
    "CurrentUser",
    "HallpassAuth",
    "HallpassSettings",
    "OptionalUser",
    "StrictUser",
    "current_user",
    "get_hallpass",
    "optional_user",
    "strict_user",
]

log = logging.getLogger("hallpass_auth")

# Declares the bearer scheme in the OpenAPI document (the "Authorize" button); the credential
# itself is read from the request, so the cookie works as well.
_bearer_scheme = HTTPBearer(auto_error=False, description="hallpass JWT or session token")
_BearerDoc = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)]


def _unauthorized(exc: NotAuthenticated) -> HTTPException:
    if isinstance(exc, StrictCheckUnavailable):
        challenge = (
            'Bearer error="invalid_token", '
            'error_description="this route needs a session token or the session cookie"'
        )
        return HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "This route needs a session token or the session cookie",
            headers={"WWW-Authenticate": challenge},
        )
    if isinstance(exc, NoCredential):
        return HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Not authenticated",
            headers={"WWW-Authenticate": "Bearer"},
        )
    log.debug("hallpass credential refused: %s", exc)
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "Invalid or expired credential",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def _unavailable(exc: HallpassUnavailable) -> HTTPException:
    log.warning("hallpass unavailable: %s", exc)
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        "Authentication service unavailable",
        headers={"Retry-After": "1"},
    )


class HallpassAuth:
    """hallpass for one FastAPI app: settings, kept-alive connections and the dependencies.

    >>> auth = HallpassAuth()                       # from the environment
    >>> auth = HallpassAuth(HallpassSettings(url="http://hallpass:4000", internal_secret="..."))
    >>> auth.install(app)  # module-level current_user & co. now use it; closed at shutdown
    >>> @app.get("/x")
    ... async def x(user: Annotated[User, Depends(auth.current_user)]) -> str: ...
    """

    def __init__(self, settings: HallpassSettings | None = None, **overrides: Any) -> None:
        """``settings``, else the environment; keyword arguments override either
        (``HallpassAuth(url="http://hallpass:4000")``)."""
        if settings is None:
            self.settings = HallpassSettings.from_env(**overrides)
        else:
            self.settings = settings.with_(**overrides) if overrides else settings
        self.authenticator = AsyncAuthenticator(self.settings)

    async def authenticate(self, request: Request, *, strict: bool = False) -> User:
        """The reader of ``request``, or an :class:`HTTPException` (401 or 503)."""
        try:
            return await self.authenticator.authenticate_request(
                request.headers.get("authorization"), request.cookies, strict=strict
            )
        except NotAuthenticated as exc:
            raise _unauthorized(exc) from None
        except HallpassUnavailable as exc:
            raise _unavailable(exc) from None

    async def current_user(self, request: Request, _bearer: _BearerDoc = None) -> User:
        """Dependency: the signed-in reader (a JWT checked offline); 401 or 503 otherwise."""
        return await self.authenticate(request)

    async def strict_user(self, request: Request, _bearer: _BearerDoc = None) -> User:
        """Dependency: the signed-in reader, whose session hallpass confirms live."""
        return await self.authenticate(request, strict=True)

    async def optional_user(self, request: Request, _bearer: _BearerDoc = None) -> User | None:
        """Dependency: the signed-in reader, or ``None`` for a reader with no valid credential
        (503 still when hallpass is unreachable)."""
        try:
            return await self.authenticate(request)
        except HTTPException as exc:
            if exc.status_code == status.HTTP_401_UNAUTHORIZED:
                return None
            raise

    def dependency(
        self, *, strict: bool = False, optional: bool = False
    ) -> Callable[..., Awaitable[User | None]]:
        """A dependency with these options: ``Depends(auth.dependency(strict=True))``."""
        if optional and strict:

            async def strict_optional(request: Request, _bearer: _BearerDoc = None) -> User | None:
                try:
                    return await self.authenticate(request, strict=True)
                except HTTPException as exc:
                    if exc.status_code == status.HTTP_401_UNAUTHORIZED:
                        return None
                    raise

            return strict_optional
        if optional:
            return self.optional_user
        return self.strict_user if strict else self.current_user

    async def warm_up(self) -> None:
        """Fetch hallpass's keys now, so the first reader does not wait; raises
        :class:`HallpassUnavailable` when hallpass cannot be reached."""
        await self.authenticator.verifier.refresh()

    async def aclose(self) -> None:
        """Close the connections to hallpass."""
        await self.authenticator.aclose()

    def install(self, app: FastAPI) -> HallpassAuth:
        """Make this the instance the module-level dependencies use for ``app``."""
        app.state.hallpass = self
        return self

    @asynccontextmanager
    async def lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        """A lifespan that installs this instance and closes its connections at shutdown:
        ``FastAPI(lifespan=auth.lifespan)``."""
        self.install(app)
        try:
            yield
        finally:
            await self.aclose()


_default: HallpassAuth | None = None
_default_lock = threading.Lock()


def get_hallpass(request: Request) -> HallpassAuth:
    """The :class:`HallpassAuth` of the request's app: the one installed with
    :meth:`HallpassAuth.install`, else one made from the environment (once per process)."""
    installed = getattr(request.app.state, "hallpass", None)
    if isinstance(installed, HallpassAuth):
        return installed
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = HallpassAuth()
    return _default


async def current_user(request: Request, _bearer: _BearerDoc = None) -> User:
    """Dependency: the signed-in reader (a JWT checked offline, a session checked with hallpass
    through a short cache); 401 with ``WWW-Authenticate: Bearer`` or 503 otherwise."""
    return await get_hallpass(request).authenticate(request)


async def strict_user(request: Request, _bearer: _BearerDoc = None) -> User:
    """Dependency: the signed-in reader, confirmed live with hallpass on every request."""
    return await get_hallpass(request).authenticate(request, strict=True)


async def optional_user(request: Request, _bearer: _BearerDoc = None) -> User | None:
    """Dependency: the signed-in reader, or ``None`` when there is no valid credential."""
    return await get_hallpass(request).optional_user(request)


CurrentUser = Annotated[User, Depends(current_user)]
"""``user: CurrentUser`` in a route's signature: the signed-in reader."""
StrictUser = Annotated[User, Depends(strict_user)]
"""``user: StrictUser``: the signed-in reader, session confirmed live."""
OptionalUser = Annotated[User | None, Depends(optional_user)]
"""``user: OptionalUser``: the reader, or ``None`` when signed out."""
