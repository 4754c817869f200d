"""Every pregnancy-card route, walked by the scope helper (owner, other citizen, unrelated and blocked clinician,
wrong kind, forged and missing tokens).

The related clinician of the helper's world is a GP (LE at a fastlege office) with a gp relation and the
woman's pregnancy-card consent. Card creation is walked as that GP: a midwife creating a card attests her
own organisation's midwife relation (as `POST …/care-relations` would), so "unrelated midwife" is not a
refusal case; her consent and block cases are tested in tests/pregnancy/test_card_flow.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from litestar import Litestar

from backend.core.clock import oslo_now
from tests.security.helper import PatientRoute, World, assert_route_scoped

CARDS = "/clinician/v1/patients/{patientId}/pregnancies"
CARD = CARDS + "/{id}"


def _today() -> date:
    return oslo_now().date()


def _lmp() -> str:
    return (_today() - timedelta(weeks=26)).isoformat()


async def _card(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    response = await client.post(
        CARDS.format(patientId=world.owner.patient_id),
        json={"lastMenstrualPeriod": _lmp()},
        headers=world.related.headers,
    )
    assert response.status_code == 201, response.text
    return {"id": response.json()["id"]}


async def _card_with_consultation(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    params = await _card(client, world)
    response = await client.post(
        CARD.format(patientId=world.owner.patient_id, **params) + "/consultations",
        json={"date": _today().isoformat(), "weightKg": 70},
        headers=world.related.headers,
    )
    assert response.status_code == 201, response.text
    return {**params, "cid": response.json()["id"]}


def _consultation(world: World, params: dict[str, str]) -> dict[str, object]:
    return {"date": _today().isoformat(), "weightKg": 71.5, "systolic": 118, "diastolic": 72}


def _if_match_1(world: World, params: dict[str, str]) -> dict[str, str]:
    return {"If-Match": '"1"'}


PREGNANCY_ROUTES = [
    PatientRoute(
        "POST", CARDS, "clinician", ok=(201,), body=lambda w, p: {"lastMenstrualPeriod": _lmp(), "bloodType": "A"}
    ),
    PatientRoute("GET", CARDS, "clinician"),
    PatientRoute("GET", CARD, "clinician", setup=_card),
    PatientRoute("PATCH", CARD, "clinician", setup=_card, body=lambda w, p: {"rhd": "negative"}, headers=_if_match_1),
    PatientRoute("GET", CARD + "/header-history", "clinician", setup=_card),
    PatientRoute("POST", CARD + "/consultations", "clinician", ok=(201,), setup=_card, body=_consultation),
    PatientRoute(
        "PUT",
        CARD + "/consultations/{cid}",
        "clinician",
        setup=_card_with_consultation,
        body=lambda w, p: {**_consultation(w, p), "reason": "Feil vekt"},
        headers=_if_match_1,
    ),
    PatientRoute("GET", CARD + "/consultations/{cid}/history", "clinician", setup=_card_with_consultation),
    PatientRoute(
        "POST",
        CARD + "/ultrasounds",
        "clinician",
        ok=(201,),
        setup=_card,
        body=lambda w, p: {"date": _today().isoformat(), "kind": "other", "fetuses": 1},
    ),
    PatientRoute(
        "POST",
        CARD + "/vaccines",
        "clinician",
        ok=(201,),
        setup=_card,
        body=lambda w, p: {"vaccine": "whooping-cough", "givenOn": _today().isoformat()},
    ),
    PatientRoute(
        "POST",
        CARD + "/tests",
        "clinician",
        ok=(201,),
        setup=_card,
        body=lambda w, p: {"test": "hb", "takenOn": _today().isoformat(), "value": 12.1},
    ),
    PatientRoute(
        "POST",
        CARD + "/earlier-pregnancies",
        "clinician",
        ok=(201,),
        setup=_card,
        body=lambda w, p: {"year": 2022, "kind": "birth", "week": 40, "birthWeightG": 3500, "mode": "vaginal"},
    ),
    PatientRoute(
        "PUT",
        CARD + "/outcome",
        "clinician",
        setup=_card,
        body=lambda w, p: {"outcome": "delivered", "date": _today().isoformat()},
    ),
    # The same routes as seen by a midwife at a helsestasjon with a midwife relation.
    PatientRoute("GET", CARD, "clinician", setup=_card, org_kind="helsestasjon", authorization="JO"),
    PatientRoute(
        "POST",
        CARD + "/consultations",
        "clinician",
        ok=(201,),
        setup=_card,
        body=_consultation,
        org_kind="helsestasjon",
        authorization="JO",
    ),
    PatientRoute("GET", "/citizen/v1/me/pregnancies", "citizen"),
    PatientRoute("GET", "/citizen/v1/me/pregnancies/{id}", "citizen", setup=_card),
    PatientRoute(
        "POST",
        "/citizen/v1/me/pregnancies/{id}/notes",
        "citizen",
        ok=(201,),
        setup=_card,
        body=lambda w, p: {"kind": "question", "text": "Kan jeg trene som før?"},
    ),
    PatientRoute(
        "POST",
        "/citizen/v1/me/pregnancies/{id}/self-registrations",
        "citizen",
        ok=(201,),
        setup=_card,
        body=lambda w, p: {"effectiveAt": datetime.now(UTC).isoformat(), "weightKg": 70.5, "fetalMovements": True},
    ),
    PatientRoute("GET", "/citizen/v1/me/pregnancies/{id}/card.pdf", "citizen", setup=_card),
]


@pytest.mark.parametrize(
    "route",
    PREGNANCY_ROUTES,
    ids=lambda route: f"{route.id} ({route.org_kind})" if route.audience == "clinician" else route.id,
)
async def test_pregnancy_route_is_scoped(client: httpx.AsyncClient, app: Litestar, route: PatientRoute) -> None:
    await assert_route_scoped(client, app, route)
