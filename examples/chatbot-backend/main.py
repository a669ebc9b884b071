"""The chatbot backend: a FastAPI app that knows who is asking and what they already know.

    uvicorn main:app --port 8000        # or: python main.py

Environment:
- ``HALLPASS_URL`` (default ``http://localhost:4000``): where hallpass is.
- ``HALLPASS_INTERNAL_SECRET``: hallpass's internal secret; lets strict mode check JWTs too.
- ``CHATBOT_STRICT=1``: confirm every request's session with hallpass (a revoked session is
  refused at once); by default a JWT is verified offline, with no call to hallpass.
- ``CHATBOT_ALLOWED_ORIGINS`` (default ``http://localhost:3000``): comma-separated origins of the
  docs site, allowed to call with credentials (CORS).
- ``PORT`` (default 8000) and ``HOST`` (default 127.0.0.1) for ``python main.py``.
"""

import os
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from pydantic import BaseModel, Field

from hallpass_auth import HallpassSettings, User, content_level, personalization_context
from hallpass_auth.fastapi import HallpassAuth

from answers import compose_answer, topic_of


class ChatRequest(BaseModel):
    """A reader's question."""

    question: str = Field(min_length=1, max_length=2000)


class Reader(BaseModel):
    """Who asked, as the chatbot sees them."""

    id: str
    name: str
    email: str
    software_background: str | None
    hardware_background: str | None


class ChatResponse(BaseModel):
    """The answer, who it was for, and the context a model would have been given."""

    answer: str
    user: Reader
    context: str
    topic: str
    level: str


class WhoAmI(BaseModel):
    """The reader, the levels the chatbot will assume, and the context it would use."""

    user: Reader
    levels: dict[str, str]
    context: str
    strict: bool


def _reader(user: User) -> Reader:
    return Reader(
        id=user.id,
        name=user.name,
        email=user.email,
        software_background=user.software_background,
        hardware_background=user.hardware_background,
    )


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def create_app(
    settings: HallpassSettings | None = None,
    *,
    strict: bool | None = None,
    allowed_origins: list[str] | None = None,
) -> FastAPI:
    """The app; arguments default to the environment (see the module's docstring)."""
    auth = HallpassAuth(settings)
    strict = _flag(os.environ.get("CHATBOT_STRICT")) if strict is None else strict
    if allowed_origins is None:
        raw = os.environ.get("CHATBOT_ALLOWED_ORIGINS", "http://localhost:3000")
        allowed_origins = [o.strip().rstrip("/") for o in raw.split(",") if o.strip()]

    app = FastAPI(title="chatbot backend (hallpass example)", lifespan=auth.lifespan)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=allowed_origins,
        allow_credentials=True,  # the docs site sends the hallpass session cookie
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type"],
    )
    # Offline JWT verification by default; CHATBOT_STRICT=1 asks hallpass on every request.
    CurrentReader = Annotated[User, Depends(auth.dependency(strict=strict))]

    @app.post("/chat")
    async def chat(body: ChatRequest, user: CurrentReader) -> ChatResponse:
        """Answer a question for the signed-in reader, at their level."""
        topic = topic_of(body.question)
        return ChatResponse(
            answer=compose_answer(body.question, user),
            user=_reader(user),
            context=personalization_context(user),
            topic=topic,
            level=content_level(user, topic),
        )

    @app.get("/chat/whoami")
    async def whoami(user: CurrentReader) -> WhoAmI:
        """Who the chatbot thinks is asking, and the levels it will assume."""
        return WhoAmI(
            user=_reader(user),
            levels={
                "software": content_level(user, "software"),
                "hardware": content_level(user, "hardware"),
            },
            context=personalization_context(user),
            strict=strict,
        )

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        """Liveness (does not call hallpass)."""
        return {"ok": True}

    return app


app = create_app()

if __name__ == "__main__":
    import uvicorn

    uvicorn.run(
        app,
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "8000")),
    )
