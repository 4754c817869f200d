"""`helsekort demo`: idempotent demo data around one demo citizen; each capability adds its loader below."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from backend.cms.demo import load_cms_demo
from backend.core.access import patient_for_identity_number
from backend.db.engine import DB
from backend.labs.demo import load_labs_demo
from backend.measurements.demo import load_measurements_demo
from backend.medications.demo import load_medications_demo
from backend.pregnancy.demo import load_pregnancy_demo
from backend.settings import Settings

DemoLoader = Callable[[Settings], Awaitable[str]]

# A synthetic test number (month + 80): never a real person. Only accepted outside production.
DEMO_FNR = "13899540063"


@dataclass(frozen=True, slots=True)
class DemoClinician:
    hpr: str
    name: str
    authorization: str
    org_number: str
    org_kind: str
    relation: str | None
    pid: str  # the clinician's own synthetic fødselsnummer, for the dev HelseID token (README)


DEMO_MIDWIFE = DemoClinician(
    "9100001", "Jordmor Kari Nordmann", "JO", "974600001", "helsestasjon", "midwife", "01857510190"
)
DEMO_GP = DemoClinician("9100002", "Fastlege Ola Hansen", "LE", "974600002", "fastlege", "gp", "02858020045")
DEMO_HOSPITAL = DemoClinician("9100003", "Lege Ingrid Berg", "LE", "974600003", "sykehus", "hospital", "03857030019")
DEMO_LAB = DemoClinician("9100004", "Bioingeniør Per Lab", "SP", "974600004", "laboratorium", None, "04856540087")
DEMO_CLINICIANS = (DEMO_MIDWIFE, DEMO_GP, DEMO_HOSPITAL, DEMO_LAB)


async def demo_patient_id() -> uuid.UUID:
    return await patient_for_identity_number(DEMO_FNR)


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
    return f"demo: citizen {patient_id} with care relations to {len(DEMO_CLINICIANS) - 1} demo organisations"


DEMO_LOADERS: list[DemoLoader] = [
    load_core_demo,
    load_labs_demo,
    load_medications_demo,
    # The card before the home readings, so the pregnancy context applies to them.
    load_pregnancy_demo,
    load_measurements_demo,
    load_cms_demo,
]


async def load_demo(settings: Settings) -> str:
    lines = [await loader(settings) for loader in DEMO_LOADERS]
    return "\n".join(lines)
