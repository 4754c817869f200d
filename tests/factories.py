"""Small factories for test data: synthetic identity numbers, dev tokens, citizens and clinicians."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from litestar import Litestar

from backend.core.change_signals import CHANNEL, SIGNALS
from backend.core.demo import DEMO_CLINICIANS, DEMO_FNR, demo_represented_numbers
from backend.core.identity import with_control_digits
from backend.db.engine import DB
from backend.dev.tokens import DevSigningKey, citizen_claims, clinician_claims, editor_claims, mint

_TODAY = datetime.now(UTC).date()


def _demo_people(today: date) -> tuple[str, ...]:
    children, elder = demo_represented_numbers(today)
    return (*children, elder)


_random = random.SystemRandom()
# Every number issued in this run: tests/conftest.py checks that none of them ever reaches a log record.
ISSUED_NUMBERS: set[str] = set()
# The demo's people (backend/core/demo.py), loaded into the same database by the demo's tests: a test's new citizen
# must never be one of them (a test born on the demo elder's birthday once became her, with her home care).
_DEMO_NUMBERS = frozenset(
    {
        DEMO_FNR,
        *(clinician.pid for clinician in DEMO_CLINICIANS),
        # The children's numbers follow the year the demo is loaded in: any day around now.
        *(number for days in (-1, 0, 1) for number in _demo_people(_TODAY + timedelta(days=days))),
    }
)


def _issued(number: str | None) -> bool:
    """Hand out `number` if it is valid and free: never one handed out before in this run, nor a demo person's, so
    two people (born the same day, or drawn twice) never become one patient."""
    if number is None or number in ISSUED_NUMBERS or number in _DEMO_NUMBERS:
        return False
    ISSUED_NUMBERS.add(number)
    return True


def synthetic_fnr() -> str:
    """A valid synthetic test fødselsnummer (month + 80), never a real person's, and never one handed out before in
    this run or a demo person's: two tests must not share a patient."""
    while True:
        day = _random.randint(1, 28)
        month = _random.randint(1, 12) + 80
        year = _random.randint(50, 99)
        individual = _random.randint(0, 499)
        number = with_control_digits(f"{day:02d}{month:02d}{year:02d}{individual:03d}")
        if _issued(number):
            return number


def fnr_born_on(born: date, *, d_number: bool = False) -> str:
    """A valid synthetic number (month + 80) for this birth date; the individual number gives the century
    (000-499: 1900s; 500-999 with a year up to 39: 2000s), and a D-nummer adds 40 to the day."""
    if 1900 <= born.year <= 1999:
        individuals = list(range(500))
    elif 2000 <= born.year <= 2039:
        individuals = list(range(500, 1000))
    else:
        raise ValueError("only births 1900-2039 are made here")
    _random.shuffle(individuals)
    day = born.day + (40 if d_number else 0)
    for individual in individuals:
        number = with_control_digits(f"{day:02d}{born.month + 80:02d}{born.year % 100:02d}{individual:03d}")
        if _issued(number):
            return number
    raise AssertionError("no unused control digits for any individual number of this birth date")


def random_hpr() -> str:
    return str(_random.randint(1_000_000, 99_999_999))


def random_org() -> str:
    return str(_random.randint(900_000_000, 999_999_999))


def signing_key(app: Litestar) -> DevSigningKey:
    key: DevSigningKey = app.state.dev_signing_key
    return key


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Citizen:
    fnr: str
    token: str
    patient_id: uuid.UUID
    headers: dict[str, str] = field(repr=False)


@dataclass
class Clinician:
    hpr: str
    org: str
    org_kind: str
    authorization: str
    token: str
    headers: dict[str, str] = field(repr=False)


def citizen_token(app: Litestar, fnr: str, **overrides: Any) -> str:
    return mint(signing_key(app), "citizen", {**citizen_claims(fnr), **overrides})


async def new_citizen(client: httpx.AsyncClient, app: Litestar, fnr: str | None = None) -> Citizen:
    number = fnr or synthetic_fnr()
    token = citizen_token(app, number)
    response = await client.get("/citizen/v1/me", headers=bearer(token))
    assert response.status_code == 200, response.text
    return Citizen(fnr=number, token=token, patient_id=uuid.UUID(response.json()["patientId"]), headers=bearer(token))


def new_clinician(
    app: Litestar,
    *,
    org_kind: str = "fastlege",
    authorization: str = "LE",
    org: str | None = None,
    hpr: str | None = None,
    name: str | None = None,
    municipality: str | None = "0301",
) -> Clinician:
    hpr = hpr or random_hpr()
    org = org or random_org()
    claims = clinician_claims(
        hpr=hpr,
        pid=synthetic_fnr(),
        authorization=authorization,
        org=org,
        org_kind=org_kind,
        name=name,
        municipality=municipality,
    )
    token = mint(signing_key(app), "clinician", claims)
    return Clinician(
        hpr=hpr, org=org, org_kind=org_kind, authorization=authorization, token=token, headers=bearer(token)
    )


def editor_token(app: Litestar, sub: str = "editor-1") -> str:
    return mint(signing_key(app), "editor", editor_claims(sub))


RELATION_FOR_ORG_KIND = {
    "fastlege": "gp",
    "helsestasjon": "midwife",
    "sykehus": "hospital",
    "legevakt": "legevakt",
    "hjemmetjeneste": "homecare",
    "kommune": "homecare",
}


async def relate(
    client: httpx.AsyncClient, clinician: Clinician, patient_id: uuid.UUID, kind: str | None = None
) -> None:
    """Attest a care relation for the clinician's organisation."""
    response = await client.post(
        f"/clinician/v1/patients/{patient_id}/care-relations",
        json={"kind": kind or RELATION_FOR_ORG_KIND[clinician.org_kind]},
        headers=clinician.headers,
    )
    assert response.status_code == 201, response.text


async def consent(client: httpx.AsyncClient, citizen: Citizen, scope: str = "pregnancy-card") -> None:
    response = await client.put(f"/citizen/v1/me/consents/{scope}", headers=citizen.headers)
    assert response.status_code == 204, response.text


async def block(client: httpx.AsyncClient, citizen: Citizen, clinician: Clinician) -> None:
    response = await client.put(f"/citizen/v1/me/blocks/{clinician.hpr}", headers=citizen.headers)
    assert response.status_code == 204, response.text


async def all_pages(client: httpx.AsyncClient, path: str, headers: dict[str, str], limit: int) -> list[list[Any]]:
    """Every page of a `{items, next}` list, following `next` with `limit` items a page."""
    pages = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = await client.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["items"])
        cursor = body["next"]
        if cursor is None:
            return pages


async def caching_live() -> None:
    """Wait until this process hears the database's change notifications: only then does a PatientCache keep."""
    dsn = DB.config.get("dsn")
    assert isinstance(dsn, str)
    for _ in range(250):
        if SIGNALS.live(dsn):
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("change notifications never became live")
    # And until the notifications of writes already committed have arrived (they would drop what is kept next):
    # notifications arrive in commit order, so once a probe sent now is heard, every earlier one has been.
    probe = uuid.uuid4()
    async with DB.connection() as connection:
        await connection.execute("SELECT pg_notify($1, $2)", CHANNEL, str(probe))
    for _ in range(250):
        if SIGNALS.mark(probe)[1]:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the probe notification never arrived")


def split_audit(statements: list[str]) -> tuple[list[str], int]:
    """The request's own statements, and how many of the audit log's group commits (`audit.append_row_durably`: the
    decision's row, written after the decision's statement and before the answer) went with them."""
    own = [s for s in statements if not (s.startswith("INSERT INTO audit_log (") and "FROM unnest(" in s)]
    return own, len(statements) - len(own)


def decisions(statements: list[str]) -> bool:
    """Every statement is an access decision (a SELECT: its audit row is written by the group commit)."""
    return all(s.startswith("WITH decision AS") and "INSERT" not in s for s in statements)


async def kept_reads_are_the_decision_alone(
    read: Callable[[], Awaitable[dict[str, Any]]],
    db: asyncpg.Connection,
    statements: list[str],
    reader: Clinician,
    *,
    resource_type: str,
    table: str,
) -> dict[str, Any]:
    """Read once, then twice more: the same answer, each of the two a decision statement and nothing else (no
    statement names `table`), with its one allowed audit row. The first answer."""
    first = await read()
    before = len(await audit_rows(db, reader))
    statements.clear()
    assert await read() == first
    assert await read() == first
    own, audited = split_audit(statements)
    assert len(own) == 2, statements
    assert decisions(own), own
    assert audited == 2, statements
    assert not any(table in statement for statement in statements), statements
    rows = (await audit_rows(db, reader))[before:]
    assert [(row["action"], row["resource_type"], row["refusal"]) for row in rows] == [
        ("read", resource_type, None)
    ] * 2
    assert all(row["basis"] == "care-relation" for row in rows)
    return first


async def refused_readers_leave_their_rows(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Connection, path: str, *, hers: str
) -> None:
    """Another organisation (404) and a laboratory (403) asking `path`: `hers` (something of her record) is in
    neither answer, and each refusal is its one denied audit row."""
    stranger = new_clinician(app, org_kind="fastlege", authorization="LE")
    lab = new_clinician(app, org_kind="laboratorium", authorization="SP")
    outside = await client.get(path, headers=stranger.headers)
    assert outside.status_code == 404, outside.text
    by_role = await client.get(path, headers=lab.headers)
    assert by_role.status_code == 403, by_role.text
    assert hers not in outside.text + by_role.text
    assert [(row["action"], row["basis"]) for row in await audit_rows(db, stranger)] == [("read", "denied")]
    assert [(row["basis"], row["refusal"]) for row in await audit_rows(db, lab)] == [("denied", "role")]


async def audit_rows(db: asyncpg.Connection, clinician: Clinician) -> list[dict[str, Any]]:
    """The clinician's audit rows, oldest first: what was done, to what, on which basis, and any refusal."""
    rows = await db.fetch(
        "SELECT action, resource_type, basis, refusal FROM audit_log WHERE hpr = $1 ORDER BY id", clinician.hpr
    )
    return [dict(row) for row in rows]
