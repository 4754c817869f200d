"""Conditional reads of the citizen's whole resources (core/conditional.py): the card, the medication list and the
lab results answer 304 while her copy is current, 200 with a new ETag once anything shown changed, and a validator
is never another caller's, another patient's or someone else's acting for her."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from litestar import Litestar

from backend.core.clock import frozen_at
from tests.factories import Citizen, new_citizen, new_clinician, relate
from tests.labs.reports import lab_report, posted
from tests.medications.factories import entry, patient_with_gp, put
from tests.pregnancy.cards import add_consultation, create_card, team
from tests.representation.helpers import acting, audit_rows, give_power, person_aged

CARDS = "/citizen/v1/me/pregnancies"
MEDICATIONS = "/citizen/v1/me/medications"
LAB_RESULTS = "/citizen/v1/me/lab-results"


async def _read(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], tag: str | None = None
) -> httpx.Response:
    sent = dict(headers) if tag is None else {**headers, "If-None-Match": tag}
    return await client.get(path, headers=sent)


async def _etag(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> str:
    response = await _read(client, path, headers)
    assert response.status_code == 200, response.text
    tag = response.headers["ETag"]
    assert len(tag) > 2
    assert tag[0] == tag[-1] == '"'
    return tag


async def _not_modified(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], tag: str, sent: str | None = None
) -> None:
    response = await _read(client, path, headers, sent or tag)
    assert response.status_code == 304, response.text
    assert response.content == b""
    assert response.headers["ETag"] == tag
    assert response.headers["Cache-Control"] == "no-store"


async def _changed(client: httpx.AsyncClient, path: str, headers: dict[str, str], tag: str) -> str:
    response = await _read(client, path, headers, tag)
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] != tag
    return response.headers["ETag"]


async def test_the_card_is_304_while_unchanged_and_200_after_her_note_or_a_midwifes_entry(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    world = await team(client, app)
    card = await create_card(client, world.midwife, world.woman.patient_id)
    path = f"{CARDS}/{card['id']}"
    tag = await _etag(client, path, world.woman.headers)
    await _not_modified(client, path, world.woman.headers, tag)
    await _not_modified(client, path, world.woman.headers, tag, f'"something-else", W/{tag}')

    note = await client.post(f"{path}/notes", json={"text": "Kvalm om morgenen"}, headers=world.woman.headers)
    assert note.status_code == 201, note.text
    after_note = await _changed(client, path, world.woman.headers, tag)
    await _not_modified(client, path, world.woman.headers, after_note)

    await add_consultation(client, world.midwife, world.woman.patient_id, card["id"])
    fresh = await _read(client, path, world.woman.headers, after_note)
    assert fresh.status_code == 200
    assert fresh.headers["ETag"] != after_note
    assert len(fresh.json()["consultations"]) == 1


async def test_the_medication_list_is_304_until_her_gp_writes_it(client: httpx.AsyncClient, app: Litestar) -> None:
    patient = await patient_with_gp(client, app)
    tag = await _etag(client, MEDICATIONS, patient.citizen.headers)
    await _not_modified(client, MEDICATIONS, patient.citizen.headers, tag)

    written = await put(client, patient.gp, patient.id, [entry()], 0)
    assert written.status_code == 200, written.text
    fresh = await _read(client, MEDICATIONS, patient.citizen.headers, tag)
    assert fresh.status_code == 200
    assert fresh.headers["ETag"] != tag
    assert [item["name"] for item in fresh.json()["entries"]] == ["Levaxin"]


async def test_lab_results_change_their_etag_when_a_release_time_passes_and_not_before(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    arrived = datetime.now(UTC).replace(microsecond=0)
    with frozen_at(arrived):
        tag = await _etag(client, LAB_RESULTS, citizen.headers)
        # A result within its release window, and one the requester holds, are not hers yet: her copy stays current.
        await posted(client, gp, citizen.patient_id, lab_report(issued_at=arrived))
        held = await posted(client, gp, citizen.patient_id, lab_report(issued_at=arrived))
        hold = await client.post(
            f"/clinician/v1/patients/{citizen.patient_id}/lab-reports/{held}/hold", headers=gp.headers
        )
        assert hold.status_code == 200, hold.text
        await _not_modified(client, LAB_RESULTS, citizen.headers, tag)
    due = await db.fetchval(
        "SELECT min(release_due_at) FROM lab_report WHERE patient_id = $1 AND NOT held", citizen.patient_id
    )
    assert due is not None
    with frozen_at(due - timedelta(seconds=1)):
        await _not_modified(client, LAB_RESULTS, citizen.headers, tag)
    with frozen_at(due + timedelta(seconds=1)):
        fresh = await _read(client, LAB_RESULTS, citizen.headers, tag)
        assert fresh.status_code == 200
        assert fresh.headers["ETag"] != tag
        assert len(fresh.json()["items"]) == 1
        await _not_modified(client, LAB_RESULTS, citizen.headers, fresh.headers["ETag"])
        # Another page of the same list is another answer.
        assert await _etag(client, f"{LAB_RESULTS}?limit=1", citizen.headers) != fresh.headers["ETag"]


async def test_a_validator_never_matches_another_patients_resource(client: httpx.AsyncClient, app: Litestar) -> None:
    mine, theirs = await new_citizen(client, app), await new_citizen(client, app)
    for path in (MEDICATIONS, LAB_RESULTS):
        # Both empty, in the same state: still two validators, and mine gets her a 200, never a 304.
        tag = await _etag(client, path, mine.headers)
        response = await _read(client, path, theirs.headers, tag)
        assert response.status_code == 200
        assert response.headers["ETag"] != tag
        # `*` is not taken: whether there is a resource at all is the handler's answer.
        assert (await _read(client, path, theirs.headers, "*")).status_code == 200


async def test_someone_acting_for_her_has_her_own_validator_and_every_read_is_audited_once(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    grantor: Citizen = await person_aged(client, app, 40)
    attorney: Citizen = await person_aged(client, app, 45)
    power = await give_power(client, grantor, attorney, ["medications"])
    own_tag = await _etag(client, MEDICATIONS, grantor.headers)
    before = len(await audit_rows(db, grantor.patient_id))

    their_tag = await _etag(client, MEDICATIONS, acting(attorney, grantor))
    assert their_tag != own_tag
    assert (await _read(client, MEDICATIONS, acting(attorney, grantor), own_tag)).status_code == 200
    await _not_modified(client, MEDICATIONS, acting(attorney, grantor), their_tag)
    rows = (await audit_rows(db, grantor.patient_id))[before:]
    assert [(row["basis"], row["action"]) for row in rows] == [("representative", "read")] * 3

    # Out of scope (no `lab-results`): 404 whatever validator is sent.
    assert (await _read(client, LAB_RESULTS, acting(attorney, grantor), their_tag)).status_code == 404
    # Revoked: her validator no longer opens anything.
    revoked = await client.delete(f"/citizen/v1/me/representatives/{power}", headers=grantor.headers)
    assert revoked.status_code in (200, 204), revoked.text
    assert (await _read(client, MEDICATIONS, acting(attorney, grantor), their_tag)).status_code == 404
    assert (await _read(client, MEDICATIONS, acting(attorney, uuid.uuid4()), their_tag)).status_code == 404


async def test_a_change_committed_by_another_process_reaches_this_one(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    """Another API process or the worker appends her event: this process learns it from the commit's NOTIFY."""
    patient = await patient_with_gp(client, app)
    tag = await _etag(client, MEDICATIONS, patient.citizen.headers)
    await _not_modified(client, MEDICATIONS, patient.citizen.headers, tag)  # now kept in this process
    async with db.transaction():
        await db.execute(
            """
            WITH next AS (UPDATE patient SET event_seq = event_seq + 1 WHERE id = $1 RETURNING event_seq)
            INSERT INTO event (patient_id, seq, type, resource_type, resource_id, at, available_at, attempts,
                               citizen_visible)
            SELECT $1, next.event_seq, 'medications.updated', 'medication-list', 'x', now(), now(), 0, true FROM next
            """,
            patient.id,
        )
        await db.execute("SELECT pg_notify('helsekort_patient_changed', $1::text)", str(patient.id))
    for _ in range(100):
        response = await _read(client, MEDICATIONS, patient.citizen.headers, tag)
        if response.status_code == 200:
            break
        await asyncio.sleep(0.02)
    assert response.status_code == 200
    assert response.headers["ETag"] != tag


async def test_a_card_that_is_not_hers_is_404_whatever_validator_is_sent(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    world = await team(client, app)
    other = await team(client, app)
    card = await create_card(client, world.midwife, world.woman.patient_id)
    theirs = await create_card(client, other.midwife, other.woman.patient_id)
    tag = await _etag(client, f"{CARDS}/{card['id']}", world.woman.headers)
    for sent in (tag, "*"):
        assert (await _read(client, f"{CARDS}/{theirs['id']}", world.woman.headers, sent)).status_code == 404
        assert (await _read(client, f"{CARDS}/{uuid.uuid4()}", world.woman.headers, sent)).status_code == 404
