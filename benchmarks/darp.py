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

    .venv/bin/python benchmarks/darp.py --time-limit 10 --vroom    # + VROOM as a peer
    .venv/bin/python benchmarks/darp.py --vroom-only               # VROOM alone (under a minute)

VROOM (the pyvroom package, a dev dependency) solves the same converted problem as a peer
(`vroom_solve`): shipments with their windows, service times and loads, vehicles with their
hours and capacity, our travel matrices scaled to integers. VROOM has no maximum ride time, so
its routes are converted to our Solution and checked by routing.check.check: the table gives
VROOM's cost (exact total distance of its routes), its gap to the optimum, how many passengers
ride longer than allowed (and how many still would with its stops re-timed at best), how many
requests it left unassigned, and the seconds of its solve.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from routing import alns, solver
from routing.check import check
from routing.instance import SCALE, down, up
from routing.problem import Problem
from routing.solution import Route, Solution, Stop, Unserved
from routing.solver import solve
from routing.travel import travel_matrices

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


# --- VROOM as a peer ------------------------------------------------------------------------------
# VROOM works in integers: times and costs are scaled by routing.instance.SCALE (1/1000 minute,
# 1/1000 distance unit) as our solver does, travel and service times rounded up and window ends
# rounded down, so that VROOM's integer schedule is also a schedule with the exact float times.
# What VROOM cannot express: the maximum ride time (nothing like it in VROOM), and a maximum
# route duration that counts waiting (VROOM's max_travel_time counts driving only; it is given
# as a weaker bound when the duration is tighter than the vehicle's hours; on Cordeau's
# instances it is not, the depot window [0, T] already bounds the route duration by T).

_RIDE_MESSAGE = re.compile(r" : trajet de \S+ min, plus long que la durée maximale ")


@dataclass(frozen=True)
class VroomResult:
    """VROOM's plan as our Solution, and what routing.check.check says about it."""

    solution: Solution
    seconds: float  # wall clock of VROOM's solve, input building and conversion excluded
    ride_violations: int  # check() messages about a ride longer than the request's max_ride
    rides_over: int  # the same counted here: ride > max_ride + 1e-6 (check() allows 1e-3)
    other_violations: list[str]  # every other check() message (expected: none)
    longest_excess: float  # the worst ride minus its bound, minutes (0 when none is over)
    retimed: int  # rides still over after re-timing VROOM's stops (see _retimed_rides)


def vroom_input(problem: Problem, matrices: tuple[Any, Any] | None = None) -> Any:
    """The problem as a pyvroom Input: request k is shipment k (pickup id 2k, delivery 2k+1)."""
    import vroom  # a dev dependency: only this peer needs it

    distance, duration = matrices if matrices is not None else travel_matrices(problem)
    dimensions = problem.dimensions
    index = problem.location_index
    data = vroom.Input()
    data.set_durations_matrix("car", np.ceil(duration * SCALE - 1e-6).astype(np.uint32))
    data.set_costs_matrix("car", np.rint(distance * SCALE).astype(np.uint32))

    def windows(window: tuple[float, float] | None) -> list[Any]:
        return [] if window is None else [vroom.TimeWindow(up(window[0]), down(window[1]))]

    for k, request in enumerate(problem.requests):
        data.add_shipment(
            vroom.ShipmentStep(
                2 * k,
                location=index(request.pickup),
                default_service=up(request.pickup_service),
                time_windows=windows(request.pickup_window),
            ),
            vroom.ShipmentStep(
                2 * k + 1,
                location=index(request.dropoff),
                default_service=up(request.dropoff_service),
                time_windows=windows(request.dropoff_window),
            ),
            amount=vroom.Amount([request.load.get(name, 0) for name in dimensions]),
        )
    for v, vehicle in enumerate(problem.vehicles):
        hours = vehicle.available
        limit = vehicle.max_duration
        data.add_vehicle(
            vroom.Vehicle(
                v,
                start=index(vehicle.start),
                end=index(vehicle.end),
                capacity=vroom.Amount([vehicle.capacity.get(name, 0) for name in dimensions]),
                time_window=vroom.TimeWindow(up(hours[0]), down(hours[1])),
                max_travel_time=down(limit) if limit and limit < hours[1] - hours[0] else None,
            )
        )
    return data


def vroom_solve(problem: Problem, threads: int = 1, exploration: int = 5) -> VroomResult:
    """Solve with VROOM (exploration 5 is VROOM's default) and check its plan with our checker.

    The begin times are VROOM's own (integer, /SCALE): a stop begins at VROOM's arrival plus
    its waiting time. Distances are recomputed exactly from our float matrix, not VROOM's
    integer costs. Ride times are not re-optimised: VROOM starts its routes as late as it can
    without waiting, and a different timing of the same stops might shorten some rides.
    """
    distance, duration = travel_matrices(problem)
    data = vroom_input(problem, (distance, duration))
    began = time.monotonic()
    answer = data.solve(exploration_level=exploration, nb_threads=threads).to_dict()
    seconds = time.monotonic() - began
    solution = _vroom_solution(problem, distance, answer)
    violations = check(problem, solution)
    rides = [message for message in violations if _RIDE_MESSAGE.search(message)]
    requests = {request.id: request for request in problem.requests}
    excess, over = 0.0, 0
    for route in solution.routes:
        boarded = {stop.request: stop.departure for stop in route.stops if stop.type == "pickup"}
        for stop in route.stops:
            bound = requests[stop.request].max_ride
            if stop.type == "dropoff" and bound is not None:
                ride = stop.begin - boarded[stop.request]
                excess = max(excess, ride - bound)
                over += ride > bound + 1e-6
    return VroomResult(
        solution=solution,
        seconds=seconds,
        ride_violations=len(rides),
        rides_over=over,
        other_violations=[message for message in violations if message not in rides],
        longest_excess=excess,
        retimed=_retimed_rides(problem, duration, solution),
    )


def _retimed_rides(problem: Problem, duration: Any, solution: Solution) -> int:
    """Rides over their bound when VROOM's stops keep their order but get the best begin times.

    One linear program per route (GLOP, exact float times): the same travel, service, window,
    hours and duration rules as check(), and each request's excess ride (ride - max_ride, at
    least 0) summed and minimised. Counts the requests whose excess stays above 1e-6 min: 0 on
    a route means its order can be timed to meet every ride bound; otherwise it is an upper
    bound on what re-timing could do (minimising the total excess, not the count).
    """
    from ortools.linear_solver import pywraplp

    index = problem.location_index
    vehicles = {vehicle.id: vehicle for vehicle in problem.vehicles}
    requests = {request.id: request for request in problem.requests}
    over = 0
    for route in solution.routes:
        vehicle = vehicles[route.vehicle]
        lp = pywraplp.Solver.CreateSolver("GLOP")
        low, high = vehicle.available
        start, end = lp.NumVar(low, high, "start"), lp.NumVar(low, high, "end")
        if vehicle.max_duration is not None:
            lp.Add(end - start <= vehicle.max_duration)
        place, leave = vehicle.start, start
        boarded: dict[str, Any] = {}
        excesses = []
        for i, stop in enumerate(route.stops):
            request = requests[stop.request]
            pickup = stop.type == "pickup"
            window = request.pickup_window if pickup else request.dropoff_window
            begin = lp.NumVar(*(window or (low, high)), f"b{i}")
            lp.Add(begin >= leave + float(duration[index(place), index(stop.location)]))
            service = request.pickup_service if pickup else request.dropoff_service
            place, leave = stop.location, begin + service
            if pickup:
                boarded[request.id] = leave
            elif request.max_ride is not None:
                excess = lp.NumVar(0.0, lp.infinity(), f"e{i}")
                lp.Add(excess >= begin - boarded[request.id] - request.max_ride)
                excesses.append(excess)
        lp.Add(end >= leave + float(duration[index(place), index(vehicle.end)]))
        lp.Minimize(lp.Sum(excesses) if excesses else 0)
        if lp.Solve() != pywraplp.Solver.OPTIMAL:  # never expected: VROOM's times are a solution
            over += len(excesses)
            continue
        over += sum(excess.solution_value() > 1e-6 for excess in excesses)
    return over


def _vroom_solution(problem: Problem, distance: Any, answer: dict[str, Any]) -> Solution:
    index = problem.location_index
    routes: list[Route] = []
    served: set[str] = set()
    for vroom_route in answer.get("routes", []):
        vehicle = problem.vehicles[vroom_route["vehicle"]]
        steps = vroom_route["steps"]
        stops: list[Stop] = []
        for step in steps:
            if step["type"] not in ("pickup", "delivery"):
                continue
            request = problem.requests[step["id"] // 2]
            pickup = step["type"] == "pickup"
            begin = (step["arrival"] + step["setup"] + step["waiting_time"]) / SCALE
            service = request.pickup_service if pickup else request.dropoff_service
            stops.append(
                Stop(
                    request=request.id,
                    type="pickup" if pickup else "dropoff",
                    location=request.pickup if pickup else request.dropoff,
                    arrival=step["arrival"] / SCALE,
                    begin=begin,
                    departure=begin + service,
                )
            )
            served.add(request.id)
        path = [vehicle.start, *(stop.location for stop in stops), vehicle.end]
        routes.append(
            Route(
                vehicle=vehicle.id,
                start=steps[0]["arrival"] / SCALE,
                end=steps[-1]["arrival"] / SCALE,
                distance=float(sum(distance[index(a), index(b)] for a, b in pairwise(path))),
                stops=tuple(stops),
            )
        )
    unserved = [
        Unserved(request.id, "laissée de côté par VROOM")
        for request in problem.requests
        if request.id not in served
    ]
    return Solution(
        routes=tuple(routes),
        unserved=tuple(unserved),
        distance=sum(route.distance for route in routes),
    )


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
    parser.add_argument(
        "--vroom", action="store_true", help="also run VROOM (pyvroom) as a peer, more columns"
    )
    parser.add_argument(
        "--vroom-only", action="store_true", help="run VROOM only, not our solver (fast)"
    )
    parser.add_argument("--vroom-threads", type=int, default=1, help="VROOM's threads")
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
    ours, peer = not args.vroom_only, args.vroom or args.vroom_only
    if args.set:
        print(f"# solver settings changed: {', '.join(args.set)}")
    settings = f"time limit {args.time_limit:g} s, seed {args.seed}" if ours else "VROOM only"
    if peer:
        settings += f", VROOM {_vroom_version()} with {args.vroom_threads} thread(s)"
    print(
        f"# DARP benchmark: {settings}, "
        f"{os.cpu_count()} cpus, load average at start {os.getloadavg()[0]:.2f}"
    )
    header = f"{'instance':<8} {'optimum':>9}"
    if ours:
        header += f" {'cost':>9} {'gap %':>7} {'feasible':>8} {'unserved':>8} {'seconds':>7}"
    if peer:
        header += f" {'vroom':>9} {'gap %':>7} {'ride>L':>9} {'re-timed':>8} {'unassig.':>8}"
        header += f" {'seconds':>7}"
    print(header)
    gaps: list[float] = []
    peer_gaps: list[float] = []
    all_feasible = True
    rides = retimed = requests = unassigned = 0
    longest = 0.0
    for path in files:
        problem = Problem.from_dict(read_cordeau(path))
        best = optimum.get(path.stem)
        line = f"{path.stem:<8} {best or float('nan'):>9.2f}"
        violations: list[str] = []
        if ours:
            log = _progress(path.stem) if args.verbose else None
            began = time.monotonic()
            solution = solve(problem, time_limit=args.time_limit, seed=args.seed, log=log)
            seconds = time.monotonic() - began
            violations = check(problem, solution)
            feasible = not violations and not solution.unserved
            all_feasible &= feasible
            gap = _gap(solution.distance, best, gaps)
            line += (
                f" {solution.distance:>9.2f} {gap:>7.2f} {'yes' if feasible else 'NO':>8} "
                f"{len(solution.unserved):>8} {seconds:>7.2f}"
            )
        if peer:
            result = vroom_solve(problem, threads=args.vroom_threads)
            theirs = result.solution
            gap = _gap(theirs.distance, best, peer_gaps)
            over = f"{result.ride_violations}/{len(problem.requests)}"
            line += (
                f" {theirs.distance:>9.2f} {gap:>7.2f} {over:>9} {result.retimed:>8} "
                f"{len(theirs.unserved):>8} {result.seconds:>7.2f}"
            )
            rides += result.ride_violations
            retimed += result.retimed
            requests += len(problem.requests)
            unassigned += len(theirs.unserved)
            longest = max(longest, result.longest_excess)
        print(line, flush=True)
        for violation in violations[:5]:
            print(f"    violation: {violation}")
        if peer:
            for violation in result.other_violations[:5]:
                print(f"    VROOM violation other than ride time: {violation}")
            if result.rides_over != result.ride_violations:
                print(
                    f"    note: {result.rides_over} rides over the maximum by more than 1e-6 min, "
                    f"{result.ride_violations} by more than check()'s tolerance"
                )
    if gaps:
        print(
            f"# {len(gaps)} instances: mean gap {sum(gaps) / len(gaps):.2f} %, "
            f"worst gap {max(gaps):.2f} %, all feasible and complete: "
            f"{'yes' if all_feasible else 'NO'}; load average at end {os.getloadavg()[0]:.2f}"
        )
    if peer_gaps:
        print(
            f"# VROOM on {len(peer_gaps)} instances: "
            f"mean gap {sum(peer_gaps) / len(peer_gaps):.2f} % "
            f"(from {min(peer_gaps):.2f} to {max(peer_gaps):.2f} %); rides longer than "
            f"the maximum {rides} of {requests} ({100 * rides / max(requests, 1):.1f} %), the "
            f"longest by {longest:.2f} min; still over after re-timing {retimed}; "
            f"unassigned {unassigned}; "
            f"load average at end {os.getloadavg()[0]:.2f}"
        )
    return 0


def _gap(cost: float, best: float | None, gaps: list[float]) -> float:
    if not best:
        return float("nan")
    gap = 100.0 * (cost - best) / best
    gaps.append(gap)
    return gap


def _vroom_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"(pyvroom {version('pyvroom')})"
    except PackageNotFoundError:
        return "(pyvroom not installed)"


if __name__ == "__main__":
    sys.exit(main())
