"""The async side: a pool of kept-alive connections, each an ``asyncio.Protocol``."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import sys
from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar

from .wire import (
    IDEMPOTENT,
    MAX_IDLE,
    Origin,
    Response,
    ResponseParser,
    Stale,
    TransportError,
)

__all__ = ["AsyncHTTP", "AsyncPending"]


class _Protocol(asyncio.Protocol):
    """One connection: feeds what arrives to the parser of the request in flight."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.parser: ResponseParser | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.closed = False  # the server ended the connection, or it broke

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a stream transport

    def data_received(self, data: bytes) -> None:
        parser, waiter = self.parser, self.waiter
        if parser is None or waiter is None or waiter.done():
            self.closed = True  # bytes nobody asked for: this connection is not to be trusted
            self.close()
            return
        try:
            if parser.feed(data):
                waiter.set_result(None)
        except TransportError as exc:
            waiter.set_exception(exc)

    def eof_received(self) -> bool:
        self._ended(None)
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended(exc)

    def _ended(self, exc: Exception | None) -> None:
        self.closed = True
        parser, waiter = self.parser, self.waiter
        if parser is None or waiter is None or waiter.done():
            return
        if not parser.received:
            stale = Stale()
            stale.__cause__ = exc
            waiter.set_exception(stale)
            return
        try:
            parser.feed_eof()
        except TransportError as err:
            waiter.set_exception(err)
        else:
            waiter.set_result(None)

    def close(self) -> None:
        if self.transport is not None:
            with contextlib.suppress(RuntimeError):  # its event loop is gone
                self.transport.close()

    def _timed_out(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(TimeoutError())


_T = TypeVar("_T")

if sys.version_info >= (3, 11):

    async def _within(timeout: float, coro: Coroutine[Any, Any, _T]) -> _T:
        async with asyncio.timeout(timeout):
            return await coro

else:  # pragma: no cover - exercised on Python 3.10 only

    async def _within(timeout: float, coro: Coroutine[Any, Any, _T]) -> _T:
        return await asyncio.wait_for(coro, timeout)


class AsyncHTTP:
    """A pool of kept-alive connections (``asyncio`` protocols) for the tasks of one event loop.

    Used from another event loop (as test clients do), the pool drops its connections and starts
    afresh, since connections belong to the loop that made them.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 5.0,
        ssl_context: ssl.SSLContext | None = None,
        max_idle: int = MAX_IDLE,
    ) -> None:
        self._origin = Origin.parse(base_url)
        self._timeout = timeout
        self._ssl: ssl.SSLContext | None = None
        if self._origin.scheme == "https":
            self._ssl = ssl_context or ssl.create_default_context()
        self._max_idle = max_idle
        self._idle: list[_Protocol] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    async def _connect(self) -> _Protocol:
        o = self._origin
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(
            lambda: _Protocol(loop),
            o.host,
            o.port,
            ssl=self._ssl,
            server_hostname=o.host if self._ssl else None,
        )
        return protocol

    def _take_idle(self) -> _Protocol | None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            for conn in self._idle:
                conn.close()
            self._idle = []
            self._loop = loop
        while self._idle:
            conn = self._idle.pop()
            # The loop has already seen the end of a connection the server closed while idle.
            if conn.closed or conn.transport is None or conn.transport.is_closing():
                conn.close()
                continue
            return conn
        return None

    def _checkin(self, conn: _Protocol) -> None:
        conn.parser = conn.waiter = None
        if (
            self._closed
            or conn.closed
            or len(self._idle) >= self._max_idle
            or self._loop is not conn.loop
        ):
            conn.close()
        else:
            self._idle.append(conn)

    async def request(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> Response:
        """Send one request on a kept-alive connection and read the whole response."""
        return await (await self.send(method, path, headers, body)).result()

    async def send(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> AsyncPending:
        """Send one request now; read its response with :meth:`AsyncPending.result`.

        The caller can do other work (verify a JWT) while the server answers.
        """
        if self._closed:
            raise TransportError("client is closed")
        raw = self._origin.request_bytes(method, path, headers, body)
        conn = self._take_idle()
        reused = conn is not None
        if conn is None:
            conn = await self._connect_within(f"{method} {path}")
        self._start(conn, method, raw)
        return AsyncPending(self, conn, reused, method, path, raw)

    @staticmethod
    def _start(conn: _Protocol, method: str, raw: bytes) -> None:
        conn.parser = ResponseParser(method)
        conn.waiter = conn.loop.create_future()
        if conn.transport is None:
            raise TransportError("connection not open")
        conn.transport.write(raw)  # a failed write shows when the response is read

    async def _connect_within(self, what: str) -> _Protocol:
        try:
            return await _within(self._timeout, self._connect())
        except TimeoutError as exc:
            raise TransportError(f"{what}: no connection after {self._timeout} s") from exc
        except OSError as exc:
            raise TransportError(f"cannot connect to {self._origin.host_header}: {exc}") from exc

    async def _result(self, p: AsyncPending) -> Response:
        what = f"{p.method} {p.path}"
        try:
            try:
                return await self._read(p.conn)
            except Stale:
                if not (p.reused and p.method in IDEMPOTENT):
                    raise TransportError(f"{what}: connection closed by the server") from None
            # A reused connection the server closed while it sat idle: once on a new one.
            conn = await self._connect_within(what)
            self._start(conn, p.method, p.raw)
            try:
                return await self._read(conn)
            except Stale:
                raise TransportError(f"{what}: connection closed before an answer") from None
        except TransportError:
            raise
        except TimeoutError as exc:
            raise TransportError(f"{what}: no answer after {self._timeout} s") from exc
        except OSError as exc:
            raise TransportError(f"{what}: {exc!r}") from exc

    async def _read(self, conn: _Protocol) -> Response:
        waiter, parser = conn.waiter, conn.parser
        if waiter is None or parser is None:
            raise TransportError("no request in flight on this connection")
        timer = conn.loop.call_later(self._timeout, conn._timed_out)
        try:
            await waiter
        except BaseException:
            conn.closed = True
            conn.close()
            raise
        finally:
            timer.cancel()
        if parser.reusable:
            self._checkin(conn)
        else:
            conn.closed = True
            conn.close()
        return parser.response

    async def aclose(self) -> None:
        """Close every idle connection; later requests fail."""
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


class AsyncPending:
    """A request that has been sent and whose response has not been read yet."""

    __slots__ = ("conn", "http", "method", "path", "raw", "reused")

    def __init__(
        self, http_: AsyncHTTP, conn: _Protocol, reused: bool, method: str, path: str, raw: bytes
    ) -> None:
        self.http = http_
        self.conn = conn
        self.reused = reused
        self.method = method
        self.path = path
        self.raw = raw

    async def result(self) -> Response:
        """Read the whole response (once)."""
        return await self.http._result(self)
