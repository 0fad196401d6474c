"""Database errors are logged (webapp/errors.py) with their message: it must not carry the
query's values (names, addresses, password hashes)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session as DbSession

from scheduling.models import User


def test_a_failed_query_s_message_hides_its_values(db: DbSession, make_user) -> None:
    user = make_user(username="jeanne.delmas", email="jeanne@example.org")
    db.commit()
    db.add(
        User(
            centre_id=user.centre_id,
            username="jeanne.delmas",  # taken: the insert fails
            password_hash="scrypt:secret-hash",
            role=user.role,
            display_name="Jeanne Delmas",
            email="jeanne@example.org",
            active=True,
        )
    )
    with pytest.raises(StatementError) as failure:
        db.commit()
    db.rollback()
    message = str(failure.value)
    assert "parameters hidden" in message
    for value in ("Jeanne Delmas", "jeanne@example.org", "secret-hash"):
        assert value not in message
    assert db.scalar(select(User.id).where(User.id == user.id)) == user.id
