"""What a driver is told when a published day is published again: the difference between the
rounds they were told about and the rounds they now drive, in French, one list per driver."""

from __future__ import annotations

from typing import Any

from scheduling.round_drivers import round_changes, round_words


def _round(driver: int | None, vehicle: int, stops: list[list[Any]]) -> dict[str, Any]:
    return {
        "driver": driver,
        "vehicle": vehicle,
        "vehicle_name": f"Véhicule {vehicle}",
        "starts": "13 h 00",
        "ends": "15 h 00",
        "stops": stops,
    }


def test_times_moved_stops_added_and_removed_rounds_gained_and_lost(db: Any) -> None:
    # Booking ids that exist nowhere: the text falls back to « réservation N ».
    before = [
        _round(
            1, 10, [[901, "outbound", "pickup", "13 h 10"], [902, "outbound", "pickup", "13 h 20"]]
        ),
        _round(2, 11, [[903, "return", "dropoff", "16 h 30"]]),
    ]
    after = [
        _round(
            1, 10, [[901, "outbound", "pickup", "13 h 15"], [904, "outbound", "pickup", "13 h 25"]]
        ),
        _round(3, 11, [[903, "return", "dropoff", "16 h 30"]]),
    ]
    changes = round_changes(db, before, after)  # in the order of the new round's stops
    assert changes[1] == [
        "Véhicule 10 : prise en charge (aller) de réservation 901 à 13 h 15 au lieu de 13 h 10.",
        "Véhicule 10 : arrêt ajouté à 13 h 25, prise en charge (aller) de réservation 904.",
        "Véhicule 10 : arrêt retiré, prise en charge (aller) de réservation 902.",
    ]
    assert changes[2] == ["Tournée retirée : Véhicule 11."]
    assert changes[3] == [
        "Nouvelle tournée : Véhicule 11, départ 13 h 00, retour 15 h 00 (1 arrêt)."
    ]


def test_nothing_changed_tells_nobody(db: Any) -> None:
    rounds = [_round(1, 10, [[901, "outbound", "pickup", "13 h 10"]]), _round(None, 11, [])]
    assert round_changes(db, rounds, rounds) == {}


def test_a_round_counts_its_stops_in_french() -> None:
    assert round_words("Minibus", "8 h 10", "11 h 05", 1) == (
        "Minibus, départ 8 h 10, retour 11 h 05 (1 arrêt)"
    )
    assert round_words("Minibus", "8 h 10", "11 h 05", 3).endswith("(3 arrêts)")
