"""Persons: who may see whom, searching and creating them."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import Select, false, or_, select
from sqlalchemy.orm import Session as DbSession

from scheduling.models import Commune, Mobility, Person, Role, User, carer_link
from scheduling.outcomes import Result, failed, succeeded

STAFF_ROLES = frozenset({Role.admin, Role.coordinator, Role.animator})
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def is_staff(user: User) -> bool:
    """Staff (admin, coordination, animation) see and book for every person of their centre."""
    return user.active and user.role in STAFF_ROLES


def visible_persons_query(user: User) -> Select[Person]:
    """Persons ``user`` may see: everyone of the centre for staff; a carer's own people."""
    query = select(Person).where(Person.centre_id == user.centre_id)
    if is_staff(user):
        return query
    if not user.active or user.role is not Role.carer:
        return query.where(false())
    helped = select(carer_link.c.person_id).where(carer_link.c.user_id == user.id)
    own = Person.id == user.person_id if user.person_id is not None else false()
    return query.where(or_(Person.id.in_(helped), own))


def persons_visible_to(db: DbSession, user: User) -> list[Person]:
    query = visible_persons_query(user).order_by(Person.last_name, Person.first_name, Person.id)
    return list(db.scalars(query))


def can_see_person(user: User, person: Person) -> bool:
    if person.centre_id != user.centre_id or not user.active:
        return False
    if is_staff(user):
        return True
    if user.role is not Role.carer:
        return False
    return person.id == user.person_id or any(p.id == person.id for p in user.helped_persons)


def get_person_for(db: DbSession, user: User, person_id: int) -> Person | None:
    """The person if ``user`` may see them, else None (the page answers 404)."""
    return db.scalar(visible_persons_query(user).where(Person.id == person_id))


def _fold(text: str) -> str:
    """Lower case without accents: « Hélène » and « helene » must match on the phone."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _matches(person: Person, tokens: list[str]) -> bool:
    haystack = _fold(f"{person.first_name} {person.last_name} {person.commune.name}")
    phone = _digits(person.phone or "")
    for token in tokens:
        token_digits = _digits(token)
        if len(token_digits) >= 2 and re.fullmatch(r"\+?[\d .]+", token):
            # A number typed as 0553…, or the same with the French +33 prefix.
            local = "0" + token_digits[2:] if token_digits.startswith("33") else token_digits
            if token_digits not in phone and local not in phone:
                return False
        elif _fold(token) not in haystack:
            return False
    return True


def search_persons(
    db: DbSession,
    *,
    actor: User,
    query: str = "",
    commune_id: int | None = None,
    limit: int = 50,
) -> list[Person]:
    """Find persons by name, phone number or commune name (accents and case ignored).

    Every word of ``query`` must match. Only persons ``actor`` may see are returned.
    """
    candidates = visible_persons_query(actor).join(Person.commune)
    if commune_id is not None:
        candidates = candidates.where(Person.commune_id == commune_id)
    candidates = candidates.order_by(Person.last_name, Person.first_name, Person.id)
    # Phone numbers are typed with spaces: keep "05 53 12" together as one number.
    tokens = re.findall(r"\+?\d[\d .]*\d|\S+", query.strip())
    found: list[Person] = []
    for person in db.scalars(candidates):
        if _matches(person, tokens):
            found.append(person)
            if len(found) >= limit:
                break
    return found


def normalize_phone(phone: str) -> str | None:
    """A French or international number, tidied; None if it is not a phone number."""
    cleaned = re.sub(r"[\s.\-/]", "", phone)
    if re.fullmatch(r"0\d{9}", cleaned):
        return " ".join(cleaned[i : i + 2] for i in range(0, 10, 2))
    if re.fullmatch(r"\+\d{8,15}", cleaned):
        return cleaned
    return None


@dataclass(frozen=True)
class _PersonFields:
    commune: Commune
    phone: str | None
    email: str | None


def _check_person(
    db: DbSession,
    actor: User,
    *,
    first_name: str,
    last_name: str,
    commune_id: int,
    phone: str | None,
    email: str | None,
) -> tuple[_PersonFields | None, dict[str, str]]:
    errors: dict[str, str] = {}
    if not first_name.strip():
        errors["first_name"] = "Indiquez le prénom."
    if not last_name.strip():
        errors["last_name"] = "Indiquez le nom."
    commune = db.scalar(
        select(Commune).where(Commune.id == commune_id, Commune.centre_id == actor.centre_id)
    )
    if commune is None:
        errors["commune_id"] = "Choisissez une commune du territoire."
    tidy_phone: str | None = None
    if phone and phone.strip():
        tidy_phone = normalize_phone(phone)
        if tidy_phone is None:
            errors["phone"] = "Numéro de téléphone invalide (exemple : 05 53 12 34 56)."
    tidy_email = email.strip() if email and email.strip() else None
    if tidy_email is not None and not EMAIL_PATTERN.match(tidy_email):
        errors["email"] = "Adresse e-mail invalide (exemple : nom@exemple.fr)."
    if errors or commune is None:
        return None, errors
    return _PersonFields(commune, tidy_phone, tidy_email), {}


def create_person(
    db: DbSession,
    *,
    actor: User,
    first_name: str,
    last_name: str,
    commune_id: int,
    phone: str | None = None,
    email: str | None = None,
    address: str = "",
    lat: float | None = None,
    lon: float | None = None,
    mobility: Mobility = Mobility.walks,
    companion_needed: bool = False,
    driver_notes: str = "",
) -> Result[Person]:
    """Create a person in the actor's centre. A carer who creates one is linked to them.

    Without coordinates, the commune's centre stands in until the address is geocoded.
    """
    if not is_staff(actor) and not (actor.active and actor.role is Role.carer):
        return failed({"__all__": "Vous ne pouvez pas enregistrer de personne."})
    fields, errors = _check_person(
        db,
        actor,
        first_name=first_name,
        last_name=last_name,
        commune_id=commune_id,
        phone=phone,
        email=email,
    )
    if fields is None:
        return failed(errors)
    person = Person(
        centre_id=actor.centre_id,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        phone=fields.phone,
        email=fields.email,
        address=address.strip(),
        commune_id=fields.commune.id,
        lat=lat if lat is not None else fields.commune.lat,
        lon=lon if lon is not None else fields.commune.lon,
        mobility=mobility,
        companion_needed=companion_needed,
        driver_notes=driver_notes.strip(),
    )
    db.add(person)
    if actor.role is Role.carer:
        actor.helped_persons.append(person)
    db.flush()
    return succeeded(person)


def update_person(
    db: DbSession,
    *,
    actor: User,
    person_id: int,
    first_name: str,
    last_name: str,
    commune_id: int,
    phone: str | None = None,
    email: str | None = None,
    address: str = "",
    lat: float | None = None,
    lon: float | None = None,
    mobility: Mobility = Mobility.walks,
    companion_needed: bool = False,
    driver_notes: str = "",
) -> Result[Person]:
    """Change a person's details (staff, or a carer for the persons they help).

    Existing bookings keep the mobility and pickup address they were made with.
    """
    person = get_person_for(db, actor, person_id)
    if person is None:
        return failed({"__all__": "Cette personne n'existe pas."})
    fields, errors = _check_person(
        db,
        actor,
        first_name=first_name,
        last_name=last_name,
        commune_id=commune_id,
        phone=phone,
        email=email,
    )
    if fields is None:
        return failed(errors)
    moved = (address.strip(), fields.commune.id) != (person.address, person.commune_id)
    person.first_name = first_name.strip()
    person.last_name = last_name.strip()
    person.phone = fields.phone
    person.email = fields.email
    person.address = address.strip()
    person.commune_id = fields.commune.id
    if lat is not None and lon is not None:
        person.lat, person.lon = lat, lon
    elif moved:
        person.lat, person.lon = fields.commune.lat, fields.commune.lon
    person.mobility = mobility
    person.companion_needed = companion_needed
    person.driver_notes = driver_notes.strip()
    db.flush()
    return succeeded(person)
