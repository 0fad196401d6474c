"""Travel models and the OSRM table client (against a real local HTTP server speaking OSRM)."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest
from geopy.distance import geodesic

from routing.problem import Location, Problem
from routing.travel import OsrmError, OsrmTable, travel_matrices

BERGERAC = (44.8533, 0.4833)
LALINDE = (44.8368, 0.73777)


def make_problem(travel: dict[str, Any], locations: list[dict[str, Any]]) -> Problem:
    return Problem.from_dict(
        {"name": "t", "travel": travel, "locations": locations, "vehicles": [], "requests": []}
    )


def test_euclidean_distance_is_the_straight_line_and_time_divides_by_speed() -> None:
    problem = make_problem(
        {"kind": "euclidean", "speed": 2},
        [{"id": "a", "x": 0, "y": 0}, {"id": "b", "x": 3, "y": 4}, {"id": "c", "x": 3, "y": 0}],
    )
    distance, duration = travel_matrices(problem)
    assert distance.dtype == np.float64
    assert distance.tolist() == [[0, 5, 3], [5, 0, 4], [3, 4, 0]]
    assert duration.tolist() == [[0, 2.5, 1.5], [2.5, 0, 2], [1.5, 2, 0]]


def test_euclidean_speed_defaults_to_one_unit_per_minute() -> None:
    problem = make_problem(
        {"kind": "euclidean"}, [{"id": "a", "x": 1, "y": 1}, {"id": "b", "x": 1, "y": 11}]
    )
    distance, duration = travel_matrices(problem)
    assert distance[0, 1] == duration[0, 1] == 10


def test_geodesic_bergerac_to_lalinde_is_the_wgs84_geodesic_times_circuity() -> None:
    problem = make_problem(
        {"kind": "geodesic", "speed_kmh": 45, "circuity": 1.3},
        [
            {"id": "bergerac", "lat": BERGERAC[0], "lon": BERGERAC[1]},
            {"id": "lalinde", "lat": LALINDE[0], "lon": LALINDE[1]},
        ],
    )
    distance, duration = travel_matrices(problem)
    straight_km = geodesic(BERGERAC, LALINDE, ellipsoid="WGS-84").km
    assert straight_km == pytest.approx(20.20, abs=0.01)
    assert distance[0, 1] == pytest.approx(straight_km * 1.3, rel=1e-9)
    assert distance[1, 0] == distance[0, 1]
    assert distance[0, 0] == 0
    assert duration[0, 1] == pytest.approx(straight_km * 1.3 / 45 * 60, rel=1e-9)


def test_geodesic_matches_geopy_on_scattered_points() -> None:
    rng = np.random.default_rng(7)
    points = [(44.5 + rng.uniform(0, 1), 0.2 + rng.uniform(0, 1)) for _ in range(12)]
    problem = make_problem(
        {"kind": "geodesic", "circuity": 1.0},
        [{"id": f"p{i}", "lat": lat, "lon": lon} for i, (lat, lon) in enumerate(points)],
    )
    distance, _ = travel_matrices(problem)
    for i, a in enumerate(points):
        for j, b in enumerate(points):
            assert distance[i, j] == pytest.approx(geodesic(a, b).km, abs=1e-6)


def test_matrix_travel_is_passed_through_in_location_order() -> None:
    distances = [[0, 1.5, 7], [2, 0, 3], [4, 5, 0]]
    durations = [[0, 10, 20], [11, 0, 12], [30, 31, 0]]
    problem = make_problem(
        {"kind": "matrix", "distances": distances, "durations": durations},
        [{"id": "a"}, {"id": "b"}, {"id": "c"}],
    )
    distance, duration = travel_matrices(problem)
    assert distance.tolist() == distances
    assert duration.tolist() == durations
    assert duration.dtype == np.float64


# --- a fake OSRM: a real HTTP server on 127.0.0.1 answering in OSRM's table format -------------


@dataclass
class FakeOsrm:
    """Distance between two points: 1 km per 0.01 degree of |dlat| + |dlon|; 1 minute per km."""

    url: str = ""
    mode: str = "ok"
    calls: list[dict[str, Any]] = field(default_factory=list)
    unreachable: set[tuple[int, int]] = field(default_factory=set)

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        parts = path.split("/")  # ['', 'table', 'v1', profile, coordinates]
        coordinates = [tuple(map(float, c.split(","))) for c in parts[4].split(";")]
        self.calls.append({"profile": parts[3], "coordinates": coordinates, "query": query})
        if self.mode == "http-error":
            return 400, {"code": "TooBig", "message": "Too many table coordinates"}
        if self.mode == "not-ok":
            return 200, {"code": "NoTable", "message": "No table found"}
        if self.mode == "slow":
            time.sleep(1.5)
        if query.get("annotations") != ["distance,duration"]:
            return 400, {"code": "InvalidOptions", "message": "annotations"}
        sources = _indices(query, "sources", len(coordinates))
        destinations = _indices(query, "destinations", len(coordinates))
        distances, durations = [], []
        for s in sources:
            row_d, row_t = [], []
            for d in destinations:
                (lon1, lat1), (lon2, lat2) = coordinates[s], coordinates[d]
                key = (round(lon1 * 1e6), round(lon2 * 1e6))
                if key in self.unreachable:
                    row_d.append(None)
                    row_t.append(None)
                    continue
                meters = (abs(lat1 - lat2) + abs(lon1 - lon2)) * 100_000
                row_d.append(meters)
                row_t.append(meters / 1000 * 60)
            distances.append(row_d)
            durations.append(row_t)
        return 200, {"code": "Ok", "distances": distances, "durations": durations}


def _indices(query: dict[str, list[str]], key: str, size: int) -> list[int]:
    if key not in query:
        return list(range(size))
    return [int(i) for i in query[key][0].split(";")]


@pytest.fixture
def fake_osrm() -> Iterator[FakeOsrm]:
    fake = FakeOsrm()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parsed = urllib.parse.urlsplit(self.path)
            status, body = fake.answer(parsed.path, urllib.parse.parse_qs(parsed.query))
            payload = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield fake
    server.shutdown()
    server.server_close()


def points(count: int) -> list[Location]:
    return [Location(id=f"p{i}", lat=44.8 + i * 0.01, lon=0.4 + i * 0.02) for i in range(count)]


def expected_km(locations: list[Location]) -> np.ndarray:
    lat = np.array([loc.lat for loc in locations])
    lon = np.array([loc.lon for loc in locations])
    return (abs(lat[:, None] - lat[None, :]) + abs(lon[:, None] - lon[None, :])) * 100


def test_osrm_table_converts_meters_to_km_and_seconds_to_minutes(fake_osrm: FakeOsrm) -> None:
    locations = points(4)
    km, minutes = OsrmTable(fake_osrm.url).matrix(locations)
    assert km == pytest.approx(expected_km(locations))
    assert minutes == pytest.approx(expected_km(locations))  # 60 s per km in the fake
    assert km[0, 1] == pytest.approx(3.0)  # 0.01 + 0.02 degrees
    call = fake_osrm.calls[0]
    assert call["profile"] == "driving"
    assert call["coordinates"][0] == pytest.approx((0.4, 44.8))  # OSRM wants lon,lat


def test_osrm_large_tables_are_fetched_in_blocks_within_the_server_limit(
    fake_osrm: FakeOsrm,
) -> None:
    locations = points(9)
    km, _ = OsrmTable(fake_osrm.url, max_locations=4).matrix(locations)
    assert km == pytest.approx(expected_km(locations))
    assert len(fake_osrm.calls) == 25  # 5 blocks of 2 sources × 5 blocks of 2 destinations
    assert max(len(call["coordinates"]) for call in fake_osrm.calls) <= 4


def test_osrm_travel_builds_a_matrix_travel_model(fake_osrm: FakeOsrm) -> None:
    locations = points(3)
    travel = OsrmTable(fake_osrm.url).travel(locations)
    assert travel.kind == "matrix"
    assert travel.distances is not None
    assert travel.distances[0][2] == pytest.approx(6.0)


def test_osrm_http_error_names_osrm_code(fake_osrm: FakeOsrm) -> None:
    fake_osrm.mode = "http-error"
    with pytest.raises(OsrmError, match=r"HTTP 400.*TooBig"):
        OsrmTable(fake_osrm.url).matrix(points(3))


def test_osrm_answer_without_ok_code_is_an_error(fake_osrm: FakeOsrm) -> None:
    fake_osrm.mode = "not-ok"
    with pytest.raises(OsrmError, match="NoTable"):
        OsrmTable(fake_osrm.url).matrix(points(3))


def test_osrm_unreachable_pair_is_an_error_naming_the_locations(fake_osrm: FakeOsrm) -> None:
    locations = points(3)
    fake_osrm.unreachable.add((round(0.4 * 1e6), round(0.44 * 1e6)))
    with pytest.raises(OsrmError, match="p0 → p2"):
        OsrmTable(fake_osrm.url).matrix(locations)


def test_osrm_timeout_is_a_clear_error(fake_osrm: FakeOsrm) -> None:
    fake_osrm.mode = "slow"
    with pytest.raises(OsrmError, match="ne répond pas"):
        OsrmTable(fake_osrm.url, timeout=0.3).matrix(points(2))


def test_osrm_server_down_is_a_clear_error(fake_osrm: FakeOsrm) -> None:
    with pytest.raises(OsrmError, match="injoignable"):
        OsrmTable("http://127.0.0.1:9", timeout=2).matrix(points(2))
