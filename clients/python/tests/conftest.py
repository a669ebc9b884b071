"""Fixtures: a real hallpass binary started on a free port with a fresh SQLite database.

The binary is ``$HALLPASS_BIN``, else built with ``cargo build -p hallpass-server --bin hallpass``
from the repository root.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from hallpass_auth import HallpassSettings

REPO_ROOT = Path(__file__).resolve().parents[3]
SECRET = "python-tests-secret-0123456789-abcdefghijklmnop"
INTERNAL_SECRET = "python-tests-internal-secret-0123456789"
PASSWORD = "correct horse battery"
TRUSTED_ORIGIN = "http://localhost:3000"

sys.path.insert(0, str(Path(__file__).resolve().parent))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _hallpass_bin() -> Path:
    configured = os.environ.get("HALLPASS_BIN")
    if configured:
        path = Path(configured)
        if not path.is_file():
            pytest.exit(f"HALLPASS_BIN={configured} is not a file", returncode=2)
        return path
    if not shutil.which("cargo"):
        pytest.exit("set HALLPASS_BIN, or install cargo to build hallpass", returncode=2)
    subprocess.run(
        ["cargo", "build", "-p", "hallpass-server", "--bin", "hallpass"],
        cwd=REPO_ROOT,
        check=True,
    )
    meta = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(json.loads(meta.stdout)["target_directory"]) / "debug" / "hallpass"


@dataclass
class Account:
    """A signed-up user: the raw session token, the signed one, the cookie value, and the user."""

    email: str
    token: str
    signed_token: str
    cookie: str
    user: dict[str, Any]

    @property
    def bearer(self) -> str:
        return f"Bearer {self.token}"


@dataclass
class Hallpass:
    """A running hallpass process and helpers to drive it over HTTP and its CLI."""

    binary: Path
    workdir: Path
    port: int
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    _emails: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def database_url(self) -> str:
        return self.env["DATABASE_URL"]

    def settings(self, **changes: Any) -> HallpassSettings:
        base: dict[str, Any] = {"url": self.url, "internal_secret": INTERNAL_SECRET}
        base.update(changes)
        return HallpassSettings(**base)

    # -- process --------------------------------------------------------------------------
    def start(self) -> None:
        log = open(self.workdir / "hallpass.log", "ab")  # noqa: SIM115 - kept for the process
        self.process = subprocess.Popen(
            [str(self.binary), "serve"],
            env=self.env,
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"hallpass exited: {self.log_tail()}")
            try:
                status, _, _ = self.call("GET", "/api/auth/ok")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"hallpass did not start: {self.log_tail()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log_tail(self) -> str:
        path = self.workdir / "hallpass.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [str(self.binary), *args],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode != 0:
            raise RuntimeError(f"hallpass {' '.join(args)} failed: {done.stderr}")
        return done.stdout + done.stderr

    def rotate_keys(self) -> None:
        """``hallpass keys rotate`` against the same database, as an operator would."""
        self.cli("keys", "rotate")

    # -- HTTP -----------------------------------------------------------------------------
    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        data = None if body is None else json.dumps(body).encode()
        hdrs = {"content-type": "application/json", **(headers or {})}
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                raw = resp.read()
                status, resp_headers = resp.status, dict(resp.headers.items())
        except urllib.error.HTTPError as err:
            raw = err.read()
            status, resp_headers = err.code, dict(err.headers.items())
        lowered = {k.lower(): v for k, v in resp_headers.items()}
        return status, lowered, (json.loads(raw) if raw else None)

    def new_email(self, prefix: str = "reader") -> str:
        return f"{prefix}-{os.getpid()}-{next(self._emails)}-{time.time_ns()}@example.com"

    def sign_up(self, name: str = "Ada Lovelace", **profile: Any) -> Account:
        email = self.new_email()
        status, headers, body = self.call(
            "POST",
            "/api/auth/sign-up/email",
            {"name": name, "email": email, "password": PASSWORD, **profile},
        )
        assert status == 200, body
        cookie = headers["set-cookie"].split(";", 1)[0].split("=", 1)[1]
        return Account(email, body["token"], headers["set-auth-token"], cookie, body["user"])

    def jwt(self, account: Account) -> str:
        status, _, body = self.call(
            "GET", "/api/auth/token", headers={"authorization": account.bearer}
        )
        assert status == 200, body
        return str(body["token"])

    def jwks(self) -> dict[str, Any]:
        _, _, body = self.call("GET", "/api/auth/jwks")
        return dict(body)

    def revoke(self, account: Account) -> None:
        status, _, body = self.call(
            "POST",
            "/api/auth/revoke-session",
            {"token": account.token},
            headers={"authorization": account.bearer},
        )
        assert status == 200, body


def _spawn(binary: Path, extra_config: str = "", **env: str) -> Hallpass:
    workdir = Path(tempfile.mkdtemp(prefix="hallpass-py-"))
    port = free_port()
    full_env = {
        "PATH": os.environ.get("PATH", ""),
        "HALLPASS_LISTEN": f"127.0.0.1:{port}",
        "HALLPASS_BASE_URL": f"http://localhost:{port}",
        "HALLPASS_SECRET": SECRET,
        "HALLPASS_INTERNAL_SECRET": INTERNAL_SECRET,
        "HALLPASS_TRUSTED_ORIGINS": TRUSTED_ORIGIN,
        "DATABASE_URL": f"sqlite://{workdir / 'hallpass.db'}",
        "RUST_LOG": "warn",
        **env,
    }
    if extra_config:
        (workdir / "hallpass.toml").write_text(extra_config)
        full_env["HALLPASS_CONFIG"] = str(workdir / "hallpass.toml")
    server = Hallpass(binary, workdir, port, full_env)
    server.start()
    return server


@pytest.fixture(scope="session")
def hallpass_bin() -> Path:
    return _hallpass_bin()


@pytest.fixture(scope="session")
def hallpass(hallpass_bin: Path) -> Iterator[Hallpass]:
    """The hallpass every test shares (tests make their own users)."""
    server = _spawn(hallpass_bin)
    yield server
    server.stop()
    shutil.rmtree(server.workdir, ignore_errors=True)


@pytest.fixture
def spawn_hallpass(hallpass_bin: Path) -> Iterator[Any]:
    """Start a hallpass of the test's own (another configuration, or one to stop)."""
    started: list[Hallpass] = []

    def spawn(extra_config: str = "", **env: str) -> Hallpass:
        server = _spawn(hallpass_bin, extra_config, **env)
        started.append(server)
        return server

    yield spawn
    for server in started:
        server.stop()
        shutil.rmtree(server.workdir, ignore_errors=True)


@pytest.fixture
def account(hallpass: Hallpass) -> Account:
    return hallpass.sign_up(software_background="intermediate", hardware_background="beginner")


@pytest.fixture
def dead_url() -> str:
    """A URL where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"
