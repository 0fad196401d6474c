"""The dial-a-ride solver: OR-Tools routing model + our own search around it.

This and routing/pool.py (CP-SAT) are the only modules of `routing` that import `ortools`.

Model (every constraint of the contract is hard):
- nodes: a pickup and a dropoff node per request, a start and an end node per vehicle;
- times are integers in 1/SCALE minute; travel and service times are rounded UP so that a
  schedule of the integer model is always feasible with the exact float times;
- a time dimension (transit = service at the origin + travel, waiting as slack) carries the
  windows, the vehicle availability and the maximum duration (span bound);
- one load dimension per capacity dimension (seats, wheelchairs, ...);
- pickup and dropoff on the same vehicle, pickup first, ride time bounded;
- every request is droppable at a large penalty so that a first solution always exists; the
  ones left out get a French reason (routing/unserved.py).
Search (benchmarks/README.md says what each part brought):
- two workers, one per core (fork), each:
  - two vehicles: OR-Tools' guided local search on the whole day;
  - more: the ruin-and-recreate search of routing/alns.py, which builds the day itself (or,
    for big days, improves a rolling-horizon construction by OR-Tools by chunks of time);
    the two searches take each other's best plan at 30, 60 and 80 % of the time;
  - the best plan of the two wins at the end;
- (kept as a fallback and for experiments: `_ALNS_SHARE` < 1) a large-neighbourhood search
  that re-solves small parts of the day (time slices, groups of related routes) as their own
  OR-Tools models, and a pool of the routes seen recombined by CP-SAT (routing/pool.py);
- every route kept is verified by an exact linear program of its schedule.
The routes found are then rescheduled exactly (float times, linear program per route) to put
as little waiting on board as possible: wait before boarding rather than with a passenger.

Determinism: every random choice comes from random.Random(seed) and OR-Tools is
deterministic, but the searches stop on the wall clock (the time limit is a hard promise), so
on problems where the search is still improving at the limit, the number of rounds done - hence
the plan - depends on the machine's speed and load. Problems solved before the limit give the
same plan for the same seed.
"""

from __future__ import annotations

import ctypes
import dataclasses
import math
import multiprocessing
import os
import random
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.linear_solver import pywraplp

from routing import alns
from routing.instance import (
    SCALE,
    Instance,
    build_instance,
    down,
    request_windows,
    ride_bound,
    time_nodes,
    up,
)
from routing.pool import RoutePool
from routing.solution import Route, Solution, Stop, Unserved
from routing.travel import travel_matrices
from routing.unserved import fleet_full_reason

if TYPE_CHECKING:
    from routing.problem import Problem, Request

Log = Callable[[str], None]

# Tuning constants below are module-level so that `benchmarks/darp.py --set NAME=VALUE` can
# change one for an experiment; the values are the ones measured best (benchmarks/README.md).
# Ride time as a node precedence of the time dimension (False: a plain CP constraint).
_RIDE_AS_PRECEDENCE = True
# Extra RoutingSearchParameters fields, for experiments only.
_EXTRA_PARAMS: dict[str, Any] = {}
_BOOL_FALSE = 2  # OptionalBoolean.BOOL_FALSE
# Local-search operators to turn off. Candidates: moves that are rarely feasible with
# pickup-and-delivery pairs and ride times. Measured: turning them off did not help (README).
_OPERATORS_OFF: tuple[str, ...] = ()
_OFF_CANDIDATES = (
    "use_two_opt",
    "use_lin_kernighan",
    "use_cross",
    "use_exchange",
    "use_relocate_expensive_chain",
    "use_make_chain_inactive",
    "use_swap_active",
    "use_shortest_path_swap_active",
    "use_swap_active_chain",
    "use_shortest_path_two_opt",
    "use_global_cheapest_insertion_visit_types_lns",
    "use_local_cheapest_insertion_visit_types_lns",
)
# Seconds kept for rescheduling and building the solution after the search.
_FINISH_RESERVE = 0.15

FirstSolution = routing_enums_pb2.FirstSolutionStrategy
Metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic


@dataclass
class Strategy:
    """One way to run OR-Tools on the model."""

    first_solution: int = FirstSolution.LOCAL_CHEAPEST_INSERTION
    metaheuristic: int = Metaheuristic.GUIDED_LOCAL_SEARCH
    gls_lambda: float = 0.1


@dataclass(frozen=True)
class LnsSettings:
    """How one worker's large-neighbourhood search re-solves its sub-problems."""

    sub_seconds: float  # wall-clock cap of one sub-problem
    sub_metaheuristic: int  # GUIDED_LOCAL_SEARCH (runs to the cap) or GREEDY_DESCENT
    slice_requests: int  # requests picked up in a time slice
    group_size: int  # routes in a route group
    # Start sub-problems from the current routes (never worse, and unserved requests get
    # inserted) instead of afresh: for big days, where serving everyone comes first.
    warm: bool = False


class Model:
    """The OR-Tools routing model of an Instance."""

    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        problem = inst.problem
        fleet = [problem.vehicles[v] for v in inst.vehicles]
        n = inst.num_nodes
        self.manager = pywrapcp.RoutingIndexManager(n, len(fleet), inst.starts, inst.ends)
        self.routing = pywrapcp.RoutingModel(self.manager)
        routing = self.routing
        loc = inst.loc
        dist_nodes = np.rint(inst.distance[np.ix_(loc, loc)] * SCALE).astype(np.int64)
        times = time_nodes(inst)
        cost = routing.RegisterTransitMatrix(dist_nodes.tolist())
        routing.SetArcCostEvaluatorOfAllVehicles(cost)

        horizon = down(max(window[1] for window in inst.end_window)) + 1
        transit = routing.RegisterTransitMatrix(times.tolist())
        routing.AddDimension(transit, horizon, horizon, False, "time")
        self.time = routing.GetDimensionOrDie("time")
        for v in range(len(fleet)):
            for node, window in (
                (routing.Start(v), inst.start_window[v]),
                (routing.End(v), inst.end_window[v]),
            ):
                # A vehicle whose route so far ends too late gets an empty range: pin it to
                # its last instant (routes are verified exactly afterwards anyway).
                high = down(window[1])
                self.time.CumulVar(node).SetRange(min(up(window[0]), high), high)
            if inst.used_when_empty[v]:
                routing.SetVehicleUsedWhenEmpty(True, v)
            span = inst.span[v]
            if span is not None:
                self.time.SetSpanUpperBoundForVehicle(down(span), v)

        for dim in problem.dimensions:
            demands = [0] * n
            for k, request in enumerate(inst.requests):
                amount = request.load.get(dim, 0)
                demands[2 * k] = amount
                demands[2 * k + 1] = -amount
            if not any(demands):
                continue
            callback = routing.RegisterUnaryTransitVector(demands)
            capacities = [vehicle.capacity.get(dim, 0) for vehicle in fleet]
            routing.AddDimensionWithVehicleCapacity(callback, 0, capacities, True, f"load:{dim}")

        solver = routing.solver()
        max_distance = float(inst.distance.max()) if inst.distance.size else 1.0
        default_penalty = int(SCALE * max(1.0, max_distance) * 1000)
        for k, request in enumerate(inst.requests):
            pick = self.manager.NodeToIndex(2 * k)
            drop = self.manager.NodeToIndex(2 * k + 1)
            routing.AddPickupAndDelivery(pick, drop)
            penalty = (
                default_penalty
                if request.penalty is None
                else max(2, round(request.penalty * SCALE))
            )
            routing.AddDisjunction([pick], penalty // 2 + 1)
            routing.AddDisjunction([drop], penalty // 2 + 1)
            solver.Add(routing.VehicleVar(pick) == routing.VehicleVar(drop))
            solver.Add(self.time.CumulVar(pick) <= self.time.CumulVar(drop))
            pick_range, drop_range = request_windows(inst, k, times)
            bound = ride_bound(request)
            if not (0 <= pick_range[0] <= pick_range[1] < horizon) or not (
                0 <= drop_range[0] <= drop_range[1] < horizon
            ):
                # No vehicle of this (sub-)problem can take it at all: leave it out.
                routing.ActiveVar(pick).SetValue(0)
                routing.ActiveVar(drop).SetValue(0)
                continue
            self.time.CumulVar(pick).SetRange(*pick_range)
            self.time.CumulVar(drop).SetRange(*drop_range)
            if bound is not None:
                # begin(drop) - (begin(pick) + service(pick)) <= max_ride. A node precedence is
                # known to the local-search filters (a plain constraint is only checked late).
                if _RIDE_AS_PRECEDENCE:
                    self.time.AddNodePrecedence(drop, pick, -bound)
                else:
                    solver.Add(self.time.CumulVar(drop) - self.time.CumulVar(pick) <= bound)
            if len(inst.allowed[k]) < len(fleet):
                # (SetAllowedVehiclesForIndex is not usable from Python in this version.)
                for index in (pick, drop):
                    routing.VehicleVar(index).SetValues([-1, *inst.allowed[k]])

    def parameters(
        self, strategy: Strategy, seconds: float, solution_limit: int | None = None
    ) -> Any:
        params = pywrapcp.DefaultRoutingSearchParameters()
        params.first_solution_strategy = strategy.first_solution
        params.local_search_metaheuristic = strategy.metaheuristic
        params.guided_local_search_lambda_coefficient = strategy.gls_lambda
        params.time_limit.FromMilliseconds(max(1, int(seconds * 1000)))
        if solution_limit is not None:
            params.solution_limit = solution_limit
        for key, value in _EXTRA_PARAMS.items():
            setattr(params, key, value)
        for name in _OPERATORS_OFF:
            setattr(params.local_search_operators, name, _BOOL_FALSE)
        return params

    def solve(
        self,
        strategy: Strategy,
        seconds: float,
        descend: bool = True,
        solution_limit: int | None = None,
        seen: list[list[list[int]]] | None = None,
    ) -> list[list[int]] | None:
        """First solution, then (when `descend`) local search and the metaheuristic.

        Every solution the search passes through is appended to `seen` when given (the
        route pool's harvest: routes of moves the metaheuristic made on its way).
        """
        params = self.parameters(strategy, seconds, solution_limit)
        if not descend:
            params.solution_limit = 1
        if seen is not None:
            self.routing.AddAtSolutionCallback(lambda: seen.append(self.current_routes()))
        assignment = self.routing.SolveWithParameters(params)
        return None if assignment is None else self.routes_of(assignment)

    def improve(
        self, routes: Sequence[Sequence[int]], strategy: Strategy, seconds: float
    ) -> list[list[int]] | None:
        """Search from the given routes (node lists per vehicle of this instance)."""
        indices = [[self.manager.NodeToIndex(node) for node in nodes] for nodes in routes]
        self.routing.CloseModelWithParameters(self.parameters(strategy, seconds))
        initial = self.routing.ReadAssignmentFromRoutes(indices, True)
        if initial is None:
            return None
        assignment = self.routing.SolveFromAssignmentWithParameters(
            initial, self.parameters(strategy, seconds)
        )
        return None if assignment is None else self.routes_of(assignment)

    def current_routes(self) -> list[list[int]]:
        """Node sequences per vehicle of the solution the search is at (in a callback)."""
        routes = []
        for v in range(len(self.inst.vehicles)):
            nodes = []
            index = self.routing.NextVar(self.routing.Start(v)).Value()
            while not self.routing.IsEnd(index):
                nodes.append(self.manager.IndexToNode(index))
                index = self.routing.NextVar(index).Value()
            routes.append(nodes)
        return routes

    def routes_of(self, assignment: Any) -> list[list[int]]:
        """Node sequences (without depots) per vehicle."""
        routes = []
        for v in range(len(self.inst.vehicles)):
            nodes = []
            index = assignment.Value(self.routing.NextVar(self.routing.Start(v)))
            while not self.routing.IsEnd(index):
                nodes.append(self.manager.IndexToNode(index))
                index = assignment.Value(self.routing.NextVar(index))
            routes.append(nodes)
        return routes


def route_distance(inst: Instance, vehicle: int, nodes: Sequence[int]) -> float:
    """Exact distance of a route of `inst` (vehicle = position in inst.vehicles)."""
    path = [inst.starts[vehicle], *nodes, inst.ends[vehicle]]
    locs = inst.loc[path]
    return float(inst.distance[locs[:-1], locs[1:]].sum())


def total_distance(inst: Instance, routes: Sequence[Sequence[int]]) -> float:
    return sum(
        route_distance(inst, v, nodes)
        for v, nodes in enumerate(routes)
        if nodes or inst.used_when_empty[v]
    )


def served_count(routes: Sequence[Sequence[int]]) -> int:
    return sum(len(nodes) for nodes in routes) // 2


def _better(inst: Instance, new: Sequence[Sequence[int]], old: Sequence[Sequence[int]]) -> bool:
    """More requests served, or as many at a shorter distance."""
    served_new, served_old = served_count(new), served_count(old)
    if served_new != served_old:
        return served_new > served_old
    return total_distance(inst, new) < total_distance(inst, old) - 1e-6


# ---------------------------------------------------------------------------------------------
# Large-neighbourhood search: re-optimise a few related routes at a time
# ---------------------------------------------------------------------------------------------


def improve(
    root: Instance,
    routes: list[list[int]],
    deadline: float,
    rng: random.Random,
    settings: LnsSettings,
    say: Log,
    pool: RoutePool | None = None,
    exchange: Exchange | None = None,
) -> list[list[int]]:
    """Large-neighbourhood search: re-solve small parts of the day with OR-Tools, keep gains.

    OR-Tools' guided local search finds optimal solutions of 2-3 vehicle problems within a
    fraction of a second, but stalls on 8 vehicles and 96 requests. So it is given small
    sub-problems, warm-started from the current routes (never worse), of two kinds:
    - a time slice: every request served between two times, on all vehicles, each vehicle
      starting where it is before the slice and ending where it must be after it;
    - a few related routes, re-solved as a whole.
    Unserved requests join the sub-problems that could take them, so they get a chance at
    every round.
    With a `pool`, every route the sub-problems pass through is kept in it, and the best plan
    made of pooled routes is taken every _POOL_EVERY rounds and at the end (routing/pool.py).
    With an `exchange`, the two searches of the portfolio swap their plans at set times and
    each goes on from the better one.
    """
    group_size = min(settings.group_size, len(root.vehicles))
    if len(root.requests) > _BIG:
        settings = dataclasses.replace(settings, warm=True)
    stats = {"slice": [0, 0], "routes": [0, 0], "pool": [0, 0], "exchange": [0, 0]}
    times: dict[int, list[float]] = {}
    end = deadline - (_POOL_FINAL_SECONDS if pool is not None else 0.0)
    pool_seconds = 0.0
    rounds = 0
    sweep = rng.randrange(1000)
    turn = rng.randrange(1000)
    while True:
        if pool is not None and (
            time.monotonic() >= end - 0.05 or (rounds and rounds % _POOL_EVERY == 0)
        ):
            last = time.monotonic() >= end - 0.05
            seconds = deadline - 0.02 - time.monotonic() if last else _POOL_SECONDS
            stats["pool"][0] += 1
            began = time.monotonic()
            if _recombine(root, routes, pool, seconds, times):
                stats["pool"][1] += 1
            pool_seconds += time.monotonic() - began
            if last:
                break
        elif time.monotonic() >= end - 0.05:
            break
        other = exchange.step(routes) if exchange is not None else None
        if (
            other is not None
            and _better(root, other, routes)
            and all(
                schedule_route(root, v, nodes) is not None for v, nodes in enumerate(other) if nodes
            )
        ):
            routes[:] = [list(nodes) for nodes in other]
            times.clear()
            stats["exchange"][1] += 1
        rounds += 1
        if _MAX_ROUNDS is not None and rounds > _MAX_ROUNDS:
            break
        kind = "slice" if rng.random() < _SLICE_SHARE else "routes"
        if kind == "slice":
            sweep += 1
            candidate = _time_slice_move(root, routes, times, rng, end, settings, sweep, pool)
        else:
            turn += 1
            candidate = _route_group_move(root, routes, rng, group_size, end, settings, turn, pool)
        stats[kind][0] += 1
        if candidate is None:
            continue
        new_routes, changed = candidate
        if pool is not None:
            for v in changed:
                pool.add(v, new_routes[v])
        if not _better(root, new_routes, routes):
            continue
        if any(schedule_route(root, v, new_routes[v]) is None for v in changed):
            continue
        stats[kind][1] += 1
        for v in changed:
            routes[v] = new_routes[v]
            times.pop(v, None)
    message = (
        f"voisinages: tranches horaires {stats['slice'][1]}/{stats['slice'][0]} gains, "
        f"groupes de tournées {stats['routes'][1]}/{stats['routes'][0]} gains"
    )
    if pool is not None:
        message += (
            f", recombinaisons {stats['pool'][1]}/{stats['pool'][0]} gains "
            f"({len(pool)} tournées en réserve, {pool_seconds:.2f} s)"
        )
    if exchange is not None:
        message += f", plans de l'autre recherche repris {stats['exchange'][1]}"
    say(message)
    return routes


def new_pool(root: Instance) -> RoutePool:
    """A pool of the routes of `root`; vehicles alike in every respect share their routes."""

    def kind(v: int) -> tuple[Any, ...]:
        vehicle = root.problem.vehicles[root.vehicles[v]]
        return (
            vehicle.start,
            vehicle.end,
            tuple(sorted(vehicle.capacity.items())),
            vehicle.available,
            vehicle.max_duration,
        )

    return RoutePool(
        [kind(v) for v in range(len(root.vehicles))],
        lambda v, nodes: route_distance(root, v, nodes),
        cover=_POOL_COVER,
    )


def _recombine(
    root: Instance,
    routes: list[list[int]],
    pool: RoutePool,
    seconds: float,
    times: dict[int, list[float]],
) -> bool:
    """Replace `routes` by the best recombination of pooled routes, when it is better."""
    if seconds <= 0.01:
        return False
    plan = pool.recombine(
        routes,
        seconds,
        lambda v, nodes: schedule_route(root, v, nodes) is not None,
        work=_POOL_WORK,
    )
    if plan is None or not _better(root, plan, routes):
        return False
    for v, nodes in enumerate(plan):
        if nodes != routes[v]:
            routes[v] = nodes
            times.pop(v, None)
    return True


def _route_group_move(
    root: Instance,
    routes: list[list[int]],
    rng: random.Random,
    group_size: int,
    deadline: float,
    settings: LnsSettings,
    turn: int,
    pool: RoutePool | None = None,
) -> tuple[list[list[int]], list[int]] | None:
    group = _related_routes(root, routes, rng, group_size, turn)
    in_group = set(group)
    request_ids = sorted(node // 2 for v in group for node in routes[v] if node % 2 == 0)
    placed = {node // 2 for nodes in routes for node in nodes}
    waiting = [
        k
        for k in range(len(root.requests))
        if k not in placed and in_group.intersection(root.allowed[k])
    ]
    rng.shuffle(waiting)
    request_ids += waiting[:_WAITING_PER_GROUP]
    _order_for_insertion(root, request_ids, rng)
    sub = root.subset(request_ids, group)
    local = {k: i for i, k in enumerate(request_ids)}
    current = [[2 * local[node // 2] + node % 2 for node in routes[v]] for v in group]
    seconds = min(settings.sub_seconds, deadline - time.monotonic())
    if seconds <= 0.02:
        return None
    seen: list[list[list[int]]] | None = [] if pool is not None else None
    found = _resolve(sub, current, rng, seconds, settings, seen)
    for solution in seen or []:
        for position, v in enumerate(group):
            nodes = [2 * request_ids[node // 2] + node % 2 for node in solution[position]]
            pool.add(v, nodes)  # type: ignore[union-attr]
    if found is None:
        return None
    new_routes = [list(nodes) for nodes in routes]
    for position, v in enumerate(group):
        new_routes[v] = [2 * request_ids[node // 2] + node % 2 for node in found[position]]
    return new_routes, group


def _time_slice_move(
    root: Instance,
    routes: list[list[int]],
    times: dict[int, list[float]],
    rng: random.Random,
    deadline: float,
    settings: LnsSettings,
    sweep: int,
    pool: RoutePool | None = None,
) -> tuple[list[list[int]], list[int]] | None:
    """Re-solve the requests served in a slice of the day, on the vehicles around."""
    vehicles = range(len(routes))
    for v in vehicles:
        if v not in times:
            planned = schedule_route(root, v, routes[v])
            if planned is None:
                return None
            times[v] = planned[1:-1]
    pickups = sorted(
        (times[v][i], node // 2)
        for v in vehicles
        for i, node in enumerate(routes[v])
        if node % 2 == 0
    )
    if not pickups:
        return None
    size = min(len(pickups), settings.slice_requests)
    choices = len(pickups) - size + 1
    # Sweep the day in half-overlapping slices from a random start, so that a search of few
    # rounds still visits every part of the day (measured better than random slices).
    first = (sweep * max(1, size // 2)) % choices if _SWEEP else rng.randrange(choices)
    low, high = pickups[first][0], pickups[first + size - 1][0]
    cuts: list[tuple[int, int]] = []
    request_ids: list[int] = []
    for v in vehicles:
        x, y = _empty_cut(routes[v], times[v], low, high)
        cuts.append((x, y))
        request_ids += [node // 2 for node in routes[v][x:y] if node % 2 == 0]
    # On a big fleet, only the vehicles busy in the slice and a few others take part.
    group = [v for v in vehicles if cuts[v][0] < cuts[v][1]]
    idle = [v for v in vehicles if cuts[v][0] == cuts[v][1]]
    room = max(_SLICE_SPARE_VEHICLES, _SLICE_MAX_VEHICLES - len(group))
    group = sorted(group + (idle if len(idle) <= room else rng.sample(idle, room)))
    in_group = set(group)
    placed = {node // 2 for nodes in routes for node in nodes}
    waiting = [
        k
        for k in range(len(root.requests))
        if k not in placed
        and _window_overlaps(root.requests[k], low, high)
        and in_group.intersection(root.allowed[k])
    ]
    rng.shuffle(waiting)
    request_ids += waiting[:_WAITING_PER_GROUP]
    if not request_ids:
        return None
    _order_for_insertion(root, request_ids, rng)
    sub = root.subset(request_ids, group)
    for p, v in enumerate(group):
        x, y = cuts[v]
        nodes = routes[v]
        if x > 0:
            prefix = schedule_route(root, v, nodes[:x], end=False, goal="earliest")
            if prefix is None:
                return None
            last = nodes[x - 1]
            sub.loc[sub.starts[p]] = root.loc[last]
            sub.start_window[p] = (prefix[-1] + float(root.service[last]), root.end_window[v][1])
            sub.span[p] = None
            sub.used_when_empty[p] = True
        if y < len(nodes):
            suffix = schedule_route(root, v, nodes[y:], start=False, goal="latest")
            if suffix is None:
                return None
            sub.loc[sub.ends[p]] = root.loc[nodes[y]]
            sub.end_window[p] = (root.start_window[v][0], suffix[0])
            sub.span[p] = None
            sub.used_when_empty[p] = True
    local = {k: i for i, k in enumerate(request_ids)}
    current = [
        [2 * local[n // 2] + n % 2 for n in routes[v][cuts[v][0] : cuts[v][1]]] for v in group
    ]
    seconds = min(settings.sub_seconds, deadline - time.monotonic())
    if seconds <= 0.02:
        return None
    seen: list[list[list[int]]] | None = [] if pool is not None else None
    found = _resolve(sub, current, rng, seconds, settings, seen)
    for solution in seen or []:
        for p, v in enumerate(group):
            x, y = cuts[v]
            middle = [2 * request_ids[n // 2] + n % 2 for n in solution[p]]
            pool.add(v, routes[v][:x] + middle + routes[v][y:])  # type: ignore[union-attr]
    if found is None:
        return None
    new_routes = [list(nodes) for nodes in routes]
    changed = []
    for p, v in enumerate(group):
        x, y = cuts[v]
        middle = [2 * request_ids[n // 2] + n % 2 for n in found[p]]
        new_routes[v] = routes[v][:x] + middle + routes[v][y:]
        if new_routes[v] != routes[v]:
            changed.append(v)
    return new_routes, changed


def _order_for_insertion(root: Instance, request_ids: list[int], rng: random.Random) -> None:
    """Order the requests of a sub-problem: insertion heuristics take them in this order.

    By time of day (the order in which a coordinator would place them) worked better than a
    random order (measured: benchmarks/README.md).
    """
    if _SHUFFLE:
        rng.shuffle(request_ids)
    else:
        request_ids.sort(key=lambda k: _request_time(root, k))


def _resolve(
    sub: Instance,
    current: list[list[int]],
    rng: random.Random,
    seconds: float,
    settings: LnsSettings,
    seen: list[list[list[int]]] | None = None,
) -> list[list[int]] | None:
    """Solve a sub-problem afresh (a new first solution, then GLS).

    Guided local search started from the current routes hardly leaves them (they are a local
    optimum already); building the part again from nothing lands in another basin, often a
    better one. The caller keeps whichever is better.
    """
    if settings.warm:
        return Model(sub).improve(current, Strategy(), seconds)
    first = rng.choice(_RECREATE)
    strategy = Strategy(first_solution=first, metaheuristic=settings.sub_metaheuristic)
    return Model(sub).solve(
        strategy, seconds, descend=_SUB_DESCEND, solution_limit=_SUB_SOLUTIONS, seen=seen
    )


def _empty_cut(
    nodes: Sequence[int], begins: Sequence[float], low: float, high: float
) -> tuple[int, int]:
    """Stops [x, y) of a route around the slice [low, high], cut where the vehicle is empty."""
    onboard = []
    count = 0
    for node in nodes:
        count += 1 if node % 2 == 0 else -1
        onboard.append(count)  # passengers aboard after the stop
    x = 0
    while x < len(nodes) and begins[x] < low:
        x += 1
    while x > 0 and onboard[x - 1] != 0:
        x -= 1
    y = x
    while y < len(nodes) and begins[y] <= high:
        y += 1
    while y < len(nodes) and y > 0 and onboard[y - 1] != 0:
        y += 1
    return x, y


def _window_overlaps(request: Request, low: float, high: float) -> bool:
    window = request.pickup_window or request.dropoff_window
    return window is None or (window[0] <= high and window[1] >= low)


# Route pool and set-partitioning recombination (routing/pool.py): every _POOL_EVERY rounds
# (CP-SAT capped at _POOL_SECONDS wall clock, _POOL_WORK deterministic seconds) and once at the
# end, with _POOL_FINAL_SECONDS kept for it; set covering instead with _POOL_COVER. Not on big
# days (> _BIG requests). Off: at 10 s the search does ~25 rounds per core and CP-SAT found the
# current plan optimal over the pool nearly every time, so it only cost time (measured,
# benchmarks/README.md). `--set _POOL=True` to try it again.
_POOL = False
_POOL_COVER = False
_POOL_EVERY = 20
_POOL_SECONDS = 0.3
_POOL_WORK: float | None = 1.0
_POOL_FINAL_SECONDS = 0.4
# With two searches: seconds kept to recombine the routes of both at the end.
_POOL_UNION_SECONDS = 0.4
_SHUFFLE = False
_SWEEP = True
_SWEEP_ROUTES = True
_SUB_DESCEND = True
# Solutions (accepted moves) per sub-problem: a work limit, so that a round does the same work
# on a fast or a busy machine (the time limit is only a safety net).
_SUB_SOLUTIONS: int | None = None
# Experiments: stop the LNS after this many rounds (a load-independent comparison).
_MAX_ROUNDS: int | None = None
# First-solution heuristics drawn at random to solve a sub-problem afresh (diversity).
_RECREATE = (
    FirstSolution.LOCAL_CHEAPEST_INSERTION,
    FirstSolution.PARALLEL_CHEAPEST_INSERTION,
    FirstSolution.LOCAL_CHEAPEST_COST_INSERTION,
    FirstSolution.SAVINGS,
)
# Share of time-slice sub-problems (the rest: groups of related routes).
_SLICE_SHARE = 0.7
# Unserved requests offered to each sub-problem (more would slow it down).
_WAITING_PER_GROUP = 5
# A time slice of a big fleet: at most this many vehicles (the busy ones first), and always a
# few idle ones to move requests to.
_SLICE_MAX_VEHICLES = 16
_SLICE_SPARE_VEHICLES = 4


def _related_routes(
    root: Instance,
    routes: Sequence[Sequence[int]],
    rng: random.Random,
    group_size: int,
    turn: int,
) -> list[int]:
    """A vehicle (each in turn) and its `group_size - 1` closest routes (stops near in space)."""
    vehicles = list(range(len(routes)))
    used = [v for v in vehicles if routes[v]] or vehicles
    seed = used[turn % len(used)] if _SWEEP_ROUTES else rng.choice(used)
    if not routes[seed]:
        return rng.sample(vehicles, group_size)
    mine = root.loc[list(routes[seed])]

    def closeness(v: int) -> float:
        if not routes[v]:
            home = root.loc[[root.starts[v]]]
            return float(root.distance[np.ix_(mine, home)].min(axis=1).mean()) + rng.random()
        theirs = root.loc[list(routes[v])]
        near = root.distance[np.ix_(mine, theirs)].min(axis=1).mean()
        return float(near) * (1.0 + 0.5 * rng.random())

    others = sorted((v for v in vehicles if v != seed), key=closeness)
    return [seed, *others[: group_size - 1]]


# ---------------------------------------------------------------------------------------------
# Portfolio: two searches in parallel (one per core), keep the best
# ---------------------------------------------------------------------------------------------

# (first solution of the whole problem, seed offset); worker 0 runs in this process.
_WORKERS = (
    Strategy(first_solution=FirstSolution.LOCAL_CHEAPEST_INSERTION),
    Strategy(first_solution=FirstSolution.PARALLEL_CHEAPEST_INSERTION),
)
# Both workers re-solve sub-problems with guided local search for a fixed time; worker 1 with
# smaller, shorter ones. Neither setting is better on every instance.
_LNS = (
    LnsSettings(
        sub_seconds=0.3,
        sub_metaheuristic=Metaheuristic.GUIDED_LOCAL_SEARCH,
        slice_requests=30,
        group_size=2,
    ),
    LnsSettings(
        sub_seconds=0.2,
        sub_metaheuristic=Metaheuristic.GUIDED_LOCAL_SEARCH,
        slice_requests=20,
        group_size=3,
    ),
)
# Share of the time given to the whole-problem guided local search before the route groups.
_WHOLE_SHARE = 0.3
# Above this many requests, the first solution is built in order of time, by chunks, in
# _BUILD_SHARE of the time (the ruin-and-recreate search improves it in the rest).
_BIG = 150
_CHUNK = 60
_BUILD_SHARE = 0.3
# Share of a construction step's time given to OR-Tools (the rest: building the model).
_BUILD_SOLVE_SHARE = 0.7
# Whole problem: only descend to a local optimum (GLS stalls there), then the LNS.
_WHOLE_DESCENT = True
# Share of the time left (after the first solution of a big day) given to the
# ruin-and-recreate search (routing/alns.py) on days of more than two vehicles; the OR-Tools
# sub-problems get the rest (0: the OR-Tools first solution and sub-problems only, as before).
_ALNS_SHARE = 1.0
# The OR-Tools sub-problems are not started with less than this many seconds left.
_LNS_MIN_SECONDS = 0.1
_WHOLE_LS = True


def run_worker(
    root: Instance,
    worker: int,
    seed: int,
    deadline: float,
    say: Log,
    pool: RoutePool | None = None,
    exchange: Exchange | None = None,
) -> list[list[int]]:
    """One search.

    - Two vehicles: OR-Tools' guided local search on the whole day (it finds the optimum).
    - More, up to _BIG requests: the ruin-and-recreate search (routing/alns.py) builds the
      day and improves it, for _ALNS_SHARE of the time, then OR-Tools re-solves parts of it.
    - Big days: a first solution built by chunks of time, then the OR-Tools parts.
    With a `pool`, every route seen is kept in it (see `improve`)."""
    strategy = _WORKERS[worker % len(_WORKERS)]
    rng = random.Random(seed * 1000 + worker)
    budget = deadline - time.monotonic()
    vehicles = len(root.vehicles)
    routes = None
    if len(root.requests) > _BIG:
        routes = construct_by_time(root, time.monotonic() + budget * _BUILD_SHARE, strategy, say)
    if _ruins_and_recreates(root):
        until = time.monotonic() + _ALNS_SHARE * (deadline - time.monotonic())
        routes = _ruin_and_recreate(root, routes, until, rng, say, worker, exchange)
    if routes is None:
        whole = budget if vehicles <= 2 else budget * _WHOLE_SHARE
        if vehicles > 2 and _WHOLE_DESCENT:
            strategy = Strategy(strategy.first_solution, Metaheuristic.GREEDY_DESCENT)
        seen: list[list[list[int]]] | None = [] if pool is not None else None
        found = Model(root).solve(
            strategy, max(0.05, whole), descend=vehicles <= 2 or _WHOLE_LS, seen=seen
        )
        routes = found if found is not None else [[] for _ in range(vehicles)]
        for solution in seen or []:
            for v, nodes in enumerate(solution):
                pool.add(v, nodes)  # type: ignore[union-attr]
        say(
            f"recherche {worker}: première passe {total_distance(root, routes):.2f} "
            f"en {time.monotonic() - deadline + budget:.1f} s, "
            f"{served_count(routes)}/{len(root.requests)} servies"
        )
    if vehicles > 2 and time.monotonic() < deadline - _LNS_MIN_SECONDS:
        settings = _LNS[worker % len(_LNS)]
        routes = improve(root, routes, deadline, rng, settings, say, pool, exchange)
    return routes


def _ruins_and_recreates(root: Instance) -> bool:
    """Whether run_worker runs the ruin-and-recreate search on this day."""
    return len(root.vehicles) > 2 and _ALNS_SHARE > 0


def _ruin_and_recreate(
    root: Instance,
    routes: list[list[int]] | None,
    deadline: float,
    rng: random.Random,
    say: Log,
    worker: int,
    exchange: Exchange | None = None,
) -> list[list[int]] | None:
    """The day improved by routing/alns.py from `routes` (None: it builds the day itself).

    If a route found fails the exact check (it never should: the integer model is stricter
    than the exact times), the routes given are returned unchanged."""
    began = time.monotonic()
    meet = None if exchange is None else exchange.step
    start = routes if routes is not None else [[] for _ in root.vehicles]
    found, stats = alns.improve(root, start, deadline, rng, meet=meet)
    if any(schedule_route(root, v, nodes) is None for v, nodes in enumerate(found) if nodes):
        say(f"recherche {worker}: ruine et reconstruction refusée par le contrôle exact")
        return routes
    say(
        f"recherche {worker}: ruine et reconstruction {total_distance(root, found):.2f} "
        f"en {time.monotonic() - began:.1f} s, {stats['iterations']} passes, "
        f"{served_count(found)}/{len(root.requests)} servies"
    )
    return found


def construct_by_time(
    root: Instance, deadline: float, strategy: Strategy, say: Log
) -> list[list[int]]:
    """First solution of a big day, built in order of time (rolling horizon).

    OR-Tools' insertion heuristics on a thousand requests take longer than a minute; a chunk
    of the day's requests (in order of their windows) takes a second. Each step re-solves the
    previous chunk together with the new one (a wave of trips to a session is often split
    between two chunks), every vehicle starting where its route ends before that. Requests a
    step could not place are offered again to the next one.
    """
    vehicles = list(range(len(root.vehicles)))
    routes: list[list[int]] = [[] for _ in vehicles]
    order = sorted(range(len(root.requests)), key=lambda k: _request_time(root, k))
    chunks = [order[i : i + _CHUNK] for i in range(0, len(order), _CHUNK)]
    carried: list[int] = []
    cut_time = -math.inf
    for number, chunk in enumerate(chunks):
        cuts = []
        for v in vehicles:
            planned = schedule_route(root, v, routes[v]) if routes[v] else None
            begins = planned[1:-1] if planned is not None else [-math.inf] * len(routes[v])
            cuts.append(_empty_cut(routes[v], begins, cut_time, math.inf)[0])
        moved = [n // 2 for v in vehicles for n in routes[v][cuts[v] :] if n % 2 == 0]
        request_ids = moved + carried + chunk
        sub = root.subset(request_ids, vehicles)
        for v in vehicles:
            if cuts[v] > 0:
                _start_after(root, sub, routes[v][: cuts[v]], v)
        seconds = (deadline - time.monotonic()) / (len(chunks) - number)
        found = Model(sub).solve(strategy, max(0.05, seconds * _BUILD_SOLVE_SHARE))
        if found is not None:
            candidate = [
                routes[v][: cuts[v]] + [2 * request_ids[n // 2] + n % 2 for n in found[v]]
                for v in vehicles
            ]
            if served_count(candidate) >= served_count(routes) and all(
                schedule_route(root, v, candidate[v]) is not None
                for v in vehicles
                if candidate[v] != routes[v]
            ):
                routes = candidate
        placed = {n // 2 for nodes in routes for n in nodes}
        carried = [k for k in carried + chunk if k not in placed][-_CHUNK // 2 :]
        cut_time = min((_request_time(root, k) for k in chunk), default=cut_time)
    say(f"construction par tranches de {_CHUNK} demandes : {served_count(routes)} placées")
    return routes


def _request_time(root: Instance, k: int) -> float:
    request = root.requests[k]
    if request.pickup_window is not None:
        return request.pickup_window[0]
    if request.dropoff_window is not None:
        return request.dropoff_window[0] - float(
            root.duration[root.loc[2 * k], root.loc[2 * k + 1]]
        )
    return 0.0


def _start_after(root: Instance, sub: Instance, nodes: list[int], v: int) -> bool:
    """Make vehicle v of `sub` start where its route `nodes` (in root) ends, when it can."""
    prefix = schedule_route(root, v, nodes, end=False, goal="earliest")
    if prefix is None:
        return False
    last = nodes[-1]
    sub.loc[sub.starts[v]] = root.loc[last]
    sub.start_window[v] = (prefix[-1] + float(root.service[last]), root.end_window[v][1])
    span = root.span[v]
    if span is not None:  # the route left its depot at prefix[0]
        low, high = sub.end_window[v]
        sub.end_window[v] = (low, max(low, min(high, prefix[0] + span)))
    sub.span[v] = None
    sub.used_when_empty[v] = True
    return True


def _child(
    root: Instance,
    worker: int,
    seed: int,
    deadline: float,
    pipe: Any,
    pooled: bool,
    exchange: Exchange,
    parent: int,
) -> None:
    _die_with_parent(parent)
    try:
        pool = new_pool(root) if pooled else None
        routes = run_worker(root, worker, seed, deadline, lambda _message: None, pool, exchange)
        pipe.send((routes, pool.export() if pool is not None else []))
    except BaseException as error:  # the parent falls back on its own result
        pipe.send(repr(error))
    finally:
        pipe.close()


def _die_with_parent(parent: int) -> None:
    """Let the kernel kill this second search when the process that forked it dies.

    Killed from outside (a job stopped, a worker restarted), the parent cannot stop its child:
    the orphan would search on for the whole time limit, holding a core and every pipe it
    inherited (a process pool waiting for its dead worker's pipes would hang as long).
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request above
        os._exit(1)


_PR_SET_PDEATHSIG = 1


def run_portfolio(root: Instance, seed: int, deadline: float, say: Log) -> list[list[int]]:
    """Two searches when two cores are idle (fork), one otherwise; the best wins.

    Ties go to worker 0, so the choice is deterministic whenever both searches are. With route
    pools, both searches stop a little early and the routes of both are recombined.
    """
    child = None
    idle = _idle_cores() if _PARALLEL and len(root.requests) >= 8 else 0.0
    two = idle >= _IDLE_CORES_FOR_TWO and "fork" in multiprocessing.get_all_start_methods()
    say(f"{'deux recherches en parallèle' if two else 'une recherche'} ({idle:.1f} cœurs libres)")
    pooled = _POOL and len(root.requests) <= _BIG and len(root.vehicles) > 2
    pool = new_pool(root) if pooled else None
    stop = deadline - _POOL_UNION_SECONDS if two and pooled else deadline
    exchange = None
    if two:
        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)
        mine, theirs = context.Pipe(duplex=True)
        shares = _ALNS_EXCHANGE_AT if _ruins_and_recreates(root) else _EXCHANGE_AT
        times = [time.monotonic() + share * (stop - time.monotonic()) for share in shares]
        child = context.Process(
            target=_child,
            args=(root, 1, seed, stop, send, pooled, Exchange(theirs, times), os.getpid()),
            daemon=True,
        )
        child.start()
        send.close()
        exchange = Exchange(mine, times)
    best = run_worker(root, 0, seed, stop, say, pool, exchange)
    if child is not None:
        other = None
        if receive.poll(max(0.0, stop - time.monotonic()) + 0.3):
            try:
                other = receive.recv()
            except EOFError:
                other = None
        child.join(0.1)
        if child.is_alive():
            child.kill()
        if isinstance(other, tuple):
            routes, pooled_routes = other
            say(f"recherche 1: {total_distance(root, routes):.2f}")
            if _better(root, routes, best):
                best = routes
            if pool is not None:
                pool.merge(pooled_routes)
                for v, nodes in enumerate(routes):
                    pool.add(v, nodes, checked=True)
                seconds = deadline - 0.02 - time.monotonic()
                if _recombine(root, best, pool, seconds, {}):
                    say(f"recombinaison des deux recherches: {total_distance(root, best):.2f}")
        else:
            say(f"recherche 1 sans résultat ({other})")
    return best


class Exchange:
    """One end of the channel on which the two searches swap their current plans.

    At each time of `times` a search sends its plan (at the first round boundary after it)
    and takes the other's as soon as it has come, never waiting for it: a search that is late
    (a busy core) simply hands over later.
    """

    def __init__(self, connection: Any, times: Sequence[float]) -> None:
        self.connection = connection
        self.times = list(times)
        self.sent = 0
        self.received = 0

    def step(self, routes: Sequence[Sequence[int]]) -> list[list[int]] | None:
        """Send `routes` when a time has come; the other's plan when one has arrived."""
        try:
            if self.sent < len(self.times) and time.monotonic() >= self.times[self.sent]:
                self.connection.send([list(nodes) for nodes in routes])
                self.sent += 1
            if self.received < self.sent and self.connection.poll(0):
                self.received += 1
                other = self.connection.recv()
                return other if isinstance(other, list) else None
        except (OSError, EOFError):
            self.times = []
        return None


_PARALLEL = True
# Shares of the search time at which the two OR-Tools searches (big days) swap plans and each
# goes on from the better one; () for two independent searches, the default: on a quiet
# machine the swap at 60 % gave worse plans on the large instances (benchmarks/README.md,
# step 8).
_EXCHANGE_AT: tuple[float, ...] = ()
# The same for two ruin-and-recreate searches: each takes the other's best plan when shorter
# (with it, the six largest Cordeau instances: 1.9 % mean instead of 2.3 %, benchmarks/README.md).
_ALNS_EXCHANGE_AT: tuple[float, ...] = (0.3, 0.6, 0.8)
# Two searches only when about two cores are idle: on a busy machine they would share one
# core, each doing half the rounds, and the best of two half searches is worse than one whole
# search (measured: benchmarks/README.md).
_IDLE_CORES_FOR_TWO = 1.5


def _idle_cores(sample: float = 0.05) -> float:
    """Cores idle right now (Linux /proc/stat over `sample` seconds); cpu_count elsewhere."""

    def totals() -> tuple[int, int]:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = [int(value) for value in handle.readline().split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return idle, sum(fields)

    cores = os.cpu_count() or 1
    try:
        idle_before, total_before = totals()
        time.sleep(sample)
        idle_after, total_after = totals()
    except (OSError, ValueError, IndexError):
        return float(cores)
    elapsed = total_after - total_before
    if elapsed <= 0:
        return float(cores)
    return cores * (idle_after - idle_before) / elapsed


def solve(
    problem: Problem,
    *,
    time_limit: float = 10.0,
    seed: int = 0,
    log: Log | None = None,
) -> Solution:
    """Solve one day; returns a Solution that passes routing.check.check.

    Stops within `time_limit` seconds (all phases). Requests no vehicle can take are in
    `unserved` with a French reason. When two cores are idle, a second search runs in a forked
    child process (set `routing.solver._PARALLEL = False` to forbid it, e.g. in a process whose
    other threads hold locks). `seed` drives every random choice of the search.
    """
    began = time.monotonic()
    say: Log = log or (lambda _message: None)
    matrices = travel_matrices(problem)
    root = build_instance(problem, matrices)
    say(
        f"{len(root.requests)} demandes dans le modèle, {len(root.unserved)} impossibles "
        f"seules, {len(problem.vehicles)} véhicules"
    )
    routes: list[list[int]] = [[] for _ in problem.vehicles]
    if root.requests:
        deadline = began + time_limit - _finish_reserve(root)
        routes = run_portfolio(root, seed, deadline, say)
    solution = make_solution(root, routes, began)
    say(f"distance {solution.distance:.2f}, {len(solution.unserved)} non servies")
    return solution


def _finish_reserve(root: Instance) -> float:
    """Seconds kept for the exact rescheduling and building the solution."""
    return _FINISH_RESERVE + 0.0005 * len(root.requests)


# ---------------------------------------------------------------------------------------------
# Exact rescheduling of fixed routes and building of the Solution
# ---------------------------------------------------------------------------------------------


def schedule_route(
    inst: Instance,
    vehicle: int,
    nodes: Sequence[int],
    *,
    start: bool = True,
    end: bool = True,
    goal: str = "ride",
) -> list[float] | None:
    """Exact begin times along a fixed order of stops, by linear programming (GLOP).

    The path is [start depot] + nodes + [end depot] (either depot may be left out: a prefix or
    a suffix of a route). Constraints: travel (exact float times) and service between
    consecutive stops, windows, ride bounds of requests whose both stops are in the path,
    vehicle hours and (for a whole route) maximum duration. Goals:
    - "ride": least total time on board (wait before boarding, not with a passenger aboard),
      then, with a tiny weight, the shortest route duration;
    - "earliest": the last stop as early as possible; "latest": the first stop as late as
      possible.
    Returns the begin time of every node of the path, or None when infeasible.
    """
    lp = pywraplp.Solver.CreateSolver("GLOP")
    if lp is None:
        return None
    lo, hi = inst.start_window[vehicle][0], inst.end_window[vehicle][1]
    path = [
        *([inst.starts[vehicle]] if start else []),
        *nodes,
        *([inst.ends[vehicle]] if end else []),
    ]
    begin = [lp.NumVar(lo, hi, f"b{i}") for i in range(len(path))]
    if start:
        begin[0].SetBounds(*inst.start_window[vehicle])
    if end:
        begin[-1].SetBounds(*inst.end_window[vehicle])
    for i in range(len(path) - 1):
        a, b = path[i], path[i + 1]
        gap = float(inst.service[a]) + float(inst.duration[inst.loc[a], inst.loc[b]])
        lp.Add(begin[i + 1] >= begin[i] + gap)
    span = inst.span[vehicle]
    if start and end and span is not None:
        lp.Add(begin[-1] - begin[0] <= span)
    position = {node: i for i, node in enumerate(path)}
    objective = lp.Objective()
    first = 1 if start else 0
    for i, node in enumerate(nodes, start=first):
        request = inst.requests[node // 2]
        window = request.pickup_window if node % 2 == 0 else request.dropoff_window
        if window is not None:
            begin[i].SetBounds(max(lo, window[0]), min(hi, window[1]))
        if node % 2 == 0 and node + 1 in position:
            j = position[node + 1]
            if request.max_ride is not None:
                lp.Add(begin[j] - begin[i] <= request.max_ride + request.pickup_service)
            if goal == "ride":
                objective.SetCoefficient(begin[j], objective.GetCoefficient(begin[j]) + 1.0)
                objective.SetCoefficient(begin[i], objective.GetCoefficient(begin[i]) - 1.0)
    if goal == "ride":
        objective.SetCoefficient(begin[-1], objective.GetCoefficient(begin[-1]) + 1e-3)
        objective.SetCoefficient(begin[0], objective.GetCoefficient(begin[0]) - 1e-3)
    elif goal == "earliest":
        # ... and then leave as late as possible (the span left for what comes next).
        objective.SetCoefficient(begin[-1], 1.0)
        if start:
            objective.SetCoefficient(begin[0], objective.GetCoefficient(begin[0]) - 1e-4)
    else:
        objective.SetCoefficient(begin[0], -1.0)
    objective.SetMinimization()
    if lp.Solve() != pywraplp.Solver.OPTIMAL:
        return None
    return [var.solution_value() for var in begin]


def make_solution(
    inst: Instance,
    routes: Sequence[Sequence[int]],
    began: float,
) -> Solution:
    problem = inst.problem
    out_routes: list[Route] = []
    served: set[str] = set()
    for v, nodes in enumerate(routes):
        if not nodes:
            continue
        planned = schedule_route(inst, v, nodes)
        if planned is None:  # never seen: the integer model's schedule is an LP solution
            planned = [0.0] * (len(nodes) + 2)
        out_routes.append(_route_from_times(inst, v, nodes, planned))
        served.update(inst.requests[node // 2].id for node in nodes)
    unserved = [
        Unserved(request.id, inst.unserved.get(request.id) or fleet_full_reason(problem, request))
        for request in problem.requests
        if request.id not in served
    ]
    return Solution(
        routes=tuple(out_routes),
        unserved=tuple(unserved),
        distance=sum(route.distance for route in out_routes),
        stats={"solve_seconds": round(time.monotonic() - began, 3)},
    )


def _route_from_times(
    inst: Instance, vehicle: int, nodes: Sequence[int], planned: Sequence[float]
) -> Route:
    """Stops with arrival from the exact travel times and begin = planned (never before)."""
    problem = inst.problem
    veh = problem.vehicles[inst.vehicles[vehicle]]
    locations = problem.locations
    path = [inst.starts[vehicle], *nodes, inst.ends[vehicle]]
    start = max(planned[0], inst.start_window[vehicle][0])
    departure = start
    stops: list[Stop] = []
    for i in range(1, len(path) - 1):
        prev, node = path[i - 1], path[i]
        arrival = departure + float(inst.duration[inst.loc[prev], inst.loc[node]])
        request = inst.requests[node // 2]
        is_pickup = node % 2 == 0
        window = request.pickup_window if is_pickup else request.dropoff_window
        begin = max(arrival, planned[i])
        if window is not None:
            begin = max(begin, window[0])
        service = request.pickup_service if is_pickup else request.dropoff_service
        departure = begin + service
        stops.append(
            Stop(
                request=request.id,
                type="pickup" if is_pickup else "dropoff",
                location=locations[int(inst.loc[node])].id,
                arrival=arrival,
                begin=begin,
                departure=departure,
            )
        )
    end = departure + float(inst.duration[inst.loc[path[-2]], inst.loc[path[-1]]])
    return Route(
        vehicle=veh.id,
        start=start,
        end=end,
        distance=route_distance(inst, vehicle, nodes),
        stops=tuple(stops),
    )
