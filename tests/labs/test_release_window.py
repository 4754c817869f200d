"""CLINICAL.md v1.1 "Lab release": the window counts from arrival (or a later issuedAt); preliminary waits for final.

Every reader (her list, her single result, her trend, the clinician's release view) and the release job use one
definition (`backend.labs.release`); the table below drives each case through the API and checks they agree.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from backend.core.access import authorize
from backend.core.auth import ClinicianPrincipal
from backend.core.clock import frozen_at
from backend.labs.release import release_due_at
from backend.labs.schemas import Requester
from backend.labs.service import POST_REPORT, announce_due_releases, parse_report, store_lab_report
from backend.settings import Settings, load_settings
from tests.factories import Citizen, Clinician, new_citizen, new_clinician, relate
from tests.labs.reports import hb, lab_report, post_report, posted, release

ARRIVED = datetime.now(UTC).replace(microsecond=0)
WEEK = timedelta(days=7)
MINUTE = timedelta(minutes=1)


async def _world(client: httpx.AsyncClient, app: Litestar) -> tuple[Citizen, Clinician]:
    citizen = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, citizen.patient_id)
    return citizen, gp


def _report_url(citizen: Citizen, report_id: str) -> str:
    return f"/clinician/v1/patients/{citizen.patient_id}/lab-reports/{report_id}"


async def _post_at(
    client: httpx.AsyncClient, gp: Clinician, citizen: Citizen, at: datetime, body: dict[str, Any]
) -> str:
    with frozen_at(at):
        return await posted(client, gp, citizen.patient_id, body)


async def _announced(db: asyncpg.Connection, citizen: Citizen) -> list[str]:
    rows = await db.fetch(
        "SELECT resource_id FROM event WHERE patient_id = $1 AND type = 'lab-result.released' ORDER BY seq",
        citizen.patient_id,
    )
    return [row["resource_id"] for row in rows]


async def _every_reader(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    settings: Settings,
    citizen: Citizen,
    gp: Clinician,
    report_id: str,
) -> dict[str, bool]:
    """What each reader says about the report now, after the release job has run (until it has nothing left)."""
    while await announce_due_releases(settings):
        pass
    listed = await client.get("/citizen/v1/me/lab-results", headers=citizen.headers)
    single = await client.get(f"/citizen/v1/me/lab-results/{report_id}", headers=citizen.headers)
    trend = await client.get("/citizen/v1/me/lab-results/trends/718-7", headers=citizen.headers)
    clinician = await client.get(_report_url(citizen, report_id), headers=gp.headers)
    assert single.status_code in (200, 404), single.text
    announced = await _announced(db, citizen)
    assert len(announced) <= 1, "announced more than once"
    return {
        "her list": report_id in [item["id"] for item in listed.json()["items"]],
        "her result": single.status_code == 200,
        "her trend": report_id in [point["reportId"] for point in trend.json()["points"]],
        "clinician view": clinician.json()["release"]["visibleToCitizen"],
        "release job": announced == [report_id],
    }


# Moments after arrival at which every reader is asked; 5 days is when later versions arrive in the table.
CHECKS = (MINUTE, WEEK - MINUTE, WEEK + MINUTE, timedelta(days=12) - MINUTE, timedelta(days=12) + MINUTE)
NEW_VERSION_AFTER = timedelta(days=5)


@dataclass(frozen=True)
class Case:
    name: str
    expected: tuple[bool, ...]  # at each of CHECKS
    category: str = "clinical-chemistry"
    status: str = "final"
    issued_before_arrival: timedelta = timedelta(hours=1)
    hold: bool = False
    release: bool = False
    next_version: str | None = None  # its status; arrives NEW_VERSION_AFTER the first
    observations: tuple[dict[str, Any], ...] = field(default_factory=lambda: (hb(11.2),))


CASES = [
    Case("on time: shown a week after arrival", (False, False, True, True, True)),
    # The bug of issue 14: issued 8 days before it reached us, it used to be shown on arrival.
    Case(
        "late arrival: still a whole week hidden",
        (False, False, True, True, True),
        issued_before_arrival=timedelta(days=8),
    ),
    # A sender's clock a few minutes ahead (accepted up to 5): the window counts from the later issuedAt.
    Case(
        "issuedAt after arrival: window from issuedAt",
        (False, False, False, True, True),
        issued_before_arrival=-timedelta(minutes=4),
    ),
    Case("held by the requester: never shown", (False,) * 5, hold=True),
    Case("released by the requester: shown at once", (True,) * 5, release=True),
    Case("preliminary alone: never shown on its own", (False,) * 5, status="preliminary"),
    Case(
        "preliminary, final after 5 days: a week from the final's arrival",
        (False, False, False, False, True),
        status="preliminary",
        next_version="final",
    ),
    Case(
        "corrected within the window: a week from the correction",
        (False, False, False, False, True),
        next_version="corrected",
    ),
    Case("pathology: only the requester releases it", (False,) * 5, category="pathology"),
    Case("genetics: only the requester releases it", (False,) * 5, category="genetics"),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_every_reader_and_the_release_job_agree(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, settings: Settings, case: Case
) -> None:
    """CLINICAL.md v1.1 "Lab release", one definition: list, result, trend, clinician view and job agree."""
    citizen, gp = await _world(client, app)
    report_id = uuid.uuid4()
    first = lab_report(
        *case.observations,
        report_id=report_id,
        category=case.category,
        status=case.status,
        issued_at=ARRIVED - case.issued_before_arrival,
    )
    await _post_at(client, gp, citizen, ARRIVED, first)
    with frozen_at(ARRIVED):
        if case.hold:
            assert (await client.post(f"{_report_url(citizen, str(report_id))}/hold", headers=gp.headers)).is_success
        if case.release:
            await release(client, gp, citizen.patient_id, str(report_id))
    if case.next_version is not None:
        arrives = ARRIVED + NEW_VERSION_AFTER
        later = lab_report(
            hb(12.4), report_id=report_id, category=case.category, status=case.next_version, issued_at=arrives - MINUTE
        )
        await _post_at(client, gp, citizen, arrives, later)

    for offset, expected in zip(CHECKS, case.expected, strict=True):
        with frozen_at(ARRIVED + offset):
            readers = await _every_reader(client, db, settings, citizen, gp, str(report_id))
        assert readers == dict.fromkeys(readers, expected), f"{offset} after arrival"


async def test_a_late_arriving_lab_report_stays_hidden_for_its_whole_window_and_the_requester_may_hold_it(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, settings: Settings
) -> None:
    """CLINICAL.md v1.1 "Lab release": delay from arrival, so a report issued 8 days before it came is not shown."""
    citizen, gp = await _world(client, app)
    late = lab_report(issued_at=ARRIVED - timedelta(days=8))
    report_id = await _post_at(client, gp, citizen, ARRIVED, late)
    other_id = await _post_at(client, gp, citizen, ARRIVED, lab_report(issued_at=ARRIVED - timedelta(days=8)))

    with frozen_at(ARRIVED):
        state = (await client.get(_report_url(citizen, report_id), headers=gp.headers)).json()["release"]
    assert state["state"] == "scheduled"
    assert state["releaseDueAt"] == (ARRIVED + WEEK).isoformat().replace("+00:00", "Z")
    for moment in (ARRIVED, ARRIVED + timedelta(days=3), ARRIVED + WEEK - MINUTE):
        with frozen_at(moment):
            assert not any((await _every_reader(client, db, settings, citizen, gp, report_id)).values())
    # The requester still has the window: six days in, she holds the other one.
    with frozen_at(ARRIVED + timedelta(days=6)):
        held = await client.post(f"{_report_url(citizen, other_id)}/hold", headers=gp.headers)
    assert held.status_code == 200, held.text
    with frozen_at(ARRIVED + WEEK + MINUTE):
        assert all((await _every_reader(client, db, settings, citizen, gp, report_id)).values())
        assert not any((await _every_reader(client, db, settings, citizen, gp, other_id)).values())
    assert await _announced(db, citizen) == [report_id]


async def test_a_preliminary_report_is_not_released_by_the_requester_and_shows_why(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, settings: Settings
) -> None:
    """CLINICAL.md v1.1: a preliminary report is released only when its final version is; release → 409."""
    citizen, gp = await _world(client, app)
    report_id = await _post_at(client, gp, citizen, ARRIVED, lab_report(status="preliminary"))

    with frozen_at(ARRIVED + timedelta(days=30)):
        shown = (await client.get(_report_url(citizen, report_id), headers=gp.headers)).json()["release"]
        refused = await client.post(f"{_report_url(citizen, report_id)}/release", headers=gp.headers)
        readers = await _every_reader(client, db, settings, citizen, gp, report_id)
    assert shown["state"] == "awaiting-final"
    assert (shown["visibleFrom"], shown["releaseDueAt"]) == (None, None)
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "final version" in refused.json()["detail"]
    assert not any(readers.values())
    assert await db.fetchval("SELECT released_at FROM lab_report WHERE id = $1", uuid.UUID(report_id)) is None

    # Once the final version is in, the requester may release it at once.
    final = lab_report(report_id=uuid.UUID(report_id), issued_at=ARRIVED + timedelta(days=30))
    await _post_at(client, gp, citizen, ARRIVED + timedelta(days=31), final)
    with frozen_at(ARRIVED + timedelta(days=31)):
        await release(client, gp, citizen.patient_id, report_id)
        assert all((await _every_reader(client, db, settings, citizen, gp, report_id)).values())


async def test_a_hold_on_a_preliminary_report_keeps_its_final_version_hidden(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, settings: Settings
) -> None:
    """CLINICAL.md v1.1: the requester has the whole window; a hold placed on the preliminary report carries over."""
    citizen, gp = await _world(client, app)
    report_id = await _post_at(client, gp, citizen, ARRIVED, lab_report(status="preliminary"))
    with frozen_at(ARRIVED):
        held = await client.post(f"{_report_url(citizen, report_id)}/hold", headers=gp.headers)
    assert held.json()["release"]["state"] == "held"
    final = lab_report(report_id=uuid.UUID(report_id), issued_at=ARRIVED + timedelta(days=1))
    await _post_at(client, gp, citizen, ARRIVED + timedelta(days=2), final)

    with frozen_at(ARRIVED + timedelta(days=60)):
        assert not any((await _every_reader(client, db, settings, citizen, gp, report_id)).values())
        await release(client, gp, citizen.patient_id, report_id)
        assert all((await _every_reader(client, db, settings, citizen, gp, report_id)).values())


async def test_a_correction_of_a_result_she_already_sees_stays_seen(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, settings: Settings
) -> None:
    """A new window only for what she has not seen: a correction cannot take a shown result back."""
    citizen, gp = await _world(client, app)
    report_id = await _post_at(client, gp, citizen, ARRIVED, lab_report(hb(9.1), issued_at=ARRIVED - MINUTE))
    corrected = lab_report(hb(12.1), report_id=uuid.UUID(report_id), status="corrected", issued_at=ARRIVED)
    await _post_at(client, gp, citizen, ARRIVED + WEEK + timedelta(days=1), corrected)

    with frozen_at(ARRIVED + WEEK + timedelta(days=1)):
        assert all((await _every_reader(client, db, settings, citizen, gp, report_id)).values())
        shown = (await client.get(f"/citizen/v1/me/lab-results/{report_id}", headers=citizen.headers)).json()
    assert (shown["corrected"], [obs["value"] for obs in shown["observations"]]) == (True, [12.1])
    assert shown["releasedAt"] == (ARRIVED + WEEK).isoformat().replace("+00:00", "Z")


async def test_with_no_delay_a_final_report_shows_on_arrival_and_a_preliminary_one_still_waits(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, settings: Settings
) -> None:
    """HELSEKORT_LAB_RELEASE_DELAYS clinical-chemistry 0; CLINICAL.md v1.1: preliminary only with its final version."""
    citizen, gp = await _world(client, app)
    no_delay = load_settings({"HELSEKORT_LAB_RELEASE_DELAYS": '{"clinical-chemistry": 0}'})
    requester = Requester(hpr=gp.hpr, organisation=gp.org)
    principal = ClinicianPrincipal(
        hpr=gp.hpr, pid="", authorization=gp.authorization, org_number=gp.org, org_kind=gp.org_kind, name=None,
        caller_id=f"clinician:{gp.hpr}:{gp.org}",
    )  # fmt: skip
    stored = {}
    for status in ("final", "preliminary"):
        report = parse_report(json.dumps(lab_report(status=status)).encode(), "application/json")
        grant = await authorize(principal, citizen.patient_id, POST_REPORT, resource_id=str(report.id))
        await store_lab_report(no_delay, grant, report, requester=requester, now=ARRIVED)
        stored[status] = str(report.id)

    with frozen_at(ARRIVED):
        assert all((await _every_reader(client, db, settings, citizen, gp, stored["final"])).values())
        assert not any((await _every_reader(client, db, settings, citizen, gp, stored["preliminary"])).values())


@pytest.mark.parametrize(
    ("status", "issued", "received", "delay", "due"),
    [
        ("final", ARRIVED - timedelta(days=8), ARRIVED, WEEK, ARRIVED + WEEK),
        ("final", ARRIVED - timedelta(hours=1), ARRIVED, WEEK, ARRIVED + WEEK),
        ("final", ARRIVED + timedelta(minutes=4), ARRIVED, WEEK, ARRIVED + timedelta(minutes=4) + WEEK),
        ("corrected", ARRIVED, ARRIVED + timedelta(days=5), WEEK, ARRIVED + timedelta(days=12)),
        ("final", ARRIVED, ARRIVED, timedelta(days=1.5), ARRIVED + timedelta(hours=36)),
        ("final", ARRIVED, ARRIVED, None, None),
        ("preliminary", ARRIVED, ARRIVED, WEEK, None),
    ],
)
def test_when_a_version_falls_due(
    status: str, issued: datetime, received: datetime, delay: timedelta | None, due: datetime | None
) -> None:
    """CLINICAL.md v1.1: delay from arrival or a later issuedAt; none for a preliminary report or without a delay."""
    assert release_due_at(status=status, issued_at=issued, received_at=received, delay=delay) == due


async def test_a_post_answers_with_the_window_counted_from_arrival(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen, gp = await _world(client, app)
    with frozen_at(ARRIVED):
        response = await post_report(client, gp, citizen.patient_id, lab_report(issued_at=ARRIVED - timedelta(days=8)))
    assert response.status_code == 201, response.text
    assert response.json()["release"]["releaseDueAt"] == (ARRIVED + WEEK).isoformat().replace("+00:00", "Z")
    assert response.json()["release"]["visibleToCitizen"] is False
