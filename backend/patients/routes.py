"""Routes for the citizen's own record (me, access log, blocks, consents, changes) and clinician lookup and access."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from backend.core.access import Clinician, MeGrant, attest, authorize, open_emergency_access
from backend.core.alerts import AcknowledgeIn, AlertOut, AlertPage, acknowledge_alert, alerts_for
from backend.core.settings import app_settings
from backend.patients import service
from backend.patients.schemas import (
    AccessLogPage,
    BlockList,
    CareRelationIn,
    CareRelationList,
    CareRelationOut,
    ChangePage,
    EmergencyAccessIn,
    EmergencyAccessOut,
    LookupIn,
    LookupOut,
    Me,
)


class CitizenMeController(Controller):
    path = "/me"
    tags = ["citizen: me"]

    @get("", operation_id="citizenGetMe", summary="My patient record and consents (created on first call)")
    async def get_me(self, me: MeGrant) -> Me:
        return await service.describe_me(me)

    @get("/access-log", operation_id="citizenGetAccessLog", summary="Who accessed my data, newest first")
    async def get_access_log(
        self, me: MeGrant, cursor: FromQuery[str | None] = None, limit: FromQuery[int | None] = None
    ) -> AccessLogPage:
        return await service.access_log(me, cursor, limit)

    @get("/blocks", operation_id="citizenListBlocks", summary="Clinicians I block")
    async def list_blocks(self, me: MeGrant) -> BlockList:
        return await service.list_blocks(me)

    @put("/blocks/{hpr:str}", operation_id="citizenBlockClinician", status_code=204, summary="Block a clinician")
    async def block(self, me: MeGrant, hpr: FromPath[str]) -> None:
        await service.block_clinician(me, hpr)

    @delete("/blocks/{hpr:str}", operation_id="citizenUnblockClinician", summary="Lift a block")
    async def unblock(self, me: MeGrant, hpr: FromPath[str]) -> None:
        await service.unblock_clinician(me, hpr)

    @put("/consents/{consent_scope:str}", operation_id="citizenGiveConsent", status_code=204, summary="Give consent")
    async def give_consent(self, me: MeGrant, consent_scope: FromPath[str]) -> None:
        await service.give_consent(me, consent_scope)

    @delete("/consents/{consent_scope:str}", operation_id="citizenWithdrawConsent", summary="Withdraw consent")
    async def withdraw_consent(self, me: MeGrant, consent_scope: FromPath[str]) -> None:
        await service.withdraw_consent(me, consent_scope)

    @get("/changes", operation_id="citizenGetChanges", summary="My change feed since a cursor")
    async def get_changes(
        self, me: MeGrant, since: FromQuery[str | None] = None, limit: FromQuery[int | None] = None
    ) -> ChangePage:
        return await service.changes(me, since, limit)


class ClinicianPatientController(Controller):
    path = "/patients"
    tags = ["clinician: patients"]

    @post("/lookup", operation_id="clinicianLookupPatient", status_code=200, summary="Patient id for a fødselsnummer")
    async def lookup(
        self, clinician: Clinician, data: JSONBody[LookupIn], request: Request[Any, Any, Any]
    ) -> LookupOut:
        allow_synthetic = not app_settings(request).is_production
        return LookupOut(patient_id=await service.lookup_patient(clinician, data.fnr, allow_synthetic=allow_synthetic))

    @post(
        "/{patient_id:uuid}/care-relations",
        operation_id="clinicianAttestCareRelation",
        summary="Attest a care relation",
    )
    async def attest(
        self,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        data: JSONBody[CareRelationIn],
    ) -> CareRelationOut:
        _, row = await attest(clinician, patient_id, data.kind, data.until)
        return service.relation_out(row)

    @get(
        "/{patient_id:uuid}/care-relations", operation_id="clinicianListCareRelations", summary="Active care relations"
    )
    async def list_relations(self, clinician: Clinician, patient_id: FromPath[uuid.UUID]) -> CareRelationList:
        return await service.list_care_relations(await authorize(clinician, patient_id, service.READ_CARE_RELATIONS))

    @post(
        "/{patient_id:uuid}/emergency-access",
        operation_id="clinicianOpenEmergencyAccess",
        summary="Time-limited emergency access (nødrett), logged and notified",
    )
    async def emergency(
        self,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        data: JSONBody[EmergencyAccessIn],
    ) -> EmergencyAccessOut:
        return EmergencyAccessOut(until=await open_emergency_access(clinician, patient_id, data.reason))


class ClinicianAlertsController(Controller):
    path = "/alerts"
    tags = ["clinician: alerts"]

    @get(
        "",
        operation_id="clinicianListAlerts",
        summary="Alerts for patients of my organisation, newest first (status open, the default, or acknowledged)",
    )
    async def list_alerts(
        self,
        clinician: Clinician,
        status: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> AlertPage:
        return await alerts_for(clinician, cursor, limit, status)

    @post(
        "/{alert_id:uuid}/acknowledge",
        operation_id="clinicianAcknowledgeAlert",
        status_code=200,
        summary="Acknowledge an alert (who and when are kept and shown to the patient's other clinicians); "
        "already acknowledged: 409 naming who did",
    )
    async def acknowledge(
        self, clinician: Clinician, alert_id: FromPath[uuid.UUID], data: JSONBody[AcknowledgeIn | None] = None
    ) -> AlertOut:
        return await acknowledge_alert(clinician, alert_id, data or AcknowledgeIn())
