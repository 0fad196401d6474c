"""A day's plan as plain frozen data (contract: shared/routing-format.md).

Times are minutes on the day's clock; distances in the travel model's units. This module only
checks that a solution is well formed; whether it is feasible is `routing.check`'s job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from routing.problem import (
    _as_list,
    _as_number,
    _as_object,
    _as_text,
    _required,
    read_json,
)

StopType = Literal["pickup", "dropoff"]
STOP_TYPES: tuple[StopType, ...] = ("pickup", "dropoff")


class SolutionError(ValueError):
    """An input that is not a well-formed solution; the message names the field."""


@dataclass(frozen=True)
class Stop:
    """A visit: arrive, wait until `begin` (inside the window), serve, leave at `departure`."""

    request: str
    type: StopType
    location: str
    arrival: float
    begin: float
    departure: float

    def __post_init__(self) -> None:
        if self.type not in STOP_TYPES:
            raise SolutionError(f'type: "pickup" ou "dropoff" attendu, pas {self.type!r}')

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: str = "stop") -> Stop:
        data = _as_object(data, path, SolutionError)
        err = SolutionError
        stop_type = _as_text(_required(data, "type", path, err), f"{path}.type", err)
        if stop_type not in STOP_TYPES:
            raise err(f'{path}.type: "pickup" ou "dropoff" attendu, pas "{stop_type}"')
        return cls(
            request=_as_text(_required(data, "request", path, err), f"{path}.request", err),
            type=stop_type,
            location=_as_text(_required(data, "location", path, err), f"{path}.location", err),
            arrival=_as_number(_required(data, "arrival", path, err), f"{path}.arrival", err),
            begin=_as_number(_required(data, "begin", path, err), f"{path}.begin", err),
            departure=_as_number(_required(data, "departure", path, err), f"{path}.departure", err),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "request": self.request,
            "type": self.type,
            "location": self.location,
            "arrival": self.arrival,
            "begin": self.begin,
            "departure": self.departure,
        }


@dataclass(frozen=True)
class Route:
    """One vehicle's day: leave its start depot at `start`, back at its end depot at `end`."""

    vehicle: str
    start: float
    end: float
    distance: float
    stops: tuple[Stop, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "stops", tuple(self.stops))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: str = "route") -> Route:
        data = _as_object(data, path, SolutionError)
        err = SolutionError
        stops = _as_list(_required(data, "stops", path, err), f"{path}.stops", err)
        return cls(
            vehicle=_as_text(_required(data, "vehicle", path, err), f"{path}.vehicle", err),
            start=_as_number(_required(data, "start", path, err), f"{path}.start", err),
            end=_as_number(_required(data, "end", path, err), f"{path}.end", err),
            distance=_as_number(_required(data, "distance", path, err), f"{path}.distance", err),
            stops=tuple(
                Stop.from_dict(stop, f"{path}.stops[{index}]") for index, stop in enumerate(stops)
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "vehicle": self.vehicle,
            "start": self.start,
            "end": self.end,
            "distance": self.distance,
            "stops": [stop.to_dict() for stop in self.stops],
        }


@dataclass(frozen=True)
class Unserved:
    """A request left out, with a reason in plain French for the coordinator."""

    request: str
    reason: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: str = "unserved") -> Unserved:
        data = _as_object(data, path, SolutionError)
        err = SolutionError
        reason = data.get("reason", "")
        if not isinstance(reason, str):
            raise err(f"{path}.reason: texte attendu")
        return cls(
            request=_as_text(_required(data, "request", path, err), f"{path}.request", err),
            reason=reason,
        )

    def to_dict(self) -> dict[str, Any]:
        return {"request": self.request, "reason": self.reason}


@dataclass(frozen=True)
class Solution:
    """Routes, unserved requests, total `distance`, and free-form `stats` (e.g. solve_seconds)."""

    routes: tuple[Route, ...]
    unserved: tuple[Unserved, ...]
    distance: float
    stats: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "routes", tuple(self.routes))
        object.__setattr__(self, "unserved", tuple(self.unserved))
        object.__setattr__(self, "stats", dict(self.stats))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Solution:
        data = _as_object(data, "solution", SolutionError)
        err = SolutionError
        routes = _as_list(_required(data, "routes", "", err), "routes", err)
        unserved = _as_list(data.get("unserved", []), "unserved", err)
        stats = _as_object(data.get("stats", {}), "stats", err)
        return cls(
            routes=tuple(Route.from_dict(r, f"routes[{i}]") for i, r in enumerate(routes)),
            unserved=tuple(Unserved.from_dict(u, f"unserved[{i}]") for i, u in enumerate(unserved)),
            distance=_as_number(_required(data, "distance", "", err), "distance", err),
            stats=dict(stats),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "routes": [route.to_dict() for route in self.routes],
            "unserved": [item.to_dict() for item in self.unserved],
            "distance": self.distance,
            "stats": dict(self.stats),
        }


def load_solution(path: str | Path) -> Solution:
    """Read a solution JSON file; SolutionError if unreadable or malformed."""
    return Solution.from_dict(read_json(path, SolutionError))
