"""Prescribing rights by HPR authorization: LE changes everything, JO only entries in the midwives' ATC list, others read."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.medications.prescribing import DEFAULT_JO_ATC_PREFIXES, jo_prefixes, rights_of
from backend.settings import Settings, SettingsError, load_settings
from tests.medications.factories import entry, patient_with_gp, put, read, related_clinician, stopped, write

IN_LIST = ("Folsyre", "B03BB01")  # folic acid: a midwife may prescribe it
OUT_OF_LIST = ("Levaxin", "H03AA01")  # levothyroxine: a doctor's decision


@pytest.mark.parametrize(
    ("authorization", "medicine", "status"),
    [
        ("LE", IN_LIST, 200),
        ("LE", OUT_OF_LIST, 200),
        ("JO", IN_LIST, 200),
        ("JO", OUT_OF_LIST, 403),
        ("SP", IN_LIST, 403),
        ("SP", OUT_OF_LIST, 403),
    ],
)
async def test_who_may_add_which_entry(
    client: httpx.AsyncClient,
    app: Litestar,
    db: asyncpg.Connection,
    authorization: str,
    medicine: tuple[str, str],
    status: int,
) -> None:
    patient = await patient_with_gp(client, app)
    clinician = await related_clinician(client, app, patient, org_kind="helsestasjon", authorization=authorization)
    base = await write(client, patient.gp, patient.id, [entry("Paracet", "N02BE01")], 0)
    response = await put(client, clinician, patient.id, [*base["entries"], entry(*medicine)], 1)
    assert response.status_code == status, response.text
    version = await db.fetchval("SELECT version FROM medication_list WHERE patient_id = $1", patient.id)
    assert version == (2 if status == 200 else 1)
    # Everyone related may read.
    assert (await read(client, clinician, patient.id)).json()["version"] == version


@pytest.mark.parametrize(
    ("medicine", "status"),
    [(IN_LIST, 200), (OUT_OF_LIST, 403)],
)
async def test_a_midwife_may_stop_or_change_only_entries_in_her_list(
    client: httpx.AsyncClient, app: Litestar, medicine: tuple[str, str], status: int
) -> None:
    patient = await patient_with_gp(client, app)
    midwife = await related_clinician(client, app, patient, org_kind="helsestasjon", authorization="JO")
    target = entry(*medicine, started_at="2026-01-01")
    await write(client, patient.gp, patient.id, [target], 0)
    response = await put(client, midwife, patient.id, [stopped(target, "2026-11-01", "Ikke lenger aktuelt")], 1)
    assert response.status_code == status, response.text
    changed = await put(client, midwife, patient.id, [{**target, "dosage": "2 daglig"}], 2 if status == 200 else 1)
    assert changed.status_code == status


async def test_a_midwife_sends_back_doctors_entries_untouched_while_adding_her_own(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    patient = await patient_with_gp(client, app)
    midwife = await related_clinician(client, app, patient, org_kind="helsestasjon", authorization="JO")
    base = await write(client, patient.gp, patient.id, [entry(*OUT_OF_LIST)], 0)
    body = await write(client, midwife, patient.id, [*base["entries"], entry("Duroferon", "B03AA07")], 1)
    assert sorted(item["name"] for item in body["entries"]) == ["Duroferon", "Levaxin"]


async def test_a_midwife_may_not_turn_a_doctors_entry_into_one_of_hers(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    patient = await patient_with_gp(client, app)
    midwife = await related_clinician(client, app, patient, org_kind="helsestasjon", authorization="JO")
    base = await write(client, patient.gp, patient.id, [entry(*OUT_OF_LIST)], 0)
    disguised = [{**base["entries"][0], "atc": "B03AA07"}]
    response = await put(client, midwife, patient.id, disguised, 1)
    assert response.status_code == 403
    assert response.json()["entryIds"] == [base["entries"][0]["id"]]


async def test_a_nurse_gets_403_even_for_an_unchanged_list(client: httpx.AsyncClient, app: Litestar) -> None:
    patient = await patient_with_gp(client, app)
    nurse = await related_clinician(client, app, patient, org_kind="hjemmetjeneste", authorization="SP")
    response = await put(client, nurse, patient.id, [], 0)
    assert response.status_code == 403


def test_rights_follow_the_hpr_authorization() -> None:
    assert [rights_of(code) for code in ("LE", "JO", "SP", "TA")] == ["all", "listed", "none", "none"]


def test_the_midwives_list_is_configurable() -> None:
    assert jo_prefixes(Settings()) == DEFAULT_JO_ATC_PREFIXES
    settings = load_settings({"HELSEKORT_JO_ATC_PREFIXES": "J07AJ52, B03A ,G03AA07"})
    assert jo_prefixes(settings) == ("J07AJ52", "B03A", "G03AA07")
    assert load_settings({"HELSEKORT_JO_ATC_PREFIXES": ""}).jo_atc_prefixes is None


@pytest.mark.parametrize("value", ["j07", "X01", "J7", "J07AB0"])
def test_a_malformed_midwives_list_refuses_to_start(value: str) -> None:
    with pytest.raises(SettingsError, match="HELSEKORT_JO_ATC_PREFIXES"):
        load_settings({"HELSEKORT_JO_ATC_PREFIXES": value})
