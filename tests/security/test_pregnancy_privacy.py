"""Pregnancy is private (CLINICAL.md v1.1): without the woman's `pregnancy-card` consent no clinician learns from
any answer, alert or reason text that she is or was pregnant; alerts raised under the consent leave every list
when she withdraws it.

The walk takes every clinician GET route from the application itself, so a route added later is walked too.
"""

from __future__ import annotations

import re
import uuid
from functools import partial
from typing import Any

import httpx
from litestar import Litestar

from tests.factories import Clinician, new_clinician, relate
from tests.measurements.factories import ago, bp_item
from tests.pregnancy.cards import add_consultation, create_card, team

# Words and fields that would tell of a pregnancy (English, Norwegian, the card's own field names).
PREGNANCY_WORDS = re.compile(
    r"pregnan|gravid|svanger|gestation|due_?date|(?<![a-z])termin|lastmenstrual|obstetric|fetal|foster",
    re.IGNORECASE,
)
HIGH_NEWS2: dict[str, Any] = {
    "respirationRate": 26, "spo2": 91, "onOxygen": True, "systolic": 125, "pulse": 70, "consciousness": "A",
    "temperature": 37.0,
}  # fmt: skip
PARAMETER = re.compile(r"\{(\w+):(\w+)\}")


def _value(match: re.Match[str], values: dict[str, str], template: str) -> str:
    name, kind = match.group(1), match.group(2)
    if name in values:
        return values[name]
    assert kind in ("uuid", "int"), f"add a value for {match.group(0)} in {template}"
    return str(uuid.uuid4()) if kind == "uuid" else "1"


def clinician_get_paths(app: Litestar, values: dict[str, str]) -> list[str]:
    """Every GET route of the clinician API, its path parameters filled in (unknown ids: a fresh UUID)."""
    paths: list[str] = []
    for route in app.routes:
        if not route.path.startswith("/clinician/v1") or "GET" not in getattr(route, "methods", ()):
            continue

        template: str = route.path
        path = PARAMETER.sub(partial(_value, values=values, template=template), template)
        if path.endswith("/series"):
            path += "?code=85354-9"
        paths.append(path)
        if path.endswith("/alerts"):
            paths.append(path + "?status=acknowledged")
    return paths


async def answers(client: httpx.AsyncClient, clinician: Clinician, paths: list[str]) -> dict[str, httpx.Response]:
    return {path: await client.get(path, headers=clinician.headers) for path in paths}


def told(path: str, response: httpx.Response) -> list[str]:
    """Pregnancy words in the answer; a problem's `instance` echoes the caller's own path, which tells nothing."""
    text = response.text.replace(path.split("?", maxsplit=1)[0], "")
    return PREGNANCY_WORDS.findall(text)


def telling(responses: dict[str, httpx.Response]) -> dict[str, list[str]]:
    return {path: words for path, response in responses.items() if (words := told(path, response))}


async def test_no_pregnancy_information_reaches_a_clinician_without_her_consent_clinical_v1_1(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    """CLINICAL.md v1.1 "Pregnancy is private": every clinician answer and alert, walked for a consent-less GP."""
    t = await team(client, app)  # she consents; her midwife (helsestasjon) and her GP
    woman = t.woman
    card = await create_card(client, t.midwife, woman.patient_id, weeks=30)
    consultation = await add_consultation(client, t.gp, woman.patient_id, card["id"], gestationalWeek=30)
    hospital = new_clinician(app, org_kind="sykehus")
    await relate(client, hospital, woman.patient_id)
    # Two home readings in pregnancy that alert her midwife and GP; the midwife acknowledges the first.
    for hours in (5, 1):
        upload = await client.post(
            "/citizen/v1/me/measurements",
            json={"items": [bp_item(165, 100, at=ago(hours=hours))]},
            headers=woman.headers,
        )
        assert upload.json()["results"][0]["status"] == "created"
    alerts = (await client.get("/clinician/v1/alerts", headers=t.midwife.headers)).json()["items"]
    bp_alerts = [item for item in alerts if item["kind"] == "pregnancy-blood-pressure"]
    assert len(bp_alerts) == 2
    acknowledged = await client.post(
        f"/clinician/v1/alerts/{bp_alerts[1]['id']}/acknowledge", headers=t.midwife.headers
    )
    assert acknowledged.status_code == 200, acknowledged.text
    news2 = await client.post(
        f"/clinician/v1/patients/{woman.patient_id}/news2", json=HIGH_NEWS2, headers=hospital.headers
    )
    assert news2.json()["notValidReason"] == "pregnancy"

    paths = clinician_get_paths(
        app,
        {
            "patient_id": str(woman.patient_id),
            "pregnancy_id": card["id"],
            "consultation_id": consultation["id"],
        },
    )
    # With her consent the walk finds the pregnancy (the words are there to be found), alerts included.
    with_consent = await answers(client, t.gp, paths)
    found = telling(with_consent)
    relations = with_consent[f"/clinician/v1/patients/{woman.patient_id}/care-relations"].json()["items"]
    assert "midwife" in {item["kind"] for item in relations}  # listed while she consents
    assert any("/alerts" in path for path in found), found
    assert any("/pregnancies" in path for path in found), found

    withdrawn = await client.delete("/citizen/v1/me/consents/pregnancy-card", headers=woman.headers)
    assert withdrawn.status_code == 204

    for clinician in (t.gp, hospital, t.midwife):
        responses = await answers(client, clinician, paths)
        assert telling(responses) == {}, f"{clinician.org_kind} learns of the pregnancy"
        for path, response in responses.items():
            assert response.status_code < 500, (path, response.text)
            if "/pregnancies" in path:
                assert response.status_code == 404, (path, response.text)
        # The alerts raised under the consent are gone from every list, open and acknowledged alike.
        for status in ("open", "acknowledged"):
            listed = await client.get(f"/clinician/v1/alerts?status={status}", headers=clinician.headers)
            assert {item["id"] for item in listed.json()["items"]} & {a["id"] for a in bp_alerts} == set()
        # ...and cannot be acknowledged, exactly as if they did not exist.
        refused = await client.post(f"/clinician/v1/alerts/{bp_alerts[0]['id']}/acknowledge", headers=clinician.headers)
        assert refused.status_code == 404
        assert not PREGNANCY_WORDS.search(refused.text)
    # Another organisation's midwife relation would tell it too: gone from the list without her consent.
    for clinician in (t.gp, hospital):
        relations = await client.get(
            f"/clinician/v1/patients/{woman.patient_id}/care-relations", headers=clinician.headers
        )
        assert relations.status_code == 200
        assert "midwife" not in {item["kind"] for item in relations.json()["items"]}
    # The midwife's own organisation still sees its own relation (the basis of its access).
    own = await client.get(f"/clinician/v1/patients/{woman.patient_id}/care-relations", headers=t.midwife.headers)
    assert "midwife" in {item["kind"] for item in own.json()["items"]}
    # A new NEWS2 record answers with a neutral reason.
    again = await client.post(
        f"/clinician/v1/patients/{woman.patient_id}/news2", json=HIGH_NEWS2, headers=hospital.headers
    )
    assert again.status_code == 201
    assert again.json()["notValidReason"] == "not-validated-for-this-patient"
    assert not PREGNANCY_WORDS.search(again.text)
    # Her card is hers: she still sees it whole.
    mine = await client.get(f"/citizen/v1/me/pregnancies/{card['id']}", headers=woman.headers)
    assert mine.status_code == 200


async def test_alerts_raised_under_the_consent_return_when_she_consents_again_clinical_v1_1(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    """CLINICAL.md v1.1: the alert's visibility follows her consent as it stands, both ways."""
    t = await team(client, app)
    await create_card(client, t.midwife, t.woman.patient_id, weeks=30)
    await client.post("/citizen/v1/me/measurements", json={"items": [bp_item(150, 95)]}, headers=t.woman.headers)

    async def kinds() -> list[str]:
        items = (await client.get("/clinician/v1/alerts", headers=t.gp.headers)).json()["items"]
        return [item["kind"] for item in items if item["patientId"] == str(t.woman.patient_id)]

    assert await kinds() == ["pregnancy-blood-pressure"]
    await client.delete("/citizen/v1/me/consents/pregnancy-card", headers=t.woman.headers)
    assert await kinds() == []
    await client.put("/citizen/v1/me/consents/pregnancy-card", headers=t.woman.headers)
    assert await kinds() == ["pregnancy-blood-pressure"]
