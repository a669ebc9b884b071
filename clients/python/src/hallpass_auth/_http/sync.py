"""The sync side: a thread-safe pool of kept-alive blocking sockets."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Mapping

from .wire import (
    IDEMPOTENT,
    MAX_IDLE,
    READ_SIZE,
    Origin,
    Response,
    ResponseParser,
    Stale,
    TransportError,
)

__all__ = ["SyncHTTP", "SyncPending"]


class _SyncConn:
    __slots__ = ("sock",)

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


class SyncHTTP:
    """A thread-safe pool of kept-alive connections to one server, on blocking sockets."""

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
        self._idle: list[_SyncConn] = []
        self._lock = threading.Lock()
        self._closed = False

    def _connect(self, deadline: float) -> _SyncConn:
        o = self._origin
        timeout = max(deadline - time.monotonic(), 0.001)
        sock = socket.create_connection((o.host, o.port), timeout=timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._ssl is not None:
                sock = self._ssl.wrap_socket(sock, server_hostname=o.host)
        except BaseException:
            sock.close()
            raise
        return _SyncConn(sock)

    def request(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> Response:
        """Send one request on a kept-alive connection and read the whole response."""
        return self.send(method, path, headers, body).result()

    def send(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> SyncPending:
        """Send one request now; read its response with :meth:`SyncPending.result`.

        The caller can do other work (verify a JWT) while the server answers.
        """
        if self._closed:
            raise TransportError("client is closed")
        raw = self._origin.request_bytes(method, path, headers, body)
        deadline = time.monotonic() + self._timeout
        conn: _SyncConn | None = None
        with self._lock:
            if self._idle:
                conn = self._idle.pop()
        reused = conn is not None
        if conn is None:
            conn = self._connect_or_fail(method, path, deadline)
        error: OSError | None = None
        try:
            conn.sock.sendall(raw)
        except OSError as exc:  # shows when the answer is read
            error = exc
        return SyncPending(self, conn, reused, method, path, raw, deadline, error)

    def _connect_or_fail(self, method: str, path: str, deadline: float) -> _SyncConn:
        try:
            return self._connect(deadline)
        except OSError as exc:
            raise TransportError(
                f"{method} {path}: cannot connect to {self._origin.host_header}: {exc}"
            ) from exc

    def _read(
        self, conn: _SyncConn, method: str, deadline: float, error: OSError | None
    ) -> Response:
        """Read one response; :class:`Stale` when the connection died before any byte."""
        parser = ResponseParser(method)
        done = False
        try:
            if error is not None:
                raise error
            sock = conn.sock
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                sock.settimeout(remaining)
                data = sock.recv(READ_SIZE)
                if not data:
                    if not parser.received:
                        raise Stale()
                    parser.feed_eof()
                    break
                if parser.feed(data):
                    break
            done = True
        except (ConnectionError, ssl.SSLEOFError) as exc:
            if not parser.received:
                raise Stale() from exc
            raise
        finally:
            if not done or not parser.reusable:
                conn.close()
        if parser.reusable:
            with self._lock:
                keep = not self._closed and len(self._idle) < self._max_idle
                if keep:
                    self._idle.append(conn)
            if not keep:
                conn.close()
        return parser.response

    def _result(self, p: SyncPending) -> Response:
        what = f"{p.method} {p.path}"
        try:
            try:
                return self._read(p.conn, p.method, p.deadline, p.error)
            except Stale:
                if not (p.reused and p.method in IDEMPOTENT):
                    raise TransportError(f"{what}: connection closed by the server") from None
            # A reused connection the server closed while it sat idle: once on a new one.
            conn = self._connect_or_fail(p.method, p.path, p.deadline)
            try:
                conn.sock.sendall(p.raw)
                return self._read(conn, p.method, p.deadline, None)
            except Stale:
                raise TransportError(f"{what}: connection closed before an answer") from None
        except TransportError:
            raise
        except TimeoutError as exc:  # socket.timeout is TimeoutError since Python 3.10
            raise TransportError(f"{what}: no answer after {self._timeout} s") from exc
        except OSError as exc:
            raise TransportError(f"{what}: {exc!r}") from exc

    def close(self) -> None:
        """Close every idle connection; later requests fail."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


class SyncPending:
    """A request that has been sent and whose response has not been read yet."""

    __slots__ = ("conn", "deadline", "error", "http", "method", "path", "raw", "reused")

    def __init__(
        self,
        http_: SyncHTTP,
        conn: _SyncConn,
        reused: bool,
        method: str,
        path: str,
        raw: bytes,
        deadline: float,
        error: OSError | None,
    ) -> None:
        self.http = http_
        self.conn = conn
        self.reused = reused
        self.method = method
        self.path = path
        self.raw = raw
        self.deadline = deadline
        self.error = error

    def result(self) -> Response:
        """Read the whole response (once)."""
        return self.http._result(self)
