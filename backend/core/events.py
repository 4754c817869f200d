"""The per-patient event log: appended in the writer's transaction, read as the app's change feed, drained as the push outbox."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import msgspec

from backend.core.change_signals import SIGNALS
from backend.core.errors import HelsekortError
from backend.core.event_types import EVENT_TYPES, Audience, EventSpec, EventType, Visibility
from backend.db.engine import DB

__all__ = [  # EventType is re-exported: domains write `events.EventType.X`
    "ChangeItem",
    "ClaimedEvent",
    "EventOutsideTransaction",
    "EventType",
    "UnregisteredEventType",
    "ack_events",
    "append_event",
    "append_topic_event",
    "changes_since",
    "claim_events",
    "defer_event",
    "outbox_age_seconds",
]


class EventOutsideTransaction(HelsekortError):
    """A domain tried to append an event outside its write transaction (a bug, not bad input)."""


class UnregisteredEventType(HelsekortError):
    """A domain tried to append a type that is not a member of `EventType`, or in the wrong way (a bug)."""


class ChangeItem(msgspec.Struct, kw_only=True, rename="camel", frozen=True):
    seq: int
    type: str
    resource_type: str
    resource_id: str
    at: datetime


class ClaimedEvent(msgspec.Struct, kw_only=True, frozen=True):
    id: int
    patient_id: uuid.UUID | None
    topic: str | None
    type: str
    resource_type: str
    resource_id: str
    at: datetime
    attempts: int
    citizen_visible: bool


def _spec(event_type: EventType, audience: Audience) -> EventSpec:
    # A plain string passes no type check at runtime; refuse it so a misspelt type can never be stored.
    if not isinstance(event_type, EventType):
        raise UnregisteredEventType(f"{event_type!r} is not an EventType member; register it in core/event_types.py")
    spec = EVENT_TYPES[event_type]
    if spec.audience is not audience:
        raise UnregisteredEventType(f"{event_type} is a {spec.audience.value} event, not a {audience.value} event")
    return spec


def _transaction_connection() -> object:
    transaction = DB.current_transaction.get()
    if transaction is None:
        raise EventOutsideTransaction("events are appended inside the write's transaction")
    return transaction.connection


async def append_event(
    patient_id: uuid.UUID,
    type: EventType,
    resource_id: str | uuid.UUID,
    *,
    available_at: datetime | None = None,
    citizen_visible: bool | None = None,
) -> int:
    """Append one event for the patient in the current transaction; returns its per-patient seq.

    The resource type and whether the event is in her change feed come from the type's registration in
    core/event_types.py. Only a type registered as `Visibility.WRITER_DECIDES` takes (and needs)
    `citizen_visible`. An event she may not see is kept out of her feed and never pushed; the feed's
    `seq` then has a gap, which the cursor handles.

    The patient row's counter is incremented in the same statement, which also serialises
    concurrent writers for one patient so `seq` never has gaps or duplicates. The statement also notifies every
    process of the change when it commits (core/change_signals.py).
    """
    spec = _spec(type, Audience.PATIENT)
    if spec.visibility is Visibility.WRITER_DECIDES:
        if citizen_visible is None:
            raise UnregisteredEventType(f"{type} needs citizen_visible: its writer decides whether she sees it")
        visible = citizen_visible
    elif citizen_visible is not None:
        raise UnregisteredEventType(f"{type} is registered as {spec.visibility.value}; the writer may not override it")
    else:
        visible = spec.visibility is Visibility.CITIZEN
    connection = _transaction_connection()
    seq: int = await connection.fetchval(  # type: ignore[attr-defined]
        """
        WITH next AS (
            UPDATE patient SET event_seq = event_seq + 1 WHERE id = $1 RETURNING event_seq
        )
        INSERT INTO event (patient_id, seq, type, resource_type, resource_id, at, available_at, attempts,
                           citizen_visible)
        SELECT $1, next.event_seq, $2, $3, $4, now(), COALESCE($5, now()), 0, $6 FROM next
        RETURNING seq, pg_notify('helsekort_patient_changed', $1::text)
        """,
        patient_id,
        type.value,
        spec.resource_type,
        str(resource_id),
        available_at,
        visible,
    )
    # Caches of what she is shown (core/conditional.py) drop her now, and every other process on the commit's NOTIFY.
    SIGNALS.changed(patient_id)
    return seq


async def append_topic_event(topic: str, type: EventType, resource_id: str) -> None:
    """An event for everyone following a CMS topic: no patient, so it goes to `topic_event`, not `event`."""
    spec = _spec(type, Audience.TOPIC)
    connection = _transaction_connection()
    await connection.execute(  # type: ignore[attr-defined]
        """
        INSERT INTO topic_event (topic, type, resource_type, resource_id, at, available_at, attempts)
        VALUES ($1, $2, $3, $4, now(), now(), 0)
        """,
        topic,
        type.value,
        spec.resource_type,
        resource_id,
    )


async def changes_since(
    patient_id: uuid.UUID, since: int, limit: int, *, resource_patterns: list[str] | None = None
) -> list[ChangeItem]:
    """Her feed after `since`; `resource_patterns` (LIKE patterns of resource types) narrows it for a
    representative to what her scopes cover (core/representation.py `feed_patterns`)."""
    async with DB.connection() as connection:
        rows = await connection.fetch(
            """
            SELECT seq, type, resource_type, resource_id, at FROM event
            WHERE patient_id = $1 AND seq > $2 AND citizen_visible
              AND ($4::text[] IS NULL OR resource_type LIKE ANY ($4::text[]))
            ORDER BY seq LIMIT $3
            """,
            patient_id,
            since,
            limit,
            resource_patterns,
        )
    return [
        ChangeItem(
            seq=row["seq"],
            type=row["type"],
            resource_type=row["resource_type"],
            resource_id=row["resource_id"],
            at=row["at"],
        )
        for row in rows
    ]


async def last_visible_change(connection: Any, patient_id: uuid.UUID, resource_types: Iterable[str]) -> int:
    """The seq of her latest event of these resource types that her feed shows (0 when none): it changes with
    every write she may see to them and with nothing she may not (a result before its release, a hold)."""
    found: int = await connection.fetchval(
        """
        SELECT COALESCE(max(seq), 0) FROM event
        WHERE patient_id = $1 AND citizen_visible AND resource_type = ANY ($2::text[])
        """,
        patient_id,
        list(resource_types),
    )
    return found


_CANDIDATE_WINDOW = 4

# Due and not claimed by a live worker (a crashed worker's claims come back when their lease ends).
_DUE = "dispatched_at IS NULL AND available_at <= now() AND (claim_expires_at IS NULL OR claim_expires_at < now())"

# Candidates only: no lock, and another worker may claim them first; the claim below decides. The lease's end
# is the database's time, and names this claim: the claimed rows are read back by it.
_DUE_PATIENTS = f"""
SELECT patient_id, now() + make_interval(secs => $2) AS lease_end
FROM event WHERE {_DUE} ORDER BY available_at, id LIMIT $1
"""  # noqa: S608 - fixed fragments only

# One patient's due events, claimed in one single-patient statement (one shard once the table is distributed).
# The pick is MATERIALIZED: as a plain `id IN (SELECT ... LIMIT ... FOR UPDATE SKIP LOCKED)` the planner may
# rescan it once per row (a nested-loop semi-join), each rescan skipping the rows just claimed, so that the
# claim took every due event of the patient whatever the limit.
_CLAIM_PATIENT = f"""
WITH picked AS MATERIALIZED (
    SELECT id FROM event WHERE patient_id = $1 AND {_DUE}
    ORDER BY available_at, id LIMIT $3
    FOR UPDATE SKIP LOCKED
)
UPDATE event SET claimed_by = $2, claim_expires_at = $4, attempts = attempts + 1
WHERE patient_id = $1 AND id IN (SELECT id FROM picked)
"""  # noqa: S608 - fixed fragments only

_CLAIMED_PATIENT_EVENTS = """
SELECT id, patient_id, NULL::text AS topic, type, resource_type, resource_id, at, attempts, citizen_visible
FROM event WHERE patient_id = ANY($1::uuid[]) AND claimed_by = $2 AND claim_expires_at = $3
"""

_CLAIM_TOPIC = f"""
WITH picked AS MATERIALIZED (
    SELECT id FROM topic_event WHERE {_DUE}
    ORDER BY available_at, id LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE topic_event SET claimed_by = $1, claim_expires_at = now() + make_interval(secs => $3), attempts = attempts + 1
WHERE id IN (SELECT id FROM picked)
RETURNING id, NULL::uuid AS patient_id, topic, type, resource_type, resource_id, at, attempts, true AS citizen_visible
"""  # noqa: S608 - fixed fragments only


def _claimed(row: Any) -> ClaimedEvent:
    return ClaimedEvent(
        id=row["id"],
        patient_id=row["patient_id"],
        topic=row["topic"],
        type=row["type"],
        resource_type=row["resource_type"],
        resource_id=row["resource_id"],
        at=row["at"],
        attempts=row["attempts"],
        citizen_visible=row["citizen_visible"],
    )


async def claim_events(worker_id: str, *, limit: int, lease_seconds: float) -> list[ClaimedEvent]:
    """Claim up to about `limit` due, undispatched events for this worker; others skip them until the lease ends.

    Work is claimed per patient (the shard key): the due patients are read first without locks, then each
    patient's events are claimed by a statement that locks rows of that patient only (`FOR UPDATE SKIP LOCKED`,
    so concurrent workers never claim an event twice). The per-patient statements go out in one pipeline, and the
    claimed rows are read back by this claim's lease end. Topic events come from `topic_event`.
    """
    claimed: list[ClaimedEvent] = []
    async with DB.connection() as connection:
        # A window of the oldest due events, wider than one batch, in random patient order: concurrent workers
        # then start on different patients instead of all queueing behind the first one's claimant.
        candidates = await connection.fetch(_DUE_PATIENTS, limit * _CANDIDATE_WINDOW, lease_seconds)
        if candidates:
            lease_end = candidates[0]["lease_end"]
            due = Counter(row["patient_id"] for row in candidates)
            patients = list(due)
            random.shuffle(patients)
            chosen: list[tuple[uuid.UUID, str, int, datetime]] = []
            total = 0
            for patient_id in patients:
                if total >= limit:
                    break
                share = min(due[patient_id], limit - total)
                chosen.append((patient_id, worker_id, share, lease_end))
                total += share
            await connection.executemany(_CLAIM_PATIENT, chosen)
            rows = await connection.fetch(
                _CLAIMED_PATIENT_EVENTS, [patient_id for patient_id, *_ in chosen], worker_id, lease_end
            )
            claimed.extend(_claimed(row) for row in rows)
        if len(claimed) < limit:
            rows = await connection.fetch(_CLAIM_TOPIC, worker_id, limit - len(claimed), lease_seconds)
            claimed.extend(_claimed(row) for row in rows)
    return sorted(claimed, key=lambda event: event.id)


def _by_patient(claimed: Iterable[ClaimedEvent]) -> dict[uuid.UUID | None, list[int]]:
    """Event ids per patient (None: topic events), so every statement touches one patient's rows."""
    grouped: dict[uuid.UUID | None, list[int]] = {}
    for event in claimed:
        grouped.setdefault(event.patient_id, []).append(event.id)
    return grouped


async def ack_events(worker_id: str, claimed: Iterable[ClaimedEvent]) -> None:
    """Mark claimed events done; only the claimant's acks count (a reclaimed event is someone else's).

    One statement per patient (her rows only), sent together in one pipeline.
    """
    grouped = _by_patient(claimed)
    topic_ids = grouped.pop(None, [])
    async with DB.connection() as connection:
        if grouped:
            await connection.executemany(
                """
                UPDATE event SET dispatched_at = now(), claimed_by = NULL, claim_expires_at = NULL
                WHERE patient_id = $3 AND id = ANY($1::bigint[]) AND claimed_by = $2 AND dispatched_at IS NULL
                """,
                [(ids, worker_id, patient_id) for patient_id, ids in grouped.items()],
            )
        if topic_ids:
            await connection.execute(
                """
                UPDATE topic_event SET dispatched_at = now(), claimed_by = NULL, claim_expires_at = NULL
                WHERE id = ANY($1::bigint[]) AND claimed_by = $2 AND dispatched_at IS NULL
                """,
                topic_ids,
                worker_id,
            )


async def defer_event(worker_id: str, event: ClaimedEvent, until: datetime) -> None:
    """Put a claimed event back until `until` (quiet hours, retry back-off)."""
    async with DB.connection() as connection:
        if event.patient_id is None:
            await connection.execute(
                """
                UPDATE topic_event SET available_at = $3, claimed_by = NULL, claim_expires_at = NULL
                WHERE id = $1 AND claimed_by = $2
                """,
                event.id,
                worker_id,
                until,
            )
        else:
            await connection.execute(
                """
                UPDATE event SET available_at = $3, claimed_by = NULL, claim_expires_at = NULL
                WHERE patient_id = $4 AND id = $1 AND claimed_by = $2
                """,
                event.id,
                worker_id,
                until,
                event.patient_id,
            )


async def outbox_age_seconds() -> float:
    """Age of the oldest due, undispatched event, patient or topic (0 when the outbox is drained)."""
    async with DB.connection() as connection:
        age: float | None = await connection.fetchval(
            """
            SELECT EXTRACT(EPOCH FROM now() - min(available_at))::float8 FROM (
                SELECT available_at FROM event WHERE dispatched_at IS NULL AND available_at <= now()
                UNION ALL
                SELECT available_at FROM topic_event WHERE dispatched_at IS NULL AND available_at <= now()
            ) AS due
            """
        )
    return max(age or 0.0, 0.0)
