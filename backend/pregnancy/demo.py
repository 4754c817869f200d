"""Demo pregnancy: the demo citizen at week 30 today, written by the demo midwife, GP and hospital through the service."""

from __future__ import annotations

from datetime import date, timedelta

from backend.core.auth import ClinicianPrincipal
from backend.core.clock import oslo_now
from backend.core.demo import DEMO_GP, DEMO_HOSPITAL, DEMO_MIDWIFE, DemoClinician, demo_loader, demo_patient_id
from backend.core.settings import Settings
from backend.pregnancy import service
from backend.pregnancy.schemas import (
    CardIn,
    ConsultationIn,
    Contact,
    EarlierPregnancyIn,
    Lifestyle,
    TestIn,
    UltrasoundIn,
    VaccineIn,
)

WEEKS_TODAY = 30


def _principal(clinician: DemoClinician) -> ClinicianPrincipal:
    # The demo clinicians act as themselves, so every entry is authorised and audited like a real one.
    return ClinicianPrincipal(
        hpr=clinician.hpr,
        pid="",
        authorization=clinician.authorization,
        org_number=clinician.org_number,
        org_kind=clinician.org_kind,
        name=clinician.name,
        caller_id=f"demo:{clinician.hpr}",
    )


def _week(lmp: date, weeks: int, days: int = 0) -> date:
    return lmp + timedelta(days=weeks * 7 + days)


@demo_loader("pregnancy", after=("core",))
async def load_pregnancy_demo(settings: Settings) -> str:
    """One ongoing card at week 30 with a realistic history; does nothing when the demo citizen has a card."""
    patient_id = await demo_patient_id()
    if await service.has_card(patient_id):
        return "demo: pregnancy card already present"
    midwife, gp, hospital = _principal(DEMO_MIDWIFE), _principal(DEMO_GP), _principal(DEMO_HOSPITAL)
    lmp = oslo_now().date() - timedelta(weeks=WEEKS_TODAY)
    card = await service.create_card(
        midwife,
        patient_id,
        CardIn(
            last_menstrual_period=lmp,
            blood_type="0",
            rhd="positive",
            antibodies="Ingen",
            gravida=2,
            para=1,
            allergies="Ingen kjente",
            lifestyle=Lifestyle(folate=True, tobacco="never", snus="stopped", alcohol="stopped"),
            height_cm=168,
            pre_pregnancy_weight_kg=64,
            gp=Contact(name=DEMO_GP.name, phone="+47 22 00 00 02"),
            midwife=Contact(name=DEMO_MIDWIFE.name, phone="+47 22 00 00 01"),
            planned_place_of_birth="Oslo universitetssykehus, Ullevål",
            earlier_pregnancies=[
                EarlierPregnancyIn(year=lmp.year - 3, kind="birth", week=40, birth_weight_g=3480, mode="vaginal")
            ],
        ),
    )
    card_id = card.id
    await service.add_consultation(
        midwife,
        patient_id,
        card_id,
        ConsultationIn(
            date=_week(lmp, 8, 2), gestational_week=8, weight_kg=65.0, systolic=112, diastolic=70,
            urine_protein="neg", urine_glucose="neg", hb=12.8, note="Første konsultasjon. Lett kvalme.",
        ),
    )  # fmt: skip
    for test in (
        TestIn(test="hb", taken_on=_week(lmp, 8, 2), value=12.8),
        TestIn(test="ferritin", taken_on=_week(lmp, 8, 2), value=42),
        TestIn(test="hepatitis-b", taken_on=_week(lmp, 8, 2), result="negative"),
        TestIn(test="hiv", taken_on=_week(lmp, 8, 2), result="negative"),
        TestIn(test="syphilis", taken_on=_week(lmp, 8, 2), result="negative"),
    ):
        await service.add_test(midwife, patient_id, card_id, test)
    await service.add_ultrasound(
        hospital,
        patient_id,
        card_id,
        UltrasoundIn(
            date=_week(lmp, 12, 1), kind="early", due_date=_week(lmp, 40), fetuses=1,
            findings="Ett levende foster, normal nakkeoppklaring",
        ),
    )  # fmt: skip
    await service.add_ultrasound(
        hospital,
        patient_id,
        card_id,
        UltrasoundIn(
            date=_week(lmp, 18, 3), kind="routine", fetuses=1, placenta="Fremre vegg, høyt",
            findings="Normal anatomi og vekst",
        ),
    )  # fmt: skip
    await service.add_consultation(
        midwife,
        patient_id,
        card_id,
        ConsultationIn(
            date=_week(lmp, 24, 1), gestational_week=24, weight_kg=70.5, systolic=116, diastolic=72,
            urine_protein="neg", urine_glucose="neg", sf_cm=23.5, fetal_heart=True, fetal_movements=True,
            oedema=False, note="Kjenner liv daglig",
        ),
    )  # fmt: skip
    await service.add_vaccine(
        midwife, patient_id, card_id, VaccineIn(vaccine="whooping-cough", given_on=_week(lmp, 24, 1))
    )
    await service.add_consultation(
        gp,
        patient_id,
        card_id,
        ConsultationIn(
            date=_week(lmp, 28, 2), gestational_week=28, weight_kg=72.8, systolic=122, diastolic=78,
            urine_protein="neg", urine_glucose="neg", hb=11.9, sf_cm=27.5, fetal_heart=True,
            presentation="cephalic", fetal_movements=True, oedema=False, note="Alt fint. Hb litt lav, jerntilskudd.",
        ),
    )  # fmt: skip
    return f"demo: pregnancy card {card_id} at week {WEEKS_TODAY} with 3 consultations and 2 ultrasounds"
