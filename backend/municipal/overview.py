"""The legevakt overview: the one-screen summary of a patient in one call, one audit row, ONE statement.

The decision (`OVERVIEW`, resource type `overview`) is the one audit row, and it also looks up her
pregnancy consent (`reveals`) so the pregnancy section needs no query of its own to decide. The same statement
(`authorize_read`: one snapshot, one round trip) reads, when the decision allows, the sections other domains
registered in core (`core/overview.py`), this domain's active and paused services as the reader may see them with
the count of the others, and the patient's age and sex. Nothing here imports another domain.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from backend.core.access import Need, Read
from backend.core.auth import ClinicianPrincipal
from backend.core.change_signals import PatientCache
from backend.core.clock import oslo_now, utcnow
from backend.core.context import PREGNANCY_CONSENT
from backend.core.encoded import Encoded, encoded
from backend.core.overview import PATIENT, SectionQuery, age_and_sex_query, sections_read
from backend.core.settings import Settings
from backend.municipal import queries
from backend.municipal.schemas import MunicipalServiceOut, Overview, OverviewPatient
from backend.municipal.service import STALE_AFTER, service_out
from backend.municipal.sharing import readable_municipalities

OVERVIEW = Need(action="read", resource_type="overview", reveals=PREGNANCY_CONSENT)
SHOWN_STATUSES = ("active", "paused")


def _services(clinician: ClinicianPrincipal, settings: Settings, now: datetime) -> tuple[SectionQuery, SectionQuery]:
    """The services of the municipalities she may read (`services_for_clinician`'s rule); the others' counted."""
    municipalities = sorted(readable_municipalities(clinician, settings))

    def shown(rows: list[queries.StoredService]) -> list[MunicipalServiceOut]:
        return [service_out(row, now) for row in rows]

    def others(rows: list[queries.OthersCount]) -> int:
        return rows[0].others

    def turns_stale(rows: list[queries.StoredService]) -> datetime | None:
        return min((row.updated_at + STALE_AFTER for row in rows if row.updated_at + STALE_AFTER >= now), default=None)

    return (
        SectionQuery(
            sql=queries.SHOWN_SERVICES,
            args=(PATIENT, municipalities, list(SHOWN_STATUSES)),
            row=queries.StoredService,
            build=shown,
            expires=turns_stale,
        ),
        SectionQuery(
            sql=queries.OTHER_MUNICIPALITIES,
            args=(PATIENT, municipalities),
            row=queries.OthersCount,
            build=others,
        ),
    )


# Each reader's overview of her, kept until she changes or time alone changes it (core/overview.py, `expires`),
# by what the decision found (her pregnancy consent, emergency access), the reader's organisation and person
# (alerts), her municipalities and the day: the route asks `authorize_kept_read(..., overview_read(...), KEPT)`.
KEPT: PatientCache[Encoded[Overview]] = PatientCache(limit=5_000, per_patient=4)


def overview_read(clinician: ClinicianPrincipal, settings: Settings) -> Read[tuple[Encoded[Overview], datetime | None]]:
    """The whole overview as a read of its decision (`authorize_read` or `read_decided` with OVERVIEW): the
    answer and when time alone changes it."""
    now = utcnow()
    services, others = _services(clinician, settings, now)

    def answer(section: dict[str, Any]) -> Encoded[Overview]:
        age, sex = section["patient"]
        return encoded(
            Overview(
                patient=OverviewPatient(age=age, sex=cast(Any, sex)),
                municipal_services=section["municipal_services"],
                other_municipalities_count=section["other_municipalities"],
                medications=section.get("medications"),
                prescriptions=section.get("prescriptions"),
                vitals=section.get("vitals"),
                pregnancy=section.get("pregnancy"),
                lab_results=section.get("labResults"),
                documents=section.get("documents"),
                alerts=section.get("alerts") or [],
                generated_at=now,
            )
        )

    return sections_read(
        clinician,
        settings,
        answer,
        now,
        municipal_services=services,
        other_municipalities=others,
        patient=age_and_sex_query(oslo_now().date()),
    )
