"""Database engine and the per-request session.

The request owns the transaction: use-cases only flush, the shell commits once at the end of a
successful request and rolls back otherwise. CLI commands use `session_scope()` for the same rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from flask import Flask, Response, current_app, g, has_app_context, has_request_context
from flask_login import current_user
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from scheduling import audit
from scheduling.db import make_engine, make_session_factory

_AFTER_COMMIT = "_navette_after_commit"
_ACTOR = "_navette_actor"


def init_app(app: Flask) -> None:
    """Bind an engine and a session factory to the app (no connection is opened here)."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["navette_engine"] = engine
    factory = make_session_factory(engine)
    # Every change made through the app (pages, jobs, commands) is logged with its author.
    factory.configure(info={audit.ACTOR_KEY: current_actor})
    audit.install(factory)
    app.extensions["navette_session_factory"] = factory
    app.after_request(_commit_or_rollback)
    app.teardown_appcontext(_close_session)


def act_as(actor: audit.Actor) -> None:
    """Name who acts for the rest of this app context (the worker: « tâche planifiée »)."""
    setattr(g, _ACTOR, actor)


def current_actor() -> audit.Actor:
    """Who is acting now, for the audit log: the signed-in user, else the command or the job."""
    named: audit.Actor | None = g.get(_ACTOR) if has_app_context() else None
    if named is not None:
        return named
    if has_request_context():
        if current_user.is_authenticated:
            return audit.Actor.of(current_user)
        return audit.Actor("visiteur non connecté")
    if click.get_current_context(silent=True) is not None:
        return audit.COMMAND_LINE
    return audit.SCHEDULED_TASK


def get_engine(app: Flask | None = None) -> Engine:
    engine: Engine = (app or current_app).extensions["navette_engine"]
    return engine


def get_db() -> Session:
    """Return the session of the current request (or app context), opening it on first use."""
    if "db" not in g:
        factory: sessionmaker[Session] = current_app.extensions["navette_session_factory"]
        g.db = factory()
    db: Session = g.db
    return db


def after_commit(callback: Callable[[], Any]) -> None:
    """Run `callback` once the request's transaction is committed (e.g. send an e-mail).

    Nothing is run when the request fails and its transaction is rolled back, so nobody is told
    about a booking that was never saved.
    """
    g.setdefault(_AFTER_COMMIT, []).append(callback)


def _commit_or_rollback(response: Response) -> Response:
    db: Session | None = g.get("db")
    if db is not None:
        if response.status_code < 400:
            db.commit()
            _run_after_commit()
        else:
            db.rollback()
    elif response.status_code < 400:
        _run_after_commit()
    g.pop(_AFTER_COMMIT, None)
    return response


def _run_after_commit() -> None:
    for callback in g.pop(_AFTER_COMMIT, []):
        try:
            callback()
        except Exception:  # the data is saved; a failed side effect must not turn into a 500
            current_app.logger.exception("Échec d'une action après validation")


def _close_session(_exc: BaseException | None) -> None:
    db: Session | None = g.pop("db", None)
    if db is not None:
        db.close()  # closing rolls back whatever was not committed


@contextmanager
def session_scope(app: Flask | None = None) -> Iterator[Session]:
    """A session for CLI commands and jobs: commit at the end, roll back on error."""
    factory: sessionmaker[Session] = (app or current_app).extensions["navette_session_factory"]
    db = factory()
    try:
        yield db
        db.commit()
    except BaseException:
        db.rollback()
        raise
    finally:
        db.close()
