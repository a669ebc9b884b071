"""Test doubles: Ed25519 keys that sign like hallpass, and a scriptable raw HTTP/1.1 server."""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.utils import base64url_encode


@dataclass
class SigningKey:
    """An Ed25519 key with a key id, like a row of hallpass's ``jwks`` table."""

    kid: str
    private: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    @property
    def jwk(self) -> dict[str, str]:
        x = self.private.public_key().public_bytes_raw()
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": base64url_encode(x).decode(),
            "kid": self.kid,
            "alg": "EdDSA",
        }

    def sign(self, claims: dict[str, Any], *, kid: str | None = None) -> str:
        return jwt.encode(claims, self.private, algorithm="EdDSA", headers={"kid": kid or self.kid})


def claims_for(issuer: str, *, ttl: int = 900, **extra: Any) -> dict[str, Any]:
    """Claims shaped like hallpass's: the user, its profile, sub, sid, iat/exp, iss and aud."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iat": now,
        "name": "Grace Hopper",
        "email": "grace@example.com",
        "emailVerified": True,
        "image": None,
        "createdAt": "2026-11-29T14:48:42.060Z",
        "updatedAt": "2026-11-29T14:48:42.060Z",
        "software_background": "advanced",
        "hardware_background": None,
        "id": "user-grace",
        "sub": "user-grace",
        "sid": "session-1",
        "exp": now + ttl,
        "iss": issuer,
        "aud": issuer,
    }
    claims.update(extra)
    return claims


def unsigned_token(claims: dict[str, Any], header: dict[str, Any]) -> str:
    """A token with ``alg: none`` (or any header) and an empty signature."""
    h = base64url_encode(json.dumps(header).encode()).decode()
    p = base64url_encode(json.dumps(claims).encode()).decode()
    return f"{h}.{p}."


Handler = Callable[["Request"], bytes | None]


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    connection: int  # which connection (1, 2, ...) carried it


def http_response(
    status: int = 200,
    body: bytes | dict[str, Any] | list[Any] | None = b"",
    headers: dict[str, str] | None = None,
    *,
    chunked: bool = False,
    length: bool = True,
) -> bytes:
    """Raw bytes of a response: Content-Length framed, chunked, or (``length=False``) neither."""
    data = json.dumps(body).encode() if isinstance(body, dict | list) else (body or b"")
    lines = [f"HTTP/1.1 {status} X"]
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        pieces = [data[i : i + 7] for i in range(0, len(data), 7)]
        framed = b"".join(f"{len(p):x};ext=1\r\n".encode() + p + b"\r\n" for p in pieces)
        payload = framed + b"0\r\nX-Trailer: yes\r\n\r\n"
    else:
        if length:
            lines.append(f"Content-Length: {len(data)}")
        payload = data
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


class FakeServer:
    """A threaded HTTP/1.1 server whose answers are raw bytes from ``handler``.

    ``handler`` returns the bytes to send, or ``None`` to close the connection without an
    answer. ``close_after_response`` closes each connection after one answer without saying so
    (as a server does to a keep-alive connection that sat idle too long).
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self.connections = 0
        self.close_after_response = False
        self.delay = 0.0
        self._lock = threading.Lock()
        outer = self

        class _Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                outer._serve(self.request)

        class _Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = _Server(("127.0.0.1", 0), _Handler)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )
        self._thread.start()

    def _serve(self, sock: socket.socket) -> None:
        with self._lock:
            self.connections += 1
            number = self.connections
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, _, buf = buf.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    k, _, v = line.partition(":")
                    headers[k.strip().lower()] = v.strip()
                n = int(headers.get("content-length", "0"))
                while len(buf) < n:
                    buf += sock.recv(65536)
                body, buf = buf[:n], buf[n:]
                req = Request(method, path, headers, body, number)
                with self._lock:
                    self.requests.append(req)
                if self.delay:
                    time.sleep(self.delay)
                answer = self.handler(req)
                if answer is None:
                    return
                sock.sendall(answer)
                if self.close_after_response or b"connection: close" in answer.lower():
                    return
        except OSError:
            return
        finally:
            sock.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def jwks_handler(keys: list[SigningKey]) -> Handler:
    """A handler that serves ``keys`` (a live list: change it to rotate) at the JWKS path."""

    def handle(req: Request) -> bytes:
        if req.path == "/api/auth/jwks":
            return http_response(200, {"keys": [k.jwk for k in keys]})
        return http_response(404, {"code": "NOT_FOUND", "message": "Not found"})

    return handle
