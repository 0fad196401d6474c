"""Independent feasibility check of a solution against its problem.

Everything is recomputed from the travel model and the stops; the solution's own numbers are
only compared with the recomputed ones. Each violation is one French sentence naming the route,
the stop and the request, so a coordinator (or a failing test) can find it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise

from routing.problem import Problem, Request, Vehicle, Window
from routing.solution import Route, Solution, Stop
from routing.travel import FloatMatrix, travel_matrices

ABSOLUTE_TOLERANCE = 1e-3
RELATIVE_TOLERANCE = 1e-6


def check(problem: Problem, solution: Solution) -> list[str]:
    """Return every violation of the contract's feasibility rules; [] means feasible."""
    distance, duration = travel_matrices(problem)
    checker = _Checker(problem, distance, duration)
    violations: list[str] = []
    violations += checker.vehicles_used_once(solution)
    total = 0.0
    for index, route in enumerate(solution.routes):
        route_violations, route_distance = checker.route(index, route)
        violations += route_violations
        total += route_distance
    violations += checker.coverage(solution)
    if not _close(solution.distance, total):
        violations.append(
            f"distance totale {solution.distance:g} ≠ {total:g}, "
            "la somme des distances recalculées des tournées"
        )
    return violations


def _tolerance(reference: float) -> float:
    return max(ABSOLUTE_TOLERANCE, RELATIVE_TOLERANCE * abs(reference))


def _close(stated: float, recomputed: float) -> bool:
    return abs(stated - recomputed) <= _tolerance(recomputed)


def _before(early: float, late: float) -> bool:
    """early <= late, within tolerance."""
    return early <= late + _tolerance(late)


def _clock(minutes: float) -> str:
    """560.5 -> '560.5 (9:20)': minutes as in the file, and the time a coordinator reads."""
    hours, rest = divmod(round(minutes), 60)
    return f"{minutes:g} ({hours}:{rest:02d})"


_TYPE_NAMES = {"pickup": "prise en charge", "dropoff": "dépose"}


@dataclass(frozen=True)
class _Visit:
    route: int
    position: int
    stop: Stop


class _Checker:
    def __init__(self, problem: Problem, distance: FloatMatrix, duration: FloatMatrix) -> None:
        self.problem = problem
        self.distance = distance
        self.duration = duration
        self.vehicles = {vehicle.id: vehicle for vehicle in problem.vehicles}
        self.requests = {request.id: request for request in problem.requests}
        self.locations = {location.id for location in problem.locations}
        # request id -> its stops in the solution, wherever they are
        self.visits: dict[str, list[_Visit]] = defaultdict(list)

    def vehicles_used_once(self, solution: Solution) -> list[str]:
        violations = []
        first_use: dict[str, int] = {}
        for index, route in enumerate(solution.routes):
            if route.vehicle not in self.vehicles:
                violations.append(f'routes[{index}] : véhicule inconnu "{route.vehicle}"')
            elif route.vehicle in first_use:
                violations.append(
                    f'routes[{index}] : le véhicule "{route.vehicle}" a déjà une tournée '
                    f"(routes[{first_use[route.vehicle]}])"
                )
            else:
                first_use[route.vehicle] = index
        return violations

    # --- one route ------------------------------------------------------------------------------

    def route(self, index: int, route: Route) -> tuple[list[str], float]:
        """Check one route; return its violations and its recomputed distance."""
        label = f"routes[{index}] {route.vehicle}"
        violations: list[str] = []
        for position, stop in enumerate(route.stops):
            self.visits[stop.request].append(_Visit(index, position, stop))
            violations += self._stop_identity(f"{label}, {_stop_label(position, stop)}", stop)
        vehicle = self.vehicles.get(route.vehicle)
        if vehicle is None:
            return violations, route.distance
        violations += self._times(label, vehicle, route)
        violations += self._loads(label, vehicle, route)
        violations += self._rides(label, route)
        recomputed = self._distance(vehicle, route)
        if recomputed is not None and not _close(route.distance, recomputed):
            violations.append(
                f"{label} : distance {route.distance:g} ≠ {recomputed:g} recalculée "
                "d'après le modèle de trajet"
            )
        return violations, route.distance if recomputed is None else recomputed

    def _stop_identity(self, label: str, stop: Stop) -> list[str]:
        request = self.requests.get(stop.request)
        if request is None:
            return [f'{label} : demande inconnue "{stop.request}"']
        expected = request.pickup if stop.type == "pickup" else request.dropoff
        if stop.location != expected:
            return [
                f'{label} : lieu "{stop.location}" au lieu de "{expected}" '
                f"({_TYPE_NAMES[stop.type]} de la demande {request.id})"
            ]
        return []

    def _location_of(self, stop: Stop) -> str | None:
        """The location the vehicle actually drives to: the stop's own, if it exists."""
        return stop.location if stop.location in self.locations else None

    def _times(self, label: str, vehicle: Vehicle, route: Route) -> list[str]:
        violations = []
        if not _before(vehicle.available[0], route.start):
            violations.append(
                f"{label} : départ du dépôt à {_clock(route.start)}, avant le début de "
                f"disponibilité du véhicule {_clock(vehicle.available[0])}"
            )
        place, time, what = vehicle.start, route.start, "départ du dépôt"
        for position, stop in enumerate(route.stops):
            stop_label = f"{label}, {_stop_label(position, stop)}"
            location = self._location_of(stop)
            if location is None:
                continue  # already reported by _stop_identity; no travel time to compare with
            travel = self._duration(place, location)
            if not _before(time + travel, stop.arrival):
                violations.append(
                    f"{stop_label} : arrivée à {_clock(stop.arrival)}, impossible avant "
                    f"{_clock(time + travel)} ({what} {time:g} + trajet {travel:g} min)"
                )
            violations += self._service(stop_label, stop)
            place, time, what = location, stop.departure, "départ précédent"
        back = time + self._duration(place, vehicle.end)
        if not _before(back, route.end):
            violations.append(
                f"{label} : retour au dépôt à {_clock(route.end)}, impossible avant "
                f"{_clock(back)} ({what} {time:g} + trajet)"
            )
        if not _before(route.end, vehicle.available[1]):
            violations.append(
                f"{label} : retour au dépôt à {_clock(route.end)}, après la fin de "
                f"disponibilité du véhicule {_clock(vehicle.available[1])}"
            )
        if vehicle.max_duration is not None and not _before(
            route.end - route.start, vehicle.max_duration
        ):
            violations.append(
                f"{label} : tournée de {route.end - route.start:g} min, plus longue que "
                f"la durée maximale {vehicle.max_duration:g} min"
            )
        return violations

    def _service(self, label: str, stop: Stop) -> list[str]:
        violations = []
        if not _before(stop.arrival, stop.begin):
            violations.append(
                f"{label} : service commencé à {_clock(stop.begin)}, avant l'arrivée "
                f"{_clock(stop.arrival)}"
            )
        request = self.requests.get(stop.request)
        if request is None:
            return violations
        window = request.pickup_window if stop.type == "pickup" else request.dropoff_window
        if window is not None and not _inside(stop.begin, window):
            violations.append(
                f"{label} : service commencé à {_clock(stop.begin)}, hors de la fenêtre "
                f"[{_clock(window[0])}, {_clock(window[1])}] de la demande {request.id}"
            )
        service = request.pickup_service if stop.type == "pickup" else request.dropoff_service
        if not _close(stop.departure, stop.begin + service):
            violations.append(
                f"{label} : départ à {_clock(stop.departure)} au lieu de "
                f"{_clock(stop.begin + service)} (début {stop.begin:g} + service {service:g} min)"
            )
        return violations

    def _loads(self, label: str, vehicle: Vehicle, route: Route) -> list[str]:
        violations = []
        onboard: dict[str, int] = defaultdict(int)
        for position, stop in enumerate(route.stops):
            request = self.requests.get(stop.request)
            if request is None:
                continue
            sign = 1 if stop.type == "pickup" else -1
            for dimension, amount in request.load.items():
                onboard[dimension] += sign * amount
            over = _over_capacity(onboard, vehicle.capacity)
            if over:
                violations.append(
                    f"{label}, {_stop_label(position, stop)} : charge au-delà de la capacité "
                    f"({over})"
                )
        return violations

    def _rides(self, label: str, route: Route) -> list[str]:
        violations = []
        pickups: dict[str, Stop] = {}
        for position, stop in enumerate(route.stops):
            if stop.type == "pickup":
                pickups[stop.request] = stop
                continue
            request = self.requests.get(stop.request)
            pickup = pickups.get(stop.request)
            if request is None or pickup is None or request.max_ride is None:
                continue
            ride = stop.begin - pickup.departure
            if not _before(ride, request.max_ride):
                violations.append(
                    f"{label}, {_stop_label(position, stop)} : trajet de {ride:g} min, plus "
                    f"long que la durée maximale {request.max_ride:g} min de la demande "
                    f"{request.id}"
                )
        return violations

    def _distance(self, vehicle: Vehicle, route: Route) -> float | None:
        places = [self._location_of(stop) for stop in route.stops]
        if any(place is None for place in places):
            return None
        path = [vehicle.start, *(place for place in places if place is not None), vehicle.end]
        index = self.problem.location_index
        return float(sum(self.distance[index(a), index(b)] for a, b in pairwise(path)))

    def _duration(self, origin: str, destination: str) -> float:
        index = self.problem.location_index
        return float(self.duration[index(origin), index(destination)])

    # --- every request served once or reported unserved -----------------------------------------

    def coverage(self, solution: Solution) -> list[str]:
        violations = []
        unserved: dict[str, int] = {}
        for index, item in enumerate(solution.unserved):
            if item.request not in self.requests:
                violations.append(f'unserved[{index}] : demande inconnue "{item.request}"')
            elif item.request in unserved:
                violations.append(
                    f"unserved[{index}] : demande {item.request} déjà listée "
                    f"(unserved[{unserved[item.request]}])"
                )
            else:
                unserved[item.request] = index
        for request in self.problem.requests:
            visits = self.visits.get(request.id, [])
            if request.id in unserved:
                if visits:
                    violations.append(
                        f"demande {request.id} : listée non servie "
                        f"(unserved[{unserved[request.id]}]) mais présente dans une tournée "
                        f"(routes[{visits[0].route}])"
                    )
            elif not visits:
                violations.append(f"demande {request.id} : ni servie ni listée non servie")
            else:
                violations += _served_once(request, visits)
        return violations


def _served_once(request: Request, visits: list[_Visit]) -> list[str]:
    pickups = [visit for visit in visits if visit.stop.type == "pickup"]
    dropoffs = [visit for visit in visits if visit.stop.type == "dropoff"]
    if len(pickups) != 1 or len(dropoffs) != 1:
        return [
            f"demande {request.id} : {len(pickups)} prise(s) en charge et {len(dropoffs)} "
            "dépose(s), il en faut exactement une de chaque"
        ]
    pickup, dropoff = pickups[0], dropoffs[0]
    if pickup.route != dropoff.route:
        return [
            f"demande {request.id} : prise en charge dans routes[{pickup.route}] mais dépose "
            f"dans routes[{dropoff.route}]"
        ]
    if dropoff.position < pickup.position:
        return [
            f"demande {request.id} : dépose (stops[{dropoff.position}]) avant la prise en "
            f"charge (stops[{pickup.position}]) dans routes[{pickup.route}]"
        ]
    return []


def _stop_label(position: int, stop: Stop) -> str:
    kind = _TYPE_NAMES.get(stop.type, stop.type)
    return f"stops[{position}] {kind} de {stop.request} à {stop.location}"


def _inside(time: float, window: Window) -> bool:
    return _before(window[0], time) and _before(time, window[1])


def _over_capacity(onboard: Mapping[str, int], capacity: Mapping[str, int]) -> str:
    return ", ".join(
        f"{dimension} {amount} > {capacity.get(dimension, 0)}"
        for dimension, amount in sorted(onboard.items())
        if amount > capacity.get(dimension, 0)
    )
