"""Cordeau's DARP benchmark: convert, solve, check, compare with the proven optimum.

    .venv/bin/python benchmarks/darp.py --time-limit 10            # the 24 "a" instances
    .venv/bin/python benchmarks/darp.py --time-limit 2 --only a2-   # a subset while iterating

Each instance is converted to the routing contract (euclidean, speed 1, not rounded; start depot
node 0 and end depot node 2n+1; depot window [0, T] = vehicle availability; max duration T;
max ride L; service d), solved by routing.solver.solve with the given time limit, and the
solution is verified by routing.check.check (independent of the solver). The table gives, per
instance: the optimum of bks.csv, our cost (total distance), the gap to the optimum in %,
whether check() found no violation, the number of unserved requests and the wall-clock seconds
(conversion excluded, solve + everything inside it included). Time limits are wall-clock: on a
busy machine the same command gives worse gaps; the load average is printed with the table.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from routing import alns, solver
from routing.check import check
from routing.problem import Problem
from routing.solver import solve

DATA = Path(os.environ.get("DARP_DATA", "/work/shared/benchmarks/darp"))
WIDE = 1440.0  # a window written "0 1440" means: no window


def read_cordeau(path: Path) -> dict[str, Any]:
    """One cordeau2006 file (aK-n / bK-n) as a contract problem dictionary."""
    lines = [line.split() for line in path.read_text().splitlines() if line.strip()]
    k, n, horizon, capacity, max_ride = lines[0][:5]
    vehicles, requests = int(k), int(n)
    rows = [[float(value) for value in line] for line in lines[1:]]
    if len(rows) != 2 * requests + 2:
        raise ValueError(f"{path.name}: {len(rows)} nodes, expected {2 * requests + 2}")

    def window(row: list[float]) -> list[float] | None:
        early, late = row[5], row[6]
        return None if early <= 0 and late >= WIDE else [early, late]

    locations = [{"id": f"n{int(row[0])}", "x": row[1], "y": row[2]} for row in rows]
    start, end = rows[0], rows[-1]
    available = [max(start[5], end[5]), min(start[6], end[6])]
    fleet = [
        {
            "id": f"v{v + 1}",
            "start": locations[0]["id"],
            "end": locations[-1]["id"],
            "capacity": {"seats": int(capacity)},
            "available": available,
            "max_duration": float(horizon),
        }
        for v in range(vehicles)
    ]
    reqs = []
    for i in range(1, requests + 1):
        pick, drop = rows[i], rows[requests + i]
        request: dict[str, Any] = {
            "id": f"r{i}",
            "pickup": locations[i]["id"],
            "dropoff": locations[requests + i]["id"],
            "load": {"seats": int(pick[4])},
            "pickup_service": pick[3],
            "dropoff_service": drop[3],
            "max_ride": float(max_ride),
        }
        if window(pick) is not None:
            request["pickup_window"] = window(pick)
        if window(drop) is not None:
            request["dropoff_window"] = window(drop)
        reqs.append(request)
    return {
        "name": path.stem,
        "travel": {"kind": "euclidean", "speed": 1.0},
        "locations": locations,
        "vehicles": fleet,
        "requests": reqs,
    }


def optimum_table() -> dict[str, float]:
    with (DATA / "bks.csv").open() as handle:
        return {row["instance"]: float(row["bks_cost"]) for row in csv.DictReader(handle)}


def instance_names(pattern: str | None) -> list[Path]:
    files = sorted((DATA / "cordeau2006").glob("a*.txt"), key=_order)
    if pattern:
        files = [
            f
            for f in sorted((DATA / "cordeau2006").glob("*.txt"), key=_order)
            if any(fnmatch.fnmatch(f.stem, p) or f.stem.startswith(p) for p in pattern.split(","))
        ]
    return files


def _order(path: Path) -> tuple[str, int, int]:
    kind, rest = path.stem[0], path.stem[1:]
    vehicles, requests = rest.split("-")
    return kind, int(vehicles), int(requests)


def _progress(name: str) -> Callable[[str], None]:
    def say(message: str) -> None:
        print(f"  {name}: {message}", file=sys.stderr)

    return say


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per instance")
    parser.add_argument(
        "--only",
        help="comma-separated instance name prefixes or globs, e.g. a2-,a8-96 or 'a[78]-*'",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", action="store_true", help="solver progress on stderr")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=PYTHON",
        help=(
            "experiment: override a tuning constant of routing.solver (or of routing.alns, "
            "prefixed 'alns.'), e.g. _PARALLEL=False or alns._WORSE=0.01"
        ),
    )
    args = parser.parse_args(argv)
    for assignment in args.set:
        name, _, value = assignment.partition("=")
        module, _, constant = name.rpartition(".")
        target = alns if module == "alns" else solver
        if module not in ("", "alns") or not hasattr(target, constant):
            parser.error(f"routing.solver or routing.alns has no {name}")
        # a developer's own command line
        setattr(target, constant, eval(value, vars(target)))

    optimum = optimum_table()
    files = instance_names(args.only)
    if not files:
        print(f"no instance matches {args.only!r}", file=sys.stderr)
        return 2
    if args.set:
        print(f"# solver settings changed: {', '.join(args.set)}")
    print(
        f"# DARP benchmark: time limit {args.time_limit:g} s, seed {args.seed}, "
        f"{os.cpu_count()} cpus, load average at start {os.getloadavg()[0]:.2f}"
    )
    header = f"{'instance':<8} {'optimum':>9} {'cost':>9} {'gap %':>7} {'feasible':>8} "
    header += f"{'unserved':>8} {'seconds':>7}"
    print(header)
    gaps: list[float] = []
    all_feasible = True
    for path in files:
        problem = Problem.from_dict(read_cordeau(path))
        log = _progress(path.stem) if args.verbose else None
        began = time.monotonic()
        solution = solve(problem, time_limit=args.time_limit, seed=args.seed, log=log)
        seconds = time.monotonic() - began
        violations = check(problem, solution)
        feasible = not violations and not solution.unserved
        all_feasible &= feasible
        best = optimum.get(path.stem)
        gap = 100.0 * (solution.distance - best) / best if best else float("nan")
        if best:
            gaps.append(gap)
        print(
            f"{path.stem:<8} {best or float('nan'):>9.2f} {solution.distance:>9.2f} {gap:>7.2f} "
            f"{'yes' if feasible else 'NO':>8} {len(solution.unserved):>8} {seconds:>7.2f}",
            flush=True,
        )
        for violation in violations[:5]:
            print(f"    violation: {violation}")
    if gaps:
        print(
            f"# {len(gaps)} instances: mean gap {sum(gaps) / len(gaps):.2f} %, "
            f"worst gap {max(gaps):.2f} %, all feasible and complete: "
            f"{'yes' if all_feasible else 'NO'}; load average at end {os.getloadavg()[0]:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
