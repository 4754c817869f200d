"""Routes for the citizen's own record (me, access log, blocks, consents, changes) and clinician lookup and access."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from backend.core.access import Clinician, MeGrant, System, attest, authorize_read, open_emergency_access
from backend.core.alerts import AcknowledgeIn, AlertOut, AlertPage, acknowledge_alert, alerts_for
from backend.core.representation import act_for
from backend.core.settings import app_settings
from backend.patients import representatives, service
from backend.patients.schemas import (
    AccessLogPage,
    BlockList,
    CareRelationIn,
    CareRelationList,
    CareRelationOut,
    ChangePage,
    EmergencyAccessIn,
    EmergencyAccessOut,
    GuardianshipIn,
    LookupIn,
    LookupOut,
    Me,
    PowerOfAttorneyCreated,
    PowerOfAttorneyIn,
    RepresentativeList,
    Represented,
)


class CitizenMeController(Controller):
    path = "/me"
    tags = ["citizen: me"]
    # Blocks and consents are her own business: never managed by someone acting for her (403).
    opt = act_for("own")

    @get(
        "",
        operation_id="citizenGetMe",
        summary="My patient record and consents (created on first call)",
        opt=act_for("all"),
    )
    async def get_me(self, me: MeGrant) -> Me:
        return await service.describe_me(me)

    @get(
        "/access-log",
        operation_id="citizenGetAccessLog",
        summary="Who accessed my data, newest first",
        opt=act_for("all"),
    )
    async def get_access_log(
        self, me: MeGrant, cursor: FromQuery[str | None] = None, limit: FromQuery[int | None] = None
    ) -> AccessLogPage:
        return await service.access_log(me, cursor, limit)

    @get("/blocks", operation_id="citizenListBlocks", summary="Clinicians I block, oldest first")
    async def list_blocks(
        self, me: MeGrant, cursor: FromQuery[str | None] = None, limit: FromQuery[int | None] = None
    ) -> BlockList:
        return await service.list_blocks(me, cursor, limit)

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

    # A representative follows the represented person's feed (her own cursor per person), filtered to her scopes.
    @get("/changes", operation_id="citizenGetChanges", summary="My change feed since a cursor", opt=act_for("any"))
    async def get_changes(
        self, me: MeGrant, since: FromQuery[str | None] = None, limit: FromQuery[int | None] = None
    ) -> ChangePage:
        return await service.changes(me, since, limit)


class CitizenRepresentationController(Controller):
    path = "/me"
    tags = ["citizen: representation"]
    opt = act_for("own")  # whom she lets act for her is never decided by someone acting for her

    @post(
        "/representatives",
        operation_id="citizenGivePowerOfAttorney",
        summary="Give an adult power of attorney (from 16): scopes and an optional end",
    )
    async def give(
        self, me: MeGrant, data: JSONBody[PowerOfAttorneyIn], request: Request[Any, Any, Any]
    ) -> PowerOfAttorneyCreated:
        allow_synthetic = not app_settings(request).is_production
        return await representatives.give_power_of_attorney(me, data, allow_synthetic=allow_synthetic)

    @get(
        "/representatives",
        operation_id="citizenListRepresentatives",
        summary="The powers of attorney I have given that are in force, oldest first",
    )
    async def list_representatives(
        self, me: MeGrant, cursor: FromQuery[str | None] = None, limit: FromQuery[int | None] = None
    ) -> RepresentativeList:
        return await representatives.representatives(me, cursor, limit)

    @delete(
        "/representatives/{representative_id:uuid}",
        operation_id="citizenRevokePowerOfAttorney",
        summary="Revoke a power of attorney, at once",
    )
    async def revoke(self, me: MeGrant, representative_id: FromPath[uuid.UUID]) -> None:
        await representatives.revoke(me, representative_id)

    @get(
        "/represented",
        operation_id="citizenListRepresented",
        summary="Whom I may act for now (Helsekort-Act-For), as guardian or with power of attorney",
    )
    async def list_represented(self, me: MeGrant) -> list[Represented]:
        return await representatives.represented(me)


class SystemGuardianshipController(Controller):
    path = "/guardianships"
    tags = ["system: population register"]

    @put(
        "",
        operation_id="systemPutGuardianship",
        status_code=204,
        summary="The population register's parent–child link as it now stands (active false ends it)",
        opt={"system_scope": "registry"},
    )
    async def put_guardianship(
        self, system: System, data: JSONBody[GuardianshipIn], request: Request[Any, Any, Any]
    ) -> None:
        allow_synthetic = not app_settings(request).is_production
        await representatives.register_guardianship(system, data, allow_synthetic=allow_synthetic)


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
        "/{patient_id:uuid}/care-relations",
        operation_id="clinicianListCareRelations",
        summary="Active care relations, oldest first",
    )
    async def list_relations(
        self,
        clinician: Clinician,
        patient_id: FromPath[uuid.UUID],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> CareRelationList:
        read = service.care_relations_read(clinician, cursor, limit)
        _, page = await authorize_read(clinician, patient_id, service.READ_CARE_RELATIONS, read)
        return page

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
