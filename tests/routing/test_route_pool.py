"""The route pool's recombination: the best plan made of routes seen during the search.

Routes are node lists (2k pickup, 2k+1 dropoff of request k); the cost of a route here is
simply a table, so every expected answer can be worked out by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from routing import solver
from routing.check import check
from routing.pool import RoutePool
from routing.problem import load_problem

DATA = Path(__file__).parent / "data"

COSTS = {
    (0, 1, 2, 3): 10.0,  # requests 0 and 1 together
    (4, 5): 5.0,  # request 2 alone
    (0, 1): 4.0,  # request 0 alone
    (2, 3, 4, 5): 7.0,  # requests 1 and 2 together
    (2, 4, 3, 5): 6.5,  # the same requests, in a shorter order
}


def cost(_vehicle: int, nodes: Sequence[int]) -> float:
    return COSTS[tuple(nodes)]


def always(_vehicle: int, _nodes: list[int]) -> bool:
    return True


def test_routes_from_two_plans_combine_into_a_shorter_one() -> None:
    pool = RoutePool(["bus", "bus"], cost)
    pool.add(0, [0, 1])
    pool.add(1, [2, 3, 4, 5])
    plan = pool.recombine([[0, 1, 2, 3], [4, 5]], 1.0, always)  # 15 now; 4 + 7 = 11
    assert plan is not None
    assert sorted(map(tuple, plan)) == [(0, 1), (2, 3, 4, 5)]


def test_the_shortest_order_seen_of_the_same_requests_is_kept() -> None:
    pool = RoutePool(["bus", "bus"], cost)
    pool.add(0, [0, 1])
    pool.add(1, [2, 3, 4, 5])
    pool.add(1, [2, 4, 3, 5])
    plan = pool.recombine([[0, 1, 2, 3], [4, 5]], 1.0, always)
    assert plan is not None
    assert sorted(map(tuple, plan)) == [(0, 1), (2, 4, 3, 5)]


def test_no_answer_when_nothing_beats_the_current_plan() -> None:
    pool = RoutePool(["bus", "bus"], cost)
    pool.add(0, [0, 1, 2, 3])
    assert pool.recombine([[0, 1], [2, 4, 3, 5]], 1.0, always) is None


def test_never_more_routes_than_vehicles_of_their_kind() -> None:
    # Three one-request routes would be shortest, but there are two vehicles.
    costs = {(0, 1): 1.0, (2, 3): 1.0, (4, 5): 1.0, (0, 1, 2, 3, 4, 5): 9.0, (2, 3, 4, 5): 5.0}
    pool = RoutePool(["bus", "bus"], lambda _v, nodes: costs[tuple(nodes)])
    for nodes in ([0, 1], [2, 3], [4, 5], [2, 3, 4, 5]):
        pool.add(0, nodes)
    plan = pool.recombine([[0, 1, 2, 3, 4, 5], []], 1.0, always)
    assert plan is not None
    assert sorted(map(tuple, plan)) == [(0, 1), (2, 3, 4, 5)]


def test_a_route_goes_only_to_a_vehicle_of_the_kind_it_was_found_on() -> None:
    costs = {(0, 1): 1.0, (0, 1, 2, 3): 9.0, (2, 3): 1.0}
    pool = RoutePool(["bus", "car"], lambda _v, nodes: costs[tuple(nodes)])
    pool.add(1, [0, 1])  # found on the car
    pool.add(1, [2, 3])  # on the car too: only one of the two can be used
    plan = pool.recombine([[0, 1, 2, 3], []], 1.0, always)
    assert plan is None  # (0,1) on the car + (2,3) on the car is not possible
    pool.add(0, [2, 3])  # now found on the bus as well
    plan = pool.recombine([[0, 1, 2, 3], []], 1.0, always)
    assert plan == [[2, 3], [0, 1]]


def test_serving_more_requests_comes_before_driving_less() -> None:
    costs = {(0, 1): 1.0, (0, 1, 2, 3): 50.0}
    pool = RoutePool(["bus"], lambda _v, nodes: costs[tuple(nodes)])
    pool.add(0, [0, 1, 2, 3])
    plan = pool.recombine([[0, 1]], 1.0, always)
    assert plan == [[0, 1, 2, 3]]


def test_a_route_that_fails_verification_is_banned_and_the_next_best_taken() -> None:
    pool = RoutePool(["bus", "bus"], cost)
    pool.add(0, [0, 1])
    pool.add(1, [2, 3, 4, 5])
    pool.add(1, [2, 4, 3, 5])
    checked: list[list[int]] = []

    def verify(_vehicle: int, nodes: list[int]) -> bool:
        checked.append(nodes)
        return nodes != [2, 4, 3, 5]

    plan = pool.recombine([[0, 1, 2, 3], [4, 5]], 1.0, verify)
    assert plan is not None
    assert sorted(map(tuple, plan)) == [(0, 1), (2, 3, 4, 5)]  # 11 is still better than 15
    assert [2, 4, 3, 5] in checked
    pool.add(1, [2, 4, 3, 5])  # a banned route is not taken back
    assert pool.recombine([[0, 1], [2, 3, 4, 5]], 1.0, verify) is None


def test_the_solver_with_the_route_pool_gives_a_checked_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The pool is off by default (benchmarks/README.md says why); the plan it takes part in
    # must still pass the independent checker and serve everyone the plain search serves.
    monkeypatch.setattr(solver, "_POOL", True)
    monkeypatch.setattr(solver, "_POOL_EVERY", 2)
    problem = load_problem(DATA / "rural-24.json")
    solution = solver.solve(problem, time_limit=2.0, seed=3)
    assert check(problem, solution) == []
    accounted = {s.request for r in solution.routes for s in r.stops}
    accounted |= {item.request for item in solution.unserved}
    assert accounted == {request.id for request in problem.requests}
