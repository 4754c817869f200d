"""Maps a FHIR R4 lab report (DiagnosticReport with contained or bundled Observations) to `LabReportIn`, and back.

What is read, by plain dict handling so that the request path never loads pydantic:

- `DiagnosticReport.identifier[0].value` as the report id when it is a UUID (`urn:uuid:` allowed), else `id`.
- `status`, `category` (HL7 v2-0074 codes), `effectiveDateTime` or `effectivePeriod.start` (specimen time),
  `issued`, `performer[0]` (`display` is the lab's name, `identifier.value` its organisation).
- `basedOn[0]` when it resolves to a ServiceRequest in the message: its `requester` must resolve to a
  PractitionerRole whose `practitioner.identifier` is an HPR number and `organization.identifier.value`
  the requester's organisation. A `basedOn` pointing outside the message leaves the requester unnamed.
- `result`: Observations, either leaves or panels (an Observation with `hasMember` and no value).
- Per Observation: `status`, `code.coding` (LOINC preferred, else the first coding is the lab's own code),
  one of `valueQuantity` (UCUM `code` required), `valueString`, `valueCodeableConcept`; `interpretation`
  (v3-ObservationInterpretation), `referenceRange[0]`, `note[*].text`.

`subject` is not read: the route decides whose report it is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, get_args
from uuid import UUID

import msgspec

from backend.labs.schemas import (
    Category,
    CodeSystem,
    Comparator,
    Flag,
    LabReportIn,
    LabReportOut,
    ObservationOut,
    ReportStatus,
)

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
HPR = "urn:oid:2.16.578.1.12.4.1.4.4"
RFC_3986 = "urn:ietf:rfc:3986"
LABORATORY_REPORT = "11502-2"

CATEGORY_FROM_V2: dict[str, Category] = {
    "CH": "clinical-chemistry",
    "HM": "haematology",
    "MB": "microbiology",
    "IMM": "immunology",
    "SP": "pathology",
    "PAT": "pathology",
    "GE": "genetics",
}
CATEGORY_TO_V2: dict[Category, tuple[str, str]] = {
    "clinical-chemistry": ("CH", "Chemistry"),
    "haematology": ("HM", "Hematology"),
    "microbiology": ("MB", "Microbiology"),
    "immunology": ("IMM", "Immunology"),
    "pathology": ("SP", "Surgical Pathology"),
    "genetics": ("GE", "Genetics"),
}
REPORT_STATUS: dict[str, ReportStatus] = {
    "registered": "preliminary",
    "partial": "preliminary",
    "preliminary": "preliminary",
    "final": "final",
    "amended": "corrected",
    "corrected": "corrected",
    "appended": "corrected",
}
OBSERVATION_STATUSES = frozenset({"preliminary", "final", "amended", "corrected"})
WITHDRAWN = frozenset({"cancelled", "entered-in-error"})
FLAG_FROM_INTERPRETATION: dict[str, Flag] = {
    "N": "normal",
    "L": "low",
    "LL": "low",
    "LU": "low",
    "H": "high",
    "HH": "high",
    "HU": "high",
    "A": "abnormal",
    "AA": "abnormal",
}
FLAG_TO_INTERPRETATION: dict[Flag, tuple[str, str]] = {
    "normal": ("N", "Normal"),
    "low": ("L", "Low"),
    "high": ("H", "High"),
    "abnormal": ("A", "Abnormal"),
}
COMPARATORS: frozenset[str] = frozenset(get_args(Comparator))
MAPPED_VALUES = ("valueQuantity", "valueString", "valueCodeableConcept")
# FHIR requires the zone whenever a time is given; a date alone cannot place a specimen on the release clock.
FHIR_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
OBSERVATION_PATH = re.compile(r"^\$\.observations\[(\d+)\]")


class FhirMappingError(ValueError):
    """The FHIR input cannot become a lab report; `path` names the element (FHIRPath-like, from the document root)."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(f"{path}: {message}")
        self.message = message
        self.path = path


@dataclass(frozen=True, slots=True)
class _Node:
    """A JSON object and where it sits in the document, so every error can name its element."""

    data: Mapping[str, Any]
    path: str

    def fail(self, message: str, key: str | None = None) -> FhirMappingError:
        return FhirMappingError(message, self.path if key is None else f"{self.path}.{key}")

    def text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail("must be a non-empty string", key)
        return value

    def required_text(self, key: str, why: str) -> str:
        value = self.text(key)
        if value is None:
            raise self.fail(f"is required: {why}", key)
        return value

    def number(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is None:
            return None
        # bool is an int in Python but never a FHIR decimal.
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail("must be a number", key)
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise self.fail("must be a finite number", key)
        return number

    def required_child(self, key: str, why: str) -> _Node:
        node = self.child(key)
        if node is None:
            raise self.fail(f"is required: {why}", key)
        return node

    def child(self, key: str) -> _Node | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise self.fail("must be an object", key)
        return _Node(value, f"{self.path}.{key}")

    def children(self, key: str) -> list[_Node]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail("must be an array", key)
        nodes = []
        for index, item in enumerate(value):
            if not isinstance(item, Mapping):
                raise FhirMappingError("must be an object", f"{self.path}.{key}[{index}]")
            nodes.append(_Node(item, f"{self.path}.{key}[{index}]"))
        return nodes


class _Message:
    """The resources a reference may point to: the report's contained ones and, in a Bundle, its entries."""

    def __init__(self, report: _Node, entries: Mapping[str, _Node]) -> None:
        self.entries = entries
        self.contained: dict[str, _Node] = {}
        for node in report.children("contained"):
            resource_id = node.text("id")
            if resource_id is None:
                raise node.fail("a contained resource needs an id to be referenced", "id")
            self.contained["#" + resource_id] = node

    def find(self, reference: _Node) -> _Node | None:
        target = reference.required_text("reference", "the resource this points to")
        return self.contained.get(target) if target.startswith("#") else self.entries.get(target)

    def resolve(self, reference: _Node, resource_type: str) -> _Node:
        resource = self.find(reference)
        if resource is None:
            where = "a contained resource" if reference.data["reference"].startswith("#") else "a Bundle entry"
            raise reference.fail(f"{reference.data['reference']!r} does not resolve to {where}", "reference")
        if resource.data.get("resourceType") != resource_type:
            raise reference.fail(
                f"points to a {resource.data.get('resourceType')}, expected {resource_type}", "reference"
            )
        return resource


def from_fhir(document: Mapping[str, Any]) -> LabReportIn:
    """A lab report from a FHIR R4 DiagnosticReport or a collection/transaction Bundle holding one.

    Raises FhirMappingError naming the element that cannot be mapped. The result is structurally valid;
    the catalogue checks (`validate_report`) are left to the caller, as for a JSON report.
    """
    if not isinstance(document, Mapping):
        raise FhirMappingError("expected a JSON object", "$")
    resource_type = document.get("resourceType")
    root = _Node(document, str(resource_type))
    entries: dict[str, _Node] = {}
    if resource_type == "DiagnosticReport":
        report = root
    elif resource_type == "Bundle":
        report, entries = _unbundle(root)
    else:
        raise FhirMappingError(f"expected a DiagnosticReport or a Bundle, got {resource_type!r}", "resourceType")
    return _report(report, _Message(report, entries))


def _unbundle(bundle: _Node) -> tuple[_Node, dict[str, _Node]]:
    kind = bundle.text("type")
    if kind not in {"collection", "transaction"}:
        raise bundle.fail(f"{kind!r} cannot be mapped; send a collection or transaction Bundle", "type")
    entries: dict[str, _Node] = {}
    reports: list[_Node] = []
    for entry in bundle.children("entry"):
        resource = entry.child("resource")
        if resource is None:
            raise entry.fail("is required", "resource")
        resource_type = resource.required_text("resourceType", "every resource names its type")
        keys = [entry.text("fullUrl")]
        # A reference may also be relative ("Observation/123") to an entry's type and id.
        if (resource_id := resource.text("id")) is not None:
            keys.append(f"{resource_type}/{resource_id}")
        for key in filter(None, keys):
            if key in entries:
                raise entry.fail(f"{key!r} names two entries", "fullUrl")
            entries[key] = resource
        if resource_type == "DiagnosticReport":
            reports.append(resource)
    if len(reports) != 1:
        raise bundle.fail(f"holds {len(reports)} DiagnosticReports; send exactly one per Bundle", "entry")
    return reports[0], entries


def _report(report: _Node, message: _Message) -> LabReportIn:
    observations, panels, observation_paths = _results(report, message)
    data = {
        "id": _report_id(report),
        "category": _category(report),
        "status": _report_status(report),
        "specimenAt": _specimen_time(report),
        "issuedAt": _instant(report, "issued", "the time the result was released by the lab"),
        "performingLab": _performing_lab(report),
        "requester": _requester(report, message),
        "observations": observations,
        "panels": panels,
    }
    try:
        return msgspec.convert(data, LabReportIn)
    except msgspec.ValidationError as error:
        # The schema names a JSON path; translate it back to the Observation it came from.
        detail = str(error)
        found = OBSERVATION_PATH.search(detail.rsplit(" - at `", 1)[-1].rstrip("`"))
        path = observation_paths[int(found[1])] if found else report.path
        raise FhirMappingError(detail, path) from None


def _report_id(report: _Node) -> UUID:
    identifiers = report.children("identifier")
    if identifiers and (value := identifiers[0].text("value")) is not None and (found := _uuid(value)) is not None:
        return found
    if (resource_id := report.text("id")) is not None and (found := _uuid(resource_id)) is not None:
        return found
    raise report.fail(
        "no report id: identifier[0].value or id must be a UUID, the sender's id that a resend or correction repeats",
        "identifier",
    )


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value.removeprefix("urn:uuid:"))
    except ValueError:
        return None


def _category(report: _Node) -> Category:
    found: set[Category] = set()
    for concept in report.children("category"):
        for coding in concept.children("coding"):
            if coding.text("system") == V2_0074 and (code := coding.text("code")) in CATEGORY_FROM_V2:
                found.add(CATEGORY_FROM_V2[code])
    if not found:
        accepted = ", ".join(CATEGORY_FROM_V2)
        raise report.fail(f"no coding from {V2_0074} that maps to a lab category ({accepted})", "category")
    if len(found) > 1:
        raise report.fail(f"codes for more than one category ({', '.join(sorted(found))})", "category")
    return found.pop()


def _report_status(report: _Node) -> ReportStatus:
    status = report.required_text("status", "preliminary, final or corrected decides what the citizen sees")
    if status in WITHDRAWN:
        raise report.fail(f"{status!r}: a withdrawn report has no results to store", "status")
    if status not in REPORT_STATUS:
        raise report.fail(f"{status!r} cannot be mapped; expected one of {', '.join(REPORT_STATUS)}", "status")
    return REPORT_STATUS[status]


def _specimen_time(report: _Node) -> datetime:
    if "effectiveDateTime" in report.data:
        return _instant(report, "effectiveDateTime", "the specimen time")
    period = report.child("effectivePeriod")
    if period is not None:
        return _instant(period, "start", "the specimen time")
    raise report.fail("is required: effectiveDateTime or effectivePeriod.start, the specimen time", "effective[x]")


def _instant(node: _Node, key: str, why: str) -> datetime:
    value = node.required_text(key, why)
    if not FHIR_DATETIME.match(value):
        raise node.fail(f"{value!r} must be a date and time with seconds and a zone", key)
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise node.fail(f"{value!r} is not a valid date and time", key) from None


def _performing_lab(report: _Node) -> dict[str, str]:
    performers = report.children("performer")
    if not performers:
        raise report.fail("is required: the performing lab, with display and identifier.value", "performer")
    lab = performers[0]
    identifier = lab.child("identifier")
    if identifier is None:
        raise lab.fail("is required: the lab's organisation number", "identifier")
    return {
        "name": lab.required_text("display", "the lab's name shown to the citizen"),
        "organisation": identifier.required_text("value", "the lab's organisation number"),
    }


def _requester(report: _Node, message: _Message) -> dict[str, str] | None:
    based_on = report.children("basedOn")
    # A logical reference (identifier only) names an order we cannot read.
    if not based_on or based_on[0].text("reference") is None:
        return None
    order = message.find(based_on[0])
    if order is None:
        return None
    if order.data.get("resourceType") != "ServiceRequest":
        raise based_on[0].fail("must point to a ServiceRequest to name the requester", "reference")
    reference = order.child("requester")
    if reference is None:
        raise order.fail("is required: a PractitionerRole with the requester's HPR number", "requester")
    role = message.resolve(reference, "PractitionerRole")
    practitioner = role.child("practitioner")
    organisation = role.child("organization")
    hpr = practitioner.child("identifier") if practitioner is not None else None
    if hpr is None or hpr.text("system") != HPR:
        raise role.fail(f"practitioner.identifier with system {HPR} (HPR number) is required", "practitioner")
    organisation_id = organisation.child("identifier") if organisation is not None else None
    if organisation_id is None:
        raise role.fail("organization.identifier is required: the requester's organisation", "organization")
    return {
        "hpr": hpr.required_text("value", "the requester's HPR number"),
        "organisation": organisation_id.required_text("value", "the requester's organisation"),
    }


def _results(report: _Node, message: _Message) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    references = report.children("result")
    if not references:
        raise report.fail("is required: a report without observations has nothing to show", "result")
    resolved = [message.resolve(reference, "Observation") for reference in references]
    members: dict[int, list[_Node]] = {}
    for resource in resolved:
        if resource.children("hasMember"):
            members[id(resource.data)] = [message.resolve(ref, "Observation") for ref in resource.children("hasMember")]
    in_a_panel = {id(member.data) for group in members.values() for member in group}

    observations: list[dict[str, Any]] = []
    paths: list[str] = []
    panels: list[dict[str, Any]] = []
    done: set[int] = set()

    def add(resource: _Node, panel: str | None) -> None:
        # Senders often list panel members in `result` as well; each Observation is one result.
        if id(resource.data) in done:
            if panel is not None:
                raise resource.fail("is a member of more than one panel, or twice of one", "hasMember")
            return
        done.add(id(resource.data))
        observations.append(_observation(resource, panel))
        paths.append(resource.path)

    for resource in resolved:
        group = members.get(id(resource.data))
        if group is None:
            if id(resource.data) not in in_a_panel:
                add(resource, None)
            continue
        if id(resource.data) in done:
            continue
        done.add(id(resource.data))
        panel = _panel(resource)
        for member in group:
            if member.children("hasMember"):
                raise member.fail("a panel inside a panel cannot be mapped", "hasMember")
            add(member, panel["code"])
        panel["observationCodes"] = [obs["code"] for obs in observations if obs["panel"] == panel["code"]]
        panels.append(panel)
    return observations, panels, paths


def _panel(resource: _Node) -> dict[str, Any]:
    if any(key.startswith("value") for key in resource.data):
        raise resource.fail("a panel (an Observation with hasMember) cannot also carry a value", "hasMember")
    _observation_status(resource)
    code, system, display = _code(resource)
    return {"code": code, "system": system, "display": display}


def _observation(resource: _Node, panel: str | None) -> dict[str, Any]:
    _observation_status(resource)
    code, system, display = _code(resource)
    observation: dict[str, Any] = {"code": code, "system": system, "display": display, "panel": panel}
    observation.update(_value(resource))
    observation["flag"] = _flag(resource)
    observation["referenceRange"] = _reference_range(resource, observation.get("unit"))
    notes = [text for note in resource.children("note") if (text := note.text("text")) is not None]
    observation["comment"] = "\n".join(notes) or None
    return observation


def _observation_status(resource: _Node) -> None:
    status = resource.required_text("status", "only a preliminary, final or corrected result can be shown")
    if status in WITHDRAWN:
        raise resource.fail(f"{status!r}: a withdrawn result cannot be part of a stored report", "status")
    if status not in OBSERVATION_STATUSES:
        raise resource.fail(f"{status!r} is not a result; expected {', '.join(sorted(OBSERVATION_STATUSES))}", "status")


def _code(resource: _Node) -> tuple[str, str, str]:
    concept = resource.child("code")
    if concept is None:
        raise resource.fail("is required: what was measured", "code")
    codings = [coding for coding in concept.children("coding") if coding.text("code") is not None]
    if not codings:
        raise concept.fail("no coding with a code; a test is identified by LOINC or the lab's own code", "coding")
    loinc = [coding for coding in codings if coding.text("system") == LOINC]
    chosen = (loinc or codings)[0]
    display = chosen.text("display") or concept.text("text")
    if display is None:
        raise chosen.fail("is required (or code.text): the test's name shown to the citizen", "display")
    return chosen.data["code"], "loinc" if loinc else "local", display


def _value(resource: _Node) -> dict[str, Any]:
    present = [key for key, value in resource.data.items() if key.startswith("value") and value is not None]
    if not present:
        why = " (dataAbsentReason given)" if "dataAbsentReason" in resource.data else ""
        raise resource.fail(f"no value{why}; a result needs {', '.join(MAPPED_VALUES)}", "value[x]")
    if len(present) > 1:
        raise resource.fail(f"more than one value[x] ({', '.join(present)})", "value[x]")
    kind = present[0]
    if kind == "valueString":
        return {"valueString": resource.text(kind)}
    if kind == "valueQuantity":
        return _quantity(resource.required_child(kind, "the measured quantity"))
    if kind == "valueCodeableConcept":
        concept = resource.required_child(kind, "the coded result")
        codings = [coding for coding in concept.children("coding") if coding.text("code") is not None]
        if not codings:
            raise concept.fail("no coding with a code; send a text result as valueString", "coding")
        return {
            "valueCode": codings[0].data["code"],
            "valueDisplay": codings[0].text("display") or concept.text("text"),
        }
    raise resource.fail(f"cannot be mapped; send one of {', '.join(MAPPED_VALUES)}", kind)


def _quantity(quantity: _Node) -> dict[str, Any]:
    value = quantity.number("value")
    if value is None:
        raise quantity.fail("is required", "value")
    unit = quantity.text("code")
    if unit is None:
        raise quantity.fail("is required: the UCUM unit code ('1' for a dimensionless result)", "code")
    system = quantity.text("system")
    if system is not None and system != UCUM:
        raise quantity.fail(f"{system!r}: units must be UCUM ({UCUM})", "system")
    comparator = quantity.text("comparator")
    if comparator is not None and comparator not in COMPARATORS:
        raise quantity.fail(f"{comparator!r} cannot be mapped; expected one of < <= >= >", "comparator")
    return {"valueQuantity": value, "unit": unit, "valueComparator": comparator}


def _flag(resource: _Node) -> Flag | None:
    flags: set[Flag] = set()
    for concept in resource.children("interpretation"):
        for coding in concept.children("coding"):
            if coding.text("system") != INTERPRETATION:
                continue
            code = coding.text("code")
            if code not in FLAG_FROM_INTERPRETATION:
                accepted = ", ".join(FLAG_FROM_INTERPRETATION)
                raise coding.fail(f"{code!r} cannot be mapped to a deviation flag ({accepted})", "code")
            flags.add(FLAG_FROM_INTERPRETATION[code])
    if len(flags) > 1:
        raise resource.fail(f"interpretations disagree ({', '.join(sorted(flags))})", "interpretation")
    return flags.pop() if flags else None


def _reference_range(resource: _Node, unit: str | None) -> dict[str, Any] | None:
    ranges = resource.children("referenceRange")
    if not ranges:
        return None
    # Further ranges are for other ages or conditions; the lab puts the one that applies first.
    reference = ranges[0]
    bounds: dict[str, Any] = {"text": reference.text("text")}
    for key in ("low", "high"):
        bound = reference.child(key)
        if bound is None:
            bounds[key] = None
            continue
        bounds[key] = bound.number("value")
        bound_unit = bound.text("code")
        if bound_unit is not None and bound_unit != unit:
            raise bound.fail(f"unit {bound_unit!r} differs from the value's unit {unit!r}", "code")
    return bounds


def to_fhir(report: LabReportOut, *, subject: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The report as a FHIR R4 DiagnosticReport with contained Observations; `from_fhir` maps it back.

    `subject` is the Reference to the patient; without it the ServiceRequest naming the requester (whose
    subject FHIR requires) says the subject is unknown.
    """
    contained: list[dict[str, Any]] = []
    references: dict[str, str] = {}
    for index, obs in enumerate(report.observations, start=1):
        references[obs.code] = f"#obs-{index}"
        contained.append(_observation_resource(f"obs-{index}", obs, report))
    panel_references: dict[str, str] = {}
    for index, panel in enumerate(report.panels, start=1):
        panel_references[panel.code] = f"#panel-{index}"
        contained.append(
            {
                "resourceType": "Observation",
                "id": f"panel-{index}",
                "status": report.status,
                "code": _coding(panel.code, panel.system, panel.display),
                "hasMember": [{"reference": references[code]} for code in panel.observation_codes],
            }
        )
    # `result` lists a panel where its first member stands, so mapping back keeps the lab's order.
    results: list[dict[str, str]] = []
    for obs in report.observations:
        reference = {"reference": panel_references[obs.panel] if obs.panel else references[obs.code]}
        if reference not in results:
            results.append(reference)

    code, display = CATEGORY_TO_V2[report.category]
    resource: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": str(report.id),
        "identifier": [{"system": RFC_3986, "value": f"urn:uuid:{report.id}"}],
        "status": report.status,
        "category": [{"coding": [{"system": V2_0074, "code": code, "display": display}]}],
        "code": {"coding": [{"system": LOINC, "code": LABORATORY_REPORT, "display": "Laboratory report"}]},
        "effectiveDateTime": report.specimen_at.isoformat(),
        "issued": report.issued_at.isoformat(),
        "performer": [
            {"display": report.performing_lab.name, "identifier": {"value": report.performing_lab.organisation}}
        ],
        "result": results,
    }
    if subject is not None:
        resource["subject"] = dict(subject)
    if report.requester is not None:
        resource["basedOn"] = [{"reference": "#order"}]
        contained += [
            {
                "resourceType": "ServiceRequest",
                "id": "order",
                "status": "completed",
                "intent": "order",
                "subject": dict(subject)
                if subject is not None
                else {"extension": [{"url": DATA_ABSENT_REASON, "valueCode": "unknown"}]},
                "requester": {"reference": "#requester"},
            },
            {
                "resourceType": "PractitionerRole",
                "id": "requester",
                "practitioner": {"identifier": {"system": HPR, "value": report.requester.hpr}},
                "organization": {"identifier": {"value": report.requester.organisation}},
            },
        ]
    resource["contained"] = contained
    return resource


def _coding(code: str, system: CodeSystem, display: str) -> dict[str, Any]:
    # A lab's own code has no system we could name after mapping, and FHIR allows a coding without one.
    coding = (
        {"system": LOINC, "code": code, "display": display} if system == "loinc" else {"code": code, "display": display}
    )
    return {"coding": [coding]}


def _ucum(unit: str | None) -> dict[str, str]:
    return {} if unit is None else {"unit": unit, "system": UCUM, "code": unit}


def _observation_resource(resource_id: str, obs: ObservationOut, report: LabReportOut) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": resource_id,
        "status": report.status,
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "laboratory"}]}],
        "code": _coding(obs.code, obs.system, obs.display),
    }
    if obs.value_type == "quantity":
        quantity: dict[str, Any] = {"value": obs.value}
        if obs.value_comparator is not None:
            quantity["comparator"] = obs.value_comparator
        resource["valueQuantity"] = quantity | _ucum(obs.unit)
    elif obs.value_type == "code":
        coding = {"code": obs.value} | ({"display": obs.value_display} if obs.value_display else {})
        resource["valueCodeableConcept"] = {"coding": [coding]}
    else:
        resource["valueString"] = obs.value
    if obs.flag is not None:
        flag_code, flag_display = FLAG_TO_INTERPRETATION[obs.flag]
        resource["interpretation"] = [
            {"coding": [{"system": INTERPRETATION, "code": flag_code, "display": flag_display}]}
        ]
    if obs.comment is not None:
        resource["note"] = [{"text": obs.comment}]
    if obs.reference_range is not None:
        reference: dict[str, Any] = {}
        for key, bound in (("low", obs.reference_range.low), ("high", obs.reference_range.high)):
            if bound is not None:
                reference[key] = {"value": bound} | _ucum(obs.unit)
        if obs.reference_range.text is not None:
            reference["text"] = obs.reference_range.text
        resource["referenceRange"] = [reference]
    return resource
