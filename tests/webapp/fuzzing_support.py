"""Machinery for tests/webapp/test_fuzzing.py: a seeded database restored before every example,
a crawler that finds every page, form and query parameter by browsing as each role, and the
checks made on every answer (no 5xx, no injected markup, nothing half-written).

Nothing here names a form or a route: a form added to a page is found and fuzzed as it is.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import logging
import re
import shutil
import sqlite3
import traceback
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import BigInteger, Integer, String, event, select
from sqlalchemy import Enum as SqlEnum
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from scheduling.calendars import create_my_token, feed_kinds_for
from scheduling.db import Base
from scheduling.driving import mark_stop, marks_for
from scheduling.models import User
from scheduling.transport_models import Round, RoundStop, StopStatus, TransportDay
from webapp import create_app
from webapp.db import session_scope
from webapp.demo import DEMO_PASSWORD, centre_now, find_demo_centre, load_demo
from webapp.jobs import make_queue
from webapp.transport.demo_rounds import build_demo_rounds

HOST = "navette.test"
# Each role of the demo territory, and nobody signed in.
ROLES = ("anonyme", "aidant", "chauffeur", "animation", "coordination", "admin")
# Pages not worth a visit: a PDF costs a second of WeasyPrint and parses no form.
SKIPPED_SUFFIXES = (".pdf",)
BINARY_SUFFIXES = (".pdf", ".ics", ".csv", ".json")
# Per role and route: pages with a form to keep, and pages to try (a session's booking page
# shows no form once its deadline is past).
PAGES_PER_ENDPOINT = 2
MAX_TRIES_PER_ENDPOINT = 4
VISITS_PER_PATH = 2  # the same page with other query strings (filters)
MAX_PAGES_PER_ROLE = 150
MARK = "nvxss"  # in every hostile markup: seen live in a page, it was not escaped
OMIT = object()  # a field left out of the submission
ERROR_MARKERS = ('class="error-message"', 'class="error-summary"', "flash-error")
# Tables a refused attempt may legitimately write to (the trace of the attempt itself).
ATTEMPT_TABLES = re.compile(r"audit|login_attempt|sign_in_attempt|password_reset")


# --- the seeded database -----------------------------------------------------------------


def seed_database(template: Path, path: Path) -> None:
    """The demo territory (past weeks, coming sessions, published rounds) in a SQLite file."""
    shutil.copyfile(template, path)
    app = make_app(path)
    now = centre_now()
    with session_scope(app) as db:
        load_demo(db, now=now)
    with session_scope(app) as db:
        centre_id = find_demo_centre(db).id  # type: ignore[union-attr]
    build_demo_rounds(app, centre_id, now)
    # Calendar links for all but the carer: their renew/revoke forms show on the others'
    # pages, the form that makes one on the carer's.
    with session_scope(app) as db:
        for username in ROLES[2:]:
            user = db.scalars(select(User).where(User.username == username)).one()
            for kind in feed_kinds_for(user):
                create_my_token(db, actor=user, now=now, kind=kind)
    _raise_a_welfare_alert(app, now)
    app.extensions["navette_engine"].dispose()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _raise_a_welfare_alert(app: Flask, now: dt.datetime) -> None:
    """Nobody answered at a pickup of the last round driven: the alert waits for the
    coordination to acknowledge it, and its form shows."""
    with session_scope(app) as db:
        stop = db.scalars(
            select(RoundStop)
            .join(Round, RoundStop.round_id == Round.id)
            .join(TransportDay, Round.day_id == TransportDay.id)
            .where(TransportDay.date < now.date(), RoundStop.booking_id.is_not(None))
            .order_by(TransportDay.date.desc(), RoundStop.id)
        ).first()
        if stop is None:
            return
        coordinator = db.scalars(select(User).where(User.username == "coordination")).one()
        for status in (StopStatus.planned, StopStatus.nobody_answered):
            if status is StopStatus.planned or status in marks_for(stop):
                mark_stop(db, stop=stop, status=status, actor=coordinator, now=now)


def make_app(path: Path) -> Flask:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{path}",
            "SECRET_KEY": "clé-de-fuzz",
            "SERVER_NAME": HOST,
            "GEOCODER": "offline",  # no network
            "MAIL_SERVER": None,  # e-mails go to the log
        }
    )
    event.listen(app.extensions["navette_engine"], "before_cursor_execute", _like_postgresql)
    # Rounds are queued but never built: a solver thread writing behind the test's back would
    # make examples depend on timing.
    queue = make_queue("memory")
    queue.embedded = False
    app.extensions["navette_queue"] = queue
    return app


def _like_postgresql(
    _conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any, _many: bool
) -> None:
    """Refuse on SQLite what PostgreSQL refuses: a NUL character in a text parameter (its
    error would be a 500 in production, where SQLite stays silent)."""
    rows = parameters if isinstance(parameters, list) else [parameters]
    for row in rows:
        values = row.values() if isinstance(row, dict) else row or ()
        if any(isinstance(v, str) and "\x00" in v for v in values):
            raise ValueError("caractère NUL envoyé à la base : PostgreSQL le refuserait")


def _checkpoint_and_copy(seed: Path, path: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(seed, path)


@dataclass
class Digest:
    """Every table's rows, hashed, to tell exactly which tables a request changed."""

    tables: dict[str, str]

    def changed_since(self, before: Digest) -> list[str]:
        return sorted(
            name
            for name in before.tables.keys() | self.tables.keys()
            if before.tables.get(name) != self.tables.get(name) and not ATTEMPT_TABLES.search(name)
        )


def digest(path: Path) -> Digest:
    tables: dict[str, str] = {}
    with contextlib.closing(sqlite3.connect(path)) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        for name in names:
            h = hashlib.sha1()
            for row in conn.execute(f'SELECT * FROM "{name}" ORDER BY rowid'):
                h.update(repr(row).encode())
            tables[name] = h.hexdigest()
    return Digest(tables)


def out_of_range(path: Path) -> list[str]:
    """Stored values PostgreSQL would refuse with a 500 although SQLite keeps them: text longer
    than its column, a number beyond a 4-byte INTEGER. Checked here, found on SQLite."""
    found = []
    with contextlib.closing(sqlite3.connect(path)) as conn:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                kind = column.type
                if isinstance(kind, String) and kind.length:
                    query = f'SELECT MAX(LENGTH("{column.name}")) FROM "{table.name}"'
                    longest = conn.execute(query).fetchone()[0]
                    if longest is not None and longest > kind.length:
                        found.append(f"{table.name}.{column.name}: {longest} > {kind.length}")
                elif isinstance(kind, Integer) and not isinstance(kind, BigInteger):
                    query = f'SELECT MIN("{column.name}"), MAX("{column.name}") FROM "{table.name}"'
                    low, high = conn.execute(query).fetchone()
                    if low is not None and not -(2**31) <= low <= high < 2**31:
                        found.append(f"{table.name}.{column.name}: {low}…{high} (INTEGER)")
    return found


# Starts like a spreadsheet formula (CSV exports), goes on with markup (pages), ends with a
# line of its own (calendar files: a property slipped into an event).
STORED = (
    f'=HYPERLINK("{MARK}")<script>{MARK}(9)</script>"><img src=x onerror={MARK}(10)>'
    f"\r\nX-{MARK.upper()}:1\r\n"
)


def store_hostile_text(path: Path, names: set[str]) -> list[str]:
    """Put hostile markup at the start of every stored text users type in (the columns named
    like a form field: names, addresses, notes, titles, reasons…); return the columns."""
    changed = []
    with contextlib.closing(sqlite3.connect(path)) as conn:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                kind = column.type
                if (
                    column.name not in names
                    or not isinstance(kind, String)
                    or isinstance(kind, SqlEnum)
                    or column.unique
                ):
                    continue
                conn.execute(
                    f'UPDATE "{table.name}" SET "{column.name}" = '
                    f'substr(? || "{column.name}", 1, ?) WHERE "{column.name}" IS NOT NULL',
                    (STORED, kind.length or 100_000),
                )
                changed.append(f"{table.name}.{column.name}")
        conn.commit()
    return changed


# --- pages and forms ---------------------------------------------------------------------


@dataclass
class Field:
    name: str
    kind: str  # input type, "select", "textarea" or "button"
    value: str = ""
    options: list[str] = field(default_factory=list)
    checked: bool = False
    required: bool = False


@dataclass
class Form:
    role: str
    page: str
    method: str
    action: str
    endpoint: str
    fields: list[Field]

    @property
    def key(self) -> tuple[str, str, tuple[str, ...]]:
        return (self.method, self.endpoint, tuple(sorted({f.name for f in self.fields})))

    def __str__(self) -> str:
        return f"{self.role} {self.method} {self.action} (page {self.page})"


def plausible(field: Field, group: list[Field], form: Form) -> list[str] | object:
    """What a careful user would send for this field (a list: a field may repeat)."""
    name = field.name.lower()
    if field.kind == "checkbox":
        checked = [f.value for f in group if f.checked]
        if len(group) > 1 and not checked:  # days of the week: a plausible choice is all
            checked = [f.value for f in group]
        return checked or OMIT
    if field.kind == "radio":
        return [next((f.value for f in group if f.checked), group[0].value)]
    if field.kind == "select":
        return [field.value or next((o for o in field.options if o), "")]
    if field.kind in ("hidden", "button") or field.value.strip():
        return [field.value]
    if not field.required and field.kind not in ("date", "time", "number"):
        return [""]  # an optional text left empty is the plainest valid answer
    if field.kind == "password":
        return ["navette-demo" if "current" in name else "un-nouveau-mot-de-passe"]
    if field.kind == "date":
        return [(today() + dt.timedelta(days=10 if "until" in name else 3)).isoformat()]
    if field.kind == "time":  # the first time of a form starts, the next ones end later
        times = [f.name for f in form.fields if f.kind == "time"]
        return [f"{9 + 3 * times.index(field.name):02d}:00"]
    if field.kind == "number":
        return ["2"]
    if field.kind == "email" or "email" in name:
        return ["fuzz@example.org"]
    if field.kind == "tel" or "phone" in name:
        return ["05 53 00 00 00"]
    if field.kind == "url":
        return ["https://example.org"]
    if name.endswith("lat"):
        return ["44.85"]
    if name.endswith("lon"):
        return ["0.48"]
    return ["Valeur ordinaire"]


def groups(form: Form) -> dict[str, list[Field]]:
    named: dict[str, list[Field]] = {}
    for f in form.fields:
        named.setdefault(f.name, []).append(f)
    return named


def payload(form: Form, values: dict[str, Any], token: str) -> dict[str, list[str]]:
    data = {"csrf_token": [token]}
    buttons = [f.name for f in form.fields if f.kind == "button"]
    for name, group in groups(form).items():
        # A browser sends the one button pressed: the first (the main action) by default.
        default = OMIT if name in buttons[1:] else plausible(group[0], group, form)
        chosen = values.get(name, default)
        if chosen is not OMIT:
            data[name] = chosen if isinstance(chosen, list) else [chosen]
    return data


class PageParser(HTMLParser):
    """Links and forms of a page, as a browser would see them."""

    def __init__(self, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.url = url
        self.links: list[str] = []
        self.forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(urljoin(self.url, a["href"]))
        elif tag == "form":
            self._form = {
                "method": (a.get("method") or "get").upper(),
                "action": urljoin(self.url, a.get("action") or self.url),
                "fields": [],
            }
            self.forms.append(self._form)
        elif tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))
            if "selected" in a:
                self._select.value = a.get("value", "")
        elif self._form is None or "name" not in a or "disabled" in a:
            return
        elif tag == "input":
            kind = (a.get("type") or "text").lower()
            self._form["fields"].append(
                Field(
                    a["name"],
                    kind,
                    a.get("value", "on" if kind in ("checkbox", "radio") else ""),
                    checked="checked" in a,
                    required="required" in a,
                )
            )
        elif tag == "button" and a.get("value") is not None:
            self._form["fields"].append(Field(a["name"], "button", a.get("value", "")))
        elif tag == "select":
            self._select = Field(a["name"], "select", required="required" in a)
            self._form["fields"].append(self._select)
        elif tag == "textarea":
            self._textarea = Field(a["name"], "textarea", required="required" in a)
            self._form["fields"].append(self._textarea)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def searched(form: dict[str, Any]) -> str:
    """The URL a GET form leads to, filled in plainly (a select's last option, "a" typed)."""
    values = []
    fields = form["fields"]
    for f in fields:
        if f.kind == "select":
            values.append((f.name, f.options[-1] if f.options else ""))
        elif f.kind == "checkbox":
            if f.checked:
                values.append((f.name, f.value))
        elif f.kind == "radio":
            group = [g for g in fields if g.name == f.name]
            if f.checked or (f is group[0] and not any(g.checked for g in group)):
                values.append((f.name, f.value))
        elif f.kind not in ("hidden", "button", "submit"):
            values.append((f.name, f.value or "a"))
        else:
            values.append((f.name, f.value))
    return f"{form['action'].split('?')[0]}?{urlencode(values)}"


def local_path(url: str) -> str | None:
    """The path and query of a link to this site, or None for another site or a fragment."""
    parts = urlsplit(url)
    # webcal:// is a calendar subscription to an http(s) address of the site.
    if parts.scheme not in ("", "http", "https", "webcal") or parts.netloc not in ("", HOST):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass
class Target:
    """A GET route met while crawling: one real URL of it and the query parameters seen."""

    role: str
    endpoint: str
    rule: Rule
    url: str
    params: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Site:
    forms: list[Form] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)  # 5xx met on the way
    injected: list[str] = field(default_factory=list)  # live markup met on the way
    marked: int = 0  # pages showing a hostile marker (as text, if not in `injected`)
    links: dict[str, str] = field(default_factory=dict)  # every local link, and who saw it
    pages: int = 0


class Fuzzer:
    """One app on a database put back to the seed before every example."""

    def __init__(self, seed: Path, path: Path) -> None:
        self.seed = seed
        self.path = path
        _checkpoint_and_copy(seed, path)
        self.app = make_app(path)
        self.adapter = self.app.url_map.bind(HOST)
        self.seed_digest = digest(seed)
        self.seed_bytes = seed.read_bytes()
        self.cookies: dict[str, str] = {}
        self.tokens: dict[str, str] = {}
        self.errors: list[str] = []
        self.app.logger.addHandler(_Collector(self.errors))
        for role in ROLES:
            self._sign_in(role)

    # --- clients -----------------------------------------------------------------------

    def _sign_in(self, role: str) -> None:
        client = self.app.test_client()
        page = client.get("/connexion").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert token, "pas de jeton CSRF sur /connexion"
        if role != "anonyme":
            response = client.post(
                "/connexion",
                data={"csrf_token": token.group(1), "username": role, "password": DEMO_PASSWORD},
            )
            assert response.status_code == 302, f"connexion de {role} refusée"
        cookie = client.get_cookie("session", domain=HOST)
        assert cookie is not None
        self.cookies[role] = cookie.value
        self.tokens[role] = token.group(1)

    def client(self, role: str) -> FlaskClient:
        """A fresh browser signed in as `role` (an example may sign out or change password)."""
        client = self.app.test_client()
        client.set_cookie("session", self.cookies[role], domain=HOST)
        return client

    def restore(self) -> None:
        self.app.extensions["navette_engine"].dispose()
        _checkpoint_and_copy(self.seed, self.path)
        self.errors.clear()

    def endpoint(self, path: str, method: str = "GET") -> tuple[str, Rule] | None:
        try:
            rule, _args = self.adapter.match(urlsplit(path).path, method=method, return_rule=True)
        except HTTPException:
            return None
        return rule.endpoint, rule

    # --- crawling ----------------------------------------------------------------------

    def start_pages(self) -> list[str]:
        """Where the crawl begins: the home page, and the sheet of the last round driven
        (history no link leads to: the drivers' pages show the coming week), whose marking
        forms are open."""
        with self.app.app_context(), session_scope(self.app) as db:
            last = db.scalars(
                select(Round.id)
                .join(TransportDay, Round.day_id == TransportDay.id)
                .where(TransportDay.date < today())
                .order_by(TransportDay.date.desc(), Round.id)
                .limit(1)
            ).first()
            past = [local_path(url_for("driver.sheet", round_id=last)) or "/"] if last else []
        self.restore()
        return ["/", *past]

    def crawl(self) -> Site:
        """Visit every route reachable by links, as each role; collect forms and GET targets."""
        site = Site()
        starts = self.start_pages()
        seen_forms: set[tuple[str, str, tuple[str, ...]]] = set()
        explored: set[str] = set()
        for role in ROLES:
            client = self.client(role)
            visits: dict[str, tuple[int, int]] = {}
            path_visits: dict[str, int] = {}
            shown: set[str] = set()  # routes this role may see (a 200 page)
            targets: dict[str, Target] = {}
            queue = deque(starts)
            queued = set(starts)
            pages = 0
            while queue and pages < MAX_PAGES_PER_ROLE:
                path = queue.popleft()
                matched = self.endpoint(path)
                if matched is None:
                    continue
                endpoint, rule = matched
                target = targets.get(endpoint)
                if target is None:
                    target = targets[endpoint] = Target(role, endpoint, rule, path)
                for name, value in parse_qsl(urlsplit(path).query, keep_blank_values=True):
                    target.params.setdefault(name, []).append(value)
                tried, fruitful = visits.get(endpoint, (0, 0))
                bare = urlsplit(path).path
                # A route another role explored gets two looks (its links, its forms as seen
                # by this role): the crawl stays around a hundred pages per role at most.
                tries = 2 if endpoint in explored else MAX_TRIES_PER_ENDPOINT
                if (
                    fruitful >= PAGES_PER_ENDPOINT
                    or tried >= tries
                    or path_visits.get(bare, 0) >= VISITS_PER_PATH
                    or path.endswith(SKIPPED_SUFFIXES)
                ):
                    continue
                path_visits[bare] = path_visits.get(bare, 0) + 1
                response = client.get(path)
                pages += 1
                if response.status_code >= 500:
                    site.crashes.append(f"{role} GET {path}: {response.status_code}")
                    site.crashes.extend(self.errors)
                    self.errors.clear()
                    continue
                links = []
                if response.location:
                    links.append(urljoin(f"http://{HOST}{path}", response.location))
                forms = []
                if response.status_code == 200:
                    shown.add(endpoint)
                if response.mimetype == "text/calendar":
                    lines = response.get_data(as_text=True).splitlines()
                    slipped = [line for line in lines if line.startswith(f"X-{MARK.upper()}")]
                    if slipped:
                        site.injected.append(f"{role} GET {path}: {slipped}")
                if response.mimetype == "text/html":
                    injected = injections(response.get_data(as_text=True))
                    site.marked += MARK in response.get_data(as_text=True)
                    if injected:
                        site.injected.append(f"{role} GET {path}: {injected}")
                if response.mimetype == "text/html" and response.status_code == 200:
                    parser = PageParser(f"http://{HOST}{path}")
                    parser.feed(response.get_data(as_text=True))
                    links += parser.links
                    forms = parser.forms
                    # A search or filter form leads to pages no link shows (results, the
                    # booking form once the person is chosen): visit those next.
                    for f in forms:
                        local = local_path(searched(f)) if f["method"] == "GET" else None
                        if local and local not in queued:
                            queued.add(local)
                            queue.appendleft(local)
                new = [self._add_form(site, seen_forms, targets, role, path, f) for f in forms]
                visits[endpoint] = (tried + 1, fruitful + any(new))
                for link in links:
                    local = local_path(link)
                    if local:
                        site.links.setdefault(local, role)
                    if local and local not in queued:
                        queued.add(local)
                        queue.append(local)
            site.pages += pages
            site.targets.extend(targets.values())
            explored.update(shown)
        self._second_steps(site, seen_forms)
        return site

    def _second_steps(self, site: Site, seen: set[tuple[str, str, tuple[str, ...]]]) -> None:
        """Forms only an answer shows (a booking's confirmation step): post each form once,
        filled in plausibly, and keep the new forms of a 200 answer."""
        for form in list(site.forms):
            self.restore()
            client = self.client(form.role)
            data = payload(form, {}, self.tokens[form.role])
            response = client.post(form.action, data=data)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            parser = PageParser(f"http://{HOST}{form.action}")
            parser.feed(response.get_data(as_text=True))
            for raw in parser.forms:
                if raw["method"] == "POST":
                    self._add_form(site, seen, {}, form.role, f"{form.action} (POST)", raw)
        self.restore()

    def _add_form(
        self,
        site: Site,
        seen: set[tuple[str, str, tuple[str, ...]]],
        targets: dict[str, Target],
        role: str,
        page: str,
        raw: dict[str, Any],
    ) -> bool:
        """Record a form (a GET one as query parameters); tell whether it was new."""
        action = local_path(raw["action"])
        matched = action and self.endpoint(action, raw["method"])
        if not matched:
            return False
        endpoint, rule = matched
        fields = [f for f in raw["fields"] if f.name != "csrf_token"]
        if raw["method"] == "GET":
            target = targets.setdefault(endpoint, Target(role, endpoint, rule, action))
            for f in fields:
                target.params.setdefault(f.name, []).extend([f.value, *f.options])
            return False
        form = Form(role, page, raw["method"], action, endpoint, fields)
        # One role per form: the first that meets it (roles come from the least to the most
        # powerful, so a carer's booking form is fuzzed as a carer).
        if form.key in seen:
            return False
        seen.add(form.key)
        site.forms.append(form)
        return True

    # --- checks ------------------------------------------------------------------------

    def check_response(self, what: str, response: TestResponse) -> None:
        if response.status_code >= 500:
            logged = "\n".join(self.errors) or "(rien dans le journal)"
            raise AssertionError(f"{what} → {response.status_code}\n{logged}")
        if response.mimetype == "text/html":
            injected = injections(response.get_data(as_text=True))
            assert not injected, f"{what}: balisage injecté rendu tel quel : {injected}"

    def check_unchanged(self, what: str) -> None:
        # Closing the app's connections folds the WAL into the file: a byte-identical file
        # was not written to (cheap); otherwise hash the tables to name the ones that changed.
        self.app.extensions["navette_engine"].dispose()
        wal = Path(f"{self.path}-wal")
        if not (wal.exists() and wal.stat().st_size) and self.path.read_bytes() == self.seed_bytes:
            return
        changed = digest(self.path).changed_since(self.seed_digest)
        assert not changed, f"{what}: refusé mais écrit à moitié dans {changed}"

    def check_lengths(self, what: str) -> None:
        overlong = out_of_range(self.path)
        assert not overlong, f"{what}: valeur que PostgreSQL refuserait ({overlong})"


class _Collector(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.ERROR)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info))
        self.sink.append(text)


# --- injection ---------------------------------------------------------------------------


class _InjectionFinder(HTMLParser):
    """Markup that only exists if a hostile value was echoed without escaping."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if MARK in tag:
            self.found.append(f"<{tag}>")
        self._in_script = tag == "script"
        for name, value in attrs:
            value = value or ""
            handler = name.startswith("on") and MARK in value
            script_link = name in ("href", "src", "action", "formaction") and (
                value.strip().lower().startswith("javascript:") and MARK in value
            )
            if MARK in name or handler or script_link:
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_data(self, data: str) -> None:
        if self._in_script and MARK in data:
            self.found.append(f"<script>{data[:80]}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False


def formulas(text: str) -> list[str]:
    """CSV cells holding a hostile value a spreadsheet would compute (starts with =, +, -, @)."""
    found = []
    for row in csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"):
        found += [cell for cell in row if MARK in cell and cell[:1] in ("=", "+", "-", "@")]
    return found


def injections(html: str) -> list[str]:
    finder = _InjectionFinder()
    finder.feed(html)
    found = finder.found
    if f"{MARK}49" in html:  # `{{7*7}}` evaluated: a value rendered as a template
        found.append(f"{MARK}49")
    return found


RULE_ARGUMENT = re.compile(r"<(?:(\w+):)?(\w+)>")


def rule_arguments(rule: Rule) -> Iterator[tuple[str, str]]:
    """(converter, name) of each variable part of a route, in order."""
    for m in RULE_ARGUMENT.finditer(rule.rule):
        yield m.group(1) or "default", m.group(2)


def today() -> dt.date:
    return centre_now().date()
