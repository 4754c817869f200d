"""The OpenAPI document is the contract: independent of docstrings, one Problem shape, names without modules."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil

import httpx
import msgspec
from litestar import Litestar

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
    for response in document["components"]["responses"].values():
        assert response["content"] == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


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
