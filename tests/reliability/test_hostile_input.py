"""Hostile input never reaches a 500 and never stores anything: each case is a 4xx problem naming the field.

Issue 12 ("No 500 from input", "Errors a typed client can decode"): NUL characters (PostgreSQL text cannot
hold U+0000) in every string of every write route's valid body, in path segments and query parameters;
lone surrogates; JSON nested 10,000 deep; forged and foreign paging cursors on every list; slugs and token
claims longer than their audit columns; an empty, non-JSON or text/plain body; every invalid field listed.
Each case is sent to the real route with real dev tokens; the write routes are the scope-walk registries of
tests/security, so a new route there is swept here too.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.dev.tokens import clinician_claims, editor_claims, mint
from tests.cms.pages import create_page, editor, new_slug
from tests.factories import bearer, new_citizen, new_clinician, relate, signing_key, synthetic_fnr
from tests.measurements.factories import bp_item, value_item
from tests.security.helper import PatientRoute, World, make_world
from tests.security.test_labs_routes import LAB_ROUTES
from tests.security.test_measurements_routes import MEASUREMENT_ROUTES, NEWS2_SET
from tests.security.test_medications_routes import MEDICATION_ROUTES
from tests.security.test_notifications_routes import NOTIFICATION_ROUTES
from tests.security.test_pregnancy_routes import PREGNANCY_ROUTES, _card, _consultation

PROBLEM_MEMBERS = {"type", "title", "status", "detail", "instance", "requestId", "errors"}
NUL = "\u0000"


def assert_problem(response: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    """A problem document a typed client decodes: integer status equal to the HTTP one, the field named."""
    assert response.status_code == status, f"{response.status_code} {response.text[:500]}"
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    problem: dict[str, Any] = response.json()
    assert isinstance(problem["status"], int), problem
    assert problem["status"] == status, problem
    assert {"type", "title", "status", "detail", "instance"} <= set(problem), problem
    for error in problem.get("errors", []):
        assert set(error) == {"field", "message"}, problem
        assert isinstance(error["field"], str), problem
        assert isinstance(error["message"], str), problem
    if field is not None:
        assert field in [error["field"] for error in problem.get("errors", [])], problem
    return problem


async def stored_rows(db: asyncpg.Connection) -> dict[str, int]:
    """Rows in every table but the idempotency keys (a refused request is remembered as refused), the audit
    log (a clinician's refused attempt on a raw-body route is audited as an attempt) and the rate-limit counters
    (a refused write still counts against the caller's write limit)."""
    tables = [
        row["tablename"]
        for row in await db.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename NOT IN ('idempotency_key', 'audit_log', 'rate_limit_window')"
        )
    ]
    union = " UNION ALL ".join(f"SELECT '{name}' AS name, count(*) AS n FROM \"{name}\"" for name in tables)
    return {row["name"]: row["n"] for row in await db.fetch(union)}


# --- the write routes and a valid body for each -----------------------------------------------------------------


def _with_note(world: World, params: dict[str, str]) -> dict[str, object]:
    return {**_consultation(world, params), "note": "Alt vel, god fosterlyd"}


def _with_device(world: World, params: dict[str, str]) -> dict[str, object]:
    device = {"manufacturer": "Omron", "model": "M7 Intelli IT"}
    return {"items": [bp_item(device=device), value_item(device=device)]}


EXTRA_WRITES = [
    PatientRoute("POST", "/clinician/v1/patients/lookup", "clinician", body=lambda w, p: {"fnr": w.owner.fnr}),
    PatientRoute(
        "POST", "/clinician/v1/patients/{patientId}/care-relations", "clinician", body=lambda w, p: {"kind": "gp"}
    ),
    PatientRoute(
        "POST",
        "/clinician/v1/patients/{patientId}/emergency-access",
        "clinician",
        body=lambda w, p: {"reason": "Bevisstløs pasient i akuttmottak"},
    ),
    PatientRoute("POST", "/clinician/v1/news2/score", "clinician", body=lambda w, p: NEWS2_SET),
    PatientRoute(
        "POST",
        "/clinician/v1/patients/{patientId}/pregnancies/{id}/consultations",
        "clinician",
        setup=_card,
        body=_with_note,
    ),
    PatientRoute("POST", "/citizen/v1/me/measurements", "citizen", body=_with_device),
    PatientRoute(
        "POST",
        "/clinician/v1/patients/{patientId}/measurements",
        "clinician",
        body=_with_device,
        org_kind="hjemmetjeneste",
    ),
]

WRITE_ROUTES = [
    route
    for route in [
        *PREGNANCY_ROUTES,
        *MEDICATION_ROUTES,
        *MEASUREMENT_ROUTES,
        *LAB_ROUTES,
        *NOTIFICATION_ROUTES,
        *EXTRA_WRITES,
    ]
    if route.method in ("POST", "PUT", "PATCH") and route.body is not None
]


def _route_id(route: PatientRoute) -> str:
    return f"{route.id} ({route.org_kind})"


def string_leaves(value: Any, where: str = "") -> Iterator[tuple[str, list[str | int]]]:
    """(field path as the problem names it, key path) for every string in a JSON document."""

    def walk(item: Any, path: list[str | int], name: str) -> Iterator[tuple[str, list[str | int]]]:
        if isinstance(item, str):
            yield name, path
        elif isinstance(item, dict):
            for key, child in item.items():
                yield from walk(child, [*path, key], f"{name}.{key}" if name else key)
        elif isinstance(item, list):
            for index, child in enumerate(item):
                yield from walk(child, [*path, index], f"{name}[{index}]")

    yield from walk(value, [], where)


def poisoned(body: Any, path: list[str | int], text: str) -> Any:
    copied = copy.deepcopy(body)
    holder = copied
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = holder[path[-1]][:3] + text + holder[path[-1]][3:]
    return copied


async def _owner_call(
    client: httpx.AsyncClient,
    route: PatientRoute,
    world: World,
    params: dict[str, str],
    *,
    content: bytes,
    content_type: str = "application/json",
) -> httpx.Response:
    path = route.path.format(patientId=world.owner.patient_id, **params)
    who = world.owner.headers if route.audience == "citizen" else world.related.headers
    extra = route.headers(world, params) if route.headers else {}
    headers = {**who, **extra, "Content-Type": content_type, "Idempotency-Key": str(uuid.uuid4())}
    return await client.request(route.method, path, content=content, headers=headers)


@pytest.mark.parametrize("route", WRITE_ROUTES, ids=_route_id)
async def test_every_write_route_refuses_hostile_bodies_and_stores_nothing(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, route: PatientRoute
) -> None:
    """A NUL in each string field, a lone surrogate, 10,000-deep nesting, text/plain, an empty and a broken body."""
    world = await make_world(
        client, app, org_kind=route.org_kind, authorization=route.authorization, consents=route.consents
    )
    params = await route.setup(client, world) if route.setup else {}
    body = route.body(world, params) if route.body else None
    leaves = list(string_leaves(body))
    before = await stored_rows(db)

    for field, path in leaves:
        response = await _owner_call(
            client, route, world, params, content=json.dumps(poisoned(body, path, NUL)).encode()
        )
        assert_problem(response, 400, field)
        assert "NUL" in response.json()["detail"], response.text
    if leaves:
        field, path = leaves[0]
        lone = json.dumps(poisoned(body, path, "\ud800")).encode()  # json.dumps escapes it as \ud800
        assert b"\\ud800" in lone
        assert_problem(await _owner_call(client, route, world, params, content=lone), 400)

    # Raw-body routes (measurement batches, lab reports) decode in their domain: it names the first wrong field.
    whole_body = None if route.path.endswith(("/measurements", "/lab-reports")) else "body"
    deep = b"[" * 10_000 + b"]" * 10_000
    assert_problem(await _owner_call(client, route, world, params, content=deep), 400, whole_body)
    deep_object = b'{"a":' * 10_000 + b"1" + b"}" * 10_000
    assert_problem(await _owner_call(client, route, world, params, content=deep_object), 400, whole_body)
    # Deep inside a real field, past the raw routes' first type check: their decoder's RecursionError is a 400.
    first_key = next(iter(body)).encode() if isinstance(body, dict) and body else b"a"
    deep_field = b'{"' + first_key + b'":' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    assert_problem(await _owner_call(client, route, world, params, content=deep_field), 400)
    valid = json.dumps(body).encode()
    assert_problem(await _owner_call(client, route, world, params, content=valid, content_type="text/plain"), 415)
    assert_problem(await _owner_call(client, route, world, params, content=b"{not json"), 400, "body")

    assert await stored_rows(db) == before


def _editor_writes(slug: str) -> list[tuple[str, str, dict[str, Any], dict[str, str]]]:
    draft = {
        "title": "Jern i svangerskapet",
        "markdown": "## Jern\n\nSpis variert.",
        "summary": "Om jern",
        "tags": ["svangerskap", "jern"],
        "audience": "citizen",
        "contextKeys": {"atc": "B03A", "topic": "jern"},
    }
    return [
        ("POST", "/content/v1/pages", {**draft, "slug": new_slug(), "locale": "nb"}, {}),
        ("PUT", f"/content/v1/pages/{slug}/draft", draft, {"If-Match": '"1"'}),
        ("POST", f"/content/v1/pages/{slug}/publish", {"at": "2030-01-01T08:00:00+01:00"}, {}),
        ("POST", f"/content/v1/pages/{slug}/unpublish", {"at": "2030-02-01T08:00:00+01:00"}, {}),
    ]


@pytest.mark.parametrize("index", range(4), ids=["create", "draft", "publish", "unpublish"])
async def test_every_editor_write_refuses_hostile_bodies_and_stores_nothing(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, index: int
) -> None:
    page = await create_page(client, app)
    method, path, body, extra = _editor_writes(page["slug"])[index]
    headers = {**editor(app), **extra, "Content-Type": "application/json"}
    before = await stored_rows(db)
    for field, key_path in string_leaves(body):
        poisoned_body = json.dumps(poisoned(body, key_path, NUL)).encode()
        assert_problem(await client.request(method, path, content=poisoned_body, headers=headers), 400, field)
    deep = b"[" * 10_000 + b"]" * 10_000
    assert_problem(await client.request(method, path, content=deep, headers=headers), 400, "body")
    plain = {**headers, "Content-Type": "text/plain"}
    assert_problem(await client.request(method, path, content=json.dumps(body).encode(), headers=plain), 415)
    assert await stored_rows(db) == before


# --- the cases the issue names ----------------------------------------------------------------------------------


async def test_nul_in_a_pregnancy_note_is_400_and_the_note_is_not_stored(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    world = await make_world(client, app)
    card = await _card(client, world)
    notes = f"/citizen/v1/me/pregnancies/{card['id']}/notes"
    response = await client.post(
        notes, json={"kind": "question", "text": "Kan jeg\u0000 trene?"}, headers=world.owner.headers
    )
    problem = assert_problem(response, 400, "text")
    assert problem["errors"] == [{"field": "text", "message": problem["errors"][0]["message"]}]
    mine = await client.get(f"/citizen/v1/me/pregnancies/{card['id']}", headers=world.owner.headers)
    assert "Kan jeg" not in mine.text


async def test_nul_in_a_device_model_refuses_the_batch_naming_the_item(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    citizen = await new_citizen(client, app)
    items = [value_item(), bp_item(device={"manufacturer": "Omron", "model": "M7\u0000"})]
    response = await client.post("/citizen/v1/me/measurements", json={"items": items}, headers=citizen.headers)
    assert_problem(response, 400, "items[1].device.model")
    listed = await client.get("/citizen/v1/me/measurements", headers=citizen.headers)
    assert listed.json()["items"] == []


async def test_a_lone_surrogate_in_a_measurement_is_400_and_nothing_is_stored(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    citizen = await new_citizen(client, app)
    body = json.dumps({"items": [value_item(), bp_item(device={"manufacturer": "Omron", "model": "M7\ud800"})]})
    response = await client.post(
        "/citizen/v1/me/measurements",
        content=body.encode(),
        headers={**citizen.headers, "Content-Type": "application/json"},
    )
    assert_problem(response, 400, "items[1].device.model")
    listed = await client.get("/citizen/v1/me/measurements", headers=citizen.headers)
    assert listed.json()["items"] == []


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/content/v1/pages/side%00x", "path"),
        ("/content/v1/pages?q=jern%00", "q"),
        ("/content/v1/pages?tag=%00", "tag"),
        ("/content/v1/pages?context=atc%3AB03%00", "context"),
    ],
)
async def test_nul_in_public_cms_paths_and_queries_is_400(client: httpx.AsyncClient, path: str, field: str) -> None:
    assert_problem(await client.get(path), 400, field)


async def test_nul_in_an_authenticated_query_parameter_is_400(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    response = await client.get("/citizen/v1/me/measurements?code=85354-9%00", headers=citizen.headers)
    assert_problem(response, 400, "code")


async def test_odd_digits_in_the_cms_context_parameter_are_400(client: httpx.AsyncClient) -> None:
    for context in ("gestational-week:²", "gestational-week:٣", "gestational-week:9" * 30):
        assert_problem(await client.get("/content/v1/pages", params={"context": context}), 400, "context")


async def test_a_closed_card_answers_409_with_an_integer_status(client: httpx.AsyncClient, app: Litestar) -> None:
    world = await make_world(client, app)
    card = await _card(client, world)
    base = f"/clinician/v1/patients/{world.owner.patient_id}/pregnancies/{card['id']}"
    closed = await client.put(
        # A loss after 22+0 is a stillbirth, not a miscarriage (CLINICAL.md v1.1); any outcome closes the card.
        base + "/outcome", json={"outcome": "stillbirth", "date": _consultation(world, {})["date"]},
        headers=world.related.headers,
    )  # fmt: skip
    assert closed.status_code == 200, closed.text
    response = await client.post(base + "/consultations", json=_consultation(world, {}), headers=world.related.headers)
    problem = assert_problem(response, 409)
    assert problem["cardStatus"] == "stillbirth"


async def test_a_validation_problem_lists_every_invalid_field(client: httpx.AsyncClient, app: Litestar) -> None:
    gp = new_clinician(app)
    wrong = {**NEWS2_SET, "respirationRate": "fast", "spo2": 300, "consciousness": "Z", "colour": "red"}
    del wrong["pulse"]
    response = await client.post("/clinician/v1/news2/score", json=wrong, headers=gp.headers)
    problem = assert_problem(response, 400)
    fields = {error["field"] for error in problem["errors"]}
    assert {"respirationRate", "spo2", "consciousness", "colour", "pulse"} <= fields, problem
    assert "more" in problem["detail"]


async def test_every_invalid_field_in_nested_items_is_listed(client: httpx.AsyncClient, app: Litestar) -> None:
    world = await make_world(client, app)
    card = await _card(client, world)
    base = f"/clinician/v1/patients/{world.owner.patient_id}/pregnancies/{card['id']}"
    body = {**_consultation(world, {}), "weightKg": "heavy", "systolic": "high"}
    problem = assert_problem(await client.post(base + "/consultations", json=body, headers=world.related.headers), 400)
    assert {"weightKg", "systolic"} <= {error["field"] for error in problem["errors"]}, problem


@pytest.mark.parametrize(
    ("content", "content_type", "status", "words"),
    [
        (b"", "application/json", 400, "empty"),
        (b"   ", "application/json", 400, "empty"),
        (b"respirationRate=22", "application/json", 400, "not valid JSON"),
        (b'{"respirationRate": 22', "application/json", 400, "not valid JSON"),
        (b'{"respirationRate": 22}', "text/plain", 415, "application/json"),
        (b"respirationRate=22", "application/x-www-form-urlencoded", 415, "application/json"),
    ],
)
async def test_empty_broken_and_non_json_bodies_say_so(
    client: httpx.AsyncClient, app: Litestar, content: bytes, content_type: str, status: int, words: str
) -> None:
    gp = new_clinician(app)
    response = await client.post(
        "/clinician/v1/news2/score", content=content, headers={**gp.headers, "Content-Type": content_type}
    )
    problem = assert_problem(response, status)
    assert words in problem["detail"], problem


# --- cursors -----------------------------------------------------------------------------------------------------


def _cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


FORGED_CURSORS = [
    "!!",
    "not-a-cursor",
    "x" * 5000,
    _cursor([]),
    _cursor("text"),
    _cursor({}),
    _cursor({"at": "yesterday", "id": "me"}),
    _cursor({"at": "2026-01-01T00:00:00", "id": str(uuid.uuid4())}),  # no time zone
    _cursor({"at": 1, "id": 2}),
    _cursor({"before": -1}),
    _cursor({"before": 10**30}),
    _cursor({"before": "1 OR 1=1"}),
    _cursor({"seq": 2**70}),
    _cursor({"o": 10**12}),
    _cursor({"o": -5}),
    _cursor({"n": 1e300}),
    _cursor({"s": None, "id": None}),
    _cursor({"o": 2, "extra": True}),
    # Foreign: another list's genuine shape.
    _cursor({"at": "2026-01-01T00:00:00+00:00", "id": str(uuid.uuid4())}),
    _cursor({"o": 2}),
    _cursor({"seq": 3}),
    base64.urlsafe_b64encode(b"\xff\xfe\x00").decode(),
]

LISTS = [
    ("citizen", "/citizen/v1/me/access-log", "cursor"),
    ("citizen", "/citizen/v1/me/changes", "since"),
    ("citizen", "/citizen/v1/me/measurements", "cursor"),
    ("citizen", "/citizen/v1/me/lab-results", "cursor"),
    ("citizen", "/citizen/v1/me/medications/history", "cursor"),
    ("clinician", "/clinician/v1/patients/{patientId}/measurements", "cursor"),
    ("clinician", "/clinician/v1/patients/{patientId}/lab-reports", "cursor"),
    ("clinician", "/clinician/v1/patients/{patientId}/medications/history", "cursor"),
    ("clinician", "/clinician/v1/patients/{patientId}/medications/discrepancies", "cursor"),
    ("clinician", "/clinician/v1/alerts", "cursor"),
    ("public", "/content/v1/pages", "cursor"),
    ("editor", "/content/v1/pages/{slug}/revisions", "cursor"),
]


@pytest.mark.parametrize(("audience", "path", "parameter"), LISTS, ids=[path for _, path, _ in LISTS])
async def test_every_list_refuses_forged_and_foreign_cursors(
    client: httpx.AsyncClient, app: Litestar, audience: str, path: str, parameter: str
) -> None:
    world = await make_world(client, app)
    slug = (await create_page(client, app))["slug"] if audience == "editor" else ""
    url = path.format(patientId=world.owner.patient_id, slug=slug)
    headers = {
        "citizen": world.owner.headers,
        "clinician": world.related.headers,
        "editor": editor(app),
        "public": {},
    }[audience]
    genuine = await client.get(url, headers=headers)
    assert genuine.status_code == 200, genuine.text
    issued = genuine.json().get("next")
    for cursor in FORGED_CURSORS:
        if cursor == issued:
            continue
        response = await client.get(url, params={parameter: cursor}, headers=headers)
        if response.status_code == 200:
            # A foreign cursor that has this list's exact shape is a valid position here, never a 500.
            continue
        problem = assert_problem(response, 400, parameter)
        assert "cursor" in problem["detail"], problem


async def test_only_a_foreign_cursor_of_the_same_shape_is_accepted(client: httpx.AsyncClient, app: Litestar) -> None:
    """Guards the loop above: most forged cursors are refused on every list (shape checked, not only parsed)."""
    citizen = await new_citizen(client, app)
    for cursor in FORGED_CURSORS[:18]:
        response = await client.get("/citizen/v1/me/measurements", params={"cursor": cursor}, headers=citizen.headers)
        assert_problem(response, 400, "cursor")


# --- lengths the audit columns cannot hold -----------------------------------------------------------------------


@pytest.mark.parametrize("route", ["preview", "revisions"])
async def test_slugs_longer_than_the_column_are_400_for_editors(
    client: httpx.AsyncClient, app: Litestar, route: str
) -> None:
    for length in (59, 61, 64, 300):
        response = await client.get(f"/content/v1/pages/{'a' * length}/{route}", headers=editor(app))
        if length <= 60:
            assert response.status_code == 404, response.text
        else:
            assert_problem(response, 400, "slug")


async def test_long_token_names_are_cut_to_the_audit_column(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    hpr = str(uuid.uuid4().int % 90_000_000 + 1_000_000)
    claims = clinician_claims(
        hpr=hpr, pid=synthetic_fnr(), authorization="LE", org="987654321", org_kind="fastlege", name="Lege " * 2000
    )
    claims["name"] = "Dr.\u0000 " + claims["name"]
    token = mint(signing_key(app), "clinician", claims)
    gp = dataclasses.replace(new_clinician(app, hpr=hpr, org="987654321"), token=token, headers=bearer(token))
    await relate(client, gp, citizen.patient_id)
    listed = await client.get(f"/clinician/v1/patients/{citizen.patient_id}/care-relations", headers=gp.headers)
    assert listed.status_code == 200, listed.text
    names = await db.fetch("SELECT name FROM audit_log WHERE hpr = $1", hpr)
    assert names
    assert all(row["name"] is not None and len(row["name"]) <= 200 for row in names)
    assert all("\x00" not in row["name"] for row in names)


async def test_an_editor_subject_too_long_to_audit_is_401(client: httpx.AsyncClient, app: Litestar) -> None:
    token = mint(signing_key(app), "editor", editor_claims("e" * 300))
    response = await client.get(f"/content/v1/pages/{new_slug()}/preview", headers=bearer(token))
    assert_problem(response, 401)
    named = mint(signing_key(app), "editor", {**editor_claims("editor-long-name"), "name": "N" * 5000})
    page = await create_page(client, app)
    response = await client.get(f"/content/v1/pages/{page['slug']}/preview", headers=bearer(named))
    assert response.status_code == 200, response.text


# --- the body limit inside the process ----------------------------------------------------------------------------


async def test_a_body_over_the_limit_with_an_idempotency_key_is_413_before_it_is_buffered(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection
) -> None:
    citizen = await new_citizen(client, app)
    limit: int = app.state.settings.body_limit

    async def chunks() -> Any:
        for _ in range(limit // 65536 * 4):
            yield b"x" * 65536

    key = str(uuid.uuid4())
    headers = {**citizen.headers, "Idempotency-Key": key, "Content-Type": "application/json"}
    chunked = await client.post("/citizen/v1/me/measurements", content=chunks(), headers=headers)
    assert_problem(chunked, 413)
    announced = await client.post(
        "/citizen/v1/me/measurements",
        content=b"x" * (limit + 1),
        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert_problem(announced, 413)
    assert await db.fetchval("SELECT count(*) FROM idempotency_key WHERE key = $1", key) == 0


async def test_every_invalid_query_parameter_is_listed(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    response = await client.get(
        "/citizen/v1/me/medications/history", params={"limit": "many", "from": "x", "to": "-1"}, headers=citizen.headers
    )
    problem = assert_problem(response, 400)
    assert {"limit", "from", "to"} <= {error["field"] for error in problem["errors"]}, problem
