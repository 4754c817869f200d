"""No push ever carries health data: every notifying event type and kind, in every locale, on every transport
(APNs for iOS, FCM for Android), as the phone receives it, payload and headers."""

from __future__ import annotations

import json
import re
import uuid

import httpx
from litestar import Litestar

from backend.core.event_types import EVENT_TYPES, EventType, Visibility
from backend.notifications.rules import (
    APP_TITLE,
    LOCALES,
    RULES,
    by_kind,
    collapse_id,
    render,
    render_android,
    rule_for,
)
from tests.factories import new_citizen
from tests.notifications.conftest import MakeDispatcher, append, append_topic, fcm_received_by, received_by, register
from tests.support.mock_apns import MockApns
from tests.support.mock_fcm import MockFcm

ALL_TEXTS = {text for rule in by_kind().values() for text in rule.texts.values()}

# What a record holds and a lock screen must never show: values, test names, medicines, diagnoses,
# and anything that tells a bystander she is pregnant.
SENSITIVE = (
    r"hemoglobin", r"hb", r"hba1c", r"ferritin", r"glu[ck]ose", r"mmol\w*", r"g/dl", r"mm\[hg\]", r"kg",
    r"hiv", r"syfilis", r"syphilis", r"hepatit\w*", r"positiv\w*", r"negativ\w*", r"high", r"low", r"abnormal",
    r"paracet\w*", r"sertralin", r"metformin", r"insulin", r"atc", r"loinc", r"dos\w*", r"mg",
    r"gravid\w*", r"svanger\w*", r"pregnan\w*", r"foster\w*", r"fetal", r"ultralyd", r"ultrasound", r"abort\w*",
    r"miscarriage", r"note", r"notat", r"jordm[oø]r", r"midwife", r"fastleg\w*", r"lege", r"doctor",
)  # fmt: skip


def _patient_event_types() -> list[EventType]:
    """Every type the rules notify for a patient."""
    return [t for t in RULES if t is not EventType.PAGE_PUBLISHED]


def _assert_content_free(payload: dict[str, object], *, forbidden: list[str], resource_id: str) -> None:
    assert set(payload) == {"aps", "kind", "resourceId"}
    aps = payload["aps"]
    assert isinstance(aps, dict)
    assert set(aps) == {"alert", "sound", "thread-id"}
    assert aps["alert"]["title"] == APP_TITLE
    assert aps["alert"]["body"] in ALL_TEXTS
    assert payload["resourceId"] == resource_id
    _assert_no_health_data(json.dumps(payload, ensure_ascii=False), forbidden=forbidden, resource_id=resource_id)


def _assert_android_content_free(
    message: dict[str, object], *, forbidden: list[str], resource_id: str, collapse: str
) -> None:
    assert set(message) <= {"token", "notification", "data", "android"}
    notification = message["notification"]
    assert isinstance(notification, dict)
    assert set(notification) == {"title", "body"}
    assert notification["title"] == APP_TITLE
    assert notification["body"] in ALL_TEXTS
    data = message["data"]
    assert isinstance(data, dict)
    assert set(data) == {"kind", "resourceId"}
    assert data["resourceId"] == resource_id
    # The Android options are delivery settings only: the opaque collapse digest, the kind, a priority, a lifetime.
    android = message["android"]
    assert isinstance(android, dict)
    assert android["notification"] == {"tag": collapse, "channel_id": data["kind"]}
    assert set(android) <= {"notification", "priority", "collapse_key", "ttl"}
    assert android.get("priority", "high") in ("high", "normal")
    assert android.get("collapse_key", collapse) == collapse
    assert re.fullmatch(r"\d+s", str(android.get("ttl", "0s")))
    shown = {"notification": notification, "data": data, "kind": android["notification"]["channel_id"]}
    _assert_no_health_data(json.dumps(shown, ensure_ascii=False), forbidden=forbidden, resource_id=resource_id)


def _assert_no_health_data(text: str, *, forbidden: list[str], resource_id: str) -> None:
    without_resource = text.replace(resource_id, "")
    lowered = without_resource.lower()
    for word in SENSITIVE:
        # Whole words, so that "low" is not found in "follow" nor "lege" in "legemiddellisten".
        assert not re.search(rf"\b{word}\b", lowered), f"{word!r} in {text}"
    for value in forbidden:
        assert value.lower() not in lowered, f"{value!r} in {text}"
    # No identity number, no measurement, no date: nothing numeric at all outside the opaque id.
    assert not re.search(r"\d", without_resource), text


async def test_every_notification_type_and_locale_reaches_every_phone_without_health_data(
    client: httpx.AsyncClient, app: Litestar, apns_mock: MockApns, fcm_mock: MockFcm, make_dispatcher: MakeDispatcher
) -> None:
    citizen = await new_citizen(client, app)
    tokens = [await register(client, citizen, locale=locale) for locale in LOCALES]
    android = [await register(client, citizen, locale=locale, platform="android") for locale in LOCALES]
    for topic in ("svangerskap", "legemidler"):
        await client.put(f"/citizen/v1/me/subscriptions/{topic}", headers=citizen.headers)
    resources: dict[EventType, str] = {}
    for event_type in _patient_event_types():
        resources[event_type] = str(uuid.uuid4())
        # Types whose writer decides visibility notify only when she may see them: here she may.
        decides = EVENT_TYPES[event_type].visibility is Visibility.WRITER_DECIDES
        await append(citizen.patient_id, event_type, resources[event_type], citizen_visible=True if decides else None)
    resources[EventType.PAGE_PUBLISHED] = "svangerskapsomsorg"
    await append_topic("svangerskap", resource_id=resources[EventType.PAGE_PUBLISHED])

    await make_dispatcher().drain()

    forbidden = [citizen.fnr, str(citizen.patient_id), citizen.patient_id.hex, "svangerskap"]
    seen: set[tuple[EventType, str]] = set()
    for token, locale in zip(tokens, LOCALES, strict=True):
        received = received_by(apns_mock, token)
        assert len(received) == len(resources), [item.payload for item in received]
        for item in received:
            assert item.status == 200
            event_type = next(t for t in resources if resources[t] == item.payload["resourceId"])
            rule = rule_for(event_type)
            assert rule is not None
            assert item.payload["kind"] == rule.kind
            _assert_content_free(item.payload, forbidden=forbidden, resource_id=resources[event_type])
            assert item.payload["aps"]["alert"]["body"] == rule.text(locale)
            assert str(citizen.patient_id) not in json.dumps(dict(item.headers))
            seen.add((event_type, locale))
    for token, locale in zip(android, LOCALES, strict=True):
        messages = fcm_received_by(fcm_mock, token)
        assert len(messages) == len(resources), [item.message for item in messages]
        for message in messages:
            assert message.status == 200
            event_type = next(t for t in resources if resources[t] == message.message["data"]["resourceId"])
            rule = rule_for(event_type)
            assert rule is not None
            assert message.message["notification"]["body"] == rule.text(locale)
            collapse = message.message["android"]["collapse_key"]
            _assert_android_content_free(
                message.message, forbidden=forbidden, resource_id=resources[event_type], collapse=collapse
            )
            # Headers: the bearer access token and the content type, nothing of hers.
            headers = json.dumps(dict(message.headers), ensure_ascii=False)
            for value in forbidden:
                assert value.lower() not in headers.lower()
            seen.add((event_type, f"android-{locale}"))
    assert seen == {(t, locale) for t in resources for locale in (*LOCALES, *(f"android-{x}" for x in LOCALES))}


def test_every_kind_renders_content_free_texts_in_every_locale_on_every_transport() -> None:
    """Every kind, mapped to an event yet or not (prescriptions, documents, reminders), × locale × transport."""
    resource = str(uuid.uuid4())
    kinds = by_kind()
    assert {"lab-result", "health-card", "medications", "emergency-access", "topic", "prescriptions", "documents",
            "reminder"} <= set(kinds)  # fmt: skip
    for rule in kinds.values():
        collapse = collapse_id(rule, "some-resource", resource)
        for locale in LOCALES:
            _assert_content_free(render(rule, locale, resource), forbidden=[], resource_id=resource)
            message = render_android(rule, locale, resource, collapse)
            _assert_android_content_free(message, forbidden=[], resource_id=resource, collapse=collapse)
