"""Demo municipal services: an 84-year-old second demo citizen with home nursing three times a day, a safety
alarm and meals on wheels from Oslo (0301), written by the demo home care service through the real upsert;
the demo legevakt has a care relation, so its token (README) opens her overview.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from backend.core.access import Need, attest, authorize, patient_for_identity_number
from backend.core.auth import ClinicianPrincipal
from backend.core.clock import oslo_now
from backend.core.demo import DEMO_ELDER_FNR, DemoClinician, demo_loader
from backend.core.errors import NotFound
from backend.core.identity import with_control_digits
from backend.core.relations import RelationKind
from backend.core.settings import Settings
from backend.municipal import service
from backend.municipal.schemas import Coordinator, MunicipalServiceIn, Provider

DEMO_MUNICIPALITY = "0301"
_NAMESPACE = uuid.UUID("0b7d1c4e-6a55-4f0e-9f8e-3c2a6d1b9e16")


def _synthetic(first_six: str) -> str:
    """A synthetic number (month + 80) with these birth digits, for a demo person: never a real one."""
    for individual in range(100, 500):
        number = with_control_digits(f"{first_six}{individual:03d}")
        if number is not None:
            return number
    raise ValueError(f"no synthetic number for {first_six}")


DEMO_LEGEVAKT = DemoClinician(
    "9100005", "Legevaktlege Lise Vik", "LE", "974600005", "legevakt", "legevakt", _synthetic("058570")
)
DEMO_HOMECARE = DemoClinician(
    "9100006", "Sykepleier Siv Hjemli", "SP", "974600006", "hjemmetjeneste", "homecare", _synthetic("068575")
)


def _principal(clinician: DemoClinician) -> ClinicianPrincipal:
    return ClinicianPrincipal(
        hpr=clinician.hpr,
        pid=clinician.pid,
        authorization=clinician.authorization,
        org_number=clinician.org_number,
        org_kind=clinician.org_kind,
        name=clinician.name,
        caller_id=f"clinician:{clinician.hpr}:{clinician.org_number}",
        municipality=DEMO_MUNICIPALITY,
    )


_PROBE = Need(action="read", resource_type="care-relation")


async def _related(principal: ClinicianPrincipal, patient_id: uuid.UUID, kind: RelationKind) -> None:
    """Attest the organisation's relation unless it already has one (the demo loads any number of times)."""
    try:
        await authorize(principal, patient_id, _PROBE)
    except NotFound:
        await attest(principal, patient_id, kind, None)


def demo_services(on: date) -> dict[uuid.UUID, MunicipalServiceIn]:
    home_nursing = Provider(
        name="Hjemmesykepleien Frogner", unit="Sone vest", phone="+47 23 40 50 60", hours="hele døgnet (24/7)"
    )
    return {
        uuid.uuid5(_NAMESPACE, "home-nursing"): MunicipalServiceIn(
            service="home-nursing",
            status="active",
            from_=on - timedelta(days=200),
            frequency="3 ganger daglig (morgen, ettermiddag, kveld)",
            provider=home_nursing,
            coordinator=Coordinator(name="Koordinator Anne Berg", phone="+47 23 40 50 61"),
            practical_info="Nøkkelboks ved inngangsdøren. Insulin og dosett i kjøleskapet.",
        ),
        uuid.uuid5(_NAMESPACE, "safety-alarm"): MunicipalServiceIn(
            service="safety-alarm",
            status="active",
            from_=on - timedelta(days=400),
            provider=Provider(name="Trygghetsalarmsentralen Oslo", phone="+47 21 80 21 80", hours="24/7"),
        ),
        uuid.uuid5(_NAMESPACE, "meals-on-wheels"): MunicipalServiceIn(
            service="meals-on-wheels",
            status="active",
            from_=on - timedelta(days=90),
            frequency="middag 5 dager i uken",
            provider=Provider(name="Oslo kommune matombringing", phone="+47 21 80 21 81", hours="hverdager 08-15"),
        ),
    }


@demo_loader("municipal", after=("core",))
async def load_municipal_demo(settings: Settings) -> str:
    patient_id = await patient_for_identity_number(DEMO_ELDER_FNR)
    homecare, legevakt = _principal(DEMO_HOMECARE), _principal(DEMO_LEGEVAKT)
    await _related(homecare, patient_id, "homecare")
    await _related(legevakt, patient_id, "legevakt")
    grant = await authorize(homecare, patient_id, service.WRITE_SERVICE)
    services = demo_services(oslo_now().date())
    for service_id, data in services.items():
        await service.put_service(grant, service_id, data)
    return f"demo: {len(services)} municipal services from {DEMO_MUNICIPALITY} for the second demo citizen {patient_id}"
