"""The dial-a-ride solver: OR-Tools routing model + our own search around it.

This is the only module of `routing` that imports `ortools`.

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
The routes found are then rescheduled exactly (float times, linear program per route) to put
as little waiting on board as possible: wait before boarding rather than with a passenger.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.linear_solver import pywraplp

from routing.solution import Route, Solution, Stop, Unserved
from routing.travel import travel_matrices
from routing.unserved import explain, fits, fleet_full_reason

if TYPE_CHECKING:
    from routing.problem import Problem, Request

Log = Callable[[str], None]

# Integer model resolution: 1/1000 minute (and 1/1000 distance unit for the cost).
SCALE = 1000
# Seconds kept for rescheduling and building the solution after the search.
_FINISH_RESERVE = 0.15

FirstSolution = routing_enums_pb2.FirstSolutionStrategy
Metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic


def _up(value: float) -> int:
    """Scale and round up (never optimistic), ignoring float noise below 1e-6."""
    return math.ceil(value * SCALE - 1e-6)


def _down(value: float) -> int:
    return math.floor(value * SCALE + 1e-6)


@dataclass
class Instance:
    """The problem laid out as nodes for OR-Tools (only the requests kept in the model)."""

    problem: Problem
    distance: np.ndarray
    duration: np.ndarray
    requests: list[Request]  # kept in the model, node 2k = pickup, 2k+1 = dropoff
    loc: np.ndarray  # node -> location index
    service: np.ndarray  # node -> service minutes
    starts: list[int]
    ends: list[int]
    allowed: list[list[int]]  # per kept request: vehicles that can take it alone
    unserved: dict[str, str] = field(default_factory=dict)  # request id -> reason

    @property
    def num_nodes(self) -> int:
        return len(self.loc)


def build_instance(problem: Problem, matrices: tuple[np.ndarray, np.ndarray]) -> Instance:
    distance, duration = matrices
    index = {loc.id: i for i, loc in enumerate(problem.locations)}
    from routing.unserved import vehicle_can_serve

    kept: list[Request] = []
    allowed: list[list[int]] = []
    unserved: dict[str, str] = {}
    for request in problem.requests:
        reason = explain(problem, matrices, request)
        vehicles = [
            v
            for v, vehicle in enumerate(problem.vehicles)
            if fits(vehicle, request) and vehicle_can_serve(request, vehicle, index, duration)
        ]
        if reason is not None or not vehicles:
            unserved[request.id] = reason or fleet_full_reason(problem, request)
            continue
        kept.append(request)
        allowed.append(vehicles)
    loc: list[int] = []
    service: list[float] = []
    for request in kept:
        loc += [index[request.pickup], index[request.dropoff]]
        service += [request.pickup_service, request.dropoff_service]
    starts, ends = [], []
    for vehicle in problem.vehicles:
        starts.append(len(loc))
        loc.append(index[vehicle.start])
        service.append(0.0)
        ends.append(len(loc))
        loc.append(index[vehicle.end])
        service.append(0.0)
    return Instance(
        problem=problem,
        distance=distance,
        duration=duration,
        requests=kept,
        loc=np.array(loc, dtype=np.int64),
        service=np.array(service, dtype=float),
        starts=starts,
        ends=ends,
        allowed=allowed,
        unserved=unserved,
    )


@dataclass
class Strategy:
    """One way to run OR-Tools on the model."""

    first_solution: int = FirstSolution.PARALLEL_CHEAPEST_INSERTION
    metaheuristic: int = Metaheuristic.GUIDED_LOCAL_SEARCH
    gls_lambda: float = 0.1


class Model:
    """The OR-Tools routing model of an Instance."""

    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        problem = inst.problem
        n = inst.num_nodes
        self.manager = pywrapcp.RoutingIndexManager(
            n, len(problem.vehicles), inst.starts, inst.ends
        )
        self.routing = pywrapcp.RoutingModel(self.manager)
        routing = self.routing
        loc = inst.loc
        dist_nodes = np.rint(inst.distance[np.ix_(loc, loc)] * SCALE).astype(np.int64)
        travel_up = np.ceil(inst.duration[np.ix_(loc, loc)] * SCALE - 1e-6).astype(np.int64)
        service_up = np.ceil(inst.service * SCALE - 1e-6).astype(np.int64)
        time_nodes = travel_up + service_up[:, None]
        self.dist_nodes = dist_nodes
        self.time_nodes = time_nodes
        cost = routing.RegisterTransitMatrix(dist_nodes.tolist())
        routing.SetArcCostEvaluatorOfAllVehicles(cost)

        horizon = _down(max(v.available[1] for v in problem.vehicles)) + 1
        transit = routing.RegisterTransitMatrix(time_nodes.tolist())
        routing.AddDimension(transit, horizon, horizon, False, "time")
        self.time = routing.GetDimensionOrDie("time")
        for v, vehicle in enumerate(problem.vehicles):
            self.time.CumulVar(routing.Start(v)).SetRange(
                _up(vehicle.available[0]), _down(vehicle.available[1])
            )
            self.time.CumulVar(routing.End(v)).SetRange(
                _up(vehicle.available[0]), _down(vehicle.available[1])
            )
            if vehicle.max_duration is not None:
                self.time.SetSpanUpperBoundForVehicle(_down(vehicle.max_duration), v)

        for dim in problem.dimensions:
            demands = [0] * n
            for k, request in enumerate(inst.requests):
                amount = request.load.get(dim, 0)
                demands[2 * k] = amount
                demands[2 * k + 1] = -amount
            if not any(demands):
                continue
            callback = routing.RegisterUnaryTransitVector(demands)
            capacities = [vehicle.capacity.get(dim, 0) for vehicle in problem.vehicles]
            routing.AddDimensionWithVehicleCapacity(callback, 0, capacities, True, f"load:{dim}")

        solver = routing.solver()
        max_distance = float(inst.distance.max()) if inst.distance.size else 1.0
        default_penalty = SCALE * max(1.0, max_distance) * 1000
        for k, request in enumerate(inst.requests):
            pick = self.manager.NodeToIndex(2 * k)
            drop = self.manager.NodeToIndex(2 * k + 1)
            routing.AddPickupAndDelivery(pick, drop)
            solver.Add(routing.VehicleVar(pick) == routing.VehicleVar(drop))
            solver.Add(self.time.CumulVar(pick) <= self.time.CumulVar(drop))
            if request.pickup_window is not None:
                self.time.CumulVar(pick).SetRange(
                    _up(request.pickup_window[0]), _down(request.pickup_window[1])
                )
            if request.dropoff_window is not None:
                self.time.CumulVar(drop).SetRange(
                    _up(request.dropoff_window[0]), _down(request.dropoff_window[1])
                )
            if request.max_ride is not None:
                # begin(drop) - (begin(pick) + service(pick)) <= max_ride, with the service
                # rounded up as in the transit so that the bound stays safe.
                bound = _down(request.max_ride) + int(service_up[2 * k])
                self.time.AddNodePrecedence(drop, pick, -bound)
            penalty = (
                default_penalty
                if request.penalty is None
                else max(1, round(request.penalty * SCALE))
            )
            routing.AddDisjunction([pick], int(penalty) // 2 + 1)
            routing.AddDisjunction([drop], int(penalty) // 2 + 1)
            if len(inst.allowed[k]) < len(problem.vehicles):
                routing.SetAllowedVehiclesForIndex(inst.allowed[k], pick)
                routing.SetAllowedVehiclesForIndex(inst.allowed[k], drop)

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
        return params

    def routes_of(self, assignment: Any) -> list[list[int]]:
        """Node sequences (without depots) per vehicle."""
        routes = []
        for v in range(len(self.inst.problem.vehicles)):
            nodes = []
            index = self.routing.Start(v)
            index = assignment.Value(self.routing.NextVar(index))
            while not self.routing.IsEnd(index):
                nodes.append(self.manager.IndexToNode(index))
                index = assignment.Value(self.routing.NextVar(index))
            routes.append(nodes)
        return routes

    def start_times(self, assignment: Any) -> list[list[int]]:
        """Integer begin times of the solution (fallback schedule)."""
        out = []
        for v in range(len(self.inst.problem.vehicles)):
            times = []
            index = self.routing.Start(v)
            while True:
                times.append(assignment.Value(self.time.CumulVar(index)))
                if self.routing.IsEnd(index):
                    break
                index = assignment.Value(self.routing.NextVar(index))
            out.append(times)
        return out


def route_distance(inst: Instance, vehicle: int, nodes: Sequence[int]) -> float:
    path = [inst.starts[vehicle], *nodes, inst.ends[vehicle]]
    locs = inst.loc[path]
    return float(inst.distance[locs[:-1], locs[1:]].sum())


def total_distance(inst: Instance, routes: Sequence[Sequence[int]]) -> float:
    return sum(route_distance(inst, v, nodes) for v, nodes in enumerate(routes) if nodes)


def solve(
    problem: Problem,
    *,
    time_limit: float = 10.0,
    seed: int = 0,
    log: Log | None = None,
) -> Solution:
    """Solve one day; returns a Solution that passes routing.check.check."""
    began = time.monotonic()
    say: Log = log or (lambda _message: None)
    matrices = travel_matrices(problem)
    inst = build_instance(problem, matrices)
    say(
        f"{len(inst.requests)} demandes dans le modèle, {len(inst.unserved)} impossibles "
        f"seules, {len(problem.vehicles)} véhicules"
    )
    routes: list[list[int]] = [[] for _ in problem.vehicles]
    fallback: list[list[int]] | None = None
    if inst.requests:
        model = Model(inst)
        remaining = time_limit - (time.monotonic() - began) - _FINISH_RESERVE
        params = model.parameters(Strategy(), max(0.05, remaining))
        assignment = model.routing.SolveWithParameters(params)
        if assignment is not None:
            routes = model.routes_of(assignment)
            fallback_times = model.start_times(assignment)
            fallback = [[t for t in times] for times in fallback_times]
    solution = make_solution(inst, routes, fallback, began)
    say(f"distance {solution.distance:.2f}, {len(solution.unserved)} non servies")
    return solution


# ---------------------------------------------------------------------------------------------
# Exact rescheduling of fixed routes and building of the Solution
# ---------------------------------------------------------------------------------------------


def schedule_route(inst: Instance, vehicle: int, nodes: Sequence[int]) -> list[float] | None:
    """Begin times (start depot departure, each stop, end depot arrival) minimising time on board.

    A linear program over the fixed order: precedence with exact travel times, windows, ride
    bounds, availability and maximum duration; objective = total ride time, then (tiny weight)
    route duration. None if the LP fails (the caller then keeps the integer schedule).
    """
    problem = inst.problem
    veh = problem.vehicles[vehicle]
    path = [inst.starts[vehicle], *nodes, inst.ends[vehicle]]
    lp = pywraplp.Solver.CreateSolver("GLOP")
    if lp is None:
        return None
    lo, hi = veh.available
    begin = [lp.NumVar(lo, hi, f"b{i}") for i in range(len(path))]
    for i in range(len(path) - 1):
        a, b = path[i], path[i + 1]
        gap = float(inst.service[a]) + float(inst.duration[inst.loc[a], inst.loc[b]])
        lp.Add(begin[i + 1] >= begin[i] + gap)
    if veh.max_duration is not None:
        lp.Add(begin[-1] - begin[0] <= veh.max_duration)
    position = {node: i for i, node in enumerate(path)}
    objective = lp.Objective()
    for i, node in enumerate(nodes, start=1):
        request = inst.requests[node // 2]
        window = request.pickup_window if node % 2 == 0 else request.dropoff_window
        if window is not None:
            begin[i].SetBounds(max(lo, window[0]), min(hi, window[1]))
        if node % 2 == 0:
            j = position[node + 1]
            if request.max_ride is not None:
                lp.Add(begin[j] - begin[i] <= request.max_ride + request.pickup_service)
            objective.SetCoefficient(begin[j], objective.GetCoefficient(begin[j]) + 1.0)
            objective.SetCoefficient(begin[i], objective.GetCoefficient(begin[i]) - 1.0)
    objective.SetCoefficient(begin[-1], objective.GetCoefficient(begin[-1]) + 1e-3)
    objective.SetCoefficient(begin[0], objective.GetCoefficient(begin[0]) - 1e-3)
    objective.SetMinimization()
    if lp.Solve() != pywraplp.Solver.OPTIMAL:
        return None
    return [var.solution_value() for var in begin]


def make_solution(
    inst: Instance,
    routes: Sequence[Sequence[int]],
    fallback: Sequence[Sequence[int]] | None,
    began: float,
) -> Solution:
    problem = inst.problem
    out_routes: list[Route] = []
    served: set[str] = set()
    for v, nodes in enumerate(routes):
        if not nodes:
            continue
        planned = schedule_route(inst, v, nodes)
        if planned is None:
            assert fallback is not None
            planned = [t / SCALE for t in fallback[v]]
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
    veh = problem.vehicles[vehicle]
    locations = problem.locations
    path = [inst.starts[vehicle], *nodes, inst.ends[vehicle]]
    start = max(planned[0], veh.available[0])
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
