"""The CapabilityStatement: what this build's registered FHIR searches serve, and nothing it does not."""

from __future__ import annotations

from typing import Any

from backend.core.fhir import FHIR_JSON, FHIR_VERSION, concept, resource_types

RELEASED = "2026-12-01"
SECURITY_SERVICE = "http://terminology.hl7.org/CodeSystem/restful-security-service"
SEARCH_PARAMETERS = [
    {"name": "patient", "type": "reference", "documentation": "required: the Patient id"},
    {"name": "code", "type": "token", "documentation": "LOINC, SNOMED CT or ATC code; [system|]code, comma-separated"},
    {"name": "date", "type": "date", "documentation": "eq, ge, le, gt or lt with a date or a time with its offset"},
    {"name": "_count", "type": "number", "documentation": "page size, 1 to 200 (default 50)"},
]
EVERYTHING = "http://hl7.org/fhir/OperationDefinition/Patient-everything"


def _resource(resource_type: str) -> dict[str, Any]:
    interactions = [{"code": "search-type"}]
    resource: dict[str, Any] = {"type": resource_type, "searchParam": SEARCH_PARAMETERS}
    if resource_type == "Patient":
        interactions.insert(0, {"code": "read"})
        resource["operation"] = [{"name": "everything", "definition": EVERYTHING}]
    resource["interaction"] = interactions
    return resource


def capability_statement(base: str) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": RELEASED,
        "publisher": "Helsekort",
        "kind": "instance",
        "software": {"name": "Helsekort"},
        "implementation": {"description": "Helsekort FHIR R4 read API", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": [FHIR_JSON],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "service": [concept(SECURITY_SERVICE, "OAuth", "OAuth")],
                    "description": "HelseID access token (security level 4); the clinician API's access rule and audit",
                },
                "resource": [_resource(resource_type) for resource_type in resource_types()],
            }
        ],
    }
