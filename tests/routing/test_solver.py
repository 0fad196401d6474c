"""The solver on small named instances: every plan it returns passes the independent checker.

Instances are in tests/routing/data/ (see its README). Time limits are short; these tests check
correctness, not speed (speed and quality are measured by benchmarks/darp.py and rural.py).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from routing import solver
from routing.check import check
from routing.problem import Problem, ProblemError, load_problem
from routing.solution import Route, Solution
from routing.solver import solve

DATA = Path(__file__).parent / "data"


def solved(name: str, time_limit: float = 1.0, seed: int = 0) -> tuple[Problem, Solution]:
    problem = load_problem(DATA / f"{name}.json")
    solution = solve(problem, time_limit=time_limit, seed=seed)
    assert check(problem, solution) == []
    return problem, solution


def route_of(solution: Solution, request: str) -> Route:
    (route,) = [r for r in solution.routes if any(s.request == request for s in r.stops)]
    return route


def ride(route: Route, request: str) -> float:
    """Dropoff begin minus pickup departure, as the contract defines the ride."""
    pickup = next(s for s in route.stops if s.request == request and s.type == "pickup")
    dropoff = next(s for s in route.stops if s.request == request and s.type == "dropoff")
    return dropoff.begin - pickup.departure


def test_one_request_is_served_on_the_only_sensible_tour() -> None:
    _problem, solution = solved("one-request")
    assert solution.unserved == ()
    assert solution.distance == pytest.approx(20.0)


def test_wheelchair_passengers_ride_only_in_the_vehicle_with_a_wheelchair_place() -> None:
    problem, solution = solved("two-vehicles-wheelchair")
    assert solution.unserved == ()
    for request in ("w-out", "w-back"):
        assert route_of(solution, request).vehicle == "van"
    capacity = {v.id: v.capacity for v in problem.vehicles}
    assert capacity["car"].get("wheelchairs", 0) == 0  # the instance is what we think it is


def test_request_with_an_unreachable_window_is_reported_with_its_reason() -> None:
    _problem, solution = solved("impossible-window")
    unserved = {item.request: item.reason for item in solution.unserved}
    assert list(unserved) == ["too-early"]
    assert "arriver à temps" in unserved["too-early"]
    assert solution.distance == pytest.approx(40.0)


def test_a_load_larger_than_every_vehicle_is_refused_when_the_problem_is_read() -> None:
    data = load_problem(DATA / "one-request.json").to_dict()
    data["requests"][0]["load"] = {"seats": 9}
    with pytest.raises(ProblemError, match="load"):
        Problem.from_dict(data)


def test_max_ride_is_honoured_even_when_the_shortest_tour_breaks_it() -> None:
    # Shortest tour depot-home1-home2-venue1-venue2 (22.86) gives r1 a 9.86 ride > 9.
    _problem, solution = solved("ride-time")
    assert solution.unserved == ()
    route = route_of(solution, "r1")
    assert ride(route, "r1") <= 9 + 1e-6
    assert solution.distance > 22.86


def test_vehicle_leaves_its_start_depot_and_ends_at_its_other_depot_within_its_hours() -> None:
    problem, solution = solved("two-depots")
    (route,) = solution.routes
    assert route.vehicle == "volunteer"
    # garage (0) -> home-1 (5) -> venue (15) -> driver's home (20): 20 units, not back to 0.
    assert solution.distance == pytest.approx(20.0)
    vehicle = problem.vehicles[0]
    assert vehicle.available[0] <= route.start and route.end <= vehicle.available[1]
    assert vehicle.max_duration is not None
    assert route.end - route.start <= vehicle.max_duration + 1e-6


def test_passenger_waits_at_home_rather_than_on_board() -> None:
    # The car could pick r1 up at 5 and wait aboard until the venue opens at 60; it must
    # instead come late enough: ride = direct travel (5), no waiting on board.
    _problem, solution = solved("onboard-wait")
    route = route_of(solution, "r1")
    assert ride(route, "r1") == pytest.approx(5.0, abs=1e-6)
    pickup = route.stops[0]
    assert pickup.begin - pickup.arrival == pytest.approx(0.0, abs=1e-6)  # no wait at all


def test_several_vehicles_and_the_large_neighbourhood_search_give_a_checked_plan() -> None:
    problem, solution = solved("rural-24", time_limit=2.0)
    accounted = {s.request for r in solution.routes for s in r.stops}
    accounted |= {item.request for item in solution.unserved}
    assert accounted == {request.id for request in problem.requests}
    assert all(item.reason for item in solution.unserved)


def test_same_seed_gives_the_same_plan() -> None:
    _problem, first = solved("two-vehicles-wheelchair", seed=7)
    _problem, second = solved("two-vehicles-wheelchair", seed=7)
    assert first.routes == second.routes
    assert first.unserved == second.unserved


def test_the_time_limit_bounds_the_whole_solve() -> None:
    # A safety check with a generous margin, not a speed target.
    problem = load_problem(DATA / "rural-24.json")
    began = time.monotonic()
    solution = solve(problem, time_limit=1.0)
    assert time.monotonic() - began < 1.0 + 1.5
    assert not math.isnan(solution.distance)


def test_a_ride_longer_than_allowed_even_direct_is_reported_with_its_reason() -> None:
    data = load_problem(DATA / "one-request.json").to_dict()
    data["requests"][0]["max_ride"] = 4  # home-1 -> venue is 5 at speed 1
    problem = Problem.from_dict(data)
    solution = solve(problem, time_limit=1.0)
    assert check(problem, solution) == []
    (item,) = solution.unserved
    assert "trajet direct plus long" in item.reason


def test_a_request_left_out_because_the_fleet_is_full_says_so() -> None:
    # Two passengers, same place and time, a one-seat car: only one can go.
    data = load_problem(DATA / "one-request.json").to_dict()
    data["vehicles"][0]["capacity"] = {"seats": 1}
    twin = dict(data["requests"][0], id="r2")
    data["requests"].append(twin)
    problem = Problem.from_dict(data)
    solution = solve(problem, time_limit=1.0)
    assert check(problem, solution) == []
    (item,) = solution.unserved
    assert "flotte complète" in item.reason


def test_two_searches_that_swap_plans_midway_give_a_checked_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Two searches run only when two cores are idle; force them (and a swap) here.
    monkeypatch.setattr(solver, "_IDLE_CORES_FOR_TWO", 0.0)
    monkeypatch.setattr(solver, "_EXCHANGE_AT", (0.5, 0.8))
    monkeypatch.setattr(solver, "_ALNS_EXCHANGE_AT", (0.5, 0.8))
    problem, solution = solved("rural-24", time_limit=2.0)
    accounted = {s.request for r in solution.routes for s in r.stops}
    accounted |= {item.request for item in solution.unserved}
    assert accounted == {request.id for request in problem.requests}


def _search_with_two_workers(path: str) -> None:
    solver._IDLE_CORES_FOR_TWO = 0.0  # force the forked second search (this is a fresh process)
    solve(load_problem(path), time_limit=60.0)


def test_the_second_search_dies_with_the_process_that_forked_it() -> None:
    """A build killed from outside (the job stopped) must not leave its second search behind,
    holding a core and the pipes of the pool that ran it, for the whole time limit."""
    import multiprocessing
    import os
    import signal

    context = multiprocessing.get_context("spawn")
    searching = context.Process(
        target=_search_with_two_workers, args=(str(DATA / "rural-24.json"),)
    )
    searching.start()
    children: list[int] = []
    deadline = time.monotonic() + 30
    while not children and time.monotonic() < deadline:
        children = _children_of(searching.pid)
        time.sleep(0.05)
    assert children, "the second search never started"
    os.kill(searching.pid, signal.SIGKILL)
    searching.join()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in children)


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
