"""Hostile and odd input through every form and every query string (issue #7).

The forms are not listed here: the demo territory (plus calendar links) is browsed as each role
from the home page and the last round driven, every <form> met is parsed (method, action,
fields, select options), and so are the forms a first plausible submission shows (a booking's
confirmation step). A new form is fuzzed as soon as a page shows it. Each example starts from
the same seeded database, changes one to three fields of a plausible submission, posts it with
a valid CSRF token, and checks that:

- the answer is never a 5xx (the logged traceback is in the failure);
- no hostile value comes back as live markup (a <script>, an on…= attribute, a javascript:
  link), neither on the answer nor on the page a redirect leads to;
- a refused submission (4xx, any page answered instead of a redirect, a redirect to an error
  message) left the database exactly as it was;
- an accepted one stored nothing PostgreSQL would refuse (text over its column's length, a
  number beyond INTEGER); a NUL character sent to the database fails at once, as on PostgreSQL.

GET routes get odd query strings (names seen in links, GET forms and the views' source) and odd
path parts; every id of every route is also tried beyond 64-bit integers. Hostile text stored
in every column a form fills is then crawled again: escaped on every page, never a formula in
a CSV export, never a property of its own in a calendar file.

SQLite only (the checks above stand in for PostgreSQL's refusals): derandomized, with
`NAVETTE_FUZZ_EXAMPLES` examples per form and `NAVETTE_FUZZ_QUERIES` per GET route (defaults
below, about 30 s on a quiet machine; raise them for a deeper local run).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from scheduling.models import Venue
from tests.webapp.fuzzing_support import (
    ERROR_MARKERS,
    HOST,
    MARK,
    OMIT,
    Field,
    Form,
    Fuzzer,
    Site,
    Target,
    formulas,
    groups,
    injections,
    payload,
    rule_arguments,
    seed_database,
    store_hostile_text,
    today,
)
from webapp.db import session_scope

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_PER_FORM = int(os.environ.get("NAVETTE_FUZZ_EXAMPLES", "15"))
EXAMPLES_PER_ROUTE = int(os.environ.get("NAVETTE_FUZZ_QUERIES", "5"))


XSS = [
    f"<script>{MARK}(1)</script>",
    f'"><script>{MARK}(2)</script>',
    f"' onmouseover='{MARK}(3)",
    f'" autofocus onfocus="{MARK}(4)',
    f"<img src=x onerror={MARK}(5)>",
    f"javascript:{MARK}(6)",
    f"</textarea><script>{MARK}(7)</script>",
    f"{MARK}{{{{7*7}}}}",
]
SQL = ["'; DROP TABLE persons; --", "1' OR '1'='1", '" OR 1=1 --', "%", "_", "\\", "%00"]
ODD_TEXT = [
    "",
    " ",
    "\t\r\n",
    "A" * 10_000,
    "é" * 301,
    "😀" * 120,
    "\u202egnp.exe",
    "e\u0301" * 40,
    "\u200b",
    "\x00",
    "\x1b[31m",
    "\r\nSet-Cookie: x=1",
    "{0}",
    "%s%n",
    "../../../etc/passwd",
]
NUMBERS = [
    "-1",
    "0",
    "-0",
    "1.5",
    "1,5",
    " 7 ",
    "+5",
    "1e309",
    "NaN",
    "Infinity",
    "0x10",
    "1_000",
    "٣",
    "²",
    str(2**31),
    str(2**63),
    str(-(2**63) - 1),
    "9" * 40,
]
DATES = [
    "2026-02-31",
    "2027-02-29",
    "31/02/2026",
    "0000-00-00",
    "0001-01-01",
    "9999-12-31",
    "2026-13-01",
    "2026-11-22T25:61",
    "1er janvier",
    "22/11/2026",
]
TIMES = ["24:00", "25:00", "-1:00", "14h30", "14 h 30", "99:99", "00:00", "23:59:59", "12:00 PM"]
EMAILS = ["a@b", "x" * 300 + "@example.org", "jérôme@exämple.fr", "@", "a@b@c"]
HOSTILE = XSS + SQL + ODD_TEXT + NUMBERS + DATES + TIMES + EMAILS

# Text a person may type, any alphabet, without the lone surrogates no browser can send.
typed_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)


# --- regressions found by this file, kept as explicit examples ------------------------------


@dataclass(frozen=True)
class Regression:
    """Values (OMIT to leave a field out) posted to the form whose action is `endpoint`; the
    other fields keep their plausible value."""

    endpoint: str
    values: dict[str, Any]


REGRESSIONS: list[Regression] = [
    # A driver's account given as text coerced to None like the "— Choisissez —" placeholder,
    # passed the choice check and failed on drivers.user_id NOT NULL (a 500).
    Regression("transport.new_driver", {"user_id": [XSS[0]]}),
    Regression("transport.edit_driver", {"user_id": ["abc"]}),
    Regression("animation.new_session", {"venue_id": ["abc"], "activity_id": ["x"]}),
    Regression("animation.new_person", {"commune_id": ["Lalinde"]}),
]


# GET addresses (the route's endpoint, the URL as the demo territory spells it).
ROUTE_REGRESSIONS: list[tuple[str, str]] = [
    # A NUL character in a feed's address reached a query: PostgreSQL failed it (a 500).
    ("calendar.centre_agenda", "/centres/crt-bergeracois/agenda.ics?commune=%00"),
    ("calendar.centre_agenda", "/centres/crt%00/agenda.ics"),
    ("calendar.private_feed", "/calendrier/abc%00def.ics"),
]


# --- the seeded app, once per module ----------------------------------------------------------


@pytest.fixture(scope="module")
def fuzzer(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Fuzzer, Site]:
    folder = tmp_path_factory.mktemp("fuzzing")
    seed = folder / "seed.sqlite3"
    seed_database(_sqlite_template, seed)
    fuzz = Fuzzer(seed, folder / "navette.sqlite3")
    site = fuzz.crawl()
    yield fuzz, site
    fuzz.app.extensions["navette_engine"].dispose()


def odd_values(group: list[Field]) -> st.SearchStrategy[Any]:
    field = group[0]
    choices = [f.value for f in group] + field.options
    odd: list[st.SearchStrategy[Any]] = [
        st.just(OMIT),
        st.sampled_from(HOSTILE).map(lambda v: [v]),
        typed_text.map(lambda v: [v]),
        st.integers(-(2**70), 2**70).map(lambda v: [str(v)]),
    ]
    if choices:
        odd.append(st.lists(st.sampled_from(choices), min_size=1, max_size=3))
    if field.kind in ("number", "hidden", "select") or field.value.isdigit():
        # Near-valid: a count beyond another (wheelchair places over seats), the id of
        # another row (a booking of another day, a person of another carer).
        odd.append(st.integers(-3, 400).map(lambda v: [str(v)]))
    if field.kind == "date":
        odd.append(st.sampled_from(DATES).map(lambda v: [v]))
        odd.append(st.dates(dt.date(1, 1, 1)).map(lambda d: [d.isoformat()]))
        odd.append(  # yesterday, today, next year: plausible dates the rules must weigh
            st.integers(-400, 400).map(lambda n: [(today() + dt.timedelta(days=n)).isoformat()])
        )
    if field.kind == "time":
        odd.append(st.sampled_from(TIMES).map(lambda v: [v]))
        odd.append(st.times().map(lambda t: [t.strftime("%H:%M")]))
    return st.one_of(*odd)


def form_values(form: Form) -> st.SearchStrategy[dict[str, Any]]:
    """One to three fields given odd values, the others plausible: the odd value then reaches
    the validation and the use-case behind the others (all fields odd stops at the first)."""
    named = groups(form)
    names = sorted(named)

    @st.composite
    def values(draw: st.DrawFn) -> dict[str, Any]:
        if not names:
            return {}
        chosen = draw(st.lists(st.sampled_from(names), max_size=3, unique=True))
        return {name: draw(odd_values(named[name])) for name in chosen}

    return values()


def submit(fuzz: Fuzzer, form: Form, values: dict[str, Any]) -> None:
    fuzz.restore()
    client = fuzz.client(form.role)
    what = f"{form} avec {values!r}"[:2000]
    response = client.post(form.action, data=payload(form, values, fuzz.tokens[form.role]))
    fuzz.check_response(what, response)
    refused = response.status_code >= 400
    if 300 <= response.status_code < 400:
        landing = urljoin(f"http://{HOST}{form.action}", response.location)
        if urlsplit(landing).netloc in ("", HOST):
            page = client.get(landing)
            fuzz.check_response(f"{what}, puis {landing}", page)
            refused = any(m in page.get_data(as_text=True) for m in ERROR_MARKERS)
    elif response.status_code == 200:
        # Every action that writes answers with a redirect (post/redirect/get): a page shown
        # in answer to a POST (the form again with its errors, a confirmation step) wrote
        # nothing.
        refused = True
    if refused:
        fuzz.check_unchanged(what)
    else:
        fuzz.check_lengths(what)


def run_for_each(items: list[Any], check: Callable[[Any], None]) -> None:
    """Run `check` on every item and report every failure together, not just the first."""
    failures = []
    for item in items:
        try:
            check(item)
        except Exception as error:  # the report names each failing form or route
            failures.append(f"--- {item}\n{error}")
    assert not failures, f"{len(failures)} échec(s) :\n" + "\n".join(failures)


FUZZ_SETTINGS = settings(
    derandomize=True,  # the same examples on every run and machine: no flaky CI
    database=None,
    deadline=None,
    print_blob=False,
    # The app and its database are built once per module (the examples take no fixture) and
    # each example restores the database itself. A loaded CI machine must not fail the run
    # for generating slowly.
    suppress_health_check=[HealthCheck.too_slow],
)


# --- the tests ---------------------------------------------------------------------------------


def test_the_crawl_meets_the_forms_of_every_role(fuzzer):
    """A guard on the crawler itself: if it stopped finding forms, the fuzzing would pass empty.
    And every page it met, each role following every link, answered without a server error."""
    _fuzz, site = fuzzer
    assert not site.crashes, "\n".join(site.crashes)
    endpoints = {form.endpoint for form in site.forms}
    for expected in (
        "auth.sign_in",
        "bookings.new_booking",
        "animation.new_session",
        "animation.new_person",
        "animation.phone_book",
        "transport.new_vehicle",
        "transport.edit_settings",
        "privacy.erase",
        "driver.mark",
        "driver.acknowledge",
        "calendar.revoke_feed",
    ):
        assert expected in endpoints, f"{expected} absent des formulaires trouvés"
    roles = {form.role for form in site.forms}
    assert {"anonyme", "aidant", "coordination"} <= roles
    for regression in REGRESSIONS:
        assert regression.endpoint in endpoints, regression
    routes = {target.endpoint for target in site.targets}
    for endpoint, url in ROUTE_REGRESSIONS:
        assert endpoint in routes, url


def test_the_checks_see_what_they_look_for(fuzzer):
    """The checks themselves: live markup is told from escaped text, a write is seen."""
    fuzz, _site = fuzzer
    assert injections(f'<input value="" onfocus="{MARK}(4)">')
    assert injections(f"<p><script>{MARK}(1)</script></p>")
    assert injections(f'<a href="javascript:{MARK}(6)">x</a>')
    assert injections(f"<p>{MARK}49</p>")
    escaped = f'<input value="&#34; onfocus=&#34;{MARK}(4)"><p>&lt;script&gt;{MARK}(1)</p>'
    assert not injections(escaped)

    fuzz.restore()
    fuzz.check_unchanged("rien")
    with fuzz.app.app_context(), session_scope(fuzz.app) as db:
        db.execute(update(Venue).values(name="x" * 500))
    with pytest.raises(AssertionError, match="venues"):
        fuzz.check_unchanged("une écriture")
    with pytest.raises(AssertionError, match="PostgreSQL"):
        fuzz.check_lengths("un nom trop long")
    fuzz.restore()


def test_stored_text_is_escaped_on_every_page(fuzzer, tmp_path_factory):
    """Every text a form lets users type, stored with hostile markup in front, then every page
    crawled again as each role: shown as text everywhere (pages, SVG maps and charts), and
    never as a formula in a CSV export (a title typed '=HYPERLINK(…)' ran in the spreadsheet
    before webapp/reports.py quoted it)."""
    fuzz, site = fuzzer
    assert not site.injected, "\n".join(site.injected)
    folder = tmp_path_factory.mktemp("stored")
    seed = folder / "seed.sqlite3"
    shutil.copyfile(fuzz.seed, seed)
    changed = store_hostile_text(seed, {f.name for form in site.forms for f in form.fields})
    for column in ("persons.last_name", "persons.address", "persons.driver_notes"):
        assert column in changed
    assert {"activities.title", "venues.name", "bookings.pickup_address"} <= set(changed)
    hostile = Fuzzer(seed, folder / "navette.sqlite3")
    try:
        crawled = hostile.crawl()
        assert not crawled.crashes, "\n".join(crawled.crashes)
        assert not crawled.injected, "\n".join(crawled.injected)
        assert crawled.pages > 100
        assert crawled.marked > 50, "le texte piégé ne s'affiche presque nulle part"
        exports = [link for link in crawled.links if urlsplit(link).path.endswith(".csv")]
        assert exports
        for link in exports:
            response = hostile.client(crawled.links[link]).get(link)
            assert response.status_code == 200, link
            assert not formulas(response.get_data(as_text=True)), link
    finally:
        hostile.app.extensions["navette_engine"].dispose()


def test_every_form_survives_hostile_input(fuzzer):
    fuzz, site = fuzzer

    def fuzz_form(form: Form) -> None:
        @settings(FUZZ_SETTINGS, max_examples=EXAMPLES_PER_FORM)
        @given(values=form_values(form))
        def check(values: dict[str, Any]) -> None:
            submit(fuzz, form, values)

        for regression in REGRESSIONS:
            if regression.endpoint == form.endpoint:
                check = example(values=regression.values)(check)
        check()

    run_for_each(site.forms, fuzz_form)


# --- query strings and path parts of GET routes ----------------------------------------------

ARGS_IN_SOURCE = re.compile(
    r"""request\.args(?:\.get|\.getlist)?\(\s*["'](\w+)["']|request\.args\[["'](\w+)["']\]"""
    r"""|["'](\w+)["']\s+in\s+request\.args"""
)


def parameters_read_by_views() -> list[str]:
    """Every query parameter a view reads, found in the source (no list to keep up to date)."""
    names = set()
    for path in (ROOT / "webapp").rglob("*.py"):
        for match in ARGS_IN_SOURCE.finditer(path.read_text()):
            names.add(next(g for g in match.groups() if g))
    return sorted(names)


def path_value(converter: str) -> st.SearchStrategy[str]:
    if converter == "int":
        return st.sampled_from(["0", str(2**31), str(2**63), "9" * 30])
    return st.one_of(st.sampled_from(HOSTILE), typed_text).map(lambda v: quote(v, safe=""))


def route_urls(target: Target, extra_names: list[str]) -> st.SearchStrategy[str]:
    real = target.url.split("?")[0]
    parts = list(rule_arguments(target.rule))
    names = sorted(target.params)
    seen_values = {name: [v for v in values if v] for name, values in target.params.items()}

    def param(name: str) -> st.SearchStrategy[Any]:
        keep = st.sampled_from(seen_values[name]) if seen_values.get(name) else st.just("")
        return st.one_of(
            keep, st.just(OMIT), st.sampled_from(HOSTILE), typed_text, st.sampled_from(DATES)
        )

    @st.composite
    def urls(draw: st.DrawFn) -> str:
        path = real
        if parts and draw(st.booleans()):
            converter, _name = draw(st.sampled_from(parts))
            # Replace that part of the real URL: same rule, odd value.
            real_parts = _split_by_rule(target, real)
            index = [p[1] for p in parts].index(_name)
            real_parts[index] = draw(path_value(converter))
            path = _join_by_rule(target, real_parts)
        query: list[tuple[str, str]] = []
        for name in names + draw(st.lists(st.sampled_from(extra_names), max_size=2)):
            value = draw(param(name))
            if value is not OMIT:
                query.append((name, value))
        return f"{path}?{urlencode(query)}" if query else path

    return urls()


def _rule_pattern(target: Target) -> tuple[list[str], re.Pattern[str]]:
    pieces = re.split(r"<(?:\w+:)?\w+>", target.rule.rule)
    pattern = "(.+?)".join(re.escape(p) for p in pieces)
    return pieces, re.compile(f"^{pattern}$")


def _split_by_rule(target: Target, path: str) -> list[str]:
    _pieces, pattern = _rule_pattern(target)
    found = pattern.match(path)
    assert found, (target.rule.rule, path)
    return list(found.groups())


def _join_by_rule(target: Target, values: list[str]) -> str:
    pieces, _pattern = _rule_pattern(target)
    out = pieces[0]
    for value, piece in zip(values, pieces[1:], strict=True):
        out += value + piece
    return out


def visit(fuzz: Fuzzer, target: Target, url: str) -> None:
    fuzz.restore()
    response = fuzz.client(target.role).get(url)
    fuzz.check_response(f"{target.role} GET {url}", response)
    if response.status_code >= 400:
        fuzz.check_unchanged(f"{target.role} GET {url}")


def test_every_query_string_and_path_survives_hostile_input(fuzzer):
    fuzz, site = fuzzer
    extra = parameters_read_by_views()
    by_endpoint: dict[str, Target] = {}
    for target in site.targets:  # one role per route: the first that reached it
        if target.endpoint not in by_endpoint and not target.url.endswith(".pdf"):
            by_endpoint[target.endpoint] = target

    def fuzz_route(target: Target) -> None:
        @settings(FUZZ_SETTINGS, max_examples=EXAMPLES_PER_ROUTE)
        @given(url=route_urls(target, extra))
        def check(url: str) -> None:
            visit(fuzz, target, url)

        for endpoint, url in ROUTE_REGRESSIONS:
            if endpoint == target.endpoint:
                check = example(url=url)(check)
        check()

    run_for_each(list(by_endpoint.values()), fuzz_route)


HUGE_IDS = (str(2**63), "9" * 30)  # beyond SQLite's 64-bit integers, and far beyond


def test_every_id_in_a_path_may_be_huge(fuzzer):
    """Each number in every route met (pages and form actions) replaced by one no database
    integer holds: a 404, never an overflow. Deterministic, every route and every id."""
    fuzz, site = fuzzer
    visits: dict[tuple[str, str], tuple[str, Target | Form]] = {}
    for item in [*site.targets, *site.forms]:
        method = item.method if isinstance(item, Form) else "GET"
        url = item.action if isinstance(item, Form) else item.url.split("?")[0]
        matched = fuzz.endpoint(url, method)
        assert matched, url
        rule = matched[1]
        target = Target(item.role, rule.endpoint, rule, url)
        parts = [name for _converter, name in rule_arguments(rule)]
        converters = dict((name, converter) for converter, name in rule_arguments(rule))
        for index, name in enumerate(parts):
            if converters[name] != "int":
                continue
            for huge in HUGE_IDS:
                values = _split_by_rule(target, url)
                values[index] = huge
                odd = _join_by_rule(target, values)
                visits.setdefault((method, odd), (item.role, target))

    def check(visit_: tuple[tuple[str, str], tuple[str, Target]]) -> None:
        (method, url), (role, _target) = visit_
        fuzz.restore()
        client = fuzz.client(role)
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": fuzz.tokens[role]})
        fuzz.check_response(f"{role} {method} {url}", response)
        if response.status_code >= 400:
            fuzz.check_unchanged(f"{role} {method} {url}")

    assert visits
    run_for_each(list(visits.items()), check)
