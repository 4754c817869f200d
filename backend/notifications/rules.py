"""Which events notify, with what content-free text, priority, lifetime and collapse id, and when quiet hours end.

A notification never says more than "something of this kind changed": no value, test name, medicine,
name, identity number or patient id. The app fetches the details after the citizen has logged in.
Which event types notify is a product decision made per member of core's `EventType`, in `RULES`; a type
not there does not notify (tests/notifications/test_end_to_end_pushes.py holds the decision for every
member, so a new member cannot be added without deciding). An event she may not see (yet) never notifies.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal

from backend.core.clock import OSLO
from backend.core.event_types import EventType, registered
from backend.core.settings import SettingsError

Locale = Literal["nb", "nn", "en", "se"]
LOCALES: tuple[Locale, ...] = ("nb", "nn", "en", "se")  # se: Northern Sámi
Priority = Literal[5, 10]
# What the citizen may turn off (GET/PUT /me/notification-preferences): a kind turned off sends no push, and
# the inbox still keeps it. A rule with no preference (emergency access) cannot be turned off.
PreferenceKind = Literal["labResults", "medications", "prescriptions", "pregnancy", "documents", "content"]
PREFERENCE_KINDS: tuple[PreferenceKind, ...] = (
    "labResults",
    "medications",
    "prescriptions",
    "pregnancy",
    "documents",
    "content",
)

APP_TITLE = "Helsekort"


@dataclass(frozen=True, slots=True, kw_only=True)
class NotificationRule:
    """How one kind of event is told to the citizen's devices."""

    kind: str  # what the app opens; also the notification's thread
    texts: dict[str, str]  # by locale (every one of LOCALES); nb is the fallback
    preference: PreferenceKind | None  # the citizen's switch for it; None: always pushed
    priority: Priority = 10
    lifetime: timedelta = timedelta(days=3)  # APNs drops it after this; an older event is not sent at all
    quiet_hours: bool = False  # wait until the citizen's night is over

    def text(self, locale: str) -> str:
        return self.texts.get(locale) or self.texts["nb"]


# To someone who represents her (a guardian, an attorney): that there is news, never whose or what (issue 18).
REPRESENTED = NotificationRule(
    kind="represented",
    texts={
        "nb": "Det er nytt i Helsekort",
        "nn": "Det er nytt i Helsekort",
        "en": "There is news in Helsekort",
        "se": "Helsekorttas leat ođđasat",
    },
    preference=None,  # for someone she acts for: her own switches are about her own record
)
LAB_RESULT = NotificationRule(
    kind="lab-result",
    texts={
        "nb": "Du har fått et nytt prøvesvar",
        "nn": "Eit nytt prøvesvar er klart",
        "en": "A new test result is ready",
        "se": "Don leat ožžon ođđa iskkusboađu",
    },
    preference="labResults",
    quiet_hours=True,
)
# "Helsekort", not "pregnancy card": a lock screen must not tell who sees it that she is pregnant.
HEALTH_CARD = NotificationRule(
    kind="health-card",
    texts={
        "nb": "Helsekortet ditt har ny informasjon",
        "nn": "Helsekortet ditt har ny informasjon",
        "en": "Your health card has new information",
        "se": "Du Helsekorttas leat ođđa dieđut",
    },
    preference="pregnancy",
)
MEDICATIONS = NotificationRule(
    kind="medications",
    texts={
        "nb": "Legemiddellisten din er endret",
        "nn": "Legemiddellista di er endra",
        "en": "Your medication list has changed",
        "se": "Du dálkkaslistu lea rievdaduvvon",
    },
    preference="medications",
)
EMERGENCY_ACCESS = NotificationRule(
    kind="emergency-access",
    texts={
        "nb": "Helsepersonell har brukt nødtilgang til opplysningene dine",
        "nn": "Helsepersonell har brukt naudtilgang til opplysningane dine",
        "en": "A health professional has used emergency access to your information",
        "se": "Dearvvašvuođabargi lea geavahan heahtebeassama du dieđuide",
    },
    preference=None,  # someone outside her care opened her record: she is always told
    lifetime=timedelta(days=7),
)
TOPIC_NEWS = NotificationRule(
    kind="topic",
    texts={
        "nb": "Ny informasjon om et tema du følger",
        "nn": "Ny informasjon om eit tema du følgjer",
        "en": "New information on a topic you follow",
        "se": "Ođđa dieđut fáttá birra maid čuovut",
    },
    preference="content",
    priority=5,
    lifetime=timedelta(days=1),
)
PRESCRIPTIONS = NotificationRule(
    kind="prescriptions",
    texts={
        "nb": "Du har en endring i reseptene dine",
        "nn": "Du har ei endring i reseptane dine",
        "en": "There is a change to your prescriptions",
        "se": "Du reseptain lea rievdadus",
    },
    preference="prescriptions",
)
# No type, title or organisation: "a discharge summary from the psychiatric ward" is health data.
DOCUMENTS = NotificationRule(
    kind="documents",
    texts={
        "nb": "Du har et nytt dokument i Helsekort",
        "nn": "Du har eit nytt dokument i Helsekort",
        "en": "You have a new document in Helsekort",
        "se": "Dus lea ođđa dokumeanta Helsekorttas",
    },
    preference="documents",
)
# A reminder from the worker (a consultation or vaccine of the programme, a prescription about to expire) says
# only that there is one: what it is about is behind the login. `preference` is the kind of what it reminds of.
PREGNANCY_REMINDER = NotificationRule(
    kind="reminder",
    texts={
        "nb": "Du har en påminnelse i Helsekort",
        "nn": "Du har ei påminning i Helsekort",
        "en": "You have a reminder in Helsekort",
        "se": "Dus lea muittuhus Helsekorttas",
    },
    preference="pregnancy",
    quiet_hours=True,
    lifetime=timedelta(days=2),
)
PRESCRIPTION_REMINDER = NotificationRule(
    kind="reminder",
    texts=PREGNANCY_REMINDER.texts,
    preference="prescriptions",
    quiet_hours=True,
    lifetime=timedelta(days=2),
)

# Event type → rule; a type not listed does not notify. What a clinician writes on the card is told; what
# she writes herself (a note, a self-registration) is not: she made it.
RULES: dict[EventType, NotificationRule] = {
    EventType.PREGNANCY_CARD_CREATED: HEALTH_CARD,
    EventType.PREGNANCY_CARD_UPDATED: HEALTH_CARD,
    EventType.PREGNANCY_CARD_CLOSED: HEALTH_CARD,
    EventType.PREGNANCY_CONSULTATION_ADDED: HEALTH_CARD,
    EventType.PREGNANCY_CONSULTATION_CORRECTED: HEALTH_CARD,
    EventType.PREGNANCY_ULTRASOUND_ADDED: HEALTH_CARD,
    EventType.PREGNANCY_VACCINE_ADDED: HEALTH_CARD,
    EventType.PREGNANCY_TEST_ADDED: HEALTH_CARD,
    EventType.PREGNANCY_EARLIER_PREGNANCY_ADDED: HEALTH_CARD,
    EventType.PREGNANCY_REMINDER_DUE: PREGNANCY_REMINDER,
    EventType.LAB_RESULT_RELEASED: LAB_RESULT,
    # A new version of a result she has already been told of (a correction, a final after a preliminary) is
    # a new result to read; one she has not been told of is in her feed only once released (citizen_visible).
    EventType.LAB_RESULT_UPDATED: LAB_RESULT,
    EventType.LAB_RESULT_CORRECTED: LAB_RESULT,
    EventType.MEDICATIONS_UPDATED: MEDICATIONS,
    # The GP's answer to her renewal request, and the one reminder 30 days before a prescription expires.
    EventType.RENEWAL_REQUEST_ANSWERED: PRESCRIPTIONS,
    EventType.PRESCRIPTION_EXPIRING: PRESCRIPTION_REMINDER,
    EventType.EMERGENCY_ACCESS_OPENED: EMERGENCY_ACCESS,
    # A new journal document she may see (not one the author hid from her: citizen_visible is false).
    EventType.DOCUMENT_ADDED: DOCUMENTS,
    EventType.PAGE_PUBLISHED: TOPIC_NEWS,
}


def rule_for(event_type: EventType | str, *, citizen_visible: bool = True) -> NotificationRule | None:
    """The rule for an event (a stored type this version does not know notifies nobody); none for an event
    she may not see, so a push never tells of a result before its release."""
    member = registered(event_type)
    if member is None or not citizen_visible:
        return None
    return RULES.get(member)


@functools.cache
def by_kind() -> dict[str, NotificationRule]:
    """One rule of each kind, for texts and the inbox (the kinds of every rule here, mapped or not yet); built once,
    as the inbox asks it for every item it shows."""
    rules = [LAB_RESULT, HEALTH_CARD, MEDICATIONS, EMERGENCY_ACCESS, TOPIC_NEWS, PRESCRIPTIONS, DOCUMENTS,
             PREGNANCY_REMINDER, REPRESENTED, *RULES.values()]  # fmt: skip
    return {rule.kind: rule for rule in reversed(rules)}


def text_of(kind: str, locale: str) -> str:
    """The inbox's text of a kind (a kind this version no longer has reads as a reminder to look)."""
    rule = by_kind().get(kind, PREGNANCY_REMINDER)
    return rule.text(locale)


def collapse_id(rule: NotificationRule, resource_type: str, resource_id: str) -> str:
    """One id per resource, so a resend (at-least-once) or a later change replaces the shown notification."""
    digest = hashlib.sha256(f"{resource_type}\x00{resource_id}".encode()).hexdigest()[:32]
    return f"{rule.kind}:{digest}"


def render_android(rule: NotificationRule, locale: str, resource_id: str, collapse: str) -> dict[str, Any]:
    """The FCM message (without token, which the sender adds): the same text and id as on iOS, nothing else.

    `tag` makes a later notification of the same resource replace the shown one, as apns-collapse-id does.
    """
    return {
        "notification": {"title": APP_TITLE, "body": rule.text(locale)},
        "data": {"kind": rule.kind, "resourceId": resource_id},
        "android": {"notification": {"tag": collapse, "channel_id": rule.kind}},
    }


def render(rule: NotificationRule, locale: str, resource_id: str) -> dict[str, Any]:
    """The APNs payload: a fixed text per kind and locale, and the opaque resource id for the app to open.

    No resource type: the kind says what to open, and a type such as `pregnancy-card` would tell whoever
    handles the payload that she is pregnant, which the kind `health-card` is there to hide.
    """
    return {
        "aps": {
            "alert": {"title": APP_TITLE, "body": rule.text(locale)},
            "sound": "default",
            "thread-id": rule.kind,
        },
        "kind": rule.kind,
        "resourceId": resource_id,
    }


# --- quiet hours (Europe/Oslo wall clock) ----------------------------------------------------------------

_WINDOW = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A nightly window on Oslo's wall clock, e.g. 22:00-07:00 across midnight."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours | None:
        """`HH:MM-HH:MM`, or empty for none; anything else is a configuration error."""
        text = text.strip()
        if not text:
            return None
        match = _WINDOW.fullmatch(text)
        if match is None:
            raise SettingsError(f"HELSEKORT_QUIET_HOURS must look like 22:00-07:00 (or be empty), not {text!r}")
        start = time(int(match[1]), int(match[2]))
        end = time(int(match[3]), int(match[4]))
        if start == end:
            raise SettingsError("HELSEKORT_QUIET_HOURS must start and end at different times")
        return cls(start, end)

    def ends_after(self, moment: datetime) -> datetime | None:
        """When the quiet hours that `moment` falls in end (aware UTC), or None when `moment` is not in them.

        Computed on the Oslo wall clock, so a night that spans a daylight-saving change still ends at
        the configured local time; an end inside the spring-forward gap moves forward by the gap (02:30 →
        03:30), and one inside the repeated autumn hour is its first occurrence.
        """
        if moment.tzinfo is None:
            raise ValueError("quiet hours need an aware datetime")
        local = moment.astimezone(OSLO)
        clock = local.time().replace(tzinfo=None)
        if self.start < self.end:
            inside = self.start <= clock < self.end
            end_day = local.date()
        else:
            inside = clock >= self.start or clock < self.end
            end_day = local.date() + timedelta(days=1) if clock >= self.start else local.date()
        if not inside:
            return None
        return datetime.combine(end_day, self.end, tzinfo=OSLO).astimezone(UTC)
