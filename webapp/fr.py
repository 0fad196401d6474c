"""French wording of dates, times and counts, as template filters."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask

from scheduling.notifications import plural

DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def fr_date(value: dt.date, with_year: bool = False, today: dt.date | None = None) -> str:
    """'mardi 24 novembre'; 'mardi 5 janvier 2027' on demand or when `today` is in 2026."""
    day = "1er" if value.day == 1 else str(value.day)
    text = f"{DAYS[value.weekday()]} {day} {MONTHS[value.month - 1]}"
    if with_year or (today is not None and value.year != today.year):
        return f"{text} {value.year}"
    return text


NBSP = "\u00a0"


def fr_time(value: dt.time | dt.datetime) -> str:
    """'14 h 30', with non-breaking spaces so a time never splits across two lines."""
    return f"{value.hour}{NBSP}h{NBSP}{value.minute:02d}"


def fr_when(
    starts_at: dt.datetime, ends_at: dt.datetime | None = None, today: dt.date | None = None
) -> str:
    """'mardi 24 novembre, 14 h 30 – 16 h 00' (the year too when it is not `today`'s)."""
    text = f"{fr_date(starts_at, today=today)}, {fr_time(starts_at)}"
    if ends_at is not None:
        text += f" – {fr_time(ends_at)}"
    return text


def with_town(address: str, commune: Any) -> str:
    """'Place de la Mairie, 24150 Lalinde': the town once, whether or not it was typed."""
    address = (address or "").strip()
    if commune is None:
        return address
    town = f"{commune.postcode or ''} {commune.name}".strip()
    if not address:
        return town
    if commune.name.lower() in address.lower():
        return address
    return f"{address}, {town}"


def _page_date(value: dt.date, with_year: bool = False) -> str:
    # Pages name the year of a date that is not in the current one ('mardi 5 janvier 2027').
    return fr_date(value, with_year, today=dt.date.today())


def _page_when(starts_at: dt.datetime, ends_at: dt.datetime | None = None) -> str:
    return fr_when(starts_at, ends_at, today=dt.date.today())


def init_app(app: Flask) -> None:
    app.add_template_filter(_page_date, "fr_date")
    app.add_template_filter(fr_time, "fr_time")
    app.add_template_filter(with_town, "with_town")
    app.add_template_global(_page_when, "fr_when")
    app.add_template_global(plural, "plural")
