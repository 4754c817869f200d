"""Scheduled publish and unpublish, run by the worker's job, tested with a controllable clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from litestar import Litestar

from backend.cms.service import run_due_schedules
from backend.core.clock import frozen_at
from backend.jobs import WORKER_JOBS
from tests.cms.pages import create_page, editor, publish

NOW = datetime(2030, 3, 1, 8, 0, tzinfo=UTC)


def test_the_worker_runs_the_cms_schedule() -> None:
    assert "cms-scheduled-publishing" in [name for name, _ in WORKER_JOBS]


async def test_a_scheduled_publish_happens_when_due_and_publishes_the_revision_scheduled(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    with frozen_at(NOW):
        page = await create_page(client, app)
        url = f"/content/v1/pages/{page['slug']}"
        at = (NOW + timedelta(hours=2)).isoformat()
        response = await client.post(f"{url}/publish", json={"at": at}, headers=editor(app))
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "draft"
        assert response.json()["publishAt"] == at.replace("+00:00", "Z")
        # A later edit is not what was scheduled.
        await client.put(f"{url}/draft", json={"title": "Senere", "markdown": "x"},
                         headers={**editor(app), "If-Match": page["etag"]})  # fmt: skip

    with frozen_at(NOW + timedelta(hours=1)):
        await run_due_schedules(NOW + timedelta(hours=1))
        assert (await client.get(url)).status_code == 404

    with frozen_at(NOW + timedelta(hours=2, seconds=1)):
        assert await run_due_schedules(NOW + timedelta(hours=2, seconds=1)) >= 1
        live = await client.get(url)
        assert live.status_code == 200
        assert live.json()["title"] == "Pasientens legemiddelliste"
        assert live.json()["revision"] == 1
        preview = (await client.get(f"{url}/preview", headers=editor(app))).json()
        assert preview["publishAt"] is None
        assert preview["publishedAt"].startswith("2030-03-01T10:00:01")


async def test_a_scheduled_unpublish_takes_the_page_down_when_due(client: httpx.AsyncClient, app: Litestar) -> None:
    with frozen_at(NOW):
        page = await create_page(client, app)
        await publish(client, app, page["slug"])
        url = f"/content/v1/pages/{page['slug']}"
        at = (NOW + timedelta(days=1)).isoformat()
        response = await client.post(f"{url}/unpublish", json={"at": at}, headers=editor(app))
        assert response.json()["status"] == "published"
    with frozen_at(NOW + timedelta(hours=23)):
        await run_due_schedules(NOW + timedelta(hours=23))
        assert (await client.get(url)).status_code == 200
    with frozen_at(NOW + timedelta(days=1)):
        await run_due_schedules(NOW + timedelta(days=1))
        assert (await client.get(url)).status_code == 404
        preview = (await client.get(f"{url}/preview", headers=editor(app))).json()
        assert (preview["status"], preview["unpublishAt"]) == ("archived", None)


async def test_a_past_or_invalid_publish_time_is_refused(client: httpx.AsyncClient, app: Litestar) -> None:
    with frozen_at(NOW):
        page = await create_page(client, app)
        url = f"/content/v1/pages/{page['slug']}/publish"
        for at in [(NOW - timedelta(minutes=1)).isoformat(), NOW.isoformat(), "2030-03-01T10:00:00", "i morgen"]:
            response = await client.post(url, json={"at": at}, headers=editor(app))
            assert response.status_code == 400, (at, response.text)
            assert response.json()["errors"][0]["field"] == "at"
        preview = (await client.get(f"/content/v1/pages/{page['slug']}/preview", headers=editor(app))).json()
        assert (preview["status"], preview["publishAt"]) == ("draft", None)
