"""Live checks: ask hallpass whether a credential belongs to a live session, and whose it is.

Two ways, both over kept-alive connections:

- ``GET /api/auth/get-session`` with the reader's session cookie or ``Authorization: Bearer``
  forwarded as they came. Needs nothing but the URL; takes session credentials only.
- ``GET /internal/user`` with ``X-Internal-Secret`` (when ``HALLPASS_INTERNAL_SECRET`` is set):
  also takes a hallpass JWT, and answers whether the session named in its ``sid`` still lives; or
  looks a user up by ``id`` or ``email``.

:meth:`SessionClient.check` asks get-session about a session cookie or token, and
``/internal/user`` about a JWT. Answers may be kept for ``session_cache_ttl`` seconds (default
1) when the caller allows it; strict checks do not, so a revoked session is refused at once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import urlencode

from ._http import AsyncHTTP, AsyncPending, Response, SyncHTTP, SyncPending, TransportError
from .credentials import Credential
from .errors import HallpassError, HallpassUnavailable, StrictCheckUnavailable
from .models import Session, User
from .settings import HallpassSettings

__all__ = [
    "AsyncSessionClient",
    "GET_SESSION_PATH",
    "HallpassRefused",
    "INTERNAL_USER_PATH",
    "SessionClient",
    "SessionInfo",
]

GET_SESSION_PATH = "/api/auth/get-session"
INTERNAL_USER_PATH = "/internal/user"
#: Most answers kept by the short cache.
CACHE_SIZE = 10_000


class HallpassRefused(HallpassUnavailable):
    """hallpass refused this service itself: a wrong internal secret, or no internal secret set
    on hallpass (``/internal`` is then off). A configuration error; readers get a 503."""


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A live check's answer: the user (profile included, ``session_id`` set when known) and
    the session, when the user was identified by one."""

    user: User
    session: Session | None


_Key = tuple[str, ...]


class _TTLCache:
    """Answers kept for a few seconds, at most ``CACHE_SIZE`` of them, oldest dropped first."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._items: OrderedDict[_Key, tuple[float, SessionInfo | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: _Key) -> tuple[bool, SessionInfo | None]:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return False, None
            if item[0] <= time.monotonic():
                del self._items[key]
                return False, None
            return True, item[1]

    def put(self, key: _Key, value: SessionInfo | None) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + self.ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > CACHE_SIZE:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


@dataclass(frozen=True, slots=True)
class _Call:
    path: str
    headers: dict[str, str]
    internal: bool

    @property
    def key(self) -> _Key:
        return (
            self.path,
            *(f"{k}:{v}" for k, v in self.headers.items() if k != "X-Internal-Secret"),
        )


def _error_code(resp: Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return ""
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) else ""


def _parse(call: _Call, resp: Response) -> SessionInfo | None:
    """A live check's answer from hallpass's response (``None``: not a live session or user)."""
    if resp.status >= 500 or resp.status == 429:
        raise HallpassUnavailable(f"hallpass answered {resp.status} on {call.path}")
    if call.internal:
        if resp.status == 401:
            if _error_code(resp) == "INVALID_INTERNAL_SECRET":
                raise HallpassRefused("hallpass refused HALLPASS_INTERNAL_SECRET")
            return None
        if resp.status == 404:
            if _error_code(resp) == "USER_NOT_FOUND":
                return None
            raise HallpassRefused(
                "hallpass has no /internal/user: set HALLPASS_INTERNAL_SECRET on hallpass too"
            )
    if resp.status != 200:
        return None
    try:
        body = resp.json()
    except ValueError as exc:
        raise HallpassUnavailable(f"hallpass answered {call.path} with no JSON") from exc
    if body is None:
        return None
    user = body.get("user") if isinstance(body, dict) else None
    if not isinstance(user, dict):
        raise HallpassUnavailable(f"hallpass answered {call.path} without a user")
    raw_session = body.get("session")
    session = Session.from_json(raw_session) if isinstance(raw_session, dict) else None
    return SessionInfo(User.from_json(user, session_id=session.id if session else None), session)


class _SessionClientBase:
    def __init__(self, settings: HallpassSettings | None) -> None:
        self.settings = settings or HallpassSettings.from_env()
        self._cache = _TTLCache(self.settings.session_cache_ttl)
        self._secret = self.settings.internal_secret

    @property
    def has_internal_secret(self) -> bool:
        """Whether live checks can use ``/internal/user`` (and so can check JWTs)."""
        return bool(self._secret)

    def clear_cache(self) -> None:
        """Forget every kept answer."""
        self._cache.clear()

    def _get_session_call(self, cookie: str | None, authorization: str | None) -> _Call:
        headers: dict[str, str] = {"Accept": "application/json"}
        if cookie:
            headers["Cookie"] = cookie
        if authorization:
            headers["Authorization"] = authorization
        return _Call(GET_SESSION_PATH, headers, internal=False)

    def _internal_call(
        self,
        cookie: str | None,
        authorization: str | None,
        user_id: str | None,
        email: str | None,
    ) -> _Call:
        if not self._secret:
            raise HallpassError("/internal/user needs HALLPASS_INTERNAL_SECRET")
        headers: dict[str, str] = {"Accept": "application/json", "X-Internal-Secret": self._secret}
        if cookie:
            headers["Cookie"] = cookie
        if authorization:
            headers["Authorization"] = authorization
        query = {k: v for k, v in (("id", user_id), ("email", email)) if v}
        path = INTERNAL_USER_PATH + ("?" + urlencode(query) if query else "")
        return _Call(path, headers, internal=True)

    def _check_call(self, credential: Credential) -> _Call:
        forwarded = credential.forward_headers()
        cookie, authorization = forwarded.get("Cookie"), forwarded.get("Authorization")
        if credential.kind == "session":
            # get-session: Better Auth's own answer to "whose session is this", no secret needed.
            return self._get_session_call(cookie, authorization)
        if not self._secret:
            raise StrictCheckUnavailable(
                "a live check of a JWT needs HALLPASS_INTERNAL_SECRET; "
                "without it only a session cookie or session token can be checked live"
            )
        return self._internal_call(cookie, authorization, None, None)

    def _cached(self, call: _Call, use_cache: bool) -> tuple[bool, SessionInfo | None]:
        if use_cache and self._cache.ttl > 0:
            return self._cache.get(call.key)
        return False, None

    def _keep(self, call: _Call, use_cache: bool, info: SessionInfo | None) -> SessionInfo | None:
        if use_cache and self._cache.ttl > 0:
            self._cache.put(call.key, info)
        return info


class PendingCheck:
    """A live check sent to hallpass whose answer has not been read yet (sync)."""

    __slots__ = ("_call", "_client", "_pending", "_use_cache")

    def __init__(
        self, client: SessionClient, call: _Call, pending: SyncPending, use_cache: bool
    ) -> None:
        self._client = client
        self._call = call
        self._pending = pending
        self._use_cache = use_cache

    def result(self) -> SessionInfo | None:
        """The answer: who the credential belongs to, or ``None`` for no live session."""
        try:
            resp = self._pending.result()
        except TransportError as exc:
            raise HallpassUnavailable(str(exc)) from exc
        return self._client._keep(self._call, self._use_cache, _parse(self._call, resp))


class SessionClient(_SessionClientBase):
    """Asks hallpass about sessions and users (sync; safe to share between threads).

    >>> sessions = SessionClient()  # HALLPASS_URL, HALLPASS_INTERNAL_SECRET
    >>> info = sessions.get_session(cookie=request_cookie_header)
    >>> info.user.hardware_background if info else None
    """

    def __init__(
        self, settings: HallpassSettings | None = None, *, http: SyncHTTP | None = None
    ) -> None:
        super().__init__(settings)
        self._http = http or SyncHTTP(self.settings.base_url, timeout=self.settings.timeout)

    def _run(self, call: _Call, use_cache: bool) -> SessionInfo | None:
        hit, info = self._cached(call, use_cache)
        if hit:
            return info
        try:
            resp = self._http.request("GET", call.path, call.headers)
        except TransportError as exc:
            raise HallpassUnavailable(str(exc)) from exc
        return self._keep(call, use_cache, _parse(call, resp))

    def get_session(
        self,
        *,
        cookie: str | None = None,
        authorization: str | None = None,
        use_cache: bool = False,
    ) -> SessionInfo | None:
        """``GET /api/auth/get-session`` with the reader's ``Cookie`` and/or ``Authorization``
        header values forwarded; ``None`` when they carry no live session."""
        return self._run(self._get_session_call(cookie, authorization), use_cache)

    def internal_user(
        self,
        *,
        cookie: str | None = None,
        authorization: str | None = None,
        user_id: str | None = None,
        email: str | None = None,
        use_cache: bool = False,
    ) -> SessionInfo | None:
        """``GET /internal/user`` (needs the internal secret): the user of a forwarded
        credential (a JWT too), or the user with this id or email; ``None`` when none."""
        return self._run(self._internal_call(cookie, authorization, user_id, email), use_cache)

    def check(self, credential: Credential, *, use_cache: bool = False) -> SessionInfo | None:
        """Whether a reader's credential is a live session, and whose: get-session for a session
        cookie or token, ``/internal/user`` for a JWT (which needs the internal secret: else
        :class:`StrictCheckUnavailable`). ``use_cache`` allows an answer up to
        ``session_cache_ttl`` seconds old (never for strict checks)."""
        return self._run(self._check_call(credential), use_cache)

    def send_check(self, credential: Credential) -> PendingCheck:
        """Send :meth:`check` (uncached) now and read the answer later, to overlap other work."""
        call = self._check_call(credential)
        try:
            pending = self._http.send("GET", call.path, call.headers)
        except TransportError as exc:
            raise HallpassUnavailable(str(exc)) from exc
        return PendingCheck(self, call, pending, False)

    def close(self) -> None:
        """Close the connections to hallpass."""
        self._http.close()


class AsyncPendingCheck:
    """A live check sent to hallpass whose answer has not been read yet (async)."""

    __slots__ = ("_call", "_client", "_pending")

    def __init__(self, client: AsyncSessionClient, call: _Call, pending: AsyncPending) -> None:
        self._client = client
        self._call = call
        self._pending = pending

    async def result(self) -> SessionInfo | None:
        """The answer: who the credential belongs to, or ``None`` for no live session."""
        try:
            resp = await self._pending.result()
        except TransportError as exc:
            raise HallpassUnavailable(str(exc)) from exc
        return _parse(self._call, resp)


class AsyncSessionClient(_SessionClientBase):
    """Asks hallpass about sessions and users without blocking the event loop; the same
    methods as :class:`SessionClient`, awaited."""

    def __init__(
        self, settings: HallpassSettings | None = None, *, http: AsyncHTTP | None = None
    ) -> None:
        super().__init__(settings)
        self._http = http or AsyncHTTP(self.settings.base_url, timeout=self.settings.timeout)

    async def _run(self, call: _Call, use_cache: bool) -> SessionInfo | None:
        hit, info = self._cached(call, use_cache)
        if hit:
            return info
        try:
            resp = await self._http.request("GET", call.path, call.headers)
        except TransportError as exc:
            raise HallpassUnavailable(str(exc)) from exc
        return self._keep(call, use_cache, _parse(call, resp))

    async def get_session(
        self,
        *,
        cookie: str | None = None,
        authorization: str | None = None,
        use_cache: bool = False,
    ) -> SessionInfo | None:
        """See :meth:`SessionClient.get_session`."""
        return await self._run(self._get_session_call(cookie, authorization), use_cache)

    async def internal_user(
        self,
        *,
        cookie: str | None = None,
        authorization: str | None = None,
        user_id: str | None = None,
        email: str | None = None,
        use_cache: bool = False,
    ) -> SessionInfo | None:
        """See :meth:`SessionClient.internal_user`."""
        call = self._internal_call(cookie, authorization, user_id, email)
        return await self._run(call, use_cache)

    async def check(self, credential: Credential, *, use_cache: bool = False) -> SessionInfo | None:
        """See :meth:`SessionClient.check`."""
        return await self._run(self._check_call(credential), use_cache)

    async def send_check(self, credential: Credential) -> AsyncPendingCheck:
        """Send :meth:`check` (uncached) now and await the answer later, to overlap other work."""
        call = self._check_call(credential)
        try:
            pending = await self._http.send("GET", call.path, call.headers)
        except TransportError as exc:
            raise HallpassUnavailable(str(exc)) from exc
        return AsyncPendingCheck(self, call, pending)

    async def aclose(self) -> None:
        """Close the connections to hallpass."""
        await self._http.aclose()
