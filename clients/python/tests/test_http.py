"""The kept-alive HTTP/1.1 client, sync and async, against a scriptable server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from hallpass_auth._http import MAX_BODY, AsyncHTTP, SyncHTTP, TransportError

from fakes import FakeServer, Request, http_response

BODY = {"session": None, "text": "x" * 100}


def echo(req: Request) -> bytes:
    if req.path.startswith("/chunked"):
        return http_response(200, BODY, chunked=True)
    if req.path.startswith("/until-close"):
        return http_response(200, BODY, {"Connection": "close"}, length=False)
    if req.path.startswith("/empty"):
        return http_response(204, None, length=False)
    if req.path.startswith("/too-big"):
        return http_response(200, b"x" * (MAX_BODY + 1))
    if req.path.startswith("/garbage"):
        return b"SMTP ready\r\n\r\n"
    if req.path.startswith("/hang-up"):
        return None  # type: ignore[return-value]
    return http_response(200, {"path": req.path, "auth": req.headers.get("authorization")})


@pytest.fixture
def server() -> Iterator[FakeServer]:
    s = FakeServer(echo)  # type: ignore[arg-type]
    yield s
    s.close()


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


# ---- sync ------------------------------------------------------------------------------------


def test_sync_reads_a_content_length_body_and_keeps_the_connection(server: FakeServer) -> None:
    http = SyncHTTP(server.url)
    for i in range(5):
        resp = http.request("GET", f"/n/{i}", {"Authorization": "Bearer t"})
        assert resp.status == 200
        assert resp.json() == {"path": f"/n/{i}", "auth": "Bearer t"}
    assert server.connections == 1
    assert server.requests[0].headers["host"] == f"127.0.0.1:{server.port}"


def test_sync_reads_a_chunked_body(server: FakeServer) -> None:
    http = SyncHTTP(server.url)
    assert http.request("GET", "/chunked").json() == BODY
    assert http.request("GET", "/chunked").json() == BODY
    assert server.connections == 1


def test_sync_reads_a_body_ended_by_close_and_reconnects(server: FakeServer) -> None:
    http = SyncHTTP(server.url)
    assert http.request("GET", "/until-close").json() == BODY
    assert http.request("GET", "/n").status == 200
    assert server.connections == 2


def test_sync_retries_once_when_a_kept_alive_connection_went_stale(server: FakeServer) -> None:
    http = SyncHTTP(server.url)
    server.close_after_response = True  # the server drops idle connections silently
    for _ in range(3):
        assert http.request("GET", "/n").status == 200
    assert server.connections == 3


def test_sync_does_not_retry_a_post_on_a_stale_connection(server: FakeServer) -> None:
    http = SyncHTTP(server.url)
    server.close_after_response = True
    http.request("GET", "/n")
    with pytest.raises(TransportError):
        http.request("POST", "/n", {}, b"{}")


def test_sync_times_out(server: FakeServer) -> None:
    server.delay = 0.5
    http = SyncHTTP(server.url, timeout=0.1)
    with pytest.raises(TransportError):
        http.request("GET", "/slow")


def test_sync_refused_connection_is_a_transport_error(dead_url: str) -> None:
    with pytest.raises(TransportError):
        SyncHTTP(dead_url).request("GET", "/")


def test_sync_refuses_an_oversized_body(server: FakeServer) -> None:
    with pytest.raises(TransportError):
        SyncHTTP(server.url).request("GET", "/too-big")


def test_sync_refuses_a_non_http_answer(server: FakeServer) -> None:
    with pytest.raises(TransportError):
        SyncHTTP(server.url).request("GET", "/garbage")


def test_sync_reads_a_no_content_answer(server: FakeServer) -> None:
    resp = SyncHTTP(server.url).request("GET", "/empty")
    assert (resp.status, resp.body) == (204, b"")


def test_sync_keeps_the_base_path(server: FakeServer) -> None:
    http = SyncHTTP(server.url + "/auth-server/")
    assert http.request("GET", "/x").json()["path"] == "/auth-server/x"


def test_sync_overlaps_work_between_send_and_result(server: FakeServer) -> None:
    http = SyncHTTP(server.url)
    pending = http.send("GET", "/first")
    assert pending.result().json()["path"] == "/first"


def test_sync_closed_client_refuses(server: FakeServer) -> None:
    http = SyncHTTP(server.url)
    http.close()
    with pytest.raises(TransportError):
        http.request("GET", "/n")


# ---- async -----------------------------------------------------------------------------------


def test_async_reads_a_content_length_body_and_keeps_the_connection(server: FakeServer) -> None:
    async def go() -> None:
        http = AsyncHTTP(server.url)
        for i in range(5):
            resp = await http.request("GET", f"/n/{i}", {"Authorization": "Bearer t"})
            assert resp.json() == {"path": f"/n/{i}", "auth": "Bearer t"}
        await http.aclose()

    run(go())
    assert server.connections == 1


def test_async_reads_a_chunked_body_with_extensions_and_trailers(server: FakeServer) -> None:
    async def go() -> None:
        http = AsyncHTTP(server.url)
        assert (await http.request("GET", "/chunked")).json() == BODY
        assert (await http.request("GET", "/chunked")).json() == BODY

    run(go())
    assert server.connections == 1


def test_async_reads_a_body_ended_by_close(server: FakeServer) -> None:
    async def go() -> None:
        http = AsyncHTTP(server.url)
        assert (await http.request("GET", "/until-close")).json() == BODY
        assert (await http.request("GET", "/n")).status == 200

    run(go())
    assert server.connections == 2


def test_async_retries_once_when_a_kept_alive_connection_went_stale(server: FakeServer) -> None:
    server.close_after_response = True

    async def go() -> None:
        http = AsyncHTTP(server.url)
        for _ in range(3):
            assert (await http.request("GET", "/n")).status == 200
            await asyncio.sleep(0)  # sometimes the loop sees the close first, sometimes not

    run(go())
    assert server.connections == 3


def hang_up_on_second_request_of_first_connection(req: Request) -> bytes | None:
    """As a server that closes an idle connection just as a new request arrives on it."""
    if req.connection == 1 and req.path != "/a":
        return None
    return http_response(200, {"path": req.path})


def test_sync_connection_closed_with_the_request_in_flight_is_retried() -> None:
    server = FakeServer(hang_up_on_second_request_of_first_connection)
    try:
        http = SyncHTTP(server.url)
        assert http.request("GET", "/a").status == 200
        assert http.request("GET", "/b").json() == {"path": "/b"}
        assert server.connections == 2
    finally:
        server.close()


def test_async_connection_closed_with_the_request_in_flight_is_retried() -> None:
    server = FakeServer(hang_up_on_second_request_of_first_connection)

    async def go() -> None:
        http = AsyncHTTP(server.url)
        assert (await http.request("GET", "/a")).status == 200
        assert (await http.request("GET", "/b")).json() == {"path": "/b"}

    try:
        run(go())
        assert server.connections == 2
    finally:
        server.close()


@pytest.mark.parametrize("side", ["sync", "async"])
def test_a_post_is_not_retried_when_the_connection_closes_in_flight(side: str) -> None:
    server = FakeServer(hang_up_on_second_request_of_first_connection)

    async def go() -> None:
        http = AsyncHTTP(server.url)
        await http.request("GET", "/a")
        with pytest.raises(TransportError):
            await http.request("POST", "/b", {}, b"{}")

    try:
        if side == "sync":
            sync = SyncHTTP(server.url)
            sync.request("GET", "/a")
            with pytest.raises(TransportError):
                sync.request("POST", "/b", {}, b"{}")
        else:
            run(go())
        assert server.connections == 1
    finally:
        server.close()


def test_async_times_out(server: FakeServer) -> None:
    server.delay = 0.5

    async def go() -> None:
        with pytest.raises(TransportError):
            await AsyncHTTP(server.url, timeout=0.1).request("GET", "/slow")

    run(go())


def test_async_refused_connection_is_a_transport_error(dead_url: str) -> None:
    async def go() -> None:
        with pytest.raises(TransportError):
            await AsyncHTTP(dead_url).request("GET", "/")

    run(go())


def test_async_refuses_an_oversized_body_and_a_non_http_answer(server: FakeServer) -> None:
    async def go() -> None:
        http = AsyncHTTP(server.url)
        with pytest.raises(TransportError):
            await http.request("GET", "/too-big")
        with pytest.raises(TransportError):
            await http.request("GET", "/garbage")
        with pytest.raises(TransportError):
            await http.request("GET", "/hang-up")

    run(go())


def test_async_reads_a_no_content_answer(server: FakeServer) -> None:
    async def go() -> None:
        resp = await AsyncHTTP(server.url).request("GET", "/empty")
        assert (resp.status, resp.body) == (204, b"")

    run(go())


def test_async_pool_starts_afresh_on_another_event_loop(server: FakeServer) -> None:
    http = AsyncHTTP(server.url)

    async def go() -> int:
        return (await http.request("GET", "/n")).status

    assert run(go()) == 200
    assert run(go()) == 200  # a second loop: the first loop's connection is not used
    assert server.connections == 2


def test_async_refuses_header_injection(server: FakeServer) -> None:
    async def go() -> None:
        with pytest.raises(ValueError):
            await AsyncHTTP(server.url).request("GET", "/n", {"X": "a\r\nEvil: 1"})

    run(go())


def test_async_concurrent_requests_use_several_connections(server: FakeServer) -> None:
    server.delay = 0.05

    async def go() -> None:
        http = AsyncHTTP(server.url)
        answers = await asyncio.gather(*(http.request("GET", f"/n/{i}") for i in range(4)))
        assert [a.json()["path"] for a in answers] == [f"/n/{i}" for i in range(4)]
        assert (await http.request("GET", "/again")).status == 200

    run(go())
    assert server.connections == 4
