"""The audit log's group commit (`audit.append_row_durably`): a decision's row is on disk before its answer leaves,
concurrent requests share commits, and a row that cannot be written costs its own request only."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.core import audit
from backend.db.errors import DatabaseUnavailable
from tests.factories import new_citizen, new_clinician, relate


def _row(patient_id: uuid.UUID, *, basis: str = "care-relation", request_id: str = "group-commit") -> audit.AuditRow:
    return (
        "clinician", "hpr:9100009", "9100009", "Dr. Group", "LE", "974600009", "fastlege",
        patient_id, "read", "care-relation", None, basis, request_id, None,
    )  # fmt: skip


class _Gate:
    """Holds every audit INSERT until opened, counting the statements and the rows they carry."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.open = asyncio.Event()
        self.statements: list[int] = []
        original = audit._insert_many

        async def gated(rows: Sequence[audit.AuditRow]) -> None:
            await self.open.wait()
            self.statements.append(len(rows))
            await original(rows)

        monkeypatch.setattr(audit, "_insert_many", gated)


async def _rows_of(db: asyncpg.Connection, patient_id: uuid.UUID) -> list[str]:
    rows = await db.fetch("SELECT request_id FROM audit_log WHERE patient_id = $1 ORDER BY id", patient_id)
    return [row["request_id"] for row in rows]


async def test_no_answer_leaves_before_its_audit_row_is_committed(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    gate = _Gate(monkeypatch)
    path = f"/clinician/v1/patients/{citizen.patient_id}/care-relations"
    read = asyncio.ensure_future(client.get(path, headers={**gp.headers, "X-Request-ID": "group-commit-held-01"}))
    await asyncio.sleep(0.3)
    assert not read.done(), "the answer left before its audit row was written"
    assert "group-commit-held-01" not in await _rows_of(db, citizen.patient_id)
    gate.open.set()
    response = await read
    assert response.status_code == 200
    assert response.json()["items"]
    assert (await _rows_of(db, citizen.patient_id))[-1] == "group-commit-held-01"


async def test_concurrent_reads_share_commits_and_each_has_its_row(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    gate = _Gate(monkeypatch)
    path = f"/clinician/v1/patients/{citizen.patient_id}/care-relations"
    ids = [f"group-commit-many-{n:02d}" for n in range(24)]
    reads = [asyncio.ensure_future(client.get(path, headers={**gp.headers, "X-Request-ID": i})) for i in ids]
    await asyncio.sleep(0.3)  # every decision made, every row waiting for the first INSERT
    gate.open.set()
    responses = await asyncio.gather(*reads)
    assert [response.status_code for response in responses] == [200] * len(ids)
    assert sorted(r for r in await _rows_of(db, citizen.patient_id) if r.startswith("group-commit-many")) == ids
    assert sum(gate.statements) == len(ids)
    assert len(gate.statements) < len(ids) / 2, gate.statements  # rows went together, not one commit each


async def test_a_row_that_cannot_be_written_fails_only_its_own_caller(app: Litestar, db: asyncpg.Connection) -> None:
    patient_id = uuid.uuid4()  # audit rows name no foreign key: a denied attempt on an absent id is recorded too
    good = [_row(patient_id, request_id=f"group-commit-good-{n}") for n in range(5)]
    bad = _row(patient_id, basis="no-such-basis", request_id="group-commit-bad")
    outcomes = await asyncio.gather(
        *(audit.append_row_durably(row) for row in [*good[:2], bad, *good[2:]]), return_exceptions=True
    )
    assert [type(outcome) for outcome in outcomes] == [
        type(None), type(None), DatabaseUnavailable, type(None), type(None), type(None)
    ]  # fmt: skip
    assert sorted(await _rows_of(db, patient_id)) == sorted(row[12] for row in good)


async def test_a_caller_that_goes_away_still_has_its_row_written(
    app: Litestar, db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = _Gate(monkeypatch)
    patient_id = uuid.uuid4()
    waiting = asyncio.ensure_future(audit.append_row_durably(_row(patient_id, request_id="group-commit-gone")))
    await asyncio.sleep(0.05)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    gate.open.set()
    for _ in range(100):
        if await _rows_of(db, patient_id):
            break
        await asyncio.sleep(0.02)
    assert await _rows_of(db, patient_id) == ["group-commit-gone"]


async def test_when_the_audit_log_cannot_be_written_a_read_is_503_and_discloses_nothing(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app, name="Dr. Unrecorded")
    await relate(client, gp, citizen.patient_id)

    async def broken(rows: Sequence[Any]) -> None:
        raise ConnectionResetError("the server closed the connection")

    monkeypatch.setattr(audit, "_insert_many", broken)
    response = await client.get(f"/clinician/v1/patients/{citizen.patient_id}/care-relations", headers=gp.headers)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert gp.org not in response.text
    assert "Dr. Unrecorded" not in response.text
    assert response.json()["status"] == 503


async def test_a_server_that_fails_fails_the_batch_once_without_retrying_each_row(
    app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    async def unreachable(rows: Sequence[Any]) -> None:
        calls.append(len(rows))
        raise DatabaseUnavailable("the database is busy; try again shortly")

    monkeypatch.setattr(audit, "_insert_many", unreachable)
    patient_id = uuid.uuid4()
    outcomes = await asyncio.gather(
        *(audit.append_row_durably(_row(patient_id)) for _ in range(6)), return_exceptions=True
    )
    assert all(isinstance(outcome, DatabaseUnavailable) for outcome in outcomes), outcomes
    assert calls == [6]  # one statement for the six; a busy server is not asked six times more
