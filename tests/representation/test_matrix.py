"""Every /citizen/v1/me route × every kind of caller acting for someone: 2xx (and a `representative` audit row) only
where the rules allow, 404 (a `denied` row) elsewhere, 403 on the person's own business. The routes are read from
the app, so a route added later joins the matrix, and fails the declaration test until it states its scope."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
from litestar import Litestar
from litestar.routes import HTTPRoute

from backend.core.clock import frozen_at, utcnow
from backend.core.representation import ANY, OWN, ROUTE_SCOPES, SCOPES, covers
from tests.factories import Citizen, fnr_born_on
from tests.representation.helpers import (
    acting,
    born_years_ago,
    give_power,
    person_aged,
    register_guardian,
)

ME = "/citizen/v1/me"
# The person's own business: never managed for someone else.
OWN_ROUTES = (
    "/blocks",
    "/consents",
    "/representatives",
    "/represented",
    "/devices",
    "/subscriptions",
    "/notifications",
    "/notification-preferences",
)
# Her choices about who reads a document (restricting it) are hers, like consents and blocks.
OWN_SUFFIXES = ("/restriction",)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    needs: str
    parameters: dict[str, type]


def citizen_operations(app: Litestar) -> list[Operation]:
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not (route.path == ME or route.path.startswith(ME + "/")):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - {"HEAD", "OPTIONS"}):
                types = {name: definition.type for name, definition in route.path_parameters.items()}
                found.append(
                    Operation(
                        method, route.path_format, str(handler.operation_id), handler.opt.get("act_for", ""), types
                    )
                )
    return sorted(found, key=lambda o: (o.path, o.method))


def test_every_citizen_route_declares_what_a_representative_needs(app: Litestar) -> None:
    operations = citizen_operations(app)
    assert len(operations) > 20
    undeclared = [f"{o.method} {o.path}" for o in operations if o.needs not in ROUTE_SCOPES]
    assert undeclared == [], "declare `opt=act_for(...)` (backend/core/representation.py) on these routes"
    own = {f"{o.method} {o.path}" for o in operations if o.needs == OWN}
    expected_own = {
        f"{o.method} {o.path}"
        for o in operations
        if o.path.removeprefix(ME).startswith(OWN_ROUTES) or o.path.endswith(OWN_SUFFIXES)
    }
    assert own == expected_own


_PATH_VALUES: dict[str, str] = {
    "hpr": "1234567",
    "consent_scope": "pregnancy-card",
    "device_token": "ab" * 32,
    "topic": "svangerskap",
    "code": "718-7",
}


def _url(operation: Operation) -> str:
    url = operation.path
    for name, kind in operation.parameters.items():
        value = str(uuid.uuid4()) if kind is uuid.UUID else "1" if kind is int else _PATH_VALUES.get(name, "x")
        url = url.replace("{" + name + "}", value)
    return url


def _body(operation: Operation) -> dict[str, Any] | None:
    now = utcnow().isoformat()
    bodies: dict[str, dict[str, Any]] = {
        "citizenUploadMeasurements": {
            "items": [{"id": str(uuid.uuid4()), "code": "8867-4", "value": 72, "unit": "/min", "effectiveAt": now}]
        },
        "citizenReportMedicationDiscrepancy": {"kind": "not-taking"},
        "citizenRequestRenewal": {"note": "Snart tom"},
        "citizenAddPregnancyNote": {"text": "Kvalm om morgenen"},
        "citizenAddPregnancySelfRegistration": {"effectiveAt": now, "fetalMovements": True},
        # To an adult who is no one else in the matrix: the owner's own call must not make a stranger her attorney.
        "citizenGivePowerOfAttorney": {
            "fnr": fnr_born_on(born_years_ago(40, days_after_birthday=random.randint(30, 300))),
            "scopes": ["documents"],
        },
        "citizenRegisterDevice": {
            "platform": "ios",
            "environment": "sandbox",
            "bundleId": "no.helsekort.app",
            "locale": "nb",
        },
        "citizenPutNotificationPreferences": {
            "kinds": {
                "labResults": True,
                "medications": True,
                "prescriptions": True,
                "pregnancy": True,
                "documents": True,
                "content": False,
            },
            "quietHours": None,
        },
    }
    if operation.method in ("POST", "PUT", "PATCH") and operation.operation_id in bodies:
        return bodies[operation.operation_id]
    return None


async def _call(client: httpx.AsyncClient, operation: Operation, headers: dict[str, str]) -> httpx.Response:
    body = _body(operation)
    # Query parameters a route requires (a series names its code).
    params = {"code": "8867-4"} if operation.operation_id == "citizenMeasurementSeries" else None
    return await client.request(operation.method, _url(operation), json=body, params=params, headers=headers)


@dataclass
class Case:
    name: str
    representative: Citizen
    represented: Citizen
    held: frozenset[str]


async def _audit_of(db: asyncpg.Connection, response: httpx.Response) -> list[tuple[str, str | None]]:
    rows = await db.fetch(
        "SELECT basis, refusal FROM audit_log WHERE request_id = $1 AND actor_kind = 'citizen'",
        response.headers["x-request-id"],
    )
    return [(row["basis"], row["refusal"]) for row in rows]


async def test_the_matrix(client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection) -> None:
    guardian = await person_aged(client, app, 40)
    children = {age: await person_aged(client, app, age) for age in (7, 13, 16)}
    for child in children.values():
        await register_guardian(client, app, guardian, child)
    grantor = await person_aged(client, app, 84)
    attorneys: dict[str, Citizen] = {}
    for scope in SCOPES:
        attorneys[scope] = await person_aged(client, app, 50)
        await give_power(client, grantor, attorneys[scope], [scope])
    revoked = await person_aged(client, app, 50)
    withdrawn = await give_power(client, grantor, revoked, ["all"])
    assert (await client.delete(f"{ME}/representatives/{withdrawn}", headers=grantor.headers)).status_code == 204
    expiring = await person_aged(client, app, 50)
    await give_power(client, grantor, expiring, ["all"], until=utcnow() + timedelta(hours=1))
    stranger = await person_aged(client, app, 50)

    failures: list[str] = []
    for operation in citizen_operations(app):
        needs = operation.needs
        with_scope = attorneys["all" if needs in (OWN, "all") else "medications" if needs == ANY else needs]
        other = "documents" if needs not in ("documents", ANY) else "lab-results"
        cases = [
            Case("guardian <12", guardian, children[7], frozenset({"all"})),
            Case("guardian 12-15", guardian, children[13], frozenset({"medications", "prescriptions"})),
            Case("guardian 16+", guardian, children[16], frozenset()),
            Case(
                "attorney with the scope",
                with_scope,
                grantor,
                frozenset({"all"})
                if needs == OWN
                else frozenset({"all" if needs == "all" else "medications" if needs == ANY else needs}),
            ),
            Case("revoked", revoked, grantor, frozenset()),
            Case("stranger", stranger, grantor, frozenset()),
        ]
        if needs != ANY:
            cases.append(Case("attorney without the scope", attorneys[other], grantor, frozenset({other})))
        for case in cases:
            response = await _call(client, operation, acting(case.representative, case.represented))
            failures += _check(operation, case, response, await _audit_of(db, response))
        with frozen_at(utcnow() + timedelta(hours=2)):
            response = await _call(client, operation, acting(expiring, grantor))
        failures += _check(
            operation, Case("expired", expiring, grantor, frozenset()), response, await _audit_of(db, response)
        )
        # The owner herself, with and without naming herself: never refused by the representation rules.
        for headers in (grantor.headers, acting(grantor, grantor)):
            response = await _call(client, operation, headers)
            if response.status_code in (403, 500) or (
                operation.method == "GET" and not operation.parameters and not 200 <= response.status_code < 300
            ):
                failures.append(
                    f"{operation.method} {operation.path} own: {response.status_code} {response.text[:200]}"
                )
    assert failures == []


def _check(
    operation: Operation, case: Case, response: httpx.Response, audit: list[tuple[str, str | None]]
) -> list[str]:
    where = f"{operation.method} {operation.path} {case.name}"
    status = response.status_code
    if operation.needs == OWN:
        return [] if status == 403 and audit == [] else [f"{where}: {status} {audit} (expected 403, no row)"]
    if covers(case.held, operation.needs):
        ok = audit == [("representative", None)] and status < 500 and status != 403
        if operation.method == "GET" and not operation.parameters:
            ok = ok and 200 <= status < 300
        return [] if ok else [f"{where}: {status} {audit} {response.text[:200]} (expected allowed)"]
    refusal = "out-of-scope" if case.held else "not-represented"
    ok = status == 404 and audit == [("denied", refusal)]
    return [] if ok else [f"{where}: {status} {audit} (expected 404, denied {refusal})"]
