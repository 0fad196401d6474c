"""`flask --app webapp demo [--reset]`: a realistic demo territory around Bergerac (Dordogne).

One CRT carried by an EHPAD in Bergerac, the real communes of `webapp/data/communes.csv`, venues,
~60 persons, carers, activities in the three volet-1 fields, two weeks of sessions (some booked,
one full with a waitlist), vehicles and drivers. Everything is deterministic (fixed seed) except
the dates, which start from the day the command runs.

Names, street addresses and people are invented. Phone numbers are taken from the ranges ARCEP
reserves for fiction (05 36 49 xx xx, 06 39 98 xx xx), so no real subscriber is ever called.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import math
import random
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import ColumnElement, Table, delete, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from scheduling.booking import book
from scheduling.db import Base
from scheduling.models import (
    Activity,
    ActivitySession,
    Audience,
    Centre,
    Commune,
    Driver,
    Field,
    Frequency,
    Mobility,
    Notification,
    Person,
    Role,
    User,
    Vehicle,
    VehicleKind,
    Venue,
    VenueKind,
)
from scheduling.people import create_person
from scheduling.sessions import create_activity
from webapp.auth import hash_password
from webapp.db import session_scope
from webapp.demo_history import (
    HistorySummary,
    Staff,
    create_one_off,
    create_repeated,
    load_history,
)

CENTRE_SLUG = "crt-bergeracois"
CENTRE_NAME = "CRT du Bergeracois"
TIMEZONE = "Europe/Paris"
DEMO_PASSWORD = "navette-demo"
SEED = 24037  # Bergerac's INSEE code: any fixed number keeps the territory the same every time
COMMUNES_CSV = Path(__file__).parent / "data" / "communes.csv"
PERSON_SPREAD_KM = 2.0  # persons live within this distance of their commune's point
DAYS_OF_SESSIONS = 14


# --- reference data -----------------------------------------------------------------------


@dataclass(frozen=True)
class CommuneRow:
    insee: str
    name: str
    postcode: str
    lat: float
    lon: float


def read_communes(path: Path = COMMUNES_CSV) -> list[CommuneRow]:
    """The demo communes (INSEE code, name, postcode, GeoNames point)."""
    with path.open(newline="", encoding="utf-8") as f:
        return [
            CommuneRow(r["insee"], r["name"], r["postcode"], float(r["lat"]), float(r["lon"]))
            for r in csv.DictReader(f)
        ]


# (username, role, display name, e-mail, phone)
STAFF_ACCOUNTS = [
    ("admin", Role.admin, "Isabelle Vergnolle", "direction@crt-bergeracois.example", None),
    (
        "coordination",
        Role.coordinator,
        "Claire Mazeau",
        "coordination@crt-bergeracois.example",
        "05 36 49 10 01",
    ),
    (
        "animation",
        Role.animator,
        "Julie Bonnet",
        "animation@crt-bergeracois.example",
        "05 36 49 10 02",
    ),
    ("chauffeur", Role.driver, "Patrick Roux", None, "06 39 98 10 03"),
    ("benevole", Role.driver, "Bernard Lafon", None, "06 39 98 10 04"),
]

# (name, kind, commune INSEE, address, step-free, offset east/north in metres from the point)
VENUES = [
    ("EHPAD Les Tilleuls", VenueKind.ehpad, "24037", "14 rue des Tilleuls", True, (600, -400)),
    ("Salle des fêtes de Lalinde", VenueKind.hall, "24223", "Place de la Mairie", True, (80, 60)),
    (
        "Salle polyvalente de Prigonrieux",
        VenueKind.hall,
        "24340",
        "Rue du Stade",
        True,
        (-150, 120),
    ),
    (
        "Salle des fêtes d'Issigeac",
        VenueKind.hall,
        "24212",
        "Boulevard de l'Est",
        False,
        (120, -90),
    ),
    ("Foyer rural de La Force", VenueKind.hall, "24222", "Place du Château", True, (-60, 40)),
    (
        "Bus de téléconsultation — Eymet, place Gambetta",
        VenueKind.bus_stop,
        "24167",
        "Place Gambetta",
        True,
        (30, 20),
    ),
    (
        "Bus de téléconsultation — Monbazillac, parking de la mairie",
        VenueKind.bus_stop,
        "24274",
        "Parking de la mairie",
        True,
        (-40, 30),
    ),
    (
        "Bus de téléconsultation — Le Fleix, place de l'Église",
        VenueKind.bus_stop,
        "24182",
        "Place de l'Église",
        True,
        (20, -30),
    ),
]

FEMALE_FIRST_NAMES = [
    "Jeanne",
    "Marie",
    "Simone",
    "Germaine",
    "Yvette",
    "Paulette",
    "Odette",
    "Josette",
    "Monique",
    "Colette",
    "Lucienne",
    "Raymonde",
    "Ginette",
    "Huguette",
    "Denise",
    "Suzanne",
    "Marcelle",
    "Andrée",
    "Georgette",
    "Renée",
    "Micheline",
    "Jacqueline",
    "Solange",
    "Arlette",
    "Madeleine",
    "Hélène",
    "Françoise",
    "Thérèse",
    "Lucette",
    "Nicole",
    "Christiane",
    "Yvonne",
]
MALE_FIRST_NAMES = [
    "Jean",
    "Pierre",
    "André",
    "Marcel",
    "Roger",
    "René",
    "Robert",
    "Raymond",
    "Georges",
    "Henri",
    "Louis",
    "Lucien",
    "Fernand",
    "Maurice",
    "Albert",
    "Gérard",
    "Jacques",
    "Bernard",
    "Claude",
    "Guy",
    "Roland",
    "Émile",
    "Gaston",
    "Michel",
]
LAST_NAMES = [
    "Delpech",
    "Lacoste",
    "Faure",
    "Chassaing",
    "Laval",
    "Vidal",
    "Mazière",
    "Delteil",
    "Lafon",
    "Fargeot",
    "Bonnefond",
    "Castaing",
    "Grenier",
    "Malbec",
    "Boissière",
    "Lasserre",
    "Desmaison",
    "Lagarde",
    "Bouyssou",
    "Peyrou",
    "Mondary",
    "Laborie",
    "Chaumel",
    "Labrousse",
    "Dupuy",
    "Couderc",
    "Bouquier",
    "Lafaye",
    "Sarrazin",
    "Mercier",
    "Pradier",
    "Laroche",
    "Veyssière",
    "Marty",
    "Delbos",
    "Fournier",
    "Magne",
    "Lachaud",
    "Rougier",
    "Bardet",
    "Lescure",
    "Teyssandier",
    "Valade",
    "Eyraud",
    "Gadaud",
    "Rebière",
    "Maury",
    "Soulier",
    "Peyronnet",
    "Mauriac",
    "Coustillas",
    "Lamaurie",
    "Escande",
    "Jardel",
    "Vignal",
    "Roques",
    "Chanteloube",
    "Brousse",
    "Garrigue",
    "Dubreuil",
]
STREETS = [
    "route de {next}",
    "chemin des Vignes",
    "rue de l'Église",
    "impasse des Lilas",
    "lieu-dit {place}",
    "chemin de {place}",
    "rue du Moulin",
    "allée des Chênes",
    "route du Bourg",
    "rue Jean-Jaurès",
    "chemin de la Fontaine",
    "rue des Écoles",
]
PLACES = [
    "Les Granges",
    "La Borie",
    "Le Peyrat",
    "Les Combes",
    "La Croix Blanche",
    "Le Moulin",
    "Les Mayets",
    "La Métairie",
    "Le Bourdil",
    "Les Vergnes",
    "La Font Haute",
    "Le Pech",
]
DRIVER_NOTES = [
    "Code du portail : 1947.",
    "Chien dans la cour, gentil mais bruyant.",
    "Maison au fond de l'allée, sonner fort.",
    "Trois marches devant la porte d'entrée.",
    "Appeler dix minutes avant d'arriver.",
    "Portail vert, se garer devant le garage.",
    "Sonnette en panne : frapper au volet.",
    "Deuxième étage sans ascenseur, prévoir le temps de descendre.",
]
# Carers (username, display name, e-mail, phone, index of the persons they help).
CARERS = [
    ("aidant", "Sophie Delpech", "sophie.delpech@example.org", "06 39 98 20 01", (0, 1)),
    ("aidant2", "Marc Lacoste", "marc.lacoste@example.org", "06 39 98 20 02", (2,)),
    ("aidant3", "Nathalie Faure", "nathalie.faure@example.org", "06 39 98 20 03", (3,)),
    ("aidant4", "Thierry Vidal", None, "06 39 98 20 04", (5,)),
    ("aidant5", "Karine Malbec", "karine.malbec@example.org", "06 39 98 20 05", (13, 14)),
]
PERSON_COUNT = 60


# --- activities and sessions ----------------------------------------------------------------

# (title, field, audience, description)
ACTIVITIES = [
    (
        "Atelier mémoire",
        Field.care_prevention,
        Audience.older_people,
        "Jeux de mots, souvenirs et exercices en petit groupe pour garder la mémoire en éveil.",
    ),
    (
        "Atelier équilibre",
        Field.care_prevention,
        Audience.older_people,
        "Exercices simples pour prévenir les chutes, avec une éducatrice sportive.",
    ),
    (
        "Gym douce",
        Field.care_prevention,
        Audience.older_people,
        "Étirements et renforcement en douceur, assis ou debout, à votre rythme.",
    ),
    (
        "Vaccination grippe et covid",
        Field.care_prevention,
        Audience.older_people,
        "Campagne de vaccination avec l'infirmière du centre. Apportez votre carte Vitale.",
    ),
    (
        "Bus de téléconsultation",
        Field.care_prevention,
        Audience.older_people,
        "Consultation d'un médecin à distance, accompagnée par une infirmière, dans votre village.",
    ),
    (
        "Repas partagé aidant-aidé",
        Field.isolation,
        Audience.carers,
        "Un repas convivial préparé avec la diététicienne, pour la personne aidée et son aidant.",
    ),
    (
        "Groupe de parole des aidants",
        Field.isolation,
        Audience.carers,
        "Un temps d'échange entre aidants, animé par la psychologue du centre.",
    ),
    (
        "Formation : prévenir les chutes à domicile",
        Field.professional,
        Audience.professionals,
        "Pour les aides à domicile et infirmiers libéraux du territoire : repérer et agir.",
    ),
    (
        "Formation : repérer l'isolement",
        Field.professional,
        Audience.professionals,
        "Pour les aides à domicile et les secrétaires de mairie : repérer une personne isolée "
        "et savoir vers qui l'orienter.",
    ),
]


@dataclass(frozen=True)
class SeriesPlan:
    activity: str
    venue: str
    frequency: Frequency
    weekday: int  # 0 = Monday
    start: dt.time
    end: dt.time
    seats: int
    wheelchair_places: int
    transport: bool
    deadline_hours: int | None


@dataclass(frozen=True)
class OneOffPlan:
    activity: str
    venue: str
    day_offset: int  # days after today
    start: dt.time
    end: dt.time
    seats: int
    wheelchair_places: int
    transport: bool
    deadline_hours: int | None


SERIES = [
    SeriesPlan(
        "Atelier mémoire",
        "EHPAD Les Tilleuls",
        Frequency.weekly,
        1,
        dt.time(14, 0),
        dt.time(16, 0),
        12,
        2,
        True,
        24,
    ),
    SeriesPlan(
        "Atelier équilibre",
        "Salle des fêtes de Lalinde",
        Frequency.weekly,
        3,
        dt.time(10, 0),
        dt.time(11, 30),
        10,
        1,
        True,
        24,
    ),
    SeriesPlan(
        "Gym douce",
        "Salle polyvalente de Prigonrieux",
        Frequency.weekly,
        0,
        dt.time(10, 0),
        dt.time(11, 0),
        14,
        1,
        True,
        24,
    ),
    SeriesPlan(
        "Groupe de parole des aidants",
        "Foyer rural de La Force",
        Frequency.biweekly,
        4,
        dt.time(14, 30),
        dt.time(16, 0),
        10,
        0,
        False,
        None,
    ),
]
ONE_OFFS = [
    OneOffPlan(
        "Vaccination grippe et covid",
        "EHPAD Les Tilleuls",
        3,
        dt.time(9, 30),
        dt.time(12, 0),
        30,
        3,
        True,
        48,
    ),
    OneOffPlan(
        "Bus de téléconsultation",
        "Bus de téléconsultation — Eymet, place Gambetta",
        2,
        dt.time(9, 0),
        dt.time(12, 0),
        6,
        1,
        False,
        24,
    ),
    OneOffPlan(
        "Bus de téléconsultation",
        "Bus de téléconsultation — Monbazillac, parking de la mairie",
        6,
        dt.time(14, 0),
        dt.time(17, 0),
        6,
        1,
        False,
        24,
    ),
    OneOffPlan(
        "Bus de téléconsultation",
        "Bus de téléconsultation — Le Fleix, place de l'Église",
        9,
        dt.time(9, 0),
        dt.time(12, 0),
        6,
        1,
        False,
        24,
    ),
    # The full one: six persons each come with their carer (12 seats), two more wait.
    OneOffPlan(
        "Repas partagé aidant-aidé",
        "EHPAD Les Tilleuls",
        5,
        dt.time(12, 0),
        dt.time(14, 0),
        12,
        2,
        True,
        48,
    ),
    OneOffPlan(
        "Formation : prévenir les chutes à domicile",
        "Salle des fêtes d'Issigeac",
        8,
        dt.time(9, 0),
        dt.time(17, 0),
        15,
        0,
        False,
        72,
    ),
]
FULL_SESSION_ACTIVITY = "Repas partagé aidant-aidé"


# --- small helpers ----------------------------------------------------------------------------

EARTH_RADIUS_M = 6_371_000.0


def offset_point(lat: float, lon: float, east_m: float, north_m: float) -> tuple[float, float]:
    """The point `east_m` metres east and `north_m` metres north of (lat, lon)."""
    dlat = math.degrees(north_m / EARTH_RADIUS_M)
    dlon = math.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(lat))))
    return round(lat + dlat, 6), round(lon + dlon, 6)


def random_point_near(
    rng: random.Random, lat: float, lon: float, radius_km: float
) -> tuple[float, float]:
    """A point uniformly spread in the disc of `radius_km` around (lat, lon)."""
    distance = radius_km * 1000 * math.sqrt(rng.random())
    bearing = rng.uniform(0, 2 * math.pi)
    return offset_point(lat, lon, distance * math.sin(bearing), distance * math.cos(bearing))


def fictional_phone(prefix: str, n: int) -> str:
    """'05 36 49 31 07' style numbers in ARCEP's fiction ranges."""
    return f"{prefix} {n // 100 % 100:02d} {n % 100:02d}"


def ascii_slug(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return "".join(c if c.isalnum() else "." for c in plain).strip(".")


# --- loading -------------------------------------------------------------------------------------


@dataclass
class DemoSummary:
    communes: int = 0
    venues: int = 0
    persons: int = 0
    carers: int = 0
    activities: int = 0
    sessions: int = 0
    bookings: int = 0
    waitlisted: int = 0
    vehicles: int = 0
    drivers: int = 0
    history: HistorySummary = dataclasses.field(default_factory=HistorySummary)


def find_demo_centre(db: Session) -> Centre | None:
    return db.scalar(select(Centre).where(Centre.slug == CENTRE_SLUG))


def wipe_demo(db: Session) -> bool:
    """Delete the demo centre and everything that belongs to it; tell whether it existed."""
    centre = find_demo_centre(db)
    if centre is None:
        return False
    delete_centre(db, centre.id)
    return True


def delete_centre(db: Session, centre_id: int) -> None:
    """Delete every row of one centre, children first, leaving other centres untouched."""
    for table in reversed(Base.metadata.sorted_tables):
        if table.name == "data_version":
            continue  # the whole database's change counter (scheduling/data_version.py)
        db.execute(delete(table).where(_belongs_to_centre(table, centre_id)))
    db.flush()


def _belongs_to_centre(table: Table, centre_id: int) -> ColumnElement[bool]:
    """Condition selecting the rows of `table` that belong to the centre, directly or not."""
    if table.name == "centres":
        return table.c.id == centre_id
    if "centre_id" in table.c:
        return table.c.centre_id == centre_id
    # A row without centre_id (a series, a carer link) belongs through its parent.
    # Follow a compulsory link (a nullable one, like a series' animator, may be empty).
    for fk in sorted(table.foreign_keys, key=lambda fk: fk.parent.name):
        parent = fk.column.table
        if parent is not table and isinstance(parent, Table) and not fk.parent.nullable:
            owned = select(parent.c.id).where(_belongs_to_centre(parent, centre_id))
            return fk.parent.in_(owned)
    raise RuntimeError(f"La table {table.name} n'est rattachée à aucun centre.")


def load_demo(db: Session, *, now: dt.datetime) -> DemoSummary:
    """Create the demo centre and its territory; `now` is the centre's local wall-clock time."""
    rng = random.Random(SEED)
    summary = DemoSummary()
    today = now.date()
    centre = Centre(
        name=CENTRE_NAME,
        slug=CENTRE_SLUG,
        timezone=TIMEZONE,
        address="14 rue des Tilleuls, 24100 Bergerac",
    )
    db.add(centre)
    db.flush()
    communes = _add_communes(db, centre)
    summary.communes = len(communes)
    centre.lat, centre.lon = offset_point(communes["24037"].lat, communes["24037"].lon, 600, -400)
    staff = _add_staff(db, centre)
    venues = _add_venues(db, centre, communes)
    summary.venues = len(venues)
    persons = _add_persons(db, rng, staff["admin"], list(communes.values()))
    summary.persons = len(persons)
    carers = _add_carers(db, centre, persons)
    summary.carers = len(carers)
    activities = _add_activities(db, staff["animation"])
    summary.activities = len(activities)
    summary.vehicles = _add_vehicles(db, centre, communes, venues)
    summary.drivers = _add_drivers(db, centre, staff)
    db.flush()
    # The past six weeks first (their own seed): the report has figures from the start.
    summary.history = load_history(
        db,
        now=now,
        staff=Staff(staff["animation"], staff["coordination"], carers[0]),
        activities=activities,
        venues=venues,
        persons=persons,
    )
    sessions = _add_sessions(db, staff["animation"], now, today, activities, venues)
    summary.sessions = len(sessions)
    booked, waiting = _add_bookings(db, rng, staff["animation"], carers[0], now, sessions, persons)
    summary.bookings, summary.waitlisted = booked, waiting
    # The confirmations of these past bookings count as sent: they are history, not an outbox.
    db.execute(
        update(Notification)
        .where(Notification.centre_id == centre.id, Notification.sent_at.is_(None))
        .values(sent_at=Notification.created_at)
    )
    db.flush()
    return summary


def _add_communes(db: Session, centre: Centre) -> dict[str, Commune]:
    communes = {}
    for row in read_communes():
        commune = Commune(
            centre_id=centre.id,
            insee=row.insee,
            name=row.name,
            postcode=row.postcode,
            lat=row.lat,
            lon=row.lon,
        )
        db.add(commune)
        communes[row.insee] = commune
    db.flush()
    return communes


def _add_staff(db: Session, centre: Centre) -> dict[str, User]:
    password_hash = hash_password(DEMO_PASSWORD)
    users = {}
    for username, role, name, email, phone in STAFF_ACCOUNTS:
        user = User(
            centre_id=centre.id,
            username=username,
            password_hash=password_hash,
            role=role,
            display_name=name,
            email=email,
            phone=phone,
            active=True,
        )
        db.add(user)
        users[username] = user
    db.flush()
    return users


def _add_venues(db: Session, centre: Centre, communes: dict[str, Commune]) -> dict[str, Venue]:
    venues = {}
    for name, kind, insee, street, step_free, (east, north) in VENUES:
        commune = communes[insee]
        lat, lon = offset_point(commune.lat, commune.lon, east, north)
        venue = Venue(
            centre_id=centre.id,
            name=name,
            kind=kind,
            address=f"{street}, {commune.postcode} {commune.name}",
            commune_id=commune.id,
            lat=lat,
            lon=lon,
            step_free=step_free,
        )
        db.add(venue)
        venues[name] = venue
    db.flush()
    return venues


def _person_names(rng: random.Random) -> list[tuple[str, str]]:
    """60 (first name, last name) pairs; two couples share a last name (and a home)."""
    women = rng.sample(FEMALE_FIRST_NAMES, len(FEMALE_FIRST_NAMES))
    men = rng.sample(MALE_FIRST_NAMES, len(MALE_FIRST_NAMES))
    names = []
    for i in range(PERSON_COUNT):
        # Older women far outnumber older men: about two in three.
        first = men[i // 3 % len(men)] if i % 3 == 1 else women[i * 2 // 3 % len(women)]
        names.append((first, LAST_NAMES[i]))
    # The couples helped by one carer: indexes 0-1 (Delpech) and 13-14 (Malbec).
    names[0] = ("Jeanne", "Delpech")
    names[1] = ("André", "Delpech")
    names[13] = ("Yvonne", "Malbec")
    names[14] = ("Roger", "Malbec")
    return names


def _address(rng: random.Random, commune: Commune, others: list[Commune]) -> str:
    street = rng.choice(STREETS).format(
        next=rng.choice([c.name for c in others if c.id != commune.id]),
        place=rng.choice(PLACES),
    )
    if street.startswith("lieu-dit"):
        return street[0].upper() + street[1:]
    return f"{rng.randint(1, 48)} {street}"


def _add_persons(
    db: Session, rng: random.Random, actor: User, communes: list[Commune]
) -> list[Person]:
    mobilities = [Mobility.walks] * 47 + [Mobility.walker] * 9 + [Mobility.wheelchair] * 4
    rng.shuffle(mobilities)
    # Bergerac is a town among villages: it gets more of the people.
    weights = [8 if c.insee == "24037" else 2 for c in communes]
    persons: list[Person] = []
    for i, (first, last) in enumerate(_person_names(rng)):
        couple_home = persons[i - 1] if i in (1, 14) else None
        commune = couple_home.commune if couple_home else rng.choices(communes, weights)[0]
        if couple_home:
            address, lat, lon = couple_home.address, couple_home.lat, couple_home.lon
        else:
            address = _address(rng, commune, communes)
            lat, lon = random_point_near(rng, commune.lat, commune.lon, PERSON_SPREAD_KM)
        draw = rng.random()
        if i == 5:
            phone = None  # reached through her carer
        elif draw < 0.7:
            phone = fictional_phone("05 36 49", 3000 + i * 37)
        else:
            phone = fictional_phone("06 39 98", 5000 + i * 41)
        email = None
        if rng.random() < 0.25:
            email = f"{ascii_slug(first)}.{ascii_slug(last)}@example.org"
        mobility = mobilities[i]
        companion = mobility is Mobility.wheelchair or (mobility is Mobility.walker and i % 4 == 0)
        notes = rng.choice(DRIVER_NOTES) if rng.random() < 0.35 else ""
        result = create_person(
            db,
            actor=actor,
            first_name=first,
            last_name=last,
            commune_id=commune.id,
            phone=phone,
            email=email,
            address=address,
            lat=lat,
            lon=lon,
            mobility=mobility,
            companion_needed=companion,
            driver_notes=notes,
        )
        if result.value is None:
            raise RuntimeError(f"Personne de démonstration refusée : {result.message}")
        persons.append(result.value)
    return persons


def _add_carers(db: Session, centre: Centre, persons: list[Person]) -> list[User]:
    password_hash = hash_password(DEMO_PASSWORD)
    carers = []
    for username, name, email, phone, helped in CARERS:
        carer = User(
            centre_id=centre.id,
            username=username,
            password_hash=password_hash,
            role=Role.carer,
            display_name=name,
            email=email,
            phone=phone,
            active=True,
        )
        carer.helped_persons = [persons[i] for i in helped]
        db.add(carer)
        carers.append(carer)
    db.flush()
    return carers


def _add_activities(db: Session, actor: User) -> dict[str, Activity]:

    activities = {}
    for title, field, audience, description in ACTIVITIES:
        result = create_activity(
            db, actor=actor, title=title, field=field, audience=audience, description=description
        )
        if result.value is None:
            raise RuntimeError(f"Activité de démonstration refusée : {result.message}")
        activities[title] = result.value
    return activities


def _next_weekday(after: dt.date, weekday: int) -> dt.date:
    """The first date strictly after `after` falling on `weekday` (0 = Monday)."""
    return after + dt.timedelta(days=(weekday - after.weekday() - 1) % 7 + 1)


def _weekday_on_or_after(day: dt.date) -> dt.date:
    """`day`, or the Monday after it when it falls on a weekend (the centre is closed)."""
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def _add_sessions(
    db: Session,
    animator: User,
    now: dt.datetime,
    today: dt.date,
    activities: dict[str, Activity],
    venues: dict[str, Venue],
) -> list[ActivitySession]:

    last_day = today + dt.timedelta(days=DAYS_OF_SESSIONS)
    sessions: list[ActivitySession] = []
    for plan in SERIES:
        first = _next_weekday(today, plan.weekday)
        sessions += create_repeated(
            db,
            plan,
            first,
            last_day,
            animator=animator,
            now=now,
            activities=activities,
            venues=venues,
        )
    for one in ONE_OFFS:
        day = _weekday_on_or_after(today + dt.timedelta(days=one.day_offset))
        sessions.append(
            create_one_off(
                db, one, day, animator=animator, now=now, activities=activities, venues=venues
            )
        )
    return sorted(sessions, key=lambda s: (s.starts_at, s.id))


def _add_bookings(
    db: Session,
    rng: random.Random,
    animator: User,
    carer: User,
    now: dt.datetime,
    sessions: list[ActivitySession],
    persons: list[Person],
) -> tuple[int, int]:
    """Book people the way the phone and the carers would: the real rules apply."""
    booked = waiting = 0
    # Bookings arrive one after the other over the past days (the waitlist order needs it).
    clock = now - dt.timedelta(days=2)
    for session in sessions:
        audience = session.activity.audience
        full = session.activity.title == FULL_SESSION_ACTIVITY
        if audience is Audience.professionals or (audience is Audience.carers and not full):
            continue  # carers and professionals are not persons of the territory
        if full:
            # The Delpech couple's carer books first, then the phone fills the rest and more.
            candidates = [persons[0], *rng.sample(persons[2:], 7)]
            share = len(candidates)
        else:
            candidates = rng.sample(persons, len(persons))
            share = max(2, int(session.seats * rng.uniform(0.3, 0.7)))
        count = 0
        for person in candidates:
            if count >= share:
                break
            clock += dt.timedelta(minutes=rng.randint(3, 40))
            wants_ride = session.transport_offered and rng.random() < 0.6
            companions = 1 if full or person.companion_needed else 0
            outcome = book(
                db,
                session_id=session.id,
                person_id=person.id,
                actor=carer if person in carer.helped_persons else animator,
                now=min(clock, now),
                companions=companions,
                transport_out=wants_ride,
                transport_back=wants_ride,
            )
            if outcome.refused:
                continue  # e.g. a wheelchair where the session has no wheelchair place
            count += 1
            booked += outcome.confirmed
            waiting += outcome.waitlisted
    return booked, waiting


def _add_vehicles(
    db: Session, centre: Centre, communes: dict[str, Commune], venues: dict[str, Venue]
) -> int:
    ehpad = venues["EHPAD Les Tilleuls"]
    home = communes["24225"]  # the volunteer lives in Lamonzie-Saint-Martin
    home_lat, home_lon = offset_point(home.lat, home.lon, 350, 500)
    vehicles = [
        Vehicle(
            centre_id=centre.id,
            name="Minibus 9 places",
            kind=VehicleKind.minibus,
            seats=8,
            wheelchair_places=1,
            depot_address=ehpad.address,
            depot_lat=ehpad.lat,
            depot_lon=ehpad.lon,
            available_from=dt.time(8, 0),
            available_until=dt.time(18, 30),
        ),
        Vehicle(
            centre_id=centre.id,
            name="Véhicule adapté TPMR",
            kind=VehicleKind.adapted_van,
            seats=3,
            wheelchair_places=2,
            depot_address=ehpad.address,
            depot_lat=ehpad.lat,
            depot_lon=ehpad.lon,
            available_from=dt.time(8, 30),
            available_until=dt.time(18, 0),
        ),
        Vehicle(
            centre_id=centre.id,
            name="Voiture de Bernard (bénévole)",
            kind=VehicleKind.volunteer_car,
            seats=3,
            wheelchair_places=0,
            depot_address=f"Lieu-dit Le Pech, {home.postcode} {home.name}",
            depot_lat=home_lat,
            depot_lon=home_lon,
            available_from=dt.time(9, 0),
            available_until=dt.time(17, 0),
        ),
    ]
    db.add_all(vehicles)
    return len(vehicles)


def _add_drivers(db: Session, centre: Centre, staff: dict[str, User]) -> int:
    drivers = [
        Driver(
            centre_id=centre.id,
            user_id=staff["chauffeur"].id,
            phone=staff["chauffeur"].phone or "",
            volunteer=False,
            available_from=dt.time(7, 30),
            available_until=dt.time(18, 30),
            weekdays=[0, 1, 2, 3, 4],
        ),
        Driver(
            centre_id=centre.id,
            user_id=staff["benevole"].id,
            phone=staff["benevole"].phone or "",
            volunteer=True,
            available_from=dt.time(9, 0),
            available_until=dt.time(17, 0),
            weekdays=[1, 3],
        ),
    ]
    db.add_all(drivers)
    return len(drivers)


# --- the command -------------------------------------------------------------------------------

LOGINS = [
    ("admin", "administration"),
    ("coordination", "coordination et tournées"),
    ("animation", "animation : activités, réservations par téléphone, appel"),
    ("aidant", "aidante de Jeanne et André Delpech"),
    ("chauffeur", "chauffeur salarié"),
]


def centre_now(timezone: str = TIMEZONE) -> dt.datetime:
    """The current wall-clock time in the centre's zone, naive, to the minute."""
    return dt.datetime.now(ZoneInfo(timezone)).replace(tzinfo=None, second=0, microsecond=0)


@click.command("demo")
@click.option("--reset", is_flag=True, help="Efface puis recharge le territoire de démonstration.")
@with_appcontext
def demo_command(reset: bool) -> None:
    """Charge le territoire de démonstration (CRT du Bergeracois)."""
    now = centre_now()
    try:
        with session_scope(current_app) as db:
            if reset and wipe_demo(db):
                click.echo("Ancien territoire de démonstration effacé.")
            elif find_demo_centre(db) is not None:
                click.echo(
                    f"Le territoire de démonstration « {CENTRE_NAME} » est déjà chargé : "
                    "rien n'a changé. Utilisez --reset pour le recharger."
                )
                return
            taken = _usernames_taken(db)
            if taken:
                raise click.ClickException(
                    "Ces identifiants de démonstration existent déjà dans un autre centre : "
                    f"{', '.join(taken)}. Chargez la démonstration dans une base à part."
                )
            summary = load_demo(db, now=now)
    except (SQLAlchemyError, RuntimeError) as error:
        raise click.ClickException(
            "Impossible de charger la démonstration : la base de données est-elle créée "
            f"(migrations appliquées) ?\nDétail : {error.__class__.__name__}: {error}"
        ) from error
    _print_summary(summary)
    # Tomorrow's rounds, built and published, so a newcomer sees transport at once.
    from webapp.transport.demo_rounds import build_demo_rounds

    with session_scope(current_app) as db:
        centre_id = find_demo_centre(db).id  # type: ignore[union-attr]
    for line in build_demo_rounds(current_app._get_current_object(), centre_id, now):  # type: ignore[attr-defined]
        click.echo(line)


def _usernames_taken(db: Session) -> list[str]:
    wanted = [u[0] for u in STAFF_ACCOUNTS] + [c[0] for c in CARERS]
    return sorted(db.scalars(select(User.username).where(User.username.in_(wanted))))


def _print_summary(summary: DemoSummary) -> None:
    click.echo(f"Territoire de démonstration chargé : {CENTRE_NAME}.")
    click.echo(
        f"  {summary.communes} communes, {summary.venues} lieux, {summary.persons} personnes, "
        f"{summary.carers} aidants, {summary.activities} activités, "
        f"{summary.sessions} séances sur {DAYS_OF_SESSIONS} jours, "
        f"{summary.bookings} réservations confirmées et {summary.waitlisted} en liste d'attente, "
        f"{summary.vehicles} véhicules, {summary.drivers} chauffeurs."
    )
    past = summary.history
    click.echo(
        f"  Les six semaines passées : {past.sessions} séances dont {past.cancelled} annulées, "
        f"{past.bookings} réservations, appel fait ; {past.rounds} tournées pointées sur "
        f"{past.transport_days} jours ({past.distance_km:.0f} km). Voir la page Rapports "
        "du compte « coordination »."
    )
    click.echo(f"Comptes de démonstration (mot de passe pour tous : {DEMO_PASSWORD}) :")
    for username, role in LOGINS:
        click.echo(f"  {username:<13} {role}")
