"""Real writes reach the phone: a write through the API, the real `push-notifications` worker job, the mock APNs.

Each test drives one capability end to end and asserts exactly one content-free notification of the
expected kind on the woman's registered device. The first test holds the product decision of which event
types push, member by member, so a new member of `EventType` cannot be added without deciding.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.core.clock import OSLO
from backend.core.event_types import EVENT_TYPES, Audience, EventType, Visibility
from backend.jobs import WORKER_JOBS, Job
from backend.notifications import worker
from backend.notifications.rules import APP_TITLE, RULES, rule_for
from backend.settings import ApnsSettings, Settings
from tests.cms.pages import create_page, publish
from tests.documents.helpers import upload
from tests.factories import Citizen, new_citizen, new_clinician, relate
from tests.labs.reports import hb, lab_report, posted, release
from tests.medications.factories import entry, patient_with_gp, patient_with_prescription, write
from tests.notifications.conftest import received_by, register
from tests.pregnancy.cards import add_consultation, create_card, team
from tests.support.mock_apns import MockApns, ReceivedNotification

# The product decision per event type: the notification kind it pushes, or None (and why not).
PUSH_DECISIONS: dict[EventType, str | None] = {
    EventType.BLOCK_ADDED: None,  # she did it
    EventType.BLOCK_REMOVED: None,  # she did it
    EventType.CONSENT_GIVEN: None,  # she did it
    EventType.CONSENT_WITHDRAWN: None,  # she did it
    EventType.CARE_RELATION_ATTESTED: None,  # routine; in her feed and access log
    EventType.EMERGENCY_ACCESS_OPENED: "emergency-access",  # someone outside her care opened her record
    EventType.ALERT_RAISED: None,  # for her clinicians
    EventType.ALERT_ACKNOWLEDGED: None,  # for her clinicians
    EventType.PREGNANCY_CARD_CREATED: "health-card",
    EventType.PREGNANCY_CARD_UPDATED: "health-card",
    EventType.PREGNANCY_CARD_CLOSED: "health-card",
    EventType.PREGNANCY_CONSULTATION_ADDED: "health-card",
    EventType.PREGNANCY_CONSULTATION_CORRECTED: "health-card",
    EventType.PREGNANCY_ULTRASOUND_ADDED: "health-card",
    EventType.PREGNANCY_VACCINE_ADDED: "health-card",
    EventType.PREGNANCY_TEST_ADDED: "health-card",
    EventType.PREGNANCY_EARLIER_PREGNANCY_ADDED: "health-card",
    EventType.PREGNANCY_NOTE_ADDED: None,  # she wrote it
    EventType.PREGNANCY_SELF_REGISTRATION_ADDED: None,  # she wrote it
    EventType.LAB_RESULT_NEW: None,  # she learns of a result when it is released
    EventType.LAB_RESULT_UPDATED: "lab-result",  # only when she already sees the report
    EventType.LAB_RESULT_CORRECTED: "lab-result",  # only when she already sees the report
    EventType.LAB_RESULT_RELEASED: "lab-result",
    EventType.MEDICATIONS_UPDATED: "medications",
    EventType.MEDICATIONS_RECONCILED: None,  # the list did not change
    EventType.MEDICATIONS_DISCREPANCY_REPORTED: None,  # she reported it
    EventType.PRESCRIPTION_CREATED: None,  # her prescriber tells her; in her feed and on the list entry
    EventType.PRESCRIPTION_CANCELLED: None,  # told by her prescriber, or with the list change that stopped the entry
    EventType.PRESCRIPTION_DISPENSED: None,  # she was at the pharmacy
    EventType.PRESCRIPTION_EXPIRING: "prescription",  # the one reminder, 30 days before validUntil
    EventType.RENEWAL_REQUEST_CREATED: None,  # she asked
    EventType.RENEWAL_REQUEST_ANSWERED: "renewal-request",  # her GP's answer
    EventType.MEASUREMENTS_UPLOADED: None,  # she uploaded them
    EventType.NEWS2_RECORDED: None,  # a score for the clinicians at the bedside
    EventType.SPO2_TARGET_PRESCRIBED: None,  # changes how her uploads are scored, told by her clinician
    EventType.SPO2_TARGET_CLEARED: None,
    EventType.DOCUMENT_ADDED: "document",  # only one she may see (not one the author hid from her)
    EventType.DOCUMENT_SUPERSEDED: None,  # its replacement is the new document, which pushes
    EventType.DOCUMENT_ENTERED_IN_ERROR: None,  # retracted; in her feed
    EventType.DOCUMENT_RESTRICTED: None,  # she did it
    EventType.DOCUMENT_UNRESTRICTED: None,  # she did it
    EventType.DEVICE_REGISTERED: None,  # she did it
    EventType.DEVICE_REMOVED: None,  # she did it
    EventType.SUBSCRIPTION_ADDED: None,  # she did it
    EventType.SUBSCRIPTION_REMOVED: None,  # she did it
    EventType.PAGE_PUBLISHED: "topic",  # to the followers of the page's topics
}

TEXTS_NB = {
    "health-card": "Helsekortet ditt har ny informasjon",
    "lab-result": "Du har fått et nytt prøvesvar",
    "medications": "Legemiddellisten din er endret",
    "renewal-request": "Du har fått svar på søknaden om å fornye en resept",
    "prescription": "En resept går snart ut",
    "emergency-access": "Helsepersonell har brukt nødtilgang til opplysningene dine",
    "topic": "Ny informasjon om et tema du følger",
    "document": "Et nytt dokument er tilgjengelig",
}


def test_every_event_type_has_a_push_decision_and_the_rules_follow_it() -> None:
    assert set(PUSH_DECISIONS) == set(EventType), "decide whether each new event type pushes, here and in RULES"
    assert all(isinstance(key, EventType) for key in RULES)
    for member, kind in PUSH_DECISIONS.items():
        rule = rule_for(member)
        assert (rule.kind if rule else None) == kind, member
        # The stored value reads back to the same decision (the worker matches what it claims from the table).
        assert rule_for(member.value) is rule


def test_nothing_that_is_never_in_her_feed_has_a_rule() -> None:
    for member in RULES:
        assert EVENT_TYPES[member].visibility is not Visibility.CLINICIANS_ONLY, member
        assert (member is EventType.PAGE_PUBLISHED) == (EVENT_TYPES[member].audience is Audience.TOPIC)


# --- end to end ---------------------------------------------------------------------------------------------


@pytest.fixture
async def push_job(settings: Settings, apns_settings: ApnsSettings) -> AsyncIterator[Job]:
    """The worker's real `push-notifications` job, configured to send to the mock APNs, with no quiet hours."""
    [job] = [job for name, job in WORKER_JOBS if name == "push-notifications"]
    configured = replace(settings, apns=apns_settings, quiet_hours="")
    await worker.close_push_senders()  # a dispatcher of another test's configuration must not be reused

    async def run(_: Settings) -> int:
        # Run rounds until nothing is due, as the worker's loop would: other tests leave events behind.
        handled = 0
        while count := await job(configured):
            handled += count
        return handled

    yield run
    await worker.close_push_senders()


class Phone:
    """Her registered device, and what it received since the last look."""

    def __init__(self, mock: MockApns, token: str) -> None:
        self.mock, self.token, self.seen = mock, token, 0

    def new(self) -> list[ReceivedNotification]:
        received = received_by(self.mock, self.token)
        fresh, self.seen = received[self.seen :], len(received)
        return fresh


async def phone_of(
    client: httpx.AsyncClient, citizen: Citizen, apns_mock: MockApns, push_job: Job, settings: Settings
) -> Phone:
    phone = Phone(apns_mock, await register(client, citizen, locale="nb"))
    await push_job(settings)
    phone.new()  # whatever was due before the write under test
    return phone


def assert_one_content_free(received: list[ReceivedNotification], kind: str, resource_id: str) -> None:
    """Exactly one delivered notification: the fixed text of its kind and the opaque id, nothing else."""
    assert [item.status for item in received] == [200], [item.payload for item in received]
    [item] = received
    assert item.payload == {
        "aps": {"alert": {"title": APP_TITLE, "body": TEXTS_NB[kind]}, "sound": "default", "thread-id": kind},
        "kind": kind,
        "resourceId": resource_id,
    }


async def event_resource(db: asyncpg.Connection, patient_id: uuid.UUID, event_type: EventType) -> str:
    resource_id: str = await db.fetchval(
        "SELECT resource_id FROM event WHERE patient_id = $1 AND type = $2 ORDER BY seq DESC LIMIT 1",
        patient_id,
        event_type.value,
    )
    return resource_id


async def test_a_consultation_the_midwife_adds_to_the_card_pushes_once_and_her_own_note_does_not(
    client: httpx.AsyncClient, app: Litestar, apns_mock: MockApns, push_job: Job, settings: Settings
) -> None:
    t = await team(client, app)
    phone = await phone_of(client, t.woman, apns_mock, push_job, settings)

    card = await create_card(client, t.midwife, t.woman.patient_id)
    await push_job(settings)
    assert_one_content_free(phone.new(), "health-card", card["id"])

    await add_consultation(client, t.midwife, t.woman.patient_id, card["id"], weightKg=64.5)
    await push_job(settings)
    assert_one_content_free(phone.new(), "health-card", card["id"])

    note = await client.post(
        f"/citizen/v1/me/pregnancies/{card['id']}/notes", json={"text": "Hodepine"}, headers=t.woman.headers
    )
    assert note.status_code == 201, note.text
    assert await push_job(settings) >= 1  # the note's event was handled, and told nobody
    assert phone.new() == []


async def test_a_result_pushes_when_the_requester_releases_it_not_when_it_arrives(
    client: httpx.AsyncClient, app: Litestar, apns_mock: MockApns, push_job: Job, settings: Settings
) -> None:
    """CLINICAL.md (lab results): she sees a result when it is released, and the push says only that one is ready."""
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    phone = await phone_of(client, citizen, apns_mock, push_job, settings)

    body = lab_report(hb(9.1))
    report_id = await posted(client, gp, citizen.patient_id, body)
    corrected = {**body, "status": "corrected", "observations": [hb(9.4)]}
    assert (await client.post(f"/clinician/v1/patients/{citizen.patient_id}/lab-reports", json=corrected,
                              headers=gp.headers)).status_code in (200, 201)  # fmt: skip
    await push_job(settings)
    assert phone.new() == []  # neither the report nor its correction, before she may see them

    await release(client, gp, citizen.patient_id, report_id)
    await push_job(settings)
    assert_one_content_free(phone.new(), "lab-result", report_id)

    # A correction of a result she has already read is a new result to read.
    again: dict[str, Any] = {**corrected, "observations": [hb(9.6)]}
    assert (await client.post(f"/clinician/v1/patients/{citizen.patient_id}/lab-reports", json=again,
                              headers=gp.headers)).status_code in (200, 201)  # fmt: skip
    await push_job(settings)
    assert_one_content_free(phone.new(), "lab-result", report_id)


async def test_a_medication_list_write_pushes_once(
    client: httpx.AsyncClient,
    app: Litestar,
    db: asyncpg.Connection,
    apns_mock: MockApns,
    push_job: Job,
    settings: Settings,
) -> None:
    patient = await patient_with_gp(client, app)
    phone = await phone_of(client, patient.citizen, apns_mock, push_job, settings)

    await write(client, patient.gp, patient.id, [entry()], version=0)
    await push_job(settings)

    list_id = await event_resource(db, patient.id, EventType.MEDICATIONS_UPDATED)
    assert_one_content_free(phone.new(), "medications", list_id)


async def test_an_answered_renewal_request_pushes_once_and_asking_does_not(
    client: httpx.AsyncClient, app: Litestar, apns_mock: MockApns, push_job: Job, settings: Settings
) -> None:
    patient, _, made = await patient_with_prescription(client, app)
    phone = await phone_of(client, patient.citizen, apns_mock, push_job, settings)

    for answer, body in (("decline", {"reason": "Trenger kontroll først"}), ("approve", {})):
        asked = await client.post(
            f"/citizen/v1/me/prescriptions/{made['id']}/renewal-requests", json={}, headers=patient.citizen.headers
        )
        assert asked.status_code == 201, asked.text
        assert await push_job(settings) >= 1  # her own request was handled, and told nobody
        assert phone.new() == []
        answered = await client.post(
            f"/clinician/v1/renewal-requests/{asked.json()['id']}/{answer}", json=body, headers=patient.gp.headers
        )
        assert answered.status_code == 200, answered.text
        await push_job(settings)
        assert_one_content_free(phone.new(), "renewal-request", asked.json()["id"])


async def test_a_prescription_expiring_within_30_days_reminds_once(
    client: httpx.AsyncClient, app: Litestar, apns_mock: MockApns, push_job: Job, settings: Settings
) -> None:
    """The worker's real reminder job, then its real push job: one reminder, however often the jobs run."""
    valid_until = datetime.now(UTC).astimezone(OSLO).date() + timedelta(days=25)
    patient, _, made = await patient_with_prescription(client, app, validUntil=str(valid_until))
    phone = await phone_of(client, patient.citizen, apns_mock, push_job, settings)
    [remind] = [job for name, job in WORKER_JOBS if name == "prescription-reminders"]

    for _ in range(3):
        await remind(settings)
        await push_job(settings)
    assert_one_content_free(phone.new(), "prescription", made["id"])


async def test_emergency_access_pushes_once(
    client: httpx.AsyncClient,
    app: Litestar,
    db: asyncpg.Connection,
    apns_mock: MockApns,
    push_job: Job,
    settings: Settings,
) -> None:
    citizen = await new_citizen(client, app)
    phone = await phone_of(client, citizen, apns_mock, push_job, settings)
    doctor = new_clinician(app, org_kind="legevakt")

    opened = await client.post(
        f"/clinician/v1/patients/{citizen.patient_id}/emergency-access",
        json={"reason": "Bevisstløs pasient på legevakt, trenger legemiddelliste"},
        headers=doctor.headers,
    )
    assert opened.status_code == 201, opened.text
    await push_job(settings)

    access_id = await db.fetchval("SELECT id FROM emergency_access WHERE patient_id = $1", citizen.patient_id)
    assert_one_content_free(phone.new(), "emergency-access", str(access_id))


async def test_a_page_published_to_a_followed_topic_pushes_once(
    client: httpx.AsyncClient, app: Litestar, apns_mock: MockApns, push_job: Job, settings: Settings
) -> None:
    citizen = await new_citizen(client, app)
    followed = await client.put("/citizen/v1/me/subscriptions/provesvar", headers=citizen.headers)
    assert followed.status_code == 204, followed.text
    phone = await phone_of(client, citizen, apns_mock, push_job, settings)

    page = await create_page(client, app, tags=["provesvar", "legemidler"])
    await publish(client, app, page["slug"])
    await push_job(settings)

    assert_one_content_free(phone.new(), "topic", page["slug"])


async def test_a_new_document_pushes_once_and_one_hidden_from_her_does_not(
    client: httpx.AsyncClient, app: Litestar, apns_mock: MockApns, push_job: Job, settings: Settings
) -> None:
    citizen = await new_citizen(client, app)
    hospital = new_clinician(app, org_kind="sykehus")
    await relate(client, hospital, citizen.patient_id)
    phone = await phone_of(client, citizen, apns_mock, push_job, settings)

    document = await upload(client, hospital, citizen.patient_id, title="Epikrise, psykiatrisk avdeling")
    await push_job(settings)
    assert_one_content_free(phone.new(), "document", document["id"])

    hidden = await upload(client, hospital, citizen.patient_id, visibleToPatient=False, hiddenReason="Skjermet nå")
    assert await push_job(settings) >= 1  # its event was handled, and told nobody
    assert phone.new() == []
    feed = await client.get("/citizen/v1/me/changes", headers=citizen.headers)
    assert hidden["id"] not in {item["resourceId"] for item in feed.json()["items"]}
