"""Conditional reads of a citizen's whole resources: a per-caller ETag, and 304 on If-None-Match before the handler.

A polling app sends the ETag it holds in `If-None-Match`; while nothing it would be shown has changed, the answer
is 304 with no body, decided with one cheap statement instead of assembling the resource. A route opts in with
`**conditional_read(state)` on its `@get` (one mechanism for the pregnancy card, the medication list and the lab
results):

- `state(connection, grant)` is the domain's statement that changes whenever the answer would: its own
  citizen-visible events (`events.last_visible_change`: every write she may see, nothing she may not, such as a
  result before its release or a hold), what time alone changes (a lab release time that has passed, the date of a
  card "as of today");
- the access decision runs first (`access.provide_me`: her own record, or one audited representation decision
  when acting for someone), and the handler reuses that Grant, so a 304 is given exactly where the 200 would be
  and a refusal is the same refusal;
- the ETag is a keyed MAC (`IdentitySealer.validator`, from the service's patient secret) of the caller, the
  patient acted on, the basis and scopes of the Grant, the path and query (another card, another page), the
  resource's state and `GENERATION`: opaque (it tells nothing of the state) and never equal for another caller,
  another patient or someone else acting for her;
- the state is read before the handler reads the resource, so a write in between can only make the ETag older
  than the body (the next poll gets a 200), never newer;
- the state is the patient's, whoever reads it, and is kept in this process (core/change_signals.py
  `PatientCache`) until she changes, until the time it names (`State.until`: the next release of a result) or the
  next midnight in Norway; so a poll of an unchanged resource reads nothing from the database.

The answers stay `Cache-Control: no-store` (core/middleware.py): the app keeps its own copy and revalidates it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar import Request
from litestar.datastructures import ResponseHeader
from litestar.di import Provide
from litestar.openapi import ResponseSpec
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from backend.core.access import Grant, citizen_grant, provide_me
from backend.core.auth import CitizenPrincipal
from backend.core.change_signals import PatientCache
from backend.core.concurrency import if_none_match_hits
from backend.core.identity import sealer
from backend.core.representation import ACT_FOR_HEADER
from backend.db.engine import DB

# Bumped when what a conditional route answers changes shape for the same state (a deploy then answers 200 once).
GENERATION = b"1"


@dataclass(frozen=True, slots=True)
class State:
    """What a resource's ETag is derived from, and until when time alone leaves it unchanged (None: only writes
    and the date change it)."""

    value: object
    until: datetime | None = None


ResourceState = Callable[[Any, Grant], Awaitable[State]]

_STATES: PatientCache[State] = PatientCache()


async def _current(read: ResourceState, grant: Grant) -> State:
    async def fetch() -> tuple[State, datetime | None]:
        async with DB.connection() as connection:
            state = await read(connection, grant)
        return state, state.until

    return await _STATES.get(grant.patient_id, read, fetch)


_GRANT = "helsekort.conditional_grant"
_IF_NONE_MATCH = b"if-none-match"


def resource_etag(grant: Grant, scope: Scope, state: object) -> str:
    """The validator of this caller's answer at this path and query for the resource's `state`."""
    scopes = ",".join(sorted(grant.scopes))
    subject = "\0".join(
        (grant.principal.caller_id, str(grant.patient_id), grant.basis, scopes, scope["path"], repr(state))
    )
    mac = sealer().validator(GENERATION + b"\0" + subject.encode() + b"\0" + scope.get("query_string", b""))
    return f'"{mac[:18].hex()}"'


_ACT_FOR = ACT_FOR_HEADER.lower().encode()


async def _grant(scope: Scope) -> Grant:
    """MeGrant's decision: her own record straight from the principal (the common poll), else `provide_me`."""
    principal = scope.get("user")
    if isinstance(principal, CitizenPrincipal) and not any(name == _ACT_FOR for name, _ in scope["headers"]):
        return await citizen_grant(principal)
    return await provide_me(Request(scope))


def _conditional(state: ResourceState) -> Callable[[ASGIApp], ASGIApp]:
    def middleware(app: ASGIApp) -> ASGIApp:
        async def conditional(scope: Scope, receive: Receive, send: Send) -> None:
            grant = await _grant(scope)
            scope.setdefault("state", {})[_GRANT] = grant
            current = await _current(state, grant)
            tag = resource_etag(grant, scope, current.value)
            if_none_match = None
            for name, value in scope["headers"]:
                if name == _IF_NONE_MATCH:
                    if_none_match = value.decode("latin-1")
                    break
            header = (b"etag", tag.encode())
            # `*` is not taken: whether the resource exists (another card id, someone else's) is the handler's to say.
            if if_none_match and if_none_match_hits(if_none_match, tag, star=False):
                await send({"type": "http.response.start", "status": 304, "headers": [header]})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return

            async def send_with_etag(message: Message) -> None:
                if message["type"] == "http.response.start" and message["status"] == 200:
                    message["headers"] = [*message.get("headers", []), header]
                await send(message)

            await app(scope, receive, send_with_etag)

        return conditional

    return middleware


def _decided_grant(request: Request[Any, Any, Any]) -> Grant:
    """The Grant the conditional step decided (and audited, when acting for someone): decided once per request."""
    grant: Grant = request.scope["state"][_GRANT]
    return grant


CONDITIONAL_READ = "conditional_read"  # the handler's opt key: core/contract.py documents If-None-Match then


def conditional_read(state: ResourceState) -> dict[str, Any]:
    """Keyword arguments of a citizen `@get` whose answer is revalidated by ETag (see the module's docstring)."""
    return {
        "middleware": [_conditional(state)],
        "dependencies": {"me": Provide(_decided_grant, sync_to_thread=False)},
        "opt": {CONDITIONAL_READ: True},
        "response_headers": [
            ResponseHeader(
                name="ETag",
                description="This caller's validator of the answer, for If-None-Match; changes with anything shown",
                required=True,
                documentation_only=True,
            )
        ],
        "responses": {
            304: ResponseSpec(None, description="Not modified: the copy named in If-None-Match is current"),
        },
    }
