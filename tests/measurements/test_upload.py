"""Batch upload: one answer per item in order, valid items stored beside rejected ones, dedupe by the database."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from litestar import Litestar

from tests.factories import new_citizen
from tests.measurements.factories import BP, PULSE, WEIGHT, bp_item, value_item

UPLOAD = "/citizen/v1/me/measurements"


async def count_rows(db: asyncpg.Connection, patient_id: uuid.UUID) -> int:
    return int(await db.fetchval("SELECT count(*) FROM measurement WHERE patient_id = $1", patient_id))


async def count_events(db: asyncpg.Connection, patient_id: uuid.UUID) -> int:
    return int(
        await db.fetchval(
            "SELECT count(*) FROM event WHERE patient_id = $1 AND type = 'measurements.uploaded'", patient_id
        )
    )


async def test_mixed_batch_answers_each_item_in_order_and_stores_the_valid_ones(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    items = [
        bp_item(131, 84),
        value_item("99999-9", 1, "kg"),  # unknown code
        value_item(WEIGHT, 72.5, "lb"),  # wrong unit
        bp_item(80, 90),  # systolic not above diastolic
        value_item(WEIGHT, "72.5", "kg"),  # a string where a number belongs
        value_item(PULSE, 64, "/min", at=(datetime.now(UTC) + timedelta(minutes=30)).isoformat()),  # future
        value_item(WEIGHT, 500, "kg"),  # outside the plausible range
        {**value_item(), "colour": "blue"},  # unknown field
        value_item(PULSE, 64, "/min"),
    ]
    response = await client.post(UPLOAD, json={"items": items}, headers=citizen.headers)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [result["status"] for result in results] == [
        "created", "rejected", "rejected", "rejected", "rejected", "rejected", "rejected", "rejected", "created",
    ]  # fmt: skip
    assert [result["id"] for result in results] == [item["id"] for item in items]
    reasons = [result["reason"] for result in results]
    assert reasons[0] is None
    assert "unknown measurement code" in reasons[1]
    assert "unit 'lb'" in reasons[2]
    assert "systolic" in reasons[3]
    assert reasons[4].startswith("value:")
    assert "future" in reasons[5]
    assert "plausible range" in reasons[6]
    assert "colour" in reasons[7]
    stored = await db.fetch(
        "SELECT client_id, code, value, systolic, diastolic FROM measurement WHERE patient_id = $1 ORDER BY code",
        citizen.patient_id,
    )
    assert [(str(row["client_id"]), row["code"]) for row in stored] == [
        (items[0]["id"], BP),
        (items[8]["id"], PULSE),
    ]
    assert (stored[0]["systolic"], stored[0]["diastolic"], stored[0]["value"]) == (131, 84, None)
    assert stored[1]["value"] == 64


async def test_nan_infinity_and_out_of_range_numbers_are_rejected_per_item(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    good, nan, infinite, huge, text_nan = (
        value_item(WEIGHT, 70),
        value_item(WEIGHT, 71),
        value_item(WEIGHT, 72),
        value_item(WEIGHT, 73),
        value_item(WEIGHT, "NaN"),
    )
    # Python's json writes the non-standard NaN / Infinity tokens; 1e400 overflows a double.
    body = json.dumps({"items": [good, nan, infinite, huge, text_nan]})
    body = body.replace('"value": 71', '"value": NaN').replace('"value": 72', '"value": Infinity')
    body = body.replace('"value": 73', '"value": 1e400')
    response = await client.post(UPLOAD, content=body, headers={**citizen.headers, "Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [result["status"] for result in results] == ["created", "rejected", "rejected", "rejected", "rejected"]
    assert "finite" in results[1]["reason"]
    assert "finite" in results[2]["reason"]
    assert results[2]["id"] == infinite["id"]
    assert results[4]["reason"].startswith("value:")
    assert await count_rows(db, citizen.patient_id) == 1


async def test_nan_in_a_batch_of_standard_json_is_rejected_alone(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    items = [value_item(WEIGHT, 70), bp_item(float("nan"), 80), value_item(PULSE, float("inf"), "/min")]
    # Python's json.dumps writes NaN and Infinity tokens, as some clients' encoders do.
    response = await client.post(
        UPLOAD, content=json.dumps({"items": items}), headers={**citizen.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    assert [result["status"] for result in response.json()["results"]] == ["created", "rejected", "rejected"]
    assert await count_rows(db, citizen.patient_id) == 1


async def test_resending_the_same_batch_answers_duplicate_and_stores_nothing_new(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    items = [bp_item(120 + index, 80) for index in range(5)]
    first = await client.post(UPLOAD, json={"items": items}, headers=citizen.headers)
    assert [result["status"] for result in first.json()["results"]] == ["created"] * 5
    before = await db.fetch(
        "SELECT id, systolic FROM measurement WHERE patient_id = $1 ORDER BY id", citizen.patient_id
    )
    # The resend carries other values under the same ids: "nothing changes".
    changed = [{**item, "components": bp_item(150, 95)["components"]} for item in items]
    second = await client.post(UPLOAD, json={"items": changed}, headers=citizen.headers)
    assert second.status_code == 200
    assert second.json()["results"] == [{"id": item["id"], "status": "duplicate", "reason": None} for item in items]
    after = await db.fetch("SELECT id, systolic FROM measurement WHERE patient_id = $1 ORDER BY id", citizen.patient_id)
    assert after == before
    assert await count_events(db, citizen.patient_id) == 1


async def test_an_id_repeated_within_one_batch_is_stored_once(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    item = value_item(WEIGHT, 70)
    response = await client.post(UPLOAD, json={"items": [item, item]}, headers=citizen.headers)
    assert [result["status"] for result in response.json()["results"]] == ["created", "duplicate"]
    assert await count_rows(db, citizen.patient_id) == 1


async def test_device_resend_without_ids_is_deduped_by_serial_code_and_time(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    device = {"serial": "OMRON-123", "model": "Omron M7"}
    at = "2026-01-10T07:30:00+01:00"
    items = [
        bp_item(125, 80, at=at, item_id=None, device=device),
        value_item(PULSE, 66, "/min", at=at, item_id=None, device=device),  # same time, another code
    ]
    first = await client.post(UPLOAD, json={"items": items}, headers=citizen.headers)
    results = first.json()["results"]
    assert [result["status"] for result in results] == ["created", "created"]
    assert all(uuid.UUID(result["id"]) for result in results)  # the stored ids, as the items had none
    # The same instant written in UTC is the same reading.
    resend = [{**items[0], "effectiveAt": "2026-01-10T06:30:00Z"}, items[1]]
    second = await client.post(UPLOAD, json={"items": resend}, headers=citizen.headers)
    assert second.json()["results"] == [
        {"id": None, "status": "duplicate", "reason": None},
        {"id": None, "status": "duplicate", "reason": None},
    ]
    # Without a serial there is nothing to dedupe on: another reading.
    third = await client.post(UPLOAD, json={"items": [bp_item(125, 80, at=at, item_id=None)]}, headers=citizen.headers)
    assert third.json()["results"][0]["status"] == "created"
    assert await count_rows(db, citizen.patient_id) == 3


async def test_concurrent_identical_batches_store_once(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    items = [bp_item(110 + index % 50, 70) for index in range(200)]
    responses = await asyncio.gather(
        *(client.post(UPLOAD, json={"items": items}, headers=citizen.headers) for _ in range(4))
    )
    statuses = [[result["status"] for result in response.json()["results"]] for response in responses]
    assert all(response.status_code == 200 for response in responses)
    # Every item is created by exactly one of the batches and a duplicate in the others.
    for index in range(len(items)):
        column = [batch[index] for batch in statuses]
        assert sorted(column) == ["created", "duplicate", "duplicate", "duplicate"]
    assert await count_rows(db, citizen.patient_id) == 200


async def test_one_event_per_batch_and_none_for_a_batch_that_stores_nothing(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    items = [value_item(WEIGHT, 60 + index) for index in range(50)]
    await client.post(UPLOAD, json={"items": items}, headers=citizen.headers)
    assert await count_events(db, citizen.patient_id) == 1
    await client.post(UPLOAD, json={"items": items}, headers=citizen.headers)
    await client.post(UPLOAD, json={"items": [value_item("nope", 1, "kg")]}, headers=citizen.headers)
    assert await count_events(db, citizen.patient_id) == 1
    feed = (await client.get("/citizen/v1/me/changes", headers=citizen.headers)).json()["items"]
    uploads = [item for item in feed if item["type"] == "measurements.uploaded"]
    assert len(uploads) == 1
    assert uploads[0]["resourceType"] == "measurement-batch"


async def test_a_thousand_items_are_accepted_and_a_thousand_and_one_refused_whole(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    items = [
        value_item(PULSE, 60 + index % 40, "/min", at=(start + timedelta(minutes=index)).isoformat())
        for index in range(1001)
    ]
    refused = await client.post(UPLOAD, json={"items": items}, headers=citizen.headers)
    assert refused.status_code == 413
    problem = refused.json()
    assert problem["limit"] == 1000
    assert "1000" in problem["detail"]
    assert problem["errors"][0]["field"] == "items"
    assert await count_rows(db, citizen.patient_id) == 0
    # Over the limit with a bad item too (the per-item path) is refused the same way.
    refused_again = await client.post(
        UPLOAD, json={"items": [*items[:1000], value_item(WEIGHT, "x")]}, headers=citizen.headers
    )
    assert refused_again.status_code == 413
    accepted = await client.post(UPLOAD, json={"items": items[:1000]}, headers=citizen.headers)
    assert accepted.status_code == 200
    assert {result["status"] for result in accepted.json()["results"]} == {"created"}
    assert await count_rows(db, citizen.patient_id) == 1000


async def test_a_body_that_is_not_a_batch_is_refused_naming_the_field(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    cases = [
        (b'{"items": 5}', "items"),
        (b'{"things": []}', "things"),
        (b"{}", "items"),
        (b'{"items": [], "extra": 1}', "extra"),
        (b"[1, 2]", "items"),
        (b'{"items": [', "body"),
        (b"", "body"),
    ]
    for body, field in cases:
        response = await client.post(
            UPLOAD, content=body, headers={**citizen.headers, "Content-Type": "application/json"}
        )
        assert response.status_code == 400, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["errors"][0]["field"] == field, (body, response.text)
    assert await count_rows(db, citizen.patient_id) == 0


async def test_an_empty_batch_answers_no_results(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    response = await client.post(UPLOAD, json={"items": []}, headers=citizen.headers)
    assert response.status_code == 200
    assert response.json() == {"results": []}


async def test_a_time_without_offset_is_rejected_with_its_reason(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    item = value_item(WEIGHT, 70, at="2026-01-01T08:00:00")
    response = await client.post(UPLOAD, json={"items": [item]}, headers=citizen.headers)
    assert response.json()["results"][0] == {
        "id": item["id"],
        "status": "rejected",
        "reason": "effectiveAt must carry a UTC offset",
    }


async def test_uploads_of_two_citizens_with_the_same_item_id_are_both_stored(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    first, second = await new_citizen(client, app), await new_citizen(client, app)
    item = value_item(WEIGHT, 70)
    for citizen in (first, second):
        response = await client.post(UPLOAD, json={"items": [item]}, headers=citizen.headers)
        assert response.json()["results"][0]["status"] == "created"
    assert await count_rows(db, first.patient_id) == 1
    assert await count_rows(db, second.patient_id) == 1


async def test_clinician_records_readings_in_the_same_format(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    from tests.factories import new_clinician, relate

    citizen = await new_citizen(client, app)
    nurse = new_clinician(app, org_kind="hjemmetjeneste", authorization="SP")
    await relate(client, nurse, citizen.patient_id)
    items = [bp_item(140, 85), value_item(WEIGHT, "heavy")]
    response = await client.post(
        f"/clinician/v1/patients/{citizen.patient_id}/measurements", json={"items": items}, headers=nurse.headers
    )
    assert response.status_code == 200, response.text
    assert [result["status"] for result in response.json()["results"]] == ["created", "rejected"]
    row = await db.fetchrow("SELECT source, recorded_by_hpr FROM measurement WHERE patient_id = $1", citizen.patient_id)
    assert (row["source"], row["recorded_by_hpr"]) == ("clinician", nurse.hpr)
    listed = await client.get("/citizen/v1/me/measurements", headers=citizen.headers)
    assert [item["source"] for item in listed.json()["items"]] == ["clinician"]


async def test_recent_timestamps_up_to_five_minutes_ahead_are_accepted(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    citizen = await new_citizen(client, app)
    soon = (datetime.now(UTC) + timedelta(minutes=4)).isoformat()
    response = await client.post(UPLOAD, json={"items": [value_item(WEIGHT, 70, at=soon)]}, headers=citizen.headers)
    assert response.json()["results"][0]["status"] == "created"
