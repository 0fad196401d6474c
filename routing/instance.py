"""One day's problem laid out as the solver's nodes, and its integer times.

Node 2k is the pickup and 2k+1 the dropoff of request k; then a start and an end node per
vehicle. Times of the integer model are in 1/SCALE minute, travel and service rounded UP and
window ends rounded DOWN, so that a schedule of the integer model is always feasible with the
exact float times. Both searches (the OR-Tools model in routing/solver.py and the
ruin-and-recreate search in routing/alns.py) read the same integers from here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from routing.unserved import explain, fits, fleet_full_reason, vehicle_can_serve

if TYPE_CHECKING:
    from routing.problem import Problem, Request

# Integer model resolution: 1/1000 minute (and 1/1000 distance unit for the cost).
SCALE = 1000


def up(value: float) -> int:
    """Scale and round up (never optimistic), ignoring float noise below 1e-6."""
    return math.ceil(value * SCALE - 1e-6)


def down(value: float) -> int:
    return math.floor(value * SCALE + 1e-6)


@dataclass
class Instance:
    """Requests and vehicles laid out as OR-Tools nodes.

    Node 2k is the pickup and 2k+1 the dropoff of `requests[k]`; then a start and an end node
    per vehicle. A sub-instance (a few routes, for the large-neighbourhood search) keeps, in
    `request_ids` / `vehicle_ids`, the positions of its requests and vehicles in the root
    instance, so that routes can be written back.
    """

    problem: Problem
    distance: np.ndarray
    duration: np.ndarray
    requests: list[Request]
    vehicles: list[int]  # positions in problem.vehicles
    loc: np.ndarray  # node -> location index
    service: np.ndarray  # node -> service minutes
    starts: list[int]
    ends: list[int]
    allowed: list[list[int]]  # per request: positions in `vehicles` that can take it alone
    request_ids: list[int] = field(default_factory=list)
    unserved: dict[str, str] = field(default_factory=dict)  # request id -> reason
    # Per vehicle: range of the departure from the start node and of the arrival at the end
    # node, and the span bound. A time-slice sub-instance starts a vehicle at its last stop
    # before the slice and ends it at its first stop after it, with the times that leaves.
    start_window: list[tuple[float, float]] = field(default_factory=list)
    end_window: list[tuple[float, float]] = field(default_factory=list)
    span: list[float | None] = field(default_factory=list)
    # A vehicle cut by a time slice travels from its start to its end node even with no stop
    # in between; an unused vehicle of the day does not travel at all.
    used_when_empty: list[bool] = field(default_factory=list)

    @property
    def num_nodes(self) -> int:
        return len(self.loc)

    def subset(self, request_ids: Sequence[int], vehicle_ids: Sequence[int]) -> Instance:
        """The sub-instance of some requests (root positions) and vehicles (root positions)."""
        position = {v: i for i, v in enumerate(vehicle_ids)}
        root_allowed = [
            [position[v] for v in self.allowed[k] if v in position] for k in request_ids
        ]
        return _layout(
            self.problem,
            self.distance,
            self.duration,
            [self.requests[k] for k in request_ids],
            root_allowed,
            list(vehicle_ids),
            list(request_ids),
        )


def _layout(
    problem: Problem,
    distance: np.ndarray,
    duration: np.ndarray,
    requests: list[Request],
    allowed: list[list[int]],
    vehicles: list[int],
    request_ids: list[int],
) -> Instance:
    index = {loc.id: i for i, loc in enumerate(problem.locations)}
    loc: list[int] = []
    service: list[float] = []
    for request in requests:
        loc += [index[request.pickup], index[request.dropoff]]
        service += [request.pickup_service, request.dropoff_service]
    starts, ends = [], []
    for v in vehicles:
        vehicle = problem.vehicles[v]
        starts.append(len(loc))
        loc.append(index[vehicle.start])
        service.append(0.0)
        ends.append(len(loc))
        loc.append(index[vehicle.end])
        service.append(0.0)
    fleet = [problem.vehicles[v] for v in vehicles]
    return Instance(
        problem=problem,
        distance=distance,
        duration=duration,
        requests=requests,
        vehicles=vehicles,
        loc=np.array(loc, dtype=np.int64),
        service=np.array(service, dtype=float),
        starts=starts,
        ends=ends,
        allowed=allowed,
        request_ids=request_ids,
        start_window=[(v.available[0], v.available[1]) for v in fleet],
        end_window=[(v.available[0], v.available[1]) for v in fleet],
        span=[vehicle.max_duration for vehicle in fleet],
        used_when_empty=[False for _ in fleet],
    )


def build_instance(problem: Problem, matrices: tuple[np.ndarray, np.ndarray]) -> Instance:
    """The root instance: every request that some vehicle could serve alone."""
    distance, duration = matrices
    index = {loc.id: i for i, loc in enumerate(problem.locations)}
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
    inst = _layout(
        problem,
        distance,
        duration,
        kept,
        allowed,
        list(range(len(problem.vehicles))),
        list(range(len(kept))),
    )
    inst.unserved = unserved
    return inst


def time_nodes(inst: Instance) -> np.ndarray:
    """Integer time from node to node: service at the origin plus travel, both rounded up."""
    loc = inst.loc
    travel_up = np.ceil(inst.duration[np.ix_(loc, loc)] * SCALE - 1e-6).astype(np.int64)
    service_up = np.ceil(inst.service * SCALE - 1e-6).astype(np.int64)
    times: np.ndarray = travel_up + service_up[:, None]
    return times


def ride_bound(request: Request) -> int | None:
    """Integer bound on begin(dropoff) - begin(pickup): the maximum ride plus boarding."""
    if request.max_ride is None:
        return None
    return down(request.max_ride) + math.ceil(request.pickup_service * SCALE - 1e-6)


def request_windows(
    inst: Instance, k: int, times: np.ndarray
) -> tuple[tuple[int, int], tuple[int, int]]:
    """Integer windows of pickup and dropoff, each tightened by the other (Cordeau 2006).

    A request has a window on one end only, usually; the other end's window is implied by
    the ride bounds (direct ride <= ride <= max_ride) and by the allowed vehicles' hours.
    Making it explicit lets the insertion heuristics and the filters see it at once.
    Everything is computed in the model's integers, so nothing feasible is cut off.
    An empty range (low > high) means that no vehicle of `inst` can take the request.
    """
    request = inst.requests[k]
    pick, drop = 2 * k, 2 * k + 1
    allowed = inst.allowed[k] or list(range(len(inst.vehicles)))
    p_lo = min(up(inst.start_window[v][0]) + times[inst.starts[v], pick] for v in allowed)
    d_hi = max(down(inst.end_window[v][1]) - times[drop, inst.ends[v]] for v in allowed)
    p_hi, d_lo = d_hi, p_lo
    if request.pickup_window is not None:
        p_lo = max(p_lo, up(request.pickup_window[0]))
        p_hi = min(p_hi, down(request.pickup_window[1]))
    if request.dropoff_window is not None:
        d_lo = max(d_lo, up(request.dropoff_window[0]))
        d_hi = min(d_hi, down(request.dropoff_window[1]))
    direct = int(times[pick, drop])
    bound = ride_bound(request)
    for _ in range(2):
        p_hi = min(p_hi, d_hi - direct)
        d_lo = max(d_lo, p_lo + direct)
        if bound is not None:
            p_lo = max(p_lo, d_lo - bound)
            d_hi = min(d_hi, p_hi + bound)
    return (int(p_lo), int(p_hi)), (int(d_lo), int(d_hi))
