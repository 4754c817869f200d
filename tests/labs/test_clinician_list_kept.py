"""A clinician's list of lab reports (and one report) is kept per patient (core.access.authorize_cached): every
request is still its own decision and audit row, a kept answer is that one statement, a write by someone else is
seen by the next read (in this process and, by its notification, in another), a release time passing shows without
any write, a refused reader reads nothing and leaves her denied row, and pages asked differently are kept apart.

The clock is frozen at a known noon (Oslo), so what is kept can only end at the time the answer names: neither
midnight nor the five minutes a kept answer lasts at most come between the reads of one test.
"""

from __future__ import annotations

import contextlib
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from litestar import Litestar

from backend.core.change_signals import SIGNALS
from backend.core.clock import frozen_at
from tests.factories import (
    Citizen,
    Clinician,
    audit_rows,
    caching_live,
    decisions,
    new_citizen,
    new_clinician,
    relate,
    split_audit,
)
from tests.labs.reports import ferritin, hb, lab_report, post_report, posted

ARRIVED = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)  # noon in Oslo
SPECIMEN = datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def _base(citizen: Citizen) -> str:
    return f"/clinician/v1/patients/{citizen.patient_id}/lab-reports"


def _report(n: int, **fields: Any) -> dict[str, Any]:
    """The n-th report: specimens a day apart, so the newest-first order is known."""
    specimen = SPECIMEN + timedelta(days=n)
    return lab_report(
        hb(11.0 + n), ferritin(10 + n), specimen_at=specimen, issued_at=specimen + timedelta(hours=2), **fields
    )


async def _world(client: httpx.AsyncClient, app: Litestar, reports: int = 2) -> tuple[Citizen, Clinician, Clinician]:
    """The patient, her GP (the requester of every report, the writer) and a hospital doctor (the reader)."""
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    doctor = new_clinician(app, org_kind="sykehus")
    await relate(client, gp, citizen.patient_id)
    await relate(client, doctor, citizen.patient_id)
    with frozen_at(ARRIVED):
        for n in range(reports):
            await posted(client, gp, citizen.patient_id, _report(n))
    await caching_live()
    return citizen, gp, doctor


async def _get(client: httpx.AsyncClient, reader: Clinician, url: str, at: datetime = ARRIVED) -> dict[str, Any]:
    with frozen_at(at):
        response = await client.get(url, headers=reader.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _states(page: dict[str, Any]) -> list[str]:
    return [item["release"]["state"] for item in page["items"]]


def _decisions_alone(statements: list[str], count: int) -> None:
    own, audited = split_audit(statements)
    assert (len(own), audited) == (count, count), statements
    assert decisions(own), own
    assert not any("FROM lab_" in statement for statement in statements), statements


@contextlib.contextmanager
def _in_another_process() -> Iterator[None]:
    """Writes made here reach this process's kept answers only as another process's would: by the notification
    their transaction sends, delivered on its commit to the listening connection (core/change_signals.py)."""
    heard = SIGNALS.changed

    def changed(patient_id: uuid.UUID) -> None:
        if sys._getframe(1).f_code.co_name == "_notified":  # the listener, not the writer itself
            heard(patient_id)

    SIGNALS.changed = changed  # type: ignore[method-assign]
    try:
        yield
    finally:
        del SIGNALS.changed


async def test_a_kept_page_and_report_are_the_decision_alone_with_its_row_and_the_same_answer(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, statements: list[str]
) -> None:
    citizen, _, doctor = await _world(client, app)
    page = await _get(client, doctor, f"{_base(citizen)}?limit=10")
    assert len(page["items"]) == 2
    single_url = f"{_base(citizen)}/{page['items'][0]['id']}"
    single = await _get(client, doctor, single_url)
    before = len(await audit_rows(db, doctor))
    statements.clear()

    assert await _get(client, doctor, f"{_base(citizen)}?limit=10") == page
    assert await _get(client, doctor, f"{_base(citizen)}?limit=10") == page
    assert await _get(client, doctor, single_url) == single

    _decisions_alone(statements, 3)
    rows = (await audit_rows(db, doctor))[before:]
    assert [(row["action"], row["resource_type"], row["refusal"]) for row in rows] == [("read", "lab-report", None)] * 3
    assert all(row["basis"] == "care-relation" for row in rows)


async def test_a_new_report_version_release_and_hold_by_another_writer_are_seen_by_the_next_read(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    citizen, gp, doctor = await _world(client, app)
    url = f"{_base(citizen)}?limit=10"
    first = await _get(client, doctor, url)
    assert await _get(client, doctor, url) == first  # kept
    assert _states(first) == ["scheduled", "scheduled"]
    newest, older = (item["id"] for item in first["items"])

    lab = new_clinician(app, org_kind="laboratorium", authorization="SP")
    with frozen_at(ARRIVED):
        await posted(client, lab, citizen.patient_id, _report(5, requester=gp))
    listed = await _get(client, doctor, url)
    assert len(listed["items"]) == 3

    corrected = _report(1, report_id=uuid.UUID(newest), status="corrected")
    corrected["observations"][0]["valueQuantity"] = 15.5
    with frozen_at(ARRIVED):
        response = await post_report(client, gp, citizen.patient_id, corrected)
    assert response.status_code == 201, response.text
    shown = {item["id"]: item for item in (await _get(client, doctor, url))["items"]}
    assert shown[newest]["version"] == 2
    assert shown[newest]["observations"][0]["value"] == 15.5

    with frozen_at(ARRIVED):
        response = await client.post(f"{_base(citizen)}/{older}/release", headers=gp.headers)
    assert response.status_code == 200, response.text
    states = {item["id"]: item["release"]["state"] for item in (await _get(client, doctor, url))["items"]}
    assert (states[older], states[newest]) == ("released", "scheduled")
    assert (await _get(client, doctor, f"{_base(citizen)}/{newest}"))["release"]["state"] == "scheduled"

    with frozen_at(ARRIVED):
        response = await client.post(f"{_base(citizen)}/{newest}/hold", headers=gp.headers)
    assert response.status_code == 200, response.text
    states = {item["id"]: item["release"]["state"] for item in (await _get(client, doctor, url))["items"]}
    assert (states[older], states[newest]) == ("released", "held")
    assert (await _get(client, doctor, f"{_base(citizen)}/{newest}"))["release"]["state"] == "held"


async def test_a_release_stamped_ahead_of_the_readers_clock_shows_once_her_clock_passes_it(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    """Processes' clocks differ: a release recorded by a clock ahead of the reader's is not yet seen by her, and
    is seen as soon as her clock passes it, without another write."""
    citizen, gp, doctor = await _world(client, app, reports=1)
    url = f"{_base(citizen)}?limit=10"
    (report,) = (await _get(client, doctor, url))["items"]
    with frozen_at(ARRIVED + MINUTE):
        response = await client.post(f"{_base(citizen)}/{report['id']}/release", headers=gp.headers)
    assert response.status_code == 200, response.text

    assert _states(await _get(client, doctor, url)) == ["scheduled"]
    assert _states(await _get(client, doctor, url, at=ARRIVED + MINUTE / 2)) == ["scheduled"]  # kept…
    assert _states(await _get(client, doctor, url, at=ARRIVED + MINUTE)) == ["released"]  # …until then


async def test_a_hold_in_another_process_is_seen_by_the_next_read_once_its_notification_has_arrived(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    """A hold appends no event (her feed would tell her a result is held): its notification alone drops what
    every process keeps for her."""
    citizen, gp, doctor = await _world(client, app, reports=1)
    url = f"{_base(citizen)}?limit=10"
    (report,) = (await _get(client, doctor, url))["items"]
    single_url = f"{_base(citizen)}/{report['id']}"
    await _get(client, doctor, single_url)
    assert _states(await _get(client, doctor, url)) == ["scheduled"]  # kept

    with _in_another_process(), frozen_at(ARRIVED):
        response = await client.post(f"{single_url}/hold", headers=gp.headers)
        assert response.status_code == 200, response.text
    await caching_live()  # its notification has arrived

    assert _states(await _get(client, doctor, url)) == ["held"]
    assert (await _get(client, doctor, single_url))["release"]["state"] == "held"


async def test_a_release_time_passing_shows_without_any_write_and_a_held_report_stays_held(
    client: httpx.AsyncClient, app: Litestar, statements: list[str]
) -> None:
    citizen, gp, doctor = await _world(client, app)
    url = f"{_base(citizen)}?limit=10"
    first = await _get(client, doctor, url)
    newest, older = first["items"]
    due = datetime.fromisoformat(older["release"]["releaseDueAt"])
    assert due == datetime.fromisoformat(newest["release"]["releaseDueAt"]) == ARRIVED + timedelta(days=7)
    with frozen_at(ARRIVED):
        response = await client.post(f"{_base(citizen)}/{newest['id']}/hold", headers=gp.headers)
    assert response.status_code == 200, response.text
    single_url = f"{_base(citizen)}/{older['id']}"

    before = await _get(client, doctor, url, at=due - MINUTE)
    assert _states(before) == ["held", "scheduled"]
    assert (await _get(client, doctor, single_url, at=due - MINUTE))["release"]["state"] == "scheduled"
    statements.clear()
    assert await _get(client, doctor, url, at=due - MINUTE / 2) == before  # kept…
    _decisions_alone(statements, 1)

    after = await _get(client, doctor, url, at=due + timedelta(seconds=1))  # …until its release time, no write
    assert _states(after) == ["held", "released"]
    assert after["items"][1]["release"]["visibleToCitizen"] is True
    assert datetime.fromisoformat(after["items"][1]["release"]["visibleFrom"]) == due
    assert (await _get(client, doctor, single_url, at=due + timedelta(seconds=1)))["release"]["state"] == "released"


async def test_a_refused_reader_reads_nothing_kept_and_leaves_her_denied_row(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, statements: list[str]
) -> None:
    citizen, _, doctor = await _world(client, app)
    url = f"{_base(citizen)}?limit=10"
    page = await _get(client, doctor, url)
    single_url = f"{_base(citizen)}/{page['items'][0]['id']}"
    await _get(client, doctor, url)
    await _get(client, doctor, single_url)  # both kept
    stranger = new_clinician(app)
    lab = new_clinician(app, org_kind="laboratorium", authorization="SP")
    statements.clear()

    with frozen_at(ARRIVED):
        answers = [
            await client.get(path, headers=reader.headers) for reader in (stranger, lab) for path in (url, single_url)
        ]

    assert [answer.status_code for answer in answers] == [404, 404, 403, 403], [a.text for a in answers]
    assert not any("718-7" in answer.text or "Hemoglobin" in answer.text for answer in answers)
    assert not any("FROM lab_" in statement for statement in statements), statements
    assert [(row["action"], row["basis"], row["refusal"]) for row in await audit_rows(db, stranger)] == [
        ("read", "denied", "no-relation")
    ] * 2
    assert [(row["action"], row["basis"], row["refusal"]) for row in await audit_rows(db, lab)] == [
        ("read", "denied", "role")
    ] * 2


async def test_pages_asked_differently_are_kept_apart(
    client: httpx.AsyncClient, app: Litestar, statements: list[str]
) -> None:
    citizen, _, doctor = await _world(client, app, reports=3)
    first = await _get(client, doctor, f"{_base(citizen)}?limit=1")
    second_url = f"{_base(citizen)}?limit=1&cursor={first['next']}"
    second = await _get(client, doctor, second_url)
    both = await _get(client, doctor, f"{_base(citizen)}?limit=2")
    every = await _get(client, doctor, f"{_base(citizen)}")
    assert [len(page["items"]) for page in (first, second, both, every)] == [1, 1, 2, 3]
    assert first["items"][0]["id"] != second["items"][0]["id"]
    assert [item["id"] for item in both["items"]] == [first["items"][0]["id"], second["items"][0]["id"]]
    statements.clear()

    assert await _get(client, doctor, f"{_base(citizen)}?limit=1") == first
    assert await _get(client, doctor, second_url) == second
    assert await _get(client, doctor, f"{_base(citizen)}?limit=2") == both
    assert await _get(client, doctor, f"{_base(citizen)}") == every
    _decisions_alone(statements, 4)
