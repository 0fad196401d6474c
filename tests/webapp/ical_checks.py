"""Checks for iCalendar feeds: RFC 5545 invariants, and a real CalDAV server (Radicale).

Radicale rejects what a CalDAV client would choke on (no UID, no DTSTART, two UIDs in one
resource, bad dates); ``rfc5545_problems`` catches what it lets through (RECIPES §3).
"""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import icalendar
import pytest


def rfc5545_problems(ics: bytes) -> list[str]:
    """What is wrong with a feed that parsers and Radicale would let through."""
    cal = icalendar.Calendar.from_ical(ics)
    problems = [f"VCALENDAR missing {k}" for k in ("VERSION", "PRODID") if k not in cal]
    tzids = {str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")}
    for event in cal.walk("VEVENT"):
        uid = event.get("UID", "?")
        problems += [
            f"{uid}: missing {k}"
            for k in ("UID", "DTSTAMP", "DTSTART", "SEQUENCE")
            if k not in event
        ]
        if "DTSTAMP" in event and not event.decoded("DTSTAMP").tzinfo:
            problems.append(f"{uid}: DTSTAMP not UTC")
        if event.get("STATUS", "CONFIRMED") not in ("TENTATIVE", "CONFIRMED", "CANCELLED"):
            problems.append(f"{uid}: bad STATUS")
        for key in ("DTSTART", "DTEND", "RECURRENCE-ID"):
            if key in event and event[key].params.get("TZID") not in tzids:
                problems.append(f"{uid}: {key} TZID has no VTIMEZONE")
        if "RRULE" in event:
            until = event["RRULE"].get("UNTIL")
            if until and not getattr(until[0], "tzinfo", None):
                problems.append(f"{uid}: RRULE UNTIL must be UTC with a TZID DTSTART")
    return problems


def events(ics: bytes) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(ics).walk("VEVENT"))


def by_uid(ics: bytes) -> dict[str, list[icalendar.Event]]:
    """The feed's events grouped by UID (a series and its overrides share one)."""
    grouped: dict[str, list[icalendar.Event]] = {}
    for event in events(ics):
        grouped.setdefault(str(event["UID"]), []).append(event)
    return grouped


def resources(ics: bytes) -> dict[str, bytes]:
    """One calendar object per UID, with the feed's VTIMEZONE: what a CalDAV server stores."""
    feed = icalendar.Calendar.from_ical(ics)
    timezones = list(feed.walk("VTIMEZONE"))
    objects = {}
    for uid, group in by_uid(ics).items():
        cal = icalendar.Calendar()
        cal.add("prodid", feed["PRODID"])
        cal.add("version", "2.0")
        for tz in timezones:
            cal.add_component(tz)
        for event in group:
            cal.add_component(event)
        objects[uid] = cal.to_ical()
    return objects


@dataclass
class Radicale:
    """A Radicale server of the test's own, and one calendar collection in it."""

    base: str

    def put(self, name: str, body: bytes) -> int:
        """PUT one calendar object; the HTTP status (201 created, 204 replaced)."""
        request = urllib.request.Request(
            f"{self.base}/navette/agenda/{name}.ics",
            data=body,
            method="PUT",
            headers={"Content-Type": "text/calendar; charset=utf-8"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code

    def get(self, name: str) -> bytes:
        with urllib.request.urlopen(f"{self.base}/navette/agenda/{name}.ics", timeout=10) as r:
            return bytes(r.read())

    def store_feed(self, ics: bytes) -> dict[str, int]:
        """Store every UID of a feed; the status of each PUT by UID."""
        return {uid: self.put(_name(uid), body) for uid, body in resources(ics).items()}

    def stored(self, uid: str) -> list[icalendar.Event]:
        return events(self.get(_name(uid)))

    def expand(self, start: dt.datetime, end: dt.datetime) -> list[icalendar.Event]:
        """Occurrences between ``start`` and ``end`` as the server expands them (CalDAV)."""
        import caldav

        client = caldav.DAVClient(url=f"{self.base}/", username="navette", password="x")
        calendar = client.calendar(url=f"{self.base}/navette/agenda/")
        found = calendar.search(start=start, end=end, event=True, expand=True)
        return [item.icalendar_component for item in found]


def _name(uid: str) -> str:
    return uid.replace("@", "-at-")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Radicale]:
    """Radicale on 127.0.0.1 (a free port), no auth, files in a temporary folder."""
    import caldav

    folder: Path = tmp_path_factory.mktemp("radicale")
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "radicale",
            "--config",
            "",
            "--server-hosts",
            f"127.0.0.1:{port}",
            "--auth-type",
            "none",
            "--rights-type",
            "owner_only",
            "--storage-filesystem-folder",
            str(folder / "collections"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("Radicale n'a pas démarré") from None
                time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        client = caldav.DAVClient(url=f"{base}/", username="navette", password="x")
        client.principal().make_calendar(name="agenda", cal_id="agenda")
        yield Radicale(base)
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
