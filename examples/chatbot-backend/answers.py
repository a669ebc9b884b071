"""A stand-in for the model: a deterministic answer shaped by the reader's level.

A real backend sends ``personalization_context(user)`` and the question to a model. This one
composes the answer itself, so the example runs with nothing else installed and its output can
be tested: it greets the reader by name, picks the topic of the question (software or hardware),
and explains at the reader's level for that topic.
"""

from __future__ import annotations

import re

from hallpass_auth import Level, Topic, User, content_level

# Words that mark a question's topic (a real backend would let the model decide).
_HARDWARE_WORDS = frozenset(
    """actuator arduino battery board circuit current motor sensor servo voltage gpio i2c spi
    uart pcb fpga microcontroller robot robotics lidar imu camera torque pwm resistor capacitor
    transistor joint gripper encoder wiring solder chip embedded""".split()  # noqa: SIM905
)
_SOFTWARE_WORDS = frozenset(
    """code python function class api algorithm compile compiler bug debug variable loop
    library package install git test tests program programming script database server async
    thread type types ros node nodes topic software framework""".split()  # noqa: SIM905
)

_OPENINGS: dict[Level, str] = {
    "none": "Let's start from the very beginning, with no jargon.",
    "beginner": "Here is a step-by-step explanation; each new term is defined as it comes.",
    "intermediate": "Skipping the basics you already know, here is how it fits together.",
    "advanced": "In short, with the details that matter at your level:",
}

_BODIES: dict[Topic, dict[Level, str]] = {
    "software": {
        "none": "Think of a program as a recipe the computer follows exactly, one step at a "
        "time. We will look at what each step does before writing any of it.",
        "beginner": "We will write a small, commented example, run it, and change one thing at "
        "a time to see what each line does.",
        "intermediate": "We will look at the idiomatic way to structure it, the libraries that "
        "help, and the trade-offs between the common designs.",
        "advanced": "We will focus on the internals, the edge cases and the performance "
        "characteristics, and on where the usual abstractions leak.",
    },
    "hardware": {
        "none": "Think of the hardware as the body of the machine: parts that sense the world "
        "and parts that move. We will describe each part by what it does, like an everyday "
        "object.",
        "beginner": "We will name each component, say in one sentence what it does, and show "
        "how the parts connect before going into any detail.",
        "intermediate": "We will go through the interfaces, the timing and the figures from the "
        "datasheets that decide whether a design works.",
        "advanced": "We will go straight to the specifications, the signal-level behaviour, the "
        "constraints and the failure modes.",
    },
}


def topic_of(question: str) -> Topic:
    """``"hardware"`` when the question uses more hardware words than software words."""
    words = re.findall(r"[a-z0-9]+", question.lower())
    hardware = sum(w in _HARDWARE_WORDS for w in words)
    software = sum(w in _SOFTWARE_WORDS for w in words)
    return "hardware" if hardware > software else "software"


def compose_answer(question: str, user: User) -> str:
    """The answer a model might give, at the reader's level for the question's topic."""
    topic = topic_of(question)
    level = content_level(user, topic)
    name = " ".join(user.name.split())[:60] or "there"
    quoted = " ".join(question.split())
    if len(quoted) > 200:
        quoted = quoted[:197] + "..."
    return (
        f'Hi {name}! You asked: "{quoted}". '
        f"This reads as a {topic} question, and I will answer it at the {level} level. "
        f"{_OPENINGS[level]} {_BODIES[topic][level]}"
    )
