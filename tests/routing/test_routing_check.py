"""The independent checker: accepts a correct hand-built plan, catches each kind of violation."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from geopy.distance import geodesic

from routing.check import check
from routing.problem import Problem, Request, load_problem
from routing.solution import Solution

DATA = Path(__file__).parent / "data"

# one-request.json, euclidean at speed 1: depot (0,0) -5- home-1 (3,4) -5- venue (6,8) -10- depot.
# r1: pickup service 2, dropoff service 1, dropoff window [20, 30], max ride 15.
# car: seats 3, available [0, 100], max duration 60.
GOOD: dict[str, Any] = {
    "routes": [
        {
            "vehicle": "car",
            "start": 10,
            "end": 33,
            "distance": 20,
            "stops": [
                {
                    "request": "r1",
                    "type": "pickup",
                    "location": "home-1",
                    "arrival": 15,
                    "begin": 15,
                    "departure": 17,
                },
                {
                    "request": "r1",
                    "type": "dropoff",
                    "location": "venue",
                    "arrival": 22,
                    "begin": 22,
                    "departure": 23,
                },
            ],
        }
    ],
    "unserved": [],
    "distance": 20,
    "stats": {},
}


@pytest.fixture
def problem() -> Problem:
    return load_problem(DATA / "one-request.json")


def edited(edit: Callable[[dict[str, Any]], object]) -> Solution:
    data = copy.deepcopy(GOOD)
    edit(data)
    return Solution.from_dict(data)


def stop(data: dict[str, Any], position: int) -> dict[str, Any]:
    stops: list[dict[str, Any]] = data["routes"][0]["stops"]
    return stops[position]


def test_correct_hand_built_solution_is_feasible(problem: Problem) -> None:
    assert check(problem, Solution.from_dict(GOOD)) == []


def test_waiting_before_service_and_arriving_exactly_on_time_are_allowed(
    problem: Problem,
) -> None:
    def wait_at_venue(d: dict[str, Any]) -> None:
        stop(d, 1).update(arrival=22, begin=25, departure=26)
        d["routes"][0]["end"] = 36

    assert check(problem, edited(wait_at_venue)) == []


def test_unserved_request_listed_with_reason_is_feasible(problem: Problem) -> None:
    solution = Solution.from_dict(
        {"routes": [], "unserved": [{"request": "r1", "reason": "test"}], "distance": 0}
    )
    assert check(problem, solution) == []


def only(violations: list[str]) -> str:
    assert len(violations) == 1, violations
    return violations[0]


VIOLATIONS = [
    pytest.param(
        lambda d: d["unserved"].append({"request": "r1", "reason": "x"}),
        "demande r1 : listée non servie (unserved[0]) mais présente dans une tournée (routes[0])",
        id="served-and-unserved",
    ),
    pytest.param(
        lambda d: d["unserved"].append({"request": "r9", "reason": "x"}),
        'unserved[0] : demande inconnue "r9"',
        id="unknown-unserved",
    ),
    pytest.param(
        lambda d: d["routes"][0]["stops"][0].update(arrival=14, begin=14, departure=16),
        "routes[0] car, stops[0] prise en charge de r1 à home-1 : arrivée à 14 (0:14), "
        "impossible avant 15 (0:15)",
        id="arrival-before-start-plus-travel",
    ),
    pytest.param(
        lambda d: d["routes"][0]["stops"][1].update(arrival=21.5, begin=21.5, departure=22.5),
        "routes[0] car, stops[1] dépose de r1 à venue : arrivée à 21.5 (0:22), "
        "impossible avant 22 (0:22) (départ précédent 17 + trajet 5 min)",
        id="arrival-before-previous-departure-plus-travel",
    ),
    pytest.param(
        lambda d: d["routes"][0]["stops"][1].update(begin=21.5, departure=22.5),
        "routes[0] car, stops[1] dépose de r1 à venue : service commencé à 21.5 (0:22), "
        "avant l'arrivée 22 (0:22)",
        id="begin-before-arrival",
    ),
    pytest.param(
        lambda d: (
            d["routes"][0].update(start=0, end=23),
            d["routes"][0]["stops"][0].update(arrival=5, begin=5, departure=7),
            d["routes"][0]["stops"][1].update(arrival=12, begin=12, departure=13),
        ),
        "routes[0] car, stops[1] dépose de r1 à venue : service commencé à 12 (0:12), "
        "hors de la fenêtre [20 (0:20), 30 (0:30)] de la demande r1",
        id="begin-outside-window",
    ),
    pytest.param(
        lambda d: d["routes"][0]["stops"][0].update(departure=16),
        "routes[0] car, stops[0] prise en charge de r1 à home-1 : départ à 16 (0:16) au lieu "
        "de 17 (0:17) (début 15 + service 2 min)",
        id="departure-not-begin-plus-service",
    ),
    pytest.param(
        lambda d: d["routes"][0].update(start=11),
        "routes[0] car, stops[0] prise en charge de r1 à home-1 : arrivée à 15 (0:15), "
        "impossible avant 16 (0:16) (départ du dépôt 11 + trajet 5 min)",
        id="first-arrival-before-start-plus-travel",
    ),
    pytest.param(
        lambda d: d["routes"][0].update(end=32),
        "routes[0] car : retour au dépôt à 32 (0:32), impossible avant 33 (0:33)",
        id="end-before-last-departure-plus-travel",
    ),
    pytest.param(
        lambda d: d["routes"][0].update(start=0, end=70),
        "routes[0] car : tournée de 70 min, plus longue que la durée maximale 60 min",
        id="max-duration",
    ),
    pytest.param(
        lambda d: d["routes"][0].update(distance=21),
        "routes[0] car : distance 21 ≠ 20 recalculée d'après le modèle de trajet",
        id="route-distance",
    ),
    pytest.param(
        lambda d: d.update(distance=19),
        "distance totale 19 ≠ 20, la somme des distances recalculées des tournées",
        id="total-distance",
    ),
    pytest.param(
        lambda d: d["routes"].append(
            {"vehicle": "car", "start": 50, "end": 50, "distance": 0, "stops": []}
        ),
        'routes[1] : le véhicule "car" a déjà une tournée (routes[0])',
        id="vehicle-used-twice",
    ),
    pytest.param(
        lambda d: d["routes"].append(
            {"vehicle": "bus", "start": 50, "end": 50, "distance": 0, "stops": []}
        ),
        'routes[1] : véhicule inconnu "bus"',
        id="unknown-vehicle",
    ),
]


@pytest.mark.parametrize(("edit", "message"), VIOLATIONS)
def test_each_violation_is_reported_alone_and_named(
    problem: Problem, edit: Callable[[dict[str, Any]], object], message: str
) -> None:
    assert only(check(problem, edited(edit))).startswith(message)


def test_dropoff_before_pickup(problem: Problem) -> None:
    def reverse(d: dict[str, Any]) -> None:
        d["routes"][0]["stops"].reverse()

    violations = check(problem, edited(reverse))
    assert (
        "demande r1 : dépose (stops[0]) avant la prise en charge (stops[1]) dans routes[0]"
        in violations
    )


def test_start_before_availability(problem: Problem) -> None:
    late = dataclasses.replace(problem.vehicles[0], available=(12.0, 100.0))
    violations = check(dataclasses.replace(problem, vehicles=(late,)), Solution.from_dict(GOOD))
    assert only(violations).startswith(
        "routes[0] car : départ du dépôt à 10 (0:10), avant le début de disponibilité du "
        "véhicule 12 (0:12)"
    )


def test_ride_longer_than_max_ride(problem: Problem) -> None:
    strict = dataclasses.replace(problem.requests[0], max_ride=3)
    violations = check(dataclasses.replace(problem, requests=(strict,)), Solution.from_dict(GOOD))
    assert only(violations) == (
        "routes[0] car, stops[1] dépose de r1 à venue : trajet de 5 min, plus long que la "
        "durée maximale 3 min de la demande r1"
    )


def test_waiting_on_board_counts_in_the_ride(problem: Problem) -> None:
    def wait_on_board(d: dict[str, Any]) -> None:
        stop(d, 1).update(arrival=22, begin=30, departure=31)
        d["routes"][0]["end"] = 41

    assert check(problem, edited(wait_on_board)) == []  # ride 13 min <= 15
    strict = dataclasses.replace(problem.requests[0], max_ride=10)
    violations = check(dataclasses.replace(problem, requests=(strict,)), edited(wait_on_board))
    assert only(violations).endswith(
        "trajet de 13 min, plus long que la durée maximale 10 min de la demande r1"
    )


def test_end_after_availability(problem: Problem) -> None:
    early = dataclasses.replace(problem.vehicles[0], available=(0.0, 32.5))
    violations = check(dataclasses.replace(problem, vehicles=(early,)), Solution.from_dict(GOOD))
    assert only(violations) == (
        "routes[0] car : retour au dépôt à 33 (0:33), après la fin de disponibilité du "
        "véhicule 32.5 (0:32)"
    )


def test_dropoff_missing(problem: Problem) -> None:
    def drop_dropoff(d: dict[str, Any]) -> None:
        d["routes"][0]["stops"].pop(1)
        d["routes"][0].update(end=22, distance=10)
        d["distance"] = 10

    assert only(check(problem, edited(drop_dropoff))) == (
        "demande r1 : 1 prise(s) en charge et 0 dépose(s), il en faut exactement une de chaque"
    )


def test_wrong_location(problem: Problem) -> None:
    violations = check(problem, edited(lambda d: stop(d, 0).update(location="venue")))
    assert (
        'routes[0] car, stops[0] prise en charge de r1 à venue : lieu "venue" au lieu de '
        '"home-1" (prise en charge de la demande r1)'
    ) in violations


def two_requests(problem: Problem, second_load: int) -> Problem:
    second = Request("r2", "home-1", "venue", {"seats": second_load}, dropoff_window=(20, 30))
    return dataclasses.replace(problem, requests=(*problem.requests, second))


def both_on_board(d: dict[str, Any]) -> None:
    stops = d["routes"][0]["stops"]
    stops.insert(1, {**stops[0], "request": "r2", "begin": 17, "arrival": 17, "departure": 17})
    stops.insert(2, {**stops[2], "request": "r2", "begin": 22, "arrival": 22, "departure": 22})
    stops[3].update(arrival=22, begin=22, departure=23)


def test_pooled_ride_within_capacity_is_feasible(problem: Problem) -> None:
    assert check(two_requests(problem, 2), edited(both_on_board)) == []


def test_load_over_capacity(problem: Problem) -> None:
    violations = check(two_requests(problem, 3), edited(both_on_board))
    assert only(violations) == (
        "routes[0] car, stops[1] prise en charge de r2 à home-1 : charge au-delà de la capacité "
        "(seats 4 > 3)"
    )


def test_pickup_and_dropoff_on_different_routes() -> None:
    problem = load_problem(DATA / "two-vehicles-wheelchair.json")
    solution = Solution.from_dict(
        {
            "routes": [
                {
                    "vehicle": "car",
                    "start": 480,
                    "end": 522,
                    "distance": 20,
                    "stops": [
                        {
                            "request": "a-out",
                            "type": "pickup",
                            "location": "home-a",
                            "arrival": 500,
                            "begin": 500,
                            "departure": 502,
                        }
                    ],
                },
                {
                    "vehicle": "van",
                    "start": 480,
                    "end": 640,
                    "distance": 40 * 2**0.5,
                    "stops": [
                        {
                            "request": "a-out",
                            "type": "dropoff",
                            "location": "venue",
                            "arrival": 580,
                            "begin": 580,
                            "departure": 582,
                        }
                    ],
                },
            ],
            "unserved": [{"request": r, "reason": "test"} for r in ("b-out", "w-out", "w-back")],
            "distance": 20 + 40 * 2**0.5,
        }
    )
    assert check(problem, solution) == [
        "demande a-out : prise en charge dans routes[0] mais dépose dans routes[1]"
    ]


def test_missing_request_and_unknown_stop_request(problem: Problem) -> None:
    def rename(d: dict[str, Any]) -> None:
        for item in d["routes"][0]["stops"]:
            item["request"] = "r7"

    violations = check(problem, edited(rename))
    assert 'routes[0] car, stops[0] prise en charge de r7 à home-1 : demande inconnue "r7"' in (
        violations
    )
    assert "demande r1 : ni servie ni listée non servie" in violations


def test_geodesic_route_is_checked_against_geodesic_times_circuity() -> None:
    problem = load_problem(DATA / "bergerac-geodesic.json")
    where = {location.id: (location.lat, location.lon) for location in problem.locations}

    def km(a: str, b: str) -> float:
        return float(geodesic(where[a], where[b]).km * 1.3)

    def minutes(a: str, b: str) -> float:
        return km(a, b) / 45 * 60

    # b42-out alone: depot -> home-17 (pickup, 3 min) -> venue-3 (dropoff at 575, 2 min) -> depot
    dropoff_begin = 575.0
    pickup_departure = dropoff_begin - minutes("home-17", "venue-3")
    pickup_begin = pickup_departure - 3
    start = pickup_begin - minutes("depot", "home-17")
    end = dropoff_begin + 2 + minutes("venue-3", "depot")
    total = km("depot", "home-17") + km("home-17", "venue-3") + km("venue-3", "depot")
    data: dict[str, Any] = {
        "routes": [
            {
                "vehicle": "minibus",
                "start": start,
                "end": end,
                "distance": total,
                "stops": [
                    {
                        "request": "b42-out",
                        "type": "pickup",
                        "location": "home-17",
                        "arrival": pickup_begin,
                        "begin": pickup_begin,
                        "departure": pickup_departure,
                    },
                    {
                        "request": "b42-out",
                        "type": "dropoff",
                        "location": "venue-3",
                        "arrival": dropoff_begin,
                        "begin": dropoff_begin,
                        "departure": dropoff_begin + 2,
                    },
                ],
            }
        ],
        "unserved": [
            {"request": "b43-out", "reason": "test"},
            {"request": "b42-back", "reason": "test"},
        ],
        "distance": total,
    }
    assert check(problem, Solution.from_dict(data)) == []

    without_circuity = copy.deepcopy(data)
    without_circuity["routes"][0]["distance"] = total / 1.3
    without_circuity["distance"] = total / 1.3
    violations = check(problem, Solution.from_dict(without_circuity))
    assert len(violations) == 2
    assert violations[0].startswith("routes[0] minibus : distance ")
