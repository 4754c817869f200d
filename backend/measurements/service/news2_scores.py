"""Recorded NEWS2: a clinician's vital set stored as measurements, its score linked to them, and the alert it may
call for; the SpO2 scale is the one the patient's prescribed target puts in force (spo2_target.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import cast

from backend.core import events
from backend.core.access import Grant, Need, grant_passes_consent, write_transaction
from backend.core.alerts import Severity, raise_alert
from backend.core.auth import ClinicianPrincipal
from backend.core.clock import OSLO, utcnow
from backend.core.context import PREGNANCY_CONSENT, PregnancyFacts, age_on, birth_date, pregnancy_facts
from backend.core.db import DB
from backend.core.errors import BadRequest
from backend.core.paging import BeforeTimeAndId, clamp_limit, decode_cursor, keyset_page
from backend.core.relations import RELATION_KINDS
from backend.measurements import queries
from backend.measurements.codes import BLOOD_PRESSURE_PANEL, FUTURE_TOLERANCE
from backend.measurements.news2 import NEWS2_SNOMED, Spo2Scale, VitalSigns, score_news2
from backend.measurements.queries import VitalReading, new_measurement_id
from backend.measurements.schemas import News2MeasurementIds, News2NotValidReason, News2Recorded, News2RecordIn

RESOURCE = "news2"
RECORD_NEWS2 = Need(action="write", resource_type=RESOURCE)

RESPIRATORY_RATE = "9279-1"
PULSE_OXIMETRY = "59408-5"
HEART_RATE = "8867-4"
BODY_TEMPERATURE = "8310-5"
ALL_CARE_RELATIONS = RELATION_KINDS

# RCP NEWS2 (2017): medium (5-6) and high (≥7) need review; so does a single parameter scoring 3 (low-medium),
# which the nurse must bring to the medical team (CLINICAL.md v1.1).
_NEWS2_ALERT_SEVERITY: dict[str, Severity] = {"low-medium": "warning", "medium": "warning", "high": "urgent"}
# CLINICAL.md v1.1 (RCP NEWS2 2017 is not validated under 16 years or in pregnancy): not valid under 16, in
# an ongoing pregnancy, or within 6 weeks (42 days, day 42 included) after the outcome date of a pregnancy.
NEWS2_MINIMUM_AGE = 16
AFTER_PREGNANCY = timedelta(days=42)
NEUTRAL_REASON: News2NotValidReason = "not-validated-for-this-patient"
# Reasons that would tell that she is or was pregnant: only with her pregnancy-card consent.
_PREGNANCY_REASONS = frozenset({"pregnancy", "after-pregnancy"})


def news2_not_valid_reason(born: date | None, pregnancy: PregnancyFacts, on: date) -> News2NotValidReason | None:
    """Why NEWS2 is not valid for this patient on `on` (the Oslo date of the vital set), or None when it is.

    Age comes first, so that a girl under 16 is told so whatever else is true. An unknown birth date does
    not suppress alerts (every stored number has one; see core/context.birth_date).
    """
    if born is not None and age_on(born, on) < NEWS2_MINIMUM_AGE:
        return "under-16"
    if pregnancy.ongoing:
        return "pregnancy"
    if pregnancy.ended_on is not None and on <= pregnancy.ended_on + AFTER_PREGNANCY:
        return "after-pregnancy"
    return None


def reason_for_reader(reason: str | None, *, knows_pregnancy: bool) -> News2NotValidReason | None:
    """The stored reason as this reader may see it: pregnancy only with the woman's consent (CLINICAL.md v1.1)."""
    if reason is None:
        return None
    if reason in _PREGNANCY_REASONS and not knows_pregnancy:
        return NEUTRAL_REASON
    return cast(News2NotValidReason, reason)


def _effective_time(moment: datetime | None, now: datetime) -> datetime:
    if moment is None:
        return now
    if moment.utcoffset() is None:
        raise BadRequest("effectiveAt must carry a UTC offset", field="effectiveAt")
    if moment - now > FUTURE_TOLERANCE:
        raise BadRequest("effectiveAt is more than 5 minutes in the future", field="effectiveAt")
    return moment.astimezone(UTC)


def _scale(asked: int | None, target_id: uuid.UUID | None) -> Spo2Scale:
    """Scale 2 exactly while a prescribed 88-92 % target is in force (RCP NEWS2 2017; CLINICAL.md v1.1)."""
    in_force: Spo2Scale = 2 if target_id is not None else 1
    if asked is not None and asked != in_force:
        if asked == 2:
            raise BadRequest(
                "spo2Scale 2 needs an SpO2 target of 88-92 % recorded for this patient by a doctor "
                "(PUT .../spo2-target); leave spo2Scale out to use the scale in force",
                field="spo2Scale",
            )
        raise BadRequest(
            "this patient has an SpO2 target of 88-92 % in force, so NEWS2 uses scale 2; "
            "leave spo2Scale out, or clear the target first",
            field="spo2Scale",
        )
    return in_force


def _vital_set(data: News2RecordIn, ids: News2MeasurementIds) -> list[VitalReading]:
    """The five measurements of a vital set: rate, SpO2, blood pressure (panel), pulse and temperature."""
    diastolic = float(data.diastolic) if data.diastolic is not None else None
    return [
        VitalReading(ids.respiration_rate, RESPIRATORY_RATE, float(data.respiration_rate), None, None, "/min"),
        VitalReading(ids.spo2, PULSE_OXIMETRY, float(data.spo2), None, None, "%"),
        VitalReading(ids.blood_pressure, BLOOD_PRESSURE_PANEL, None, float(data.systolic), diastolic, None),
        VitalReading(ids.pulse, HEART_RATE, float(data.pulse), None, None, "/min"),
        VitalReading(ids.temperature, BODY_TEMPERATURE, float(data.temperature), None, None, "Cel"),
    ]


async def record_news2(grant: Grant, data: News2RecordIn) -> News2Recorded:
    """Store the vital set as measurements and its score with links to them; alert when valid and it calls for
    review (low-medium, medium, high). The not-valid reason is worded for the recording clinician."""
    clinician = grant.principal
    assert isinstance(clinician, ClinicianPrincipal)  # a clinician route's grant
    now = utcnow()
    effective_at = _effective_time(data.effective_at, now)
    ids = News2MeasurementIds(
        respiration_rate=new_measurement_id(),
        spo2=new_measurement_id(),
        blood_pressure=new_measurement_id(),
        pulse=new_measurement_id(),
        temperature=new_measurement_id(),
    )
    score_id = uuid.uuid4()
    patient_id = grant.patient_id
    alert_id: uuid.UUID | None = None
    born = await birth_date(patient_id)
    async with write_transaction(grant) as connection:
        target_id = await queries.target_in_force_for_score(connection, patient_id)
        scale = _scale(data.spo2_scale, target_id)
        result = score_news2(
            VitalSigns(
                respiration_rate=data.respiration_rate,
                spo2=data.spo2,
                spo2_scale=scale,
                on_oxygen=data.on_oxygen,
                systolic=data.systolic,
                pulse=data.pulse,
                consciousness=data.consciousness,
                temperature=data.temperature,
            )
        )
        reason = news2_not_valid_reason(born, await pregnancy_facts(patient_id), effective_at.astimezone(OSLO).date())
        valid = reason is None
        await queries.insert_vital_set(
            connection,
            patient_id,
            _vital_set(data, ids),
            effective_at=effective_at,
            recorded_by_hpr=clinician.hpr,
            created_at=now,
        )
        await queries.insert_news2_score(
            connection,
            score_id,
            patient_id,
            result,
            effective_at=effective_at,
            valid=valid,
            not_valid_reason=reason,
            scale=scale,
            on_oxygen=data.on_oxygen,
            consciousness=data.consciousness,
            measurements=ids,
            recorded_by_hpr=clinician.hpr,
            org_number=clinician.org_number,
            created_at=now,
            target_id=target_id,
        )
        await events.append_event(patient_id, events.EventType.NEWS2_RECORDED, score_id)
        severity = _NEWS2_ALERT_SEVERITY.get(result.risk)
        if valid and severity is not None:
            red = ", a single parameter scored 3" if result.single_parameter_red else ""
            alert_id = await raise_alert(
                patient_id,
                kind="news2",
                severity=severity,
                message=f"NEWS2 {result.total} ({result.risk} risk{red}): {result.response}",
                relation_kinds=ALL_CARE_RELATIONS,
                resource_type="news2-score",
                resource_id=score_id,
            )
    knows_pregnancy = reason in _PREGNANCY_REASONS and await grant_passes_consent(grant, PREGNANCY_CONSENT)
    return News2Recorded(
        id=score_id,
        code=NEWS2_SNOMED,
        effective_at=effective_at,
        total=result.total,
        subscores=result.subscores,
        risk=result.risk,
        monitoring=result.monitoring,
        response=result.response,
        single_parameter_red=result.single_parameter_red,
        spo2_scale=scale,
        valid_for_patient=valid,
        not_valid_reason=reason_for_reader(reason, knows_pregnancy=knows_pregnancy),
        alert_id=alert_id,
        measurement_ids=ids,
    )


READ_NEWS2 = Need(action="read", resource_type=RESOURCE)


async def list_news2_scores(
    grant: Grant, *, first: datetime | None, last: datetime | None, cursor: str | None, limit: int | None
) -> tuple[list[News2Shown], str | None]:
    """Her recorded NEWS2 scores, newest first; the not-valid reason worded for this reader (`reason_for_reader`)."""
    size = clamp_limit(limit)
    before = decode_cursor(cursor, BeforeTimeAndId)
    async with DB.connection() as connection:
        rows = await queries.news2_scores_newest_first(
            connection, grant.patient_id, first=first, last=last, before=before, limit=size + 1
        )
    kept, following = keyset_page(rows, size, lambda row: BeforeTimeAndId(at=row.effective_at, id=row.id))
    asks_pregnancy = any(row.not_valid_reason in _PREGNANCY_REASONS for row in kept)
    knows_pregnancy = asks_pregnancy and await grant_passes_consent(grant, PREGNANCY_CONSENT)
    shown = [
        News2Shown(score=row, not_valid_reason=reason_for_reader(row.not_valid_reason, knows_pregnancy=knows_pregnancy))
        for row in kept
    ]
    return shown, following


@dataclass(frozen=True, slots=True)
class News2Shown:
    """A stored score as this reader may see it."""

    score: queries.News2ScoreRow
    not_valid_reason: News2NotValidReason | None
