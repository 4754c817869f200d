"""The reusable scope check: every patient-data route, walked as each kind of caller that must not see it.

A capability registers its routes as `PatientRoute`s and runs `assert_route_scoped` on each (see
tests/security/test_core_routes.py). The check builds a fresh world for every route:

- owner: the citizen whose data it is (citizen routes) or a clinician with a care relation and, where
  needed, the citizen's consent (clinician routes) — gets the route's success status;
- another citizen, an unrelated clinician (other organisation, no relation) and a blocked clinician
  (same organisation as the related one, blocked by HPR) — get 404, never 403, never the data;
- a token of the wrong kind — 403; no token or a forged token — 401.

Refusals carry nothing but the error: a problem document, or on `/fhir` an OperationOutcome.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from litestar import Litestar

from tests.factories import (
    Citizen,
    Clinician,
    bearer,
    block,
    consent,
    editor_token,
    new_citizen,
    new_clinician,
    relate,
)


@dataclass
class World:
    owner: Citizen
    other: Citizen
    related: Clinician
    unrelated: Clinician
    blocked: Clinician
    editor_headers: dict[str, str]


async def make_world(
    client: httpx.AsyncClient,
    app: Litestar,
    *,
    org_kind: str = "fastlege",
    authorization: str = "LE",
    consents: tuple[str, ...] = ("pregnancy-card",),
) -> World:
    owner = await new_citizen(client, app)
    other = await new_citizen(client, app)
    related = new_clinician(app, org_kind=org_kind, authorization=authorization)
    blocked = new_clinician(app, org_kind=org_kind, authorization=authorization, org=related.org)
    unrelated = new_clinician(app, org_kind=org_kind, authorization=authorization)
    await relate(client, related, owner.patient_id)
    for scope in consents:
        await consent(client, owner, scope)
    await block(client, owner, blocked)
    return World(
        owner=owner,
        other=other,
        related=related,
        unrelated=unrelated,
        blocked=blocked,
        editor_headers=bearer(editor_token(app)),
    )


Setup = Callable[[httpx.AsyncClient, World], Awaitable[dict[str, str]]]
Body = Callable[[World, dict[str, str]], Any]


@dataclass
class PatientRoute:
    """One patient-data route. `path` may use {patientId} and any key `setup` returns (made as the owner)."""

    method: str
    path: str
    audience: Literal["citizen", "clinician"]
    ok: tuple[int, ...] = (200,)
    body: Body | None = None
    setup: Setup | None = None
    headers: Callable[[World, dict[str, str]], dict[str, str]] | None = None
    org_kind: str = "fastlege"
    authorization: str = "LE"
    consents: tuple[str, ...] = ("pregnancy-card",)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


async def _call(
    client: httpx.AsyncClient, route: PatientRoute, world: World, params: dict[str, str], headers: dict[str, str]
) -> httpx.Response:
    path = route.path.format(patientId=world.owner.patient_id, **params)
    payload = route.body(world, params) if route.body else None
    extra = route.headers(world, params) if route.headers else {}
    return await client.request(
        route.method, path, json=payload, headers={**headers, **extra, "Idempotency-Key": str(uuid.uuid4())}
    )


async def assert_route_scoped(client: httpx.AsyncClient, app: Litestar, route: PatientRoute) -> None:
    world = await make_world(
        client, app, org_kind=route.org_kind, authorization=route.authorization, consents=route.consents
    )
    params = await route.setup(client, world) if route.setup else {}

    def refused(response: httpx.Response, status: int, who: str) -> None:
        assert response.status_code == status, f"{route.id} as {who}: {response.status_code} {response.text}"
        # A refusal is a problem document (on /fhir: an OperationOutcome) and nothing else: no data can ride along.
        if route.path.startswith("/fhir/"):
            assert response.headers["content-type"].startswith("application/fhir+json"), f"{route.id} as {who}"
            outcome = response.json()
            assert set(outcome) == {"resourceType", "issue"}, f"{route.id} as {who}: {response.text}"
            assert outcome["resourceType"] == "OperationOutcome", f"{route.id} as {who}"
            assert all(set(issue) <= {"severity", "code", "diagnostics"} for issue in outcome["issue"]), response.text
            return
        assert response.headers["content-type"].startswith("application/problem+json"), f"{route.id} as {who}"
        assert set(response.json()) <= {"type", "title", "status", "detail", "instance", "requestId"}, (
            f"{route.id} as {who}: {response.text}"
        )

    # No token, a forged token, and tokens of the wrong kind.
    refused(await _call(client, route, world, params, {}), 401, "no token")
    forged = (world.owner if route.audience == "citizen" else world.related).token[:-4] + "AAAA"
    refused(await _call(client, route, world, params, bearer(forged)), 401, "forged token")
    wrong_kind = world.related.headers if route.audience == "citizen" else world.owner.headers
    refused(await _call(client, route, world, params, wrong_kind), 403, "wrong kind")
    refused(await _call(client, route, world, params, world.editor_headers), 403, "editor")

    if route.audience == "citizen":
        if params:
            refused(await _call(client, route, world, params, world.other.headers), 404, "another citizen")
        owner_headers = world.owner.headers
    else:
        refused(await _call(client, route, world, params, world.unrelated.headers), 404, "unrelated clinician")
        refused(await _call(client, route, world, params, world.blocked.headers), 404, "blocked clinician")
        owner_headers = world.related.headers

    response = await _call(client, route, world, params, owner_headers)
    assert response.status_code in route.ok, f"{route.id} as owner: {response.status_code} {response.text}"
