"""The upload routes read their body themselves (item by item); this puts its schema back into the OpenAPI."""

from __future__ import annotations

import dataclasses

from litestar.openapi.spec import OpenAPIMediaType, Operation, Reference, RequestBody

from backend.core.contract import raw_body_types
from backend.measurements.schemas import UploadIn

(_UPLOAD,) = raw_body_types(UploadIn)


@dataclasses.dataclass
class UploadOperation(Operation):
    """An Operation whose request body is the measurement upload (`{"items": [...]}`)."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            content={"application/json": OpenAPIMediaType(schema=Reference(ref=_UPLOAD))}, required=True
        )
