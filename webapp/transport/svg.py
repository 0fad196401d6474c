"""A round drawn as SVG on the server: communes as labelled points, the legs and the stops.

No tile server and no script: the drawing works offline and prints. Coordinates are projected
equirectangularly (longitude scaled by the cosine of the mean latitude), fine at a county's scale.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT, MARGIN = 640, 420, 30


@dataclass(frozen=True)
class MapPoint:
    lat: float
    lon: float
    label: str


def round_map(
    title: str,
    depot: MapPoint,
    stops: Sequence[MapPoint],
    communes: Sequence[MapPoint],
) -> Markup:
    """The SVG of one round: depot -> stops in order -> depot, over the communes' points."""
    route = [depot, *stops, depot]
    # Frame the round itself, with the communes that fall inside it as landmarks.
    lats = [p.lat for p in route]
    lons = [p.lon for p in route]
    pad_lat = max((max(lats) - min(lats)) * 0.15, 0.01)
    pad_lon = max((max(lons) - min(lons)) * 0.15, 0.01)
    south, north = min(lats) - pad_lat, max(lats) + pad_lat
    west, east = min(lons) - pad_lon, max(lons) + pad_lon
    squeeze = math.cos(math.radians((south + north) / 2))
    span_x = (east - west) * squeeze
    span_y = north - south
    scale = min((WIDTH - 2 * MARGIN) / span_x, (HEIGHT - 2 * MARGIN) / span_y)

    def xy(point: MapPoint) -> tuple[float, float]:
        x = MARGIN + (point.lon - west) * squeeze * scale
        y = MARGIN + (north - point.lat) * scale
        return round(x, 1), round(y, 1)

    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="round-map" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#f4f1ea"/>',
    ]
    for commune in communes:
        if not (south <= commune.lat <= north and west <= commune.lon <= east):
            continue
        x, y = xy(commune)
        parts.append(f'<circle cx="{x}" cy="{y}" r="3" fill="#6b6b6b"/>')
        parts.append(
            f'<text x="{x + 5}" y="{y - 5}" font-size="12" fill="#4a4a4a">'
            f"{escape(commune.label)}</text>"
        )
    path = " ".join(f"{x},{y}" for x, y in map(xy, route))
    parts.append(
        f'<polyline points="{path}" fill="none" stroke="#1d4f91" stroke-width="3" '
        'stroke-linejoin="round" stroke-opacity="0.8"/>'
    )
    x, y = xy(depot)
    parts.append(
        f'<rect x="{x - 7}" y="{y - 7}" width="14" height="14" fill="#1b1b1b">'
        f"<title>Dépôt : {escape(depot.label)}</title></rect>"
    )
    for number, stop in enumerate(stops, start=1):
        x, y = xy(stop)
        parts.append(
            f"<g><title>{number}. {escape(stop.label)}</title>"
            f'<circle cx="{x}" cy="{y}" r="11" fill="#ffffff" stroke="#1d4f91" stroke-width="3"/>'
            f'<text x="{x}" y="{y + 4}" font-size="12" font-weight="bold" text-anchor="middle" '
            f'fill="#1b1b1b">{number}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
