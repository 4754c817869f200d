"""Her own card is kept per patient (core/change_signals.py): an unchanged card is read from nothing, and every
kind of write to it, hers or a clinician's, and the date are seen on her next read."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from litestar import Litestar

from backend.core.clock import frozen_at
from tests.pregnancy.cards import Team, add_consultation, card_path, create_card, team, today


async def _mine(client: httpx.AsyncClient, t: Team, card_id: str) -> dict[str, Any]:
    response = await client.get(f"/citizen/v1/me/pregnancies/{card_id}", headers=t.woman.headers)
    assert response.status_code == 200, response.text
    card: dict[str, Any] = response.json()
    return card


async def _kept(client: httpx.AsyncClient, t: Team, card_id: str, statements: list[str]) -> dict[str, Any]:
    """Her card once this process listens for changes (so it is kept): the read after is of nothing."""
    for _ in range(200):
        first = await _mine(client, t, card_id)
        statements.clear()
        again = await _mine(client, t, card_id)
        if not statements:
            assert again == first
            return again
        await asyncio.sleep(0.02)
    raise AssertionError(f"the card was never kept: {statements}")


async def test_an_unchanged_card_is_read_from_nothing_and_is_the_same(
    client: httpx.AsyncClient, app: Litestar, statements: list[str]
) -> None:
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=20)
    kept = await _kept(client, t, card["id"], statements)
    statements.clear()
    assert await _mine(client, t, card["id"]) == kept
    assert statements == []
    clinicians = (await client.get(card_path(t.woman.patient_id, card["id"]), headers=t.midwife.headers)).json()
    assert clinicians == kept  # the clinicians' read (not kept) shows the same card


async def test_every_kind_of_write_is_on_her_next_read(
    client: httpx.AsyncClient, app: Litestar, statements: list[str]
) -> None:
    t = await team(client, app)
    card = await create_card(client, t.midwife, t.woman.patient_id, weeks=26, rhd="positive")
    cid = card["id"]
    path = card_path(t.woman.patient_id, cid)
    mine = f"/citizen/v1/me/pregnancies/{cid}"
    consultation_id: list[str] = []

    async def consultation() -> None:
        row = await add_consultation(
            client, t.midwife, t.woman.patient_id, cid, weightKg=71.0, systolic=150, diastolic=80
        )
        consultation_id.append(row["id"])

    async def correction() -> None:
        body = {
            "date": today().isoformat(),
            "weightKg": 71.0,
            "systolic": 115,
            "diastolic": 80,
            "reason": "Skrivefeil i BT",
        }
        response = await client.put(
            f"{path}/consultations/{consultation_id[0]}", json=body, headers={**t.gp.headers, "If-Match": '"1"'}
        )
        assert response.status_code == 200, response.text

    async def post(url: str, body: dict[str, Any], headers: dict[str, str]) -> None:
        response = await client.post(url, json=body, headers=headers)
        assert response.status_code == 201, response.text

    async def header() -> None:
        response = await client.patch(
            path, json={"allergies": "Penicillin"}, headers={**t.gp.headers, "If-Match": f'"{card["version"]}"'}
        )
        assert response.status_code == 200, response.text

    async def outcome() -> None:
        body = {"outcome": "delivered", "date": today().isoformat()}
        response = await client.put(f"{path}/outcome", json=body, headers=t.midwife.headers)
        assert response.status_code == 200, response.text

    writes: list[tuple[str, Callable[[], Awaitable[None]], Callable[[dict[str, Any]], bool]]] = [
        ("a midwife's consultation", consultation, lambda c: [r["systolic"] for r in c["consultations"]] == [150]),
        ("a correction", correction, lambda c: [r["systolic"] for r in c["consultations"]] == [115]),
        (
            "her own note",
            lambda: post(f"{mine}/notes", {"text": "Hovne ankler"}, t.woman.headers),
            lambda c: [n["text"] for n in c["notes"]] == ["Hovne ankler"],
        ),
        (
            "her self-registration",
            lambda: post(
                f"{mine}/self-registrations",
                {"effectiveAt": datetime.now(UTC).isoformat(), "weightKg": 72.5},
                t.woman.headers,
            ),
            lambda c: [r["weightKg"] for r in c["selfRegistrations"]] == [72.5],
        ),
        (
            "an ultrasound",
            lambda: post(f"{path}/ultrasounds", {"date": today().isoformat(), "kind": "other"}, t.midwife.headers),
            lambda c: len(c["ultrasounds"]) == 1,
        ),
        (
            "a vaccine",
            lambda: post(
                f"{path}/vaccines", {"vaccine": "whooping-cough", "givenOn": today().isoformat()}, t.midwife.headers
            ),
            lambda c: [v["vaccine"] for v in c["vaccines"]] == ["whooping-cough"],
        ),
        (
            "a test",
            lambda: post(
                f"{path}/tests",
                {"test": "glucose-tolerance", "takenOn": today().isoformat(), "value": 5.1},
                t.midwife.headers,
            ),
            lambda c: [x["test"] for x in c["tests"]] == ["glucose-tolerance"],
        ),
        (
            "an earlier pregnancy",
            lambda: post(f"{path}/earlier-pregnancies", {"year": 2020, "kind": "miscarriage"}, t.midwife.headers),
            lambda c: [e["year"] for e in c["earlierPregnancies"]] == [2020],
        ),
        ("the header", header, lambda c: c["header"]["allergies"] == "Penicillin"),
        ("the outcome", outcome, lambda c: c["status"] == "delivered" and c["outcome"] is not None),
    ]
    for name, write, shows in writes:
        before = await _kept(client, t, cid, statements)
        assert not shows(before), name
        await write()
        after = await _mine(client, t, cid)
        assert shows(after), name
        assert after != before, name


async def test_the_next_day_shows_the_next_gestational_age(
    client: httpx.AsyncClient, app: Litestar, statements: list[str]
) -> None:
    t = await team(client, app)
    monday = datetime(2026, 6, 15, 21, 30, tzinfo=UTC)  # 23:30 in Norway
    with frozen_at(monday):
        card = await create_card(client, t.midwife, t.woman.patient_id, weeks=20)
        kept = await _kept(client, t, card["id"], statements)
        assert kept["gestationalAge"] == {"weeks": 20, "days": 0}
    with frozen_at(monday + timedelta(hours=1)):  # 00:30 the next day in Norway
        statements.clear()
        tomorrow = await _mine(client, t, card["id"])
        assert tomorrow["gestationalAge"] == {"weeks": 20, "days": 1}
        assert statements  # read again, not kept over midnight
