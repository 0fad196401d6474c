"""Web load: Navette's pages under gunicorn, as a share of a bare Flask hello-world.

Run: .venv/bin/python benchmarks/web.py [--repeat 3] [--duration 10] [--workers 2]
     .venv/bin/python benchmarks/web.py --database-url postgresql://postgres@127.0.0.1/bench

What it does, in order:
1. loads the demo territory (`flask --app webapp demo`, after `alembic upgrade head`) into a
   fresh SQLite file in a temporary folder, or into the database of --database-url (PostgreSQL:
   the demo centre there is wiped and reloaded with `demo --reset`; use a scratch database);
2. starts gunicorn twice with the same settings (workers, threads): Navette, and a Flask app
   whose one view returns "Bonjour" (the ceiling of Flask + gunicorn on this machine);
3. drives load from a separate process: wrk (Debian package `wrk`) when installed, else a
   Python generator (threads + http.client, keep-alive when the server allows it). Every page
   gets a warm-up (not counted) before each measured run; the pages are interleaved and the
   whole set is repeated, and the hello-world page is measured in every round;
4. prints a table: page, requests/s, p50 and p95 latency (medians over the rounds), the
   page's requests/s as a share of the hello-world's of the same round (median over rounds),
   and the CPU time the server's processes spent per request (read from /proc, all workers):
   on a machine shared with other work, throughput follows the load but CPU per request
   hardly does, so "share by CPU" (hello-world's CPU per request / the page's) is the steadier
   figure of the two.

Pages: the public agenda and a session page as a visitor, the agenda of a signed-in carer
(distance sort, their bookings), and bookings: a signed-in carer POSTs a booking with its CSRF
token and cancels it at once (so seats stay free), one thread per (person, session) pair.
Target: agenda and session pages at ≥ 40 % of the hello-world. Bookings: measured, no target.

The load generator shares the machine with the servers: compare figures from the same run only.
Every gunicorn started here is stopped on exit, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime as dt
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

from flask import Flask

HERE = str(Path(__file__).resolve().parent)
ROOT = Path(__file__).resolve().parent.parent
CARER = "aidant"  # the demo carer of Jeanne and André Delpech
DEMO_PASSWORD = "navette-demo"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

# The baseline: Flask with one view, served by the same gunicorn settings.
hello_app = Flask("hello")


@hello_app.get("/")
def hello() -> str:
    return "Bonjour"


# --- servers ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def gunicorn(
    app: str, env: dict[str, str], args: argparse.Namespace, log: Path, *extra: str
) -> Iterator[tuple[str, int]]:
    """Serve `app` with gunicorn on a free loopback port; stop it (and its workers) on exit.

    Yields the base URL and the process group of the master and its workers."""
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
        "--workers", str(args.workers), "--threads", str(args.threads),
        "--log-level", "warning", *extra, app,
    ]  # fmt: skip
    with log.open("ab") as out:
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, server, log)
        yield base, server.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def wait_until_up(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn stopped at start (exit {server.returncode}); see {log}")
        with contextlib.suppress(OSError):
            if fetch(base, "/").status == 200:
                return
        time.sleep(0.2)
    sys.exit(f"gunicorn did not answer within 60 s; see {log}")


def cpu_seconds(group: int) -> float:
    """CPU time (user + system) used so far by the processes of a process group."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == group:  # pgrp
                total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


# --- a tiny HTTP client (sign-in, CSRF, bookings) -----------------------------------------------


@dataclass
class Answer:
    status: int
    location: str
    body: str
    cookies: dict[str, str]


def fetch(
    base: str,
    path: str,
    *,
    cookies: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    conn: http.client.HTTPConnection | None = None,
) -> Answer:
    """One request; POST `form` url-encoded if given. Redirects are not followed."""
    netloc = urllib.parse.urlsplit(base).netloc
    own = conn is None
    conn = conn or http.client.HTTPConnection(netloc, timeout=60)
    headers = {"Host": netloc}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request("POST" if form is not None else "GET", path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        jar: dict[str, str] = {}
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                jar[name] = morsel.value
        if response.will_close:
            conn.close()
        return Answer(response.status, response.getheader("Location") or "", text, jar)
    finally:
        if own:
            conn.close()


def sign_in(base: str, username: str) -> dict[str, str]:
    """Sign in through the form (with its CSRF token); return the session cookies."""
    page = fetch(base, "/connexion")
    cookies = dict(page.cookies)
    token = CSRF.search(page.body)
    assert token, "no CSRF token on /connexion"
    answer = fetch(
        base,
        "/connexion",
        cookies=cookies,
        form={"csrf_token": token.group(1), "username": username, "password": DEMO_PASSWORD},
    )
    assert answer.status == 302, f"sign-in of {username} answered {answer.status}"
    cookies.update(answer.cookies)
    return cookies


def csrf_for(base: str, path: str, cookies: dict[str, str]) -> tuple[str, dict[str, str]]:
    """A form page's CSRF token, and the cookies as they are once the token is in the session."""
    page = fetch(base, path, cookies=cookies)
    assert page.status == 200, f"{path} answered {page.status}"
    token = CSRF.search(page.body)
    assert token, f"no CSRF token on {path}"
    return token.group(1), {**cookies, **page.cookies}


# --- load generators ----------------------------------------------------------------------------


@dataclass
class Run:
    """One measured run of one page."""

    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    errors: int
    cpu_ms: float = float("nan")  # the server's CPU time per request (all its processes)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95),
    e.status + e.connect + e.read + e.write + e.timeout))
end
"""


def wrk_run(
    url: str, seconds: float, connections: int, cookies: dict[str, str], script: Path
) -> Run:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(round(seconds), 1)}s", "--timeout", "30s"]
    command += ["-s", str(script)]  # a slow answer is measured, not dropped as a 2 s time-out
    if cookies:
        command += ["-H", "Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items())]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    found = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    assert found, out
    requests, micros, p50, p95, errors = (int(x) for x in found.groups())
    return Run(requests, micros / 1e6, p50 / 1000, p95 / 1000, errors)


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)]


def python_get_run(url: str, seconds: float, connections: int, cookies: dict[str, str]) -> Run:
    """GET `url` from `connections` threads, each waiting for its answer (closed loop)."""
    parts = urllib.parse.urlsplit(url)
    base, path = f"{parts.scheme}://{parts.netloc}", parts.path or "/"
    deadline = time.perf_counter() + seconds
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections

    def worker(n: int) -> None:
        conn = http.client.HTTPConnection(parts.netloc, timeout=60)
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                status = fetch(base, path, cookies=cookies, conn=conn).status
            except (OSError, http.client.HTTPException):
                conn.close()
                status = 0
            latencies[n].append(time.perf_counter() - start)
            if status != 200:
                errors[n] += 1
        conn.close()

    began = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    every = [x * 1000 for lat in latencies for x in lat]
    return Run(len(every), elapsed, _percentile(every, 0.5), _percentile(every, 0.95), sum(errors))


def booking_run(
    base: str,
    seconds: float,
    cookies: dict[str, str],
    token: str,
    pairs: list[tuple[int, int]],
) -> tuple[Run, Run]:
    """Each thread books its (person, session) pair and cancels it, again and again.

    Returns the booking POSTs and the cancelling POSTs as two runs. A POST that does not
    redirect where it should counts as an error (and the thread stops, to keep seats sane).
    """
    netloc = urllib.parse.urlsplit(base).netloc
    deadline = time.perf_counter() + seconds
    books: list[float] = []
    cancels: list[float] = []
    errors = [0, 0]
    lock = threading.Lock()

    def worker(person_id: int, session_id: int) -> None:
        conn = http.client.HTTPConnection(netloc, timeout=60)
        form = {"csrf_token": token, "person_id": str(person_id), "companions": "0"}
        form |= {"pickup_address": "", "confirmed": "yes"}
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            booked = fetch(
                base, f"/seances/{session_id}/reserver", cookies=cookies, form=form, conn=conn
            )
            middle = time.perf_counter()
            found = re.search(r"/reservations/(\d+)\?new=1", booked.location)
            if booked.status != 302 or not found:
                with lock:
                    errors[0] += 1
                return
            cancelled = fetch(
                base,
                f"/reservations/{found.group(1)}/annuler",
                cookies=cookies,
                form={"csrf_token": token},
                conn=conn,
            )
            end = time.perf_counter()
            with lock:
                books.append((middle - start) * 1000)
                cancels.append((end - middle) * 1000)
                if cancelled.status != 302 or not cancelled.location.endswith("/reservations"):
                    errors[1] += 1
        conn.close()

    began = time.perf_counter()
    threads = [threading.Thread(target=worker, args=pair) for pair in pairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    return (
        Run(len(books), elapsed, _percentile(books, 0.5), _percentile(books, 0.95), errors[0]),
        Run(
            len(cancels), elapsed, _percentile(cancels, 0.5), _percentile(cancels, 0.95), errors[1]
        ),
    )


# --- the demo database --------------------------------------------------------------------------


def load_demo(env: dict[str, str], log: Path, postgres: bool) -> None:
    flask = [sys.executable, "-m", "flask", "--app", "webapp", "demo"]
    steps = [
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        flask + (["--reset"] if postgres else []),
    ]
    for command in steps:
        with log.open("ab") as out:
            done = subprocess.run(command, cwd=ROOT, env=env, stdout=out, stderr=out)
        if done.returncode:
            sys.exit(f"{' '.join(command[1:])} failed; see {log}")


def bookable_pairs(database_url: str, count: int) -> tuple[list[tuple[int, int]], int]:
    """(person, session) pairs the demo carer may book and cancel, and a session to show.

    Sessions without transport (no rounds to re-plan), at least three days ahead, with seats
    for everybody; the carer's persons in turn, each on a session of its own.
    """
    from sqlalchemy import select

    from scheduling.db import make_engine, make_session_factory
    from scheduling.models import ActivitySession, SessionStatus, User
    from scheduling.people import persons_visible_to

    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as db:
            carer = db.scalar(select(User).where(User.username == CARER))
            assert carer is not None, "the demo carer is missing"
            persons = sorted(p.id for p in persons_visible_to(db, carer))
            soon = dt.datetime.now() + dt.timedelta(days=3)
            sessions = db.scalars(
                select(ActivitySession)
                .where(
                    ActivitySession.centre_id == carer.centre_id,
                    ActivitySession.status == SessionStatus.scheduled,
                    ActivitySession.starts_at > soon,
                )
                .order_by(ActivitySession.starts_at, ActivitySession.id)
            ).all()
            shown = sessions[0].id
            # Seats taken are not read here: each pair books at most one place at a time.
            free = [s.id for s in sessions if not s.transport_offered and s.seats > count]
    finally:
        engine.dispose()
    if len(free) < count:
        sys.exit(f"only {len(free)} sessions without transport to book; asked {count}")
    return [(persons[n % len(persons)], free[n]) for n in range(count)], shown


# --- the measurement ----------------------------------------------------------------------------


@dataclass
class Page:
    name: str
    server: str  # "hello" or "navette"
    path: str = "/"
    signed_in: bool = False
    runs: list[Run] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    cpu_ratios: list[float] = field(default_factory=list)


def measure(args: argparse.Namespace) -> None:
    use_wrk = args.generator == "wrk" or (args.generator == "auto" and shutil.which("wrk"))
    folder = Path(tempfile.mkdtemp(prefix="navette-web-"))
    log = folder / "servers.log"
    database_url = args.database_url or f"sqlite:///{folder / 'navette.sqlite3'}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_hex(32),  # the same in every worker
        "NAVETTE_GEOCODER": "offline",  # no address leaves the machine
        "NAVETTE_INSECURE_COOKIES": "1",  # plain http on the loopback
        "NAVETTE_QUEUE": f"sqlite:///{folder / 'jobs.sqlite3'}",
    }
    for name in ("MAIL_SERVER", "NAVETTE_DEFAULT_CENTRE"):
        env.pop(name, None)  # e-mails go to the log; the demo centre is the one shown
    print(f"Demo data into {database_url} …", flush=True)
    load_demo(env, log, postgres=bool(args.database_url))
    pairs, shown = bookable_pairs(database_url, args.booking_threads)
    script = folder / "report.lua"
    script.write_text(WRK_SCRIPT)

    pages = [
        Page("hello-world (Flask, same gunicorn)", "hello"),
        Page("agenda, visitor", "navette", "/"),
        Page("session page, visitor", "navette", f"/seances/{shown}"),
        Page("agenda, signed-in carer", "navette", "/", signed_in=True),
        Page("session page, signed-in carer", "navette", f"/seances/{shown}", signed_in=True),
    ]
    books = Page("booking POST (carer, CSRF)", "navette")
    cancels = Page("cancelling POST (carer, CSRF)", "navette")
    load_start = os.getloadavg()
    started = dt.datetime.now(dt.UTC)
    generator = "wrk" if use_wrk else "python"
    print(
        f"gunicorn --workers {args.workers} --threads {args.threads} for both apps; "
        f"{generator}, {args.connections} connections, warm-up {args.warmup} s, "
        f"{args.duration} s a run, {args.repeat} rounds",
        flush=True,
    )
    pool = concurrent.futures.ProcessPoolExecutor(max_workers=1)  # the load's own process
    with (
        pool,
        gunicorn("web:hello_app", env, args, log, "--pythonpath", HERE) as (hello_base, hello_pg),
        gunicorn("webapp:create_app()", env, args, log) as (navette_base, navette_pg),
    ):
        bases = {"hello": hello_base, "navette": navette_base}
        groups = {"hello": hello_pg, "navette": navette_pg}
        cookies = sign_in(navette_base, CARER)
        token, cookies = csrf_for(navette_base, f"/seances/{pairs[0][1]}/reserver", cookies)
        for page in pages:  # every page answers 200 before it is loaded
            jar = cookies if page.signed_in else None
            answer = fetch(bases[page.server], page.path, cookies=jar)
            assert answer.status == 200, f"{page.name}: {page.path} answered {answer.status}"

        def get(page: Page, seconds: float) -> Run:
            url = bases[page.server] + page.path
            jar = cookies if page.signed_in else {}
            cpu = cpu_seconds(groups[page.server])
            if use_wrk:
                run = wrk_run(url, seconds, args.connections, jar, script)
            else:
                run = pool.submit(python_get_run, url, seconds, args.connections, jar).result()
            run.cpu_ms = (cpu_seconds(groups[page.server]) - cpu) * 1000 / max(run.requests, 1)
            return run

        for round_no in range(1, args.repeat + 1):
            for page in pages:
                get(page, args.warmup)
                page.runs.append(get(page, args.duration))
            pool.submit(booking_run, navette_base, args.warmup, cookies, token, pairs).result()
            cpu = cpu_seconds(navette_pg)
            booked, cancelled = pool.submit(
                booking_run, navette_base, args.duration, cookies, token, pairs
            ).result()
            booked.cpu_ms = (cpu_seconds(navette_pg) - cpu) * 1000 / max(booked.requests, 1)
            books.runs.append(booked)
            cancels.runs.append(cancelled)
            hello = pages[0].runs[-1]
            for page in [*pages, books, cancels]:
                page.ratios.append(page.runs[-1].rps / hello.rps)
                page.cpu_ratios.append(hello.cpu_ms / page.runs[-1].cpu_ms)
            print(
                f"round {round_no}: "
                + ", ".join(f"{p.name.split(',')[0]} {p.runs[-1].rps:.0f}/s" for p in pages)
                + f", bookings {booked.rps:.1f}/s; load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    load_end = os.getloadavg()
    print()
    print(
        f"{started:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, load average "
        f"{load_start[0]:.1f} at start, {load_end[0]:.1f} at end; medians of {args.repeat} rounds"
    )
    print()
    print(
        "| page | requests/s | p50 ms | p95 ms | share of hello-world | server CPU ms/request "
        "| share by CPU | errors |"
    )
    print("|---|---|---|---|---|---|---|---|")
    med = statistics.median
    for page in [*pages, books, cancels]:
        cpu = f"{med(r.cpu_ms for r in page.runs):.2f}"
        by_cpu = f"{med(page.cpu_ratios):.0%}"
        if page is books:  # the CPU of the whole cycle, booking and cancelling
            cpu, by_cpu = f"{cpu} (booking + cancelling)", ""
        elif page is cancels:
            cpu, by_cpu = "(with the booking)", ""
        print(
            f"| {page.name} | {med(r.rps for r in page.runs):.0f} "
            f"| {med(r.p50_ms for r in page.runs):.1f} | {med(r.p95_ms for r in page.runs):.1f} "
            f"| {med(page.ratios):.0%} | {cpu} | {by_cpu} | {sum(r.errors for r in page.runs)} |"
        )
    shutil.rmtree(folder) if not args.keep else print(f"\nKept {folder}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL scratch database (default: SQLite)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (both apps)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (both apps)")
    parser.add_argument("--connections", type=int, default=4, help="concurrent connections")
    parser.add_argument("--duration", type=float, default=10, help="seconds of each run")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up per run")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (medians are printed)")
    parser.add_argument("--booking-threads", type=int, default=2, help="carers booking at once")
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--keep", action="store_true", help="keep the database and server log")
    measure(parser.parse_args(argv))


if __name__ == "__main__":
    main()
