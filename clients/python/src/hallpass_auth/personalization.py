"""Turning a reader's profile into guidance for an answer.

:func:`content_level` picks the level to write at for one topic; :func:`personalization_context`
writes a short, deterministic paragraph a chatbot puts in front of its prompt. Both take a
:class:`~hallpass_auth.User` or ``None`` (a signed-out reader) and treat a missing or unknown
answer as the default level, ``beginner``: explaining a little too much is the safer mistake.
"""

from __future__ import annotations

from typing import Literal

from .models import User

__all__ = [
    "DEFAULT_LEVEL",
    "LEVELS",
    "Level",
    "Topic",
    "content_level",
    "personalization_context",
]

Level = Literal["none", "beginner", "intermediate", "advanced"]
Topic = Literal["software", "hardware"]

#: The levels hallpass offers by default, from least to most experienced.
LEVELS: tuple[Level, ...] = ("none", "beginner", "intermediate", "advanced")
#: The level assumed for a reader who gave no answer (or is signed out).
DEFAULT_LEVEL: Level = "beginner"

_TOPICS: tuple[Topic, ...] = ("software", "hardware")
_FIELDS: dict[Topic, str] = {
    "software": "software_background",
    "hardware": "hardware_background",
}

_GUIDANCE: dict[Topic, dict[Level, str]] = {
    "software": {
        "none": "has never programmed: avoid jargon, explain every programming idea in plain "
        "words, and show tiny, fully commented examples",
        "beginner": "is new to programming: define terms the first time they appear, go step by "
        "step, and keep code examples short and commented",
        "intermediate": "programs comfortably: skip the basics, show idiomatic code, and explain "
        "design choices and trade-offs",
        "advanced": "is an experienced engineer: be concise and precise, focus on internals, "
        "edge cases and performance, and leave out introductions",
    },
    "hardware": {
        "none": "has no hardware experience: describe physical components by what they do, use "
        "everyday analogies, and avoid electronics terms",
        "beginner": "knows a little hardware: name components and define them briefly, and "
        "explain how they connect before any detail",
        "intermediate": "has built hardware projects: discuss interfaces, timing and datasheet "
        "figures without defining the basics",
        "advanced": "is a hardware expert: go straight to specifications, signal-level detail, "
        "constraints and failure modes",
    },
}


def _answer(user: User | None, topic: Topic) -> Level | None:
    if user is None:
        return None
    value = user.profile.get(_FIELDS[topic])
    for level in LEVELS:
        if value == level:
            return level
    return None


def content_level(user: User | None, topic: Topic, *, default: Level = DEFAULT_LEVEL) -> Level:
    """The level to write at for ``topic`` (``"software"`` or ``"hardware"``): the reader's own
    answer, or ``default`` when they gave none (or a value this helper does not know)."""
    if topic not in _FIELDS:
        raise ValueError(f"topic must be 'software' or 'hardware', not {topic!r}")
    return _answer(user, topic) or default


def _clean_name(name: str) -> str:
    # The name is the reader's own free text: keep it to one short line.
    flat = " ".join("".join(c if c.isprintable() else " " for c in name).split())
    return flat[:60]


def personalization_context(user: User | None, *, default: Level = DEFAULT_LEVEL) -> str:
    """A short paragraph, the same for the same profile, that tells a model who it is answering
    and how to explain: the software and hardware levels to assume and what each means for the
    answer. Put it in front of the prompt (as a system message, say)."""
    name = _clean_name(user.name) if user is not None else ""
    who = f"The reader is {name}." if name else "The reader is not signed in."
    lines = [who]
    for topic in _TOPICS:
        answer = _answer(user, topic)
        level = answer or default
        source = "their own answer" if answer else "not answered, assumed"
        guidance = _GUIDANCE[topic][level]
        lines.append(f"{topic.capitalize()} background: {level} ({source}). The reader {guidance}.")
    software = content_level(user, "software", default=default)
    hardware = content_level(user, "hardware", default=default)
    if software != hardware:
        lower = min(software, hardware, key=LEVELS.index)
        lines.append(f"When a question mixes software and hardware, explain at the {lower} level.")
    return "\n".join(lines)
