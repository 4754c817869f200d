"""The one vocabulary of events: every type a domain may append, its resource type and who may see it.

Domains meet through these members, never through strings: the pregnancy card appends
`EventType.PREGNANCY_CONSULTATION_ADDED` and the push rules (notifications/rules.py) are keyed by the same
member, so a renamed or new event cannot silently stop (or start) a push. The values are stored in the
`event` table and read by the apps from the change feed: never rename one; add a member instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from types import MappingProxyType


class EventType(StrEnum):
    # core: the access model, as the citizen and clinicians change it
    BLOCK_ADDED = "block.added"
    BLOCK_REMOVED = "block.removed"
    CONSENT_GIVEN = "consent.given"
    CONSENT_WITHDRAWN = "consent.withdrawn"
    CARE_RELATION_ATTESTED = "care-relation.attested"
    EMERGENCY_ACCESS_OPENED = "emergency-access.opened"
    ALERT_RAISED = "alert.raised"
    ALERT_ACKNOWLEDGED = "alert.acknowledged"
    # pregnancy card: clinicians' entries
    PREGNANCY_CARD_CREATED = "pregnancy.card.created"
    PREGNANCY_CARD_UPDATED = "pregnancy.card.updated"
    PREGNANCY_CARD_CLOSED = "pregnancy.card.closed"
    PREGNANCY_CONSULTATION_ADDED = "pregnancy.consultation.added"
    PREGNANCY_CONSULTATION_CORRECTED = "pregnancy.consultation.corrected"
    PREGNANCY_ULTRASOUND_ADDED = "pregnancy.ultrasound.added"
    PREGNANCY_VACCINE_ADDED = "pregnancy.vaccine.added"
    PREGNANCY_TEST_ADDED = "pregnancy.test.added"
    PREGNANCY_EARLIER_PREGNANCY_ADDED = "pregnancy.earlier-pregnancy.added"
    # pregnancy card: the woman's own entries
    PREGNANCY_NOTE_ADDED = "pregnancy.note.added"
    PREGNANCY_SELF_REGISTRATION_ADDED = "pregnancy.self-registration.added"
    # lab results
    LAB_RESULT_NEW = "lab-result.new"
    LAB_RESULT_UPDATED = "lab-result.updated"
    LAB_RESULT_CORRECTED = "lab-result.corrected"
    LAB_RESULT_RELEASED = "lab-result.released"
    # medication list
    MEDICATIONS_UPDATED = "medications.updated"
    MEDICATIONS_RECONCILED = "medications.reconciled"
    MEDICATIONS_DISCREPANCY_REPORTED = "medications.discrepancy-reported"
    # prescriptions (SFM): prescribed, cancelled or replaced, dispensed, expiring soon; her renewal requests
    PRESCRIPTION_CREATED = "prescription.created"
    PRESCRIPTION_CANCELLED = "prescription.cancelled"
    PRESCRIPTION_DISPENSED = "prescription.dispensed"
    PRESCRIPTION_EXPIRING = "prescription.expiring"
    RENEWAL_REQUEST_CREATED = "renewal-request.created"
    RENEWAL_REQUEST_ANSWERED = "renewal-request.answered"
    # measurements
    MEASUREMENTS_UPLOADED = "measurements.uploaded"
    NEWS2_RECORDED = "news2.recorded"
    SPO2_TARGET_PRESCRIBED = "spo2-target.prescribed"
    SPO2_TARGET_CLEARED = "spo2-target.cleared"
    # journal documents
    DOCUMENT_ADDED = "document.added"
    DOCUMENT_SUPERSEDED = "document.superseded"
    DOCUMENT_ENTERED_IN_ERROR = "document.entered-in-error"
    DOCUMENT_RESTRICTED = "document.restricted"
    DOCUMENT_UNRESTRICTED = "document.unrestricted"
    # push registration and topics
    DEVICE_REGISTERED = "device.registered"
    DEVICE_REMOVED = "device.removed"
    SUBSCRIPTION_ADDED = "subscription.added"
    SUBSCRIPTION_REMOVED = "subscription.removed"
    # CMS, for everyone following a topic (no patient)
    PAGE_PUBLISHED = "page.published"

    @property
    def spec(self) -> EventSpec:
        return EVENT_TYPES[self]

    @property
    def resource_type(self) -> str:
        return EVENT_TYPES[self].resource_type


class Visibility(Enum):
    """Whether the event is in the citizen's change feed."""

    CITIZEN = "citizen"
    CLINICIANS_ONLY = "clinicians-only"  # about something she may not see (yet)
    WRITER_DECIDES = "writer-decides"  # the writer says so per event (`citizen_visible=` on append_event)


class Audience(Enum):
    PATIENT = "patient"  # one patient's event: her change feed and her devices
    TOPIC = "topic"  # everyone following a CMS topic


@dataclass(frozen=True, slots=True)
class EventSpec:
    resource_type: str  # what the feed's `resourceType` names; the app fetches `resourceId` of this type
    visibility: Visibility = Visibility.CITIZEN
    audience: Audience = Audience.PATIENT


_CARD = EventSpec("pregnancy-card")

EVENT_TYPES: Mapping[EventType, EventSpec] = MappingProxyType(
    {
        EventType.BLOCK_ADDED: EventSpec("clinician-block"),
        EventType.BLOCK_REMOVED: EventSpec("clinician-block"),
        EventType.CONSENT_GIVEN: EventSpec("consent"),
        EventType.CONSENT_WITHDRAWN: EventSpec("consent"),
        EventType.CARE_RELATION_ATTESTED: EventSpec("care-relation"),
        EventType.EMERGENCY_ACCESS_OPENED: EventSpec("emergency-access"),
        EventType.ALERT_RAISED: EventSpec("alert"),
        EventType.ALERT_ACKNOWLEDGED: EventSpec("alert"),
        EventType.PREGNANCY_CARD_CREATED: _CARD,
        EventType.PREGNANCY_CARD_UPDATED: _CARD,
        EventType.PREGNANCY_CARD_CLOSED: _CARD,
        EventType.PREGNANCY_CONSULTATION_ADDED: _CARD,
        EventType.PREGNANCY_CONSULTATION_CORRECTED: _CARD,
        EventType.PREGNANCY_ULTRASOUND_ADDED: _CARD,
        EventType.PREGNANCY_VACCINE_ADDED: _CARD,
        EventType.PREGNANCY_TEST_ADDED: _CARD,
        EventType.PREGNANCY_EARLIER_PREGNANCY_ADDED: _CARD,
        EventType.PREGNANCY_NOTE_ADDED: _CARD,
        EventType.PREGNANCY_SELF_REGISTRATION_ADDED: _CARD,
        # A report arrives before she may see it; she learns of it by `lab-result.released` (CLINICAL.md).
        EventType.LAB_RESULT_NEW: EventSpec("lab-report", Visibility.CLINICIANS_ONLY),
        # A new version is news to her only when she has already been told of the report.
        EventType.LAB_RESULT_UPDATED: EventSpec("lab-report", Visibility.WRITER_DECIDES),
        EventType.LAB_RESULT_CORRECTED: EventSpec("lab-report", Visibility.WRITER_DECIDES),
        EventType.LAB_RESULT_RELEASED: EventSpec("lab-result"),
        EventType.MEDICATIONS_UPDATED: EventSpec("medication-list"),
        EventType.MEDICATIONS_RECONCILED: EventSpec("medication-reconciliation"),
        EventType.MEDICATIONS_DISCREPANCY_REPORTED: EventSpec("medication-discrepancy"),
        EventType.PRESCRIPTION_CREATED: EventSpec("prescription"),
        EventType.PRESCRIPTION_CANCELLED: EventSpec("prescription"),
        EventType.PRESCRIPTION_DISPENSED: EventSpec("prescription"),
        EventType.PRESCRIPTION_EXPIRING: EventSpec("prescription"),
        EventType.RENEWAL_REQUEST_CREATED: EventSpec("renewal-request"),
        EventType.RENEWAL_REQUEST_ANSWERED: EventSpec("renewal-request"),
        EventType.MEASUREMENTS_UPLOADED: EventSpec("measurement-batch"),
        EventType.NEWS2_RECORDED: EventSpec("news2-score"),
        EventType.SPO2_TARGET_PRESCRIBED: EventSpec("spo2-target"),
        EventType.SPO2_TARGET_CLEARED: EventSpec("spo2-target"),
        # A document the author hid from the patient (visibleToPatient false) is never in her feed.
        EventType.DOCUMENT_ADDED: EventSpec("document", Visibility.WRITER_DECIDES),
        EventType.DOCUMENT_SUPERSEDED: EventSpec("document", Visibility.WRITER_DECIDES),
        EventType.DOCUMENT_ENTERED_IN_ERROR: EventSpec("document", Visibility.WRITER_DECIDES),
        EventType.DOCUMENT_RESTRICTED: EventSpec("document"),
        EventType.DOCUMENT_UNRESTRICTED: EventSpec("document"),
        EventType.DEVICE_REGISTERED: EventSpec("push-device"),
        EventType.DEVICE_REMOVED: EventSpec("push-device"),
        EventType.SUBSCRIPTION_ADDED: EventSpec("topic-subscription"),
        EventType.SUBSCRIPTION_REMOVED: EventSpec("topic-subscription"),
        EventType.PAGE_PUBLISHED: EventSpec("page", audience=Audience.TOPIC),
    }
)

# A member without a spec is a bug of this module: refuse to start rather than fail at the first append.
if _missing := set(EventType) - set(EVENT_TYPES):  # pragma: no cover - guards edits to this file
    raise RuntimeError(f"event types without a spec: {sorted(_missing)}")


def registered(value: str) -> EventType | None:
    """The member a stored type names, or None for a type this version does not know (an older row)."""
    try:
        return EventType(value)
    except ValueError:
        return None
