"""No push ever carries health data: every notifying event type, in every locale, as the phone receives it."""

from __future__ import annotations

import json
import re
import uuid

import httpx
from litestar import Litestar

from backend.core.event_types import EVENT_TYPES, EventType, Visibility
from backend.notifications.rules import APP_TITLE, LOCALES, RULES, render, rule_for
from tests.factories import new_citizen
from tests.notifications.conftest import MakeDispatcher, append, append_topic, received_by, register
from tests.support.mock_apns import MockApns

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
    assert aps["alert"]["body"] in {text for rule in RULES.values() for text in rule.texts.values()}
    assert payload["resourceId"] == resource_id
    text = json.dumps(payload, ensure_ascii=False)
    without_resource = text.replace(resource_id, "")
    lowered = without_resource.lower()
    for word in SENSITIVE:
        # Whole words, so that "low" is not found in "follow" nor "lege" in "legemiddellisten".
        assert not re.search(rf"\b{word}\b", lowered), f"{word!r} in {text}"
    for value in forbidden:
        assert value.lower() not in lowered, f"{value!r} in {text}"
    # No identity number, no measurement, no date: nothing numeric at all outside the opaque id.
    assert not re.search(r"\d", without_resource), text


async def test_every_notification_type_and_locale_reaches_the_phone_without_health_data(
    client: httpx.AsyncClient, app: Litestar, apns_mock: MockApns, make_dispatcher: MakeDispatcher
) -> None:
    citizen = await new_citizen(client, app)
    tokens = [await register(client, citizen, locale=locale) for locale in LOCALES]
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
    assert seen == {(event_type, locale) for event_type in resources for locale in LOCALES}


def test_every_rule_renders_content_free_texts_in_every_locale() -> None:
    resource = str(uuid.uuid4())
    for rule in {rule.kind: rule for rule in RULES.values()}.values():
        for locale in (*LOCALES, "se"):
            _assert_content_free(render(rule, locale, resource), forbidden=[], resource_id=resource)
