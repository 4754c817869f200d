"""FHIR R4 reads across domains: the registry of each domain's searches, the search parameters, the access
decision per domain read, Bundles with `next` links, and errors as OperationOutcome.

A domain maps its own typed rows to FHIR in its own module and registers each search with
`@fhir_search(resource_type, name, need=...)`; the function takes the `Grant` of that `Need` and a
`FhirQuery`, and answers a `FhirPage`. The composition imports the domains' FHIR modules (as it imports their
demo modules), so the `/fhir/R4` routes and the citizen's export see exactly the domains the build has.

Access is the clinician API's: each domain read is `authorize(principal, patient_id, need)` with the domain's
own read `Need` (one audit row each). A read whose `Need` asks for a consent the patient has not given is
left out, as if there were nothing (the pregnancy card): the request's access to the patient is then decided
by another read of the same request, or by `PATIENT_READ`, so that no answer tells the two apart.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

import msgspec
from litestar import Request, Response

from backend.core.access import Grant, Need, authorize
from backend.core.auth import Principal
from backend.core.clock import OSLO
from backend.core.errors import EXCEPTION_HANDLERS, BadRequest, NotFound
from backend.core.paging import Int32, Position, clamp_limit, decode_cursor, encode_cursor
from backend.core.settings import Settings

FHIR_JSON = "application/fhir+json"
FHIR_VERSION = "4.0.1"

# Code systems and identifier systems (CLINICAL.md; the OIDs are the Norwegian national ones).
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
ATC = "http://www.whocc.no/atc"
FNR_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.1"
HPR_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.4"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

# The read of the patient herself: the Patient resource, and the decision of a request whose domain reads
# all need a consent (so that a missing consent and a missing relation stay apart without telling which).
PATIENT_READ = Need(action="read", resource_type="patient")

_TICK = timedelta(microseconds=1)
_DATE = re.compile(r"^(eq|ge|le|gt|lt)?(\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)$")


# --- what a domain registers ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FhirQuery:
    """A search's parameters as a domain sees them; `cursor` is the domain's own, as it issued it."""

    count: int
    settings: Settings  # the running app's (a domain's configured rules, e.g. documents' look-back)
    codes: frozenset[str] | None = None  # token codes, any system (`system|code` or `code`)
    start: datetime | None = None  # the resource's time is at or after this
    end: datetime | None = None  # … and at or before this
    cursor: str | None = None

    def wants_code(self, code: str) -> bool:
        return self.codes is None or code in self.codes

    def wants_time(self, moment: datetime) -> bool:
        return (self.start is None or moment >= self.start) and (self.end is None or moment <= self.end)

    def wants_period(self, first: datetime, last: datetime | None) -> bool:
        """A period (open-ended when `last` is None) overlapping the asked one."""
        return (self.end is None or first <= self.end) and (self.start is None or last is None or last >= self.start)


@dataclass(frozen=True, slots=True)
class FhirPage:
    resources: list[dict[str, Any]]
    next: str | None = None


Search = Callable[[Grant, FhirQuery], Awaitable[FhirPage]]


@dataclass(frozen=True, slots=True)
class FhirSource:
    resource_type: str
    name: str
    need: Need
    search: Search


_SOURCES: dict[str, FhirSource] = {}


def fhir_search(resource_type: str, name: str, *, need: Need) -> Callable[[Search], Search]:
    """Register a domain's search of `resource_type` under `name`, read with the domain's `need`."""

    def register(search: Search) -> Search:
        known = _SOURCES.get(name)
        if known is not None and _qualified(known.search) != _qualified(search):
            raise ValueError(f"FHIR search {name!r} is registered twice ({_qualified(known.search)})")
        _SOURCES[name] = FhirSource(resource_type=resource_type, name=name, need=need, search=search)
        return search

    return register


def _qualified(search: Search) -> str:
    return f"{getattr(search, '__module__', '?')}.{getattr(search, '__qualname__', repr(search))}"


def fhir_sources(resource_type: str | None = None) -> list[FhirSource]:
    """The registered searches (of one type), Patient first, then in the order the domains registered them."""
    found = [s for s in _SOURCES.values() if resource_type is None or s.resource_type == resource_type]
    return sorted(found, key=lambda source: source.resource_type != "Patient")


def resource_types() -> list[str]:
    return sorted({source.resource_type for source in _SOURCES.values()})


def slice_page(resources: Sequence[dict[str, Any]], query: FhirQuery) -> FhirPage:
    """A page of a short list a domain holds whole (a medication list, her cards): offset cursors."""
    start = _Offset.of(query.cursor)
    kept = list(resources[start : start + query.count])
    more = start + query.count < len(resources)
    return FhirPage(kept, encode_cursor(_Offset(o=start + query.count)) if more else None)


class _Offset(Position):
    o: Int32

    @classmethod
    def of(cls, cursor: str | None) -> int:
        position = decode_cursor(cursor, cls, field="_cursor")
        return position.o if position is not None else 0


# --- small builders every mapping uses ------------------------------------------------------------------------


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    return {"system": system, "code": code} | ({"display": display} if display else {})


def concept(system: str, code: str, display: str | None = None, text: str | None = None) -> dict[str, Any]:
    return {"coding": [coding(system, code, display)]} | ({"text": text} if text else {})


def quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def patient_reference(grant: Grant) -> dict[str, str]:
    return {"reference": f"Patient/{grant.patient_id}"}


def instant(moment: datetime) -> str:
    return moment.isoformat()


def is_citizen(grant: Grant) -> bool:
    """The citizen's export, hers or that of someone she acts for: each domain shows what it shows her elsewhere."""
    return grant.basis in ("self", "representative")


# --- search parameters ----------------------------------------------------------------------------------------


def patient_parameter(raw: str | None) -> uuid.UUID:
    if raw is None or raw == "":
        raise BadRequest("patient is required: a search reads one patient's data", field="patient")
    value = raw.removeprefix("Patient/")
    try:
        return uuid.UUID(value)
    except ValueError as error:
        raise BadRequest("patient must be a Patient id (a UUID) or Patient/{id}", field="patient") from error


def _codes(raw: str | None) -> frozenset[str] | None:
    if raw is None:
        return None
    codes = set()
    for token in raw.split(","):
        code = token.rsplit("|", 1)[-1].strip()
        if not code or len(code) > 64:
            raise BadRequest("code is a comma-separated list of [system|]code tokens", field="code")
        codes.add(code)
    return frozenset(codes)


def _bounds(raw: str) -> tuple[str, datetime, datetime]:
    found = _DATE.fullmatch(raw)
    if found is None:
        raise BadRequest(
            "date is [eq|ge|le|gt|lt] and a date (2026-01-31) or a time with its offset (2026-01-31T08:00:00+01:00)",
            field="date",
        )
    prefix, value = found.group(1) or "eq", found.group(2)
    try:
        if "T" in value:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return prefix, moment, moment
        day = date.fromisoformat(value)
    except ValueError as error:
        raise BadRequest(f"date {value!r} is not a valid date", field="date") from error
    # A date alone is the day in Norway, as every date the service shows.
    first = datetime.combine(day, time.min, OSLO)
    return prefix, first, first + timedelta(days=1) - _TICK


def _period(raw: Sequence[str]) -> tuple[datetime | None, datetime | None]:
    start: datetime | None = None
    end: datetime | None = None
    for item in raw:
        prefix, first, last = _bounds(item)
        # The value is a period (a day, or an instant): gt starts after it ends, lt ends before it starts.
        lower = {"eq": first, "ge": first, "gt": last + _TICK}.get(prefix)
        upper = {"eq": last, "le": last, "lt": first - _TICK}.get(prefix)
        if lower is not None:
            start = max(start, lower) if start else lower
        if upper is not None:
            end = min(end, upper) if end else upper
    if start is not None and end is not None and start > end:
        raise BadRequest("the date bounds leave no time between them", field="date")
    return start, end


def search_query(*, code: str | None, dates: Sequence[str], count: int | None, settings: Settings) -> FhirQuery:
    """The checked parameters of a search (400 naming the parameter, before any access is decided)."""
    start, end = _period(dates)
    count = clamp_limit(count, field="_count")
    return FhirQuery(count=count, settings=settings, codes=_codes(code), start=start, end=end)


# --- one request's reads, across the registered sources -------------------------------------------------------


class _Cursor(Position):
    """Where a search across sources resumes: the source's index and its own cursor."""

    s: Int32
    c: str | None = None


class _Reader:
    """One request's reads of one patient: each source's Need decided once, consented-to reads left out quietly."""

    def __init__(self, principal: Principal, patient_id: uuid.UUID) -> None:
        self.principal = principal
        self.patient_id = patient_id
        self.grants: dict[Need, Grant | None] = {}
        self.in_scope = False

    async def grant(self, need: Need) -> Grant | None:
        if need in self.grants:
            return self.grants[need]
        try:
            grant: Grant | None = await authorize(self.principal, self.patient_id, need)
            self.in_scope = True
        except NotFound:
            if need.consent is None:
                raise
            # Refused for want of the consent, or out of scope: only a read without a consent tells which.
            if not self.in_scope:
                await authorize(self.principal, self.patient_id, PATIENT_READ)
                self.in_scope = True
            grant = None
        self.grants[need] = grant
        return grant


async def read_page(
    principal: Principal, patient_id: uuid.UUID, sources: Sequence[FhirSource], query: FhirQuery, cursor: str | None
) -> FhirPage:
    """One page of a search over `sources` in order; `next` resumes where it stopped (the next source, or within)."""
    position = decode_cursor(cursor, _Cursor, field="_cursor") or _Cursor(s=0)
    reader = _Reader(principal, patient_id)
    index, inner = position.s, position.c
    if index >= len(sources):
        raise BadRequest("invalid cursor: not one this server issued", field="_cursor")
    while True:
        source = sources[index]
        grant = await reader.grant(source.need)
        page = FhirPage([]) if grant is None else await source.search(grant, replace(query, cursor=inner))
        following: _Cursor | None = None
        if page.next is not None:
            following = _Cursor(s=index, c=page.next)
        elif index + 1 < len(sources):
            following = _Cursor(s=index + 1)
        if page.resources or following is None:
            return FhirPage(page.resources, encode_cursor(following) if following else None)
        index, inner = following.s, following.c


async def read_everything(
    grant: Grant, sources: Sequence[FhirSource], page_size: int, settings: Settings
) -> AsyncIterator[dict[str, Any]]:
    """Every resource of every source, a page at a time, with one grant (the patient's own: her export)."""
    for source in sources:
        query = FhirQuery(count=page_size, settings=settings)
        while True:
            page = await source.search(grant, query)
            for resource in page.resources:
                yield resource
            if page.next is None:
                break
            query = replace(query, cursor=page.next)


# --- Bundles --------------------------------------------------------------------------------------------------


def full_url(base: str, resource: Mapping[str, Any]) -> str:
    return f"{base}/{resource['resourceType']}/{resource['id']}"


def searchset(base: str, self_url: str, page: FhirPage, next_url: str | None) -> dict[str, Any]:
    links = [{"relation": "self", "url": self_url}]
    if next_url is not None:
        links.append({"relation": "next", "url": next_url})
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": links,
        "entry": [
            {"fullUrl": full_url(base, resource), "resource": resource, "search": {"mode": "match"}}
            for resource in page.resources
        ],
    }


# --- errors as OperationOutcome -------------------------------------------------------------------------------

_ISSUE_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 409: "conflict", 413: "too-long",
                415: "not-supported", 429: "throttled", 503: "transient"}  # fmt: skip


def operation_outcome(status: int, detail: str, fields: Sequence[str] = ()) -> dict[str, Any]:
    issue: dict[str, Any] = {
        "severity": "error" if status < 500 else "fatal",
        "code": _ISSUE_CODES.get(status, "exception"),
        "diagnostics": detail,
    }
    if fields:
        issue["expression"] = list(fields)
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def _as_outcome(handler: Callable[..., Response[Any]]) -> Callable[..., Response[Any]]:
    """The service's one error mapping, answered as an OperationOutcome in FHIR's media type."""

    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        problem = handler(request, exc)
        body = problem.content if isinstance(problem.content, Mapping) else {}
        fields = [str(error["field"]) for error in body.get("errors", []) if isinstance(error, Mapping)]
        status = problem.status_code or 500
        outcome = operation_outcome(status, str(body.get("detail", "")), fields)
        return Response(
            content=msgspec.json.encode(outcome),
            status_code=status,
            media_type=FHIR_JSON,
            headers=dict(problem.headers),
        )

    return handle


FHIR_EXCEPTION_HANDLERS: dict[Any, Any] = {kind: _as_outcome(handler) for kind, handler in EXCEPTION_HANDLERS.items()}
