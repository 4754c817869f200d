"""Routes of the pregnancy card: the clinicians' card and entries, and the woman's own view, notes and PDF."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Response, get, patch, post, put
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody

from backend.core.access import Clinician, Grant, MeGrant, authorize
from backend.core.auth import ClinicianPrincipal
from backend.core.concurrency import ETAG_HEADER, etag
from backend.core.conditional import conditional_read
from backend.core.representation import act_for
from backend.pregnancy import service
from backend.pregnancy.revalidation import card_state
from backend.pregnancy.schemas import (
    CardHeaderPatch,
    CardIn,
    CardList,
    ConsultationCorrectionIn,
    ConsultationHistory,
    ConsultationIn,
    ConsultationOut,
    EarlierPregnancyIn,
    EarlierPregnancyOut,
    HeaderHistory,
    NoteIn,
    NoteOut,
    OutcomeIn,
    PregnancyCard,
    SelfRegistrationIn,
    SelfRegistrationOut,
    TestIn,
    TestOut,
    UltrasoundIn,
    UltrasoundOut,
    VaccineIn,
    VaccineOut,
)

IfMatch = Annotated[
    str | None, HeaderParameter(name="If-Match", description="ETag of the version you read", required=True)
]

CARD = "/{patient_id:uuid}/pregnancies/{pregnancy_id:uuid}"


async def _reading(clinician: ClinicianPrincipal, patient_id: uuid.UUID, card_id: uuid.UUID | None = None) -> Grant:
    return await authorize(clinician, patient_id, service.READ, resource_id=str(card_id) if card_id else None)


async def _writing(clinician: ClinicianPrincipal, patient_id: uuid.UUID, card_id: uuid.UUID) -> Grant:
    return await authorize(clinician, patient_id, service.WRITE, resource_id=str(card_id))


def _with_etag(card: PregnancyCard, status_code: int = 200) -> Response[PregnancyCard]:
    return Response(card, status_code=status_code, headers={"ETag": etag(card.version)})


class ClinicianPregnancyController(Controller):
    path = "/patients"
    tags = ["clinician: pregnancy card"]

    @post(
        "/{patient_id:uuid}/pregnancies",
        operation_id="clinicianCreatePregnancyCard",
        summary="Create the card",
        response_headers=ETAG_HEADER,
    )
    async def create(
        self, clinician: Clinician, patient_id: FromPath[uuid.UUID], data: JSONBody[CardIn]
    ) -> Response[PregnancyCard]:
        card = service.check_new_card(data)  # a bad body is 400 before anything about the patient is asked
        grant = await authorize(clinician, patient_id, service.create_need(clinician))
        return _with_etag(await service.create_card(grant, card), 201)

    @get("/{patient_id:uuid}/pregnancies", operation_id="clinicianListPregnancyCards", summary="The patient's cards")
    async def list_cards(
        self,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> CardList:
        return await service.list_cards(await _reading(clinician, patient_id), cursor, limit)

    @get(
        CARD,
        operation_id="clinicianGetPregnancyCard",
        summary="The whole card, with its ETag",
        response_headers=ETAG_HEADER,
    )
    async def get_card(
        self, clinician: Clinician, patient_id: FromPath[uuid.UUID], pregnancy_id: FromPath[uuid.UUID]
    ) -> Response[PregnancyCard]:
        return _with_etag(await service.read_card(await _reading(clinician, patient_id, pregnancy_id), pregnancy_id))

    @patch(
        CARD,
        operation_id="clinicianUpdatePregnancyHeader",
        summary="Change the card header (If-Match)",
        response_headers=ETAG_HEADER,
    )
    async def update_header(
        self,
        *,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        pregnancy_id: FromPath[uuid.UUID],
        data: JSONBody[CardHeaderPatch],
        if_match: IfMatch = None,
    ) -> Response[PregnancyCard]:
        change = service.check_header_patch(data)
        grant = await _writing(clinician, patient_id, pregnancy_id)
        return _with_etag(await service.update_header(grant, pregnancy_id, change, if_match))

    @get(f"{CARD}/header-history", operation_id="clinicianGetPregnancyHeaderHistory", summary="Header versions")
    async def header_history(
        self,
        *,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        pregnancy_id: FromPath[uuid.UUID],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> HeaderHistory:
        grant = await _reading(clinician, patient_id, pregnancy_id)
        return await service.header_history(grant, pregnancy_id, cursor, limit)

    @post(f"{CARD}/consultations", operation_id="clinicianAddPregnancyConsultation", summary="Add a consultation")
    async def add_consultation(
        self,
        *,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        pregnancy_id: FromPath[uuid.UUID],
        data: JSONBody[ConsultationIn],
    ) -> ConsultationOut:
        return await service.add_consultation(await _writing(clinician, patient_id, pregnancy_id), pregnancy_id, data)

    @put(
        f"{CARD}/consultations/{{consultation_id:uuid}}",
        operation_id="clinicianCorrectPregnancyConsultation",
        summary="Correct a consultation (If-Match); the old version is kept",
        response_headers=ETAG_HEADER,
    )
    async def correct_consultation(
        self,
        *,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        pregnancy_id: FromPath[uuid.UUID],
        consultation_id: FromPath[uuid.UUID],
        data: JSONBody[ConsultationCorrectionIn],
        if_match: IfMatch = None,
    ) -> Response[ConsultationOut]:
        grant = await _writing(clinician, patient_id, pregnancy_id)
        row = await service.correct_consultation(
            grant, pregnancy_id, entry_id=consultation_id, data=data, if_match=if_match
        )
        return Response(row, headers={"ETag": etag(row.version)})

    @get(
        f"{CARD}/consultations/{{consultation_id:uuid}}/history",
        operation_id="clinicianGetPregnancyConsultationHistory",
        summary="Every version of a consultation, newest first",
    )
    async def consultation_history(
        self,
        *,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        pregnancy_id: FromPath[uuid.UUID],
        consultation_id: FromPath[uuid.UUID],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> ConsultationHistory:
        grant = await _reading(clinician, patient_id, pregnancy_id)
        return await service.consultation_history(grant, pregnancy_id, consultation_id, cursor, limit)

    @post(f"{CARD}/ultrasounds", operation_id="clinicianAddPregnancyUltrasound", summary="Add an ultrasound")
    async def add_ultrasound(
        self,
        *,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        pregnancy_id: FromPath[uuid.UUID],
        data: JSONBody[UltrasoundIn],
    ) -> UltrasoundOut:
        return await service.add_ultrasound(await _writing(clinician, patient_id, pregnancy_id), pregnancy_id, data)

    @post(f"{CARD}/vaccines", operation_id="clinicianAddPregnancyVaccine", summary="Record a vaccine")
    async def add_vaccine(
        self,
        *,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        pregnancy_id: FromPath[uuid.UUID],
        data: JSONBody[VaccineIn],
    ) -> VaccineOut:
        return await service.add_vaccine(await _writing(clinician, patient_id, pregnancy_id), pregnancy_id, data)

    @post(f"{CARD}/tests", operation_id="clinicianAddPregnancyTest", summary="Record a test (first trimester …)")
    async def add_test(
        self,
        *,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        pregnancy_id: FromPath[uuid.UUID],
        data: JSONBody[TestIn],
    ) -> TestOut:
        test = service.check_test(data)
        return await service.add_test(await _writing(clinician, patient_id, pregnancy_id), pregnancy_id, test)

    @post(
        f"{CARD}/earlier-pregnancies",
        operation_id="clinicianAddEarlierPregnancy",
        summary="Record an earlier birth or miscarriage",
    )
    async def add_earlier(
        self,
        *,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        pregnancy_id: FromPath[uuid.UUID],
        data: JSONBody[EarlierPregnancyIn],
    ) -> EarlierPregnancyOut:
        earlier = service.check_earlier_pregnancy(data)
        grant = await _writing(clinician, patient_id, pregnancy_id)
        return await service.add_earlier_pregnancy(grant, pregnancy_id, earlier)

    @put(
        f"{CARD}/outcome",
        operation_id="clinicianRecordPregnancyOutcome",
        summary="Record the outcome; closes",
        response_headers=ETAG_HEADER,
    )
    async def record_outcome(
        self,
        *,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        pregnancy_id: FromPath[uuid.UUID],
        data: JSONBody[OutcomeIn],
    ) -> Response[PregnancyCard]:
        grant = await _writing(clinician, patient_id, pregnancy_id)
        return _with_etag(await service.record_outcome(grant, pregnancy_id, data))


class CitizenPregnancyController(Controller):
    path = "/me/pregnancies"
    tags = ["citizen: pregnancy card"]
    opt = act_for("pregnancy")  # what someone acting for her (Helsekort-Act-For) needs

    @get("", operation_id="citizenListPregnancyCards", summary="My pregnancy cards")
    async def list_cards(
        self, me: MeGrant, cursor: FromQuery[str | None] = None, limit: FromQuery[int | None] = None
    ) -> CardList:
        return await service.list_cards(me, cursor, limit)

    @get(
        "/{pregnancy_id:uuid}",
        operation_id="citizenGetPregnancyCard",
        summary="My whole card; ETag, 304 on If-None-Match",
        **conditional_read(card_state),
    )
    async def get_card(self, me: MeGrant, pregnancy_id: FromPath[uuid.UUID]) -> PregnancyCard:
        return await service.read_my_card(me, pregnancy_id)

    @post("/{pregnancy_id:uuid}/notes", operation_id="citizenAddPregnancyNote", summary="Add my own note")
    async def add_note(self, me: MeGrant, pregnancy_id: FromPath[uuid.UUID], data: JSONBody[NoteIn]) -> NoteOut:
        return await service.add_note(me, pregnancy_id, data)

    @post(
        "/{pregnancy_id:uuid}/self-registrations",
        operation_id="citizenAddPregnancySelfRegistration",
        summary="Record my own weight, blood pressure or fetal movements on the card",
    )
    async def add_self_registration(
        self, me: MeGrant, pregnancy_id: FromPath[uuid.UUID], data: JSONBody[SelfRegistrationIn]
    ) -> SelfRegistrationOut:
        return await service.add_self_registration(me, pregnancy_id, data)

    @get(
        "/{pregnancy_id:uuid}/card.pdf",
        operation_id="citizenGetPregnancyCardPdf",
        summary="My printable card (A4 PDF)",
        media_type="application/pdf",
        opt={"skip_compression": True},  # its streams are compressed already: brotli cost ~0.3 ms and won ~10 %
    )
    async def get_pdf(self, me: MeGrant, pregnancy_id: FromPath[uuid.UUID]) -> Response[bytes]:
        document = await service.card_pdf(me, pregnancy_id)
        return Response(
            document,
            media_type="application/pdf",
            headers={
                "Content-Disposition": 'attachment; filename="helsekort-for-gravide.pdf"',
                "Cache-Control": "no-store",
            },
        )
