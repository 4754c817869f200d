"""`helsekort demo`: idempotent demo data around one demo citizen; this build's domains are the modules imported below.

The identities and the registry live in `backend.core.demo`; each domain's `demo.py` registers its loader
there when it is imported. A domain this build does not compose is simply not imported here.
"""

from __future__ import annotations

import uuid
from typing import Any

import backend.cms.demo
import backend.documents.demo
import backend.labs.demo
import backend.measurements.demo
import backend.medications.demo
import backend.municipal.demo
import backend.pregnancy.demo
from backend.core.access import patient_for_identity_number
from backend.core.change_signals import notify_changed
from backend.core.clock import OSLO, utcnow
from backend.core.demo import (
    DEMO_CLINICIANS,
    demo_loader,
    demo_patient_id,
    demo_represented_numbers,
    load_registered_demos,
)
from backend.db.engine import DB
from backend.settings import Settings

# The domains whose demo data this build loads: importing a domain's demo module registers its loader.
DEMO_DOMAINS = (
    backend.labs.demo,
    backend.medications.demo,
    backend.pregnancy.demo,
    backend.measurements.demo,
    backend.cms.demo,
    backend.municipal.demo,
    backend.documents.demo,
)


@demo_loader("core")
async def load_core_demo(settings: Settings) -> str:
    """The demo citizen, her consent to the pregnancy card and the care relations of the demo clinicians."""
    patient_id = await demo_patient_id()
    async with DB.transaction(), DB.connection() as connection:
        await connection.execute(
            """
            INSERT INTO consent (id, patient_id, scope, given_at) VALUES ($1, $2, 'pregnancy-card', now())
            ON CONFLICT (patient_id, scope) DO NOTHING
            """,
            uuid.uuid4(),
            patient_id,
        )
        await notify_changed(connection, patient_id)  # no event: /me keeps her consents until told
        for clinician in DEMO_CLINICIANS:
            if clinician.relation is None:
                continue
            exists = await connection.fetchval(
                "SELECT 1 FROM care_relation WHERE patient_id = $1 AND org_number = $2 AND kind = $3",
                patient_id,
                clinician.org_number,
                clinician.relation,
            )
            if not exists:
                await connection.execute(
                    """
                    WITH by_org AS (
                        INSERT INTO care_relation_by_org (org_number, patient_id) VALUES ($4, $2)
                        ON CONFLICT DO NOTHING
                    )
                    INSERT INTO care_relation (id, patient_id, kind, org_number, org_kind, attested_by_hpr,
                                               attested_by_name, valid_from, valid_until)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, now(), NULL)
                    """,
                    uuid.uuid4(),
                    patient_id,
                    clinician.relation,
                    clinician.org_number,
                    clinician.org_kind,
                    clinician.hpr,
                    clinician.name,
                )
        represented = await _load_representation(connection, patient_id)
    return (
        f"demo: citizen {patient_id} with care relations to {len(DEMO_CLINICIANS) - 1} demo organisations;"
        f" she acts for {represented} people (two children, an elder's power of attorney)"
    )


async def _load_representation(connection: Any, patient_id: uuid.UUID) -> int:
    """She is guardian of a 7- and a 13-year-old and holds power of attorney (all) for an 84-year-old; idempotent."""
    children, elder = demo_represented_numbers(utcnow().astimezone(OSLO).date())
    for number in children:
        child_id = await patient_for_identity_number(number)
        await connection.execute(
            """
            INSERT INTO guardianship (id, patient_id, guardian_id, active, created_at, updated_at)
            VALUES ($1, $2, $3, true, now(), now()) ON CONFLICT (patient_id, guardian_id) DO NOTHING
            """,
            uuid.uuid4(),
            child_id,
            patient_id,
        )
        await connection.execute(
            "INSERT INTO representation_by_representative VALUES ($1, $2, 'guardian') ON CONFLICT DO NOTHING",
            patient_id,
            child_id,
        )
    elder_id = await patient_for_identity_number(elder)
    if not await connection.fetchval(
        "SELECT 1 FROM power_of_attorney WHERE patient_id = $1 AND attorney_id = $2 AND revoked_at IS NULL",
        elder_id,
        patient_id,
    ):
        await connection.execute(
            """
            INSERT INTO power_of_attorney (id, patient_id, attorney_id, scopes, valid_from, valid_until, created_at)
            VALUES ($1, $2, $3, ARRAY['all'], now(), NULL, now())
            """,
            uuid.uuid4(),
            elder_id,
            patient_id,
        )
    await connection.execute(
        "INSERT INTO representation_by_representative VALUES ($1, $2, 'power-of-attorney') ON CONFLICT DO NOTHING",
        patient_id,
        elder_id,
    )
    return len(children) + 1


async def load_demo(settings: Settings) -> str:
    """Every registered loader (the core's and those of DEMO_DOMAINS), each after those it needs."""
    return await load_registered_demos(settings)
