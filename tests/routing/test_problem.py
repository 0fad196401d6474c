"""Problem and solution data: JSON round trip and validation messages that name the field."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from routing.problem import Problem, ProblemError, Request, Vehicle, load_problem
from routing.solution import Solution, SolutionError, load_solution

DATA = Path(__file__).parent / "data"

EXAMPLE: dict[str, Any] = {
    "name": "bergerac-2026-03-12",
    "travel": {"kind": "geodesic", "speed_kmh": 45, "circuity": 1.3},
    "locations": [
        {"id": "depot", "lat": 44.8533, "lon": 0.4833},
        {"id": "home-17", "lat": 44.86, "lon": 0.62},
        {"id": "venue-3", "lat": 44.85, "lon": 0.48},
    ],
    "vehicles": [
        {
            "id": "minibus",
            "start": "depot",
            "end": "depot",
            "capacity": {"seats": 8, "wheelchairs": 1},
            "available": [450, 1110],
            "max_duration": 480,
        }
    ],
    "requests": [
        {
            "id": "b42-out",
            "pickup": "home-17",
            "dropoff": "venue-3",
            "load": {"seats": 1, "wheelchairs": 0},
            "pickup_service": 3,
            "dropoff_service": 2,
            "dropoff_window": [570, 595],
            "max_ride": 45,
        }
    ],
}


def test_contract_example_reads_into_typed_fields() -> None:
    problem = Problem.from_dict(EXAMPLE)
    request = problem.requests[0]
    assert request.dropoff_window == (570, 595)
    assert request.pickup_window is None
    assert request.pickup_service == 3
    assert problem.vehicles[0].capacity == {"seats": 8, "wheelchairs": 1}
    assert problem.travel.speed_kmh == 45
    assert problem.dimensions == ("seats", "wheelchairs")
    assert problem.location_index("venue-3") == 2


def test_json_round_trip_gives_an_equal_problem() -> None:
    problem = Problem.from_dict(EXAMPLE)
    again = Problem.from_dict(json.loads(json.dumps(problem.to_dict())))
    assert again == problem


def test_defaults_and_unknown_fields() -> None:
    data = copy.deepcopy(EXAMPLE)
    data["colour"] = "blue"
    data["requests"][0]["note"] = "ignored"
    data["travel"] = {"kind": "geodesic"}
    del data["requests"][0]["pickup_service"]
    problem = Problem.from_dict(data)
    assert problem.requests[0].pickup_service == 0
    assert problem.travel.speed_kmh == 45 and problem.travel.circuity == 1.3
    assert "note" not in problem.requests[0].to_dict()


def test_matrix_problem_round_trip() -> None:
    data = copy.deepcopy(EXAMPLE)
    data["travel"] = {
        "kind": "matrix",
        "distances": [[0, 1, 2], [1, 0, 3], [2, 3, 0]],
        "durations": [[0, 2, 4], [2, 0, 6], [4, 6, 0]],
    }
    problem = Problem.from_dict(data)
    assert problem.travel.distances == ((0, 1, 2), (1, 0, 3), (2, 3, 0))
    assert Problem.from_dict(problem.to_dict()) == problem


def test_python_construction_validates_too() -> None:
    with pytest.raises(ProblemError, match=r"^dropoff_window: fin 560 avant le début 570$"):
        Request("r", "a", "b", {"seats": 1}, dropoff_window=(570, 560))
    with pytest.raises(ProblemError, match=r"^available:"):
        Vehicle("v", "a", "a", {"seats": 1}, available=(600, 500))


def change(edit: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    data = copy.deepcopy(EXAMPLE)
    edit(data)
    return data


INVALID = [
    pytest.param(
        lambda d: d["requests"][0].update(pickup="home-9"),
        'requests[0].pickup: lieu inconnu "home-9"',
        id="unknown-pickup",
    ),
    pytest.param(
        lambda d: d["vehicles"][0].update(end="garage"),
        'vehicles[0].end: lieu inconnu "garage"',
        id="unknown-vehicle-end",
    ),
    pytest.param(
        lambda d: d["requests"][0].pop("dropoff"),
        "requests[0].dropoff: champ obligatoire manquant",
        id="missing-dropoff",
    ),
    pytest.param(
        lambda d: d.pop("vehicles"), "vehicles: champ obligatoire manquant", id="no-fleet"
    ),
    pytest.param(
        lambda d: d["travel"].pop("kind"), "travel.kind: champ obligatoire manquant", id="no-kind"
    ),
    pytest.param(
        lambda d: d["vehicles"][0].pop("capacity"),
        "vehicles[0].capacity: champ obligatoire manquant",
        id="missing-capacity",
    ),
    pytest.param(
        lambda d: d["requests"][0].update(dropoff_window=[595, 570]),
        "requests[0].dropoff_window: fin 570 avant le début 595",
        id="window-reversed",
    ),
    pytest.param(
        lambda d: d["requests"][0].update(pickup_window=[500]),
        "requests[0].pickup_window: intervalle",
        id="window-one-number",
    ),
    pytest.param(
        lambda d: d["requests"][0].update(load={"seats": 1, "wheelchairs": 2}),
        "requests[0].load: charge plus grande que la capacité de tout véhicule (wheelchairs 2 > 1)",
        id="load-too-big",
    ),
    pytest.param(
        lambda d: d["requests"][0].update(load={"stretchers": 1}),
        "requests[0].load: charge plus grande que la capacité de tout véhicule (stretchers 1 > 0)",
        id="load-unknown-dimension",
    ),
    pytest.param(
        lambda d: (
            d["vehicles"][0].update(capacity={"seats": 8}),
            d["vehicles"].append({**d["vehicles"][0], "id": "van", "capacity": {"wheelchairs": 1}}),
            d["requests"][0].update(load={"seats": 1, "wheelchairs": 1}),
        ),
        "requests[0].load: charge aucun véhicule n'a toutes ces places à la fois",
        id="load-fits-no-single-vehicle",
    ),
    pytest.param(
        lambda d: d["vehicles"][0].update(available=[1110, 450]),
        "vehicles[0].available: fin 450 avant le début 1110",
        id="available-reversed",
    ),
    pytest.param(
        lambda d: d["requests"][0].update(pickup_service=-1),
        "requests[0].pickup_service: doit être un nombre positif ou nul",
        id="negative-service",
    ),
    pytest.param(
        lambda d: d["requests"][0].update(max_ride=-5),
        "requests[0].max_ride: doit être un nombre positif ou nul",
        id="negative-max-ride",
    ),
    pytest.param(
        lambda d: d["vehicles"][0].update(capacity={"seats": -2}),
        "vehicles[0].capacity.seats: quantité négative",
        id="negative-capacity",
    ),
    pytest.param(
        lambda d: d["vehicles"][0].update(capacity={"seats": 1.5}),
        "vehicles[0].capacity.seats: nombre entier attendu",
        id="fractional-capacity",
    ),
    pytest.param(
        lambda d: d["requests"][0].update(dropoff_service="3"),
        'requests[0].dropoff_service: nombre attendu, pas "3"',
        id="service-as-text",
    ),
    pytest.param(
        lambda d: d.update(
            travel={"kind": "matrix", "distances": [[0, 1], [1, 0]], "durations": [[0, 1], [1, 0]]}
        ),
        "travel.distances: matrice 2×2 alors qu'il y a 3 lieux",
        id="matrix-wrong-size",
    ),
    pytest.param(
        lambda d: d.update(
            travel={
                "kind": "matrix",
                "distances": [[0, 1, 2], [1, 0], [2, 3, 0]],
                "durations": [[0, 1, 2], [1, 0, 3], [2, 3, 0]],
            }
        ),
        "travel.distances[1]: matrice non carrée",
        id="matrix-not-square",
    ),
    pytest.param(
        lambda d: d.update(travel={"kind": "matrix", "distances": [[0]]}),
        "travel.durations: champ obligatoire manquant",
        id="matrix-without-durations",
    ),
    pytest.param(
        lambda d: d.update(travel={"kind": "euclidean"}),
        'locations[0].x: coordonnée manquante pour le lieu "depot"',
        id="euclidean-without-xy",
    ),
    pytest.param(
        lambda d: d["locations"][1].pop("lon"),
        'locations[1].lon: coordonnée manquante pour le lieu "home-17"',
        id="geodesic-without-lon",
    ),
    pytest.param(
        lambda d: d["locations"][1].update(lat=95),
        "locations[1].lat: latitude hors de [-90, 90]",
        id="latitude-out-of-range",
    ),
    pytest.param(
        lambda d: d["locations"].append({"id": "home-17", "lat": 44, "lon": 0}),
        'locations[3].id: identifiant "home-17" en double',
        id="duplicate-location",
    ),
    pytest.param(
        lambda d: d["requests"].append(dict(d["requests"][0])),
        'requests[1].id: identifiant "b42-out" en double',
        id="duplicate-request",
    ),
    pytest.param(
        lambda d: d["vehicles"].append(dict(d["vehicles"][0])),
        'vehicles[1].id: identifiant "minibus" en double',
        id="duplicate-vehicle",
    ),
    pytest.param(
        lambda d: d["travel"].update(kind="road"),
        "travel.kind: 'road' inconnu",
        id="unknown-travel-kind",
    ),
    pytest.param(
        lambda d: d["travel"].update(speed_kmh=0),
        "travel.speed_kmh: doit être strictement positif",
        id="zero-speed",
    ),
    pytest.param(
        lambda d: d["vehicles"][0].update(max_duration=0),
        "vehicles[0].max_duration: doit être strictement positive",
        id="zero-max-duration",
    ),
    pytest.param(
        lambda d: d.update(requests={"id": "x"}), "requests: liste JSON attendue", id="not-a-list"
    ),
    pytest.param(
        lambda d: d["requests"].__setitem__(0, "b42"),
        "requests[0]: objet JSON attendu",
        id="request-not-object",
    ),
]


@pytest.mark.parametrize(("edit", "message"), INVALID)
def test_invalid_problem_names_the_field(
    edit: Callable[[dict[str, Any]], object], message: str
) -> None:
    with pytest.raises(ProblemError) as caught:
        Problem.from_dict(change(edit))
    assert str(caught.value).startswith(message)


def test_load_problem_reports_malformed_json_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"name": "x",\n "travel": }', encoding="utf-8")
    with pytest.raises(ProblemError, match=r"broken.json: JSON mal formé ligne 2"):
        load_problem(path)


def test_load_problem_reports_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ProblemError, match=r"absent\.json: lecture impossible"):
        load_problem(tmp_path / "absent.json")


@pytest.mark.parametrize("path", sorted(DATA.glob("*.json")), ids=lambda p: p.name)
def test_shared_test_instances_are_valid_problems(path: Path) -> None:
    problem = load_problem(path)
    assert Problem.from_dict(problem.to_dict()) == problem


SOLUTION: dict[str, Any] = {
    "routes": [
        {
            "vehicle": "minibus",
            "start": 512.0,
            "end": 640.5,
            "distance": 41.7,
            "stops": [
                {
                    "request": "b42-out",
                    "type": "pickup",
                    "location": "home-17",
                    "arrival": 548.1,
                    "begin": 548.1,
                    "departure": 551.1,
                },
                {
                    "request": "b42-out",
                    "type": "dropoff",
                    "location": "venue-3",
                    "arrival": 571.0,
                    "begin": 571.0,
                    "departure": 573.0,
                },
            ],
        }
    ],
    "unserved": [{"request": "b51-back", "reason": "no vehicle available after 17:00"}],
    "distance": 41.7,
    "stats": {"solve_seconds": 1.8},
}


def test_solution_round_trip(tmp_path: Path) -> None:
    solution = Solution.from_dict(SOLUTION)
    assert solution.routes[0].stops[1].type == "dropoff"
    assert solution.to_dict() == SOLUTION
    path = tmp_path / "solution.json"
    path.write_text(json.dumps(solution.to_dict()), encoding="utf-8")
    assert load_solution(path) == solution


def test_malformed_solution_names_the_field() -> None:
    data = copy.deepcopy(SOLUTION)
    data["routes"][0]["stops"][1]["type"] = "visit"
    with pytest.raises(SolutionError, match=r'^routes\[0\]\.stops\[1\]\.type: "pickup" ou'):
        Solution.from_dict(data)
    del data["routes"][0]["stops"][0]["begin"]
    with pytest.raises(SolutionError, match=r"^routes\[0\]\.stops\[0\]\.begin: champ obligatoire"):
        Solution.from_dict(data)


def test_matrix_travel_accepts_lists_and_numpy_arrays_from_python() -> None:
    import numpy as np

    from routing.problem import Travel

    travel = Travel("matrix", distances=np.array([[0, 1], [2, 0]]), durations=[[0, 3], [4, 0]])
    assert travel.distances == ((0.0, 1.0), (2.0, 0.0))
    assert travel.durations == ((0.0, 3.0), (4.0, 0.0))
    assert hash(travel) == hash(
        Travel("matrix", distances=((0, 1), (2, 0)), durations=((0, 3), (4, 0)))
    )
