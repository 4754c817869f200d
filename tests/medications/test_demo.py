"""The demo medication list: realistic, one stopped entry, one reconciliation by the GP, and idempotent."""

from __future__ import annotations

import asyncpg
from litestar import Litestar

from backend.core.access import Grant
from backend.core.auth import CitizenPrincipal
from backend.core.demo import DEMO_GP, demo_patient_id
from backend.demo import load_core_demo
from backend.medications.demo import load_medications_demo
from backend.medications.service import citizen_list
from backend.settings import Settings


async def test_the_demo_list_loads_once(app: Litestar, settings: Settings, db: asyncpg.Connection) -> None:
    await load_core_demo(settings)
    # Another test may have loaded the demo already (one demo citizen per database): load, then load again.
    await load_medications_demo(settings)
    assert "unchanged" in await load_medications_demo(settings)
    patient_id = await demo_patient_id()
    assert await db.fetchval("SELECT version FROM medication_list WHERE patient_id = $1", patient_id) == 2
    assert await db.fetchval("SELECT count(*) FROM medication_reconciliation WHERE patient_id = $1", patient_id) == 1
    grant = Grant(patient_id=patient_id, basis="self", principal=CitizenPrincipal(pid="", caller_id="demo"))
    view = await citizen_list(grant)
    assert sorted(item.atc for item in view.entries) == ["B03AA07", "B03BB01", "H03AA01", "N02BE01"]
    [ibux] = view.recently_stopped
    assert ibux.atc == "M01AE01"
    assert ibux.stop_reason
    assert view.last_reconciled is not None
    assert view.last_reconciled.by.hpr == DEMO_GP.hpr
    assert view.last_reconciled.version == 2


async def test_the_demo_prescriptions_load_once(app: Litestar, settings: Settings, db: asyncpg.Connection) -> None:
    from datetime import timedelta

    from backend.medications.demo import RX_DUROFERON, RX_LEVAXIN
    from backend.medications.entries import today
    from backend.medications.prescriptions import citizen_prescriptions
    from backend.medications.renewals import citizen_renewals

    await load_core_demo(settings)
    await load_medications_demo(settings)
    assert "prescriptions: the demo citizen already has her prescriptions; unchanged" in await load_medications_demo(
        settings
    )
    patient_id = await demo_patient_id()
    grant = Grant(patient_id=patient_id, basis="self", principal=CitizenPrincipal(pid="", caller_id="demo"))
    page = await citizen_prescriptions(grant, status="active", cursor=None, limit=None)
    by_id = {item.id: item for item in page.items}
    assert set(by_id) == {RX_LEVAXIN, RX_DUROFERON}
    assert by_id[RX_LEVAXIN].valid_until == today() + timedelta(days=20)
    [request] = (await citizen_renewals(grant, cursor=None, limit=None)).items
    assert (request.prescription_id, request.status) == (RX_LEVAXIN, "pending")
    view = await citizen_list(grant)
    shown = {item.atc: item.prescription for item in view.entries}
    assert shown["H03AA01"] is not None
    assert shown["H03AA01"].id == RX_LEVAXIN
