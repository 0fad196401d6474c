"""The ruin-and-recreate search (routing/alns.py): its feasibility check, its insertions, its plans.

The exact reference is the linear program of routing.solver.schedule_route (float times); on
integer data the integer check of alns must say exactly what it says.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from routing import alns
from routing.check import check
from routing.instance import Instance, build_instance
from routing.problem import Location, Problem, Request, Travel, Vehicle, load_problem
from routing.solver import make_solution, route_distance, schedule_route, total_distance
from routing.travel import travel_matrices

DATA = Path(__file__).parent / "data"


def instance_of(problem: Problem) -> Instance:
    return build_instance(problem, travel_matrices(problem))


def random_problem(seed: int, kind: str = "matrix", requests: int = 8) -> Problem:
    """Homes and venues on a grid; travel in whole minutes (exact in the integer model)."""
    rng = random.Random(seed)
    points = [(rng.randint(0, 30), rng.randint(0, 30)) for _ in range(2 * requests + 1)]
    locations = [Location(id=f"l{i}", x=float(x), y=float(y)) for i, (x, y) in enumerate(points)]
    travel: Travel
    if kind == "matrix":
        # Manhattan distances: whole numbers that obey the triangle inequality
        grid = tuple(
            tuple(float(abs(a[0] - b[0]) + abs(a[1] - b[1])) for b in points) for a in points
        )
        travel = Travel(kind="matrix", distances=grid, durations=grid)
    else:
        travel = Travel(kind="euclidean", speed=1.0)
    vehicles = [
        Vehicle(
            id=f"v{v}",
            start="l0",
            end="l0",
            capacity={"seats": 3, "wheelchairs": 1},
            available=(0.0, 400.0),
            max_duration=rng.choice([None, 200.0]),
        )
        for v in range(2)
    ]
    items = []
    for k in range(requests):
        at = rng.randint(40, 300)
        window = (float(at), float(at + rng.choice([10, 20, 30])))
        outbound = rng.random() < 0.5
        items.append(
            Request(
                id=f"r{k}",
                pickup=f"l{2 * k + 1}",
                dropoff=f"l{2 * k + 2}",
                load={"seats": rng.choice([1, 1, 2]), "wheelchairs": int(rng.random() < 0.2)},
                pickup_service=float(rng.randint(0, 3)),
                dropoff_service=float(rng.randint(0, 3)),
                pickup_window=None if outbound else window,
                dropoff_window=window if outbound else None,
                max_ride=float(rng.choice([20, 40, 60])),
            )
        )
    return Problem(
        name=f"random-{seed}", travel=travel, locations=locations, vehicles=vehicles, requests=items
    )


def random_order(rng: random.Random, requests: list[int]) -> list[int]:
    """The stops of `requests` in a random order, each pickup before its dropoff."""
    order: list[int] = []
    for k in requests:
        i = rng.randint(0, len(order))
        j = rng.randint(i, len(order))
        order[j:j] = [2 * k + 1]
        order[i:i] = [2 * k]
    return order


def test_the_integer_check_agrees_with_the_exact_schedule_on_whole_minutes() -> None:
    feasible = infeasible = 0
    for seed in range(12):
        inst = instance_of(random_problem(seed))
        data = alns.Darp(inst)
        rng = random.Random(seed)
        for _ in range(60):
            chosen = rng.sample(range(len(inst.requests)), rng.randint(1, 4))
            seq = random_order(rng, chosen)
            v = rng.randrange(len(inst.vehicles))
            # loads aside: the linear program checks times only
            mine = data.schedule(v, seq, loads_checked=True)
            exact = schedule_route(inst, v, seq, goal="earliest")
            assert (mine is not None) == (exact is not None), (seed, v, seq)
            if mine is not None:
                feasible += 1
                # the earliest end is the linear program's earliest end
                assert exact is not None
                assert mine[-1] / 1000 == pytest.approx(exact[-1], abs=1e-6)
            else:
                infeasible += 1
    assert feasible > 50 and infeasible > 50  # both cases really exercised


def test_loads_over_any_capacity_dimension_make_a_route_infeasible() -> None:
    inst = instance_of(load_problem(DATA / "two-vehicles-wheelchair.json"))
    data = alns.Darp(inst)
    car = next(v for v, p in enumerate(inst.vehicles) if inst.problem.vehicles[p].id == "car")
    wheelchair = next(k for k, r in enumerate(inst.requests) if r.load.get("wheelchairs"))
    assert data.schedule(car, [2 * wheelchair, 2 * wheelchair + 1]) is None


def routes_and_a_request(
    seed: int, kind: str, requests: int, tries: int
) -> Iterator[tuple[alns.Darp, int, alns.RouteState, int]]:
    """Feasible random routes of a random problem, each with a request it does not serve."""
    inst = instance_of(random_problem(seed, kind=kind, requests=requests))
    data = alns.Darp(inst)
    rng = random.Random(seed)
    for _ in range(tries):
        chosen = rng.sample(range(len(inst.requests)), rng.randint(1, 5))
        v = rng.randrange(len(inst.vehicles))
        route = data.state(v, random_order(rng, chosen[1:]))
        if route is not None:
            yield data, v, route, chosen[0]


def inserted(route: alns.RouteState, k: int, i: int, j: int) -> tuple[int, ...]:
    return (*route.seq[:i], 2 * k, *route.seq[i:j], 2 * k + 1, *route.seq[j:])


def test_an_insertion_starting_from_the_route_before_it_finds_the_same_schedule() -> None:
    """The shortcut (the route's schedule before the insertion as a floor) changes nothing."""
    rng = random.Random(0)
    tried = 0
    for seed in range(8):
        for data, v, route, k in routes_and_a_request(seed, "euclidean", 8, 80):
            assert data.metric
            i = rng.randint(0, len(route.seq))
            j = rng.randint(i, len(route.seq))
            done = data.insert(k, v, route, i, j)
            expected = data.schedule(v, inserted(route, k, i, j), loads_checked=True)
            assert (done[1] if done else None) == expected
            tried += done is not None
    assert tried > 50


def test_the_cheapest_feasible_insertion_is_never_pruned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(alns, "_CHECKS", 10**6)
    compared = 0
    for seed in range(8):
        for data, v, route, k in routes_and_a_request(seed, "matrix", 10, 40):
            brute = []
            for i in range(len(route.seq) + 1):
                for j in range(i, len(route.seq) + 1):
                    seq = inserted(route, k, i, j)
                    if data.schedule(v, seq) is not None:
                        brute.append(route_distance(data.inst, v, seq) - route.distance)
            offered = [
                cost
                for cost, i, j in data.insertions(k, v, route)
                if data.insert(k, v, route, i, j) is not None
            ]
            assert bool(brute) == bool(offered)
            if brute:
                compared += 1
                assert min(offered) == pytest.approx(min(brute))
    assert compared > 30


def test_the_search_serves_everyone_with_checked_routes_and_finds_a_known_optimum() -> None:
    # Cordeau's a4-16 (4 vehicles, 16 requests), proven optimum 282.68 (shared/benchmarks)
    problem = load_problem(DATA / "cordeau-a4-16.json")
    inst = instance_of(problem)
    empty = [[] for _ in inst.vehicles]
    built, _ = alns.improve(inst, empty, float("inf"), random.Random(0), iterations=0)
    found, stats = alns.improve(inst, empty, float("inf"), random.Random(0), iterations=2000)
    assert stats["iterations"] == 2000
    assert total_distance(inst, found) < total_distance(inst, built)
    assert total_distance(inst, found) == pytest.approx(282.68, abs=0.01)
    solution = make_solution(inst, found, began=0.0)
    assert not solution.unserved
    assert check(problem, solution) == []


def test_the_same_seed_and_number_of_moves_give_the_same_plan() -> None:
    inst = instance_of(load_problem(DATA / "rural-24.json"))
    empty = [[] for _ in inst.vehicles]
    runs = [
        alns.improve(inst, empty, float("inf"), random.Random(3), iterations=300)[0]
        for _ in range(2)
    ]
    assert runs[0] == runs[1]


def test_a_shorter_plan_from_the_other_search_is_taken_and_a_longer_one_is_not() -> None:
    inst = instance_of(load_problem(DATA / "cordeau-a4-16.json"))
    empty = [[] for _ in inst.vehicles]
    optimum, _ = alns.improve(inst, empty, float("inf"), random.Random(0), iterations=2000)
    built, _ = alns.improve(inst, empty, float("inf"), random.Random(1), iterations=0)
    offered: list[list[list[int]]] = []

    def other_search(mine: list[list[int]]) -> list[list[int]]:
        offered.append(mine)
        return optimum

    found, stats = alns.improve(
        inst, empty, float("inf"), random.Random(1), iterations=40, meet=other_search
    )
    assert offered and stats["met"] == 1  # taken once; after that it is no longer shorter
    assert total_distance(inst, found) == pytest.approx(total_distance(inst, optimum))
    worse, stats = alns.improve(
        inst, empty, float("inf"), random.Random(1), iterations=40, meet=lambda _: built
    )
    assert stats["met"] == 0
    assert total_distance(inst, worse) <= total_distance(inst, built)
