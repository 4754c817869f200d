"""The midwives' (JO) list follows their right to prescribe (rekvireringsrett; CLINICAL.md v1.1 "Midwives' list").

Sources: forskrift om rekvirering og utlevering av legemidler fra apotek § 2-5, carried on in § 7-1 of forskrift om
rekvirering og utlevering av legemidler m.m.; Helsedirektoratet's circular of 2016 (contraceptives, G02B and G03A);
the 2024 amendment for the vaccines recommended in pregnancy; Helsedirektoratet 2016 on RhD prophylaxis (anti-D).
"""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.medications.atc import atc_level, within
from backend.medications.prescribing import DEFAULT_JO_ATC_PREFIXES, DEFAULT_JO_LIST
from backend.settings import SettingsError, load_settings
from tests.medications.factories import entry, patient_with_gp, put, related_clinician

MAY_ADD = [
    pytest.param("Microgynon", "G03AA07", "prescription", id="§ 7-1, circular 2016: combined pill"),
    pytest.param("Nexplanon", "G03AC08", "prescription", id="§ 7-1, circular 2016: contraceptive implant"),
    pytest.param("Mirena", "G02BA03", "prescription", id="§ 7-1, circular 2016: hormonal IUD"),
    pytest.param("Boostrix", "J07AJ52", "prescription", id="§ 7-1 (2024): pertussis vaccine in pregnancy"),
    pytest.param("Boostrix Polio", "J07CA02", "prescription", id="§ 7-1 (2024): pertussis vaccine dTap-IPV"),
    pytest.param("Influvac Tetra", "J07BB02", "prescription", id="§ 7-1 (2024): inactivated influenza vaccine"),
    pytest.param("Folsyre", "B03BB01", "non-prescription", id="antenatal care guideline: folic acid"),
    pytest.param("Duroferon", "B03AA07", "non-prescription", id="antenatal care guideline: oral iron"),
    pytest.param("Nycoplus D-vitamin", "A11CC05", "supplement", id="antenatal care guideline: vitamin D"),
]

MAY_NOT_ADD = [
    pytest.param("Rhophylac", "J06BB01", id="Helsedirektoratet 2016: anti-D (RhD prophylaxis) is a doctor's"),
    pytest.param("Afipran", "A03FA01", id="outside § 7-1: metoclopramide"),
    pytest.param("Stamaril", "J07BL01", id="outside § 7-1: yellow fever vaccine is no pregnancy vaccine"),
    pytest.param("Rabipur", "J07BG01", id="outside § 7-1: rabies vaccine is no pregnancy vaccine"),
    pytest.param("Fluenz", "J07BB03", id="outside § 7-1: live influenza vaccine, not in pregnancy"),
    pytest.param("Ferinject", "B03AC", id="outside § 7-1: parenteral iron is a doctor's"),
]


@pytest.mark.parametrize(("name", "atc", "kind"), MAY_ADD)
async def test_a_midwife_may_add_what_her_rekvireringsrett_and_antenatal_care_cover(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, name: str, atc: str, kind: str
) -> None:
    """Rekvireringsrett § 2-5 / § 7-1: contraception and pregnancy vaccines; antenatal care: folate, iron, vitamin D."""
    patient = await patient_with_gp(client, app)
    midwife = await related_clinician(client, app, patient, org_kind="helsestasjon", authorization="JO")

    response = await put(client, midwife, patient.id, [entry(name, atc, kind=kind)], 0)

    assert response.status_code == 200, response.text
    assert [item["atc"] for item in response.json()["entries"]] == [atc]
    assert await db.fetchval("SELECT version FROM medication_list WHERE patient_id = $1", patient.id) == 1


@pytest.mark.parametrize(("name", "atc"), MAY_NOT_ADD)
async def test_a_midwife_may_not_add_what_lies_outside_her_rekvireringsrett(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, name: str, atc: str
) -> None:
    """Rekvireringsrett § 2-5 / § 7-1 does not cover anti-D (Helsedirektoratet 2016), metoclopramide or travel vaccines."""
    patient = await patient_with_gp(client, app)
    midwife = await related_clinician(client, app, patient, org_kind="helsestasjon", authorization="JO")

    response = await put(client, midwife, patient.id, [entry(name, atc)], 0)

    assert response.status_code == 403, response.text
    assert await db.fetchval("SELECT count(*) FROM medication_list WHERE patient_id = $1", patient.id) == 0
    # The doctor may (LE: everything).
    assert (await put(client, patient.gp, patient.id, [entry(name, atc)], 0)).status_code == 200


def test_every_default_names_its_source_and_no_whole_main_or_therapeutic_group() -> None:
    """CLINICAL.md v1.1: state the source of each default; never admit a whole group such as J07."""
    for listed in DEFAULT_JO_LIST:
        assert listed.source.strip(), listed
        assert listed.what.strip(), listed
        assert atc_level(listed.atc) >= 3, listed
    for outside in ("J06BB01", "A03FA01", "J07BL01", "J07BG01", "J07BB03", "B03AC01", "J07CA09"):
        assert not within(outside, DEFAULT_JO_ATC_PREFIXES), outside


@pytest.mark.parametrize("value", ["J07", "J", "A11", "G03A,B03"])
def test_a_configured_whole_atc_group_refuses_to_start(value: str) -> None:
    """A level 1 or 2 group (all of J07: yellow fever, rabies) always holds medicines outside the rekvireringsrett."""
    with pytest.raises(SettingsError, match=r"HELSEKORT_JO_ATC_PREFIXES.*outside a midwife's right"):
        load_settings({"HELSEKORT_JO_ATC_PREFIXES": value})
