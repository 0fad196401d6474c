"""Drivers' use-cases: who sees which round, marking stops, welfare alerts and their follow-up."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from scheduling.driving import (
    acknowledge_alert,
    carry_over_marks,
    count_open_alerts,
    get_round_for,
    mark_stop,
    marks_for,
    open_alerts,
    rounds_for_driver,
    rounds_of_centre,
)
from scheduling.models import (
    Notification,
    NotificationChannel,
    NotificationKind,
    Role,
)
from scheduling.transport import (
    Plan,
    PlannedRound,
    PlannedStop,
    Point,
    minutes_of,
    save_plan,
)
from scheduling.transport_models import (
    DayStatus,
    Leg,
    Round,
    RoundStop,
    StopKind,
    StopStatus,
    WelfareAlert,
)
from tests.scheduling.driving_builders import make_driver, make_round, make_vehicle

# A fixed clock: Tuesday 8 December 2026, 13:30, while the round is on the road.
DAY = dt.date(2026, 12, 8)
NOW = dt.datetime(2026, 12, 8, 13, 30)


@dataclass
class Road:
    round: Any
    driver_user: Any
    other_driver_user: Any
    coordinator: Any
    carer: Any
    persons: list[Any]


@pytest.fixture
def road(db, centre, make_user, make_person, make_session, make_booking) -> Road:
    driver_user = make_user(role=Role.driver, display_name="Marc Chauffeur")
    other_user = make_user(role=Role.driver, display_name="Luc Bénévole")
    coordinator = make_user(role=Role.coordinator, email="coordination@crt.example")
    carer = make_user(role=Role.carer)
    driver = make_driver(db, driver_user)
    make_driver(db, other_user)
    session = make_session(starts_at=dt.datetime.combine(DAY, dt.time(14, 30)))
    persons = [
        make_person(first_name="Jeanne", last_name="Delmas", phone="05 53 61 00 01"),
        make_person(first_name="Louis", last_name="Roux", phone="05 53 23 00 02"),
    ]
    bookings = [make_booking(session, person=p, transport_out=True) for p in persons]
    round_ = make_round(
        db, bookings=bookings, date=DAY, driver=driver, vehicle=make_vehicle(db, centre.id)
    )
    return Road(round_, driver_user, other_user, coordinator, carer, persons)


def first_pickup(road: Road) -> Any:
    return next(s for s in road.round.stops if s.kind is StopKind.pickup)


def first_dropoff(road: Road) -> Any:
    return next(s for s in road.round.stops if s.kind is StopKind.dropoff)


# --- who sees which round -------------------------------------------------------------------


def test_a_driver_lists_only_their_own_published_rounds(db, road, centre, make_user):
    mine = rounds_for_driver(db, user=road.driver_user, start=DAY)
    assert [r.id for r in mine] == [road.round.id]
    assert rounds_for_driver(db, user=road.other_driver_user, start=DAY) == []
    # Not before the round's day is inside the window, and not after it.
    assert rounds_for_driver(db, user=road.driver_user, start=DAY + dt.timedelta(days=1)) == []
    week = rounds_for_driver(db, user=road.driver_user, start=DAY - dt.timedelta(days=6), days=7)
    assert [r.id for r in week] == [road.round.id]


def test_a_draft_round_is_hidden_from_its_driver_but_not_from_the_coordinator(db, road):
    road.round.status = DayStatus.draft
    db.commit()
    assert rounds_for_driver(db, user=road.driver_user, start=DAY) == []
    assert get_round_for(db, user=road.driver_user, round_id=road.round.id) is None
    assert get_round_for(db, user=road.coordinator, round_id=road.round.id) is road.round
    assert [r.id for r in rounds_of_centre(db, user=road.coordinator, start=DAY)] == [road.round.id]


def test_nobody_from_another_centre_opens_the_round(db, road, make_centre, make_user):
    elsewhere = make_centre()
    coordinator = make_user(centre=elsewhere, role=Role.coordinator)
    driver_user = make_user(centre=elsewhere, role=Role.driver)
    assert get_round_for(db, user=coordinator, round_id=road.round.id) is None
    assert get_round_for(db, user=driver_user, round_id=road.round.id) is None
    assert rounds_of_centre(db, user=coordinator, start=DAY) == []


def test_other_drivers_carers_and_animators_cannot_open_a_round(db, road, make_user):
    animator = make_user(role=Role.animator)
    for user in (road.other_driver_user, road.carer, animator):
        assert get_round_for(db, user=user, round_id=road.round.id) is None


# --- marks ----------------------------------------------------------------------------------


def test_the_driver_marks_a_pickup_and_a_dropoff(db, road):
    pickup = first_pickup(road)
    result = mark_stop(
        db, stop=pickup, status=StopStatus.picked_up, actor=road.driver_user, now=NOW
    )
    assert result.ok
    dropoff = first_dropoff(road)
    later = NOW + dt.timedelta(minutes=20)
    assert mark_stop(
        db, stop=dropoff, status=StopStatus.dropped_off, actor=road.driver_user, now=later
    ).ok
    db.commit()
    db.expire_all()
    assert (pickup.status, pickup.marked_at, pickup.marked_by_id) == (
        StopStatus.picked_up,
        NOW,
        road.driver_user.id,
    )
    assert dropoff.status is StopStatus.dropped_off


def test_a_coordinator_may_mark_for_the_driver(db, road):
    result = mark_stop(
        db, stop=first_pickup(road), status=StopStatus.no_show, actor=road.coordinator, now=NOW
    )
    assert result.ok
    assert first_pickup(road).marked_by_id == road.coordinator.id


def test_another_driver_and_a_carer_cannot_mark(db, road):
    for intruder in (road.other_driver_user, road.carer):
        result = mark_stop(
            db, stop=first_pickup(road), status=StopStatus.picked_up, actor=intruder, now=NOW
        )
        assert not result.ok
    db.expire_all()
    assert first_pickup(road).status is StopStatus.planned


def test_a_mark_must_fit_the_kind_of_stop(db, road):
    wrong = mark_stop(
        db,
        stop=first_dropoff(road),
        status=StopStatus.no_show,
        actor=road.driver_user,
        now=NOW,
    )
    assert "status" in wrong.errors
    wrong = mark_stop(
        db,
        stop=first_pickup(road),
        status=StopStatus.dropped_off,
        actor=road.driver_user,
        now=NOW,
    )
    assert "status" in wrong.errors


def test_no_mark_before_the_day_nor_on_a_draft_round(db, road):
    yesterday = NOW - dt.timedelta(days=1)
    early = mark_stop(
        db, stop=first_pickup(road), status=StopStatus.picked_up, actor=road.coordinator,
        now=yesterday,
    )  # fmt: skip
    assert "jour de la tournée" in early.message
    road.round.status = DayStatus.draft
    db.flush()
    draft = mark_stop(
        db, stop=first_pickup(road), status=StopStatus.picked_up, actor=road.coordinator, now=NOW
    )
    assert "pas encore publiée" in draft.message


def test_a_wrong_mark_can_be_undone_by_the_driver(db, road):
    pickup = first_pickup(road)
    mark_stop(db, stop=pickup, status=StopStatus.no_show, actor=road.driver_user, now=NOW)
    assert not mark_stop(
        db, stop=pickup, status=StopStatus.planned, actor=road.other_driver_user, now=NOW
    ).ok
    assert pickup.status is StopStatus.no_show
    undone = mark_stop(db, stop=pickup, status=StopStatus.planned, actor=road.driver_user, now=NOW)
    assert undone.ok
    assert (pickup.status, pickup.marked_at, pickup.marked_by_id) == (
        StopStatus.planned,
        None,
        None,
    )


# --- welfare alerts -------------------------------------------------------------------------


def test_nobody_answering_raises_an_alert_and_tells_the_coordinator_at_once(db, road):
    pickup = first_pickup(road)
    result = mark_stop(
        db, stop=pickup, status=StopStatus.nobody_answered, actor=road.driver_user, now=NOW
    )
    assert result.ok
    db.commit()
    alerts = db.scalars(select(WelfareAlert)).all()
    assert [(a.stop_id, a.raised_by_id, a.raised_at, a.acknowledged_at) for a in alerts] == [
        (pickup.id, road.driver_user.id, NOW, None)
    ]
    notes = db.scalars(
        select(Notification).where(Notification.kind == NotificationKind.welfare_alert)
    ).all()
    assert [(n.channel, n.recipient, n.user_id) for n in notes] == [
        (NotificationChannel.email, "coordination@crt.example", road.coordinator.id)
    ]
    jeanne = pickup.booking.person
    assert jeanne.full_name in notes[0].subject
    assert jeanne.phone in notes[0].body and "chute" in notes[0].body
    # It is not a no-show: nothing happens to the booking, the stop says what the driver saw.
    assert pickup.status is StopStatus.nobody_answered
    assert count_open_alerts(db, user=road.coordinator) == 1
    assert open_alerts(db, user=road.driver_user) == []


def test_without_a_coordinator_e_mail_the_alert_goes_to_the_call_list(db, road):
    road.coordinator.email = None
    db.commit()
    mark_stop(
        db,
        stop=first_pickup(road),
        status=StopStatus.nobody_answered,
        actor=road.driver_user,
        now=NOW,
    )
    notes = db.scalars(
        select(Notification).where(Notification.kind == NotificationKind.welfare_alert)
    ).all()
    assert [(n.channel, n.recipient) for n in notes] == [
        (NotificationChannel.phone_call, "05 53 61 00 01")
    ]


def test_a_second_tap_raises_no_second_alert(db, road):
    pickup = first_pickup(road)
    for _ in range(2):
        mark_stop(
            db, stop=pickup, status=StopStatus.nobody_answered, actor=road.driver_user, now=NOW
        )
    assert len(db.scalars(select(WelfareAlert)).all()) == 1


def test_the_coordinator_acknowledges_and_the_alert_leaves_the_open_list(db, road):
    mark_stop(
        db,
        stop=first_pickup(road),
        status=StopStatus.nobody_answered,
        actor=road.driver_user,
        now=NOW,
    )
    alert = open_alerts(db, user=road.coordinator)[0]
    refused = acknowledge_alert(db, alert_id=alert.id, actor=road.driver_user, now=NOW)
    assert not refused.ok and alert.acknowledged_at is None
    later = NOW + dt.timedelta(minutes=5)
    done = acknowledge_alert(
        db, alert_id=alert.id, actor=road.coordinator, now=later, note="Sa fille l'a trouvée."
    )
    assert done.ok
    assert (alert.acknowledged_at, alert.acknowledged_by_id, alert.note) == (
        later,
        road.coordinator.id,
        "Sa fille l'a trouvée.",
    )
    assert open_alerts(db, user=road.coordinator) == []


def test_an_alert_stays_open_when_the_driver_changes_the_mark(db, road):
    pickup = first_pickup(road)
    mark_stop(db, stop=pickup, status=StopStatus.nobody_answered, actor=road.driver_user, now=NOW)
    mark_stop(db, stop=pickup, status=StopStatus.picked_up, actor=road.driver_user, now=NOW)
    # A possible fall is closed by a person, never by a tap on the driver's phone.
    assert count_open_alerts(db, user=road.coordinator) == 1


def test_another_centre_cannot_acknowledge(db, road, make_centre, make_user):
    mark_stop(
        db,
        stop=first_pickup(road),
        status=StopStatus.nobody_answered,
        actor=road.driver_user,
        now=NOW,
    )
    alert = open_alerts(db, user=road.coordinator)[0]
    stranger = make_user(centre=make_centre(), role=Role.coordinator)
    assert not acknowledge_alert(db, alert_id=alert.id, actor=stranger, now=NOW).ok
    assert alert.acknowledged_at is None


def test_nobody_answering_belongs_to_a_door_not_to_the_venue(db, road):
    pickup = first_pickup(road)
    pickup.leg = Leg.back  # a return pickup at the venue: there is no door to knock on
    db.flush()
    result = mark_stop(
        db, stop=pickup, status=StopStatus.nobody_answered, actor=road.driver_user, now=NOW
    )
    assert "status" in result.errors
    assert marks_for(pickup) == [StopStatus.picked_up, StopStatus.no_show]
    assert db.scalars(select(WelfareAlert)).all() == []


def test_a_re_planned_day_keeps_its_marks_and_alerts(db, road):
    jeanne_pickup = first_pickup(road)
    mark_stop(
        db, stop=jeanne_pickup, status=StopStatus.nobody_answered, actor=road.driver_user, now=NOW
    )
    louis_pickup = [s for s in road.round.stops if s.kind is StopKind.pickup][1]
    mark_stop(db, stop=louis_pickup, status=StopStatus.picked_up, actor=road.driver_user, now=NOW)
    old_stops = list(road.round.stops)
    # The planner's new round: the same stops in another order, under new ids.
    again = Round(
        centre_id=road.round.centre_id,
        day_id=road.round.day_id,
        vehicle_id=road.round.vehicle_id,
        driver_id=road.round.driver_id,
        status=DayStatus.published,
        starts_at=road.round.starts_at,
        ends_at=road.round.ends_at,
    )
    for seq, s in enumerate(reversed(old_stops)):
        again.stops.append(
            RoundStop(
                seq=seq,
                booking_id=s.booking_id,
                leg=s.leg,
                kind=s.kind,
                address=s.address,
                lat=s.lat,
                lon=s.lon,
                planned_arrival=s.planned_arrival,
                planned_begin=s.planned_begin,
                planned_departure=s.planned_departure,
            )
        )
    db.add(again)
    db.flush()
    assert carry_over_marks(db, old_stops=old_stops, new_stops=again.stops) == []
    db.delete(road.round)
    db.flush()  # the alert moved first: no foreign key is left pointing at a deleted stop
    by_person = {(s.booking.person.first_name, s.kind): s.status for s in again.stops}
    assert by_person[("Jeanne", StopKind.pickup)] is StopStatus.nobody_answered
    assert by_person[("Louis", StopKind.pickup)] is StopStatus.picked_up
    assert by_person[("Jeanne", StopKind.dropoff)] is StopStatus.planned
    [alert] = open_alerts(db, user=road.coordinator)
    assert alert.stop.round_id == again.id and alert.stop.booking.person.first_name == "Jeanne"


def test_an_alert_whose_stop_disappears_is_reported_stranded(db, road):
    pickup = first_pickup(road)
    mark_stop(db, stop=pickup, status=StopStatus.nobody_answered, actor=road.driver_user, now=NOW)
    others = [s for s in road.round.stops if s.booking_id != pickup.booking_id]
    assert carry_over_marks(db, old_stops=list(road.round.stops), new_stops=others) == [pickup]


def replanned(road, stops) -> Plan:
    """The road's round planned again with `stops` at their saved times (as a re-plan would)."""
    return Plan(
        rounds=(
            PlannedRound(
                vehicle_id=road.round.vehicle_id,
                start=minutes_of(road.round.starts_at),
                end=minutes_of(road.round.ends_at),
                distance_km=road.round.distance_km,
                stops=tuple(
                    PlannedStop(
                        booking_id=s.booking_id,
                        leg=s.leg,
                        kind=s.kind,
                        point=Point(lat=s.lat, lon=s.lon, address=s.address),
                        arrival=minutes_of(s.planned_arrival),
                        begin=minutes_of(s.planned_begin),
                        departure=minutes_of(s.planned_departure),
                    )
                    for s in stops
                ),
            ),
        ),
        unserved=(),
    )


def test_a_replan_on_the_day_keeps_the_drivers_marks_and_alerts(db, road):
    """save_plan replaces the rounds; what the driver marked and the alert raised survive."""
    jeanne_pickup = first_pickup(road)
    mark_stop(
        db, stop=jeanne_pickup, status=StopStatus.nobody_answered, actor=road.driver_user, now=NOW
    )
    db.flush()
    day = road.round.day
    # The same stops, planned again (as a late cancellation elsewhere would re-plan the day).
    plan = replanned(road, road.round.stops)
    bookings = {s.booking_id: s.booking for s in road.round.stops}

    [again] = save_plan(db, day, plan, now=NOW, bookings=bookings)
    db.commit()

    assert again.id != road.round.id
    by_person = {(s.booking.person.first_name, s.kind): s.status for s in again.stops}
    assert by_person[("Jeanne", StopKind.pickup)] is StopStatus.nobody_answered
    assert by_person[("Louis", StopKind.pickup)] is StopStatus.planned
    [alert] = open_alerts(db, user=road.coordinator)
    assert alert.stop.round_id == again.id


def test_an_alert_outlives_its_stop_when_the_booking_leaves_the_rounds(db, road):
    """A carer cancels after « personne ne répond »: the stop goes, the possible fall stays."""
    jeanne_pickup = first_pickup(road)
    mark_stop(
        db, stop=jeanne_pickup, status=StopStatus.nobody_answered, actor=road.driver_user, now=NOW
    )
    db.flush()
    others = [s for s in road.round.stops if s.booking_id != jeanne_pickup.booking_id]
    plan = replanned(road, others)

    save_plan(db, road.round.day, plan, now=NOW, bookings={s.booking_id: s.booking for s in others})
    db.commit()
    db.expire_all()

    [alert] = open_alerts(db, user=road.coordinator)
    assert alert.stop is None
    assert alert.person_name == "Jeanne Delmas"
    assert alert.address
