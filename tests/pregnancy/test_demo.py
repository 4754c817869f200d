"""`helsekort demo`: the demo citizen gets one ongoing pregnancy at week 30, once."""

from __future__ import annotations

import asyncpg
import httpx
from litestar import Litestar

from backend.core.demo import DEMO_FNR, DEMO_GP, DEMO_HOSPITAL, DEMO_MIDWIFE
from backend.demo import load_core_demo
from backend.pregnancy.demo import load_pregnancy_demo
from backend.settings import Settings
from tests.factories import citizen_token


async def test_demo_pregnancy_is_at_week_30_with_its_history_and_loads_only_once(
    client: httpx.AsyncClient, app: Litestar, settings: Settings, db: asyncpg.Connection
) -> None:
    await load_core_demo(settings)
    # Another test may have run the whole demo already in this session; either way there is one card after.
    await load_pregnancy_demo(settings)
    counts = await db.fetchrow(
        """
        SELECT (SELECT count(*) FROM pregnancy_card) AS cards,
               (SELECT count(*) FROM pregnancy_consultation) AS consultations,
               (SELECT count(*) FROM event) AS events
        """
    )
    again = await load_pregnancy_demo(settings)
    assert "already" in again
    assert (
        await db.fetchrow(
            """
        SELECT (SELECT count(*) FROM pregnancy_card) AS cards,
               (SELECT count(*) FROM pregnancy_consultation) AS consultations,
               (SELECT count(*) FROM event) AS events
        """
        )
        == counts
    )

    headers = {"Authorization": f"Bearer {citizen_token(app, DEMO_FNR)}"}
    cards = (await client.get("/citizen/v1/me/pregnancies", headers=headers)).json()["items"]
    assert len(cards) == 1
    card = (await client.get(f"/citizen/v1/me/pregnancies/{cards[0]['id']}", headers=headers)).json()
    assert card["status"] == "ongoing"
    assert card["gestationalAge"] == {"weeks": 30, "days": 0}
    assert card["dueDateSource"] == "ultrasound"
    rows = [(c["gestationalAge"]["weeks"], c["author"]["hpr"]) for c in card["consultations"]]
    assert rows == [(8, DEMO_MIDWIFE.hpr), (24, DEMO_MIDWIFE.hpr), (28, DEMO_GP.hpr)]
    assert [(u["kind"], u["gestationalAge"]["weeks"], u["author"]["hpr"]) for u in card["ultrasounds"]] == [
        ("early", 12, DEMO_HOSPITAL.hpr),
        ("routine", 18, DEMO_HOSPITAL.hpr),
    ]
    assert [(v["vaccine"], v["author"]["hpr"]) for v in card["vaccines"]] == [("whooping-cough", DEMO_MIDWIFE.hpr)]
    assert "consultation-28" not in [item["key"] for item in card["overdue"]]
    pdf = await client.get(f"/citizen/v1/me/pregnancies/{card['id']}/card.pdf", headers=headers)
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
