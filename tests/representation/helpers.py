"""People of given ages, the register's guardianships (system token), powers of attorney, and acting for someone."""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from litestar import Litestar

from backend.core.clock import OSLO, utcnow
from backend.dev.tokens import mint, system_claims
from tests.factories import ISSUED_NUMBERS, Citizen, bearer, fnr_born_on, new_citizen, signing_key

_days = random.SystemRandom()


def born_years_ago(years: int, *, days_after_birthday: int = 40, on: date | None = None) -> date:
    """A birth date `years` full years before `on` (today in Oslo), `days_after_birthday` past that birthday."""
    today = on or utcnow().astimezone(OSLO).date()
    day = today - timedelta(days=days_after_birthday)
    return day.replace(year=day.year - years) if (day.month, day.day) != (2, 29) else date(day.year - years, 2, 28)


async def person_born(client: httpx.AsyncClient, app: Litestar, born: date) -> Citizen:
    number = fnr_born_on(born)
    ISSUED_NUMBERS.add(number)
    return await new_citizen(client, app, number)


async def person_aged(client: httpx.AsyncClient, app: Litestar, years: int) -> Citizen:
    """Someone `years` old, born on any day well inside that year of age: one birth date has only some 45 valid
    numbers, and people of the same age are many in a run (each number is one patient, never shared)."""
    return await person_born(client, app, born_years_ago(years, days_after_birthday=_days.randint(30, 300)))


def system_headers(app: Litestar, scope: str = "registry") -> dict[str, str]:
    return bearer(mint(signing_key(app), "system", system_claims(scope)))


async def register_guardian(
    client: httpx.AsyncClient, app: Litestar, guardian: Citizen, child: Citizen, *, active: bool = True
) -> None:
    response = await client.put(
        "/system/v1/guardianships",
        json={"guardianFnr": guardian.fnr, "childFnr": child.fnr, "active": active},
        headers=system_headers(app),
    )
    assert response.status_code == 204, response.text


async def give_power(
    client: httpx.AsyncClient, grantor: Citizen, attorney: Citizen, scopes: list[str], until: datetime | None = None
) -> str:
    body: dict[str, Any] = {"fnr": attorney.fnr, "scopes": scopes}
    if until is not None:
        body["until"] = until.isoformat()
    response = await client.post("/citizen/v1/me/representatives", json=body, headers=grantor.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def acting(representative: Citizen, represented: Citizen | uuid.UUID) -> dict[str, str]:
    patient_id = represented if isinstance(represented, uuid.UUID) else represented.patient_id
    return {**representative.headers, "Helsekort-Act-For": str(patient_id)}


async def audit_rows(db: asyncpg.Connection, patient_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT actor_kind, actor, action, resource_type, resource_id, basis, refusal, request_id FROM audit_log"
        " WHERE patient_id = $1 ORDER BY id",
        patient_id,
    )
    return [dict(row) for row in rows]
