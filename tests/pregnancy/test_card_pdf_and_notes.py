"""The woman's own side of the card: her notes, and the printable PDF she brings to the birth ward."""

from __future__ import annotations

import io
import time

import asyncpg
import httpx
import pypdf
from litestar import Litestar

from tests.pregnancy.cards import add_consultation, card_path, create_card, lmp_for_week, on_week, team, today


async def test_the_pdf_downloads_and_reads_back_as_three_norwegian_pages_with_curves(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    t = await team(client, app)
    card = await create_card(
        client, t.midwife, t.woman.patient_id, weeks=30, bloodType="A", rhd="negative", gravida=2, para=1,
        allergies="Penicillin", plannedPlaceOfBirth="Haukeland universitetssjukehus", heightCm=165,
        prePregnancyWeightKg=60, midwife={"name": "Kari Jordmor", "phone": "+47 55 00 00 00"},
        illnesses=[{"name": "Hypotyreose", "needsExtraFollowUp": True}],
        earlierPregnancies=[{"year": 2022, "kind": "birth", "week": 41, "birthWeightG": 3720, "mode": "caesarean"}],
    )  # fmt: skip
    lmp = lmp_for_week(30)
    for week in (8, 12, 16, 20, 24, 28):
        await add_consultation(
            client, t.midwife if week < 24 else t.gp, t.woman.patient_id, card["id"],
            date=on_week(lmp, week, 1).isoformat(), weightKg=62 + week * 0.4, systolic=110 + week // 2,
            diastolic=70 + week // 4, urineProtein="neg", sfCm=float(week - 1) if week >= 24 else None,
            presentation="cephalic" if week >= 28 else None, note=f"Uke {week}: føler seg bra",
        )  # fmt: skip
    await client.post(
        f"{card_path(t.woman.patient_id, card['id'])}/vaccines",
        json={"vaccine": "whooping-cough", "givenOn": on_week(lmp, 24, 1).isoformat()},
        headers=t.midwife.headers,
    )

    started = time.perf_counter()
    response = await client.get(f"/citizen/v1/me/pregnancies/{card['id']}/card.pdf", headers=t.woman.headers)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert "attachment" in response.headers["content-disposition"]
    assert response.headers["cache-control"] == "no-store"
    assert elapsed < 1.0

    reader = pypdf.PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 3
    first, second, third = (page.extract_text() for page in reader.pages)
    for label in ("Helsekort for gravide", "Termin", "Svangerskapsuke i dag", "30+0", "A RhD negativ", "G2 P1",
                  "Tidligere svangerskap", "keisersnitt", "Vaksiner", "Kikhoste", "Neste konsultasjon",
                  "CAVE / allergier", "Penicillin", "Planlagt fødested", "Haukeland", "KMI 22",
                  "Hypotyreose (trenger ekstra oppfølging)", "+47 55 00 00 00"):  # fmt: skip
        assert label in first, label
    for label in ("Konsultasjoner", "Vekt", "Blodtrykk", "Signatur", "jordmor", "lege", "hode", t.gp.hpr):
        assert label in second, label
    assert "Uke 8: føler seg bra" in " ".join(second.split())
    for label in ("Kurver", "Symfyse-fundusmål", "Vekt", "Blodtrykk", "Systolisk", "Diastolisk"):
        assert label in third, label
    assert "Ingen målinger ennå" not in third
    metadata = reader.metadata
    assert metadata is not None
    assert metadata.title == "Helsekort for gravide"
    assert str(t.woman.patient_id) not in " ".join(str(value) for value in metadata.values())


async def test_another_womans_card_pdf_is_not_found(client: httpx.AsyncClient, app: Litestar) -> None:
    t = await team(client, app)
    other = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id)
    response = await client.get(f"/citizen/v1/me/pregnancies/{card['id']}/card.pdf", headers=other.woman.headers)
    assert response.status_code == 404
    assert not response.content.startswith(b"%PDF")


async def test_the_womans_notes_are_on_her_card_for_her_midwife_too(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id)
    path = f"/citizen/v1/me/pregnancies/{card['id']}/notes"
    created = await client.post(
        path, json={"kind": "symptom", "text": "  Hovne ankler om kvelden  "}, headers=t.woman.headers
    )
    assert created.status_code == 201, created.text
    assert created.json()["text"] == "Hovne ankler om kvelden"
    assert created.json()["kind"] == "symptom"
    seen = (await client.get(card_path(t.woman.patient_id, card["id"]), headers=t.midwife.headers)).json()
    assert [(n["kind"], n["text"]) for n in seen["notes"]] == [("symptom", "Hovne ankler om kvelden")]

    for body, field in (
        ({"text": "   "}, "text"),
        ({"text": ""}, "text"),
        ({"kind": "diagnosis", "text": "x"}, "kind"),
        ({"text": "x" * 2001}, "text"),
    ):
        response = await client.post(path, json=body, headers=t.woman.headers)
        assert response.status_code == 400, response.text
        assert field in response.json()["detail"] or field in {e["field"] for e in response.json()["errors"]}
    assert await db.fetchval("SELECT count(*) FROM pregnancy_note WHERE card = $1", card["id"]) == 1


async def test_every_write_appends_an_event_without_health_data(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=20)
    path = card_path(t.woman.patient_id, card["id"])
    await add_consultation(client, t.gp, t.woman.patient_id, card["id"], systolic=150, diastolic=95)
    await client.post(f"{path}/ultrasounds", json={"date": today().isoformat(), "kind": "routine"},
                      headers=t.gp.headers)  # fmt: skip
    await client.patch(path, json={"rhd": "negative"}, headers={**t.gp.headers, "If-Match": '"1"'})
    await client.post(f"/citizen/v1/me/pregnancies/{card['id']}/notes", json={"text": "Hodepine"},
                      headers=t.woman.headers)  # fmt: skip
    rows = await db.fetch(
        "SELECT type, resource_type, resource_id FROM event WHERE patient_id = $1 AND type LIKE 'pregnancy.%' ORDER BY seq",
        t.woman.patient_id,
    )
    assert [row["type"] for row in rows] == [
        "pregnancy.card.created",
        "pregnancy.consultation.added",
        "pregnancy.ultrasound.added",
        "pregnancy.card.updated",
        "pregnancy.note.added",
    ]
    assert {(row["resource_type"], row["resource_id"]) for row in rows} == {("pregnancy-card", card["id"])}


async def test_every_clinician_read_and_write_of_the_card_is_in_the_womans_access_log(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id)
    await client.get(card_path(t.woman.patient_id, card["id"]), headers=t.gp.headers)
    log = (await client.get("/citizen/v1/me/access-log", headers=t.woman.headers)).json()["items"]
    pregnancy = [(e["hpr"], e["action"], e["basis"]) for e in log if e["resourceType"] == "pregnancy"]
    assert (t.gp.hpr, "read", "care-relation") in pregnancy
    assert (t.midwife.hpr, "write", "care-relation") in pregnancy


async def test_a_repeated_download_is_the_same_document_and_a_new_entry_gives_a_new_one(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=24)
    url = f"/citizen/v1/me/pregnancies/{card['id']}/card.pdf"
    first = await client.get(url, headers=t.woman.headers)
    again = await client.get(url, headers=t.woman.headers)
    assert first.content == again.content
    await add_consultation(client, t.midwife, t.woman.patient_id, card["id"], weightKg=77.7, note="Ny rad")
    changed = await client.get(url, headers=t.woman.headers)
    assert changed.content != first.content
    assert "77,7" in pypdf.PdfReader(io.BytesIO(changed.content)).pages[1].extract_text()


async def test_the_pdf_is_sent_as_it_is_rendered_even_to_a_client_that_accepts_brotli(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    """Its streams are compressed already; compressing it again costs CPU on every download for a few per cent."""
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=20)
    url = f"/citizen/v1/me/pregnancies/{card['id']}/card.pdf"
    response = await client.get(url, headers={**t.woman.headers, "Accept-Encoding": "br, gzip"})
    assert response.status_code == 200, response.text
    assert "content-encoding" not in response.headers
    assert response.content.startswith(b"%PDF")
    # The card's JSON is still compressed for such a client.
    as_json = await client.get(
        f"/citizen/v1/me/pregnancies/{card['id']}", headers={**t.woman.headers, "Accept-Encoding": "br"}
    )
    assert as_json.headers["content-encoding"] == "br"
