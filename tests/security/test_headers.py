"""Headers a health service needs (issue 12): no-store on patient data, nosniff, Referrer-Policy, a strict CSP on
HTML, CORS that exposes ETag/Retry-After/Location, and /metrics only for allowed client addresses."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar

from backend.app import create_app
from backend.settings import Settings, SettingsError, load_settings
from tests.cms.pages import published_page
from tests.factories import new_citizen, new_clinician, synthetic_fnr


def _directives(policy: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


async def test_patient_data_and_its_errors_are_never_stored(client: httpx.AsyncClient, app: Litestar) -> None:
    citizen = await new_citizen(client, app)
    clinician = new_clinician(app)
    answers = [
        await client.get("/citizen/v1/me", headers=citizen.headers),
        await client.get("/citizen/v1/me"),  # 401
        await client.get("/citizen/v1/no-such-thing", headers=citizen.headers),  # 404, unmatched
        await client.post("/clinician/v1/patients/lookup", json={"fnr": synthetic_fnr()}, headers=clinician.headers),
        await client.post("/clinician/v1/patients/lookup", json={"fnr": "12"}, headers=clinician.headers),  # 400
    ]
    assert [answer.status_code for answer in answers][:3] == [200, 401, 404]
    for answer in answers:
        assert answer.headers["cache-control"] == "no-store", answer.request.url
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["x-request-id"]


async def test_public_cms_pages_keep_their_own_caching(client: httpx.AsyncClient, app: Litestar) -> None:
    page = await published_page(client, app)
    response = await client.get(f"/content/v1/pages/{page['slug']}?locale=nb")
    assert response.status_code == 200, response.text
    assert "no-store" not in response.headers.get("cache-control", "")
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_html_answers_carry_a_strict_content_security_policy(client: httpx.AsyncClient) -> None:
    admin = await client.get("/admin/")
    assert admin.status_code == 200
    policy = _directives(admin.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]  # the Vue editor UI sets inline styles
    # The editor UI's own assets are relative URLs: allowed by 'self'.
    assets = re.findall(r'(?:src|href)="([^"]+)"', admin.text)
    assert assets
    assert all(not asset.startswith(("http:", "https:", "//")) for asset in assets)
    # JSON answers need no policy: nothing in them is rendered.
    assert "content-security-policy" not in (await client.get("/health")).headers


async def test_the_api_page_policy_allows_exactly_its_renderers_assets(client: httpx.AsyncClient) -> None:
    page = await client.get("/schema")
    assert page.status_code == 200
    policy = _directives(page.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    scripts = re.findall(r"<script[^>]*\ssrc=[\"']([^\"']+)", page.text)
    styles = re.findall(r"<link[^>]*rel=[\"']stylesheet[\"'][^>]*href=[\"']([^\"']+)", page.text)
    assert scripts
    for url, allowed in [
        *((url, policy["script-src"]) for url in scripts),
        *((u, policy["style-src"]) for u in styles),
    ]:
        origin = re.match(r"https://[^/]+", url)
        assert ("'self'" in allowed) if origin is None else (origin.group(0) in allowed), url


@pytest.fixture
async def cors_client(app: Litestar, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    browser_app = create_app(dataclasses.replace(settings, cors_origins=("https://app.helsekort.example",)))
    browser_app.state.dev_signing_key = app.state.dev_signing_key
    transport = httpx.ASGITransport(app=browser_app, client=("10.8.8.8", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_cors_exposes_the_headers_a_browser_client_needs(cors_client: httpx.AsyncClient) -> None:
    response = await cors_client.get("/health", headers={"Origin": "https://app.helsekort.example"})
    assert response.headers["access-control-allow-origin"] == "https://app.helsekort.example"
    exposed = {name.strip().lower() for name in response.headers["access-control-expose-headers"].split(",")}
    assert {"etag", "retry-after", "location"} <= exposed


async def test_metrics_are_served_only_to_allowed_addresses(app: Litestar, client: httpx.AsyncClient) -> None:
    # The test client comes from a 10.x address: the public listener does not know /metrics for it.
    refused = await client.get("/metrics")
    assert refused.status_code == 404
    assert "helsekort_requests" not in refused.text
    local = httpx.ASGITransport(app=app, client=("127.0.0.1", 4000))
    async with httpx.AsyncClient(transport=local, base_url="http://testserver") as loopback:
        response = await loopback.get("/metrics")
    assert response.status_code == 200
    assert "helsekort_requests_total" in response.text


async def test_metrics_allow_list_is_configurable(app: Litestar, settings: Settings) -> None:
    configured = create_app(dataclasses.replace(settings, metrics_allow=("10.20.0.0/16",)))
    inside = httpx.ASGITransport(app=configured, client=("10.20.3.4", 4000))
    outside = httpx.ASGITransport(app=configured, client=("127.0.0.1", 4000))
    async with (
        httpx.AsyncClient(transport=inside, base_url="http://testserver") as scraper,
        httpx.AsyncClient(transport=outside, base_url="http://testserver") as other,
    ):
        assert (await scraper.get("/metrics")).status_code == 200
        assert (await other.get("/metrics")).status_code == 404


def test_metrics_allow_is_read_and_checked_from_the_environment() -> None:
    assert load_settings({}).metrics_allow == ("127.0.0.1/32", "::1/128")
    assert load_settings({"HELSEKORT_METRICS_ALLOW": "10.0.0.0/8, 192.168.1.5"}).metrics_allow == (
        "10.0.0.0/8",
        "192.168.1.5",
    )
    with pytest.raises(SettingsError, match="HELSEKORT_METRICS_ALLOW"):
        load_settings({"HELSEKORT_METRICS_ALLOW": "everyone"})
