"""Municipal services as an allocation office's record system sends them, and the settings that share them."""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
from litestar import Litestar

from tests.factories import Clinician

OSLO, BAERUM, BODO, BERGEN = "0301", "3201", "1804", "4601"


def service_body(service: str = "home-nursing", **fields: Any) -> dict[str, Any]:
    """One service decision (home nursing with a night phone unless told otherwise)."""
    return {
        "service": service,
        "status": fields.pop("status", "active"),
        "from": fields.pop("from_", "2026-06-01"),
        "frequency": fields.pop("frequency", "3 ganger daglig"),
        "provider": fields.pop(
            "provider",
            {"name": "Hjemmesykepleien Frogner", "unit": "Natt", "phone": "+47 23 40 50 60", "hours": "24/7"},
        ),
        **fields,
    }


async def put_service(
    client: httpx.AsyncClient,
    writer: Clinician,
    patient_id: uuid.UUID,
    body: dict[str, Any] | None = None,
    service_id: uuid.UUID | None = None,
) -> httpx.Response:
    return await client.put(
        f"/clinician/v1/patients/{patient_id}/municipal-services/{service_id or uuid.uuid4()}",
        json=body if body is not None else service_body(),
        headers=writer.headers,
    )


@contextlib.contextmanager
def sharing(
    app: Litestar, *, districts: dict[str, list[str]] | None = None, national: tuple[str, ...] = ()
) -> Iterator[None]:
    """Run with these legevakt districts and nationally sharing municipalities (the app reads them per request)."""
    before = app.state.settings
    app.state.settings = dataclasses.replace(
        before,
        legevakt_districts=tuple((org, tuple(numbers)) for org, numbers in (districts or {}).items()),
        sharing_municipalities=frozenset(national),
    )
    try:
        yield
    finally:
        app.state.settings = before
