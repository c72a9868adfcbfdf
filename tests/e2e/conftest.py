"""End-to-end fixtures: the local stack in this process, on a free port, against the test database.

`DATABASE_URL` is already set by the `database_url` fixture, so the stack uses
that database instead of starting an embedded server of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reckoning_local.stack import Stack, StackOptions

StartStack = Callable[..., Stack]


@pytest.fixture
def start_stack(database_url: str, tmp_path: Path) -> Iterator[StartStack]:
    """Start a stack with `StackOptions` overrides (free port, state in tmp_path); stopped after the test."""
    started: list[Stack] = []

    def start(**overrides: Any) -> Stack:
        options = StackOptions(port=0, state_dir=tmp_path / "state", schedules=False)
        for name, value in overrides.items():
            setattr(options, name, value)
        stack = Stack(options).start()
        started.append(stack)
        return stack

    yield start
    for stack in reversed(started):
        stack.stop()


@pytest.fixture
def stack(start_stack: StartStack) -> Stack:
    """The template's HTTP API (no SQS pollers: these tests do not need them, and stop faster)."""
    return start_stack(pollers=False)
