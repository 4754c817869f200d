"""The legevakt overview: the one-screen summary of a patient in one call, one audit row.

The decision (`OVERVIEW`, resource type `overview`) is the one audit row, and it also looks up her
pregnancy consent (`reveals`) so the pregnancy section needs no query of its own to decide. Then, in one read
transaction (one connection, one snapshot): the sections other domains registered in core
(`core/overview.py`), this domain's active and paused services as the reader may see them, and the patient's
age and sex. Nothing here imports another domain.
"""

from __future__ import annotations

from typing import Any, cast

from backend.core.access import Grant, Need
from backend.core.clock import oslo_now, utcnow
from backend.core.context import PREGNANCY_CONSENT, age_and_sex
from backend.core.db import DB
from backend.core.overview import read_sections
from backend.core.settings import Settings
from backend.municipal.schemas import Overview, OverviewPatient
from backend.municipal.service import services_for_clinician

OVERVIEW = Need(action="read", resource_type="overview", reveals=PREGNANCY_CONSENT)
SHOWN_STATUSES = ("active", "paused")


async def overview(grant: Grant, settings: Settings) -> Overview:
    now = utcnow()
    async with DB.transaction():  # one connection, one snapshot: every section reads the same moment
        sections = await read_sections(grant, settings)
        services = await services_for_clinician(grant, settings, statuses=SHOWN_STATUSES)
        age, sex = await age_and_sex(grant.patient_id, oslo_now().date())
    section = sections
    return Overview(
        patient=OverviewPatient(age=age, sex=cast(Any, sex)),
        municipal_services=services.items,
        other_municipalities_count=services.other_municipalities_count,
        medications=section.get("medications"),
        prescriptions=section.get("prescriptions"),
        vitals=section.get("vitals"),
        pregnancy=section.get("pregnancy"),
        lab_results=section.get("labResults"),
        documents=section.get("documents"),
        alerts=section.get("alerts") or [],
        generated_at=now,
    )
