"""Factories for pregnancy-card tests: a consenting woman, her midwife and GP, a card at a chosen week."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
from litestar import Litestar

from backend.core.clock import oslo_now
from tests.factories import Citizen, Clinician, consent, new_citizen, new_clinician, relate


def today() -> date:
    return oslo_now().date()


def lmp_for_week(weeks: int, days: int = 0) -> date:
    """The LMP that makes today weeks+days."""
    return today() - timedelta(days=weeks * 7 + days)


def on_week(lmp: date, weeks: int, days: int = 0) -> date:
    return lmp + timedelta(days=weeks * 7 + days)


def card_path(patient_id: uuid.UUID, card_id: str | None = None) -> str:
    base = f"/clinician/v1/patients/{patient_id}/pregnancies"
    return base if card_id is None else f"{base}/{card_id}"


@dataclass
class Team:
    woman: Citizen
    midwife: Clinician
    gp: Clinician


async def team(client: httpx.AsyncClient, app: Litestar, *, with_consent: bool = True) -> Team:
    """A woman (consenting unless told otherwise), a midwife at a helsestasjon and her GP (with a gp relation)."""
    woman = await new_citizen(client, app)
    if with_consent:
        await consent(client, woman)
    midwife = new_clinician(app, org_kind="helsestasjon", authorization="JO", name="Jordmor Kari Nordmann")
    gp = new_clinician(app, org_kind="fastlege", authorization="LE", name="Fastlege Ola Hansen")
    await relate(client, gp, woman.patient_id)
    return Team(woman=woman, midwife=midwife, gp=gp)


async def create_card(
    client: httpx.AsyncClient, clinician: Clinician, patient_id: uuid.UUID, *, weeks: int = 10, **fields: Any
) -> dict[str, Any]:
    body = {"lastMenstrualPeriod": lmp_for_week(weeks).isoformat(), **fields}
    response = await client.post(card_path(patient_id), json=body, headers=clinician.headers)
    assert response.status_code == 201, response.text
    card: dict[str, Any] = response.json()
    return card


async def add_consultation(
    client: httpx.AsyncClient, clinician: Clinician, patient_id: uuid.UUID, card_id: str, **fields: Any
) -> dict[str, Any]:
    body = {"date": today().isoformat(), **fields}
    response = await client.post(
        f"{card_path(patient_id, card_id)}/consultations", json=body, headers=clinician.headers
    )
    assert response.status_code == 201, response.text
    row: dict[str, Any] = response.json()
    return row
