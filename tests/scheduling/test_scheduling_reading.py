"""Transactions begun to read only (`begin_reading`): public pages do not queue behind writers.

On SQLite every other transaction begins IMMEDIATE and holds the write lock until it ends; a
page that only reads must not wait for it (two web workers would otherwise show pages one at a
time), and must not write either.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from scheduling.db import begin_reading
from scheduling.models import Centre


def test_a_reader_sees_committed_data_while_a_writer_holds_its_transaction(
    session_factory: Callable[[], DbSession], centre: Centre
) -> None:
    with session_factory() as writer, session_factory() as reader:
        writer.get(Centre, centre.id).name = "Nom pas encore validé"  # type: ignore[union-attr]
        writer.flush()  # the writer's transaction is open (on SQLite: it holds the write lock)

        begin_reading(reader)  # on SQLite, an IMMEDIATE transaction would wait here
        name = reader.scalar(select(Centre.name).where(Centre.id == centre.id))
        assert name == centre.name  # the committed name, not the writer's pending one
        reader.commit()

        writer.commit()
        begin_reading(reader)
        assert reader.scalar(select(Centre.name).where(Centre.id == centre.id)) == (
            "Nom pas encore validé"
        )


def test_a_reading_transaction_refuses_to_write_and_the_next_one_may(
    session_factory: Callable[[], DbSession], centre: Centre
) -> None:
    with session_factory() as db:
        begin_reading(db)
        db.get(Centre, centre.id).name = "Écrit en lisant"  # type: ignore[union-attr]
        with pytest.raises(RuntimeError, match="read only"):
            db.flush()
        db.rollback()

        db.get(Centre, centre.id).name = "Écrit ensuite"  # type: ignore[union-attr]
        db.commit()
    with session_factory() as db:
        assert db.get(Centre, centre.id).name == "Écrit ensuite"  # type: ignore[union-attr]


def test_begin_reading_keeps_a_transaction_already_begun(
    session_factory: Callable[[], DbSession], centre: Centre
) -> None:
    with session_factory() as db:
        db.get(Centre, centre.id)  # a usual transaction has begun
        begin_reading(db)
        db.get(Centre, centre.id).name = "Toujours permis"  # type: ignore[union-attr]
        db.commit()
    with session_factory() as db:
        assert db.get(Centre, centre.id).name == "Toujours permis"  # type: ignore[union-attr]
