"""The lab report as it comes in (lab or clinician JSON, or mapped from FHIR) and as the API shows it."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

Category = Literal["clinical-chemistry", "haematology", "microbiology", "immunology", "pathology", "genetics"]
ReportStatus = Literal["preliminary", "final", "corrected"]
Flag = Literal["normal", "low", "high", "abnormal"]
CodeSystem = Literal["loinc", "local"]
ValueType = Literal["quantity", "string", "code"]
Comparator = Literal["<", "<=", ">=", ">"]

# A naive time cannot be placed on the citizen's timeline or the release clock.
AwareDateTime = Annotated[datetime, Meta(tz=True)]
Code = Annotated[str, Meta(pattern=r"^\S+$", max_length=64, description="a test or panel code, no whitespace")]
Display = Annotated[str, Meta(min_length=1, max_length=200)]
Hpr = Annotated[str, Meta(pattern=r"^[0-9]{1,9}$", description="HPR number of the requesting clinician")]
OrganisationId = Annotated[str, Meta(pattern=r"^\S+$", max_length=64, description="organisation number or other id")]
Unit = Annotated[str, Meta(pattern=r"^\S+$", max_length=40, description="UCUM unit code")]
# Pathology and microbiology answers are running text, so strings get room.
ResultText = Annotated[str, Meta(min_length=1, max_length=20_000)]
Comment = Annotated[str, Meta(min_length=1, max_length=4_000)]


class PerformingLab(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    name: Display
    organisation: OrganisationId


class Requester(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    hpr: Hpr
    organisation: OrganisationId


class ReferenceRange(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    low: float | None = None
    high: float | None = None
    text: Display | None = None


class Panel(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """Observations that belong together (a blood count, a liver panel) and are shown as a group."""

    code: Code
    system: CodeSystem = "local"
    display: Display
    observation_codes: Annotated[list[Code], Meta(min_length=1, max_length=200)]


class ObservationIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """One test result; exactly one of the three values is given (checked by `validate_observation`)."""

    code: Code
    system: CodeSystem
    display: Display
    value_quantity: float | None = None
    # "<5 mg/L" is an ordinary answer for CRP; without the comparator it would read as exactly 5.
    value_comparator: Comparator | None = None
    value_string: ResultText | None = None
    value_code: Code | None = None
    # The words a citizen reads for a coded value ("Negativ"); the code alone means nothing to her.
    value_display: Display | None = None
    unit: Unit | None = None
    reference_range: ReferenceRange | None = None
    flag: Flag | None = None
    comment: Comment | None = None
    panel: Code | None = None


class LabReportIn(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """A lab report as posted; `id` is the sender's report id, so a resend or a correction names the same report."""

    id: UUID
    category: Category
    status: ReportStatus
    specimen_at: AwareDateTime
    issued_at: AwareDateTime
    performing_lab: PerformingLab
    requester: Requester | None = None
    observations: Annotated[list[ObservationIn], Meta(min_length=1, max_length=500)]
    panels: Annotated[list[Panel], Meta(max_length=100)] = msgspec.field(default_factory=list)


class ObservationOut(msgspec.Struct, kw_only=True, rename="camel"):
    code: str
    system: CodeSystem
    display: str
    value: float | str
    value_type: ValueType
    value_comparator: Comparator | None
    value_display: str | None
    unit: str | None
    reference_range: ReferenceRange | None
    flag: Flag | None
    comment: str | None
    panel: str | None


class LabReportOut(msgspec.Struct, kw_only=True, rename="camel"):
    id: UUID
    category: Category
    status: ReportStatus
    corrected: bool
    specimen_at: datetime
    issued_at: datetime
    performing_lab: PerformingLab
    requester: Requester | None
    observations: list[ObservationOut]
    panels: list[Panel]


def build_report_out(report: LabReportIn, *, corrected: bool | None = None) -> LabReportOut:
    """The report as shown: one value per observation, flags derived from bounds when the lab sent none.

    `corrected` defaults to the report's own status; the service passes True when this version replaced another.
    Expects a report that `validate_report` accepted.
    """
    panel_of = {code: panel.code for panel in report.panels for code in panel.observation_codes}
    observations = [_observation_out(obs, obs.panel or panel_of.get(obs.code)) for obs in report.observations]
    panels = [
        Panel(
            code=panel.code,
            system=panel.system,
            display=panel.display,
            observation_codes=[obs.code for obs in observations if obs.panel == panel.code],
        )
        for panel in report.panels
    ]
    return LabReportOut(
        id=report.id,
        category=report.category,
        status=report.status,
        corrected=report.status == "corrected" if corrected is None else corrected,
        specimen_at=report.specimen_at,
        issued_at=report.issued_at,
        performing_lab=report.performing_lab,
        requester=report.requester,
        observations=observations,
        panels=panels,
    )


def derive_flag(value: float, low: float | None, high: float | None) -> Flag | None:
    """The deviation flag from the lab's bounds, both inclusive; None when there is nothing to compare with."""
    if not math.isfinite(value):
        return None
    if low is not None and math.isfinite(low) and value < low:
        return "low"
    if high is not None and math.isfinite(high) and value > high:
        return "high"
    if low is None and high is None:
        return None
    return "normal"


def _observation_out(obs: ObservationIn, panel: str | None) -> ObservationOut:
    value: float | str
    value_type: ValueType
    flag = obs.flag
    if obs.value_quantity is not None:
        value, value_type = obs.value_quantity, "quantity"
        # A censored value ("<5") sits on the bound it names, so only the lab can say whether it deviates.
        if flag is None and obs.reference_range is not None and obs.value_comparator is None:
            flag = derive_flag(obs.value_quantity, obs.reference_range.low, obs.reference_range.high)
    elif obs.value_code is not None:
        value, value_type = obs.value_code, "code"
    elif obs.value_string is not None:
        value, value_type = obs.value_string, "string"
    else:
        raise ValueError(f"observation {obs.code} has no value; validate the report first")
    return ObservationOut(
        code=obs.code,
        system=obs.system,
        display=obs.display,
        value=value,
        value_type=value_type,
        value_comparator=obs.value_comparator,
        value_display=obs.value_display,
        unit=obs.unit,
        reference_range=obs.reference_range,
        flag=flag,
        comment=obs.comment,
        panel=panel,
    )


# --- the stored report as the API shows it ----------------------------------------------------------------

# awaiting-final: a preliminary report, shown only with its final version (CLINICAL.md v1.1).
ReleaseStateName = Literal["released", "scheduled", "held", "awaiting-release", "awaiting-final"]


class PreviousResult(msgspec.Struct, kw_only=True, rename="camel"):
    """An earlier result of the same test for the same patient, shown beside the new one to clinicians."""

    report_id: UUID
    value: float | str
    value_type: ValueType
    value_comparator: Comparator | None
    unit: str | None
    flag: Flag | None
    specimen_at: datetime
    issued_at: datetime


class ClinicianObservationOut(ObservationOut, kw_only=True, rename="camel"):
    previous: list[PreviousResult]


class ReleaseState(msgspec.Struct, kw_only=True, rename="camel"):
    """Whether and since when the citizen sees the report; `visibleFrom` is None while only a release can show it."""

    state: ReleaseStateName
    visible_to_citizen: bool
    visible_from: datetime | None
    release_due_at: datetime | None
    released_at: datetime | None
    held_at: datetime | None
    announced_at: datetime | None


class ReportVersionInfo(msgspec.Struct, kw_only=True, rename="camel"):
    version: int
    status: ReportStatus
    issued_at: datetime
    received_at: datetime


class ClinicianLabReport(msgspec.Struct, kw_only=True, rename="camel"):
    id: UUID
    version: int
    category: Category
    status: ReportStatus
    corrected: bool
    specimen_at: datetime
    issued_at: datetime
    received_at: datetime
    performing_lab: PerformingLab
    requester: Requester
    release: ReleaseState
    observations: list[ClinicianObservationOut]
    panels: list[Panel]
    versions: list[ReportVersionInfo]


class ClinicianLabReportPage(msgspec.Struct, kw_only=True, rename="camel"):
    items: list[ClinicianLabReport]
    next: str | None


class LabReportVersionOut(msgspec.Struct, kw_only=True, rename="camel"):
    """One kept version, as it was shown until the next replaced it."""

    version: int
    received_at: datetime
    report: LabReportOut


class LabReportVersionList(msgspec.Struct, kw_only=True, rename="camel"):
    items: list[LabReportVersionOut]
    next: str | None = None


class CitizenLabResult(msgspec.Struct, kw_only=True, rename="camel"):
    """A released report as the citizen sees it (her result id is the report id)."""

    id: UUID
    category: Category
    status: ReportStatus
    corrected: bool
    specimen_at: datetime
    issued_at: datetime
    released_at: datetime
    performing_lab: PerformingLab
    requester: Requester
    observations: list[ObservationOut]
    panels: list[Panel]


class CitizenLabResultPage(msgspec.Struct, kw_only=True, rename="camel"):
    items: list[CitizenLabResult]
    next: str | None


class TrendPoint(msgspec.Struct, kw_only=True, rename="camel"):
    report_id: UUID
    value: float | str
    value_type: ValueType
    value_comparator: Comparator | None
    value_display: str | None
    unit: str | None
    reference_range: ReferenceRange | None
    flag: Flag | None
    specimen_at: datetime
    issued_at: datetime


class LabTrend(msgspec.Struct, kw_only=True, rename="camel"):
    """One test over time, oldest first (by specimen time), from the released reports only."""

    code: str
    display: str | None
    points: list[TrendPoint]


class LabReportReceipt(msgspec.Struct, kw_only=True, rename="camel"):
    """The answer to a post: the report as stored and shown, and its release state (no other reports)."""

    id: UUID
    version: int
    release: ReleaseState
    report: LabReportOut
