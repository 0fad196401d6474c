"""One day's dial-a-ride problem as plain frozen data (contract: shared/routing-format.md).

Times are minutes on the day's clock (8:30 is 510). Distances are in the travel model's units
(km for geodesic, the coordinates' units for euclidean, whatever the matrix says for matrix).
Every error is a `ProblemError` whose message starts with the path of the offending field,
e.g. ``requests[2].pickup: lieu inconnu "home-9"``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

TravelKind = Literal["euclidean", "geodesic", "matrix"]
TRAVEL_KINDS: tuple[TravelKind, ...] = ("euclidean", "geodesic", "matrix")
Window = tuple[float, float]
Matrix = tuple[tuple[float, ...], ...]


class ProblemError(ValueError):
    """An input that is not a valid problem; the message names the field."""


# --- small readers shared by problem and solution parsing -------------------------------------
# Each one takes the raw JSON value and its path, and raises with that path in the message.

_E = TypeVar("_E", bound=ValueError)


def _as_object(value: object, path: str, error: type[_E]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise error(f"{path}: objet JSON attendu")
    return cast(Mapping[str, Any], value)


def _required(data: Mapping[str, Any], key: str, path: str, error: type[_E]) -> Any:
    if key not in data or data[key] is None:
        raise error(f"{_join(path, key)}: champ obligatoire manquant")
    return data[key]


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _as_number(value: object, path: str, error: type[_E]) -> float:
    # bool is an int in Python but never a meaningful number in these files.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise error(f"{path}: nombre attendu, pas {json.dumps(value, ensure_ascii=False)}")
    number = float(value)
    if not math.isfinite(number):
        raise error(f"{path}: nombre fini attendu")
    return number


def _as_optional_number(value: object, path: str, error: type[_E]) -> float | None:
    return None if value is None else _as_number(value, path, error)


def _as_text(value: object, path: str, error: type[_E]) -> str:
    if not isinstance(value, str) or not value:
        raise error(f"{path}: texte non vide attendu")
    return value


def _as_list(value: object, path: str, error: type[_E]) -> list[Any]:
    if not isinstance(value, list):
        raise error(f"{path}: liste JSON attendue")
    return value


def _as_window(value: object, path: str, error: type[_E]) -> Window:
    items = _as_list(value, path, error)
    if len(items) != 2:
        raise error(f"{path}: intervalle [début, fin] attendu (2 nombres)")
    return (_as_number(items[0], f"{path}[0]", error), _as_number(items[1], f"{path}[1]", error))


def _as_quantities(value: object, path: str, error: type[_E]) -> dict[str, int]:
    data = _as_object(value, path, error)
    quantities: dict[str, int] = {}
    for name, amount in data.items():
        number = _as_number(amount, f"{path}.{name}", error)
        if number != int(number):
            raise error(f"{path}.{name}: nombre entier attendu, pas {amount}")
        quantities[str(name)] = int(number)
    return quantities


def _as_matrix(value: object, path: str, error: type[_E]) -> Matrix:
    rows = _as_list(value, path, error)
    return tuple(
        tuple(_as_number(cell, f"{path}[{i}][{j}]", error) for j, cell in enumerate(row))
        for i, row in enumerate(_as_list(r, f"{path}[{i}]", error) for i, r in enumerate(rows))
    )


def _prefixed(path: str, error: ProblemError) -> ProblemError:
    """Put the path of the enclosing item in front of a dataclass's field-relative message."""
    return ProblemError(f"{path}.{error}")


def _check_window(window: Window | None, name: str) -> None:
    if window is not None and window[1] < window[0]:
        raise ProblemError(f"{name}: fin {_fmt(window[1])} avant le début {_fmt(window[0])}")


def _check_quantities(quantities: Mapping[str, int], name: str) -> None:
    for dimension, amount in quantities.items():
        if amount < 0:
            raise ProblemError(f"{name}.{dimension}: quantité négative ({amount})")


def _check_non_negative(value: float | None, name: str) -> None:
    if value is not None and (not math.isfinite(value) or value < 0):
        raise ProblemError(f"{name}: doit être un nombre positif ou nul, pas {_fmt(value)}")


def _fmt(value: float) -> str:
    return f"{value:g}"


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


# --- the data -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    """A place: `x`, `y` for euclidean travel, `lat`, `lon` (degrees WGS-84) for geodesic."""

    id: str
    x: float | None = None
    y: float | None = None
    lat: float | None = None
    lon: float | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise ProblemError("id: identifiant vide")
        if self.lat is not None and not -90 <= self.lat <= 90:
            raise ProblemError(f"lat: latitude hors de [-90, 90] ({_fmt(self.lat)})")
        if self.lon is not None and not -180 <= self.lon <= 180:
            raise ProblemError(f"lon: longitude hors de [-180, 180] ({_fmt(self.lon)})")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: str = "location") -> Location:
        data = _as_object(data, path, ProblemError)
        err = ProblemError
        location_id = _as_text(_required(data, "id", path, err), f"{path}.id", err)
        x, y, lat, lon = (
            _as_optional_number(data.get(key), f"{path}.{key}", err)
            for key in ("x", "y", "lat", "lon")
        )
        try:
            return cls(id=location_id, x=x, y=y, lat=lat, lon=lon)
        except ProblemError as error:
            raise _prefixed(path, error) from None

    def to_dict(self) -> dict[str, Any]:
        return _drop_none(
            {"id": self.id, "x": self.x, "y": self.y, "lat": self.lat, "lon": self.lon}
        )


@dataclass(frozen=True)
class Travel:
    """How long and how far between two locations.

    euclidean: straight line in the coordinates' units, time = distance / `speed` (units/minute).
    geodesic: WGS-84 geodesic in km × `circuity`, time = km / `speed_kmh` × 60.
    matrix: `distances` and `durations` (minutes) given in the order of the problem's locations.
    """

    kind: TravelKind
    speed: float = 1.0
    speed_kmh: float = 45.0
    circuity: float = 1.3
    distances: Matrix | None = None
    durations: Matrix | None = None

    def __post_init__(self) -> None:
        if self.kind not in TRAVEL_KINDS:
            raise ProblemError(f"kind: {self.kind!r} inconnu (attendu : {', '.join(TRAVEL_KINDS)})")
        for name in ("speed", "speed_kmh", "circuity"):
            value = getattr(self, name)
            if not math.isfinite(value) or value <= 0:
                raise ProblemError(f"{name}: doit être strictement positif, pas {_fmt(value)}")
        for name in ("distances", "durations"):
            matrix = getattr(self, name)
            if matrix is not None:
                # Accept lists or numpy arrays from Python callers; keep hashable float tuples.
                try:
                    object.__setattr__(self, name, _float_rows(matrix))
                except (TypeError, ValueError):
                    raise ProblemError(f"{name}: matrice de nombres attendue") from None
        if self.kind == "matrix":
            self._check_matrices()

    def _check_matrices(self) -> None:
        sizes: list[int] = []
        for name in ("distances", "durations"):
            matrix: Matrix | None = getattr(self, name)
            if matrix is None:
                raise ProblemError(f"{name}: champ obligatoire manquant pour kind matrix")
            size = len(matrix)
            for i, row in enumerate(matrix):
                if len(row) != size:
                    raise ProblemError(
                        f"{name}[{i}]: matrice non carrée ({len(row)} valeurs, {size} attendues)"
                    )
                for j, value in enumerate(row):
                    if not math.isfinite(value) or value < 0:
                        raise ProblemError(f"{name}[{i}][{j}]: valeur négative ou non finie")
            sizes.append(size)
        if sizes[0] != sizes[1]:
            raise ProblemError(f"durations: {sizes[1]} lignes alors que distances en a {sizes[0]}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: str = "travel") -> Travel:
        data = _as_object(data, path, ProblemError)
        kind = _as_text(_required(data, "kind", path, ProblemError), f"{path}.kind", ProblemError)

        def number(key: str, default: float) -> float:
            value = _as_optional_number(data.get(key), f"{path}.{key}", ProblemError)
            return default if value is None else value

        def matrix(key: str) -> Matrix | None:
            value = data.get(key)
            return None if value is None else _as_matrix(value, f"{path}.{key}", ProblemError)

        speed, speed_kmh, circuity = (
            number("speed", 1.0),
            number("speed_kmh", 45.0),
            number("circuity", 1.3),
        )
        distances, durations = matrix("distances"), matrix("durations")
        try:
            return cls(
                kind=cast(TravelKind, kind),
                speed=speed,
                speed_kmh=speed_kmh,
                circuity=circuity,
                distances=distances,
                durations=durations,
            )
        except ProblemError as error:
            raise _prefixed(path, error) from None

    def to_dict(self) -> dict[str, Any]:
        if self.kind == "euclidean":
            return {"kind": self.kind, "speed": self.speed}
        if self.kind == "geodesic":
            return {"kind": self.kind, "speed_kmh": self.speed_kmh, "circuity": self.circuity}
        return {
            "kind": self.kind,
            "distances": [list(row) for row in self.distances or ()],
            "durations": [list(row) for row in self.durations or ()],
        }


@dataclass(frozen=True)
class Vehicle:
    """A vehicle leaving `start` no earlier than available[0], back at `end` by available[1]."""

    id: str
    start: str
    end: str
    capacity: Mapping[str, int] = field(hash=False)
    available: Window
    max_duration: float | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise ProblemError("id: identifiant vide")
        object.__setattr__(self, "capacity", dict(self.capacity))
        object.__setattr__(self, "available", tuple(self.available))
        _check_quantities(self.capacity, "capacity")
        _check_window(self.available, "available")
        if self.max_duration is not None and (
            not math.isfinite(self.max_duration) or self.max_duration <= 0
        ):
            raise ProblemError(
                f"max_duration: doit être strictement positive, pas {_fmt(self.max_duration)}"
            )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: str = "vehicle") -> Vehicle:
        data = _as_object(data, path, ProblemError)
        err = ProblemError
        fields: dict[str, Any] = {
            "id": _as_text(_required(data, "id", path, err), f"{path}.id", err),
            "start": _as_text(_required(data, "start", path, err), f"{path}.start", err),
            "end": _as_text(_required(data, "end", path, err), f"{path}.end", err),
            "capacity": _as_quantities(
                _required(data, "capacity", path, err), f"{path}.capacity", err
            ),
            "available": _as_window(
                _required(data, "available", path, err), f"{path}.available", err
            ),
            "max_duration": _as_optional_number(
                data.get("max_duration"), f"{path}.max_duration", err
            ),
        }
        try:
            return cls(**fields)
        except ProblemError as error:
            raise _prefixed(path, error) from None

    def to_dict(self) -> dict[str, Any]:
        return _drop_none(
            {
                "id": self.id,
                "start": self.start,
                "end": self.end,
                "capacity": dict(self.capacity),
                "available": list(self.available),
                "max_duration": self.max_duration,
            }
        )


@dataclass(frozen=True)
class Request:
    """Carry `load` from `pickup` to `dropoff`; windows bound when service *begins* there.

    `max_ride` bounds dropoff begin minus pickup departure. `penalty` is the objective's cost of
    leaving the request unserved (None: the solver's default, large enough that only an
    infeasible request is left out).
    """

    id: str
    pickup: str
    dropoff: str
    load: Mapping[str, int] = field(hash=False)
    pickup_service: float = 0.0
    dropoff_service: float = 0.0
    pickup_window: Window | None = None
    dropoff_window: Window | None = None
    max_ride: float | None = None
    penalty: float | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise ProblemError("id: identifiant vide")
        object.__setattr__(self, "load", dict(self.load))
        for name in ("pickup_window", "dropoff_window"):
            window = getattr(self, name)
            if window is not None:
                object.__setattr__(self, name, tuple(window))
        _check_quantities(self.load, "load")
        _check_non_negative(self.pickup_service, "pickup_service")
        _check_non_negative(self.dropoff_service, "dropoff_service")
        _check_window(self.pickup_window, "pickup_window")
        _check_window(self.dropoff_window, "dropoff_window")
        _check_non_negative(self.max_ride, "max_ride")
        _check_non_negative(self.penalty, "penalty")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: str = "request") -> Request:
        data = _as_object(data, path, ProblemError)
        err = ProblemError

        def window(key: str) -> Window | None:
            value = data.get(key)
            return None if value is None else _as_window(value, f"{path}.{key}", err)

        def number(key: str, default: float | None) -> float | None:
            value = _as_optional_number(data.get(key), f"{path}.{key}", err)
            return default if value is None else value

        fields: dict[str, Any] = {
            "id": _as_text(_required(data, "id", path, err), f"{path}.id", err),
            "pickup": _as_text(_required(data, "pickup", path, err), f"{path}.pickup", err),
            "dropoff": _as_text(_required(data, "dropoff", path, err), f"{path}.dropoff", err),
            "load": _as_quantities(_required(data, "load", path, err), f"{path}.load", err),
            "pickup_service": number("pickup_service", 0.0),
            "dropoff_service": number("dropoff_service", 0.0),
            "pickup_window": window("pickup_window"),
            "dropoff_window": window("dropoff_window"),
            "max_ride": number("max_ride", None),
            "penalty": number("penalty", None),
        }
        try:
            return cls(**fields)
        except ProblemError as error:
            raise _prefixed(path, error) from None

    def to_dict(self) -> dict[str, Any]:
        return _drop_none(
            {
                "id": self.id,
                "pickup": self.pickup,
                "dropoff": self.dropoff,
                "load": dict(self.load),
                "pickup_service": self.pickup_service,
                "dropoff_service": self.dropoff_service,
                "pickup_window": None if self.pickup_window is None else list(self.pickup_window),
                "dropoff_window": None
                if self.dropoff_window is None
                else list(self.dropoff_window),
                "max_ride": self.max_ride,
                "penalty": self.penalty,
            }
        )


@dataclass(frozen=True)
class Problem:
    """A whole day: where, how to travel, which vehicles, which requests.

    Construction cross-checks the parts: unique ids, known locations, coordinates matching the
    travel model, matrix size, and that every request's load fits at least one vehicle.
    """

    name: str
    travel: Travel
    locations: tuple[Location, ...]
    vehicles: tuple[Vehicle, ...]
    requests: tuple[Request, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "locations", tuple(self.locations))
        object.__setattr__(self, "vehicles", tuple(self.vehicles))
        object.__setattr__(self, "requests", tuple(self.requests))
        self._check_unique_ids()
        self._check_coordinates()
        self._check_location_references()
        self._check_loads_fit()

    def _check_unique_ids(self) -> None:
        groups: tuple[tuple[str, tuple[Location | Vehicle | Request, ...]], ...] = (
            ("locations", self.locations),
            ("vehicles", self.vehicles),
            ("requests", self.requests),
        )
        for group, items in groups:
            seen: dict[str, int] = {}
            for index, item in enumerate(items):
                if item.id in seen:
                    raise ProblemError(
                        f'{group}[{index}].id: identifiant "{item.id}" en double '
                        f"(déjà utilisé par {group}[{seen[item.id]}])"
                    )
                seen[item.id] = index

    def _check_coordinates(self) -> None:
        kind = self.travel.kind
        needed = {"euclidean": ("x", "y"), "geodesic": ("lat", "lon")}.get(kind, ())
        for index, location in enumerate(self.locations):
            for name in needed:
                if getattr(location, name) is None:
                    raise ProblemError(
                        f"locations[{index}].{name}: coordonnée manquante "
                        f'pour le lieu "{location.id}" (travel.kind = {kind})'
                    )
        if kind == "matrix":
            size = len(self.travel.distances or ())
            if size != len(self.locations):
                raise ProblemError(
                    f"travel.distances: matrice {size}×{size} alors qu'il y a "
                    f"{len(self.locations)} lieux"
                )

    def _check_location_references(self) -> None:
        known = {location.id for location in self.locations}
        references = [
            (f"vehicles[{i}].{name}", getattr(vehicle, name))
            for i, vehicle in enumerate(self.vehicles)
            for name in ("start", "end")
        ] + [
            (f"requests[{i}].{name}", getattr(request, name))
            for i, request in enumerate(self.requests)
            for name in ("pickup", "dropoff")
        ]
        for path, location_id in references:
            if location_id not in known:
                raise ProblemError(f'{path}: lieu inconnu "{location_id}"')

    def _check_loads_fit(self) -> None:
        # With no vehicle at all every request is simply unserved; that is the solver's report.
        if not self.vehicles:
            return
        for index, request in enumerate(self.requests):
            if any(_fits(request.load, vehicle.capacity) for vehicle in self.vehicles):
                continue
            too_big = [
                f"{dimension} {amount} > {max(v.capacity.get(dimension, 0) for v in self.vehicles)}"
                for dimension, amount in sorted(request.load.items())
                if all(amount > v.capacity.get(dimension, 0) for v in self.vehicles)
            ]
            detail = (
                f"plus grande que la capacité de tout véhicule ({', '.join(too_big)})"
                if too_big
                else "aucun véhicule n'a toutes ces places à la fois"
            )
            raise ProblemError(f"requests[{index}].load: charge {detail}")

    @cached_property
    def dimensions(self) -> tuple[str, ...]:
        """Sorted union of the capacity and load dimension names."""
        names = {name for vehicle in self.vehicles for name in vehicle.capacity}
        names |= {name for request in self.requests for name in request.load}
        return tuple(sorted(names))

    @cached_property
    def _location_indices(self) -> dict[str, int]:
        return {location.id: index for index, location in enumerate(self.locations)}

    def location_index(self, location_id: str) -> int:
        """Index of a location in `locations` (and in the travel matrices); KeyError if unknown."""
        return self._location_indices[location_id]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Problem:
        data = _as_object(data, "problème", ProblemError)
        err = ProblemError
        name = _required(data, "name", "", err)
        if not isinstance(name, str):
            raise err("name: texte attendu")
        travel = Travel.from_dict(_required(data, "travel", "", err), "travel")
        locations = tuple(
            Location.from_dict(item, f"locations[{i}]")
            for i, item in enumerate(
                _as_list(_required(data, "locations", "", err), "locations", err)
            )
        )
        vehicles = tuple(
            Vehicle.from_dict(item, f"vehicles[{i}]")
            for i, item in enumerate(
                _as_list(_required(data, "vehicles", "", err), "vehicles", err)
            )
        )
        requests = tuple(
            Request.from_dict(item, f"requests[{i}]")
            for i, item in enumerate(
                _as_list(_required(data, "requests", "", err), "requests", err)
            )
        )
        return cls(name, travel, locations, vehicles, requests)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "travel": self.travel.to_dict(),
            "locations": [location.to_dict() for location in self.locations],
            "vehicles": [vehicle.to_dict() for vehicle in self.vehicles],
            "requests": [request.to_dict() for request in self.requests],
        }


def _float_rows(matrix: Any) -> Matrix:
    return tuple(tuple(float(value) for value in row) for row in matrix)


def _fits(load: Mapping[str, int], capacity: Mapping[str, int]) -> bool:
    return all(amount <= capacity.get(dimension, 0) for dimension, amount in load.items())


def read_json(path: str | Path, error: type[_E]) -> Any:
    """Parse a JSON file, turning unreadable or malformed files into `error` naming the file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"{path}: lecture impossible ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise error(f"{path}: le fichier n'est pas du texte UTF-8") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(
            f"{path}: JSON mal formé ligne {exc.lineno}, colonne {exc.colno} ({exc.msg})"
        ) from None


def load_problem(path: str | Path) -> Problem:
    """Read and validate a problem JSON file; ProblemError on any defect."""
    return Problem.from_dict(read_json(path, ProblemError))
