"""Distances and durations between a problem's locations, and a client for OSRM's table service.

Matrices are numpy float64 arrays indexed in the order of `problem.locations`; durations are
minutes, distances are in the travel model's units (km for geodesic and OSRM).
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from pyproj import Geod

from routing.problem import Location, Problem, Travel

FloatMatrix = npt.NDArray[np.float64]

# pyproj wraps Karney's algorithm (the same as geopy's geodesic) but vectorised in C.
_WGS84 = Geod(ellps="WGS84")


def travel_matrices(problem: Problem) -> tuple[FloatMatrix, FloatMatrix]:
    """Return (distance, duration) matrices of the problem's travel model."""
    travel = problem.travel
    if travel.kind == "matrix":
        distance = np.array(travel.distances, dtype=np.float64)
        duration = np.array(travel.durations, dtype=np.float64)
        return distance, duration
    if travel.kind == "euclidean":
        distance = euclidean_distances(problem.locations)
        return distance, distance / travel.speed
    distance = geodesic_km(problem.locations) * travel.circuity
    return distance, distance / travel.speed_kmh * 60.0


def euclidean_distances(locations: Sequence[Location]) -> FloatMatrix:
    """Straight-line distances between the locations' (x, y)."""
    xs = np.array([_coordinate(loc, "x") for loc in locations], dtype=np.float64)
    ys = np.array([_coordinate(loc, "y") for loc in locations], dtype=np.float64)
    return np.hypot(xs[:, None] - xs[None, :], ys[:, None] - ys[None, :])


def geodesic_km(locations: Sequence[Location]) -> FloatMatrix:
    """WGS-84 ellipsoidal geodesic distances in km between the locations' (lat, lon)."""
    lats = np.array([_coordinate(loc, "lat") for loc in locations], dtype=np.float64)
    lons = np.array([_coordinate(loc, "lon") for loc in locations], dtype=np.float64)
    size = len(locations)
    km = np.zeros((size, size), dtype=np.float64)
    if size < 2:
        return km
    # The geodesic is symmetric: compute the upper triangle only, then mirror it.
    rows, cols = np.triu_indices(size, k=1)
    # The fancy-indexed inputs are fresh copies, so pyproj may overwrite them (saves memory).
    _, _, meters = _WGS84.inv(
        lons[rows], lats[rows], lons[cols], lats[cols], return_back_azimuth=False, inplace=True
    )
    km[rows, cols] = np.asarray(meters, dtype=np.float64) / 1000.0
    km += km.T
    return km


def _coordinate(location: Location, name: str) -> float:
    value = getattr(location, name)
    if value is None:
        raise ValueError(f'{name}: coordonnée manquante pour le lieu "{location.id}"')
    return float(value)


class OsrmError(RuntimeError):
    """OSRM could not give a complete table; the message says why, in French."""


class OsrmTable:
    """Road distances (km) and durations (minutes) from an OSRM server's table service.

    `max_locations` is the server's `--max-table-size` (OSRM's default is 100): larger tables are
    fetched in blocks of sources × destinations that each stay within it.
    """

    def __init__(
        self,
        base_url: str,
        timeout: float = 10.0,
        profile: str = "driving",
        max_locations: int = 100,
    ) -> None:
        if max_locations < 2:
            raise ValueError("max_locations: au moins 2")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.profile = profile
        self.max_locations = max_locations

    def matrix(self, locations: Sequence[Location]) -> tuple[FloatMatrix, FloatMatrix]:
        """Return (km, minutes) between the locations, in their order; OsrmError on failure."""
        coordinates = [
            (_coordinate(location, "lon"), _coordinate(location, "lat")) for location in locations
        ]
        size = len(coordinates)
        km = np.zeros((size, size), dtype=np.float64)
        minutes = np.zeros((size, size), dtype=np.float64)
        block = size if size <= self.max_locations else self.max_locations // 2
        blocks = [list(range(start, min(start + block, size))) for start in range(0, size, block)]
        for sources in blocks:
            for destinations in blocks:
                self._fill_block(coordinates, sources, destinations, km, minutes)
        self._reject_unreachable(locations, km, minutes)
        return km, minutes

    def travel(self, locations: Sequence[Location]) -> Travel:
        """A `matrix` travel model for a problem with exactly these locations, in this order."""
        km, minutes = self.matrix(locations)
        return Travel(
            kind="matrix",
            distances=tuple(tuple(row) for row in km.tolist()),
            durations=tuple(tuple(row) for row in minutes.tolist()),
        )

    def _fill_block(
        self,
        coordinates: Sequence[tuple[float, float]],
        sources: list[int],
        destinations: list[int],
        km: FloatMatrix,
        minutes: FloatMatrix,
    ) -> None:
        square = sources == destinations
        indices = sources if square else sources + destinations
        params: dict[str, str] = {"annotations": "distance,duration"}
        if not square:
            params["sources"] = ";".join(str(i) for i in range(len(sources)))
            params["destinations"] = ";".join(str(i) for i in range(len(sources), len(indices)))
        answer = self._get([coordinates[i] for i in indices], params)
        block_distances = _table(answer, "distances", len(sources), len(destinations))
        block_durations = _table(answer, "durations", len(sources), len(destinations))
        rows = np.array(sources)[:, None]
        cols = np.array(destinations)[None, :]
        # Unreachable pairs come back as null: keep them as NaN until all blocks are in.
        km[rows, cols] = block_distances / 1000.0
        minutes[rows, cols] = block_durations / 60.0

    def _get(
        self, coordinates: Sequence[tuple[float, float]], params: dict[str, str]
    ) -> dict[str, Any]:
        path = ";".join(f"{lon:.6f},{lat:.6f}" for lon, lat in coordinates)
        url = (
            f"{self.base_url}/table/v1/{urllib.parse.quote(self.profile)}/{path}"
            f"?{urllib.parse.urlencode(params, safe=',;')}"
        )
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as error:
            raise OsrmError(_http_error_message(error)) from error
        except TimeoutError as error:
            raise OsrmError(f"OSRM ne répond pas (délai de {self.timeout:g} s dépassé)") from error
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise OsrmError(
                    f"OSRM ne répond pas (délai de {self.timeout:g} s dépassé)"
                ) from error
            raise OsrmError(f"OSRM injoignable à {self.base_url} ({error.reason})") from error
        try:
            answer = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise OsrmError("réponse d'OSRM illisible (JSON attendu)") from error
        if not isinstance(answer, dict):
            raise OsrmError("réponse d'OSRM illisible (objet JSON attendu)")
        if answer.get("code") != "Ok":
            raise OsrmError(
                f"OSRM refuse la demande : {answer.get('code')} {answer.get('message', '')}".strip()
            )
        return answer

    @staticmethod
    def _reject_unreachable(
        locations: Sequence[Location], km: FloatMatrix, minutes: FloatMatrix
    ) -> None:
        missing = np.argwhere(np.isnan(km) | np.isnan(minutes))
        if len(missing):
            pairs = ", ".join(
                f"{locations[i].id} → {locations[j].id}" for i, j in missing[:5].tolist()
            )
            more = f" et {len(missing) - 5} autres" if len(missing) > 5 else ""
            raise OsrmError(f"OSRM ne trouve pas de route pour {pairs}{more}")


def _table(answer: dict[str, Any], key: str, rows: int, cols: int) -> FloatMatrix:
    table = answer.get(key)
    if not isinstance(table, list) or len(table) != rows:
        raise OsrmError(f"réponse d'OSRM incomplète : « {key} » manque ou a la mauvaise taille")
    values = np.full((rows, cols), math.nan, dtype=np.float64)
    for i, row in enumerate(table):
        if not isinstance(row, list) or len(row) != cols:
            raise OsrmError(f"réponse d'OSRM incomplète : ligne {i} de « {key} » mal formée")
        for j, value in enumerate(row):
            if value is not None:
                values[i, j] = float(value)
    return values


def _http_error_message(error: urllib.error.HTTPError) -> str:
    # OSRM answers bad requests with an HTTP error *and* a JSON body naming the cause.
    detail = ""
    try:
        answer = json.loads(error.read())
        if isinstance(answer, dict):
            detail = f" : {answer.get('code', '')} {answer.get('message', '')}".rstrip()
    except (OSError, ValueError):
        pass
    return f"OSRM a répondu HTTP {error.code}{detail}"
