"""Reminders of the antenatal programme: a real card through the API, the worker's real reminder and push jobs,
the mock APNs; each reminder once (several workers included), only with her consent, and content-free."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
from litestar import Litestar

from backend.core.events import EventType
from backend.jobs import WORKER_JOBS, Job
from backend.notifications.rules import APP_TITLE, PREGNANCY_REMINDER
from backend.pregnancy.reminders import send_due_reminders
from backend.settings import Settings
from tests.notifications.conftest import received_by, register
from tests.pregnancy.cards import add_consultation, create_card, team, today
from tests.support.mock_apns import MockApns, ReceivedNotification


async def reminded(db: asyncpg.Connection, patient_id: uuid.UUID) -> list[str]:
    rows = await db.fetch(
        "SELECT item_key FROM pregnancy_reminder WHERE patient_id = $1 ORDER BY created_at, item_key", patient_id
    )
    return [row["item_key"] for row in rows]


async def reminder_events(db: asyncpg.Connection, patient_id: uuid.UUID) -> int:
    count: int = await db.fetchval(
        "SELECT count(*) FROM event WHERE patient_id = $1 AND type = $2",
        patient_id,
        EventType.PREGNANCY_REMINDER_DUE.value,
    )
    return count


def reminders(received: list[ReceivedNotification]) -> list[ReceivedNotification]:
    return [item for item in received if item.payload["kind"] == "reminder"]


def test_the_reminder_job_runs_before_the_pushes() -> None:
    names = [name for name, _ in WORKER_JOBS]
    assert names.index("pregnancy-reminders") < names.index("push-notifications")


async def test_the_next_consultation_is_reminded_once_content_free_even_with_two_workers(
    client: httpx.AsyncClient,
    app: Litestar,
    db: asyncpg.Connection,
    settings: Settings,
    apns_mock: MockApns,
    phones_job: Job,
) -> None:
    t = await team(client, app)
    phone = await register(client, t.woman, locale="en")
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=10)  # first consultation: weeks 6-12

    # Two workers at once: the ledger lets one of them tell it (other tests' cards may be reminded too).
    await asyncio.gather(*(send_due_reminders(settings, force=True) for _ in range(2)))
    assert await reminded(db, t.woman.patient_id) == ["first-consultation"]
    assert await reminder_events(db, t.woman.patient_id) == 1
    await phones_job(settings)

    [item] = reminders(received_by(apns_mock, phone))
    assert item.payload == {
        "aps": {"alert": {"title": APP_TITLE, "body": "You have a reminder in Helsekort"}, "sound": "default",
                "thread-id": "reminder"},
        "kind": "reminder",
        "resourceId": card["id"],
    }  # fmt: skip
    assert PREGNANCY_REMINDER.text("en") == "You have a reminder in Helsekort"

    # Later rounds tell nothing again ...
    await send_due_reminders(settings, force=True)
    assert await reminder_events(db, t.woman.patient_id) == 1
    await phones_job(settings)
    assert len(reminders(received_by(apns_mock, phone))) == 1

    # ... until the consultation is done: the early ultrasound (from 11+0) is then due within 7 days.
    await add_consultation(client, t.midwife, t.woman.patient_id, card["id"], weightKg=61.0)
    await send_due_reminders(settings, force=True)
    assert await reminded(db, t.woman.patient_id) == ["first-consultation", "early-ultrasound"]
    assert await reminder_events(db, t.woman.patient_id) == 2
    await phones_job(settings)
    assert len(reminders(received_by(apns_mock, phone))) == 2

    inbox = (await client.get("/citizen/v1/me/notifications?locale=en", headers=t.woman.headers)).json()["items"]
    assert [item["text"] for item in inbox if item["kind"] == "reminder"] == ["You have a reminder in Helsekort"] * 2


async def test_a_vaccine_is_reminded_when_its_window_opens(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, settings: Settings
) -> None:
    t = await team(client, app)
    await create_card(client, t.midwife, t.woman.patient_id, weeks=24)

    await send_due_reminders(settings, force=True)

    keys = await reminded(db, t.woman.patient_id)
    assert "whooping-cough-vaccine" in keys  # offered from 24+0
    assert "consultation-24" in keys  # the next consultation, due now
    assert await reminder_events(db, t.woman.patient_id) == len(keys)


async def test_without_her_consent_nothing_is_reminded(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, settings: Settings
) -> None:
    t = await team(client, app)
    await create_card(client, t.midwife, t.woman.patient_id, weeks=10)
    withdrawn = await client.delete("/citizen/v1/me/consents/pregnancy-card", headers=t.woman.headers)
    assert withdrawn.status_code == 204

    await send_due_reminders(settings, force=True)

    assert await reminded(db, t.woman.patient_id) == []
    assert await reminder_events(db, t.woman.patient_id) == 0


async def test_a_closed_card_is_not_reminded_of(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, settings: Settings
) -> None:
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=10)
    closed = await client.put(
        f"/clinician/v1/patients/{t.woman.patient_id}/pregnancies/{card['id']}/outcome",
        json={"outcome": "miscarriage", "date": today().isoformat()},
        headers=t.midwife.headers,
    )
    assert closed.status_code == 200, closed.text

    await send_due_reminders(settings, force=True)

    assert await reminded(db, t.woman.patient_id) == []
