"""FHIR R4 lab reports, proven valid with the fhir.resources R4B models, map to lab reports and back."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from fhir.resources.R4B.annotation import Annotation
from fhir.resources.R4B.bundle import Bundle, BundleEntry, BundleEntryRequest
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.observation import Observation, ObservationReferenceRange
from fhir.resources.R4B.practitionerrole import PractitionerRole
from fhir.resources.R4B.quantity import Quantity
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.servicerequest import ServiceRequest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.labs.catalogue import validate_report
from backend.labs.fhir import HPR, INTERPRETATION, LOINC, UCUM, V2_0074, FhirMappingError, from_fhir, to_fhir
from backend.labs.schemas import (
    LabReportIn,
    LabReportOut,
    ObservationIn,
    Panel,
    PerformingLab,
    ReferenceRange,
    Requester,
    build_report_out,
)

OSLO_WINTER = timezone(timedelta(hours=1))
REPORT_ID = uuid.UUID("6f1c2a52-3a8e-4d0b-9d51-0d7f2e4b9a10")
FURST = {"display": "Fürst Medisinsk Laboratorium", "identifier": {"value": "974749025"}}


def as_json(model: Any) -> dict[str, Any]:
    """The model as FHIR JSON, the way a sender puts it on the wire."""
    result: dict[str, Any] = model.model_dump(mode="json")
    return result


def loinc(code: str, display: str) -> CodeableConcept:
    return CodeableConcept(coding=[Coding(system=LOINC, code=code, display=display)])


def ucum(value: str, unit: str) -> Quantity:
    # FHIR decimals are exact; the models take them as Decimal and write them as JSON numbers.
    return Quantity(value=Decimal(value), unit=unit, system=UCUM, code=unit)


def interpretation(code: str) -> list[CodeableConcept]:
    return [CodeableConcept(coding=[Coding(system=INTERPRETATION, code=code)])]


def haemoglobin(resource_id: str = "hb") -> Observation:
    return Observation(
        id=resource_id,
        status="final",
        code=loinc("718-7", "Hemoglobin [Mass/volume] in Blood"),
        valueQuantity=ucum("11.2", "g/dL"),
        interpretation=interpretation("L"),
        referenceRange=[
            ObservationReferenceRange(low=ucum("11.7", "g/dL"), high=ucum("15.3", "g/dL"), text="11,7-15,3 g/dL")
        ],
    )


def ferritin(resource_id: str = "ferritin") -> Observation:
    return Observation(
        id=resource_id,
        status="final",
        code=loinc("2276-4", "Ferritin [Mass/volume] in Serum or Plasma"),
        valueQuantity=ucum("9", "ug/L"),
        referenceRange=[ObservationReferenceRange(low=ucum("10", "ug/L"), high=ucum("167", "ug/L"))],
        note=[Annotation(text="Lave jernlagre.")],
    )


def crp(resource_id: str = "crp") -> Observation:
    return Observation(
        id=resource_id,
        status="final",
        code=loinc("1988-5", "C reactive protein [Mass/volume] in Serum or Plasma"),
        valueQuantity=Quantity(value=Decimal(5), comparator="<", unit="mg/L", system=UCUM, code="mg/L"),
        interpretation=interpretation("N"),
        referenceRange=[ObservationReferenceRange(high=ucum("5", "mg/L"))],
    )


def hbsag(resource_id: str = "hbsag") -> Observation:
    return Observation(
        id=resource_id,
        status="final",
        code=loinc("5196-1", "Hepatitis B virus surface Ag [Presence] in Serum or Plasma by Immunoassay"),
        valueCodeableConcept=CodeableConcept(coding=[Coding(system=LOINC, code="LA6577-6", display="Negative")]),
        referenceRange=[ObservationReferenceRange(text="Negativ")],
    )


def report(*observations: Observation, **fields: Any) -> DiagnosticReport:
    """A clinical-chemistry report with the observations contained and listed in `result`."""
    values: dict[str, Any] = {
        "id": "lab-report-1",
        "identifier": [Identifier(system="urn:ietf:rfc:3986", value=f"urn:uuid:{REPORT_ID}")],
        "status": "final",
        "category": [CodeableConcept(coding=[Coding(system=V2_0074, code="CH", display="Chemistry")])],
        "code": loinc("11502-2", "Laboratory report"),
        "effectiveDateTime": "2024-03-01T08:15:00+01:00",
        "issued": "2024-03-01T13:02:11.250+01:00",
        "performer": [Reference.model_validate(FURST)],
    }
    if observations:
        values["contained"] = list(observations)
        values["result"] = [Reference(reference=f"#{obs.id}") for obs in observations]
    values.update(fields)
    return DiagnosticReport(**values)


def valid_report_json(*observations: Observation, **fields: Any) -> dict[str, Any]:
    return as_json(report(*(observations or (haemoglobin(), ferritin(), crp(), hbsag())), **fields))


def test_contained_report_maps_every_field() -> None:
    mapped = from_fhir(valid_report_json())

    assert mapped.id == REPORT_ID
    assert mapped.category == "clinical-chemistry"
    assert mapped.status == "final"
    assert mapped.specimen_at == datetime(2024, 3, 1, 7, 15, tzinfo=UTC)
    assert mapped.issued_at == datetime(2024, 3, 1, 12, 2, 11, 250_000, tzinfo=UTC)
    assert mapped.performing_lab == PerformingLab(name="Fürst Medisinsk Laboratorium", organisation="974749025")
    assert mapped.requester is None
    assert [obs.code for obs in mapped.observations] == ["718-7", "2276-4", "1988-5", "5196-1"]
    hb, ferritin_, crp_, hbsag_ = mapped.observations
    assert hb == ObservationIn(
        code="718-7",
        system="loinc",
        display="Hemoglobin [Mass/volume] in Blood",
        value_quantity=11.2,
        unit="g/dL",
        reference_range=ReferenceRange(low=11.7, high=15.3, text="11,7-15,3 g/dL"),
        flag="low",
    )
    assert ferritin_.flag is None
    assert ferritin_.comment == "Lave jernlagre."
    assert (crp_.value_quantity, crp_.value_comparator, crp_.flag) == (5, "<", "normal")
    assert (hbsag_.value_code, hbsag_.value_display, hbsag_.unit) == ("LA6577-6", "Negative", None)
    assert validate_report(mapped) is None


def test_derived_flag_fills_in_where_the_lab_sent_bounds_only() -> None:
    shown = build_report_out(from_fhir(valid_report_json()))

    assert [obs.flag for obs in shown.observations] == ["low", "low", "normal", None]


def _bundle(kind: str, *, relative: bool = False) -> dict[str, Any]:
    observations = [haemoglobin("hb"), ferritin("ferritin"), crp("crp"), hbsag("hbsag")]
    urls = {obs.id: f"urn:uuid:{uuid.uuid5(REPORT_ID, str(obs.id))}" for obs in observations}
    diagnostic = report(
        result=[Reference(reference=f"Observation/{obs.id}" if relative else urls[str(obs.id)]) for obs in observations]
    )

    def request(resource_type: str) -> dict[str, Any]:
        return {"request": BundleEntryRequest(method="POST", url=resource_type)} if kind == "transaction" else {}

    entries = [BundleEntry(fullUrl=f"urn:uuid:{REPORT_ID}", resource=diagnostic, **request("DiagnosticReport"))]
    entries += [BundleEntry(fullUrl=urls[str(obs.id)], resource=obs, **request("Observation")) for obs in observations]
    return as_json(Bundle(type=kind, entry=entries))


@pytest.mark.parametrize(
    "bundle",
    [_bundle("collection"), _bundle("transaction"), _bundle("collection", relative=True)],
    ids=["collection", "transaction", "relative-references"],
)
def test_bundle_maps_like_contained_observations(bundle: dict[str, Any]) -> None:
    assert from_fhir(bundle) == from_fhir(valid_report_json())


def _panel_report() -> dict[str, Any]:
    leukocytes = Observation(
        id="lpk",
        status="final",
        code=loinc("6690-2", "Leukocytes [#/volume] in Blood by Automated count"),
        valueQuantity=ucum("6.1", "10*9/L"),
    )
    platelets = Observation(
        id="trc",
        status="final",
        code=loinc("777-3", "Platelets [#/volume] in Blood by Automated count"),
        valueQuantity=ucum("412", "10*9/L"),
        interpretation=interpretation("H"),
    )
    panel = Observation(
        id="cbc",
        status="final",
        code=loinc("58410-2", "CBC panel - Blood by Automated count"),
        hasMember=[Reference(reference="#hb"), Reference(reference="#lpk"), Reference(reference="#trc")],
    )
    diagnostic = report(
        haemoglobin(),
        leukocytes,
        platelets,
        panel,
        crp(),
        category=[CodeableConcept(coding=[Coding(system=V2_0074, code="HM")])],
    )
    # Senders list members in `result` too; the panel keeps them and each is mapped once.
    diagnostic.result = [Reference(reference=ref) for ref in ("#hb", "#cbc", "#lpk", "#crp")]
    return as_json(diagnostic)


def test_panel_keeps_its_members_together_and_maps_each_once() -> None:
    mapped = from_fhir(_panel_report())

    assert mapped.category == "haematology"
    assert [(obs.code, obs.panel) for obs in mapped.observations] == [
        ("718-7", "58410-2"),
        ("6690-2", "58410-2"),
        ("777-3", "58410-2"),
        ("1988-5", None),
    ]
    assert mapped.panels == [
        Panel(
            code="58410-2",
            system="loinc",
            display="CBC panel - Blood by Automated count",
            observation_codes=["718-7", "6690-2", "777-3"],
        )
    ]
    assert validate_report(mapped) is None


def _with_requester(reference: str = "#order", hpr_system: str = HPR) -> dict[str, Any]:
    order = ServiceRequest(
        id="order",
        status="completed",
        intent="order",
        subject=Reference(identifier=Identifier(system="urn:oid:2.16.578.1.12.4.1.4.1", value="13116900216")),
        requester=Reference(reference="#requester"),
    )
    role = PractitionerRole(
        id="requester",
        practitioner=Reference(identifier=Identifier(system=hpr_system, value="9144889")),
        organization=Reference(identifier=Identifier(system="urn:oid:2.16.578.1.12.4.1.4.101", value="983974732")),
    )
    return as_json(
        report(
            contained=[haemoglobin(), order, role],
            result=[Reference(reference="#hb")],
            basedOn=[Reference(reference=reference)],
        )
    )


def test_requester_is_read_from_the_order_the_report_is_based_on() -> None:
    assert from_fhir(_with_requester()).requester == Requester(hpr="9144889", organisation="983974732")


def test_an_order_outside_the_message_leaves_the_requester_unnamed() -> None:
    outside = as_json(report(haemoglobin(), basedOn=[Reference(reference="ServiceRequest/elsewhere")]))
    by_identifier = as_json(report(haemoglobin(), basedOn=[Reference(identifier=Identifier(value="R-77"))]))

    assert from_fhir(outside).requester is None
    assert from_fhir(by_identifier).requester is None


@pytest.mark.parametrize(
    ("fhir_status", "status"),
    [
        ("registered", "preliminary"),
        ("partial", "preliminary"),
        ("preliminary", "preliminary"),
        ("final", "final"),
        ("amended", "corrected"),
        ("corrected", "corrected"),
        ("appended", "corrected"),
    ],
)
def test_report_status_maps_to_preliminary_final_or_corrected(fhir_status: str, status: str) -> None:
    assert from_fhir(valid_report_json(haemoglobin(), status=fhir_status)).status == status


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("CH", "clinical-chemistry"),
        ("HM", "haematology"),
        ("MB", "microbiology"),
        ("IMM", "immunology"),
        ("SP", "pathology"),
        ("PAT", "pathology"),
        ("GE", "genetics"),
    ],
)
def test_category_maps_from_v2_0074(code: str, category: str) -> None:
    categories = [
        CodeableConcept(coding=[Coding(system="http://terminology.hl7.org/CodeSystem/v2-0074", code="LAB")]),
        CodeableConcept(coding=[Coding(system=V2_0074, code=code)]),
    ]
    assert from_fhir(valid_report_json(haemoglobin(), category=categories)).category == category


@pytest.mark.parametrize(
    ("code", "flag"),
    [
        ("N", "normal"),
        ("L", "low"),
        ("LL", "low"),
        ("H", "high"),
        ("HH", "high"),
        ("A", "abnormal"),
        ("AA", "abnormal"),
    ],
)
def test_interpretation_maps_to_flag(code: str, flag: str) -> None:
    observation = haemoglobin()
    observation.interpretation = interpretation(code)
    assert from_fhir(valid_report_json(observation)).observations[0].flag == flag


def test_report_id_falls_back_to_the_resource_id_when_the_identifier_is_no_uuid() -> None:
    document = valid_report_json(
        haemoglobin(), id=str(REPORT_ID).upper(), identifier=[Identifier(system="urn:oid:1.2.3", value="R-2024-17")]
    )
    assert from_fhir(document).id == REPORT_ID


def test_specimen_time_may_come_from_effective_period() -> None:
    document = valid_report_json(haemoglobin())
    del document["effectiveDateTime"]
    document["effectivePeriod"] = {"start": "2024-03-01T07:45:00Z", "end": "2024-03-01T07:50:00Z"}
    DiagnosticReport.model_validate(document)

    assert from_fhir(document).specimen_at == datetime(2024, 3, 1, 7, 45, tzinfo=UTC)


def test_loinc_coding_is_preferred_and_a_lab_code_alone_is_local() -> None:
    both = haemoglobin()
    both.code = CodeableConcept(
        coding=[
            Coding(system="urn:oid:2.16.578.1.12.4.1.1.7280", code="NPU02319", display="B-Hemoglobin"),
            Coding(system=LOINC, code="718-7", display="Hemoglobin [Mass/volume] in Blood"),
        ]
    )
    local = Observation(
        id="smear",
        status="final",
        code=CodeableConcept(
            coding=[Coding(system="urn:oid:2.16.578.1.12.4.1.1.7280", code="BLU")], text="Blodutstryk"
        ),
        valueString="Normalt blodutstryk.",
    )
    first, second = from_fhir(valid_report_json(both, local)).observations

    assert (first.code, first.system) == ("718-7", "loinc")
    assert (second.code, second.system, second.display, second.value_string) == (
        "BLU",
        "local",
        "Blodutstryk",
        "Normalt blodutstryk.",
    )


def _round_trip_reports() -> list[LabReportOut]:
    base = from_fhir(_panel_report())
    with_requester = from_fhir(_with_requester())
    corrected = LabReportIn(
        id=uuid.uuid4(),
        category="microbiology",
        status="corrected",
        specimen_at=datetime(2024, 10, 27, 1, 30, tzinfo=OSLO_WINTER),
        issued_at=datetime(2024, 10, 28, 9, 0, 0, 123456, tzinfo=UTC),
        performing_lab=PerformingLab(name="Mikrobiologisk avdeling", organisation="993467049"),
        requester=Requester(hpr="123456789", organisation="974589095"),
        observations=[
            ObservationIn(
                code="MB-DYRK",
                system="local",
                display="Dyrkning, urin",
                value_string="Ingen vekst.\nKorrigert etter ny avlesning.",
                comment="Erstatter svar fra 27.10.",
            ),
            ObservationIn(
                code="7917-8",
                system="loinc",
                display="HIV 1 Ab",
                value_code="LA6577-6",
                value_display="Negativ",
                flag="normal",
            ),
            ObservationIn(
                code="1988-5",
                system="loinc",
                display="CRP",
                value_quantity=250.0,
                value_comparator=">",
                unit="mg/L",
                flag="high",
            ),
        ],
        panels=[Panel(code="UPANEL", display="Urinprøve", observation_codes=["MB-DYRK"])],
    )
    return [build_report_out(base), build_report_out(with_requester), build_report_out(corrected)]


def _back(shown: LabReportOut) -> LabReportOut:
    document = to_fhir(shown)
    # The export is valid FHIR R4 before it is mapped back.
    validated = as_json(DiagnosticReport.model_validate(document))
    return build_report_out(from_fhir(validated), corrected=shown.corrected)


@pytest.mark.parametrize("shown", _round_trip_reports(), ids=["panel", "requester", "corrected-microbiology"])
def test_round_trip_through_fhir_is_lossless(shown: LabReportOut) -> None:
    assert _back(shown) == shown


def test_export_names_the_patient_when_given() -> None:
    shown = _round_trip_reports()[1]
    document = to_fhir(shown, subject={"reference": "Patient/42"})
    DiagnosticReport.model_validate(document)

    assert document["subject"] == {"reference": "Patient/42"}
    assert document["contained"][-2]["subject"] == {"reference": "Patient/42"}


_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzæøå ÆØÅ0123456789-,.", min_size=1, max_size=40).map(
    lambda text: text.strip() or "x"
)
_finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def _observations(draw: st.DrawFn, code: str) -> ObservationIn:
    kind = draw(st.sampled_from(["quantity", "string", "code"]))
    reference = None
    if kind == "quantity":
        low, high = sorted([draw(_finite), draw(_finite)])
        reference = ReferenceRange(
            low=draw(st.none() | st.just(low)),
            high=draw(st.none() | st.just(high)),
            text=draw(st.none() | _words),
        )
        if reference == ReferenceRange():
            reference = None
    return ObservationIn(
        code=code,
        system="local",
        display=draw(_words),
        value_quantity=draw(_finite) if kind == "quantity" else None,
        value_comparator=draw(st.none() | st.sampled_from(["<", "<=", ">=", ">"])) if kind == "quantity" else None,
        unit=draw(st.sampled_from(["mmol/L", "g/dL", "10*9/L", "%", "1"])) if kind == "quantity" else None,
        value_string=draw(_words) if kind == "string" else None,
        value_code=draw(st.sampled_from(["POS", "NEG", "LA6577-6"])) if kind == "code" else None,
        value_display=draw(st.none() | _words) if kind == "code" else None,
        reference_range=reference,
        flag=draw(st.none() | st.sampled_from(["normal", "low", "high", "abnormal"])),
        comment=draw(st.none() | _words),
    )


@st.composite
def _reports(draw: st.DrawFn) -> LabReportOut:
    count = draw(st.integers(min_value=1, max_value=5))
    observations = [draw(_observations(f"L{index}")) for index in range(count)]
    grouped = draw(st.integers(min_value=0, max_value=count))
    specimen = draw(
        st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC))
    )
    return build_report_out(
        LabReportIn(
            id=draw(st.uuids()),
            category=draw(st.sampled_from(["clinical-chemistry", "haematology", "microbiology", "immunology"])),
            status=draw(st.sampled_from(["preliminary", "final", "corrected"])),
            specimen_at=specimen,
            issued_at=specimen + draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30))),
            performing_lab=PerformingLab(name=draw(_words), organisation="974749025"),
            requester=draw(st.none() | st.just(Requester(hpr="9144889", organisation="983974732"))),
            observations=observations,
            panels=[Panel(code="P1", display="Gruppe", observation_codes=[f"L{i}" for i in range(grouped)])]
            if grouped
            else [],
        )
    )


@settings(max_examples=60, deadline=None)
@given(_reports())
def test_any_report_survives_the_round_trip(shown: LabReportOut) -> None:
    assert _back(shown) == shown


# --- rejections: each names the element at fault ------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _set(path: list[str | int], value: Any) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        node: Any = document
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


def _delete(*path: str | int) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        node: Any = document
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return mutate


def _both(*mutations: Mutation) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        for mutation in mutations:
            mutation(document)

    return mutate


HB: list[str | int] = ["contained", 0]
QUANTITY: list[str | int] = [*HB, "valueQuantity"]

# (mutation, path of the error, words in the message, whether the input is still valid FHIR R4)
REJECTIONS: dict[str, tuple[Mutation, str, str, bool]] = {
    "wrong resource type": (_set(["resourceType"], "Observation"), "resourceType", "got 'Observation'", False),
    "cancelled report": (_set(["status"], "cancelled"), "DiagnosticReport.status", "withdrawn", True),
    "entered in error": (_set(["status"], "entered-in-error"), "DiagnosticReport.status", "withdrawn", True),
    "unknown status": (_set(["status"], "unknown"), "DiagnosticReport.status", "cannot be mapped", True),
    "missing status": (_delete("status"), "DiagnosticReport.status", "is required", False),
    "missing effective": (
        _delete("effectiveDateTime"),
        "DiagnosticReport.effective[x]",
        "specimen time",
        True,
    ),
    "effective without time": (
        _set(["effectiveDateTime"], "2024-03-01"),
        "DiagnosticReport.effectiveDateTime",
        "with seconds and a zone",
        True,
    ),
    "missing issued": (_delete("issued"), "DiagnosticReport.issued", "is required", True),
    "generic lab category": (
        _set(["category"], [{"coding": [{"system": V2_0074, "code": "LAB"}]}]),
        "DiagnosticReport.category",
        "maps to a lab category",
        True,
    ),
    "category from another system": (
        _set(["category"], [{"coding": [{"system": "http://snomed.info/sct", "code": "CH"}]}]),
        "DiagnosticReport.category",
        "maps to a lab category",
        True,
    ),
    "two categories": (
        _set(["category"], [{"coding": [{"system": V2_0074, "code": "CH"}, {"system": V2_0074, "code": "HM"}]}]),
        "DiagnosticReport.category",
        "more than one category",
        True,
    ),
    "no uuid to identify the report": (
        _both(_set(["identifier", 0, "value"], "R-2024-17"), _set(["id"], "lab-report-1")),
        "DiagnosticReport.identifier",
        "must be a UUID",
        True,
    ),
    "no performer": (_delete("performer"), "DiagnosticReport.performer", "performing lab", True),
    "performer without organisation": (
        _delete("performer", 0, "identifier"),
        "DiagnosticReport.performer[0].identifier",
        "organisation",
        True,
    ),
    "no result": (_delete("result"), "DiagnosticReport.result", "nothing to show", True),
    "unresolvable result": (
        _set(["result", 0, "reference"], "#missing"),
        "DiagnosticReport.result[0].reference",
        "does not resolve",
        True,
    ),
    "result that is no observation": (
        _set(["result", 0, "reference"], "#order"),
        "DiagnosticReport.result[0].reference",
        "points to a ServiceRequest",
        True,
    ),
    "observation without coding": (
        _set([*HB, "code"], {"text": "Hemoglobin"}),
        "DiagnosticReport.contained[0].code.coding",
        "no coding",
        True,
    ),
    "observation without a name": (
        _set([*HB, "code"], {"coding": [{"system": LOINC, "code": "718-7"}]}),
        "DiagnosticReport.contained[0].code.coding[0].display",
        "name shown to the citizen",
        True,
    ),
    "cancelled observation": (
        _set([*HB, "status"], "cancelled"),
        "DiagnosticReport.contained[0].status",
        "withdrawn",
        True,
    ),
    "quantity without unit code": (
        _both(_delete(*QUANTITY, "code"), _delete(*QUANTITY, "system")),
        "DiagnosticReport.contained[0].valueQuantity.code",
        "UCUM unit code",
        True,
    ),
    "unit outside ucum": (
        _set([*QUANTITY, "system"], "http://example.org/units"),
        "DiagnosticReport.contained[0].valueQuantity.system",
        "must be UCUM",
        True,
    ),
    "boolean value": (
        _both(_delete(*QUANTITY), _set([*HB, "valueBoolean"], True)),
        "DiagnosticReport.contained[0].valueBoolean",
        "cannot be mapped",
        True,
    ),
    "no value": (
        _both(_delete(*QUANTITY), _set([*HB, "dataAbsentReason"], {"text": "Hemolysert prøve"})),
        "DiagnosticReport.contained[0].value[x]",
        "dataAbsentReason",
        True,
    ),
    "unmapped interpretation": (
        _set([*HB, "interpretation"], [{"coding": [{"system": INTERPRETATION, "code": "POS"}]}]),
        "DiagnosticReport.contained[0].interpretation[0].coding[0].code",
        "deviation flag",
        True,
    ),
    "disagreeing interpretations": (
        _set(
            [*HB, "interpretation"],
            [{"coding": [{"system": INTERPRETATION, "code": "L"}, {"system": INTERPRETATION, "code": "H"}]}],
        ),
        "DiagnosticReport.contained[0].interpretation",
        "disagree",
        True,
    ),
    "range in another unit": (
        _set([*HB, "referenceRange", 0, "low", "code"], "g/L"),
        "DiagnosticReport.contained[0].referenceRange[0].low.code",
        "differs",
        True,
    ),
    "display beyond the schema": (
        _set([*HB, "code", "coding", 0, "display"], "H" * 201),
        "DiagnosticReport.contained[0]",
        "length <= 200",
        True,
    ),
    "requester without hpr": (
        _set([*HB[:1], 2, "practitioner", "identifier", "system"], "urn:oid:2.16.578.1.12.4.1.4.1"),
        "DiagnosticReport.contained[2].practitioner",
        "HPR",
        True,
    ),
    "order without requester": (
        _delete("contained", 1, "requester"),
        "DiagnosticReport.contained[1].requester",
        "HPR number",
        True,
    ),
}


@pytest.mark.parametrize(("mutation", "path", "words", "valid_fhir"), REJECTIONS.values(), ids=REJECTIONS.keys())
def test_unmappable_report_is_rejected_naming_the_element(
    mutation: Mutation, path: str, words: str, valid_fhir: bool
) -> None:
    document = copy.deepcopy(_with_requester())
    mutation(document)
    if valid_fhir:
        # The input is good FHIR; it is the mapping that refuses it.
        DiagnosticReport.model_validate(document)

    with pytest.raises(FhirMappingError) as caught:
        from_fhir(document)

    assert caught.value.path == path
    assert words in caught.value.message
    assert str(caught.value).startswith(f"{path}: ")


def test_nested_panel_is_rejected() -> None:
    document = _panel_report()
    inner = {
        "resourceType": "Observation",
        "id": "inner",
        "status": "final",
        "code": {"coding": [{"code": "X", "display": "X"}]},
        "hasMember": [{"reference": "#crp"}],
    }
    document["contained"].append(inner)
    document["contained"][3]["hasMember"].append({"reference": "#inner"})
    DiagnosticReport.model_validate(document)

    with pytest.raises(FhirMappingError, match="panel inside a panel") as caught:
        from_fhir(document)
    assert caught.value.path == "DiagnosticReport.contained[5].hasMember"


def test_observation_in_two_panels_is_rejected() -> None:
    document = _panel_report()
    document["contained"].append(
        {
            "resourceType": "Observation",
            "id": "other",
            "status": "final",
            "code": {"coding": [{"code": "P2", "display": "Annen gruppe"}]},
            "hasMember": [{"reference": "#hb"}],
        }
    )
    document["result"].append({"reference": "#other"})

    with pytest.raises(FhirMappingError, match="more than one panel"):
        from_fhir(document)


@pytest.mark.parametrize(
    ("bundle", "path", "words"),
    [
        ({"resourceType": "Bundle", "type": "searchset", "entry": []}, "Bundle.type", "collection or transaction"),
        ({"resourceType": "Bundle", "type": "collection", "entry": []}, "Bundle.entry", "holds 0 DiagnosticReports"),
    ],
    ids=["searchset", "empty"],
)
def test_unmappable_bundle_is_rejected(bundle: dict[str, Any], path: str, words: str) -> None:
    Bundle.model_validate(bundle)
    with pytest.raises(FhirMappingError, match=words) as caught:
        from_fhir(bundle)
    assert caught.value.path == path


def test_bundle_with_two_reports_is_rejected() -> None:
    bundle = _bundle("collection")
    second = copy.deepcopy(bundle["entry"][0])
    second["fullUrl"] = f"urn:uuid:{uuid.uuid4()}"
    second["resource"]["id"] = "lab-report-2"
    bundle["entry"].append(second)
    Bundle.model_validate(bundle)

    with pytest.raises(FhirMappingError, match="holds 2 DiagnosticReports"):
        from_fhir(bundle)


def test_unresolvable_bundle_reference_is_rejected() -> None:
    bundle = _bundle("collection")
    bundle["entry"][0]["resource"]["result"][1]["reference"] = f"urn:uuid:{uuid.uuid4()}"

    with pytest.raises(FhirMappingError, match="does not resolve to a Bundle entry") as caught:
        from_fhir(bundle)
    assert caught.value.path == "Bundle.entry[0].resource.result[1].reference"


def test_non_object_is_rejected() -> None:
    with pytest.raises(FhirMappingError) as caught:
        from_fhir([])  # type: ignore[arg-type]
    assert caught.value.path == "$"
