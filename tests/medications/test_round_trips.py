"""The list's hot paths keep their statement counts (bench/ measures them): a read is one statement, the access
decision and the list (core.access.authorize_read), and a change is the read, the store that locks the list and
writes only at the version read, and its event. A kept list (core.access.authorize_cached_read) is the decision alone.
Each decision's audit row goes to the audit log's group commit (core.audit.append_row_durably): one INSERT more,
shared by the requests waiting together."""

from __future__ import annotations

import asyncpg
import httpx
from litestar import Litestar

from tests.factories import audit_rows, caching_live, decisions, new_clinician, split_audit
from tests.medications.factories import entry, list_url, patient_with_gp, put, read, write


async def test_a_read_is_one_statement_the_decision_and_the_list(
    client: httpx.AsyncClient, app: Litestar, statements: list[str]
) -> None:
    patient = await patient_with_gp(client, app)
    await write(client, patient.gp, patient.id, [entry(), entry("Paracet", "N02BE01")], 0)
    statements.clear()
    response = await client.get(list_url(patient.id), headers=patient.gp.headers)
    assert response.status_code == 200
    own, audited = split_audit(statements)
    assert (len(own), audited) == (1, 1), statements
    assert decisions(own)
    assert "FROM medication_list l" in own[0]


async def test_an_unchanged_write_is_the_decision_and_the_read(
    client: httpx.AsyncClient, app: Litestar, statements: list[str]
) -> None:
    patient = await patient_with_gp(client, app)
    body = await write(client, patient.gp, patient.id, [entry()], 0)
    statements.clear()
    response = await put(client, patient.gp, patient.id, body["entries"], 1)
    assert response.status_code == 200
    own, audited = split_audit(statements)
    assert (len(own), audited) == (2, 1), statements


async def test_a_change_is_decision_read_store_and_event(
    client: httpx.AsyncClient, app: Litestar, statements: list[str]
) -> None:
    patient = await patient_with_gp(client, app)
    body = await write(client, patient.gp, patient.id, [entry()], 0)
    statements.clear()
    changed = [{**body["entries"][0], "dosage": "2 tabletter daglig"}]
    response = await put(client, patient.gp, patient.id, changed, 1)
    assert response.status_code == 200, response.text
    own, audited = split_audit(statements)
    assert audited == 1, statements  # the decision's audit row
    assert [statement.split(" AS ")[0][:30] for statement in own] == [
        "WITH decision",  # the access decision
        "SELECT l.version, l.updated_at",  # the list as read
        "WITH locked",  # the lock (FOR UPDATE), and at the version read the new version, its entry rows and author
        "WITH next",  # the event in the same transaction
    ], statements


async def test_a_kept_list_is_the_decision_alone_with_its_audit_row_and_the_same_answer(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, statements: list[str]
) -> None:
    patient = await patient_with_gp(client, app)
    await write(client, patient.gp, patient.id, [entry(), entry("Paracet", "N02BE01")], 0)
    await caching_live()
    first = await read(client, patient.gp, patient.id)  # read with the decision, and kept
    before = await audit_rows(db, patient.gp)
    statements.clear()
    for _ in range(2):
        again = await read(client, patient.gp, patient.id)
        assert again.json() == first.json()
        assert again.headers["ETag"] == first.headers["ETag"]
    own, audited = split_audit(statements)
    assert (len(own), audited) == (2, 2), statements
    assert decisions(own), own
    assert not any("medication_list" in statement for statement in statements), statements
    allowed = {"action": "read", "resource_type": "medication-list", "refusal": None}
    after = (await audit_rows(db, patient.gp))[len(before) :]
    assert [{key: row[key] for key in allowed} for row in after] == [allowed] * 2
    assert all(row["basis"] not in ("denied", None) for row in after)


async def test_a_write_through_the_api_is_seen_by_the_next_read_of_a_kept_list(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    patient = await patient_with_gp(client, app)
    body = await write(client, patient.gp, patient.id, [entry()], 0)
    await caching_live()
    await read(client, patient.gp, patient.id)
    kept = await read(client, patient.gp, patient.id)
    assert kept.json()["entries"][0]["dosage"] == "1 tablett daglig"
    changed = [{**body["entries"][0], "dosage": "2 tabletter daglig"}]
    await write(client, patient.gp, patient.id, changed, 1)
    seen = await read(client, patient.gp, patient.id)
    assert seen.json()["version"] == 2
    assert seen.json()["entries"][0]["dosage"] == "2 tabletter daglig"


async def test_a_refused_read_of_a_kept_list_reads_nothing_and_leaves_its_denied_row(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, statements: list[str]
) -> None:
    patient = await patient_with_gp(client, app)
    await write(client, patient.gp, patient.id, [entry()], 0)
    await caching_live()
    await read(client, patient.gp, patient.id)
    await read(client, patient.gp, patient.id)  # kept now
    stranger = new_clinician(app, org_kind="fastlege", authorization="LE")
    lab = new_clinician(app, org_kind="laboratorium", authorization="SP")
    statements.clear()
    outside = await client.get(list_url(patient.id), headers=stranger.headers)
    assert outside.status_code == 404, outside.text
    assert "Levaxin" not in outside.text
    by_role = await client.get(list_url(patient.id), headers=lab.headers)
    assert by_role.status_code == 403, by_role.text
    assert "Levaxin" not in by_role.text
    assert not any("medication_list" in statement for statement in statements), statements
    denied = {"action": "read", "resource_type": "medication-list", "basis": "denied"}
    assert [{key: row[key] for key in denied} for row in await audit_rows(db, stranger)] == [denied]
    assert await audit_rows(db, lab) == [{**denied, "refusal": "role"}]
