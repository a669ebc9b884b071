#!/usr/bin/env python3
"""Benchmark hallpass-auth against a running hallpass (not a test: it prints numbers).

    python bench.py http://localhost:4000 [--internal-secret S] [--rounds 20] [--per-round 200]
                    [--compare]

Prints, in one process:
- JWT verifications per second: hallpass-auth's Verifier (sync and async, every signature
  checked) beside PyJWT alone (``jwt.decode`` with the key already in hand), and the same token
  verified again (answered from the package's cache of verified tokens);
- strict-check round trips p50/p99 on one kept-alive connection: the package (sync
  ``Authenticator``, async ``AsyncAuthenticator``) beside a bare ``http.client`` GET of the same
  endpoint (request and read, no JSON parsing), for a session token (get-session) and, with the
  internal secret, for a JWT (``/internal/user``, signature checked while hallpass answers);
- for reference, the least an asyncio round trip costs (bare streams, no parsing beyond the
  Content-Length);
- with ``--compare``: the same round trip through httpx, httpx2 and aiohttp (when installed).

Candidates run interleaved, a round each in turn, so that a busy machine slows them alike. The
script signs up a throwaway user (``bench-<random>@example.com``).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import secrets
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import jwt

from hallpass_auth import (
    AsyncAuthenticator,
    AsyncVerifier,
    Authenticator,
    Credential,
    HallpassSettings,
    Verifier,
)

Sample = list[float]


def call(base: str, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    u = urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname or "localhost", u.port or 80, timeout=30)
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    conn.request(method, path, json.dumps(body) if body is not None else None, headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    if resp.status >= 400:
        raise SystemExit(f"{method} {path}: {resp.status} {data[:200]!r}")
    return json.loads(data)


def percentile(samples: Sample, q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def report(name: str, samples: Sample, baseline: Sample | None) -> None:
    p50, p99 = percentile(samples, 0.5) * 1e3, percentile(samples, 0.99) * 1e3
    ratio = ""
    if baseline is not None and baseline is not samples:
        ratio = f"   x{percentile(samples, 0.5) / percentile(baseline, 0.5):.2f} of bare p50"
        ratio += f", mean x{statistics.mean(samples) / statistics.mean(baseline):.2f}"
    print(f"  {name:34s} p50 {p50:6.3f} ms   p99 {p99:6.3f} ms{ratio}")


def run_interleaved(
    sync_cands: dict[str, Callable[[], object]],
    async_cands: dict[str, Callable[[], Awaitable[object]]],
    rounds: int,
    per_round: int,
) -> dict[str, Sample]:
    samples: dict[str, Sample] = {name: [] for name in [*sync_cands, *async_cands]}
    loop = asyncio.new_event_loop()

    async def timed_async(fn: Callable[[], Awaitable[object]], out: Sample) -> None:
        for _ in range(per_round):
            t = time.perf_counter()
            await fn()
            out.append(time.perf_counter() - t)

    try:
        for fn in sync_cands.values():  # warm-up: connections, keys
            fn()
        for afn in async_cands.values():
            loop.run_until_complete(afn())
        for _ in range(rounds):
            for name, fn in sync_cands.items():
                out = samples[name]
                for _ in range(per_round):
                    t = time.perf_counter()
                    fn()
                    out.append(time.perf_counter() - t)
            for name, afn in async_cands.items():
                loop.run_until_complete(timed_async(afn, samples[name]))
    finally:
        loop.close()
    return samples


def bare_client(base: str) -> Callable[[str, dict[str, str]], bytes]:
    u = urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname or "localhost", u.port or 80, timeout=30)

    def get(path: str, headers: dict[str, str]) -> bytes:
        try:
            conn.request("GET", path, headers=headers)
            return conn.getresponse().read()
        except (http.client.RemoteDisconnected, ConnectionError):
            conn.close()  # the server closed the idle connection: once more on a new one
            conn.request("GET", path, headers=headers)
            return conn.getresponse().read()

    return get


def bare_async_client(base: str) -> Callable[[str, dict[str, str]], Awaitable[bytes]]:
    """The least an asyncio round trip can do: streams, Content-Length framing only."""
    u = urlsplit(base)
    state: dict[str, Any] = {}

    async def get(path: str, headers: dict[str, str]) -> bytes:
        for attempt in (1, 2):  # the server may have closed the idle connection: once more
            if "rw" not in state:
                state["rw"] = await asyncio.open_connection(u.hostname, u.port or 80)
            reader, writer = state["rw"]
            lines = [f"GET {path} HTTP/1.1", f"Host: {u.netloc}"]
            lines += [f"{k}: {v}" for k, v in headers.items()]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                del state["rw"]
                if attempt == 2:
                    raise
                continue
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            data: bytes = await reader.readexactly(length)
            return data
        raise AssertionError("unreachable")

    return get


def bench_jwt(settings: HallpassSettings, token: str, seconds: float) -> None:
    print("\nJWT verifications per second (one process, one thread)")
    fresh = settings.with_(jwt_cache_size=0)  # every verification checks the signature
    verifier, cached = Verifier(fresh), Verifier(settings)
    key = verifier.key_for(token)
    cached.verify(token)
    iss, aud = settings.expected_issuer, settings.expected_audience
    averifier = AsyncVerifier(fresh)
    loop = asyncio.new_event_loop()
    loop.run_until_complete(averifier.verify(token))

    def many_bare(n: int) -> None:
        for _ in range(n):
            jwt.decode(token, key, algorithms=["EdDSA"], issuer=iss, audience=aud)

    def many(v: Verifier) -> Callable[[int], None]:
        def run(n: int) -> None:
            for _ in range(n):
                v.verify(token)

        return run

    async def many_async(n: int) -> None:
        for _ in range(n):
            await averifier.verify(token)

    def rate(fn: Callable[[int], None], slice_seconds: float) -> float:
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < slice_seconds:
            fn(100)
            n += 100
        return n / (time.perf_counter() - start)

    candidates: dict[str, Callable[[int], None]] = {
        "PyJWT alone (jwt.decode)": many_bare,
        "hallpass-auth Verifier": many(verifier),
        "hallpass-auth AsyncVerifier": lambda n: loop.run_until_complete(many_async(n)),
        "hallpass-auth, token seen before": many(cached),
    }
    # Short slices, taken in turn, best slice kept: noise on a busy machine only slows down.
    results = dict.fromkeys(candidates, 0.0)
    slices = 15
    for _ in range(slices):
        for name, fn in candidates.items():
            results[name] = max(results[name], rate(fn, seconds / slices / len(candidates)))
    loop.close()
    base = results["PyJWT alone (jwt.decode)"]
    for name, value in results.items():
        print(f"  {name:36s} {value:9.0f}/s   ({value / base:.2f} of PyJWT alone)")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("url", help="hallpass base URL, e.g. http://127.0.0.1:4000")
    parser.add_argument("--internal-secret", default=os.environ.get("HALLPASS_INTERNAL_SECRET"))
    parser.add_argument("--issuer", help="JWT iss/aud when the URL is not hallpass's base URL")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--per-round", type=int, default=200)
    parser.add_argument("--jwt-seconds", type=float, default=3.0)
    parser.add_argument("--compare", action="store_true", help="also httpx, httpx2, aiohttp")
    args = parser.parse_args()
    base = args.url.rstrip("/")

    email = f"bench-{secrets.token_hex(6)}@example.com"
    signed = call(
        base,
        "POST",
        "/api/auth/sign-up/email",
        {
            "name": "Bench",
            "email": email,
            "password": secrets.token_hex(12),
            "software_background": "advanced",
        },
    )
    session_token = signed["token"]
    token = call(base, "GET", "/api/auth/token", token=session_token)["token"]
    issuer = args.issuer or jwt.decode(token, options={"verify_signature": False})["iss"]
    settings = HallpassSettings(
        url=base, internal_secret=args.internal_secret, issuer=issuer, session_cache_ttl=0
    )
    print(f"hallpass {base}, Python {sys.version.split()[0]}, PyJWT {jwt.__version__}")

    bench_jwt(settings, token, args.jwt_seconds)

    # ---- strict check, session token: get-session -------------------------------------------
    auth = Authenticator(settings)
    aauth = AsyncAuthenticator(settings)
    bare = bare_client(base)
    session_cred = Credential(session_token, "authorization")
    bearer = {"Authorization": f"Bearer {session_token}"}
    sync_c: dict[str, Callable[[], object]] = {
        "bare http.client (keep-alive)": lambda: bare("/api/auth/get-session", bearer),
        "hallpass-auth sync (strict)": lambda: auth.authenticate(session_cred, strict=True),
    }
    bare_async = bare_async_client(base)
    async_c: dict[str, Callable[[], Awaitable[object]]] = {
        "hallpass-auth async (strict)": lambda: aauth.authenticate(session_cred, strict=True),
        "(floor: bare asyncio streams)": lambda: bare_async("/api/auth/get-session", bearer),
    }
    if args.compare:
        add_compare(base, "/api/auth/get-session", bearer, sync_c, async_c)
    print(
        f"\nStrict check of a session token (GET /api/auth/get-session), "
        f"{args.rounds} x {args.per_round} each, interleaved"
    )
    s = run_interleaved(sync_c, async_c, args.rounds, args.per_round)
    baseline = s["bare http.client (keep-alive)"]
    for name, samples in s.items():
        report(name, samples, baseline)

    # ---- strict check, JWT: /internal/user, verified while hallpass answers ---------------------
    if args.internal_secret:
        status = internal_status(base, args.internal_secret, token)
        if status != 200:
            print(f"\n(/internal/user answered {status}: JWT strict check skipped)")
            return 0
        jwt_cred = Credential(token, "authorization")
        ih = {"Authorization": f"Bearer {token}", "X-Internal-Secret": args.internal_secret}
        fresh = settings.with_(jwt_cache_size=0)
        auth0, aauth0 = Authenticator(fresh), AsyncAuthenticator(fresh)
        sync_c = {
            "bare http.client (keep-alive)": lambda: bare("/internal/user", ih),
            "hallpass-auth sync (strict JWT)": lambda: auth.authenticate(jwt_cred, strict=True),
            "  every signature checked": lambda: auth0.authenticate(jwt_cred, strict=True),
        }
        async_c = {
            "hallpass-auth async (strict JWT)": lambda: aauth.authenticate(jwt_cred, strict=True),
            "  every signature checked ": lambda: aauth0.authenticate(jwt_cred, strict=True),
        }
        print(
            "\nStrict check of a JWT (verify offline + GET /internal/user), interleaved;"
            "\n(the same token each time: verified once, then from the cache, unless marked)"
        )
        s = run_interleaved(sync_c, async_c, args.rounds, args.per_round)
        baseline = s["bare http.client (keep-alive)"]
        for name, samples in s.items():
            report(name, samples, baseline)
    return 0


def internal_status(base: str, secret: str, token: str) -> int:
    u = urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname or "localhost", u.port or 80, timeout=30)
    conn.request(
        "GET",
        "/internal/user",
        headers={"Authorization": f"Bearer {token}", "X-Internal-Secret": secret},
    )
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp.status


def _get_content(client: Any, path: str, headers: dict[str, str]) -> object:
    return client.get(path, headers=headers).content


def add_compare(
    base: str,
    path: str,
    headers: dict[str, str],
    sync_c: dict[str, Callable[[], object]],
    async_c: dict[str, Callable[[], Awaitable[object]]],
) -> None:
    import importlib

    for module_name in ("httpx", "httpx2"):
        try:
            module: Any = importlib.import_module(module_name)
        except ImportError:
            print(f"({module_name} not installed: skipped)")
            continue
        client = module.Client(base_url=base)
        sync_c[f"{module_name}.Client"] = partial(_get_content, client, path, headers)
        holder: dict[str, Any] = {}

        async def hxa(m: Any = module, h: dict[str, Any] = holder) -> object:
            if "c" not in h:
                h["c"] = m.AsyncClient(base_url=base)
            return (await h["c"].get(path, headers=headers)).content

        async_c[f"{module_name}.AsyncClient"] = hxa
    try:
        # Imported by name: an optional comparison, not a dependency (mypy need not know it).
        aiohttp: Any = importlib.import_module("aiohttp")
    except ImportError:
        print("(aiohttp not installed: skipped)")
    else:
        aholder: dict[str, Any] = {}

        async def aio() -> object:
            if "s" not in aholder:
                aholder["s"] = aiohttp.ClientSession(base)
            async with aholder["s"].get(path, headers=headers) as r:
                return await r.read()

        async_c["aiohttp.ClientSession"] = aio


if __name__ == "__main__":
    raise SystemExit(main())
