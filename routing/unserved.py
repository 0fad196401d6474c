"""Why a request cannot be served: plain French reasons for the coordinator.

`explain` looks at one request on its own (no other passenger): if even an empty vehicle cannot
take it, it says why. The solver leaves such requests out of the model and reports the reason;
a request that is individually servable but left out by the solver gets `FLEET_FULL`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from routing.problem import Problem, Request, Vehicle

# Rounding slack (minutes) so that a request exactly on a limit is not refused.
_EPS = 1e-6


def clock(minutes: float) -> str:
    """8.5 hours -> '8:30' (the day's clock, as coordinators read it)."""
    total = math.floor(minutes + 0.5)
    return f"{total // 60}:{total % 60:02d}"


def fits(vehicle: Vehicle, request: Request) -> bool:
    """The request's load fits in the empty vehicle in every dimension."""
    return all(amount <= vehicle.capacity.get(dim, 0) for dim, amount in request.load.items())


def fleet_full_reason(problem: Problem, request: Request) -> str:
    """Reason given for a request the solver could not fit in any route."""
    when = request.pickup_window or request.dropoff_window
    at = f" vers {clock(when[0])}" if when else ""
    return f"plus de véhicule disponible à cette heure{at} (flotte complète)"


def vehicle_can_serve(
    request: Request,
    vehicle: Vehicle,
    location_index: dict[str, int],
    duration: np.ndarray,
) -> bool:
    """An empty vehicle, going straight depot -> pickup -> dropoff -> depot, can serve it."""
    return _serve_alone(request, vehicle, location_index, duration) is None


def _serve_alone(
    request: Request,
    vehicle: Vehicle,
    location_index: dict[str, int],
    duration: np.ndarray,
) -> str | None:
    """None when possible, else which step fails ('pickup', 'dropoff', 'ride', 'return')."""
    start = location_index[vehicle.start]
    end = location_index[vehicle.end]
    pick = location_index[request.pickup]
    drop = location_index[request.dropoff]
    pick_begin = vehicle.available[0] + float(duration[start, pick])
    pick_window = request.pickup_window
    if pick_window is not None:
        if pick_begin > pick_window[1] + _EPS:
            return "pickup"
        pick_begin = max(pick_begin, pick_window[0])
    # Waiting before boarding (not on board): delay the pickup so that the dropoff lands
    # at the opening of its window when that is later.
    ride = float(duration[pick, drop])
    drop_begin = pick_begin + request.pickup_service + ride
    drop_window = request.dropoff_window
    if drop_window is not None:
        if drop_begin > drop_window[1] + _EPS:
            return "dropoff"
        if drop_begin < drop_window[0]:
            latest_pick = pick_window[1] if pick_window is not None else math.inf
            shift = min(drop_window[0] - drop_begin, latest_pick - pick_begin)
            pick_begin += shift
            drop_begin += shift
            drop_begin = max(drop_begin, drop_window[0])
    if request.max_ride is not None:
        on_board = drop_begin - (pick_begin + request.pickup_service)
        if on_board > request.max_ride + _EPS:
            return "ride"
    back = drop_begin + request.dropoff_service + float(duration[drop, end])
    if back > vehicle.available[1] + _EPS:
        return "return"
    leave = pick_begin - float(duration[start, pick])
    if vehicle.max_duration is not None and back - leave > vehicle.max_duration + _EPS:
        return "return"
    return None


def explain(
    problem: Problem, matrices: tuple[np.ndarray, np.ndarray], request: Request
) -> str | None:
    """French reason why no vehicle can take this request even alone; None if one can."""
    _distance, duration = matrices
    location_index = {loc.id: i for i, loc in enumerate(problem.locations)}
    vehicles: Sequence[Vehicle] = [v for v in problem.vehicles if fits(v, request)]
    if not vehicles:
        return "charge plus grande que tout véhicule (places ou fauteuils)"
    pick = location_index[request.pickup]
    drop = location_index[request.dropoff]
    direct = float(duration[pick, drop])
    if request.max_ride is not None and direct > request.max_ride + _EPS:
        return (
            f"trajet direct plus long que la durée maximale de trajet "
            f"({direct:.0f} min pour {request.max_ride:.0f} min autorisées)"
        )
    if request.pickup_window and request.dropoff_window:
        earliest_drop = request.pickup_window[0] + request.pickup_service + direct
        if earliest_drop > request.dropoff_window[1] + _EPS:
            return (
                f"horaires incompatibles : parti à {clock(request.pickup_window[0])}, "
                f"on arrive au plus tôt à {clock(earliest_drop)}, après "
                f"{clock(request.dropoff_window[1])}"
            )
    failures = [_serve_alone(request, v, location_index, duration) for v in vehicles]
    if any(f is None for f in failures):
        return None
    if "ride" in failures and "return" not in failures:
        return (
            "horaires incompatibles avec la durée maximale de trajet "
            "(il faudrait attendre à bord l'ouverture de la fenêtre d'arrivée)"
        )
    if "pickup" in failures or "dropoff" in failures:
        return "aucun véhicule ne peut arriver à temps depuis son dépôt (fenêtre horaire trop tôt)"
    return "aucun véhicule n'est disponible assez tard pour ce trajet (retour au dépôt impossible)"
