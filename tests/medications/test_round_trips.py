"""The list's hot paths keep their statement counts (bench/ measures them): a read is one statement, the access
decision with its audit row and the list (core.access.authorize_read), and a change is the read, the store that locks
the list and writes only at the version read, and its event."""

from __future__ import annotations

import httpx
import pytest
from asyncpg.connection import Connection
from litestar import Litestar

from tests.medications.factories import entry, list_url, patient_with_gp, put, write


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement with parameters that the app sends (fetch, fetchrow, fetchval and execute with arguments)."""
    seen: list[str] = []
    original = Connection._execute  # type: ignore[attr-defined]  # the one method every parameterised statement passes

    async def counting(self: Connection, query: str, *args: object, **kwargs: object) -> object:
        seen.append(" ".join(query.split()))
        return await original(self, query, *args, **kwargs)

    monkeypatch.setattr(Connection, "_execute", counting)
    return seen


async def test_a_read_is_one_statement_the_decision_and_the_list(
    client: httpx.AsyncClient, app: Litestar, statements: list[str]
) -> None:
    patient = await patient_with_gp(client, app)
    await write(client, patient.gp, patient.id, [entry(), entry("Paracet", "N02BE01")], 0)
    statements.clear()
    response = await client.get(list_url(patient.id), headers=patient.gp.headers)
    assert response.status_code == 200
    assert len(statements) == 1, statements
    assert statements[0].startswith("WITH decision AS")
    assert "INSERT INTO audit_log" in statements[0]
    assert "FROM medication_list l" in statements[0]


async def test_an_unchanged_write_is_the_decision_and_the_read(
    client: httpx.AsyncClient, app: Litestar, statements: list[str]
) -> None:
    patient = await patient_with_gp(client, app)
    body = await write(client, patient.gp, patient.id, [entry()], 0)
    statements.clear()
    response = await put(client, patient.gp, patient.id, body["entries"], 1)
    assert response.status_code == 200
    assert len(statements) == 2, statements


async def test_a_change_is_decision_read_store_and_event(
    client: httpx.AsyncClient, app: Litestar, statements: list[str]
) -> None:
    patient = await patient_with_gp(client, app)
    body = await write(client, patient.gp, patient.id, [entry()], 0)
    statements.clear()
    changed = [{**body["entries"][0], "dosage": "2 tabletter daglig"}]
    response = await put(client, patient.gp, patient.id, changed, 1)
    assert response.status_code == 200, response.text
    assert [statement.split(" AS ")[0][:30] for statement in statements] == [
        "WITH decision",  # the access decision and its audit row
        "SELECT l.version, l.updated_at",  # the list as read
        "WITH locked",  # the lock (FOR UPDATE), and at the version read the new version, its entry rows and author
        "WITH next",  # the event in the same transaction
    ], statements
