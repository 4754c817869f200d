"""The OpenAPI document is the contract: independent of docstrings, one Problem shape, names without modules."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import uuid
from pathlib import Path
from typing import Annotated

import httpx
import msgspec
from litestar import Litestar, Router, get, post
from litestar.params import FromPath, HeaderParameter, JSONBody

import backend
from tests.contract.conformance import DOCUMENT


def _documents_descriptions(node: object) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("description", "title") and isinstance(value, str):
                found.add(inspect.cleandoc(value))
            else:
                found |= _documents_descriptions(value)
    elif isinstance(node, list):
        for item in node:
            found |= _documents_descriptions(item)
    return found


def _struct_docstrings() -> set[str]:
    for module in pkgutil.walk_packages(backend.__path__, "backend."):
        if ".migrations" not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    docstrings: set[str] = set()
    pending: list[type] = [msgspec.Struct]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("backend.") and cls.__doc__:
            docstrings.add(inspect.cleandoc(cls.__doc__))
            docstrings.add(inspect.cleandoc(cls.__doc__).split("\n\n")[0])
    return docstrings


def test_no_struct_docstring_reaches_the_document() -> None:
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    docstrings = _struct_docstrings()
    assert len(docstrings) > 20  # the walk found the API's Structs
    assert not docstrings & _documents_descriptions(document)


def test_every_error_answer_is_the_shared_problem_and_names_carry_no_module() -> None:
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    assert all("_" not in name for name in document["components"]["schemas"])
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert response["$ref"].startswith("#/components/responses/"), (method, path, status)
                    # FHIR routes answer errors as OperationOutcome, every other route as a Problem.
                    fhir = response["$ref"].startswith("#/components/responses/Fhir")
                    assert fhir == path.startswith("/fhir/"), (method, path, status)
    for name, response in document["components"]["responses"].items():
        if name.startswith("Fhir"):
            outcome = {"$ref": "#/components/schemas/OperationOutcome"}
            assert response["content"] == {"application/fhir+json": {"schema": outcome}}
        else:
            problem = {"$ref": "#/components/schemas/Problem"}
            assert response["content"] == {"application/problem+json": {"schema": problem}}


def test_guarded_writes_require_if_match_and_series_require_code() -> None:
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    guarded = document["paths"]["/clinician/v1/patients/{patient_id}/medications"]["put"]
    if_match = next(p for p in guarded["parameters"] if p["name"] == "If-Match")
    assert if_match["required"] is True
    assert {"412", "428"} <= set(guarded["responses"])
    series = document["paths"]["/citizen/v1/me/measurements/series"]["get"]
    assert next(p for p in series["parameters"] if p["name"] == "code")["required"] is True


async def test_the_served_document_is_the_committed_one(app: Litestar, client: httpx.AsyncClient) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    assert response.json() == json.loads(DOCUMENT.read_text(encoding="utf-8"))


class ProbeIn(msgspec.Struct):
    """A developer's note that must not reach the document."""

    name: str


def test_a_new_route_gets_its_error_answers_from_its_mechanisms(data_dir: Path) -> None:
    """Derived, not listed: auth → 401/403/429, writes → 409, Idempotency-Key → 422, path → 404, body → 400/413/415,
    If-Match → 412/428 (required when declared so), the database → 503 unless the route says it uses none."""
    from backend.app import create_app
    from backend.core.auth import RequirePrincipal
    from backend.core.contract import contract_document
    from backend.core.idempotency import IdempotencyMiddleware
    from backend.settings import Settings

    @post("/things/{thing_id:uuid}", operation_id="probeWrite")
    async def write(
        thing_id: FromPath[uuid.UUID],
        data: JSONBody[ProbeIn],
        if_match: Annotated[str | None, HeaderParameter(name="If-Match", required=True)] = None,
    ) -> None:
        return None

    @get("/open", operation_id="probeOpen", security=[{}], opt={"database": False})
    async def open_route() -> None:
        return None

    probe = Router(
        "/probe",
        route_handlers=[write],
        middleware=[RequirePrincipal("citizen", writes=[IdempotencyMiddleware().handle])],
    )
    app = create_app(Settings(env="dev", data_dir=data_dir), extra_route_handlers=[probe, open_route])
    document = contract_document(app)

    written = document["paths"]["/probe/things/{thing_id}"]["post"]
    assert set(written["responses"]) == {
        "201", "400", "401", "403", "404", "409", "412", "413", "415", "422", "428", "429", "503"
    }  # fmt: skip
    parameters = {p["name"]: p for p in written["parameters"]}
    assert parameters["If-Match"]["required"] is True
    assert parameters["Idempotency-Key"]["required"] is False
    assert set(document["paths"]["/open"]["get"]["responses"]) == {"200"}
    assert "developer's note" not in json.dumps(document)


def test_every_component_description_names_a_component_of_the_document() -> None:
    """A description left behind by a renamed component would describe nothing (and the new name nothing)."""
    from backend.api_descriptions import SCHEMA_DESCRIPTIONS

    components = set(json.loads(DOCUMENT.read_text())["components"]["schemas"])
    assert sorted(set(SCHEMA_DESCRIPTIONS) - components) == []
