"""A generated rural day around Bergerac: generate, solve, check.

    .venv/bin/python benchmarks/rural.py --requests 1000 --seed 1 --time-limit 60
    .venv/bin/python benchmarks/rural.py --requests 200 --seed 1 -o /tmp/day.json --no-solve

The day: participants live in the real communes within 30 km of Bergerac
(shared/data/communes-dordogne.csv; homes scattered around each village centre, more people
where the population is larger) and attend sessions in five venues (two in Bergerac, Lalinde,
Eymet, Mussidan), four sessions a day each (two in the morning, two in the afternoon) at
staggered times. Each participant has an outbound trip (dropoff window: between 40 and 5
minutes before the session) and, most of the time, a return trip (pickup window: the 30
minutes after the session ends). About 10 % use a walker (longer boarding), about 5 % a
wheelchair (a wheelchair place instead of a seat, longer boarding). Maximum ride: 20 minutes +
1.5 × the direct ride. Travel: WGS-84 geodesic × 1.3 at 45 km/h. Fleet: minibuses (8 seats +
1 wheelchair) and adapted vans (4 seats + 2 wheelchairs) based at the CRT depot all day, and
volunteer cars (3 seats) that start and end at their driver's home for a half day; sized from
the number of requests so that almost every trip is servable.

The output reports requests, served, unserved (with their reasons), vehicles used, distance,
seconds and whether routing.check found any violation.
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import math
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

from routing.check import check
from routing.problem import Problem
from routing.solver import solve
from routing.travel import travel_matrices

COMMUNES = Path(os.environ.get("COMMUNES_CSV", "/work/shared/data/communes-dordogne.csv"))
CENTRE = (44.85157, 0.48171)  # Bergerac
RADIUS_KM = 30.0
VENUES = [  # (id, commune, offset in km east/north of its centre)
    ("crt-bergerac", "Bergerac", (0.6, 0.3)),
    ("salle-bergerac", "Bergerac", (-1.2, 0.8)),
    ("foyer-lalinde", "Lalinde", (0.2, -0.1)),
    ("salle-eymet", "Eymet", (-0.3, 0.2)),
    ("centre-mussidan", "Mussidan", (0.1, 0.3)),
]
# Each venue runs four sessions a day; venue v starts 15 min after venue v-1, so that the
# arrivals of a day spread over the morning and the afternoon as a CRT would plan them.
SESSION_STARTS = [540, 645, 825, 930]  # 9:00, 10:45, 13:45, 15:30 for the first venue
SESSION_MINUTES = [90, 90, 120]


def load_communes() -> list[dict[str, Any]]:
    with COMMUNES.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    communes = []
    for row in rows:
        lat, lon = float(row["lat"]), float(row["lon"])
        if _km(CENTRE, (lat, lon)) <= RADIUS_KM:
            communes.append(
                {"name": row["nom"], "lat": lat, "lon": lon, "pop": int(row["population"])}
            )
    return communes


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Equirectangular approximation, good enough to choose villages."""
    dlat = math.radians(b[0] - a[0])
    dlon = math.radians(b[1] - a[1]) * math.cos(math.radians((a[0] + b[0]) / 2))
    return 6371.0 * math.hypot(dlat, dlon)


def _shift(lat: float, lon: float, east_km: float, north_km: float) -> tuple[float, float]:
    return (
        round(lat + north_km / 111.2, 6),
        round(lon + east_km / (111.2 * math.cos(math.radians(lat))), 6),
    )


def generate(requests: int, seed: int) -> dict[str, Any]:
    """A contract problem dictionary with about `requests` requests."""
    rng = random.Random(seed)
    communes = load_communes()
    by_name = {c["name"]: c for c in communes}
    locations: list[dict[str, Any]] = [{"id": "depot-crt", "lat": 44.8533, "lon": 0.4833}]
    venues = []
    for venue_id, commune, (east, north) in VENUES:
        c = by_name[commune]
        lat, lon = _shift(c["lat"], c["lon"], east, north)
        locations.append({"id": venue_id, "lat": lat, "lon": lon})
        venues.append((venue_id, (lat, lon)))
    # Sessions: each venue has a morning and an afternoon session at a staggered time.
    sessions = []
    for v, (venue_id, position) in enumerate(venues):
        for first in SESSION_STARTS:
            start = first + 15 * ((v + seed) % len(venues))
            sessions.append((venue_id, position, start, start + rng.choice(SESSION_MINUTES)))
    weights = [c["pop"] ** 0.7 for c in communes]
    reqs: list[dict[str, Any]] = []
    person = 0
    while len(reqs) < requests:
        person += 1
        village = rng.choices(communes, weights)[0]
        spread = 0.6 if village["pop"] < 3000 else 2.0
        lat, lon = _shift(
            village["lat"], village["lon"], rng.gauss(0, spread), rng.gauss(0, spread)
        )
        home = f"home-{person}"
        locations.append({"id": home, "lat": lat, "lon": lon})
        # People go to a venue near them, mostly.
        closeness = [1.0 / (3.0 + _km((lat, lon), s[1])) ** 2 for s in sessions]
        venue_id, _position, start, end = rng.choices(sessions, closeness)[0]
        mobility = rng.random()
        if mobility < 0.05:
            load, service = {"seats": 0, "wheelchairs": 1}, 6.0
        elif mobility < 0.15:
            load, service = {"seats": 1, "wheelchairs": 0}, 4.0
        else:
            load, service = {"seats": 1, "wheelchairs": 0}, 2.0
        common = {"load": load, "pickup_service": service, "dropoff_service": service}
        reqs.append(
            {
                "id": f"p{person}-aller",
                "pickup": home,
                "dropoff": venue_id,
                "dropoff_window": [start - 40, start - 5],
                **common,
            }
        )
        if len(reqs) < requests and rng.random() < 0.9:
            reqs.append(
                {
                    "id": f"p{person}-retour",
                    "pickup": venue_id,
                    "dropoff": home,
                    "pickup_window": [end, end + 30],
                    **common,
                }
            )
    vehicles = _fleet(requests, communes, locations, rng)
    problem: dict[str, Any] = {
        "name": f"rural-bergerac-{requests}-seed{seed}",
        "travel": {"kind": "geodesic", "speed_kmh": 45, "circuity": 1.3},
        "locations": locations,
        "vehicles": vehicles,
        "requests": reqs,
    }
    _set_max_ride(problem)
    return problem


def _fleet(
    requests: int,
    communes: list[dict[str, Any]],
    locations: list[dict[str, Any]],
    rng: random.Random,
) -> list[dict[str, Any]]:
    per_thousand = requests / 1000.0
    fleet: list[dict[str, Any]] = []
    for i in range(max(1, round(20 * per_thousand))):
        fleet.append(
            {
                "id": f"minibus-{i + 1}",
                "start": "depot-crt",
                "end": "depot-crt",
                "capacity": {"seats": 8, "wheelchairs": 1},
                "available": [450, 1200],
                "max_duration": 600,
            }
        )
    for i in range(max(1, round(12 * per_thousand))):
        fleet.append(
            {
                "id": f"van-{i + 1}",
                "start": "depot-crt",
                "end": "depot-crt",
                "capacity": {"seats": 4, "wheelchairs": 2},
                "available": [450, 1200],
                "max_duration": 600,
            }
        )
    big = [c for c in communes if c["pop"] >= 800]
    for i in range(max(1, round(28 * per_thousand))):
        village = rng.choice(big)
        lat, lon = _shift(village["lat"], village["lon"], rng.gauss(0, 0.5), rng.gauss(0, 0.5))
        home = f"volunteer-{i + 1}"
        locations.append({"id": home, "lat": lat, "lon": lon})
        morning = i % 2 == 0
        fleet.append(
            {
                "id": f"voiture-{i + 1}",
                "start": home,
                "end": home,
                "capacity": {"seats": 3, "wheelchairs": 0},
                "available": [450, 780] if morning else [780, 1200],
                "max_duration": 300,
            }
        )
    return fleet


def _set_max_ride(problem: dict[str, Any]) -> None:
    """max_ride = 20 min + 1.5 × the direct ride (computed with the contract's travel model)."""
    draft = Problem.from_dict(problem)
    _distance, duration = travel_matrices(draft)
    index = {loc["id"]: i for i, loc in enumerate(problem["locations"])}
    for request in problem["requests"]:
        direct = float(duration[index[request["pickup"]], index[request["dropoff"]]])
        request["max_ride"] = round(20.0 + 1.5 * direct, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("-o", "--output", help="write the generated problem to this JSON file")
    parser.add_argument("--solution", help="write the solution to this JSON file")
    parser.add_argument("--no-solve", action="store_true", help="only generate")
    parser.add_argument("--verbose", action="store_true", help="solver progress on stderr")
    args = parser.parse_args(argv)

    data = generate(args.requests, args.seed)
    if args.output:
        Path(args.output).write_text(json.dumps(data, ensure_ascii=False, indent=1))
    problem = Problem.from_dict(data)
    fleet = collections.Counter(v.id.split("-")[0] for v in problem.vehicles)
    print(
        f"# {problem.name}: {len(problem.requests)} requests, {len(problem.locations)} locations, "
        f"fleet {dict(fleet)}; {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f}"
    )
    if args.no_solve:
        return 0
    log = (lambda message: print(f"  {message}", file=sys.stderr)) if args.verbose else None
    began = time.monotonic()
    solution = solve(problem, time_limit=args.time_limit, seed=args.seed, log=log)
    seconds = time.monotonic() - began
    violations = check(problem, solution)
    if args.solution:
        Path(args.solution).write_text(json.dumps(solution.to_dict(), ensure_ascii=False))
    served = len(problem.requests) - len(solution.unserved)
    used = [route.vehicle for route in solution.routes if route.stops]
    print(
        f"time limit {args.time_limit:g} s: served {served}, unserved {len(solution.unserved)}, "
        f"vehicles used {len(used)}/{len(problem.vehicles)}, distance {solution.distance:.1f} km, "
        f"{seconds:.1f} s, feasible (check): {'yes' if not violations else 'NO'}; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    reasons = collections.Counter(item.reason for item in solution.unserved)
    for reason, count in reasons.most_common():
        print(f"  unserved {count:4d} × {reason}")
    for violation in violations[:10]:
        print(f"  violation: {violation}")
    return 0 if not violations else 1


if __name__ == "__main__":
    sys.exit(main())
