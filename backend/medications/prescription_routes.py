"""Routes of the prescriptions (SFM): clinicians prescribe and cancel, pharmacies read and dispense, GPs answer
renewal requests, citizens read theirs and ask for renewal."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from backend.core.access import Clinician, MeGrant, authorize
from backend.core.representation import act_for
from backend.core.settings import app_settings
from backend.medications import dispensings, prescriptions, renewals
from backend.medications.prescribing import jo_prefixes
from backend.medications.schemas import (
    ApproveRenewalIn,
    CancelPrescriptionIn,
    DeclineRenewalIn,
    DispensingIn,
    DispensingOut,
    PrescriptionIn,
    PrescriptionOut,
    PrescriptionPage,
    PrescriptionStatus,
    RenewalRequestIn,
    RenewalRequestOut,
    RenewalRequestPage,
    RenewalStatus,
)


class ClinicianPrescriptionController(Controller):
    path = "/patients/{patient_id:uuid}/prescriptions"
    tags = ["clinician: prescriptions"]

    @post(
        "",
        operation_id="clinicianPrescribe",
        summary="Prescribe from a current entry of the medication list (LE; JO within the midwives' list)",
    )
    async def prescribe(
        self,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        data: JSONBody[PrescriptionIn],
        request: Request[Any, Any, Any],
    ) -> PrescriptionOut:
        grant = await authorize(clinician, patient_id, prescriptions.PRESCRIBE, resource_id=str(data.id))
        return await prescriptions.prescribe(grant, data, jo_prefixes=jo_prefixes(app_settings(request)))

    @get(
        "",
        operation_id="clinicianListPrescriptions",
        summary="The patient's prescriptions, newest first; a pharmacy reads active ones",
    )
    async def list_prescriptions(
        self,
        *,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        status: FromQuery[PrescriptionStatus | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> PrescriptionPage:
        grant = await authorize(clinician, patient_id, prescriptions.READ_PRESCRIPTIONS)
        return await prescriptions.prescriptions_for(grant, status=status, cursor=cursor, limit=limit)

    @post(
        "/{prescription_id:uuid}/cancel",
        operation_id="clinicianCancelPrescription",
        status_code=200,
        summary="Cancel an active prescription with a reason (its prescriber, or an LE)",
    )
    async def cancel(
        self,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        prescription_id: FromPath[uuid.UUID],
        data: JSONBody[CancelPrescriptionIn],
    ) -> PrescriptionOut:
        grant = await authorize(clinician, patient_id, prescriptions.CANCEL, resource_id=str(prescription_id))
        return await prescriptions.cancel(grant, prescription_id, data)

    @post(
        "/{prescription_id:uuid}/dispensings",
        operation_id="pharmacyDispense",
        summary="Record a dispensing on an active prescription (pharmacy)",
    )
    async def dispense(
        self,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        prescription_id: FromPath[uuid.UUID],
        data: JSONBody[DispensingIn],
    ) -> DispensingOut:
        grant = await authorize(clinician, patient_id, dispensings.DISPENSE, resource_id=str(prescription_id))
        return await dispensings.dispense(grant, prescription_id, data)


class ClinicianRenewalController(Controller):
    path = "/renewal-requests"
    tags = ["clinician: prescriptions"]

    @get("", operation_id="clinicianRenewalInbox", summary="Renewal requests from the patients of my GP practice")
    async def inbox(
        self,
        *,
        clinician: Clinician,
        status: FromQuery[RenewalStatus] = "pending",
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> RenewalRequestPage:
        return await renewals.inbox(clinician, status=status, cursor=cursor, limit=limit)

    @post(
        "/{request_id:uuid}/approve",
        operation_id="clinicianApproveRenewal",
        status_code=200,
        summary="Approve: a new prescription replaces the old one (LE with access)",
    )
    async def approve(
        self, clinician: Clinician, request_id: FromPath[uuid.UUID], data: JSONBody[ApproveRenewalIn]
    ) -> RenewalRequestOut:
        return await renewals.approve(clinician, request_id, data)

    @post(
        "/{request_id:uuid}/decline",
        operation_id="clinicianDeclineRenewal",
        status_code=200,
        summary="Decline with a reason the citizen reads (LE with access)",
    )
    async def decline(
        self, clinician: Clinician, request_id: FromPath[uuid.UUID], data: JSONBody[DeclineRenewalIn]
    ) -> RenewalRequestOut:
        return await renewals.decline(clinician, request_id, data)


class CitizenPrescriptionController(Controller):
    path = "/me"
    tags = ["citizen: prescriptions"]
    opt = act_for("prescriptions")  # what someone acting for her (Helsekort-Act-For) needs

    @get(
        "/prescriptions",
        operation_id="citizenListPrescriptions",
        summary="My prescriptions: what is left and until when",
    )
    async def list_prescriptions(
        self,
        *,
        me: MeGrant,
        status: FromQuery[PrescriptionStatus | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> PrescriptionPage:
        return await prescriptions.citizen_prescriptions(me, status=status, cursor=cursor, limit=limit)

    @post(
        "/prescriptions/{prescription_id:uuid}/renewal-requests",
        operation_id="citizenRequestRenewal",
        summary="Ask my GP to renew a prescription (one pending request at a time)",
    )
    async def request_renewal(
        self, me: MeGrant, prescription_id: FromPath[uuid.UUID], data: JSONBody[RenewalRequestIn]
    ) -> RenewalRequestOut:
        return await renewals.request_renewal(me, prescription_id, data)

    @get("/renewal-requests", operation_id="citizenListRenewalRequests", summary="My renewal requests and answers")
    async def list_renewals(
        self, *, me: MeGrant, cursor: FromQuery[str | None] = None, limit: FromQuery[int | None] = None
    ) -> RenewalRequestPage:
        return await renewals.citizen_renewals(me, cursor=cursor, limit=limit)
