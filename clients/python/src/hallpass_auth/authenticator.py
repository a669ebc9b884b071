"""Who is asking: one call that takes the reader's credential and answers the user, for any
framework (the FastAPI dependencies are a thin layer on top).

- A bearer JWT is verified offline (no call to hallpass).
- A session token or the signed session cookie, which only hallpass can check, is checked with
  hallpass (answers may be up to ``session_cache_ttl`` seconds old).
- ``strict=True`` adds a live check to everything: a JWT is verified offline *and* its session
  asked about (``/internal/user``, needs the internal secret); a session credential is checked
  with no cache. A revoked session is then refused at once.

For a strict JWT check the live request is sent first and the signature checked while hallpass
answers, so the check costs one round trip, not a round trip plus a verification.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping

from .credentials import Credential, credential_from_request
from .errors import HallpassError, InvalidToken, NoCredential, NotAuthenticated
from .models import User
from .sessions import AsyncSessionClient, SessionClient, SessionInfo
from .settings import HallpassSettings
from .verifier import AsyncVerifier, Verifier

__all__ = ["AsyncAuthenticator", "Authenticator"]


def _pick(
    settings: HallpassSettings,
    authorization: str | None,
    cookies: Mapping[str, str] | str | None,
    strict: bool,
) -> Credential | None:
    credential = credential_from_request(authorization, cookies, settings.cookie_names)
    # Without the internal secret a JWT cannot be checked live; a session cookie can.
    if (
        strict
        and credential is not None
        and credential.kind == "jwt"
        and not settings.internal_secret
    ):
        return credential_from_request(None, cookies, settings.cookie_names) or credential
    return credential


def _precheck(credential: Credential | None) -> Credential:
    if credential is None:
        raise NoCredential("no credential")
    if not credential.is_wellformed:
        raise InvalidToken("malformed credential")
    return credential


def _live_user(info: SessionInfo | None, offline: User | None) -> User:
    if info is None:
        raise NotAuthenticated("no live session")
    if offline is not None:
        if info.user.id != offline.id:
            raise NotAuthenticated("the session belongs to another user")
        if info.user.session_id is None and offline.session_id is not None:
            return dataclasses.replace(info.user, session_id=offline.session_id)
    return info.user


class Authenticator:
    """Answers the user behind a credential (sync; safe to share between threads)."""

    def __init__(
        self,
        settings: HallpassSettings | None = None,
        *,
        verifier: Verifier | None = None,
        sessions: SessionClient | None = None,
    ) -> None:
        self.settings = settings or HallpassSettings.from_env()
        self.verifier = verifier or Verifier(self.settings)
        self.sessions = sessions or SessionClient(self.settings)

    def authenticate(self, credential: Credential | None, *, strict: bool = False) -> User:
        """The user, or :class:`NotAuthenticated` (:class:`InvalidToken` for a bad JWT) or
        :class:`HallpassUnavailable`."""
        credential = _precheck(credential)
        if credential.kind == "jwt":
            if not strict:
                return self.verifier.verify(credential.value)
            pending = self.sessions.send_check(credential)
            try:
                offline = self.verifier.verify(credential.value)
            except HallpassError:  # a bad token, or no keys: still read the answer, so the
                with contextlib.suppress(HallpassError):  # connection stays usable
                    pending.result()
                raise
            return _live_user(pending.result(), offline)
        return _live_user(self.sessions.check(credential, use_cache=not strict), None)

    def authenticate_request(
        self,
        authorization: str | None,
        cookies: Mapping[str, str] | str | None,
        *,
        strict: bool = False,
    ) -> User:
        """:meth:`authenticate` with the credential taken from a request's ``Authorization``
        header value and its cookies (a mapping, or the ``Cookie`` header value)."""
        return self.authenticate(
            _pick(self.settings, authorization, cookies, strict), strict=strict
        )

    def close(self) -> None:
        """Close the connections to hallpass."""
        self.verifier.close()
        self.sessions.close()


class AsyncAuthenticator:
    """Answers the user behind a credential, without blocking the event loop."""

    def __init__(
        self,
        settings: HallpassSettings | None = None,
        *,
        verifier: AsyncVerifier | None = None,
        sessions: AsyncSessionClient | None = None,
    ) -> None:
        self.settings = settings or HallpassSettings.from_env()
        self.verifier = verifier or AsyncVerifier(self.settings)
        self.sessions = sessions or AsyncSessionClient(self.settings)

    async def authenticate(self, credential: Credential | None, *, strict: bool = False) -> User:
        """See :meth:`Authenticator.authenticate`."""
        credential = _precheck(credential)
        if credential.kind == "jwt":
            if not strict:
                return await self.verifier.verify(credential.value)
            # Keys first (a fetch would otherwise delay the live answer being read), then send
            # the live check and verify the signature while hallpass answers.
            key = await self.verifier.key_for(credential.value)
            pending = await self.sessions.send_check(credential)
            try:
                offline = self.verifier.user_for(credential.value, key)
            except InvalidToken:
                with contextlib.suppress(HallpassError):
                    await pending.result()
                raise
            return _live_user(await pending.result(), offline)
        return _live_user(await self.sessions.check(credential, use_cache=not strict), None)

    async def authenticate_request(
        self,
        authorization: str | None,
        cookies: Mapping[str, str] | str | None,
        *,
        strict: bool = False,
    ) -> User:
        """See :meth:`Authenticator.authenticate_request`."""
        return await self.authenticate(
            _pick(self.settings, authorization, cookies, strict), strict=strict
        )

    async def aclose(self) -> None:
        """Close the connections to hallpass."""
        await self.verifier.aclose()
        await self.sessions.aclose()
