"""The drug catalogue (FEST): loading a file whole or not at all, and the pregnancy warning on a prescription, shown
only to a clinician who may see that she is pregnant."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.medications.catalogue import SAMPLE, CatalogueFileError, load_catalogue, read_catalogue
from backend.settings import Settings
from tests.medications.factories import (
    dispense,
    entry,
    pharmacy,
    prescribed,
    prescriptions_url,
    stopped,
    write,
)
from tests.pregnancy.cards import create_card, team

ROOT = Path(__file__).resolve().parents[2]


async def test_the_sample_loads_and_a_bad_file_changes_nothing(db: asyncpg.Connection, tmp_path: Path) -> None:
    summary = await load_catalogue(SAMPLE)
    rows = await db.fetchval("SELECT count(*) FROM drug_catalogue")
    assert f"{rows} rows" in summary
    assert rows == len(read_catalogue(SAMPLE).items)
    bad = tmp_path / "bad.json"
    for content in (
        "not json",
        json.dumps({"source": "x", "items": [{"atc": "Q99", "name": "Nothing"}]}),
        json.dumps({"source": "x", "items": [{"atc": "C09AA", "name": "A"}, {"atc": "C09AA", "name": "B"}]}),
        json.dumps({"source": "x", "items": [{"atc": "C09AA", "name": "A", "colour": "red"}]}),
    ):
        bad.write_text(content)
        with pytest.raises(CatalogueFileError):
            await load_catalogue(bad)
    assert await db.fetchval("SELECT count(*) FROM drug_catalogue") == rows


def test_the_command_loads_the_sample(settings: Settings, tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": settings.database_url or "", "HELSEKORT_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "backend", "catalogue", "load", "sample"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "drug catalogue:" in result.stdout


async def test_a_pregnancy_warning_reaches_only_who_may_see_the_pregnancy(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    await load_catalogue(SAMPLE)
    t = await team(client, app)
    await create_card(client, t.midwife, t.woman.patient_id)
    ramipril, levaxin = entry("Ramipril", "C09AA05", strength="5 mg"), entry()
    await write(client, t.gp, t.woman.patient_id, [ramipril, levaxin], 0)

    made = await prescribed(client, t.gp, t.woman.patient_id, ramipril["id"])
    [warning] = made["warnings"]
    assert (warning["code"], warning["atc"]) == ("pregnancy", "C09AA")
    assert (await prescribed(client, t.gp, t.woman.patient_id, levaxin["id"]))["warnings"] == []
    listed = await client.get(prescriptions_url(t.woman.patient_id), headers=t.gp.headers)
    assert {p["medication"]["atc"]: len(p["warnings"]) for p in listed.json()["items"]} == {"C09AA05": 1, "H03AA01": 0}

    # Neither she nor a pharmacy gets it; nor the GP once she withdraws her consent to the card.
    mine = await client.get("/citizen/v1/me/prescriptions", headers=t.woman.headers)
    assert all(p["warnings"] == [] for p in mine.json()["items"])
    chemist = pharmacy(app)
    at_pharmacy = await client.get(prescriptions_url(t.woman.patient_id), headers=chemist.headers)
    assert all(p["warnings"] == [] for p in at_pharmacy.json()["items"])
    assert (await dispense(client, chemist, t.woman.patient_id, made["id"])).status_code == 201
    withdrawn = await client.delete("/citizen/v1/me/consents/pregnancy-card", headers=t.woman.headers)
    assert withdrawn.status_code == 204, withdrawn.text
    hidden = await client.get(prescriptions_url(t.woman.patient_id), headers=t.gp.headers)
    assert all(p["warnings"] == [] for p in hidden.json()["items"])


async def test_no_warning_without_an_ongoing_pregnancy(client: httpx.AsyncClient, app: Litestar) -> None:
    await load_catalogue(SAMPLE)
    t = await team(client, app)
    ramipril = entry("Ramipril", "C09AA05", strength="5 mg")
    await write(client, t.gp, t.woman.patient_id, [ramipril], 0)
    assert (await prescribed(client, t.gp, t.woman.patient_id, ramipril["id"]))["warnings"] == []


async def test_an_interaction_with_another_current_entry_is_flagged_to_clinicians(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    await load_catalogue(SAMPLE)
    t = await team(client, app, with_consent=False)
    warfarin = entry("Marevan", "B01AA03", strength="2,5 mg")
    ibux = entry("Ibux", "M01AE01", strength="400 mg")
    old_aspirin = stopped(entry("Albyl-E", "B01AC06", strength="75 mg", started_at="2025-01-01"), "2025-06-01")
    await write(client, t.gp, t.woman.patient_id, [warfarin, ibux, old_aspirin], 0)

    made = await prescribed(client, t.gp, t.woman.patient_id, ibux["id"])
    # Warfarin is current: flagged (the catalogue names the pair from both sides, told once); the stopped
    # aspirin is not; and without an ongoing pregnancy there is no pregnancy warning.
    assert [(w["code"], w["atc"]) for w in made["warnings"]] == [("interaction", "B01AA03")]
    mine = await client.get("/citizen/v1/me/prescriptions", headers=t.woman.headers)
    assert mine.json()["items"][0]["warnings"] == []
    at_pharmacy = await client.get(prescriptions_url(t.woman.patient_id), headers=pharmacy(app).headers)
    assert at_pharmacy.json()["items"][0]["warnings"] == []
