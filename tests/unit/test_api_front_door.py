"""The API's front door without a database: authentication before the body, body caps, NUL
characters, a database outage, signed cursors, and the HTTP server's read deadline."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from api.app import create_app
from api.cursors import CursorCodec
from api.queries import Cursor
from phoneunify import httpserver
from phoneunify.db import make_engine
from phoneunify.settings import Settings
from tests.fakes import FakePublisher

TOKEN = "front-door-token-0001"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def settings() -> Settings:
    return Settings(
        phone_hash_key="front-door-hash-key",
        api_tokens=(f"ops:{TOKEN}",),
        api_max_body_bytes=4096,
        # A PostgreSQL nobody serves: every query fails as during an outage.
        database_url=f"postgresql+psycopg2://u:p@127.0.0.1:{_closed_port()}/nowhere",
    )


@pytest.fixture
def app(settings: Settings) -> Any:
    return create_app(settings, make_engine(settings.database_url), FakePublisher(), CollectorRegistry())


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _call(app: Any, path: str, headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> tuple[int, int]:
    """Run one request straight through the ASGI app; returns (status, chunks the app read)."""
    read = 0

    async def receive() -> dict[str, Any]:
        nonlocal read
        if read < len(chunks):
            read += 1
            return {"type": "http.request", "body": chunks[read - 1], "more_body": read < len(chunks)}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8090),
        "state": {},
    }
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], read


def test_an_anonymous_post_is_refused_before_a_byte_of_its_body_is_read(app: Any) -> None:
    huge = [b"x" * 1_000_000] * 150  # a 150 MB body the API must never hold
    status, read = _call(app, "/api/v1/admin/commands", [(b"content-length", b"150000000")], huge)
    assert (status, read) == (401, 0)


def test_a_declared_body_over_the_cap_is_413_unread(app: Any) -> None:
    headers = [(b"authorization", f"Bearer {TOKEN}".encode()), (b"content-length", b"999999")]
    assert _call(app, "/api/v1/admin/commands", headers, [b"x" * 999_999]) == (413, 0)


def test_a_chunked_body_is_read_only_up_to_the_cap(app: Any) -> None:
    headers = [(b"authorization", f"Bearer {TOKEN}".encode()), (b"transfer-encoding", b"chunked")]
    status, read = _call(app, "/api/v1/admin/commands", headers, [b"x" * 1000] * 1000)
    assert status == 413
    assert read == 5  # 5,000 bytes: just past the 4 KiB cap, not the megabyte sent


def test_the_console_gets_its_own_login_but_the_body_cap_all_the_same(client: TestClient) -> None:
    # No bearer token needed under /console/ (its session check is its own): not a 401.
    assert client.get("/console/").status_code != 401
    response = client.post("/console/login", content=b"token=" + b"x" * 10_000)
    assert response.status_code == 413
    assert response.json() == {"error": "body larger than 4096 bytes"}


@pytest.mark.parametrize("path", ["/api/v1/admin/commands/%00", "/api/v1/customers?phone=%00916"])
def test_a_nul_character_is_a_400_not_a_500(client: TestClient, path: str) -> None:
    response = client.get(path, headers=AUTH)
    assert response.status_code == 400
    assert "NUL" in response.json()["error"]


def test_a_command_id_of_odd_characters_is_400(client: TestClient) -> None:
    response = client.get("/api/v1/admin/commands/a b;c", headers=AUTH)
    assert response.status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/customers?phone=9165551234",
        f"/api/v1/customers/{uuid.uuid4()}/timeline",
        f"/api/v1/customers/{uuid.uuid4()}/ledger",
        "/api/v1/review/threads",
        "/api/v1/review/conflicts",
        f"/api/v1/admin/commands/{uuid.uuid4()}",
    ],
)
def test_a_database_outage_is_503_json_without_a_traceback(client: TestClient, path: str) -> None:
    response = client.get(path, headers=AUTH)
    assert response.status_code == 503
    assert response.json() == {"error": "the database is unavailable; retry later"}
    assert response.headers["retry-after"] == "5"
    assert "Traceback" not in response.text


def test_an_unexpected_error_is_a_plain_500_json(settings: Settings) -> None:
    class Broken:
        def connect(self) -> None:
            raise RuntimeError("a bug, with a secret: postgresql://u:pw@h/db")

    app = create_app(settings, Broken(), FakePublisher(), CollectorRegistry())  # type: ignore[arg-type]
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/review/threads", headers=AUTH)
    assert response.status_code == 500
    assert response.json() == {"error": "internal error"}


# --- cursors -------------------------------------------------------------------------------------


def test_only_a_cursor_this_api_signed_is_accepted() -> None:
    codec = CursorCodec(b"k" * 32)
    cursor = Cursor(datetime(2026, 3, 6, 17, tzinfo=UTC), uuid.uuid4())
    issued = codec.encode(cursor)
    assert codec.decode(issued) == cursor
    position, _, mac = issued.rpartition(".")
    hand_made = Cursor(datetime(2020, 1, 1, tzinfo=UTC), cursor.id).encode()
    for forged in (
        position,  # a well-formed position without a signature (what the API used to accept)
        f"{hand_made}.{mac}",  # another position under a genuine signature
        f"{position}.{mac[:-2]}AA",
        issued + "x",
        "",
    ):
        with pytest.raises(ValueError, match="not a cursor this API issued"):
            codec.decode(forged)
    with pytest.raises(ValueError):
        CursorCodec(b"another key").decode(issued)


# --- the read deadline of the HTTP servers ------------------------------------------------------


async def _hello(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
def slow_server() -> Iterator[int]:
    """A real server on loopback with phoneunify's HTTP settings and a 0.5 s read deadline."""
    port = _closed_port()
    config = httpserver.config(_hello, host="127.0.0.1", port=port, read_timeout_s=0.5, keepalive_s=5)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


def _cut_off(sock: socket.socket, trickle: bytes) -> bool:
    """Trickle bytes slowly; True once the server has closed the connection (within 30 s)."""
    sock.settimeout(0.2)
    deadline = time.monotonic() + 30
    for byte in trickle:
        if time.monotonic() > deadline:
            return False
        try:
            sock.sendall(bytes([byte]))
            if sock.recv(1024) == b"":
                return True
        except TimeoutError:
            continue
        except OSError:  # reset or broken pipe: closed by the server
            return True
    return False


@pytest.mark.parametrize(
    "trickle",
    [
        b"",  # connects and sends nothing
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10_000,  # headers that never end
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + b"b" * 100_000,  # a slow body
    ],
)
def test_a_slow_client_is_cut_off(slow_server: int, trickle: bytes) -> None:
    with socket.create_connection(("127.0.0.1", slow_server)) as sock:
        if not trickle:
            sock.settimeout(30)
            assert sock.recv(1) == b""
        else:
            assert _cut_off(sock, trickle)
    # ... while a client that sends its request at once is served.
    with socket.create_connection(("127.0.0.1", slow_server), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(1024).startswith(b"HTTP/1.1 200")


def test_the_deadline_holds_for_the_next_request_on_a_kept_alive_connection(slow_server: int) -> None:
    with socket.create_connection(("127.0.0.1", slow_server), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(1024).startswith(b"HTTP/1.1 200")
        assert _cut_off(sock, b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10_000)
