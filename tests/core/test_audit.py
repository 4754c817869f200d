"""The audit log: every clinician decision recorded, visible to the citizen, and append-only in the database."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest
from litestar import Litestar

from tests.factories import new_citizen, new_clinician, relate


async def test_allowed_and_denied_reads_are_both_recorded(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app, name="Dr. Allowed")
    stranger = new_clinician(app, name="Dr. Stranger")
    await relate(client, gp, citizen.patient_id)
    path = f"/clinician/v1/patients/{citizen.patient_id}/care-relations"
    allowed = await client.get(path, headers={**gp.headers, "X-Request-ID": "audit-allowed-0001"})
    denied = await client.get(path, headers={**stranger.headers, "X-Request-ID": "audit-denied-0001"})
    assert (allowed.status_code, denied.status_code) == (200, 404)
    rows = await db.fetch(
        "SELECT hpr, name, basis, action, resource_type, request_id, org_number FROM audit_log "
        "WHERE patient_id = $1 AND action = 'read' ORDER BY id",
        citizen.patient_id,
    )
    assert [(row["hpr"], row["basis"], row["request_id"]) for row in rows] == [
        (gp.hpr, "care-relation", "audit-allowed-0001"),
        (stranger.hpr, "denied", "audit-denied-0001"),
    ]
    assert rows[0]["resource_type"] == "care-relation"
    assert rows[0]["org_number"] == gp.org


async def test_citizen_reads_her_access_log_newest_first_in_pages(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app, name="Fastlege Hansen")
    await relate(client, gp, citizen.patient_id)
    for _ in range(5):
        await client.get(f"/clinician/v1/patients/{citizen.patient_id}/care-relations", headers=gp.headers)
    first = await client.get("/citizen/v1/me/access-log?limit=3", headers=citizen.headers)
    assert first.status_code == 200
    page = first.json()
    assert len(page["items"]) == 3
    assert page["next"]
    entry = page["items"][0]
    assert entry["hpr"] == gp.hpr
    assert entry["name"] == "Fastlege Hansen"
    assert entry["authorization"] == "LE"
    assert entry["organisation"] == gp.org
    assert entry["orgKind"] == "fastlege"
    assert entry["basis"] == "care-relation"
    second = (
        await client.get(f"/citizen/v1/me/access-log?limit=3&cursor={page['next']}", headers=citizen.headers)
    ).json()
    times = [item["at"] for item in page["items"] + second["items"]]
    assert times == sorted(times, reverse=True)
    # The attest of the relation and the five reads.
    assert len(page["items"]) + len(second["items"]) == 6
    assert second["next"] is None
    other = await new_citizen(client, app)
    assert (await client.get("/citizen/v1/me/access-log", headers=other.headers)).json()["items"] == []


async def test_bad_cursor_is_400(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    response = await client.get("/citizen/v1/me/access-log?cursor=%%%", headers=citizen.headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cursor"


@pytest.mark.parametrize(
    "statement",
    [
        f"{verb} {table}{rest}"
        for table in ("audit_log", "audit_log_global")
        for verb, rest in (("UPDATE", " SET basis = 'care-relation'"), ("DELETE FROM", ""), ("TRUNCATE", ""))
    ],
)
async def test_the_database_refuses_to_change_the_audit_log(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, statement: str
) -> None:
    citizen = await new_citizen(client, app)
    await client.get(f"/clinician/v1/patients/{citizen.patient_id}/care-relations", headers=new_clinician(app).headers)
    # A row without a patient too (the row trigger fires only on rows): an editor's action.
    await db.execute(
        "INSERT INTO audit_log_global (actor_kind, actor, action, resource_type, basis)"
        " VALUES ('editor', 'editor:audit-test', 'cms.preview', 'page', 'editor')"
    )
    count = "SELECT (SELECT count(*) FROM audit_log), (SELECT count(*) FROM audit_log_global)"
    before = await db.fetchrow(count)
    with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError, match="append-only"):
        await db.execute(statement)
    assert await db.fetchrow(count) == before


@pytest.mark.parametrize("table", ["audit_log", "audit_log_global"])
@pytest.mark.parametrize(
    ("basis", "refusal", "error"),
    [
        ("allowed", None, asyncpg.exceptions.CheckViolationError),  # no such basis
        ("denied", "no-reason", asyncpg.exceptions.CheckViolationError),  # no such refusal
        ("care-relation", "blocked", asyncpg.exceptions.CheckViolationError),  # only a denied row says why
    ],
)
async def test_the_database_keeps_the_audit_vocabulary(
    app: Litestar, db: asyncpg.Connection, table: str, basis: str, refusal: str | None, error: type[Exception]
) -> None:
    columns = "actor_kind, actor, action, resource_type, basis, refusal" + (
        ", patient_id" if table == "audit_log" else ""
    )
    values = "'clinician', 'hpr:9100001', 'read', 'care-relation', $1, $2" + (", $3" if table == "audit_log" else "")
    arguments: list[object] = [basis, refusal] + ([uuid.uuid4()] if table == "audit_log" else [])
    with pytest.raises(error):
        await db.execute(f"INSERT INTO {table} ({columns}) VALUES ({values})", *arguments)
    # Every word of it is accepted: a denied row with each reason, and each basis.
    for reason in ("role", "no-patient", "blocked", "no-consent", "no-relation", "not-represented", "out-of-scope"):
        await db.execute(f"INSERT INTO {table} ({columns}) VALUES ({values})", "denied", reason, *arguments[2:])
    for allowed in ("care-relation", "emergency", "laboratory", "pharmacy", "representative", "registry", "lookup"):
        await db.execute(f"INSERT INTO {table} ({columns}) VALUES ({values})", allowed, None, *arguments[2:])
