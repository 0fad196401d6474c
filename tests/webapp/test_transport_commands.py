"""The text `flask rounds build` prints: French plurals, not « trajet(s) »."""

from __future__ import annotations

import datetime as dt

from webapp.transport.commands import describe

DAY = dt.date(2026, 12, 8)


def summary(unserved: int) -> dict[str, object]:
    return {
        "rounds": 1,
        "passengers": 3,
        "distance_km": 42.5,
        "hours": 2.5,
        "longest_ride": {"minutes": 35},
        "unserved": [
            {"person": f"Personne {i}", "leg": "outbound", "reason": "trop loin"}
            for i in range(unserved)
        ],
    }


def test_the_summary_says_how_many_trips_are_left_unserved_in_french() -> None:
    assert "non servi" not in describe(DAY, summary(0))
    one = describe(DAY, summary(1))
    assert "  1 trajet non servi :" in one.splitlines()
    assert "    - Personne 0 (aller) : trop loin" in one.splitlines()
    assert "  2 trajets non servis :" in describe(DAY, summary(2)).splitlines()
    assert "1 tournée, 3 passagers, 42,5 km, 2,5 h de tournée" in one
