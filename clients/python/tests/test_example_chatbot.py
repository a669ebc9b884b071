"""The example chatbot backend (examples/chatbot-backend) beside a real hallpass."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from conftest import REPO_ROOT, Account, Hallpass, free_port

EXAMPLE = REPO_ROOT / "examples" / "chatbot-backend"
sys.path.insert(0, str(EXAMPLE))

import main as chatbot  # noqa: E402  (the example's module, from its folder)


@pytest.fixture
def app(hallpass: Hallpass) -> FastAPI:
    return chatbot.create_app(hallpass.settings(), strict=False)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def ask(client: TestClient, credential: str, question: str) -> Any:
    resp = client.post(
        "/chat", json={"question": question}, headers={"Authorization": f"Bearer {credential}"}
    )
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_chat_answers_with_the_readers_name_and_level(
    hallpass: Hallpass, client: TestClient
) -> None:
    novice = hallpass.sign_up("Nia", software_background="none", hardware_background="beginner")
    expert = hallpass.sign_up("Ravi", software_background="advanced")
    question = "How do I write a Python function that retries?"

    a = ask(client, hallpass.jwt(novice), question)
    b = ask(client, hallpass.jwt(expert), question)

    assert a["answer"].startswith("Hi Nia!")
    assert b["answer"].startswith("Hi Ravi!")
    assert (a["topic"], a["level"], b["level"]) == ("software", "none", "advanced")
    assert a["answer"] != b["answer"].replace("Ravi", "Nia")
    assert a["user"] == {
        "id": novice.user["id"],
        "name": "Nia",
        "email": novice.email,
        "software_background": "none",
        "hardware_background": "beginner",
    }
    assert "Software background: none (their own answer)" in a["context"]
    assert ask(client, hallpass.jwt(novice), question) == a  # deterministic


def test_hardware_questions_use_the_hardware_level(hallpass: Hallpass, client: TestClient) -> None:
    reader = hallpass.sign_up(software_background="advanced")  # no hardware answer
    answer = ask(client, reader.token, "Which motor driver and sensor wiring for my robot?")
    assert (answer["topic"], answer["level"]) == ("hardware", "beginner")


def test_whoami_with_the_session_cookie(client: TestClient, account: Account) -> None:
    client.cookies.set("better-auth.session_token", account.cookie)
    resp = client.get("/chat/whoami")
    assert resp.status_code == 200
    body = resp.json()
    assert body["levels"] == {"software": "intermediate", "hardware": "beginner"}
    assert body["strict"] is False


def test_chat_without_a_credential_is_401(client: TestClient) -> None:
    resp = client.post("/chat", json={"question": "hello"})
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"] == "Bearer"


def test_an_empty_question_is_422(client: TestClient, account: Account) -> None:
    resp = client.post(
        "/chat", json={"question": ""}, headers={"Authorization": f"Bearer {account.token}"}
    )
    assert resp.status_code == 422


def test_cors_allows_the_docs_site_with_credentials(client: TestClient) -> None:
    preflight = {
        "Origin": "http://localhost:3000",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    resp = client.options("/chat", headers=preflight)
    assert resp.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert resp.headers["access-control-allow-credentials"] == "true"
    resp = client.options("/chat", headers={**preflight, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in resp.headers


def test_strict_mode_refuses_a_revoked_session_at_once(
    hallpass: Hallpass, account: Account
) -> None:
    app = chatbot.create_app(hallpass.settings(), strict=True)
    with TestClient(app) as c:
        headers = {"Authorization": f"Bearer {account.token}"}
        assert c.get("/chat/whoami", headers=headers).json()["strict"] is True
        hallpass.revoke(account)
        assert c.get("/chat/whoami", headers=headers).status_code == 401


def test_runs_with_python_main_py_beside_hallpass(hallpass: Hallpass, account: Account) -> None:
    port = free_port()
    env = {
        **os.environ,
        "HALLPASS_URL": hallpass.url,
        "PORT": str(port),
        "CHATBOT_STRICT": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "main.py"],
        cwd=EXAMPLE,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request(
                    "GET",
                    "/chat/whoami",
                    headers={"Cookie": f"better-auth.session_token={account.cookie}"},
                )
                resp = conn.getresponse()
                body = json.loads(resp.read())
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "") from None
                time.sleep(0.1)
        assert resp.status == 200
        assert body["user"]["email"] == account.email
        assert body["strict"] is True
    finally:
        proc.terminate()
        proc.wait(10)


def test_example_files_exist() -> None:
    for name in ("README.md", "requirements.txt", "main.py", "answers.py"):
        assert (EXAMPLE / name).is_file(), name
    assert "../../clients/python" in (EXAMPLE / "requirements.txt").read_text()
    assert Path(chatbot.__file__).parent == EXAMPLE
