"""Every response the test suite gets from the app, checked against openapi/openapi.json.

conftest.py records what httpx's ASGITransport answers during each test and calls `contradictions` at the
test's end, so the whole suite is the corpus of the conformance check: a status, a header, a media type or
a body the document does not describe fails the test that received it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import schemathesis
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

DOCUMENT = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
# A 5xx is judged like any status: 503 is documented, 500 never is.
CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Headers a client acts on: each one an answer carries must be documented for that status.
CONTRACT_HEADERS = ("etag", "retry-after", "www-authenticate", "location")


@functools.cache
def schema() -> schemathesis.schemas.BaseSchema:
    return schemathesis.openapi.from_path(DOCUMENT)


def _path_parameters(template: str, path: str) -> dict[str, str]:
    pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(template))
    found = re.fullmatch(pattern, path)
    return found.groupdict() if found else {}


def contradictions(exchanges: list[httpx.Response]) -> Iterator[str]:
    """What in these responses the document does not say (responses of undocumented paths are not judged)."""
    for response in exchanges:
        request = response.request
        operation = schema().find_operation_by_path(request.method, request.url.path)
        if operation is None:
            continue
        try:
            request.content  # noqa: B018 - the checks read the request body
        except httpx.RequestNotRead:
            continue  # a streamed request body (the over-the-limit upload) cannot be read again to judge it
        label = f"{request.method} {request.url.path} → {response.status_code}"
        case = operation.Case(method=request.method, path_parameters=_path_parameters(operation.path, request.url.path))
        try:
            base_url = f"{request.url.scheme}://{request.url.netloc.decode()}"
            case.validate_response(response, checks=CHECKS, transport_kwargs={"base_url": base_url})
        except FailureGroup as failures:
            yield f"{label}: {failures}"
        except AssertionError as failure:
            yield f"{label}: {failure}"
        documented = operation.responses.find_by_status_code(response.status_code)
        declared = {name.lower() for name, _ in documented.headers.items()} if documented is not None else set()
        for name in CONTRACT_HEADERS:
            if name in response.headers and name not in declared:
                yield f"{label}: carries {name} but the document does not declare it for this status"
