"""A small HTTP/1.1 keep-alive client, sync and async, for the few calls this package makes.

Why not httpx, aiohttp or even ``http.client``: the strict check is one round trip to hallpass
on the request path of the calling service, and on loopback the client library is most of that
round trip. Measured in one sitting (README.md, "Choosing the HTTP client"), httpx costs five to
fifteen times a bare ``http.client`` round trip, aiohttp about 1.6 times, and ``http.client``
itself spends most of its time parsing headers through the ``email`` package. This module sends
a prebuilt request and parses the answer with one small parser shared by both sides (blocking
sockets for sync, an ``asyncio`` protocol for async), and costs less than a bare ``http.client``
round trip. It does only what the package needs:

- a pool of kept-alive connections per base URL (HTTP or HTTPS), safe to share between threads
  (sync) or tasks of one event loop (async; the pool starts afresh when used from another loop);
- bodies framed by ``Content-Length``, ``Transfer-Encoding: chunked`` or the end of the connection,
  and interim (1xx) responses skipped;
- one retry on a fresh connection when a reused connection turns out to have been closed by the
  server while idle (idempotent methods only);
- a deadline for the whole exchange, and caps on the size of a response.

Every failure to talk to the server is raised as :class:`TransportError`.
"""

from .aio import AsyncHTTP, AsyncPending
from .sync import SyncHTTP, SyncPending
from .wire import MAX_BODY, MAX_HEAD, Response, ResponseParser, TransportError

__all__ = [
    "MAX_BODY",
    "MAX_HEAD",
    "AsyncHTTP",
    "AsyncPending",
    "Response",
    "ResponseParser",
    "SyncHTTP",
    "SyncPending",
    "TransportError",
]
