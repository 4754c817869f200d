"""Municipal services as FHIR R4 EpisodeOfCare: the service (with its Norwegian label), its status, the period, the
municipality that manages it and the provider's unit. Read through the domain's own views with `READ_SERVICES`, so
a clinician sees only the municipalities that share with her (the others are not even counted here: FHIR has no
place for `otherMunicipalitiesCount`), the citizen all of hers; `date` searches the period."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from backend.core.access import Grant
from backend.core.clock import OSLO
from backend.core.fhir import (
    FhirPage,
    FhirQuery,
    concept,
    fhir_search,
    instant,
    is_citizen,
    patient_reference,
    slice_page,
)
from backend.municipal.schemas import MunicipalServiceOut
from backend.municipal.service import READ_SERVICES, services_for_citizen, services_for_clinician

SERVICE = "http://helsekort.no/fhir/CodeSystem/municipal-service"
MUNICIPALITY = "urn:oid:2.16.578.1.12.4.1.1.3402"  # Kommunenummer (Statistics Norway's municipality numbers)

# API.md's statuses in EpisodeOfCare's: applied is waiting, granted is planned, paused is on hold.
STATUS = {"applied": "waitlist", "granted": "planned", "active": "active", "paused": "onhold", "ended": "finished"}


def _moment(day: date) -> datetime:
    return datetime.combine(day, time(0), OSLO)


def episode_of_care(grant: Grant, service: MunicipalServiceOut) -> dict[str, Any]:
    """Pure: one municipal service as an EpisodeOfCare of the patient of `grant`."""
    period: dict[str, str] = {"start": service.from_.isoformat()}
    if service.until is not None:
        period["end"] = service.until.isoformat()
    unit = " – ".join(filter(None, (service.provider.name, service.provider.unit)))
    return {
        "resourceType": "EpisodeOfCare",
        "id": str(service.id),
        "meta": {"lastUpdated": instant(service.updated_at)},
        "status": STATUS[service.status],
        "type": [concept(SERVICE, service.service, service.service_label)],
        "patient": patient_reference(grant),
        "managingOrganization": {"identifier": {"system": MUNICIPALITY, "value": service.municipality}},
        "period": period,
        "team": [{"display": unit}],
    }


@fhir_search("EpisodeOfCare", "municipal-services", need=READ_SERVICES)
async def search_services(grant: Grant, query: FhirQuery) -> FhirPage:
    if is_citizen(grant):
        services = await services_for_citizen(grant)
    else:
        services = (await services_for_clinician(grant, query.settings)).items
    kept = [
        episode_of_care(grant, service)
        for service in services
        if query.wants_code(service.service)
        and query.wants_period(_moment(service.from_), _moment(service.until) if service.until else None)
    ]
    return slice_page(kept, query)
