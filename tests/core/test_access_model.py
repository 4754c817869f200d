"""The one access model in core: every refusal and every access is one audit row with its true outcome,
refusals by role included; attestation commits with the write that needed it; services take a Grant."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar

from backend.core.access import Grant, Need, Role, authorize
from backend.core.auth import ClinicianPrincipal
from backend.core.relations import ATTESTABLE, RELATION_KINDS
from tests.factories import Clinician, block, new_citizen, new_clinician, relate
from tests.pregnancy.cards import card_path, create_card, lmp_for_week, team

BACKEND = Path(__file__).resolve().parents[2] / "backend"


async def _audit_rows(db: Any, clinician: Clinician) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT action, resource_type, basis, refusal FROM audit_log WHERE hpr = $1 ORDER BY id", clinician.hpr
    )
    return [dict(row) for row in rows]


async def test_a_write_refused_by_role_is_one_denied_row_not_an_allowed_write(
    client: httpx.AsyncClient, app: Litestar, db: Any
) -> None:
    woman = await new_citizen(client, app)
    nurse = new_clinician(app, org_kind="fastlege", authorization="SP")
    await relate(client, nurse, woman.patient_id)
    before = await _audit_rows(db, nurse)
    response = await client.put(
        f"/clinician/v1/patients/{woman.patient_id}/medications",
        json={"entries": []},
        headers={**nurse.headers, "If-Match": '"0"'},
    )
    assert response.status_code == 403, response.text
    rows = (await _audit_rows(db, nurse))[len(before) :]
    assert rows == [{"action": "write", "resource_type": "medication-list", "basis": "denied", "refusal": "role"}]


async def test_a_card_write_refused_by_role_is_audited_before_anything_about_the_patient(
    client: httpx.AsyncClient, app: Litestar, db: Any
) -> None:
    people = await team(client, app)
    card = await create_card(client, people.midwife, people.woman.patient_id)
    secretary = new_clinician(app, org_kind="helsestasjon", authorization="SP", org=people.midwife.org)
    response = await client.post(
        f"{card_path(people.woman.patient_id, card['id'])}/consultations",
        json={"date": lmp_for_week(0).isoformat()},
        headers=secretary.headers,
    )
    assert response.status_code == 403
    assert "midwives (JO) and doctors (LE)" in response.json()["detail"]
    assert await _audit_rows(db, secretary) == [
        {"action": "write", "resource_type": "pregnancy", "basis": "denied", "refusal": "role"}
    ]


async def test_a_laboratory_reads_nothing_and_each_attempt_is_a_denied_row(
    client: httpx.AsyncClient, app: Litestar, db: Any
) -> None:
    woman = await new_citizen(client, app)
    lab = new_clinician(app, org_kind="laboratorium", authorization="SP")
    for path in ("medications", "measurements", "care-relations", "lab-reports"):
        response = await client.get(f"/clinician/v1/patients/{woman.patient_id}/{path}", headers=lab.headers)
        assert response.status_code == 403, (path, response.text)
    rows = await _audit_rows(db, lab)
    assert len(rows) == 4
    assert {(row["basis"], row["refusal"]) for row in rows} == {("denied", "role")}


async def test_out_of_scope_rows_say_why(client: httpx.AsyncClient, app: Litestar, db: Any) -> None:
    woman = await new_citizen(client, app)
    stranger = new_clinician(app)
    await client.get(f"/clinician/v1/patients/{woman.patient_id}/medications", headers=stranger.headers)
    await client.get(f"/clinician/v1/patients/{uuid.uuid4()}/medications", headers=stranger.headers)
    gp = new_clinician(app)
    await relate(client, gp, woman.patient_id)
    await block(client, woman, gp)
    await client.get(f"/clinician/v1/patients/{woman.patient_id}/medications", headers=gp.headers)
    midwife = new_clinician(app, org_kind="helsestasjon", authorization="JO")
    await relate(client, midwife, woman.patient_id)
    await client.get(card_path(woman.patient_id), headers=midwife.headers)  # no pregnancy-card consent
    assert [row["refusal"] for row in await _audit_rows(db, stranger)] == ["no-relation", "no-patient"]
    assert [row["refusal"] for row in await _audit_rows(db, gp)][-1] == "blocked"
    assert [row["refusal"] for row in await _audit_rows(db, midwife)][-1] == "no-consent"


async def test_a_blocked_clinician_cannot_attest_and_the_refusal_is_audited(
    client: httpx.AsyncClient, app: Litestar, db: Any
) -> None:
    woman = await new_citizen(client, app)
    gp = new_clinician(app)
    await block(client, woman, gp)
    response = await client.post(
        f"/clinician/v1/patients/{woman.patient_id}/care-relations", json={"kind": "gp"}, headers=gp.headers
    )
    assert response.status_code == 404
    assert await db.fetchval("SELECT count(*) FROM care_relation WHERE patient_id = $1", woman.patient_id) == 0
    assert await _audit_rows(db, gp) == [
        {"action": "attest", "resource_type": "care-relation", "basis": "denied", "refusal": "blocked"}
    ]


async def test_a_refused_card_creation_attests_no_relation(client: httpx.AsyncClient, app: Litestar, db: Any) -> None:
    """The midwife relation is written in the card's transaction: a 409 leaves her organisation outside."""
    people = await team(client, app)
    await create_card(client, people.gp, people.woman.patient_id)  # the GP made the card first
    response = await client.post(
        card_path(people.woman.patient_id),
        json={"lastMenstrualPeriod": lmp_for_week(10).isoformat()},
        headers=people.midwife.headers,
    )
    assert response.status_code == 404  # her ongoing card is not reached by creating a second one
    relations = await db.fetchval(
        "SELECT count(*) FROM care_relation WHERE patient_id = $1 AND org_number = $2",
        people.woman.patient_id,
        people.midwife.org,
    )
    assert relations == 0
    listed = await client.get(card_path(people.woman.patient_id), headers=people.midwife.headers)
    assert listed.status_code == 404
    assert [row["refusal"] for row in await _audit_rows(db, people.midwife)] == ["no-relation", "no-relation"]


async def test_a_midwife_creating_the_card_attests_her_relation_with_it(
    client: httpx.AsyncClient, app: Litestar, db: Any
) -> None:
    people = await team(client, app)
    await create_card(client, people.midwife, people.woman.patient_id)
    kinds = await db.fetch(
        "SELECT kind FROM care_relation WHERE patient_id = $1 AND org_number = $2",
        people.woman.patient_id,
        people.midwife.org,
    )
    assert [row["kind"] for row in kinds] == ["midwife"]
    assert await _audit_rows(db, people.midwife) == [
        {"action": "write", "resource_type": "pregnancy", "basis": "care-relation", "refusal": None}
    ]


async def test_authorize_refuses_to_run_inside_a_write_transaction(app: Litestar) -> None:
    from backend.db.engine import DB

    principal = ClinicianPrincipal(
        hpr="9100002", pid="", authorization="LE", org_number="974600002", org_kind="fastlege", name=None, caller_id="t"
    )
    with pytest.raises(RuntimeError, match="before the write's transaction"):
        async with DB.transaction():
            await authorize(principal, uuid.uuid4(), Need(action="read", resource_type="x"))


async def test_the_decision_tells_whether_the_consent_a_need_reveals_is_given(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    from backend.core.access import grant_passes_consent
    from backend.core.context import PREGNANCY_CONSENT
    from tests.factories import consent

    woman = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, woman.patient_id)
    principal = ClinicianPrincipal(
        hpr=gp.hpr, pid="", authorization="LE", org_number=gp.org, org_kind=gp.org_kind, name=None, caller_id="t"
    )
    need = Need(action="read", resource_type="care-relation", reveals=PREGNANCY_CONSENT)
    before = await grant_passes_consent(await authorize(principal, woman.patient_id, need), PREGNANCY_CONSENT)
    await consent(client, woman)
    grant = await authorize(principal, woman.patient_id, need)
    assert (before, grant.revealed) == (False, True)
    assert await grant_passes_consent(grant, PREGNANCY_CONSENT)
    # Withdrawn after the decision: the answer is the decision's, and a fresh decision sees the withdrawal.
    withdrawn = await client.delete(f"/citizen/v1/me/consents/{PREGNANCY_CONSENT}", headers=woman.headers)
    assert withdrawn.status_code == 204, withdrawn.text
    assert await grant_passes_consent(grant, PREGNANCY_CONSENT)
    fresh = await authorize(principal, woman.patient_id, need)
    assert fresh.revealed is False
    assert not await grant_passes_consent(fresh, PREGNANCY_CONSENT)
    # A Need that does not reveal it leaves the answer to a query of its own.
    plain = await authorize(principal, woman.patient_id, Need(action="read", resource_type="care-relation"))
    assert plain.revealed is None
    assert not await grant_passes_consent(plain, PREGNANCY_CONSENT)


async def test_the_decision_plans_each_check_once(app: Litestar, db: Any) -> None:
    """Each EXISTS of the decision is one scan: inlined into both CASEs, every check ran twice (25 buffers, not 12)."""
    import json

    from backend.core.access import _decide

    params = [
        "9100002",
        "974600002",
        uuid.uuid4(),
        "read",
        "pregnancy-card",
        False,
        True,
        "gp",
        "pregnancy-card",
        False,
    ]
    plan = json.loads(await db.fetchval("EXPLAIN (FORMAT JSON) " + _decide(None), *params))

    def relations(node: dict[str, Any]) -> list[str]:
        found = [node["Relation Name"]] if "Relation Name" in node and node["Node Type"] != "ModifyTable" else []
        return found + [name for child in node.get("Plans", []) for name in relations(child)]

    scanned = relations(plan[0]["Plan"])
    assert sorted(scanned) == sorted(
        ["patient", "emergency_access", "care_relation", "care_relation", "clinician_block", "consent", "consent"]
    ), scanned


async def test_a_read_in_the_decisions_statement_never_runs_when_refused(app: Litestar, db: Any) -> None:
    """authorize_read: the domain's read is gated by the decision (a one-time filter), so a refusal reads nothing."""
    import json

    from backend.core.access import _decide_and_read

    read = "SELECT id FROM measurement WHERE patient_id = access.patient_id AND code <> $1 ORDER BY id"
    params = ["9100002", "974600002", uuid.uuid4(), "read", None, False, True, None, None, False, "x"]
    plan = json.loads(await db.fetchval("EXPLAIN (ANALYZE, FORMAT JSON) " + _decide_and_read(None, read), *params))

    def scans(node: dict[str, Any]) -> list[tuple[str, int]]:
        found = [(node["Relation Name"], node["Actual Loops"])] if "Relation Name" in node else []
        return found + [scan for child in node.get("Plans", []) for scan in scans(child)]

    found = scans(plan[0]["Plan"])
    assert ("patient", 1) in found
    assert ("measurement", 0) in found, found  # planned, never executed


async def test_authorize_read_decides_and_audits_as_authorize_does(
    client: httpx.AsyncClient, app: Litestar, db: Any
) -> None:
    from backend.core.access import Read, authorize_read
    from backend.core.errors import Forbidden, NotFound

    woman = await new_citizen(client, app)
    gp = new_clinician(app)
    principal = ClinicianPrincipal(
        hpr=gp.hpr, pid="", authorization="LE", org_number=gp.org, org_kind=gp.org_kind, name=None, caller_id="t"
    )
    read = Read(sql="SELECT n FROM generate_series(1, $1::int) AS n WHERE access.patient_id IS NOT NULL ORDER BY n DESC",
                args=(3,), result=lambda rows: [row["n"] for row in rows])  # fmt: skip
    need = Need(action="read", resource_type="care-relation")
    with pytest.raises(NotFound):
        await authorize_read(principal, woman.patient_id, need, read)
    await relate(client, gp, woman.patient_id)
    grant, numbers = await authorize_read(principal, woman.patient_id, need, read)
    assert (grant.basis, grant.patient_id, numbers) == ("care-relation", woman.patient_id, [3, 2, 1])
    empty = Read(sql="SELECT 1 AS one WHERE false", args=(), result=list)
    assert (await authorize_read(principal, woman.patient_id, need, empty))[1] == []
    with pytest.raises(Forbidden):
        await authorize_read(principal, woman.patient_id, Need(action="read", resource_type="x", role=_NO_ONE), read)
    reads = [(row["basis"], row["refusal"]) for row in await _audit_rows(db, gp) if row["action"] == "read"]
    assert reads == [("denied", "no-relation"), ("care-relation", None), ("care-relation", None), ("denied", "role")]


async def test_a_read_the_server_refuses_is_still_one_audit_row(
    client: httpx.AsyncClient, app: Litestar, db: Any
) -> None:
    """The read fails inside the decision's statement (its audit row rolls back): the decision is recorded alone."""
    import asyncpg

    from backend.core.access import Read, authorize_read

    woman = await new_citizen(client, app)
    gp = new_clinician(app)
    await relate(client, gp, woman.patient_id)
    principal = ClinicianPrincipal(
        hpr=gp.hpr, pid="", authorization="LE", org_number=gp.org, org_kind=gp.org_kind, name=None, caller_id="t"
    )
    failing = Read(
        sql="SELECT 1 / (n - $1::int) AS x FROM generate_series(1, 1) AS n WHERE access.patient_id IS NOT NULL",
        args=(1,),
        result=list,
    )
    with pytest.raises(asyncpg.DivisionByZeroError):
        await authorize_read(principal, woman.patient_id, Need(action="read", resource_type="x"), failing)
    reads = [(row["basis"], row["resource_type"]) for row in await _audit_rows(db, gp) if row["action"] == "read"]
    assert reads == [("care-relation", "x")]


_NO_ONE = Role(rule="no one may", authorizations=frozenset())


def test_the_attestation_matrix_names_only_declared_relation_kinds() -> None:
    for kinds in ATTESTABLE.values():
        assert kinds <= set(RELATION_KINDS)
    assert ATTESTABLE["laboratorium"] == frozenset()


# --- structure: a missing access check cannot type-check ---------------------------------------------


def _service_modules() -> list[Path]:
    """Every domain module but its SQL (`queries*.py`, reached only with `grant.patient_id`), demo and migrations."""
    domains = [p for p in BACKEND.iterdir() if p.is_dir() and p.name not in {"core", "db", "dev", "apidocs"}]
    return sorted(
        f
        for d in domains
        for f in d.rglob("*.py")
        if "migrations" not in f.parts and not f.stem.startswith(("queries", "demo"))
    )


def _public_functions_taking_a_bare_patient_id(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in tree.body:
        if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef) and not node.name.startswith("_"):
            args = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            if any(arg.arg == "patient_id" for arg in args):
                found.append(f"{path.relative_to(BACKEND.parent)}:{node.name}")
    return found


# Service functions not yet moved to the Grant they are given; each domain's refactor empties its line.
PENDING: set[str] = {}


def test_every_public_service_function_takes_a_grant_not_a_patient_id() -> None:
    found = {name for path in _service_modules() for name in _public_functions_taking_a_bare_patient_id(path)}
    assert sorted(found) == []
    assert len(_service_modules()) > 30  # the scan reads the domains, not an empty folder


def test_only_core_makes_a_grant() -> None:
    makers = []
    for path in BACKEND.rglob("*.py"):
        if path == BACKEND / "core" / "access.py":
            continue
        if "Grant(" in path.read_text():
            makers.append(str(path.relative_to(BACKEND.parent)))
    assert makers == []
    assert Grant.__module__ == "backend.core.access"


async def test_the_api_plans_the_access_decision_once_per_connection(app: Litestar, database_url: str) -> None:
    """With a NULL consent or relation kind a custom plan drops one of the decision's checks and looks cheaper, so
    PostgreSQL on its own re-plans the decision on every request; the API's connections plan it once."""
    import asyncpg

    from backend.core.access import _decide
    from backend.db.engine import DB

    statement = _decide(None)
    params = ["9100002", "974600002", uuid.uuid4(), "read", None, False, True, None, None, False]
    plans = "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1"
    async with DB.connection() as connection:
        for _ in range(8):
            await connection.fetchrow(statement, *params)
        api = await connection.fetchrow(plans, statement)
    plain = await asyncpg.connect(database_url)
    try:
        for _ in range(8):
            await plain.fetchrow(statement, *params)
        default = await plain.fetchrow(plans, statement)
    finally:
        await plain.close()
    assert api["custom_plans"] == 0  # earlier tests may have run it on this pooled connection too
    assert api["generic_plans"] >= 8
    assert default["custom_plans"] == 8  # what every request paid before: a plan of its own
