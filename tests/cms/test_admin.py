"""The editor UI at /admin: piccolo-admin inside the Litestar app, its own login, edits that become revisions.

The browser test drives Debian's headless Chromium with Playwright against the app served by uvicorn
on a local port: log in, edit a draft, save, and see the change through the API's preview. It is
skipped only when Chromium (or Playwright) is not installed.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from litestar import Litestar

from backend.cms.demo import DEV_EDITOR_PASSWORD, DEV_EDITOR_USERNAME, ensure_dev_editor
from tests.cms.pages import create_page, editor

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


async def test_admin_serves_its_login_page_and_refuses_its_api_without_a_session(client: httpx.AsyncClient) -> None:
    page = await client.get("/admin/")
    assert page.status_code == 200
    assert '<div id="app"' in page.text or "id=app" in page.text
    assert (await client.get("/admin/api/tables/")).status_code == 401
    assert (await client.get("/admin/api/tables/cms_draft/")).status_code == 401


async def test_the_dev_editor_exists_outside_production_only(app: Litestar) -> None:
    settings = app.state.settings
    assert "helsekort-dev-editor" in await ensure_dev_editor(settings)
    assert "no default /admin editor" in await ensure_dev_editor(type(settings)(env="production"))


@pytest.fixture
async def served(app: Litestar) -> AsyncIterator[str]:
    """The test app on a real local port (its lifespan already runs in the `app` fixture)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.mark.slow
# Outside production the admin runs on plain HTTP and piccolo-api warns about it at every login.
@pytest.mark.filterwarnings("ignore:If running sessions in production:UserWarning")
@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (apt-get install chromium)")
async def test_an_editor_logs_in_edits_a_draft_in_the_browser_and_the_api_preview_shows_it(
    client: httpx.AsyncClient, app: Litestar, served: str, db: Any
) -> None:
    playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")
    await ensure_dev_editor(app.state.settings)
    page_info = await create_page(client, app, title="Før", markdown="Gammel tekst")
    slug = page_info["slug"]
    draft_id = await db.fetchval(
        "SELECT d.id FROM cms_draft d JOIN cms_page p ON p.id = d.page WHERE p.slug = $1 AND p.locale = 'nb'", slug
    )

    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            tab = await browser.new_page()
            # The editor UI must work under the service's Content-Security-Policy (issue 12): no violations.
            violations: list[str] = []
            tab.on(
                "console",
                lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
            )
            await tab.goto(f"{served}/admin/")
            await tab.fill("input[name=username]", DEV_EDITOR_USERNAME)
            await tab.fill("input[name=password]", DEV_EDITOR_PASSWORD)
            await tab.click("button[data-uitest=login_button]")
            await tab.wait_for_selector("#nav", timeout=15_000)

            await tab.goto(f"{served}/admin/#/cms_draft/{draft_id}")
            markdown = tab.locator("textarea[name=markdown]:visible")
            await markdown.wait_for(timeout=15_000)
            assert await markdown.input_value() == "Gammel tekst"
            await markdown.fill("## Ny overskrift\n\nEndret i nettleseren <script>alert(1)</script>")
            await tab.locator("input[name=title]:visible").fill("Etter")
            async with tab.expect_response(
                lambda r: "/api/tables/cms_draft/" in r.url and r.request.method == "PATCH"
            ) as patched:
                await tab.click("button:has-text('Save')")
            response = await patched.value
            assert response.status == 200, await response.text()
            assert violations == [], violations
        finally:
            await browser.close()

    preview = await client.get(f"/content/v1/pages/{slug}/preview", headers=editor(app))
    body = preview.json()
    assert body["title"] == "Etter"
    assert body["markdown"].startswith("## Ny overskrift")
    assert "<h2>Ny overskrift</h2>" in body["html"]
    assert "<script" not in body["html"]
    assert body["revision"] == 2
    assert body["updatedBy"] == DEV_EDITOR_USERNAME
    history = (await client.get(f"/content/v1/pages/{slug}/revisions", headers=editor(app))).json()["items"]
    assert next((r["n"], r["source"], r["author"]) for r in history) == (2, "admin", DEV_EDITOR_USERNAME)
    audited = await db.fetchval(
        "SELECT count(*) FROM audit_log_global WHERE resource_id = $1 AND action = 'cms.save-draft' AND actor = $2",
        f"{slug}/nb",
        f"editor:admin:{DEV_EDITOR_USERNAME}",
    )
    assert audited == 1
