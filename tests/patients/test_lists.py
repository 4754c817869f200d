"""The patients domain's lists page like every list: `limit` items, `next` until the last page, a bad cursor 400."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar

from tests.factories import all_pages, block, consent, new_citizen, new_clinician, relate


async def test_blocks_page_oldest_first_without_gaps_or_repeats(client: httpx.AsyncClient, app: Litestar) -> None:
    woman = await new_citizen(client, app)
    clinicians = [new_clinician(app) for _ in range(5)]
    for clinician in clinicians:
        await block(client, woman, clinician)

    pages = await all_pages(client, "/citizen/v1/me/blocks", woman.headers, limit=2)

    assert [len(page) for page in pages] == [2, 2, 1]
    assert [item["hpr"] for page in pages for item in page] == [clinician.hpr for clinician in clinicians]
    whole = (await client.get("/citizen/v1/me/blocks", headers=woman.headers)).json()
    assert len(whole["items"]) == 5
    assert whole["next"] is None


async def test_care_relations_page_and_other_midwives_stay_hidden_without_consent(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    woman = await new_citizen(client, app)
    gp = new_clinician(app)
    midwife = new_clinician(app, org_kind="helsestasjon", authorization="JO")
    hospital = new_clinician(app, org_kind="sykehus")
    homecare = new_clinician(app, org_kind="hjemmetjeneste", authorization="SP")
    for clinician in (gp, midwife, hospital, homecare):
        await relate(client, clinician, woman.patient_id)
    path = f"/clinician/v1/patients/{woman.patient_id}/care-relations"

    # Without her pregnancy-card consent the midwife relation of another organisation is not listed, and the
    # pages are still full: the filter is applied before the page is cut.
    pages = await all_pages(client, path, gp.headers, limit=2)
    assert [[item["kind"] for item in page] for page in pages] == [["gp", "hospital"], ["homecare"]]
    # The midwife's own organisation sees its own relation.
    own = await all_pages(client, path, midwife.headers, limit=10)
    assert [item["kind"] for item in own[0]] == ["gp", "midwife", "hospital", "homecare"]

    await consent(client, woman)
    pages = await all_pages(client, path, gp.headers, limit=3)
    assert [[item["kind"] for item in page] for page in pages] == [["gp", "midwife", "hospital"], ["homecare"]]


@pytest.mark.parametrize("query", [{"cursor": "bm90LWEtY3Vyc29y"}, {"cursor": "%%%"}, {"limit": 0}, {"limit": 201}])
async def test_a_bad_cursor_or_limit_is_a_400_naming_it(
    client: httpx.AsyncClient, app: Litestar, query: dict[str, str | int]
) -> None:
    woman = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, woman.patient_id)
    for path, headers in (
        ("/citizen/v1/me/blocks", woman.headers),
        (f"/clinician/v1/patients/{woman.patient_id}/care-relations", gp.headers),
    ):
        response = await client.get(path, params=query, headers=headers)
        assert response.status_code == 400, (path, response.text)
        assert [error["field"] for error in response.json()["errors"]] == list(query)
