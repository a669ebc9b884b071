"""Wire format: the request line and headers, and the response parser (no I/O)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "IDEMPOTENT",
    "MAX_BODY",
    "MAX_HEAD",
    "MAX_IDLE",
    "READ_SIZE",
    "Origin",
    "Response",
    "ResponseParser",
    "Stale",
    "TransportError",
]

#: Largest response body accepted (hallpass answers are a few kilobytes).
MAX_BODY = 4 * 1024 * 1024
#: Largest response head (status line and headers) accepted.
MAX_HEAD = 64 * 1024
#: Idle connections kept per pool.
MAX_IDLE = 32
READ_SIZE = 65536

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class TransportError(Exception):
    """The server could not be reached, or did not answer with a well-formed HTTP response."""


class Stale(Exception):
    """A reused connection was closed by the server before it sent a byte of an answer."""


class Response:
    """A complete response: status, headers (names lower-cased; repeated headers joined with
    ``", "``; parsed when first asked for) and the body."""

    __slots__ = ("_head", "_headers", "body", "status")

    def __init__(
        self,
        status: int,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        *,
        head: bytes = b"",
    ) -> None:
        self.status = status
        self.body = body
        self._headers = dict(headers) if headers is not None else None
        self._head = head

    @property
    def headers(self) -> Mapping[str, str]:
        """The response headers, by lower-cased name."""
        if self._headers is None:
            self._headers = _parse_headers(self._head)
        return self._headers

    def json(self) -> Any:
        """The body parsed as JSON (raises :class:`ValueError` when it is not JSON)."""
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"Response(status={self.status}, body={self.body[:80]!r})"


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str
    port: int
    host_header: str
    base_path: str

    @classmethod
    def parse(cls, base_url: str) -> Origin:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        default_port = 443 if parts.scheme == "https" else 80
        port = parts.port or default_port
        host = parts.hostname
        shown = f"[{host}]" if ":" in host else host
        host_header = shown if port == default_port else f"{shown}:{port}"
        return cls(parts.scheme, host, port, host_header, parts.path.rstrip("/"))

    def request_bytes(
        self, method: str, path: str, headers: Mapping[str, str] | None, body: bytes | None
    ) -> bytes:
        lines = [f"{method} {self.base_path}{path} HTTP/1.1", f"Host: {self.host_header}"]
        for name, value in (headers or {}).items():
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name or ":" in name:
                raise ValueError(f"invalid header {name!r}")
            lines.append(f"{name}: {value}")
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


# ---- the response parser (no I/O) --------------------------------------------------------------

_HEAD, _LENGTH, _CHUNK_SIZE, _CHUNK_DATA, _TRAILERS, _UNTIL_EOF, _DONE = range(7)


def _parse_headers(head: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise TransportError(f"bad header line: {line[:60]!r}")
        key = name.strip().lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def _header(lowered_head: bytes, name: bytes) -> bytes | None:
    """The value of one header (all its lines joined) in a lower-cased response head."""
    values = []
    start = 0
    while True:
        at = lowered_head.find(b"\r\n" + name + b":", start)
        if at < 0:
            break
        begin = at + len(name) + 3
        end = lowered_head.find(b"\r\n", begin)
        values.append(lowered_head[begin:end].strip())
        start = end
    return b", ".join(values) if values else None


class ResponseParser:
    """Reads one HTTP/1.1 response from bytes fed in as they arrive (RFC 9112, section 6.3).

    :meth:`feed` answers ``True`` once the response is complete; :meth:`feed_eof` tells that the
    connection ended. Then :attr:`response` is the response and :attr:`reusable` whether the
    connection can carry another request.
    """

    __slots__ = (
        "_body",
        "_budget",
        "_buf",
        "_head_only",
        "_remaining",
        "_state",
        "head",
        "received",
        "reusable",
        "status",
    )

    def __init__(self, method: str = "GET") -> None:
        self._head_only = method == "HEAD"
        self._buf = b""
        self._body: list[bytes] = []
        self._state = _HEAD
        self._remaining = 0
        self._budget = MAX_BODY
        self.status = 0
        self.head = b""
        self.reusable = True
        self.received = False

    @property
    def response(self) -> Response:
        """The complete response."""
        body = self._body[0] if len(self._body) == 1 else b"".join(self._body)
        return Response(self.status, None, body, head=self.head)

    def feed(self, data: bytes) -> bool:
        """Take bytes; answer whether the response is complete."""
        if data:
            self.received = True
            self._buf = self._buf + data if self._buf else data
        while True:
            state = self._state
            buf = self._buf
            if state == _HEAD:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(buf) > MAX_HEAD:
                        raise TransportError(f"response head larger than {MAX_HEAD} bytes")
                    return False
                self._buf = buf[end + 4 :]
                self._start_body(buf[: end + 4])
            elif state == _LENGTH:
                n = self._remaining
                if len(buf) < n:
                    return False
                self._body.append(buf[:n])
                self._buf = buf[n:]
                self._state = _DONE
            elif state in (_CHUNK_SIZE, _TRAILERS):
                end = buf.find(b"\r\n")
                if end < 0:
                    if len(buf) > MAX_HEAD:
                        raise TransportError("chunk header too long")
                    return False
                line, self._buf = buf[:end], buf[end + 2 :]
                if state == _TRAILERS:
                    if not line:
                        self._state = _DONE
                    continue
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise TransportError(f"bad chunk size: {line[:20]!r}") from None
                if size < 0:
                    raise TransportError("bad chunk size")
                if size == 0:
                    self._state = _TRAILERS
                else:
                    self._take_budget(size)
                    self._remaining = size
                    self._state = _CHUNK_DATA
            elif state == _CHUNK_DATA:
                n = self._remaining
                if len(buf) < n + 2:
                    return False
                if buf[n : n + 2] != b"\r\n":
                    raise TransportError("chunk not followed by CRLF")
                self._body.append(buf[:n])
                self._buf = buf[n + 2 :]
                self._state = _CHUNK_SIZE
            elif state == _UNTIL_EOF:
                if buf:
                    self._take_budget(len(buf))
                    self._body.append(buf)
                    self._buf = b""
                return False
            else:  # _DONE
                if buf:  # bytes beyond the response: never reuse this connection
                    self.reusable = False
                return True

    def feed_eof(self) -> None:
        """The connection ended: fine for a body framed by the end of the connection, else an
        incomplete response (:class:`TransportError`)."""
        self.reusable = False
        if self._state == _UNTIL_EOF:
            self._state = _DONE
        elif self._state != _DONE:
            raise TransportError("connection closed before the response was complete")

    @property
    def complete(self) -> bool:
        """Whether the whole response has been read."""
        return self._state == _DONE

    def _take_budget(self, n: int) -> None:
        self._budget -= n
        if self._budget < 0:
            raise TransportError(f"response larger than {MAX_BODY} bytes")

    def _start_body(self, head: bytes) -> None:
        # Only the framing headers are read here; Response.headers parses the rest if asked.
        version, _, tail = head[:16].partition(b" ")
        code = tail[:3]
        if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit():
            line = head.split(b"\r\n", 1)[0]
            raise TransportError(f"not an HTTP/1.x response: {line[:60]!r}")
        status = int(code)
        if 100 <= status < 200 and status != 101:
            return  # an interim response: the real one follows
        lowered = head.lower()
        self.status = status
        self.head = head
        connection = _header(lowered, b"connection") or b""
        if version == b"HTTP/1.1":
            self.reusable = b"close" not in connection
        else:
            self.reusable = b"keep-alive" in connection
        encoding = _header(lowered, b"transfer-encoding")
        length = _header(lowered, b"content-length")
        if self._head_only or status in (204, 304) or status < 200:
            self._state = _DONE
        elif encoding is not None and b"chunked" in encoding:
            self._state = _CHUNK_SIZE
        elif length is not None:
            if not length.isdigit():
                raise TransportError(f"bad content-length: {length[:20]!r}")
            self._remaining = int(length)
            if self._remaining > MAX_BODY:
                raise TransportError(f"response larger than {MAX_BODY} bytes")
            self._state = _LENGTH
        else:
            self.reusable = False
            self._state = _UNTIL_EOF
