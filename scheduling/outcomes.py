"""Outcome of a use-case that creates or edits something: the object, or errors by field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Result(Generic[T]):
    """``value`` when it worked; else ``errors``: parameter name -> French message.

    The keys are the use-case's parameter names, so a form can show each message next to
    its field ("__all__" for a message about the whole request).
    """

    value: T | None = None
    errors: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors and self.value is not None

    @property
    def message(self) -> str:
        """All errors in one sentence, for a flash message."""
        return " ".join(self.errors.values())


def failed(errors: Mapping[str, str]) -> Result[T]:
    return Result(value=None, errors=dict(errors))


def succeeded(value: T) -> Result[T]:
    return Result(value=value)
