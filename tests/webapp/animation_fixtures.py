"""Fixtures shared by the animator-page tests (imported by tests/webapp/test_animation_*.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from scheduling.models import Role
from tests.webapp.conftest import PASSWORD


@pytest.fixture
def animator(make_user: Callable[..., Any], world: Any) -> Any:
    return make_user(
        username="animatrice",
        display_name="Julie Bonnet",
        role=Role.animator,
        email="julie@crt.example",
        password=PASSWORD,
    )


@pytest.fixture
def as_animator(login: Callable[..., Any], animator: Any) -> Any:
    login(animator)
    return animator


def next_weekday(after: dt.date, weekday: int) -> dt.date:
    """The first date strictly after `after` that falls on `weekday` (0 = Monday)."""
    return after + dt.timedelta(days=(weekday - after.weekday() - 1) % 7 + 1)
