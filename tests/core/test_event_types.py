"""The typed event vocabulary: only registered members are appended, each with its registered resource type and visibility."""

from __future__ import annotations

import ast
from pathlib import Path

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.core import events
from backend.core.event_types import EVENT_TYPES, Audience, EventType, Visibility, registered
from backend.core.events import UnregisteredEventType
from backend.db.engine import DB
from tests.factories import new_citizen

BACKEND = Path(__file__).resolve().parents[2] / "backend"

# The stored values and the change feed's resourceType the apps already read: a rename here is a break.
STORED: dict[str, str] = {
    "block.added": "clinician-block",
    "block.removed": "clinician-block",
    "consent.given": "consent",
    "consent.withdrawn": "consent",
    "care-relation.attested": "care-relation",
    "emergency-access.opened": "emergency-access",
    "alert.raised": "alert",
    "alert.acknowledged": "alert",
    "pregnancy.card.created": "pregnancy-card",
    "pregnancy.card.updated": "pregnancy-card",
    "pregnancy.card.closed": "pregnancy-card",
    "pregnancy.consultation.added": "pregnancy-card",
    "pregnancy.consultation.corrected": "pregnancy-card",
    "pregnancy.ultrasound.added": "pregnancy-card",
    "pregnancy.vaccine.added": "pregnancy-card",
    "pregnancy.test.added": "pregnancy-card",
    "pregnancy.earlier-pregnancy.added": "pregnancy-card",
    "pregnancy.note.added": "pregnancy-card",
    "pregnancy.self-registration.added": "pregnancy-card",
    "lab-result.new": "lab-report",
    "lab-result.updated": "lab-report",
    "lab-result.corrected": "lab-report",
    "lab-result.released": "lab-result",
    "medications.updated": "medication-list",
    "medications.reconciled": "medication-reconciliation",
    "medications.discrepancy-reported": "medication-discrepancy",
    "prescription.created": "prescription",
    "prescription.cancelled": "prescription",
    "prescription.dispensed": "prescription",
    "prescription.expiring": "prescription",
    "renewal-request.created": "renewal-request",
    "renewal-request.answered": "renewal-request",
    "measurements.uploaded": "measurement-batch",
    "news2.recorded": "news2-score",
    "spo2-target.prescribed": "spo2-target",
    "spo2-target.cleared": "spo2-target",
    "document.added": "document",
    "document.superseded": "document",
    "document.entered-in-error": "document",
    "document.restricted": "document",
    "document.unrestricted": "document",
    "device.registered": "push-device",
    "device.removed": "push-device",
    "subscription.added": "topic-subscription",
    "subscription.removed": "topic-subscription",
    "page.published": "page",
}


def test_every_member_is_registered_with_the_values_already_stored() -> None:
    assert set(EVENT_TYPES) == set(EventType)
    assert {member.value: member.resource_type for member in EventType} == STORED


def test_only_a_result_before_its_release_is_hidden_from_her_and_only_labs_and_documents_decide_per_event() -> None:
    hidden = {m for m in EventType if m.spec.visibility is Visibility.CLINICIANS_ONLY}
    per_event = {m for m in EventType if m.spec.visibility is Visibility.WRITER_DECIDES}
    assert hidden == {EventType.LAB_RESULT_NEW}
    # A journal document's author may hide it from the patient (visibleToPatient false): its events say so each.
    documents = {EventType.DOCUMENT_ADDED, EventType.DOCUMENT_SUPERSEDED, EventType.DOCUMENT_ENTERED_IN_ERROR}
    assert per_event == {EventType.LAB_RESULT_UPDATED, EventType.LAB_RESULT_CORRECTED, *documents}
    assert {m for m in EventType if m.spec.audience is Audience.TOPIC} == {EventType.PAGE_PUBLISHED}


def test_a_stored_value_reads_back_as_its_member_and_an_unknown_one_as_none() -> None:
    assert registered("pregnancy.consultation.added") is EventType.PREGNANCY_CONSULTATION_ADDED
    assert registered("consultation.added") is None


def _appends(tree: ast.AST) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (getattr(node.func, "attr", None) or getattr(node.func, "id", None))
        in {"append_event", "append_topic_event"}
    ]


def test_no_domain_appends_a_literal_type() -> None:
    """Besides mypy: every call site in backend/ names the type by an expression (a member), never a string."""
    calls = 0
    for path in BACKEND.rglob("*.py"):
        for call in _appends(ast.parse(path.read_text(encoding="utf-8"))):
            calls += 1
            assert len(call.args) >= 2, f"{path}:{call.lineno}"
            assert not isinstance(call.args[1], ast.Constant), f"{path}:{call.lineno} appends a literal type"
    assert calls >= 30  # the scan found the call sites


async def _seq(db: asyncpg.Connection, citizen_id: object) -> int:
    seq: int = await db.fetchval("SELECT event_seq FROM patient WHERE id = $1", citizen_id)
    return seq


async def test_append_event_refuses_a_plain_string_and_stores_nothing(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    before = await _seq(db, citizen.patient_id)
    for wrong in ("pregnancy.consultation.added", "consultation.added"):
        with pytest.raises(UnregisteredEventType, match="not an EventType member"):
            async with DB.transaction():
                await events.append_event(citizen.patient_id, wrong, "r1")  # type: ignore[arg-type]
    with pytest.raises(UnregisteredEventType, match="not an EventType member"):
        async with DB.transaction():
            await events.append_topic_event("svangerskap", "page.published", "side")  # type: ignore[arg-type]
    assert await _seq(db, citizen.patient_id) == before
    assert await db.fetchval("SELECT count(*) FROM event WHERE patient_id = $1", citizen.patient_id) == before


async def test_patient_and_topic_events_are_not_interchangeable(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    with pytest.raises(UnregisteredEventType, match="topic event"):
        async with DB.transaction():
            await events.append_event(citizen.patient_id, EventType.PAGE_PUBLISHED, "side")
    with pytest.raises(UnregisteredEventType, match="patient event"):
        async with DB.transaction():
            await events.append_topic_event("svangerskap", EventType.MEDICATIONS_UPDATED, "side")


async def test_visibility_is_the_registrys_unless_the_type_leaves_it_to_the_writer(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    with pytest.raises(UnregisteredEventType, match="may not override"):
        async with DB.transaction():
            await events.append_event(citizen.patient_id, EventType.LAB_RESULT_NEW, "r1", citizen_visible=True)
    with pytest.raises(UnregisteredEventType, match="needs citizen_visible"):
        async with DB.transaction():
            await events.append_event(citizen.patient_id, EventType.LAB_RESULT_CORRECTED, "r1")

    async with DB.transaction():
        await events.append_event(citizen.patient_id, EventType.LAB_RESULT_NEW, "r1")
        await events.append_event(citizen.patient_id, EventType.LAB_RESULT_CORRECTED, "r1", citizen_visible=False)
        await events.append_event(citizen.patient_id, EventType.LAB_RESULT_RELEASED, "r1")
        await events.append_event(citizen.patient_id, EventType.LAB_RESULT_CORRECTED, "r1", citizen_visible=True)
    rows = await db.fetch(
        "SELECT type, resource_type, citizen_visible FROM event WHERE patient_id = $1 ORDER BY seq", citizen.patient_id
    )
    assert [tuple(row) for row in rows] == [
        ("lab-result.new", "lab-report", False),
        ("lab-result.corrected", "lab-report", False),
        ("lab-result.released", "lab-result", True),
        ("lab-result.corrected", "lab-report", True),
    ]
    feed = (await client.get("/citizen/v1/me/changes", headers=citizen.headers)).json()["items"]
    assert [(item["type"], item["resourceType"]) for item in feed] == [
        ("lab-result.released", "lab-result"),
        ("lab-result.corrected", "lab-report"),
    ]
