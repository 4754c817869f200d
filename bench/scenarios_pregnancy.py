"""Pregnancy card (issue 4): the woman reads her whole card, and downloads it as a PDF."""

from __future__ import annotations

from datetime import timedelta

from backend.core.clock import oslo_now
from backend.dev.tokens import citizen_claims, clinician_claims, load_dev_signing_key, mint
from backend.settings import Settings
from bench.scenarios import BenchContext, Prepared, Scenario
from bench.scenarios_access import _synthetic_numbers

# A full card: the basic programme up to week 38.
WEEKS = (8, 12, 16, 20, 24, 26, 28, 30, 32, 34, 36, 37, 38)


async def _woman_with_a_full_card(context: BenchContext) -> tuple[dict[str, str], str]:
    key = load_dev_signing_key(Settings(data_dir=context.data_dir))
    # Not one of the access scenarios' numbers: this woman is pregnant in every run.
    number = _synthetic_numbers(260)[-1]
    # A Sámi name from the login: the PDF prints it in the embedded font (issue 14).
    claims = {**citizen_claims(number), "name": "Áŋŋá Čáhppe"}
    woman = {"Authorization": f"Bearer {mint(key, 'citizen', claims, expires_in=3600)}"}
    me = await context.http.get("/citizen/v1/me", headers=woman)
    me.raise_for_status()
    patient_id = me.json()["patientId"]
    (await context.http.put("/citizen/v1/me/consents/pregnancy-card", headers=woman)).raise_for_status()
    listing = await context.http.get("/citizen/v1/me/pregnancies", headers=woman)
    listing.raise_for_status()
    if listing.json()["items"]:
        return woman, listing.json()["items"][0]["id"]
    claims = clinician_claims(
        hpr="8800044", pid=number, authorization="JO", org="970000044", org_kind="helsestasjon", name="Jordmor Bench"
    )
    midwife = {"Authorization": f"Bearer {mint(key, 'clinician', claims, expires_in=3600)}"}
    lmp = oslo_now().date() - timedelta(weeks=39)
    created = await context.http.post(
        f"/clinician/v1/patients/{patient_id}/pregnancies",
        json={
            "lastMenstrualPeriod": lmp.isoformat(),
            "bloodType": "0",
            "rhd": "positive",
            "gravida": 1,
            "para": 0,
            "illnesses": [{"name": "Hypotyreose", "needsExtraFollowUp": True}],
            "lifestyle": {"folate": True, "tobacco": "never", "snus": "stopped", "alcohol": "stopped"},
            "allergies": "Penicillin",
        },
        headers=midwife,
    )
    created.raise_for_status()
    card_id = created.json()["id"]
    # The first-trimester tests (issue 14: the fuller card is the one measured).
    for test in (
        {"test": "hb", "value": 12.8},
        {"test": "ferritin", "value": 42},
        {"test": "hepatitis-b", "result": "negative"},
        {"test": "hiv", "result": "negative"},
        {"test": "syphilis", "result": "negative"},
    ):
        response = await context.http.post(
            f"/clinician/v1/patients/{patient_id}/pregnancies/{card_id}/tests",
            json={**test, "takenOn": (lmp + timedelta(weeks=8, days=1)).isoformat()},
            headers=midwife,
        )
        response.raise_for_status()
    for week in WEEKS:
        response = await context.http.post(
            f"/clinician/v1/patients/{patient_id}/pregnancies/{card_id}/consultations",
            json={
                "date": (lmp + timedelta(weeks=week, days=1)).isoformat(),
                "weightKg": 62 + week * 0.4,
                "systolic": 110 + week // 2,
                "diastolic": 70 + week // 4,
                "urineProtein": "neg",
                "urineGlucose": "neg",
                "sfCm": float(week - 1) if week >= 24 else None,
                "note": f"Uke {week}: alt fint",
            },
            headers=midwife,
        )
        response.raise_for_status()
    return woman, card_id


async def _card(context: BenchContext) -> Prepared:
    headers, card_id = await _woman_with_a_full_card(context)
    return Prepared(headers=headers, paths=[f"/citizen/v1/me/pregnancies/{card_id}"])


async def _pdf(context: BenchContext) -> Prepared:
    headers, card_id = await _woman_with_a_full_card(context)
    return Prepared(headers=headers, paths=[f"/citizen/v1/me/pregnancies/{card_id}/card.pdf"])


SCENARIOS: list[Scenario] = [
    Scenario(
        name="pregnancy-card",
        path="/citizen/v1/me/pregnancies/{id}",
        setup=_card,
        description="the woman's whole card (13 consultations, schedule, dating) assembled from 8 queries",
    ),
    Scenario(
        name="pregnancy-card-pdf",
        path="/citizen/v1/me/pregnancies/{id}/card.pdf",
        setup=_pdf,
        description="the printable card as a 3-page A4 PDF with tests, curves and an embedded font (reportlab in a thread)",
    ),
]
