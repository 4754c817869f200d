"""The OpenAPI document as a contract: Litestar's generated paths, completed from what each route really does.

Litestar documents the success answer and the request. The answers every route can also give come from
the mechanisms around it, so they are derived here from the route, never listed by hand per handler:
RequirePrincipal → 401/403/429 (and 409 on writes), a path parameter (or a FHIR search's `patient`) → 404,
any input → 400, a citizen route's `Helsekort-Act-For` header (its `act_for` opt, core/representation.py) →
400/403/404, a body → 413/415, If-Match → 412/428 (required on guarded writes:
`HeaderParameter(required=True)`), Idempotency-Key on POSTs behind IdempotencyMiddleware → 409/422, the
database → 503 (unless the handler says `opt={"database": False}`). Every error answer is the one shared
`Problem` component; on the FHIR routes (`opt={"fhir": True}`) the same statuses are the shared
`OperationOutcome` in `application/fhir+json`, and every FHIR body is a `FhirResource`. Struct docstrings
are for developers: component descriptions come only from `backend.api_descriptions`, so the document does
not change with msgspec's docstring handling.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from typing import Any

import msgspec
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.params import ParameterKwarg
from litestar.routes import HTTPRoute

from backend.api_descriptions import SCHEMA_DESCRIPTIONS
from backend.core.auth import RequirePrincipal
from backend.core.errors import PROBLEM_JSON
from backend.core.fhir import FHIR_JSON
from backend.core.idempotency import IdempotencyMiddleware

SCHEMAS = "#/components/schemas/"
RESPONSES = "#/components/responses/"
METHODS = ("get", "put", "post", "patch", "delete")

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem detail: what went wrong, for a person (`detail`) and a program (`type`).",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "`urn:helsekort:problem:<slug>`; stable, switch on this"},
        "title": {"type": "string", "description": "Short summary of the kind of problem"},
        "status": {"type": "integer", "description": "The HTTP status code"},
        "detail": {"type": "string", "description": "What went wrong in this request"},
        "instance": {"type": "string", "description": "The request path"},
        "requestId": {"type": "string", "description": "The request id, as in the X-Request-Id header"},
        "errors": {
            "type": "array",
            "description": "Validation problems: every invalid field, each with a message",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "field": {"type": "string", "description": "The invalid field (body property or parameter)"},
                    "message": {"type": "string"},
                },
            },
        },
        "currentVersion": {
            "type": ["integer", "string"],
            "description": "On 412 and 428: the current version, whose ETag a retried write must send",
        },
    },
}

FHIR_RESOURCE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A FHIR R4 resource (JSON), in `application/fhir+json`",
    "required": ["resourceType"],
    "properties": {"resourceType": {"type": "string"}},
}
OPERATION_OUTCOME_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A FHIR R4 OperationOutcome: the error of a FHIR route, with what went wrong in `diagnostics`",
    "required": ["resourceType", "issue"],
    "properties": {
        "resourceType": {"const": "OperationOutcome"},
        "issue": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["severity", "code"],
                "properties": {
                    "severity": {"type": "string"},
                    "code": {"type": "string"},
                    "diagnostics": {"type": "string"},
                    "expression": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}
FHIR_ERROR_PREFIX = "Fhir"

_HEADER_SCHEMAS: dict[str, dict[str, Any]] = {
    "ETag": {
        "description": "The version of the resource, for If-Match (writes) and If-None-Match (reads)",
        "schema": {"type": "string"},
    },
    "Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}},
    "WWW-Authenticate": {"description": "`Bearer`, with the error", "schema": {"type": "string"}},
}

# status → (component name, description, headers the answer always carries)
ERROR_RESPONSES: dict[int, tuple[str, str, tuple[str, ...]]] = {
    400: ("BadRequest", "Invalid input; `errors` names every invalid field", ()),
    401: ("Unauthorized", "No, malformed, expired or untrusted bearer token", ("WWW-Authenticate",)),
    403: ("Forbidden", "A valid token of the wrong kind for this route, or a role that may not do this", ()),
    404: ("NotFound", "Does not exist, or is outside the caller's scope (never distinguished)", ()),
    409: ("Conflict", "The state forbids this now, or a request with this Idempotency-Key is still in flight", ()),
    412: ("PreconditionFailed", "If-Match names a version that is no longer current (`currentVersion`)", ()),
    413: ("PayloadTooLarge", "The request body is larger than the limit", ()),
    415: ("UnsupportedMediaType", "The body's Content-Type is not one this operation accepts", ()),
    416: (
        "RangeNotSatisfiable",
        "The byte range starts beyond the end of the file (`Content-Range: bytes */size`)",
        (),
    ),
    422: ("UnprocessableContent", "The Idempotency-Key was used before with another body", ()),
    428: ("PreconditionRequired", "If-Match is missing on a guarded write (`currentVersion`)", ()),
    429: ("TooManyRequests", "Too many requests (or failed authentications) from this caller", ("Retry-After",)),
    503: ("ServiceUnavailable", "The database is not reachable right now", ("Retry-After",)),
}

IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any unique string per intended write: a retry with the same key and body gets the first answer",
    "schema": {"type": "string", "maxLength": 255},
}

# A citizen's whole resource revalidated by its ETag (core/conditional.py: `opt` key `conditional_read`).
IF_NONE_MATCH_PARAMETER: dict[str, Any] = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "The ETag of the copy you hold: 304 with no body while it is current",
    "schema": {"type": "string"},
}

ACT_FOR_DESCRIPTIONS: dict[str, str] = {
    "own": "Not accepted here: this is the person's own business, never managed for someone else (403)",
    "any": "Act for someone you represent (any scope); the answer covers only what your scopes cover",
    "all": "Act for someone you represent with scope `all` (a guardian of a child under 12)",
}


def act_for_parameter(scope: str) -> dict[str, Any]:
    """The `Helsekort-Act-For` header of a /citizen/v1/me route (core/representation.py), by the scope it needs."""
    description = ACT_FOR_DESCRIPTIONS.get(
        scope, f"Act for someone you represent whose scopes include `{scope}` (or `all`); otherwise 404"
    )
    return {
        "name": "Helsekort-Act-For",
        "in": "header",
        "required": False,
        "description": description + "; not a UUID: 400",
        "schema": {"type": "string", "format": "uuid"},
    }


_RAW_BODY_TYPES: list[type[msgspec.Struct]] = []


def raw_body_types(*types: type[msgspec.Struct]) -> list[str]:
    """Register Structs that a route decodes from its raw body itself; returns their component references.

    Litestar does not see these types, so the document gets them as components from msgspec's own schema.
    """
    _RAW_BODY_TYPES.extend(t for t in types if t not in _RAW_BODY_TYPES)
    return [f"{SCHEMAS}{t.__name__}" for t in types]


def contract_document(app: Litestar) -> dict[str, Any]:
    """The OpenAPI document of `app`, as served at /schema/openapi.json and committed as openapi/openapi.json."""
    document = copy.deepcopy(app.openapi_schema.to_schema())
    components = document.setdefault("components", {})
    schemas: dict[str, Any] = components.setdefault("schemas", {})
    _add_raw_body_components(schemas)
    _strip_docstrings(schemas)
    schemas["Problem"] = copy.deepcopy(PROBLEM_SCHEMA)
    schemas["FhirResource"] = copy.deepcopy(FHIR_RESOURCE_SCHEMA)
    schemas["OperationOutcome"] = copy.deepcopy(OPERATION_OUTCOME_SCHEMA)
    components["responses"] = {}
    for prefix, media_type, schema in (
        ("", PROBLEM_JSON, "Problem"),
        (FHIR_ERROR_PREFIX, FHIR_JSON, "OperationOutcome"),
    ):
        components["responses"] |= {
            prefix + name: {
                "description": description,
                "content": {media_type: {"schema": {"$ref": f"{SCHEMAS}{schema}"}}},
                **({"headers": {h: {**_HEADER_SCHEMAS[h], "required": True} for h in headers}} if headers else {}),
            }
            for name, description, headers in ERROR_RESPONSES.values()
        }
    for path, method, handler in _operations(app):
        operation = document["paths"][path][method]
        _complete_operation(operation, method, handler)
    _refuse_module_prefixed_names(schemas)
    return document


def serve_contract_document(app: Litestar) -> None:
    """/schema/openapi.json serves the contract document, not Litestar's bare one (built once, at start)."""
    from litestar._openapi.plugin import OpenAPIPlugin

    # Litestar caches the served dict here; no public hook replaces it.
    app.plugins.get(OpenAPIPlugin)._openapi_schema = contract_document(app)


def _operations(app: Litestar) -> Iterator[tuple[str, str, HTTPRouteHandler]]:
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            for method in handler.http_methods:
                if method.lower() in METHODS:
                    yield route.path_format or "/", method.lower(), handler


def _complete_operation(operation: dict[str, Any], method: str, handler: HTTPRouteHandler) -> None:
    parameters: list[dict[str, Any]] = operation.setdefault("parameters", [])
    required_kwargs = _required_parameter_names(handler)
    for parameter in parameters:
        if parameter["name"] in required_kwargs:
            parameter["required"] = True
            parameter["schema"] = _without_null(parameter["schema"])
    names = {p["name"] for p in parameters}
    statuses: set[int] = set()
    principal = _principal_middleware(handler)
    if principal is not None:
        statuses |= {401, 403, 429}
        if method == "post" and any(
            isinstance(getattr(step, "__self__", None), IdempotencyMiddleware) for step in principal.writes
        ):
            parameters.append(dict(IDEMPOTENCY_KEY_PARAMETER))
            statuses |= {409, 422}
        if method != "get":
            statuses.add(409)  # a write the resource's state forbids (a closed card, an existing slug, ...)
    if handler.opt.get("conditional_read"):
        parameters.append(dict(IF_NONE_MATCH_PARAMETER))
    act_for = handler.opt.get("act_for")
    if act_for is not None:
        parameters.append(act_for_parameter(act_for))
        statuses |= {400, 403, 404}
    if parameters:
        statuses.add(400)
    if any(p["in"] == "path" for p in parameters) or (principal is not None and handler.opt.get("fhir")):
        statuses.add(404)  # a FHIR search names its patient in the query: out of scope is 404 there too
    if "requestBody" in operation:
        statuses |= {400, 413, 415}
    if "If-Match" in names:
        statuses |= {412, 428}  # 428 also where If-Match is optional: sent empty, it names no version
    if handler.opt.get("database", True):
        statuses.add(503)
    responses: dict[str, Any] = operation["responses"]
    prefix = FHIR_ERROR_PREFIX if handler.opt.get("fhir") else ""
    for error in sorted(statuses):
        responses[str(error)] = {"$ref": f"{RESPONSES}{prefix}{ERROR_RESPONSES[error][0]}"}
    for response in responses.values():
        if FHIR_JSON in response.get("content", {}):
            response["content"][FHIR_JSON]["schema"] = {"$ref": f"{SCHEMAS}FhirResource"}
    for key, response in list(responses.items()):
        code = int(key)
        if code >= 400 and "$ref" not in response:
            # Declared on the handler (responses={409: ResponseSpec(...)}): the shared shape, its own description.
            if code in ERROR_RESPONSES:
                responses[key] = {
                    "$ref": f"{RESPONSES}{ERROR_RESPONSES[code][0]}",
                    "description": response["description"],
                }
            else:
                responses[key] = {
                    "description": response["description"],
                    "content": {PROBLEM_JSON: {"schema": {"$ref": f"{SCHEMAS}Problem"}}},
                }
        for name, header in response.get("headers", {}).items():
            if name in _HEADER_SCHEMAS:
                header.setdefault("schema", _HEADER_SCHEMAS[name]["schema"])
    if "304" in responses:
        # Not Modified repeats the validators of the 200 it stands for.
        responses["304"].setdefault("headers", {}).update(responses.get("200", {}).get("headers", {}))
    if not operation["parameters"]:
        del operation["parameters"]


def _principal_middleware(handler: HTTPRouteHandler) -> RequirePrincipal | None:
    return next((m for m in handler.resolve_middleware() if isinstance(m, RequirePrincipal)), None)


def _required_parameter_names(handler: HTTPRouteHandler) -> set[str]:
    """Parameters a handler takes as optional to answer their absence itself (428, a 400 naming the field),
    but that a client must send: declared with `required=True` in their Header/QueryParameter."""
    names: set[str] = set()
    for name, field in handler.parsed_fn_signature.parameters.items():
        kwarg = field.kwarg_definition
        if isinstance(kwarg, ParameterKwarg) and kwarg.required:
            names.add(kwarg.name or kwarg.header or kwarg.query or kwarg.cookie or name)
    return names


def _without_null(schema: Mapping[str, Any]) -> dict[str, Any]:
    """`str | None` of a required parameter is documented as what the client must send."""
    for key in ("oneOf", "anyOf"):
        options = [o for o in schema.get(key, []) if o.get("type") != "null"]
        if len(options) == 1:
            rest = {k: v for k, v in schema.items() if k != key}
            return {**rest, **options[0]}
    return dict(schema)


def _add_raw_body_components(schemas: dict[str, Any]) -> None:
    if not _RAW_BODY_TYPES:
        return
    _, definitions = msgspec.json.schema_components(_RAW_BODY_TYPES, ref_template=SCHEMAS + "{name}")
    for name, definition in definitions.items():
        known = schemas.get(name)
        # The same Struct seen by Litestar elsewhere has the same fields: msgspec's schema of it is as good
        # (and carries `additionalProperties: false`); a different Struct of the same name is a naming bug.
        if known is not None and set(known.get("properties", {})) != set(definition.get("properties", {})):
            raise ValueError(f"two types are named {name!r} in the API; rename one of them")
        schemas[name] = definition


def _strip_docstrings(schemas: dict[str, Any]) -> None:
    """Component descriptions are the explicit API descriptions, never a Struct's docstring."""
    for name, schema in schemas.items():
        schema.pop("description", None)
        schema["title"] = name  # msgspec titles a Struct with its docstring's first line
        if name in SCHEMA_DESCRIPTIONS:
            schema["description"] = SCHEMA_DESCRIPTIONS[name]


def _refuse_module_prefixed_names(schemas: Mapping[str, Any]) -> None:
    """Litestar prefixes the module when two types share a name; the API names each type once."""
    prefixed = sorted(name for name in schemas if re.fullmatch(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*_[A-Z]\w*", name))
    if prefixed:
        raise ValueError(f"schema components named after their module: {prefixed}; give the types distinct names")
